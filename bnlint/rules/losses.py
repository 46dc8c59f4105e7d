"""KR001-KR005: output activation, loss and from_logits that do not fit together."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bnlint.rules.base import Context, Finding, Rule
from bnlint.rules.graphs import (
    activation,
    all_layers,
    single_output,
    units,
)
from bnlint.rules.lossinfo import PRETTY, Compiled, Loss, compiled, loss_info  # noqa: F401

if TYPE_CHECKING:
    from bnlint import graph

# Loss recognition (aliases, loss objects, functions, positional compile arguments) is
# shared by every loss rule: bnlint.rules.lossinfo.
_PRETTY = PRETTY
_compiled = compiled


class SoftmaxOnSingleUnit(Rule):
    code = "KR001"
    name = "softmax-on-single-unit"
    message = "`{layer}` applies softmax over a single unit: its output is always 1.0"
    why = ("Softmax normalizes over the last axis; with one unit exp(x)/exp(x) = 1 whatever the "
           "input, so the model cannot learn anything.")
    fix = ("For a binary output use `Dense(1, activation=\"sigmoid\")` with binary "
           "cross-entropy, or `Dense(2, activation=\"softmax\")`.")
    severity = "error"
    fix_safety = "unsafe"

    def check(self, ctx: Context) -> Iterator[Finding]:
        from bnlint.fix import whole_sites

        return whole_sites(ctx, list(self._flagged(ctx)))

    def _flagged(self, ctx: Context) -> Iterator[tuple[graph.Layer, Finding]]:
        for top in ctx.models:
            for _, la in all_layers(top):
                if activation(la) != "softmax" or la.unknown:
                    continue
                if la.config.get("axis", -1) not in (-1, None):
                    continue
                if units(la) == 1:
                    yield la, self.report(ctx, la.location, layer=la.name,
                                          fix_args={"activation": "sigmoid"})


class LogitsLossOnProbabilities(Rule):
    code = "KR002"
    name = "from-logits-on-probabilities"
    message = ("`{var}` is compiled with {loss}(from_logits=True) but its output `{layer}` "
               "already applies {act}")
    why = ("from_logits=True applies softmax/sigmoid inside the loss, so the {act} is applied "
           "twice and the gradients are squashed.")
    fix = "Drop `from_logits=True` (or remove the {act} from `{layer}` and output logits)."
    severity = "error"
    fix_safety = "unsafe"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for c in _compiled(ctx):
            out = single_output(c.model)
            if out is None or c.loss.from_logits is not True:
                continue
            layer, act, _ = out
            if act in ("softmax", "sigmoid"):
                yield self.report(ctx, c.at, var=c.var, loss=_PRETTY[c.loss.kind],
                                  layer=layer.name, act=act, fix_args={"loss": c.loss.kind})


class ProbabilityLossOnLogits(Rule):
    code = "KR003"
    name = "probability-loss-on-logits"
    message = ("`{var}` is compiled with {loss} expecting probabilities but its output "
               "`{layer}` is linear")
    why = ("With from_logits=False the loss treats the raw outputs as probabilities (clipping "
           "them to [eps, 1-eps]), which gives wrong losses and vanishing gradients.")
    fix = "Pass `from_logits=True` to the loss (or add the softmax/sigmoid to `{layer}`)."
    severity = "error"
    fix_safety = "unsafe"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for c in _compiled(ctx):
            out = single_output(c.model)
            if out is None or c.loss.from_logits is not False:
                continue
            layer, act, _ = out
            if act == "linear" and layer.class_name not in ("Activation",):
                yield self.report(ctx, c.at, var=c.var, loss=_PRETTY[c.loss.kind],
                                  layer=layer.name, fix_args={"loss": c.loss.kind})


class LossActivationMismatch(Rule):
    code = "KR004"
    name = "loss-activation-mismatch"
    message = "`{var}` is compiled with {loss} but its output `{layer}` is a {n}-unit {act}"
    why = ("{reason}")
    fix = "{advice}"
    severity = "error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for c in _compiled(ctx):
            out = single_output(c.model)
            if out is None:
                continue
            layer, act, n = out
            if n is None or n < 2:
                continue
            if c.loss.kind == "bce" and act == "softmax":
                reason = ("Binary cross-entropy treats each unit as an independent yes/no, "
                          "while softmax makes the units compete; Keras then also reports "
                          "binary accuracy, which looks far better than it is.")
                advice = "Use categorical_crossentropy (one-hot labels) or the sparse variant."
            elif c.loss.kind in ("cce", "scce") and act == "sigmoid":
                reason = ("Categorical cross-entropy expects one probability distribution over "
                          "the classes, while independent sigmoids do not sum to 1.")
                advice = ("Use softmax for single-label classes, or binary_crossentropy for "
                          "multi-label outputs.")
            else:
                continue
            yield self.report(ctx, c.at, var=c.var, loss=_PRETTY[c.loss.kind],
                              layer=layer.name, n=n, act=act, reason=reason, advice=advice)


class CategoricalLossOnSingleUnit(Rule):
    code = "KR005"
    name = "categorical-loss-on-single-unit"
    message = "`{var}` is compiled with {loss} but its output `{layer}` has a single unit"
    why = ("Categorical cross-entropy sums over classes; with one unit there is one class, so "
           "the loss is constant (or meaningless) and the model does not learn.")
    fix = ("For a binary target use `binary_crossentropy` with `Dense(1, activation="
           "\"sigmoid\")`; for N classes use `Dense(N, activation=\"softmax\")`.")
    severity = "error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for c in _compiled(ctx):
            out = single_output(c.model)
            if out is None or c.loss.kind not in ("cce", "scce"):
                continue
            layer, _, n = out
            if n == 1:
                yield self.report(ctx, c.at, var=c.var, loss=_PRETTY[c.loss.kind],
                                  layer=layer.name)
