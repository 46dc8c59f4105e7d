"""The reader's lazy positions (one top-level statement at a time) equal libcst's
PositionProvider on the whole module, for every node of every source fixture."""

from __future__ import annotations

import random
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from bnlint.readers.source.parse import _LazyPositions

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "source"
FILES = sorted(FIXTURES.rglob("*.py"))


def _python3(path: Path) -> bool:
    try:
        cst.parse_module(path.read_text(encoding="utf-8"))
    except cst.ParserSyntaxError:  # fixtures of syntax errors
        return False
    return True


@pytest.mark.parametrize("path", [p for p in FILES[::3] if _python3(p)],
                         ids=lambda p: str(p.relative_to(FIXTURES)))
def test_lazy_positions_match_libcst(path: Path) -> None:
    module = cst.parse_module(path.read_text(encoding="utf-8"))
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    lazy = _LazyPositions(module)
    nodes = list(expected)
    random.Random(0).shuffle(nodes)  # any order of lookups
    for node in nodes:
        assert lazy[node] == expected[node], type(node).__name__
