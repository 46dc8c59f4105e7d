"""What loss (and which metrics) a model is compiled with: one place for every loss rule.

A ``loss=`` is recognised however it is written, without evaluating anything:

- a string alias: ``"mse"``, ``"mean_squared_error"``, ``"categorical_crossentropy"``;
- a function object: ``keras.losses.mse``, ``tf.keras.losses.categorical_crossentropy``
  (the reader gives its dotted name);
- a loss object: ``keras.losses.MeanSquaredError()``, ``CategoricalCrossentropy(from_logits=True)``;
- a Python function or lambda of the file whose result is one of the above
  (``return keras.losses.categorical_crossentropy(y_true, y_pred) * w``) or a hand-written
  squared/absolute error (``K.mean(K.square(y_pred - y_true))``);
- the second positional argument of ``compile`` (``model.compile("adam", "mse")``);
- a saved model's ``compile_config``.

Anything else is ``None``: the loss rules stay silent on a loss they do not know.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bnlint.rules.base import Context, Position
from bnlint.rules.graphs import model_named
from bnlint.rules.pysource import dotted, kwarg

if TYPE_CHECKING:
    from bnlint import graph

#: lower-case alias (string, function or class name) -> kind
KINDS = {
    "categorical_crossentropy": "cce", "categoricalcrossentropy": "cce",
    "sparse_categorical_crossentropy": "scce", "sparsecategoricalcrossentropy": "scce",
    "binary_crossentropy": "bce", "binarycrossentropy": "bce",
    "categorical_focal_crossentropy": "cce", "categoricalfocalcrossentropy": "cce",
    "binary_focal_crossentropy": "bce", "binaryfocalcrossentropy": "bce",
    "mse": "mse", "mean_squared_error": "mse", "meansquarederror": "mse",
    "mae": "mae", "mean_absolute_error": "mae", "meanabsoluteerror": "mae",
    "msle": "msle", "mean_squared_logarithmic_error": "msle",
    "meansquaredlogarithmicerror": "msle",
    "mape": "mape", "mean_absolute_percentage_error": "mape",
    "meanabsolutepercentageerror": "mape",
    "huber": "huber", "huber_loss": "huber",
    "logcosh": "logcosh", "log_cosh": "logcosh",
}
CLASSIFICATION = frozenset({"cce", "scce", "bce"})
REGRESSION = frozenset({"mse", "mae", "msle", "mape", "huber", "logcosh"})
PRETTY = {"cce": "categorical cross-entropy", "scce": "sparse categorical cross-entropy",
          "bce": "binary cross-entropy", "mse": "mean squared error",
          "mae": "mean absolute error", "msle": "mean squared logarithmic error",
          "mape": "mean absolute percentage error", "huber": "Huber loss",
          "logcosh": "log-cosh loss"}
#: metric names (lower case, underscores removed) that only make sense for classification
CLASSIFICATION_METRICS = frozenset({
    "accuracy", "acc", "binaryaccuracy", "categoricalaccuracy", "sparsecategoricalaccuracy",
    "topkcategoricalaccuracy", "sparsetopkcategoricalaccuracy", "auc", "precision", "recall",
    "f1score", "fbetascore", "truepositives", "falsepositives", "truenegatives",
    "falsenegatives", "precisionatrecall", "recallatprecision", "binaryiou",
})
_CALL = re.compile(r"^\s*([\w.]+)\s*\((.*)\)\s*$", re.DOTALL)
_FROM_LOGITS = re.compile(r"\bfrom_logits\s*=\s*(\w+)")
_MAX_WALK = 2000  # nodes looked at in one loss function's body


@dataclass
class Loss:
    kind: str  # a value of KINDS
    from_logits: bool | None  # None: not known (or not a cross-entropy)
    text: str

    @property
    def pretty(self) -> str:
        return PRETTY[self.kind]


def _make(kind: str, logits: bool | None, text: str) -> Loss:
    return Loss(kind, logits if kind in CLASSIFICATION else None, text)


def alias_kind(name: str) -> str | None:
    """The kind of a loss named ``name`` (``keras.losses.MSE``, ``"huber_loss"``...)."""
    return KINDS.get(name.rsplit(".", 1)[-1].lower())


def _from_call_text(text: str) -> Loss | None:
    m = _CALL.match(text)
    if not m:
        return None
    kind = alias_kind(m.group(1))
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
    return _make(kind, logits, text)


def loss_info(value: Any, source: Any = None) -> Loss | None:
    """What a ``loss=`` value is, from its plain data / source text (never evaluated).

    ``source`` (a :class:`~bnlint.rules.pysource.SourceText`) lets a user-defined loss
    function be looked up by name."""
    if isinstance(value, str):
        kind = alias_kind(value)
        return _make(kind, False, value) if kind else None
    if isinstance(value, dict) and set(value) == {"unknown"} and isinstance(value["unknown"], str):
        return _from_call_text(value["unknown"])
    if isinstance(value, dict) and value.get("object") == "UserFunc":
        name = value.get("name")
        if source is not None and isinstance(name, str) and name != "<lambda>":
            return user_function_loss(source, name)
        return None
    if isinstance(value, dict) and isinstance(value.get("class_name"), str):  # compile_config
        kind = KINDS.get(value["class_name"].lower())
        cfg = value.get("config")
        if kind is None or not isinstance(cfg, dict):
            return None
        fl = cfg.get("from_logits", False)
        return _make(kind, fl if isinstance(fl, bool) else None, value["class_name"])
    return None


# ---------------------------------------------------------------- Python loss functions
def user_function_loss(source: Any, name: str) -> Loss | None:
    """The loss a ``def name(y_true, y_pred)`` of the file computes, when it is clear."""
    tree = source.tree
    if tree is None:
        return None
    defs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name]
    if len(defs) != 1:
        return None
    returns = [n.value for n in _own_nodes(defs[0]) if isinstance(n, ast.Return)
               and n.value is not None]
    kinds = {(lo.kind, lo.from_logits) if lo else None
             for lo in (expression_loss(source, r) for r in returns)}
    if len(kinds) != 1 or None in kinds:
        return None
    kind, logits = kinds.pop()
    return Loss(kind, logits, name)


def _own_nodes(fn: ast.FunctionDef | ast.Lambda) -> Iterator[ast.AST]:
    """The nodes of a function's body, not of functions defined inside it (bounded)."""
    stack: list[ast.AST] = list(fn.body) if isinstance(fn, ast.FunctionDef) else [fn.body]
    seen = 0
    while stack and seen < _MAX_WALK:
        node = stack.pop()
        seen += 1
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(node))


def expression_loss(source: Any, expr: ast.AST) -> Loss | None:
    """The loss an expression computes: a call of a known loss inside it, or a hand-written
    mean squared / absolute error; None when it is anything else or mixes losses."""
    found: set[tuple[str, bool | None]] = set()
    for node in _own_nodes(ast.Lambda(args=None, body=expr)):  # type: ignore[arg-type]
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        if name is None:
            continue
        last = name.rsplit(".", 1)[-1]
        kind = KINDS.get(last.lower())
        if kind is not None:
            # a loss function called on (y_true, y_pred), or a loss object built and called
            fl = kwarg(node, "from_logits")
            if fl is not None:
                logits = fl.value if isinstance(fl, ast.Constant) and isinstance(
                    fl.value, bool) else None
            else:
                positional = 2 if last.islower() else 0  # y_true, y_pred / no positional
                logits = None if len(node.args) > positional else False
            found.add((kind, logits if kind in CLASSIFICATION else None))
        elif last.lower() == "square" and node.args and _is_difference(node.args[0]):
            found.add(("mse", None))
        elif last.lower() == "abs" and node.args and _is_difference(node.args[0]):
            found.add(("mae", None))
    if len(found) != 1:
        return None
    kind, logits = found.pop()
    return Loss(kind, logits, kind)


def _is_difference(node: ast.AST) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub)


# ---------------------------------------------------------------- compile calls
@dataclass
class Compiled:
    model: graph.Model
    loss: Loss
    at: Any
    var: str
    metrics: list[str] = field(default_factory=list)  # lower case, no underscores


def _compile_call(ctx: Context, line: int, cell: int | None, var: str) -> ast.Call | None:
    src = ctx.source
    if src is None or src.tree is None:
        return None
    for call in src.calls_on(line, cell):
        if isinstance(call.func, ast.Attribute) and call.func.attr == "compile" \
                and dotted(call.func.value) == var:
            return call
    return None


def _loss_from_node(ctx: Context, node: ast.AST) -> Loss | None:
    src = ctx.source
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return loss_info(node.value)
    if isinstance(node, ast.Lambda):
        return expression_loss(src, node.body)
    if isinstance(node, ast.Call):
        return _from_call_text(src.segment(node))
    name = dotted(node)
    if name is None:
        return None
    if "." not in name:
        lo = user_function_loss(src, name)
        if lo is not None:
            return lo
    return loss_info(name)


def compiled_loss(ctx: Context, fact: Any) -> Loss | None:
    """The loss of one ``compile`` fact (keyword, positional, function or lambda)."""
    value = fact.kwargs.get("loss")
    if value is not None:
        lo = loss_info(value, ctx.source)
        if lo is not None or not (isinstance(value, dict) and value.get("name") == "<lambda>"):
            return lo
    call = _compile_call(ctx, fact.line, fact.cell, fact.variable)
    if call is None:
        return None
    node = kwarg(call, "loss")
    if node is None and len(call.args) >= 2:
        node = call.args[1]
    return _loss_from_node(ctx, node) if node is not None else None


def _metric_names(value: Any) -> list[str]:
    out: list[str] = []
    items = value if isinstance(value, list) else (
        [v for vs in value.values() for v in (vs if isinstance(vs, list) else [vs])]
        if isinstance(value, dict) else [value])
    for item in items[:64]:
        text = item if isinstance(item, str) else (
            (item.get("unknown") or item.get("class_name")) if isinstance(item, dict) else None)
        if not isinstance(text, str):
            continue
        head = text.split("(", 1)[0].rsplit(".", 1)[-1]
        out.append(head.lower().replace("_", ""))
    return out


def compiled(ctx: Context) -> Iterator[Compiled]:
    """Every ``compile`` with a recognised loss, on a model bnlint built."""
    if ctx.facts is not None:
        for fact in ctx.facts.calls:
            if fact.method != "compile":
                continue
            model = model_named(ctx.models, fact.model, fact.variable)
            if model is None:
                continue
            loss = compiled_loss(ctx, fact)
            if loss is None:
                continue
            col = None
            if ctx.source is not None:
                i = ctx.source.line_text(fact.line, fact.cell).find(f"{fact.variable}.compile")
                col = i + 1 if i >= 0 else None
            yield Compiled(model, loss, Position(fact.line, col, fact.cell), fact.variable,
                           _metric_names(fact.kwargs.get("metrics", [])))
    elif ctx.saved_config is not None and len(ctx.models) == 1:
        cc = ctx.saved_config.get("compile_config")
        if isinstance(cc, dict) and "loss" in cc:
            loss = loss_info(cc["loss"])
            if loss is not None:
                from bnlint import graph

                loc = graph.Location(file=ctx.path, config_path="compile_config.loss")
                metrics = cc.get("metrics")
                yield Compiled(ctx.models[0], loss, loc, ctx.models[0].name,
                               _metric_names(metrics) if metrics else [])


def has_classification_metric(c: Compiled) -> bool:
    return any(m in CLASSIFICATION_METRICS for m in c.metrics)
