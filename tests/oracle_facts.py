"""Facts about a live, built Keras model, as seen by real Keras (the test oracle).

``keras_facts(model, version)`` turns a model built with Keras 3 (``keras``,
``version=3``) or Keras 2 (``tf_keras``, ``version=2``) into a plain,
JSON-serialisable dict. The goldens under ``fixtures/`` are exactly this dict,
and the differential tests compare bnlint's static answers against it.

This module must stay importable without TensorFlow/Keras: nothing Keras-related
is imported at module level. It only duck-types the model object it is given
(plus, for Keras 2, ``tensorflow.nest`` to flatten node outputs).

Structure (keys are sorted when written to disk)::

    {"name", "class_name",
     "layers": [{"name", "class_name", "params", "output_shapes",
                 "weights": [{"name", "shape", "trainable"}]}],
     "weights": [{"layer", "name", "shape", "trainable"}],   # model.weights order
     "total_params", "trainable_params", "non_trainable_params",   # as summary prints
     "summary_totals": ["Total params: ...", "Trainable params: ...",
                        "Non-trainable params: ..."]}
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["keras_facts", "short_weight_name", "summary_totals"]

_SUMMARY_PREFIXES = ("Total params:", "Trainable params:", "Non-trainable params:")


def _check_version(version: int) -> None:
    if version not in (2, 3):
        raise ValueError(f"version must be 2 (tf_keras) or 3 (keras), got {version!r}")


def short_weight_name(variable: Any, version: int) -> str:
    """The variable's short name: ``kernel``, ``gamma``, ``moving_mean``, ...

    Keras 3 variables carry it as ``v.name`` (the full path is ``v.path``);
    tf_keras variables are named like ``dense/kernel:0``.
    """
    _check_version(version)
    name = str(variable.name)
    if version == 3:
        return name
    name = name.rsplit("/", 1)[-1]
    return re.sub(r":\d+$", "", name)


def _shape(variable: Any) -> list[int | None]:
    shape = variable.shape
    if hasattr(shape, "as_list"):  # tf.TensorShape (tf_keras variables)
        return [None if d is None else int(d) for d in shape.as_list()]
    return [None if d is None else int(d) for d in tuple(shape)]


def _tensor_shape(tensor: Any) -> list[int | None] | None:
    shape = getattr(tensor, "shape", None)
    if shape is None:
        return None
    if hasattr(shape, "as_list"):
        if getattr(shape, "rank", 0) is None:  # unknown rank
            return None
        return [None if d is None else int(d) for d in shape.as_list()]
    return [None if d is None else int(d) for d in tuple(shape)]


def _count(weights: Any) -> int:
    """Scalar count of unique (by identity) weights, as both summaries count."""
    seen: dict[int, Any] = {}
    for w in weights:
        seen.setdefault(id(w), w)
    total = 0
    for w in seen.values():
        if not hasattr(w, "shape"):
            continue
        total += math.prod(0 if d is None else d for d in _shape(w))
    return int(total)


def _first_node_output_shapes(layer: Any, version: int) -> list[list[int | None]] | None:
    try:
        if version == 3:
            nodes = layer._inbound_nodes
            if not nodes:
                return None
            outputs = list(nodes[0].output_tensors)
        else:
            import tensorflow as tf

            nodes = layer.inbound_nodes
            if not nodes:
                return None
            outputs = tf.nest.flatten(nodes[0].outputs)
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    shapes = [_tensor_shape(t) for t in outputs]
    if not shapes or any(s is None for s in shapes):
        return None
    return shapes


def summary_totals(model: Any) -> list[str]:
    """The three totals lines of ``model.summary()``, stripped, in print order."""
    chunks: list[str] = []

    def _print_fn(text: str = "", *args: Any, **kwargs: Any) -> None:
        chunks.append(str(text))

    model.summary(print_fn=_print_fn)
    lines = [ln.strip() for chunk in chunks for ln in chunk.splitlines()]
    found = [ln for ln in lines if ln.startswith(_SUMMARY_PREFIXES)]
    if [next(p for p in _SUMMARY_PREFIXES if ln.startswith(p)) for ln in found] != list(
        _SUMMARY_PREFIXES
    ):
        raise RuntimeError(f"unexpected summary totals for {model.name!r}: {found!r}")
    return found


def _summary_number(line: str) -> int:
    match = re.search(r":\s*([\d,]+)", line)
    if match is None:
        raise RuntimeError(f"no number in summary line {line!r}")
    return int(match.group(1).replace(",", ""))


def _layer_params(layer: Any) -> int:
    """``layer.count_params()``; a layer that was never built (an unused sublayer of a built
    subclassed model) has no variables: ``summary()`` shows it as 0 (unbuilt / unused)."""
    try:
        return int(layer.count_params())
    except ValueError as exc:
        if ("isn't built" in str(exc) or "not built" in str(exc)) and not layer.weights:
            return 0
        raise


def keras_facts(model: Any, version: int) -> dict[str, Any]:
    """Facts about a built Keras model; see the module docstring for the layout.

    ``version`` is 3 for ``keras`` (Keras 3) and 2 for ``tf_keras`` (Keras 2).
    The three param counts are the numbers ``model.summary()`` prints (checked
    against it): unique variables; for a compiled Keras 3 model whose optimizer
    is built, ``total_params`` includes the optimizer's variables, as Keras 3's
    "Total params" does.
    """
    _check_version(version)

    # What the summary counts as trainable (it prefers the weights collected at
    # compile time when they exist; both versions count unique variables).
    trainable_source = getattr(model, "_collected_trainable_weights", None)
    if trainable_source is None:
        trainable_source = model.trainable_weights
    trainable_ids = {id(w) for w in model.trainable_weights}

    layers: list[dict[str, Any]] = []
    owner: dict[int, str] = {}
    for layer in model.layers:
        entries = []
        for w in layer.weights:
            owner.setdefault(id(w), layer.name)
            entries.append(
                {
                    "name": short_weight_name(w, version),
                    "shape": _shape(w),
                    "trainable": id(w) in trainable_ids,
                }
            )
        layers.append(
            {
                "name": layer.name,
                "class_name": layer.__class__.__name__,
                "params": _layer_params(layer),
                "output_shapes": _first_node_output_shapes(layer, version),
                "weights": entries,
            }
        )

    weights = []
    for w in model.weights:
        # A variable no layer owns is the model's own (self.add_weight on a Model subclass).
        weights.append(
            {
                "layer": owner.get(id(w), model.name),
                "name": short_weight_name(w, version),
                "shape": _shape(w),
                "trainable": id(w) in trainable_ids,
            }
        )

    trainable = _count(trainable_source)
    non_trainable = _count(model.non_trainable_weights)
    # Keras 3's "Total params" also counts the variables of a compiled model's
    # built optimizer (printed on an extra "Optimizer params" line); Keras 2's doesn't.
    optimizer = 0
    if version == 3 and getattr(model, "compiled", False):
        opt = getattr(model, "optimizer", None)
        if opt is not None and getattr(opt, "built", False):
            optimizer = _count(opt.variables)
    total = trainable + non_trainable + optimizer
    totals = summary_totals(model)
    printed = [_summary_number(line) for line in totals]
    if printed != [total, trainable, non_trainable]:
        raise RuntimeError(
            f"param counts {[total, trainable, non_trainable]} "
            f"disagree with model.summary() {totals!r} for {model.name!r}"
        )

    return {
        "name": model.name,
        "class_name": model.__class__.__name__,
        "layers": layers,
        "weights": weights,
        "total_params": total,
        "trainable_params": trainable,
        "non_trainable_params": non_trainable,
        "summary_totals": totals,
    }


def run_program_facts(text: str, path: str | None, version: int,
                      defines: dict[str, Any] | None = None,
                      module_name: str = "__main__") -> dict[str, Any]:
    """Execute a model-building program under real Keras and collect ``keras_facts`` of every
    model it binds to a module-level name.

    Returns ``{"error": <first exception or None>, "models": {name: facts | {"unbuilt": True,
    "name": ...} | {"error": ...}}}``.  Oracle side only: bnlint itself never runs user code.
    """
    import contextlib
    import io
    import traceback

    _check_version(version)
    if version == 3:
        import keras

        base = keras.Model
    else:
        import tf_keras

        base = tf_keras.Model
    # ``module_name``: a FILE::NAME target imports the file (its `__main__` block does not run).
    ns: dict[str, Any] = {"__name__": module_name, **(defines or {})}
    if path:
        ns["__file__"] = path
    error = None
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(text, path or "<fixture>", "exec"), ns)
    except Exception as exc:
        tb = traceback.extract_tb(exc.__traceback__)
        error = f"{type(exc).__name__}: {exc} (line {tb[-1].lineno if tb else '?'})"
    models: dict[str, Any] = {}
    for k, v in list(ns.items()):
        if not isinstance(v, base) or k.startswith("_"):
            continue
        if not v.built:
            models[k] = {"unbuilt": True, "name": v.name}
            continue
        try:
            with contextlib.redirect_stdout(buf):
                models[k] = keras_facts(v, version)
        except ValueError as exc:
            if "isn't built" in str(exc) or "not built" in str(exc):
                models[k] = {"unbuilt": True, "name": v.name}
            else:
                models[k] = {"error": f"{type(exc).__name__}: {exc}"}
        except Exception as exc:
            models[k] = {"error": f"{type(exc).__name__}: {exc}"}
    return {"error": error, "models": models}
