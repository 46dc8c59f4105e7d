"""bnlint's static reading of every fixture script/notebook vs the goldens real Keras produced.

Goldens (``fixtures/source/goldens/<name>.json``) come from ``scripts/regen_source_goldens.py``,
which executes each fixture under real Keras; this test needs no TensorFlow: totals, layer
order and names, output shapes and every ``get_weights()`` shape and index must agree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from bnlint.readers.source import read_source

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "source"
GOLDENS = FIXTURES / "goldens"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare import assert_same_facts, bnlint_facts  # noqa: E402

FILES = sorted(p for p in FIXTURES.glob("*") if p.suffix in (".py", ".ipynb"))


def test_enough_fixtures_with_goldens() -> None:
    assert len(FILES) >= 50
    missing = [p.name for p in FILES if not (GOLDENS / f"{p.stem}.json").is_file()]
    assert not missing, f"run scripts/regen_source_goldens.py for {missing}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fixture_matches_golden(path: Path) -> None:
    golden_path = GOLDENS / f"{path.stem}.json"
    if not golden_path.is_file():
        pytest.skip("no golden yet")
    golden = json.loads(golden_path.read_text())
    assert golden["models"], f"{path.name}: Keras built no model ({golden['error']})"
    result = read_source(path, defines={k: repr(v) for k, v in golden["defines"].items()})
    assert result.keras_version == golden["version"]
    by_var: dict[str, Any] = {}
    for m in result.models:
        by_var.setdefault(m.variable, m)
    for var, facts in golden["models"].items():
        assert var in by_var, f"{path.name}: bnlint did not report model `{var}`"
        if facts.get("unbuilt"):
            assert not by_var[var].built, f"{path.name}: `{var}` is unbuilt in Keras"
            continue
        assert "error" not in facts, facts
        ours = bnlint_facts(by_var[var])
        assert ours["name"] == facts["name"], f"{var}: name {ours['name']} != {facts['name']}"
        assert_same_facts(facts, ours, f"{path.name}:{var}")
        # get_weights() indices: the graph's weight index is the position in model.weights.
        idx = [w.index for la in by_var[var].layers for w in la.weights]
        assert idx == list(range(len(facts["weights"]))), f"{var}: get_weights() indices"
    if golden["error"] is None:
        extra = set(by_var) - set(golden["models"])
        assert not extra, f"{path.name}: bnlint reports models Keras does not have: {extra}"
