"""The protocol-buffer wire format, read-only and bounded (no ``protobuf`` dependency).

bnlint reads a handful of small messages (TensorFlow's tensor-bundle header and entries,
tensor shapes, the checkpoint object graph, Keras's ``SavedMetadata``): a message is a run
of (field number, wire type) keys, each followed by a varint, a fixed 32/64-bit value or a
length-prefixed byte string (a string, or a nested message decoded by calling
:func:`fields` again).  Imports nothing, so reading ``keras_metadata.pb`` costs no NumPy.
"""

from __future__ import annotations

from typing import Any

MAX_FIELDS = 10_000_000  # fields decoded from one message


class BundleError(ValueError):
    """A file bnlint cannot read as a TensorFlow checkpoint; the message is one line."""


# --------------------------------------------------------------------------- wire format


def varint(buf: bytes | memoryview, pos: int, end: int) -> tuple[int, int]:
    """A base-128 varint at ``pos`` (at most 10 bytes, never past ``end``)."""
    result = 0
    shift = 0
    while True:
        if pos >= end or shift > 63:
            raise BundleError("truncated or overlong varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, pos
        shift += 7


def fields(buf: bytes | memoryview, start: int = 0, end: int | None = None
           ) -> dict[int, list[Any]]:
    """The fields of one protocol-buffer message: number -> values in order.

    Varints and fixed-width values come back as ints, length-delimited ones as
    ``bytes`` (a nested message is decoded by calling this again on them).  Groups
    (deprecated wire types 3/4) and unknown wire types are refused.
    """
    end = len(buf) if end is None else end
    out: dict[int, list[Any]] = {}
    pos = start
    count = 0
    while pos < end:
        count += 1
        if count > MAX_FIELDS:
            raise BundleError("message has too many fields")
        key, pos = varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise BundleError("field number 0 in a message")
        if wire == 0:
            value, pos = varint(buf, pos, end)
        elif wire == 1:
            if pos + 8 > end:
                raise BundleError("truncated fixed64 field")
            value = int.from_bytes(buf[pos:pos + 8], "little")
            pos += 8
        elif wire == 2:
            n, pos = varint(buf, pos, end)
            if n > end - pos:
                raise BundleError("length-delimited field runs past its message")
            value = bytes(buf[pos:pos + n])
            pos += n
        elif wire == 5:
            if pos + 4 > end:
                raise BundleError("truncated fixed32 field")
            value = int.from_bytes(buf[pos:pos + 4], "little")
            pos += 4
        else:
            raise BundleError(f"unsupported protocol-buffer wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def first(msg: dict[int, list[Any]], number: int, default: Any = None) -> Any:
    """The last value of a singular field (protobuf's rule), or ``default``."""
    values = msg.get(number)
    return values[-1] if values else default


def text(msg: dict[int, list[Any]], number: int) -> str:
    value = first(msg, number, b"")
    if not isinstance(value, bytes):
        raise BundleError(f"field {number} is not a string")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"field {number} is not UTF-8") from None


def signed(value: int) -> int:
    """A varint read as int64 (negative numbers are 10-byte two's complement)."""
    return value - (1 << 64) if value >= 1 << 63 else value


