"""Rules about one BatchNormalization layer and its neighbour: BN004-BN007, BN011."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bnlint.rules.base import Context, Finding, Rule
from bnlint.rules.graphs import (
    DROPOUT_CLASSES,
    INFERENCE_IDENTITY,
    RECURRENT_CLASSES,
    activation,
    bn_in,
    consumers,
    is_bn,
    single_inbound,
    walk_models,
)
from bnlint.rules.pysource import dotted, kwarg

if TYPE_CHECKING:
    from bnlint import graph

_BIAS_LAYERS = {"Dense", "Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D",
                "DepthwiseConv1D", "DepthwiseConv2D", "Conv1DTranspose", "Conv2DTranspose",
                "Conv3DTranspose"}


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def _bn_axis(layer: graph.Layer) -> int | None:
    axis = layer.config.get("axis", -1)
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            return None
        axis = axis[0]
    if isinstance(axis, bool) or not isinstance(axis, int):
        return None
    return axis


def _rank(layer: graph.Layer) -> int | None:
    shape = layer.output_shape
    return len(shape) if shape else None


def _conv_rank(class_name: str) -> int | None:
    for digit, rank in (("1D", 3), ("2D", 4), ("3D", 5)):
        if class_name.endswith(digit) or f"{digit}" in class_name:
            return rank
    return None


def _channel_axis(layer: graph.Layer, rank: int | None) -> int | None:
    """Channel axis (non-negative) of a layer's output, when its data_format is explicit."""
    fmt = layer.config.get("data_format")
    if fmt not in ("channels_first", "channels_last"):
        return None
    rank = rank or _conv_rank(layer.class_name)
    if rank is None:
        return None
    return 1 if fmt == "channels_first" else rank - 1


class BiasBeforeBatchNorm(Rule):
    code = "BN004"
    name = "bias-before-batchnorm"
    message = "`{layer}` ({cls}) adds a bias that BatchNormalization `{bn}` subtracts again"
    why = ("BN subtracts the per-channel batch mean, which cancels a constant bias exactly; "
           "BN's beta already plays its role, so the bias is dead weight.")
    fix = "Pass `use_bias=False` to `{layer}`."
    severity = "note"
    fix_safety = "safe"
    # On by default (the issue asks for it on seed 000); severity "note": dead weight, not a bug.

    def check(self, ctx: Context) -> Iterator[Finding]:
        from bnlint.fix import whole_sites

        return whole_sites(ctx, list(self._flagged(ctx)))

    def _flagged(self, ctx: Context) -> Iterator[tuple[graph.Layer, Finding]]:
        for top in ctx.models:
            for model in walk_models(top):
                users = consumers(model)
                outputs = {r.layer for r in model.outputs}
                for la in model.layers:
                    if la.class_name not in _BIAS_LAYERS or la.unknown or len(la.nodes) != 1:
                        continue
                    if la.config.get("use_bias", True) is not True or la.name in outputs:
                        continue
                    if activation(la) != "linear":
                        continue
                    found = _next_bn(model, la, users)
                    if found is None:
                        continue
                    bn, before = found
                    axis = _bn_axis(bn)
                    if axis is None:
                        continue
                    rank = _rank(before)
                    first = la.config.get("data_format") == "channels_first" and (
                        before.class_name != "Flatten")
                    if rank is not None:
                        if not -rank <= axis < rank:
                            continue
                        same = axis % rank == (1 if first else rank - 1)
                    else:
                        same = axis == -1 and not first
                    if not same:
                        continue
                    yield la, self.report(ctx, la.location, layer=la.name, cls=la.class_name,
                                          bn=bn.name, fix_args={"bn": bn.name})


#: between a biased layer and BN, layers that change nothing at inference and keep each
#: channel's bias constant over the values BN averages (Flatten: one feature per value)
_BIAS_PASS = (DROPOUT_CLASSES | {"GaussianNoise", "ActivityRegularization", "Identity",
                                 "Flatten"})


def _next_bn(model: graph.Model, layer: graph.Layer, users: dict[str, list[graph.Layer]],
             ) -> tuple[graph.Layer, graph.Layer] | None:
    """The BatchNormalization that is the only consumer of ``layer``, directly or through
    layers that change nothing at inference (Dropout, a linear Activation...), with the
    layer that feeds it; None otherwise."""
    cur = layer
    for _ in range(20):
        nxt = users.get(cur.name, [])
        if len(nxt) != 1:
            return None
        if is_bn(nxt[0]):
            return nxt[0], cur
        step = nxt[0]
        if len(step.nodes) != 1 or not (step.class_name in _BIAS_PASS or (
                step.class_name == "Activation" and activation(step) == "linear")):
            return None
        cur = step
    return None


class DropoutBeforeBatchNorm(Rule):
    code = "BN005"
    name = "dropout-before-batchnorm"
    message = "{cls} `{drop}` feeds BatchNormalization `{bn}` directly"
    why = ("Dropout changes the variance of its output between training and inference, so the "
           "moving variance BN learns during training does not match what it sees at inference "
           "(the variance shift of Li et al., CVPR 2019).")
    fix = "Put `{drop}` after `{bn}` (e.g. after the block's last BatchNormalization)."

    def check(self, ctx: Context) -> Iterator[Finding]:
        for model, la in bn_in(ctx.models):
            src = single_inbound(model, la)
            if src is None or src.class_name not in DROPOUT_CLASSES:
                continue
            rate = _number(src.config.get("rate"))
            if rate is not None and rate <= 0:
                continue
            yield self.report(ctx, src.location, cls=src.class_name, drop=src.name, bn=la.name)


class BatchNormMomentumInverted(Rule):
    code = "BN006"
    name = "batchnorm-momentum-inverted"
    message = "BatchNormalization `{bn}` has momentum={momentum}{ported}"
    why = ("Keras updates moving = momentum * moving + (1 - momentum) * batch, so a small "
           "momentum makes the moving statistics follow the last few batches; PyTorch's "
           "momentum is the complement (PyTorch 0.1 is Keras 0.9).")
    fix = "Use momentum={suggest} (Keras's default is 0.99)."
    fix_safety = "unsafe"

    def check(self, ctx: Context) -> Iterator[Finding]:
        from bnlint.fix import whole_sites

        return whole_sites(ctx, list(self._flagged(ctx)))

    def _flagged(self, ctx: Context) -> Iterator[tuple[graph.Layer, Finding]]:
        for _, la in bn_in(ctx.models):
            m = _number(la.config.get("momentum"))
            if m is None or not 0 < m < 0.5:  # 0.0 is deliberate (ResNet-RS)
                continue
            eps = _number(la.config.get("epsilon"))
            ported = (" and epsilon=1e-05: PyTorch's defaults, ported without inverting momentum"
                      if eps is not None and abs(eps - 1e-5) < 1e-12 else
                      f": the moving statistics keep only {m:.0%} of their value per step"
                      )
            yield la, self.report(ctx, la.location, bn=la.name,
                                  momentum=la.config.get("momentum"), ported=ported,
                                  suggest=round(1 - m, 6) if m > 0 else 0.99,
                                  fix_args={"momentum": m, "suggest": round(1 - m, 6)})


class BatchNormAxisMismatch(Rule):
    code = "BN007"
    name = "batchnorm-axis-mismatch"
    message = ("BatchNormalization `{bn}` normalizes axis {axis} but `{src}` puts its channels "
               "on axis {channel} (data_format=\"{fmt}\")")
    why = ("BN keeps one mean/variance per index of its axis; on the wrong axis it normalizes "
           "over channels per spatial position, which breaks as soon as the image size changes "
           "and is not what BN is meant to do.")
    fix = "Use `axis={fix_axis}` on `{bn}`."

    def check(self, ctx: Context) -> Iterator[Finding]:
        for model, la in bn_in(ctx.models):
            axis = _bn_axis(la)
            if axis is None:
                continue
            src = single_inbound(model, la)
            seen = 0
            while src is not None and seen < 20 and (
                    src.class_name in INFERENCE_IDENTITY - {"Flatten", "Reshape"}
                    or src.class_name in ("Activation", "ReLU", "LeakyReLU", "ELU")):
                src = single_inbound(model, src)
                seen += 1
            if src is None:
                continue
            rank = _rank(src) or _conv_rank(src.class_name)
            channel = _channel_axis(src, rank)
            if channel is None or rank is None:
                continue
            if not -rank <= axis < rank or axis % rank == channel:
                continue
            fmt = src.config.get("data_format")
            yield self.report(ctx, la.location, bn=la.name, axis=axis, src=src.name,
                              channel=channel, fmt=fmt, fix_axis=1 if fmt == "channels_first" else -1)


def _inner_class(ctx: Context, layer: graph.Layer) -> str | None:
    inner = layer.config.get("layer")
    if isinstance(inner, dict) and isinstance(inner.get("class_name"), str):
        return inner["class_name"]
    if ctx.source is None or layer.location is None or layer.location.line is None:
        return None
    call = ctx.source.call_at(layer.location.line, layer.location.column, layer.location.cell)
    while call is not None and isinstance(call.func, ast.Call):  # Wrapper(...)(x)
        call = call.func
    if call is None:
        return None
    arg = call.args[0] if call.args else kwarg(call, "layer")
    if arg is None or not hasattr(arg, "func"):
        return None
    name = dotted(arg.func)
    return name.rsplit(".", 1)[-1] if name else None


class BatchNormOnSequences(Rule):
    code = "BN011"
    name = "batchnorm-on-sequences"
    message = "BatchNormalization `{bn}` {where}"
    why = ("Batch statistics over time steps mix padded and real steps and differ between "
           "sequence lengths seen in training and at inference; LayerNormalization normalizes "
           "each step on its own.")
    fix = "Use `LayerNormalization()` instead of BatchNormalization here."

    def check(self, ctx: Context) -> Iterator[Finding]:
        for top in ctx.models:
            for model in walk_models(top):
                for la in model.layers:
                    if la.class_name == "TimeDistributed":
                        inner = _inner_class(ctx, la)
                        if inner in ("BatchNormalization", "SyncBatchNormalization"):
                            yield self.report(ctx, la.location, bn=la.name,
                                              where="is applied to every time step through "
                                                    "TimeDistributed")
                        continue
                    if not is_bn(la):
                        continue
                    src = single_inbound(model, la)
                    if src is None:
                        continue
                    if _returns_sequences(src):
                        yield self.report(ctx, la.location, bn=la.name,
                                          where=f"normalizes the sequence output of {src.class_name}"
                                                f" `{src.name}`")


def _returns_sequences(layer: graph.Layer) -> bool:
    if layer.class_name in RECURRENT_CLASSES:
        return layer.config.get("return_sequences") is True
    if layer.class_name == "Bidirectional":
        inner = layer.config.get("layer")
        if isinstance(inner, dict):
            cfg = inner.get("config")
            return isinstance(cfg, dict) and cfg.get("return_sequences") is True
        shape = layer.output_shape
        return shape is not None and len(shape) == 3
    return False
