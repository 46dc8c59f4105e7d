"""The typed graph: the one contract between readers and consumers.

Readers (saved models, source code) produce :class:`Model` objects; the
summarizer, the rules and the exporters only read them.  Every number here is
either exact (``int``) or symbolic (:class:`~bnlint.symbolic.Sym`, serialised as
its expression text); a layer bnlint cannot model says so in ``unknown``.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, computed_field

from bnlint.symbolic import Size, Sym, fmt_size, product, total


def _ser_size(v: Any) -> Any:
    return str(v) if isinstance(v, Sym) else v


# A dimension: an int, None (the batch axis, or a size Keras itself leaves open),
# or a symbolic size such as ``num_classes``.
Dim = Annotated[int | Sym | None, PlainSerializer(_ser_size)]
Count = Annotated[int | Sym, PlainSerializer(_ser_size)]
Shape = tuple[Dim, ...]
T = TypeVar("T")


def model_weights(own: list[T], from_layers: list[T], keras_version: int) -> list[T]:
    """``model.weights`` of a model with variables of its own: Keras 3 lists them before its
    layers' weights (``Layer.weights``), tf-keras after them (``Model._undeduplicated_weights``)."""
    return [*own, *from_layers] if keras_version == 3 else [*from_layers, *own]


def fmt_shape(shape: Shape | None) -> str:
    if shape is None:
        return "?"
    if len(shape) == 1:
        return f"({fmt_size(shape[0])},)"
    return "(" + ", ".join(fmt_size(d) for d in shape) + ")"


def layer_notes(model: Model) -> list[str]:
    """The notes of a model's layers, each naming the layer (and its line when known)."""
    out = []
    for i, layer in enumerate(model.layers):
        if not layer.notes:
            continue
        loc = layer.location
        where = f" (line {loc.line})" if loc is not None and loc.line is not None else ""
        if loc is not None and loc.cell is not None:
            where = f" (cell {loc.cell}, line {loc.line})"
        out.extend(f"layers[{i}] {layer.name}{where}: {n}" for n in layer.notes)
    return out


def shape_size(shape: Shape) -> Size:
    """Number of elements; weight shapes never hold ``None``."""
    return product(d if d is not None else Sym.atom("None") for d in shape)


class Record(BaseModel):
    """Base of every pydantic record bnlint produces (the graph, the source reader's facts).

    defer_build: the readers build records with ``model_construct()``, so a validation schema
    is only built when something validates (tests, external users) — not on the hot path."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=False, defer_build=True)


class Location(Record):
    """Where something was written: a source position or a config path."""

    file: str
    line: int | None = None
    column: int | None = None
    cell: int | None = None  # notebook cell number (1-based) when reading .ipynb
    config_path: str | None = None  # e.g. "config.layers[3]" for saved models

    def __str__(self) -> str:
        if self.cell is not None:
            return f"{self.file}:cell {self.cell}:{self.line}"
        if self.line is not None:
            return f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")
        if self.config_path:
            return f"{self.file}:{self.config_path}"
        return self.file


class Weight(Record):
    """One array of ``layer.weights`` / ``get_weights()``."""

    name: str  # "kernel", "gamma", "moving_variance", ...
    path: str  # Keras-3 style variable path, e.g. "batch_normalization/gamma"
    shape: Shape
    trainable: bool  # effective: False when the layer (or an enclosing model) is frozen
    dtype: str = "float32"
    index: int | None = None  # position in the enclosing top-level model.get_weights()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def size(self) -> Count:
        return shape_size(self.shape)


class TensorRef(Record):
    """A tensor in a functional graph, as Keras serialises ``keras_history``."""

    layer: str
    node_index: int = 0
    tensor_index: int = 0


class CallNode(Record):
    """One call of a layer inside its model (shared layers have several)."""

    inputs: list[TensorRef] = Field(default_factory=list)
    input_shapes: list[Shape] = Field(default_factory=list)
    output_shapes: list[Shape] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)


class Layer(Record):
    name: str
    class_name: str
    config: dict[str, Any] = Field(default_factory=dict)  # values bnlint understood
    trainable: bool = True
    nodes: list[CallNode] = Field(default_factory=list)
    weights: list[Weight] = Field(default_factory=list)  # in layer.weights order
    built: bool = True
    unknown: str | None = None  # why bnlint cannot model this layer (None when it can)
    model: Model | None = None  # a nested model used as a layer
    location: Location | None = None
    notes: list[str] = Field(default_factory=list)

    @property
    def output_shapes(self) -> list[Shape]:
        return self.nodes[0].output_shapes if self.nodes else []

    @property
    def output_shape(self) -> Shape | None:
        shapes = self.output_shapes
        return shapes[0] if len(shapes) == 1 else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def params(self) -> Count | None:
        """``count_params()``; 0 for a layer that was never built (it has no variables, and
        Keras's summary shows it as 0); None when bnlint cannot model the layer."""
        if self.unknown is not None:
            return None
        return total(w.size for w in self.weights) if self.built else 0


class Model(Record):
    name: str
    class_name: str  # "Sequential", "Functional", or a subclass name
    variable: str | None = None  # Python name bound to the model, where known
    keras_version: int = 3
    trainable: bool = True
    layers: list[Layer] = Field(default_factory=list)  # model.layers order
    # The model's own variables (``self.add_weight`` on a Model subclass): its trainable ones
    # in creation order, then its non-trainable ones; see :func:`model_weights` for where
    # they stand in ``get_weights()``.
    weights: list[Weight] = Field(default_factory=list)
    inputs: list[TensorRef] = Field(default_factory=list)
    outputs: list[TensorRef] = Field(default_factory=list)
    input_shapes: list[Shape] = Field(default_factory=list)
    output_shapes: list[Shape] = Field(default_factory=list)
    built: bool = True
    location: Location | None = None
    source: str | None = None  # file the model was read from
    notes: list[str] = Field(default_factory=list)
    # Why the model as a whole cannot be counted: it may miss layers (a loop adding to it that
    # bnlint could not finish), or an operation of its graph (not a layer) is not modelled or
    # refused by Keras. Its totals are then unknown, whatever its known layers say.
    unknown: str | None = None

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def all_weights(self) -> list[Weight]:
        """``model.weights`` in order (nested models flattened in place)."""
        from_layers: list[Weight] = []
        for layer in self.layers:
            from_layers.extend(layer.weights)
        return model_weights(self.weights, from_layers, self.keras_version)

    @property
    def unknown_layers(self) -> list[Layer]:
        out = []
        for layer in self.layers:
            if layer.unknown is not None:
                out.append(layer)
            if layer.model is not None:
                if layer.model.unknown is not None and layer.unknown is None:
                    out.append(layer)
                out.extend(layer.model.unknown_layers)
        return out

    @property
    def count_unknown_reason(self) -> str | None:
        """Why the totals cannot be given, or None when they can."""
        if self.unknown is not None:
            return self.unknown
        if self.unknown_layers:
            return "see the layers marked unknown"
        if not self.built and self.keras_version == 2:
            return "the model is not built; tf-keras's summary() refuses it until it is"
        return None

    def _count(self, trainable: bool | None) -> Count | None:
        # Keras counts the variables that exist: an unbuilt layer adds 0 (Keras 3 prints
        # "0 (unbuilt)" and totals of 0 for an unbuilt model; tf-keras "0 (unused)").
        if self.count_unknown_reason is not None:
            return None
        ws = self.all_weights()
        return total(w.size for w in ws if trainable is None or w.trainable == trainable)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_params(self) -> Count | None:
        return self._count(None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def trainable_params(self) -> Count | None:
        return self._count(True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def non_trainable_params(self) -> Count | None:
        return self._count(False)


def outermost_models(models: list[Model]) -> list[Model]:
    """The models that are not nested as a layer inside another one of ``models``."""
    nested: set[int] = set()
    stack = [layer for m in models for layer in m.layers]
    seen = 0
    while stack and seen < 1_000_000:
        seen += 1
        layer = stack.pop()
        if layer.model is not None:
            nested.add(id(layer.model))
            nested.update(id(m) for m in models if m.name == layer.model.name)
            stack.extend(layer.model.layers)
    return [m for m in models if id(m) not in nested]
