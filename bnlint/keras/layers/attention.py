"""EinsumDense and the attention layers: MultiHeadAttention, Attention, AdditiveAttention.

Keras 3 reports the *declared* output shapes (``compute_output_shape`` /
``compute_output_spec``); tf-keras traces the real ops, so its output shapes
are the ones the einsums/matmuls produce.  The two differ in places and each
is modelled as its Keras does it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bnlint.keras.catalogue import (
    Built,
    Call,
    Shape,
    SubLayer,
    TensorArg,
    Unknown,
    WeightSpec,
    layer_rule,
)
from bnlint.keras.layers._shapes import Dim, broadcast, require_known
from bnlint.keras.layers.core import check_plain_dtype
from bnlint.symbolic import Sym


@dataclass
class Einsum:
    kernel: tuple[Dim, ...]
    bias: tuple[Dim, ...] | None
    declared: Shape  # Keras 3 compute_output_shape (partial dims stay None)
    traced: Shape  # the shape tf.einsum gives (tf-keras)


def _compatible(a: Dim, b: Dim) -> bool:
    return a is None or b is None or isinstance(a, Sym) or isinstance(b, Sym) or a == b


def analyze_einsum(
    equation: str,
    bias_axes: str | None,
    input_shape: Shape,
    output_shape: Any,
    version: int,
) -> Einsum:
    """Port of ``einsum_dense._analyze_einsum_string`` (both Keras versions)."""
    dot = re.sub(r"\.\.\.", "0", equation)
    left_elided = False
    m = re.match("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", dot)
    if not m:
        m = re.match("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", dot)
        left_elided = bool(m)
    if not m:
        m = re.match("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", dot)
    if not m:
        raise Unknown(f"EinsumDense: invalid equation {equation!r}")
    input_spec, weight_spec, output_spec = m.group(1), m.group(2), m.group(3)
    rank = len(input_shape)
    elided = rank - len(input_spec)
    if version == 2 and (elided < 0 or (elided > 0 and "..." not in equation)):
        # tf.einsum checks the input rank against the equation; Keras 3 never runs it.
        raise Unknown(f"EinsumDense: equation {equation!r} does not fit an input of rank {rank}")

    if isinstance(output_shape, (int, Sym)) and not isinstance(output_shape, bool):
        out: list[Dim] = [output_shape]
    elif isinstance(output_shape, (list, tuple)):
        out = list(output_shape)
    else:
        raise Unknown(f"EinsumDense: output_shape {output_shape!r} is not understood")
    out.insert(0, input_shape[0])
    if elided > 0 and left_elided:
        for i in range(1, elided):
            out.insert(1, input_shape[i])
    elif elided > 0 and not left_elided:
        for i in range(rank - elided, rank):
            out.append(input_shape[i])

    if left_elided:
        in_map = {d: (i + elided) - rank for i, d in enumerate(input_spec)}
        out_map = {d: i + elided for i, d in enumerate(output_spec)}
    else:
        in_map = {d: i for i, d in enumerate(input_spec)}
        out_map = {d: i for i, d in enumerate(output_spec)}

    def at(seq: Sequence[Dim], i: int, what: str) -> Dim:
        try:
            return seq[i]
        except IndexError:
            raise Unknown(f"EinsumDense: {what} has no axis {i}") from None

    for d in input_spec:
        in_dim = at(input_shape, in_map[d], "the input")
        if d in out_map:
            o = at(out, out_map[d], "output_shape")
            if o is not None and o != in_dim:
                raise Unknown(
                    f"EinsumDense: input and output_shape differ at shared axis {d!r}"
                    f" ({in_dim} vs {o})"
                )
    for d in output_spec:
        if d not in input_spec and d not in weight_spec:
            raise Unknown(f"EinsumDense: output axis {d!r} is in neither input nor weight")

    kernel: list[Dim] = []
    for d in weight_spec:
        # Keras 3 looks the output up first, tf-keras the input.
        order = ("out", "in") if version == 3 else ("in", "out")
        for where in order:
            if where == "out" and d in out_map:
                kernel.append(at(out, out_map[d], "output_shape"))
                break
            if where == "in" and d in in_map:
                kernel.append(at(input_shape, in_map[d], "the input"))
                break
        else:
            raise Unknown(f"EinsumDense: weight axis {d!r} is in neither input nor output")

    bias: list[Dim] | None = None
    if bias_axes is not None:
        n_left = elided if left_elided else 0
        idx = {c: at(out, i + n_left, "output_shape") for i, c in enumerate(output_spec)}
        for c in bias_axes:
            if c not in output_spec:
                raise Unknown(f"EinsumDense: bias axis {c!r} is not in the output spec")
        if not bias_axes:
            raise Unknown("EinsumDense: empty bias_axes")
        first = min(output_spec.find(c) for c in bias_axes)
        bias = [idx[c] if c in bias_axes else 1 for c in output_spec[first:]]
        if not left_elided:
            bias += [1] * max(elided, 0)

    # The shape the einsum really produces: input axes from the input, the
    # others from the kernel; elided axes from the input.
    traced: list[Dim] = []
    weight_dims = dict(zip(weight_spec, kernel, strict=True))
    letters: list[Dim] = []
    for d in output_spec:
        if d in in_map:
            letters.append(at(input_shape, in_map[d], "the input"))
        else:
            letters.append(weight_dims[d])
    if elided > 0 and left_elided:
        traced = list(input_shape[:elided]) + letters
    elif elided > 0:
        traced = letters + list(input_shape[rank - elided :])
    else:
        traced = letters
    return Einsum(
        tuple(kernel),
        None if bias is None else tuple(bias),
        tuple(out),
        tuple(traced),
    )


def einsum_weights(e: Einsum) -> list[WeightSpec]:
    for d in e.kernel:
        require_known(d, "an axis of EinsumDense's kernel")
    weights = [WeightSpec("kernel", tuple(e.kernel))]  # type: ignore[arg-type]
    if e.bias is not None:
        for d in e.bias:
            require_known(d, "an axis of EinsumDense's bias")
        weights.append(WeightSpec("bias", tuple(e.bias)))  # type: ignore[arg-type]
    return weights


@layer_rule("EinsumDense")
def einsum_dense(call: Call) -> Built:
    check_plain_dtype(call)
    if call.cfg.values.get("lora_rank"):
        raise Unknown("LoRA-enabled EinsumDense is not modelled")
    x = call.input
    e = analyze_einsum(
        str(call.cfg.str("equation")),
        call.cfg.str("bias_axes", None),
        x,
        call.cfg.get("output_shape"),
        call.version,
    )
    out = e.declared if call.version == 3 else e.traced
    return Built([out], einsum_weights(e))


# ---------------------------------------------------------------------------
# MultiHeadAttention


def _letter(i: int) -> str:
    return string.ascii_lowercase[i]


def proj_equation(free_dims: int, bound_dims: int, output_dims: int) -> tuple[str, str, int]:
    """``multi_head_attention._build_proj_equation``."""
    input_str = kernel_str = output_str = bias_axes = ""
    off = 0
    for i in range(free_dims):
        c = _letter(i + off)
        input_str += c
        output_str += c
    off += free_dims
    for i in range(bound_dims):
        c = _letter(i + off)
        input_str += c
        kernel_str += c
    off += bound_dims
    for i in range(output_dims):
        c = _letter(i + off)
        kernel_str += c
        output_str += c
        bias_axes += c
    return f"{input_str},{kernel_str}->{output_str}", bias_axes, len(output_str)


def _partial(output_rank: int, known_last: Sequence[Any]) -> list[Any]:
    return [None] * (output_rank - len(known_last)) + list(known_last)


def _tensor_arg(call: Call, key: str) -> Shape | None:
    """The shape of a tensor passed as the call keyword ``key`` (see :class:`TensorArg`)."""
    v = call.kwargs.get(key)
    if v is None:
        return None
    if isinstance(v, TensorArg):
        if not 0 <= v.index < len(call.inputs):
            raise Unknown(f"`{key}` refers to a missing input")
        return call.inputs[v.index]
    if isinstance(v, (list, tuple)) and all(
        d is None or (isinstance(d, (int, Sym)) and not isinstance(d, bool)) for d in v
    ):
        return tuple(v)  # a bare shape
    raise Unknown(f"`{key}` is not a tensor ({v!r})")


def _positional(call: Call) -> list[Shape]:
    """Tensors passed positionally: those before the first keyword tensor."""
    kw_indices = [v.index for v in call.kwargs.values() if isinstance(v, TensorArg)]
    return list(call.inputs[: min(kw_indices, default=len(call.inputs))])


def _mha_inputs(call: Call) -> tuple[Shape, Shape, Shape | None]:
    """query/value/key, positional or keyword.

    Keras 3 serialises ``mha(q, v)`` with two positional args; tf-keras moves
    ``value`` (and ``key``) into the node's kwargs.
    """
    pos = _positional(call)
    query = _tensor_arg(call, "query") or (pos.pop(0) if pos else None)
    value = _tensor_arg(call, "value") or (pos.pop(0) if pos else None)
    key = _tensor_arg(call, "key") or (pos.pop(0) if pos else None)
    if query is None or value is None:
        raise Unknown("MultiHeadAttention needs a query and a value")
    if pos:
        raise Unknown("MultiHeadAttention: unexpected extra positional inputs")
    return query, value, key


@layer_rule("MultiHeadAttention")
def multi_head_attention(call: Call) -> Built:
    check_plain_dtype(call)
    cfg = call.cfg
    v3 = call.version == 3
    query, value, key = _mha_inputs(call)
    key_shape = value if key is None else key
    heads = cfg.size("num_heads")
    key_dim = cfg.size("key_dim")
    for n, what in ((heads, "num_heads"), (key_dim, "key_dim")):
        if isinstance(n, int) and n <= 0:
            raise Unknown(f"`{what}` must be positive")
    value_dim = cfg.opt_size("value_dim", None) or key_dim
    use_bias = cfg.flag("use_bias", True)
    use_gate = v3 and cfg.flag("use_gate", False)
    if v3 and cfg.get("flash_attention", None) and cfg.get("dropout", 0.0):
        raise Unknown("Keras 3 rejects dropout together with flash_attention")
    raw_out = cfg.get("output_shape", None)
    out_shape: list[Any] | None
    if raw_out is None or raw_out == [] or raw_out == () or raw_out == 0:
        out_shape = None
    elif isinstance(raw_out, (int, Sym)) and not isinstance(raw_out, bool):
        out_shape = [raw_out]
    elif isinstance(raw_out, (list, tuple)):
        out_shape = list(raw_out)
    else:
        raise Unknown(f"MultiHeadAttention: output_shape {raw_out!r} is not understood")

    for s, what in ((query, "query"), (value, "value"), (key_shape, "key")):
        if len(s) < 3:
            raise Unknown(f"MultiHeadAttention: {what} of rank {len(s)} is not modelled")
    if len(value) != len(key_shape):
        raise Unknown("MultiHeadAttention: value and key ranks differ")
    if v3:
        if tuple(value[1:-1]) != tuple(key_shape[1:-1]):
            raise Unknown("MultiHeadAttention: value and key differ except in the last axis")
    elif not all(_compatible(a, b) for a, b in zip(value[1:-1], key_shape[1:-1], strict=True)):
        raise Unknown("MultiHeadAttention: value and key shapes are incompatible")

    subs: list[SubLayer] = []

    def dense(name: str, x: Shape, bound: int, last: Sequence[Any]) -> Einsum:
        """One EinsumDense projection sublayer, as ``_build_proj_equation`` sets it up."""
        eq, axes, out_rank = proj_equation(len(x) - bound, bound, len(last))
        partial = _partial(out_rank - 1, last)
        e = analyze_einsum(eq, axes if use_bias else None, x, partial, call.version)
        built = Built([e.declared if v3 else e.traced], einsum_weights(e))
        subs.append(SubLayer(name, "EinsumDense", built))
        return e

    q = dense("query", query, 1, [heads, key_dim])
    k = dense("key", key_shape, 1, [heads, key_dim])
    if use_gate:
        dense("gate", query, 1, [heads, value_dim])
    v = dense("value", value, 1, [heads, value_dim])

    # Attention axes over the projected rank (value's rank + 1).
    rank = len(value) + 1
    axes_cfg = cfg.get("attention_axes", None)
    if axes_cfg is None:
        attn_axes = tuple(range(1, rank - 2))
    else:
        raw = (axes_cfg,) if isinstance(axes_cfg, int) else tuple(axes_cfg)
        if not raw or not all(isinstance(a, int) for a in raw):
            raise Unknown(f"MultiHeadAttention: attention_axes={axes_cfg!r} is not understood")
        if v3:
            # Keras 3 maps a negative axis to (rank - 1) + axis; the declared
            # output shapes do not depend on the axes, only np.delete must accept them.
            attn_axes = tuple(a if a >= 0 else (rank - 1) + a for a in raw)
            if any(not -rank <= a < rank for a in attn_axes):
                raise Unknown(f"MultiHeadAttention: attention_axes={axes_cfg!r} out of range")
        else:
            # tf-keras indexes the einsum notation with the raw axes (numpy-style),
            # so a negative axis counts from the end of the projected rank.
            attn_axes = tuple(a % rank if -rank <= a < rank else a for a in raw)
            if any(not 0 <= a <= rank - 2 for a in attn_axes):
                raise Unknown(f"MultiHeadAttention: attention_axes={axes_cfg!r} is not modelled")
            if len(set(attn_axes)) != len(attn_axes):
                raise Unknown("MultiHeadAttention: repeated attention_axes")

    return_scores = bool(call.kwargs.get("return_attention_scores", False))
    out_last = out_shape if out_shape is not None else [query[-1]]
    if v3:
        # Declared shapes: the query's, with output_shape for its last axis; the
        # scores as (batch, heads, Tq, Tq) whatever the key's length.
        attn_in: Shape = (*q.declared[:-1], value_dim)
        dense("attention_output", attn_in, 2, out_last)
        outputs: list[Shape] = [(*query[:-1], *out_shape) if out_shape is not None else query]
        if return_scores:
            outputs.append((query[0], heads, query[1], query[1]))
        return Built(outputs, sublayers=subs)

    # tf-keras traces the einsums; shared axes merge (None with a size gives the size).
    if len(query) != len(value):
        raise Unknown("MultiHeadAttention: query and value ranks differ")
    qp, kp, vp = q.traced, k.traced, v.traced
    batch_dims = [i for i in range(rank) if i not in attn_axes and i != rank - 1]
    scores: list[Dim] = [_merge(qp[i], kp[i], "MultiHeadAttention query/key") for i in batch_dims]
    scores += [qp[i] for i in attn_axes] + [kp[i] for i in attn_axes]
    # combine: scores (batch dims, query attn axes, key attn axes) x value -> query layout
    n_b, n_a = len(batch_dims), len(attn_axes)
    for j, i in enumerate(attn_axes):
        _merge(scores[n_b + n_a + j], vp[i], "MultiHeadAttention key/value")
    attn_out: list[Dim] = [None] * rank
    for j, i in enumerate(batch_dims):
        attn_out[i] = _merge(scores[j], vp[i], "MultiHeadAttention batch axes")
    for j, i in enumerate(attn_axes):
        attn_out[i] = scores[n_b + j]
    attn_out[rank - 1] = vp[rank - 1]
    o = dense("attention_output", tuple(attn_out), 2, out_last)
    outputs = [o.traced]
    if return_scores:
        outputs.append(tuple(scores))
    return Built(outputs, sublayers=subs)


# ---------------------------------------------------------------------------
# Attention / AdditiveAttention


def _dot_attention_inputs(call: Call) -> tuple[Shape, Shape, Shape]:
    name = call.cfg.class_name
    # Keras 3: the first argument is the list [query, value(, key)]; tf-keras's
    # node lists the same tensors as separate entries.
    inputs = call.first
    if len(inputs) < 2:
        raise Unknown(f"{name} must be called on a list [query, value] or [query, value, key]")
    if len(inputs) > 3:
        raise Unknown(f"{name} takes 2 or 3 inputs, got {len(inputs)}")
    q, v = inputs[0], inputs[1]
    k = inputs[2] if len(inputs) > 2 else v
    return q, v, k


def _merge(a: Dim, b: Dim, what: str) -> Dim:
    if not _compatible(a, b):
        raise Unknown(f"{what}: {a} and {b} do not match")
    return b if a is None else a


@layer_rule("Attention", "AdditiveAttention")
def dot_attention(call: Call) -> Built:
    cfg = call.cfg
    additive = cfg.class_name == "AdditiveAttention"
    q, v, k = _dot_attention_inputs(call)
    use_scale = cfg.flag("use_scale", additive)
    score_mode = "additive" if additive else cfg.get("score_mode", "dot")
    if score_mode not in ("dot", "concat", "additive"):
        raise Unknown(f"Attention: score_mode={score_mode!r} is not valid")
    weights: list[WeightSpec] = []
    if additive:
        if use_scale:
            # Keras 3 sizes the scale by the query's last axis, tf-keras by the value's.
            dim = q[-1] if call.version == 3 else v[-1]
            weights.append(WeightSpec("scale", (require_known(dim, "the feature axis"),)))
    else:
        if use_scale:
            weights.append(WeightSpec("scale", ()))
        if score_mode == "concat":
            weights.append(WeightSpec("concat_score_weight", ()))
    return_scores = bool(call.kwargs.get("return_attention_scores", False))

    if call.version == 3:
        if not q or not v or len(k) < 2:
            raise Unknown("Attention: inputs of rank < 2 are not modelled")
        outputs: list[Shape] = [(*q[:-1], v[-1])]
        if return_scores:
            outputs.append((*q[:-1], k[-2]))
        return Built(outputs, weights)

    # tf-keras traces the ops: scores = q @ k^T (or a broadcast sum), then @ v,
    # with matmul's broadcasting of the leading (batch) axes.
    name = cfg.class_name
    if min(len(q), len(v), len(k)) < 2:
        raise Unknown(f"{name}: inputs of rank < 2 are not modelled")
    if score_mode == "dot":
        _merge(q[-1], k[-1], f"{name}: query/key feature axes")
    else:
        feat = broadcast([(q[-1],), (k[-1],)])
        if additive and use_scale:
            broadcast([feat, (v[-1],)])
    score_batch = broadcast([q[:-2], k[:-2]]) if len(q) > 2 or len(k) > 2 else ()
    scores: Shape = (*score_batch, q[-2], k[-2])
    _merge(k[-2], v[-2], f"{name}: key/value time axes")
    out_batch = broadcast([score_batch, v[:-2]]) if score_batch or len(v) > 2 else ()
    outputs = [(*out_batch, q[-2], v[-1])]
    if return_scores:
        outputs.append(scores)
    return Built(outputs, weights)


__all__ = ["Einsum", "analyze_einsum", "proj_equation"]
