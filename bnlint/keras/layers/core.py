"""Core layers: Dense, activations, dropout/noise, reshaping, Lambda, Masking."""

from __future__ import annotations

from bnlint.keras.catalogue import Built, Call, Unknown, WeightSpec, layer_rule
from bnlint.keras.layers._shapes import norm_axis, num_elements, require_known
from bnlint.symbolic import Sym, floordiv


def check_plain_dtype(call: Call) -> None:
    """Quantized policies change the weights Keras creates; bnlint does not model them."""
    dtype = call.cfg.values.get("dtype")
    name = dtype
    if isinstance(dtype, dict):
        name = (dtype.get("config") or {}).get("name")
    if isinstance(name, str) and any(q in name for q in ("int8", "int4", "float8", "gptq")):
        raise Unknown(f"quantized dtype policy {name!r} is not modelled")
    if call.cfg.values.get("quantization_config"):
        raise Unknown("quantization_config is not modelled")


@layer_rule("Dense")
def dense(call: Call) -> Built:
    check_plain_dtype(call)
    x = call.input
    if len(x) < 2:
        raise Unknown(f"Dense needs an input of rank >= 2, got {len(x)}")
    if call.cfg.values.get("lora_rank"):
        raise Unknown("LoRA-enabled Dense is not modelled")
    units = call.cfg.size("units")
    in_dim = require_known(x[-1], "the last axis of Dense's input")
    weights = [WeightSpec("kernel", (in_dim, units))]
    if call.cfg.flag("use_bias"):
        weights.append(WeightSpec("bias", (units,)))
    return Built([(*x[:-1], units)], weights)


# Layers whose output has the input's shape and which own no weights.
IDENTITY_SHAPE = (
    "Activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Softmax",
    "ThresholdedReLU",
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianDropout",
    "GaussianNoise",
    "AlphaDropout",
    "ActivityRegularization",
    "Identity",
    "Masking",
    "UnitNormalization",
)


@layer_rule(*IDENTITY_SHAPE)
def identity_shape(call: Call) -> Built:
    if call.cfg.class_name in ("Softmax", "Activation", "Identity") and len(call.inputs) != 1:
        # Softmax/Activation accept one tensor; Keras would fail on a list.
        raise Unknown(f"{call.cfg.class_name} expects one input, got {len(call.inputs)}")
    return Built([call.input])


@layer_rule("PReLU")
def prelu(call: Call) -> Built:
    x = call.input
    param = list(x[1:])
    shared = call.cfg.get("shared_axes")
    if shared is not None:
        if isinstance(shared, int):
            shared = [shared]
        for axis in shared:
            param[axis - 1] = 1
    for i, d in enumerate(param):
        require_known(d, f"axis {i + 1} of PReLU's input")
    return Built([x], [WeightSpec("alpha", tuple(param))])  # type: ignore[arg-type]


@layer_rule("Flatten")
def flatten(call: Call) -> Built:
    x = call.input
    n = num_elements(x[1:])
    return Built([(x[0], n)])


@layer_rule("Reshape")
def reshape(call: Call) -> Built:
    x = call.input
    target = list(call.cfg.get("target_shape"))
    if target.count(-1) > 1:
        raise Unknown("Reshape target has more than one -1")
    if -1 in target:
        i = target.index(-1)
        known = num_elements([d for d in target if d != -1])
        total_in = num_elements(x[1:])
        if total_in is None or known is None:
            target[i] = None
        else:
            target[i] = floordiv(total_in, known)
    return Built([(x[0], *target)])


@layer_rule("Permute")
def permute(call: Call) -> Built:
    x = call.input
    dims = list(call.cfg.get("dims"))
    # Keras requires a permutation of 1..rank-1 (the batch axis stays first).
    if sorted(dims) != list(range(1, len(x))):
        raise Unknown(f"Permute dims={tuple(dims)} is not a permutation of the axes 1..{len(x) - 1}")
    return Built([(x[0], *(x[d] for d in dims))])


@layer_rule("RepeatVector")
def repeat_vector(call: Call) -> Built:
    x = call.input
    if len(x) != 2:
        raise Unknown(f"RepeatVector expects a 2D input, got rank {len(x)}")
    return Built([(x[0], call.cfg.size("n"), x[1])])


@layer_rule("Lambda")
def lambda_layer(call: Call) -> Built:
    out = call.cfg.values.get("output_shape")
    # Keras serialises a shape tuple as a list of ints; a function as a dict/bytecode.
    if isinstance(out, (list, tuple)) and all(isinstance(d, (int, Sym)) or d is None for d in out):
        batch = call.inputs[0][0] if call.inputs else None
        return Built([(batch, *out)])
    raise Unknown(
        "Lambda: its output shape depends on Python code bnlint does not run"
        " (give `output_shape=` as a tuple to make it known)"
    )


@layer_rule("InputLayer")
def input_layer(call: Call) -> Built:
    # The builder creates input tensors itself; this rule exists for an InputLayer
    # called on an existing tensor (identity).
    return Built([call.input])


def channel_axis(call: Call, rank: int) -> int:
    fmt = call.cfg.values.get("data_format") or "channels_last"
    return 1 if fmt == "channels_first" else rank - 1


__all__ = ["channel_axis", "check_plain_dtype", "norm_axis"]
