"""Keras references, layer construction, Input and calling layers."""

from __future__ import annotations

from typing import Any

from bnlint.readers.source.py_helpers import _is_num, _plain_data
from bnlint.readers.source.values import (
    _MISSING,
    ArrayValue,
    Instance,
    KRef,
    Opaque,
    TFInitializer,
    Unresolved,
    UserFunc,
)
from bnlint.symbolic import Sym

_MERGE_FUNCS = {"add": "Add", "subtract": "Subtract", "multiply": "Multiply", "average": "Average",
                "maximum": "Maximum", "minimum": "Minimum", "concatenate": "Concatenate",
                "dot": "Dot"}


# The first parameter of call() where it is not ``inputs`` (Keras 3 and tf_keras agree).
_FIRST_CALL_ARG = {"MultiHeadAttention": "query", "GroupedQueryAttention": "query"}


_MODEL_FACT_METHODS = {"compile", "fit", "fit_generator", "train_on_batch", "predict",
                       "predict_on_batch", "evaluate", "evaluate_generator", "predict_generator",
                       "test_on_batch", "load_weights", "save_weights", "save"}


# keras.datasets.<name>.load_data(): the shapes Keras documents (and asserts in its
# docstrings) for ((x_train, y_train), (x_test, y_test)), channels_last.
_DATASETS = {
    "mnist": (((60000, 28, 28), (60000,)), ((10000, 28, 28), (10000,))),
    "fashion_mnist": (((60000, 28, 28), (60000,)), ((10000, 28, 28), (10000,))),
    "cifar10": (((50000, 32, 32, 3), (50000, 1)), ((10000, 32, 32, 3), (10000, 1))),
    "cifar100": (((50000, 32, 32, 3), (50000, 1)), ((10000, 32, 32, 3), (10000, 1))),
}

_KERAS_CONSTANTS = {"image_data_format": "channels_last", "floatx": "float32",
                    "epsilon": 1e-07, "backend": "tensorflow"}

_BUILT_AT_INIT = frozenset({
    "Activation", "ELU", "LeakyReLU", "ReLU", "Softmax", "Identity", "Masking",
    "UnitNormalization", "Reshape", "ActivityRegularization", "AlphaDropout", "Dropout",
    "GaussianDropout", "GaussianNoise", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalAveragePooling3D",
})


_STATE_IN_CALL = ("Keras 3 raises ValueError when call() creates state: 'You cannot add new "
                  "elements of state (variables or sub-layers) to a layer that is already "
                  "built' (create it in __init__ or build)")


def _unbuilt(layer: Any) -> bool:
    """Keras 3's ``not layer.built`` for a tracked sublayer that was never called."""
    if getattr(layer, "is_model", False):
        return not layer.is_built
    return layer.built is None and layer.class_name not in _BUILT_AT_INIT


def _set_trainable(layer: Any, value: bool, depth: int = 0) -> None:
    """Keras's ``trainable`` setter: a model passes the flag down to every layer it holds."""
    layer.trainable = value
    if getattr(layer, "is_model", False) and depth < 20:
        for sub in layer.layers:
            if sub is not layer:
                _set_trainable(sub, value, depth + 1)


_NO_MASK = object()  # out_mask: the custom layer did not say

# Built-in layers given a masked input (measured, tests/test_ops_oracle.py): those that pass
# the mask on unchanged, and those whose output has none; any other marks it not modelled.
MASK_KEEPS = {
    3: frozenset({"Dense", "Dropout", "Activation", "LayerNormalization", "BatchNormalization",
                  "ReLU", "Softmax", "GaussianNoise", "SpatialDropout1D", "UnitNormalization",
                  "LeakyReLU", "ELU", "ActivityRegularization", "Identity"}),
    2: frozenset({"Dense", "Dropout", "Activation", "LayerNormalization", "BatchNormalization",
                  "ReLU", "Softmax", "GaussianNoise", "SpatialDropout1D", "UnitNormalization",
                  "LeakyReLU", "ELU", "ActivityRegularization"}),
}
MASK_DROPS = {
    3: frozenset({"Conv1D", "GlobalAveragePooling1D", "Flatten", "Reshape", "Permute"}),
    2: frozenset({"Conv1D", "GlobalAveragePooling1D", "Flatten", "Reshape", "Permute",
                  "Identity"}),
}


class _LambdaCall:
    """A ``Lambda`` without ``output_shape``: Keras calls the function on symbolic tensors to
    learn the output shape; bnlint interprets the function (user code, read statically)."""

    def __init__(self, world: Any, fn: UserFunc, arguments: Any):
        self.world = world
        self.fn = fn
        self.arguments = arguments if isinstance(arguments, dict) else {}

    def __call__(self, layer: Any, shapes: list[Any], kwargs: dict[str, Any], list_input: bool,
                 first_count: int | None) -> list[Any]:
        from bnlint.keras import builder as kb
        from bnlint.keras.catalogue import Built

        w = self.world
        if any(s is None for s in shapes):
            return [None]
        phs = [kb.make_input("__arg__", tuple(s), w.py.version) for s in shapes]
        arg = phs if list_input or len(phs) != 1 else phs[0]
        w.in_custom += 1
        saved, w.first_unknown = w.first_unknown, None
        try:
            out = w._guarded(self.fn, [arg], dict(self.arguments))
        finally:
            w.in_custom -= 1
            cause, w.first_unknown = w.first_unknown, saved
        ts = w._tensors(out)
        if ts and all(t.shape is not None for t in ts):
            outs = [tuple(t.shape) for t in ts]
            if layer.built is None:
                layer.built = Built(outs)
            return outs
        if layer.built is None:
            layer.unknown = layer.unknown or (
                "Lambda: its output shape depends on operations bnlint does not model"
                + (f": {cause}" if cause else "") + " (give `output_shape=` to make it known)")
        return [None] * max(1, len(ts or []))


def _trackable(v: Any) -> bool:
    """tf-keras tracks an attribute value that is a layer or a (wrapped) container."""
    from bnlint.keras.builder import KLayer

    if isinstance(v, Instance):
        return v.klayer is not None or v.kmodel is not None
    return isinstance(v, (KLayer, list, dict)) or (isinstance(v, tuple) and not isinstance(
        v, str))


def _v2_order(v: Any, depth: int = 0) -> Any:
    """A container's items as tf-keras's ``_flatten_modules`` visits them: a dict's values
    sorted by key (``_DictWrapper._values``), lists and tuples in order."""
    if depth > 4:
        return v
    if isinstance(v, dict):
        try:
            keys = sorted(v)
        except TypeError:
            keys = list(v)
        return [_v2_order(v[k], depth + 1) for k in keys]
    if isinstance(v, (list, tuple)):
        return [_v2_order(x, depth + 1) for x in v]
    return v


class _LambdaShapeCall:
    """A Keras 3 ``Lambda`` whose ``output_shape`` is a function: Keras's
    ``compute_output_shape`` calls it on the input shape (a list of shapes for a list input)
    and never runs the layer's function on a symbolic call."""

    def __init__(self, world: Any, fn: UserFunc):
        self.world = world
        self.fn = fn

    def __call__(self, layer: Any, shapes: list[Any], kwargs: dict[str, Any], list_input: bool,
                 first_count: int | None) -> list[Any]:
        from bnlint.keras.catalogue import Built

        w = self.world
        if any(s is None for s in shapes):
            return [None]
        first = shapes if first_count is None else shapes[:first_count]
        arg = [tuple(s) for s in first] if list_input or len(first) != 1 else tuple(first[0])
        out = w._guarded(self.fn, [arg], {})
        shape = w._shape_value(out) if isinstance(out, (list, tuple)) else None
        if shape is not None and all(d is None or (isinstance(d, int) and d >= 0)
                                     for d in shape):
            if layer.built is None:
                layer.built = Built([shape])
            return [shape]
        if layer.built is None:
            layer.unknown = layer.unknown or (
                f"Lambda: its output_shape function `{self.fn.name}` gives no shape bnlint "
                "can read")
        return [None]


class _LayerList:
    """``model.layers``: indexing records a reference."""

    def __init__(self, layers: list[Any], model_name: str):
        self.layers = layers
        self.model_name = model_name


class Layers:
    def _layer_values(self, value: Any) -> list[Any]:
        """The Keras layers (KLayer) a value assigned to an attribute holds."""
        from bnlint.keras.builder import KLayer

        out = []
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(v, Instance):
                v = v.kmodel or v.klayer
            if isinstance(v, KLayer):
                out.append(v)
        return out

    def state_in_call(self, inst: Instance, layers: list[Any], node: Any) -> None:
        """Keras 3: a layer or variable created inside call() makes the call raise."""
        reason = f"created in `{inst.cls.name}.call`: {_STATE_IN_CALL}"
        for la in [*layers, *([inst.klayer] if inst.klayer is not None else [])]:
            la.unknown = la.unknown or reason
        self.py.note(node, f"`{self.py.text(node)}`: {_STATE_IN_CALL}")

    def _track(self, inst: Instance, value: Any, depth: int = 0) -> None:
        """Keras tracks the layers an attribute holds, also inside lists, tuples and dicts
        (its tracked containers: a layer appended later is tracked too, see :meth:`retrack`)."""
        from bnlint.keras.builder import KLayer

        if isinstance(value, dict):
            value = list(value.values())
        vals = value if isinstance(value, (list, tuple)) else [value]
        for v in vals:
            if isinstance(v, (list, tuple, dict)):
                if depth < 4:
                    self._track(inst, v, depth + 1)
                continue
            target = v
            if isinstance(v, Instance):
                target = v.kmodel or v.klayer
            if isinstance(target, KLayer) and target is not inst.klayer and not any(
                    t is target for t in inst.tracked):
                inst.tracked.append(target)

    def retrack(self, inst: Instance) -> None:
        """The layers an instance holds, in Keras's order.

        Keras 3 tracks a layer when it is assigned or added to a tracked container (see
        :meth:`container_added`); this adds any other layer its containers hold.  tf-keras
        orders them at use (``_flatten_modules``): its tracked attribute values in
        ``_self_tracked_trackables`` order (:meth:`v2_setattr`), each container expanded in
        place (a dict's values sorted by key)."""
        if self.py.version == 2:
            inst.tracked = []
            for v in inst.trackables:
                self._track(inst, _v2_order(v))
            return
        for v in list(inst.attrs.values()):
            if isinstance(v, (list, tuple, dict)):
                self._track(inst, v)

    def keras_setattr(self, inst: Instance, name: str, value: Any) -> Any:
        """What ``inst.name = value`` stores on a layer or model: Keras 3's tracker copies a
        list or dict into a tracked container (``TrackedList``; a list the program keeps and
        appends to later is not the attribute's), tuples keep their items; tf-keras wraps
        containers around the same storage and keeps ``_self_tracked_trackables``."""
        if inst.klayer is None and inst.kmodel is None:
            return value
        if self.py.version == 2:
            self.v2_setattr(inst, name, value)
            return value
        return self._tracked_copy(inst, value, 0)

    def _tracked_copy(self, inst: Instance, value: Any, depth: int) -> Any:
        if depth > 4 or not isinstance(value, (list, tuple, dict)) or isinstance(value, str):
            return value
        if isinstance(value, dict):
            out: Any = {k: self._tracked_copy(inst, v, depth + 1) for k, v in value.items()}
        elif isinstance(value, list):
            out = [self._tracked_copy(inst, v, depth + 1) for v in value]
        else:
            items = [self._tracked_copy(inst, v, depth + 1) for v in value]
            if all(a is b for a, b in zip(items, value, strict=True)):
                return value
            try:
                out = type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
            except TypeError:
                return value
        if isinstance(out, (list, dict)):
            self.owned[id(out)] = (out, inst)
        return out

    def v2_setattr(self, inst: Instance, name: str, value: Any) -> None:
        """tf-keras ``Layer.__setattr__``: the old value leaves ``_self_tracked_trackables``
        when no other attribute holds it (``__delattr__``), a layer or container (even empty)
        is appended unless already there."""
        old = inst.attrs.get(name, _MISSING)
        if old is not _MISSING and _trackable(old) and not any(
                v is old for k, v in inst.attrs.items() if k != name):
            inst.trackables = [t for t in inst.trackables if t is not old]
        if _trackable(value) and not any(t is value for t in inst.trackables):
            inst.trackables.append(value)

    def container_added(self, container: Any, values: list[Any]) -> None:
        """Keras 3: a value added to a layer's tracked list or dict is tracked at once."""
        owner = self.owned.get(id(container))
        if owner is None or owner[0] is not container:
            return
        self._track(owner[1], values)

    def _invalidate(self) -> None:
        self.graph_cache.clear()

    # -------------------------------------------------------------- keras references
    def keras_kind(self, ref: KRef) -> tuple[str, str] | None:
        """What calling a Keras path does: (kind, class) or None."""
        from bnlint.keras.signatures import resolve_class

        parts = ref.path.split(".")
        if parts[0] != "keras" or len(parts) < 2:
            return None
        last = parts[-1]
        mid = parts[1:-1]
        if last == "Sequential" and (not mid or mid[0] in ("models", "src", "engine")):
            return ("sequential", "Sequential")
        if last in ("Model", "Functional") and (not mid or mid[0] in ("models", "src", "engine")):
            return ("model", "Functional")
        if last == "Input" and (not mid or mid[0] in ("layers", "src", "engine")):
            return ("input", "Input")
        if last in ("load_model", "clone_model", "save_model") and (
                not mid or mid[0] in ("models", "saving", "src")):
            return (last, "")
        if last == "InputLayer":
            return ("inputlayer", "InputLayer")
        if last == "clear_session" and mid and mid[0] in ("backend", "utils", "src"):
            return ("clear", "")
        if mid and mid[0] in ("layers", "src", "legacy"):
            if last in _MERGE_FUNCS:
                return ("merge", _MERGE_FUNCS[last])
            cls = resolve_class(last, self.py.version)
            if cls is not None:
                return ("layer", cls)
        return None

    def model_layers(self, model: Any) -> list[Any]:
        return list(model.layers)

    def state(self) -> tuple:
        """What an iteration could change of the models: names taken, models, layers added,
        layers made (explicitly named layers take no automatic name)."""
        return (len(self.models), tuple(sorted(self.counters.counts.items())),
                sum(len(st.layers) for st in self.seq.values()), self.made)

    # -------------------------------------------------------------- keras calls
    def call_keras(self, ref: KRef, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        kind = self.keras_kind(ref)

        if kind is None:
            last = ref.path.rsplit(".", 1)[-1]
            if last == "get" and ".activations" in ref.path and args and isinstance(args[0], str):
                return KRef(f"keras.activations.{args[0]}")
            if last in ("int_shape", "shape") and len(args) == 1 and (
                    ".backend" in ref.path or ".ops" in ref.path
                    or ref.path in ("tensorflow.shape", "tensorflow.compat.v1.shape")):
                from bnlint.keras.builder import KTensor

                if isinstance(args[0], KTensor) and args[0].shape is not None:
                    return tuple(args[0].shape)
            parts = ref.path.split(".")
            if last == "load_data" and len(parts) >= 4 and parts[-3] == "datasets" and \
                    parts[-2] in _DATASETS:
                if parts[-2].startswith("cifar") and self.image_data_format != "channels_last":
                    # Keras transposes CIFAR images to channels_last only in that data format
                    return Opaque(self.py.text(node))
                return tuple(tuple(ArrayValue(s) for s in pair)
                             for pair in _DATASETS[parts[-2]])
            if last == "get_uid" and (".backend" in ref.path or ".naming" in ref.path):
                prefix = args[0] if args else kwargs.get("prefix", "")
                if isinstance(prefix, str):
                    return self.counters.get_uid(prefix)
            if ref.path in ("tensorflow.Variable", "tensorflow.compat.v2.Variable"):
                return self.tf_variable(args, kwargs, node)
            if ref.path.startswith("tensorflow.") and last.endswith("_initializer") and (
                    not self.has_tensor(args, kwargs)):
                return TFInitializer(self.py.text(node))
            if last == "VersionAwareLayers":  # tf_keras applications' `layers = ...()`
                return KRef("keras.layers")
            if last == "set_image_data_format" and (
                    ".backend" in ref.path or ".config" in ref.path):
                fmt = args[0] if args else kwargs.get("data_format")
                if fmt in ("channels_last", "channels_first"):
                    self.image_data_format = fmt
                    return None
                self.py.note(node, f"`{self.py.text(node)}`: data format not known statically; "
                                   "layers made after it are not modelled")
                self.image_data_format = "?"
                return None
            if last == "image_data_format" and (".backend" in ref.path or ".config" in ref.path):
                return self.image_data_format if self.image_data_format != "?" else Opaque(
                    self.py.text(node))
            known = _KERAS_CONSTANTS.get(last)
            if known is not None and (".backend" in ref.path or ".config" in ref.path):
                return known
            if last == "is_keras_tensor":
                from bnlint.keras.builder import KTensor

                return isinstance(args[0], KTensor) if args else Opaque(self.py.text(node))
            if last == "get_source_inputs" and args:
                ts = self._tensors(args[0])
                if ts is not None:
                    return [t for t in ts if t.node.is_input] or Opaque(self.py.text(node))
            pre = self.preprocess_input(ref.path, args, kwargs, node)
            if pre is not _MISSING:
                return pre
            fn = self.py.keras_source(ref.path, node)
            if fn is not _MISSING:
                return self.py.call(fn, args, kwargs, node, self.py.globals)
            from bnlint.keras.ops import namespace_op

            if last == "Variable" and ref.path.startswith("tensorflow."):
                return self.tf_variable(args, kwargs, node)
            if not (self.in_custom or self.calling) and last in ("arange", "range") and (
                    ref.path.startswith(("tensorflow.", "keras.ops.", "keras.src.ops."))) and (
                    not self.has_tensor(args, kwargs)):
                # outside a traced call(): an eager tensor (``tf.range(0, 256)``)
                shape = self.op_result_shape(last, args, kwargs, keras_ops=not ref.path.startswith(
                    "tensorflow."))
                if shape is not None and all(isinstance(d, int) for d in shape):
                    return ArrayValue(shape)
            # inside a traced call(): tensor creation, and an operation on Python numbers
            # (``ops.cast(16, ...)``, ``ops.sqrt(4.0)``) makes a scalar tensor
            creation = (self.in_custom or self.calling) and (
                (last in ("arange", "range", "normal", "uniform", "truncated_normal", "zeros",
                          "ones", "convert_to_tensor", "constant")
                 and namespace_op(ref.path, self.py.version) is not None)
                or (bool(args) and _is_num(args[0]) and ref.path.startswith(
                    ("tensorflow.", "keras.ops.", "keras.src.ops."))))
            if (self.has_tensor(args, kwargs) or creation) and (
                    ref.path.startswith(("tensorflow.", "keras.ops.", "keras.src.ops.",
                                         "keras.random.", "keras.src.random."))
                    or ((self.in_custom or self.calling) and ref.path.startswith("keras."))):
                return self.apply_op(ref.path, args, kwargs, node)
            ns = namespace_op(ref.path, self.py.version)
            if ns is not None and not self.has_tensor(args, kwargs) and self._has_array(
                    args, kwargs):
                # a TF / keras.ops function on concrete arrays runs eagerly: an array
                shape = self.op_result_shape(ns[0], args, kwargs, {"keras": True, "tf": False,
                                                                   "backend": "backend"}[ns[1]])
                if shape is not None and all(isinstance(d, int) for d in shape):
                    return ArrayValue(shape)
            if ns is not None and not (self.in_custom or self.calling) and ns[0] in (
                    "normal", "uniform", "truncated_normal", "zeros", "ones") and \
                    not self.has_tensor(args, kwargs):
                # an eager tensor (``tf.random.normal((32, 64, 64, 3))``): concrete data
                shape = self.op_result_shape(ns[0], args, kwargs, ns[1] == "keras")
                if shape is not None and all(isinstance(d, int) for d in shape):
                    return ArrayValue(shape)
            return self.unknown_call(args, kwargs, node)
        k, cls = kind
        if k == "clear":
            from bnlint.keras.naming import NameCounters

            self.counters = NameCounters(self.py.version)
            return None
        if k == "load_model":
            return self.load_model(args, kwargs, node)
        if k == "clone_model":
            return self.clone_model(args, kwargs, node)
        if k == "save_model":
            if args:
                self.save_model(args[0], args[1] if len(args) > 1 else kwargs.get("filepath"))
            return None
        if k == "input":
            return self.make_input_call(args, kwargs, node)
        if k == "inputlayer":
            t = self.make_input_call(args, kwargs, node, layer_form=True)
            return t.node.layer if not isinstance(t, Opaque) else t
        if k == "sequential":
            return self.make_sequential(args, kwargs, node)
        if k == "model":
            return self.make_functional(args, kwargs, node)
        if k == "merge":
            inputs = args[0] if args else kwargs.pop("inputs", None)
            layer = self.make_layer(cls, list(args[1:]), kwargs, node, skip_positional=0)
            return self.call_layer_value(layer, [inputs], {}, node)
        if k == "layer":
            return self.make_layer(cls, args, kwargs, node)
        return Opaque(self.py.text(node))

    def _shape_value(self, v: Any) -> tuple | None:
        if isinstance(v, int) and not isinstance(v, bool):
            return (v,)
        if isinstance(v, Sym):
            return (v,)
        if isinstance(v, Opaque):
            return None
        if isinstance(v, (list, tuple)):
            out = []
            for d in v:
                if d is None or (isinstance(d, int) and not isinstance(d, bool)) or isinstance(d, Sym):
                    out.append(d)
                elif isinstance(d, Opaque):
                    out.append(Sym.atom(d.text))
                else:
                    return None
            return tuple(out)
        return None

    def make_input_call(self, args: list[Any], kwargs: dict[str, Any], node: Any,
                        layer_form: bool = False) -> Any:
        from bnlint.keras import builder as kb
        from bnlint.keras.signatures import signature

        if layer_form:
            sig = signature("InputLayer", self.py.version) or {}
            order = [p["name"] for p in sig.get("params", []) if p["kind"].startswith("POSITIONAL")]
        elif self.py.version == 3:
            order = ["shape", "batch_size", "dtype", "sparse", "ragged", "batch_shape", "name",
                     "tensor", "optional"]
        else:
            order = ["shape", "batch_size", "name", "dtype", "sparse", "tensor", "ragged",
                     "type_spec"]
        values = dict(kwargs)
        for pname, v in zip(order, args, strict=False):
            values[pname] = v
        batch = values.get("batch_shape", values.get("batch_input_shape"))
        if batch is not None:
            shape = self._shape_value(batch)
        else:
            raw = values.get("shape", values.get("input_shape"))
            inner = self._shape_value(raw) if raw is not None else None
            bs = values.get("batch_size")
            if inner is None:
                shape = None
            else:
                shape = (bs if isinstance(bs, int) else None, *inner)
        name = self.given_name(values.get("name"), node)
        if name is None:
            name = self.counters.input_name()
        dtype = values.get("dtype") if isinstance(values.get("dtype"), str) else "float32"
        if shape is None:
            self.py.note(node, f"`{self.py.text(node)}`: input shape not known statically")
            t = kb.make_input(name, (None,), self.py.version, dtype=dtype, location=self.py.loc(node))
            t.shape = None
            t.node.layer.unknown = "input shape not known statically"
            return t
        return kb.make_input(name, shape, self.py.version, dtype=dtype, location=self.py.loc(node))

    def given_name(self, name: Any, node: Any) -> str | None:
        """The ``name=`` given to a layer/input/model: the string, None when absent (Keras
        names it automatically), or a placeholder ``<text>`` with a note when it is not known
        statically (``str(backend.get_uid(...)) + "_gap"`` of an unknown call): never the
        automatic name Keras would not give it."""
        if name is None or isinstance(name, str):
            return name
        text = name.text if isinstance(name, Opaque) else str(name)
        self.py.note(node, f"`{self.py.text(node)}`: the name `{text}` is not known "
                           "statically")
        return f"<{text}>"

    def _cfg(self, v: Any) -> Any:
        from bnlint.keras.builder import KLayer

        if v is None or isinstance(v, (bool, int, float, str, Sym)):
            return v
        if isinstance(v, Opaque):
            return Sym.atom(v.text)
        if isinstance(v, (list, tuple)):
            return [self._cfg(x) for x in v] if isinstance(v, list) else tuple(
                self._cfg(x) for x in v)
        if isinstance(v, dict):
            return {str(k): self._cfg(x) for k, x in v.items()}
        if isinstance(v, KRef):
            return v.path.rsplit(".", 1)[-1]
        if isinstance(v, KLayer):
            # wrapped layers (Bidirectional(LSTM(...))): their config, as Keras serializes it
            config = dict(v.config)
            if not v.trainable:
                config["trainable"] = False  # a frozen wrapped layer's variables are frozen
            return {"class_name": v.class_name, "config": config}
        from bnlint.keras.catalogue import unknown_value

        return unknown_value(type(v).__name__)

    def make_layer(self, cls: str, args: list[Any], kwargs: dict[str, Any], node: Any,
                   skip_positional: int = 0) -> Any:
        from bnlint.keras.builder import KLayer
        from bnlint.keras.signatures import signature

        self.made += 1
        sig = signature(cls, self.py.version) or {}
        order = [p["name"] for p in sig.get("params", [])
                 if p["kind"] in ("POSITIONAL_OR_KEYWORD", "POSITIONAL_ONLY")]
        values: dict[str, Any] = {}
        for pname, v in zip(order, args, strict=False):
            values[pname] = v
        if len(args) > len(order):
            self.py.note(node, f"`{cls}`: more positional arguments than Keras accepts")
        values.update(kwargs)
        name = values.pop("name", None)
        trainable = values.pop("trainable", True)
        batch_shape = None
        input_dim = values.pop("input_dim", None) if "input_dim" not in order else None
        input_shape = values.pop("input_shape", None)
        if cls == "Embedding" and self.py.version == 2 and input_shape is None and \
                "batch_input_shape" not in values:
            # tf_keras's Embedding always sets an input shape: (input_length,) when it is
            # truthy, else (None,) -- so a Sequential that starts with one is built.
            length = values.get("input_length")
            input_shape = (None,) if length is None or self.py.truth(length) is False else (length,)
        b_in = values.pop("batch_input_shape", None)
        batch_size = values.pop("batch_size", None) if cls != "InputLayer" else values.get(
            "batch_size")
        if b_in is not None:
            batch_shape = self._shape_value(b_in)
        elif input_dim is not None or input_shape is not None:
            inner = self._shape_value((input_dim,) if input_dim is not None else input_shape)
            if inner is not None:
                bs = batch_size if isinstance(batch_size, int) and self.py.version == 2 else None
                batch_shape = (bs, *inner)
        if self.image_data_format != "channels_last" and values.get("data_format") is None \
                and any(p["name"] == "data_format" for p in sig.get("params", [])):
            # Keras resolves data_format=None to the global image_data_format at construction
            values["data_format"] = (self.image_data_format if self.image_data_format != "?"
                                     else Opaque("keras.backend.image_data_format()"))
        config = {k: self._cfg(v) for k, v in values.items()}
        name = self.given_name(name, node)
        if name is None:
            name = self.counters.layer_name(cls)
        config["name"] = name
        if cls == "MultiHeadAttention" and self.py.version == 3:
            self.counters.layer_name("Dropout")  # its internal dropout layer takes a name
        layer = KLayer(name, cls, config, self.py.version, trainable=self.py.truth(trainable) is not False,
                       location=self.py.loc(node))
        from bnlint.keras.validation import unknown_kwarg

        refused = unknown_kwarg(cls, [k for k in kwargs if isinstance(k, str)], self.py.version)
        if refused is not None:  # Keras raises in the constructor (a typo, a Keras 1 name)
            layer.refused = f"line {self.py.pos(node)[0]}: {refused}"
            self.py.note(node, f"`{name}`: {refused}")
        for key in ("layer", "backward_layer", "cell"):
            inner = values.get(key)
            if isinstance(inner, Opaque) and layer.unknown is None:
                # a wrapper (Bidirectional, TimeDistributed, RNN) of a value bnlint cannot read
                cause = f" ({inner.why})" if isinstance(inner, Unresolved) else ""
                layer.unknown = (f"line {self.py.pos(node)[0]}: the wrapped `{key}` "
                                 f"`{inner.text}` is not a layer bnlint knows{cause}")
            elif isinstance(inner, Instance) and layer.unknown is None:
                layer.unknown = (f"line {self.py.pos(node)[0]}: `{cls}` around the custom "
                                 f"layer `{inner.cls.name}` is not modelled (Keras rebuilds "
                                 "it from its get_config())")
        fn = values.get("function")
        if cls == "Lambda" and isinstance(fn, UserFunc) and values.get("output_shape") is None:
            layer.custom = _LambdaCall(self, fn, values.get("arguments"))
        elif cls == "Lambda" and isinstance(values.get("output_shape"), UserFunc) and \
                self.py.version == 3:
            layer.custom = _LambdaShapeCall(self, values["output_shape"])
        if batch_shape is not None:
            self.input_arg[id(layer)] = batch_shape
        elif input_dim is not None or input_shape is not None or b_in is not None:
            self.py.note(node, f"`{name}`: input shape not known statically")
            self.input_arg[id(layer)] = None  # a Sequential is built on it: shape unknown
        return layer

    def _set_masks(self, layer: Any, inputs: list[Any], outs: list[Any]) -> None:
        """The Keras mask of a call's outputs: Embedding(mask_zero=True) and Masking make one;
        a custom layer's compute_mask says (see custom_layer_call); another layer given a
        masked input passes on a mask bnlint does not model ("?")."""
        mask: Any = None
        first = inputs[0].shape if inputs else None
        if self.out_mask is not _NO_MASK:
            mask = self.out_mask
        elif layer.class_name == "Embedding" and not layer.is_op:
            mz = layer.config.get("mask_zero", False)
            mask = (tuple(first) if first is not None else "?") if mz is True else (
                None if mz in (False, None) else "?")
        elif layer.class_name == "Masking" and not layer.is_op:
            mask = tuple(first[:-1]) if first is not None else "?"
        elif any(m is not None for m in self.in_masks):
            v = self.py.version
            if layer.is_op or layer.class_name in MASK_DROPS[v]:
                mask = None if not layer.is_op else "?"
            elif layer.class_name in MASK_KEEPS[v] and len(self.in_masks) == 1:
                mask = self.in_masks[0]
            else:
                mask = "?"
        self.out_mask = _NO_MASK
        if mask is not None:
            for t in outs:
                self.masks[id(t)] = mask

    def call_layer_value(self, layer: Any, args: list[Any], kwargs: dict[str, Any],
                         node: Any) -> Any:
        from bnlint.keras.builder import KModel, KTensor

        if isinstance(layer, Instance):
            if layer.kmodel is not None or layer.klayer is not None:
                return self.call_subclass(layer, args, kwargs, node)
            call = layer.cls.lookup("__call__")
            if isinstance(call, UserFunc):
                return self.py.call_user(call, [layer, *args], kwargs, node)
            return Opaque(self.py.text(node))
        if isinstance(layer, KModel):
            self.materialize(layer)
            if "training" in kwargs:
                self.fact(layer, "__call__", kwargs, node)
            if layer.kind == "Sequential" and not layer.is_built and args and isinstance(
                    args[0], KTensor):
                self.build_sequential(layer, args[0].shape, node)
        if not args and kwargs:
            # Keras takes the first argument of call() by its name (``mha(query=x, value=x)``)
            first_name = _FIRST_CALL_ARG.get(layer.class_name, "inputs")
            if first_name in kwargs:
                kwargs = dict(kwargs)
                args = [kwargs.pop(first_name)]
        if not args:
            if not any(isinstance(v, KTensor) for v in kwargs.values()) or isinstance(
                    layer, KModel):
                return Opaque(self.py.text(node))
            # only keyword tensors (``att(query=x, value=x, key=x)``): no positional input
            return self._call_with(layer, [], 0, False, args, kwargs, node)
        first = args[0]
        list_input = isinstance(first, (list, tuple))
        firsts = list(first) if list_input else [first]
        if isinstance(first, dict):
            firsts = [first[k] for k in sorted(first)]
            list_input = True
        if firsts and all(isinstance(t, ArrayValue) for t in firsts) and len(args) == 1 \
                and not isinstance(layer, KModel) and layer.custom is None:
            return self.eager_call(layer, firsts, list_input, kwargs, node)
        if firsts and all(isinstance(t, ArrayValue) for t in firsts) and len(args) == 1:
            return self.eager_model_call(layer, firsts, list_input, kwargs, node)
        if not all(isinstance(t, KTensor) for t in firsts) or not firsts:
            if layer.built is None and layer.unknown is None:
                layer.unknown = (f"line {self.py.pos(node)[0]}: called on "
                                 f"`{self.py.text(node)}`, which is not a known tensor")
            return Opaque(self.py.text(node))
        return self._call_with(layer, firsts, len(firsts), list_input, args, kwargs, node)

    def _call_with(self, layer: Any, firsts: list[Any], first_count: int, list_input: bool,
                   args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        from bnlint.keras import builder as kb
        from bnlint.keras.builder import KModel, KTensor
        from bnlint.keras.catalogue import TensorArg

        inputs = list(firsts)
        for a in args[1:]:
            if isinstance(a, KTensor):
                inputs.append(a)
        call_kwargs: dict[str, Any] = {}
        # Keras's node inputs: tree.flatten((args, kwargs)), keyword arguments by sorted key,
        # every tensor of a list (``initial_state=[h, c]``); TensorArg: the first one's index.
        for k in sorted(kwargs):
            v = kwargs[k]
            if isinstance(v, KTensor):
                call_kwargs[k] = TensorArg(len(inputs))
                inputs.append(v)
            elif isinstance(v, (list, tuple)) and v and all(isinstance(x, KTensor) for x in v):
                call_kwargs[k] = TensorArg(len(inputs))
                inputs.extend(v)
        for k, v in kwargs.items():
            if k not in call_kwargs and _plain_data(v):
                call_kwargs[k] = v
        self.in_masks = [self.masks.get(id(t)) for t in inputs]
        self.out_mask = _NO_MASK
        outs = kb.call_layer(layer, inputs, call_kwargs, list_input, first_count=first_count)
        self._set_masks(layer, inputs, outs)
        self._invalidate()
        if isinstance(layer, KModel):
            return outs[0] if len(outs) == 1 else list(outs)
        return outs[0] if len(outs) == 1 else list(outs)

    @staticmethod
    def _has_array(args: list[Any], kwargs: dict[str, Any]) -> bool:
        def arr(v: Any, depth: int = 0) -> bool:
            if isinstance(v, ArrayValue):
                return True
            return isinstance(v, (list, tuple)) and depth < 3 and any(
                arr(x, depth + 1) for x in v)

        return any(arr(v) for v in [*args, *kwargs.values()])

    def eager_model_call(self, layer: Any, arrays: list[Any], list_input: bool,
                         kwargs: dict[str, Any], node: Any) -> Any:
        """A model or a user-defined layer called on concrete arrays: Keras builds it for their
        shapes (an input-less Sequential gets its input; a custom layer runs build() and
        call()), records no node on it, and returns concrete arrays."""
        from bnlint.keras import builder as kb
        from bnlint.keras.builder import KModel

        shapes = [tuple(a.shape) for a in arrays]
        if isinstance(layer, KModel):
            prev = self.eager_built.get(id(layer))
            if prev is None and layer.kind == "Sequential" and not layer.is_built:
                self.eager_built[id(layer)] = shapes
            elif prev is not None and prev != shapes and self.py.version == 2:
                # tf_keras rebuilds an input-less Sequential for a novel input shape
                layer.unknown = layer.unknown or (
                    f"line {self.py.pos(node)[0]}: called on arrays of a new shape "
                    f"{shapes[0]}: tf_keras rebuilds the model for it (not modelled)")
            outs = kb._call_model(layer, shapes)
        else:
            plain = {k: v for k, v in kwargs.items() if _plain_data(v)}
            outs = list(layer.custom(layer, shapes, plain, list_input, None))
        self._invalidate()
        vals = [ArrayValue(tuple(s)) if s is not None and all(
            isinstance(d, int) and not isinstance(d, bool) for d in s)
            else Opaque(self.py.text(node)) for s in outs]
        return vals[0] if len(vals) == 1 else vals

    def eager_call(self, layer: Any, arrays: list[Any], list_input: bool,
                   kwargs: dict[str, Any], node: Any) -> Any:
        """A layer called on concrete arrays (``dense(np.ones((1, 4)))``): Keras builds it for
        their shapes, records no node, and returns concrete arrays."""
        from bnlint.keras.catalogue import Unknown, build_layer

        plain = {k: v for k, v in kwargs.items() if _plain_data(v)}
        try:
            built = build_layer(layer.rule_name, layer.config, [a.shape for a in arrays],
                                layer.version, plain, list_input)
        except Unknown as exc:
            if layer.built is None and layer.unknown is None:
                layer.unknown = f"called on concrete data at line {self.py.pos(node)[0]}: {exc}"
            return Opaque(self.py.text(node))
        if layer.built is None:
            layer.built = built
            if self.py.version == 3:
                from bnlint.keras.builder import _name_anonymous_weights

                _name_anonymous_weights(built, self.counters)
        self._invalidate()
        outs = [ArrayValue(tuple(s)) if s is not None and all(isinstance(d, int) for d in s)
                else Opaque(self.py.text(node)) for s in built.outputs]
        return outs[0] if len(outs) == 1 else outs
