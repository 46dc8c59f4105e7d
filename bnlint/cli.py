"""Command line: ``bnlint summarize``, ``check`` and ``rule``. Exit codes follow ruff: 0 done, 1 findings, 2 error."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Annotated, Any

import typer

app = typer.Typer(
    name="bnlint",
    help="Static model summary and lint for Keras code and saved models (no TensorFlow needed).",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class SummaryFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


def _error(path: str, message: str) -> dict[str, str]:
    typer.echo(f"bnlint: {path}: {message}", err=True)
    return {"path": path, "message": message}


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint=what)
        out[name.strip()] = value.strip()
    return out


def _read_source_target(
    target: str, defines: dict[str, str], args: dict[str, str], keras_version: int | None,
) -> Any:
    """``file.py``, ``notebook.ipynb`` or ``file.py::function``: read statically."""
    from bnlint.readers.source import read_source

    path, _, function = target.partition("::")
    if path.endswith(".ipynb"):
        from bnlint.readers.notebook import read_notebook

        return read_notebook(path, defines=defines, keras_version=keras_version,
                             function=function or None, args=args)
    return read_source(path, defines=defines, keras_version=keras_version,
                       function=function or None, args=args)


def _print_functions(path: str, result: Any) -> None:
    typer.echo(f"{path}: builds no model at import time.")
    if not result.functions:
        return
    typer.echo("Functions that return a model (summarize one with FILE::NAME --arg NAME=VALUE):")
    for fn in result.functions:
        params = ", ".join(n if d is None else f"{n}={d}" for n, d in fn.parameters)
        typer.echo(f"  line {fn.line}: {fn.name}({params})")
        typer.echo(f"      bnlint summarize '{path}::{fn.name}'"
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


@app.command()
def summarize(
    paths: Annotated[list[str], typer.Argument(
        help="Saved models (.keras, .h5, .json), Python sources (.py, FILE.py::function) "
             "or notebooks (.ipynb).")],
    output_format: Annotated[
        SummaryFormat, typer.Option("--format", help="Output format.")
    ] = SummaryFormat.text,
    define: Annotated[list[str], typer.Option(
        "--define", "-D", help="Pin a value the code cannot know: NAME=VALUE, where NAME is a "
        "name or an expression as the code writes it (num_classes=38, 'len(names)=5').")] = [],  # noqa: B006
    arg: Annotated[list[str], typer.Option(
        "--arg", help="Argument for FILE.py::function, NAME=EXPRESSION (evaluated statically).")
    ] = [],  # noqa: B006
    where: Annotated[bool, typer.Option(
        "--where", help="Also list each get_weights()[k] / layers[i] / get_layer() expression "
        "in the source and what it refers to.")] = False,
    keras_version: Annotated[int | None, typer.Option(
        "--keras-version", help="Keras semantics for source files (2 or 3); detected from "
        "imports by default (Keras 3 unless tf_keras is imported).")] = None,
    weights: Annotated[bool, typer.Option(
        "--weights", help="Saved models: also read the arrays (h5py, no TensorFlow): "
        "statistics per array, whether each BatchNormalization was ever trained, its "
        "effective scale and shift.")] = False,
) -> None:
    """Per-layer parameter counts as Keras reports them, get_weights() indices, BN explained."""
    from bnlint.readers.saved import ReadError, read_saved_model
    from bnlint.summary import summarize as make_summary

    if keras_version not in (None, 2, 3):
        raise typer.BadParameter("must be 2 or 3", param_hint="--keras-version")
    defines = _pairs(define, "--define")
    args = _pairs(arg, "--arg")
    summaries = []
    errors: list[dict[str, str]] = []
    references: list[tuple[str, Any]] = []
    weight_paths: list[str] = []
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
                    typer.echo(f"bnlint: {target}: note: {note}", err=True)
                if not result.models and output_format is SummaryFormat.text:
                    _print_functions(target, result)
                summaries.extend(make_summary(m) for m in result.models)
                references.extend((base, r) for r in result.references)
                continue
            try:
                model = read_saved_model(base)
            except ReadError as exc:
                errors.append(_error(target, str(exc)))
                continue
            summaries.append(make_summary(model))
            if weights:
                weight_paths.append(base)

    if output_format is SummaryFormat.json:
        from bnlint.report.structured import render_json

        extra = {"weights": _weights_data(weight_paths, errors)} if weights else None
        sys.stdout.write(render_json(summaries, errors, extra))
    elif output_format is SummaryFormat.markdown:
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
    raise typer.Exit(2 if errors else 0)


def _weights_text(paths: list[str], fmt: str, errors: list[dict[str, str]]) -> str:
    """The --weights report of each saved model; a file whose arrays cannot be read is an error."""
    if not paths:
        return ""
    from bnlint.readers.saved import ReadError
    from bnlint.weights_report import weights_report

    out = []
    for path in paths:
        try:
            out.append(weights_report(path, fmt))
        except ReadError as exc:
            errors.append(_error(path, f"weights: {exc}"))
    return "\n" + "\n".join(out) if out else ""


def _weights_data(paths: list[str], errors: list[dict[str, str]]) -> list[dict[str, Any]]:
    from bnlint.readers.saved import ReadError
    from bnlint.weights_report import weights_report_data

    out = []
    for path in paths:
        try:
            out.append({"path": path, **weights_report_data(path)})
        except ReadError as exc:
            errors.append(_error(path, f"weights: {exc}"))
    return out


class ExportTarget(str, Enum):
    numpy = "numpy"


@app.command()
def export(
    model_path: Annotated[str, typer.Argument(help="A saved model (.keras or .h5).")],
    to: Annotated[ExportTarget, typer.Option("--to", help="What to write.")] = ExportTarget.numpy,
    output: Annotated[str | None, typer.Option(
        "-o", "--output", help="File to write (default: standard output).")] = None,
) -> None:
    """Write the model's forward pass as plain NumPy code: load_weights() + forward(x, weights)."""
    from bnlint.export import ExportError, export_numpy
    from bnlint.readers.saved import ReadError

    try:
        code = export_numpy(model_path)
    except (ReadError, ExportError) as exc:
        _error(model_path, str(exc))
        raise typer.Exit(2) from None
    if output is None:
        sys.stdout.write(code)
    else:
        try:
            with open(output, "w", encoding="utf-8") as f:
                f.write(code)
        except OSError as exc:
            _error(output, f"cannot write ({exc.strerror or exc})")
            raise typer.Exit(2) from None
        typer.echo(f"wrote {output}", err=True)
    raise typer.Exit(0)



class CheckFormat(str, Enum):
    text = "text"
    concise = "concise"
    json = "json"
    sarif = "sarif"
    github = "github"


def _codes(values: list[str]) -> list[str]:
    return [c.strip().upper() for v in values for c in v.split(",") if c.strip()]


@app.command()
def check(
    paths: Annotated[list[str] | None, typer.Argument(
        help="Files or directories: .py, .ipynb, .keras, .h5, .json model configs.")] = None,
    select: Annotated[list[str], typer.Option(
        "--select", help="Rule codes or prefixes to enable (BN, BN00, BN001, ALL); replaces "
        "the configured selection.")] = [],  # noqa: B006
    extend_select: Annotated[list[str], typer.Option(
        "--extend-select", help="Codes or prefixes to enable on top of the selection.")] = [],  # noqa: B006
    ignore: Annotated[list[str], typer.Option(
        "--ignore", help="Codes or prefixes to disable.")] = [],  # noqa: B006
    exclude: Annotated[list[str], typer.Option(
        "--exclude", help="Glob patterns of files/directories to skip (added to the "
        "configured `exclude`).")] = [],  # noqa: B006
    output_format: Annotated[CheckFormat, typer.Option(
        "--output-format", help="How to print findings.")] = CheckFormat.text,
    define: Annotated[list[str], typer.Option(
        "--define", "-D", help="Pin a value the code cannot know: NAME=VALUE.")] = [],  # noqa: B006
    keras_version: Annotated[int | None, typer.Option(
        "--keras-version", help="Keras semantics for source files (2 or 3).")] = None,
    exit_zero: Annotated[bool, typer.Option(
        "--exit-zero", help="Exit 0 even when there are findings.")] = False,
    statistics: Annotated[bool, typer.Option(
        "--statistics", help="Print the number of findings per rule instead of the "
        "findings.")] = False,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="Neither read nor write the .bnlint_cache/ directory.")] = False,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Exit 2 when bnlint itself failed on a file (BN998).")] = False,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", min=1, help="Worker processes (default: sized to the machine when "
        "there are enough files; 1: no pool).")] = None,
) -> None:
    """Lint Keras code, notebooks and saved models for BatchNormalization and loss mistakes.

    Exit codes: 0 no findings, 1 findings, 2 usage/config error or an unreadable file
    (with --strict also when bnlint failed on a file: BN998).
    """
    from bnlint.rules.config import ConfigError, Settings
    from bnlint.rules.engine import run

    if keras_version not in (None, 2, 3):
        raise typer.BadParameter("must be 2 or 3", param_hint="--keras-version")
    cli = Settings(select=_codes(select) or None, extend_select=_codes(extend_select),
                   ignore=_codes(ignore), exclude=[e for v in exclude for e in v.split(",")
                                                   if e], define=_pairs(define, "--define"),
                   keras_version=keras_version)
    cache = None
    if not no_cache:
        from bnlint.cache import Cache

        cache = Cache()
    try:
        result = run(paths or ["."], cli, cache=cache, jobs=jobs)
    except ConfigError as exc:
        typer.echo(f"bnlint: error: {exc}", err=True)
        raise typer.Exit(2) from None
    except Exception as exc:  # outside any one file (discovery, settings): still one line
        from bnlint.rules.internal import REPORT_HINT

        text = " ".join(str(exc).split())[:200]
        typer.echo(f"bnlint: internal error ({exc.__class__.__name__}"
                   f"{': ' + text if text else ''}); {REPORT_HINT}", err=True)
        raise typer.Exit(2) from None
    for path, message in result.errors:
        typer.echo(f"{path}: {message}", err=True)
    for path, message in result.internal:
        typer.echo(f"{path}: {message}", err=True)
    for path, message in result.notes:
        typer.echo(f"{path}: note: {message}", err=True)
    findings = result.findings
    from bnlint.report import findings as render

    if statistics:
        sys.stdout.write(render.render_statistics(findings))
    elif output_format is CheckFormat.json:
        sys.stdout.write(render.render_json(findings))
    elif output_format is CheckFormat.sarif:
        from bnlint import __version__

        sys.stdout.write(render.render_sarif(findings, __version__))
    elif output_format is CheckFormat.github:
        sys.stdout.write(render.render_github(findings))
    else:
        text = render.render_text(findings, concise=output_format is CheckFormat.concise)
        sys.stdout.write(text if text else "All checks passed!\n")
    if result.errors or (strict and result.internal):
        raise typer.Exit(2)
    counted = [f for f in findings if f.code != "BN998"]  # bnlint's bug, not the user's
    raise typer.Exit(0 if exit_zero or not counted else 1)


@app.command()
def clean() -> None:
    """Remove the .bnlint_cache/ directory of the current directory."""
    from bnlint.cache import CACHE_DIR
    from bnlint.cache import clean as remove

    if remove():
        typer.echo(f"Removed {CACHE_DIR}/")
    else:
        typer.echo(f"No {CACHE_DIR}/ here.")


@app.command()
def rule(
    code: Annotated[str | None, typer.Argument(help="A rule code, e.g. BN001.")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="List every rule.")] = False,
) -> None:
    """Print a rule's documentation (`bnlint rule BN001`) or list the rules (`--all`)."""
    from bnlint.rules import all_rules
    from bnlint.rules.docs import doc, summary

    rules = all_rules()
    if show_all or code is None:
        for c, cls in rules.items():
            flag = "" if cls.default else "  (not selected by default)"
            typer.echo(f"{c}  {cls.name:<40} {summary(c)}{flag}")
        return
    key = code.upper()
    if key not in rules:
        typer.echo(f"bnlint: error: unknown rule `{code}` (see `bnlint rule --all`)", err=True)
        raise typer.Exit(2)
    text = doc(key)
    if text is None:
        typer.echo(f"bnlint: error: no documentation for {key}", err=True)
        raise typer.Exit(2)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


@app.command()
def version() -> None:
    """Print bnlint's version."""
    from bnlint import __version__

    typer.echo(f"bnlint {__version__}")


def main() -> None:
    # bnlint uses no pydantic plugins: skip pydantic's scan of installed entry points.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
