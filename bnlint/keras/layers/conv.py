"""Convolution layers: Conv1D-3D, their transposes, separable, depthwise, LocallyConnected.

Mirrors ``keras.src.layers.convolutional`` (Keras 3) and
``tf_keras.src.layers.convolutional`` / ``locally_connected`` (Keras 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bnlint.keras.catalogue import (
    Built,
    Call,
    Config,
    Shape,
    Unknown,
    WeightSpec,
    as_size,
    attributes_rule,
    layer_rule,
    read_only_rule,
)
from bnlint.keras.layers._shapes import (
    Dim,
    conv_output_length,
    deconv_output_length,
    require_known,
)
from bnlint.keras.layers.core import check_plain_dtype
from bnlint.symbolic import Size, Sym, floordiv, mul, product

# ----------------------------------------------------------------------------- config helpers


def data_format(call: Call) -> str:
    """``standardize_data_format`` / ``normalize_data_format``: None means channels_last."""
    value = call.cfg.get("data_format")
    if value is None:
        return "channels_last"  # image_data_format() of a default Keras config
    if not isinstance(value, str):
        raise Unknown(f"data_format={value!r} is not understood")
    fmt = value.lower()
    if fmt not in ("channels_first", "channels_last"):
        raise Unknown(f"data_format={value!r} is not understood")
    return fmt


def conv_padding(call: Call, allow_causal: bool) -> str:
    value = call.cfg.get("padding")
    if not isinstance(value, str):
        raise Unknown(f"padding={value!r} (explicit padding) is not supported")
    padding = value.lower()
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if padding not in allowed:
        raise Unknown(f"padding={value!r} is not valid for {call.cfg.class_name}")
    return padding


def positive_tuple(call: Call, key: str, n: int, allow_zero: bool = False) -> tuple[Size, ...]:
    """``standardize_tuple``/``normalize_tuple`` with their range check on known values."""
    values = call.cfg.tuple(key, n)
    for v in values:
        if isinstance(v, int) and (v < 0 or (v == 0 and not allow_zero)):
            raise Unknown(f"`{key}`={values} has a value Keras rejects")
    return values


def positive_size(call: Call, key: str) -> Size:
    v = call.cfg.size(key)
    if isinstance(v, int) and v <= 0:
        raise Unknown(f"`{key}`={v} must be positive")
    return v


def layout(shape: Shape, rank: int, fmt: str) -> tuple[int, list[int]]:
    """Channel axis and spatial axes of an input, counted from the end.

    Counting from the end lets tf-keras ``Conv`` accept extra leading batch axes.
    """
    n = len(shape)
    if fmt == "channels_last":
        return n - 1, list(range(n - 1 - rank, n - 1))
    return n - 1 - rank, list(range(n - rank, n))


def check_rank(call: Call, shape: Shape, expected: int, at_least: bool = False) -> None:
    ok = len(shape) >= expected if at_least else len(shape) == expected
    if not ok:
        want = f"at least {expected}" if at_least else str(expected)
        raise Unknown(f"{call.cfg.class_name} expects an input of rank {want}, got {len(shape)}")


def check_positive(call: Call, dims: Sequence[Dim], allow_zero: bool = False) -> None:
    """Keras refuses layers whose output would have an empty or negative axis."""
    for d in dims:
        if isinstance(d, int) and (d < 0 or (d == 0 and not allow_zero)):
            raise Unknown(
                f"{call.cfg.class_name}: an output axis would be {d}; the input is too small"
            )


def no_strided_dilation(strides: Sequence[Size], dilation: Sequence[Size]) -> None:
    ints = [v for v in (*strides, *dilation) if isinstance(v, int)]
    if len(ints) == len(strides) + len(dilation) and max(strides) > 1 and max(dilation) > 1:
        raise Unknown("`strides > 1` is not supported together with `dilation_rate > 1`")


def with_channel(shape: Shape, axes: list[int], spatial: list[Dim], c_axis: int, c: Dim) -> Shape:
    out = list(shape)
    for a, d in zip(axes, spatial, strict=True):
        out[a] = d
    out[c_axis] = c
    return tuple(out)


def check_lora(call: Call) -> None:
    # LoRA makes the kernel non-trainable but keeps it first in `weights`: not modelled.
    if call.cfg.values.get("lora_rank"):
        raise Unknown("LoRA-enabled convolutions are not modelled")


# ----------------------------------------------------------------------------- Conv1D/2D/3D


def _conv(call: Call, rank: int) -> Built:
    check_plain_dtype(call)
    check_lora(call)
    cls = call.cfg.class_name
    x = call.input
    filters = positive_size(call, "filters")
    groups_raw = call.cfg.get("groups")
    if call.version == 2:
        groups_raw = groups_raw or 1  # tf-keras: `self.groups = groups or 1`
    groups = as_size(groups_raw, "groups")
    if isinstance(groups, int) and groups <= 0:
        raise Unknown(f"groups={groups} must be positive")
    if isinstance(filters, int) and isinstance(groups, int) and filters % groups:
        raise Unknown(f"filters={filters} is not divisible by groups={groups}")
    kernel = positive_tuple(call, "kernel_size", rank)
    strides = positive_tuple(call, "strides", rank)
    dilation = positive_tuple(call, "dilation_rate", rank)
    # Keras 3 allows causal for Conv1D only; tf-keras for Conv1D (and SeparableConv1D).
    padding = conv_padding(call, allow_causal=rank == 1)
    fmt = data_format(call)
    no_strided_dilation(strides, dilation)
    # Keras 3 needs exactly rank+2 axes; tf-keras Conv accepts extra leading batch axes.
    check_rank(call, x, rank + 2, at_least=call.version == 2)
    c_axis, axes = layout(x, rank, fmt)
    channels = require_known(x[c_axis], f"the channel axis of {cls}'s input")
    if isinstance(channels, int) and isinstance(groups, int) and channels % groups:
        raise Unknown(f"input channels ({channels}) are not divisible by groups={groups}")
    spatial = [
        conv_output_length(x[a], k, padding, s, d)
        for a, k, s, d in zip(axes, kernel, strides, dilation, strict=True)
    ]
    check_positive(call, spatial)
    weights = [WeightSpec("kernel", (*kernel, floordiv(channels, groups), filters))]
    if call.cfg.flag("use_bias"):
        weights.append(WeightSpec("bias", (filters,)))
    return Built([with_channel(x, axes, spatial, c_axis, filters)], weights)


@layer_rule("Conv1D")
def conv1d(call: Call) -> Built:
    return _conv(call, 1)


@layer_rule("Conv2D")
def conv2d(call: Call) -> Built:
    return _conv(call, 2)


@layer_rule("Conv3D")
def conv3d(call: Call) -> Built:
    return _conv(call, 3)


# ----------------------------------------------------------------------------- attributes


def _attr_tuple(cfg: Config, key: str, n: int) -> tuple[Size, ...]:
    """``standardize_tuple`` / ``normalize_tuple``: the values as given (ints), each > 0 (Keras
    raises on 0 or less; tf-keras's strides 0 fails in ``_validate_init``)."""
    v = cfg.get(key)
    items = (v,) * n if isinstance(v, (int, Sym)) and not isinstance(v, bool) else v
    if not isinstance(items, (list, tuple)) or len(items) != n or not all(
            isinstance(x, (int, Sym)) and not isinstance(x, bool) for x in items):
        raise Unknown(f"`{key}`={v!r}")
    if any(isinstance(x, int) and x <= 0 for x in items):
        raise Unknown(f"`{key}`={v!r} has a value Keras rejects")
    return tuple(items)


def _attr_choice(cfg: Config, key: str, allowed: tuple[str, ...], none: str | None = None) -> str:
    v = cfg.get(key)
    if v is None and none is not None:
        return none  # image_data_format() of a default Keras config
    if not isinstance(v, str) or v.lower() not in allowed:
        raise Unknown(f"`{key}`={v!r}")
    return v.lower()


def _attr_plain(cfg: Config, key: str, kinds: tuple[type, ...]) -> Any:
    v = cfg.get(key)
    if v is not None and not isinstance(v, kinds):
        raise Unknown(f"`{key}`={v!r}")
    return v


_LAYER_READ_ONLY = {
    3: frozenset({
        "compute_dtype", "dtype", "input", "input_dtype", "losses", "metrics",
        "metrics_variables", "non_trainable_variables", "non_trainable_weights", "output", "path",
        "quantization_mode", "trainable_variables", "trainable_weights", "variable_dtype",
        "variables", "weights"}),
    2: frozenset({
        "compute_dtype", "dtype", "dtype_policy", "dynamic", "inbound_nodes", "input",
        "input_mask", "input_shape", "losses", "metrics", "name", "name_scope",
        "non_trainable_variables", "non_trainable_weights", "outbound_nodes", "output",
        "output_mask", "output_shape", "submodules", "trainable_variables", "trainable_weights",
        "updates", "variable_dtype", "variables", "weights"}),
}
# Keras 3's BaseConv reads its kernel through a property (LoRA, quantization)
read_only_rule(("Conv1D", "Conv2D", "Conv3D"),
               {3: _LAYER_READ_ONLY[3] | {"kernel"}, 2: _LAYER_READ_ONLY[2]})


@attributes_rule("Conv1D", "Conv2D", "Conv3D")
def conv_attributes(cfg: Config) -> dict[str, Any]:
    """``BaseConv.__init__`` (Keras 3) / ``Conv.__init__`` (tf-keras); ``activation`` is left to
    the reader (a function)."""
    rank = int(cfg.class_name[4])
    v2 = cfg.version == 2

    def filters() -> Any:
        f = _attr_plain(cfg, "filters", (int, float, Sym))
        return int(f) if v2 and isinstance(f, float) else f  # tf-keras: int(filters)

    def groups() -> Any:
        g = _attr_plain(cfg, "groups", (int, Sym))
        return (g or 1) if v2 else g  # tf-keras: `groups or 1`

    padding = ("valid", "same", "causal") if rank == 1 else ("valid", "same")
    return {
        "rank": lambda: rank,
        "filters": filters,
        "groups": groups,
        "kernel_size": lambda: _attr_tuple(cfg, "kernel_size", rank),
        "strides": lambda: _attr_tuple(cfg, "strides", rank),
        "dilation_rate": lambda: _attr_tuple(cfg, "dilation_rate", rank),
        "padding": lambda: _attr_choice(cfg, "padding", padding),
        "data_format": lambda: _attr_choice(cfg, "data_format",
                                            ("channels_first", "channels_last"), "channels_last"),
        "use_bias": lambda: _attr_plain(cfg, "use_bias", (bool, int)),
    }


# ----------------------------------------------------------------------------- transposes


def _conv_transpose(call: Call, rank: int) -> Built:
    check_plain_dtype(call)
    cls = call.cfg.class_name
    x = call.input
    filters = positive_size(call, "filters")
    kernel = positive_tuple(call, "kernel_size", rank)
    strides = positive_tuple(call, "strides", rank)
    dilation = positive_tuple(call, "dilation_rate", rank)
    padding = conv_padding(call, allow_causal=False)
    fmt = data_format(call)
    out_pad_raw = call.cfg.get("output_padding")
    out_pad: tuple[Size, ...] | None = None
    if out_pad_raw is not None:
        out_pad = positive_tuple(call, "output_padding", rank, allow_zero=True)
        for op, s in zip(out_pad, strides, strict=True):
            if isinstance(op, int) and isinstance(s, int) and op >= s:
                raise Unknown(f"output_padding={out_pad} must be smaller than strides={strides}")
    if call.version == 2:
        # tf-keras transposes subclass Conv*D: its constructor checks still apply.
        groups = call.cfg.get("groups", 1) or 1
        if isinstance(filters, int) and isinstance(groups, int) and filters % groups:
            raise Unknown(f"filters={filters} is not divisible by groups={groups}")
    no_strided_dilation(strides, dilation)
    if call.version == 2 and rank == 3:
        # tf-keras Conv3DTranspose ignores dilation_rate entirely.
        dilation = (1, 1, 1)
    check_rank(call, x, rank + 2)
    c_axis, axes = layout(x, rank, fmt)
    channels = require_known(x[c_axis], f"the channel axis of {cls}'s input")
    spatial = [
        deconv_output_length(x[a], k, padding, s, None if out_pad is None else out_pad[i], d)
        for i, (a, k, s, d) in enumerate(zip(axes, kernel, strides, dilation, strict=True))
    ]
    # Neither version checks a transpose's output; "same" with output_padding can give 0.
    check_positive(call, spatial, allow_zero=True)
    weights = [WeightSpec("kernel", (*kernel, filters, channels))]
    if call.cfg.flag("use_bias"):
        weights.append(WeightSpec("bias", (filters,)))
    return Built([with_channel(x, axes, spatial, c_axis, filters)], weights)


@layer_rule("Conv1DTranspose")
def conv1d_transpose(call: Call) -> Built:
    return _conv_transpose(call, 1)


@layer_rule("Conv2DTranspose")
def conv2d_transpose(call: Call) -> Built:
    return _conv_transpose(call, 2)


@layer_rule("Conv3DTranspose")
def conv3d_transpose(call: Call) -> Built:
    return _conv_transpose(call, 3)


# ----------------------------------------------------------------------------- depthwise / separable


def _depthwise_common(
    call: Call, rank: int, allow_causal: bool
) -> tuple[Shape, int, list[int], Size, Size, list[Dim]]:
    """Shared checks of depthwise and separable convolutions.

    Returns the input, its channel axis and spatial axes, its channel count, the
    depth multiplier and the output's spatial sizes.
    """
    cls = call.cfg.class_name
    x = call.input
    multiplier = positive_size(call, "depth_multiplier")
    kernel = positive_tuple(call, "kernel_size", rank)
    strides = positive_tuple(call, "strides", rank)
    dilation = positive_tuple(call, "dilation_rate", rank)
    padding = conv_padding(call, allow_causal=allow_causal)
    fmt = data_format(call)
    if call.version == 2:
        # tf-keras builds these on its Conv base, which rejects strided dilation;
        # Keras 3 depthwise/separable layers do not check it.
        no_strided_dilation(strides, dilation)
    check_rank(call, x, rank + 2)
    c_axis, axes = layout(x, rank, fmt)
    channels = require_known(x[c_axis], f"the channel axis of {cls}'s input")
    spatial = [
        conv_output_length(x[a], k, padding, s, d)
        for a, k, s, d in zip(axes, kernel, strides, dilation, strict=True)
    ]
    if call.version == 2 and rank == 2 and any(d != 1 for d in dilation):
        # tf-keras runs these as TF ops that dilate through space_to_batch, which
        # forgets every spatial size (and skips the size check) as soon as one of
        # them is undefined.
        if any(x[a] is None for a in axes):
            spatial = [None] * rank
    check_positive(call, spatial)
    return x, c_axis, axes, channels, multiplier, spatial


def _depthwise(call: Call, rank: int) -> Built:
    check_plain_dtype(call)
    x, c_axis, axes, channels, multiplier, spatial = _depthwise_common(call, rank, False)
    kernel = call.cfg.tuple("kernel_size", rank)
    out_channels = mul(channels, multiplier)
    use_bias = call.cfg.flag("use_bias")
    # Keras 3 names the depthwise kernel "kernel"; tf-keras "depthwise_kernel".
    name = "kernel" if call.version == 3 else "depthwise_kernel"
    weights = [WeightSpec(name, (*kernel, channels, multiplier))]
    if use_bias:
        weights.append(WeightSpec("bias", (out_channels,)))
    out_c: Dim = out_channels
    if call.version == 2 and rank == 1 and data_format(call) == "channels_first":
        dilation = call.cfg.tuple("dilation_rate", 1)
        if dilation[0] != 1 and x[axes[0]] is None and not use_bias:
            # tf-keras's NCHW dilated depthwise op forgets the channel axis too
            # when the length is undefined; only bias_add would restore it.
            out_c = None
    return Built([with_channel(x, axes, spatial, c_axis, out_c)], weights)


@layer_rule("DepthwiseConv1D")
def depthwise_conv1d(call: Call) -> Built:
    return _depthwise(call, 1)


@layer_rule("DepthwiseConv2D")
def depthwise_conv2d(call: Call) -> Built:
    return _depthwise(call, 2)


def _separable(call: Call, rank: int) -> Built:
    check_plain_dtype(call)
    filters = positive_size(call, "filters")
    # tf-keras SeparableConv1D accepts causal padding; Keras 3 does not.
    causal = call.version == 2 and rank == 1
    x, c_axis, axes, channels, multiplier, spatial = _depthwise_common(call, rank, causal)
    kernel = call.cfg.tuple("kernel_size", rank)
    weights = [
        WeightSpec("depthwise_kernel", (*kernel, channels, multiplier)),
        WeightSpec("pointwise_kernel", (*(1,) * rank, mul(channels, multiplier), filters)),
    ]
    if call.cfg.flag("use_bias"):
        weights.append(WeightSpec("bias", (filters,)))
    return Built([with_channel(x, axes, spatial, c_axis, filters)], weights)


@layer_rule("SeparableConv1D")
def separable_conv1d(call: Call) -> Built:
    return _separable(call, 1)


@layer_rule("SeparableConv2D")
def separable_conv2d(call: Call) -> Built:
    return _separable(call, 2)


# ----------------------------------------------------------------------------- LocallyConnected (tf-keras)


def _connections(length: int, kernel: int, stride: int, padding: str, out_len: int) -> int:
    """Inputs connected to the outputs along one axis (``conv_utils.conv_connected_inputs``)."""
    left = kernel // 2
    right = kernel - left
    total = 0
    for p in range(out_len):
        center = p * stride + (left if padding == "valid" else 0)
        total += max(0, min(length, center + right) - max(0, center - left))
    return total


def _locally_connected(call: Call, rank: int) -> Built:
    if call.version != 2:
        raise Unknown(f"{call.cfg.class_name} exists only in tf-keras")
    cls = call.cfg.class_name
    x = call.input
    filters = call.cfg.size("filters")
    kernel = positive_tuple(call, "kernel_size", rank)
    strides = positive_tuple(call, "strides", rank, allow_zero=True)
    padding = conv_padding(call, allow_causal=False)
    implementation = call.cfg.get("implementation")
    if implementation not in (1, 2, 3):
        raise Unknown(f"implementation={implementation!r} is not understood")
    if padding != "valid" and implementation == 1:
        raise Unknown(f"{cls} with implementation=1 supports only padding='valid'")
    fmt = data_format(call)
    check_rank(call, x, rank + 2)
    c_axis, axes = layout(x, rank, fmt)
    channels = require_known(x[c_axis], f"the channel axis of {cls}'s input")
    sizes = [require_known(x[a], f"axis {a} of {cls}'s input") for a in axes]
    if any(isinstance(s, int) and s == 0 for s in strides):
        raise Unknown("strides of 0")
    spatial: list[Size] = []
    for s_in, k, s in zip(sizes, kernel, strides, strict=True):
        out = conv_output_length(s_in, k, padding, s)
        assert out is not None
        spatial.append(out)
    check_positive(call, spatial)
    if implementation == 1:
        k_shape: tuple[Size, ...] = (product(spatial), mul(product(kernel), channels), filters)
    elif implementation == 2:
        if fmt == "channels_first":
            k_shape = (channels, *sizes, filters, *spatial)
        else:
            k_shape = (*sizes, channels, *spatial, filters)
    else:
        values = [*sizes, *kernel, *strides, *spatial, channels, filters]
        if any(isinstance(v, Sym) for v in values):
            raise Unknown(f"{cls} implementation=3 needs every size to be known")
        count = 1
        for s_in, k, s, o in zip(sizes, kernel, strides, spatial, strict=True):
            count *= _connections(s_in, k, s, padding, o)  # type: ignore[arg-type]
        k_shape = (count * channels * filters,)  # type: ignore[operator]
    weights = [WeightSpec("kernel", k_shape)]
    if call.cfg.flag("use_bias"):
        weights.append(WeightSpec("bias", (*spatial, filters)))
    return Built([with_channel(x, axes, spatial, c_axis, filters)], weights)


@layer_rule("LocallyConnected1D")
def locally_connected1d(call: Call) -> Built:
    return _locally_connected(call, 1)


@layer_rule("LocallyConnected2D")
def locally_connected2d(call: Call) -> Built:
    return _locally_connected(call, 2)
