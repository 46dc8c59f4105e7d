"""Tensor shapes and tensor operations (keras.ops, tf.*, operators on symbolic tensors)."""

from __future__ import annotations

from typing import Any

from bnlint.readers.source.py_helpers import _is_num
from bnlint.readers.source.values import _MISSING, ArrayValue, Instance, Opaque, WeightVar
from bnlint.symbolic import Sym

# tf paths whose canonical TF name (tf_keras's TFOpLambda layer name) differs from the path:
# measured with tf_export.get_canonical_name_for_symbol (TensorFlow 2.21).
_TF_CANONICAL = {
    "matmul": "linalg.matmul", "add": "math.add", "subtract": "math.subtract",
    "multiply": "math.multiply", "divide": "math.divide", "truediv": "math.truediv",
    "maximum": "math.maximum", "minimum": "math.minimum", "pow": "math.pow", "abs": "math.abs",
    "exp": "math.exp", "sqrt": "math.sqrt", "square": "math.square", "sigmoid": "math.sigmoid",
    "tanh": "math.tanh", "reduce_sum": "math.reduce_sum", "reduce_mean": "math.reduce_mean",
    "reduce_max": "math.reduce_max", "reduce_min": "math.reduce_min",
    "reduce_prod": "math.reduce_prod", "equal": "math.equal", "not_equal": "math.not_equal",
    "greater": "math.greater", "greater_equal": "math.greater_equal", "less": "math.less",
    "less_equal": "math.less_equal", "logical_and": "math.logical_and",
    "logical_or": "math.logical_or", "logical_not": "math.logical_not", "sign": "math.sign",
    "floor": "math.floor", "round": "math.round", "negative": "math.negative",
    "argmax": "math.argmax", "argmin": "math.argmin", "reduce_any": "math.reduce_any",
    "reduce_all": "math.reduce_all", "math.softmax": "nn.softmax",
    "math.log_softmax": "nn.log_softmax", "math.softsign": "nn.softsign",
    "nn.l2_normalize": "math.l2_normalize", "nn.sigmoid": "math.sigmoid", "nn.tanh": "math.tanh",
    "nn.swish": "nn.silu", "nn.softplus": "math.softplus",
    "linalg.l2_normalize": "math.l2_normalize",
    # tf.transpose/squeeze/gather (v2) call the v1 function, which takes the dispatch: tf_keras
    # names the layer after it (measured: tf_keras 2.21, TFOpLambda names)
    "transpose": "compat.v1.transpose", "squeeze": "compat.v1.squeeze",
    "gather": "compat.v1.gather",
}

_TF_IN_KERAS3 = ("Keras 3 raises ValueError: 'A KerasTensor cannot be used as input to a "
                 "TensorFlow function' (wrap the TF call in a Layer, or use keras.ops)")


def _broadcast(a: tuple, b: tuple) -> tuple | None:
    from bnlint.keras.catalogue import Unknown
    from bnlint.keras.ops import broadcast

    try:
        return broadcast(a, b)
    except Unknown:
        return None


def _matmul_shape(a: tuple, b: tuple) -> tuple | None:
    from bnlint.keras.catalogue import Unknown
    from bnlint.keras.ops import matmul

    try:
        return matmul(a, b)
    except Unknown:
        return None


# keras.applications.<module>.preprocess_input on a Keras 3 KerasTensor (imagenet_utils.
# _preprocess_tensor_input, channels_last): its mode and the operations it applies in order
# (each takes a name from the session counter); the shape is unchanged.
_PREPROCESS_MODE = {
    "resnet": "caffe", "resnet50": "caffe", "vgg16": "caffe", "vgg19": "caffe",
    "inception_resnet_v2": "tf", "inception_v3": "tf", "mobilenet": "tf", "mobilenet_v2": "tf",
    "nasnet": "tf", "resnet_v2": "tf", "xception": "tf", "densenet": "torch",
}
_PREPROCESS_OPS = {
    "caffe": ["GetItem", "GetItem", "GetItem", "Stack", "Add"],  # RGB->BGR, + mean
    "tf": ["TrueDivide", "Subtract"],  # x / 127.5 - 1
    "torch": ["TrueDivide", "Add", "TrueDivide"],  # x / 255, + mean, / std
}


# Keras 3 operation classes not named after their function (measured: the op's name)
_KERAS_OP_CLASS = {"abs": "Absolute", "swish": "Silu"}


def _camel(fn: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in fn.split("_"))


class Tensors:
    def tensor_shape(self, v: Any) -> tuple | None:
        from bnlint.keras.builder import KTensor

        if isinstance(v, KTensor):
            return v.shape
        if isinstance(v, (WeightVar, ArrayValue)):
            return tuple(v.shape)
        if _is_num(v):
            return ()
        return None

    def packed_shape(self, v: Any) -> tuple | None:
        """A TF function's tensor argument: a list of tensors of one shape is packed
        (``tf.reduce_sum([a, b], axis=0)`` sums ``tf.stack([a, b])``)."""
        from bnlint.keras.builder import KTensor

        if isinstance(v, (list, tuple)) and v and all(isinstance(x, KTensor) for x in v):
            shapes = {None if x.shape is None else tuple(x.shape) for x in v}
            if len(shapes) != 1 or None in shapes:
                return None
            return (len(v), *next(iter(shapes)))
        return self.tensor_shape(v)

    def tf_split(self, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        """``tf.split(value, num_or_size_splits, axis=0)`` on a Keras tensor (tf_keras): one
        ``TFOpLambda`` layer ``tf.split`` with one output per piece (a list)."""
        from bnlint.keras import builder as kb
        from bnlint.keras.builder import KLayer, KTensor
        from bnlint.keras.catalogue import Built

        names = ("value", "num_or_size_splits", "axis", "num")
        got = dict(zip(names, args, strict=False))
        for k, v in kwargs.items():
            if k in names and k not in got:
                got[k] = v
            elif k != "name":
                return _MISSING
        x, how, axis = got.get("value"), got.get("num_or_size_splits"), got.get("axis", 0)
        if not isinstance(x, KTensor) or got.get("num") is not None:
            return _MISSING
        if isinstance(how, int) and not isinstance(how, bool) and how > 0:
            sizes: list[Any] = [None] * how
            count = how
        elif isinstance(how, (list, tuple)) and how:
            sizes, count = list(how), len(how)  # as many outputs as sizes, known or not
        else:
            return _MISSING
        text = self.py.text(node)
        shape, why = x.shape, None
        shapes: list[Any] = [None] * count
        if shape is not None and isinstance(how, (list, tuple)) and not all(
                isinstance(v, int) and not isinstance(v, bool) for v in how):
            why = self.note_unknown_op(text, node, "the sizes are not known statically")
        elif shape is not None:
            rank = len(shape)
            if not isinstance(axis, int) or isinstance(axis, bool) or not -rank <= axis < rank:
                why = self.note_unknown_op(text, node, "the axis is not known statically")
            else:
                axis %= rank
                dim = shape[axis]
                if isinstance(how, int):
                    if dim is not None and dim % how:
                        why = self.note_unknown_op(text, node, f"{dim} does not split into "
                                                               f"{how} equal parts (TF raises)")
                    else:
                        sizes = [None if dim is None else dim // how] * how
                elif sizes.count(-1) > 1 or any(v < -1 for v in sizes) or (
                        dim is not None and (sum(v for v in sizes if v != -1) > dim or (
                            -1 not in sizes and sum(sizes) != dim))):
                    why = self.note_unknown_op(text, node, "the sizes do not add up to "
                                                           f"{dim} (TF raises)")
                elif -1 in sizes:
                    rest = None if dim is None else dim - sum(v for v in sizes if v != -1)
                    sizes = [rest if v == -1 else v for v in sizes]
                if why is None:
                    shapes = [(*shape[:axis], v, *shape[axis + 1:]) for v in sizes]
        name = self.counters.uniquify("tf.split")
        layer = KLayer(name, "TFOpLambda", {"name": name, "function": "split"}, 2,
                       location=self.py.loc(node), unknown=why)
        if why is None and shape is not None:
            layer.built = Built(list(shapes))
        outs = kb.record_call(layer, [x], shapes)
        self._invalidate()
        return list(outs)

    def new_tensor(self, shape: Any) -> Any:
        from bnlint.keras import builder as kb

        if shape is None:
            return None
        return kb.make_input("__op__", tuple(shape), self.py.version)

    def graph_op(self, op: str, a: Any, b: Any, node: Any) -> Any:
        """``x + 3.0`` on symbolic tensors: a Keras 3 operation (not in ``model.layers``, but it
        takes a name such as ``add``), or a tf_keras ``TFOpLambda`` layer."""
        from bnlint.keras import builder as kb
        from bnlint.keras.builder import KLayer, KTensor

        tensors = [x for x in (a, b) if isinstance(x, KTensor)]
        other = [x for x in (a, b) if not isinstance(x, KTensor)]
        if op == "MatrixMultiply" and len(tensors) == 2:
            # `a @ b`: Keras 3's Matmul operation; tf_keras's TFOpLambda `tf.linalg.matmul`
            shape, why = None, None
            if a.shape is not None and b.shape is not None:
                shape = _matmul_shape(tuple(a.shape), tuple(b.shape))
                if shape is None:
                    why = self.note_unknown_op(self.py.text(node), node,
                                               f"shapes {a.shape} and {b.shape} do not multiply")
            if self.py.version == 3:
                return self._op_node("Matmul", tensors, shape, why, node)
            return self._tf_op_layer("linalg.matmul", tensors, shape, why, node)
        if other and isinstance(other[0], ArrayValue) and isinstance(a, KTensor):
            return self._array_operand_op(op, a, other[0], node)
        unknown_other = bool(other) and isinstance(other[0], (Opaque, Sym))
        if other and not _is_num(other[0]) and not unknown_other:
            return None
        if self.py.version == 3:
            cls = {"Add": "Add", "Subtract": "Subtract", "Multiply": "Multiply",
                   "Divide": "TrueDivide"}.get(op)
            if cls is None:
                return None
            layer = KLayer(self.counters.layer_name(cls), cls, {}, 3, is_op=True,
                           location=self.py.loc(node))
            layer.config["name"] = layer.name
            kwargs: dict[str, Any] = {}
        else:
            fn = {"Add": "__operators__.add", "Subtract": "math.subtract",
                  "Multiply": "math.multiply", "Divide": "math.truediv"}.get(op)
            if fn is None:
                return None
            name = self.counters.uniquify(f"tf.{fn}")
            layer = KLayer(name, "TFOpLambda", {"name": name, "function": fn}, 2,
                           location=self.py.loc(node))
            kwargs = {"y": other[0]} if other else {}
        if unknown_other:
            # the operation (and so its name) is known, its other operand is not: an unknown
            # shape, the operand named as the cause
            why = self.note_unknown_op(self.py.text(node), node,
                                       "an operand is not known statically")
            layer.unknown = why
            out = kb.record_call(layer, tensors, [None])[0]
            self._invalidate()
            return out
        outs = kb.call_layer(layer, tensors, kwargs, False)
        self._invalidate()
        return outs[0]

    def _array_operand_op(self, op: str, a: Any, arr: ArrayValue, node: Any) -> Any:
        """``x + pos`` with ``pos`` a concrete array (``Embedding(...)(tf.range(n))`` outside a
        model, ``np.ones(...)``): the same operation node as with a number, its output
        shape broadcast (a shape that does not broadcast: Keras raises, unknown)."""
        from bnlint.keras.catalogue import Unknown
        from bnlint.keras.ops import broadcast

        if a.shape is None:
            return None
        try:
            shape: tuple | None = broadcast(tuple(a.shape), tuple(arr.shape))
            why = None
        except Unknown as exc:
            shape, why = None, f"line {self.py.pos(node)[0]}: `{self.py.text(node)}`: {exc}"
        if self.py.version == 3:
            cls = {"Add": "Add", "Subtract": "Subtract", "Multiply": "Multiply",
                   "Divide": "TrueDivide"}.get(op)
            return None if cls is None else self._op_node(cls, [a], shape, why, node)
        fn = {"Add": "__operators__.add", "Subtract": "math.subtract",
              "Multiply": "math.multiply", "Divide": "math.truediv"}.get(op)
        return None if fn is None else self._tf_op_layer(fn, [a], shape, why, node)

    def traced_op(self, op: str, operands: list[Any], result: Any) -> Any:
        """An operation inside a subclass's call(): Keras traces call() on backend tensors, so
        the operation is neither a layer nor an auto-named Keras 3 operation (measured: it takes
        no name), only a shape. It is kept as an unnamed operation node so that the graph stays
        connected for the rules (operations are never in ``model.layers``)."""
        from bnlint.keras import builder as kb
        from bnlint.keras.builder import KLayer, KTensor

        tensors = [x for x in operands if isinstance(x, KTensor)]
        if result is None or result.shape is None or not tensors:
            return result
        op_layer = KLayer(f"<{op}>", op, {}, self.py.version, is_op=True)
        return kb.record_call(op_layer, tensors, [result.shape])[0]

    def tensor_binop(self, op: str, a: Any, b: Any) -> Any:
        sa, sb = self.tensor_shape(a), self.tensor_shape(b)
        if sa is None or sb is None:
            return None
        if op == "MatrixMultiply":
            return self.new_tensor(_matmul_shape(sa, sb))
        if op in ("Add", "Subtract", "Multiply", "Divide", "FloorDivide", "Power", "Modulo"):
            return self.new_tensor(_broadcast(sa, sb))
        return None

    def tensor_op(self, fn: str, args: list[Any], kwargs: dict[str, Any],
                  keras_ops: bool | str = True) -> Any:
        """The result of an operation inside a traced call(): a tensor of the shape the rule
        table (bnlint/keras/ops.py) gives, or None (the reason in ``self.op_error``)."""
        shape = self.op_result_shape(fn, args, kwargs, keras_ops)
        return None if shape is None else self.new_tensor(shape)

    def op_result_shape(self, fn: str, args: list[Any], kwargs: dict[str, Any],
                        keras_ops: bool | str) -> tuple | None:
        from bnlint.keras.catalogue import Unknown
        from bnlint.keras.ops import op_shape

        self.op_error = None
        shape_of = self.tensor_shape
        if keras_ops is False and fn not in ("concat", "stack"):
            shape_of = self.packed_shape  # TF converts a list of tensors with tf.stack
        try:
            return tuple(op_shape(fn, args, kwargs, shape_of, keras_ops))
        except Unknown as exc:
            self.op_error = str(exc)
            return None

    def note_unknown_op(self, text: str, node: Any, why: str | None) -> str:
        """The root cause of an unknown tensor: ``line N: `construct` (why)``, remembered as the
        first one of the current traced call."""
        line = self.py.pos(node)[0]
        reason = f"line {line}: `{text}` is not modelled" + (f" ({why})" if why else "")
        if getattr(self, "first_unknown", None) is None:
            self.first_unknown = reason
        return reason

    def has_tensor(self, args: list[Any], kwargs: dict[str, Any]) -> bool:
        from bnlint.keras.builder import KTensor

        def tensor(v: Any, depth: int = 0) -> bool:
            if isinstance(v, (KTensor, WeightVar)):
                return True
            if isinstance(v, (list, tuple)) and depth < 3:
                return any(tensor(x, depth + 1) for x in v)
            return False

        return any(tensor(v) for v in [*args, *kwargs.values()])

    def tensors_in(self, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
        from bnlint.keras.builder import KTensor

        out: list[Any] = []

        def walk(v: Any, depth: int = 0) -> None:
            if isinstance(v, KTensor):
                out.append(v)
            elif isinstance(v, (list, tuple)) and depth < 3:
                for x in v:
                    walk(x, depth + 1)

        for v in [*args, *kwargs.values()]:
            walk(v)
        return out

    def apply_op(self, path: str, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        """``keras.ops.f(t)`` / ``tf.f(t)`` on Keras tensors (path canonical: keras.* or
        tensorflow.*). Inside a traced call(): a shape; in functional code: a Keras 3
        operation node, a tf_keras ``TFOpLambda`` layer, or Keras 3's refusal of TF functions."""
        from bnlint.keras.ops import namespace_op, tf_relative

        fn = path.rsplit(".", 1)[-1]
        is_tf = path.startswith("tensorflow.")
        text = self.py.text(node)
        ns = namespace_op(path, self.py.version)
        flavour: bool | str = False
        if ns is not None:
            flavour = {"keras": True, "tf": False, "backend": "backend"}[ns[1]]
        if self.in_custom or self.calling:
            t = None if ns is None else self.tensor_op(ns[0], args, kwargs, keras_ops=flavour)
            if t is None:
                self.note_unknown_op(text, node, self.op_error if ns is not None else
                                     f"no shape rule for `{path}`")
                return Opaque(text)
            return self.traced_op(fn, self.tensors_in(args, kwargs), t)
        tensors = self.tensors_in(args, kwargs)
        if not tensors:
            return Opaque(text)
        if is_tf and self.py.version == 2 and tf_relative(path) == "split":
            out = self.tf_split(args, kwargs, node)
            if out is not _MISSING:
                return out
        if is_tf and self.py.version == 3:
            return self._op_node(_camel(fn), tensors, None, f"line {self.py.pos(node)[0]}: "
                                 f"`{text}`: {_TF_IN_KERAS3}", node)
        if self.py.version == 2 and not is_tf:
            return self.unknown_call(args, kwargs, node)  # tf_keras wraps the TF op inside
        if ns is None:
            shape, self.op_error = None, f"no shape rule for `{path}`"
        else:
            shape = self.op_result_shape(ns[0], args, kwargs, keras_ops=flavour)
        if any(t.shape is None for t in tensors):
            shape, why = None, None  # unknown upstream: its layer says why
        else:
            why = None if shape is not None else self.note_unknown_op(text, node, self.op_error)
        if self.py.version == 3:
            return self._op_node(_KERAS_OP_CLASS.get(fn, _camel(fn)), tensors, shape, why, node)
        rel = tf_relative(path)
        return self._tf_op_layer(_TF_CANONICAL.get(rel, rel), tensors, shape, why, node)

    def preprocess_input(self, path: str, args: list[Any], kwargs: dict[str, Any],
                         node: Any) -> Any:
        """``keras.applications.resnet50.preprocess_input(t)`` on a Keras tensor (Keras 3):
        the operations of Keras's ``_preprocess_tensor_input``, as nodes; else _MISSING."""
        from bnlint.keras.builder import KTensor
        from bnlint.readers.source.values import _MISSING

        parts = path.split(".")
        if self.py.version != 3 or parts[-1] != "preprocess_input" or len(parts) < 3 or \
                parts[-3] != "applications" or self.in_custom or self.calling:
            return _MISSING
        mode = _PREPROCESS_MODE.get(parts[-2])
        x = args[0] if args else kwargs.get("x")
        if mode is None or not isinstance(x, KTensor) or len(args) > 1 or set(kwargs) - {"x"}:
            return _MISSING
        if x.shape is None or len(x.shape) not in (3, 4) or (
                mode != "tf" and x.shape[-1] != 3):
            return _MISSING
        out, items = x, []
        for cls in _PREPROCESS_OPS[mode]:
            if cls == "GetItem":  # x[..., i]
                items.append(self._op_node(cls, [x], tuple(x.shape[:-1]), None, node))
                continue
            out = self._op_node(cls, items if cls == "Stack" else [out], tuple(x.shape), None,
                                node)
        return out

    def unknown_call(self, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        """A call bnlint cannot read, given Keras tensors in functional code: an unknown tensor
        that stays connected to them, so the model keeps every known layer; the call is the
        root cause named by what depends on it. Elsewhere: an unknown value."""
        text = self.py.text(node)
        tensors = self.tensors_in(args, kwargs)
        if self.in_custom or self.calling or not tensors:
            if tensors:
                self.note_unknown_op(text, node, None)
            return Opaque(text)
        why = None if any(t.shape is None for t in tensors) else \
            f"line {self.py.pos(node)[0]}: `{text}` is not modelled"
        return self._op_node_named(f"<{text}>", "Unknown", tensors, None, why, node)

    def _op_node_named(self, name: str, cls: str, tensors: list[Any], shape: tuple | None,
                       why: str | None, node: Any) -> Any:
        from bnlint.keras import builder as kb
        from bnlint.keras.builder import KLayer

        layer = KLayer(name, cls, {}, self.py.version, is_op=True, location=self.py.loc(node),
                       unknown=why)
        out = kb.record_call(layer, tensors, [shape])
        self._invalidate()
        return out[0]

    def _op_node(self, cls: str, tensors: list[Any], shape: tuple | None, why: str | None,
                 node: Any) -> Any:
        """A Keras 3 operation on KerasTensors: named from the session counter (``expand_dims``
        takes a name as a layer would), never in ``model.layers``."""
        from bnlint.keras import builder as kb
        from bnlint.keras.builder import KLayer

        layer = KLayer(self.counters.layer_name(cls), cls, {}, self.py.version, is_op=True,
                       location=self.py.loc(node), unknown=why)
        out = kb.record_call(layer, tensors, [shape])
        self._invalidate()
        return out[0]

    def _tf_op_layer(self, fn: str, tensors: list[Any], shape: tuple | None, why: str | None,
                     node: Any, cls: str = "TFOpLambda") -> Any:
        """tf_keras wraps a TF function called on KerasTensors in a ``TFOpLambda`` layer named
        ``tf.<canonical name>`` (a ``name=`` argument of the TF function is not its name)."""
        from bnlint.keras import builder as kb
        from bnlint.keras.builder import KLayer
        from bnlint.keras.catalogue import Built

        name = self.counters.uniquify(f"tf.{fn}")
        layer = KLayer(name, cls, {"name": name, "function": fn}, 2, location=self.py.loc(node),
                       unknown=why)
        if why is None and shape is not None:
            layer.built = Built([shape])
        out = kb.record_call(layer, tensors, [shape])
        self._invalidate()
        return out[0]

    def tensor_getitem(self, t: Any, key: Any, node: Any) -> Any:
        """``x[:, 0]`` on a Keras tensor."""
        from bnlint.keras.catalogue import Unknown
        from bnlint.keras.ops import slice_shape

        key = self._slice_key(key)
        text = self.py.text(node)
        shape, why = None, None
        if t.shape is not None:
            try:
                shape = slice_shape(tuple(t.shape), key)
            except Unknown as exc:
                why = str(exc)
        if self.in_custom or self.calling:
            if shape is None:
                self.note_unknown_op(text, node, why)
                return Opaque(text)
            return self.traced_op("getitem", [t], self.new_tensor(shape))
        if shape is None and t.shape is not None:
            why = self.note_unknown_op(text, node, why)
        if self.py.version == 3:
            return self._op_node("GetItem", [t], shape, why, node)
        return self._tf_op_layer("__operators__.getitem", [t], shape, why, node,
                                 cls="SlicingOpLambda")

    def _slice_key(self, key: Any) -> Any:
        from bnlint.readers.source.values import KRef

        def one(k: Any) -> Any:
            if isinstance(k, KRef) and k.path.endswith(".newaxis"):
                return None
            return k

        return tuple(one(k) for k in key) if isinstance(key, tuple) else one(key)

    # -------------------------------------------------------------- model views
    def as_model(self, v: Any, materialize: bool = True) -> Any:
        from bnlint.keras.builder import KModel

        if isinstance(v, KModel):
            if materialize:
                self.materialize(v)
            return v
        if isinstance(v, Instance) and v.kmodel is not None:
            if materialize:
                self.materialize_instance(v)
            return v.kmodel
        return None
