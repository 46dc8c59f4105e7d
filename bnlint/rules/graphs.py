"""Small questions about the typed graph that several rules ask."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from bnlint.memo import IdentityCache

if TYPE_CHECKING:
    from bnlint import graph


BN_CLASSES = {"BatchNormalization", "SyncBatchNormalization"}
DROPOUT_CLASSES = {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                   "AlphaDropout", "GaussianDropout"}
# Layers that leave the values unchanged at inference (shape changes are fine).
INFERENCE_IDENTITY = DROPOUT_CLASSES | {"GaussianNoise", "ActivityRegularization", "Flatten",
                                        "Reshape", "Identity"}
RECURRENT_CLASSES = {"LSTM", "GRU", "SimpleRNN", "RNN"}
LINEAR_ACTIVATIONS = {None, "linear"}


_CACHES: dict[str, IdentityCache[Any]] = {}


def _cached(kind: str, model: graph.Model, make: Any) -> Any:
    return _CACHES.setdefault(kind, IdentityCache(256)).get(model, make)


def layers_by_name(model: graph.Model) -> dict[str, graph.Layer]:
    return _cached("by_name", model, lambda m: {la.name: la for la in m.layers})


def walk_models(model: graph.Model) -> Iterator[graph.Model]:
    """The model and every nested model (depth first)."""
    yield model
    for la in model.layers:
        if la.model is not None:
            yield from walk_models(la.model)


def all_layers(model: graph.Model) -> Iterator[tuple[graph.Model, graph.Layer]]:
    for m in walk_models(model):
        for la in m.layers:
            yield m, la


def is_bn(layer: graph.Layer) -> bool:
    return layer.class_name in BN_CLASSES


def contains_bn(model: graph.Model) -> bool:
    return any(is_bn(la) for _, la in all_layers(model))


def bn_layers(model: graph.Model) -> list[graph.Layer]:
    return [la for _, la in all_layers(model) if is_bn(la)]


def bn_in(models: Iterable[graph.Model]) -> Iterator[tuple[graph.Model, graph.Layer]]:
    """Every BatchNormalization layer of these models and their nested models, with the
    model whose graph holds it."""
    for top in models:
        for model, la in all_layers(top):
            if is_bn(la):
                yield model, la


def inbound(model: graph.Model, layer: graph.Layer) -> list[graph.Layer] | None:
    """Layers feeding ``layer`` (first call); None when not known."""
    if not layer.nodes:
        return None
    by_name = layers_by_name(model)
    out = []
    for ref in layer.nodes[0].inputs:
        src = by_name.get(ref.layer)
        if src is None:
            return None
        out.append(src)
    return out


def single_inbound(model: graph.Model, layer: graph.Layer) -> graph.Layer | None:
    src = inbound(model, layer)
    return src[0] if src is not None and len(src) == 1 else None


def consumers(model: graph.Model) -> dict[str, list[graph.Layer]]:
    """Layer name -> layers that take one of its outputs (any call)."""
    return _cached("consumers", model, _consumers)


def _consumers(model: graph.Model) -> dict[str, list[graph.Layer]]:
    out: dict[str, list[graph.Layer]] = {}
    for la in model.layers:
        for node in la.nodes:
            for ref in node.inputs:
                out.setdefault(ref.layer, []).append(la)
    return out


def output_layers(model: graph.Model) -> list[graph.Layer] | None:
    by_name = layers_by_name(model)
    out = []
    for ref in model.outputs:
        la = by_name.get(ref.layer)
        if la is None:
            return None
        out.append(la)
    return out or None


def activation(layer: graph.Layer) -> Any:
    """The activation a layer applies, as a lower-case name; "linear" for none.

    Returns ``False`` when bnlint does not know (custom callables, unknown layers).
    """
    cls = layer.class_name
    if cls == "Softmax":
        return "softmax"
    if cls in ("ReLU", "LeakyReLU", "PReLU", "ELU"):
        return cls.lower()
    if cls == "Activation":
        act = layer.config.get("activation")
    elif "activation" in layer.config:
        act = layer.config.get("activation")
    elif cls in ("Dense", "Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D",
                 "DepthwiseConv1D", "DepthwiseConv2D", "Conv1DTranspose", "Conv2DTranspose",
                 "Conv3DTranspose", "EinsumDense"):
        return "linear"
    else:
        return False
    if act is None:
        return "linear"
    if isinstance(act, str) and act.startswith("<not known"):  # a value the reader could not know
        return False
    if isinstance(act, str):
        name = act.rsplit(".", 1)[-1].lower()
        return name
    if isinstance(act, dict):  # Keras 3 serialized function {"class_name": "function", ...}
        inner = act.get("config")
        if isinstance(inner, str):
            return inner.lower()
    return False


def through_identity(model: graph.Model, layer: graph.Layer) -> graph.Layer:
    """Walk back from ``layer`` through layers that change nothing at inference."""
    seen = set()
    cur = layer
    while cur.class_name in INFERENCE_IDENTITY or (
            cur.class_name == "Activation" and activation(cur) == "linear"):
        if cur.name in seen:
            break
        seen.add(cur.name)
        src = single_inbound(model, cur)
        if src is None:
            break
        cur = src
    return cur


def units(layer: graph.Layer) -> int | None:
    """The last dimension of the layer's (single) output, when an int."""
    shape = layer.output_shape
    if shape:
        last = shape[-1]
        if isinstance(last, int) and not isinstance(last, bool):
            return last
    u = layer.config.get("units")
    if isinstance(u, int) and not isinstance(u, bool):
        return u
    return None


def effective_trainable(model: graph.Model, layer: graph.Layer, parents_trainable: bool = True,
                        ) -> bool:
    return parents_trainable and model.trainable and layer.trainable


def trainable_bn(model: graph.Model) -> list[graph.Layer]:
    """BN layers that train (not frozen themselves nor inside a frozen model)."""
    out: list[graph.Layer] = []

    def visit(m: graph.Model, ok: bool) -> None:
        ok = ok and m.trainable
        for la in m.layers:
            if la.model is not None:
                visit(la.model, ok and la.trainable)
            elif is_bn(la) and ok and la.trainable:
                out.append(la)

    visit(model, True)
    return out


def config_value(layer: graph.Layer, key: str, default: Any) -> Any:
    return layer.config.get(key, default)


def model_named(models: list[graph.Model], name: str | None, variable: str | None = None,
                ) -> graph.Model | None:
    """The model a program fact is about: its Keras name, disambiguated by the variable."""
    if name is None:
        return None
    cands = [m for top in models for m in walk_models(top) if m.name == name]
    if variable is not None:
        bound = [m for m in cands if m.variable == variable]
        if len(bound) == 1:
            return bound[0]
    if len({id(m) for m in cands}) == 1:
        return cands[0]
    return None


def single_output(model: graph.Model) -> tuple[graph.Layer, Any, int | None] | None:
    """The single output layer (through inference-identity layers), its activation and its
    units; None when the model has several outputs or they are unknown."""
    outs = output_layers(model)
    if outs is None or len(outs) != 1:
        return None
    last = through_identity(model, outs[0])
    if last.unknown:
        return None
    act = activation(last)
    if act is False:
        return None
    return last, act, units(last)
