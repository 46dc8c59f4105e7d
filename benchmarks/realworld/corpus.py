"""The real-world corpus: manifest loading and the sources' files on disk.

``manifest.json`` names every entry's source; nothing third-party is committed. A source is

- ``{"pypi": "name==version"}``: downloaded with ``pip download --no-deps`` into
  ``.cache/dl/`` and unpacked (wheel or sdist) into ``.cache/pypi/<name>-<version>/``;
- ``{"github": "owner/name", "commit": "<sha>"}``: read from a local git mirror
  (``--mirror DIR``, holding ``DIR/<owner>+<name>/repo`` — a git directory — or a plain
  checkout ``DIR/<owner>+<name>/``) at that commit; files are copied out to
  ``.cache/github/<owner>+<name>@<sha12>/``. Without the mirror the entry is "not available".

An entry::

    {"id", "source": <source key>, "path": <file inside the source>,
     "target": "func" | "Class.method" | null (the whole script),
     "args": {name: python expression}, "defines": {name: python expression},
     "bnlint_defines": {expression: value} (only for bnlint: e.g. "x_train.shape[1:]"),
     "subs": [[old, new], ...] (truth only: skip data loading/training),
     "run_until": text (truth only: execute the script up to the first top-level
     statement whose first line starts with it),
     "models": [variable, ...] (scripts: which module-level models to compare; default all),
     "keras": 3 | 2, "deps": [source keys whose roots join sys.path (truth only)],
     "files": [other paths (or folders, ending in "/") of a github source the entry needs],
     "stub_datasets": true (truth only: ``keras.datasets.*.load_data`` returns arrays of the
     real shapes without the network)}
"""

from __future__ import annotations

import ast
import fcntl
import json
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MANIFEST = HERE / "manifest.json"
TRUTH = HERE / "truth"
CACHE = HERE / ".cache"
DEFAULT_MIRROR = Path("/work/.mirror")


class NotAvailable(Exception):
    """The entry's source cannot be had here (no mirror of a GitHub repository)."""


def load_manifest() -> dict[str, Any]:
    return json.loads(MANIFEST.read_text())


def save_manifest(data: dict[str, Any]) -> None:
    MANIFEST.write_text(json.dumps(data, indent=1) + "\n")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


_LOCK = threading.Lock()


def pypi_root(spec: str) -> Path:
    """Unpacked root of ``name==version`` (downloaded on first use; one process and thread
    at a time unpacks)."""
    name, _, version = spec.partition("==")
    root = CACHE / "pypi" / f"{name}-{version}"
    if root.is_dir():
        return root
    CACHE.mkdir(parents=True, exist_ok=True)
    with _LOCK, open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if root.is_dir():
            return root
        return _download(spec, name, version, root)


def _download(spec: str, name: str, version: str, root: Path) -> Path:
    dl = CACHE / "dl" / f"{name}-{version}"
    dl.mkdir(parents=True, exist_ok=True)
    files = [p for p in dl.iterdir() if p.suffix in (".whl", ".gz", ".zip")]
    if not files:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                               "--disable-pip-version-check", "-q", spec, "-d", str(dl)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise NotAvailable(f"pip download {spec} failed: {proc.stderr.strip()[-300:]}")
        files = [p for p in dl.iterdir() if p.suffix in (".whl", ".gz", ".zip")]
    archive = files[0]
    tmp = root.with_name(root.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as z:
            z.extractall(tmp)
    else:
        with tarfile.open(archive) as t:
            t.extractall(tmp, filter="data")
    top = list(tmp.iterdir())
    if archive.suffix != ".whl" and len(top) == 1 and top[0].is_dir():
        top[0].rename(root)
        tmp.rmdir()
    else:
        tmp.rename(root)
    return root


def github_root(repo: str, commit: str, paths: list[str], mirror: Path) -> Path:
    """Directory holding ``paths`` of ``repo`` at ``commit``, copied out of the mirror."""
    key = repo.replace("/", "+")
    root = CACHE / "github" / f"{key}@{commit[:12]}"
    missing = [p for p in paths if p.endswith("/") or not (root / p).is_file()]
    if root.is_dir() and all((root / p).is_dir() for p in missing):
        missing = []
    if not missing:
        return root
    base = mirror / key
    gitdir = base / "repo"
    if (gitdir / ".git").is_dir():  # a checkout rather than a bare git directory
        gitdir = gitdir / ".git"
    if not gitdir.is_dir():
        gitdir = base / ".git" if (base / ".git").is_dir() else base
    if not gitdir.is_dir():
        raise NotAvailable(f"no mirror of github:{repo} under {mirror}")
    expanded: list[str] = []
    optional: list[str] = []
    for p in missing:
        if p.endswith("/"):  # a whole folder of the source
            proc = subprocess.run(["git", "--git-dir", str(gitdir), "ls-tree", "-r",
                                   "--name-only", commit, p], capture_output=True, text=True)
            if proc.returncode != 0 or not proc.stdout.strip():
                raise NotAvailable(f"github:{repo}@{commit[:12]}:{p} not in the mirror")
            optional += [q for q in proc.stdout.splitlines() if not (root / q).is_file()]
        else:
            expanded.append(p)
    for p in expanded + optional:
        proc = subprocess.run(["git", "--git-dir", str(gitdir), "show", f"{commit}:{p}"],
                              capture_output=True)
        if proc.returncode != 0:
            if p in optional:  # a folder's file the snapshot lacks (large or LFS data)
                continue
            raise NotAvailable(f"github:{repo}@{commit[:12]}:{p} not in the mirror")
        (root / p).parent.mkdir(parents=True, exist_ok=True)
        (root / p).write_bytes(proc.stdout)
    return root


def source_root(manifest: dict[str, Any], key: str, paths: list[str], mirror: Path) -> Path:
    src = manifest["sources"][key]
    if "pypi" in src:
        return pypi_root(src["pypi"])
    return github_root(src["github"], src["commit"], paths, mirror)


def entry_files(manifest: dict[str, Any], entry: dict[str, Any], mirror: Path
                ) -> tuple[Path, list[Path]]:
    """(the entry's file, the sys.path roots the truth needs) — raises NotAvailable."""
    paths = [entry["path"], *entry.get("files", [])]
    root = source_root(manifest, entry["source"], paths, mirror)
    roots = [root] + [source_root(manifest, d, [], mirror) for d in entry.get("deps", [])]
    f = root / entry["path"]
    if not f.is_file():
        raise NotAvailable(f"{entry['path']} not in {entry['source']}")
    return f, roots


def module_name(root: Path, path: Path) -> str | None:
    """Dotted module name of ``path`` under ``root`` when it sits in a package, else None."""
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if len(parts) == 1:
        return None
    pkg = root
    for p in parts[:-1]:
        pkg = pkg / p
        if not (pkg / "__init__.py").is_file():
            return None
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def truth_text(entry: dict[str, Any], text: str) -> str:
    """The script text the truth runs: substitutions, then cut at ``run_until``."""
    for old, new in entry.get("subs", []):
        if old not in text:
            raise ValueError(f"{entry['id']}: substitution pattern not found: {old!r}")
        text = text.replace(old, new)
    return cut_text(entry, text)


def cut_text(entry: dict[str, Any], text: str) -> str:
    """``text`` up to the first top-level statement that starts with ``run_until`` (all of it
    without one): the truth runs that prefix, and bnlint reads the same prefix."""
    until = entry.get("run_until")
    if until:
        lines = text.splitlines(keepends=True)
        try:  # the first top-level statement whose first line starts with the text
            starts = [node.lineno - 1 for node in ast.parse(text).body]
        except SyntaxError:
            starts = list(range(len(lines)))
        for i in starts:
            if lines[i].startswith(until):
                text = "".join(lines[:i])
                break
        else:
            raise ValueError(f"{entry['id']}: run_until text not found: {until!r}")
    return text
