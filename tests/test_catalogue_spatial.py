"""Catalogue rules of the spatial families (conv.py, pooling.py, spatial.py).

The ``oracle`` tests are differential: hypothesis draws a layer config and input
shape, real Keras 3 (``keras``) or Keras 2 (``tf_keras``) builds the layer, and
bnlint must report exactly the same output shapes and weights (name, shape,
trainable, order).  When Keras fails, nothing is required of bnlint except that
it fails cleanly (raises ``Unknown`` or answers); when Keras builds and bnlint
raises ``Unknown``, the case must be on ``ALLOWLIST``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnlint.keras.catalogue import Unknown, build_layer
from bnlint.symbolic import Sym, add, mul
from tests.layer_oracle import bnlint_layer_facts, live_layer_facts

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

VERSIONS = [3, 2]
PACKAGES = {3: "keras", 2: "tf_keras"}
OMIT = object()  # leave the key out: bnlint must use the signature default

Case = tuple[str, dict[str, Any], tuple]


# Cases where Keras builds but bnlint answers Unknown on purpose; keep this short.
# Each entry: (reason, predicate(class_name, kwargs, input_shape, version, unknown_message)).
ALLOWLIST: list[tuple[str, Callable[[str, dict[str, Any], tuple, int, str], bool]]] = [
    (
        # tf-keras Conv*D sets its output shape from conv_utils, which allows an empty
        # (0) axis; whether TF's own op rejects it first depends on whether the op still
        # sees the static size (not after folding extra batch axes, nor after the
        # space_to_batch of a dilated Conv3D with undefined sizes).  Keras 3 always
        # rejects it; bnlint says Unknown.
        "tf-keras Conv*D whose output would have an empty (0) axis",
        lambda name, kw, shape, v, msg: (
            v == 2 and name.startswith("Conv") and "Transpose" not in name and "would be 0" in msg
        ),
    ),
]


def _allowlisted(
    name: str, kwargs: dict[str, Any], shape: tuple, version: int, message: str
) -> str | None:
    for reason, pred in ALLOWLIST:
        if pred(name, kwargs, shape, version, message):
            return reason
    return None


_builds = {2: 0, 3: 0}


def _live(name: str, kwargs: dict[str, Any], shape: tuple, version: int) -> dict[str, Any] | None:
    importlib.import_module(PACKAGES[version])
    _builds[version] += 1
    if version == 2 and _builds[2] % 100 == 0:
        import tf_keras

        tf_keras.backend.clear_session()  # the tf-keras global graph slows down as it grows
    try:
        return live_layer_facts(name, dict(kwargs), [shape], version)
    except Exception:
        return None


def differential(case: Case, version: int) -> None:
    name, kwargs, shape = case
    live = _live(name, kwargs, shape, version)
    try:
        got = bnlint_layer_facts(name, kwargs, [shape], version)
    except Unknown as e:
        if live is not None:
            reason = _allowlisted(name, kwargs, shape, version, str(e))
            assert reason, (
                f"keras{version} builds {name}({kwargs}) on {shape} -> {live}, "
                f"but bnlint says Unknown: {e}"
            )
        return
    if live is None:
        return  # Keras refuses the layer; bnlint's answer is not checked
    assert got == live, f"keras{version} {name}({kwargs}) on {shape}"


# ----------------------------------------------------------------------------- strategies


def _kw(draw: st.DrawFn, out: dict[str, Any], key: str, value_st: st.SearchStrategy) -> None:
    """Set ``key`` from ``value_st``, or leave it out (signature default)."""
    value = draw(st.one_of(st.just(OMIT), value_st))
    if value is not OMIT:
        out[key] = value


def _ints(draw: st.DrawFn, rank: int, lo: int, hi: int) -> int | tuple[int, ...]:
    """An int or a tuple of ``rank`` ints, as Keras accepts for kernel_size/strides."""
    if draw(st.booleans()):
        return draw(st.integers(lo, hi))
    return tuple(draw(st.integers(lo, hi)) for _ in range(rank))


def _dim(draw: st.DrawFn, lo: int = 1, hi: int = 9) -> int | None:
    return draw(st.one_of(st.none(), st.integers(lo, hi), st.integers(lo, hi)))


_FORMATS = st.sampled_from([None, "channels_last", "channels_first"])


def _input(
    draw: st.DrawFn, rank: int, fmt: Any, channels: int | None, extra_batch: bool = False
) -> tuple:
    spatial = tuple(_dim(draw) for _ in range(rank))
    batch = (draw(st.sampled_from([None, 2])),)
    if extra_batch and draw(st.integers(0, 5)) == 0:
        batch = (*batch, 3)
    if fmt == "channels_first":
        return (*batch, channels, *spatial)
    return (*batch, *spatial, channels)


@st.composite
def conv_cases(draw: st.DrawFn, version: int) -> Case:
    kinds = ["Conv", "Conv", "ConvTranspose", "Separable", "Depthwise"]
    if version == 2:
        kinds.append("LocallyConnected")
    kind = draw(st.sampled_from(kinds))
    rank = draw(st.integers(1, 3 if kind in ("Conv", "ConvTranspose") else 2))
    name = {
        "Conv": f"Conv{rank}D",
        "ConvTranspose": f"Conv{rank}DTranspose",
        "Separable": f"SeparableConv{rank}D",
        "Depthwise": f"DepthwiseConv{rank}D",
        "LocallyConnected": f"LocallyConnected{rank}D",
    }[kind]
    kw: dict[str, Any] = {"kernel_size": _ints(draw, rank, 1, 4)}
    channels = draw(st.integers(1, 6))
    if kind == "Conv":
        groups = draw(st.sampled_from([g for g in range(1, channels + 1) if channels % g == 0]))
        if groups > 1 or draw(st.booleans()):
            kw["groups"] = groups
        kw["filters"] = groups * draw(st.integers(1, 3))
    elif kind != "Depthwise":
        kw["filters"] = draw(st.integers(1, 5))
    if kind in ("Separable", "Depthwise"):
        _kw(draw, kw, "depth_multiplier", st.integers(1, 3))
    fmt = draw(st.one_of(st.just(OMIT), _FORMATS))
    if fmt is not OMIT:
        kw["data_format"] = fmt
    paddings = ["valid", "same", "causal", "SAME"]
    if kind == "LocallyConnected":
        _kw(draw, kw, "implementation", st.integers(1, 3))
    _kw(draw, kw, "padding", st.sampled_from(paddings))
    strides = _ints(draw, rank, 1, 3)
    if draw(st.booleans()):
        kw["strides"] = strides
    if kind != "LocallyConnected":
        _kw(draw, kw, "dilation_rate", st.just(_ints(draw, rank, 1, 3)))
    if kind == "ConvTranspose" and draw(st.booleans()):
        s = (strides,) * rank if isinstance(strides, int) else strides
        if "strides" not in kw:
            s = (1,) * rank
        kw["output_padding"] = tuple(draw(st.integers(0, max(0, si - 1))) for si in s)
    _kw(draw, kw, "use_bias", st.booleans())
    if draw(st.integers(0, 9)) == 0:
        channels = None  # type: ignore[assignment]
    shape = _input(draw, rank, fmt, channels, extra_batch=kind == "Conv")
    if kind == "LocallyConnected" and draw(st.integers(0, 4)):
        # Mostly fully defined: LocallyConnected needs every spatial size.
        shape = tuple(
            d if d is not None or i == 0 else draw(st.integers(1, 9)) for i, d in enumerate(shape)
        )
    return name, kw, shape


@st.composite
def pooling_cases(draw: st.DrawFn, version: int) -> Case:
    kinds = ["Max", "Average", "GlobalMax", "GlobalAverage"]
    if version == 3:
        kinds += ["AdaptiveMax", "AdaptiveAverage"]
    kind = draw(st.sampled_from(kinds))
    rank = draw(st.integers(1, 3))
    kw: dict[str, Any] = {}
    fmt = draw(st.one_of(st.just(OMIT), _FORMATS))
    if fmt is not OMIT:
        kw["data_format"] = fmt
    if kind in ("Max", "Average"):
        name = f"{kind}Pooling{rank}D"
        pool = _ints(draw, rank, 1, 3)
        # Keras 3 AveragePooling has no pool_size default; MaxPooling and tf-keras do.
        if (kind == "Average" and version == 3) or draw(st.booleans()):
            kw["pool_size"] = pool
        _kw(draw, kw, "strides", st.one_of(st.none(), st.just(_ints(draw, rank, 1, 3))))
        _kw(draw, kw, "padding", st.sampled_from(["valid", "same", "SAME"]))
    elif kind.startswith("Global"):
        name = f"{kind}Pooling{rank}D"
        _kw(draw, kw, "keepdims", st.booleans())
    else:
        name = f"{kind}Pooling{rank}D"
        kw["output_size"] = _ints(draw, rank, 1, 4)
    shape = _input(draw, rank, fmt, draw(st.one_of(st.none(), st.integers(1, 5))))
    return name, kw, shape


def _pad_arg(draw: st.DrawFn, rank: int, hi: int) -> Any:
    pair = st.one_of(st.integers(0, hi), st.tuples(st.integers(0, hi), st.integers(0, hi)))
    if rank == 1:
        return draw(pair)
    # A single int for 2D/3D is not range-checked everywhere, so try negatives too.
    return draw(st.one_of(st.integers(-hi, hi), st.tuples(*[pair] * rank)))


@st.composite
def spatial_cases(draw: st.DrawFn, version: int) -> Case:
    kind = draw(st.sampled_from(["ZeroPadding", "Cropping", "UpSampling"]))
    rank = draw(st.integers(1, 3))
    name = f"{kind}{rank}D"
    kw: dict[str, Any] = {}
    has_format = rank > 1 or (kind == "ZeroPadding" and version == 3)
    fmt: Any = OMIT
    if has_format:
        fmt = draw(st.one_of(st.just(OMIT), _FORMATS))
        if fmt is not OMIT:
            kw["data_format"] = fmt
    if kind == "ZeroPadding":
        _kw(draw, kw, "padding", st.just(_pad_arg(draw, rank, 3)))
    elif kind == "Cropping":
        _kw(draw, kw, "cropping", st.just(_pad_arg(draw, rank, 3)))
    else:
        size = draw(st.integers(1, 3)) if rank == 1 else _ints(draw, rank, 1, 3)
        _kw(draw, kw, "size", st.just(size))
        if rank == 2:
            _kw(draw, kw, "interpolation", st.sampled_from(["nearest", "bilinear"]))
    shape = _input(draw, rank, fmt, draw(st.one_of(st.none(), st.integers(1, 4))))
    return name, kw, shape


# ----------------------------------------------------------------------------- oracle tests

_SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}


@pytest.mark.oracle
@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=250, **_SETTINGS)
@given(data=st.data())
def test_conv_family_matches_keras(version: int, data: st.DataObject) -> None:
    differential(data.draw(conv_cases(version)), version)


@pytest.mark.oracle
@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=120, **_SETTINGS)
@given(data=st.data())
def test_pooling_family_matches_keras(version: int, data: st.DataObject) -> None:
    differential(data.draw(pooling_cases(version)), version)


@pytest.mark.oracle
@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=120, **_SETTINGS)
@given(data=st.data())
def test_spatial_family_matches_keras(version: int, data: st.DataObject) -> None:
    differential(data.draw(spatial_cases(version)), version)


# Fixed cases hypothesis may not hit often: the version differences we model on purpose.
FIXED: list[tuple[str, dict[str, Any], tuple]] = [
    (
        "Conv1D",
        {"filters": 2, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
        (None, 7, 3),
    ),
    ("SeparableConv1D", {"filters": 2, "kernel_size": 3, "padding": "causal"}, (None, 7, 3)),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 3, "dilation_rate": 2}, (None, 4, 4, 4, 1)),
    ("Conv2D", {"filters": 4, "kernel_size": 2, "groups": 2}, (None, 3, 5, 5, 2)),
    ("Cropping3D", {"cropping": 2}, (None, 3, 5, 5, 2)),
    ("DepthwiseConv2D", {"kernel_size": 3, "strides": 2, "dilation_rate": 2}, (None, 9, 9, 2)),
    (
        "LocallyConnected2D",
        {"filters": 2, "kernel_size": 3, "padding": "same", "implementation": 3},
        (None, 5, 4, 2),
    ),
    (
        "LocallyConnected1D",
        {
            "filters": 3,
            "kernel_size": 2,
            "strides": 2,
            "implementation": 2,
            "data_format": "channels_first",
        },
        (None, 2, 7),
    ),
    ("GlobalAveragePooling1D", {"keepdims": True}, (None, 5, 3)),
    ("UpSampling1D", {"size": 3}, (None, None, 3)),
    ("UpSampling2D", {"size": 2}, (None, None, 3, 1)),
    (
        "DepthwiseConv1D",
        {"kernel_size": 1, "dilation_rate": 2, "use_bias": False, "data_format": "channels_first"},
        (None, 3, None),
    ),
    ("DepthwiseConv2D", {"kernel_size": 3, "dilation_rate": 3}, (2, 4, None, 3)),
    (
        "Conv2DTranspose",
        {"filters": 1, "kernel_size": 4, "strides": 2, "padding": "same", "output_padding": 0},
        (None, 1, 3, 1),
    ),
    ("ZeroPadding2D", {"padding": -2}, (None, 5, 4, 1)),
    ("Cropping2D", {"cropping": -3}, (None, 5, 6, 1)),
    ("AdaptiveAveragePooling2D", {"output_size": 3}, (None, 5, 4)),
]


@pytest.mark.oracle
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", FIXED, ids=[c[0] for c in FIXED])
def test_fixed_cases_match_keras(version: int, case: Case) -> None:
    differential(case, version)


# ----------------------------------------------------------------------------- symbolic (no Keras)


def _out(name: str, kwargs: dict[str, Any], shape: tuple, version: int = 3) -> tuple:
    return tuple(build_layer(name, kwargs, [shape], version).outputs[0])


@pytest.mark.parametrize("version", VERSIONS)
def test_conv2d_on_symbolic_height(version: int) -> None:
    h = Sym.atom("h")
    built = build_layer(
        "Conv2D", {"filters": 8, "kernel_size": 3, "padding": "valid"}, [(None, h, 5, 3)], version
    )
    out = built.outputs[0]
    assert out[0] is None and out[2] == 3 and out[3] == 8
    assert isinstance(out[1], Sym) and "h" in str(out[1])
    # Weights do not depend on spatial sizes.
    assert [(w.name, w.shape) for w in built.weights] == [("kernel", (3, 3, 3, 8)), ("bias", (8,))]


def test_same_padding_and_resampling_keep_symbols_exact() -> None:
    h = Sym.atom("h")
    assert _out("Conv2D", {"filters": 4, "kernel_size": 5, "padding": "same"}, (None, h, h, 3)) == (
        None,
        h,
        h,
        4,
    )
    assert _out(
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
        (None, h, 4, 3),
    ) == (None, mul(2, h), 8, 2)
    assert _out("ZeroPadding2D", {"padding": ((1, 2), (0, 0))}, (None, h, 4, 3)) == (
        None,
        add(h, 3),
        4,
        3,
    )
    assert _out("UpSampling2D", {"size": (3, 1)}, (None, 3, h, h)) == (None, 9, h, h)
    assert _out("GlobalMaxPooling2D", {"keepdims": True}, (None, h, h, 7)) == (None, 1, 1, 7)


def test_symbolic_filters_flow_into_weights() -> None:
    n = Sym.atom("n")
    built = build_layer(
        "SeparableConv2D",
        {"filters": n, "kernel_size": 3, "depth_multiplier": 2},
        [(None, 8, 8, 3)],
        3,
    )
    assert built.outputs[0][-1] == n
    shapes = [w.shape for w in built.weights]
    assert shapes == [(3, 3, 3, 2), (1, 1, 6, n), (n,)]


def test_pooling_of_symbolic_size_is_symbolic() -> None:
    h = Sym.atom("h")
    out = _out("MaxPooling2D", {"pool_size": 2}, (None, h, 6, 3))
    assert isinstance(out[1], Sym) and "h" in out[1].atoms().pop()
    assert out[2:] == (3, 3)


def test_unknown_when_channels_undefined() -> None:
    with pytest.raises(Unknown):
        build_layer("Conv2D", {"filters": 2, "kernel_size": 1}, [(None, 4, 4, None)], 3)


# ----------------------------------------------------------------------------- __init__ attributes


@st.composite
def conv_attribute_cases(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    rank = draw(st.integers(1, 3))
    kw: dict[str, Any] = {"kernel_size": _ints(draw, rank, 0, 3)}
    _kw(draw, kw, "filters", st.sampled_from([None, 1, 4, 6, 2.0, 0]))
    if "filters" not in kw:
        kw["filters"] = 4
    _kw(draw, kw, "strides", st.just(_ints(draw, rank, 0, 3)))
    _kw(draw, kw, "dilation_rate", st.just(_ints(draw, rank, 1, 2)))
    _kw(draw, kw, "padding", st.sampled_from(["valid", "same", "causal", "SAME", "full"]))
    _kw(draw, kw, "data_format", st.sampled_from([None, "channels_first", "Channels_Last"]))
    _kw(draw, kw, "groups", st.sampled_from([None, 1, 2]))
    _kw(draw, kw, "use_bias", st.booleans())
    return f"Conv{rank}D", kw


@pytest.mark.oracle
@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=80, **_SETTINGS)
@given(case=conv_attribute_cases())
def test_conv_init_attributes_match_keras(version: int, case: tuple[str, dict[str, Any]]) -> None:
    """What a subclass overriding build() reads from ``self`` (``self.kernel_size``...) is the
    value Keras's ``__init__`` set; an attribute bnlint gives where Keras raises is a bug only
    if Keras built the layer (then every given value must match)."""
    from bnlint.keras.catalogue import init_attributes

    name, kw = case
    keras = importlib.import_module(PACKAGES[version])
    got = init_attributes(name, dict(kw), version)
    try:
        layer = getattr(keras.layers, name)(**kw)
    except Exception:
        return  # Keras refuses the arguments; the layer is never built
    for key, value in got.items():
        live = getattr(layer, key)
        assert value == live and type(value) is type(live), f"{name}({kw}).{key}"
        if isinstance(value, tuple):
            assert [type(v) for v in value] == [type(v) for v in live], f"{name}({kw}).{key}"
    # every argument here is plain data: Keras built the layer, so bnlint knows each attribute
    assert set(got) == {"rank", "filters", "groups", "kernel_size", "strides", "dilation_rate",
                        "padding", "data_format", "use_bias"}, f"{name}({kw}): {got}"


@pytest.mark.oracle
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", ["Conv1D", "Conv2D", "Conv3D"])
def test_conv_read_only_attributes_match_keras(version: int, name: str) -> None:
    """``self.kernel = ...`` in a Keras 3 Conv2D subclass raises AttributeError: the public
    properties without a setter are Keras's."""
    import inspect

    from bnlint.keras.catalogue import read_only_attributes

    cls = getattr(importlib.import_module(PACKAGES[version]).layers, name)
    live = {k for k in dir(cls) if not k.startswith("_") and isinstance(
        inspect.getattr_static(cls, k), property) and inspect.getattr_static(cls, k).fset is None}
    assert read_only_attributes(name, version) == live
