"""Snippets: code that uses Keras names (``Sequential``, ``Dense``, ``Conv2D``...) without
importing or defining them, as a question, a tutorial or a notebook excerpt does.

Those names are read as Keras's own (``keras.Sequential``, ``keras.layers.Dense``...), with
a note, only when the file binds them nowhere: no import, assignment, ``def``, ``class``,
parameter or star import. A cheap text test (:data:`SNIPPET_CALL`) comes first, so files
that call none of those names unqualified pay nothing.
"""

from __future__ import annotations

import ast
import builtins

from bnlint.snippet_gate import SNIPPET_CALL

_TOP = {"Sequential": "keras.Sequential", "Model": "keras.Model", "Input": "keras.Input"}
_OPTIMIZERS = {"Adam", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "AdamW"}
_UTILS = {"to_categorical": "keras.utils.to_categorical"}


def _keras_path(name: str) -> str | None:
    from bnlint.keras.signatures import resolve_class

    if name in _TOP:
        return _TOP[name]
    if name in _OPTIMIZERS:
        return f"keras.optimizers.{name}"
    if name in _UTILS:
        return _UTILS[name]
    if resolve_class(f"keras.layers.{name}", 3) is not None or \
            resolve_class(f"tf_keras.layers.{name}", 2) is not None:
        return f"keras.layers.{name}"
    return None


def snippet_names(text: str) -> dict[str, str]:
    """Keras names the text uses but never binds -> the Keras path they are read as (empty
    when the text is no snippet)."""
    if SNIPPET_CALL.search(text) is None:
        return {}
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    defined: set[str] = set()
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    return {}  # a star import may define any of them
                defined.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            defined.add(node.name)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            defined.update(node.names)
    out: dict[str, str] = {}
    for name in sorted(used - defined):
        if hasattr(builtins, name):
            continue
        path = _keras_path(name)
        if path is not None:
            out[name] = path
    if not any(SNIPPET_CALL.search(f"{n}(") for n in out):
        return {}  # only weak names (Model, Input, Adam...): no evidence of a snippet
    return out


def snippet_note(names: dict[str, str]) -> str:
    shown = ", ".join(f"`{n}`" for n in names)
    paths = ", ".join(f"`{p}`" for p in names.values())
    return (f"snippet: {shown} used without being imported or defined; read as Keras "
            f"({paths})")
