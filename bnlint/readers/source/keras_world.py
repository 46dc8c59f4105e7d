"""The Keras world: the Keras half of the interpreter (layers, models, subclasses, tensors).

:class:`KerasWorld` is what the Python evaluator (``Interpreter.keras``) sees of Keras: the
methods of this module are its whole interface.  Each takes any value and answers ``_MISSING``
(or False) when the value is not a Keras one, so the evaluator never tests Keras classes itself.
The construction of layers and models lives in the mixed-in ``keras_*`` modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bnlint import graph
from bnlint.readers.source.facts import TrainableFact
from bnlint.readers.source.keras_layers import _NO_MASK, Layers, _LayerList, _set_trainable
from bnlint.readers.source.keras_models import Models
from bnlint.readers.source.keras_subclass import Subclassed
from bnlint.readers.source.keras_tensors import Tensors
from bnlint.readers.source.py_helpers import _plain, _plain_data
from bnlint.readers.source.values import (
    _MISSING,
    ArrayValue,
    Bound,
    Instance,
    KRef,
    Opaque,
    SeqState,
    TFInitializer,
    TFVariable,
    Unresolved,
    UserFunc,
    WeightArray,
    WeightList,
    WeightVar,
    _Raise,
)

if TYPE_CHECKING:
    from bnlint.readers.source.interpreter import Interpreter


# Built-in layer attributes that keep the constructor's integer argument as given.
_INT_ATTRS = frozenset({"units", "input_dim", "output_dim", "filters"})


class KerasWorld(Layers, Models, Subclassed, Tensors):
    def __init__(self, py: Interpreter):
        from bnlint.keras.naming import NameCounters

        self.py = py
        self.counters = NameCounters(py.version)
        self.models: list[Any] = []  # every KModel / model Instance created, in order
        self.seq: dict[int, SeqState] = {}
        self.made = 0  # layers made so far (a loop that makes none is quiet)
        # custom layer classes whose call() took more than CUSTOM_CALL_STEPS steps to read:
        # id -> why; later calls are not read again
        self.long_calls: dict[int, str] = {}
        self.input_arg: dict[int, tuple | None] = {}
        # Keras masks (``_keras_mask``) of tensors: id -> mask shape, or "?" (not modelled)
        self.masks: dict[int, Any] = {}
        self.in_masks: list[Any] = []  # masks of the inputs of the layer call being made
        self.out_mask: Any = _NO_MASK  # the mask a custom layer's compute_mask gave
        self.graph_cache: dict[int, tuple[int, graph.Model]] = {}
        self.graph_depth = 0  # > 0 inside a tf_keras symbolic call (graph_scope)
        self.in_custom = 0  # > 0 while interpreting a custom layer's call()
        self.calling: list[Instance] = []  # subclass instances whose call() is running
        self.op_error: str | None = None  # why the last tensor operation has no known shape
        self.first_unknown: str | None = None  # root cause of the current call's unknown output
        self.global_models: dict[str, Any] = {}  # module-level name -> KModel bound to it
        # id(KModel) -> (name, line, statement) of the assignment that rebound its name
        self.rebound: dict[int, tuple[str, str, str]] = {}
        self.saved_paths: dict[str, Any] = {}  # model.save(path) -> the KModel saved there
        # Keras 3: id(list or dict stored on a layer) -> (it, the layer): tracked containers
        self.owned: dict[int, tuple[Any, Instance]] = {}
        # keras.backend/config.set_image_data_format(...): the default of every layer's
        # data_format made after it
        self.image_data_format = "channels_last"
        # id(input-less Sequential) -> the array shapes of the eager call that built it
        self.eager_built: dict[int, list[tuple]] = {}

    # -------------------------------------------------------------- the evaluator's interface
    def attr(self, obj: Any, name: str, node: Any) -> Any:
        """``obj.name`` for a Keras tensor, layer, model, weight or layer list; else _MISSING."""
        from bnlint.keras.builder import KLayer, KModel, KTensor

        if isinstance(obj, KTensor):
            if name == "shape":
                return obj.shape if obj.shape is not None else Opaque(self.py.text(node))
            if name == "dtype":
                return obj.dtype
            if name == "get_shape":
                if self.py.version == 2 or self.in_custom or self.calling:
                    # a tf.Tensor's TensorShape (``.as_list()``): tf_keras, and Keras 3's
                    # TensorFlow backend inside a layer's call (traced on tf tensors)
                    return Bound(obj, name)
                # Keras 3's KerasTensor has no get_shape: the program stops here
                self.py.note(node, f"`{self.py.text(node)}`: a Keras 3 KerasTensor has no "
                                   "`get_shape` (AttributeError; tf-keras tensors have it)")
                raise _Raise()
            return Opaque(self.py.text(node))
        if isinstance(obj, KModel):
            self.materialize(obj)
            if name == "layers":
                return _LayerList(self.model_layers(obj), obj.name)
            if name in ("inputs", "outputs"):
                return list(obj.inputs if name == "inputs" else obj.outputs)
            if name in ("input", "output"):
                ts = obj.inputs if name == "input" else obj.outputs
                if not ts:
                    return Opaque(self.py.text(node))
                return ts[0] if len(ts) == 1 else list(ts)
            if name == "input_shape" and obj.inputs:
                return obj.inputs[0].shape
            if name == "output_shape" and obj.outputs:
                return obj.outputs[0].shape
        if isinstance(obj, KLayer):
            if name == "name":
                return obj.name
            if name == "built" and obj.custom is None and not isinstance(obj, KModel):
                from bnlint.readers.source.keras_layers import _unbuilt

                return not _unbuilt(obj)
            if name == "trainable":
                return obj.trainable
            if name in ("output", "input") and obj.nodes:
                n = obj.nodes[0]
                ts = n.outputs if name == "output" else n.inputs
                if ts:
                    return ts[0] if len(ts) == 1 else list(ts)
            if name == "output_shape" and obj.nodes and obj.nodes[0].outputs:
                return obj.nodes[0].outputs[0].shape
            v = obj.config.get(name)
            if name in _INT_ATTRS and isinstance(v, int) and not isinstance(v, bool):
                return v  # ``self.units`` / ``self.output_dim``: the constructor's integer
            return Bound(obj, name)
        if isinstance(obj, (WeightArray, WeightVar)):
            if name == "shape":
                return obj.shape
            if name == "get_shape" and isinstance(obj, WeightVar):
                return Bound(obj, name)
            return Opaque(self.py.text(node))
        if isinstance(obj, ArrayValue) and name == "get_shape":
            return Bound(obj, name)
        if isinstance(obj, _LayerList):
            return Opaque(self.py.text(node))
        return _MISSING

    def instance_attr_first(self, obj: Instance, name: str) -> Any:
        """What Keras provides on a subclass instance before its own attributes: the default
        ``build`` and ``add_weight``; else _MISSING."""
        if name == "build" and obj.kmodel is not None and not isinstance(
                obj.cls.lookup("build"), UserFunc):
            return Bound(obj, "__build__")
        if name in ("add_weight", "add_variable") and (obj.klayer is not None
                                                       or obj.kmodel is not None):
            if obj.cls.lookup(name) is _MISSING:
                return Bound(obj, "__add_weight__")
        return _MISSING

    def instance_attr_last(self, obj: Instance, name: str, node: Any) -> Any:
        """An attribute the instance's class does not define: its Keras model's or layer's."""
        if obj.kmodel is not None:
            self.materialize_instance(obj)
            return self.py.getattr_(obj.kmodel, name, node)
        if obj.klayer is not None:
            if name == "built":  # Keras sets it once build() returned (the build wrapper)
                return obj.klayer.built is not None or bool(obj.attrs.get("__built__"))
            return self.py.getattr_(obj.klayer, name, node)
        return Opaque(self.py.text(node))

    def call_value(self, func: Any, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        """Calling a layer or an instance (``layer(x)``); anything else is unknown."""
        from bnlint.keras.builder import KLayer

        if isinstance(func, (KLayer, Instance)):
            return self.call_layer_value(func, args, kwargs, node)
        if isinstance(func, Unresolved) and self.has_tensor(args, kwargs):
            self.py.note_unresolved(func.why, node)
        if isinstance(func, TFInitializer):
            shape = args[0] if args else kwargs.get("shape")
            if isinstance(shape, int) and not isinstance(shape, bool):
                shape = (shape,)
            if isinstance(shape, (list, tuple)) and all(
                    isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
                return ArrayValue(tuple(shape))
        return self.unknown_call(args, kwargs, node)

    def method(self, obj: Any, name: str, args: list[Any], kwargs: dict[str, Any],
               node: Any) -> Any:
        """A method of a Keras model or layer, or Keras's own on a subclass instance
        (``super().x``, the default ``add_weight``/``build``); else _MISSING."""
        from bnlint.keras.builder import KLayer, KModel, KTensor

        if isinstance(obj, Instance) and name.startswith("super."):
            return self.super_call(obj, name[6:], args, kwargs, node)
        if isinstance(obj, Instance) and name == "__add_weight__":
            return self.add_weight(obj, args, kwargs, node)
        if isinstance(obj, Instance) and name == "__build__":
            shape = args[0] if args else kwargs.get("input_shape")
            self.subclass_build(obj, shape, node)
            return None
        if isinstance(obj, KTensor) and name == "get_shape" and not args and not kwargs:
            return obj.shape if obj.shape is not None else Opaque(self.py.text(node))
        if isinstance(obj, (WeightVar, ArrayValue)) and name == "get_shape" and not args and \
                not kwargs:  # a variable's / eager tensor's TensorShape
            return tuple(obj.shape)
        if isinstance(obj, KModel):
            return self.model_method(obj, name, args, kwargs, node)
        if isinstance(obj, KLayer):
            return self.layer_method(obj, name, args, kwargs, node)
        return _MISSING

    def binop(self, op: str, a: Any, b: Any, node: Any) -> Any:
        """``a op b`` when an operand is a tensor (None: unknown); else _MISSING."""
        from bnlint.keras.builder import KTensor

        if isinstance(a, (KTensor, WeightVar)) or isinstance(b, (KTensor, WeightVar)):
            if self.in_custom or self.calling:
                r = self.tensor_binop(op, a, b)
                if r is None:
                    bad = [x for x in (a, b) if self.tensor_shape(x) is None]
                    self.note_unknown_op(self.py.text(node), node, (
                        f"operand `{bad[0].text}` is not a known tensor" if bad and isinstance(
                            bad[0], Opaque) else "the shapes do not broadcast"))
                return self.traced_op(op, [a, b], r)
            out = self.graph_op(op, a, b, node)
            if out is None:
                self.py.note(node, f"`{self.py.text(node)}`: this operation on a Keras tensor "
                                   "is not modelled")
            return out
        return _MISSING

    def unary(self, op: str, v: Any, node: Any) -> Any:
        """``-x`` / ``+x`` on a tensor inside a traced call() (the shape is kept; None:
        unknown); else _MISSING."""
        from bnlint.keras.builder import KTensor

        if op in ("Minus", "Plus") and isinstance(v, (KTensor, WeightVar)) and (
                self.in_custom or self.calling):
            shape = self.tensor_shape(v)
            if shape is None:
                return None
            return v if op == "Plus" else self.traced_op("negative", [v], self.new_tensor(shape))
        return _MISSING

    def subscript(self, obj: Any, key: Any, node: Any) -> Any:
        """``get_weights()[i]``, ``model.layers[i]`` and ``x[:, 0]`` on a tensor; else _MISSING."""
        from bnlint.keras.builder import KTensor

        if isinstance(obj, KTensor):
            return self.tensor_getitem(obj, key, node)
        if isinstance(obj, WeightList):
            if isinstance(key, int) and -len(obj.entries) <= key < len(obj.entries):
                w = obj.entries[key]
                lname = w.path.split("/")[0]
                self.reference(node, "weight", obj.model_name, lname, w)
                return WeightArray(w, lname)
            if isinstance(key, int):
                self.py.note(node, f"`{self.py.text(node)}`: index {key} is out of range "
                                f"(get_weights() has {len(obj.entries)} arrays)")
            return Opaque(self.py.text(node))
        if isinstance(obj, _LayerList):
            if isinstance(key, int) and -len(obj.layers) <= key < len(obj.layers):
                layer = obj.layers[key]
                self.reference(node, "layer", obj.model_name, layer.name, None)
                return layer
            if isinstance(key, slice):
                return list(obj.layers[key])
            if isinstance(key, int):
                self.py.note(node, f"`{self.py.text(node)}`: index {key} is out of range "
                                f"(the model has {len(obj.layers)} layers)")
            return Opaque(self.py.text(node))
        return _MISSING

    def isinstance_(self, v: Any, t: KRef) -> bool | None:
        """``isinstance(v, t)`` for a Keras class ``t``: True / False / None (not known).

        Exact for the class of a layer or model itself, for the bases every layer and model
        has (``Layer``, ``Model``), and for a built-in layer against a built-in layer class
        (Keras's class hierarchy, generated from Keras with the signatures); else unknown."""
        from bnlint.keras.builder import KLayer, KModel, KTensor

        last = t.path.rsplit(".", 1)[-1]
        kind = self.keras_kind(t)
        if isinstance(v, Instance):
            base = v.cls.keras_base()
            if base is None:
                return False if kind is not None or last in ("Layer", "Model") else None
            if last == "Layer" or (last == "Model" and base == "model"):
                return True
            return None
        if isinstance(v, KModel):
            if last in ("Layer", "Model"):
                return True
            if last == "Sequential":
                return v.kind == "Sequential" or None
            return None
        if isinstance(v, KLayer):
            if last == "Layer" or (kind is not None and kind[0] == "layer" and kind[1] ==
                                   v.class_name):
                return True
            if last in ("Model", "Sequential", "Functional"):
                return False
            if kind is not None and kind[0] == "layer":
                # a built-in layer against a built-in class: Keras's own class hierarchy
                # (generated with the signatures); None for a class bnlint does not know
                from bnlint.keras.signatures import is_instance_of

                return is_instance_of(v.class_name, kind[1], self.py.version)
            return None
        if isinstance(v, KTensor) or _plain_data(v):
            if last in ("Layer", "Model", "Sequential", "Functional") or kind is not None:
                return False  # a tensor or plain data is no layer
            return None
        return None

    def is_callable(self, v: Any) -> bool | None:
        """``callable(v)`` for Keras values (None: not known)."""
        from bnlint.keras.builder import KLayer, KTensor

        if isinstance(v, (KLayer, Instance)):
            return True if not isinstance(v, Instance) or v.cls.keras_base() else None
        if isinstance(v, KRef) and self.keras_kind(v) is not None:
            return True
        if isinstance(v, KTensor):
            return False
        return None

    def is_tensor(self, v: Any) -> bool:
        from bnlint.keras.builder import KTensor

        return isinstance(v, KTensor)

    def widen(self, value: Any, name: str, why: str) -> Any:
        """What ``name`` may hold after a loop bnlint did not evaluate to its end (``why``): a
        model it added layers to keeps them but its totals become unknown; a tensor is unknown."""
        m = self.as_model(value, materialize=False)
        if m is None and isinstance(value, Instance):
            m = value.klayer  # a custom layer whose sublayers the loop adds
        if m is not None:
            m.unknown = m.unknown or why
            return value
        if self.is_tensor(value):
            return Opaque(name)
        return None  # not Keras's

    def bind_global(self, name: str, value: Any, st: Any = None) -> None:
        """A model assigned to a module-level name is known by that name; a model whose name
        is bound to something else is remembered with where (``rebound``)."""
        m = self.as_model(value, materialize=False)
        prev = self.global_models.get(name)
        if prev is not None and prev is not m and id(prev) not in self.rebound:
            where, text = "", name
            if st is not None:
                line, _, cell = self.py.pos(st)
                where = f"cell {cell}, line {line}" if cell is not None else f"line {line}"
                text = " ".join(self.py.text(st).split())
            self.rebound[id(prev)] = (name, where, text[:80])
        if m is None:
            self.global_models.pop(name, None)
            return
        self.global_models[name] = m
        if getattr(m, "variable", None) is None:
            m.variable = name

    def set_trainable(self, obj: Any, value: Any, target: Any, st: Any) -> bool:
        """``x.trainable = value``: the flag set and the fact recorded; True when nothing is
        left to do (a layer or model that is not a subclass instance)."""
        from bnlint.keras.builder import KLayer

        layer = obj.kmodel if isinstance(obj, Instance) and obj.kmodel is not None else obj
        if isinstance(obj, Instance) and obj.klayer is not None:
            layer = obj.klayer
        line, _, cell = self.py.pos(st)
        if isinstance(layer, KLayer):
            v = self.py.truth(value)
            if v is not None:
                _set_trainable(layer, v)
                self._invalidate()
            self.py.facts.trainable.append(TrainableFact.model_construct(
                target=self.py.text(target), resolved=layer.name, is_model=layer.is_model,
                value=_plain(value), line=line, cell=cell))
            if not isinstance(obj, Instance):
                return True
        else:
            self.py.facts.trainable.append(TrainableFact.model_construct(
                target=self.py.text(target), resolved=None, value=_plain(value), line=line,
                cell=cell))
        return False

    def before_setattr(self, obj: Instance, name: str, value: Any, st: Any) -> Any:
        """Keras's checks and tracking before ``self.name = value`` on an instance: the value
        to store (Keras 3 stores a tracked copy of a list or dict)."""
        builtin = obj.attrs.get("__builtin__")
        if builtin:
            from bnlint.keras.catalogue import read_only_attributes

            if name in (read_only_attributes(builtin, self.py.version) or ()):
                why = (f"line {self.py.pos(st)[0]}: `self.{name} = ...`: {builtin}.{name} is a "
                       "property without a setter (AttributeError)")
                self.py.note(st, f"`self.{name} = ...`: {builtin}.{name} is a property without "
                                 "a setter (AttributeError)")
                if obj.klayer is not None:
                    obj.klayer.unknown = obj.klayer.unknown or why
                else:
                    obj.attrs.setdefault("__init_error__", why)
                raise _Raise()
        layers = self._layer_values(value)
        if layers and self.py.version == 3 and any(i is obj for i in self.calling):
            self.state_in_call(obj, layers, st)
        value = self.keras_setattr(obj, name, value)
        if self.py.version == 2 and name in obj.attrs and (layers or isinstance(
                value, (list, tuple, dict))):
            # tf_keras untracks the old value: the new one is tracked last.
            del obj.attrs[name]
        return value

    def after_setattr(self, obj: Instance, value: Any) -> None:
        """Keras tracks the layers assigned to a subclass instance; tf_keras also a
        ``tf.Variable`` (a weight of the layer)."""
        if obj.kmodel is not None or obj.klayer is not None:
            self._track(obj, value)
            if isinstance(value, TFVariable) and not value.layer and self.py.version == 2:
                # tf_keras tracks a tf.Variable set on a layer as its weight (Keras 3 does not)
                owner = obj.klayer or obj.kmodel
                value.layer = owner.name
                obj.weights.append(value.spec)
                if obj.klayer is None:
                    obj.kmodel.own_weights.append(value.spec)

    def unpack(self, v: Any, n: int, node: Any) -> list[Any] | None:
        """``a, b = t`` with ``t`` an unknown tensor of functional code (the output of a call
        bnlint cannot read, which may be a list): each target is an unknown tensor that stays
        connected to it, so the layers after it stay in the model (unknown where their
        shapes depend on it). None otherwise."""
        from bnlint.keras.builder import KTensor

        if isinstance(v, KTensor) and v.shape is not None and not (self.in_custom or self.calling):
            if self.py.version == 3:
                self.py.note(node, f"`{self.py.text(node)}`: Keras 3 cannot unpack a symbolic "
                                   "KerasTensor (NotImplementedError); the targets are unknown")
            return None
        if not isinstance(v, KTensor) or v.shape is not None or self.in_custom or (
                self.calling) or n > 64:
            return None
        text = self.py.text(node)
        return [self._op_node_named(f"<{text}[{i}]>", "Unknown", [v], None, None, node)
                for i in range(n)]

    def sequence(self, v: Any) -> list[Any] | None:
        """The items of ``model.layers`` or ``get_weights()`` (for ``len`` and loops); else None."""
        if isinstance(v, _LayerList):
            return list(v.layers)
        if isinstance(v, WeightList):
            return [WeightArray(w, w.path.split("/")[0]) for w in v.entries]
        return None
