"""KR006-KR008: output activations and losses that cannot work together (beyond KR001-KR005)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bnlint.rules.base import Context, Finding, Rule
from bnlint.rules.graphs import (
    INFERENCE_IDENTITY,
    activation,
    output_layers,
    single_inbound,
    single_output,
    through_identity,
    walk_models,
)
from bnlint.rules.lossinfo import (
    CLASSIFICATION,
    REGRESSION,
    compiled,
    has_classification_metric,
)

if TYPE_CHECKING:
    from bnlint import graph

#: activations whose outputs are never negative (or lie in (0, 1)): as logits they cannot
#: express "unlikely" (a negative logit)
_NON_NEGATIVE = {"relu": "cannot be negative", "relu6": "lie in [0, 6]",
                 "sigmoid": "lie in (0, 1)", "hard_sigmoid": "lie in [0, 1]",
                 "softplus": "cannot be negative", "exponential": "cannot be negative",
                 "softmax": "lie in (0, 1)"}
#: activations whose outputs are not probabilities (beyond the linear case KR003 covers)
_NOT_PROBABILITIES = {"relu", "relu6", "elu", "selu", "leaky_relu", "leakyrelu", "prelu", "tanh",
                      "softplus", "softsign", "exponential", "gelu", "silu", "swish", "mish",
                      "linear"}
#: layers that keep the range of their input's values (pooling picks or averages them)
_RANGE_KEEPING = INFERENCE_IDENTITY | {
    f"{kind}{d}D" for kind in ("GlobalAveragePooling", "GlobalMaxPooling", "AveragePooling",
                               "MaxPooling", "Cropping", "UpSampling") for d in (1, 2, 3)
} | {"Permute"}


def _act_of(layer: graph.Layer) -> Any:
    """activation(), with a ReLU layer that leaks or is capped told apart from plain relu."""
    act = activation(layer)
    if layer.class_name == "ReLU":
        slope = layer.config.get("negative_slope", 0.0)
        if slope not in (0, 0.0, None):
            return "leaky_relu"
        if layer.config.get("threshold", 0.0) not in (0, 0.0, None):
            return False
        if layer.config.get("max_value") == 6:
            return "relu6"
    return act


class RegressionLossOnClassifier(Rule):
    code = "KR006"
    name = "regression-loss-on-classifier"
    message = "`{var}` is compiled with {loss} but its output `{layer}` {what}"
    why = ("{reason}")
    fix = "{advice}"
    severity = "error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for c in compiled(ctx):
            if c.loss.kind not in REGRESSION:
                continue
            out = single_output(c.model)
            if out is None:
                continue
            layer, act, n = out
            if act == "softmax" and n is not None and n >= 2:
                what = f"is a {n}-class softmax"
                reason = ("A softmax output is a probability distribution over classes; a "
                          "regression loss on it has small, flat gradients where the "
                          "predictions are confidently wrong, so training stalls, and "
                          "Keras's 'accuracy' then is not the classification accuracy you "
                          "expect.")
                advice = ("If the model classifies, use `categorical_crossentropy` (one-hot "
                          "labels) or `sparse_categorical_crossentropy` (integer labels); if it "
                          f"predicts values, remove the softmax from `{layer.name}`.")
            elif act == "sigmoid" and has_classification_metric(c) and not _reconstructs(c.model):
                what = "is a sigmoid and it is measured with classification metrics"
                reason = ("A sigmoid output scored with accuracy/AUC is a binary (or "
                          "multi-label) classifier; a regression loss on probabilities has "
                          "vanishing gradients where the sigmoid saturates, which "
                          "cross-entropy cancels.")
                advice = "Use `binary_crossentropy`."
            else:
                continue
            yield self.report(ctx, c.at, var=c.var, loss=c.loss.pretty, layer=layer.name,
                              what=what, reason=reason, advice=advice)


def _reconstructs(model: graph.Model) -> bool:
    """An autoencoder-like model: its single output has the shape of its single input (a
    sigmoid reconstruction scored with mse is a regression, whatever metric is added)."""
    ins, outs = model.input_shapes, model.output_shapes
    return len(ins) == 1 and len(outs) == 1 and ins[0] is not None and (
        tuple(ins[0]) == tuple(outs[0] or ()))


class NonNegativeLogits(Rule):
    code = "KR007"
    name = "non-negative-logits-before-softmax"
    message = ("`{src}` applies {act} right before the softmax output `{out}`: the logits "
               "{range}")
    why = ("Softmax turns logits into probabilities through exp(); a class is made unlikely by "
           "a negative logit. After {act} the logits {range}, so the model cannot push a "
           "class's probability down (dead ReLU units give every class the same logit), and "
           "training stalls or predicts one class.")
    fix = ("Remove the {act} from `{src}` (a linear last layer produces the logits), e.g. "
           "`Dense(n, activation=\"softmax\")` instead of a {act} layer followed by softmax.")
    severity = "error"
    logits_message = ("`{var}` is compiled with {loss}(from_logits=True) but its output `{src}` "
                      "applies {act}: the logits the loss turns into probabilities {range}")

    def check(self, ctx: Context) -> Iterator[Finding]:
        for top in ctx.models:
            for model in walk_models(top):
                for out in output_layers(model) or []:
                    last = through_identity(model, out)
                    if last.class_name not in ("Activation", "Softmax") or last.unknown:
                        continue
                    if activation(last) != "softmax":
                        continue
                    if last.config.get("axis", -1) not in (-1, None):
                        continue
                    src = single_inbound(model, last)
                    if src is None:
                        continue
                    src = through_identity(model, src)
                    if src.unknown:
                        continue
                    act = _act_of(src)
                    if act not in _NON_NEGATIVE:
                        continue
                    yield self.report(ctx, src.location, src=src.name, act=act,
                                      out=last.name, range=_NON_NEGATIVE[act])
        # the softmax/sigmoid inside a from_logits=True loss (KR002 covers a softmax or sigmoid
        # output; this is the non-negative rest)
        for c in compiled(ctx):
            if c.loss.kind not in CLASSIFICATION or c.loss.from_logits is not True:
                continue
            out = single_output(c.model)
            if out is None:
                continue
            layer, _, _ = out
            act = _act_of(layer)
            if act not in _NON_NEGATIVE or act in ("softmax", "sigmoid"):
                continue
            yield self.report(ctx, c.at, template=self.logits_message, var=c.var,
                              loss=c.loss.pretty, src=layer.name, act=act, out="the loss",
                              range=_NON_NEGATIVE[act])


def _producer(model: graph.Model, layer: graph.Layer) -> tuple[graph.Layer, bool]:
    """Walk back through layers that keep the range of values; (producer, walked any)."""
    cur = layer
    walked = False
    for _ in range(50):
        if not (cur.class_name in _RANGE_KEEPING or (
                cur.class_name == "Activation" and activation(cur) == "linear")):
            break
        src = single_inbound(model, cur)
        if src is None:
            break
        cur = src
        walked = True
    return cur, walked


class CrossEntropyOnUnboundedOutput(Rule):
    code = "KR008"
    name = "cross-entropy-on-unbounded-output"
    message = ("`{var}` is compiled with {loss} expecting probabilities but its output comes "
               "from {act} `{layer}`")
    why = ("With from_logits=False the loss reads the outputs as probabilities and clips them "
           "to [eps, 1-eps]: {act} outputs are not probabilities, so every value above 1 "
           "or below 0 gets the same clipped loss and no gradient.")
    fix = ("End the model with softmax (one label among classes) or sigmoid (binary / "
           "multi-label), or output linear logits and pass `from_logits=True` to the loss.")
    severity = "error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for c in compiled(ctx):
            if c.loss.kind not in CLASSIFICATION or c.loss.from_logits is not False:
                continue
            outs = output_layers(c.model)
            if outs is None or len(outs) != 1:
                continue
            last, walked = _producer(c.model, outs[0])
            if last.unknown:
                continue
            act = _act_of(last)
            if act not in _NOT_PROBABILITIES:
                continue
            if act == "linear":
                # a Dense/Conv without activation at the output is KR003's; only a linear
                # layer behind pooling/cropping (which KR003 does not look through) is ours
                direct = through_identity(c.model, outs[0])
                if not walked or direct is last or last.class_name == "Activation":
                    continue
            yield self.report(ctx, c.at, var=c.var, loss=c.loss.pretty, act=act,
                              layer=last.name)
