"""Command line: ``bnlint summarize``. Exit codes follow ruff: 0 done, 1 findings, 2 error."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

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


@app.command()
def summarize(
    paths: Annotated[list[Path], typer.Argument(help="Saved models (.keras, .h5, .json).")],
    output_format: Annotated[
        SummaryFormat, typer.Option("--format", help="Output format.")
    ] = SummaryFormat.text,
) -> None:
    """Per-layer parameter counts as Keras reports them, get_weights() indices, BN explained."""
    from bnlint.readers.saved import ReadError, read_saved_model
    from bnlint.summary import summarize as make_summary

    summaries = []
    errors: list[dict[str, str]] = []
    for path in paths:
        try:
            model = read_saved_model(path)
        except ReadError as exc:
            errors.append(_error(str(path), str(exc)))
            continue
        summaries.append(make_summary(model))

    if output_format is SummaryFormat.json:
        from bnlint.report.structured import render_json

        sys.stdout.write(render_json(summaries, errors))
    elif output_format is SummaryFormat.markdown:
        from bnlint.report.structured import render_markdown

        sys.stdout.write(render_markdown(summaries))
    else:
        from bnlint.report.text import render

        if summaries:
            sys.stdout.write(render(summaries))
    raise typer.Exit(2 if errors else 0)


@app.command()
def version() -> None:
    """Print bnlint's version."""
    from bnlint import __version__

    typer.echo(f"bnlint {__version__}")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
