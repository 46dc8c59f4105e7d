"""``bnlint check``: discover files, read them, run the selected rules, filter findings.

Every file is analysed by :func:`analyse_file`, which never raises: a bound that is hit
(time, nesting, sizes) becomes a note, an unreadable file a BN999 finding, and any other
exception a BN998 finding (a bnlint bug).  Files are pre-filtered on their raw bytes in
the main process; the remaining ones are looked up in the cache (``bnlint.cache``) and
the rest analysed, in a process pool when there are enough of them (``bnlint.parallel``).
Output order does not depend on the order in which the work finishes.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bnlint.guard import (  # noqa: F401 - re-exported for callers of the engine
    FILE_TIME_BUDGET,
    MAX_SOURCE_CHARS,
    BoundHit,
    TimeBudgetExceeded,
    Unreadable,
    decode_source,
    file_time_budget,
    preflight_source,
    time_budget,
)
from bnlint.readers.tfpaths import is_saved_model_dir
from bnlint.rules.base import Context, Finding, Rule, all_rules
from bnlint.rules.config import (
    Settings,
    is_excluded,
    per_file_ignored,
    selected,
    settings_for_dir,
    validate_prefixes,
)
from bnlint.rules.internal import SELFTEST_MARKER, InternalError, internal_finding
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


#: ``check`` reads saved weight arrays (BN statistics) up to this size each.
MAX_CHECK_ARRAY_BYTES = 256 * 1024 * 1024
_KERAS_BYTES = re.compile(rb"\b(keras|tensorflow|tf_keras)\b")
_BOUND_NOTE = re.compile(r"\b(budget|bound) of\b|bound hit|bound of `check`|too deep|"
                         r"too large|refusing|not analysed", re.I)


#: reader notes that say how the file was read (the findings depend on them): shown by check
_READ_AS = ("snippet:", "keras version:")


@dataclass
class Result:
    findings: list[Finding] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    files: int = 0  # files read and checked
    skipped: int = 0  # files the pre-filter skipped
    notes: list[tuple[str, str]] = field(default_factory=list)  # (path, note): bounds hit
    internal_errors: int = 0  # BN998: bnlint failed on a file
    cached: int = 0  # outcomes taken from the cache
    internal: list[tuple[str, str]] = field(default_factory=list)  # (path, BN998 message)
    tasks: dict[str, Task] = field(default_factory=dict)  # display path -> its task (--fix)


@dataclass
class Outcome:
    """What analysing one file gave; plain data (pickled to/from workers, JSON in the cache)."""

    status: str = "checked"  # "checked" | "skipped" | "unreadable" | "internal"
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cacheable: bool = True
    # errors about another file than the one checked (--weights-file that does not fit)
    other_errors: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "errors": self.errors, "notes": self.notes,
                "findings": [f.to_json() for f in self.findings]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        return cls(status=data["status"], errors=list(data["errors"]),
                   notes=list(data["notes"]),
                   findings=[Finding.from_json(f) for f in data["findings"]])


@dataclass
class Task:
    """One file to analyse (picklable)."""

    path: str
    display: str
    settings: Settings
    enabled: frozenset[str]
    ignored: tuple[str, ...]
    budget: float
    weights_file: str | None = None  # --weights-file: the arrays of the file's one model


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
        if path.stat().st_size > 1024 * 1024:
            return True  # the head looks like one; the reader decides (within its bounds)
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    except RecursionError:  # hostile nesting: the reader reports it with its bound
        return True
    return isinstance(data, dict) and "class_name" in data and isinstance(data.get("config"),
                                                                           dict)


def discover(paths: Sequence[str], cli: Settings) -> Iterator[tuple[Path, bool]]:
    """(file, given explicitly) for every candidate under ``paths``, sorted per directory."""
    for raw in paths:
        p = Path(raw)
        if p.is_dir() and not is_saved_model_dir(p):
            for dirpath, dirnames, filenames in os.walk(p):
                d = Path(dirpath)
                s = settings_for_dir(d.resolve()).merged(cli)
                dirnames[:] = sorted(
                    n for n in dirnames
                    if n not in SKIP_DIRS and not n.endswith(".egg-info")
                    and not _is_venv(d / n) and not is_excluded(d / n, s, Path.cwd()))
                # a SavedModel directory is one model: checked whole, never descended into
                models = [n for n in dirnames if is_saved_model_dir(d / n)]
                dirnames[:] = [n for n in dirnames if n not in models]
                yield from ((d / n, False) for n in models)
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


def _display(path: Path, resolved: Path | None = None, cwd: Path | None = None) -> str:
    try:
        resolved = resolved or path.resolve()
        rel = resolved.relative_to(cwd or Path.cwd().resolve())
        return rel.as_posix() if not path.is_absolute() or str(rel) != "." else str(path)
    except ValueError:
        return str(path)


@lru_cache(maxsize=4096)
def _resolved_dir(d: str) -> Path:
    return Path(d).resolve()


def _resolve(path: Path) -> Path:
    """``path.resolve()``, resolving each directory once (a file that is a link: fully)."""
    if os.path.islink(path):
        return path.resolve()
    return _resolved_dir(str(path.parent)) / path.name


def _weights_access(path: Path, notes: list[str] | None = None) -> Any:
    """get_weights() arrays through the weights reader, lazily; None when unavailable.

    A bound hit while reading an array is appended to ``notes`` (the rules treat an
    unreadable array as absent, so the note is how the user hears about it).
    """
    try:
        from bnlint.readers.weights import open_weights
    except ImportError:
        return None

    def arrays(model: Any) -> Any:
        try:
            wf = open_weights(path, model)
        except Exception:
            return None
        return _Lazy(wf, notes, skipped)

    skipped: list[Any] = []  # shared by every rule's view of the arrays: one note per file
    return arrays


class _Lazy(Sequence):
    def __init__(self, wf: Any, notes: list[str] | None = None,
                 skipped: list[Any] | None = None):
        self.wf = wf
        self.notes = notes if notes is not None else []
        self.skipped = skipped if skipped is not None else []

    def __len__(self) -> int:
        return len(self.wf)

    def __getitem__(self, i: Any) -> Any:
        ref = self.wf.refs[i] if hasattr(self.wf, "refs") else None
        if ref is not None:
            import math

            nbytes = math.prod(int(d) for d in ref.shape) * 8  # read as float64 at most
            if nbytes > MAX_CHECK_ARRAY_BYTES:
                if i not in self.skipped:
                    self.skipped.append(i)
                note = (f"get_weights()[{', '.join(map(str, sorted(self.skipped)))}] "
                        f"larger than the {MAX_CHECK_ARRAY_BYTES >> 20} MiB bound of `check`: "
                        "values not read")
                self.notes[:] = [n for n in self.notes if not n.startswith("get_weights()[")]
                self.notes.append(note)  # one note per file, however many arrays
                raise BoundHit(note)
        return self.wf.read(i)


def read_context(path: Path, display: str, s: Settings, raw: bytes | None = None,
                 weights_file: str | None = None) -> Context | None:
    """The rule context for a file (``raw``: its content, when not the file's on disk, as
    ``--fix`` checks a fixed text before writing it); None when the pre-filter skips it.

    Raises :class:`Unreadable` (a ``ValueError``) with a one-line message when the file
    cannot be read, :class:`BoundHit` when a bound refuses it.
    """
    from bnlint.readers.source import SourceError, mentions_keras, read_text

    suffix = path.suffix.lower()
    if suffix in SOURCE_SUFFIXES:
        try:
            raw = path.read_bytes() if raw is None else raw
        except OSError as exc:
            raise Unreadable(f"cannot read ({exc.strerror or exc})") from None
        mapping = None
        line_map = None
        if suffix == ".ipynb":
            from bnlint.readers.notebook import join_cells, notebook_cells

            try:
                data = json.loads(raw.decode("utf-8"))
                text, mapping = join_cells(notebook_cells(data))
            except (ValueError, UnicodeDecodeError) as exc:
                raise Unreadable(f"not a JSON notebook ({exc.__class__.__name__})") from None
            except SourceError as exc:
                raise Unreadable(str(exc).removeprefix("line 0: ")) from None

            def line_map(line: int) -> tuple[int | None, int]:
                if 1 <= line <= len(mapping):
                    return mapping[line - 1]
                return None, line
        else:
            text = decode_source(raw)
        if not mentions_keras(text) or file_noqa(text):
            return None
        if SELFTEST_MARKER in text:
            raise RuntimeError("self-test requested by the file")
        preflight_source(text)
        try:
            # no listing of model-building functions: only summarize prints it
            result = read_text(text, display, s.define or None, s.keras_version,
                               line_map=line_map, list_functions=False,
                               uncalled=s.analyze_uncalled is not False)
        except SourceError as exc:
            raise Unreadable(str(exc)) from None
        ctx = Context(path=display, kind="notebook" if mapping is not None else "source",
                      models=result.models, facts=result.facts,
                      source=SourceText(text, mapping), keras_version=result.keras_version,
                      raw=raw)
        ctx.reader_notes = list(result.notes)  # type: ignore[attr-defined]
        ctx.uncalled = list(result.uncalled)  # type: ignore[attr-defined]
        if weights_file is not None:
            _attach_weights_file(ctx, weights_file)
        return ctx
    from bnlint.readers.saved import ReadError, read_config, read_saved_model

    try:
        model = read_saved_model(path)
        config, _ = read_config(path)
    except ReadError as exc:
        raise Unreadable(str(exc)) from None
    model.source = display
    notes: list[str] = []
    ctx = Context(path=display, kind="saved", models=[model], saved_config=config,
                  keras_version=model.keras_version,
                  weights=_weights_access(path, notes)
                  if suffix in (".keras", ".h5", ".hdf5") or path.is_dir() else None)
    ctx.reader_notes = notes  # type: ignore[attr-defined]  # filled while the rules run
    if weights_file is not None:
        _attach_weights_file(ctx, weights_file)
    return ctx


def _attach_weights_file(ctx: Context, weights_file: str) -> None:
    """``check --weights-file W``: the weight rules (BN002, BN013) read the arrays of W,
    mapped to the one model the file builds; a W that does not fit it (as ``load_weights``
    would judge) is an error about W, and the weight rules then see no arrays."""
    from bnlint.readers.weights import weights_file_verdict

    ctx.weights = None
    verdict = weights_file_verdict(weights_file, ctx.models)
    if verdict is None:
        ctx.weights_error = "--weights-file: the file builds no model to match it with"  # type: ignore[attr-defined]
        return
    model, message, ok = verdict
    if not ok:
        ctx.weights_error = message  # type: ignore[attr-defined]
        return
    notes: list[str] = getattr(ctx, "reader_notes", [])
    access = _weights_access(Path(weights_file), notes)

    def arrays(m: Any) -> Any:
        return access(m) if m is model and access is not None else None

    ctx.weights = arrays
    ctx.weights_from = weights_file  # type: ignore[attr-defined]


def check_context(ctx: Context, codes: set[str],
                  ) -> tuple[list[Finding], list[tuple[str, Exception]]]:
    """Run the selected rules; returns findings and (rule code, exception) of failed rules."""
    findings: list[Finding] = []
    problems: list[tuple[str, Exception]] = []
    for code, cls in all_rules().items():
        if code not in codes or cls in (UnreadableFile, InternalError):
            continue
        try:
            found = list(cls().check(ctx))
        except (RecursionError, MemoryError):
            raise
        except Exception as exc:  # a rule bug must not stop the run
            problems.append((code, exc))
            continue
        if ctx.kind in ("source", "notebook"):
            # A layer built by library code (a keras.applications base read from Keras's own
            # source) has no line in the user's file: not the user's to fix, so no finding.
            found = [f for f in found if f.line is not None and f.line >= 1]
        findings.extend(found)
    readings = getattr(ctx, "uncalled", None)
    if readings:
        extra, more = _check_uncalled(ctx, codes, readings, findings)
        findings.extend(extra)
        problems.extend(more)
    return findings, problems


def _check_uncalled(ctx: Context, codes: set[str], readings: list[Any],
                    found: list[Finding]) -> tuple[list[Finding], list[tuple[str, Exception]]]:
    """The rules on the models of code the file never runs (see
    :mod:`bnlint.readers.source.uncalled`): each reading is a context of its own; a finding
    names its origin and is dropped where the module's own reading (or an earlier one)
    already reported that rule on that line."""
    seen = {(f.code, f.line, f.cell) for f in found}
    out: list[Finding] = []
    problems: list[tuple[str, Exception]] = []
    for r in readings:
        sub = Context(path=ctx.path, kind=ctx.kind, models=r.models, facts=r.facts,
                      source=ctx.source, keras_version=ctx.keras_version)
        found_here, bad = check_context(sub, codes)
        problems.extend(bad)
        for f in sorted(found_here, key=Finding.sort_key):
            key = (f.code, f.line, f.cell)
            if key in seen:
                continue
            seen.add(key)
            f.message = f"{f.message} ({r.origin})"
            out.append(f)
    return out, problems


def _keep(f: Finding, ctx: Context | None, ignored: list[str]) -> bool:
    if any(f.code.startswith(p) for p in ignored):
        return False
    if ctx is not None and ctx.source is not None and f.line is not None:
        if suppressed(f.code, ctx.source.line_text(f.line, f.cell)):
            return False
    return True


def analyse_file(task: Task, raw: bytes | None = None) -> Outcome:
    """Read and check one file (``raw``: a source text to check in its place); never
    raises (bounds: notes; bugs: BN998)."""
    path = Path(task.path)
    out = Outcome()
    ctx: Context | None = None
    try:
        with time_budget(task.budget):
            ctx = read_context(path, task.display, task.settings, raw, task.weights_file)
            if ctx is None:
                if task.weights_file is not None:
                    return Outcome(other_errors=[(task.weights_file, "--weights-file: "
                                                  f"{task.display} mentions no Keras model")])
                return Outcome(status="skipped")
            found, problems = check_context(ctx, set(task.enabled))
    except TimeBudgetExceeded:
        return Outcome(notes=[f"analysis time budget of {task.budget:g} s hit; the file was "
                              "not (fully) checked"], cacheable=False)
    except BoundHit as exc:
        return Outcome(notes=[str(exc)])
    except (RecursionError, MemoryError) as exc:
        what = "nesting" if isinstance(exc, RecursionError) else "memory"
        return Outcome(notes=[f"{what} bound hit while analysing; the file was not checked"])
    except Unreadable as exc:
        msg = str(exc).splitlines()[0] if str(exc) else "cannot read"
        out = Outcome(status="unreadable", errors=[msg])
        if UnreadableFile.code in task.enabled:
            out.findings.append(_unreadable(task.display, msg))
        return out
    except Exception as exc:  # never a traceback
        return _internal(task, exc, "while reading")
    for note in _bound_notes(ctx):
        out.notes.append(note)
    weights_error = getattr(ctx, "weights_error", None)
    if weights_error is not None and task.weights_file is not None:
        out.other_errors.append((task.weights_file, weights_error))
    if ctx.kind != "saved":
        from bnlint.readers.source.reader import UNCALLED_TIMEOUT

        if any(n.startswith(UNCALLED_TIMEOUT) for n in out.notes):
            out.cacheable = False  # depends on the machine's speed
    for code, exc in problems:
        if isinstance(exc, BoundHit):
            out.notes.append(f"{code}: {exc}")
            continue
        bug = _internal(task, exc, f"in {code}")
        out.findings.extend(bug.findings)
        out.errors.extend(bug.errors)
        out.status = "internal"
    ignored = list(task.ignored)
    unique: dict[tuple[Any, ...], Finding] = {}
    for f in found:
        if _keep(f, ctx, ignored):
            unique.setdefault((f.code, f.line, f.column, f.cell, f.config_path, f.message), f)
    out.findings.extend(unique.values())
    if raw is None and ctx.raw is not None and any(f.fix_args for f in out.findings):
        # ruff's fix of each finding, cached with it (not while --fix re-checks a text)
        from bnlint.fix.files import fix_previews

        fix_previews(out.findings, task.settings, ctx.raw, ctx.kind == "notebook")
    return out


def _internal(task: Task, exc: BaseException, where: str) -> Outcome:
    finding = internal_finding(task.display, exc, where)
    out = Outcome(status="internal", errors=[finding.message], cacheable=False)
    if InternalError.code in task.enabled and not any(
            finding.code.startswith(p) for p in task.ignored):
        out.findings.append(finding)
    return out


def _crashed(task: Task) -> Outcome:
    """The worker analysing this file died (native code crashed): BN998, the run goes on."""
    return _internal(task, RuntimeError("the worker process analysing the file crashed"),
                     "while analysing")


def _bound_notes(ctx: Context) -> list[str]:
    notes: list[str] = []
    facts_notes = list(getattr(ctx, "reader_notes", None) or [])
    for m in ctx.models:
        facts_notes = [*facts_notes, *getattr(m, "notes", [])]
    for n in facts_notes:
        if isinstance(n, str) and (_BOUND_NOTE.search(n) or n.startswith(_READ_AS)) and \
                n not in notes:
            notes.append(n)
    return notes


def prefilter(path: Path, raw: bytes) -> bool:
    """Cheap test on the raw bytes: can this file need any analysis at all?"""
    if path.suffix.lower() in SOURCE_SUFFIXES:
        if (b"keras" not in raw and b"tensorflow" not in raw) or \
                _KERAS_BYTES.search(raw) is None:  # memchr-fast first
            from bnlint.snippet_gate import may_be_snippet_bytes

            return may_be_snippet_bytes(raw)  # Dense(...) never imported: a snippet
        return True
    return True


def run(paths: Sequence[str], cli: Settings, *, cache: Any = None, jobs: int | None = None,
        weights_file: str | None = None) -> Result:
    """Check every file under ``paths``.  Raises ConfigError for bad settings.

    ``cache`` is a :class:`bnlint.cache.Cache` (None: no cache); ``jobs`` the number of
    worker processes (None: sized to the machine when there is enough work, 1: serial).
    """
    rules = all_rules()
    defaults = {code: cls.default for code, cls in rules.items()}
    codes = list(rules)
    validate_prefixes(cli.select or [], codes, "--select")
    validate_prefixes(cli.extend_select, codes, "--extend-select")
    validate_prefixes(cli.ignore, codes, "--ignore")
    result = Result()
    seen: set[Path] = set()
    budget = file_time_budget()
    slots: list[tuple[str, Outcome | None]] = []  # (display, outcome or pending)
    pending: list[tuple[int, Task, str | None]] = []  # (slot, task, cache key)
    cwd = Path.cwd().resolve()
    for path, explicit in discover(paths, cli):
        key = _resolve(path)
        if key in seen:
            continue
        seen.add(key)
        file_settings = settings_for_dir(key.parent).merged(cli)
        for what, prefixes in (("select", file_settings.select or []),
                               ("extend-select", file_settings.extend_select),
                               ("ignore", file_settings.ignore),
                               ("fixable", file_settings.fixable or []),
                               ("extend-fixable", file_settings.extend_fixable),
                               ("unfixable", file_settings.unfixable),
                               ("extend-safe-fixes", file_settings.extend_safe_fixes),
                               ("extend-unsafe-fixes", file_settings.extend_unsafe_fixes)):
            validate_prefixes(prefixes, codes, what)
        display = _display(path, key, cwd)
        enabled = selected(defaults, file_settings)
        if not explicit and is_excluded(path, file_settings, Path.cwd()):
            continue
        if explicit and path.suffix.lower() == ".json" and path.is_file() and \
                not looks_like_keras_json(path):
            result.skipped += 1
            continue
        if path.suffix.lower() not in SOURCE_SUFFIXES + SAVED_SUFFIXES and path.exists() \
                and not is_saved_model_dir(path):
            result.errors.append((display, f"unsupported file type `{path.suffix}`"))
            continue
        ignored = tuple(per_file_ignored(path, file_settings))
        task = Task(str(path), display, file_settings, frozenset(enabled), ignored, budget,
                    weights_file)
        result.tasks[display] = task
        raw: bytes | None = None
        if path.suffix.lower() in SOURCE_SUFFIXES:
            try:
                raw = path.read_bytes()
            except OSError:
                raw = None  # read_context reports it
            if raw is not None and not prefilter(path, raw) and weights_file is None:
                result.skipped += 1
                continue
        ckey = None
        if cache is not None and weights_file is None:  # the weights file is not in the key
            ckey = cache.key(path, raw, task)
            hit = cache.get(ckey) if ckey is not None else None
            if hit is not None:
                result.cached += 1
                slots.append((display, hit))
                continue
        pending.append((len(slots), task, ckey))
        slots.append((display, None))

    from bnlint.parallel import map_tasks

    outcomes = map_tasks(analyse_file, [t for _, t, _ in pending], jobs, on_crash=_crashed)
    for (slot, _, ckey), outcome in zip(pending, outcomes, strict=True):
        slots[slot] = (slots[slot][0], outcome)
        if cache is not None and ckey is not None and outcome.cacheable:
            cache.put(ckey, outcome)
    for display, outcome in slots:
        assert outcome is not None
        if outcome.status == "skipped":
            result.skipped += 1
            continue
        if outcome.status != "unreadable":
            result.files += 1
        if outcome.status == "internal":
            result.internal_errors += 1
        result.errors.extend((display, e) for e in outcome.errors
                             if outcome.status == "unreadable")
        result.errors.extend(outcome.other_errors)
        result.notes.extend((display, n) for n in outcome.notes)
        result.findings.extend(outcome.findings)
    result.internal = [(d, e) for d, o in slots if o is not None and o.status == "internal"
                       for e in o.errors]
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
