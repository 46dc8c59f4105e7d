"""The op shape-rule table (bnlint/keras/ops.py) against live Keras and TensorFlow.

Each case applies one operation to symbolic tensors of given shapes: ``keras.ops.<fn>`` on
Keras 3 ``KerasTensor``s (what functional code and Lambda functions see), and the TF function on
tf_keras ``Input`` tensors (tf_keras wraps it in a ``TFOpLambda`` layer, whose output shape is
TF's static shape inference).  bnlint must give the same output shape, or raise ``Unknown``
(explicit); it must never answer where Keras/TF refuses.  The fixed cases must all be answered;
hypothesis draws more shapes and arguments for the shape-generic rules.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnlint.keras.catalogue import Unknown
from bnlint.keras.ops import op_shape, slice_shape

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@dataclass(frozen=True)
class T:
    """A symbolic tensor argument of this shape (batch axis included)."""

    shape: tuple


def _shape_of(v: Any) -> Any:
    return v.shape if isinstance(v, T) else None


def _bnlint(fn: str, args: list, kwargs: dict, keras_ops: bool) -> tuple | None:
    try:
        return tuple(op_shape(fn, args, kwargs, _shape_of, keras_ops))
    except Unknown:
        return None


def _live(v: Any, make: Any) -> Any:
    if isinstance(v, T):
        return make(v.shape)
    if isinstance(v, list):
        return [_live(x, make) for x in v]
    return v


def _keras3(fn: str, args: list, kwargs: dict) -> tuple | Exception:
    import keras

    def make(shape: tuple) -> Any:
        return keras.KerasTensor(shape)

    f: Any = keras
    for part in _KERAS_FN.get(fn, f"ops.{fn}").split("."):
        f = getattr(f, part)
    try:
        out = f(*[_live(a, make) for a in args], **{k: _live(v, make) for k, v in kwargs.items()})
    except Exception as exc:
        return exc
    return tuple(out.shape)


_KERAS_FN = {"resize": "ops.image.resize", "extract_patches": "ops.image.extract_patches",
             "normal": "random.normal", "uniform": "random.uniform",
             "truncated_normal": "random.truncated_normal"}

_TF_FN = {"stft": "signal.stft", "extract_patches": "image.extract_patches", "normal": "random.normal",
          "uniform": "random.uniform", "truncated_normal": "random.truncated_normal",
          "concat": "concat", "range": "range", "depth_to_space": "nn.depth_to_space",
          "resize": "image.resize", "reduce_sum": "math.reduce_sum",
          "reduce_mean": "math.reduce_mean", "not_equal": "math.not_equal",
          "multiply": "math.multiply"}


def _tf(fn: str, args: list, kwargs: dict) -> tuple | Exception:
    import tensorflow as tf
    import tf_keras

    def make(shape: tuple) -> Any:
        return tf_keras.Input(batch_shape=shape)

    f: Any = tf
    for part in _TF_FN.get(fn, fn).split("."):
        f = getattr(f, part)
    try:
        out = f(*[_live(a, make) for a in args], **{k: _live(v, make) for k, v in kwargs.items()})
    except Exception as exc:
        return exc
    return tuple(out.shape.as_list()) if hasattr(out.shape, "as_list") else tuple(out.shape)


# (fn, args, kwargs): keras.ops cases
KERAS_CASES = [
    ("expand_dims", [T((None, 3))], {"axis": -1}),
    ("expand_dims", [T((None,))], {"axis": -1}),
    ("expand_dims", [T((None, 3, 4))], {"axis": 1}),
    ("squeeze", [T((None, 1, 4))], {"axis": 1}),
    ("reshape", [T((None, 16, 4))], {"newshape": (-1, 4, 4, 4)}),
    ("reshape", [T((2, 16, 4))], {"newshape": (-1, 8)}),
    ("transpose", [T((None, 3, 4))], {"axes": (0, 2, 1)}),
    ("concatenate", [[T((None, 1, 8)), T((None, 4, 8))]], {"axis": 1}),
    ("concatenate", [[T((None, 1)), T((None, 1))]], {"axis": -1}),
    ("stack", [[T((None, 4)), T((None, 4)), T((None, 4))]], {"axis": -1}),
    ("tile", [T((1, 1, 8))], {"repeats": [3, 1, 1]}),
    ("arange", [0, 10], {}),
    ("arange", [7], {}),
    ("arange", [1, 10, 3], {}),
    ("add", [T((None, 5, 8)), T((None, 1, 5, 1))], {}),
    ("multiply", [T((None, 4)), 2.0], {}),
    ("not_equal", [T((None, 5, 8)), 0], {}),
    ("matmul", [T((None, 3, 4)), T((4, 5))], {}),
    ("sum", [T((None, 4, 5))], {"axis": 1, "keepdims": True}),
    ("mean", [T((None, 4, 5))], {"axis": [1, 2]}),
    ("max", [T((None, 4, 5))], {}),
    ("sqrt", [T((None, 4))], {}),
    ("one_hot", [T((None, 3))], {"num_classes": 10}),
    ("take", [T((10, 4)), T((None, 3))], {"axis": 0}),
    ("resize", [T((None, 8, 8, 3)), (16, 16)], {}),
    ("where", [T((None, 4)), T((None, 4)), T((None, 1))], {}),
    ("extract_patches", [T((None, 32, 32, 3)), 4], {}),
    ("extract_patches", [T((None, 30, 31, 3)), (4, 3)], {"strides": 2}),
    ("extract_patches", [T((None, 30, None, 3)), 5], {"strides": 3, "padding": "same"}),
    ("extract_patches", [T((None, 30, 30, 2)), 3], {"strides": 1, "dilation_rate": 2}),
    ("extract_patches", [T((16, 16, 3)), 4], {}),
    ("reshape", [T((None, 16, 4))], {"newshape": (None, -1, 4)}),
    ("reshape", [T((2, 16, 4))], {"newshape": (None, 64)}),
    ("normal", [(3, 4)], {}),
    ("uniform", [], {"shape": (2,)}),
    ("zeros", [(3, 1)], {}),
    ("convert_to_tensor", [1e-9], {}),
    ("roll", [T((None, 8, 8, 3))], {"shift": [-2, -2], "axis": [1, 2]}),
    ("where", [T((None, 3, 1)), 0.0, T((None, 1, 5))], {}),
    ("convert_to_tensor", [[[1, 2], [3, 4], [5, 6]]], {}),
]

TF_CASES = [
    ("expand_dims", [T((None, 3))], {"axis": 1}),
    ("reshape", [T((None, 16, 4))], {"shape": (-1, 4, 4, 4)}),
    ("concat", [[T((None, 2)), T((None, 3))]], {"axis": -1}),
    ("tile", [T((None, 1, 8))], {"multiples": [1, 3, 1]}),
    ("depth_to_space", [T((None, 10, 10, 9)), 3], {}),
    ("resize", [T((None, 8, 8, 4)), (16, 16)], {}),
    ("reduce_sum", [T((None, 4, 5))], {"axis": -1}),
    ("reduce_mean", [T((None, 4, 5))], {"axis": 1, "keepdims": True}),
    ("not_equal", [T((None, 5, 8)), 0], {}),
    ("multiply", [T((None, 8)), T((None, 8))], {}),
    ("squeeze", [T((None, 1, 3))], {"axis": 1}),
    ("transpose", [T((None, 3, 4))], {"perm": (0, 2, 1)}),
    ("stack", [[T((None, 4)), T((None, 4))]], {"axis": 1}),
    ("extract_patches", [T((None, 128, 128, 3))], {"sizes": [1, 4, 4, 1],
     "strides": [1, 4, 4, 1], "rates": [1, 1, 1, 1], "padding": "VALID"}),
    ("extract_patches", [T((None, 30, 31, 2)), [1, 3, 2, 1], [1, 2, 3, 1], [1, 2, 1, 1],
                         "SAME"], {}),
    ("extract_patches", [T((None, 30, None, 2)), [1, 3, 2, 1], [1, 2, 3, 1], [1, 2, 1, 1],
                         "VALID"], {}),
    ("normal", [(3, 4)], {}),
    ("truncated_normal", [], {"shape": [5]}),
    ("ones", [(2, 2)], {}),
    ("constant", [[1.0, 2.0]], {}),
    ("roll", [T((None, 8, 8, 3))], {"shift": [1, 1], "axis": [1, 2]}),
    ("convert_to_tensor", [3], {}),
    ("stft", [T((None, 1, 44100))], {"frame_length": 2048, "frame_step": 512,
                                     "fft_length": 2048}),
    ("stft", [T((None, 1000))], {"frame_length": 300, "frame_step": 128, "pad_end": True}),
    ("stft", [T((None, 2, 100))], {"frame_length": 200, "frame_step": 50}),
    ("stft", [T((None, 3, None))], {"frame_length": 64, "frame_step": 16}),
]


def _ids(cases: list) -> list[str]:
    return [f"{fn}-{i}" for i, (fn, _, _) in enumerate(cases)]


@pytest.mark.oracle
@pytest.mark.parametrize(("fn", "args", "kwargs"), KERAS_CASES, ids=_ids(KERAS_CASES))
def test_keras_ops(fn: str, args: list, kwargs: dict) -> None:
    want = _keras3(fn, args, kwargs)
    assert not isinstance(want, Exception), f"fixture case refused by Keras: {want}"
    assert _bnlint(fn, args, kwargs, keras_ops=True) == want


@pytest.mark.oracle
@pytest.mark.parametrize(("fn", "args", "kwargs"), TF_CASES, ids=_ids(TF_CASES))
def test_tf_ops(fn: str, args: list, kwargs: dict) -> None:
    want = _tf(fn, args, kwargs)
    assert not isinstance(want, Exception), f"fixture case refused by TF: {want}"
    assert _bnlint(fn, args, kwargs, keras_ops=False) == want


DIMS = st.sampled_from([None, 1, 2, 3, 4])
SHAPES = st.lists(DIMS, min_size=1, max_size=4).map(tuple)


def _agree(got: tuple | None, want: tuple | Exception, what: str) -> None:
    if got is None:
        return  # explicit: bnlint said unknown
    assert not isinstance(want, Exception), f"{what}: bnlint {got}, Keras refuses: {want}"
    assert got == want, f"{what}: bnlint {got} != Keras {want}"


@pytest.mark.oracle
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=SHAPES, b=SHAPES, fn=st.sampled_from(["add", "multiply", "maximum", "equal"]))
def test_broadcast_hypothesis(a: tuple, b: tuple, fn: str) -> None:
    args = [T((None, *a)), T((None, *b))]
    _agree(_bnlint(fn, args, {}, True), _keras3(fn, args, {}), f"{fn}{a}{b}")


@pytest.mark.oracle
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=SHAPES, data=st.data())
def test_shape_ops_hypothesis(s: tuple, data: Any) -> None:
    rank = len(s) + 1
    fn = data.draw(st.sampled_from(["expand_dims", "squeeze", "sum", "transpose", "tile",
                                    "reshape", "concatenate"]))
    x = T((None, *s))
    kwargs: dict[str, Any] = {}
    args: list[Any] = [x]
    if fn == "expand_dims":
        kwargs["axis"] = data.draw(st.integers(-rank - 1, rank))
    elif fn == "squeeze":
        kwargs["axis"] = data.draw(st.integers(-rank, rank - 1))
    elif fn == "sum":
        kwargs["axis"] = data.draw(st.integers(-rank, rank - 1))
        kwargs["keepdims"] = data.draw(st.booleans())
    elif fn == "transpose":
        kwargs["axes"] = tuple(data.draw(st.permutations(range(rank))))
    elif fn == "tile":
        kwargs["repeats"] = data.draw(st.lists(st.integers(1, 3), min_size=rank,
                                               max_size=rank))
    elif fn == "reshape":
        kwargs["newshape"] = tuple(data.draw(st.lists(st.sampled_from([-1, 1, 2, 4, None]),
                                                      min_size=1, max_size=3)))
    elif fn == "concatenate":
        other = T((None, *data.draw(st.lists(DIMS, min_size=len(s), max_size=len(s)))))
        args = [[x, other]]
        kwargs["axis"] = data.draw(st.integers(-rank, rank - 1))
    _agree(_bnlint(fn, args, kwargs, True), _keras3(fn, args, kwargs), f"{fn}{s}{kwargs}")


@pytest.mark.oracle
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=st.lists(st.sampled_from([None, 1, 3, 5]), min_size=1, max_size=3).map(tuple),
       data=st.data())
def test_getitem_hypothesis(s: tuple, data: Any) -> None:
    import keras

    shape = (None, *s)
    item = st.one_of(st.integers(-2, 2), st.none(), st.just(Ellipsis),
                     st.builds(slice, st.one_of(st.none(), st.integers(-2, 3)),
                               st.one_of(st.none(), st.integers(-2, 4)),
                               st.sampled_from([None, 1, 2])))
    key = tuple(data.draw(st.lists(item, min_size=1, max_size=len(shape))))
    try:
        got = tuple(slice_shape(shape, key))
    except Unknown:
        got = None
    try:
        want: Any = tuple(keras.KerasTensor(shape)[key].shape)
    except Exception as exc:
        want = exc
    _agree(got, want, f"{shape}[{key}]")


# TF calls in functional tf_keras code: bnlint's TFOpLambda layers (name, output shape) against
# the model tf_keras builds from the same program.
TF_PROGRAMS = [
    "y = tf.expand_dims(x, 1)",
    "y = tf.reshape(x, (-1, 2, 4))",
    "y = tf.multiply(x, x)",
    "y = tf.math.multiply(x, 2.0)",
    "y = tf.add(x, x)",
    "y = tf.nn.swish(x)",
    "y = tf.nn.relu(x)",
    "y = tf.math.reduce_sum(x, axis=-1, keepdims=True)",
    "y = tf.reduce_mean(x, axis=1)",
    "y = tf.concat([x, x], axis=-1)",
    "y = tf.tile(x, [1, 2])",
    "y = x[:, 2:5]",
    "y = tf.expand_dims(tf.expand_dims(x, 1), 1, name='exp')",
    "y = tf.nn.softmax(x)",
    "y = tf.math.softmax(x)",
]


@pytest.mark.oracle
@pytest.mark.parametrize("line", TF_PROGRAMS)
def test_tfoplambda_layers(line: str) -> None:
    import tensorflow as tf
    import tf_keras

    from bnlint.readers.source import read_text

    program = ("import tensorflow as tf\nfrom tensorflow import keras\n"
               "x = keras.Input((8,))\n" + line + "\nmodel = keras.Model(x, y)\n")
    tf_keras.backend.clear_session()
    x = tf_keras.Input((8,))
    scope = {"tf": tf, "x": x}
    exec(line, scope)  # the oracle runs the fixed test program (never user code)
    model = tf_keras.Model(x, scope["y"])
    def one(shape: Any) -> tuple:
        return tuple(shape[0]) if isinstance(shape, list) else tuple(shape)

    want = [(la.name, type(la).__name__, one(la.output_shape)) for la in model.layers]
    ours = read_text(program, keras_version=2).models[-1]
    got = [(la.name, la.class_name, tuple(la.output_shapes[0]) if la.output_shapes else None)
           for la in ours.layers]
    assert got == want


# keras.ops in functional Keras 3 code: operations (not in model.layers) that take names from
# the session counter, followed by layers whose automatic names depend on them.
KERAS_PROGRAMS = [
    "y = keras.ops.concatenate([x, x], axis=-1)\ny = keras.layers.Concatenate()([y, y])",
    "y = keras.ops.add(x, x)\ny = keras.layers.Add()([y, x])",
    "y = keras.ops.expand_dims(x, 1)\ny = keras.layers.Dense(3)(y)",
    "y = x[:, 2:5]\ny = keras.layers.Dense(2)(y)",
    "y = keras.ops.reshape(x, (-1, 2, 4))\ny = keras.layers.Reshape((8,))(y)",
    "y = keras.layers.Dense(4)(x) * 2.0 + x[:, :4]\ny = keras.layers.Multiply()([y, y])",
    "y = keras.layers.Lambda(lambda t: keras.ops.sum(t, axis=-1, keepdims=True))(x)",
    "y = keras.layers.Lambda(lambda t: t[:, None, :4])(x)\ny = keras.layers.Flatten()(y)",
]


@pytest.mark.oracle
@pytest.mark.parametrize("line", KERAS_PROGRAMS)
def test_keras_ops_in_functional_code(line: str) -> None:
    import keras

    from bnlint.readers.source import read_text

    program = "import keras\nx = keras.Input((8,))\n" + line + "\nmodel = keras.Model(x, y)\n"
    keras.backend.clear_session()
    x = keras.Input((8,))
    scope = {"keras": keras, "x": x}
    exec(line, scope)  # the oracle runs the fixed test program (never user code)
    model = keras.Model(x, scope["y"])
    want = [(la.name, type(la).__name__, tuple(la.output.shape), la.count_params())
            for la in model.layers]
    ours = read_text(program, keras_version=3).models[-1]
    got = [(la.name, la.class_name, tuple(la.output_shapes[0]) if la.output_shapes else None,
            la.params) for la in ours.layers]
    assert got == want
    assert ours.total_params == model.count_params()


@pytest.mark.oracle
def test_namespaces_exist() -> None:
    """Every function the namespace tables answer for exists in live Keras 3 / TF / tf_keras."""
    import keras
    import tensorflow as tf
    import tf_keras

    from bnlint.keras.ops import ACTIVATIONS, ACTIVATIONS_KERAS2, BACKEND_OPS, KERAS_OPS, TF_OPS

    def has(root: Any, rel: str) -> bool:
        obj = root
        for part in rel.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                return False
        return True

    assert [n for n in KERAS_OPS if not has(keras.ops, n)] == []
    assert [n for n in TF_OPS if not has(tf, n)] == []
    assert [n for n in BACKEND_OPS if not has(tf_keras.backend, n)] == []
    assert [n for n in ACTIVATIONS if not has(keras.activations, n)] == []
    assert [n for n in ACTIVATIONS_KERAS2 if not has(tf_keras.activations, n)] == []


@pytest.mark.oracle
@pytest.mark.parametrize("fn", ["abs", "swish", "expand_dims", "concatenate", "not_equal",
                                "sum", "true_divide", "take", "one_hot", "log_softmax"])
def test_keras_op_names(fn: str) -> None:
    """A Keras 3 operation takes its name from its class: bnlint's class for the function."""
    import keras

    from bnlint.keras.naming import to_snake_case
    from bnlint.readers.source.keras_tensors import _KERAS_OP_CLASS, _camel

    keras.backend.clear_session()
    x = keras.KerasTensor((None, 4), dtype="int32" if fn in ("one_hot", "take") else "float32")
    f = getattr(keras.ops, fn)
    if fn == "concatenate":
        y = f([x, x])
    elif fn in ("not_equal", "true_divide"):
        y = f(x, x)
    elif fn == "expand_dims":
        y = f(x, 1)
    elif fn == "take":
        y = f(keras.KerasTensor((5, 3)), x, axis=0)
    elif fn == "one_hot":
        y = f(x, 3)
    else:
        y = f(x)
    assert y._keras_history.operation.name == to_snake_case(_KERAS_OP_CLASS.get(fn, _camel(fn)))


@pytest.mark.oracle
@pytest.mark.parametrize("version", [3, 2])
def test_mask_tables(version: int) -> None:
    """The layers bnlint passes a mask through / drops it at, against live Keras: an
    Embedding(mask_zero=True) output given to each."""
    import importlib
    import warnings

    from bnlint.readers.source.keras_layers import MASK_DROPS, MASK_KEEPS

    pkg = importlib.import_module("keras" if version == 3 else "tf_keras")
    kwargs = {"Dense": {"units": 4}, "Dropout": {"rate": 0.1},
              "Activation": {"activation": "relu"}, "GaussianNoise": {"stddev": 0.1},
              "SpatialDropout1D": {"rate": 0.1}, "Conv1D": {"filters": 4, "kernel_size": 1},
              "Reshape": {"target_shape": (8,)}, "Permute": {"dims": (2, 1)}}
    got = {}
    for cls in sorted(MASK_KEEPS[version] | MASK_DROPS[version]):
        x = pkg.Input((None,), dtype="int32")
        e = pkg.layers.Embedding(10, 8, mask_zero=True)(x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = getattr(pkg.layers, cls)(**kwargs.get(cls, {}))(e)
        mask = getattr(y, "_keras_mask", None)
        got[cls] = None if mask is None else tuple(mask.shape)
    assert {c for c, m in got.items() if m is not None} == set(MASK_KEEPS[version])
    assert all(m == (None, None) for m in got.values() if m is not None)
