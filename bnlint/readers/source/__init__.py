"""Read Keras model-building Python source statically: a small abstract interpreter.

The user's code is parsed with libcst and *interpreted* over abstract values —
never imported, executed or passed to ``eval``.  Values are plain Python data
(numbers, strings, tuples, lists, dicts), :class:`~bnlint.symbolic.Sym` for
integers that cannot be known (named after their source text), :class:`Opaque`
for anything else unknown, references into Keras (:class:`KRef`), the abstract
Keras objects of :mod:`bnlint.keras.builder`, and user functions/classes whose
bodies are interpreted with bound arguments.  Every loop, recursion and the
total number of steps is bounded; hitting a bound leaves a note and a partial
result.

The package: ``values`` (abstract values, scopes), ``facts`` (what a reading produces),
``parse`` (parsing and per-node caches), ``interpreter`` + ``py_*`` (the Python evaluator),
``imports`` (imports and user modules), ``keras_world`` + ``keras_*`` (Keras semantics, reached
from the evaluator through ``Interpreter.keras``), ``targets`` (``FILE.py::function``) and
``reader`` (the entry points re-exported here).
"""

from __future__ import annotations

from bnlint.readers.source.facts import (
    CallFact,
    FunctionInfo,
    ProgramFacts,
    Reference,
    SourceError,
    SourceResult,
    TrainableFact,
)
from bnlint.readers.source.imports import _keras_apps_dir
from bnlint.readers.source.reader import (
    MAX_ALTERNATIVES,
    detect_version,
    mentions_keras,
    read_notebook,
    read_source,
    read_text,
)

__all__ = [
    "MAX_ALTERNATIVES",
    "CallFact",
    "FunctionInfo",
    "ProgramFacts",
    "Reference",
    "SourceError",
    "SourceResult",
    "TrainableFact",
    "_keras_apps_dir",
    "detect_version",
    "mentions_keras",
    "read_notebook",
    "read_source",
    "read_text",
]
