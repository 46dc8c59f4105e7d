"""bnlint on reductions of public model-building code vs real Keras.

``fixtures/source/realworld/`` holds small programs that reduce constructs found in public code
(tutorial scripts in ``scripts/``, model-zoo library functions in ``libraries/``, read as
``FILE.py::NAME`` targets). Their goldens come from ``scripts/regen_source_goldens.py``, which runs
each under real Keras. Two promises are tested apart:

- **never wrong** (every fixture, no exception): each number bnlint presents as exact — a layer's
  name, parameter count, output shape and arrays, and the totals — is the one Keras reports; what
  bnlint cannot read is marked unknown, and a model Keras builds is never silently dropped;
- **exact**: the whole model reads like Keras (the checks of ``test_source_goldens``). Fixtures
  that do not yet are listed in ``GAPS`` with the reason and fail strictly as expected, so a fix
  must take its entry out.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from bnlint.readers.source import SourceError, read_source

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "scripts"))

from compare import assert_same_facts, bnlint_facts  # noqa: E402
from regen_source_goldens import FIXTURES, fixture_files, golden_path  # noqa: E402

REALWORLD = FIXTURES / "realworld"
FILES = [p for p in fixture_files() if p.is_relative_to(REALWORLD)]

# Constructs bnlint does not read exactly yet: fixture (relative to realworld/) -> why.
GAPS: dict[str, str] = {
    "scripts/unknown_first.py": "eval() of code text is never run: the layers it makes are "
    "unknown, and so is what their outputs feed (by design)",
    "scripts/keras1_kwargs.py": "Keras stops the program at the refused border_mode= (line 8): "
    "its `model` is an empty unbuilt Sequential; bnlint reads on and shows the layers, with the "
    "refused one and those after it unknown (no total)",
}


def _rel(path: Path) -> str:
    return str(path.relative_to(REALWORLD))


def _defines(path: Path, golden: dict[str, Any]) -> dict[str, str]:
    """The oracle's defines, plus ``# bnlint-defines: {...}`` (what a user passes to bnlint,
    e.g. ``x_train.shape=(None, 500, 1)``, where the oracle substituted data loading)."""
    out = {k: repr(v) for k, v in golden["defines"].items()}
    m = re.search(r"^#\s*bnlint-defines:\s*(\{.*\})\s*$", path.read_text(), re.MULTILINE)
    if m:
        out.update(json.loads(m.group(1)))
    return out


def _cases(path: Path) -> list[tuple[str, dict[str, Any], Any]]:
    """(what, Keras facts, bnlint model or None) for every model Keras built from the fixture:
    module-level models of a script and each ``# oracle-target:`` call; for a program that
    also ran under tf-keras (``# oracle-keras2``), the same read with ``--keras-version 2``."""
    golden = json.loads(golden_path(path).read_text())
    defines = _defines(path, golden)
    out: list[tuple[str, dict[str, Any], Any]] = []
    runs = [(None, golden)] + ([(2, golden["keras2"])] if "keras2" in golden else [])
    for version, run in runs:
        tag = "" if version is None else " (tf-keras)"
        if path.parent.name == "scripts":
            result = read_source(path, defines=defines, keras_version=version)
            by_var = {m.variable: m for m in reversed(result.models)}
            for var, facts in run["models"].items():
                out.append((f"`{var}`{tag}", facts, by_var.get(var)))
        for t in run.get("targets", []):
            try:
                result = read_source(path, defines=defines, function=t["name"],
                                     args=t["args"], keras_version=version)
            except SourceError:  # the target is not found: lost, said in one line
                ours = []
            else:
                ours = [m for m in result.models if m.variable == t["name"]]
            facts = t["model"] if t["error"] is None else {"error": t["error"]}
            out.append((f"::{t['name']} {t['args']}{tag}", facts, ours[0] if ours else None))
    return out


def _known(layer: Any) -> bool:
    return layer.unknown is None and isinstance(layer.params, int)


def _dims(shape: Any) -> list:
    return [d if d is None or isinstance(d, int) else str(d) for d in shape]


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_never_wrong(path: Path) -> None:
    """No number printed as exact disagrees with Keras; no model is dropped without a word."""
    assert golden_path(path).is_file(), f"run scripts/regen_source_goldens.py {_rel(path)}"
    for what, facts, ours in _cases(path):
        where = f"{_rel(path)} {what}"
        if ours is None or facts.get("unbuilt"):
            continue  # lost (counted by test_exact and GAPS): nothing printed, nothing wrong
        if "error" in facts:
            # Keras refuses the program: no total may be printed as exact.
            assert not isinstance(ours.total_params, int), (
                f"{where}: bnlint totals {ours.total_params} exact; Keras: {facts['error']}")
            continue
        keras_layers = {la["name"]: la for la in facts["layers"]}
        for la in ours.layers:
            if not _known(la):
                continue
            assert la.name in keras_layers, f"{where}: bnlint shows layer {la.name} exactly; " \
                f"Keras has {list(keras_layers)}"
            kl = keras_layers[la.name]
            assert la.class_name == kl["class_name"], f"{where}: {la.name} class"
            assert la.params == kl["params"], (
                f"{where}: {la.name} params bnlint {la.params} != Keras {kl['params']}")
            got_w = [(w.name, _dims(w.shape), w.trainable) for w in la.weights]
            exp_w = [(w["name"], list(w["shape"]), w["trainable"]) for w in kl["weights"]]
            assert got_w == exp_w, f"{where}: {la.name} arrays {got_w} != {exp_w}"
            if la.nodes and kl.get("output_shapes") is not None:
                got_s = [_dims(s) for s in la.output_shapes]
                if got_s and all(isinstance(d, int | None) for s in got_s for d in s):
                    assert got_s == kl["output_shapes"], f"{where}: {la.name} output shape"
        for key in ("total_params", "trainable_params", "non_trainable_params"):
            value = getattr(ours, key)
            if isinstance(value, int):
                assert value == facts[key], f"{where}: {key} bnlint {value} != Keras {facts[key]}"


@pytest.mark.parametrize("path", [
    pytest.param(p, marks=pytest.mark.xfail(reason=GAPS[_rel(p)], strict=True))
    if _rel(p) in GAPS else p for p in FILES], ids=_rel)
def test_exact(path: Path) -> None:
    for what, facts, ours in _cases(path):
        where = f"{_rel(path)} {what}"
        if "error" in facts:
            assert ours is None or ours.total_params is None, f"{where}: Keras: {facts['error']}"
            continue
        assert ours is not None, f"{where}: bnlint did not report the model"
        if facts.get("unbuilt"):
            assert not ours.built, f"{where}: unbuilt in Keras"
            continue
        assert "error" not in facts, facts
        got = bnlint_facts(ours)
        assert got["name"] == facts["name"], f"{where}: name {got['name']} != {facts['name']}"
        assert_same_facts(facts, got, where)


def test_every_gap_is_a_fixture() -> None:
    assert set(GAPS) <= {_rel(p) for p in FILES}


@pytest.mark.parametrize("defines", [
    {"x_train.shape": "(None, 500, 1)"},
    {"x_train.shape[1:]": "(500, 1)"},
    {"x_train.shape[1]": "500", "x_train.shape[2]": "1"},
], ids=str)
def test_define_forms_users_write(defines: dict[str, str]) -> None:
    """Each way a user pins the data's shape gives the model Keras built from that data."""
    path = REALWORLD / "scripts" / "define_slice.py"
    golden = json.loads(golden_path(path).read_text())
    (ours,) = read_source(path, defines=defines).models
    assert_same_facts(golden["models"]["model"], bnlint_facts(ours), str(defines))
