"""Output shapes of tensor operations (``keras.ops.*``, ``tf.*``) on symbolic tensors.

The source reader interprets user code that applies operations to Keras tensors (in functional
code, inside a custom layer's ``call``, in a ``Lambda``'s function).  Each rule below maps the
shapes (and plain arguments) of one operation to its output shape, as Keras's
``compute_output_spec`` / TensorFlow's static shape inference give it.  ``tests/test_ops_oracle.py``
compares every rule with live ``keras.ops`` / ``tf`` on generated inputs.

An operation is named by the last part of its path (``keras.ops.expand_dims`` and
``tf.expand_dims`` share a rule; ``tf.concat`` and ``keras.ops.concatenate`` differ only in their
default axis, given by :func:`op_shape`'s caller through ``defaults``).  A rule raises
:class:`Unknown` with the reason when it cannot give an exact shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from bnlint.keras.catalogue import Unknown

Dim = Any  # int | None | Sym
Shape = tuple

ELEMENTWISE_UNARY = frozenset({
    "relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax", "exp", "log", "sqrt", "square",
    "abs", "negative", "gelu", "silu", "swish", "elu", "selu", "softplus", "softsign", "erf",
    "hard_sigmoid", "leaky_relu", "rsqrt", "sign", "floor", "ceil", "round", "cast",
    "stop_gradient", "identity", "dropout", "l2_normalize", "normalize", "clip",
    "clip_by_value", "reciprocal", "cos", "sin", "zeros_like", "ones_like", "mish",
    "logical_not", "convert_to_tensor", "log1p", "expm1", "linear", "exponential",
})

ELEMENTWISE_BINARY = frozenset({
    "add", "subtract", "multiply", "divide", "maximum", "minimum", "power", "truediv",
    "true_divide", "floor_divide", "squared_difference", "equal", "not_equal", "greater",
    "greater_equal", "less", "less_equal", "logical_and", "logical_or", "logical_xor", "mod",
    "floormod",
})

REDUCTIONS = frozenset({
    "mean", "sum", "max", "min", "prod", "reduce_mean", "reduce_sum", "reduce_max",
    "reduce_min", "reduce_prod", "std", "var", "logsumexp", "reduce_logsumexp", "any", "all",
    "reduce_any", "reduce_all", "argmax", "argmin",
})


# The functions each namespace has among those ruled here (relative paths; measured with
# keras 3.15 / TensorFlow 2.21): a name outside its namespace's set is not answered, since Keras
# or TF would raise AttributeError or mean something else (``keras.ops.identity`` makes an
# identity matrix, ``tf.linalg.normalize`` returns a pair).
KERAS_OPS = frozenset({
    "abs", "add", "all", "any", "arange", "argmax", "argmin", "broadcast_to", "cast", "ceil", "clip",
    "concatenate", "convert_to_tensor", "cos", "depth_to_space", "divide", "dot", "elu", "equal",
    "erf", "exp", "expand_dims", "expm1", "floor", "floor_divide", "gelu", "greater",
    "greater_equal", "hard_sigmoid", "leaky_relu", "less", "less_equal", "log", "log1p",
    "log_softmax", "logical_and", "logical_not", "logical_or", "logical_xor", "logsumexp",
    "matmul", "max", "maximum", "mean", "min", "minimum", "mod", "multiply", "negative",
    "normalize", "not_equal", "one_hot", "ones_like", "power", "prod", "reciprocal", "relu",
    "relu6", "reshape", "image.resize", "round", "rsqrt", "selu", "sigmoid", "sign", "silu",
    "sin", "softmax", "softplus", "softsign", "sqrt", "square", "squeeze", "stack", "std",
    "stop_gradient", "subtract", "sum", "swish", "take", "tanh", "tile", "transpose",
    "true_divide", "var", "where", "zeros_like", "shape", "image.extract_patches", "zeros",
    "ones", "roll",
})
# keras.random functions ruled here (their result's shape is their ``shape`` argument)
KERAS_RANDOM = frozenset({"normal", "uniform", "truncated_normal"})
TF_OPS = frozenset({
    "abs", "math.abs", "add", "math.add", "argmax", "math.argmax", "argmin", "math.argmin",
    "broadcast_to",
    "cast", "math.ceil", "clip_by_value", "concat", "convert_to_tensor", "cos", "math.cos",
    "nn.depth_to_space", "divide", "math.divide", "nn.dropout", "nn.elu", "equal", "math.equal",
    "math.erf", "exp", "math.exp", "expand_dims", "math.expm1", "floor", "math.floor",
    "math.floormod", "gather", "nn.gelu", "greater", "math.greater", "greater_equal",
    "math.greater_equal", "identity", "math.l2_normalize", "nn.l2_normalize",
    "linalg.l2_normalize", "nn.leaky_relu", "less", "math.less", "less_equal", "math.less_equal",
    "math.log", "math.log1p", "math.log_softmax", "nn.log_softmax", "logical_and",
    "math.logical_and", "logical_not", "math.logical_not", "logical_or", "math.logical_or",
    "math.logical_xor", "matmul", "linalg.matmul", "maximum", "math.maximum", "minimum",
    "math.minimum", "math.mod", "multiply", "math.multiply", "negative", "math.negative",
    "not_equal", "math.not_equal", "one_hot", "ones_like", "range", "math.reciprocal",
    "reduce_all", "math.reduce_all", "reduce_any", "math.reduce_any", "reduce_logsumexp",
    "math.reduce_logsumexp", "reduce_max", "math.reduce_max", "reduce_mean",
    "math.reduce_mean", "reduce_min", "math.reduce_min", "reduce_prod", "math.reduce_prod",
    "reduce_sum", "math.reduce_sum", "nn.relu", "nn.relu6", "reshape", "image.resize", "round",
    "math.round", "math.rsqrt", "nn.selu", "sigmoid", "math.sigmoid", "nn.sigmoid", "sign",
    "math.sign", "nn.silu", "sin", "math.sin", "math.softmax", "nn.softmax", "math.softplus",
    "nn.softplus", "math.softsign", "nn.softsign", "sqrt", "math.sqrt", "square", "math.square",
    "math.squared_difference", "squeeze", "stack", "stop_gradient", "subtract",
    "math.subtract", "nn.swish", "tanh", "math.tanh", "nn.tanh", "tile", "transpose", "truediv",
    "math.truediv", "where", "zeros_like", "shape", "image.extract_patches", "random.normal",
    "random.uniform", "random.truncated_normal", "zeros", "ones", "constant", "signal.stft",
    "roll",
})
# tf_keras's keras.backend functions ruled here (Keras 3's keras.backend has none of them);
# backend.concatenate's axis defaults to -1.
BACKEND_OPS = frozenset({
    "sum", "mean", "max", "min", "prod", "expand_dims", "squeeze", "reshape", "tile", "sqrt",
    "square", "exp", "log", "abs", "relu", "sigmoid", "tanh", "softmax", "cast",
    "stop_gradient", "zeros_like", "ones_like", "concatenate", "stack", "transpose", "shape",
    "int_shape", "dot", "bias_add",
})
ACTIVATIONS = frozenset({
    "relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax", "gelu", "silu", "swish",
    "elu", "selu", "softplus", "softsign", "hard_sigmoid", "leaky_relu", "mish", "linear",
    "exponential",
})
ACTIVATIONS_KERAS2 = ACTIVATIONS - {"leaky_relu", "log_softmax", "relu6", "silu"}  # tf_keras


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def broadcast(a: Shape, b: Shape) -> Shape:
    out = []
    for i in range(max(len(a), len(b))):
        da = a[len(a) - 1 - i] if i < len(a) else 1
        db = b[len(b) - 1 - i] if i < len(b) else 1
        if da == 1:
            out.append(db)
        elif db == 1 or da == db:
            out.append(da)
        elif da is None:
            out.append(db)
        elif db is None:
            out.append(da)
        else:
            raise Unknown(f"shapes {a} and {b} do not broadcast")
    return tuple(reversed(out))


def matmul(a: Shape, b: Shape) -> Shape:
    if not a or not b:
        raise Unknown("matmul of a scalar")
    if len(b) == 1:
        return a[:-1]
    if len(a) == 1:
        return (*b[:-2], b[-1])
    return (*broadcast(a[:-2], b[:-2]), a[-2], b[-1])


def _axis(axis: Any, rank: int) -> int:
    if not _int(axis) or not -rank <= axis < rank:
        raise Unknown(f"axis {axis!r} for rank {rank}")
    return axis % rank


def _reduce(s: Shape, axis: Any, keep: Any) -> Shape:
    if axis is None:
        return tuple(1 for _ in s) if keep else ()
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    norm = {_axis(x, len(s)) for x in axes}
    return tuple(1 if i in norm else d for i, d in enumerate(s) if keep or i not in norm)


def _expand_dims(s: Shape, axis: Any) -> Shape:
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    out = list(s)
    rank = len(s) + len(axes)
    for a in sorted(_axis(x, rank) for x in axes):
        out.insert(a, 1)
    return tuple(out)


def _squeeze(s: Shape, axis: Any, keras_ops: bool) -> Shape:
    if axis is None:
        if any(d is None for d in s):
            raise Unknown("squeeze without axis of a shape with unknown dimensions")
        return tuple(d for d in s if d != 1)
    axes = {_axis(x, len(s)) for x in (axis if isinstance(axis, (list, tuple)) else [axis])}
    for a in axes:
        # Keras 3 refuses an axis that is not 1 (None included); TF one known not to be 1
        if s[a] != 1 and (keras_ops or s[a] is not None):
            raise Unknown(f"cannot squeeze axis {a} of size {s[a]}")
    return tuple(d for i, d in enumerate(s) if i not in axes)


def _reshape(s: Shape, new: Any) -> Shape:
    if not isinstance(new, (list, tuple)) or not all(_int(d) or d is None for d in new):
        raise Unknown("target shape not known statically")
    # None: a size known only at run time (``ops.shape(x)[0]`` of the batch axis); Keras
    # (compute_reshape_output_shape) and TF's shape inference keep it None, and cannot infer
    # a -1 beside it.
    if new.count(-1) > 1:
        raise Unknown("more than one -1 in the target shape")
    if any(_int(d) and d < -1 for d in new):
        raise Unknown(f"negative size in the target shape {tuple(new)}")
    if None in new:
        return tuple(None if d == -1 else d for d in new)
    if -1 not in new:
        return tuple(new)
    known = 1
    for d in new:
        if d != -1:
            known *= d
    if all(_int(d) for d in s) and known:
        total = 1
        for d in s:
            total *= d
        return tuple(total // known if d == -1 else d for d in new)
    return tuple(None if d == -1 else d for d in new)


def _reshape_keras(s: Shape, new: Any) -> Shape:
    """keras.ops.reshape (``compute_reshape_output_shape``): a None dimension of the target
    (``ops.shape(x)[0]`` of a symbolic batch) stays None and is not the ``-1``; the ``-1`` is
    computed only when every input and target dimension is known."""
    if not isinstance(new, (list, tuple)) or not all(_int(d) or d is None for d in new):
        raise Unknown("target shape not known statically")
    if any(d < -1 for d in new if d is not None) or sum(d == -1 for d in new) > 1:
        raise Unknown(f"invalid target shape {tuple(new)}")
    if None in s or None in new or not all(_int(d) for d in s):
        return tuple(None if d == -1 else d for d in new)
    if -1 not in new and math.prod(s) != math.prod(new):
        raise Unknown(f"cannot reshape {s} to {tuple(new)}")
    return _reshape(s, new)


def _backend_dot(a: Shape, b: Shape) -> Shape:
    """tf_keras ``backend.dot``: N-D operands are reshaped to ``a[:-1] + b[:-2] + b[-1:]``."""
    if len(a) > 2 or len(b) > 2:
        if len(a) < 1 or len(b) < 2:
            raise Unknown("dot of a scalar")
        if a[-1] is not None and b[-2] is not None and a[-1] != b[-2]:
            raise Unknown(f"dot: shapes {a} and {b} do not match")
        return (*a[:-1], *b[:-2], b[-1])
    return matmul(a, b)


def _bias_add(s: Shape, bias: Shape, data_format: Any) -> Shape:
    """tf_keras ``backend.bias_add``: the input's shape (a bias of rank 1 or ndim - 1)."""
    if data_format not in (None, "channels_last") or len(bias) not in (1, len(s) - 1):
        raise Unknown("bias_add: data format or bias rank not modelled")
    if len(bias) == 1 and s and s[-1] is not None and bias[0] is not None and s[-1] != bias[0]:
        raise Unknown(f"bias_add: bias {bias} does not match {s}")
    return s


def _transpose(s: Shape, axes: Any) -> Shape:
    if axes is None:
        return tuple(reversed(s))
    if not isinstance(axes, (list, tuple)) or len(axes) != len(s):
        raise Unknown("transpose axes not known")
    return tuple(s[_axis(a, len(s))] for a in axes)


def _concat(shapes: list[Shape], axis: Any, keras_ops: bool) -> Shape:
    if not shapes:
        raise Unknown("concatenate of nothing")
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise Unknown("concatenate of tensors of different ranks")
    ax = _axis(axis, rank)
    out = []
    for i in range(rank):
        dims = [s[i] for s in shapes]
        if i != ax and len({d for d in dims if d is not None}) > 1:
            raise Unknown(f"concatenate: shapes {shapes} differ off the axis")
        if i == ax:
            out.append(sum(dims) if all(_int(d) for d in dims) else None)
        elif keras_ops:  # Keras 3's Concatenate keeps the first tensor's other dimensions
            out.append(dims[0])
        else:  # TF merges them
            known = [d for d in dims if d is not None]
            out.append(known[0] if known else None)
    return tuple(out)


def _stack(shapes: list[Shape], axis: Any) -> Shape:
    if not shapes:
        raise Unknown("stack of nothing")
    base = shapes[0]
    for s in shapes[1:]:
        base = tuple(a if a is not None else b for a, b in zip(base, s, strict=False))
    out = list(base)
    out.insert(_axis(axis, len(base) + 1), len(shapes))
    return tuple(out)


def _tile(s: Shape, reps: Any) -> Shape:
    if not isinstance(reps, (list, tuple)):
        reps = [reps]
    if len(reps) < len(s):
        reps = [1] * (len(s) - len(reps)) + list(reps)
    s = (1,) * (len(reps) - len(s)) + tuple(s)
    return tuple(d * r if _int(d) and _int(r) else (d if r == 1 else None)
                 for d, r in zip(s, reps, strict=True))


def _arange(start: Any, stop: Any, step: Any) -> Shape:
    if _int(start) and _int(stop) and _int(step) and step != 0:
        return (max(0, -(-(stop - start) // step)),)
    return (None,)


def _broadcast_to(s: Shape, new: Any) -> Shape:
    """keras.ops.broadcast_to: the target shape itself (Keras checks it broadcasts with the
    input's; a dimension not known is None, as in ``[ops.shape(x)[0], 1, 64]``)."""
    if _int(new):
        new = (new,)
    if not isinstance(new, (list, tuple)) or not all(_int(d) or d is None for d in new):
        raise Unknown("target shape not known statically")
    if len(s) > len(new):
        raise Unknown(f"cannot broadcast {s} to {tuple(new)}")
    broadcast(s, tuple(new))
    return tuple(new)


def _one_hot(s: Shape, depth: Any) -> Shape:
    return (*s, depth if _int(depth) else None)


def _depth_to_space(s: Shape, block: Any) -> Shape:
    if len(s) != 4 or not _int(block):
        raise Unknown("depth_to_space needs a 4-D input and an integer block size")
    b, h, w, c = s
    return (b, None if h is None else h * block, None if w is None else w * block,
            None if c is None else c // (block * block))


def _resize(s: Shape, size: Any) -> Shape:
    if len(s) != 4 or not isinstance(size, (list, tuple)) or len(size) != 2:
        raise Unknown("resize needs a 4-D input and a (height, width) size")
    return (s[0], *(d if _int(d) else None for d in size), s[3])


def _pair(v: Any, n: int, what: str) -> tuple:
    if _int(v):
        return (v,) * n
    if isinstance(v, (list, tuple)) and len(v) == n and all(_int(x) for x in v):
        return tuple(v)
    raise Unknown(f"extract_patches: {what} {v!r} not known statically")


def _conv_dim(d: Dim, k: int, s: int, r: int, padding: str) -> Dim:
    if not _int(d):
        return None
    if padding == "same":
        return -(-d // s)
    return (d - r * (k - 1) - 1) // s + 1


def _extract_patches(s: Shape, size: Any, strides: Any, rates: Any, padding: Any,
                     keras_ops: bool) -> Shape:
    """``keras.ops.image.extract_patches(x, size, strides=size)`` (channels_last, 2-D) and
    ``tf.image.extract_patches(x, sizes=[1, h, w, 1], strides=..., rates=..., padding)``:
    a convolution's output size, channels ``h * w * c``."""
    if padding not in (("valid", "same") if keras_ops else ("VALID", "SAME")):
        raise Unknown(f"extract_patches: padding {padding!r} not known statically")
    pad = padding.lower()
    if keras_ops:
        if len(s) not in (3, 4) or (isinstance(size, (list, tuple)) and len(size) != 2):
            raise Unknown("extract_patches: only 2-D patches of a 3-D/4-D input are ruled")
        k = _pair(size, 2, "size")
        st = k if strides is None else _pair(strides, 2, "strides")
        r = _pair(1 if rates is None else rates, 2, "dilation_rate")
    else:
        if len(s) != 4:
            raise Unknown("tf.image.extract_patches needs a 4-D input")
        four = [_pair(v, 4, n) for v, n in ((size, "sizes"), (strides, "strides"),
                                             (rates, "rates"))]
        if any(v[0] != 1 or v[3] != 1 for v in four):
            raise Unknown("tf.image.extract_patches: sizes/strides/rates must be [1, h, w, 1]")
        k, st, r = (v[1:3] for v in four)
    h, w, c = s[-3:]
    if any(x <= 0 for x in (*k, *st, *r)):
        raise Unknown("extract_patches: sizes must be positive")
    out_c = c * k[0] * k[1] if _int(c) else None
    if not keras_ops and not (_int(h) and _int(w)):
        h = w = None  # TF's shape function: both spatial sizes unknown when one is
    out = (_conv_dim(h, k[0], st[0], r[0], pad), _conv_dim(w, k[1], st[1], r[1], pad), out_c)
    if any(_int(d) and d <= 0 for d in out):
        raise Unknown(f"extract_patches: output shape {out} is empty")
    return (*s[:-3], *out)


def _shape_arg(v: Any) -> Shape:
    """The ``shape`` argument of a creation op (``tf.random.normal((b, 4))``): ints, None for a
    size known only at run time (``tf.shape(x)[0]`` of an unknown dimension)."""
    if _int(v):
        v = (v,)
    if not isinstance(v, (list, tuple)) or not all(d is None or (_int(d) and d >= 0)
                                                   for d in v):
        raise Unknown("shape not known statically")
    return tuple(v)


def _stft(s: Shape, frame_length: Any, frame_step: Any, fft_length: Any, pad_end: Any,
          ) -> Shape:
    """``tf.signal.stft``: frames along the last axis (``tf.signal.frame``), then
    ``fft_length // 2 + 1`` bins (fft_length: the smallest power of 2 >= frame_length)."""
    if not s or not (_int(frame_length) and _int(frame_step)) or frame_length <= 0 or \
            frame_step <= 0 or pad_end not in (True, False):
        raise Unknown("stft: frame_length, frame_step, pad_end not known statically")
    if fft_length is None:
        fft_length = 1 << max(0, (frame_length - 1).bit_length())
    if not _int(fft_length) or fft_length <= 0:
        raise Unknown("stft: fft_length not known statically")
    n = s[-1]
    if not _int(n):
        frames = None
    elif pad_end:
        frames = -(-n // frame_step)
    else:
        frames = max(0, 1 + (n - frame_length) // frame_step)
    return (*s[:-1], frames, fft_length // 2 + 1)


def _data_shape(v: Any, depth: int = 0) -> Shape:
    """The shape of literal data (a number, nested lists of numbers)."""
    if isinstance(v, (int, float)):
        return ()
    if isinstance(v, (list, tuple)) and v and depth < 8:
        inner = [_data_shape(x, depth + 1) for x in v]
        if all(i == inner[0] for i in inner):
            return (len(v), *inner[0])
    raise Unknown("the data is not a known number or nested list of numbers")


def _gather(s: Shape, idx: Shape, axis: Any) -> Shape:
    ax = _axis(0 if axis is None else axis, len(s))
    return (*s[:ax], *idx, *s[ax + 1:])


def slice_shape(s: Shape, key: Any) -> Shape:
    """``x[key]``: ints drop a dimension, slices shorten it, None inserts one, ``...`` fills."""
    keys = list(key) if isinstance(key, tuple) else [key]
    n_ell = sum(1 for k in keys if k is Ellipsis)
    if n_ell > 1:
        raise Unknown("more than one ellipsis")
    used = sum(1 for k in keys if k is not None and k is not Ellipsis)
    if used > len(s):
        raise Unknown("too many indices")
    if n_ell == 0:
        keys.append(Ellipsis)
    out: list[Dim] = []
    i = 0
    for k in keys:
        if k is Ellipsis:
            n = len(s) - used
            out.extend(s[i:i + n])
            i += n
        elif k is None:
            out.append(1)
        elif _int(k):
            d = s[i]
            if _int(d) and not -d <= k < d:
                raise Unknown(f"index {k} out of range for dimension {d}")
            i += 1
        elif isinstance(k, slice):
            d = s[i]
            i += 1
            if not all(x is None or _int(x) for x in (k.start, k.stop, k.step)):
                raise Unknown("slice bounds not known statically")
            if _int(d):
                out.append(len(range(d)[k]))
            elif k.start is None and k.stop is None and k.step in (None, 1):
                out.append(None)
            elif (k.step in (None, 1) and _int(k.stop) and k.stop >= 0
                  and (k.start is None or (_int(k.start) and k.start >= 0))):
                # x[:, :n] on an unknown dimension: at most n; TF keeps None
                out.append(None)
            else:
                out.append(None)
        else:
            raise Unknown(f"index {k!r} not known statically")
    return tuple(out)


# rule(shapes of the tensor arguments by position/keyword, args, kwargs) -> shape
Rule = Callable[[Callable[[Any], Any], list[Any], dict[str, Any]], Shape]


def _arg(args: list[Any], kwargs: dict[str, Any], i: int, *names: str, default: Any = None) -> Any:
    for n in names:
        if n in kwargs:
            return kwargs[n]
    return args[i] if len(args) > i else default


def namespace_op(path: str, version: int) -> tuple[str, str] | None:
    """``(function, flavour)`` for a canonical path whose function is ruled here, flavour
    "keras" (keras.ops, keras.activations), "tf" or "backend" (tf_keras's keras.backend);
    None when the namespace does not have it (or it means something else)."""
    for prefix in ("keras.src.ops.", "keras.ops."):
        if path.startswith(prefix):
            rel = path[len(prefix):]
            return (rel.rsplit(".", 1)[-1], "keras") if rel in KERAS_OPS else None
    for prefix in ("keras.src.random.", "keras.random."):
        if path.startswith(prefix):
            rel = path[len(prefix):]
            return (rel, "keras") if version == 3 and rel in KERAS_RANDOM else None
    if path.startswith(("keras.activations.", "keras.src.activations.")):
        fn = path.rsplit(".", 1)[-1]
        return (fn, "keras") if fn in (ACTIVATIONS if version == 3 else ACTIVATIONS_KERAS2) \
            else None
    if path.startswith("keras.backend."):
        fn = path[len("keras.backend."):]
        return (fn, "backend") if version == 2 and fn in BACKEND_OPS else None
    if path.startswith("tensorflow."):
        rel = tf_relative(path)
        return (rel.rsplit(".", 1)[-1], "tf") if rel in TF_OPS else None
    return None


def tf_relative(path: str) -> str:
    """``tensorflow.compat.v1.math.add`` -> ``math.add``."""
    rel = path[len("tensorflow."):]
    for pre in ("compat.v1.", "compat.v2."):
        if rel.startswith(pre):
            rel = rel[len(pre):]
    return rel


def op_shape(fn: str, args: list[Any], kwargs: dict[str, Any], shape_of: Callable[[Any], Any],
             keras_ops: bool | str) -> Shape:
    """The output shape of operation ``fn`` (its last name) on ``args``; ``shape_of`` gives a
    tensor argument's shape (None: not a tensor); ``keras_ops``: True for the keras.ops flavour
    (concatenate's default axis 0), False for TF's (tf.concat's axis is required), "backend"
    for tf_keras's keras.backend (concatenate's axis defaults to -1). Raises Unknown."""
    backend = keras_ops == "backend"
    keras_ops = keras_ops is True
    def t(i: int, *names: str) -> Shape:
        v = _arg(args, kwargs, i, *names)
        s = shape_of(v)
        if s is None:
            raise Unknown(f"argument {names[0] if names else i} is not a known tensor")
        return tuple(s)

    def ts(v: Any) -> list[Shape]:
        if not isinstance(v, (list, tuple)):
            raise Unknown("expected a list of tensors")
        out = [shape_of(x) for x in v]
        if any(s is None for s in out):
            raise Unknown("a list item is not a known tensor")
        return [tuple(s) for s in out]

    if fn == "roll":
        return t(0, "x", "input")
    if fn in ("convert_to_tensor", "constant"):
        v = _arg(args, kwargs, 0, "x", "value")
        if shape_of(v) is None:
            return _data_shape(v)
    if fn in ELEMENTWISE_UNARY:
        return t(0, "x", "features", "inputs", "t", "logits")
    if fn in ELEMENTWISE_BINARY:
        a = _arg(args, kwargs, 0, "x1", "x")
        b = _arg(args, kwargs, 1, "x2", "y")
        sa, sb = shape_of(a), shape_of(b)
        if sa is None and b is not None and not isinstance(a, (int, float)):
            raise Unknown("first operand is not a known tensor")
        sa = () if sa is None else tuple(sa)
        if sb is None:
            if not isinstance(b, (int, float)) or isinstance(b, bool):
                raise Unknown("second operand is not a known tensor")
            sb = ()
        return broadcast(sa, tuple(sb))
    if fn == "where":
        def operand(i: int, *names: str) -> Shape:
            v = _arg(args, kwargs, i, *names)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return ()  # a Python number: a scalar
            return t(i, *names)

        return broadcast(broadcast(t(0, "condition"), operand(1, "x1", "x")),
                         operand(2, "x2", "y"))
    if fn == "dot" and backend:
        return _backend_dot(t(0, "x"), t(1, "y"))
    if fn == "bias_add" and backend:
        return _bias_add(t(0, "x"), t(1, "bias"), _arg(args, kwargs, 2, "data_format"))
    if fn in ("matmul", "dot"):
        return matmul(t(0, "x1", "a"), t(1, "x2", "b"))
    if fn in REDUCTIONS:
        keep = _arg(args, kwargs, 2, "keepdims", "keep_dims", default=False)
        return _reduce(t(0, "x", "input_tensor", "input"), _arg(args, kwargs, 1, "axis"), keep)
    if fn == "expand_dims":
        return _expand_dims(t(0, "x", "input"), _arg(args, kwargs, 1, "axis"))
    if fn == "squeeze":
        return _squeeze(t(0, "x", "input"), _arg(args, kwargs, 1, "axis"), keras_ops)
    if fn == "reshape":
        return (_reshape_keras if keras_ops else _reshape)(
            t(0, "x", "tensor"), _arg(args, kwargs, 1, "newshape", "new_shape", "shape"))
    if fn == "transpose":
        return _transpose(t(0, "x", "a"), _arg(args, kwargs, 1, "axes", "perm"))
    if fn in ("concatenate", "concat"):
        axis = _arg(args, kwargs, 1, "axis", default=0 if keras_ops else (-1 if backend else None))
        return _concat(ts(_arg(args, kwargs, 0, "xs", "values")), axis, keras_ops)
    if fn == "stack":
        return _stack(ts(_arg(args, kwargs, 0, "x", "values")),
                      _arg(args, kwargs, 1, "axis", default=0))
    if fn == "tile":
        return _tile(t(0, "x", "input"), _arg(args, kwargs, 1, "repeats", "multiples"))
    if fn in ("arange", "range"):
        absent = object()
        start = _arg(args, kwargs, 0, "start", default=absent)
        stop = _arg(args, kwargs, 1, "stop", "limit", default=absent)
        step = _arg(args, kwargs, 2, "step", "delta", default=1)
        if stop is absent:
            start, stop = 0, start
        if start is absent:
            start = 0
        if not all(v is None or _int(v) for v in (start, stop, step)):
            raise Unknown("arange bounds are not integers")
        if start is None or stop is None or step is None:
            return (None,)
        return _arange(start, stop, step)
    if fn == "broadcast_to":
        return _broadcast_to(t(0, "x", "input"), _arg(args, kwargs, 1, "shape"))
    if fn == "one_hot":
        return _one_hot(t(0, "x", "indices"), _arg(args, kwargs, 1, "num_classes", "depth"))
    if fn == "depth_to_space":
        return _depth_to_space(t(0, "input"), _arg(args, kwargs, 1, "block_size"))
    if fn == "extract_patches":
        return _extract_patches(
            t(0, "images"), _arg(args, kwargs, 1, "size" if keras_ops else "sizes"),
            _arg(args, kwargs, 2, "strides"),
            _arg(args, kwargs, 3, "dilation_rate" if keras_ops else "rates",
                 default=1 if keras_ops else None),
            _arg(args, kwargs, 4, "padding", default="valid" if keras_ops else None),
            keras_ops)
    if fn in ("normal", "uniform", "truncated_normal", "zeros", "ones"):
        return _shape_arg(_arg(args, kwargs, 0, "shape"))
    if fn == "stft":
        return _stft(t(0, "signals"), _arg(args, kwargs, 1, "frame_length"),
                     _arg(args, kwargs, 2, "frame_step"), _arg(args, kwargs, 3, "fft_length"),
                     _arg(args, kwargs, 5, "pad_end", default=False))
    if fn == "resize":
        return _resize(t(0, "images", "image"), _arg(args, kwargs, 1, "size"))
    if fn in ("take", "gather"):
        idx = _arg(args, kwargs, 1, "indices")
        si = shape_of(idx)
        if si is None:
            if not _int(idx):
                raise Unknown("indices are not a known tensor")
            si = ()
        return _gather(t(0, "x", "params"), tuple(si), _arg(args, kwargs, 2, "axis"))
    raise Unknown(f"no shape rule for `{fn}`")
