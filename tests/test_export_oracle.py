"""The exported NumPy forward pass reproduces real Keras, on hypothesis-generated models.

For every model drawn by ``export_strategies.model_specs``: build it with Keras 3
(``keras``) or tf-keras, give every array random values (moving variances
positive, so BatchNormalization really normalizes), save it (Keras 3: ``.keras`` and
legacy ``.h5`` in turn; tf-keras: ``.h5``), then

* ``bnlint.readers.weights.get_weights(file)`` equals ``model.get_weights()`` exactly, and
* ``forward(x, load_weights(file))`` of ``bnlint.export.export_numpy(file)`` matches the
  model's inference output within 1e-4 (absolute) on random inputs.

The inference output is ``model(x, training=False)`` — what ``predict`` computes, without
``predict``'s per-model function tracing (the trained-model tests in
``test_weights_oracle.py`` use ``predict`` itself).

``BNLINT_EXPORT_EXAMPLES`` sets the number of models per Keras version (default 100).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from export_strategies import build, model_specs, spec_classes
from hypothesis import HealthCheck, given, settings

from bnlint.export import export_numpy, supported_layers
from bnlint.readers.weights import get_weights

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

pytestmark = pytest.mark.oracle

EXAMPLES = int(os.environ.get("BNLINT_EXPORT_EXAMPLES", "100"))
PACKAGES = {3: "keras", 2: "tf_keras"}
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(autouse=True, scope="module")
def _quiet(quiet_keras: None) -> None:
    """Both Kerases imported, absl quiet (tests/conftest.py)."""


def randomize(model: Any, rng: np.random.Generator) -> None:
    """Random values for every array; variances in [0.5, 1.5]."""
    values = []
    for w in model.weights:
        name = w.name.rsplit("/", 1)[-1].split(":")[0]
        shape = tuple(w.shape)
        if name in ("moving_variance",):
            values.append(rng.uniform(0.5, 1.5, shape).astype("float32"))
        elif name == "gamma":
            values.append(rng.uniform(0.5, 1.5, shape).astype("float32"))
        else:
            values.append((rng.standard_normal(shape) * 0.5).astype("float32"))
    model.set_weights(values)


def run_module(text: str) -> dict[str, Any]:
    ns: dict[str, Any] = {"__name__": "exported"}
    exec(compile(text, "exported_forward.py", "exec"), ns)
    return ns


def check_export(spec: dict[str, Any], version: int, suffix: str, tmp: Path) -> None:
    import importlib

    k = importlib.import_module(PACKAGES[version])
    k.backend.clear_session()
    rng = np.random.default_rng(len(str(spec)))
    model = build(spec, k)
    randomize(model, rng)
    path = tmp / f"m{suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path)
    expected_w = model.get_weights()
    got_w = get_weights(path)
    assert len(got_w) == len(expected_w)
    for i, (a, b) in enumerate(zip(got_w, expected_w, strict=True)):
        assert a.shape == b.shape and np.array_equal(a, b), f"get_weights()[{i}]"
    batch = 3
    if spec["int"]:
        x = rng.integers(0, 10, (batch, *spec["input"])).astype("int32")
    else:
        x = rng.uniform(-1, 1, (batch, *spec["input"])).astype("float32")
    expected = np.asarray(model(x, training=False))
    ns = run_module(export_numpy(path))
    got = ns["forward"](x, ns["load_weights"](str(path)))
    assert got.shape == expected.shape
    # 1e-4 absolute; relative 1e-5 where float32 outputs are large (exp of exp, ...).
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-5)


@SETTINGS
@given(spec=model_specs(3))
def test_export_matches_keras3(spec: dict[str, Any]) -> None:
    suffix = ".keras" if len(str(spec)) % 2 else ".h5"
    with tempfile.TemporaryDirectory() as d:
        check_export(spec, 3, suffix, Path(d))


@SETTINGS
@given(spec=model_specs(2))
def test_export_matches_tf_keras(spec: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as d:
        check_export(spec, 2, ".h5", Path(d))


# One deterministic model per class the export supports (the classes the generator
# draws rarely or never: 3-D variants, other identity layers, Permute, ...).
_IMG3 = [4, 4, 4, 2]
COVERAGE: dict[str, tuple[list[int], list]] = {
    "Conv3D": (_IMG3, [["Conv3D", {"filters": 3, "kernel_size": 2, "padding": "same"}]]),
    "MaxPooling3D": (_IMG3, [["MaxPooling3D", {"pool_size": 2, "padding": "same"}]]),
    "AveragePooling3D": (_IMG3, [["AveragePooling3D", {"pool_size": 3, "strides": 2,
                                                       "padding": "same"}]]),
    "GlobalAveragePooling3D": (_IMG3, [["GlobalAveragePooling3D", {}]]),
    "GlobalMaxPooling3D": (_IMG3, [["GlobalMaxPooling3D", {}]]),
    "ZeroPadding3D": (_IMG3, [["ZeroPadding3D", {"padding": 1}]]),
    "SpatialDropout1D": ([5, 3], [["SpatialDropout1D", {"rate": 0.5}]]),
    "SpatialDropout2D": ([4, 4, 2], [["SpatialDropout2D", {"rate": 0.5}]]),
    "SpatialDropout3D": (_IMG3, [["SpatialDropout3D", {"rate": 0.5}]]),
    "GaussianDropout": ([4], [["GaussianDropout", {"rate": 0.5}]]),
    "AlphaDropout": ([4], [["AlphaDropout", {"rate": 0.5}]]),
    "ActivityRegularization": ([4], [["ActivityRegularization", {"l1": 0.1}]]),
    "Permute": ([3, 4, 2], [["Permute", {"dims": [3, 1, 2]}]]),
    "DepthwiseConv1D": ([6, 3], [["DepthwiseConv1D", {"kernel_size": 3, "depth_multiplier": 2,
                                                      "padding": "same"}]]),
    "DepthwiseConv2D": ([5, 5, 2], [["DepthwiseConv2D", {"kernel_size": 3, "strides": 2,
                                                         "depth_multiplier": 2}]]),
    "SeparableConv2D": ([5, 5, 2], [["SeparableConv2D", {"filters": 3, "kernel_size": 2,
                                                         "padding": "same"}]]),
    "BatchNormalization": ([3, 4, 2], [["BatchNormalization", {"axis": 2}]]),
    "Dropout": ([4], [["Dense", {"units": 3}], ["Dropout", {"rate": 0.5}]]),
    **{m: ([3, 2], [["merge", m, [["Dense", {"units": 2}]], [["Activation", {"activation": "tanh"}]]]])
       for m in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate")},
}


@pytest.mark.parametrize("version", [3, 2])
@pytest.mark.parametrize("cls", sorted(COVERAGE))
def test_export_each_class(cls: str, version: int, tmp_path: Path) -> None:
    import importlib

    k = importlib.import_module(PACKAGES[version])
    assert hasattr(k.layers, cls), f"{PACKAGES[version]} has no {cls}"
    shape, ops = COVERAGE[cls]
    spec = {"input": shape, "int": False, "seq": False, "ops": ops, "version": version}
    for suffix in ([".keras", ".h5"] if version == 3 else [".h5"]):
        check_export(spec, version, suffix, tmp_path)


def test_generated_models_cover_supported_layers() -> None:
    """Every supported class is drawn by the generator (same strategy, same number of
    examples; drawing only, no Keras) or has a deterministic model in COVERAGE."""
    if EXAMPLES < 100:
        pytest.skip("coverage is asserted with at least the default 100 examples")
    seen: set[str] = set()
    for version in (3, 2):

        @SETTINGS
        @given(spec=model_specs(version))
        def draw(spec: dict[str, Any]) -> None:
            seen.update(spec_classes(spec))

        draw()
    missing = set(supported_layers()) - seen - set(COVERAGE)
    assert not missing, sorted(missing)
