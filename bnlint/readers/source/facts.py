"""What reading a program produces: references, call and trainable facts, model-building functions,
the result record.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bnlint import graph

# --------------------------------------------------------------------------- results


class SourceError(Exception):
    """The source cannot be read (message: one line, ``line N: message``)."""


class Reference(graph.Record):
    """A ``layers[i]`` / ``get_layer`` / ``get_weights()[k]`` expression and what it denotes."""

    line: int
    column: int | None = None
    cell: int | None = None
    text: str
    kind: str  # "layer" | "weight"
    model: str | None = None  # model name
    layer: str | None = None
    weight: str | None = None
    shape: str | None = None
    description: str  # e.g. "batch_normalization_1.moving_mean (256,)"


class CallFact(graph.Record):
    """A call on a model: compile/fit/predict/evaluate/load_weights/__call__..."""

    variable: str  # receiver as written, e.g. "modelbatch"
    model: str | None  # the model's Keras name
    method: str
    line: int
    cell: int | None = None
    kwargs: dict[str, Any] = Field(default_factory=dict)
    training: Any = None  # value of training= when given


class TrainableFact(graph.Record):
    target: str  # expression as written
    resolved: str | None  # layer/model name
    is_model: bool = False
    value: Any
    line: int
    cell: int | None = None


class ProgramFacts(graph.Record):
    calls: list[CallFact] = Field(default_factory=list)
    trainable: list[TrainableFact] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)


class FunctionInfo(graph.Record):
    name: str
    parameters: list[tuple[str, str | None]]  # (name, default as text or None)
    line: int


class UncalledReading(graph.Record):
    """Models built by code the file never runs at import time (``check`` only): a function
    never called, a model subclass never instantiated, a top-level call whose models no global
    holds; ``origin`` says which, for the findings' messages."""

    origin: str  # e.g. "in `build_model(...)`, never called in this file, read with unknown..."
    line: int
    models: list[graph.Model] = Field(default_factory=list)
    facts: ProgramFacts = Field(default_factory=ProgramFacts.model_construct)
    notes: list[str] = Field(default_factory=list)


class SourceResult(graph.Record):
    models: list[graph.Model] = Field(default_factory=list)
    functions: list[FunctionInfo] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    facts: ProgramFacts = Field(default_factory=ProgramFacts.model_construct)
    notes: list[str] = Field(default_factory=list)
    keras_version: int = 3
    uncalled: list[UncalledReading] = Field(default_factory=list)  # check only
