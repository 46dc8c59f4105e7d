"""Subclassed models and custom layers: instantiation, super(), build/call, add_weight."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bnlint.readers.source.keras_layers import _unbuilt
from bnlint.readers.source.values import (
    Instance,
    Opaque,
    UserClass,
    UserFunc,
    WeightVar,
    _Break,
    _Budget,
    _Continue,
    _Raise,
    _Return,
)
from bnlint.symbolic import Sym

if TYPE_CHECKING:
    from bnlint.readers.source.keras_world import KerasWorld


# Keras 3 layers that are built in __init__ (they call ``_build_at_init`` or set ``built``):
# a subclass holding only these has no "unbuilt state", so Keras does not run its call() an
# extra time to build it (``Layer._maybe_build``).

def _unknown_reason(layer: Any, depth: int = 0) -> str | None:
    """Why a layer's weights (a model's: any of its layers') cannot be known, or None."""
    if layer.unknown is not None:
        return layer.unknown
    if getattr(layer, "is_model", False) and depth < 20:
        for sub in layer.layers:
            why = _unknown_reason(sub, depth + 1)
            if why is not None:
                return f"`{sub.name}`: {why}" if not why.startswith("`") else why
    return None


class _CustomCall:
    """The builder's hook for a user-defined layer (``KLayer.custom``)."""

    def __init__(self, world: KerasWorld, inst: Instance, node: Any):
        self.world = world
        self.inst = inst
        self.node = node

    def __call__(self, layer: Any, shapes: list[Any], kwargs: dict[str, Any], list_input: bool,
                 first_count: int | None) -> list[Any]:
        return self.world.custom_layer_call(self.inst, layer, shapes, kwargs, list_input,
                                             first_count)


class Subclassed:
    # -------------------------------------------------------------- user classes
    def instantiate(self, cls: UserClass, args: list[Any], kwargs: dict[str, Any],
                    node: Any) -> Any:
        from bnlint.keras.builder import KLayer, KModel
        from bnlint.keras.naming import to_snake_case

        inst = Instance(cls)
        base = cls.keras_base()
        if base == "model":
            name = kwargs.get("name") if isinstance(kwargs.get("name"), str) else None
            name = name or self.counters.uniquify(to_snake_case(cls.name))
            inst.kmodel = KModel(name, cls.name, {"name": name}, self.py.version,
                                 location=self.py.loc(node), kind="Sequential")
            inst.kmodel.is_built = False
            self.models.append(inst)
        elif base == "layer":
            name = kwargs.get("name") if isinstance(kwargs.get("name"), str) else None
            name = name or self.counters.layer_name(cls.name)
            inst.klayer = KLayer(name, cls.name, {"name": name}, self.py.version,
                                 location=self.py.loc(node))
            inst.klayer.custom = _CustomCall(self, inst, node)
            if self.py.truth(kwargs.get("trainable", True)) is False:
                # Keras 3: only the layer's own variables (created later by add_weight) are
                # frozen; sublayers made after super().__init__() stay trainable.  tf_keras:
                # the whole layer is frozen.
                if self.py.version == 3:
                    inst.attrs["__init_frozen__"] = True
                else:
                    inst.klayer.trainable = False
        elif base is None:
            builtin = self.builtin_base(cls)
            if builtin is not None:
                inst.attrs["__builtin__"] = builtin
        init = cls.lookup("__init__")
        if isinstance(init, UserFunc):
            self.py.call_user(init, [inst, *args], kwargs, node)
        if inst.attrs.get("__builtin__") and inst.klayer is None:
            self.builtin_init(inst, args if not isinstance(init, UserFunc) else [],
                              kwargs if not isinstance(init, UserFunc) else {}, node)
        return inst

    def builtin_base(self, cls: UserClass) -> str | None:
        """The built-in Keras layer class a user class derives from, or None."""
        ref = cls.keras_class_base()
        if ref is None:
            return None
        kind = self.keras_kind(ref)
        return kind[1] if kind is not None and kind[0] == "layer" else None

    def builtin_init(self, inst: Instance, args: list[Any], kwargs: dict[str, Any],
                     node: Any) -> None:
        """``super().__init__(...)`` of a subclass of a built-in layer: the built-in layer, named
        and reported after the subclass; overriding build() is not modelled."""
        builtin = inst.attrs["__builtin__"]
        cls = inst.cls
        kw = dict(kwargs)
        if not isinstance(kw.get("name"), str):
            kw["name"] = self.counters.layer_name(cls.name)
        layer = self.make_layer(builtin, list(args), kw, node)
        layer.class_name = cls.name
        layer.rule = builtin
        own = [n for n in ("build", "call", "compute_output_shape")
               if self._defined_below(cls, n)]
        if "build" in own:
            layer.unknown = (f"`{cls.name}` overrides {builtin}.build(): its variables are not "
                             "modelled")
        elif own:
            layer.notes.append(f"`{cls.name}` overrides {builtin}.{own[0]}(); shapes are "
                               f"{builtin}'s")
        inst.klayer = layer
        if inst.attrs.get("__init_frozen__"):
            layer.trainable = False

    def _defined_below(self, cls: UserClass, name: str, depth: int = 0) -> bool:
        if name in cls.ns:
            return True
        return depth < 20 and any(isinstance(b, UserClass) and self._defined_below(
            b, name, depth + 1) for b in cls.bases)

    def super_call(self, inst: Instance, name: str, args: list[Any], kwargs: dict[str, Any],
                   node: Any) -> Any:
        if name == "__init__" and inst.attrs.get("__builtin__") and inst.klayer is None:
            self.builtin_init(inst, args, kwargs, node)
            return None
        if name == "__init__":
            nm = kwargs.get("name")
            if isinstance(nm, str):
                if inst.kmodel is not None:
                    inst.kmodel.name = nm
                if inst.klayer is not None:
                    inst.klayer.name = nm
            if inst.klayer is not None:
                self._layer_input_arg(inst.klayer, kwargs, node)
            if inst.kmodel is not None and isinstance(kwargs.get("inputs"), object) and (
                    "inputs" in kwargs or len(args) >= 2):
                # Functional-style subclass: Model.__init__(inputs, outputs)
                ins = self._tensors(kwargs.get("inputs", args[0] if args else None))
                outs = self._tensors(kwargs.get("outputs", args[1] if len(args) > 1 else None))
                if ins is not None and outs is not None:
                    inst.kmodel.kind = "Functional"
                    inst.kmodel.inputs, inst.kmodel.outputs = ins, outs
                    inst.kmodel.is_built = True
                    inst.attrs["__functional__"] = True
                else:
                    # a functional model bnlint cannot follow: not an empty model
                    which = "inputs" if ins is None else "outputs"
                    why = (f"`{self.py.text(node)}`: the {which} are not tensors bnlint "
                           "knows; the functional model is not modelled")
                    self.py.note(node, why)
                    line, _, _ = self.py.pos(node)
                    inst.kmodel.unknown = inst.kmodel.unknown or f"line {line}: {why}"
            return None
        if name == "build":
            if inst.kmodel is not None and self.py.version == 2 and not inst.calling_build \
                    and not inst.kmodel.is_built:
                # tf_keras Model.build(shape) on a subclass traces call() (not when Keras
                # itself builds the model on its first call).
                shape = args[0] if args else kwargs.get("input_shape")
                self.subclass_build(inst, shape, node)
            return None
        if name == "call" and inst.kmodel is not None:
            return Opaque(self.py.text(node))
        return Opaque(self.py.text(node))

    def _layer_input_arg(self, layer: Any, kwargs: dict[str, Any], node: Any) -> None:
        """``Layer.__init__(input_shape=..., input_dim=...)`` (tf-keras also
        ``batch_input_shape``, ``batch_size``): the shape a Sequential starting with the
        layer is built on."""
        keys = ("input_shape", "input_dim") + (("batch_input_shape",) if self.py.version == 2
                                                else ())
        if not any(kwargs.get(k) is not None for k in keys):
            return
        if kwargs.get("batch_input_shape") is not None:
            shape = self._shape_value(kwargs["batch_input_shape"])
        else:
            dim = kwargs.get("input_dim")
            inner = self._shape_value((dim,) if dim is not None else kwargs["input_shape"])
            bs = kwargs.get("batch_size")
            shape = None if inner is None else (
                bs if isinstance(bs, int) and self.py.version == 2 else None, *inner)
        if shape is None:
            self.py.note(node, f"`{layer.name}`: input shape not known statically")
        self.input_arg[id(layer)] = shape

    def call_subclass(self, inst: Instance, args: list[Any], kwargs: dict[str, Any],
                      node: Any, build: bool = True) -> Any:
        """Call a subclassed model/layer instance; ``build``: on its first symbolic call, build
        it as Keras's ``__call__`` does (``Model.build`` itself runs call() only)."""
        from bnlint.keras.builder import KTensor

        if inst.kmodel is not None and inst.attrs.get("__functional__"):
            return self.call_layer_value(inst.kmodel, args, kwargs, node)
        if inst.klayer is not None:
            # A custom layer: build() and call() are interpreted by custom_layer_call.
            call = inst.cls.lookup("call")
            if not args and kwargs and isinstance(call, UserFunc):
                params = call.node.params.params
                first = params[1].name.value if len(params) > 1 else None
                if first in kwargs:
                    kwargs = dict(kwargs)
                    args = [kwargs.pop(first)]
            return self.call_layer_value(inst.klayer, args, kwargs, node)
        call = inst.cls.lookup("call")
        if not isinstance(call, UserFunc):
            return Opaque(self.py.text(node))
        if inst.kmodel is not None and "training" in kwargs:
            self.fact(inst.kmodel, "__call__", kwargs, node)
        ts = (self._tensors(args[0]) if args else None) or []
        symbolic = bool(ts) and all(t.shape is not None for t in ts)
        with self.graph_scope(symbolic):
            if symbolic and build and inst.kmodel is not None and not inst.kmodel.is_built:
                shapes = [tuple(t.shape) for t in ts]
                self.first_build(inst, shapes if isinstance(args[0], (list, tuple, dict))
                                 else shapes[0], lambda: self.run_call(inst, call, args, kwargs,
                                                                       node))
            out = self.run_call(inst, call, args, kwargs, node)
        if inst.kmodel is not None and not inst.kmodel.is_built and args and isinstance(
                args[0], KTensor):
            inst.kmodel.inputs = [args[0]]
            outs = self._tensors(out)
            inst.kmodel.outputs = outs or []
            inst.kmodel.is_built = True
            inst.attrs["__called__"] = True
        if symbolic and inst.kmodel is not None:
            return self.as_model_call(inst.kmodel, ts, out, kwargs)
        return out

    def as_model_call(self, model: Any, inputs: list[Any], out: Any, kwargs: dict[str, Any],
                      ) -> Any:
        """Keras records a call of a subclassed model as one node of the model — a single
        layer of an enclosing functional model — whose outputs have the shapes call() gave;
        the layers inside stay inside."""
        from bnlint.keras import builder as kb
        from bnlint.keras.builder import KTensor

        outs = self._tensors(out)
        if not outs or any(t.shape is None for t in outs):
            return out
        plain = {k: v for k, v in kwargs.items() if v is None or isinstance(v, (bool, int, str))}
        new = kb.record_call(model, inputs, [t.shape for t in outs], plain)
        if isinstance(out, KTensor):
            return new[0]
        if isinstance(out, (list, tuple)) and len(out) == len(new):
            return type(out)(new)
        if isinstance(out, dict) and len(out) == len(new):
            return dict(zip(out, new, strict=True))
        return out

    def run_call(self, inst: Instance, call: UserFunc, args: list[Any], kwargs: dict[str, Any],
                 node: Any) -> Any:
        self.calling.append(inst)
        try:
            return self.py.call_user(call, [inst, *args], kwargs, node)
        finally:
            self.calling.pop()

    def first_build(self, inst: Instance, build_shape: Any, run_call: Callable[[], Any]) -> None:
        """``Layer._maybe_build`` on a model's first symbolic call: the class's own ``build``
        with the input shape, or else Keras 3's build-by-run."""
        build = inst.cls.lookup("build")
        if isinstance(build, UserFunc):
            inst.calling_build = True
            try:
                self._guarded(build, [inst, build_shape], {})
            finally:
                inst.calling_build = False
            return
        self.build_by_run(inst, run_call)

    def build_by_run(self, inst: Instance, run_call: Callable[[], Any]) -> None:
        """Keras 3 builds a subclass without ``build()`` that holds an unbuilt sublayer by
        running its call() once more before the real call: layers created inside call() take
        names twice.  Keras records no nodes on the sublayers in that run."""
        self.retrack(inst)
        if self.py.version != 3 or isinstance(inst.cls.lookup("build"), UserFunc) or not any(
                _unbuilt(la) for la in inst.tracked):
            return
        marks = [(la, len(la.nodes)) for la in inst.tracked]
        run_call()
        for la, n in marks:
            del la.nodes[n:]

    @contextmanager
    def graph_scope(self, symbolic: bool) -> Iterator[None]:
        """tf_keras runs a layer's build/call on symbolic inputs inside a scratch FuncGraph,
        whose layer names come from a fresh per-graph counter (``dense``, ``dense_1`` ...); the
        layers called inside it share that graph."""
        if self.py.version != 2 or not symbolic or self.graph_depth:
            yield
            return
        from bnlint.keras.naming import NameCounters

        saved, self.counters = self.counters, NameCounters(2)
        self.graph_depth += 1
        try:
            yield
        finally:
            self.counters = saved
            self.graph_depth -= 1

    def materialize_instance(self, inst: Instance) -> None:
        from bnlint.keras.builder import KModel

        km = inst.kmodel
        if km is None or inst.attrs.get("__functional__"):
            return
        self.retrack(inst)
        km.seq_layers = list(inst.tracked)
        for la in km.seq_layers:
            if isinstance(la, KModel):
                self.materialize(la)

    def subclass_build(self, inst: Instance, shape: Any, node: Any) -> None:
        from bnlint.keras import builder as kb

        bshape = self._shape_value(shape)
        if self.py.version == 3:
            # Keras 3's Model.build() on a subclass does not run call(): the layers stay unbuilt.
            self.py.note(node, f"`{self.py.text(node)}`: Keras 3 marks a subclassed model built without "
                            "building its layers (call it on data or a keras.Input to build them)")
            return
        if bshape is None:
            self.py.note(node, f"`{self.py.text(node)}`: build shape not known statically")
            return
        t = kb.make_input("__build_input__", bshape, self.py.version, location=self.py.loc(node))
        self.call_subclass(inst, [t], {}, node, build=False)

    # -------------------------------------------------------------- custom layers
    def add_weight(self, inst: Instance, args: list[Any], kwargs: dict[str, Any],
                   node: Any) -> Any:
        """``self.add_weight(...)``: Keras 3 (shape, initializer, dtype, ...) positional order,
        tf_keras (name, shape, dtype, initializer, ...)."""
        from bnlint.keras.catalogue import WeightSpec

        if self.py.version == 3 and any(i is inst for i in self.calling):
            self.state_in_call(inst, [], node)
        order = (["shape", "initializer", "dtype"] if self.py.version == 3
                 else ["name", "shape", "dtype", "initializer", "regularizer", "trainable"])
        values = dict(kwargs)
        for pname, v in zip(order, args, strict=False):
            values.setdefault(pname, v)
        if self.py.version == 3 and args and isinstance(args[0], str):
            values.pop("shape", None)  # legacy add_weight("name", ...) raises in Keras 3
            self.py.note(node, "`add_weight`: Keras 3 takes `name` as a keyword only")
        owner = inst.klayer or inst.kmodel
        raw_shape = values.get("shape", ())
        shape = () if raw_shape is None else self._shape_value(raw_shape)
        if shape is None or any(d is None for d in shape):
            self.py.note(node, f"`{self.py.text(node)}`: weight shape not known statically")
            shape = tuple(Sym.atom(f"{self.py.text(node)}.shape[{i}]") for i in range(1)) \
                if shape is None else tuple(Sym.atom("?") if d is None else d for d in shape)
        name = values.get("name")
        if not isinstance(name, str):
            name = self.counters.uniquify("variable") if self.py.version == 3 else "Variable"
        trainable = self.py.truth(values.get("trainable", True))
        dtype = values.get("dtype") if isinstance(values.get("dtype"), str) else None
        if inst.attrs.get("__init_frozen__"):
            trainable = False
        spec = WeightSpec(name, tuple(shape), trainable is not False, dtype)
        inst.weights.append(spec)
        if inst.klayer is None and inst.kmodel is not None:  # a Model subclass's own variable
            inst.kmodel.own_weights.append(spec)
        return WeightVar(spec, owner.name if owner is not None else "?")

    def custom_layer_call(self, inst: Instance, layer: Any, shapes: list[Any],
                          kwargs: dict[str, Any], list_input: bool,
                          first_count: int | None) -> list[Any]:
        """Output shapes of one call of a user-defined layer; builds it on first call."""
        with self.graph_scope(True):
            return self._custom_layer_call(inst, layer, shapes, kwargs, list_input, first_count)

    def _custom_layer_call(self, inst: Instance, layer: Any, shapes: list[Any],
                           kwargs: dict[str, Any], list_input: bool,
                           first_count: int | None) -> list[Any]:
        from bnlint.keras import builder as kb
        from bnlint.keras.catalogue import TensorArg

        def ph(shape: Any) -> Any:
            return kb.make_input("__arg__", tuple(shape), self.py.version)

        in_mask = self.in_masks[0] if self.in_masks else None
        first = shapes if first_count is None else shapes[:first_count]
        rest = [] if first_count is None else shapes[first_count:]
        multi = list_input or len(first) != 1
        if not first and shapes:  # keyword tensors only: build() sees the first one's shape
            build_shape: Any = tuple(shapes[0])
        else:
            build_shape = [tuple(x) for x in first] if multi else tuple(first[0])
        first_build = layer.built is None
        call = inst.cls.lookup("call")
        if first_build:
            inst.weights = []
            build = inst.cls.lookup("build")
            if isinstance(build, UserFunc):
                self._guarded(build, [inst, build_shape], {})
                inst.attrs["__built__"] = True
        targs: list[Any] = [] if first_count == 0 else [
            [ph(x) for x in first] if multi else ph(first[0])]
        kw: dict[str, Any] = {}
        for k, v in kwargs.items():
            if isinstance(v, TensorArg):
                if v.index >= len(first) + len(rest):
                    continue
                kw[k] = ph(shapes[v.index])
            else:
                kw[k] = v
        if isinstance(call, UserFunc) and "mask" not in kw and any(
                p.name.value == "mask" for p in call.node.params.params):
            # Keras passes the first input's mask to a call() that takes `mask`
            kw["mask"] = self._mask_value(in_mask, ph)
        positional_extra = [ph(x) for x in rest if not any(
            isinstance(v, TensorArg) and v.index >= len(first) for v in kwargs.values())]
        targs.extend(positional_extra)
        outs: list[Any] | None = None
        reason = None
        cos = inst.cls.lookup("compute_output_shape")
        if self.py.version == 3 and isinstance(cos, UserFunc):
            # Keras 3 (``Layer.compute_output_spec``): an overridden compute_output_shape
            # gives the output shape; call() runs on the symbolic input only to build a layer
            # without build() that holds unbuilt sublayers.
            if first_build and isinstance(call, UserFunc):
                self.in_custom += 1
                self.calling.append(inst)
                try:
                    self.build_by_run(inst, lambda: self._guarded(call, [inst, *targs],
                                                                   dict(kw)))
                finally:
                    self.calling.pop()
                    self.in_custom -= 1
            outs = self._cos_shapes(inst, cos, build_shape)
            if outs is None:
                reason = (f"`{inst.cls.name}.compute_output_shape` (which Keras 3 uses for the "
                          "output shape) computes it with operations bnlint does not model")
        elif isinstance(call, UserFunc):
            self.in_custom += 1
            self.calling.append(inst)
            saved, self.first_unknown = self.first_unknown, None
            try:
                if first_build:
                    self.build_by_run(inst, lambda: self._guarded(call, [inst, *targs],
                                                                   dict(kw)))
                out = self._guarded(call, [inst, *targs], dict(kw))
            finally:
                self.calling.pop()
                self.in_custom -= 1
                cause, self.first_unknown = self.first_unknown, saved
            ts = self._tensors(out)
            if ts is not None and ts and all(t.shape is not None for t in ts):
                outs = [tuple(t.shape) for t in ts]
            else:
                reason = f"`{inst.cls.name}.call` computes its output with operations bnlint " \
                         "does not model" + (f": {cause}" if cause else "")
        else:
            reason = f"`{inst.cls.name}` has no call() bnlint can read"
        self._compute_mask(inst, layer, targs[0], in_mask, ph)
        if outs is None and self.py.version == 2 and isinstance(cos, UserFunc):
            outs = self._cos_shapes(inst, cos, build_shape)
            if outs is not None:
                reason = None
        if first_build and outs is None:
            # call() was not read to its end: a sublayer it would have built stays unbuilt
            # here, so the layer's parameters are not known either.
            lost = [sub for sub in inst.tracked if sub is not layer and (
                sub.unknown is not None or _unbuilt(sub))]
            if lost:
                layer.unknown = layer.unknown or f"{reason}; `{lost[0].name}` is not built"
        if first_build:
            self._finish_build(inst, layer, outs or [])
        elif outs and not layer.built.outputs:
            layer.built.outputs = list(outs)  # built by an explicit build() call
        if outs is None:
            msg = f"output shape unknown: {reason} (define compute_output_shape to fix)"
            if msg not in layer.notes:
                layer.notes.append(msg)
            return [None]
        return outs

    def _finish_build(self, inst: Instance, layer: Any, outs: list[Any]) -> None:
        """The variables of a custom layer once built: its own, then its sublayers'."""
        from bnlint.keras.builder import as_built
        from bnlint.keras.catalogue import Built, SubLayer

        self.retrack(inst)
        subs = []
        for sub in inst.tracked:
            if sub is layer:
                continue
            if getattr(sub, "is_model", False):
                self.materialize(sub)
            why = _unknown_reason(sub)
            if why is not None and layer.unknown is None:
                layer.unknown = f"sublayer `{sub.name}`: {why}"
            b = as_built(sub)
            if b is None:
                continue
            subs.append(SubLayer(sub.name, sub.class_name, b, not sub.trainable))
        layer.built = Built(outs, weights=list(inst.weights), sublayers=subs)

    def explicit_build(self, inst: Instance) -> None:
        """``block.build(shape)`` called by the program on a custom layer: Keras's build
        wrapper marks it built, with the variables and sublayers its build() made."""
        layer = inst.klayer
        if layer is None or layer.built is not None or inst.calling_build:
            return
        inst.attrs["__built__"] = True
        self._finish_build(inst, layer, [])
        self._invalidate()

    def _cos_shapes(self, inst: Instance, cos: UserFunc, build_shape: Any) -> list[Any] | None:
        """The output shapes a custom layer's compute_output_shape returns (a shape, or a
        list/tuple of shapes as Keras 3's ``map_shape_structure`` reads it), or None."""
        r = self._guarded(cos, [inst, build_shape], {})
        if isinstance(r, (list, tuple)) and r and all(
                isinstance(x, (list, tuple)) for x in r):
            cand = [self._shape_value(x) for x in r]
        else:
            cand = [self._shape_value(r)]
        if all(c is not None for c in cand):
            return cand
        return None

    def _mask_value(self, mask: Any, ph: Callable[[Any], Any]) -> Any:
        if mask is None:
            return None
        if mask == "?":
            return Opaque("mask")
        t = ph(mask)
        t.dtype = "bool"
        return t

    def _compute_mask(self, inst: Instance, layer: Any, inputs: Any, in_mask: Any,
                      ph: Callable[[Any], Any]) -> None:
        """The output mask of a custom layer: its own compute_mask (Keras 3 calls it on
        KerasTensors, so TF functions in it raise; tf_keras on graph tensors), the input mask
        when it sets ``supports_masking``, else none."""
        from bnlint.keras.builder import KTensor

        cm = inst.cls.lookup("compute_mask")
        if not isinstance(cm, UserFunc):
            supports = inst.attrs.get("supports_masking")
            self.out_mask = in_mask if supports is True else (None if supports in (
                None, False) else "?")
            return
        if self.py.version == 2:
            self.in_custom += 1
        try:
            r = self._guarded(cm, [inst, inputs, self._mask_value(in_mask, ph)], {})
        finally:
            if self.py.version == 2:
                self.in_custom -= 1
        if r is None:
            self.out_mask = None
        elif isinstance(r, KTensor) and r.shape is not None:
            self.out_mask = tuple(r.shape)
        else:
            self.out_mask = "?"
            if isinstance(r, KTensor) and r.node.layer.is_op and r.node.layer.unknown:
                # Keras raises in compute_mask: the layer's call fails
                layer.unknown = layer.unknown or f"`{inst.cls.name}.compute_mask`: " \
                    f"{r.node.layer.unknown}"

    def _guarded(self, fn: UserFunc, args: list[Any], kwargs: dict[str, Any]) -> Any:
        try:
            return self.py.call_user(fn, args, kwargs, fn.node)
        except _Budget:
            raise
        except (_Return, _Break, _Continue, _Raise):
            return Opaque(fn.name)
