"""Targets: ``FILE.py::function`` and ``FILE.py::Class.method``, the model-building functions
listing.
"""

from __future__ import annotations

import re
from typing import Any

from bnlint.readers.source.facts import FunctionInfo, SourceError
from bnlint.readers.source.interpreter import Interpreter
from bnlint.readers.source.values import UserClass, UserFunc, _Budget


def _target(interp: Interpreter, function: str, source: str) -> tuple[Any, list[Any]]:
    """What ``FILE.py::NAME`` / ``FILE.py::Class.method`` calls, and the leading arguments it
    is called with (the class for a classmethod; for a plain method, an instance made with the
    class's ``__init__`` defaults). ``NAME`` is a top-level function, a class (a subclassed
    model called with the arguments), or a name bound by assignment to a function or class
    (``build = make_builder(4)``, ``Net = partial(ResNet, depth=50)``)."""
    cls_name, dot, meth_name = function.partition(".")
    if not dot:
        fn = interp.globals.vars.get(function)
        if isinstance(fn, (UserFunc, UserClass)) or (fn is not None and _callable(interp, fn)):
            return fn, []
        what = "function or class" if fn is None else (
            f"function or class (`{function}` is bound to a value bnlint does not know as "
            "callable)")
        raise SourceError(f"line 0: no top-level {what} `{function}` in {source}")
    cls = interp.globals.vars.get(cls_name)
    if not isinstance(cls, UserClass):
        raise SourceError(f"line 0: no top-level class `{cls_name}` in {source}")
    fn = cls.lookup(meth_name)
    if not isinstance(fn, UserFunc) or "." in meth_name:
        raise SourceError(f"line 0: class `{cls_name}` has no method `{meth_name}` in {source}")
    if fn.kind == "staticmethod":
        return fn, []
    if fn.kind == "classmethod":
        return fn, [cls]
    init = cls.lookup("__init__")
    if isinstance(init, UserFunc):
        p = init.node.params
        required = [prm.name.value for prm in [*p.posonly_params, *p.params, *p.kwonly_params][1:]
                    if prm.default is None]
        if required:
            raise SourceError(
                f"line 0: `{function}` is a plain method: bnlint calls it on `{cls_name}()` made "
                f"with the defaults of `__init__`, but `__init__` has no default for "
                f"{', '.join(f'`{r}`' for r in required)}")
    try:
        inst = interp.keras.instantiate(cls, [], {}, cls.node)
    except _Budget as exc:
        raise SourceError(f"line 0: `{cls_name}()`: {exc}") from None
    return fn, [inst]


def _callable(interp: Interpreter, v: Any) -> bool:
    return interp.call_builtin("callable", [v], {}, None, interp.globals) is True


def _model_functions(interp: Interpreter) -> list[FunctionInfo]:
    """Top-level functions, and methods of top-level classes (``Class.method``), whose code
    looks like it returns a model."""
    out = []
    for name, v in interp.globals.vars.items():
        if isinstance(v, UserFunc) and not v.is_lambda and v.closure is interp.globals:
            _add_function(interp, out, name, v, 0)
        elif isinstance(v, UserClass) and v.closure is interp.globals and v.keras_base() is None:
            # Methods of Keras Model/Layer subclasses are Keras hooks (call, build), not builders.
            for mname, fn in v.ns.items():
                if isinstance(fn, UserFunc) and not mname.startswith("__"):
                    _add_function(interp, out, f"{name}.{mname}", fn,
                                  0 if fn.kind == "staticmethod" else 1)
    return out


def _add_function(interp: Interpreter, out: list[FunctionInfo], name: str, fn: UserFunc,
                  skip: int) -> None:
    """List ``fn`` when its code looks like it returns a model; ``skip`` drops self/cls."""
    body = interp.text(fn.node)
    if "return" not in body or not re.search(r"\b(Sequential|Model|Functional)\b|\bkeras\b",
                                             body):
        return
    p = fn.node.params
    params = [(prm.name.value, interp.text(prm.default) if prm.default is not None else None)
              for prm in [*p.posonly_params, *p.params, *p.kwonly_params][skip:]]
    line, _, _ = interp.pos(fn.node)
    out.append(FunctionInfo.model_construct(name=name, parameters=params, line=line))
