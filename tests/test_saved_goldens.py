"""bnlint on saved models vs goldens produced from real Keras by scripts/regen_goldens.py.

Fast: no TensorFlow is imported here; the goldens were written by Keras itself
(``tests/test_goldens.py`` re-checks a subset of them against live Keras).
"""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from compare import assert_same_facts, bnlint_facts

from bnlint.readers.config import model_from_config
from bnlint.readers.saved import read_saved_model
from bnlint.summary import summarize

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
APPS = sorted((FIXTURES / "applications").glob("keras*/*.json.gz"))
MODELS = FIXTURES / "models"


def _golden_for_app(path: Path) -> dict[str, Any]:
    return json.loads(path.with_name(path.name.replace(".json.gz", ".golden.json")).read_text())


def _strip_recorded_shapes(value: Any) -> Any:
    """Remove what Keras recorded about shapes, so only bnlint's inference remains."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("build_config", "build_input_shape"):
                continue
            if k == "shape" and "keras_history" in value:
                continue
            out[k] = _strip_recorded_shapes(v)
        return out
    if isinstance(value, list):
        return [_strip_recorded_shapes(v) for v in value]
    return value


def _assert_totals_lines(golden: dict[str, Any], model) -> None:
    lines = summarize(model).totals
    assert lines == golden["summary_totals"], f"{lines} != {golden['summary_totals']}"


@pytest.mark.parametrize("path", APPS, ids=lambda p: f"{p.parent.name}/{p.name[:-8]}")
def test_application_config_matches_keras(path: Path) -> None:
    config = json.loads(gzip.decompress(path.read_bytes()))
    golden = _golden_for_app(path)
    version = "2.x" if path.parent.name == "keras2" else "3.x"
    model = model_from_config(config, str(path), version)
    assert not model.unknown_layers, [(la.name, la.unknown) for la in model.unknown_layers]
    assert_same_facts(golden, bnlint_facts(model), path.name)
    _assert_totals_lines(golden, model)


@pytest.mark.parametrize("path", APPS, ids=lambda p: f"{p.parent.name}/{p.name[:-8]}")
def test_application_config_without_recorded_shapes(path: Path) -> None:
    config = _strip_recorded_shapes(json.loads(gzip.decompress(path.read_bytes())))
    golden = _golden_for_app(path)
    version = "2.x" if path.parent.name == "keras2" else "3.x"
    model = model_from_config(copy.deepcopy(config), str(path), version)
    assert_same_facts(golden, bnlint_facts(model), f"{path.name} (shapes stripped)")


def _saved_model_cases() -> list[tuple[Path, Path]]:
    cases = []
    for golden in sorted(MODELS.glob("*.golden.json")):
        stem, tag = golden.name.split(".")[0], golden.name.split(".")[1]
        files = [MODELS / f"{stem}.{tag}.h5", MODELS / f"{stem}.{tag}.json"]
        if tag == "k3":
            files.append(MODELS / f"{stem}.keras")
        cases += [(f, golden) for f in files if f.exists()]
    return cases


@pytest.mark.parametrize("path,golden", _saved_model_cases(), ids=lambda p: p.name)
def test_saved_model_matches_keras(path: Path, golden: Path) -> None:
    expected = json.loads(golden.read_text())
    model = read_saved_model(path)
    assert_same_facts(expected, bnlint_facts(model), path.name)
    _assert_totals_lines(expected, model)


def test_every_format_is_covered() -> None:
    """The fixture set exercises each reader path (guards against an empty parametrization)."""
    suffixes = {p.name.split(".", 1)[1] for p, _ in _saved_model_cases()}
    assert {"keras", "k3.h5", "k3.json", "k2.h5", "k2.json"} <= suffixes
    assert len(APPS) >= 40
