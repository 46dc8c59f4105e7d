"""Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot."""

from __future__ import annotations

from bnlint.keras.catalogue import Built, Call, Shape, Unknown, layer_rule
from bnlint.keras.layers._shapes import broadcast, norm_axis
from bnlint.symbolic import Sym, add


@layer_rule("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
def elementwise(call: Call) -> Built:
    shapes = call.inputs
    if call.cfg.class_name == "Subtract" and len(shapes) != 2:
        raise Unknown(f"Subtract takes exactly 2 inputs, got {len(shapes)}")
    if len(shapes) < 1:
        raise Unknown("merge layer called without inputs")
    return Built([broadcast(shapes)])


# tf-keras wraps TensorFlow ops applied to Keras tensors in TFOpLambda layers; only the
# weightless element-wise ops keras.applications uses are modelled.
TF_ELEMENTWISE_OPS = {"__operators__.add", "math.add", "math.multiply", "math.subtract"}


@layer_rule("TFOpLambda")
def tf_op_lambda(call: Call) -> Built:
    function = call.cfg.values.get("function")
    if function not in TF_ELEMENTWISE_OPS:
        raise Unknown(f"TFOpLambda `{function}`: TensorFlow op not modelled")
    if len(call.inputs) == 1 and isinstance(call.kwargs.get("y"), (int, float)):
        return Built([call.input])  # tensor op Python scalar
    if len(call.inputs) != 2:
        raise Unknown(f"TFOpLambda `{function}` with {len(call.inputs)} tensor inputs")
    return Built([broadcast(call.inputs)])


@layer_rule("op:Add", "op:Subtract", "op:Multiply", "op:Divide", "op:TrueDivide",
            "op:Maximum", "op:Minimum")
def elementwise_op(call: Call) -> Built:
    """Keras 3 ``keras.ops`` arithmetic on tensors (Python scalars broadcast away)."""
    if not call.inputs:
        raise Unknown("operation without tensor inputs")
    return Built([broadcast(call.inputs)])


@layer_rule("Concatenate")
def concatenate(call: Call) -> Built:
    shapes = call.inputs
    if not shapes:
        raise Unknown("Concatenate called without inputs")
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise Unknown("Concatenate inputs have different ranks")
    axis = norm_axis(call.cfg.get("axis"), rank)
    out = list(shapes[0])
    total = shapes[0][axis]
    for s in shapes[1:]:
        d = s[axis]
        total = None if total is None or d is None else add(total, d)
    out[axis] = total
    for i in range(rank):
        if i == axis:
            continue
        dims = [s[i] for s in shapes]
        known = [d for d in dims if d is not None]
        out[i] = known[0] if known else None
        if any(not isinstance(d, Sym) and d != known[0] for d in known if not isinstance(known[0], Sym)):
            raise Unknown(f"Concatenate inputs disagree on axis {i}: {dims}")
    return Built([tuple(out)])


@layer_rule("Dot")
def dot(call: Call) -> Built:
    if len(call.inputs) != 2:
        raise Unknown("Dot takes exactly 2 inputs")
    a, b = call.inputs
    axes = call.cfg.get("axes")
    if isinstance(axes, int):
        axes = [axes, axes]
    ax_a = norm_axis(axes[0], len(a))
    ax_b = norm_axis(axes[1], len(b))
    out: Shape = (
        tuple(d for i, d in enumerate(a) if i != ax_a)
        + tuple(d for i, d in enumerate(b) if i != ax_b and i != 0)
    )
    if len(out) == 1:
        out = (out[0], 1)
    return Built([out])
