"""Single-layer differential check: bnlint's catalogue rule vs a live Keras layer.

``live_layer_facts`` builds the layer in real Keras (3 = ``keras``, 2 = ``tf_keras``)
on symbolic inputs of the given shapes; ``bnlint_layer_facts`` asks the catalogue.
Both return ``{"outputs": [shape, ...], "weights": [(name, shape, trainable), ...]}``
or ``{"error": ...}`` when the layer cannot be built.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _keras(version: int) -> Any:
    if version == 3:
        import keras

        return keras
    import tf_keras

    return tf_keras


def _short(name: str) -> str:
    return name.split("/")[-1].split(":")[0]


def live_layer_facts(
    class_name: str, kwargs: dict[str, Any], input_shapes: list[tuple], version: int,
    list_input: bool = False,
) -> dict[str, Any]:
    k = _keras(version)
    layer = getattr(k.layers, class_name)(**kwargs)
    inputs = [k.Input(batch_shape=tuple(s))
              for s in input_shapes]
    arg = inputs if (list_input or len(inputs) > 1) else inputs[0]
    out = layer(arg)
    outs = out if isinstance(out, (list, tuple)) else [out]
    trainable_ids = {id(w) for w in layer.trainable_weights}
    return {
        "outputs": [tuple(None if d is None else int(d) for d in o.shape) for o in outs],
        "weights": [
            (_short(w.name if version == 2 else w.path), tuple(int(d) for d in w.shape),
             id(w) in trainable_ids)
            for w in layer.weights
        ],
    }


def bnlint_layer_facts(
    class_name: str, kwargs: dict[str, Any], input_shapes: list[tuple], version: int,
    list_input: bool = False,
) -> dict[str, Any]:
    from bnlint.keras.catalogue import build_layer, ordered_weights

    built = build_layer(class_name, dict(kwargs), [tuple(s) for s in input_shapes], version,
                        list_input=list_input)
    return {
        "outputs": [tuple(o) for o in built.outputs],
        "weights": [
            (spec.name, tuple(spec.shape), spec.trainable)
            for _path, spec in ordered_weights(built, version)
        ],
    }
