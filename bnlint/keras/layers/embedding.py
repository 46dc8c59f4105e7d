"""Embedding and CategoryEncoding."""

from __future__ import annotations

from bnlint.keras.catalogue import Built, Call, Shape, Unknown, WeightSpec, layer_rule
from bnlint.keras.layers.core import check_plain_dtype


@layer_rule("Embedding")
def embedding(call: Call) -> Built:
    check_plain_dtype(call)
    if call.cfg.values.get("lora_rank"):
        raise Unknown("LoRA-enabled Embedding is not modelled")
    if call.version == 2 and call.cfg.flag("sparse", False):
        raise Unknown("tf-keras Embedding(sparse=True) returns a SparseTensor; not modelled")
    x = call.input
    if call.version == 2 and len(x) == 0:
        raise Unknown("tf-keras Embedding on a scalar input is not modelled")
    input_dim = call.cfg.size("input_dim")
    output_dim = call.cfg.size("output_dim")
    for v, what in ((input_dim, "input_dim"), (output_dim, "output_dim")):
        if isinstance(v, int) and v <= 0:
            raise Unknown(f"Embedding: `{what}` must be positive, got {v}")
    # tf-keras's `input_length` only sets the `input_shape` of a first Sequential
    # layer (the model builder's business); the traced call ignores it.
    return Built(
        [(*x, output_dim)],
        [WeightSpec("embeddings", (input_dim, output_dim))],
    )


@layer_rule("CategoryEncoding")
def category_encoding(call: Call) -> Built:
    x = call.input
    depth = call.cfg.get("num_tokens", None)
    if depth is None:
        raise Unknown("CategoryEncoding needs `num_tokens`")
    depth = call.cfg.size("num_tokens")
    if isinstance(depth, int) and depth < 1:
        raise Unknown(f"CategoryEncoding: num_tokens must be >= 1, got {depth}")
    mode = call.cfg.get("output_mode", "multi_hot")
    if mode == "binary" and call.version == 3:
        mode = "multi_hot"
    if mode not in ("one_hot", "multi_hot", "count"):
        raise Unknown(f"CategoryEncoding: output_mode={mode!r} is not modelled")
    if call.cfg.flag("sparse", False):
        raise Unknown("CategoryEncoding(sparse=True) returns a SparseTensor; not modelled")
    out: Shape
    if call.version == 3:
        # keras.src.layers.preprocessing.category_encoding.compute_output_shape
        if len(x) == 0:
            out = (depth,)
        elif mode == "one_hot" and x[-1] != 1:
            out = (*x, depth)
        elif mode == "one_hot" and len(x) == 1:
            out = (*x, depth)
        else:
            out = (*x[:-1], depth)
        return Built([out])
    # tf-keras: encode_categorical_inputs on the traced tensor.
    shape = tuple(x)
    if len(shape) == 0:
        shape = (1,)
    if mode == "one_hot" and shape[-1] != 1:
        shape = (*shape, 1)
    if len(shape) > 2:
        raise Unknown("tf-keras CategoryEncoding supports outputs of rank <= 2 only")
    out = (depth,) if len(shape) == 1 else (shape[0], depth)
    return Built([out])
