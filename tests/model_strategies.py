"""Random Keras model *specs* for the property-based differential test.

A spec is plain, JSON-serialisable data (dicts, lists, ints, strings, bools), so
hypothesis can shrink it and a failing one can be stored under
``fixtures/counterexamples/``.  :func:`model_specs` draws specs in the space
bnlint claims to cover; :func:`build_keras` turns one into a live model with
Keras 3 (``version=3``, the ``keras`` package) or Keras 2 (``version=2``,
``tf_keras``).  Keras is imported only inside :func:`build_keras`.

Spec layout (shapes never include the batch axis)::

    sequential: {"kind": "sequential",
                 "input": {"shape": [4, 3], "dtype": "float32"},
                 "layers": [LAYER | {"model": SPEC}, ...],
                 "trainable": false}                       # only when frozen
    functional: {"kind": "functional",
                 "inputs": [{"shape": [...], "dtype": ...}, ...],
                 "nodes": [NODE, ...],
                 "outputs": [tensor index, ...],
                 "trainable": false}                       # only when frozen
    LAYER: {"class_name": "Dense", "config": {"units": 4}, "trainable": false}
    NODE:  {"op": "layer",  "layer": LAYER, "input": i}
           {"op": "merge",  "layer": LAYER, "inputs": [i, j, ...]}
           {"op": "shared", "node": n, "input": i}    # call the layer/model of node n again
           {"op": "model",  "model": SPEC, "input": i}

Tensor indices count the model's inputs first, then one output per node in
order.  Layers are not named: Keras names them, and bnlint reads the names from
the saved file.  Nested models have exactly one input and one output.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

__all__ = ["build_keras", "model_specs", "spec_layer_classes"]

MAX_DIM = 16
MAX_ELEMENTS = 256  # per tensor, so Flatten + Dense stays small
MAX_DEPTH = 2  # nesting: a model inside a model inside the top-level model

Shape = tuple[int, ...]

# --------------------------------------------------------------------------
# shapes (without the batch axis), as Keras computes them
# --------------------------------------------------------------------------


def _conv_len(n: int, k: int, s: int, padding: str) -> int:
    return (n - k) // s + 1 if padding == "valid" else -(-n // s)


def _axis_forms(draw: Any, axis: int, rank: int) -> int:
    """A batched-tensor axis (1..rank) written positively or negatively."""
    return axis if draw(st.booleans()) else axis - (rank + 1)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0 and d <= MAX_DIM * MAX_DIM]


# --------------------------------------------------------------------------
# single layers
# --------------------------------------------------------------------------


def _tuple_or_int(draw: Any, values: list[int]) -> int | list[int]:
    if len(set(values)) == 1 and draw(st.booleans()):
        return values[0]
    return values


@st.composite
def _dense(draw: Any, shape: Shape, version: int) -> tuple[dict, Shape]:
    units = draw(st.integers(1, MAX_DIM))
    cfg: dict[str, Any] = {"units": units}
    if not draw(st.booleans()):
        cfg["use_bias"] = False
    act = draw(st.sampled_from([None, "relu"]))
    if act:
        cfg["activation"] = act
    return {"class_name": "Dense", "config": cfg}, (*shape[:-1], units)


@st.composite
def _activation(draw: Any, shape: Shape, version: int) -> tuple[dict, Shape]:
    act = draw(st.sampled_from(["relu", "tanh", "sigmoid", "softmax", "linear"]))
    return {"class_name": "Activation", "config": {"activation": act}}, shape


@st.composite
def _dropout(draw: Any, shape: Shape, version: int) -> tuple[dict, Shape]:
    rate = draw(st.sampled_from([0.5, 0.0, 0.1]))
    return {"class_name": "Dropout", "config": {"rate": rate}}, shape


@st.composite
def _batch_norm(draw: Any, shape: Shape, version: int) -> tuple[dict, Shape]:
    rank = len(shape)
    cfg: dict[str, Any] = {}
    if version == 2 and draw(st.booleans()):
        # tf_keras also takes a list of axes (gamma/beta then have the input's rank).
        axes = draw(st.lists(st.integers(1, rank), min_size=1, max_size=rank, unique=True))
        cfg["axis"] = [_axis_forms(draw, a, rank) for a in axes]
    else:
        axis = -draw(st.integers(1, rank))  # shrinks to -1 (the default)
        if draw(st.booleans()):
            axis += rank + 1  # the same axis, written positively
        if axis != -1:
            cfg["axis"] = axis
    if not draw(st.booleans()):
        cfg["center"] = False
    if not draw(st.booleans()):
        cfg["scale"] = False
    return {"class_name": "BatchNormalization", "config": cfg}, shape


@st.composite
def _layer_norm(draw: Any, shape: Shape, version: int) -> tuple[dict, Shape]:
    rank = len(shape)
    cfg: dict[str, Any] = {}
    if draw(st.booleans()):
        axes = draw(st.lists(st.integers(1, rank), min_size=1, max_size=rank, unique=True))
        forms = [_axis_forms(draw, a, rank) for a in axes]
        cfg["axis"] = forms[0] if len(forms) == 1 and draw(st.booleans()) else forms
    if not draw(st.booleans()):
        cfg["center"] = False
    if not draw(st.booleans()):
        cfg["scale"] = False
    if version == 3 and draw(st.sampled_from([False, False, False, True])):
        cfg["rms_scaling"] = True
    return {"class_name": "LayerNormalization", "config": cfg}, shape


def _flatten(shape: Shape, version: int) -> st.SearchStrategy[tuple[dict, Shape]]:
    return st.just(({"class_name": "Flatten", "config": {}}, (math.prod(shape),)))


@st.composite
def _reshape(draw: Any, shape: Shape, version: int) -> tuple[dict, Shape]:
    n = math.prod(shape)
    rank = draw(st.integers(1, 3))
    factors: list[int] = []
    rest = n
    for _ in range(rank - 1):
        d = draw(st.sampled_from(_divisors(rest)))
        factors.append(d)
        rest //= d
    factors.append(rest)
    target: list[int] = list(factors)
    if draw(st.booleans()):
        target[draw(st.integers(0, rank - 1))] = -1
    return {"class_name": "Reshape", "config": {"target_shape": target}}, tuple(factors)


@st.composite
def _conv1d(draw: Any, shape: Shape, version: int) -> tuple[dict, Shape]:
    steps, _ = shape
    padding = draw(st.sampled_from(["valid", "same"]))
    k = draw(st.integers(1, steps if padding == "valid" else 3))
    s = draw(st.integers(1, 2))
    filters = draw(st.integers(1, 8))
    cfg: dict[str, Any] = {"filters": filters, "kernel_size": k}
    if padding != "valid":
        cfg["padding"] = padding
    if s != 1:
        cfg["strides"] = s
    if not draw(st.booleans()):
        cfg["use_bias"] = False
    return {"class_name": "Conv1D", "config": cfg}, (_conv_len(steps, k, s, padding), filters)


@st.composite
def _conv2d(draw: Any, shape: Shape, version: int) -> tuple[dict, Shape]:
    h, w, _ = shape
    padding = draw(st.sampled_from(["valid", "same"]))
    kh = draw(st.integers(1, h if padding == "valid" else 3))
    kw = draw(st.integers(1, w if padding == "valid" else 3))
    sh, sw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    filters = draw(st.integers(1, 8))
    cfg: dict[str, Any] = {"filters": filters, "kernel_size": _tuple_or_int(draw, [kh, kw])}
    if padding != "valid":
        cfg["padding"] = padding
    if (sh, sw) != (1, 1):
        cfg["strides"] = _tuple_or_int(draw, [sh, sw])
    if not draw(st.booleans()):
        cfg["use_bias"] = False
    out = (_conv_len(h, kh, sh, padding), _conv_len(w, kw, sw, padding), filters)
    return {"class_name": "Conv2D", "config": cfg}, out


@st.composite
def _max_pool2d(draw: Any, shape: Shape, version: int) -> tuple[dict, Shape]:
    h, w, c = shape
    padding = draw(st.sampled_from(["valid", "same"]))
    ph = draw(st.integers(1, min(h, 3) if padding == "valid" else 3))
    pw = draw(st.integers(1, min(w, 3) if padding == "valid" else 3))
    cfg: dict[str, Any] = {"pool_size": _tuple_or_int(draw, [ph, pw])}
    sh, sw = ph, pw  # strides default to pool_size
    if draw(st.booleans()):
        sh, sw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        cfg["strides"] = _tuple_or_int(draw, [sh, sw])
    if padding != "valid":
        cfg["padding"] = padding
    out = (_conv_len(h, ph, sh, padding), _conv_len(w, pw, sw, padding), c)
    return {"class_name": "MaxPooling2D", "config": cfg}, out


@st.composite
def _global_avg_pool2d(draw: Any, shape: Shape, version: int) -> tuple[dict, Shape]:
    c = shape[-1]
    if draw(st.booleans()):
        return {"class_name": "GlobalAveragePooling2D", "config": {"keepdims": True}}, (1, 1, c)
    return {"class_name": "GlobalAveragePooling2D", "config": {}}, (c,)


@st.composite
def _embedding(draw: Any, shape: Shape, version: int) -> tuple[dict, Shape]:
    dim = draw(st.integers(1, MAX_DIM))
    cfg = {"input_dim": draw(st.integers(1, MAX_DIM)), "output_dim": dim}
    return {"class_name": "Embedding", "config": cfg}, (*shape, dim)


_ANY_RANK = [
    _dense,
    _batch_norm,
    _activation,
    _dropout,
    _batch_norm,
    _layer_norm,
    _flatten,
    _reshape,
]
_RANK2 = [_conv1d]
_RANK3 = [_conv2d, _max_pool2d, _global_avg_pool2d]


@st.composite
def _layer(draw: Any, shape: Shape, version: int) -> tuple[dict, Shape]:
    """One float layer applicable to a tensor of ``shape``, and its output shape."""
    kinds = list(_ANY_RANK)
    if len(shape) == 2:
        kinds += _RANK2 * 2
    if len(shape) == 3:
        kinds += _RANK3 * 2
    if math.prod(shape) > MAX_ELEMENTS // 4:
        kinds.remove(_flatten)  # keep the following Dense small
    kind = draw(st.sampled_from(kinds))
    spec, out = draw(kind(shape, version))
    if draw(st.sampled_from([True, True, True, False])) is False:
        spec["trainable"] = False
    return spec, out


# --------------------------------------------------------------------------
# inputs and models
# --------------------------------------------------------------------------


@st.composite
def _input(draw: Any, allow_int: bool) -> dict:
    if allow_int and draw(st.sampled_from([False] * 5 + [True])):
        return {"shape": [draw(st.integers(1, 8))], "dtype": "int32"}
    rank = draw(st.integers(1, 3))
    hi = {1: MAX_DIM, 2: 8, 3: 6}[rank]
    shape = [draw(st.integers(1, hi)) for _ in range(rank)]
    if rank == 3:
        shape[-1] = min(shape[-1], 4)
    return {"shape": shape, "dtype": "float32"}


def _more(draw: Any, done: int, limit: int) -> bool:
    """Whether to add one more layer/node: a flag per element (not a count drawn
    up front), so that the shrinker can delete any element together with its flag."""
    return done < limit and draw(st.sampled_from([False, True, True, True]))


def _maybe_frozen(draw: Any, spec: dict, nested: bool) -> dict:
    choices = [True, False] if nested else [True, True, True, True, False]
    if draw(st.sampled_from(choices)) is False:
        spec["trainable"] = False
    return spec


@st.composite
def _sequential(draw: Any, version: int, depth: int, input_shape: Shape | None):
    if input_shape is None:
        inp = draw(_input(allow_int=True))
    else:
        inp = {"shape": list(input_shape), "dtype": "float32"}
    shape: Shape = tuple(inp["shape"])
    layers: list[dict] = []
    if inp["dtype"] == "int32":
        spec, shape = draw(_embedding(shape, version))
        layers.append(spec)
    ops = ["layer", "layer", "layer", "model"] if depth < MAX_DEPTH else ["layer"]
    while not layers or _more(draw, len(layers), 6):
        if draw(st.sampled_from(ops)) == "model":
            sub, shape = draw(_model(version, depth + 1, shape))
            layers.append({"model": sub})
        else:
            spec, shape = draw(_layer(shape, version))
            layers.append(spec)
    spec = {"kind": "sequential", "input": inp, "layers": layers}
    return _maybe_frozen(draw, spec, nested=input_shape is not None), shape


@st.composite
def _functional(draw: Any, version: int, depth: int, input_shape: Shape | None):
    if input_shape is None:
        inputs = [draw(_input(allow_int=True)) for _ in range(draw(st.integers(1, 2)))]
    else:
        inputs = [{"shape": list(input_shape), "dtype": "float32"}]
    tensors: list[tuple[Shape, str]] = [(tuple(i["shape"]), i["dtype"]) for i in inputs]
    nodes: list[dict] = []
    # For each node: (input shape, dtype) when its layer/model can be called again.
    callable_on: list[tuple[Shape, str] | None] = []
    consumed: set[int] = set()

    def add(node: dict, out: Shape, on: tuple[Shape, str] | None, used: list[int]) -> None:
        nodes.append(node)
        callable_on.append(on)
        tensors.append((out, "float32"))
        consumed.update(used)

    def plain_layer(src: int) -> None:
        shape, dtype = tensors[src]
        if dtype == "int32":
            spec, out = draw(_embedding(shape, version))
        else:
            spec, out = draw(_layer(shape, version))
        add({"op": "layer", "layer": spec, "input": src}, out, (shape, dtype), [src])

    # Every input feeds a layer first (Keras wants all inputs connected).
    for i in range(len(inputs)):
        plain_layer(i)

    ops = ["layer", "layer", "merge", "merge", "merge", "shared"]
    if depth < MAX_DEPTH:
        ops.append("model")
    while _more(draw, len(nodes) - len(inputs), 6):
        floats = [i for i, (_, dt) in enumerate(tensors) if dt == "float32"]
        src = floats[len(floats) - 1 - draw(st.integers(0, len(floats) - 1))]  # recent first
        shape = tensors[src][0]
        op = draw(st.sampled_from(ops))
        if op == "merge":
            cls = draw(
                st.sampled_from(
                    ["Add", "Concatenate", "Multiply", "Average", "Maximum", "Subtract"]
                )
            )
            if cls == "Concatenate":
                node, out = draw(_concatenate(tensors, src))
            else:
                same = [i for i in floats if tensors[i][0] == shape]
                n_in = 2 if cls == "Subtract" else draw(st.integers(2, 3))
                others = [draw(st.sampled_from(same)) for _ in range(n_in - 1)]
                node = {
                    "op": "merge",
                    "layer": {"class_name": cls, "config": {}},
                    "inputs": [src, *others],
                }
                out = shape
            add(node, out, None, node["inputs"])
        elif op == "shared":
            targets = {
                n: [t for t in range(len(tensors)) if tensors[t] == on]
                for n, on in enumerate(callable_on)
                if on is not None
            }
            if not targets:
                plain_layer(src)
                continue
            # Nested models are few among the nodes: pick one half of the time.
            models = [n for n in targets if nodes[n]["op"] == "model"]
            pool = models if models and draw(st.booleans()) else list(targets)
            n = draw(st.sampled_from(pool))
            t = draw(st.sampled_from(targets[n]))
            out = tensors[len(inputs) + n][0]
            add({"op": "shared", "node": n, "input": t}, out, None, [t])
        elif op == "model":
            sub, out = draw(_model(version, depth + 1, shape))
            add({"op": "model", "model": sub, "input": src}, out, (shape, "float32"), [src])
        else:
            plain_layer(src)

    n_in = len(inputs)
    if input_shape is not None:
        outputs = [len(tensors) - 1]  # nested models: one output
    else:
        # Every dangling tensor, maybe some intermediate ones too, in any order
        # (model.layers order follows a traversal from the outputs).
        outputs = [i for i in range(n_in, len(tensors)) if i not in consumed]
        inner = [i for i in range(n_in, len(tensors)) if i in consumed]
        if inner and draw(st.sampled_from([False, False, True])):
            outputs += draw(st.lists(st.sampled_from(inner), min_size=1, max_size=2, unique=True))
        if len(outputs) > 1:
            outputs = draw(st.permutations(outputs))
    spec = {"kind": "functional", "inputs": inputs, "nodes": nodes, "outputs": outputs}
    out_shape = tensors[outputs[0]][0]
    return _maybe_frozen(draw, spec, nested=input_shape is not None), out_shape


@st.composite
def _concatenate(draw: Any, tensors: list[tuple[Shape, str]], src: int):
    shape = tensors[src][0]
    rank = len(shape)

    def diff(other: Shape) -> list[int]:
        return [i for i in range(rank) if other[i] != shape[i]]

    partners = [
        i
        for i, (s, dt) in enumerate(tensors)
        if dt == "float32" and len(s) == rank and len(diff(s)) <= 1
    ]
    other = draw(st.sampled_from(partners[::-1]))
    d = diff(tensors[other][0])
    axis = d[0] + 1 if d else draw(st.integers(1, rank).map(lambda a: rank + 1 - a))
    out = list(shape)
    out[axis - 1] += tensors[other][0][axis - 1]
    form = _axis_forms(draw, axis, rank)
    cfg = {} if form == -1 else {"axis": form}
    node = {
        "op": "merge",
        "layer": {"class_name": "Concatenate", "config": cfg},
        "inputs": [src, other],
    }
    return node, tuple(out)


@st.composite
def _model(draw: Any, version: int, depth: int, input_shape: Shape | None):
    kind = draw(st.sampled_from(["sequential", "functional"]))
    if kind == "sequential":
        return draw(_sequential(version, depth, input_shape))
    return draw(_functional(version, depth, input_shape))


def model_specs(version: int) -> st.SearchStrategy[dict]:
    """Specs of models for Keras ``version`` (3: keras, 2: tf_keras)."""
    if version not in (2, 3):
        raise ValueError(f"version must be 2 or 3, got {version!r}")
    return _model(version, 0, None).map(lambda pair: pair[0])


def spec_layer_classes(spec: dict) -> set[str]:
    """Every layer class a spec uses (nested models included), for statistics."""
    out: set[str] = set()
    entries = spec.get("layers", []) + [
        n.get("layer") or {"model": n["model"]}
        for n in spec.get("nodes", [])
        if n["op"] != "shared"
    ]
    for entry in entries:
        if "model" in entry:
            out.add(entry["model"]["kind"])
            out |= spec_layer_classes(entry["model"])
        else:
            out.add(entry["class_name"])
    return out


# --------------------------------------------------------------------------
# building with real Keras
# --------------------------------------------------------------------------

_TUPLE_KEYS = ("kernel_size", "strides", "pool_size", "target_shape")


def _keras(version: int) -> Any:
    if version == 3:
        import keras

        return keras
    if version == 2:
        import tf_keras

        return tf_keras
    raise ValueError(f"version must be 2 or 3, got {version!r}")


def _make_layer(k: Any, spec: dict) -> Any:
    kwargs = dict(spec.get("config", {}))
    for key in _TUPLE_KEYS:
        if isinstance(kwargs.get(key), list):
            kwargs[key] = tuple(kwargs[key])
    if spec.get("trainable", True) is False:
        kwargs["trainable"] = False
    return getattr(k.layers, spec["class_name"])(**kwargs)


def _input_tensor(k: Any, inp: dict) -> Any:
    return k.Input(shape=tuple(inp["shape"]), dtype=inp.get("dtype", "float32"))


def _build(k: Any, spec: dict) -> Any:
    if spec["kind"] == "sequential":
        layers = [_input_tensor(k, spec["input"])]
        for entry in spec["layers"]:
            layers.append(_build(k, entry["model"]) if "model" in entry else _make_layer(k, entry))
        model = k.Sequential(layers)
    else:
        tensors = [_input_tensor(k, inp) for inp in spec["inputs"]]
        n_in = len(tensors)
        callables: list[Any] = []
        for node in spec["nodes"]:
            op = node["op"]
            if op == "merge":
                fn = _make_layer(k, node["layer"])
                out = fn([tensors[i] for i in node["inputs"]])
            else:
                if op == "layer":
                    fn = _make_layer(k, node["layer"])
                elif op == "model":
                    fn = _build(k, node["model"])
                elif op == "shared":
                    fn = callables[node["node"]]
                else:
                    raise ValueError(f"unknown node op {op!r}")
                out = fn(tensors[node["input"]])
            callables.append(fn)
            tensors.append(out)
        outs = [tensors[i] for i in spec["outputs"]]
        model = k.Model(
            tensors[0] if n_in == 1 else tensors[:n_in], outs[0] if len(outs) == 1 else outs
        )
    # Freezing a model freezes every layer in it (the flag propagates), so it is set
    # only when asked for: setting True would un-freeze individually frozen layers.
    if spec.get("trainable", True) is False:
        model.trainable = False
    return model


def build_keras(spec: dict, version: int) -> Any:
    """Build ``spec`` with real Keras (3: ``keras``, 2: ``tf_keras``); returns the model."""
    return _build(_keras(version), spec)
