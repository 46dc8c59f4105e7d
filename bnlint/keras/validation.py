"""Constructor arguments Keras rejects (``ValueError`` in the layer's ``__init__``).

A program that builds such a layer fails in Keras; bnlint marks the layer unknown with Keras's
reason instead of computing a shape or a count from the value (``Dense(-5)`` would otherwise
give a negative parameter count).  Each entry was read from the Keras 3 / tf_keras source and
is checked against live Keras by ``tests/test_validation_oracle.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_CONV = ("Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
         "SeparableConv1D", "SeparableConv2D")
_RNN = ("LSTM", "GRU", "SimpleRNN", "LSTMCell", "GRUCell", "SimpleRNNCell")
_DROPOUT = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D")


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _not_positive(v: Any) -> bool:
    return _num(v) and v <= 0


def _negative(v: Any) -> bool:
    return _num(v) and v < 0


def _not_unit(v: Any) -> bool:
    return _num(v) and not 0 <= v <= 1


# (classes, argument, rejected(value), what Keras expects, Keras versions)
RULES: list[tuple[tuple[str, ...], str, Callable[[Any], bool], str, tuple[int, ...]]] = [
    (("Dense",), "units", _not_positive, "a positive integer", (3,)),
    (("Dense",), "units", _negative, "a non-negative integer", (2,)),
    (_RNN, "units", _not_positive, "a positive integer", (3, 2)),
    (_CONV, "filters", _not_positive, "a strictly positive value", (3, 2)),
    (("SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D"),
     "depth_multiplier", _not_positive, "a strictly positive value", (3,)),
    (("MultiHeadAttention",), "num_heads", _not_positive, "a positive integer", (3,)),
    (_DROPOUT, "rate", _not_unit, "a value between 0 and 1", (3, 2)),
    (("RepeatVector",), "n", _not_positive, "a positive integer", (3,)),
    (("UpSampling1D",), "size", _not_positive, "a positive integer", (3,)),
]


def rejected(class_name: str, config: dict[str, Any], version: int) -> str | None:
    """Keras's refusal of this layer's constructor arguments, or None."""
    for classes, arg, bad, expected, versions in RULES:
        if class_name in classes and version in versions and arg in config and bad(
                config[arg]):
            return (f"Keras raises ValueError in {class_name}(): `{arg}`={config[arg]!r} "
                    f"(expected {expected})")
    return None
