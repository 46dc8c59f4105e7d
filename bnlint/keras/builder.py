"""Build Keras models abstractly, the way Keras does, without Keras.

Both readers drive this module: the saved-model reader replays a config
(``from_config``), the source interpreter replays the program.  Layers,
calls (nodes) and tensors mirror Keras's own objects closely enough that the
orderings Keras derives from them — ``model.layers`` by graph depth,
``get_weights()`` per layer — come out the same.  :func:`to_graph` turns the
result into the typed graph of :mod:`bnlint.graph`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bnlint import graph
from bnlint.keras.catalogue import (
    Built,
    Shape,
    Unknown,
    WeightSpec,
    build_layer,
    ordered_weights,
)
from bnlint.keras.naming import NameCounters
from bnlint.keras.validation import rejected

# Dims never exceed this in a model bnlint will allocate nothing for, but a
# graph walk over a hostile config must still end: every loop below is bounded
# by the number of nodes it was given.


@dataclass(eq=False)
class KTensor:
    shape: Shape | None  # None: unknown (an upstream layer could not be modelled)
    node: KNode
    index: int
    dtype: str = "float32"


@dataclass(eq=False)
class KNode:
    layer: KLayer
    inputs: list[KTensor]
    outputs: list[KTensor] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    is_input: bool = False
    list_input: bool = False
    first_count: int | None = None

    @property
    def index(self) -> int:
        return self.layer.nodes.index(self)


@dataclass(eq=False)
class KLayer:
    name: str
    class_name: str
    config: dict[str, Any]
    version: int
    trainable: bool = True
    location: graph.Location | None = None
    nodes: list[KNode] = field(default_factory=list)
    built: Built | None = None
    unknown: str | None = None
    notes: list[str] = field(default_factory=list)
    # A Keras 3 operation that is not a Layer (``x + y`` on KerasTensors): part of
    # the graph, absent from ``model.layers`` and the summary.
    is_op: bool = False
    # A user-defined layer (source reader): ``custom(layer, shapes, kwargs, list_input,
    # first_count)`` returns the call's output shapes and sets ``layer.built`` on first call.
    custom: Any = None
    # A user subclass of a built-in layer (``class MyBN(BatchNormalization)``): the built-in
    # class whose rule applies; ``class_name`` is the subclass's.
    rule: str | None = None
    # Keras raises in this layer's constructor for what bnlint read in the call (an unknown
    # keyword argument): the layer is that error, and nothing is computed from it.
    refused: str | None = None

    @property
    def is_model(self) -> bool:
        return False

    @property
    def rule_name(self) -> str:
        return f"op:{self.class_name}" if self.is_op else (self.rule or self.class_name)


@dataclass(eq=False)
class KModel(KLayer):
    kind: str = "Functional"  # "Functional" | "Sequential" | subclass name
    inputs: list[KTensor] = field(default_factory=list)
    outputs: list[KTensor] = field(default_factory=list)
    seq_layers: list[KLayer] = field(default_factory=list)  # Sequential only
    input_layer: KLayer | None = None  # Sequential's InputLayer, when it has one
    is_built: bool = True
    variable: str | None = None
    own_weights: list[WeightSpec] = field(default_factory=list)  # self.add_weight on a Model
    # An input-less Sequential builds itself on its first call (``Sequential.build``):
    # ``on_first_call(model, input_shapes)`` (the source reader's hook) builds it.
    on_first_call: Any = None

    @property
    def is_model(self) -> bool:
        return True

    @property
    def layers(self) -> list[KLayer]:
        if self.kind == "Sequential":
            return list(self.seq_layers)
        return functional_layers(self.inputs, self.outputs)


def self_node_offset(layer: KLayer, io: bool = False) -> int:
    """How far serialized node indices of a nested model are shifted.

    tf-keras gives a Functional model (and a Sequential built from an input) a
    pre-existing node linking its inputs to its outputs and counts it everywhere:
    the n-th call of such a nested model is node n + 1.  Keras 3 writes the raw index
    in ``inbound_nodes`` but n + 1 in ``input_layers``/``output_layers`` (``io``) for
    Functional models.
    """
    if not isinstance(layer, KModel) or not layer.is_built:
        return 0
    if layer.version == 3 and not io:
        return 0
    if layer.kind == "Sequential":
        return 1 if layer.version == 2 else 0
    return 1


# --------------------------------------------------------------------------- creation


def make_input(
    name: str, batch_shape: Shape, version: int, dtype: str = "float32",
    location: graph.Location | None = None,
) -> KTensor:
    layer = KLayer(name, "InputLayer", {"batch_shape": list(batch_shape), "name": name}, version,
                   location=location)
    node = KNode(layer, [], is_input=True)
    tensor = KTensor(tuple(batch_shape), node, 0, dtype)
    node.outputs = [tensor]
    layer.nodes.append(node)
    layer.built = Built([tuple(batch_shape)])
    return tensor


def call_layer(
    layer: KLayer, inputs: list[KTensor], kwargs: dict[str, Any] | None = None,
    list_input: bool = False, n_outputs_hint: int = 1, first_count: int | None = None,
    names: NameCounters | None = None,
) -> list[KTensor]:
    """Call ``layer`` on tensors: infer output shapes, build weights on first call."""
    node = KNode(layer, list(inputs), kwargs=dict(kwargs or {}), list_input=list_input,
                 first_count=first_count)
    layer.nodes.append(node)
    shapes = [t.shape for t in inputs]
    outputs: list[Shape | None]
    if any(s is None for s in shapes):
        if layer.built is None and layer.unknown is None:
            bad = next(t for t in inputs if t.shape is None)
            source = bad.node.layer
            # Keras's refusal of the layer's own arguments comes first (it raises there);
            # else a model input says why (a Sequential's input layer is not in model.layers)
            refused = layer.refused or (None if layer.is_op or layer.custom is not None else
                                        rejected(layer.class_name, layer.config,
                                                 layer.version))
            layer.unknown = refused or (
                source.unknown if source.unknown and (bad.node.is_input or source.is_op)
                else f"input shape unknown (comes from `{source.name}`)")
        if isinstance(layer, KModel) and not layer.is_built and layer.unknown is not None:
            # Keras builds an input-less Sequential on this call: its layers get variables
            # whose sizes depend on the unknown input shape (never "0 (unbuilt)").
            _unknown_unbuilt(layer, f"built by a call on an input of unknown shape "
                             f"({layer.unknown})")
        outputs = [None] * _n_outputs(layer, n_outputs_hint)
    elif isinstance(layer, KModel):
        outputs = list(_call_model(layer, [s for s in shapes if s is not None]))
    elif layer.custom is not None:
        outputs = list(layer.custom(layer, list(shapes), node.kwargs, list_input, first_count))
    elif layer.built is None and not layer.is_op and (refused := layer.refused or rejected(
            layer.class_name, layer.config, layer.version)) is not None:
        layer.unknown = layer.unknown or refused
        outputs = [None] * _n_outputs(layer, n_outputs_hint)
    else:
        try:
            built = build_layer(
                layer.rule_name, layer.config, [s for s in shapes if s is not None],
                layer.version, node.kwargs, list_input, first_count,
            )
        except Unknown as exc:
            if layer.built is None:
                layer.unknown = layer.unknown or str(exc)
            else:
                layer.notes.append(f"call #{len(layer.nodes)}: {exc}")
            outputs = [None] * _n_outputs(layer, n_outputs_hint)
        else:
            bad = _negative(built)
            if bad is not None and layer.built is None:
                # a size Keras never builds: it raises on this layer (never a negative count)
                layer.unknown = layer.unknown or f"Keras raises ValueError on this layer: {bad}"
                outputs = [None] * _n_outputs(layer, n_outputs_hint)
                node.outputs = [KTensor(s, node, i) for i, s in enumerate(outputs)]
                return node.outputs
            if layer.built is None:
                layer.built = built
                if names is not None and layer.version == 3:
                    _name_anonymous_weights(built, names)
            outputs = list(built.outputs)
    node.outputs = [KTensor(s, node, i) for i, s in enumerate(outputs)]
    return node.outputs


def _unknown_unbuilt(model: KModel, why: str, depth: int = 0) -> None:
    """Mark the layers an unbuilt model would build on a call as unknown (``why``)."""
    for la in model.seq_layers if model.kind == "Sequential" else []:
        if isinstance(la, KModel):
            if not la.is_built and depth < 20:
                la.unknown = la.unknown or why
                _unknown_unbuilt(la, why, depth + 1)
        elif la.built is None and la.unknown is None:
            la.unknown = why


def _negative(built: Built) -> str | None:
    """A negative dimension in what a rule computed (weights or outputs), described."""
    for w in built.weights:
        if any(isinstance(d, int) and d < 0 for d in w.shape):
            return f"weight `{w.name}` would have the negative shape {tuple(w.shape)}"
    for s in built.outputs:
        if s is not None and any(isinstance(d, int) and d < 0 for d in s):
            return f"output shape {tuple(s)} has a negative size"
    return None


def record_call(layer: KLayer, inputs: list[KTensor], output_shapes: list[Shape | None],
                kwargs: dict[str, Any] | None = None) -> list[KTensor]:
    """A call whose output shapes the caller already knows (a subclassed model's call() or an
    operation inside it, interpreted by the source reader): one node, new output tensors."""
    node = KNode(layer, list(inputs), kwargs=dict(kwargs or {}))
    layer.nodes.append(node)
    node.outputs = [KTensor(s, node, i) for i, s in enumerate(output_shapes)]
    return node.outputs


def _name_anonymous_weights(built: Built, names: NameCounters) -> None:
    """Keras 3 names a weight created without a name from a session counter: variable_<n>."""
    for spec in built.weights:
        if spec.name == "variable":
            spec.name = names.uniquify("variable")
    for sub in built.sublayers:
        _name_anonymous_weights(sub.built, names)


def _n_outputs(layer: KLayer, hint: int) -> int:
    if layer.built is not None:
        return len(layer.built.outputs)
    if isinstance(layer, KModel) and layer.outputs:
        return len(layer.outputs)
    return hint


def _call_model(model: KModel, shapes: list[Shape]) -> list[Shape | None]:
    """Output shapes of a nested model called on new inputs (replays its graph)."""
    if model.kind == "Sequential":
        if not model.is_built and model.on_first_call is not None and len(shapes) == 1:
            model.on_first_call(model, shapes)
        if not model.is_built:
            return [None]
        cur: list[Shape | None] = list(shapes)
        for layer in model.seq_layers:
            if any(s is None for s in cur):
                return [None]
            if layer.custom is not None:
                cur = list(layer.custom(layer, cur, {}, False, None))
                continue
            if isinstance(layer, KModel):
                cur = _call_model(layer, cur)  # type: ignore[arg-type]
                continue
            try:
                built = build_layer(layer.rule_name, layer.config, cur, layer.version)  # type: ignore[arg-type]
            except Unknown:
                return [None]
            cur = list(built.outputs)
        return cur
    if [tuple(t.shape or ()) for t in model.inputs] == [tuple(s) for s in shapes]:
        return [t.shape for t in model.outputs]
    # New input shapes: re-run every node of the nested graph in depth order.
    values: dict[int, Shape | None] = {}
    for t, s in zip(model.inputs, shapes, strict=False):
        values[id(t)] = s
    for node in _nodes_in_order(model.inputs, model.outputs):
        if node.is_input:
            continue
        ins = [values.get(id(t), t.shape) for t in node.inputs]
        if any(s is None for s in ins):
            outs: list[Shape | None] = [None] * len(node.outputs)
        else:
            try:
                if isinstance(node.layer, KModel):
                    outs = _call_model(node.layer, ins)  # type: ignore[arg-type]
                elif node.layer.custom is not None:
                    outs = list(node.layer.custom(node.layer, ins, node.kwargs, node.list_input,
                                                  node.first_count))
                else:
                    outs = list(build_layer(node.layer.rule_name, node.layer.config, ins,  # type: ignore[arg-type]
                                            node.layer.version, node.kwargs, node.list_input,
                                            node.first_count).outputs)
            except Unknown:
                outs = [None] * len(node.outputs)
        for t, s in zip(node.outputs, outs, strict=False):
            values[id(t)] = s
    return [values.get(id(t), t.shape) for t in model.outputs]


def sequential(
    name: str, layers: list[KLayer], version: int, input_tensor: KTensor | None,
    trainable: bool = True, location: graph.Location | None = None,
) -> KModel:
    """A Sequential model; built when ``input_tensor`` is given (an Input / input_shape)."""
    model = KModel(name, "Sequential", {"name": name}, version, trainable=trainable,
                   location=location, kind="Sequential", seq_layers=list(layers))
    if input_tensor is None:
        model.is_built = False
        return model
    model.input_layer = input_tensor.node.layer
    x = [input_tensor]
    for layer in layers:
        x = call_layer(layer, x)
        if len(x) != 1:
            layer.unknown = layer.unknown or "a Sequential layer must have one output"
            x = x[:1]
    model.inputs = [input_tensor]
    model.outputs = x
    return model


def functional(
    name: str, inputs: list[KTensor], outputs: list[KTensor], version: int,
    trainable: bool = True, location: graph.Location | None = None, kind: str = "Functional",
) -> KModel:
    return KModel(name, kind, {"name": name}, version, trainable=trainable, location=location,
                  kind=kind, inputs=list(inputs), outputs=list(outputs))


# --------------------------------------------------------------------------- ordering


def _nodes_in_order(inputs: list[KTensor], outputs: list[KTensor]) -> list[KNode]:
    """Keras's ``_build_map``: depth-first topological order from the outputs."""
    finished: set[int] = set()
    in_progress: set[int] = set()
    ordered: list[KNode] = []
    input_ids = {id(t) for t in inputs}

    # Iterative DFS (a hostile graph must not exhaust the Python stack).
    for out in outputs:
        stack: list[tuple[KTensor, int]] = [(out, 0)]
        while stack:
            tensor, state = stack.pop()
            node = tensor.node
            if id(node) in finished:
                continue
            if state == 0:
                if not node.is_input and id(tensor) in input_ids:
                    finished.add(id(node))
                    continue
                if id(node) in in_progress:
                    raise Unknown(f"graph has a cycle through `{node.layer.name}`")
                in_progress.add(id(node))
                stack.append((tensor, 1))
                if not node.is_input:
                    for t in reversed(node.inputs):
                        stack.append((t, 0))
            else:
                finished.add(id(node))
                in_progress.discard(id(node))
                ordered.append(node)
    return ordered


def _traversal_indices(inputs: list[KTensor], outputs: list[KTensor]) -> dict[int, int]:
    """Order in which Keras's DFS first *sees* each operation (pre-order)."""
    seen: dict[int, int] = {}
    finished: set[int] = set()
    input_ids = {id(t) for t in inputs}
    for out in outputs:
        stack = [out]
        while stack:
            tensor = stack.pop()
            node = tensor.node
            if id(node) in finished:
                continue
            if not node.is_input and id(tensor) in input_ids:
                finished.add(id(node))
                continue
            finished.add(id(node))
            seen.setdefault(id(node.layer), len(seen))
            if not node.is_input:
                stack.extend(reversed(node.inputs))
    return seen


def functional_layers(inputs: list[KTensor], outputs: list[KTensor]) -> list[KLayer]:
    """``Functional.layers``: operations by decreasing depth, ties by traversal order."""
    nodes = _nodes_in_order(inputs, outputs)
    in_graph = {id(n) for n in nodes}
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    layers_by_id: dict[int, KLayer] = {}
    for node in reversed(nodes):
        depth = node_depth.setdefault(id(node), 0)
        depth = max(depth, layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        layers_by_id[id(node.layer)] = node.layer
        node_depth[id(node)] = depth
        if not node.is_input:
            for t in node.inputs:
                parent = t.node
                if id(parent) not in in_graph:
                    continue
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    indices = _traversal_indices(inputs, outputs)
    for t in inputs:
        layer = t.node.layer
        if id(layer) not in layer_depth and t.node.is_input:
            layer_depth[id(layer)] = 0
            layers_by_id[id(layer)] = layer
            indices[id(layer)] = -1
    by_depth: dict[int, list[KLayer]] = defaultdict(list)
    for lid, depth in layer_depth.items():
        by_depth[depth].append(layers_by_id[lid])
    ordered: list[KLayer] = []
    for depth in sorted(by_depth, reverse=True):
        ordered.extend(sorted(by_depth[depth], key=lambda la: indices.get(id(la), 0)))
    return [la for la in ordered if not la.is_op]


# --------------------------------------------------------------------------- to graph


_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8, "int32": 4, "int64": 8,
          "int8": 1, "uint8": 1, "int16": 2, "bool": 1}


def variable_dtype(config: dict[str, Any]) -> str:
    """A layer's variable dtype from its dtype policy (mixed policies keep float32 variables)."""
    dtype = config.get("dtype")
    name = dtype
    if isinstance(dtype, dict):
        name = (dtype.get("config") or {}).get("name")
    if not isinstance(name, str):
        return "float32"
    if name.startswith("mixed_"):
        return "float32"
    return name if name in _BYTES else "float32"


def dtype_bytes(dtype: str) -> int:
    return _BYTES.get(dtype, 4)


def _weights(owner: KLayer, specs: list[tuple[str, WeightSpec]], frozen: bool,
             ) -> list[graph.Weight]:
    """The graph's weights of ``owner`` from (path below the owner, spec) pairs in
    ``get_weights()`` order; a frozen owner's are all non-trainable."""
    dtype = variable_dtype(owner.config)
    return [
        graph.Weight.model_construct(
            name=spec.name,
            path=f"{owner.name}/{path}",
            shape=tuple(spec.shape),
            trainable=spec.trainable and not frozen,
            dtype=spec.dtype or dtype,
        )
        for path, spec in specs
    ]


def as_built(layer: KLayer, depth: int = 0) -> Built | None:
    """What a layer holding ``layer`` sees of it (``layer.weights``): a plain layer's
    :class:`Built`; a model's own variables, then each of its layers as a sublayer. None when
    it has no variables yet (unbuilt)."""
    if not isinstance(layer, KModel):
        return layer.built
    if not layer.is_built or depth > 20:
        return None
    from bnlint.keras.catalogue import SubLayer

    subs: list[SubLayer] = []
    seen: set[int] = set()
    for sub in layer.layers:
        if id(sub) in seen:
            continue
        seen.add(id(sub))
        b = as_built(sub, depth + 1)
        if b is not None:
            subs.append(SubLayer(sub.name, sub.class_name, b, not sub.trainable))
    own = [w for w in layer.own_weights if w.trainable] + [
        w for w in layer.own_weights if not w.trainable]
    return Built([t.shape for t in layer.outputs if t.shape is not None], weights=own,
                 sublayers=subs)


def _own_weights(model: KModel, frozen: bool) -> list[graph.Weight]:
    """A model's own variables: trainable ones first, then the others (both Kerases keep
    them in two lists); a frozen model's are all non-trainable, in the same order."""
    specs = [w for w in model.own_weights if w.trainable]
    specs += [w for w in model.own_weights if not w.trainable]
    return _weights(model, [(w.name, w) for w in specs], frozen or not model.trainable)


def _layer_weights(layer: KLayer, frozen: bool) -> list[graph.Weight]:
    if isinstance(layer, KModel):
        out: list[graph.Weight] = []
        seen: set[int] = set()
        for sub in layer.layers:
            if id(sub) in seen:
                continue
            seen.add(id(sub))
            out.extend(_layer_weights(sub, frozen or not layer.trainable or not sub.trainable))
        return graph.model_weights(_own_weights(layer, frozen), out, layer.version)
    if layer.built is None:
        return []
    frozen = frozen or not layer.trainable
    return _weights(layer, _ordered(layer.built, layer.version, frozen), frozen)


def _ordered(built: Built, version: int, frozen: bool) -> list[tuple[str, Any]]:
    return ordered_weights(built, version, "", frozen)


def _refs(tensors: list[KTensor], node_index: dict[int, int], io: bool = False,
          ) -> list[graph.TensorRef]:
    """References as Keras serialises them (node indices shifted for nested models)."""
    return [
        graph.TensorRef.model_construct(layer=t.node.layer.name,
                        node_index=node_index.get(id(t.node), 0)
                        + self_node_offset(t.node.layer, io),
                        tensor_index=t.index)
        for t in tensors
    ]


def to_graph(model: KModel, source: str | None = None) -> graph.Model:
    """The typed graph of a top-level model; ``weights[].index`` = ``get_weights()`` position.

    The builder's values already have the graph's types, so the models are made with
    ``model_construct`` (no validation): pydantic never builds its schemas on this path.
    """
    g = _to_graph(model, source, frozen=False)
    for i, w in enumerate(g.all_weights()):
        w.index = i
    _copy_indices(g)
    return g


def _copy_indices(g: graph.Model) -> None:
    for layer in g.layers:
        if layer.model is not None:
            for inner, outer in zip(layer.model.all_weights(), layer.weights, strict=False):
                inner.index = outer.index
            _copy_indices(layer.model)


def _to_graph(model: KModel, source: str | None, frozen: bool) -> graph.Model:
    layers = model.layers
    # Node indices as Keras serialises them: per layer, counting only this model's nodes.
    if model.kind == "Sequential" or not model.is_built:
        model_nodes = [n for la in layers for n in la.nodes]
        if model.input_layer is not None:
            model_nodes = [*model.input_layer.nodes, *model_nodes]
    else:
        model_nodes = _nodes_in_order(model.inputs, model.outputs)
    node_ids = {id(n) for n in model_nodes}
    node_index: dict[int, int] = {}
    per_layer: dict[int, list[KNode]] = defaultdict(list)
    for la in ([model.input_layer] if model.input_layer else []) + layers:
        for n in la.nodes:
            if id(n) in node_ids:
                node_index[id(n)] = len(per_layer[id(la)])
                per_layer[id(la)].append(n)

    g_layers: list[graph.Layer] = []
    frozen_model = frozen or not model.trainable
    for la in layers:
        nested = None
        if isinstance(la, KModel):
            nested = _to_graph(la, source, frozen_model or not la.trainable)
        nodes = [
            graph.CallNode.model_construct(
                inputs=_refs(n.inputs, node_index),
                input_shapes=[t.shape for t in n.inputs if t.shape is not None],
                output_shapes=[t.shape for t in n.outputs if t.shape is not None],
                kwargs={k: v for k, v in n.kwargs.items() if _jsonable(v)},
            )
            for n in (per_layer.get(id(la)) or la.nodes[:1])
        ]
        if not nodes and isinstance(la, KModel) and la.is_built and la.outputs:
            # a built model held by an unbuilt subclass (never called in it): Keras's summary
            # shows its own output shape
            nodes = [graph.CallNode.model_construct(
                inputs=[], input_shapes=[t.shape for t in la.inputs if t.shape is not None],
                output_shapes=[t.shape for t in la.outputs if t.shape is not None], kwargs={})]
        unknown = la.unknown
        built = la.built is not None or isinstance(la, KModel) or unknown is not None
        if model.kind == "Sequential" and not model.is_built and (
                model.class_name == "Sequential" or not (
                    la.is_built if isinstance(la, KModel) else la.built is not None)):
            # an unbuilt Sequential's layers are unbuilt; an unbuilt subclassed model
            # (kind "Sequential": layers in tracking order) holds layers built elsewhere
            built = False
        if isinstance(la, KModel) and nested is not None and not nested.built:
            built = False
        g_layers.append(
            graph.Layer.model_construct(
                name=la.name,
                class_name=la.class_name,
                config={k: v for k, v in la.config.items()
                        if _jsonable(v) and not k.startswith("__")},
                trainable=la.trainable,
                nodes=nodes,
                weights=_layer_weights(la, frozen_model) if built else [],
                built=built,
                unknown=unknown,
                model=nested,
                location=la.location,
                notes=list(la.notes),
            )
        )
    return graph.Model.model_construct(
        name=model.name,
        class_name=model.kind,
        variable=model.variable,
        keras_version=model.version,
        trainable=model.trainable,
        layers=g_layers,
        weights=_own_weights(model, frozen),
        inputs=_refs(model.inputs, node_index, io=True),
        outputs=_refs(model.outputs, node_index, io=True),
        input_shapes=[t.shape for t in model.inputs if t.shape is not None],
        output_shapes=[t.shape for t in model.outputs if t.shape is not None],
        built=model.is_built,
        location=model.location,
        source=source,
        notes=list(model.notes),
        unknown=model.unknown or _unknown_op(model, model_nodes),
    )


def _unknown_op(model: KModel, nodes: list[KNode]) -> str | None:
    """An operation of the graph (not a layer: absent from ``model.layers``) bnlint could not
    model, or that Keras refuses: the model's totals are unknown; the first one says why."""
    if model.kind == "Sequential" or not model.is_built:
        return None
    for n in nodes:
        if n.layer.is_op and n.layer.unknown:
            return n.layer.unknown
    return None


def _jsonable(v: Any) -> bool:
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    if isinstance(v, (list, tuple)):
        return all(_jsonable(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _jsonable(x) for k, x in v.items())
    return False
