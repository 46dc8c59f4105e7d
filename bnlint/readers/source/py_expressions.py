"""Python expressions: names, literals, operators, subscripts, comprehensions, truth and iteration.
"""

from __future__ import annotations

from typing import Any

from bnlint.readers.source.imports import _norm_text
from bnlint.readers.source.parse import _literal
from bnlint.readers.source.py_helpers import (
    _CMP_OPS,
    _PURE_BUILTINS,
    _PY_OPS,
    UNKNOWN_KWARGS,
    _as_int_like,
    _display,
    _is_num,
    _LazyText,
    _plain_data,
    array_binop,
    array_subscript,
)
from bnlint.readers.source.values import (
    _MISSING,
    MAX_LOOP,
    MAX_SEQ,
    ArrayValue,
    Builtin,
    Instance,
    KRef,
    NTClass,
    Opaque,
    Partial,
    PyMod,
    Scope,
    UserClass,
    UserFunc,
    UserModule,
)
from bnlint.symbolic import Sym

# Values made once by the program, whose Python identity is the program's.
_IDENTITY = (UserFunc, UserClass, Instance, NTClass, Partial, UserModule)


_ARRAY_CMP = {"Equal", "NotEqual", "LessThan", "LessThanEqual", "GreaterThan",
              "GreaterThanEqual"}


class Expressions:
    # -------------------------------------------------------------- expressions
    def ev(self, node: Any, scope: Scope) -> Any:
        self.tick()
        if self.defines:
            if isinstance(node, self.cst.Name):
                if node.value in self.defines:
                    return self.defines[node.value]
            elif self.define_exprs and isinstance(node, (self.cst.Attribute, self.cst.Subscript,
                                                         self.cst.Call)):
                key = _norm_text(self.text(node))
                n_par = len(node.lpar)
                if n_par and len(node.rpar) == n_par:
                    key = key[n_par:-n_par]  # `(X.shape[1:])` is the `X.shape[1:]` defined
                if key in self.defines:
                    return self.defines[key]
        fn = getattr(self, "ev_" + type(node).__name__, None)
        if fn is None:
            return Opaque(self.text(node))
        return fn(node, scope)

    def ev_Name(self, node: Any, scope: Scope) -> Any:
        v = scope.lookup(node.value)
        if v is not _MISSING:
            return v
        return self._unbound_name(node.value, scope)

    def lookup_name(self, name: str, scope: Scope) -> Any:
        """A name as Python resolves it: the scope chain, the star imports of the module the
        scope belongs to, the builtins; unknown (Opaque) otherwise."""
        v = scope.lookup(name)
        if v is not _MISSING:
            return v
        return self._unbound_name(name, scope)

    def _unbound_name(self, name: str, scope: Scope) -> Any:
        if name in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[name]
        root = scope.root()
        stars = root.vars.get("__star__", [])
        if root is not self.globals:
            stars = [*stars, *self.globals.vars.get("__star__", [])]
        cand = self.star_name(stars, name)
        if cand is not None:
            return cand
        if name in _PURE_BUILTINS:
            return Builtin(name)
        return Opaque(name)

    def star_name(self, stars: list[Any], name: str) -> KRef | None:
        """``name`` as bound by ``from <keras or tensorflow module> import *``: a Keras class
        or application, or an operation of that TF/Keras namespace bnlint models."""
        from bnlint.keras.ops import namespace_op

        for star in stars:
            if not isinstance(star, KRef):
                continue
            cand = KRef(f"{star.path}.{name}")
            if self.keras.keras_kind(cand) is not None or self.keras_app_name(cand) or (
                    namespace_op(cand.path, self.version) is not None):
                return cand
        return None

    def ev_Integer(self, node: Any, scope: Scope) -> Any:
        return _literal(node)

    def ev_Float(self, node: Any, scope: Scope) -> Any:
        return _literal(node)

    def ev_Imaginary(self, node: Any, scope: Scope) -> Any:
        return Opaque(node.value)

    def ev_SimpleString(self, node: Any, scope: Scope) -> Any:
        try:
            return _literal(node)
        except Exception:
            return Opaque(node.value)

    def ev_ConcatenatedString(self, node: Any, scope: Scope) -> Any:
        a, b = self.ev(node.left, scope), self.ev(node.right, scope)
        if isinstance(a, str) and isinstance(b, str):
            return a + b
        return Opaque(self.text(node))

    def ev_FormattedString(self, node: Any, scope: Scope) -> Any:
        out = []
        for part in node.parts:
            if isinstance(part, self.cst.FormattedStringText):
                out.append(part.value)
                continue
            v = self.ev(part.expression, scope)
            if isinstance(v, Opaque):
                return Opaque(self.text(node))
            spec = ""
            if part.format_spec:
                for sp in part.format_spec:
                    if isinstance(sp, self.cst.FormattedStringText):
                        spec += sp.value
                    else:
                        sv = self.ev(sp.expression, scope)
                        if not isinstance(sv, (int, str)):
                            return Opaque(self.text(node))
                        spec += str(sv)
            if part.conversion == "r":
                v = repr(v)
            try:
                out.append(format(_display(v), spec))
            except (ValueError, TypeError):
                return Opaque(self.text(node))
        return "".join(out)

    def ev_Tuple(self, node: Any, scope: Scope) -> Any:
        return tuple(self._elements(node.elements, scope))

    def ev_List(self, node: Any, scope: Scope) -> Any:
        return list(self._elements(node.elements, scope))

    def ev_Set(self, node: Any, scope: Scope) -> Any:
        try:
            return set(self._elements(node.elements, scope))
        except TypeError:
            return Opaque(self.text(node))

    def _elements(self, elements: Any, scope: Scope) -> list[Any]:
        out: list[Any] = []
        for e in elements:
            v = self.ev(e.value, scope)
            if isinstance(e, self.cst.StarredElement):
                items = self.iterate(v)
                if items is None:
                    out.append(Opaque(self.text(e)))
                else:
                    out.extend(items)
            else:
                out.append(v)
        return out

    def ev_Dict(self, node: Any, scope: Scope) -> Any:
        d: dict[Any, Any] = {}
        for e in node.elements:
            if isinstance(e, self.cst.StarredDictElement):
                v = self.ev(e.value, scope)
                if isinstance(v, dict):
                    d.update(v)
                continue
            k = self.ev(e.key, scope)
            try:
                d[k] = self.ev(e.value, scope)
            except TypeError:
                d[self.text(e.key)] = self.ev(e.value, scope)
        return d

    def ev_Ellipsis(self, node: Any, scope: Scope) -> Any:
        return ...

    def ev_Lambda(self, node: Any, scope: Scope) -> Any:
        defaults = {}
        for p in node.params.params:
            if p.default is not None:
                defaults[p.name.value] = self.ev(p.default, scope)
        return UserFunc(node, scope, "<lambda>", defaults, is_lambda=True, ctx=self.ctx)

    def ev_IfExp(self, node: Any, scope: Scope) -> Any:
        c = self.truth(self.ev(node.test, scope))
        if c is None:
            # Like an unknown `if` statement: read as true first; read_text re-reads the
            # program with this decision flipped and reports a different model as an alternative.
            msg = f"condition `{self.text(node.test)}` is not known statically; "
            forced = self.forced_decision(node, node.test)
            if forced is not None:
                c = forced
                self.note(node, msg + ("assumed true" if c else "assumed false"))
            else:
                c = True
                self.note(node, msg + "assumed true (the else value was not evaluated)")
            self.uncertain.append(msg)
        return self.ev(node.body if c else node.orelse, scope)

    def ev_NamedExpr(self, node: Any, scope: Scope) -> Any:
        v = self.ev(node.value, scope)
        self.assign(node.target, v, scope, node)
        return v

    def ev_BooleanOperation(self, node: Any, scope: Scope) -> Any:
        left = self.ev(node.left, scope)
        t = self.truth(left)
        is_and = isinstance(node.operator, self.cst.And)
        if t is None:
            return Opaque(self.text(node))
        if is_and:
            return self.ev(node.right, scope) if t else left
        return left if t else self.ev(node.right, scope)

    def ev_UnaryOperation(self, node: Any, scope: Scope) -> Any:
        v = self.ev(node.expression, scope)
        op = type(node.operator).__name__
        if op == "Not":
            t = self.truth(v)
            return Opaque(self.text(node)) if t is None else not t
        if isinstance(v, Sym) and op == "Minus":
            return -v
        if (isinstance(v, (int, float)) and not isinstance(v, bool)) or isinstance(v, bool):
            if op == "Minus":
                return -v
            if op == "Plus":
                return +v
            if op == "BitInvert" and isinstance(v, int):
                return ~v
        t = self.keras.unary(op, v, node)
        if t is not _MISSING:
            return t if t is not None else Opaque(self.text(node))
        return Opaque(self.text(node))

    def ev_BinaryOperation(self, node: Any, scope: Scope) -> Any:
        left = self.ev(node.left, scope)
        right = self.ev(node.right, scope)
        return self.binop(type(node.operator).__name__, left, right, node)

    def binop(self, op: str, a: Any, b: Any, node: Any) -> Any:
        from bnlint import symbolic as sy

        text = _LazyText(self, node, op)
        t = self.keras.binop(op, a, b, node)
        if t is not _MISSING:
            return t if t is not None else Opaque(text)
        if op == "Modulo" and isinstance(a, str):
            if isinstance(b, (Opaque, Sym)) or (isinstance(b, tuple) and any(
                    isinstance(x, (Opaque, Sym)) for x in b)):
                return Opaque(text)
            try:
                return a % (tuple(_display(x) for x in b) if isinstance(b, tuple) else _display(b))
            except (TypeError, ValueError, KeyError):
                return Opaque(text)
        if isinstance(a, ArrayValue) or isinstance(b, ArrayValue):
            r = array_binop(op, a, b)
            return r if r is not None else Opaque(text)
        ia = _as_int_like(a)
        ib = _as_int_like(b)
        if isinstance(a, (Opaque, Sym)) or isinstance(b, (Opaque, Sym)):
            if ia is not None and ib is not None:
                r: Any = None
                if op == "Add":
                    r = sy.add(ia, ib)
                elif op == "Subtract":
                    r = sy.sub(ia, ib)
                elif op == "Multiply":
                    r = sy.mul(ia, ib)
                elif op == "FloorDivide":
                    r = sy.floordiv(ia, ib)
                if r is not None:
                    if isinstance(r, int) and (isinstance(a, Opaque) or isinstance(b, Opaque)):
                        # `x * 0` is 0 only for a number; an unknown value may be a tensor
                        return Opaque(text)
                    return r
            if isinstance(a, tuple) and op == "Add":
                return Opaque(text)
            return Opaque(text)
        if (_is_num(a) and _is_num(b)) or (isinstance(a, (str, list, tuple)) and isinstance(
                b, (str, list, tuple, int))) or (isinstance(a, int) and isinstance(b, (str, list, tuple))):
            try:
                if op == "Power" and _is_num(b) and abs(b) > 64 and _is_num(a) and abs(a) > 1:
                    return Opaque(text)
                if op == "Multiply":
                    n = b if isinstance(a, (str, list, tuple)) else a
                    seq = a if isinstance(a, (str, list, tuple)) else b
                    if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(
                            seq) * n > MAX_SEQ:
                        return Opaque(text)
                if op in ("LeftShift",) and _is_num(b) and b > 64:
                    return Opaque(text)
                return _PY_OPS[op](a, b)
            except (KeyError, TypeError, ZeroDivisionError, ValueError, OverflowError):
                return Opaque(text)
        return Opaque(text)

    def ev_Comparison(self, node: Any, scope: Scope) -> Any:
        left = self.ev(node.left, scope)
        result = True
        for comp in node.comparisons:
            right = self.ev(comp.comparator, scope)
            op = type(comp.operator).__name__
            if op in ("In", "NotIn") and isinstance(right, PyMod) and right.name == "os.environ":
                r = self.env_contains(left, node)
                r = r if r is None or op == "In" else not r
            elif len(node.comparisons) == 1 and op in _ARRAY_CMP and (
                    isinstance(left, ArrayValue) or isinstance(right, ArrayValue)):
                r = array_binop("Add", left, right)  # elementwise: the broadcast shape
                return ArrayValue(r.shape) if r is not None else Opaque(self.text(node))
            else:
                r = self._compare(op, left, right)
            if r is None:
                return Opaque(self.text(node))
            if not r:
                return False
            left = right
        return result

    def _compare(self, op: str, a: Any, b: Any) -> bool | None:
        if op in ("Is", "IsNot"):
            if a is None or b is None:
                if isinstance(a, Opaque) or isinstance(b, Opaque):
                    return None
                same = a is b
                return same if op == "Is" else not same
            if isinstance(a, (bool,)) and isinstance(b, bool):
                return (a is b) if op == "Is" else (a is not b)
            if isinstance(a, Builtin) and isinstance(b, Builtin):
                return (a.name == b.name) == (op == "Is")
            if a is b and not isinstance(a, (Opaque, Sym)):
                return op == "Is"  # the same object of the program
            if isinstance(a, _IDENTITY) and isinstance(b, _IDENTITY):
                return op == "IsNot"  # two functions/classes/instances created apart
            return None
        if op in ("In", "NotIn") and isinstance(a, Builtin) and isinstance(b, (list, tuple)):
            # `type(s) not in (tuple, list)`: a builtin type is in a sequence when one of its
            # items is that same type (types compare by identity)
            found = False
            for item in b:
                if isinstance(item, Builtin):
                    found = found or item.name == a.name
                elif not _plain_data(item) or isinstance(item, Sym):
                    return None  # an unknown item may be that type
            return found == (op == "In")
        if isinstance(a, (Opaque, Sym)) or isinstance(b, (Opaque, Sym)):
            if op in ("Equal", "NotEqual") and isinstance(a, Sym) and isinstance(b, Sym):
                if a == b:
                    return op == "Equal"
            return None
        if not _plain_data(a) or not _plain_data(b):
            if op in ("Equal", "NotEqual"):
                return (a is b) if op == "Equal" else (a is not b)
            return None
        try:
            return bool(_CMP_OPS[op](a, b))
        except (TypeError, KeyError):
            return None

    def ev_Attribute(self, node: Any, scope: Scope) -> Any:
        obj = self.ev(node.value, scope)
        return self.getattr_(obj, node.attr.value, node)

    def ev_Subscript(self, node: Any, scope: Scope) -> Any:
        obj = self.ev(node.value, scope)
        key = self.ev_slice(node, scope)
        return self.subscript(obj, key, node)

    def ev_slice(self, node: Any, scope: Scope) -> Any:
        cst = self.cst
        keys = []
        for el in node.slice:
            s = el.slice
            if isinstance(s, cst.Index):
                keys.append(self.ev(s.value, scope))
            else:
                lo = None if s.lower is None else self.ev(s.lower, scope)
                hi = None if s.upper is None else self.ev(s.upper, scope)
                stp = None if s.step is None else self.ev(s.step, scope)
                if any(isinstance(x, (Opaque, Sym)) for x in (lo, hi, stp)):
                    keys.append(Opaque(self.text(s)))
                else:
                    keys.append(slice(lo, hi, stp))
        return keys[0] if len(keys) == 1 else tuple(keys)

    def subscript(self, obj: Any, key: Any, node: Any) -> Any:
        if isinstance(obj, PyMod) and obj.name == "os.environ":
            return self.env_item(key, node)

        v = self.keras.subscript(obj, key, node)
        if v is not _MISSING:
            return v
        if isinstance(obj, ArrayValue) and not isinstance(key, Opaque):
            r = array_subscript(obj, key)
            return r if r is not None else Opaque(self.text(node))
        if isinstance(key, Opaque) or isinstance(key, Sym):
            return Opaque(self.text(node))
        if isinstance(obj, ArrayValue):
            item = obj.item(key)
            return Opaque(self.text(node)) if item is None else item
        if isinstance(obj, (list, tuple, str, range)):
            try:
                return obj[key]
            except (IndexError, TypeError):
                return Opaque(self.text(node))
        if isinstance(obj, dict):
            try:
                return obj[key]
            except (KeyError, TypeError):
                return Opaque(self.text(node))
        return Opaque(self.text(node))

    def ev_Call(self, node: Any, scope: Scope) -> Any:
        func = self.ev(node.func, scope)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for a in node.args:
            v = self.ev(a.value, scope)
            if a.star == "*":
                items = self.iterate(v)
                if items is None:
                    args.append(Opaque(self.text(a.value)))
                else:
                    args.extend(items)
            elif a.star == "**":
                if isinstance(v, dict):
                    kwargs.update({str(k): x for k, x in v.items()})
                else:
                    kwargs[UNKNOWN_KWARGS] = Opaque(self.text(a.value))
            elif a.keyword is not None:
                kwargs[a.keyword.value] = v
            else:
                args.append(v)
        return self.call(func, args, kwargs, node, scope)

    def _comp(self, node: Any, scope: Scope, kind: str) -> Any:
        out: list[Any] = []
        inner = Scope(scope)
        count = [0]

        def walk(for_in: Any) -> bool:
            items = self.iterate(self.ev(for_in.iter, inner))
            if items is None:
                return False
            for item in items:
                count[0] += 1
                if count[0] > MAX_LOOP:
                    self.note(node, f"comprehension bound of {MAX_LOOP} items hit")
                    return True
                self.assign(for_in.target, item, inner, node)
                ok = True
                for cond in for_in.ifs:
                    t = self.truth(self.ev(cond.test, inner))
                    if t is None:
                        return False
                    if not t:
                        ok = False
                        break
                if not ok:
                    continue
                if for_in.inner_for_in is not None:
                    if not walk(for_in.inner_for_in):
                        return False
                elif kind == "dict":
                    out.append((self.ev(node.key, inner), self.ev(node.value, inner)))
                else:
                    out.append(self.ev(node.elt, inner))
            return True

        if not walk(node.for_in):
            return Opaque(self.text(node))
        if kind == "dict":
            try:
                return dict(out)
            except TypeError:
                return Opaque(self.text(node))
        if kind == "set":
            try:
                return set(out)
            except TypeError:
                return Opaque(self.text(node))
        return out

    def ev_ListComp(self, node: Any, scope: Scope) -> Any:
        return self._comp(node, scope, "list")

    def ev_GeneratorExp(self, node: Any, scope: Scope) -> Any:
        return self._comp(node, scope, "list")

    def ev_SetComp(self, node: Any, scope: Scope) -> Any:
        return self._comp(node, scope, "set")

    def ev_DictComp(self, node: Any, scope: Scope) -> Any:
        return self._comp(node, scope, "dict")

    # -------------------------------------------------------------- truth / iteration
    def truth(self, v: Any) -> bool | None:
        if isinstance(v, (Opaque, Sym)):
            return None
        if v is None or isinstance(v, (bool, int, float, str, list, tuple, dict, set, range)):
            return bool(v)
        return True

    def iterate(self, v: Any) -> list[Any] | None:
        if isinstance(v, (list, tuple, str)):
            return list(v)
        if isinstance(v, range):
            if len(v) > MAX_LOOP:
                return list(v[: MAX_LOOP + 1])
            return list(v)
        if isinstance(v, dict):
            return list(v.keys())
        if isinstance(v, set):
            try:
                return sorted(v)
            except TypeError:
                return list(v)
        if isinstance(v, ArrayValue) and v.elements() is not None:
            return v.elements()
        if isinstance(v, ArrayValue) and len(v.shape) >= 2 and isinstance(v.shape[0], int) and (
                v.shape[0] <= MAX_LOOP):
            return [v.item(i) for i in range(v.shape[0])]
        return self.keras.sequence(v)
