"""Rules about how a model with BatchNormalization is used: BN002, BN008, BN009, BN010."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bnlint.rules.base import Context, Finding, Position, Rule
from bnlint.rules.graphs import bn_layers, is_bn, model_named, trainable_bn, walk_models
from bnlint.rules.pysource import dotted, is_const, kwarg

if TYPE_CHECKING:
    from bnlint import graph

INFERENCE = {"predict", "predict_on_batch", "evaluate", "test_on_batch", "evaluate_generator",
             "predict_generator", "__call__"}
TRAINING = {"fit", "fit_generator", "train_on_batch"}
RESTORING = {"load_weights"}
# A file with its own training loop or weight surgery: BN002 cannot tell what ran.
_CUSTOM = re.compile(r"\b(GradientTape|train_step|apply_gradients|set_weights|Checkpoint|"
                     r"stateless_call)\b")


def _fact_position(ctx: Context, fact: Any, method: str) -> Position:
    col = None
    if ctx.source is not None:
        text = ctx.source.line_text(fact.line, fact.cell)
        needle = f"{fact.variable}.{method}" if method != "__call__" else f"{fact.variable}("
        i = text.find(needle)
        if i < 0:
            i = text.find(fact.variable)
        col = i + 1 if i >= 0 else None
    return Position(fact.line, col, fact.cell)


def _order(ctx: Context, line: int, cell: int | None) -> int:
    if ctx.source is None:
        return line
    pl = ctx.source.program_line(line, cell)
    return pl if pl is not None else line


def _nested_in_other(models: list[graph.Model], target: graph.Model) -> bool:
    for top in models:
        for m in walk_models(top):
            if m is not top and m.name == target.name:
                return True
    return False


def _symbolic_call(ctx: Context, fact: Any) -> bool:
    """Is ``model(x)`` called on a symbolic tensor (``x`` from ``Input`` or a layer call)?"""
    src = ctx.source
    if src is None or src.tree is None:
        return False
    pl = src.program_line(fact.line, fact.cell)
    call = next((n for n in ast.walk(src.tree) if isinstance(n, ast.Call) and n.lineno == pl
                 and dotted(n.func) == fact.variable), None)
    if call is None or not call.args:
        return False
    assigns = [n for n in ast.walk(src.tree) if isinstance(n, ast.Assign)
               and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)]

    def symbolic(node: ast.AST, before: int, depth: int) -> bool:
        if depth > 20:
            return False
        if isinstance(node, ast.Call):
            name = dotted(node.func) or ""
            if name.rsplit(".", 1)[-1] == "Input":
                return True
            if isinstance(node.func, ast.Call):  # Layer(...)(x)
                return True
            return any(symbolic(a, before, depth + 1) for a in node.args[:1])
        if isinstance(node, ast.Name):
            prior = [a for a in assigns if a.targets[0].id == node.id and a.lineno < before]
            if prior:
                last = max(prior, key=lambda a: a.lineno)
                return symbolic(last.value, last.lineno, depth + 1)
        return False

    return symbolic(call.args[0], call.lineno, 0)


class InferenceBeforeTraining(Rule):
    code = "BN002"
    name = "inference-with-untrained-batchnorm"
    message = ("`{call}` runs BatchNormalization `{bn}` in inference mode before `{var}` was "
               "trained or loaded")
    why = ("At inference BN uses its moving statistics, which are still moving_mean=0 and "
           "moving_variance=1 until the model is trained, so BN is almost the identity and does "
           "not normalize anything.")
    message_saved = ("Saved model `{var}` has untrained BatchNormalization statistics: every "
                     "moving_mean is 0 and every moving_variance is 1 (first: `{bn}`)")
    fix = ("Train (`{var}.fit(...)`) or load weights (`{var}.load_weights(...)`) first; to "
           "normalize with the current batch's statistics call `{var}(x, training=True)`.")

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.kind == "saved" or ctx.weights is not None:  # arrays: saved or --weights-file
            yield from self._check_saved(ctx)
        if ctx.kind == "saved":
            return
        if ctx.facts is None or ctx.source is None or _CUSTOM.search(ctx.source.text):
            return
        trained: set[int] = set()
        for fact in ctx.facts.calls:
            model = model_named(ctx.models, fact.model, fact.variable)
            if model is None:
                continue
            if fact.method in TRAINING or fact.method in RESTORING:
                trained.update(id(m) for m in walk_models(model))
                continue
            if fact.method not in INFERENCE:
                continue
            if fact.method == "__call__":
                if fact.training is not None and fact.training is not False:
                    continue
                if _nested_in_other(ctx.models, model) or _symbolic_call(ctx, fact):
                    continue  # called on symbolic tensors to build another model
            if id(model) in trained:
                continue
            bns = [la for m in walk_models(model) if id(m) not in trained
                   for la in m.layers if is_bn(la)]
            if not bns:
                continue
            here = _order(ctx, fact.line, fact.cell)
            pat = re.compile(rf"\b{re.escape(fact.variable)}\s*\.\s*"
                             r"(fit|fit_generator|train_on_batch|load_weights)\b")
            if any(pat.search(ln) for ln in ctx.source.lines[: max(here - 1, 0)]):
                continue  # trained on some path bnlint did not follow
            call = (f"{fact.variable}(...)" if fact.method == "__call__"
                    else f"{fact.variable}.{fact.method}(...)")
            yield self.report(ctx, _fact_position(ctx, fact, fact.method), call=call,
                              bn=bns[0].name, var=fact.variable)

    def _check_saved(self, ctx: Context) -> Iterator[Finding]:
        """Saved files: every BN still holds moving_mean == 0 and moving_variance == 1."""
        if ctx.weights is None:
            return
        import numpy as np

        for model in ctx.models:
            bns = bn_layers(model)
            if not bns:
                continue
            arrays = ctx.weights(model)
            if arrays is None:
                continue
            untrained = True
            for bn in bns:
                for w in bn.weights:
                    if w.name not in ("moving_mean", "moving_variance"):
                        continue
                    if w.index is None or not 0 <= w.index < len(arrays):
                        untrained = False
                        break
                    a = np.asarray(arrays[w.index])
                    if not np.all(a == (0 if w.name == "moving_mean" else 1)):
                        untrained = False
                        break
                if not untrained:
                    break
            if untrained:
                yield self.report(ctx, bns[0].location, template=self.message_saved,
                                  bn=bns[0].name, var=model.name)


_APPS_WITH_BN = re.compile(
    r"^(ResNet\d+(V2)?|ResNetRS\d+|DenseNet\d+|EfficientNet(B\d|V2\w+)|MobileNet(V2|V3Small|"
    r"V3Large)?|InceptionV3|InceptionResNetV2|Xception|NASNet(Large|Mobile)|RegNet[XY]\d+)$")


class UnfrozenBaseInTrainingMode(Rule):
    code = "BN008"
    name = "finetune-batchnorm-in-training-mode"
    message = ("Pretrained `{base}` ({app}) is called without `training=False` and unfrozen at "
               "line {unfrozen} before training")
    why = ("Once `{base}.trainable = True`, its BatchNormalization layers run in training mode "
           "and update their moving statistics from your small dataset, destroying what the "
           "model learnt on ImageNet.")
    fix = ("Call the base as `{base}(inputs, training=False)` so its BN layers stay in "
           "inference mode while fine-tuning.")

    def check(self, ctx: Context) -> Iterator[Finding]:
        src = ctx.source
        if src is None or src.tree is None:
            return
        bases: dict[str, tuple[int, str]] = {}
        calls: dict[str, list[ast.AST]] = {}
        unfrozen: dict[str, list[int]] = {}
        fits: list[int] = []
        nodes = sorted((n for n in ast.walk(src.tree) if hasattr(n, "lineno")),
                       key=lambda n: (n.lineno, n.col_offset))
        for node in nodes:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                tgt = node.targets[0]
                if isinstance(tgt, ast.Name) and isinstance(node.value, ast.Call):
                    name = dotted(node.value.func) or ""
                    app = name.rsplit(".", 1)[-1]
                    if _APPS_WITH_BN.match(app) and not is_const(
                            kwarg(node.value, "weights"), None):
                        bases[tgt.id] = (node.lineno, app)
                if (isinstance(tgt, ast.Attribute) and tgt.attr == "trainable"
                        and isinstance(tgt.value, ast.Name) and is_const(node.value, True)):
                    unfrozen.setdefault(tgt.value.id, []).append(node.lineno)
            if isinstance(node, ast.Call):
                f = node.func
                if isinstance(f, ast.Name) and f.id in bases:
                    if not is_const(kwarg(node, "training"), False):
                        calls.setdefault(f.id, []).append(node)
                elif isinstance(f, ast.Attribute) and f.attr in TRAINING:
                    fits.append(node.lineno)
                elif isinstance(f, ast.Attribute) and f.attr == "add" and node.args and \
                        isinstance(node.args[0], ast.Name) and node.args[0].id in bases:
                    calls.setdefault(node.args[0].id, []).append(node.args[0])
                elif (dotted(f) or "").endswith("Sequential") and node.args and \
                        isinstance(node.args[0], (ast.List, ast.Tuple)):
                    for el in node.args[0].elts:
                        if isinstance(el, ast.Name) and el.id in bases:
                            calls.setdefault(el.id, []).append(el)
        for base, uses in calls.items():
            for line in unfrozen.get(base, []):
                if not any(f > line for f in fits):
                    continue
                use = next((u for u in uses if u.lineno < line), None)
                if use is None:
                    continue
                ln, cell = src.position(use.lineno)
                un_ln, un_cell = src.position(line)
                where = f"{un_ln}" if un_cell is None else f"{un_ln} of cell {un_cell}"
                yield self.report(ctx, Position(ln, use.col_offset + 1, cell), base=base,
                                  app=bases[base][1], unfrozen=where)
                break


class TrainableChangedWithoutCompile(Rule):
    code = "BN009"
    name = "trainable-changed-without-recompile"
    message = ("`{var}.{method}()` trains after `{target} = {value}` (line {changed}) without "
               "calling `compile()` again")
    why = ("Keras fixes which weights train when the training function is built after "
           "compile(); a later change of `trainable` is ignored until compile() is called "
           "again, so the layers you (un)froze are not (un)frozen.")
    fix = "Call `{var}.compile(...)` after changing `trainable` and before training again."

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.facts is None:
            return
        events: list[tuple[int, int, str, Any]] = []
        for i, c in enumerate(ctx.facts.calls):
            events.append((_order(ctx, c.line, c.cell), i, "call", c))
        for i, t in enumerate(ctx.facts.trainable):
            events.append((_order(ctx, t.line, t.cell), i, "trainable", t))
        events.sort(key=lambda e: (e[0], e[2] == "call", e[1]))
        for top in ctx.models:
            if top.variable is None:
                continue
            names = {la.name for m in walk_models(top) for la in m.layers} | {
                m.name for m in walk_models(top)}
            compiled = trained = False
            dirty: Any = None
            for _, _, kind, ev in events:
                if kind == "call":
                    if model_named(ctx.models, ev.model, ev.variable) is not top:
                        continue
                    if ev.method == "compile":
                        compiled, trained, dirty = True, False, None
                    elif ev.method in TRAINING and compiled:
                        if dirty is not None:
                            yield self.report(
                                ctx, _fact_position(ctx, ev, ev.method), var=ev.variable,
                                method=ev.method, target=dirty.target, value=dirty.value,
                                changed=dirty.line)
                            dirty = None
                        trained = True
                else:
                    hits = ev.resolved in names if ev.resolved else (
                        ev.target.startswith(top.variable + "."))
                    if hits and compiled and trained and dirty is None:
                        dirty = ev


class TinyBatchWithBatchNorm(Rule):
    code = "BN010"
    name = "batchnorm-with-tiny-batches"
    message = "`{var}.{method}()` trains BatchNormalization `{bn}` with batches of {size}"
    why = ("BN normalizes with the mean and variance of the current batch; with fewer than 8 "
           "samples these estimates are noisy and the moving statistics used at inference "
           "drift away from the data's.")
    fix = ("Use a batch size of at least 16-32, or replace BN with GroupNormalization/"
           "LayerNormalization, or freeze the BN layers.")

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.facts is None:
            return
        for fact in ctx.facts.calls:
            if fact.method not in ("fit", "fit_generator"):
                continue
            model = model_named(ctx.models, fact.model, fact.variable)
            if model is None:
                continue
            bns = trainable_bn(model)
            if not bns:
                continue
            size = fact.kwargs.get("batch_size")
            if size is None:
                size = self._dataset_batch(ctx, fact)
            if isinstance(size, bool) or not isinstance(size, int) or not 0 < size < 8:
                continue
            yield self.report(ctx, _fact_position(ctx, fact, fact.method), var=fact.variable,
                              method=fact.method, bn=bns[0].name, size=size)

    @staticmethod
    def _dataset_batch(ctx: Context, fact: Any) -> int | None:
        src = ctx.source
        if src is None or src.tree is None:
            return None
        pl = src.program_line(fact.line, fact.cell)
        call = next((n for n in ast.walk(src.tree) if isinstance(n, ast.Call)
                     and n.lineno == pl and isinstance(n.func, ast.Attribute)
                     and n.func.attr == fact.method), None)
        if call is None:
            return None
        data = call.args[0] if call.args else kwarg(call, "x")
        if isinstance(data, ast.Name):  # the last assignment to that name before the call
            assigned = [n for n in ast.walk(src.tree) if isinstance(n, ast.Assign)
                        and n.lineno < call.lineno and len(n.targets) == 1
                        and isinstance(n.targets[0], ast.Name) and n.targets[0].id == data.id]
            data = max(assigned, key=lambda n: n.lineno).value if assigned else None
        return _batch_of(data)


def _batch_of(node: ast.AST | None) -> int | None:
    """N of ``<dataset expression>.batch(N)...`` (the last .batch in a method chain)."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "batch":
            arg = node.args[0] if node.args else kwarg(node, "batch_size")
            if isinstance(arg, ast.Constant) and isinstance(arg.value, int):
                return arg.value
            return None
        if node.func.attr == "unbatch":
            return None
        node = node.func.value
    return None
