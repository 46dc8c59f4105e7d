"""Shape helpers shared by the layer families (mirrors keras.src.ops.operation_utils)."""

from __future__ import annotations

from collections.abc import Sequence

from bnlint.keras.catalogue import Shape, Unknown
from bnlint.symbolic import Size, Sym, add, ceildiv, floordiv, mul, product, sub

Dim = Size | None


def norm_axis(axis: int, rank: int, what: str = "axis") -> int:
    if not -rank <= axis < rank:
        raise Unknown(f"{what}={axis} is out of range for an input of rank {rank}")
    return axis % rank


def require_known(d: Dim, what: str) -> Size:
    if d is None:
        raise Unknown(f"{what} is undefined (None) in the input shape; Keras needs it to build")
    return d


def conv_output_length(
    length: Dim, kernel: Size, padding: str, stride: Size, dilation: Size = 1
) -> Dim:
    """``keras.src.ops.operation_utils.compute_conv_output_shape`` for one axis."""
    if length is None:
        return None
    eff = add(mul(sub(kernel, 1), dilation), 1)
    if padding == "valid":
        return add(floordiv(sub(length, eff), stride), 1)
    if padding == "same":
        return add(floordiv(sub(length, 1), stride), 1)
    if padding == "causal":
        return add(floordiv(sub(length, 1), stride), 1)
    raise Unknown(f"padding={padding!r} is not supported")


def pool_output_length(length: Dim, pool: Size, padding: str, stride: Size) -> Dim:
    if length is None:
        return None
    if padding == "valid":
        return add(floordiv(sub(length, pool), stride), 1)
    if padding == "same":
        return ceildiv(length, stride)
    raise Unknown(f"padding={padding!r} is not supported")


def deconv_output_length(
    length: Dim,
    kernel: Size,
    padding: str,
    stride: Size,
    output_padding: Size | None = None,
    dilation: Size = 1,
) -> Dim:
    """One axis of a transposed convolution's output (Keras 3 and tf-keras agree)."""
    if length is None:
        return None
    eff = add(mul(sub(kernel, 1), dilation), 1)
    if padding == "valid":
        if output_padding is None:
            if isinstance(eff, int) and isinstance(stride, int):
                return add(mul(sub(length, 1), stride), max(eff, stride))
            raise Unknown("max(kernel, strides) of a transposed convolution is not known")
        return add(add(mul(sub(length, 1), stride), eff), output_padding)
    if padding == "same":
        if output_padding is None:
            return mul(length, stride)
        if not isinstance(eff, int):
            raise Unknown("the parity of a transposed convolution's kernel is not known")
        return add(add(mul(sub(length, 1), stride), eff % 2), output_padding)
    raise Unknown(f"padding={padding!r} is not supported by transposed convolutions")


def broadcast(shapes: Sequence[Shape]) -> Shape:
    """NumPy broadcasting of several shapes, as Keras merge layers do."""
    rank = max(len(s) for s in shapes)
    out: list[Dim] = []
    for i in range(rank):
        dims = [s[i - rank + len(s)] for s in shapes if i - rank + len(s) >= 0]
        known = [d for d in dims if d is not None and d != 1]
        if not known:
            out.append(None if any(d is None for d in dims) else 1)
            continue
        first = known[0]
        for d in known[1:]:
            if d != first:
                if isinstance(d, Sym) or isinstance(first, Sym):
                    continue  # symbolic sizes are assumed compatible
                raise Unknown(f"shapes {[tuple(s) for s in shapes]} cannot be broadcast")
        out.append(first if not any(d is None for d in dims) or first != 1 else None)
    return tuple(out)


def num_elements(shape: Sequence[Dim]) -> Size | None:
    if any(d is None for d in shape):
        return None
    return product(d for d in shape if d is not None)


__all__ = [
    "Dim",
    "broadcast",
    "ceildiv",
    "conv_output_length",
    "deconv_output_length",
    "floordiv",
    "norm_axis",
    "num_elements",
    "pool_output_length",
    "require_known",
]
