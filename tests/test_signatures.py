"""The generated constructor-signature data (bnlint/keras/data/signatures_keras{2,3}.json).

Expected values are always read from the real Keras classes with ``inspect`` at
test time, never copied from the data files.
"""

from __future__ import annotations

import importlib
import inspect
import math
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bnlint.keras import signatures

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gen_signatures.py"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Keras major version -> package whose ``layers`` the data describes.
PACKAGES: dict[int, str] = {3: "keras", 2: "tf_keras"}
SAMPLE = ["Dense", "BatchNormalization", "Conv2D", "LSTM", "MaxPooling2D", "Dropout"]


def _keras(version: int) -> ModuleType:
    if version == 3:
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    return importlib.import_module(PACKAGES[version])


def _plain(value: Any) -> Any:
    """A real default in the shape the data decodes to (tuples become lists)."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def _real_params(cls: type) -> list[inspect.Parameter]:
    params = list(inspect.signature(cls.__init__).parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    return params


def _parent_default(cls: type, layer_cls: type, pname: str) -> Any:
    """The default of ``pname`` in the nearest parent ``__init__`` below ``layer_cls``."""
    for base in cls.__mro__[1:]:
        if base is layer_cls:
            break
        if "__init__" in vars(base):
            param = inspect.signature(base.__init__).parameters.get(pname)
            if param is not None:
                return param.default
    return inspect.Parameter.empty


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------------------
# No Keras needed
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", [2, 3])
def test_data_loads(version: int) -> None:
    names = signatures.class_names(version)
    assert len(names) > 100
    for name in ["Dense", "BatchNormalization", "Conv2D", "LSTM", "InputLayer", "Bidirectional"]:
        assert name in names
        sig = signatures.signature(name, version)
        assert sig is not None
        assert sig["exports"], name
        assert sig["qualname"].endswith(f".{name}")
    assert signatures.keras_version(version)
    assert signatures.signature("NoSuchLayer", version) is None
    assert signatures.defaults_for("NoSuchLayer", version) == {}


@pytest.mark.parametrize("version", [2, 3])
def test_aliases_and_paths(version: int) -> None:
    prefix = "keras.layers" if version == 3 else "tf_keras.layers"
    assert signatures.resolve_class("MaxPool2D", version) == "MaxPooling2D"
    assert signatures.resolve_class("Convolution2D", version) == "Conv2D"
    assert signatures.resolve_class("Dense", version) == "Dense"
    assert signatures.resolve_class(f"{prefix}.MaxPool2D", version) == "MaxPooling2D"
    assert signatures.resolve_class("not.a.path.Dense", version) is None
    assert signatures.resolve_class("NoSuchLayer", version) is None
    paths = signatures.export_paths(version)
    assert paths[f"{prefix}.Dense"] == "Dense"
    # Every class is reachable through at least one recorded path, and every
    # recorded path ends in the class's name or one of its aliases.
    assert set(paths.values()) == set(signatures.class_names(version))
    for path, key in paths.items():
        sig = signatures.signature(key, version)
        assert sig is not None
        assert path.rsplit(".", 1)[1] in {key, *sig["aliases"]}


def test_keras2_experimental_paths() -> None:
    paths = signatures.export_paths(2)
    assert paths["tf_keras.layers.experimental.preprocessing.Rescaling"] == "Rescaling"


def test_base_kwargs_recorded() -> None:
    sig = signatures.signature("Dense", 3)
    assert sig is not None
    assert sig["var_kwargs"] is True
    assert set(sig["base_kwargs"]) == {"trainable", "dtype", "name"}
    for name in sig["base_kwargs"]:
        assert name in sig["defaults"]
        assert name not in {p["name"] for p in sig["params"]}


@pytest.mark.parametrize("version", [2, 3])
def test_inherited_fields(version: int) -> None:
    for name in signatures.class_names(version):
        sig = signatures.signature(name, version)
        assert sig is not None
        inherited, unverified = sig["inherited"], sig["inherited_unverified"]
        assert inherited == sorted(inherited) and unverified == sorted(unverified), name
        assert not set(inherited) & set(unverified), name
        own = {p["name"] for p in sig["params"]}
        for pname in [*inherited, *unverified]:
            assert sig["var_kwargs"], name
            assert pname not in own and pname not in sig["base_kwargs"], (name, pname)
        assert set(inherited) <= set(sig["defaults"]), name
        assert not set(unverified) & set(sig["defaults"]), name
        assert signatures.inherited_params(name, version) == (inherited, unverified)
    assert signatures.inherited_params("NoSuchLayer", version) == ([], [])


def test_decode_default() -> None:
    assert signatures.decode_default({"__float__": "inf"}) == math.inf
    assert signatures.decode_default({"__float__": "-inf"}) == -math.inf
    assert math.isnan(signatures.decode_default({"__float__": "nan"}))
    assert signatures.decode_default([1, {"__float__": "inf"}]) == [1, math.inf]
    assert signatures.decode_default({"__dict__": {"a": [1]}}) == {"a": [1]}
    opaque = {"__repr__": "keras.src.activations.relu"}
    assert signatures.decode_default(opaque) == opaque
    assert signatures.is_opaque(opaque)
    assert not signatures.is_opaque({"__float__": "inf"})


def test_loader_imports_no_keras() -> None:
    code = (
        "import sys\n"
        "from bnlint.keras import signatures as s\n"
        "assert s.defaults_for('Dense', 3) and s.defaults_for('Dense', 2)\n"
        "assert s.export_paths(3) and s.resolve_class('MaxPool2D', 2)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('keras', 'tf_keras', 'tensorflow')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


# ---------------------------------------------------------------------------
# Against the real classes (inspect at test time)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", [3, 2])
@pytest.mark.parametrize("name", SAMPLE)
def test_matches_real_signature(version: int, name: str) -> None:
    keras = _keras(version)
    cls = getattr(keras.layers, name)
    sig = signatures.signature(name, version)
    assert sig is not None, name
    mod, _, attr = sig["qualname"].rpartition(".")
    assert getattr(importlib.import_module(mod), attr) is cls

    real = _real_params(cls)
    assert [(p["name"], p["kind"]) for p in sig["params"]] == [(p.name, p.kind.name) for p in real]
    assert sig["var_kwargs"] == any(p.kind is inspect.Parameter.VAR_KEYWORD for p in real)

    defaults = signatures.defaults_for(name, version)
    explicit = {p.name: _plain(p.default) for p in real if p.default is not inspect.Parameter.empty}
    for pname, value in explicit.items():
        assert _same(defaults[pname], value), (name, pname, defaults[pname], value)

    # base-Layer kwargs: effective defaults are those of Layer.__init__ itself
    base = {p.name: p.default for p in _real_params(keras.layers.Layer)}
    for pname in sig["base_kwargs"]:
        assert pname not in explicit
        assert _same(defaults[pname], base[pname]), (name, pname)

    # inherited: the nearest parent __init__ (below Layer) that names it has that default
    for pname in sig["inherited"]:
        assert pname not in explicit
        parent = _parent_default(cls, keras.layers.Layer, pname)
        assert parent is not inspect.Parameter.empty, (name, pname)
        assert _same(defaults[pname], _plain(parent)), (name, pname)
    assert set(defaults) == set(explicit) | set(sig["base_kwargs"]) | set(sig["inherited"])


@pytest.mark.parametrize("version", [3, 2])
def test_batchnorm_momentum_epsilon(version: int) -> None:
    keras = _keras(version)
    params = inspect.signature(keras.layers.BatchNormalization.__init__).parameters
    defaults = signatures.defaults_for("BatchNormalization", version)
    for pname in ("momentum", "epsilon"):
        real = params[pname].default
        assert isinstance(real, float)
        assert defaults[pname] == real
        assert type(defaults[pname]) is float


@pytest.mark.parametrize(
    ("version", "name", "pname", "args"),
    [
        (2, "BatchNormalization", "renorm", {}),
        (3, "Conv2D", "lora_rank", {"filters": 1, "kernel_size": 1}),
    ],
)
def test_inherited_default_matches_live_instance(
    version: int, name: str, pname: str, args: dict[str, Any]
) -> None:
    """A parameter a parent __init__ receives through **kwargs has its default recorded."""
    keras = _keras(version)
    cls = getattr(keras.layers, name)
    assert pname not in inspect.signature(cls.__init__).parameters  # really inherited
    sig = signatures.signature(name, version)
    assert sig is not None
    assert pname in sig["inherited"]
    defaults = signatures.defaults_for(name, version)
    assert pname in defaults

    live = getattr(cls(**args), pname)
    assert _same(defaults[pname], _plain(live)), (name, pname, defaults[pname], live)
    parent = _parent_default(cls, keras.layers.Layer, pname)
    assert _same(defaults[pname], _plain(parent)), (name, pname, defaults[pname], parent)


def test_parameter_passed_up_by_subclass_not_inherited() -> None:
    """``pool_mode`` of BasePooling is fixed by MaxPooling2D: not a default of it."""
    keras = _keras(3)
    cls = keras.layers.MaxPooling2D
    assert _parent_default(cls, keras.layers.Layer, "pool_mode") is not inspect.Parameter.empty
    with pytest.raises(TypeError):
        cls(pool_size=2, pool_mode="max")
    sig = signatures.signature("MaxPooling2D", 3)
    assert sig is not None
    assert "pool_mode" not in sig["defaults"]
    assert "pool_mode" not in sig["inherited"] + sig["inherited_unverified"]


@pytest.mark.parametrize("version", [3, 2])
def test_aliases_match_real(version: int) -> None:
    keras = _keras(version)
    for alias in ("MaxPool2D", "Convolution2D", "AvgPool1D", "GlobalMaxPool2D"):
        cls = getattr(keras.layers, alias)
        key = signatures.resolve_class(alias, version)
        assert key == cls.__name__
        sig = signatures.signature(key, version)
        assert sig is not None
        assert alias in sig["aliases"]


# ---------------------------------------------------------------------------
# Oracle: the committed files are exactly what the generator produces now
# ---------------------------------------------------------------------------


@pytest.mark.oracle
def test_generator_check() -> None:
    importlib.import_module("keras")
    importlib.import_module("tf_keras")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
