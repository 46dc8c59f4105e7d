"""Shape-only spatial layers: ZeroPadding, Cropping, UpSampling (1D-3D); none own weights."""

from __future__ import annotations

from typing import Any

from bnlint.keras.catalogue import Built, Call, Unknown, as_size, layer_rule
from bnlint.keras.layers._shapes import Dim
from bnlint.keras.layers.conv import check_rank, data_format, layout, positive_tuple
from bnlint.symbolic import Size, add, mul, sub


def _pair(value: Any, what: str) -> tuple[Size, Size]:
    """``standardize_tuple(value, 2, allow_zero=True)``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        v = as_size(value, what)
        pair = (v, v)
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        pair = (as_size(value[0], what), as_size(value[1], what))
    else:
        raise Unknown(f"`{what}`={value!r} is not understood")
    for v in pair:
        if isinstance(v, int) and v < 0:
            raise Unknown(f"`{what}`={value!r} has a negative value")
    return pair


def _pairs(call: Call, key: str, rank: int, negative_int: bool) -> list[tuple[Size, Size]]:
    """ZeroPadding/Cropping 2D/3D: an int, ``rank`` ints, or ``rank`` pairs.

    A single int is not range-checked by some classes (``negative_int``); tuple
    entries always go through ``standardize_tuple``, which rejects negatives.
    """
    value = call.cfg.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0 and not negative_int:
            raise Unknown(f"`{key}`={value} is negative")
        return [(value, value)] * rank
    if isinstance(value, (list, tuple)) and len(value) == rank:
        return [_pair(v, key) for v in value]
    raise Unknown(f"`{key}`={value!r} is not understood")


def _spatial_format(call: Call) -> str:
    # Keras 3 ZeroPadding1D takes a data_format; tf-keras ZeroPadding1D and both Cropping1D do not.
    name = call.cfg.class_name
    if name == "Cropping1D" or (name == "ZeroPadding1D" and call.version == 2):
        return "channels_last"
    return data_format(call)


def _replace(call: Call, rank: int, sizes: list[Dim]) -> Built:
    x = call.input
    _, axes = layout(x, rank, _spatial_format(call))
    out = list(x)
    for a, d in zip(axes, sizes, strict=True):
        out[a] = d
    return Built([tuple(out)])


def _zero_padding(call: Call, rank: int) -> Built:
    x = call.input
    if rank == 1:
        pads = [_pair(call.cfg.get("padding"), "padding")]
    else:
        # Keras 3 takes a negative int as is (it crops); tf-keras's tf.pad rejects it.
        pads = _pairs(call, "padding", rank, negative_int=call.version == 3)
    fmt = _spatial_format(call)
    check_rank(call, x, rank + 2)
    _, axes = layout(x, rank, fmt)
    sizes: list[Dim] = []
    for a, (p0, p1) in zip(axes, pads, strict=True):
        d = x[a]
        size = None if d is None else add(add(d, p0), p1)
        if isinstance(size, int) and size < 0:
            raise Unknown(f"padding {(p0, p1)} makes an axis of size {d} negative")
        sizes.append(size)
    return _replace(call, rank, sizes)


@layer_rule("ZeroPadding1D")
def zero_padding1d(call: Call) -> Built:
    return _zero_padding(call, 1)


@layer_rule("ZeroPadding2D")
def zero_padding2d(call: Call) -> Built:
    return _zero_padding(call, 2)


@layer_rule("ZeroPadding3D")
def zero_padding3d(call: Call) -> Built:
    return _zero_padding(call, 3)


def _crop_length(call: Call, rank: int, d: Dim, c0: Size, c1: Size) -> Dim:
    if d is None:
        return None
    if call.version == 3:
        size = sub(sub(d, c0), c1)
        if isinstance(size, int) and size <= 0:
            raise Unknown(f"cropping {(c0, c1)} leaves nothing of an axis of size {d}")
        return size
    # tf-keras slices `x[c0:-c1]` (`x[c0:]` when c1 == 0); Cropping1D/2D first refuse
    # crops that add up to the whole axis, Cropping3D lets the slice come out empty.
    if rank < 3 and isinstance(d, int) and isinstance(c0, int) and isinstance(c1, int):
        if c0 + c1 >= d:
            raise Unknown(f"cropping {(c0, c1)} leaves nothing of an axis of size {d}")
    if isinstance(d, int) and isinstance(c0, int) and isinstance(c1, int):
        return len(range(d)[c0 : -c1 if c1 else None])
    if (isinstance(c0, int) and c0 < 0) or (isinstance(c1, int) and c1 < 0):
        raise Unknown("negative cropping of an axis of unknown size")
    return sub(sub(d, c0), c1)


def _cropping(call: Call, rank: int) -> Built:
    x = call.input
    if rank == 1:
        crops = [_pair(call.cfg.get("cropping"), "cropping")]
    else:
        # tf-keras does not range-check a single int (a negative one slices oddly).
        crops = _pairs(call, "cropping", rank, negative_int=call.version == 2)
    fmt = _spatial_format(call)
    check_rank(call, x, rank + 2)
    _, axes = layout(x, rank, fmt)
    sizes = [
        _crop_length(call, rank, x[a], c0, c1) for a, (c0, c1) in zip(axes, crops, strict=True)
    ]
    return _replace(call, rank, sizes)


@layer_rule("Cropping1D")
def cropping1d(call: Call) -> Built:
    return _cropping(call, 1)


@layer_rule("Cropping2D")
def cropping2d(call: Call) -> Built:
    return _cropping(call, 2)


@layer_rule("Cropping3D")
def cropping3d(call: Call) -> Built:
    return _cropping(call, 3)


def _upsampling(call: Call, rank: int) -> Built:
    x = call.input
    if rank == 1:
        raw = call.cfg.get("size")
        # Keras 3 insists on an int; tf-keras applies int() to whatever it gets.
        if call.version == 3 and (not isinstance(raw, int) or isinstance(raw, bool)):
            raise Unknown(f"UpSampling1D size={raw!r} is not an int")
        size = as_size(raw, "size")
        if isinstance(size, int) and size <= 0:
            raise Unknown(f"UpSampling1D size={size} must be positive")
        factors: tuple[Size, ...] = (size,)
    else:
        factors = positive_tuple(call, "size", rank)
    fmt = _spatial_format(call) if rank > 1 else "channels_last"
    check_rank(call, x, rank + 2)
    _, axes = layout(x, rank, fmt)
    sizes = [
        None if x[a] is None else mul(f, x[a])  # type: ignore[arg-type]
        for a, f in zip(axes, factors, strict=True)
    ]
    if call.version == 2 and rank == 2 and None in sizes:
        # tf-keras resizes to a size computed at run time as soon as one spatial
        # size is undefined, so both come out undefined.
        sizes = [None, None]
    out = list(x)
    for a, d in zip(axes, sizes, strict=True):
        out[a] = d
    return Built([tuple(out)])


@layer_rule("UpSampling1D")
def upsampling1d(call: Call) -> Built:
    return _upsampling(call, 1)


@layer_rule("UpSampling2D")
def upsampling2d(call: Call) -> Built:
    return _upsampling(call, 2)


@layer_rule("UpSampling3D")
def upsampling3d(call: Call) -> Built:
    return _upsampling(call, 3)
