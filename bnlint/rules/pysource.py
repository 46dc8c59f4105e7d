"""The program text behind a source model, for rules that look at the code itself.

Only parsed with :mod:`ast` (never compiled or executed).  Notebooks are the
joined code cells; positions convert between program lines and (cell, line).
"""

from __future__ import annotations

import ast
from functools import cached_property


class SourceText:
    def __init__(self, text: str, mapping: list[tuple[int, int]] | None = None):
        self.text = text
        self.lines = text.split("\n")
        self.mapping = mapping  # program line (index + 1) -> (cell, line in cell)
        self._inverse = {pos: i + 1 for i, pos in enumerate(mapping)} if mapping else {}

    # ------------------------------------------------------------------ positions
    def program_line(self, line: int, cell: int | None) -> int | None:
        if self.mapping is None:
            return line
        if cell is None:
            return None
        return self._inverse.get((cell, line))

    def position(self, program_line: int) -> tuple[int, int | None]:
        """(line, cell) as findings report them for a program line."""
        if self.mapping is None:
            return program_line, None
        if 1 <= program_line <= len(self.mapping):
            cell, line = self.mapping[program_line - 1]
            return line, cell
        return program_line, None

    def line_text(self, line: int, cell: int | None = None) -> str:
        pl = self.program_line(line, cell)
        if pl is None or not 1 <= pl <= len(self.lines):
            return ""
        return self.lines[pl - 1]

    # ------------------------------------------------------------------ syntax
    @cached_property
    def tree(self) -> ast.Module | None:
        try:
            return ast.parse(self.text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None

    @cached_property
    def _calls(self) -> dict[tuple[int, int], ast.Call]:
        out: dict[tuple[int, int], ast.Call] = {}
        if self.tree is None:
            return out
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                out.setdefault((node.lineno, node.col_offset + 1), node)
        return out

    def call_at(self, line: int, column: int | None, cell: int | None = None) -> ast.Call | None:
        """The call expression starting at a (1-based) position."""
        pl = self.program_line(line, cell)
        if pl is None:
            return None
        if column is not None:
            return self._calls.get((pl, column))
        cands = [c for (ln, _), c in self._calls.items() if ln == pl]
        return min(cands, key=lambda c: c.col_offset) if cands else None

    def calls_on(self, line: int, cell: int | None = None) -> list[ast.Call]:
        """Every call expression that starts on a (1-based) line."""
        pl = self.program_line(line, cell)
        return [c for (ln, _), c in self._calls.items() if ln == pl]

    def end_of(self, line: int, column: int | None, cell: int | None) -> tuple[int, int] | None:
        """End (line, 1-based exclusive column) of the call starting at a position."""
        node = self.call_at(line, column, cell) if column is not None else None
        if node is None or node.end_lineno is None or node.end_col_offset is None:
            return None
        end_line, end_cell = self.position(node.end_lineno)
        if end_cell != cell:
            return None
        return end_line, node.end_col_offset + 1

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or ""


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def kwarg(call: ast.Call, name: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def is_const(node: ast.AST | None, value: object) -> bool:
    return isinstance(node, ast.Constant) and node.value is value
