"""BN001 and BN003: BatchNormalization at the output end of a model."""

from __future__ import annotations

from collections.abc import Iterator

from bnlint.rules.base import Context, Finding, Rule
from bnlint.rules.graphs import (
    activation,
    is_bn,
    output_layers,
    single_inbound,
    through_identity,
    walk_models,
)

_SQUASH = {"softmax", "sigmoid"}


class BatchNormBeforeSoftmax(Rule):
    code = "BN001"
    name = "batchnorm-before-softmax"
    message = ("BatchNormalization `{bn}` feeds the {act} output `{out}` of model `{model}`")
    why = ("BN re-centres and re-scales every logit over the batch, so the {act} sees logits "
           "whose per-class mean and spread are fixed by beta/gamma instead of learnt by the "
           "classifier, and inference uses different statistics than training.")
    fix = ("Remove `{bn}` (or move it before the last Dense/Conv layer) and let the last layer "
           "produce the logits.")

    def check(self, ctx: Context) -> Iterator[Finding]:
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
                        yield self.report(ctx, src.location, bn=src.name, act=act,
                                          out=last.name, model=model.name)


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

    def check(self, ctx: Context) -> Iterator[Finding]:
        for top in ctx.models:
            for model in walk_models(top):
                if model is not top:
                    continue  # a nested block ending in BN is normal (e.g. a backbone stage)
                for out in output_layers(model) or []:
                    last = through_identity(model, out)
                    if is_bn(last):
                        yield self.report(ctx, last.location, bn=last.name, model=model.name)
