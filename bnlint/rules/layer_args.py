"""KR009: a layer whose constructor Keras refuses (the program raises where it is made)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bnlint.rules.base import Context, Finding, Rule
from bnlint.rules.graphs import walk_models

# The reasons bnlint gives a layer Keras refuses (bnlint.keras.validation): "[line N: ]Keras
# raises <Error> in <Class>(): <what>" or "Keras raises <Error> on this layer: <what>".
_REFUSED = re.compile(r"^(?:line \d+: )?Keras raises (?P<error>\w+)"
                      r"(?: in \w+\(\)| on this layer): (?P<what>.+)$", re.DOTALL)


class LayerKerasRefuses(Rule):
    code = "KR009"
    name = "layer-keras-refuses"
    message = "Keras raises {error} making `{layer}` ({cls}): {what}"
    why = ("Keras checks a layer's arguments when the layer is made: this line raises, so the "
           "program stops here and no model is built (today's Keras; old Keras 1 argument "
           "names are no longer converted).")
    fix = "{advice}"
    severity = "error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.kind == "saved":
            return
        seen: set[int] = set()
        for top in ctx.models:
            for model in walk_models(top):
                for layer in model.layers:
                    m = _REFUSED.match(layer.unknown or "")
                    if m is None or id(layer) in seen:
                        continue
                    seen.add(id(layer))
                    what = m.group("what").strip()
                    conv = re.search(r"converted it to `(\w+)=`", what)
                    advice = (f"Use `{conv.group(1)}=` (the Keras 2/3 name)." if conv else
                              "Pass the argument under the name and type this Keras "
                              "version's constructor takes.")
                    yield self.report(ctx, layer.location, error=m.group("error"),
                                      layer=layer.name, cls=layer.class_name, what=what,
                                      advice=advice)
