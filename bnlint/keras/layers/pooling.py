"""Pooling layers: windowed, global and (Keras 3) adaptive pooling; none own weights."""

from __future__ import annotations

from typing import Any

from bnlint.keras.catalogue import Built, Call, Unknown, layer_rule
from bnlint.keras.layers._shapes import pool_output_length
from bnlint.keras.layers.conv import (
    check_positive,
    check_rank,
    data_format,
    layout,
    positive_tuple,
    with_channel,
)
from bnlint.symbolic import Size


def _pool_padding(call: Call) -> str:
    value = call.cfg.get("padding")
    if not isinstance(value, str):
        raise Unknown(f"padding={value!r} is not supported by pooling layers")
    # Keras 3 pooling compares the string as given; tf-keras lower-cases it.
    padding = value if call.version == 3 else value.lower()
    if padding not in ("valid", "same"):
        raise Unknown(f"padding={value!r} is not valid for {call.cfg.class_name}")
    return padding


def _pool(call: Call, rank: int) -> Built:
    x = call.input
    pool = positive_tuple(call, "pool_size", rank)
    if call.cfg.get("strides") is None:
        strides: tuple[Size, ...] = pool
    else:
        strides = positive_tuple(call, "strides", rank, allow_zero=True)
    if any(isinstance(s, int) and s == 0 for s in strides):
        raise Unknown("pooling with a stride of 0")
    padding = _pool_padding(call)
    fmt = data_format(call)
    check_rank(call, x, rank + 2)
    c_axis, axes = layout(x, rank, fmt)
    spatial = [
        pool_output_length(x[a], p, padding, s) for a, p, s in zip(axes, pool, strides, strict=True)
    ]
    check_positive(call, spatial)
    return Built([with_channel(x, axes, spatial, c_axis, x[c_axis])])


@layer_rule("MaxPooling1D", "AveragePooling1D")
def pooling1d(call: Call) -> Built:
    return _pool(call, 1)


@layer_rule("MaxPooling2D", "AveragePooling2D")
def pooling2d(call: Call) -> Built:
    return _pool(call, 2)


@layer_rule("MaxPooling3D", "AveragePooling3D")
def pooling3d(call: Call) -> Built:
    return _pool(call, 3)


def _global_pool(call: Call, rank: int) -> Built:
    x = call.input
    fmt = data_format(call)
    # tf-keras GlobalAveragePooling1D/GlobalMaxPooling1D take keepdims through **kwargs.
    keepdims = call.cfg.flag("keepdims", False)
    check_rank(call, x, rank + 2)
    c_axis, axes = layout(x, rank, fmt)
    if call.version == 2 and any(x[a] == 0 for a in axes):
        raise Unknown("tf-keras rejects a global pooling over an empty axis")
    if not keepdims:
        return Built([(x[0], x[c_axis])])
    return Built([with_channel(x, axes, [1] * rank, c_axis, x[c_axis])])


@layer_rule("GlobalMaxPooling1D", "GlobalAveragePooling1D")
def global_pooling1d(call: Call) -> Built:
    return _global_pool(call, 1)


@layer_rule("GlobalMaxPooling2D", "GlobalAveragePooling2D")
def global_pooling2d(call: Call) -> Built:
    return _global_pool(call, 2)


@layer_rule("GlobalMaxPooling3D", "GlobalAveragePooling3D")
def global_pooling3d(call: Call) -> Built:
    return _global_pool(call, 3)


def _adaptive_output_size(value: Any, rank: int) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        sizes: tuple[Any, ...] = (value,) * rank
    elif isinstance(value, (list, tuple)) and len(value) == rank:
        sizes = tuple(value)
    else:
        raise Unknown(f"output_size={value!r} is not understood")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in sizes):
        raise Unknown(f"output_size={value!r} is not understood")
    return sizes


def _adaptive_pool(call: Call, rank: int) -> Built:
    if call.version != 3:
        raise Unknown(f"{call.cfg.class_name} exists only in Keras 3")
    x = call.input
    sizes = _adaptive_output_size(call.cfg.get("output_size"), rank)
    # `data_format or image_data_format()`, compared without lower-casing.
    fmt = call.cfg.get("data_format") or "channels_last"
    if fmt not in ("channels_first", "channels_last"):
        raise Unknown(f"data_format={fmt!r} is not understood")
    # These layers have no input spec: Keras 3 accepts any rank and keeps the
    # batch axis and the channel axis (last, or second).
    if len(x) < 2:
        raise Unknown(f"{call.cfg.class_name} needs an input of rank >= 2")
    if fmt == "channels_last":
        return Built([(x[0], *sizes, x[-1])])
    return Built([(x[0], x[1], *sizes)])


@layer_rule("AdaptiveAveragePooling1D", "AdaptiveMaxPooling1D")
def adaptive_pooling1d(call: Call) -> Built:
    return _adaptive_pool(call, 1)


@layer_rule("AdaptiveAveragePooling2D", "AdaptiveMaxPooling2D")
def adaptive_pooling2d(call: Call) -> Built:
    return _adaptive_pool(call, 2)


@layer_rule("AdaptiveAveragePooling3D", "AdaptiveMaxPooling3D")
def adaptive_pooling3d(call: Call) -> Built:
    return _adaptive_pool(call, 3)
