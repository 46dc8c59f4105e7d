"""What each ``bnlint`` command does, without the command-line layer.

Every command takes plain Python values, writes its output, and returns the exit code
(ruff's: 0 done / no findings, 1 findings, 2 error). A bad argument value raises
:class:`UsageError` *before* anything is written, so whichever front end parsed the
arguments (typer in :mod:`bnlint.cli`, or the fast path of :mod:`bnlint.entry`) can
report it its own way. This module imports neither typer nor anything heavy at import time.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

SUMMARY_FORMATS = ("text", "json", "markdown")
CHECK_FORMATS = ("text", "concise", "json", "sarif", "github")
EXPORT_TARGETS = ("numpy",)


class UsageError(Exception):
    """A parameter value the command cannot use (message, and the parameter as written)."""

    def __init__(self, message: str, param_hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.param_hint = param_hint


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _error(path: str, message: str) -> dict[str, str]:
    _err(f"bnlint: {path}: {message}")
    return {"path": path, "message": message}


def _pairs(items: Sequence[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"expected NAME=VALUE, got {item!r}", what)
        out[name.strip()] = value.strip()
    return out


def _keras_version(value: int | None) -> int | None:
    if value not in (None, 2, 3):
        raise UsageError("must be 2 or 3", "--keras-version")
    return value


def _codes(values: Sequence[str]) -> list[str]:
    return [c.strip().upper() for v in values for c in v.split(",") if c.strip()]


# --------------------------------------------------------------------------- summarize


def _read_source_target(
    target: str, defines: dict[str, str], args: dict[str, str], keras_version: int | None,
) -> Any:
    """``file.py``, ``notebook.ipynb`` or ``file.py::function``: read statically."""
    from bnlint.readers.source import read_source

    path, _, function = target.partition("::")
    if path.endswith(".ipynb"):
        from bnlint.readers.source import read_notebook

        return read_notebook(path, defines=defines, keras_version=keras_version,
                             function=function or None, args=args)
    return read_source(path, defines=defines, keras_version=keras_version,
                       function=function or None, args=args)


def _print_functions(path: str, result: Any) -> None:
    _out(f"{path}: builds no model at import time.")
    if not result.functions:
        return
    _out("Functions that return a model (summarize one with FILE::NAME --arg NAME=VALUE):")
    for fn in result.functions:
        params = ", ".join(n if d is None else f"{n}={d}" for n, d in fn.parameters)
        _out(f"  line {fn.line}: {fn.name}({params})")
        _out(f"      bnlint summarize '{path}::{fn.name}'"
             + "".join(f" --arg {n}=..." for n, d in fn.parameters if d is None))


@contextmanager
def _one_target(target: str, errors: list[dict[str, str]]) -> Iterator[None]:
    """Bounds and internal errors of one summarize target become one line; the run goes on."""
    from bnlint.guard import BoundHit, TimeBudgetExceeded, time_budget

    try:
        with time_budget():
            yield
    except TimeBudgetExceeded as exc:
        errors.append(_error(target, f"analysis time budget of {exc.args[0]:g} s hit; "
                             "not summarized"))
    except BoundHit as exc:
        errors.append(_error(target, str(exc)))
    except (RecursionError, MemoryError) as exc:
        what = "nesting" if isinstance(exc, RecursionError) else "memory"
        errors.append(_error(target, f"{what} bound hit; not summarized"))
    except Exception as exc:  # never a traceback
        from bnlint.rules.internal import REPORT_HINT

        text = " ".join(str(exc).split())[:200]
        errors.append(_error(target, f"internal error ({exc.__class__.__name__}"
                             f"{': ' + text if text else ''}); {REPORT_HINT}"))


def _preflight(path: str) -> None:
    """The nesting bound of ``bnlint check`` (libcst must not see pathological nesting)."""
    from bnlint.guard import decode_source, preflight_source

    try:
        with open(path, "rb") as f:
            raw = f.read()
        if path.endswith(".ipynb"):
            import json

            from bnlint.readers.notebook import join_cells, notebook_cells

            text, _ = join_cells(notebook_cells(json.loads(raw.decode("utf-8"))))
        else:
            text = decode_source(raw)
    except Exception:  # unreadable or not a notebook: the reader reports it its own way
        return
    preflight_source(text)


def summarize(
    paths: Sequence[str],
    output_format: str = "text",
    define: Sequence[str] = (),
    arg: Sequence[str] = (),
    where: bool = False,
    keras_version: int | None = None,
    weights: bool = False,
    weights_file: str | None = None,
) -> int:
    """Per-layer parameter counts as Keras reports them, get_weights() indices, BN explained."""
    keras_version = _keras_version(keras_version)
    if weights_file is not None and len(paths) != 1:
        raise UsageError("pairs with exactly one model argument", "--weights-file")
    defines = _pairs(define, "--define")
    args = _pairs(arg, "--arg")
    from bnlint.readers.saved import ReadError, read_saved_model
    from bnlint.summary import summarize as make_summary

    summaries = []
    errors: list[dict[str, str]] = []
    references: list[tuple[str, Any]] = []
    weight_paths: list[Any] = []  # a saved model's path, or (weights file, architecture)
    models: list[Any] = []
    for target in paths:
        base = target.partition("::")[0]
        with _one_target(target, errors):
            if base.endswith((".py", ".ipynb")):
                from bnlint.readers.source import SourceError

                try:
                    _preflight(base)
                    result = _read_source_target(target, defines, args, keras_version)
                except SourceError as exc:
                    errors.append(_error(target, str(exc)))
                    continue
                except OSError as exc:
                    errors.append(_error(target, f"cannot read ({exc.strerror or exc})"))
                    continue
                for note in result.notes:
                    _err(f"bnlint: {target}: note: {note}")
                if not result.models and output_format == "text":
                    _print_functions(target, result)
                summaries.extend(make_summary(m) for m in result.models)
                models.extend(result.models)
                references.extend((base, r) for r in result.references)
                continue
            try:
                model = read_saved_model(base)
            except ReadError as exc:
                errors.append(_error(target, str(exc)))
                continue
            summaries.append(make_summary(model))
            models.append(model)
            if weights and weights_file is None:
                weight_paths.append(base)

    match = None
    if weights_file is not None:
        match = _match_weights_file(weights_file, models, errors)
        if match is not None and match["matches"]:
            if output_format == "text":
                _out(f"{weights_file}: {match['message']}")
            if weights:
                from bnlint.graph import outermost_models

                weight_paths.append((weights_file, outermost_models(models)[0]))

    if output_format == "json":
        from bnlint.report.structured import render_json

        extra: dict[str, Any] | None = {"weights": _weights_data(weight_paths, errors)} \
            if weights else None
        if match is not None:
            extra = {**(extra or {}), "weights_file": match}
        sys.stdout.write(render_json(summaries, errors, extra))
    elif output_format == "markdown":
        from bnlint.report.structured import render_markdown

        sys.stdout.write(render_markdown(summaries))
        sys.stdout.write(_weights_text(weight_paths, "markdown", errors))
    else:
        from bnlint.report.text import render

        if summaries:
            sys.stdout.write(render(summaries))
        if where:
            sys.stdout.write("\nReferences in the source:\n" if references else
                             "\nNo get_weights()/layers[i]/get_layer() expressions found.\n")
            for path, ref in references:
                cell = f"cell {ref.cell}, " if ref.cell is not None else ""
                sys.stdout.write(f"  {path}:{cell}line {ref.line}: {ref.text} -> "
                                 f"{ref.description}\n")
        sys.stdout.write(_weights_text(weight_paths, "text", errors))
    return 2 if errors else 0


def _match_weights_file(path: str, models: list[Any], errors: list[dict[str, str]]
                        ) -> dict[str, Any] | None:
    """``--weights-file``: does the file fit the one architecture read (as load_weights would
    judge: count, shapes, order)? A mismatch is an error line; the summary still prints."""
    from bnlint.readers.weights import weights_file_verdict

    verdict = weights_file_verdict(path, models)
    if verdict is None:
        return None
    _, message, ok = verdict
    if not ok:
        errors.append(_error(path, message))
    return {"path": path, "matches": ok, "message": message}


def _weights_text(paths: list[Any], fmt: str, errors: list[dict[str, str]]) -> str:
    """The --weights report of each saved model; a file whose arrays cannot be read is an error."""
    if not paths:
        return ""
    from bnlint.readers.saved import ReadError
    from bnlint.weights_report import weights_report

    out = []
    for item in paths:
        path, model = item if isinstance(item, tuple) else (item, None)
        try:
            out.append(weights_report(path, fmt, model))
        except ReadError as exc:
            errors.append(_error(path, f"weights: {exc}"))
    return "\n" + "\n".join(out) if out else ""


def _weights_data(paths: list[Any], errors: list[dict[str, str]]) -> list[dict[str, Any]]:
    from bnlint.readers.saved import ReadError
    from bnlint.weights_report import weights_report_data

    out = []
    for item in paths:
        path, model = item if isinstance(item, tuple) else (item, None)
        try:
            out.append({"path": path, **weights_report_data(path, model)})
        except ReadError as exc:
            errors.append(_error(path, f"weights: {exc}"))
    return out


# --------------------------------------------------------------------------- export


def _architecture(target: str) -> Any:
    """The one model a source file or saved model builds (for ``--weights-file``)."""
    from bnlint.readers.saved import ReadError, read_saved_model

    base = target.partition("::")[0]
    if not base.endswith((".py", ".ipynb")):
        return read_saved_model(base)
    from bnlint.readers.source import SourceError

    try:
        _preflight(base)
        result = _read_source_target(target, {}, {}, None)
    except SourceError as exc:
        raise ReadError(str(exc)) from None
    except OSError as exc:
        raise ReadError(f"cannot read ({exc.strerror or exc})") from None
    from bnlint.graph import outermost_models

    models = outermost_models(result.models)
    if len(models) != 1:
        raise ReadError(f"builds {len(models)} models at import time; --weights-file "
                        "needs exactly one (name a function with FILE.py::function)")
    return models[0]


def export(model_path: str, to: str = "numpy", output: str | None = None,
           weights_file: str | None = None) -> int:
    """Write the model's forward pass as plain NumPy code: load_weights() + forward(x, weights)."""
    from bnlint.export import ExportError, export_numpy
    from bnlint.readers.saved import ReadError

    try:
        if weights_file is None:
            code = export_numpy(model_path)
        else:
            from bnlint.readers.weights import match_weights

            model = _architecture(model_path)
            try:
                match_weights(weights_file, model)
            except ReadError as exc:
                _error(weights_file, f"does not match model \"{model.name}\" (load_weights "
                       f"would fail): {exc}")
                return 2
            code = export_numpy(weights_file, model)
    except (ReadError, ExportError) as exc:
        _error(model_path, str(exc))
        return 2
    if output is None:
        sys.stdout.write(code)
        return 0
    try:
        with open(output, "w", encoding="utf-8") as f:
            f.write(code)
    except OSError as exc:
        _error(output, f"cannot write ({exc.strerror or exc})")
        return 2
    _err(f"wrote {output}")
    return 0


# --------------------------------------------------------------------------- check


def check(
    paths: Sequence[str] | None = None,
    select: Sequence[str] = (),
    extend_select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    exclude: Sequence[str] = (),
    output_format: str = "text",
    define: Sequence[str] = (),
    keras_version: int | None = None,
    exit_zero: bool = False,
    statistics: bool = False,
    no_cache: bool = False,
    strict: bool = False,
    jobs: int | None = None,
    fix: bool = False,
    no_fix: bool = False,
    unsafe_fixes: bool = False,
    no_unsafe_fixes: bool = False,
    fix_only: bool = False,
    diff: bool = False,
    fixable: Sequence[str] = (),
    extend_fixable: Sequence[str] = (),
    unfixable: Sequence[str] = (),
    weights_file: str | None = None,
) -> int:
    """Lint Keras code, notebooks and saved models for BatchNormalization and loss mistakes."""
    keras_version = _keras_version(keras_version)
    defines = _pairs(define, "--define")
    if weights_file is not None:
        from pathlib import Path

        from bnlint.readers.tfpaths import is_saved_model_dir

        one = Path(paths[0]) if paths and len(paths) == 1 else None
        if one is None or not (one.is_file() or is_saved_model_dir(one)):
            raise UsageError("pairs with exactly one file (a script, notebook or saved model)",
                             "--weights-file")
    if jobs is not None and jobs < 1:
        raise UsageError(f"{jobs} is not in the range x>=1", "--jobs")
    from bnlint.rules.config import ConfigError, Settings
    from bnlint.rules.engine import run

    cli = Settings(select=_codes(select) or None, extend_select=_codes(extend_select),
                   ignore=_codes(ignore), exclude=[e for v in exclude for e in v.split(",")
                                                   if e], define=defines,
                   keras_version=keras_version,
                   fix=True if fix or fix_only or diff else False if no_fix else None,
                   unsafe_fixes=True if unsafe_fixes else False if no_unsafe_fixes else None,
                   fixable=_codes(fixable) or None, extend_fixable=_codes(extend_fixable),
                   unfixable=_codes(unfixable))
    cache = None
    if not no_cache:
        from bnlint.cache import Cache

        cache = Cache()
    try:
        result = run(list(paths or ["."]), cli, cache=cache, jobs=jobs,
                     weights_file=weights_file)
    except ConfigError as exc:
        _err(f"bnlint: error: {exc}")
        return 2
    except Exception as exc:  # outside any one file (discovery, settings): still one line
        from bnlint.rules.internal import REPORT_HINT

        text = " ".join(str(exc).split())[:200]
        _err(f"bnlint: internal error ({exc.__class__.__name__}"
             f"{': ' + text if text else ''}); {REPORT_HINT}")
        return 2
    for path, message in result.errors:
        _err(f"{path}: {message}")
    for path, message in result.internal:
        _err(f"{path}: {message}")
    for path, message in result.notes:
        _err(f"{path}: note: {message}")
    findings = result.findings
    fixing = None
    if fix or fix_only or diff or any(t.settings.fix for t in result.tasks.values()):
        fixing = _apply_fixes(result, write=not diff)
        findings = fixing.remaining
    from bnlint.report import findings as render

    if diff:
        assert fixing is not None
        sys.stdout.write(fixing.diff)
        _err(fixing.summary("Would fix"))
        if result.errors or (strict and result.internal):
            return 2
        return 1 if fixing.diff else 0
    if fix_only:
        assert fixing is not None
        text = fixing.summary("Fixed")
        if text:
            _out(text)
        return 2 if result.errors or (strict and result.internal) else 0
    if statistics:
        sys.stdout.write(render.render_statistics(findings))
    elif output_format == "json":
        sys.stdout.write(render.render_json(findings, show_fixes=fixing is None))
    elif output_format == "sarif":
        from bnlint import __version__

        sys.stdout.write(render.render_sarif(findings, __version__))
    elif output_format == "github":
        sys.stdout.write(render.render_github(findings))
    else:
        text = render.render_text(findings, concise=output_format == "concise",
                                  fixable=_fixable(findings, result, fixing))
        if fixing is not None and (fixing.fixed or fixing.hidden):
            text = text.rpartition("Found ")[0] if findings else ""
            text += fixing.found_line(len(findings)) + "\n"
        sys.stdout.write(text if text else "All checks passed!\n")
    if result.errors or (strict and result.internal):
        return 2
    counted = [f for f in findings if f.code != "BN998"]  # bnlint's bug, not the user's
    return 0 if exit_zero or not counted else 1


def _fixable(findings: list[Any], result: Any, fixing: Any) -> set[int] | None:
    """The findings ``--fix`` would fix: a safe fix, or an unsafe one where the file's
    settings (command line or ``[tool.bnlint]``) allow unsafe fixes; None after ``--fix``
    (what is left was not fixed: no markers)."""
    if fixing is not None:
        return None
    out = set()
    for f in findings:
        task = result.tasks.get(f.path)
        if f.edits is not None and (f.edits["applicability"] == "safe" or (
                task is not None and task.settings.unsafe_fixes)):
            out.add(id(f))
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass
class _Fixing:
    """What ``--fix``/``--fix-only``/``--diff`` did over all files."""

    remaining: list[Any]
    fixed: int = 0
    hidden: int = 0
    diff: str = ""

    def hint(self) -> str:
        if not self.hidden:
            return ""
        fixes = "hidden fix" if self.hidden == 1 else "hidden fixes"
        return f"{self.hidden} {fixes} can be enabled with the `--unsafe-fixes` option"

    def found_line(self, remaining: int) -> str:
        """ruff's summary: ``Found 4 errors (3 fixed, 1 remaining).`` plus the hint."""
        total = self.fixed + remaining
        line = f"Found {_plural(total, 'error')}"
        line += f" ({self.fixed} fixed, {remaining} remaining)." if self.fixed else "."
        if self.hint():
            line += f"\nNo fixes available ({self.hint()})."
        return line

    def summary(self, verb: str) -> str:
        """``Fixed 3 errors.`` / ``Would fix 3 errors.`` (nothing when there is nothing)."""
        parts = []
        if self.fixed:
            parts.append(f"{verb} {_plural(self.fixed, 'error')}.")
        elif verb == "Would fix":
            parts.append("No errors would be fixed.")
        if self.hint():
            parts.append(f"No fixes available ({self.hint()}).")
        return "\n".join(parts)


def _apply_fixes(result: Any, write: bool) -> _Fixing:
    """Fix every file whose settings ask for it; findings of the other files stay as found.

    Files with no finding that has a fix cost nothing: libcst is imported only by a file
    that has one.
    """
    from bnlint.fix import may_fix

    by_path: dict[str, list[Any]] = {}
    for f in result.findings:
        by_path.setdefault(f.path, []).append(f)
    out = _Fixing(remaining=[])
    diffs: list[str] = []
    for display, found in by_path.items():
        task = result.tasks.get(display)
        if task is None or not task.settings.fix or \
                not any(may_fix(f, task.settings) for f in found):
            out.remaining.extend(found)
            continue
        from bnlint.fix.files import fix_file, unified_diff
        from bnlint.fix.files import write as write_file

        try:
            fx = fix_file(task, found, bool(task.settings.unsafe_fixes))
        except Exception as exc:  # a bnlint bug: the file stays as it is, the run goes on
            from bnlint.rules.internal import REPORT_HINT

            _err(f"{display}: note: fixing failed ({exc.__class__.__name__}); the file was "
                 f"not changed; {REPORT_HINT}")
            out.remaining.extend(found)
            continue
        for note in fx.notes:
            _err(f"{display}: note: {note}")
        if fx.changed and write:
            try:
                write_file(fx)
            except OSError as exc:
                _err(f"{display}: cannot write the fixed file ({exc.strerror or exc})")
                out.remaining.extend(found)
                continue
        elif fx.changed:
            diffs.append(unified_diff(fx))
        out.fixed += fx.fixed
        out.hidden += fx.hidden
        out.remaining.extend(fx.remaining)
    out.remaining.sort(key=lambda f: f.sort_key())
    out.diff = "".join(diffs)
    return out


# --------------------------------------------------------------------------- small commands


def clean() -> int:
    """Remove the .bnlint_cache/ directory of the current directory."""
    from bnlint.cache import CACHE_DIR
    from bnlint.cache import clean as remove

    _out(f"Removed {CACHE_DIR}/" if remove() else f"No {CACHE_DIR}/ here.")
    return 0


def rule(code: str | None = None, show_all: bool = False) -> int:
    """Print a rule's documentation (`bnlint rule BN001`) or list the rules (`--all`)."""
    from bnlint.rules import all_rules
    from bnlint.rules.docs import doc, summary

    rules = all_rules()
    if show_all or code is None:
        for c, cls in rules.items():
            flag = "" if cls.default else "  (not selected by default)"
            _out(f"{c}  {cls.name:<40} {summary(c)}{flag}")
        return 0
    key = code.upper()
    if key not in rules:
        _err(f"bnlint: error: unknown rule `{code}` (see `bnlint rule --all`)")
        return 2
    text = doc(key)
    if text is None:
        _err(f"bnlint: error: no documentation for {key}")
        return 2
    safety = rules[key].fix_safety
    if safety is not None:  # ruff's `ruff rule` line, after the title
        how = "applied by `--fix`" if safety == "safe" else "applied with `--unsafe-fixes`"
        title, _, rest = text.partition("\n")
        text = f"{title}\n\nFix is sometimes available ({safety}: {how}; see Fix safety).\n{rest}"
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def version() -> int:
    """Print bnlint's version."""
    from bnlint import __version__

    _out(f"bnlint {__version__}")
    return 0
