"""KR001-KR005: output activation, loss and from_logits that do not fit together."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bnlint.rules.base import Context, Finding, Position, Rule
from bnlint.rules.graphs import (
    activation,
    all_layers,
    model_named,
    output_layers,
    through_identity,
    units,
)

if TYPE_CHECKING:
    from bnlint import graph

_KINDS = {
    "categorical_crossentropy": "cce", "categoricalcrossentropy": "cce",
    "sparse_categorical_crossentropy": "scce", "sparsecategoricalcrossentropy": "scce",
    "binary_crossentropy": "bce", "binarycrossentropy": "bce",
    "categorical_focal_crossentropy": "cce", "categoricalfocalcrossentropy": "cce",
    "binary_focal_crossentropy": "bce", "binaryfocalcrossentropy": "bce",
}
_PRETTY = {"cce": "categorical cross-entropy", "scce": "sparse categorical cross-entropy",
           "bce": "binary cross-entropy"}
_CALL = re.compile(r"^\s*([\w.]+)\s*\((.*)\)\s*$", re.DOTALL)
_FROM_LOGITS = re.compile(r"\bfrom_logits\s*=\s*(\w+)")


@dataclass
class Loss:
    kind: str  # cce | scce | bce
    from_logits: bool | None  # None: not known
    text: str


def loss_info(value: Any) -> Loss | None:
    """What a ``loss=`` value is, from its plain data / source text (never evaluated)."""
    if isinstance(value, str):
        kind = _KINDS.get(value.rsplit(".", 1)[-1].lower())
        return Loss(kind, False, value) if kind else None
    if isinstance(value, dict) and set(value) == {"unknown"} and isinstance(value["unknown"], str):
        text = value["unknown"]
        m = _CALL.match(text)
        if not m:
            return None
        kind = _KINDS.get(m.group(1).rsplit(".", 1)[-1].lower())
        if kind is None:
            return None
        args = m.group(2).strip()
        fl = _FROM_LOGITS.search(args)
        if fl:
            logits = {"True": True, "False": False}.get(fl.group(1))
        elif args and "=" not in args.split(",")[0]:
            logits = None  # from_logits passed positionally (or something bnlint cannot read)
        else:
            logits = False
        return Loss(kind, logits, text)
    if isinstance(value, dict) and isinstance(value.get("class_name"), str):  # saved compile_config
        kind = _KINDS.get(value["class_name"].lower())
        cfg = value.get("config")
        if kind is None or not isinstance(cfg, dict):
            return None
        fl = cfg.get("from_logits", False)
        return Loss(kind, fl if isinstance(fl, bool) else None, value["class_name"])
    return None


@dataclass
class Compiled:
    model: graph.Model
    loss: Loss
    at: Any
    var: str


def _compiled(ctx: Context) -> Iterator[Compiled]:
    if ctx.facts is not None:
        for fact in ctx.facts.calls:
            if fact.method != "compile" or "loss" not in fact.kwargs:
                continue
            model = model_named(ctx.models, fact.model, fact.variable)
            loss = loss_info(fact.kwargs["loss"])
            if model is None or loss is None:
                continue
            col = None
            if ctx.source is not None:
                i = ctx.source.line_text(fact.line, fact.cell).find(f"{fact.variable}.compile")
                col = i + 1 if i >= 0 else None
            yield Compiled(model, loss, Position(fact.line, col, fact.cell), fact.variable)
    elif ctx.saved_config is not None and len(ctx.models) == 1:
        cc = ctx.saved_config.get("compile_config")
        if isinstance(cc, dict) and "loss" in cc:
            loss = loss_info(cc["loss"])
            if loss is not None:
                from bnlint import graph

                loc = graph.Location(file=ctx.path, config_path="compile_config.loss")
                yield Compiled(ctx.models[0], loss, loc, ctx.models[0].name)


def _output(model: graph.Model) -> tuple[graph.Layer, Any, int | None] | None:
    """The single output layer, its activation (False: unknown) and its units."""
    outs = output_layers(model)
    if outs is None or len(outs) != 1:
        return None
    last = through_identity(model, outs[0])
    if last.unknown:
        return None
    act = activation(last)
    if act is False:
        return None
    return last, act, units(last)


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
            out = _output(c.model)
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
            out = _output(c.model)
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
            out = _output(c.model)
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
            out = _output(c.model)
            if out is None or c.loss.kind not in ("cce", "scce"):
                continue
            layer, _, n = out
            if n == 1:
                yield self.report(ctx, c.at, var=c.var, loss=_PRETTY[c.loss.kind],
                                  layer=layer.name)
