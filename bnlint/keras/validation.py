"""Constructor arguments Keras rejects (``ValueError`` in the layer's ``__init__``).

A program that builds such a layer fails in Keras; bnlint marks the layer unknown with Keras's
reason instead of computing a shape or a count from the value (``Dense(-5)`` would otherwise
give a negative parameter count).  Each entry was read from the Keras 3 / tf_keras source and
is checked against live Keras by ``tests/test_validation_oracle.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
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


#: Keras 1 keyword arguments and what Keras 2.0-2.3's legacy interface converted them to.
#: tf.keras/tf_keras and Keras 3 dropped that conversion: a layer given one it does not
#: itself accept raises (tf_keras ``TypeError: Keyword argument not understood``, Keras 3
#: ``ValueError: Unrecognized keyword arguments``), so old tutorial code fails there.
LEGACY_KWARGS: dict[str, str] = {
    "border_mode": "padding", "init": "kernel_initializer", "subsample": "strides",
    "nb_filter": "filters", "nb_row": "kernel_size", "nb_col": "kernel_size",
    "dim_ordering": "data_format", "W_regularizer": "kernel_regularizer",
    "b_regularizer": "bias_regularizer", "W_constraint": "kernel_constraint",
    "b_constraint": "bias_constraint", "output_dim": "units",
    "inner_init": "recurrent_initializer", "inner_activation": "recurrent_activation",
    "dropout_W": "dropout", "dropout_U": "recurrent_dropout", "p": "rate", "bias": "use_bias",
    "atrous_rate": "dilation_rate", "forget_bias_init": "unit_forget_bias",
    "consume_less": "implementation", "input_length": "input_shape",
}
#: What every layer's base ``__init__`` takes besides the class's own parameters (read from
#: keras/src/layers/layer.py and tf_keras/src/engine/base_layer.py; checked live by
#: tests/test_validation_oracle.py).
_BASE_KWARGS = {
    3: {"activity_regularizer", "trainable", "dtype", "autocast", "name", "input_dim",
        "input_shape"},
    2: {"trainable", "name", "dtype", "dynamic", "input_dim", "input_shape",
        "batch_input_shape", "batch_size", "weights", "activity_regularizer", "autocast",
        "implementation"},
}
#: Keras-1 names some classes (and their subclasses) still take, by popping them from
#: ``**kwargs`` (not in their signature): Keras 3's Embedding accepts and ignores
#: ``input_length``; tf_keras's RNN base turns it into the input shape.
_POPPED: dict[int, dict[str, set[str]]] = {3: {"Embedding": {"input_length"}},
                                           2: {"RNN": {"input_length"}}}


@cache
def _accepted(class_name: str, version: int) -> frozenset[str] | None:
    """The keyword arguments a layer class's constructor accepts (its parameters, those its
    parents take through ``**kwargs``, the base Layer's), or None without a signature."""
    from bnlint.keras.signatures import signature

    sig = signature(class_name, version)
    if sig is None:
        return None
    accepted = {p["name"] for p in sig.get("params", [])
                if p["kind"] not in ("VAR_KEYWORD", "VAR_POSITIONAL")}
    accepted |= set(sig.get("base_kwargs", [])) | set(sig.get("inherited", []))
    accepted |= set(sig.get("inherited_unverified", [])) | _BASE_KWARGS[version]
    for base, names in _POPPED[version].items():
        if base == class_name or base in sig.get("bases", []):
            accepted |= names
    return frozenset(accepted)


def _refusal(class_name: str, k: str, version: int) -> str:
    return (f"Keras raises TypeError in {class_name}(): keyword argument `{k}` not understood"
            if version == 2 else
            f"Keras raises ValueError in {class_name}(): unrecognized keyword argument `{k}`")


def legacy_kwarg(class_name: str, config: dict[str, Any], version: int) -> str | None:
    """Keras's refusal of a Keras 1 keyword argument this class does not accept, or None
    (a class bnlint has no signature for is not judged)."""
    if LEGACY_KWARGS.keys().isdisjoint(config):  # the common case, at C speed
        return None
    accepted = _accepted(class_name, version)
    if accepted is None:
        return None
    bad = [k for k in config if k in LEGACY_KWARGS and k not in accepted]
    if not bad:
        return None
    return (f"{_refusal(class_name, bad[0], version)} (Keras 1 API; Keras 2.0-2.3 converted "
            f"it to `{LEGACY_KWARGS[bad[0]]}=`, tf.keras and Keras 3 do not)")


#: Classes whose whole set of accepted keyword arguments is checked against live Keras
#: (tests/test_validation_oracle.py): any other keyword (a typo such as ``activaton=``) is
#: Keras's error on them.  Other classes may take more through ``**kwargs``: not judged.
KWARGS_CHECKED = frozenset({
    "Dense", "Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "SeparableConv2D",
    "DepthwiseConv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling2D",
    "GlobalAveragePooling2D", "GlobalMaxPooling2D", "ZeroPadding2D", "UpSampling2D", "Flatten",
    "Activation", "Dropout", "BatchNormalization", "LayerNormalization", "Embedding", "LSTM",
    "GRU", "SimpleRNN", "Reshape", "Concatenate", "Add",
})


def unknown_kwarg(class_name: str, keywords: Iterable[str], version: int) -> str | None:
    """Keras's refusal of a keyword argument a (checked) class does not accept, or None."""
    if class_name not in KWARGS_CHECKED:
        return None
    accepted = _accepted(class_name, version)
    if accepted is None:
        return None
    bad = [k for k in keywords if k not in accepted]
    if not bad:
        return None
    if bad[0] in LEGACY_KWARGS:
        return legacy_kwarg(class_name, {bad[0]: None}, version)
    return _refusal(class_name, bad[0], version)


class NpInt(int):
    """A NumPy integer scalar (``np.array([2, 2])[0]`` is ``np.int64(2)``): its value is
    known and arithmetic keeps the type, as NumPy does, but it is no Python ``int``: Keras 3
    refuses it where it checks ``isinstance(v, int)`` (``Dense(units)``; see
    NUMPY_INT_REFUSED below)."""

    def __repr__(self) -> str:
        return f"np.int64({int(self)})"


def _np_int_op(name: str) -> Any:
    base = getattr(int, name)

    def op(self: NpInt, *other: Any) -> Any:
        r = base(self, *other)
        return NpInt(r) if isinstance(r, int) and not isinstance(r, bool) else r

    return op


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__neg__", "__pos__",
              "__abs__", "__pow__", "__rpow__"):
    setattr(NpInt, _name, _np_int_op(_name))


#: Keras 3 arguments checked with ``isinstance(v, int)``: a NumPy integer (``np.int64``, an
#: element of an array) is refused there (read from keras/src/layers; tf_keras converts).
NUMPY_INT_REFUSED: dict[str, tuple[str, ...]] = {
    "Dense": ("units",), "MultiHeadAttention": ("num_heads", "key_dim", "value_dim"),
    "GroupNormalization": ("groups",), "UpSampling1D": ("size",), "RepeatVector": ("n",),
    "Embedding": ("input_dim", "output_dim"),
}
#: Both Kerases: RepeatVector's ``n``, and the arguments made into a tuple (``conv_utils.
#: normalize_tuple``/``standardize_tuple``: an int, else something iterable) refuse a bare
#: NumPy integer (a tuple of them is fine).
NUMPY_INT_REFUSED_BOTH = {"n": ("RepeatVector",)}
_TUPLE_ARGS = ("kernel_size", "strides", "pool_size", "dilation_rate", "cropping", "size",
               "padding")


def rejected(class_name: str, config: dict[str, Any], version: int) -> str | None:
    """Keras's refusal of this layer's constructor arguments, or None."""
    legacy = legacy_kwarg(class_name, config, version)
    if legacy is not None:
        return legacy
    for arg, v in config.items():
        if not isinstance(v, NpInt):
            continue
        if (version == 3 and arg in NUMPY_INT_REFUSED.get(class_name, ())) or (
                class_name in NUMPY_INT_REFUSED_BOTH.get(arg, ())):
            error = "TypeError" if class_name == "RepeatVector" else "ValueError"
            return (f"Keras raises {error} in {class_name}(): `{arg}`={v!r} is a NumPy "
                    "integer, not a Python int")
        if arg in _TUPLE_ARGS and class_name not in ("UpSampling1D", "Dense"):
            return (f"Keras raises ValueError in {class_name}(): `{arg}`={v!r} is a NumPy "
                    "integer: neither an int nor a tuple")
    for classes, arg, bad, expected, versions in RULES:
        if class_name in classes and version in versions and arg in config and bad(
                config[arg]):
            return (f"Keras raises ValueError in {class_name}(): `{arg}`={config[arg]!r} "
                    f"(expected {expected})")
    return None
