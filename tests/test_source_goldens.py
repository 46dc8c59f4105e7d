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
        pytest.fail(f"no golden for {path.name}: run scripts/regen_source_goldens.py")
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
        idx = [w.index for w in by_var[var].all_weights()]
        assert idx == list(range(len(facts["weights"]))), f"{var}: get_weights() indices"
    if golden["error"] is None:
        extra = set(by_var) - set(golden["models"])
        assert not extra, f"{path.name}: bnlint reports models Keras does not have: {extra}"


def _golden(path: Path) -> dict[str, Any]:
    golden_path = GOLDENS / f"{path.stem}.json"
    if not golden_path.is_file():
        pytest.fail(f"no golden for {path.name}: run scripts/regen_source_goldens.py")
    return json.loads(golden_path.read_text())


def _assert_model(ours: Any, facts: dict[str, Any], where: str) -> None:
    assert "error" not in facts, facts
    got = bnlint_facts(ours)
    assert got["name"] == facts["name"], f"{where}: name {got['name']} != {facts['name']}"
    assert_same_facts(facts, got, where)


TARGET_FILES = [p for p in FILES if "# oracle-target:" in p.read_text()]
ALTERNATIVE_FILES = [p for p in FILES if "# oracle-alternatives:" in p.read_text()]


@pytest.mark.parametrize("path", TARGET_FILES, ids=lambda p: p.name)
def test_targets_match_golden(path: Path) -> None:
    """``FILE.py::NAME --arg ...`` (functions and ``Class.method``) vs Keras calling NAME."""
    golden = _golden(path)
    assert golden.get("targets"), f"run scripts/regen_source_goldens.py {path.name}"
    for t in golden["targets"]:
        where = f"{path.name}::{t['name']} {t['args']}"
        assert t["error"] is None and t["model"], f"{where}: Keras failed: {t['error']}"
        result = read_source(path, defines={k: repr(v) for k, v in golden["defines"].items()},
                             function=t["name"], args=t["args"])
        (ours,) = result.models
        assert ours.variable == t["name"]
        _assert_model(ours, t["model"], where)


@pytest.mark.parametrize("path", ALTERNATIVE_FILES, ids=lambda p: p.name)
def test_alternatives_match_golden(path: Path) -> None:
    """Read with the conditions unknown, bnlint's alternatives are exactly the models Keras
    builds for each value of them (the base reading plus every golden alternative)."""
    golden = _golden(path)
    runs = [{"defines": golden["defines"], "models": golden["models"]},
            *golden.get("alternatives", [])]
    assert len(runs) > 1, f"run scripts/regen_source_goldens.py {path.name}"
    unknown = {k for run in runs for k in run["defines"]}
    defines = {k: repr(v) for k, v in golden["defines"].items() if k not in unknown}
    result = read_source(path, defines=defines)
    for var in {v for run in runs for v in run["models"]}:
        ours = [m for m in result.models if m.variable == var]
        expected = {json.dumps(run["models"][var], sort_keys=True) for run in runs}
        assert len(ours) == len(expected), f"{path.name}:{var}: {len(ours)} alternatives"
        for m in ours[1:]:
            assert any(n.startswith("alternative ") for n in m.notes), m.notes
        for run in runs:
            errors = []
            for m in ours:
                try:
                    _assert_model(m, run["models"][var], f"{path.name}:{var}")
                    break
                except AssertionError as exc:
                    errors.append(str(exc))
            else:
                raise AssertionError(f"{var} with {run['defines']}: no alternative matches: "
                                     f"{errors}")
