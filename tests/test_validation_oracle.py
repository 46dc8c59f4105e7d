"""bnlint/keras/validation.py against live Keras (3, and tf_keras for Keras 2): for each
refusal bnlint models — a bad value (``Dense(-5)``), a Keras 1 keyword (``border_mode=``), a
NumPy integer where Keras wants an ``int``, any keyword a checked class does not take — bnlint
calls the layer Keras's error exactly when the live constructor raises, and only then."""

from __future__ import annotations

import importlib
import os
import warnings
from typing import Any

import pytest

from bnlint.keras.validation import (
    KWARGS_CHECKED,
    LEGACY_KWARGS,
    RULES,
    legacy_kwarg,
    rejected,
    unknown_kwarg,
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

# The arguments each class needs (values Keras accepts), for every test below.
_ARGS: dict[str, dict[str, Any]] = {
    "Dense": {"units": 4}, "LSTM": {"units": 4}, "GRU": {"units": 4}, "SimpleRNN": {"units": 4},
    "LSTMCell": {"units": 4}, "GRUCell": {"units": 4}, "SimpleRNNCell": {"units": 4},
    "MultiHeadAttention": {"num_heads": 2, "key_dim": 4}, "RepeatVector": {"n": 2},
    "DepthwiseConv1D": {"kernel_size": 3}, "DepthwiseConv2D": {"kernel_size": 3},
    "UpSampling1D": {"size": 2}, "Dropout": {"rate": 0.5}, "GroupNormalization": {"groups": 2},
    "Embedding": {"input_dim": 10, "output_dim": 4},
    "Conv1D": {"filters": 4, "kernel_size": 3}, "Conv2D": {"filters": 4, "kernel_size": 3},
    "Conv3D": {"filters": 4, "kernel_size": 3},
    "Conv2DTranspose": {"filters": 4, "kernel_size": 3},
    "SeparableConv2D": {"filters": 4, "kernel_size": 3},
    "MaxPooling1D": {"pool_size": 2}, "MaxPooling2D": {"pool_size": 2},
    "AveragePooling2D": {"pool_size": 2}, "GlobalAveragePooling2D": {},
    "GlobalMaxPooling2D": {}, "ZeroPadding2D": {"padding": 1}, "Cropping2D": {"cropping": 1},
    "UpSampling2D": {"size": 2}, "Flatten": {}, "Activation": {"activation": "relu"},
    "BatchNormalization": {}, "LayerNormalization": {}, "Reshape": {"target_shape": (2, 2)},
    "Concatenate": {}, "Add": {},
}


def _args(cls: str) -> dict[str, Any]:
    # another conv/dropout class of RULES takes what its family does
    return dict(_ARGS.get(cls, {"filters": 4, "kernel_size": 3} if "Conv" in cls
                          else {"rate": 0.5}))


def _keras_refusal(cls: str, kw: dict[str, Any], version: int) -> Exception | None:
    """What the live constructor ``cls(**kw)`` raises (TypeError/ValueError), or None."""
    pkg = importlib.import_module("keras" if version == 3 else "tf_keras")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            getattr(pkg.layers, cls)(**kw)
    except (TypeError, ValueError) as exc:
        return exc
    return None


# ------------------------------------------------------------- values Keras rejects

_BAD = {"units": (-5, 0), "filters": (-4, 0), "depth_multiplier": (-1, 0), "num_heads": (-1, 0),
        "rate": (-0.5, 1.5), "n": (-1, 0), "size": (-1, 0)}
_GOOD = {"units": 1, "filters": 1, "depth_multiplier": 1, "num_heads": 1, "rate": 0.0, "n": 1,
         "size": 1}

CASES = [(cls, arg, v, ver) for classes, arg, _, _, versions in RULES for cls in classes
         for ver in versions for v in (*_BAD[arg], _GOOD[arg])]


@pytest.mark.oracle
@pytest.mark.parametrize(("cls", "arg", "value", "version"), CASES,
                         ids=[f"{c}-{a}={v}-k{ver}" for c, a, v, ver in CASES])
def test_rejected_matches_keras(cls: str, arg: str, value: Any, version: int) -> None:
    kw = {**_args(cls), arg: value}
    exc = _keras_refusal(cls, kw, version)
    assert exc is None or isinstance(exc, ValueError), f"{cls}({kw}): {exc!r}"
    raised = exc is not None
    ours = rejected(cls, kw, version) is not None
    assert ours == raised, f"{cls}({kw}) in Keras {version}: Keras raises {raised}, bnlint " \
        f"says rejected {ours}"


# ------------------------------------------------------------- Keras 1 keyword arguments

_LEGACY_VALUES: dict[str, Any] = {
    "border_mode": "same", "init": "he_normal", "subsample": (1, 1), "nb_filter": 4,
    "nb_row": 3, "nb_col": 3, "dim_ordering": "tf", "W_regularizer": None,
    "b_regularizer": None, "W_constraint": None, "b_constraint": None, "output_dim": 4,
    "inner_init": "orthogonal", "inner_activation": "sigmoid", "dropout_W": 0.1,
    "dropout_U": 0.1, "p": 0.5, "bias": True, "atrous_rate": (1, 1),
    "forget_bias_init": "one", "consume_less": "cpu", "input_length": 10,
}
# the classes Keras 1 code builds
_LEGACY_CLASSES = ["Dense", "Conv1D", "Conv2D", "Conv2DTranspose", "SeparableConv2D",
                   "MaxPooling2D", "AveragePooling2D", "ZeroPadding2D", "UpSampling2D", "Flatten",
                   "Activation", "Dropout", "BatchNormalization", "Embedding", "LSTM", "GRU",
                   "SimpleRNN", "GlobalAveragePooling2D"]
LEGACY_CASES = [(cls, k, ver) for cls in _LEGACY_CLASSES for k in LEGACY_KWARGS
                for ver in (3, 2)]


@pytest.mark.oracle
@pytest.mark.parametrize(("cls", "kwarg", "version"), LEGACY_CASES,
                         ids=[f"{c}-{k}-k{v}" for c, k, v in LEGACY_CASES])
def test_legacy_kwarg_matches_keras(cls: str, kwarg: str, version: int) -> None:
    """A Keras 1 keyword argument: bnlint calls the layer Keras's error exactly when live Keras
    (3, and tf_keras for Keras 2) refuses the constructor call."""
    kw = {**_args(cls), kwarg: _LEGACY_VALUES[kwarg]}
    exc = _keras_refusal(cls, kw, version)
    # only the refusal of the keyword itself counts (not a bad value of a real argument)
    raised = exc is not None and kwarg in str(exc)
    if exc is not None and not raised:
        pytest.fail(f"{cls}({kw}) raised for another reason: {exc}")
    ours = legacy_kwarg(cls, kw, version) is not None
    assert ours == raised, (f"{cls}({kw}) in Keras {version}: Keras refuses {raised}, "
                            f"bnlint says {ours}")


# ------------------------------------------------------------- NumPy integers as arguments

_NP_CASES = [(cls, arg) for cls, args in
             {"Dense": ("units",), "MultiHeadAttention": ("num_heads", "key_dim"),
              "GroupNormalization": ("groups",), "UpSampling1D": ("size",),
              "RepeatVector": ("n",), "Embedding": ("input_dim", "output_dim"),
              "Conv2D": ("filters", "kernel_size", "strides", "dilation_rate"),
              "Conv1D": ("kernel_size",), "MaxPooling2D": ("pool_size",),
              "MaxPooling1D": ("pool_size",), "UpSampling2D": ("size",),
              "ZeroPadding2D": ("padding",), "Cropping2D": ("cropping",),
              "LSTM": ("units",)}.items() for arg in args]


@pytest.mark.oracle
@pytest.mark.parametrize("version", [3, 2])
@pytest.mark.parametrize(("cls", "arg"), _NP_CASES, ids=[f"{c}-{a}" for c, a in _NP_CASES])
def test_numpy_integer_argument_matches_keras(cls: str, arg: str, version: int) -> None:
    """An element of a NumPy array (np.int64) as a constructor argument: bnlint calls the layer
    Keras's error exactly when live Keras refuses it."""
    import numpy as np

    from bnlint.keras.validation import NpInt

    base = {**_args(cls), **({} if arg in _args(cls) else {arg: 2})}
    raised = _keras_refusal(cls, {**base, arg: np.int64(base[arg])}, version) is not None
    ours = rejected(cls, {**base, arg: NpInt(base[arg])}, version) is not None
    assert ours == raised, f"{cls}({arg}=np.int64) in Keras {version}: Keras refuses {raised}"


# ------------------------------------------------------------- any unknown keyword argument

# typos, other classes' arguments, and names some classes take only through **kwargs
_PROBES = {"activaton": "relu", "unit": 4, "filters": 4, "rate": 0.5, "kernel_size": 3,
           "units": 4, "axis": -1, "padding": "same", "return_sequences": True,
           "input_length": 5, "dynamic": False, "autocast": False, "batch_size": 2}
KW_CASES = [(c, k, v) for c in sorted(KWARGS_CHECKED) for k in _PROBES for v in (3, 2)]


def test_every_checked_class_has_its_arguments() -> None:
    assert set(KWARGS_CHECKED) <= set(_ARGS)


@pytest.mark.oracle
@pytest.mark.parametrize(("cls", "kwarg", "version"), KW_CASES,
                         ids=[f"{c}-{k}-k{v}" for c, k, v in KW_CASES])
def test_unknown_kwarg_matches_keras(cls: str, kwarg: str, version: int) -> None:
    """Any keyword argument given to a checked class: bnlint calls the layer Keras's error
    exactly when live Keras (3, and tf_keras for Keras 2) refuses it by name."""
    kw = {**_ARGS[cls], kwarg: _PROBES[kwarg]}
    exc = _keras_refusal(cls, kw, version)
    raised = exc is not None and kwarg in str(exc) and (
        "nderstood" in str(exc) or "nrecognized" in str(exc)
        or "unexpected keyword" in str(exc) or "multiple values for keyword" in str(exc))
    ours = unknown_kwarg(cls, list(kw), version) is not None
    assert ours == raised, f"{cls}({kw}) in Keras {version}: Keras refuses {raised}, bnlint {ours}"
