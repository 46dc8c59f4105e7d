"""Sequential and functional models, model and layer methods, facts and references to models."""

from __future__ import annotations

import re
from typing import Any

from bnlint import graph
from bnlint.readers.source.facts import CallFact, Reference
from bnlint.readers.source.keras_layers import _MODEL_FACT_METHODS, _LambdaCall, _unbuilt
from bnlint.readers.source.py_helpers import _plain
from bnlint.readers.source.values import Instance, Opaque, SeqState, Unresolved, WeightList


class Models:
    # -------------------------------------------------------------- sequential
    def make_sequential(self, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        from bnlint.keras.builder import KModel

        layers = args[0] if args else kwargs.get("layers")
        pos_name = 2 if self.py.version == 3 else 1
        name = kwargs.get("name", args[pos_name] if len(args) > pos_name else None)
        if not isinstance(name, str):
            name = self.counters.model_name("Sequential")
        model = KModel(name, "Sequential", {"name": name}, self.py.version, location=self.py.loc(node),
                       kind="Sequential")
        trainable = kwargs.get("trainable", True)
        model.trainable = self.py.truth(trainable) is not False
        model.is_built = False
        model.on_first_call = lambda m, shapes: self.build_sequential(m, shapes[0], node)
        self.seq[id(model)] = SeqState()
        self.models.append(model)
        if isinstance(layers, (list, tuple)):
            for la in layers:
                self.seq_add(model, la, node, rebuild=False)
            self.seq_rebuild(model, node)
        elif layers is not None and not isinstance(layers, (list, tuple)):
            self.py.note(node, f"`{self.py.text(node)}`: layers not known statically")
        return model

    def _as_seq_layer(self, v: Any) -> Any:
        from bnlint.keras.builder import KLayer, KTensor

        if isinstance(v, KTensor) and v.node.is_input:
            return v.node.layer
        if isinstance(v, Instance):
            if v.kmodel is not None:
                self.materialize_instance(v)
                return v.kmodel
            return v.klayer
        if isinstance(v, KLayer):
            return v
        return None

    def seq_add(self, model: Any, value: Any, node: Any, rebuild: bool = True) -> None:
        from bnlint.keras import builder as kb

        st = self.seq[id(model)]
        layer = self._as_seq_layer(value)
        if layer is None:
            from bnlint.keras.builder import KLayer

            # The value may be a layer bnlint cannot read: it stands in the model as an
            # unknown layer, so that nothing after it is counted as exact.
            what = value.text if isinstance(value, Opaque) else type(value).__name__
            # a value from a module bnlint found nowhere: the root cause is that import
            cause = f" ({value.why})" if isinstance(value, Unresolved) else ""
            self.py.note(node, f"`{self.py.text(node)}`: added value `{what}` is not a layer "
                               f"bnlint knows{cause}; the model is unknown from there on")
            why = f"line {self.py.pos(node)[0]}: `{what}` is not a layer bnlint knows{cause}"
            layer = KLayer(f"<{what}>", "?", {}, self.py.version, location=self.py.loc(node),
                           unknown=why)
            if st.input is None and not st.layers:
                # The first layer may give the model its input shape (``input_shape=``):
                # whether the model is built, and the shapes after it, are not known.  Keras 3
                # names the input it makes when the call visibly passes an input shape.
                shaped = self.py.version == 3 and re.search(
                    r"\b(batch_input_shape|input_shape|input_dim|batch_shape)\s*=", what)
                st.input = kb.make_input(self.counters.input_name() if shaped else "input",
                                         (None,), self.py.version, location=layer.location)
                st.uncounted = not shaped
                st.input.shape = None
                st.input.node.layer.unknown = f"{why}: whether it gives the model an input " \
                    "shape is not known"
        if layer.class_name == "InputLayer" and layer.nodes and layer.nodes[0].is_input:
            if st.input is None and not st.layers:
                st.input = layer.nodes[0].outputs[0]
                st.dirty = True
            return
        if st.input is None and not st.layers and id(layer) in self.input_arg:
            shape = self.input_arg[id(layer)]
            name = (self.counters.input_name() if self.py.version == 3 else f"{layer.name}_input")
            if shape is None:
                st.input = kb.make_input(name, (None,), self.py.version, location=layer.location)
                st.input.shape = None
                st.input.node.layer.unknown = "input shape not known statically"
            else:
                st.input = kb.make_input(name, shape, self.py.version, location=layer.location)
        st.layers.append(layer)
        st.dirty = True
        if rebuild:
            self.seq_rebuild(model, node)

    def seq_rebuild(self, model: Any, node: Any) -> None:
        """Keras 3 builds a Functional (consuming a ``functional`` name) on every rebuild."""
        from bnlint.keras import builder as kb
        from bnlint.keras.builder import KModel

        st = self.seq[id(model)]
        if not st.layers:
            return
        if st.input is None and isinstance(st.layers[0], KModel):
            self.materialize(st.layers[0])  # a nested Sequential builds its graph lazily
        if st.input is None and isinstance(st.layers[0], KModel) and st.layers[0].inputs \
                and st.layers[0].inputs[0].shape is not None:
            shape = st.layers[0].inputs[0].shape
            if self.py.version == 3:
                st.input = kb.make_input(self.counters.input_name(), shape, self.py.version,
                                         location=model.location)
            else:
                st.input = kb.make_input(f"{st.layers[0].name}_input", shape, self.py.version,
                                         location=model.location)
        if st.input is not None and self.py.version == 3 and not st.uncounted:
            self.counters.model_name("Functional")
        self._invalidate()

    def build_sequential(self, model: Any, shape: Any, node: Any) -> None:
        from bnlint.keras import builder as kb

        st = self.seq.get(id(model))
        if st is None or st.input is not None:
            return
        if shape is None:
            return
        shape = tuple(shape)
        if self.py.version == 3:
            name = self.counters.input_name()
        else:
            name = f"{st.layers[0].name}_input" if st.layers else "input"
        st.input = kb.make_input(name, shape, self.py.version, location=self.py.loc(node))
        st.dirty = True
        if self.py.version == 3:
            self.counters.model_name("Functional")
        self.materialize(model)

    def materialize(self, model: Any) -> None:
        from bnlint.keras import builder as kb

        st = self.seq.get(id(model))
        if st is None or not st.dirty:
            return
        for layer, n in st.added:
            del layer.nodes[n:]
        st.added = [(la, len(la.nodes)) for la in st.layers]
        if st.input is None:
            model.seq_layers = list(st.layers)
            model.is_built = False
            model.inputs, model.outputs = [], []
        else:
            built = kb.sequential(model.name, st.layers, self.py.version, st.input,
                                  trainable=model.trainable, location=model.location)
            model.seq_layers = built.seq_layers
            model.input_layer = built.input_layer
            model.inputs, model.outputs = built.inputs, built.outputs
            model.is_built = True
        st.dirty = False
        self._invalidate()

    # -------------------------------------------------------------- save, load, clone
    def save_model(self, model: Any, path: Any) -> None:
        """``model.save(path)``: a later ``load_model(path)`` reads this model back."""
        m = self.as_model(model)
        if isinstance(path, str) and m is not None:
            self.saved_paths[path] = m

    def load_model(self, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        """``keras.models.load_model(path)``: the model this program saved to ``path``, else
        the file when bnlint can read it, else unknown (with a note)."""
        from pathlib import Path

        path = args[0] if args else kwargs.get("filepath")
        text = self.py.text(node)
        if not isinstance(path, str):
            self.py.note(node, f"`{text}`: the path is not known statically; the loaded model "
                         "is unknown")
            return Opaque(text)
        saved = self.saved_paths.get(path)
        if saved is not None:
            return self.copy_model(saved, node)
        where = self.py.ctx.path
        base = where.parent if where is not None else Path.cwd()
        file = base / path
        from bnlint.readers.saved import SAVED_SUFFIXES

        if file.suffix.lower() in SAVED_SUFFIXES and file.is_file():
            from bnlint.readers.config import ConfigError, Replayer
            from bnlint.readers.saved import ReadError, read_config

            try:
                config, _ = read_config(file)
                model = Replayer(self.py.version, str(file)).model(config)
            except (ReadError, ConfigError, AttributeError, TypeError, ValueError, KeyError,
                    IndexError, RecursionError) as exc:
                self.py.note(node, f"`{text}`: {path} cannot be read ({exc}); the loaded model "
                             "is unknown")
                return Opaque(text)
            model.location = self.py.loc(node)
            if model.kind == "Sequential" and model.is_built and self.py.version == 3:
                self.counters.model_name("Functional")
            self.models.append(model)
            return model
        self.py.note(node, f"`{text}`: {path} is not a saved model file bnlint can read (and "
                     "this program saves none there); the loaded model is unknown")
        return Opaque(text)

    def clone_model(self, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        """``keras.models.clone_model(m)``: m's architecture, new variables, the same names
        (Keras rebuilds every layer from its config)."""
        src = args[0] if args else kwargs.get("model")
        text = self.py.text(node)
        extra = [k for k in ("input_tensors", "clone_function", "call_function") if k in kwargs]
        if len(args) > 1 or extra:
            self.py.note(node, f"`{text}`: clone_model with "
                         f"{', '.join(extra) or 'input_tensors'} is not modelled")
            return Opaque(text)
        if isinstance(src, Instance):
            self.py.note(node, f"`{text}`: cloning a subclassed model rebuilds it from its "
                         "get_config(); not modelled")
            return Opaque(text)
        m = self.as_model(src)
        if m is None:
            self.py.note(node, f"`{text}`: the argument is not a model bnlint knows")
            return Opaque(text)
        return self.copy_model(m, node)

    def copy_model(self, model: Any, node: Any) -> Any:
        """A new model with ``model``'s architecture: a copy of its layers, nodes and tensors
        (user-defined layers keep their interpreter hooks)."""
        import copy

        from bnlint.keras.builder import KLayer

        memo: dict[int, Any] = {}
        for la in self._all_layers(model):
            if la.custom is not None:
                memo[id(la.custom)] = la.custom
            if la.location is not None:
                memo[id(la.location)] = la.location
        new = copy.deepcopy(model, memo)
        if new.kind == "Sequential" and new.is_built and self.py.version == 3:
            self.counters.model_name("Functional")  # Keras 3 builds the new Sequential's graph
        new.variable = None
        new.location = self.py.loc(node)
        new.on_first_call = None
        assert isinstance(new, KLayer)
        self.models.append(new)
        self._invalidate()
        return new

    def _all_layers(self, model: Any, depth: int = 0) -> list[Any]:
        out = []
        for la in model.layers:
            out.append(la)
            if getattr(la, "is_model", False) and depth < 20:
                out.extend(self._all_layers(la, depth + 1))
        return out

    # -------------------------------------------------------------- functional
    def _tensors(self, v: Any) -> list[Any] | None:
        from bnlint.keras.builder import KTensor

        if isinstance(v, KTensor):
            return [v]
        if isinstance(v, dict):
            try:
                v = [v[k] for k in sorted(v)]  # Keras flattens dicts by sorted key
            except TypeError:
                v = list(v.values())
        if isinstance(v, (list, tuple)):
            out = []
            for x in v:
                sub = self._tensors(x)
                if sub is None:
                    return None
                out.extend(sub)
            return out
        return None

    def _io_text(self, node: Any, what: str) -> str:
        """The source text of a Model(...) call's inputs or outputs argument."""
        cst = self.py.cst
        if not isinstance(node, cst.Call):
            return what
        pos = 0 if what == "inputs" else 1
        for i, a in enumerate(node.args):
            if (a.keyword is not None and a.keyword.value == what) or (
                    a.keyword is None and i == pos):
                return self.py.text(a.value)
        return what

    def _partial_outputs(self, outputs: Any, node: Any) -> tuple[list[Any] | None, str | None]:
        """Outputs some of which are not tensors: those become unknown tensors."""
        from bnlint.keras.builder import KTensor

        items = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        if isinstance(outputs, dict):
            try:
                items = [outputs[k] for k in sorted(outputs)]
            except TypeError:
                return None, None
        if len(items) > 64:
            return None, None
        out: list[Any] = []
        why = None
        for v in items:
            if isinstance(v, KTensor):
                out.append(v)
                continue
            if not isinstance(v, Opaque):
                return None, None
            text = v.text
            why = why or f"line {self.py.pos(node)[0]}: the output `{text}` is not a known " \
                "tensor"
            out.append(self._op_node_named(f"<{text}>", "Unknown", [], None, why, node))
        return out, why

    def make_functional(self, args: list[Any], kwargs: dict[str, Any], node: Any,
                        kind: str = "Functional") -> Any:
        from bnlint.keras import builder as kb

        inputs = kwargs.get("inputs", args[0] if args else None)
        outputs = kwargs.get("outputs", args[1] if len(args) > 1 else None)
        name = kwargs.get("name", args[2] if len(args) > 2 else None)
        if inputs is None and outputs is None:
            return Opaque(self.py.text(node))
        ins = self._tensors(inputs)
        outs = self._tensors(outputs)
        name = self.given_name(name, node)
        if name is None:
            name = self.counters.model_name(kind)
        why = None
        if ins is not None and outs is None:
            # keep the model and every known layer: an output bnlint cannot read is an
            # unknown tensor, the root cause named on the model
            outs, why = self._partial_outputs(outputs, node)
        if ins is None or outs is None:
            what = "inputs" if ins is None else "outputs"
            self.py.note(node, f"`{name}`: its {what} `{self._io_text(node, what)}` are not "
                               "known tensors; not modelled")
            return Opaque(self.py.text(node))
        model = kb.functional(name, ins, outs, self.py.version, location=self.py.loc(node), kind=kind)
        model.unknown = why
        trainable = kwargs.get("trainable", True)
        model.trainable = self.py.truth(trainable) is not False
        self.models.append(model)
        return model

    # -------------------------------------------------------------- methods on keras objects
    def fact(self, model: Any, method: str, kwargs: dict[str, Any], node: Any) -> None:
        line, _, cell = self.py.pos(node)
        recv = node.func.value if isinstance(node, self.py.cst.Call) and isinstance(
            node.func, self.py.cst.Attribute) else (node.func if isinstance(node, self.py.cst.Call)
                                                 else node)
        self.py.facts.calls.append(CallFact.model_construct(
            variable=self.py.text(recv), model=getattr(model, "name", None), method=method,
            line=line, cell=cell, kwargs={k: _plain(v) for k, v in kwargs.items()},
            training=_plain(kwargs["training"]) if "training" in kwargs else None))

    def model_method(self, model: Any, name: str, args: list[Any], kwargs: dict[str, Any],
                     node: Any) -> Any:

        st = self.seq.get(id(model))
        if name == "add" and st is not None and args:
            self.seq_add(model, args[0], node)
            return None
        if name == "pop" and st is not None and st.layers:
            la = st.layers.pop()
            st.dirty = True
            self.seq_rebuild(model, node)
            return la
        if name == "save":
            self.save_model(model, args[0] if args else kwargs.get("filepath"))
        if name in _MODEL_FACT_METHODS:
            self.materialize(model)
            self.fact(model, name, kwargs, node)
            return None if name in ("compile", "load_weights", "save", "save_weights") else \
                Opaque(self.py.text(node))
        if name == "build":
            shape = args[0] if args else kwargs.get("input_shape")
            if st is not None:
                self.build_sequential(model, self._shape_value(shape), node)
            return None
        if name == "summary":
            return None
        self.materialize(model)
        return self.layer_method(model, name, args, kwargs, node)

    def layer_method(self, layer: Any, name: str, args: list[Any], kwargs: dict[str, Any],
                     node: Any) -> Any:
        from bnlint.keras.builder import KModel


        if name == "get_weights":
            g = self.graph_for(layer)
            entries = g.all_weights() if isinstance(g, graph.Model) else g
            return WeightList(layer, list(entries), self.py.text(node),
                              layer.name if isinstance(layer, KModel) else None)
        if name == "get_layer" and isinstance(layer, KModel):
            lname = args[0] if args else kwargs.get("name")
            index = kwargs.get("index", args[1] if len(args) > 1 else None)
            layers = self.model_layers(layer)
            found = None
            if isinstance(lname, str):
                found = next((la for la in layers if la.name == lname), None)
            elif isinstance(index, int) and -len(layers) <= index < len(layers):
                found = layers[index]
            if found is not None:
                self.reference(node, "layer", layer.name, found.name, None)
                return found
            return Opaque(self.py.text(node))
        if name in ("get_vocabulary", "vocabulary_size", "adapt", "set_vocabulary") and \
                layer.rule_name in ("StringLookup", "IntegerLookup", "TextVectorization"):
            return self.vocabulary_method(layer, name, args, kwargs, node)
        if name == "count_params" and _unbuilt(layer) and layer.unknown is None:
            self.py.note(node, f"`{self.py.text(node)}`: Keras raises ValueError (count_params "
                         "of a layer or model that is not built)")
            return Opaque(self.py.text(node))
        if name == "count_params":
            g = self.graph_for(layer)
            if isinstance(g, graph.Model):
                return g.total_params if g.total_params is not None else Opaque(self.py.text(node))
            from bnlint.symbolic import total

            return total(w.size for w in g)
        if name == "__call__":
            return self.call_layer_value(layer, args, kwargs, node)
        if name in ("build", "compute_output_shape") and not isinstance(layer, KModel) and \
                (layer.custom is None or isinstance(layer.custom, _LambdaCall)) and \
                not layer.is_op:
            return self.builtin_build(layer, name, args[0] if args else kwargs.get(
                "input_shape"), node)
        return Opaque(self.py.text(node))

    def builtin_build(self, layer: Any, name: str, shape: Any, node: Any) -> Any:
        """``layer.build(shape)`` of a built-in layer creates its variables as its first call
        would; ``layer.compute_output_shape(shape)`` is the catalogue's output shape."""
        from bnlint.keras.catalogue import Unknown, build_layer

        bshape = self._shape_value(shape)
        built = None
        why = None
        if bshape is None:
            why = f"`{self.py.text(node)}`: the shape is not known statically"
        elif isinstance(layer.custom, _LambdaCall):
            # Keras runs a Lambda's function on a symbolic input for its output shape
            outs = layer.custom(layer, [tuple(bshape)], {}, False, None)
            if name == "build":
                return None
            if len(outs) == 1 and outs[0] is not None:
                return tuple(outs[0])
            return Opaque(self.py.text(node))
        else:
            try:
                built = build_layer(layer.rule_name, layer.config, [tuple(bshape)],
                                    self.py.version)
            except Unknown as exc:
                why = f"`{self.py.text(node)}`: {exc}"
        if name == "build":
            if layer.built is None:
                if built is not None:
                    layer.built = built
                else:
                    layer.unknown = layer.unknown or f"line {self.py.pos(node)[0]}: {why}"
                self._invalidate()
            return None
        if built is None or len(built.outputs) != 1 or built.outputs[0] is None:
            return Opaque(self.py.text(node))
        return tuple(built.outputs[0])

    def vocabulary_method(self, layer: Any, name: str, args: list[Any], kwargs: dict[str, Any],
                          node: Any) -> Any:
        """A lookup layer's vocabulary: known when given as a list; after adapt() (or a
        set_vocabulary bnlint cannot read) its size is a symbol the user can pin with
        ``--define``."""
        from bnlint.keras.layers.lookup import vocabulary

        if name == "adapt":
            from bnlint.readers.source.imports import _norm_text
            from bnlint.symbolic import Sym

            layer.config["__adapted__"] = True
            layer.config.pop("vocabulary", None)
            recv = node.func.value if isinstance(node, self.py.cst.Call) and isinstance(
                node.func, self.py.cst.Attribute) else None
            if recv is not None:
                # the vocabulary size: a symbol named as the user would write it, or its define
                text = f"len({_norm_text(self.py.text(recv))}.get_vocabulary())"
                size = self.py.defines.get(text)
                layer.config["__vocab_size__"] = size if isinstance(size, int) else Sym.atom(text)
            self._invalidate()
            return None
        if name == "set_vocabulary":
            vocab = args[0] if args else kwargs.get("vocabulary")
            layer.config.pop("__adapted__", None)
            layer.config["vocabulary"] = self._cfg(vocab)
            if not isinstance(vocab, (list, tuple)):
                layer.config["__adapted__"] = True
            self._invalidate()
            return None
        vocab = vocabulary(layer.rule_name, layer.config, self.py.version)
        special = args[0] if args else kwargs.get("include_special_tokens", True)
        if name == "vocabulary_size" and layer.config.get("__vocab_size__") is not None:
            return layer.config["__vocab_size__"]
        if vocab is not None and special is True:
            return list(vocab) if name == "get_vocabulary" else len(vocab)
        return Opaque(self.py.text(node))

    def graph_for(self, layer: Any) -> Any:
        """graph.Model for a model; list of graph.Weight for a plain layer."""
        from bnlint.keras import builder as kb
        from bnlint.keras.builder import KModel

        if isinstance(layer, KModel):
            self.materialize(layer)
            key = id(layer)
            cached = self.graph_cache.get(key)
            if cached is not None:
                return cached[1]
            g = kb.to_graph(layer, self.py.source)
            self.graph_cache[key] = (0, g)
            return g
        if layer.built is None:
            return []
        from bnlint.keras.builder import _layer_weights

        return _layer_weights(layer, False)

    def reference(self, node: Any, kind: str, model: str | None, layer: str,
                  weight: graph.Weight | None) -> None:
        line, col, cell = self.py.pos(node)

        if weight is not None:
            shape = graph.fmt_shape(weight.shape)
            desc = f"{layer}.{weight.name} {shape}"
        else:
            shape = None
            desc = layer
        refs = self.py.facts.references
        # The inner `X.layers[i]` of `X.layers[i].get_weights()[k]` is subsumed.
        refs[:] = [r for r in refs if not (r.line == line and r.cell == cell and r.kind == "layer"
                                           and weight is not None and self.py.text(node).startswith(r.text))]
        if any(r.line == line and r.column == col + 1 and r.text == self.py.text(node) for r in refs):
            return
        refs.append(Reference.model_construct(
            line=line, column=col + 1, cell=cell, text=self.py.text(node), kind=kind, model=model,
            layer=layer, weight=weight.name if weight is not None else None, shape=shape,
            description=desc))
