"""The ``bnlint`` console script: common invocations without importing typer.

typer (:mod:`bnlint.cli`) defines the command line. Importing it and building its
parameter validators costs about 60 ms, a quarter of a pre-commit run, so this entry point
first tries to parse ``argv`` itself from a table generated from the typer app
(:mod:`bnlint._cli_table`). It accepts only what it can parse exactly as typer would —
known commands and options, values of the declared kind — and hands everything else
(``--help``, unknown or malformed options, invalid values, usage errors raised by the
command before it writes anything) to typer, which then parses and reports as usual.
A test compares both parsers on generated command lines.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from typing import Any

_INT = re.compile(r"[0-9]+")


class _Defer(Exception):
    """This command line is typer's to parse (help, an error, something unusual)."""


def _convert(spec: dict[str, Any], raw: str) -> Any:
    kind = spec["kind"]
    if kind == "str":
        return raw
    if kind == "choice":
        if raw not in spec["choices"]:
            raise _Defer
        return raw
    if kind == "int":
        if not _INT.fullmatch(raw):
            raise _Defer
        value = int(raw)
        lo, hi = spec.get("min"), spec.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise _Defer
        return value
    raise _Defer


def _option_value(argv: Sequence[str], i: int) -> str:
    """The value after an option; one that looks like an option is typer's to judge."""
    if i >= len(argv) or (argv[i].startswith("-") and argv[i] != "-"):
        raise _Defer
    return argv[i]


def _parse(argv: Sequence[str], table: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    if not argv or argv[0] not in table:
        raise _Defer
    command = table[argv[0]]
    options: dict[str, dict[str, Any]] = command["options"]
    values: dict[str, Any] = {}
    positionals: list[str] = []
    i, only_positionals = 1, False
    while i < len(argv):
        token = argv[i]
        i += 1
        if only_positionals or token == "-" or not token.startswith("-"):
            positionals.append(token)
            continue
        if token == "--":
            only_positionals = True
            continue
        # the value written in the token itself: `--opt=value`, `-Ovalue`; None when absent
        attached: str | None
        if token.startswith("--"):
            flag, eq, rest = token.partition("=")
            attached = rest if eq else None
        else:
            flag, attached = token[:2], token[2:] or None
        spec = options.get(flag)
        if spec is None or (attached is not None and spec["kind"] == "flag"):
            raise _Defer  # unknown, a flag given a value, or combined short flags
        if spec["kind"] == "flag":
            value: Any = True
        else:
            if attached is None:
                attached = _option_value(argv, i)
                i += 1
            value = _convert(spec, attached)
        if spec["multiple"]:
            values.setdefault(spec["name"], []).append(value)
        else:
            values[spec["name"]] = value
    for spec in {id(s): s for s in options.values()}.values():
        values.setdefault(spec["name"], spec["default"])
    for spec in command["arguments"]:
        if spec["nargs"] == -1:
            taken, positionals = positionals, []
            if not taken and spec["required"]:
                raise _Defer
            values[spec["name"]] = [_convert(spec, t) for t in taken] if taken else spec["default"]
        elif positionals:
            values[spec["name"]] = _convert(spec, positionals.pop(0))
        elif spec["required"]:
            raise _Defer
        else:
            values[spec["name"]] = spec["default"]
    if positionals:
        raise _Defer  # more arguments than the command takes
    return argv[0], values


def parse(argv: Sequence[str]) -> tuple[str, dict[str, Any]] | None:
    """``(command, keyword arguments)`` exactly as typer would pass them, or None when the
    command line is typer's to handle."""
    from bnlint._cli_table import COMMANDS

    try:
        return _parse(argv, COMMANDS)
    except _Defer:
        return None


def main() -> None:
    # bnlint uses no pydantic plugins: skip pydantic's scan of installed entry points.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # bnlint does no linear algebra: NumPy's BLAS thread pool (one thread per core, spinning
    # at import) only costs CPU time, in every worker of a parallel check.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    call = parse(sys.argv[1:])
    if call is not None:
        from bnlint import commands

        name, kwargs = call
        try:
            code = getattr(commands, name)(**kwargs)
        except commands.UsageError:
            pass  # nothing was written yet: typer parses again and reports it
        except KeyboardInterrupt:  # pragma: no cover
            sys.exit(130)
        else:
            sys.exit(code)
    from bnlint.cli import main as typer_main

    typer_main()


if __name__ == "__main__":  # pragma: no cover
    main()
