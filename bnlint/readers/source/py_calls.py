"""Python calls and attributes: user functions, builtins, Python modules, methods of plain values.
"""

from __future__ import annotations

from typing import Any

from bnlint.readers.source.imports import _norm_text
from bnlint.readers.source.parse import _GENERATORS, _YIELDS, _own_nodes
from bnlint.readers.source.py_helpers import (
    _BUILTIN_IMPL,
    _DICT_PURE,
    _LIST_PURE,
    _PY_TYPES,
    _STR_METHODS,
    _as_int_like,
    _display,
    _is_num,
    _plain_data,
)
from bnlint.readers.source.values import (
    _MISSING,
    MAX_DEPTH,
    MAX_LOOP,
    MAX_SEQ,
    ArrayValue,
    Bound,
    Builtin,
    Instance,
    KRef,
    Opaque,
    Partial,
    PyMod,
    Scope,
    SuperProxy,
    UserClass,
    UserFunc,
    UserModule,
    _Break,
    _Budget,
    _Continue,
    _Raise,
    _Return,
)
from bnlint.symbolic import Sym


class Calls:
    # -------------------------------------------------------------- attribute access
    def getattr_(self, obj: Any, name: str, node: Any) -> Any:
        if isinstance(obj, KRef):
            if obj.path == "tensorflow" and name == "keras":
                return KRef("keras")
            if obj.path.startswith("tensorflow.compat.v1") and name == "keras":
                return KRef("keras")
            return KRef(f"{obj.path}.{name}")
        if isinstance(obj, PyMod):
            return PyMod(f"{obj.name}.{name}")
        if isinstance(obj, ArrayValue) and name in ("shape", "ndim"):
            return obj.shape if name == "shape" else len(obj.shape)
        if isinstance(obj, UserModule):
            v = self.module_attr(obj, name, node)
            return Opaque(self.text(node)) if v is _MISSING else v
        if isinstance(obj, UserFunc) and name == "__doc__":
            doc = obj.node.get_docstring() if hasattr(obj.node, "get_docstring") else None
            return doc
        if isinstance(obj, Instance):
            v = self.keras.instance_attr_first(obj, name)
            if v is not _MISSING:
                return v
            if name in obj.attrs:
                return obj.attrs[name]
            v = obj.cls.lookup(name)
            if isinstance(v, UserFunc):
                if v.defaults.get("__property__"):
                    return self.call_user(v, [obj], {}, node)
                return self.bind_method(v, obj, obj.cls)
            if v is not _MISSING:
                return v
            return self.keras.instance_attr_last(obj, name, node)
        if isinstance(obj, SuperProxy):
            for base in obj.cls.bases:
                if isinstance(base, UserClass):
                    v = base.lookup(name)
                    if isinstance(v, UserFunc):
                        return self.bind_method(v, obj.inst, obj.inst.cls)
            return Bound(obj.inst, f"super.{name}")
        v = self.keras.attr(obj, name, node)
        if v is not _MISSING:
            return v
        if isinstance(obj, (str, list, dict, tuple)):
            return Bound(obj, name)
        if isinstance(obj, UserClass):
            v = obj.lookup(name)
            if isinstance(v, UserFunc) and v.kind == "classmethod":
                return Bound(obj, v)
            return Opaque(self.text(node)) if v is _MISSING else v
        return Opaque(self.text(node))

    @staticmethod
    def bind_method(fn: UserFunc, inst: Any, cls: UserClass) -> Any:
        """``inst.name`` for a method found on the class: bound to the instance, to the class
        (classmethod) or not at all (staticmethod)."""
        if fn.kind == "staticmethod":
            return fn
        return Bound(cls if fn.kind == "classmethod" else inst, fn)

    # -------------------------------------------------------------- calls
    def call(self, func: Any, args: list[Any], kwargs: dict[str, Any], node: Any,
             scope: Scope) -> Any:
        if isinstance(func, KRef):
            return self.keras.call_keras(func, args, kwargs, node)
        if isinstance(func, UserFunc):
            return self.call_user(func, args, kwargs, node)
        if isinstance(func, UserClass):
            return self.keras.instantiate(func, args, kwargs, node)
        if isinstance(func, Bound):
            if isinstance(func.func, UserFunc):
                return self.call_user(func.func, [func.obj, *args], kwargs, node)
            return self.call_method(func.obj, func.func, args, kwargs, node)
        if isinstance(func, Builtin):
            return self.call_builtin(func.name, args, kwargs, node, scope)
        if isinstance(func, PyMod):
            return self.call_pymod(func.name, args, kwargs, node)
        if isinstance(func, Partial):
            if self.depth >= MAX_DEPTH:
                raise _Budget(f"call depth bound of {MAX_DEPTH} hit in a functools.partial")
            self.depth += 1
            try:
                return self.call(func.func, [*func.args, *args], {**func.kwargs, **kwargs}, node,
                                 scope)
            finally:
                self.depth -= 1
        return self.keras.call_value(func, args, kwargs, node)

    def call_user(self, fn: UserFunc, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        if self.depth >= MAX_DEPTH:
            raise _Budget(f"call depth bound of {MAX_DEPTH} hit in `{fn.name}`")
        scope = Scope(fn.closure)
        params = fn.node.params
        positional = [*params.posonly_params, *params.params]
        args = list(args)
        for p in positional:
            pname = p.name.value
            if args:
                scope.vars[pname] = args.pop(0)
            elif pname in kwargs:
                scope.vars[pname] = kwargs.pop(pname)
            elif pname in fn.defaults:
                scope.vars[pname] = fn.defaults[pname]
            else:
                scope.vars[pname] = Opaque(pname)
        star = params.star_arg
        if isinstance(star, self.cst.Param):
            scope.vars[star.name.value] = tuple(args)
            args = []
        for p in params.kwonly_params:
            pname = p.name.value
            if pname in kwargs:
                scope.vars[pname] = kwargs.pop(pname)
            elif pname in fn.defaults:
                scope.vars[pname] = fn.defaults[pname]
            else:
                scope.vars[pname] = Opaque(pname)
        if isinstance(params.star_kwarg, self.cst.Param):
            scope.vars[params.star_kwarg.name.value] = dict(kwargs)
        if fn.owner is not None:
            scope.vars["__class__"] = fn.owner
        if not fn.is_lambda and self._is_generator(fn.node):
            # calling a generator function runs none of its body (a data generator's
            # ``while True:`` loop must not spend the step budget)
            return Opaque(f"{fn.name}(...)")
        self.depth += 1
        old_ctx = self.switch(fn.ctx) if fn.ctx is not None and fn.ctx is not self.ctx else None
        try:
            if fn.is_lambda:
                return self.ev(fn.node.body, scope)
            body = self.body_of(fn.node)
            self.exec_block(body, scope)
        except _Return as r:
            return r.value
        except _Raise:
            return Opaque(f"{fn.name}(...)")
        except (_Break, _Continue):
            return None
        finally:
            self.depth -= 1
            if old_ctx is not None:
                self.switch(old_ctx)
        return None

    def _never_exits(self, st: Any) -> bool:
        """A ``while`` whose test is a truthy literal and whose body has no ``break`` (outside
        nested loops), ``return``, ``raise``, ``yield`` or call of ``exit``/``quit``."""
        cst = self.cst
        test = st.test
        if not (isinstance(test, cst.Name) and test.value == "True") and not (
                isinstance(test, cst.Integer) and test.value not in ("0",)):
            return False
        for n, in_loop in _own_nodes(cst, st.body):
            if isinstance(n, (cst.Return, cst.Raise, cst.Yield)):
                return False
            if isinstance(n, cst.Break) and not in_loop:
                return False
            if isinstance(n, cst.Call) and isinstance(n.func, (cst.Name, cst.Attribute)) and (
                    (n.func.value if isinstance(n.func, cst.Name) else n.func.attr.value)
                    in ("exit", "quit", "_exit")):
                return False
        return True

    def _is_generator(self, fn_node: Any) -> bool:
        """Does the function's own body (not a nested def, class or lambda) yield?

        Answered once per function node per process; a module whose text never says
        ``yield`` has no generator (walking big function bodies is costly in libcst)."""
        cst = self.cst
        if not _YIELDS.get(self.ctx.module, lambda m: True):  # parsed here: text known
            return False
        return _GENERATORS.get(fn_node, lambda f: any(
            isinstance(n, cst.Yield) for n, _ in _own_nodes(cst, f.body)))

    # ---- builtins
    def call_builtin(self, name: str, args: list[Any], kwargs: dict[str, Any], node: Any,
                     scope: Scope) -> Any:

        a0 = args[0] if args else None
        if name == "print":
            return None
        if name == "super":
            inst = scope.lookup("self")
            cls = scope.lookup("__class__")
            if len(args) == 2:
                cls, inst = args
            if isinstance(inst, Instance) and isinstance(cls, UserClass):
                return SuperProxy(inst, cls)
            return Opaque(self.text(node))
        if name == "len":
            if isinstance(a0, (list, tuple, str, dict, set, range)):
                return len(a0)
            items = self.keras.sequence(a0)
            if items is not None:
                return len(items)
            if not isinstance(a0, Opaque):
                return Opaque(self.text(node))
            # Named by the expression the value came from, not the name it is bound to
            # (``v = lookup.get_vocabulary(); len(v)`` is ``len(lookup.get_vocabulary())``): a
            # define of either text answers it, and a loop binding ``v`` to different values
            # gets one symbol per value.
            text = f"len({a0.text})"
            key = _norm_text(text)
            return self.defines[key] if key in self.defines else Sym.atom(text)
        if name == "isinstance":
            return self._isinstance(a0, args[1] if len(args) > 1 else None, self.text(node))
        if name == "type" and len(args) == 1 and type(a0) in _PY_TYPES.values():
            return Builtin(type(a0).__name__)  # `type(h) is not tuple` on a known value
        if name in ("hasattr", "getattr", "setattr", "type", "iter", "next", "callable"):
            if name == "getattr" and len(args) >= 2 and isinstance(args[1], str):
                v = self.getattr_(a0, args[1], node)
                if isinstance(v, Opaque) and len(args) == 3:
                    return args[2]
                return v
            if name == "setattr" and len(args) == 3 and isinstance(args[1], str):
                self.setattr_(a0, args[1], args[2], node, node)
                return None
            return Opaque(self.text(node))
        if name == "range":
            if all(isinstance(a, int) for a in args) and 1 <= len(args) <= 3:
                try:
                    return range(*args)
                except ValueError:
                    return Opaque(self.text(node))
            return Opaque(self.text(node))
        if name == "int":
            if isinstance(a0, Sym):
                return a0
            if isinstance(a0, Opaque):
                return Sym.atom(self.text(node))
        if name in ("map", "filter") and len(args) == 2:
            items = self.iterate(args[1])
            if items is None:
                return Opaque(self.text(node))
            out = []
            for it in items[:MAX_LOOP]:
                r = self.call(args[0], [it], {}, node, scope)
                if name == "map":
                    out.append(r)
                else:
                    t = self.truth(r)
                    if t is None:
                        return Opaque(self.text(node))
                    if t:
                        out.append(it)
            return out
        if name in ("enumerate", "zip", "reversed", "sorted", "list", "tuple", "set",
                    "frozenset", "dict", "min", "max", "sum", "any", "all"):
            conv = []
            for a in args:
                it = self.iterate(a) if not isinstance(a, (int, float)) else None
                if it is None and not isinstance(a, (int, float)):
                    if name in ("min", "max", "sum") and len(args) > 1 and isinstance(
                            a, (Sym, Opaque)):
                        return Opaque(self.text(node))
                    if name == "dict" and isinstance(a, dict):
                        conv.append(a)
                        continue
                    return Opaque(self.text(node))
                conv.append(it if it is not None else a)
            if name in ("min", "max", "sum"):
                flat = conv[0] if len(conv) == 1 else conv
                if any(isinstance(x, (Opaque, Sym)) for x in flat):
                    if name == "sum" and all(_as_int_like(x) is not None for x in flat):
                        from bnlint.symbolic import total

                        return total(_as_int_like(x) for x in flat)
                    return Opaque(self.text(node))
            if name == "dict":
                d = dict(conv[0]) if conv else {}
                d.update(kwargs)
                return d
            try:
                r = _BUILTIN_IMPL[name](*conv)
            except (TypeError, ValueError):
                return Opaque(self.text(node))
            return list(r) if name in ("enumerate", "zip", "reversed") else r
        if name in ("int", "float", "str", "bool", "abs", "round", "divmod", "pow", "repr",
                    "chr", "ord", "hex", "format"):
            if any(not _plain_data(a) for a in args):
                if name == "str" and isinstance(a0, Sym):
                    return str(a0)
                return Opaque(self.text(node))
            try:
                if name == "pow" and len(args) >= 2 and isinstance(args[1], int) and args[1] > 64:
                    return Opaque(self.text(node))
                return _BUILTIN_IMPL[name](*args)
            except (TypeError, ValueError, OverflowError, ZeroDivisionError):
                return Opaque(self.text(node))
        return Opaque(self.text(node))

    def _isinstance(self, v: Any, t: Any, text: str) -> Any:
        types = t if isinstance(t, tuple) else (t,)
        if not all(isinstance(x, Builtin) for x in types):
            return Opaque(text)
        if not all(x.name in _PY_TYPES for x in types):
            return Opaque(text)
        if self.keras.is_tensor(v) or v is None or isinstance(v, tuple(_PY_TYPES.values())):
            return isinstance(v, tuple(_PY_TYPES[x.name] for x in types))
        return Opaque(text)

    def call_pymod(self, name: str, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        import math


        a0 = args[0] if args else None
        if name == "functools.partial" and args:
            return Partial(a0, list(args[1:]), dict(kwargs))
        if name in ("copy.deepcopy", "copy.copy"):
            if isinstance(a0, (list, dict, tuple)) and _plain_data(a0):
                import copy

                return copy.deepcopy(a0)
            return a0 if _plain_data(a0) else Opaque(self.text(node))
        if name.startswith("math."):
            fn = name[5:]
            if fn in ("ceil", "floor") and isinstance(a0, Sym):
                return a0
            if fn in ("ceil", "floor", "sqrt", "log", "log2", "log10", "prod", "exp", "pow",
                      "gcd", "isqrt") and all(_plain_data(a) for a in args):
                try:
                    return getattr(math, fn)(*args)
                except (TypeError, ValueError, OverflowError):
                    return Opaque(self.text(node))
            if fn in ("ceil", "floor") and isinstance(a0, Opaque):
                return Sym.atom(self.text(node))
        if name == "numpy.linspace" and len(args) >= 3 and all(_is_num(x) for x in args[:3]) \
                and isinstance(args[2], int) and 0 <= args[2] <= MAX_LOOP:
            lo, hi, n = args[0], args[1], args[2]
            if n == 1:
                return [float(lo)]
            return [lo + (hi - lo) * i / (n - 1) for i in range(n)]
        array = _array_shape(name, args, kwargs)
        if array is not None:
            return ArrayValue(array)
        if name in ("numpy.prod", "np.prod") and isinstance(a0, (list, tuple)):
            from bnlint.symbolic import product

            vals = [_as_int_like(x) for x in a0]
            if all(v is not None for v in vals):
                return product(vals)  # type: ignore[arg-type]
        return Opaque(self.text(node))

    # ---- methods on native values
    def call_method(self, obj: Any, name: str, args: list[Any], kwargs: dict[str, Any],
                    node: Any) -> Any:
        v = self.keras.method(obj, name, args, kwargs, node)
        if v is not _MISSING:
            return v
        if isinstance(obj, tuple) and name == "as_list" and not args:
            return list(obj)
        if isinstance(obj, str) and name in _STR_METHODS:
            if any(not _plain_data(a) for a in [*args, *kwargs.values()]):
                return Opaque(self.text(node))
            try:
                return getattr(obj, name)(*[_display(a) for a in args],
                                          **{k: _display(v) for k, v in kwargs.items()})
            except (TypeError, ValueError, KeyError, IndexError):
                return Opaque(self.text(node))
        if isinstance(obj, list):
            if name == "append" and len(args) == 1:
                if len(obj) < MAX_SEQ:
                    obj.append(args[0])
                return None
            if name == "extend" and len(args) == 1:
                it = self.iterate(args[0])
                if it is not None:
                    obj.extend(it)
                return None
            if name == "insert" and len(args) == 2 and isinstance(args[0], int):
                obj.insert(args[0], args[1])
                return None
            if name == "pop":
                try:
                    return obj.pop(*args) if all(isinstance(a, int) for a in args) else Opaque(self.text(node))
                except IndexError:
                    return Opaque(self.text(node))
            if name == "reverse":
                obj.reverse()
                return None
            if name in _LIST_PURE:
                try:
                    return getattr(obj, name)(*args)
                except (ValueError, TypeError):
                    return Opaque(self.text(node))
        if isinstance(obj, dict):
            if name in _DICT_PURE:
                try:
                    r = getattr(obj, name)(*args)
                except TypeError:
                    return Opaque(self.text(node))
                return list(r) if name in ("items", "keys", "values") else r
            if name == "update":
                if args and isinstance(args[0], dict):
                    obj.update(args[0])
                obj.update(kwargs)
                return None
            if name in ("setdefault", "pop") and args:
                try:
                    return getattr(obj, name)(*args)
                except (KeyError, TypeError):
                    return Opaque(self.text(node))
        if isinstance(obj, tuple) and name in ("index", "count"):
            try:
                return getattr(obj, name)(*args)
            except (ValueError, TypeError):
                return Opaque(self.text(node))
        return Opaque(self.text(node))


_ARRAY_SHAPE_FIRST = {"numpy.ones", "numpy.zeros", "numpy.empty", "numpy.full",
                      "numpy.random.random", "numpy.random.random_sample",
                      "numpy.random.standard_normal"}
_ARRAY_DIMS = {"numpy.random.rand", "numpy.random.randn"}
_ARRAY_SIZE_KW = {"numpy.random.uniform", "numpy.random.normal", "numpy.random.randint",
                  "numpy.random.random", "numpy.random.random_sample",
                  "numpy.random.standard_normal"}


def _array_shape(name: str, args: list[Any], kwargs: dict[str, Any]) -> tuple | None:
    """The shape of a NumPy array-making call whose shape is given as plain integers."""
    shape: Any = None
    if name in _ARRAY_SHAPE_FIRST:
        shape = args[0] if args else kwargs.get("shape", kwargs.get("size"))
    elif name in _ARRAY_DIMS:
        shape = tuple(args)
    if name in _ARRAY_SIZE_KW and "size" in kwargs:
        shape = kwargs["size"]
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if isinstance(shape, (list, tuple)) and all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        return tuple(shape)
    return None
