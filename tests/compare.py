"""bnlint's side of the differential tests: the same "facts" as ``oracle_facts.keras_facts``."""

from __future__ import annotations

from typing import Any

from bnlint import graph


def _dims(shape: Any) -> list:
    return [d if d is None or isinstance(d, int) else str(d) for d in shape]


def bnlint_facts(g: graph.Model) -> dict[str, Any]:
    """Facts of a typed graph in the golden format (see tests/oracle_facts.py)."""
    return {
        "name": g.name,
        "class_name": g.class_name,
        "layers": [
            {
                "name": la.name,
                "class_name": la.class_name,
                "params": la.params,
                "output_shapes": [_dims(s) for s in la.output_shapes] if la.nodes else None,
                "weights": [
                    {"name": w.name, "shape": _dims(w.shape), "trainable": w.trainable}
                    for w in la.weights
                ],
            }
            for la in g.layers
        ],
        "weights": [
            {"layer": owner, "name": w.name, "shape": _dims(w.shape), "trainable": w.trainable}
            for owner, w in graph.model_weights([(g.name, w) for w in g.weights],
                                                [(la.name, w) for la in g.layers
                                                 for w in la.weights], g.keras_version)
        ],
        "total_params": g.total_params,
        "trainable_params": g.trainable_params,
        "non_trainable_params": g.non_trainable_params,
    }


def assert_same_facts(expected: dict[str, Any], got: dict[str, Any], where: str = "") -> None:
    """Exact agreement on what Keras reports: totals, layers, and every get_weights() array."""
    pre = f"{where}: " if where else ""
    for key in ("total_params", "trainable_params", "non_trainable_params"):
        assert got[key] == expected[key], f"{pre}{key}: bnlint {got[key]} != keras {expected[key]}"
    exp_layers = [(la["name"], la["class_name"]) for la in expected["layers"]]
    got_layers = [(la["name"], la["class_name"]) for la in got["layers"]]
    assert got_layers == exp_layers, f"{pre}model.layers differ"
    for el, gl in zip(expected["layers"], got["layers"], strict=True):
        assert gl["params"] == el["params"], f"{pre}{el['name']}: params {gl['params']} != {el['params']}"
        if el.get("output_shapes") is not None:
            assert gl["output_shapes"] == el["output_shapes"], (
                f"{pre}{el['name']}: output shapes {gl['output_shapes']} != {el['output_shapes']}"
            )
    exp_w = [(w["layer"], w["name"], list(w["shape"]), w["trainable"]) for w in expected["weights"]]
    got_w = [(w["layer"], w["name"], list(w["shape"]), w["trainable"]) for w in got["weights"]]
    assert len(got_w) == len(exp_w), f"{pre}get_weights() length {len(got_w)} != {len(exp_w)}"
    for i, (e, g) in enumerate(zip(exp_w, got_w, strict=True)):
        assert g == e, f"{pre}get_weights()[{i}]: bnlint {g} != keras {e}"
