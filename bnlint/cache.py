"""The result cache of ``bnlint check``: ``.bnlint_cache/`` in the working directory.

One JSON file per analysed file, keyed by the file's content hash, its displayed path,
bnlint's version *and a fingerprint of bnlint's own code* (so an edited checkout never
reads stale results), and the settings that change the result (selection, ignores,
defines, Keras version, time budget).  Writes are atomic (a temporary file, then
``os.replace``), so concurrent runs are safe.  The directory holds a ``CACHEDIR.TAG`` and
a ``.gitignore`` ignoring everything.  Reading the cache imports nothing heavy (no libcst).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

CACHE_DIR = ".bnlint_cache"
TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
       "# This file is a cache directory tag created by bnlint.\n"
       "# For information about cache directory tags see https://bford.info/cachedir/\n")
_CHUNK = 1 << 20


@cache
def code_fingerprint() -> str:
    """bnlint's version plus the size and mtime of each of its modules."""
    from bnlint import __version__

    root = Path(__file__).resolve().parent
    h = hashlib.sha256(__version__.encode())
    for p in sorted(root.rglob("*.py")):
        try:
            st = p.stat()
        except OSError:
            continue
        h.update(f"{p.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def _settings_fingerprint(task: Any) -> str:
    s = task.settings
    data = [s.select, s.extend_select, s.ignore, sorted(s.define.items()), s.keras_version,
            sorted(task.enabled), list(task.ignored), task.budget,
            s.analyze_uncalled is not False]
    return json.dumps(data, sort_keys=True, default=str)


def hash_file(path: Path) -> str | None:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


class Cache:
    def __init__(self, root: Path | None = None):
        self.root = (root or Path.cwd()) / CACHE_DIR
        from bnlint import __version__

        self.dir = self.root / __version__
        self._ready = False

    def key(self, path: Path, raw: bytes | None, task: Any) -> str | None:
        content = hashlib.sha256(raw).hexdigest() if raw is not None else hash_file(path)
        if content is None:
            return None
        h = hashlib.sha256()
        for part in (code_fingerprint(), _settings_fingerprint(task), task.display, content):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()

    def _file(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.json"

    def get(self, key: str) -> Any:
        from bnlint.rules.engine import Outcome

        try:
            data = json.loads(self._file(key).read_bytes())
            return Outcome.from_json(data)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _prepare(self) -> None:
        if self._ready:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        for name, text in (("CACHEDIR.TAG", TAG), (".gitignore", "# created by bnlint\n*\n")):
            f = self.root / name
            if not f.exists():
                f.write_text(text, "utf-8")
        self._ready = True

    def put(self, key: str, outcome: Any) -> None:
        try:
            self._prepare()
            target = self._file(key)
            target.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(outcome.to_json(), f)
            os.replace(tmp, target)
        except OSError:  # a read-only tree: run without caching
            pass


def clean(root: Path | None = None) -> bool:
    """Remove ``.bnlint_cache/`` under ``root`` (cwd); True when there was one."""
    d = (root or Path.cwd()) / CACHE_DIR
    if not d.is_dir():
        return False
    shutil.rmtree(d, ignore_errors=True)
    return True
