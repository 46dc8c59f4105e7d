"""TensorFlow checkpoints (the *tensor bundle* format) without TensorFlow or protobuf.

A checkpoint ``PREFIX`` is ``PREFIX.index`` plus data shards
``PREFIX.data-00000-of-00001`` ...  The index is a LevelDB-style sorted table
(blocks of prefix-compressed key/value entries, an index block, a 48-byte footer
ending in a magic number); each value is a protocol-buffer message:
the empty key holds the bundle header (shard count, byte order), every other key a
tensor entry (dtype, shape, shard, offset, size, CRC32C of the bytes).  Numeric
tensors are stored raw, little-endian, C order.

Written from the published format descriptions (LevelDB's table format, TensorFlow's
``tensor_bundle.proto``); bnlint decodes the few fields it needs with its own bounded
wire-format reader (:func:`fields`) instead of depending on ``protobuf``.

Bounded: the index file, the number of entries, the key/value lengths, the nesting of
messages are all capped; every offset and size is checked against the file it points
into before anything is read or allocated; the checksum of every block and of every
tensor read is verified.  Problems raise :class:`BundleError` with one line.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bnlint.readers.protowire import (  # noqa: F401 - re-exported
    BundleError,
    fields,
    first,
    signed,
    text,
    varint,
)

MAX_INDEX_BYTES = 256 * 1024**2  # a .index larger than this is not a Keras checkpoint
MAX_ENTRIES = 1_000_000
MAX_DIMS = 64
MAX_SHARDS = 100_000
MAX_TENSOR_BYTES = 4 * 1024**3
MAX_STRING_BYTES = 256 * 1024**2  # the object-graph string tensor
FOOTER_BYTES = 48
TABLE_MAGIC = 0xDB4775248B80FB57
HEADER_KEY = b""

#: TensorFlow DataType enum -> numpy dtype (little-endian); the rest is refused
DTYPES: dict[int, str] = {
    1: "<f4", 2: "<f8", 3: "<i4", 4: "u1", 5: "<i2", 6: "i1", 9: "<i8", 10: "?",
    17: "<u2", 19: "<f2", 22: "<u4", 23: "<u8",
}
DT_STRING = 7
_DTYPE_NAMES = {7: "string", 8: "complex64", 14: "bfloat16", 18: "complex128",
                20: "resource", 21: "variant"}


# --------------------------------------------------------------------------- CRC32C


def _crc_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table[i] = c
    return table


_TABLES: list[np.ndarray] = []
_BYTE_TABLE: list[int] = []
_SHIFT_CACHE: dict[int, np.ndarray] = {}
_SHIFT_COLUMNS: dict[int, list[int]] = {}
_CHUNK = 1024  # bytes per lane of the vectorised CRC (64 for data under 16 lanes of it)


def _table(k: int = 0) -> np.ndarray:
    """Slicing-by-4 tables: ``_table(0)`` is the byte table, ``_table(k)`` the table of a
    byte followed by ``k`` zero bytes; ``_table(4)`` / ``_table(5)`` fold two of them into
    one 16-bit table each (bytes 0-1 / 2-3 of a little-endian word)."""
    if not _TABLES:
        _TABLES.append(_crc_table())
        for _ in range(3):
            prev = _TABLES[-1]
            _TABLES.append((prev >> 8) ^ _TABLES[0][prev & 0xFF])
        t0, t1, t2, t3 = _TABLES
        _TABLES.append((t3[None, :] ^ t2[:, None]).ravel())  # index byte1 * 256 + byte0
        _TABLES.append((t1[None, :] ^ t0[:, None]).ravel())  # index byte3 * 256 + byte2
    return _TABLES[k]


def _crc_bytes(reg: int, data: bytes | memoryview) -> int:
    """The raw CRC register after ``data`` (no pre/post inversion), byte at a time."""
    t = _BYTE_TABLE or _BYTE_TABLE.extend(_table().tolist()) or _BYTE_TABLE
    for b in bytes(data):
        reg = t[(reg ^ b) & 0xFF] ^ (reg >> 8)
    return reg


def _apply(columns: list[int], value: int) -> int:
    """A linear map on 32-bit registers (its images of the 32 unit vectors) applied to value."""
    out = 0
    bit = 0
    while value:
        if value & 1:
            out ^= columns[bit]
        value >>= 1
        bit += 1
    return out


def _shift_columns(n: int) -> list[int]:
    """The map "feed ``n`` zero bytes" as 32 columns; powers of two of a lane by squaring."""
    if n not in _SHIFT_COLUMNS:
        if n <= 64:
            _SHIFT_COLUMNS[n] = [_crc_bytes(1 << bit, bytes(n)) for bit in range(32)]
        else:
            half = _shift_columns(n // 2)
            _SHIFT_COLUMNS[n] = [_apply(half, c) for c in half]
    return _SHIFT_COLUMNS[n]


def _shift_tables(n: int) -> np.ndarray:
    """Four 256-entry tables applying "feed ``n`` zero bytes" to each byte of a register."""
    if n not in _SHIFT_CACHE:
        columns = np.array(_shift_columns(n), dtype=np.uint32)
        tables = np.zeros((4, 256), dtype=np.uint32)
        for k in range(4):
            for bit in range(8):  # doubling: entries with this bit set = without it ^ column
                tables[k, 1 << bit: 2 << bit] = tables[k, : 1 << bit] ^ columns[8 * k + bit]
        _SHIFT_CACHE[n] = tables
    return _SHIFT_CACHE[n]


_C_CRC: list[Any] = []  # google_crc32c's C ``value`` once looked up; [None] when absent


def crc32c(data: bytes | bytearray | memoryview | np.ndarray) -> int:
    """CRC-32C (Castagnoli) of ``data``: Google's C library (the ``google-crc32c``
    dependency, hardware CRC32 instructions, several GB/s) when it imported its C
    extension, else the NumPy version below (about 0.1 GB/s; same results, tested)."""
    if not _C_CRC:
        try:
            import google_crc32c

            _C_CRC.append(google_crc32c.value if google_crc32c.implementation == "c" else None)
        except ImportError:
            _C_CRC.append(None)
    fast = _C_CRC[0]
    if fast is not None:
        # it takes only ``bytes`` (a copy of anything else costs far less than the CRC)
        return int(fast(data if isinstance(data, bytes) else memoryview(data).cast("B").tobytes()))
    return crc32c_numpy(data)


def crc32c_numpy(data: bytes | bytearray | memoryview | np.ndarray) -> int:
    """CRC-32C (Castagnoli) of ``data``, in NumPy.

    Vectorised with NumPy: the data is cut into lanes of :data:`_CHUNK` bytes whose raw
    CRCs (register starting at 0) are computed side by side, four bytes a step (two 16-bit
    tables); the CRC is linear, so neighbouring lanes then merge pairwise, level by level
    (the register after ``A + B`` is the register after ``A`` pushed through ``len(B)`` zero
    bytes, xor the register of ``B``).  The initial register 0xFFFFFFFF is folded into the
    first four bytes (equivalent for this reflected CRC), so a zero lane can pad the front.
    """
    buf = np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)
    n = len(buf)
    chunk = _CHUNK if n >= 16 * _CHUNK else 64
    lanes = n // chunk
    reg = 0xFFFFFFFF
    if lanes >= 4:
        lo, hi = _table(4), _table(5)
        words = buf[:lanes * chunk].view("<u4").reshape(lanes, chunk // 4).T.copy()
        words[0, 0] ^= 0xFFFFFFFF  # the initial register
        regs = np.zeros(lanes, dtype=np.uint32)
        x, a = np.empty(lanes, dtype=np.uint32), np.empty(lanes, dtype=np.uint32)
        i = np.empty(lanes, dtype=np.intp)  # take() wants intp indices: no conversion
        for row in words:  # regs = lo[(regs ^ row) & 0xFFFF] ^ hi[(regs ^ row) >> 16]
            np.bitwise_xor(regs, row, out=x)
            np.bitwise_and(x, 0xFFFF, out=i)
            np.take(lo, i, out=a)
            np.right_shift(x, 16, out=i)
            np.take(hi, i, out=regs)
            np.bitwise_xor(regs, a, out=regs)
        size = chunk
        while len(regs) > 1:
            if len(regs) % 2:  # zeros in front leave a register that starts at 0 at 0
                regs = np.concatenate([np.zeros(1, dtype=np.uint32), regs])
            left, right = regs[0::2], regs[1::2]
            t = _shift_tables(size)
            regs = (t[0][left & 0xFF] ^ t[1][(left >> 8) & 0xFF] ^ t[2][(left >> 16) & 0xFF]
                    ^ t[3][left >> 24] ^ right)
            size *= 2
        reg = int(regs[0])
        rest = buf[lanes * chunk:]
    else:
        rest = buf
    reg = _crc_bytes(reg, rest.tobytes())
    return reg ^ 0xFFFFFFFF


def unmask(masked: int) -> int:
    """LevelDB/TensorFlow store CRCs "masked" (rotated and offset)."""
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


# --------------------------------------------------------------------------- table


def _handle(buf: bytes | memoryview, pos: int, end: int) -> tuple[int, int, int]:
    offset, pos = varint(buf, pos, end)
    size, pos = varint(buf, pos, end)
    return offset, size, pos


def _block(data: bytes, offset: int, size: int, limit: int, what: str) -> memoryview:
    if offset + size + 5 > limit:
        raise BundleError(f"{what} block at {offset}+{size} lies outside the index file "
                          "(truncated?)")
    kind = data[offset + size]
    if kind != 0:
        raise BundleError(f"{what} block is compressed (type {kind}); only uncompressed "
                          "checkpoint indexes are supported")
    stored = int.from_bytes(data[offset + size + 1:offset + size + 5], "little")
    if unmask(stored) != crc32c(memoryview(data)[offset:offset + size + 1]):
        raise BundleError(f"{what} block fails its checksum (damaged index file)")
    return memoryview(data)[offset:offset + size]


def _entries(block: memoryview, what: str) -> Iterator[tuple[bytes, memoryview]]:
    size = len(block)
    if size < 4:
        raise BundleError(f"{what} block is too short")
    restarts = int.from_bytes(block[size - 4:], "little")
    limit = size - 4 - 4 * restarts
    if restarts < 1 or limit < 0:
        raise BundleError(f"{what} block has a bad restart array")
    pos = 0
    key = b""
    while pos < limit:
        shared, pos = varint(block, pos, limit)
        unshared, pos = varint(block, pos, limit)
        vlen, pos = varint(block, pos, limit)
        if shared > len(key) or unshared + vlen > limit - pos:
            raise BundleError(f"{what} block has an entry running past its end")
        key = key[:shared] + bytes(block[pos:pos + unshared])
        pos += unshared
        yield key, block[pos:pos + vlen]
        pos += vlen


def read_table(data: bytes) -> dict[bytes, bytes]:
    """Every key/value of a LevelDB-format table held in ``data``."""
    n = len(data)
    if n < FOOTER_BYTES:
        raise BundleError(f"index file of {n} bytes is shorter than a table footer")
    footer = data[n - FOOTER_BYTES:]
    if int.from_bytes(footer[-8:], "little") != TABLE_MAGIC:
        raise BundleError("not a TensorFlow checkpoint index (bad table magic; truncated?)")
    limit = n - FOOTER_BYTES
    _, _, pos = _handle(footer, 0, 40)  # the metaindex block: nothing bnlint needs
    ioff, isize, _ = _handle(footer, pos, 40)
    out: dict[bytes, bytes] = {}
    previous = b""
    for _, handle in _entries(_block(data, ioff, isize, limit, "index"), "index"):
        off, size, _ = _handle(handle, 0, len(handle))
        for key, value in _entries(_block(data, off, size, limit, "data"), "data"):
            if len(out) >= MAX_ENTRIES:
                raise BundleError(f"more than {MAX_ENTRIES} checkpoint entries; refusing")
            if out and key <= previous:
                raise BundleError("checkpoint index keys are not sorted (damaged file)")
            previous = key
            out[key] = bytes(value)
    return out


# --------------------------------------------------------------------------- bundle


@dataclass(frozen=True)
class Entry:
    """Where one tensor of a checkpoint lives."""

    key: str
    dtype: int  # TensorFlow DataType enum
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int
    crc: int  # masked CRC32C of the bytes

    @property
    def numpy_dtype(self) -> str | None:
        return DTYPES.get(self.dtype)

    @property
    def dtype_name(self) -> str:
        if self.dtype in DTYPES:
            return str(np.dtype(DTYPES[self.dtype]))
        return _DTYPE_NAMES.get(self.dtype, f"dtype {self.dtype}")


def _entry(key: str, raw: bytes) -> Entry:
    msg = fields(raw)
    if msg.get(7):
        raise BundleError(f"`{key}` is a partitioned (sliced) variable; not supported")
    dims: list[int] = []
    shape_raw = first(msg, 2, b"")
    if not isinstance(shape_raw, bytes):
        raise BundleError(f"`{key}`: bad shape field")
    shape_msg = fields(shape_raw)
    if first(shape_msg, 3, 0):
        raise BundleError(f"`{key}` has an unknown rank")
    for dim_raw in shape_msg.get(2, []):
        if not isinstance(dim_raw, bytes) or len(dims) >= MAX_DIMS:
            raise BundleError(f"`{key}`: bad or too many dimensions")
        size = signed(first(fields(dim_raw), 1, 0))
        if size < 0:
            raise BundleError(f"`{key}` has an unknown dimension")
        dims.append(size)
    values = [first(msg, i, 0) for i in (1, 3, 4, 5, 6)]
    if not all(isinstance(v, int) for v in values):
        raise BundleError(f"`{key}`: bad entry fields")
    dtype, shard, offset, size, crc = values
    return Entry(key, dtype, tuple(dims), shard, offset, size, crc)


class Checkpoint:
    """An open TF checkpoint: its entries (from the index) and lazy tensor reads."""

    def __init__(self, prefix: str | Path):
        self.prefix = str(prefix)
        index = Path(self.prefix + ".index")
        try:
            size = index.stat().st_size
            if size > MAX_INDEX_BYTES:
                raise BundleError(f"{index.name} is {size} bytes (bound {MAX_INDEX_BYTES}); "
                                  "refusing to read")
            data = index.read_bytes()
        except FileNotFoundError:
            raise BundleError(f"no checkpoint index `{index}`") from None
        except OSError as exc:
            raise BundleError(f"cannot read {index.name} ({exc.strerror or exc})") from None
        table = read_table(data)
        header = fields(table.get(HEADER_KEY, b""))
        self.num_shards = first(header, 1, 0)
        if not isinstance(self.num_shards, int) or not 1 <= self.num_shards <= MAX_SHARDS:
            raise BundleError("checkpoint header has no valid shard count (not a tensor "
                              "bundle?)")
        if first(header, 2, 0) != 0:
            raise BundleError("big-endian checkpoints are not supported")
        self.entries: dict[str, Entry] = {}
        for key, raw in table.items():
            if key == HEADER_KEY:
                continue
            try:
                name = key.decode("utf-8")
            except UnicodeDecodeError:
                raise BundleError("a checkpoint key is not UTF-8") from None
            self.entries[name] = _entry(name, raw)
        self._sizes: dict[int, int] = {}

    def shard_path(self, shard: int) -> str:
        return f"{self.prefix}.data-{shard:05d}-of-{self.num_shards:05d}"

    def _shard_size(self, shard: int) -> int:
        if shard not in self._sizes:
            try:
                self._sizes[shard] = os.stat(self.shard_path(shard)).st_size
            except OSError:
                raise BundleError(f"missing checkpoint data shard "
                                  f"`{os.path.basename(self.shard_path(shard))}`") from None
        return self._sizes[shard]

    def check(self, entry: Entry) -> None:
        """Refuse an entry whose dtype, size or place in its shard does not add up."""
        if not 0 <= entry.shard < self.num_shards:
            raise BundleError(f"`{entry.key}` names shard {entry.shard} of {self.num_shards}")
        if entry.dtype != DT_STRING:
            dt = entry.numpy_dtype
            if dt is None:
                raise BundleError(f"`{entry.key}` has unsupported type {entry.dtype_name}")
            expected = math.prod(entry.shape) * np.dtype(dt).itemsize
            if expected != entry.size:
                raise BundleError(f"`{entry.key}`: {entry.size} bytes stored for shape "
                                  f"{entry.shape} of {entry.dtype_name} ({expected} expected)")
            if entry.size > MAX_TENSOR_BYTES:
                raise BundleError(f"`{entry.key}` declares {entry.size} bytes; refusing")
        elif entry.size > MAX_STRING_BYTES:
            raise BundleError(f"`{entry.key}` declares {entry.size} bytes; refusing")
        if entry.offset + entry.size > self._shard_size(entry.shard):
            raise BundleError(f"`{entry.key}` lies past the end of "
                              f"{os.path.basename(self.shard_path(entry.shard))} (truncated?)")

    def _bytes(self, entry: Entry) -> bytearray:
        self.check(entry)
        raw = bytearray(entry.size)
        try:
            with open(self.shard_path(entry.shard), "rb") as f:
                f.seek(entry.offset)
                got = f.readinto(raw)
        except OSError as exc:
            raise BundleError(f"cannot read `{entry.key}` ({exc.strerror or exc})") from None
        if got != entry.size:
            raise BundleError(f"`{entry.key}` is truncated")
        if crc32c(raw) != unmask(entry.crc):
            raise BundleError(f"`{entry.key}` fails its checksum (damaged data shard)")
        return raw

    def read(self, key: str) -> np.ndarray:
        """A numeric tensor, checked (size, place, checksum) before it is returned."""
        entry = self.entries.get(key)
        if entry is None:
            raise BundleError(f"no tensor `{key}` in the checkpoint")
        if entry.dtype == DT_STRING:
            raise BundleError(f"`{key}` is a string tensor, not an array")
        raw = self._bytes(entry)
        return np.frombuffer(raw, dtype=np.dtype(entry.numpy_dtype)).reshape(entry.shape)

    def read_string(self, key: str) -> bytes:
        """A scalar string tensor (lengths as varints, their masked CRC, then the bytes)."""
        entry = self.entries.get(key)
        if entry is None:
            raise BundleError(f"no tensor `{key}` in the checkpoint")
        if entry.dtype != DT_STRING or entry.shape != ():
            raise BundleError(f"`{key}` is not a scalar string")
        self.check(entry)
        try:
            with open(self.shard_path(entry.shard), "rb") as f:
                f.seek(entry.offset)
                raw = f.read(entry.size)
        except OSError as exc:
            raise BundleError(f"cannot read `{key}` ({exc.strerror or exc})") from None
        if len(raw) != entry.size:
            raise BundleError(f"`{key}` is truncated")
        n, pos = varint(raw, 0, len(raw))
        if pos + 4 + n != len(raw):
            raise BundleError(f"`{key}`: string length {n} disagrees with its entry size")
        return raw[pos + 4:]
