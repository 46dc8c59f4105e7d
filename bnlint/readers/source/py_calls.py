"""Python calls and attributes: user functions, builtins, Python modules, methods of plain values.
"""

from __future__ import annotations

import re
from typing import Any

from bnlint.readers.source.imports import _norm_text
from bnlint.readers.source.parse import _GENERATORS, _YIELDS, _own_nodes
from bnlint.readers.source.py_helpers import (
    _BUILTIN_IMPL,
    _DICT_PURE,
    _LIST_PURE,
    _PURE_BUILTINS,
    _PY_MODULE_CONSTANTS,
    _PY_TYPES,
    _STR_METHODS,
    ARRAY_METHODS,
    UNKNOWN_KWARGS,
    _as_int_like,
    _display,
    _is_num,
    _plain_data,
    array_concatenate,
    array_function,
    array_method,
    array_of,
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
    NTClass,
    NTuple,
    Opaque,
    Partial,
    PyMod,
    Scope,
    SuperProxy,
    Unresolved,
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

_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


# Python modules' names for a builtin (Python 2 compatibility layers, ``builtins``).
_PY_BUILTIN_ALIASES = {
    **{f"builtins.{n}": n for n in _PURE_BUILTINS if n != "super"},
    "six.moves.xrange": "range", "six.moves.range": "range", "six.moves.zip": "zip",
    "six.moves.map": "map", "six.moves.filter": "filter", "six.moves.builtins.range": "range",
    "past.builtins.xrange": "range", "builtins.xrange": "range",
}


def _deepcopy_atoms(v: Any, depth: int = 0) -> Any:
    """``copy.deepcopy(v)`` when ``v`` holds only plain data and values Python's deepcopy
    returns as they are (functions, classes, modules); else _MISSING."""
    if _plain_data(v) and not isinstance(v, (list, dict, set)):
        return v
    if isinstance(v, (UserFunc, UserClass, KRef, Builtin, PyMod, UserModule)):
        return v
    if depth > 20:
        return _MISSING
    if isinstance(v, (list, tuple, set)):
        items = [_deepcopy_atoms(x, depth + 1) for x in v]
        if any(x is _MISSING for x in items):
            return _MISSING
        if isinstance(v, NTuple):
            return NTuple(items, v.cls)
        return type(v)(items) if type(v) in (list, tuple, set) else _MISSING
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            c = _deepcopy_atoms(x, depth + 1)
            if c is _MISSING or not _plain_data(k):
                return _MISSING
            out[k] = c
        return out
    return _MISSING


def _derives(cls: UserClass, target: UserClass | None, depth: int) -> bool | None:
    """Is ``cls`` ``target`` or a subclass of it (None: a base is not known)? With ``target``
    None: False when every base is a class of the program or a Keras class (no builtin)."""
    if cls is target:
        return True
    if depth > 20:
        return None
    answer: bool | None = False
    for b in cls.bases:
        if isinstance(b, UserClass):
            r = _derives(b, target, depth + 1)
        elif isinstance(b, KRef) or (isinstance(b, Builtin) and target is not None):
            r = False  # a Keras or builtin class is not a class of the program
        else:
            r = None
        if r is True:
            return True
        if r is None:
            answer = None
    return answer


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
            path = f"{obj.name}.{name}"
            return _PY_MODULE_CONSTANTS.get(path, PyMod(path))
        if isinstance(obj, ArrayValue) and name in ("shape", "ndim"):
            return obj.shape if name == "shape" else len(obj.shape)
        if isinstance(obj, UserModule):
            v = self.module_attr(obj, name, node)
            return Opaque(self.text(node)) if v is _MISSING else v
        if isinstance(obj, (UserFunc, UserClass)) and name == "__name__" and (
                not isinstance(obj, UserFunc) or not obj.is_lambda):
            return obj.name
        if isinstance(obj, Instance) and name == "__class__":
            return obj.cls
        if isinstance(obj, Instance) and name == "__setattr__" and obj.cls.lookup(
                name) is _MISSING:
            return Bound(obj, name)
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
        if isinstance(obj, NTuple) and obj.cls is not None:
            if name in obj.cls.fields:
                return obj[obj.cls.fields.index(name)]
            if name == "_fields":
                return obj.cls.fields
            if name in ("_replace", "_asdict"):
                return Bound(obj, name)
            return Opaque(self.text(node))
        if isinstance(obj, Partial):
            if name in ("func", "args", "keywords"):
                v = getattr(obj, name)
                return dict(v) if name == "keywords" else v
            return Opaque(self.text(node))
        if isinstance(obj, NTClass):
            if name == "_fields":
                return obj.fields
            if name == "_field_defaults":
                return dict(obj.defaults)
            if name == "_make":
                return Bound(obj, name)
            if name == "__name__":
                return obj.name
            return Opaque(self.text(node))
        v = self.keras.attr(obj, name, node)
        if v is not _MISSING:
            return v
        if isinstance(obj, (str, list, dict, tuple)):
            return Bound(obj, name)
        if isinstance(obj, ArrayValue) and name in ARRAY_METHODS:
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
        unknown_kw = kwargs.get(UNKNOWN_KWARGS)
        if unknown_kw is not None and not isinstance(func, (UserFunc, Bound, Partial)):
            # ``f(**cfg)`` with ``cfg`` unknown: any argument may be in it (a layer's units,
            # an activation): the result is unknown, never the call with its defaults
            self.note(node, f"`{self.text(node)}`: `**{unknown_kw.text}` is not known "
                            "statically; the call's result is unknown")
            return Opaque(self.text(node))
        if isinstance(func, KRef):
            return self.keras.call_keras(func, args, kwargs, node)
        if isinstance(func, UserFunc):
            return self.call_user(func, args, kwargs, node)
        if isinstance(func, UserClass):
            return self.keras.instantiate(func, args, kwargs, node)
        if isinstance(func, Bound):
            if isinstance(func.func, UserFunc):
                r = self.call_user(func.func, [func.obj, *args], kwargs, node)
                if func.func.name == "build" and isinstance(func.obj, Instance):
                    self.keras.explicit_build(func.obj)
                return r
            return self.call_method(func.obj, func.func, args, kwargs, node)
        if isinstance(func, Builtin):
            return self.call_builtin(func.name, args, kwargs, node, scope)
        if isinstance(func, PyMod):
            return self.call_pymod(func.name, args, kwargs, node)
        if isinstance(func, Partial):
            return self.call(func.func, [*func.args, *args], {**func.keywords, **kwargs}, node,
                             scope)
        if isinstance(func, NTClass):
            made = func.make(args, kwargs)
            if made is None:
                self.note(node, f"`{self.text(node)}`: the arguments do not match the fields of "
                                f"namedtuple `{func.name}` {list(func.fields)}")
                return Opaque(self.text(node))
            return made
        return self.keras.call_value(func, args, kwargs, node)

    def call_user(self, fn: UserFunc, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        if self.depth >= MAX_DEPTH:
            raise _Budget(f"call depth bound of {MAX_DEPTH} hit in `{fn.name}`")
        scope = Scope(fn.closure)
        params = fn.node.params
        positional = [*params.posonly_params, *params.params]
        args = list(args)
        # ``**cfg`` of an unknown value: a parameter left out may be in it, so it is unknown
        # rather than its default
        unknown_kw = kwargs.pop(UNKNOWN_KWARGS, None)
        defaults = {} if unknown_kw is not None else fn.defaults
        for p in positional:
            pname = p.name.value
            if args:
                scope.vars[pname] = args.pop(0)
            elif pname in kwargs:
                scope.vars[pname] = kwargs.pop(pname)
            elif pname in defaults:
                scope.vars[pname] = defaults[pname]
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
            elif pname in defaults:
                scope.vars[pname] = defaults[pname]
            else:
                scope.vars[pname] = Opaque(pname)
        if isinstance(params.star_kwarg, self.cst.Param):
            scope.vars[params.star_kwarg.name.value] = (
                dict(kwargs) if unknown_kw is None else Opaque(params.star_kwarg.name.value))
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
        if name == "locals" and not args:
            # a copy of the function's own names (``f(**locals())`` forwards its arguments)
            return {k: v for k, v in scope.vars.items() if k != "__class__"}
        if name == "super":
            inst = scope.lookup("self")
            cls = scope.lookup("__class__")
            if len(args) == 2:
                cls, inst = args
            if isinstance(inst, Instance) and isinstance(cls, UserClass):
                return SuperProxy(inst, cls)
            return Opaque(self.text(node))
        if name == "eval":
            return self._eval_name(args, kwargs, node, scope)
        if name == "len":
            if isinstance(a0, (list, tuple, str, dict, set, range)):
                return len(a0)
            if isinstance(a0, ArrayValue) and a0.shape and isinstance(a0.shape[0], int):
                return a0.shape[0]
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
        if name == "callable" and len(args) == 1:
            if isinstance(a0, (UserFunc, UserClass, Builtin, Bound, Partial, NTClass)):
                return True
            if _plain_data(a0) or isinstance(a0, (PyMod, UserModule)):
                return False
            c = self.keras.is_callable(a0)
            return c if c is not None else Opaque(self.text(node))
        if name == "type" and len(args) == 1 and type(a0) in _PY_TYPES.values():
            return Builtin(type(a0).__name__)  # `type(h) is not tuple` on a known value
        if name == "hasattr" and len(args) == 2 and isinstance(args[1], str) and not kwargs:
            has = self._hasattr(a0, args[1])
            if has is not None:
                return has
        if name in ("hasattr", "getattr", "setattr", "type", "iter", "next", "callable"):
            if name == "getattr" and len(args) >= 2 and isinstance(args[1], str):
                v = self.getattr_(a0, args[1], node)
                if isinstance(v, Opaque) and len(args) == 3:
                    return args[2]
                return v
            if name == "setattr" and len(args) == 3 and isinstance(args[1], str):
                self.setattr_(a0, args[1], args[2], node, node)
                return None
            if name == "hasattr" and len(args) == 2 and isinstance(args[1], str) and (
                    a0 is None or type(a0) in (bool, int, float, str)):
                return hasattr(a0, args[1])  # a fact of Python's own types, nothing runs
            if name in ("getattr", "setattr", "hasattr") and len(args) >= 2 and not isinstance(
                    args[1], str):
                self.note(node, f"`{self.text(node)}`: the attribute name is not known "
                                "statically")
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
            if kwargs and name != "dict":
                return self._builtin_with_keywords(name, args, kwargs, node, scope)
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

    def _hasattr(self, obj: Any, attr: str) -> bool | None:
        """``hasattr(obj, "name")`` when it is known: a plain Python value (its type's real
        attributes), an instance of a class of the program (its attributes, its classes', then
        those of Keras's ``Layer``/``Model`` base from generated data); None otherwise."""
        if type(obj) in (str, int, float, bool, list, tuple, dict, set, frozenset, range,
                         type(None)):
            return hasattr(obj, attr)
        if not isinstance(obj, Instance):
            return None
        if attr in obj.attrs or obj.cls.lookup(attr) is not _MISSING:
            return True
        if obj.cls.lookup("__getattr__") is not _MISSING:
            return None
        bases: list[Any] = []
        todo, seen = [obj.cls], 0
        while todo and seen < 64:  # the class tree, bounded
            c = todo.pop()
            seen += 1
            for b in c.bases:
                if isinstance(b, UserClass):
                    todo.append(b)
                elif not (isinstance(b, Builtin) and b.name == "object"):
                    bases.append(b)
        if not bases:
            return False  # only classes of the program (and object): none defines it
        from bnlint.keras.signatures import base_has_attribute

        answers = set()
        for b in bases:
            last = b.path.rsplit(".", 1)[-1] if isinstance(b, KRef) else None
            kind = {"Layer": "Layer", "Model": "Model"}.get(last or "")
            if kind is None:
                return None  # another base class: its attributes are not known
            answers.add(base_has_attribute(kind, attr, self.version))
        if True in answers:
            return True
        return False if answers == {False} else None

    def _builtin_with_keywords(self, name: str, args: list[Any], kwargs: dict[str, Any],
                               node: Any, scope: Scope) -> Any:
        """``min``/``max``/``sorted`` with ``key=`` (called on each item, as Python does),
        ``default=``, ``reverse=``; ``enumerate(x, start=)``, ``sum(x, start=)``. Any other
        keyword, or an item or key not known, makes the result unknown."""
        allowed = {"min": {"key", "default"}, "max": {"key", "default"},
                   "sorted": {"key", "reverse"}, "enumerate": {"start"}, "sum": {"start"}}
        unknown = Opaque(self.text(node))
        if set(kwargs) - allowed.get(name, set()) or not args:
            return unknown
        if len(args) > 1 and (name not in ("min", "max") or "default" in kwargs):
            return unknown
        items = self.iterate(args[0]) if len(args) == 1 else list(args)
        if items is None or len(items) > MAX_LOOP:
            return unknown
        if name == "enumerate":
            start = kwargs["start"]
            if not isinstance(start, int):
                return unknown
            return list(enumerate(items, start))
        if name == "sum":
            vals = [*items, kwargs["start"]]
            if not all(_is_num(v) for v in vals):
                return unknown
            return sum(items, kwargs["start"])
        key = kwargs.get("key")
        if key is None:
            keys = list(items)
        else:
            keys = [self.call(key, [it], {}, node, scope) for it in items]
        if not all(_plain_data(k) for k in keys):
            return unknown
        order = list(range(len(items)))
        try:
            if name == "sorted":
                rev = kwargs.get("reverse", False)
                if not isinstance(rev, bool):
                    return unknown
                return [items[i] for i in sorted(order, key=keys.__getitem__, reverse=rev)]
            if not items:
                return kwargs["default"] if "default" in kwargs else unknown
            pick = min if name == "min" else max
            return items[pick(order, key=keys.__getitem__)]  # the first extreme item
        except TypeError:
            return unknown

    def _eval_name(self, args: list[Any], kwargs: dict[str, Any], node: Any,
                   scope: Scope) -> Any:
        """``eval("ReLU")`` / ``eval(activation)`` / ``eval("keras.layers.ReLU")``: the string
        names a value in scope (a dotted name), which is looked up as Python would; any other
        string is never evaluated (unknown, with a note)."""
        a0 = args[0] if args else None
        if len(args) == 1 and not kwargs and isinstance(a0, str) and _DOTTED.match(a0.strip()):
            head, *rest = a0.strip().split(".")
            v = self.lookup_name(head, scope)
            for attr in rest:
                if isinstance(v, Opaque):
                    break
                v = self.getattr_(v, attr, node)
            if not isinstance(v, Opaque):
                return v
            self.note(node, f"`{self.text(node)}`: the name `{a0.strip()}` is not known "
                            "statically")
            return Opaque(self.text(node))
        what = f"`{a0}`" if isinstance(a0, str) else "a string not known statically"
        self.note(node, f"`{self.text(node)}`: eval of {what} is not read (bnlint looks up a "
                        "name given to eval, it never evaluates an expression)")
        return Opaque(self.text(node))

    def _isinstance(self, v: Any, t: Any, text: str) -> Any:
        types = t if isinstance(t, tuple) else (t,)
        # builtin, user and Keras classes: True when one answer is True, False when every
        # answer is False, else unknown
        answers = [self._isinstance_one(v, x) for x in types]
        if any(a is True for a in answers):
            return True
        if answers and all(a is False for a in answers):
            return False
        return Opaque(text)

    def _isinstance_one(self, v: Any, t: Any) -> bool | None:
        """``isinstance(v, t)`` for one type: True / False / None (not known)."""
        if isinstance(t, Builtin):
            if t.name not in _PY_TYPES:
                return None
            if self.keras.is_tensor(v) or v is None or isinstance(v, tuple(_PY_TYPES.values())):
                return isinstance(v, _PY_TYPES[t.name])
            if isinstance(v, (UserFunc, UserClass, Partial, NTClass)) or (
                    isinstance(v, Instance) and _derives(v.cls, None, 0) is False):
                return False  # a function, a class, an instance of classes of the program
            return None
        if isinstance(t, UserClass):
            if isinstance(v, Instance):
                return _derives(v.cls, t, 0)
            if _plain_data(v) or isinstance(v, (UserFunc, UserClass)) or self.keras.is_tensor(v):
                return False
            return None
        if isinstance(t, KRef):
            return self.keras.isinstance_(v, t)
        return None

    def note_unresolved(self, why: str, node: Any) -> None:
        if why not in self.unresolved_noted:
            self.unresolved_noted.add(why)
            self.note(node, why)

    def call_pymod(self, name: str, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        import math

        where = self.unresolved.get(name.split(".")[0])
        if where is not None:
            # a class/function of a module bnlint did not find (a layer library not
            # installed): unknown, kept connected to the tensors it is given; the note when
            # it (or what it returns) is given tensors
            why = (f"`{name}` is not known: bnlint did not find its module ({where}; not in "
                   "the project, beside it, or installed)")
            if not self.keras.has_tensor(args, kwargs):
                return Unresolved(self.text(node), why)
            self.note_unresolved(why, node)
            return self.keras.unknown_call(args, kwargs, node)

        a0 = args[0] if args else None
        alias = _PY_BUILTIN_ALIASES.get(name)
        if alias is not None:  # six.moves.xrange, builtins.range...: the builtin itself
            return self.call_builtin(alias, args, kwargs, node, self.globals)
        if name in ("six.iteritems", "six.iterkeys", "six.itervalues") and isinstance(a0, dict):
            return list(getattr(a0, name[8:])())
        if name in ("os.getenv", "os.environ.get") and 1 <= len(args) <= 2 and not kwargs \
                and isinstance(a0, str):
            return self.env_get(a0, args[1] if len(args) == 2 else None, node)
        if name == "os.environ.setdefault" and len(args) == 2 and isinstance(a0, str) \
                and not self.environ_unknown:
            if a0 not in self.environ:
                self.env_unset_note(a0, node)
                self.environ[a0] = self.env_value(args[1], node)
            return self.environ[a0]
        if name == "functools.partial" and args:
            if isinstance(a0, Partial):  # Python flattens a partial of a partial
                return Partial(a0.func, (*a0.args, *args[1:]), {**a0.keywords, **kwargs})
            return Partial(a0, tuple(args[1:]), dict(kwargs))
        if name in ("collections.namedtuple", "typing.NamedTuple"):
            return self._namedtuple(name, args, kwargs, node)
        if name == "copy.copy" and len(args) == 1:
            if isinstance(a0, (list, dict, set)):
                return type(a0)(a0)  # a shallow copy: a new container of the same values
            if _plain_data(a0) or isinstance(a0, (tuple, UserFunc, UserClass, KRef, Builtin,
                                                  PyMod, UserModule)):
                return a0
        if name == "copy.deepcopy" and len(args) == 1:
            copied = _deepcopy_atoms(a0)
            if copied is not _MISSING:
                return copied
            self.note(node, f"`{self.text(node)}`: a deep copy of this value is not modelled")
            return Opaque(self.text(node))
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
                return ArrayValue((1,), [float(lo)])
            return ArrayValue((n,), [lo + (hi - lo) * i / (n - 1) for i in range(n)])
        items = a0.data if isinstance(a0, ArrayValue) and len(a0.shape) == 1 else (
            a0 if isinstance(a0, list) else None)
        if name in ("numpy.split", "numpy.array_split") and len(args) == 2 and not kwargs \
                and items is not None:
            pieces = _np_split(items, args[1], name == "numpy.array_split")
            if pieces is not None:
                return pieces
        array = _array_shape(name, args, kwargs)
        if array is not None:
            return ArrayValue(array)
        made = array_function(name, args, kwargs)
        if made is None and name in ("numpy.array", "numpy.asarray") and len(args) == 1 \
                and not kwargs:
            made = array_of(a0)
        if made is None and name == "numpy.concatenate":
            made = array_concatenate(args, kwargs)
        if made is None and name == "numpy.random.choice" and len(args) == 1 and not kwargs \
                and (isinstance(a0, range) or (isinstance(a0, int) and not isinstance(a0, bool))):
            return Sym.atom(self.text(node))  # one integer, not known statically
        if made is not None:
            return made
        if name in ("numpy.array", "numpy.asarray") and args and set(kwargs) <= {"dtype"}:
            shape = _literal_shape(a0)
            if shape is not None:
                return ArrayValue(shape)
        if name in ("numpy.prod", "np.prod") and isinstance(a0, (list, tuple)):
            from bnlint.symbolic import product

            vals = [_as_int_like(x) for x in a0]
            if all(v is not None for v in vals):
                return product(vals)  # type: ignore[arg-type]
        return Opaque(self.text(node))

    # ---- the process environment
    def env_get(self, var: str, default: Any, node: Any) -> Any:
        """``os.getenv(VAR, default)`` / ``os.environ.get(VAR, default)``: the value the program
        set, else ``default``: bnlint reads a program as run in a clean environment (as it
        assumes Keras's default configuration), and says so."""
        if var in self.environ:
            return self.environ[var]
        if self.environ_unknown:
            return self.env_item(None, node)
        self.env_unset_note(var, node)
        return default

    def env_value(self, value: Any, node: Any) -> Any:
        """A value stored in ``os.environ``: a str (Python raises TypeError for another)."""
        if isinstance(value, str):
            return value
        if not isinstance(value, (Opaque, Sym)):
            self.note(node, f"`{self.text(node)}`: os.environ values must be str (Python "
                            "raises TypeError)")
        return Opaque(self.text(node))

    def env_unset_note(self, var: str, node: Any) -> None:
        self.note(node, f"`{self.text(node)}`: environment variable `{var}` assumed unset "
                        "(a clean environment)")

    def env_item(self, var: Any, node: Any) -> Any:
        """``os.environ[VAR]``: the value the program set; Python raises KeyError for a
        variable that is not set, so the program expects it set: unknown."""
        if isinstance(var, str) and var in self.environ:
            return self.environ[var]
        self.note(node, f"`{self.text(node)}`: environment variable "
                        f"{'`' + var + '`' if isinstance(var, str) else ''} "
                        "is not known statically".replace("  ", " "))
        return Opaque(self.text(node))

    def env_contains(self, var: Any, node: Any) -> Any:
        """``VAR in os.environ``: True once the program set it, else assumed unset."""
        if not isinstance(var, str) or (self.environ_unknown and var not in self.environ):
            return None
        if var not in self.environ:
            self.env_unset_note(var, node)
        return var in self.environ

    def _namedtuple(self, name: str, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        """``collections.namedtuple(typename, field_names, defaults=...)`` and the functional
        ``typing.NamedTuple(typename, [(field, type), ...])``."""
        typename = args[0] if args else kwargs.get("typename")
        fields: Any = args[1] if len(args) > 1 else kwargs.get(
            "field_names" if name.startswith("collections") else "fields")
        if isinstance(fields, str):
            fields = fields.replace(",", " ").split()
        if name == "typing.NamedTuple" and isinstance(fields, (list, tuple)):
            fields = [f[0] if isinstance(f, tuple) and len(f) == 2 else None for f in fields]
        defaults = kwargs.get("defaults") or ()
        if not isinstance(typename, str) or not isinstance(fields, (list, tuple)) or not all(
                isinstance(f, str) and f.isidentifier() for f in fields) or not isinstance(
                defaults, (list, tuple)) or len(defaults) > len(fields):
            self.note(node, f"`{self.text(node)}`: the namedtuple's fields are not known "
                            "statically")
            return Opaque(self.text(node))
        fields = tuple(fields)
        return NTClass(typename, fields, dict(zip(fields[len(fields) - len(defaults):],
                                                  defaults, strict=True)))

    # ---- methods on native values
    def call_method(self, obj: Any, name: str, args: list[Any], kwargs: dict[str, Any],
                    node: Any) -> Any:
        v = self.keras.method(obj, name, args, kwargs, node)
        if v is not _MISSING:
            return v
        if isinstance(obj, NTuple) and obj.cls is not None:
            if name == "_replace" and not args:
                if any(k not in obj.cls.fields for k in kwargs):
                    self.note(node, f"`{self.text(node)}`: `{obj.cls.name}` has no such field")
                    return Opaque(self.text(node))
                return NTuple([kwargs.get(f, x) for f, x in zip(obj.cls.fields, obj,
                                                                 strict=True)], obj.cls)
            if name == "_asdict" and not args and not kwargs:
                return dict(zip(obj.cls.fields, obj, strict=True))
        if isinstance(obj, NTClass) and name == "_make" and len(args) == 1:
            items = self.iterate(args[0])
            made = obj.make(items, {}) if items is not None else None
            return made if made is not None else Opaque(self.text(node))
        if isinstance(obj, tuple) and name == "as_list" and not args:
            return list(obj)
        if isinstance(obj, ArrayValue):
            r = array_method(obj, name, args, kwargs)
            return r if r is not None else Opaque(self.text(node))
        if isinstance(obj, str) and name in _STR_METHODS:
            if any(not _plain_data(a) for a in [*args, *kwargs.values()]):
                return Opaque(self.text(node))
            try:
                return getattr(obj, name)(*[_display(a) for a in args],
                                          **{k: _display(v) for k, v in kwargs.items()})
            except (TypeError, ValueError, KeyError, IndexError):
                return Opaque(self.text(node))
        if isinstance(obj, Instance) and name == "__setattr__" and len(args) == 2 and \
                isinstance(args[0], str) and not kwargs:
            self.setattr_(obj, args[0], args[1], node, node)
            return None
        if isinstance(obj, list):
            if name == "append" and len(args) == 1:
                if len(obj) < MAX_SEQ:
                    obj.append(args[0])
                    self.keras.container_added(obj, [args[0]])
                return None
            if name == "extend" and len(args) == 1:
                it = self.iterate(args[0])
                if it is not None:
                    obj.extend(it)
                    self.keras.container_added(obj, list(it))
                return None
            if name == "insert" and len(args) == 2 and isinstance(args[0], int):
                obj.insert(args[0], args[1])
                self.keras.container_added(obj, [args[1]])
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
                    self.keras.container_added(obj, list(args[0].values()))
                obj.update(kwargs)
                self.keras.container_added(obj, list(kwargs.values()))
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


def _np_split(items: list[Any], how: Any, uneven: bool) -> list[ArrayValue] | None:
    """``np.split(a, 3)`` (equal sections; ``np.array_split`` allows unequal ones) and
    ``np.split(a, [2, 5])`` (cut indices) of a 1-D array of known values; None when the
    arguments are not known or numpy would raise."""
    n = len(items)
    if isinstance(how, bool):
        return None
    if isinstance(how, int):
        if how <= 0 or (not uneven and n % how):
            return None
        q, r = divmod(n, how)
        cuts, at = [], 0
        for i in range(how - 1):
            at += q + (1 if i < r else 0)
            cuts.append(at)
    elif isinstance(how, (list, tuple)) and all(
            isinstance(c, int) and not isinstance(c, bool) for c in how):
        cuts = list(how)
    else:
        return None
    bounds = [0, *cuts, None]  # numpy cuts as Python slices do (negative, past the end)
    pieces = [items[bounds[i]:bounds[i + 1]] for i in range(len(bounds) - 1)]
    return [ArrayValue((len(p),), list(p)) for p in pieces]


_ARRAY_SHAPE_FIRST = {"numpy.ones", "numpy.zeros", "numpy.empty", "numpy.full",
                      "numpy.random.random", "numpy.random.random_sample",
                      "numpy.random.standard_normal"}
_ARRAY_DIMS = {"numpy.random.rand", "numpy.random.randn"}
_ARRAY_SIZE_KW = {"numpy.random.uniform", "numpy.random.normal", "numpy.random.randint",
                  "numpy.random.random", "numpy.random.random_sample",
                  "numpy.random.standard_normal"}


def _literal_shape(v: Any, depth: int = 0) -> tuple | None:
    """The shape of ``np.array(v)`` for rectangular nested lists / tuples of Python numbers;
    None for anything else (ragged, strings, unknown values)."""
    if isinstance(v, ArrayValue):
        return v.shape
    if depth > 32:
        return None
    if isinstance(v, (list, tuple)):
        if not v or len(v) > MAX_SEQ:
            return None
        subs = {_literal_shape(x, depth + 1) for x in v}
        if len(subs) != 1 or None in subs:
            return None
        return (len(v), *subs.pop())  # type: ignore[misc]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return ()


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
