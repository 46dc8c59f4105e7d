"""The ``bnlint`` command line, declared with typer: options, help, errors, completion.

The commands' work is in :mod:`bnlint.commands`; :mod:`bnlint.entry` (the console script)
runs the common invocations without importing typer, from a table generated from this app
(``python scripts/gen_cli_table.py``). Exit codes follow ruff: 0 done, 1 findings, 2 error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any

import typer

from bnlint import commands

app = typer.Typer(
    name="bnlint",
    help="Static model summary and lint for Keras code and saved models (no TensorFlow needed).",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

SummaryFormat = Enum("SummaryFormat", {f: f for f in commands.SUMMARY_FORMATS}, type=str)
CheckFormat = Enum("CheckFormat", {f: f for f in commands.CHECK_FORMATS}, type=str)
ExportTarget = Enum("ExportTarget", {f: f for f in commands.EXPORT_TARGETS}, type=str)


def _run(command: Callable[..., int], **kwargs: Any) -> None:
    """Run a command with plain values (enum members become their strings); its usage errors
    become typer's, its return value the exit code."""
    plain = {k: v.value if isinstance(v, Enum) else v for k, v in kwargs.items()}
    try:
        code = command(**plain)
    except commands.UsageError as exc:
        raise typer.BadParameter(exc.message, param_hint=exc.param_hint) from None
    raise typer.Exit(code)


@app.command()
def summarize(
    paths: Annotated[list[str], typer.Argument(
        help="Saved models (.keras, .h5, .json, SavedModel directories), Python sources "
             "(.py, FILE.py::function, "
             "FILE.py::Class.method) "
             "or notebooks (.ipynb).")],
    output_format: Annotated[
        SummaryFormat, typer.Option("--format", help="Output format.")
    ] = SummaryFormat.text,
    define: Annotated[list[str], typer.Option(
        "--define", "-D", help="Pin a value the code cannot know: NAME=VALUE, where NAME is a "
        "name or an expression as the code writes it (num_classes=38, 'len(names)=5').")] = [],  # noqa: B006
    arg: Annotated[list[str], typer.Option(
        "--arg", help="Argument for FILE.py::function or ::Class.method, NAME=EXPRESSION "
        "(evaluated statically).")
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
    weights_file: Annotated[str | None, typer.Option(
        "--weights-file", help="A weights-only file (.weights.h5, save_weights .h5, TF "
        "checkpoint prefix) for the one model argument: says whether it fits (count, shapes, "
        "order) and feeds --weights.")] = None,
) -> None:
    """Per-layer parameter counts as Keras reports them, get_weights() indices, BN explained."""
    _run(commands.summarize, paths=paths, output_format=output_format, define=define, arg=arg,
         where=where, keras_version=keras_version, weights=weights, weights_file=weights_file)


@app.command()
def export(
    model_path: Annotated[str, typer.Argument(
        help="A saved model (.keras, .h5, SavedModel directory), or with --weights-file a "
             "Python source building one model.")],
    to: Annotated[ExportTarget, typer.Option("--to", help="What to write.")] = ExportTarget.numpy,
    output: Annotated[str | None, typer.Option(
        "-o", "--output", help="File to write (default: standard output).")] = None,
    weights_file: Annotated[str | None, typer.Option(
        "--weights-file", help="Read the arrays from this weights-only file (.weights.h5, "
        "save_weights .h5, TF checkpoint prefix).")] = None,
) -> None:
    """Write the model's forward pass as plain NumPy code: load_weights() + forward(x, weights)."""
    _run(commands.export, model_path=model_path, to=to, output=output, weights_file=weights_file)


@app.command()
def check(
    paths: Annotated[list[str] | None, typer.Argument(
        help="Files or directories: .py, .ipynb, .keras, .h5, .json model configs, SavedModel "
             "directories.")] = None,
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
    fix: Annotated[bool, typer.Option(
        "--fix", help="Apply the safe fixes in place (`fix = true` in pyproject.toml).")] = False,
    no_fix: Annotated[bool, typer.Option(
        "--no-fix", help="Do not fix, whatever the configuration says.")] = False,
    unsafe_fixes: Annotated[bool, typer.Option(
        "--unsafe-fixes", help="Also apply the unsafe fixes (they change what the model "
        "computes; see `bnlint rule CODE`).")] = False,
    no_unsafe_fixes: Annotated[bool, typer.Option(
        "--no-unsafe-fixes", help="Apply safe fixes only, whatever the configuration "
        "says.")] = False,
    fix_only: Annotated[bool, typer.Option(
        "--fix-only", help="Apply fixes and report only how many (implies --fix; exit 0 "
        "unless an error).")] = False,
    diff: Annotated[bool, typer.Option(
        "--diff", help="Print the fixes as a unified diff and change nothing (implies "
        "--fix-only; exit 1 when there is something to fix).")] = False,
    fixable: Annotated[list[str], typer.Option(
        "--fixable", help="Codes or prefixes whose fixes may be applied (default ALL); "
        "replaces the configured `fixable`.")] = [],  # noqa: B006
    extend_fixable: Annotated[list[str], typer.Option(
        "--extend-fixable", help="Codes or prefixes to add to `fixable`.")] = [],  # noqa: B006
    unfixable: Annotated[list[str], typer.Option(
        "--unfixable", help="Codes or prefixes whose fixes are never applied.")] = [],  # noqa: B006
    weights_file: Annotated[str | None, typer.Option(
        "--weights-file", help="A weights-only file (.weights.h5, save_weights .h5, TF "
        "checkpoint prefix) for the one model the single FILE builds: the weight rules "
        "(BN002, BN013) read its arrays; a file that does not fit the model is an error.")
    ] = None,
) -> None:
    """Lint Keras code, notebooks and saved models for BatchNormalization and loss mistakes.

    Exit codes: 0 no findings, 1 findings, 2 usage/config error or an unreadable file
    (with --strict also when bnlint failed on a file: BN998). With --fix, the findings left
    after fixing count; --fix-only exits 0; --diff exits 1 when it prints a diff.
    """
    _run(commands.check, paths=paths, select=select, extend_select=extend_select, ignore=ignore,
         exclude=exclude, output_format=output_format, define=define,
         keras_version=keras_version, exit_zero=exit_zero, statistics=statistics,
         no_cache=no_cache, strict=strict, jobs=jobs, fix=fix, no_fix=no_fix,
         unsafe_fixes=unsafe_fixes, no_unsafe_fixes=no_unsafe_fixes, fix_only=fix_only,
         diff=diff, fixable=fixable, extend_fixable=extend_fixable, unfixable=unfixable,
         weights_file=weights_file)


@app.command()
def clean() -> None:
    """Remove the .bnlint_cache/ directory of the current directory."""
    _run(commands.clean)


@app.command()
def rule(
    code: Annotated[str | None, typer.Argument(help="A rule code, e.g. BN001.")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="List every rule.")] = False,
) -> None:
    """Print a rule's documentation (`bnlint rule BN001`) or list the rules (`--all`)."""
    _run(commands.rule, code=code, show_all=show_all)


@app.command()
def version() -> None:
    """Print bnlint's version."""
    _run(commands.version)


def main() -> None:
    # bnlint uses no pydantic plugins: skip pydantic's scan of installed entry points.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
