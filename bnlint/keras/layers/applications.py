"""Layer classes that keras.applications defines for itself (not exported in keras.layers)."""

from __future__ import annotations

from bnlint.keras.catalogue import Built, Call, Unknown, WeightSpec, layer_rule
from bnlint.keras.layers._shapes import broadcast


@layer_rule("LayerScale")
def layer_scale(call: Call) -> Built:
    """ConvNeXt's ``x * gamma``; Keras 3 creates the weight without a name ("variable")."""
    dim = call.cfg.size("projection_dim")
    name = "variable" if call.version == 3 else "gamma"
    return Built([call.input], [WeightSpec(name, (dim,))])


@layer_rule("CustomScaleLayer")
def custom_scale_layer(call: Call) -> Built:
    """InceptionResNetV2's ``inputs[0] + inputs[1] * scale``."""
    if len(call.inputs) != 2:
        raise Unknown(f"CustomScaleLayer takes 2 inputs, got {len(call.inputs)}")
    return Built([broadcast(call.inputs)])
