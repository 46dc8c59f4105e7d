#!/usr/bin/env python
"""Generate the constructor signatures of every layer class in real Keras.

Usage::

    python scripts/gen_signatures.py            # (re)write the data files
    python scripts/gen_signatures.py --check    # compare with the committed files

The data files ``bnlint/keras/data/signatures_keras3.json`` (``keras.layers``,
Keras 3) and ``bnlint/keras/data/signatures_keras2.json`` (``tf_keras.layers``,
Keras 2) are read at run time by :mod:`bnlint.keras.signatures`, which never
imports Keras.  This script is the only thing that imports Keras: each version
is introspected in its own subprocess (``--dump 3`` / ``--dump 2``, an internal
mode that prints the JSON document on stdout), so the two Keras packages never
share an interpreter and the parent process imports neither.

Every public name of the ``layers`` package, and of its public sub-packages
(``tf_keras.layers.experimental.preprocessing`` ...), that is bound to a class
subclassing the ``Layer`` base class is recorded, keyed by the class's own
``__name__``; the other public names bound to the same class are its
``aliases``, and every dotted path naming it is listed under ``exports``.
The signature is ``inspect.signature(cls.__init__)`` without ``self``.

Defaults are JSON-encoded as follows: ``None``/bool/int/str as is, finite
floats as is, non-finite floats as ``{"__float__": "inf" | "-inf" | "nan"}``,
tuples and lists as JSON lists, dicts with string keys as
``{"__dict__": {...}}`` and anything else as ``{"__repr__": "<stable text>"}``
(the qualified name of a function or class, or the ``repr`` of an object with
any memory address removed).

The base-``Layer`` keyword arguments ``trainable``, ``dtype`` and ``name``
arrive through ``**kwargs`` in most layers; when a class takes ``**kwargs`` and
does not name one of them explicitly, its effective default (read from the
``Layer`` base class's own signature) is added to ``defaults`` and the name is
listed under ``base_kwargs``.

Other parameters can reach a parent ``__init__`` through ``**kwargs`` too
(``renorm`` of Keras 2 ``BatchNormalization`` is a parameter of
``BatchNormalizationBase``; ``lora_rank`` of Keras 3 ``Conv2D`` one of
``BaseConv``).  When a class takes ``**kwargs``, its MRO is walked up to (not
including) the ``Layer`` base class; every parameter with a default of a
parent's own ``__init__`` that the class does not name itself (and that is not
a base-Layer kwarg) is a candidate, the nearest parent's default winning.  The
walk stops after a parent whose ``__init__`` takes no ``**kwargs`` (nothing
further up can be reached).  Each candidate is then checked on real instances
built with minimal required arguments (``REQUIRED_ARGS`` by parameter name,
``CLASS_ARGS`` per class):

* passing it explicitly with the parent's default must be accepted (a class
  that passes the parameter up itself, such as ``pool_mode`` of the pooling
  layers, rejects it: the candidate is dropped altogether);
* its effective value on ``cls(**minimal_args)``, read from ``get_config()``
  or else from an instance attribute of the same name, must equal the
  parent's default;
* for a bool default, passing the other value must change what is read (when
  that construction succeeds at all).

A candidate that passes is added to ``defaults`` and listed under
``inherited``; one that cannot be checked (no minimal arguments known, the
construction fails, nothing of that name to read, or a value that differs from
the parent's default) is listed under ``inherited_unverified`` and left out of
``defaults``.  Both lists are sorted and present (maybe empty) in every record.
The introspection runs with ``KERAS_HOME`` pointing at an empty temporary
directory, so no ``keras.json`` setting (``image_data_format`` ...) leaks into
the values the instances report.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import enum
import functools
import inspect
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import types
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bnlint" / "keras" / "data"
GENERATED_BY = "scripts/gen_signatures.py"

# Keras major version -> (importable package of the layers, output file).
TARGETS: dict[int, tuple[str, Path]] = {
    3: ("keras.layers", DATA_DIR / "signatures_keras3.json"),
    2: ("tf_keras.layers", DATA_DIR / "signatures_keras2.json"),
}

# Base-Layer keyword arguments recorded as effective defaults of **kwargs.
BASE_KWARGS: tuple[str, ...] = ("trainable", "dtype", "name")


def _identity(x: Any) -> Any:
    return x


class _Make:
    """A minimal argument built fresh for every construction: ``make(layers)``."""

    def __init__(self, make: Callable[[types.ModuleType], Any]) -> None:
        self.make = make


# Minimal values of required constructor parameters, by parameter name, used
# to build the instances on which inherited defaults are checked.  A class's
# arguments are generated from its own required parameters through this table
# (``CLASS_ARGS`` first); a class with a required parameter found in neither
# gets no instance and its inherited candidates stay unverified.
REQUIRED_ARGS: dict[str, Any] = {
    "activation": "linear",
    "axes": 1,
    "cell": _Make(lambda layers: layers.SimpleRNNCell(1)),
    "cells": _Make(lambda layers: [layers.SimpleRNNCell(1)]),
    "dims": (1,),
    "equation": "ab,bc->ac",
    "factor": 0.1,
    "filters": 1,
    "function": _identity,
    "head_dim": 1,
    "height": 1,
    "height_factor": 0.1,
    "input_dim": 2,
    "kernel_size": 1,
    "key_dim": 1,
    "layer": _Make(lambda layers: layers.Dense(1)),
    "max_number": 1,
    "n": 1,
    "num_bins": 2,
    "num_heads": 1,
    "num_key_value_heads": 1,
    "num_query_heads": 1,
    "output_dim": 1,
    "output_shape": 1,
    "output_size": 1,
    "pool_size": 2,
    "rate": 0.5,
    "scale": 1.0,
    "stddev": 0.1,
    "target_shape": (1,),
    "units": 1,
    "width": 1,
    "width_factor": 0.1,
}


def _numeric_feature_columns(layers: types.ModuleType) -> list[Any]:
    import tensorflow as tf  # only Keras 2's DenseFeatures needs it

    return [tf.feature_column.numeric_column("x")]


# Per-class values that win over REQUIRED_ARGS (class __name__ -> {param: value}).
CLASS_ARGS: dict[str, dict[str, Any]] = {
    "DenseFeatures": {"feature_columns": _Make(_numeric_feature_columns)},
    "RandomPosterization": {"factor": 1},  # bits to keep, in [1, 8]
}

_ADDRESS = re.compile(r"\s+at\s+0x[0-9a-fA-F]+|0x[0-9a-fA-F]{6,}")


# ---------------------------------------------------------------------------
# Introspection (runs in a subprocess that imports one Keras)
# ---------------------------------------------------------------------------


def _qualified_name(obj: Any) -> str:
    module = getattr(obj, "__module__", None) or ""
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if qualname is None:
        return _ADDRESS.sub("", repr(obj))
    return f"{module}.{qualname}" if module else str(qualname)


def encode_default(value: Any) -> Any:
    """The JSON form of a default value (stable across runs)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return {"__repr__": f"{_qualified_name(type(value))}.{value.name}"}
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return float(value)
        return {"__float__": repr(float(value))}  # 'inf', '-inf' or 'nan'
    if isinstance(value, (tuple, list)):
        return [encode_default(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: encode_default(v) for k, v in sorted(value.items())}}
    if isinstance(value, functools.partial):
        return {"__repr__": f"functools.partial({_qualified_name(value.func)})"}
    if isinstance(
        value,
        (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.ModuleType),
    ):
        if isinstance(value, types.ModuleType):
            return {"__repr__": value.__name__}
        return {"__repr__": _qualified_name(value)}
    return {"__repr__": _ADDRESS.sub("", repr(value))}


def _public_modules(root: types.ModuleType) -> list[types.ModuleType]:
    """``root`` and its public sub-packages reachable as attributes (no private names)."""
    seen: dict[str, types.ModuleType] = {}
    todo = [root]
    while todo:
        mod = todo.pop()
        if mod.__name__ in seen:
            continue
        seen[mod.__name__] = mod
        for attr in dir(mod):
            if attr.startswith("_"):
                continue
            sub = getattr(mod, attr, None)
            if isinstance(sub, types.ModuleType) and sub.__name__ == f"{mod.__name__}.{attr}":
                todo.append(sub)
    return [seen[k] for k in sorted(seen)]


def _base_layer_defaults(layer_cls: type) -> dict[str, Any]:
    """Effective defaults of the base-Layer kwargs, from ``Layer.__init__`` itself."""
    params = inspect.signature(layer_cls.__init__).parameters
    out: dict[str, Any] = {}
    for name in BASE_KWARGS:
        p = params.get(name)
        if p is None or p.default is inspect.Parameter.empty:
            raise RuntimeError(f"{_qualified_name(layer_cls)}.__init__ has no default for {name!r}")
        out[name] = encode_default(p.default)
    return out


_MISSING = object()


class _Unbuildable(Exception):
    """A required constructor parameter of a class has no minimal value."""


def _minimal_args(cls: type, layers: types.ModuleType) -> dict[str, Any]:
    """Fresh minimal arguments for ``cls(**args)``; raises _Unbuildable if unknown."""
    overrides = CLASS_ARGS.get(cls.__name__, {})
    args: dict[str, Any] = {}
    for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        if p.name in overrides:
            value = overrides[p.name]
        elif p.default is not inspect.Parameter.empty:
            continue
        elif p.name in REQUIRED_ARGS:
            value = REQUIRED_ARGS[p.name]
        else:
            raise _Unbuildable(f"no minimal value for required {p.name!r}")
        args[p.name] = value.make(layers) if isinstance(value, _Make) else value
    return args


def _construct(cls: type, layers: types.ModuleType, extra: dict[str, Any]) -> Any:
    """``cls(**minimal_args, **extra)``, quietly (stdout stays the JSON document)."""
    with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(**_minimal_args(cls, layers), **extra)


def _observe(instance: Any, name: str, layer_cls: type) -> Any:
    """The value of ``name`` on an instance: its config entry, else its attribute.

    An attribute counts only if the instance holds it itself or it is a
    property of a class below the ``Layer`` base (so ``Layer.weights`` is no
    reading of a ``weights`` parameter).  ``_MISSING`` when there is neither.
    """
    try:
        with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            config = instance.get_config()
    except Exception:
        config = None
    if isinstance(config, Mapping) and name in config:
        return config[name]
    if name in vars(instance):
        return vars(instance)[name]
    mro = type(instance).__mro__
    below = mro[: mro.index(layer_cls)] if layer_cls in mro else mro
    for klass in below:
        if isinstance(klass.__dict__.get(name), property):
            try:
                return getattr(instance, name)
            except Exception:
                return _MISSING
    return _MISSING


def _plain_value(value: Any) -> Any:
    """Observed values in the shape of signature defaults (wrappers unwrapped)."""
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, Mapping):
        return {k: _plain_value(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [_plain_value(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    return value


def _same_default(observed: Any, encoded_default: Any) -> bool:
    if observed is _MISSING:
        return False
    a = json.dumps(encode_default(_plain_value(observed)), sort_keys=True)
    return a == json.dumps(encoded_default, sort_keys=True)


def _rejects(exc: BaseException, name: str) -> bool:
    """Whether a construction error says the keyword ``name`` is not accepted."""
    return isinstance(exc, (TypeError, ValueError)) and repr(name) in str(exc)


def _inherited_candidates(cls: type, layer_cls: type, named: set[str]) -> dict[str, Any]:
    """Parent ``__init__`` parameters with a default reachable through ``**kwargs``."""
    out: dict[str, Any] = {}
    for base in cls.__mro__[1:]:
        if base is layer_cls or base is object:
            break
        if "__init__" not in vars(base):
            continue
        params = list(inspect.signature(base.__init__).parameters.values())[1:]
        for p in params:
            if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                continue
            if p.default is inspect.Parameter.empty or p.name in BASE_KWARGS:
                continue
            if p.name in named or p.name in out:
                continue
            out[p.name] = p.default
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            break
    return out


def _check_inherited(
    cls: type, layers: types.ModuleType, layer_cls: type, name: str, default: Any
) -> str:
    """``"verified"``, ``"unverified"`` or ``"rejected"`` (not forwarded at all)."""
    encoded = encode_default(default)
    try:
        fresh = _construct(cls, layers, {})
    except Exception:
        return "unverified"
    try:
        explicit = _construct(cls, layers, {name: default})
    except Exception as exc:
        return "rejected" if _rejects(exc, name) else "unverified"
    observed = _observe(fresh, name, layer_cls)
    if not _same_default(observed, encoded):
        return "unverified"
    if not _same_default(_observe(explicit, name, layer_cls), encoded):
        return "unverified"
    if isinstance(default, bool):
        try:
            flipped = _construct(cls, layers, {name: not default})
        except Exception as exc:
            if _rejects(exc, name) and isinstance(exc, TypeError):
                return "unverified"
            return "verified"  # the other value is refused on its merits: inconclusive
        if not _same_default(_observe(flipped, name, layer_cls), encode_default(not default)):
            return "unverified"  # swallowed: passing it changes nothing
    return "verified"


def _describe(cls: type, base_defaults: dict[str, Any], layers: types.ModuleType) -> dict[str, Any]:
    sig = inspect.signature(cls.__init__)
    params: list[dict[str, Any]] = []
    defaults: dict[str, Any] = {}
    var_kwargs = False
    for i, p in enumerate(sig.parameters.values()):
        if i == 0 and p.name == "self":
            continue
        entry: dict[str, Any] = {"name": p.name, "kind": p.kind.name}
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            var_kwargs = True
        has_default = p.default is not inspect.Parameter.empty
        entry["has_default"] = has_default
        if has_default:
            entry["default"] = encode_default(p.default)
            defaults[p.name] = entry["default"]
        params.append(entry)
    named = {p["name"] for p in params}
    base_kwargs: list[str] = []
    if var_kwargs:
        for name in BASE_KWARGS:
            if name not in named:
                base_kwargs.append(name)
                defaults[name] = base_defaults[name]
    inherited: list[str] = []
    unverified: list[str] = []
    if var_kwargs:
        layer_cls: type = layers.Layer
        for name, default in _inherited_candidates(cls, layer_cls, named).items():
            verdict = _check_inherited(cls, layers, layer_cls, name, default)
            if verdict == "verified":
                inherited.append(name)
                defaults[name] = encode_default(default)
            elif verdict == "unverified":
                unverified.append(name)
    return {
        "qualname": _qualified_name(cls),
        "params": params,
        "var_kwargs": var_kwargs,
        "base_kwargs": base_kwargs,
        "inherited": sorted(inherited),
        "inherited_unverified": sorted(unverified),
        "defaults": dict(sorted(defaults.items())),
    }


def collect(version: int) -> dict[str, Any]:
    """The signature document of one Keras version (imports that Keras)."""
    import importlib

    package, _ = TARGETS[version]
    layers = importlib.import_module(package)
    top = importlib.import_module(package.split(".")[0])
    layer_cls: type = layers.Layer

    # class -> every public dotted path naming it
    paths: dict[type, set[str]] = {}
    for mod in _public_modules(layers):
        for attr in dir(mod):
            if attr.startswith("_"):
                continue
            obj = getattr(mod, attr, None)
            if inspect.isclass(obj) and issubclass(obj, layer_cls):
                paths.setdefault(obj, set()).add(f"{mod.__name__}.{attr}")

    base_defaults = _base_layer_defaults(layer_cls)
    public = {c.__name__: c for c in paths}
    classes: dict[str, Any] = {}
    for cls, exports in paths.items():
        key = cls.__name__
        if key in classes:
            raise RuntimeError(
                f"two different classes named {key}: {classes[key]['qualname']} "
                f"and {_qualified_name(cls)}"
            )
        names = {p.rsplit(".", 1)[1] for p in exports}
        record = {
            # the public layer classes it is an instance of (isinstance(layer, keras.layers.X))
            "bases": sorted(n for n, c in public.items() if c is not cls and issubclass(cls, c)),
            "exports": sorted(exports),
            "aliases": sorted(names - {key}),
            **_describe(cls, base_defaults, layers),
        }
        classes[key] = dict(sorted(record.items()))
    return {
        "generated_by": GENERATED_BY,
        "keras_version": str(top.__version__),
        "classes": dict(sorted(classes.items())),
    }


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


# ---------------------------------------------------------------------------
# Driver (imports no Keras)
# ---------------------------------------------------------------------------


def generate(version: int) -> str:
    """Run the introspection of one version in a fresh interpreter; return the JSON text."""
    env = dict(os.environ)
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["KERAS_BACKEND"] = "tensorflow"  # same classes whatever ~/.keras/keras.json says
    env["PYTHONHASHSEED"] = "0"
    env.pop("TF_USE_LEGACY_KERAS", None)
    # Instances are built to check inherited defaults: keep the user's
    # keras.json (image_data_format, floatx ...) out of what they report.
    with tempfile.TemporaryDirectory(prefix="gen_signatures_") as keras_home:
        env["KERAS_HOME"] = keras_home
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--dump", str(version)],
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
        )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"introspection of Keras {version} failed (exit {proc.returncode})")
    text = proc.stdout
    json.loads(text)  # sanity: it is one JSON document
    return text


def _summarize(old_text: str, new_text: str, label: str) -> list[str]:
    lines: list[str] = []
    try:
        old = json.loads(old_text)
    except json.JSONDecodeError as exc:
        return [f"{label}: committed file is not valid JSON ({exc})"]
    new = json.loads(new_text)
    if old.get("keras_version") != new.get("keras_version"):
        lines.append(
            f"{label}: keras_version {old.get('keras_version')!r} -> {new.get('keras_version')!r}"
        )
    old_c: dict[str, Any] = old.get("classes", {})
    new_c: dict[str, Any] = new.get("classes", {})
    for name in sorted(set(new_c) - set(old_c)):
        lines.append(f"{label}: + {name} (new class)")
    for name in sorted(set(old_c) - set(new_c)):
        lines.append(f"{label}: - {name} (class gone)")
    for name in sorted(set(old_c) & set(new_c)):
        a, b = old_c[name], new_c[name]
        for field in sorted(set(a) | set(b)):
            if a.get(field) != b.get(field):
                if field == "defaults":
                    da, db = a.get(field, {}), b.get(field, {})
                    changed = [
                        ("+" if k not in da else "-" if k not in db else "") + k
                        for k in sorted(set(da) | set(db))
                        if k not in da or k not in db or da[k] != db[k]
                    ]
                    lines.append(f"{label}: ~ {name}.defaults: {', '.join(changed)}")
                else:
                    lines.append(f"{label}: ~ {name}.{field}")
    if not lines:  # same content, different text (formatting)
        diff = difflib.unified_diff(
            old_text.splitlines(), new_text.splitlines(), "committed", "generated", lineterm=""
        )
        lines.extend(f"{label}: {d}" for d in list(diff)[:40])
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate in memory and compare with the committed files (exit 1 on mismatch)",
    )
    parser.add_argument("--dump", type=int, choices=sorted(TARGETS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.dump is not None:
        sys.stdout.write(dumps(collect(args.dump)))
        return 0

    versions = sorted(TARGETS, reverse=True)
    with ThreadPoolExecutor(max_workers=len(versions)) as pool:
        texts = dict(zip(versions, pool.map(generate, versions), strict=True))

    status = 0
    for version in versions:
        path = TARGETS[version][1]
        text = texts[version]
        rel = path.relative_to(ROOT)
        n = len(json.loads(text)["classes"])
        if args.check:
            if not path.exists():
                print(f"{rel}: missing (run python {GENERATED_BY})")
                status = 1
                continue
            committed = path.read_text(encoding="utf-8")
            if committed != text:
                status = 1
                print(f"{rel}: out of date with the installed Keras:")
                for line in _summarize(committed, text, rel.name):
                    print(f"  {line}")
            else:
                print(f"{rel}: up to date ({n} classes)")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
            print(f"wrote {rel} ({n} classes, {len(text.encode('utf-8'))} bytes)")
    if status:
        print(f"run `python {GENERATED_BY}` to regenerate")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
