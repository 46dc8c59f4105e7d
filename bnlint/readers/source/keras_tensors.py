"""Tensor shapes and tensor operations (keras.ops, tf.*, operators on symbolic tensors)."""

from __future__ import annotations

from typing import Any

from bnlint.readers.source.py_helpers import _is_num
from bnlint.readers.source.values import Instance, WeightVar

_ELEMENTWISE_UNARY = {
    "relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax", "exp", "log", "sqrt", "square",
    "abs", "negative", "gelu", "silu", "swish", "elu", "selu", "softplus", "softsign", "erf",
    "hard_sigmoid", "leaky_relu", "rsqrt", "sign", "floor", "ceil", "round", "cast",
    "stop_gradient", "identity", "dropout", "l2_normalize", "normalize", "clip",
    "clip_by_value", "reciprocal", "cos", "sin", "zeros_like", "ones_like", "mish",
}


_ELEMENTWISE_BINARY = {"add", "subtract", "multiply", "divide", "maximum", "minimum", "power",
                       "truediv", "true_divide", "floor_divide", "squared_difference", "where"}


_REDUCTIONS = {"mean", "sum", "max", "min", "prod", "reduce_mean", "reduce_sum", "reduce_max",
               "reduce_min", "reduce_prod", "std", "var", "logsumexp", "reduce_logsumexp"}


def _broadcast(a: tuple, b: tuple) -> tuple | None:
    out = []
    for i in range(max(len(a), len(b))):
        da = a[len(a) - 1 - i] if i < len(a) else 1
        db = b[len(b) - 1 - i] if i < len(b) else 1
        if da == 1:
            out.append(db)
        elif db == 1 or da == db:
            out.append(da)
        elif da is None:
            out.append(db)
        elif db is None:
            out.append(da)
        else:
            return None
    return tuple(reversed(out))


def _matmul_shape(a: tuple, b: tuple) -> tuple | None:
    if not a or not b:
        return None
    if len(b) == 1:
        return a[:-1]
    if len(a) == 1:
        return (*b[:-2], b[-1])
    batch = _broadcast(a[:-2], b[:-2])
    if batch is None:
        return None
    return (*batch, a[-2], b[-1])


class Tensors:
    def tensor_shape(self, v: Any) -> tuple | None:
        from bnlint.keras.builder import KTensor

        if isinstance(v, KTensor):
            return v.shape
        if isinstance(v, WeightVar):
            return v.shape
        if _is_num(v):
            return ()
        return None

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
        if other and not _is_num(other[0]):
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
        outs = kb.call_layer(layer, tensors, kwargs, False)
        self._invalidate()
        return outs[0]

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

    def tensor_op(self, fn: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """A small model of ``keras.ops`` / ``tf.*`` shape behaviour inside custom call()."""
        shapes = [self.tensor_shape(a) for a in args]
        s0 = shapes[0] if shapes else None
        if s0 is None:
            return None
        if fn in _ELEMENTWISE_UNARY:
            return self.new_tensor(s0)
        if fn in _ELEMENTWISE_BINARY and len(args) >= 2 and shapes[1] is not None:
            return self.new_tensor(_broadcast(s0, shapes[1]))
        if fn in ("matmul", "dot") and len(args) >= 2 and shapes[1] is not None:
            return self.new_tensor(_matmul_shape(s0, shapes[1]))
        if fn in _REDUCTIONS:
            axis = kwargs.get("axis", args[1] if len(args) > 1 else None)
            keep = kwargs.get("keepdims", kwargs.get("keep_dims", False))
            rank = len(s0)
            if axis is None:
                return self.new_tensor(tuple(1 for _ in s0) if keep else ())
            axes = axis if isinstance(axis, (list, tuple)) else [axis]
            if not all(isinstance(x, int) for x in axes):
                return None
            norm = {x % rank for x in axes}
            return self.new_tensor(tuple(1 if i in norm else d for i, d in enumerate(s0)
                                         if keep or i not in norm))
        return None

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
