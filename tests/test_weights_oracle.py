"""Weights of trained models, read without Keras, against real Keras (oracle).

Small models are trained for 2 epochs on random data (so BatchNormalization's moving
statistics move), saved as ``.keras`` and legacy ``.h5`` by Keras 3 and as ``.h5`` by
tf-keras, then:

* ``get_weights(file)`` equals ``model.get_weights()`` array by array;
* BN statistics are ``never_updated`` before training and not after;
* a NaN written into a moving_variance (with h5py) gives ``has_nonfinite``;
* the exported NumPy ``forward`` matches ``model.predict`` within 1e-4.
"""

from __future__ import annotations

import importlib
import io
import os
import shutil
import warnings
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from bnlint.export import ExportError, export_numpy
from bnlint.readers.weights import WeightsFile, get_weights
from bnlint.weights_report import bn_statistics, weights_report

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

pytestmark = pytest.mark.oracle

PACKAGES = {3: "keras", 2: "tf_keras"}
FORMATS = [(3, ".keras"), (3, ".h5"), (2, ".h5")]


@pytest.fixture(autouse=True, scope="module")
def _quiet(quiet_keras: None) -> None:
    """Both Kerases imported, absl quiet (tests/conftest.py)."""


def _k(version: int) -> Any:
    k = importlib.import_module(PACKAGES[version])
    k.backend.clear_session()
    k.utils.set_random_seed(7)
    return k


def seed000(k: Any) -> Any:
    L = k.layers
    return k.Sequential([
        k.Input(shape=(20,)), L.Dense(16), L.BatchNormalization(), L.Activation("relu"),
        L.Dropout(0.5), L.Dense(8), L.BatchNormalization(), L.Activation("relu"),
        L.Dropout(0.5), L.Dense(5), L.BatchNormalization(), L.Activation("softmax")])


def conv_functional(k: Any) -> Any:
    """Conv + BN(axis=1/-1, center/scale off), a nested Sequential, merges."""
    L = k.layers
    inp = k.Input(shape=(8, 8, 3))
    x = L.Conv2D(4, 3, padding="same", activation="relu")(inp)
    x = L.BatchNormalization(axis=1)(x)
    y = L.DepthwiseConv2D(3, padding="same")(x)
    y = L.BatchNormalization(center=False)(y)
    z = L.SeparableConv2D(4, 3, padding="same")(x)
    z = L.BatchNormalization(scale=False)(z)
    x = L.Add()([y, z])
    x = L.MaxPooling2D()(x)
    x = L.GlobalAveragePooling2D()(x)
    inner = k.Sequential([k.Input(shape=(4,)), L.Dense(6), L.BatchNormalization(),
                          L.Activation("tanh")], name="inner")
    x = L.Concatenate()([inner(x), x])
    x = L.LayerNormalization()(x)
    out = L.Dense(3, activation="softmax")(x)
    return k.Model(inp, out)


def recurrent(k: Any) -> Any:
    """Wrappers with sublayers: Bidirectional(LSTM), TimeDistributed(Dense)."""
    L = k.layers
    return k.Sequential([
        k.Input(shape=(5, 3)), L.TimeDistributed(L.Dense(4)), L.BatchNormalization(),
        L.Bidirectional(L.LSTM(3, return_sequences=True)), L.GRU(2), L.Dense(2)])


MODELS = {"seed000": seed000, "conv_functional": conv_functional, "recurrent": recurrent}


def _data(model: Any, n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 2.0, (n, *model.input_shape[1:])).astype("float32")
    y = np.eye(model.output_shape[-1])[rng.integers(0, model.output_shape[-1], n)]
    return x, y.astype("float32")


def _save(model: Any, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path)
    return path


def make(name: str, version: int, suffix: str, tmp: Path, train: bool) -> tuple[Any, Path]:
    k = _k(version)
    model = MODELS[name](k)
    if train:
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        x, y = _data(model)
        model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    return model, _save(model, tmp / f"{name}.v{version}{suffix}")


def assert_same_weights(path: Path, expected: list[np.ndarray]) -> None:
    got = get_weights(path)
    assert len(got) == len(expected)
    for i, (a, b) in enumerate(zip(got, expected, strict=True)):
        assert a.shape == b.shape, f"[{i}] {a.shape} != {b.shape}"
        assert np.array_equal(a, b), f"get_weights()[{i}] differs"


@pytest.mark.parametrize(("version", "suffix"), FORMATS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_trained_weights_equal_get_weights(name: str, version: int, suffix: str,
                                           tmp_path: Path) -> None:
    model, path = make(name, version, suffix, tmp_path, train=True)
    assert_same_weights(path, model.get_weights())
    stats = bn_statistics(path)
    assert stats and all(not s.never_updated for s in stats)
    assert not any(s.has_nonfinite or s.negative_variance for s in stats)
    # The report renders every array and every BN layer.
    text = weights_report(path)
    assert "moving statistics updated by training" in text


@pytest.mark.parametrize(("version", "suffix"), FORMATS)
def test_untrained_bn_never_updated(version: int, suffix: str, tmp_path: Path) -> None:
    model, path = make("seed000", version, suffix, tmp_path, train=False)
    assert_same_weights(path, model.get_weights())
    stats = bn_statistics(path)
    assert len(stats) == 3 and all(s.never_updated for s in stats)
    assert stats[0].arrays == {"gamma": 2, "beta": 3, "moving_mean": 4,
                                            "moving_variance": 5}


def inject_nan(path: Path, out: Path) -> Path:
    """Copy of ``path`` with moving_variance[0] of the first BN layer set to NaN (h5py)."""
    with WeightsFile(path) as wf:
        ref = next(r for r in wf.refs if r.name == "moving_variance")
    if path.suffix == ".keras":
        with zipfile.ZipFile(path) as zin:
            members = {n: zin.read(n) for n in zin.namelist()}
        buf = io.BytesIO(members["model.weights.h5"])
        with h5py.File(buf, "r+") as f:
            f[ref.dataset][0] = np.nan
        members["model.weights.h5"] = buf.getvalue()
        with zipfile.ZipFile(out, "w") as zout:
            for n, data in members.items():
                zout.writestr(n, data)
    else:
        shutil.copy(path, out)
        with h5py.File(out, "r+") as f:
            f[ref.dataset][0] = np.nan
    return out


@pytest.mark.parametrize(("version", "suffix"), FORMATS)
def test_nan_in_moving_variance(version: int, suffix: str, tmp_path: Path) -> None:
    _, path = make("seed000", version, suffix, tmp_path, train=True)
    bad = inject_nan(path, tmp_path / f"nan{suffix}")
    stats = bn_statistics(bad)
    assert [s.has_nonfinite for s in stats] == [True, False, False]
    assert stats[0].nonfinite == {"moving_variance": 1}
    assert "NON-FINITE" in weights_report(bad)


def _run(text: str) -> dict[str, Any]:
    ns: dict[str, Any] = {"__name__": "exported"}
    exec(compile(text, "forward.py", "exec"), ns)
    return ns


@pytest.mark.parametrize(("version", "suffix"), FORMATS)
@pytest.mark.parametrize("name", ["seed000", "conv_functional"])
def test_export_matches_predict(name: str, version: int, suffix: str, tmp_path: Path) -> None:
    model, path = make(name, version, suffix, tmp_path, train=True)
    x, _ = _data(model, 10)
    expected = model.predict(x, verbose=0)
    text = export_numpy(path)
    ns = _run(text)
    got = ns["forward"](x, ns["load_weights"](str(path)))
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)
    # The file is standalone: it runs as a script without bnlint.
    script = tmp_path / "forward.py"
    script.write_text(text)
    assert "bnlint" not in text.split('"""', 2)[2]


@pytest.mark.parametrize(("version", "suffix"), FORMATS)
def test_export_refuses_unsupported_layer(version: int, suffix: str, tmp_path: Path) -> None:
    _, path = make("recurrent", version, suffix, tmp_path, train=False)
    with pytest.raises(ExportError, match=r"time_distributed.*TimeDistributed.*not supported"):
        export_numpy(path)
