"""Plain-Python helpers of the evaluator: operators, builtins by name, literal-data tests."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from bnlint.readers.source.values import KRef, NpInt, Opaque
from bnlint.symbolic import Sym

if TYPE_CHECKING:
    from bnlint.readers.source.interpreter import Interpreter


_PURE_BUILTINS = {
    "len", "range", "int", "float", "str", "bool", "list", "tuple", "dict", "set", "min", "max",
    "sum", "abs", "round", "enumerate", "zip", "reversed", "sorted", "isinstance", "print", "any",
    "all", "map", "filter", "super", "hasattr", "getattr", "setattr", "type", "divmod", "pow",
    "frozenset", "iter", "next", "callable", "repr", "format", "chr", "ord", "hex", "eval",
    "locals",
}

#: The key under which a call records ``**value`` of a value bnlint cannot read: any keyword may
#: be in it, so no parameter the call leaves out can be taken at its default.
UNKNOWN_KWARGS = "**"


_STR_METHODS = {"format", "upper", "lower", "join", "split", "replace", "startswith", "endswith",
                "strip", "lstrip", "rstrip", "title", "capitalize", "zfill", "count", "find",
                "rsplit", "isdigit"}


_LIST_PURE = {"index", "count", "copy"}


_DICT_PURE = {"get", "items", "keys", "values", "copy"}


class _LazyText:
    """Source text of a binary operation, generated only when a result needs it."""

    __slots__ = ("interp", "node", "op")

    def __init__(self, interp: Interpreter, node: Any, op: str):
        self.interp, self.node, self.op = interp, node, op

    def __str__(self) -> str:
        n = self.node
        if isinstance(n, self.interp.cst.AugAssign):
            return f"{self.interp.text(n.target)} {self.op} {self.interp.text(n.value)}"
        return self.interp.text(n)


# --------------------------------------------------------------------------- value helpers


def _is_num(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) or isinstance(v, bool)


def _as_int_like(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, Sym):
        return v
    if isinstance(v, Opaque):
        return Sym.atom(v.text)
    return None


def _plain_data(v: Any, depth: int = 0) -> bool:
    if v is None or isinstance(v, (bool, int, float, str, range)):
        return True
    if depth > 20:
        return False
    if isinstance(v, (list, tuple, set, frozenset)):
        return all(_plain_data(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return all(_plain_data(k, depth + 1) and _plain_data(x, depth + 1) for k, x in v.items())
    return False


def _display(v: Any) -> Any:
    if isinstance(v, Sym):
        return str(v)
    if isinstance(v, Opaque):
        return v.text
    return v


def _plain(v: Any, depth: int = 0) -> Any:
    """A JSON-friendly rendering of an abstract value (facts)."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, Sym):
        return str(v)
    if isinstance(v, Opaque):
        return {"unknown": v.text}
    if depth > 10:
        return "..."
    if isinstance(v, (list, tuple)):
        return [_plain(x, depth + 1) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x, depth + 1) for k, x in v.items()}
    if isinstance(v, KRef):
        return v.path
    name = getattr(v, "name", None)
    return {"object": type(v).__name__, **({"name": name} if isinstance(name, str) else {})}


def _pyop(name: str) -> Any:
    import operator

    return {
        "Add": operator.add, "Subtract": operator.sub, "Multiply": operator.mul,
        "Divide": operator.truediv, "FloorDivide": operator.floordiv, "Modulo": operator.mod,
        "Power": operator.pow, "LeftShift": operator.lshift, "RightShift": operator.rshift,
        "BitAnd": operator.and_, "BitOr": operator.or_, "BitXor": operator.xor,
    }[name]


class _LazyOps(dict):
    def __missing__(self, key: str) -> Any:
        fn = _pyop(key)
        self[key] = fn
        return fn


_PY_OPS: dict[str, Any] = _LazyOps()


_CMP_OPS: dict[str, Any] = {
    "Equal": lambda a, b: a == b, "NotEqual": lambda a, b: a != b,
    "LessThan": lambda a, b: a < b, "LessThanEqual": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b, "GreaterThanEqual": lambda a, b: a >= b,
    "In": lambda a, b: a in b, "NotIn": lambda a, b: a not in b,
}


_BUILTIN_IMPL: dict[str, Any] = {
    "enumerate": enumerate, "zip": zip, "reversed": reversed, "sorted": sorted, "list": list,
    "tuple": tuple, "set": set, "frozenset": frozenset, "min": min, "max": max, "sum": sum,
    "any": any, "all": all, "int": int, "float": float, "str": str, "bool": bool, "abs": abs,
    "round": round, "divmod": divmod, "pow": pow, "repr": repr, "chr": chr, "ord": ord,
    "hex": hex, "format": format,
}


# Constants of standard modules (``string.ascii_lowercase[i]`` names blocks in a loop): the
# same on every Python that runs Keras
_PY_MODULE_CONSTANTS: dict[str, Any] = {
    "string.ascii_lowercase": "abcdefghijklmnopqrstuvwxyz",
    "string.ascii_uppercase": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "string.ascii_letters": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "string.digits": "0123456789",
    "string.hexdigits": "0123456789abcdefABCDEF",
    "string.octdigits": "01234567",
    "math.pi": math.pi, "math.e": math.e, "math.tau": math.tau, "math.inf": math.inf,
}


# Python's types by name: isinstance(x, T) and type(x) on known values
_PY_TYPES = {t.__name__: t for t in (int, float, str, bool, list, tuple, dict, set)}


# -------------------------------------------------------------- NumPy arrays of known shape
_ARRAY_ARITH = {"Add", "Subtract", "Multiply", "Divide", "FloorDivide", "Power", "Modulo"}
_ARRAY_SAME = {"astype", "copy", "clip", "round"}
ARRAY_METHODS = _ARRAY_SAME | {"reshape", "flatten", "ravel", "transpose", "sum", "mean", "max",
                               "min", "prod", "tolist"}  # methods bnlint knows on an array


def array_binop(op: str, a: Any, b: Any) -> Any:
    """``x / 255`` / ``x - y`` with a NumPy array of known shape (ArrayValue): the broadcast
    shape; None when this is not such an operation or its shape is not known."""
    from bnlint.readers.source.values import ArrayValue

    if op not in _ARRAY_ARITH or not (isinstance(a, ArrayValue) or isinstance(b, ArrayValue)):
        return None
    shapes = []
    for v in (a, b):
        if isinstance(v, ArrayValue):
            shapes.append(tuple(v.shape))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            shapes.append(())
        else:
            return None
    from bnlint.keras.catalogue import Unknown
    from bnlint.keras.ops import broadcast

    try:
        shape = broadcast(shapes[0], shapes[1])
    except Unknown:
        return None
    da = a.data if isinstance(a, ArrayValue) else None
    db = b.data if isinstance(b, ArrayValue) else None
    data = None
    if (da is not None or db is not None) and len(shape) == 1 and op != "Power":
        xs = da if da is not None else [a] * shape[0]
        ys = db if db is not None else [b] * shape[0]
        if len(xs) == len(ys) == shape[0]:
            try:
                data = [_PY_OPS[op](x, y) for x, y in zip(xs, ys, strict=True)]
            except (ArithmeticError, TypeError, ValueError):
                data = None
            if data is not None and not all(_is_num(v) for v in data):
                data = None
    return ArrayValue(shape, data)


def array_of(v: Any) -> Any:
    """``np.array([1, 2, 3])`` of literal numbers: a 1-D array with its values; of arrays of
    one known shape (``np.array([image])``): their stack; else None."""
    from bnlint.readers.source.values import ArrayValue

    if isinstance(v, (list, tuple)) and v and len(v) <= 4096 and all(_is_num(x) for x in v):
        return ArrayValue((len(v),), list(v))
    if isinstance(v, (list, tuple)) and v and all(isinstance(x, ArrayValue) for x in v) and \
            len({tuple(x.shape) for x in v}) == 1:
        return ArrayValue((len(v), *v[0].shape))
    return None


def array_reshape(shape: tuple, new: Any) -> tuple | None:
    """NumPy's ``reshape`` of an array of known shape (one -1 inferred), or None."""
    if isinstance(new, int) and not isinstance(new, bool):
        new = (new,)
    if not isinstance(new, (list, tuple)) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= -1 for d in new) or list(
            new).count(-1) > 1:
        return None
    total = 1
    for d in shape:
        total *= d
    known = 1
    for d in new:
        if d != -1:
            known *= d
    if -1 in new:
        if known == 0 or total % known:
            return None
        return tuple(total // known if d == -1 else d for d in new)
    return tuple(new) if known == total else None


def array_method(obj: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """A method of a NumPy array of known shape: an ArrayValue, or None (not known)."""
    from bnlint.readers.source.values import ArrayValue

    shape = tuple(obj.shape)
    if name == "tolist" and not args and not kwargs:
        # Python numbers (``tolist`` converts NumPy scalars), for a 1-D array of known values
        return list(obj.data) if obj.data is not None and len(shape) == 1 else None
    if name in _ARRAY_SAME:
        return ArrayValue(shape, obj.data if name == "copy" else None)
    if name == "reshape" and not kwargs and args:
        new = array_reshape(shape, args[0] if len(args) == 1 else tuple(args))
        return None if new is None else ArrayValue(new)
    if name == "transpose" and not kwargs:
        axes = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else (
            tuple(args) if args else tuple(reversed(range(len(shape)))))
        if sorted(a % len(shape) if isinstance(a, int) and -len(shape) <= a < len(shape)
                  else -1 for a in axes) != list(range(len(shape))):
            return None
        return ArrayValue(tuple(shape[a] for a in axes))
    if name in ("sum", "mean", "max", "min", "prod") and len(args) <= 1 and set(kwargs) <= {
            "axis", "keepdims"}:
        from bnlint.keras.catalogue import Unknown
        from bnlint.keras.ops import _reduce

        try:
            out = _reduce(shape, args[0] if args else kwargs.get("axis"),
                          kwargs.get("keepdims", False))
        except Unknown:
            return None
        return ArrayValue(out) if out else None
    if name in ("flatten", "ravel") and not args:
        n = 1
        for d in shape:
            n *= d
        return ArrayValue((n,))
    return None


def array_subscript(obj: Any, key: Any) -> Any:
    """``x[:100]`` / ``x[..., None]`` of a NumPy array of known shape: an ArrayValue, or None
    (an int index of a 1-D array is a scalar whose value is not known)."""
    from bnlint.keras.catalogue import Unknown
    from bnlint.keras.ops import slice_shape
    from bnlint.readers.source.values import ArrayValue

    if isinstance(key, Sym):  # an integer not known statically: one item of the first axis
        return ArrayValue(tuple(obj.shape[1:])) if len(obj.shape) > 1 else None
    keys = key if isinstance(key, tuple) else (key,)
    if not all(k is None or k is Ellipsis or isinstance(k, slice) or (
            isinstance(k, int) and not isinstance(k, bool)) for k in keys):
        return None
    if isinstance(key, int) and not isinstance(key, bool) and len(obj.shape) == 1:
        # an element is a NumPy scalar: np.int64 (NpInt: Keras 3 refuses it as `units`)
        if obj.data is None or not -len(obj.data) <= key < len(obj.data):
            return None
        v = obj.data[key]
        if isinstance(v, int) and not isinstance(v, bool):
            return NpInt(v)
        return v if isinstance(v, float) else None

    try:
        shape = slice_shape(tuple(obj.shape), key)
    except Unknown:
        return None
    if obj.data is not None and isinstance(key, slice) and len(shape) == 1:
        return ArrayValue(shape, obj.data[key])
    return ArrayValue(shape) if shape else None


def _pad_pairs(width: Any, rank: int) -> list[tuple[int, int]] | None:
    def nat(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0

    if nat(width):
        return [(width, width)] * rank
    if isinstance(width, (list, tuple)) and len(width) == 1:
        width = width[0]
        if nat(width):
            return [(width, width)] * rank
    if isinstance(width, (list, tuple)) and len(width) == 2 and all(nat(v) for v in width):
        return [(width[0], width[1])] * rank
    if isinstance(width, (list, tuple)) and len(width) == rank:
        out = []
        for p in width:
            if nat(p):
                out.append((p, p))
            elif isinstance(p, (list, tuple)) and len(p) == 2 and all(nat(v) for v in p):
                out.append((p[0], p[1]))
            elif isinstance(p, (list, tuple)) and len(p) == 1 and nat(p[0]):
                out.append((p[0], p[0]))
            else:
                return None
        return out
    return None


def array_function(name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """``numpy.pad`` / ``numpy.expand_dims`` / ``numpy.reshape`` of an array of known shape:
    an ArrayValue, or None (not known)."""
    from bnlint.readers.source.values import ArrayValue

    if name == "numpy.arange" and not kwargs and 1 <= len(args) <= 3 and all(
            isinstance(a, int) and not isinstance(a, bool) for a in args):
        try:
            r = range(*args)
        except ValueError:
            return None
        return ArrayValue((len(r),), list(r) if len(r) <= 4096 else None)
    if name == "numpy.meshgrid" and args and all(isinstance(a, ArrayValue) and len(a.shape) == 1
                                                 for a in args) and set(kwargs) <= {"indexing"}:
        dims = [a.shape[0] for a in args]
        indexing = kwargs.get("indexing", "xy")
        if indexing == "xy" and len(dims) >= 2:
            dims[0], dims[1] = dims[1], dims[0]
        elif indexing != "ij":
            return None
        return [ArrayValue(tuple(dims)) for _ in args]
    if name == "numpy.stack":
        xs = args[0] if args else kwargs.get("arrays")
        axis = args[1] if len(args) > 1 else kwargs.get("axis", 0)
        if not isinstance(xs, (list, tuple)) or not xs or not all(
                isinstance(x, ArrayValue) for x in xs) or len({tuple(x.shape) for x in xs}) != 1 \
                or not isinstance(axis, int) or not -len(xs[0].shape) - 1 <= axis <= len(
                    xs[0].shape):
            return None
        out = list(xs[0].shape)
        out.insert(axis % (len(out) + 1), len(xs))
        return ArrayValue(tuple(out))
    a0 = args[0] if args else kwargs.get("array", kwargs.get("a"))
    if not isinstance(a0, ArrayValue):
        return None
    shape = tuple(a0.shape)
    if name == "numpy.pad":
        width = args[1] if len(args) > 1 else kwargs.get("pad_width")
        pairs = _pad_pairs(width, len(shape))
        if pairs is None:
            return None
        return ArrayValue(tuple(d + lo + hi for d, (lo, hi) in zip(shape, pairs, strict=True)))
    if name == "numpy.expand_dims":
        axis = args[1] if len(args) > 1 else kwargs.get("axis")
        from bnlint.keras.catalogue import Unknown
        from bnlint.keras.ops import _expand_dims

        try:
            return ArrayValue(_expand_dims(shape, axis))
        except Unknown:
            return None
    if name == "numpy.reshape":
        new = args[1] if len(args) > 1 else kwargs.get("newshape", kwargs.get("shape"))
        r = array_reshape(shape, new)
        return None if r is None else ArrayValue(r)
    if name in ("numpy.asarray", "numpy.float32", "numpy.copy") and len(args) == 1:
        return a0
    return None


def array_concatenate(args: list[Any], kwargs: dict[str, Any]) -> Any:
    """``np.concatenate([a, b], axis=0)`` of arrays of known shapes, or None."""
    from bnlint.readers.source.values import ArrayValue

    xs = args[0] if args else kwargs.get("arrays")
    axis = args[1] if len(args) > 1 else kwargs.get("axis", 0)
    if not isinstance(xs, (list, tuple)) or not xs or not all(
            isinstance(x, ArrayValue) for x in xs) or not isinstance(axis, int):
        return None
    rank = len(xs[0].shape)
    if any(len(x.shape) != rank for x in xs) or not -rank <= axis < rank:
        return None
    ax = axis % rank
    if any(tuple(x.shape[:ax] + x.shape[ax + 1:]) != tuple(xs[0].shape[:ax] + xs[0].shape[
            ax + 1:]) for x in xs):
        return None
    out = list(xs[0].shape)
    out[ax] = sum(x.shape[ax] for x in xs)
    return ArrayValue(tuple(out))
