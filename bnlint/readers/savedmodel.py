"""TensorFlow SavedModel directories written by tf-keras, and TF weight checkpoints.

A SavedModel directory (``model.save(dir, save_format="tf")``) holds
``saved_model.pb`` (the TensorFlow graph: never read here), ``keras_metadata.pb``
(one record per Keras object; the root's JSON metadata carries the model config, the
same config an ``.h5`` file stores) and ``variables/variables.{index,data-*}`` (a TF
checkpoint, see :mod:`bnlint.readers.tfbundle`).

Which checkpoint tensor is which ``get_weights()`` array comes from the checkpoint's
own object graph (the ``_CHECKPOINTABLE_OBJECT_GRAPH`` entry, a ``TrackableObjectGraph``
message): in a SavedModel the root object's ``variables`` child lists ``model.variables``
in order (tf-keras's ``model.weights``, hence ``get_weights()``); in a weights-only
checkpoint (``model.save_weights("ckpt")``) the layers are reached through their
``layer_with_weights-N`` edges and the variables through their attribute names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bnlint import graph
from bnlint.readers.protowire import BundleError, fields, first, text
from bnlint.readers.tfpaths import (  # noqa: F401 - re-exported
    checkpoint_prefix,
    is_checkpoint_prefix,
    is_saved_model_dir,
)

if TYPE_CHECKING:
    from bnlint.readers.tfbundle import Checkpoint

MAX_METADATA_BYTES = 256 * 1024**2
OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
MAX_NODES = 10_000_000


class SavedModelError(ValueError):
    """One line saying why a SavedModel directory cannot be read."""


# --------------------------------------------------------------------------- architecture


def read_metadata_config(directory: str | Path) -> tuple[dict[str, Any], str | None]:
    """The model config and Keras version from ``keras_metadata.pb``."""
    d = Path(directory)
    meta = d / "keras_metadata.pb"
    if not meta.is_file():
        raise SavedModelError(
            "a TensorFlow SavedModel without keras_metadata.pb (exported by "
            "tf.saved_model.save or by Keras 3's model.export(), not by tf-keras's "
            "model.save; TF < 2.5 kept it inside saved_model.pb, which is not read): "
            "it holds no Keras architecture to read")
    size = meta.stat().st_size
    if size > MAX_METADATA_BYTES:
        raise SavedModelError(f"keras_metadata.pb is {size} bytes (bound "
                              f"{MAX_METADATA_BYTES}); refusing to read")
    try:
        msg = fields(meta.read_bytes())
        root = None
        for raw in msg.get(1, []):
            if not isinstance(raw, bytes):
                raise BundleError("bad node record")
            node = fields(raw)
            if text(node, 3) == "root":
                root = node
                break
        if root is None:
            raise SavedModelError("keras_metadata.pb has no root object")
        identifier = text(root, 4)
        metadata = text(root, 5)
    except BundleError as exc:
        raise SavedModelError(f"damaged keras_metadata.pb ({exc})") from None
    try:
        data = json.loads(metadata)
    except (ValueError, RecursionError) as exc:
        raise SavedModelError(f"the root metadata in keras_metadata.pb is not JSON "
                              f"({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise SavedModelError("the root metadata in keras_metadata.pb is not an object")
    config = data.get("model_config")
    if not isinstance(config, dict):
        if isinstance(data.get("config"), dict) and data.get("class_name"):
            config = {"class_name": data["class_name"], "config": data["config"]}
        else:
            raise SavedModelError(
                f"the saved Keras object ({identifier or 'unknown kind'}, class "
                f"{data.get('class_name', '?')}) has no architecture config (a subclassed "
                "model without get_config()?)")
    version = data.get("keras_version")
    return _untuple(config), version if isinstance(version, str) else None


def _untuple(config: Any) -> Any:
    """tf-keras's SavedModel JSON writes tuples as ``{"class_name": "__tuple__", "items":
    [...]}``; the .h5 config (which the config replay reads) has plain lists there."""

    def conv(v: Any) -> Any:
        if isinstance(v, dict) and v.get("class_name") == "__tuple__" and \
                isinstance(v.get("items"), list):
            return list(v["items"])
        return v

    config = conv(config)
    stack = [config]
    steps = 0
    while stack:
        steps += 1
        if steps > 50_000_000:
            raise SavedModelError("keras_metadata.pb config is too large")
        obj = stack.pop()
        if isinstance(obj, dict):
            for k, v in obj.items():
                obj[k] = conv(v)
                if isinstance(obj[k], (dict, list)):
                    stack.append(obj[k])
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                obj[i] = conv(v)
                if isinstance(obj[i], (dict, list)):
                    stack.append(obj[i])
    return config


# --------------------------------------------------------------------------- object graph


@dataclass
class _Node:
    children: list[tuple[int, str]]
    variable: tuple[str, str] | None  # (full_name, checkpoint_key) of a VARIABLE_VALUE


class _Graph:
    """The nodes of a TrackableObjectGraph, each decoded when first asked for (a SavedModel
    of ResNet50 has ~10,000 nodes; finding its weights touches a few hundred)."""

    def __init__(self, raw_nodes: list[Any]):
        self._raw = raw_nodes
        self._done: dict[int, _Node] = {}

    def __len__(self) -> int:
        return len(self._raw)

    def __getitem__(self, i: int) -> _Node:
        node = self._done.get(i)
        if node is None:
            node = self._done[i] = self._decode(self._raw[i])
        return node

    def _decode(self, raw: Any) -> _Node:
        if not isinstance(raw, bytes):
            raise BundleError("bad object-graph node")
        node = fields(raw)
        children = []
        for ref_raw in node.get(1, []):
            if not isinstance(ref_raw, bytes):
                raise BundleError("bad object-graph reference")
            ref = fields(ref_raw)
            node_id = first(ref, 1, 0)
            if not isinstance(node_id, int) or node_id >= len(self._raw):
                raise BundleError("object-graph reference to a node that does not exist")
            children.append((node_id, text(ref, 2)))
        variable = None
        for attr_raw in node.get(2, []):
            if not isinstance(attr_raw, bytes):
                raise BundleError("bad object-graph attribute")
            attr = fields(attr_raw)
            if text(attr, 1) == "VARIABLE_VALUE":
                variable = (text(attr, 2), text(attr, 3))
        return _Node(children, variable)


def object_graph(ckpt: Checkpoint) -> _Graph:
    """The checkpoint's TrackableObjectGraph (nodes decoded lazily)."""
    if OBJECT_GRAPH_KEY not in ckpt.entries:
        raise BundleError("the checkpoint has no object graph (a TF1 name-based "
                          "checkpoint?); its tensors cannot be matched to Keras weights")
    msg = fields(ckpt.read_string(OBJECT_GRAPH_KEY))
    raw_nodes = msg.get(1, [])
    if len(raw_nodes) > MAX_NODES:
        raise BundleError("the object graph has too many nodes")
    if not raw_nodes:
        raise BundleError("the checkpoint's object graph is empty")
    return _Graph(raw_nodes)


def _child(nodes: _Graph, node: int, name: str) -> int | None:
    for cid, local in nodes[node].children:
        if local == name:
            return cid
    return None


def _variable_key(nodes: _Graph, node: int, what: str) -> tuple[str, str]:
    var = nodes[node].variable
    if var is None:
        raise BundleError(f"{what} is not a variable in the checkpoint's object graph")
    return var


def saved_model_keys(nodes: _Graph, count: int) -> list[tuple[str, str]]:
    """(variable name, checkpoint key) of ``model.variables`` (a SavedModel's root list)."""
    listing = _child(nodes, 0, "variables")
    if listing is None:
        raise BundleError("the SavedModel's root object lists no variables")
    by_pos: dict[int, int] = {}
    for cid, local in nodes[listing].children:
        if not local.isdigit():
            raise BundleError("unexpected entry in the root's variables list")
        by_pos[int(local)] = cid
    if sorted(by_pos) != list(range(len(by_pos))):
        raise BundleError("the root's variables list has gaps")
    if len(by_pos) != count:
        raise BundleError(f"the SavedModel holds {len(by_pos)} variables, the architecture "
                          f"{count}")
    return [_variable_key(nodes, by_pos[i], f"variables/{i}") for i in range(count)]


def structural_keys(nodes: _Graph, model: graph.Model) -> dict[int, tuple[str, str]]:
    """get_weights() index -> (variable name, checkpoint key) of a ``save_weights``
    checkpoint, following ``layer_with_weights-N`` edges and attribute names."""
    out: dict[int, tuple[str, str]] = {}

    def walk(m: graph.Model, node: int, where: str, depth: int) -> None:
        if depth > 50:
            raise BundleError("models nested too deeply")
        j = 0
        for layer in m.layers:
            if not layer.weights:
                continue
            cid = _child(nodes, node, f"layer_with_weights-{j}")
            j += 1
            lpath = f"{where}{layer.name}"
            if cid is None:
                raise BundleError(f"the checkpoint has no object for layer `{lpath}`")
            if layer.model is not None:
                walk(layer.model, cid, lpath + "/", depth + 1)
                continue
            variables = _variables_below(nodes, cid)
            used: set[int] = set()
            for w in layer.weights:
                if w.index is None:
                    raise BundleError(f"weight `{w.path}` has no get_weights() index")
                if w.index in out:
                    continue  # a shared layer: the same variables, listed once
                target = _pick(variables, used, w)
                if target is None:
                    raise BundleError(f"the checkpoint has no variable `{w.name}` for layer "
                                      f"`{lpath}`")
                used.add(target)
                out[w.index] = _variable_key(nodes, target, f"`{lpath}/{w.name}`")
        if m.weights:
            raise BundleError("models with variables of their own are not supported in "
                              "weights-only checkpoints")

    walk(model, 0, "", 0)
    return out


def _variables_below(nodes: _Graph, start: int, limit: int = 100_000
                     ) -> list[tuple[int, str]]:
    """(node, variable name) of every variable reachable from a layer's object, depth first
    in child order, each once (SavedModel-only bookkeeping edges are not followed)."""
    out: list[tuple[int, str]] = []
    seen = {start}
    stack = [start]
    steps = 0
    while stack:
        steps += 1
        if steps > limit:
            raise BundleError("a layer's object graph is too large")
        n = stack.pop()
        var = nodes[n].variable
        if var is not None:
            out.append((n, var[0]))
            continue
        for cid, local in reversed(nodes[n].children):
            if cid not in seen and local not in _BOOKKEEPING:
                seen.add(cid)
                stack.append(cid)
    return out


_BOOKKEEPING = frozenset({"variables", "trainable_variables", "non_trainable_variables",
                          "regularization_losses", "keras_api", "root"})


def _pick(variables: list[tuple[int, str]], used: set[int], w: graph.Weight) -> int | None:
    """The variable object holding graph weight ``w`` among a layer's variables: the same
    path; else the same path below the layer name (the layer was named differently when
    saved); else the only unused one with the same short name."""
    free = [(n, name) for n, name in variables if n not in used]
    for n, name in free:
        if name == w.path:
            return n
    tail = w.path.split("/", 1)[-1]
    same_tail = [n for n, name in free if "/" in name and name.split("/", 1)[1] == tail]
    if len(same_tail) == 1:
        return same_tail[0]
    same_name = [n for n, name in free if name.rsplit("/", 1)[-1] == w.name]
    return same_name[0] if len(same_name) == 1 else None
