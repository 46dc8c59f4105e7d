"""BN013: saved weights that cannot be right (needs the weights of a saved model)."""

from __future__ import annotations

from collections.abc import Iterator

from bnlint.rules.base import Context, Finding, Rule
from bnlint.rules.graphs import all_layers


class ImpossibleWeights(Rule):
    code = "BN013"
    name = "impossible-saved-weights"
    message = "`{layer}.{weight}` (get_weights()[{index}]) {problem}"
    why = ("{reason}")
    fix = "{advice}"
    severity = "error"
    needs_weights = True

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.weights is None:  # a saved model's own arrays, or --weights-file's
            return
        import numpy as np

        for model in ctx.models:
            arrays = ctx.weights(model)
            if arrays is None:
                continue
            owner = {}
            for _, la in all_layers(model):
                for w in la.weights:
                    owner[id(w)] = la
            for w in model.all_weights():
                la = owner.get(id(w))
                if w.index is None or not 0 <= w.index < len(arrays) or la is None:
                    continue
                try:
                    a = np.asarray(arrays[w.index])
                except Exception:  # an unreadable array is the reader's to report
                    continue
                if a.dtype.kind not in "fc":
                    continue
                finite = np.isfinite(a)
                if not finite.all():
                    bad = int(a.size - finite.sum())
                    yield self.report(
                        ctx, la.location, layer=la.name, weight=w.name, index=w.index,
                        problem=f"holds {bad} NaN/Inf value{'s' if bad != 1 else ''}",
                        reason="A NaN or Inf in any weight makes every prediction NaN; the "
                               "training diverged before the model was saved.",
                        advice="Retrain with a lower learning rate or gradient clipping and "
                               "save a checkpoint from before the divergence.")
                elif w.name == "moving_variance" and (a < 0).any():
                    yield self.report(
                        ctx, la.location, layer=la.name, weight=w.name, index=w.index,
                        problem=f"has {int((a < 0).sum())} negative entries (min {a.min():.3g})",
                        reason="A variance is never negative; sqrt(moving_variance + epsilon) "
                               "becomes NaN, so the weights were edited or corrupted.",
                        advice="Restore moving_variance from the original checkpoint (if you "
                               "set it by hand, give variances, not standard deviations).")
