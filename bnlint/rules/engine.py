"""``bnlint check``: discover files, read them, run the selected rules, filter findings."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bnlint.rules.base import Context, Finding, Rule, all_rules
from bnlint.rules.config import (
    Settings,
    is_excluded,
    per_file_ignored,
    selected,
    settings_for_dir,
    validate_prefixes,
)
from bnlint.rules.noqa import file_noqa, suppressed
from bnlint.rules.pysource import SourceText

SOURCE_SUFFIXES = (".py", ".ipynb")
SAVED_SUFFIXES = (".keras", ".h5", ".hdf5", ".json")
SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", ".tox", ".nox",
             ".mypy_cache", ".ruff_cache", ".pytest_cache", "node_modules",
             ".ipynb_checkpoints", "site-packages", "__pypackages__", ".eggs", ".direnv"}


class UnreadableFile(Rule):
    """Emitted by the engine (not by ``check``) for a file bnlint cannot read."""

    code = "BN999"
    name = "unreadable-file"
    message = "{reason}"
    why = "bnlint could not read this file, so no rule checked it."
    fix = "Fix the syntax error or the damaged file (or exclude it)."
    severity = "error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        return iter(())


@dataclass
class Result:
    findings: list[Finding] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    files: int = 0  # files read and checked
    skipped: int = 0  # files the pre-filter skipped


def _is_venv(d: Path) -> bool:
    return (d / "pyvenv.cfg").is_file()


def looks_like_keras_json(path: Path) -> bool:
    """A ``to_json()`` model config: an object with ``class_name`` and ``config`` at top level."""
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError:
        return False
    if not (b'"class_name"' in head and b'"config"' in head and head.lstrip().startswith(b"{")):
        return False
    try:
        if path.stat().st_size > 64 * 1024 * 1024:
            return False
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "class_name" in data and isinstance(data.get("config"),
                                                                           dict)


def discover(paths: Sequence[str], cli: Settings) -> Iterator[tuple[Path, bool]]:
    """(file, given explicitly) for every candidate under ``paths``, sorted per directory."""
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for dirpath, dirnames, filenames in os.walk(p):
                d = Path(dirpath)
                s = settings_for_dir(d.resolve()).merged(cli)
                dirnames[:] = sorted(
                    n for n in dirnames
                    if n not in SKIP_DIRS and not n.endswith(".egg-info")
                    and not _is_venv(d / n) and not is_excluded(d / n, s, Path.cwd()))
                for name in sorted(filenames):
                    f = d / name
                    if not name.lower().endswith(SOURCE_SUFFIXES + SAVED_SUFFIXES):
                        continue
                    if is_excluded(f, s, Path.cwd()):
                        continue
                    if name.lower().endswith(".json") and not looks_like_keras_json(f):
                        continue
                    yield f, False
        else:
            yield p, True


def _display(path: Path) -> str:
    try:
        rel = path.resolve().relative_to(Path.cwd().resolve())
        return rel.as_posix() if not path.is_absolute() or str(rel) != "." else str(path)
    except ValueError:
        return str(path)


def _weights_access(path: Path) -> Any:
    """get_weights() arrays through the weights reader, lazily; None when unavailable."""
    try:
        from bnlint.readers.weights import open_weights
    except ImportError:
        return None

    def arrays(model: Any) -> Any:
        try:
            wf = open_weights(path, model)
        except Exception:
            return None
        return _Lazy(wf)

    return arrays


class _Lazy(Sequence):
    def __init__(self, wf: Any):
        self.wf = wf

    def __len__(self) -> int:
        return len(self.wf)

    def __getitem__(self, i: Any) -> Any:
        return self.wf.read(i)


def read_context(path: Path, display: str, s: Settings) -> Context | None:
    """The rule context for a file; None when the pre-filter skips it.

    Raises ``ValueError`` with a one-line message when the file cannot be read.
    """
    from bnlint.readers.source import SourceError, mentions_keras, read_text

    suffix = path.suffix.lower()
    if suffix in SOURCE_SUFFIXES:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"cannot read ({exc.strerror or exc})") from None
        mapping = None
        line_map = None
        if suffix == ".ipynb":
            from bnlint.readers.notebook import join_cells, notebook_cells

            try:
                data = json.loads(raw.decode("utf-8"))
                text, mapping = join_cells(notebook_cells(data))
            except (ValueError, UnicodeDecodeError) as exc:
                raise ValueError(f"not a JSON notebook ({exc.__class__.__name__})") from None
            except SourceError as exc:
                raise ValueError(str(exc).removeprefix("line 0: ")) from None

            def line_map(line: int) -> tuple[int | None, int]:
                if 1 <= line <= len(mapping):
                    return mapping[line - 1]
                return None, line
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ValueError("not UTF-8 text") from None
        if not mentions_keras(text) or file_noqa(text):
            return None
        try:
            result = read_text(text, display, s.define or None, s.keras_version,
                               line_map=line_map)
        except SourceError as exc:
            raise ValueError(str(exc)) from None
        return Context(path=display, kind="notebook" if mapping is not None else "source",
                       models=result.models, facts=result.facts,
                       source=SourceText(text, mapping), keras_version=result.keras_version)
    from bnlint.readers.saved import ReadError, read_config, read_saved_model

    try:
        model = read_saved_model(path)
        config, _ = read_config(path)
    except ReadError as exc:
        raise ValueError(str(exc)) from None
    model.source = display
    return Context(path=display, kind="saved", models=[model], saved_config=config,
                   keras_version=model.keras_version,
                   weights=_weights_access(path) if suffix in (".keras", ".h5", ".hdf5")
                   else None)


def check_context(ctx: Context, codes: set[str]) -> tuple[list[Finding], list[str]]:
    """Run the selected rules; returns findings and internal-error messages."""
    findings: list[Finding] = []
    problems: list[str] = []
    for code, cls in all_rules().items():
        if code not in codes or cls is UnreadableFile:
            continue
        try:
            found = list(cls().check(ctx))
        except Exception as exc:  # a rule bug must not stop the run
            problems.append(f"internal error in {code}: {exc.__class__.__name__}: {exc}")
            continue
        if ctx.kind in ("source", "notebook"):
            # A layer built by library code (a keras.applications base read from Keras's own
            # source) has no line in the user's file: not the user's to fix, so no finding.
            found = [f for f in found if f.line is not None and f.line >= 1]
        findings.extend(found)
    return findings, problems


def _keep(f: Finding, ctx: Context | None, ignored: list[str]) -> bool:
    if any(f.code.startswith(p) for p in ignored):
        return False
    if ctx is not None and ctx.source is not None and f.line is not None:
        if suppressed(f.code, ctx.source.line_text(f.line, f.cell)):
            return False
    return True


def run(paths: Sequence[str], cli: Settings) -> Result:
    """Check every file under ``paths``.  Raises ConfigError for bad settings."""
    rules = all_rules()
    defaults = {code: cls.default for code, cls in rules.items()}
    codes = list(rules)
    validate_prefixes(cli.select or [], codes, "--select")
    validate_prefixes(cli.extend_select, codes, "--extend-select")
    validate_prefixes(cli.ignore, codes, "--ignore")
    result = Result()
    seen: set[Path] = set()
    for path, explicit in discover(paths, cli):
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        file_settings = settings_for_dir(key.parent).merged(cli)
        for what, prefixes in (("select", file_settings.select or []),
                               ("extend-select", file_settings.extend_select),
                               ("ignore", file_settings.ignore)):
            validate_prefixes(prefixes, codes, what)
        display = _display(path)
        enabled = selected(defaults, file_settings)
        if not explicit and is_excluded(path, file_settings, Path.cwd()):
            continue
        if explicit and path.suffix.lower() == ".json" and path.is_file() and \
                not looks_like_keras_json(path):
            result.skipped += 1
            continue
        if path.suffix.lower() not in SOURCE_SUFFIXES + SAVED_SUFFIXES and path.exists():
            result.errors.append((display, f"unsupported file type `{path.suffix}`"))
            continue
        try:
            ctx = read_context(path, display, file_settings)
        except ValueError as exc:
            msg = str(exc).splitlines()[0] if str(exc) else "cannot read"
            result.errors.append((display, msg))
            if "BN999" in enabled:
                result.findings.append(_unreadable(display, msg))
            continue
        except Exception as exc:  # never a traceback
            msg = f"internal error while reading ({exc.__class__.__name__}: {exc})"
            result.errors.append((display, msg.splitlines()[0]))
            continue
        if ctx is None:
            result.skipped += 1
            continue
        result.files += 1
        found, problems = check_context(ctx, enabled)
        for p in problems:
            result.errors.append((display, p))
        ignored = per_file_ignored(path, file_settings)
        unique: dict[tuple[Any, ...], Finding] = {}
        for f in found:
            if _keep(f, ctx, ignored):
                unique.setdefault((f.code, f.line, f.column, f.cell, f.config_path, f.message),
                                  f)
        result.findings.extend(unique.values())
    result.findings.sort(key=Finding.sort_key)
    return result


def _unreadable(display: str, msg: str) -> Finding:
    import re

    line = cell = None
    m = re.match(r"(?:cell (\d+) )?line (\d+): (.*)", msg)
    if m:
        cell = int(m.group(1)) if m.group(1) else None
        line = int(m.group(2)) or None
        msg = m.group(3)
    cls = UnreadableFile
    return Finding(code=cls.code, name=cls.name, severity=cls.severity, path=display,
                   message=msg, why=cls.why, fix=cls.fix, line=line,
                   column=1 if line else None, cell=cell if line else None)
