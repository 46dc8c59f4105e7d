"""The Keras world: the Keras half of the interpreter (layers, models, subclasses, tensors)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bnlint import graph
from bnlint.readers.source.keras_layers import Layers
from bnlint.readers.source.keras_models import Models
from bnlint.readers.source.keras_subclass import Subclassed
from bnlint.readers.source.keras_tensors import Tensors
from bnlint.readers.source.values import SeqState

if TYPE_CHECKING:
    from bnlint.readers.source.interpreter import Interpreter


class KerasWorld(Layers, Models, Subclassed, Tensors):
    def __init__(self, py: Interpreter):
        from bnlint.keras.naming import NameCounters

        self.py = py
        self.counters = NameCounters(py.version)
        self.models: list[Any] = []  # every KModel / model Instance created, in order
        self.seq: dict[int, SeqState] = {}
        self.input_arg: dict[int, tuple | None] = {}
        self.graph_cache: dict[int, tuple[int, graph.Model]] = {}
        self.graph_depth = 0  # > 0 inside a tf_keras symbolic call (graph_scope)
