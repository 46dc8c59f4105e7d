"""BN001 and BN003: BatchNormalization at the output end of a model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bnlint.rules.base import Context, Finding, Rule
from bnlint.rules.graphs import (
    activation,
    consumers,
    is_bn,
    output_layers,
    single_inbound,
    through_identity,
    walk_models,
)

if TYPE_CHECKING:
    from bnlint import graph

_SQUASH = {"softmax", "sigmoid"}
_BIAS_LAYERS = {"Dense", "Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D",
                "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"}


def removal_args(model: graph.Model, bn: graph.Layer, consumed_by: int) -> dict[str, Any]:
    """What the (unsafe) removal fix of ``bn`` needs, or {} when the graph does not allow it:
    the layer is called once, on one input, and its output feeds ``consumed_by`` layers only.

    ``bias_at`` locates the layer before ``bn`` when it was written with ``use_bias=False``
    (the usual companion of BN, whose beta was the offset): the fix then drops that argument,
    so that the last layer learns its offset again.
    """
    if len(bn.nodes) != 1 or len(consumers(model).get(bn.name, [])) != consumed_by:
        return {}
    src = single_inbound(model, bn)
    if src is None:
        return {}
    out: dict[str, Any] = {"bn": bn.name, "remove": True}
    loc = src.location
    if src.class_name in _BIAS_LAYERS and src.config.get("use_bias") is False and \
            bn.config.get("center", True) is True and loc is not None and loc.line is not None:
        out["bias_at"] = [loc.line, loc.column, loc.cell]
    return out


class BatchNormBeforeSoftmax(Rule):
    code = "BN001"
    name = "batchnorm-before-softmax"
    message = ("BatchNormalization `{bn}` feeds the {act} output `{out}` of model `{model}`")
    why = ("BN re-centres and re-scales every logit over the batch, so the {act} sees logits "
           "whose per-class mean and spread are fixed by beta/gamma instead of learnt by the "
           "classifier, and inference uses different statistics than training.")
    fix = ("Remove `{bn}` (or move it before the last Dense/Conv layer) and let the last layer "
           "produce the logits.")
    fix_safety = "unsafe"

    def check(self, ctx: Context) -> Iterator[Finding]:
        from bnlint.fix import whole_sites

        return whole_sites(ctx, list(self._flagged(ctx)))

    def _flagged(self, ctx: Context) -> Iterator[tuple[graph.Layer, Finding]]:
        for top in ctx.models:
            for model in walk_models(top):
                for out in output_layers(model) or []:
                    last = through_identity(model, out)
                    if last.class_name not in ("Activation", "Softmax"):
                        continue
                    act = activation(last)
                    if act not in _SQUASH:
                        continue
                    src = single_inbound(model, last)
                    if src is None:
                        continue
                    src = through_identity(model, src)
                    if is_bn(src):
                        yield src, self.report(ctx, src.location, bn=src.name, act=act,
                                          out=last.name, model=model.name,
                                          fix_args=removal_args(model, src, 1))


class BatchNormAsOutput(Rule):
    code = "BN003"
    name = "batchnorm-as-output"
    message = "Model `{model}` outputs BatchNormalization `{bn}` directly"
    why = ("At inference BN applies gamma*(x-moving_mean)/sqrt(moving_variance+eps)+beta with "
           "the moving statistics, so predictions are not standardized (and until the model is "
           "trained, BN is almost the identity).")
    fix = ("If you want standardized outputs, standardize the predictions after predict() "
           "(e.g. (y - y.mean(0)) / y.std(0)); otherwise end the model with the layer that "
           "produces what you predict.")
    fix_safety = "unsafe"

    def check(self, ctx: Context) -> Iterator[Finding]:
        from bnlint.fix import whole_sites

        return whole_sites(ctx, list(self._flagged(ctx)))

    def _flagged(self, ctx: Context) -> Iterator[tuple[graph.Layer, Finding]]:
        for top in ctx.models:
            for model in walk_models(top):
                if model is not top:
                    continue  # a nested block ending in BN is normal (e.g. a backbone stage)
                for out in output_layers(model) or []:
                    last = through_identity(model, out)
                    if is_bn(last):
                        yield last, self.report(ctx, last.location, bn=last.name, model=model.name,
                                          fix_args=removal_args(model, last,
                                                                0 if last is out else 1))
