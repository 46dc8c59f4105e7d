"""The console script's fast path parses command lines exactly as typer does, or leaves them
to typer: a differential test against typer's own parser on generated command lines."""

from __future__ import annotations

import inspect
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnlint import commands
from bnlint._cli_table import COMMANDS
from bnlint.cli import app
from bnlint.entry import parse

ROOT = Path(__file__).resolve().parent.parent
GROUP = typer.main.get_command(app)
SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _norm(params: dict[str, Any], command: str) -> dict[str, Any]:
    """typer's values in the fast path's terms: enum members as strings, sequences as lists,
    an empty variadic argument as its default."""
    out = {}
    for name, value in params.items():
        if isinstance(value, Enum):
            value = value.value
        if isinstance(value, tuple):
            value = list(value)
        out[name] = value
    for spec in COMMANDS[command]["arguments"]:
        if spec["nargs"] == -1 and not out.get(spec["name"]):
            out[spec["name"]] = spec["default"]
    return out


def typer_parse(argv: list[str]) -> dict[str, Any] | None:
    """The keyword arguments typer would call the command with, or None when it would print
    help or a usage error instead."""
    command = GROUP.commands[argv[0]]
    try:
        ctx = command.make_context(argv[0], list(argv[1:]))
    except (typer._click.exceptions.ClickException, typer.Exit):
        return None
    return _norm(dict(ctx.params), argv[0])


def _value(spec: dict[str, Any]) -> st.SearchStrategy[str]:
    if spec["kind"] == "choice":
        return st.sampled_from(spec["choices"])
    if spec["kind"] == "int":
        return st.integers(0, 12).map(str)
    return st.from_regex(r"[A-Za-z_./][A-Za-z0-9_.=/()\[\]:, ]{0,12}", fullmatch=True)


@st.composite
def well_formed(draw: st.DrawFn) -> list[str]:
    """A command line typer accepts, written in any of the forms users write."""
    name = draw(st.sampled_from(sorted(COMMANDS)))
    command = COMMANDS[name]
    groups: list[list[str]] = []  # an option with its value stays together
    flags = sorted(command["options"])
    for _ in range(draw(st.integers(0, 5))):
        if not flags:
            break
        flag = draw(st.sampled_from(flags))
        spec = command["options"][flag]
        if spec["kind"] == "flag":
            groups.append([flag])
            continue
        value = draw(_value(spec))
        if spec.get("min") is not None and spec["kind"] == "int":
            value = str(max(int(value), spec["min"]))
        if draw(st.sampled_from(["separate", "attached"])) == "separate":
            groups.append([flag, value])
        else:
            groups.append([f"{flag}={value}" if flag.startswith("--") else flag + value])
    positionals: list[str] = []
    for spec in command["arguments"]:
        n = draw(st.integers(1 if spec["required"] else 0, 3 if spec["nargs"] == -1 else 1))
        positionals += draw(st.lists(_value(spec), min_size=n, max_size=n))
    if positionals and draw(st.booleans()):  # "--" then the arguments
        out = [t for g in groups for t in g] + ["--", *positionals]
    else:  # options and arguments interleave freely
        for p in positionals:
            groups.insert(draw(st.integers(0, len(groups))), [p])
        out = [t for g in groups for t in g]
    return [name, *out]


@st.composite
def token_soup(draw: st.DrawFn) -> list[str]:
    """Anything: unknown options, missing values, bad values, help, stray dashes."""
    name = draw(st.sampled_from(sorted(COMMANDS)))
    command = COMMANDS[name]
    pieces = st.one_of(
        st.sampled_from(sorted(command["options"]) or ["--x"]),
        st.sampled_from(["--", "-", "--help", "-h", "--nope", "-Z", "-jx", "--format=", "=",
                         "-1", "7", "text", "json", "ALL"]),
        st.text(alphabet="-=ab1 ", max_size=5),
    )
    return [name, *draw(st.lists(pieces, max_size=7))]


@SETTINGS
@given(well_formed())
def test_fast_path_takes_well_formed_command_lines_as_typer_does(argv: list[str]) -> None:
    expected = typer_parse(argv)
    assert expected is not None, argv  # the generator only writes valid command lines
    assert parse(argv) == (argv[0], expected)


@SETTINGS
@given(token_soup())
def test_fast_path_never_disagrees_with_typer(argv: list[str]) -> None:
    fast = parse(argv)
    if fast is not None:
        assert fast == (argv[0], typer_parse(argv)), argv


def test_help_unknown_commands_and_errors_go_to_typer() -> None:
    for argv in ([], ["--help"], ["summarize", "--help"], ["nope"], ["summarize"],
                 ["check", "--output-format", "xml"], ["check", "--jobs", "0"],
                 ["check", "-j"], ["rule", "BN001", "BN002"], ["check", "--exit-zero=1"]):
        assert parse(argv) is None, argv


def test_table_is_generated_from_the_typer_app() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_cli_table.py"), "--check"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert {"summarize", "check", "rule", "export", "clean", "version"} <= set(COMMANDS)


def test_table_parameters_are_the_commands_parameters() -> None:
    for name, command in COMMANDS.items():
        params = {s["name"] for s in command["arguments"]}
        params |= {s["name"] for s in command["options"].values()}
        assert set(inspect.signature(getattr(commands, name)).parameters) == params, name


def test_usage_error_raised_by_a_command_is_reported_by_typer() -> None:
    r = subprocess.run([sys.executable, "-m", "bnlint", "summarize", "x.py", "-D", "oops"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2
    assert "Invalid value for --define: expected NAME=VALUE, got 'oops'" in r.stderr
    assert r.stdout == ""


def test_fast_path_does_not_import_typer() -> None:
    code = ("import sys\nsys.argv = ['bnlint', 'version']\nfrom bnlint.entry import main\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'click')))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.stdout.splitlines()[-1] == "[]", r.stdout + r.stderr
