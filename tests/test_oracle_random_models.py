"""Property-based differential test: random small models, saved by real Keras, read by bnlint.

For every model drawn by ``model_strategies.model_specs`` and each Keras version,
the model is built with real Keras, saved in every format bnlint reads, and each
file must give exactly the facts Keras itself reports (``oracle_facts.keras_facts``).

* Keras 3 (``keras``): ``.keras``, legacy ``.h5``, ``to_json()`` ``.json``, and the
  same JSON with every ``build_config`` and every recorded ``__keras_tensor__``
  shape removed (bnlint must infer shapes, not read them).
* Keras 2 (``tf_keras``): ``.h5``, ``.json`` and ``.keras``.

``BNLINT_ORACLE_EXAMPLES`` sets the number of generated models per Keras version
(default 300).  Minimal failing specs are kept in ``fixtures/counterexamples/``
and replayed by ``test_counterexample``.
"""

from __future__ import annotations

import importlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest
from compare import assert_same_facts, bnlint_facts
from hypothesis import HealthCheck, given, settings
from model_strategies import build_keras, model_specs
from oracle_facts import keras_facts

from bnlint.readers.saved import read_saved_model

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

pytestmark = [pytest.mark.oracle, pytest.mark.usefixtures("quiet_keras")]

EXAMPLES = int(os.environ.get("BNLINT_ORACLE_EXAMPLES", "300"))
COUNTEREXAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "counterexamples"
PACKAGES = {3: "keras", 2: "tf_keras"}

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
)


def _keras(version: int) -> Any:
    return importlib.import_module(PACKAGES[version])




def clear_session(k: Any, version: int) -> None:
    """Reset Keras's global state (auto-name counters, graph) between examples.

    Keras 3's ``clear_session()`` also runs ``gc.collect()`` by default, which
    costs ~0.35 s per call with TensorFlow loaded (more than building, saving
    and reading a small model together); memory stays flat without it.
    """
    if version == 3:
        k.backend.clear_session(free_memory=False)
    else:
        k.backend.clear_session()


def strip_recorded_shapes(data: Any) -> Any:
    """The config without ``build_config`` keys and ``__keras_tensor__`` shapes."""
    if isinstance(data, list):
        return [strip_recorded_shapes(v) for v in data]
    if not isinstance(data, dict):
        return data
    out = {k: strip_recorded_shapes(v) for k, v in data.items() if k != "build_config"}
    if out.get("class_name") == "__keras_tensor__" and isinstance(out.get("config"), dict):
        out["config"] = {k: v for k, v in out["config"].items() if k != "shape"}
    return out


def save_all(model: Any, version: int, directory: Path) -> list[tuple[str, Path]]:
    """Save ``model`` in every format bnlint reads; (label, file) pairs."""
    files: list[tuple[str, Path]] = []
    text = model.to_json()
    json_path = directory / "model.json"
    json_path.write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy-HDF5 warning
        if version == 3:
            model.save(directory / "model.keras")
            files.append((".keras", directory / "model.keras"))
        model.save(directory / "model.h5")
        files.append((".h5", directory / "model.h5"))
        if version == 2:
            model.save(directory / "model.keras")
            files.append((".keras", directory / "model.keras"))
    files.append((".json", json_path))
    if version == 3:
        stripped = directory / "stripped.json"
        stripped.write_text(json.dumps(strip_recorded_shapes(json.loads(text))), encoding="utf-8")
        files.append((".json without build_config/tensor shapes", stripped))
    return files


def check_spec(spec: dict, version: int) -> None:
    """Build, save in every format, and compare bnlint with Keras on every file."""
    k = _keras(version)
    clear_session(k, version)
    failures: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = build_keras(spec, version)
        expected = keras_facts(model, version)
        with tempfile.TemporaryDirectory(prefix="bnlint_oracle_") as tmp:
            for label, path in save_all(model, version, Path(tmp)):
                where = f"keras{version} {label}"
                try:
                    got = bnlint_facts(read_saved_model(path))
                except Exception as exc:  # a crash or a ReadError is a failure like any other
                    failures.append(f"{where}: bnlint raised {type(exc).__name__}: {exc}")
                    continue
                try:
                    assert_same_facts(expected, got, where)
                except AssertionError as exc:
                    failures.append(str(exc))
    finally:
        model = None
        clear_session(k, version)
    assert not failures, "\n".join(failures)


@SETTINGS
@given(spec=model_specs(3))
def test_random_models_keras3(spec: dict) -> None:
    check_spec(spec, 3)


@SETTINGS
@given(spec=model_specs(2))
def test_random_models_tf_keras(spec: dict) -> None:
    check_spec(spec, 2)


def _counterexamples() -> list[Any]:
    """(file, version) for every stored counterexample: ``{"versions": [3, 2], "spec": ...}``."""
    if not COUNTEREXAMPLES.is_dir():
        return []
    params = []
    for path in sorted(COUNTEREXAMPLES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for version in data["versions"]:
            params.append(pytest.param(data["spec"], version, id=f"{path.stem}-k{version}"))
    return params


@pytest.mark.parametrize(("spec", "version"), _counterexamples())
def test_counterexample(spec: dict, version: int) -> None:
    """Minimal specs that once failed, replayed so that fixed bugs stay fixed."""
    check_spec(spec, version)
