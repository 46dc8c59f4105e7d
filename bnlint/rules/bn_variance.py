"""BN012: moving_variance used as if it were a standard deviation."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from bnlint.rules.base import Context, Finding, Position, Rule
from bnlint.rules.graphs import all_layers, is_bn

_STD_NAME = re.compile(r"(^|_)(std|stdev|stddev|sigma|sd|deviation|standard_deviation)(\d*)($|_)",
                       re.IGNORECASE)


class VarianceUsedAsStd(Rule):
    code = "BN012"
    name = "moving-variance-as-std"
    message = "{what}"
    why = ("The fourth BatchNormalization array is a variance: inference computes "
           "gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta, so dividing by "
           "it (or calling it a standard deviation) gives the wrong output.")
    fix = "Divide by `np.sqrt({name} + epsilon)` (epsilon is the layer's, 0.001 by default)."
    fix_safety = "safe"  # the division fix; renaming a std-named binding is an unsafe one

    def check(self, ctx: Context) -> Iterator[Finding]:
        src = ctx.source
        if src is None or src.tree is None or ctx.facts is None:
            return
        bn_names = {la.name: la for top in ctx.models for _, la in all_layers(top) if is_bn(la)}
        var_refs: dict[int, dict[str, str]] = {}  # program line -> text -> its BN layer name
        layer_refs: dict[int, dict[str, str]] = {}  # program line -> text -> BN layer name
        for ref in ctx.facts.references:
            pl = src.program_line(ref.line, ref.cell)
            if pl is None:
                continue
            if ref.kind == "weight" and ref.weight == "moving_variance":
                var_refs.setdefault(pl, {})[ref.text.replace(" ", "")] = ref.layer or ""
            elif ref.kind == "layer" and ref.layer in bn_names:
                layer_refs.setdefault(pl, {})[ref.text.replace(" ", "")] = ref.layer
        if not var_refs and not layer_refs:
            return

        def denotes_var(node: ast.AST) -> str | None:
            """The BN layer whose moving_variance ``node`` denotes ("" unknown), else None."""
            return var_refs.get(node.lineno, {}).get(src.segment(node).replace(" ", ""))

        def epsilon(layer: str | None) -> float | None:
            """The layer's epsilon; None when the layer or its epsilon is not known."""
            la = bn_names.get(layer or "")
            eps = la.config.get("epsilon", 1e-3) if la is not None else None
            return float(eps) if isinstance(eps, (int, float)) and not isinstance(eps, bool) \
                else None

        bound: dict[str, tuple[int, str | None]] = {}
        reported: set[int] = set()
        assigns = sorted((n for n in ast.walk(src.tree) if isinstance(n, ast.Assign)),
                         key=lambda n: n.lineno)
        for node in assigns:
            if len(node.targets) != 1:
                continue
            tgt = node.targets[0]
            name = layer = None
            if isinstance(tgt, ast.Name) and denotes_var(node.value) is not None:
                name, layer = tgt.id, denotes_var(node.value)
            elif isinstance(tgt, (ast.Tuple, ast.List)) and isinstance(node.value, ast.Call) \
                    and isinstance(node.value.func, ast.Attribute) \
                    and node.value.func.attr == "get_weights":
                owner = src.segment(node.value.func.value).replace(" ", "")
                layer = layer_refs.get(node.lineno, {}).get(owner)
                if layer is not None:
                    wnames = [w.name for w in bn_names[layer].weights]
                    if "moving_variance" in wnames and len(wnames) == len(tgt.elts):
                        el = tgt.elts[wnames.index("moving_variance")]
                        if isinstance(el, ast.Name):
                            name = el.id
            if name is None:
                continue
            bound[name] = (node.lineno, layer)
            if _STD_NAME.search(name):
                reported.add(node.lineno)
                yield self._at(ctx, node, name,
                               f"moving_variance is bound to `{name}`, a standard-deviation name",
                               fix_args={"rename": name})
        for node in ast.walk(src.tree):
            if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)):
                continue
            right = node.right
            name = layer = None
            if isinstance(right, ast.Name) and right.id in bound and bound[right.id][0] < \
                    node.lineno:
                name, layer = right.id, bound[right.id][1]
            elif denotes_var(right) is not None:
                name, layer = src.segment(right), denotes_var(right)
            if name is None or node.lineno in reported:
                continue
            reported.add(node.lineno)
            yield self._at(ctx, node, name,
                           f"divides by moving_variance `{name}` instead of "
                           "sqrt(moving_variance + epsilon)",
                           fix_args={"divisor": name, "epsilon": epsilon(layer)}
                           if epsilon(layer) is not None else None)

    def _at(self, ctx: Context, node: ast.AST, name: str, what: str,
            fix_args: dict[str, object] | None = None) -> Finding:
        line, cell = ctx.source.position(node.lineno)
        return self.report(ctx, Position(line, node.col_offset + 1, cell), what=what, name=name,
                           fix_args=fix_args)
