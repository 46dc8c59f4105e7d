"""Constructor signatures and defaults of every class in ``keras.layers``.

The data files are generated from real Keras by ``scripts/gen_signatures.py``
(never typed by hand) and checked against the installed Keras by the tests.

``version`` is the Keras major version: 3 (``keras.layers``) or 2
(``tf_keras.layers``).  Classes are keyed by their own ``__name__``; other
public names bound to the same class (``MaxPool2D`` for ``MaxPooling2D``) are
listed in the record's ``aliases`` and resolved by :func:`resolve_class`.

Default values in the data are JSON; :func:`defaults_for` decodes the two
non-JSON forms: ``{"__float__": "inf"}`` becomes ``float("inf")`` (likewise
``-inf``/``nan``), ``{"__dict__": {...}}`` becomes a dict.  A default that is
neither plain data nor a float (a function, a class, an object) stays as the
marker ``{"__repr__": "<qualified name>"}``; test it with :func:`is_opaque`.

Besides its own parameters and the base-Layer ``trainable``/``dtype``/``name``
(``base_kwargs``), a class's defaults include the parameters of a parent
``__init__`` that reach it through ``**kwargs`` and whose default the generator
verified on a live instance (``inherited``: ``renorm`` of Keras 2
``BatchNormalization``, ``lora_rank`` of Keras 3 ``Conv2D`` ...).  Parameters
that reach a parent the same way but whose default could not be verified are
named by :func:`inherited_params` (``unverified``) and have no default here.

This module must never import Keras or TensorFlow.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "class_names",
    "decode_default",
    "defaults_for",
    "export_paths",
    "inherited_params",
    "is_opaque",
    "keras_version",
    "resolve_class",
    "signature",
]


@cache
def _data(version: int) -> dict[str, Any]:
    name = f"signatures_keras{version}.json"
    try:
        text = resources.files("bnlint.keras").joinpath("data", name).read_text("utf-8")
    except FileNotFoundError:
        return {"classes": {}}
    return json.loads(text)


def signature(class_name: str, version: int) -> dict[str, Any] | None:
    """The raw record of a class (keyed by its ``__name__``), or ``None``."""
    return _data(version)["classes"].get(class_name)


def decode_default(value: Any) -> Any:
    """A default as Python: decodes the ``__float__`` and ``__dict__`` forms (recursively)."""
    if isinstance(value, list):
        return [decode_default(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            if "__float__" in value:
                return float(value["__float__"])
            if "__dict__" in value:
                return {k: decode_default(v) for k, v in value["__dict__"].items()}
        return value  # {"__repr__": ...}: left as the opaque marker
    return value


def is_opaque(value: Any) -> bool:
    """True for a default that could only be recorded as ``{"__repr__": ...}``."""
    return isinstance(value, dict) and len(value) == 1 and "__repr__" in value


def defaults_for(class_name: str, version: int) -> dict[str, Any]:
    """Every constructor default of a class, decoded; ``{}`` for an unknown class.

    Includes the base-Layer ``trainable``/``dtype``/``name`` that arrive through
    ``**kwargs`` (the record's ``base_kwargs``) and the verified defaults of
    parent parameters reached through ``**kwargs`` (the record's ``inherited``;
    the ``inherited_unverified`` ones are not included).  Lists stay lists (a
    tuple default such as ``strides=(1, 1)`` is ``[1, 1]``).
    """
    # a copy (lists and dicts too, one level deep: callers may change them)
    return {k: list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v
            for k, v in _decoded_defaults(class_name, version).items()}


@cache
def _decoded_defaults(class_name: str, version: int) -> dict[str, Any]:
    sig = signature(class_name, version)
    if sig is None:
        return {}
    return {k: decode_default(v) for k, v in sig.get("defaults", {}).items()}


def inherited_params(class_name: str, version: int) -> tuple[list[str], list[str]]:
    """``(verified, unverified)``: parent-``__init__`` parameters reached through ``**kwargs``.

    The verified ones have their default in :func:`defaults_for`; the unverified
    ones exist as far as the MRO tells (the generator could not build the class,
    or read the effective value, or it differed from the parent's default) and
    have no default here.  Both lists are sorted; ``([], [])`` for an unknown
    class.
    """
    sig = signature(class_name, version)
    if sig is None:
        return [], []
    return list(sig.get("inherited", ())), list(sig.get("inherited_unverified", ()))


def is_instance_of(class_name: str, other: str, version: int) -> bool | None:
    """``isinstance(layer, keras.layers.<other>)`` for a layer of the built-in class
    ``class_name`` (from the generated class hierarchy); None when either is not a public
    Keras layer class."""
    rec = signature(class_name, version)
    target = resolve_class(other, version)
    if rec is None or target is None or "bases" not in rec:
        return None
    return target == class_name or target in rec["bases"]


def class_names(version: int) -> list[str]:
    return sorted(_data(version)["classes"])


def keras_version(version: int) -> str | None:
    """The version of Keras the data was generated from (e.g. ``"3.15.1"``)."""
    return _data(version).get("keras_version")


@cache
def _export_paths(version: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, rec in _data(version)["classes"].items():
        for path in rec.get("exports", ()):
            out[path] = key
    return dict(sorted(out.items()))


def export_paths(version: int) -> dict[str, str]:
    """Every public dotted path naming a layer class -> the class's key.

    Paths are as recorded: ``keras.layers.Dense`` for Keras 3,
    ``tf_keras.layers.Dense`` and ``tf_keras.layers.experimental.preprocessing.Rescaling``
    for Keras 2.  Callers that see ``tf.keras.layers`` or ``keras.layers`` code
    under Keras 2 substitute the prefix themselves.
    """
    return dict(_export_paths(version))


@cache
def _names(version: int) -> dict[str, str]:
    out: dict[str, str] = {}
    classes = _data(version)["classes"]
    for key, rec in classes.items():
        for alias in rec.get("aliases", ()):
            out.setdefault(alias, key)
    for key in classes:  # a class's own name wins over any alias
        out[key] = key
    return out


def resolve_class(name: str, version: int) -> str | None:
    """The class key for a public name, alias or dotted path, or ``None``.

    ``resolve_class("MaxPool2D", 3) == "MaxPooling2D"``;
    ``resolve_class("keras.layers.Dense", 3) == "Dense"``.
    A dotted path must be one of :func:`export_paths` (no guessing from its
    last component: ``foo.Dense`` is not ``Dense``).
    """
    if "." in name:
        return _export_paths(version).get(name)
    return _names(version).get(name)


@cache
def _attributes() -> dict[str, Any]:
    text = resources.files("bnlint.keras").joinpath("data/layer_attributes.json").read_text(
        encoding="utf-8")
    return json.loads(text)


def base_has_attribute(base: str, name: str, version: int) -> bool | None:
    """``hasattr`` of an instance of a subclass of Keras's ``Layer``/``Model`` (``base``) for
    an attribute the subclass does not define: True, False, or None when it depends on the
    layer's state (a property that raises until the layer is called). Generated by
    scripts/gen_layer_attributes.py."""
    table = _attributes().get(f"keras{version}", {}).get(base)
    if table is None:
        return None
    if name in table["present"]:
        return True
    return None if name in table["varies"] else False
