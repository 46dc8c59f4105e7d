"""Replay a Keras model config (Keras 2 or Keras 3 serialization) into the builder.

This is what ``keras.models.model_from_json`` / ``from_config`` does, minus
Keras: layers are created from their configs, the functional ``inbound_nodes``
are replayed in Keras's order, and every shape is inferred by the catalogue from
the input shapes.  Recorded ``build_config`` / tensor shapes are not used.
"""

from __future__ import annotations

from typing import Any

from bnlint import graph
from bnlint.keras import builder as kb
from bnlint.keras.builder import KLayer, KModel, KTensor
from bnlint.keras.catalogue import TensorArg
from bnlint.keras.naming import NameCounters

MODEL_CLASSES = {"Sequential", "Functional", "Model"}


class ConfigError(Exception):
    """The config is not a Keras model config bnlint can read (message: one line)."""


def detect_version(config: dict[str, Any], keras_version: str | None) -> int:
    if keras_version:
        if keras_version.startswith("2."):
            return 2
        if keras_version.startswith("3."):
            return 3
    # Structure: Keras 2 writes inbound nodes as nested lists and `batch_input_shape`.
    text_hint = _first_inbound(config)
    if text_hint is not None:
        return 3 if isinstance(text_hint, dict) else 2
    for layer in _layer_list(config):
        cfg = _dict(layer.get("config"))
        if "batch_input_shape" in cfg:
            return 2
        if "batch_shape" in cfg:
            return 3
    return 3


def _dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a dict, else an empty one (hostile configs have any type anywhere)."""
    return value if isinstance(value, dict) else {}


def _layer_list(config: Any) -> list[dict[str, Any]]:
    layers = _dict(_dict(config).get("config")).get("layers")
    return [la for la in layers if isinstance(la, dict)] if isinstance(layers, list) else []


def _first_inbound(config: dict[str, Any]) -> Any:
    for layer in _layer_list(config):
        nodes = layer.get("inbound_nodes")
        if isinstance(nodes, list) and nodes:
            return nodes[0]
    return None


class Replayer:
    def __init__(self, version: int, source: str):
        self.version = version
        self.source = source
        # Names Keras gives to anonymous weights while it rebuilds the model in a fresh session.
        self.names = NameCounters(version)

    def loc(self, path: str) -> graph.Location:
        return graph.Location.model_construct(file=self.source, config_path=path)

    # -------------------------------------------------------------- models
    def model(self, data: dict[str, Any], path: str = "config") -> KModel:
        if not isinstance(data, dict) or "class_name" not in data:
            raise ConfigError("not a Keras model config (no `class_name`)")
        class_name = data["class_name"]
        cfg = data.get("config")
        if not isinstance(cfg, dict):
            raise ConfigError(f"`{class_name}` has no config")
        if "layers" not in cfg:
            raise ConfigError(
                f"`{class_name}` is a subclassed model: its architecture is Python code, "
                "not part of the saved config"
            )
        if not isinstance(cfg["layers"], list):
            raise ConfigError(f"{path}.layers is not a list")
        if class_name == "Sequential" or ("input_layers" not in cfg and "output_layers" not in cfg):
            return self.sequential(class_name, cfg, path)
        return self.functional(class_name, cfg, path)

    def _trainable(self, cfg: dict[str, Any]) -> bool:
        return bool(cfg.get("trainable", True))

    def sequential(self, class_name: str, cfg: dict[str, Any], path: str) -> KModel:
        name = str(cfg.get("name") or "sequential")
        layers_data = cfg["layers"]
        input_tensor: KTensor | None = None
        layers: list[KLayer] = []
        for i, ld in enumerate(layers_data):
            lpath = f"{path}.layers[{i}]"
            if not isinstance(ld, dict):
                raise ConfigError(f"{lpath} is not a layer config")
            if ld.get("class_name") == "InputLayer" and input_tensor is None and not layers:
                input_tensor = self.input_tensor(ld, lpath)
                continue
            layers.append(self.layer(ld, lpath))
        if input_tensor is None:
            shape = cfg.get("build_input_shape")
            first_cfg = _dict(layers_data[0].get("config")) if layers_data else {}
            shape = shape or first_cfg.get("batch_input_shape") or first_cfg.get("batch_shape")
            if isinstance(shape, list):
                input_tensor = kb.make_input(f"{name}_input", _shape(shape), self.version,
                                             location=self.loc(path))
        model = kb.sequential(name, layers, self.version, input_tensor,
                              trainable=self._trainable(cfg), location=self.loc(path))
        if not model.is_built:
            model.notes.append("the model was saved unbuilt (no input shape): nothing to count")
        return model

    def input_tensor(self, ld: dict[str, Any], path: str) -> KTensor:
        cfg = _dict(ld.get("config"))
        shape = cfg.get("batch_shape", cfg.get("batch_input_shape"))
        if shape is None and isinstance(cfg.get("shape"), list):
            shape = [cfg.get("batch_size"), *cfg["shape"]]
        if not isinstance(shape, list):
            raise ConfigError(f"{path}: InputLayer without a shape")
        name = str(ld.get("name") or cfg.get("name") or "input")
        dtype = cfg.get("dtype") if isinstance(cfg.get("dtype"), str) else "float32"
        return kb.make_input(name, _shape(shape), self.version, dtype=dtype, location=self.loc(path))

    def layer(self, ld: dict[str, Any], path: str) -> KLayer:
        class_name = ld.get("class_name")
        cfg = ld.get("config")
        if not isinstance(class_name, str) or not isinstance(cfg, dict):
            raise ConfigError(f"{path} is not a layer config")
        if class_name in MODEL_CLASSES or "layers" in cfg:
            model = self.model(ld, path)
            model.name = str(ld.get("name") or cfg.get("name") or model.name)
            model.class_name = "Functional" if class_name == "Model" else class_name
            return model
        name = str(ld.get("name") or cfg.get("name") or class_name.lower())
        module = ld.get("module")
        is_op = isinstance(module, str) and module.startswith(("keras.src.ops", "keras.ops"))
        return KLayer(name, class_name, dict(cfg), self.version, trainable=self._trainable(cfg),
                      location=self.loc(path), is_op=is_op)

    def functional(self, class_name: str, cfg: dict[str, Any], path: str) -> KModel:
        name = str(cfg.get("name") or "model")
        created: dict[str, KLayer] = {}
        pending: dict[str, list[Any]] = {}
        order: list[str] = []
        for i, ld in enumerate(cfg["layers"]):
            lpath = f"{path}.layers[{i}]"
            if not isinstance(ld, dict):
                raise ConfigError(f"{lpath} is not a layer config")
            lname = str(ld.get("name") or _dict(ld.get("config")).get("name"))
            if lname in created:
                raise ConfigError(f"{lpath}: duplicate layer name `{lname}`")
            if ld.get("class_name") == "InputLayer":
                created[lname] = self.input_tensor(ld, lpath).node.layer
                continue
            layer = self.layer(ld, lpath)
            layer.name = lname
            created[lname] = layer
            nodes = ld.get("inbound_nodes") or []
            if not isinstance(nodes, list):
                raise ConfigError(f"{lpath}.inbound_nodes is not a list")
            pending[lname] = list(nodes)
            order.append(lname)

        # Keras replays nodes layer by layer, deferring a node until its inputs exist.
        budget = sum(len(v) for v in pending.values()) + 1
        for _ in range(budget):
            progressed = False
            for lname in order:
                queue = pending[lname]
                while queue:
                    args = self._node_args(queue[0], created)
                    if args is None:
                        break
                    inputs, kwargs, list_input, first_count = args
                    kb.call_layer(created[lname], inputs, kwargs, list_input,
                                  first_count=first_count, names=self.names)
                    queue.pop(0)
                    progressed = True
            if not progressed:
                break
        stuck = [n for n in order if pending[n]]
        if stuck:
            raise ConfigError(f"{path}: inbound nodes of `{stuck[0]}` refer to missing layers")
        inputs = self._tensor_list(cfg.get("input_layers"), created, f"{path}.input_layers")
        outputs = self._tensor_list(cfg.get("output_layers"), created, f"{path}.output_layers")
        return kb.functional(name, inputs, outputs, self.version, trainable=self._trainable(cfg),
                             location=self.loc(path),
                             kind="Functional" if class_name in MODEL_CLASSES else class_name)

    # -------------------------------------------------------------- nodes
    def _lookup(self, ref: Any, created: dict[str, KLayer], io: bool = False) -> KTensor | None:
        if not (isinstance(ref, list) and len(ref) >= 3 and isinstance(ref[0], str)):
            raise ConfigError(f"bad tensor reference {ref!r:.80}")
        layer = created.get(ref[0])
        if layer is None:
            raise ConfigError(f"tensor reference to unknown layer `{ref[0]}`")
        ni, ti = ref[1], ref[2]
        if not isinstance(ni, int) or not isinstance(ti, int):
            raise ConfigError(f"bad tensor reference {ref!r:.80}")
        ni -= kb.self_node_offset(layer, io)
        if ni < 0:
            raise ConfigError(f"tensor reference {ref!r:.80} points at a model's own graph node")
        if ni >= len(layer.nodes):
            return None  # not created yet
        node = layer.nodes[ni]
        if ti >= len(node.outputs):
            raise ConfigError(f"tensor reference {ref!r:.80} is out of range")
        return node.outputs[ti]

    def _tensor_list(self, refs: Any, created: dict[str, KLayer], path: str) -> list[KTensor]:
        if refs is None:
            raise ConfigError(f"{path} is missing")
        # A single output may be written as one reference instead of a list of them.
        if isinstance(refs, list) and refs and isinstance(refs[0], str):
            refs = [refs]
        if isinstance(refs, dict):
            refs = list(refs.values())
        out = []
        for r in refs:
            t = self._lookup(r, created, io=True)
            if t is None:
                raise ConfigError(f"{path}: `{r[0]}` has no node {r[1]}")
            out.append(t)
        return out

    def _node_args(
        self, node: Any, created: dict[str, KLayer]
    ) -> tuple[list[KTensor], dict[str, Any], bool, int | None] | None:
        """Tensors and kwargs of one inbound node, or None if an input does not exist yet."""
        if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
            return self._node_args_k3(node, created)
        if isinstance(node, list):  # Keras 2: [[name, node_index, tensor_index, kwargs], ...]
            return self._node_args_k2(node, created)
        raise ConfigError(f"bad inbound node {node!r:.80}")

    def _node_args_k3(self, node: dict[str, Any], created: dict[str, KLayer]):
        missing = False

        def tensors_in(value: Any) -> list[KTensor]:
            nonlocal missing
            if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
                hist = _dict(value.get("config")).get("keras_history")
                t = self._lookup(hist, created)
                if t is None:
                    missing = True
                    return []
                return [t]
            if isinstance(value, (list, tuple)):
                return [t for v in value for t in tensors_in(v)]
            if isinstance(value, dict):
                return [t for k in sorted(value) for t in tensors_in(value[k])]
            return []

        args = node.get("args") or []
        kwargs_data = node.get("kwargs") or {}
        if not isinstance(args, list) or not isinstance(kwargs_data, dict):
            raise ConfigError("bad inbound node")
        first = tensors_in(args[0]) if args else []
        list_input = bool(args) and isinstance(args[0], (list, tuple))
        rest = [t for a in args[1:] for t in tensors_in(a)]
        inputs = first + rest
        kwargs: dict[str, Any] = {}
        for key, value in kwargs_data.items():
            ts = tensors_in(value)
            if ts:
                kwargs[key] = TensorArg(len(inputs))
                inputs.extend(ts[:1])
            elif not _has_tensor(value):
                kwargs[key] = value
        if missing:
            return None
        return inputs, kwargs, list_input, len(first)

    def _node_args_k2(self, node: list[Any], created: dict[str, KLayer]):
        # Layers that keep their input structure (TFOpLambda) write one bare entry.
        if node and isinstance(node[0], str):
            node = [node]
        inputs: list[KTensor] = []
        kwargs: dict[str, Any] = {}
        for entry in node:
            if not (isinstance(entry, list) and len(entry) >= 3):
                raise ConfigError(f"bad inbound node entry {entry!r:.80}")
            t = self._lookup(entry[:3], created)
            if t is None:
                return None
            inputs.append(t)
            if len(entry) > 3 and isinstance(entry[3], dict):
                kwargs = entry[3]
        first_count = len(inputs)
        out_kwargs: dict[str, Any] = {}
        for key, value in kwargs.items():
            if _is_k2_ref(value, created):
                t = self._lookup(value, created)
                if t is None:
                    return None
                out_kwargs[key] = TensorArg(len(inputs))
                inputs.append(t)
            else:
                out_kwargs[key] = value
        return inputs, out_kwargs, len(node) > 1, first_count


def _is_k2_ref(value: Any, created: dict[str, KLayer]) -> bool:
    return (
        isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
        and value[0] in created and isinstance(value[1], int) and isinstance(value[2], int)
    )


def _has_tensor(value: Any) -> bool:
    if isinstance(value, dict):
        return value.get("class_name") == "__keras_tensor__" or any(
            _has_tensor(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_tensor(v) for v in value)
    return False


def _shape(shape: list[Any]) -> tuple:
    out = []
    for d in shape:
        if d is None or (isinstance(d, int) and not isinstance(d, bool)):
            out.append(d)
        else:
            raise ConfigError(f"bad dimension {d!r} in shape {shape!r:.80}")
    return tuple(out)


def model_from_config(
    data: dict[str, Any], source: str, keras_version: str | None = None
) -> graph.Model:
    if not isinstance(data, dict):
        raise ConfigError("not a Keras model config (not a JSON object)")
    if not isinstance(keras_version, str):
        keras_version = None
    try:
        version = detect_version(data, keras_version)
        kmodel = Replayer(version, source).model(data)
        if data.get("class_name") == "Model" and kmodel.kind == "Functional":
            kmodel.class_name = "Functional"
        return kb.to_graph(kmodel, source)
    except (AttributeError, TypeError, ValueError, KeyError, IndexError, OverflowError,
            ZeroDivisionError) as exc:
        # A value of the wrong type or range somewhere in a (hand-edited, truncated or
        # hostile) config: Keras's own from_config would fail on it too.
        text = " ".join(str(exc).split())[:120]
        raise ConfigError(f"malformed model config ({exc.__class__.__name__}: {text})"
                          ) from None
