"""Plain-Python helpers of the evaluator: operators, builtins by name, literal-data tests."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from bnlint.readers.source.values import KRef, Opaque
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
