"""Jupyter notebooks: code cells in order, IPython magics blanked, locations as (cell, line).

This module feeds the source reader (program text and line map); it never imports it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bnlint.readers.source.facts import SourceError

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024

_MAGIC = re.compile(r"^\s*(%|!)")
_ASSIGN_MAGIC = re.compile(r"^\s*[\w.,\s]+=\s*[%!]")


def notebook_cells(data: Any) -> list[tuple[int, str]]:
    """(cell number counting every cell from 1, source) of every code cell, in order."""
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise SourceError("line 0: not a Jupyter notebook (no `cells` list)")
    out = []
    for number, cell in enumerate(data["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        if isinstance(src, list):
            src = "".join(str(s) for s in src)
        out.append((number, str(src)))
    return out


_PYTHON_CELL_MAGICS = {"time", "capture", "prun", "timeit"}


def blank_magics(cell: str) -> str:
    """Blank IPython-only lines, keeping the line count: ``%x``, ``!x``, ``x = !ls``, ``%%cell``."""
    lines = cell.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(None, 1)[0] if lines[0].strip() != "%%" else ""
        if magic not in _PYTHON_CELL_MAGICS:
            return "\n".join("" for _ in lines)
        lines = ["", *lines[1:]]  # %%time, %%capture...: the body is Python code that runs
    out = []
    cont = False
    for ln in lines:
        if cont or _MAGIC.match(ln) or _ASSIGN_MAGIC.match(ln) or (ln.rstrip().endswith("?") and \
                not ln.lstrip().startswith("#") and re.match(r"^\s*[\w.]+\?{1,2}\s*$", ln)):
            out.append("")
            cont = ln.rstrip().endswith("\\")
        else:
            out.append(ln)
            cont = False
    return "\n".join(out)


def join_cells(cells: list[tuple[int, str]]) -> tuple[str, list[tuple[int, int]]]:
    """The program text and, per program line (1-based index - 1), its (cell, line)."""
    text_parts: list[str] = []
    mapping: list[tuple[int, int]] = []
    for i, cell in cells:
        body = blank_magics(cell)
        lines = body.split("\n")
        if lines and lines[-1] == "":
            lines = lines[:-1]
        for j, _ in enumerate(lines, start=1):
            mapping.append((i, j))
        text_parts.extend(lines)
    return "\n".join(text_parts) + "\n", mapping


def notebook_program(path: Path) -> tuple[str, Any]:
    """The program text of a notebook's code cells and its line map (program line -> (cell, line))."""
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise SourceError(f"line 0: {path} is too large to be a notebook")
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise SourceError(f"line 0: cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceError(f"line 0: not a JSON notebook ({exc.__class__.__name__})") from None
    text, mapping = join_cells(notebook_cells(data))

    def line_map(line: int) -> tuple[int | None, int]:
        if 1 <= line <= len(mapping):
            return mapping[line - 1]
        return None, line

    return text, line_map
