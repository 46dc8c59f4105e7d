"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization, Normalization."""

from __future__ import annotations

from typing import Any

from bnlint.keras.catalogue import Built, Call, Unknown, WeightSpec, layer_rule
from bnlint.keras.layers._shapes import norm_axis, require_known


def _axes(value: Any) -> list[int]:
    if isinstance(value, int):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(a, int) for a in value):
        return list(value)
    raise Unknown(f"axis={value!r} is not understood")


def bn_param_shape(call: Call) -> tuple:
    """Shape of gamma/beta/moving_* for this input (Keras 3: one axis; tf-keras: several)."""
    x = call.input
    rank = len(x)
    axes = sorted({norm_axis(a, rank) for a in _axes(call.cfg.get("axis"))})
    if 0 in axes and call.version == 3:
        raise Unknown("BatchNormalization over the batch axis")
    if call.version == 2 and call.cfg.values.get("virtual_batch_size") is not None:
        raise Unknown("virtual_batch_size is not modelled")
    dims = {a: require_known(x[a], f"axis {a} of BatchNormalization's input") for a in axes}
    if len(axes) == 1:
        return (dims[axes[0]],)
    return tuple(dims.get(i, 1) for i in range(rank))


@layer_rule("BatchNormalization", "SyncBatchNormalization")
def batch_normalization(call: Call) -> Built:
    shape = bn_param_shape(call)
    weights = []
    if call.cfg.flag("scale"):
        weights.append(WeightSpec("gamma", shape))
    if call.cfg.flag("center"):
        weights.append(WeightSpec("beta", shape))
    weights.append(WeightSpec("moving_mean", shape, trainable=False))
    weights.append(WeightSpec("moving_variance", shape, trainable=False))
    if call.cfg.flag("renorm", False):
        if call.version == 2:
            raise Unknown("tf-keras batch renormalization is not modelled")
        weights += [
            WeightSpec("moving_stddev", shape, trainable=False),
            WeightSpec("renorm_mean", shape, trainable=False),
            WeightSpec("renorm_stddev", shape, trainable=False),
        ]
    return Built([call.input], weights)


@layer_rule("LayerNormalization")
def layer_normalization(call: Call) -> Built:
    x = call.input
    rank = len(x)
    raw_axes = _axes(call.cfg.get("axis"))
    if call.version == 3 and isinstance(call.cfg.get("axis"), (list, tuple)):
        raw_axes = sorted(raw_axes)  # Keras 3 sorts the given list as is (negatives first)
        axes = [norm_axis(a, rank) for a in raw_axes]
    else:
        axes = [norm_axis(a, rank) for a in raw_axes]
    shape = tuple(require_known(x[a], f"axis {a} of LayerNormalization's input") for a in axes)
    rms = call.version == 3 and call.cfg.flag("rms_scaling", False)
    weights = []
    if call.cfg.flag("scale") or rms:
        weights.append(WeightSpec("gamma", shape))
    if call.cfg.flag("center") and not rms:
        weights.append(WeightSpec("beta", shape))
    return Built([x], weights)


@layer_rule("GroupNormalization")
def group_normalization(call: Call) -> Built:
    x = call.input
    axis = norm_axis(call.cfg.get("axis"), len(x))
    dim = require_known(x[axis], "the channel axis of GroupNormalization's input")
    weights = []
    if call.cfg.flag("scale"):
        weights.append(WeightSpec("gamma", (dim,)))
    if call.cfg.flag("center"):
        weights.append(WeightSpec("beta", (dim,)))
    return Built([x], weights)


@layer_rule("Normalization")
def normalization(call: Call) -> Built:
    """The preprocessing layer: adapt() state is three non-trainable weights."""
    x = call.input
    rank = len(x)
    if call.cfg.values.get("mean") is not None:
        return Built([x])  # constants given: no weights
    axis = call.cfg.get("axis")
    axes = [] if axis is None else _axes(axis)
    keep = sorted(norm_axis(a, rank) for a in axes)
    shape = tuple(require_known(x[a], f"axis {a} of Normalization's input") for a in keep)
    count_dtype = "int64"
    return Built(
        [x],
        [
            WeightSpec("mean", shape, trainable=False),
            WeightSpec("variance", shape, trainable=False),
            WeightSpec("count", (), trainable=False, dtype=count_dtype),
        ],
    )
