"""SavedModel directories and TF checkpoints, read without TensorFlow, against real tf-keras.

Each model below is one piece of source text: the test runs it with real tf-keras (the
oracle) and bnlint reads it statically (for ``--weights-file``).  The models are saved,
trained and untrained, as a SavedModel directory (``save_format="tf"``), a weights-only
TF checkpoint (``save_weights("ckpt")``) and a weights-only ``.h5``; the Keras 3 variant
as a ``.weights.h5``.  Then:

* ``summarize DIR``'s facts equal ``keras_facts(model)`` (what ``summary()`` reports);
* ``get_weights(DIR)`` and the weights-only files paired with the source's architecture
  equal ``model.get_weights()`` array by array, exactly;
* the exported NumPy ``forward`` (standalone: numpy only) matches ``model.predict`` to 1e-4
  (and the eager ``model(x)``: for one model TensorFlow's graph rewrite makes predict()
  itself differ from the eager call, see test_export_matches_predict);
* ``check DIR`` reports BN002 for the untrained models only, and a tree walk finds the
  SavedModel without descending into ``variables/``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from compare import assert_same_facts, bnlint_facts
from hypothesis import HealthCheck, given, settings
from model_strategies import build_keras, model_specs
from oracle_facts import keras_facts

from bnlint.export import export_numpy
from bnlint.readers.saved import read_saved_model
from bnlint.readers.source import read_source
from bnlint.readers.weights import WeightsFile, get_weights, match_weights

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

pytestmark = pytest.mark.oracle
ROOT = Path(__file__).resolve().parent.parent

SOURCES = {
    "sequential": """
import tf_keras as k
L = k.layers
model = k.Sequential([
    k.Input(shape=(20,)), L.Dense(16), L.BatchNormalization(), L.Activation("relu6"),
    L.Dropout(0.5), L.Dense(8), L.BatchNormalization(center=False, scale=False),
    L.Activation("relu"), L.Dense(5, activation="softmax")])
""",
    "shared_nested": """
import tf_keras as k
L = k.layers
inner = k.Sequential([k.Input(shape=(8,)), L.Dense(6), L.BatchNormalization(center=False),
                      L.Activation("tanh")], name="inner")
inp = k.Input(shape=(8,))
shared = L.Dense(8, activation="relu", name="shared")
a = shared(inp)
b = shared(a)
c = inner(b)
d = L.BatchNormalization(scale=False)(c)
model = k.Model(inp, L.Dense(3, activation="softmax")(L.Concatenate()([d, a])))
""",
    "conv": """
import tf_keras as k
L = k.layers
inp = k.Input(shape=(8, 8, 3))
x = L.Conv2D(4, 3, padding="same", use_bias=False)(inp)
x = L.BatchNormalization(axis=1)(x)
x = L.Activation("relu6")(x)
y = L.DepthwiseConv2D(3, padding="same")(x)
y = L.BatchNormalization(center=False)(y)
z = L.SeparableConv2D(4, 3, padding="same")(x)
z = L.BatchNormalization(scale=False)(z)
x = L.Add()([y, z])
x = L.MaxPooling2D()(x)
x = L.GlobalAveragePooling2D()(x)
model = k.Model(inp, L.Dense(3, activation="softmax")(x))
""",
    "recurrent": """
import tf_keras as k
L = k.layers
model = k.Sequential([
    k.Input(shape=(5, 3)), L.TimeDistributed(L.Dense(4)), L.BatchNormalization(),
    L.Bidirectional(L.LSTM(3, return_sequences=True)), L.GRU(2), L.Dense(2)])
""",
}
EXPORTABLE = ("sequential", "shared_nested", "conv")


def _build(source: str) -> Any:
    ns: dict[str, Any] = {}
    exec(compile(source, "<model>", "exec"), ns)  # the test's own model text, run by Keras
    return ns["model"]


def _data(model: Any, n: int = 32) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 2.0, (n, *model.input_shape[1:])).astype("float32")
    y = np.eye(model.output_shape[-1])[rng.integers(0, model.output_shape[-1], n)]
    return x, y.astype("float32")


@pytest.fixture(scope="module")
def saved(quiet_keras: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """name/trained -> paths, the oracle's facts, weights and predictions (built once)."""
    import tf_keras

    root = tmp_path_factory.mktemp("savedmodels")
    out: dict[str, Any] = {}
    for name, source in SOURCES.items():
        src = root / f"{name}.py"
        src.write_text(source)
        for trained in (False, True):
            tf_keras.backend.clear_session()
            tf_keras.utils.set_random_seed(7)
            model = _build(source)
            x, y = _data(model)
            if trained:
                model.compile(optimizer="adam", loss="categorical_crossentropy")
                model.fit(x, y, epochs=1, batch_size=8, verbose=0)
            tag = f"{name}-{'trained' if trained else 'untrained'}"
            d = root / tag
            d.mkdir()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.save(d / "model", save_format="tf")
                model.save_weights(str(d / "ckpt"))
                model.save_weights(str(d / "w.h5"))
            out[tag] = {
                "source": src, "dir": d / "model", "ckpt": d / "ckpt", "h5": d / "w.h5",
                "facts": keras_facts(model, 2), "weights": model.get_weights(),
                "x": x, "predict": model.predict(x, verbose=0),
                "eager": model(x, training=False).numpy(),
            }
    return out


def _same(got: list[np.ndarray], want: list[np.ndarray], where: str) -> None:
    assert len(got) == len(want), f"{where}: {len(got)} arrays != {len(want)}"
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        assert a.shape == b.shape and a.dtype == b.dtype, f"{where}[{i}] {a.shape} {b.shape}"
        assert np.array_equal(a, b), f"{where}: get_weights()[{i}] differs"


TAGS = [f"{n}-{t}" for n in SOURCES for t in ("untrained", "trained")]


@pytest.mark.parametrize("tag", TAGS)
def test_savedmodel_summary_and_weights(saved: dict[str, Any], tag: str) -> None:
    s = saved[tag]
    model = read_saved_model(s["dir"])
    assert_same_facts(s["facts"], bnlint_facts(model), tag)
    _same(get_weights(s["dir"]), s["weights"], f"{tag} SavedModel")


@pytest.mark.parametrize("tag", TAGS)
def test_weights_only_files_with_source_architecture(saved: dict[str, Any], tag: str) -> None:
    s = saved[tag]
    result = read_source(str(s["source"]))
    model = next(m for m in result.models if m.variable == "model")
    for key in ("ckpt", "h5", "dir"):
        assert match_weights(s[key], model).startswith("matches")
        with WeightsFile(s[key], model) as wf:
            _same(wf.get_weights(), s["weights"], f"{tag} {key} + source")


@pytest.mark.parametrize("tag", [f"{n}-{t}" for n in EXPORTABLE for t in ("untrained", "trained")])
def test_export_matches_predict(saved: dict[str, Any], tag: str, tmp_path: Path) -> None:
    s = saved[tag]
    for i, code in enumerate([export_numpy(s["dir"]),
                              export_numpy(s["ckpt"], read_saved_model(s["dir"]))]):
        mod_path = tmp_path / f"exported_{i}.py"
        mod_path.write_text(code)
        spec = importlib.util.spec_from_file_location(f"exported_{tag}_{i}", mod_path)
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        assert "bnlint" not in code.split('"""', 2)[2]  # standalone: numpy only
        weights = mod.load_weights(str(s["dir"] if i == 0 else s["ckpt"]))
        _same(weights, s["weights"], f"{tag} exported load_weights")
        got = mod.forward(s["x"], weights)
        np.testing.assert_allclose(got, s["eager"], atol=1e-4, rtol=0)
        if np.allclose(s["eager"], s["predict"], atol=1e-5, rtol=0):
            np.testing.assert_allclose(got, s["predict"], atol=1e-4, rtol=0)
        else:
            # TensorFlow's graph rewrite of Conv2D(use_bias=False) + BatchNormalization on a
            # non-channel axis (conv-trained) makes predict() differ from the layers' own
            # eager call by ~3e-3; the export computes what the layers define.
            assert tag == "conv-trained", "predict() and model(x) disagree unexpectedly"


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bnlint", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


def test_check_savedmodel_bn002_and_tree_walk(saved: dict[str, Any]) -> None:
    un, tr = saved["sequential-untrained"], saved["sequential-trained"]
    r = _cli("check", "--no-cache", "--select", "BN002,BN013,BN999", str(un["dir"]))
    assert r.returncode == 1 and "BN002" in r.stdout, r.stdout + r.stderr
    r = _cli("check", "--no-cache", "--select", "BN002,BN013,BN999", str(tr["dir"]))
    assert r.returncode == 0, r.stdout + r.stderr
    # the walk: the SavedModel counts once, its variables/ is not entered
    r = _cli("check", "--no-cache", "--select", "BN002", "--output-format", "concise",
             str(un["dir"].parent))
    assert r.stdout.count("BN002") == 1 and "variables" not in r.stdout + r.stderr, r.stdout


def test_cli_summarize_weights_file(saved: dict[str, Any]) -> None:
    s = saved["shared_nested-trained"]
    r = _cli("summarize", str(s["source"]), "--weights-file", str(s["ckpt"]), "--weights")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"{s['ckpt']}: matches model"), r.stdout[:200]
    other = saved["sequential-trained"]
    r = _cli("summarize", str(s["source"]), "--weights-file", str(other["h5"]))
    assert r.returncode == 2 and "does not match" in r.stderr and "Traceback" not in r.stderr


def test_check_with_weights_file(saved: dict[str, Any]) -> None:
    """``check SOURCE --weights-file W``: the weight rules read W's arrays for the model the
    source builds (BN002 on untrained statistics, at the BN layer's line in the source; none
    on trained ones, for a checkpoint and an .h5); a W that does not fit is an error (2)."""
    for kind in ("ckpt", "h5"):
        un, tr = saved["sequential-untrained"], saved["sequential-trained"]
        r = _cli("check", "--no-cache", "--select", "BN002,BN013", "--output-format", "json",
                 str(un["source"]), "--weights-file", str(un[kind]))
        found = json.loads(r.stdout)
        assert r.returncode == 1 and [f["code"] for f in found] == ["BN002"], r.stdout + r.stderr
        line = next(i for i, ln in enumerate(SOURCES["sequential"].splitlines(), 1)
                    if "BatchNormalization" in ln)
        assert found[0]["location"]["row"] == line and found[0]["filename"].endswith(".py")
        r = _cli("check", "--no-cache", "--select", "BN002,BN013", str(tr["source"]),
                 "--weights-file", str(tr[kind]))
        assert r.returncode == 0, r.stdout + r.stderr
    other = saved["shared_nested-trained"]
    r = _cli("check", "--no-cache", str(saved["sequential-trained"]["source"]),
             "--weights-file", str(other["ckpt"]))
    assert r.returncode == 2 and f"{other['ckpt']}: does not match model" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    r = _cli("check", "--no-cache", str(other["source"]), str(other["source"]),
             "--weights-file", str(other["ckpt"]))
    assert r.returncode == 2 and "--weights-file" in r.stderr and "Traceback" not in r.stderr


def test_check_with_keras3_weights_file_bn013(quiet_keras: None, tmp_path: Path) -> None:
    """A Keras 3 ``.weights.h5`` whose moving_variance was edited negative: BN013 at the BN
    layer of the source, as for a saved ``.keras`` model."""
    import h5py

    source = SOURCES["sequential"].replace("import tf_keras as k", "import keras as k")
    model = _build(source)
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    src = tmp_path / "m.py"
    src.write_text(source)
    variances = []
    with h5py.File(path, "r+") as f:
        f.visititems(lambda name, obj: variances.append(name) if isinstance(obj, h5py.Dataset)
                     and "batch_normalization" in name and name.endswith("vars/3") else None)
        assert variances, "no moving_variance dataset in the Keras 3 weights file"
        f[variances[0]][0] = -0.5
    r = _cli("check", "--no-cache", "--select", "BN013", "--output-format", "json", str(src),
             "--weights-file", str(path))
    found = json.loads(r.stdout)
    assert r.returncode == 1 and [f["code"] for f in found] == ["BN013"], r.stdout + r.stderr
    assert "moving_variance" in found[0]["message"]


def test_keras3_weights_h5_with_source(quiet_keras: None, tmp_path: Path) -> None:
    import keras

    source = SOURCES["shared_nested"].replace("import tf_keras as k", "import keras as k")
    keras.utils.set_random_seed(3)
    model = _build(source)
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    src = tmp_path / "m.py"
    src.write_text(source)
    arch = next(m for m in read_source(str(src)).models if m.variable == "model")
    assert match_weights(path, arch).startswith("matches")
    with WeightsFile(path, arch) as wf:
        _same(wf.get_weights(), model.get_weights(), "keras 3 .weights.h5 + source")


def test_savedmodel_without_keras_metadata(quiet_keras: None, tmp_path: Path) -> None:
    import tensorflow as tf

    class Plain(tf.Module):
        def __init__(self) -> None:
            self.v = tf.Variable(1.0)

    tf.saved_model.save(Plain(), str(tmp_path / "plain"))
    r = _cli("summarize", str(tmp_path / "plain"))
    assert r.returncode == 2 and "without keras_metadata.pb" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- random models

RANDOM_EXAMPLES = int(os.environ.get("BNLINT_SAVEDMODEL_EXAMPLES", "12"))


@settings(max_examples=RANDOM_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(spec=model_specs(2))
def test_random_models_as_savedmodel_and_checkpoint(quiet_keras: None, spec: dict) -> None:
    """Random tf-keras models (tests/model_strategies.py) with random weights, saved as a
    SavedModel and a save_weights checkpoint: facts and every array equal Keras's."""
    import tempfile

    import tf_keras

    tf_keras.backend.clear_session()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_keras(spec, 2)
    rng = np.random.default_rng(0)
    model.set_weights([rng.standard_normal(w.shape).astype(w.dtype) if w.size else w
                       for w in model.get_weights()])  # every array distinguishable
    expected = keras_facts(model, 2)
    weights = model.get_weights()
    with tempfile.TemporaryDirectory(prefix="bnlint_savedmodel_") as tmp:
        d = Path(tmp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.save(d / "model", save_format="tf")
            model.save_weights(str(d / "ckpt"))
        graph_model = read_saved_model(d / "model")
        assert_same_facts(expected, bnlint_facts(graph_model), "SavedModel")
        _same(get_weights(d / "model"), weights, "SavedModel")
        with WeightsFile(d / "ckpt", graph_model) as wf:
            _same(wf.get_weights(), weights, "save_weights checkpoint")
    tf_keras.backend.clear_session()


def test_check_savedmodel_bn013(quiet_keras: None, tmp_path: Path) -> None:
    """Impossible BN values written by tf-keras itself (set_weights) reach BN013."""
    import tf_keras

    tf_keras.backend.clear_session()
    model = _build(SOURCES["sequential"])
    weights = model.get_weights()
    bn = next(la for la in model.layers if la.__class__.__name__ == "BatchNormalization")
    variance = next(i for i, w in enumerate(model.weights) if w is bn.moving_variance)
    weights[variance] = weights[variance] * 0 - 1.0
    model.set_weights(weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(tmp_path / "model", save_format="tf")
    r = _cli("check", "--no-cache", "--select", "BN013", str(tmp_path / "model"))
    assert r.returncode == 1 and "BN013" in r.stdout, r.stdout + r.stderr
