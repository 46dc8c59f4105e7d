"""Weight reader, weights report and NumPy export on the committed fixtures (no Keras needed)."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from bnlint.export import ExportError, export_numpy
from bnlint.readers.saved import ReadError, read_saved_model
from bnlint.readers.weights import WeightsFile, get_weights, read_arrays
from bnlint.weights_report import bn_statistics, weights_report

MODELS = Path(__file__).resolve().parent.parent / "fixtures" / "models"
# Every bundled model is saved untrained, except the one scripts/train_seed000.py trains.
TRAINED = MODELS / "seed000_trained.keras"
FILES = sorted(p for p in MODELS.iterdir() if p.suffix in (".keras", ".h5") and p != TRAINED)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_weights_follow_the_graph(path: Path) -> None:
    g = read_saved_model(path)
    arrays = get_weights(path)
    expected = g.all_weights()
    assert len(arrays) == len(expected)
    for a, w in zip(arrays, expected, strict=True):
        assert a.shape == tuple(w.shape)
        assert a.dtype == np.float32


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_untrained_fixtures_never_updated(path: Path) -> None:
    stats = bn_statistics(path)
    assert stats and all(s.never_updated for s in stats)
    assert not any(s.has_nonfinite or s.negative_variance or s.dead_channels for s in stats)


def test_trained_fixture_statistics_were_updated() -> None:
    stats = bn_statistics(TRAINED)
    assert stats and not any(s.never_updated for s in stats)
    assert not any(s.has_nonfinite or s.negative_variance for s in stats)


def test_three_formats_agree() -> None:
    """Same seeds, same initial values: .keras and Keras 3 .h5 hold identical arrays."""
    a = get_weights(MODELS / "seed000_dnn_bn.keras")
    b = get_weights(MODELS / "seed000_dnn_bn.k3.h5")
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_lazy_read_only_bn_arrays() -> None:
    got = read_arrays(MODELS / "seed000_dnn_bn.keras",
                      lambda r: r.layer.class_name == "BatchNormalization")
    assert [r.index for r, _ in got] == [2, 3, 4, 5, 8, 9, 10, 11, 14, 15, 16, 17]
    assert [r.name for r, _ in got[:4]] == ["gamma", "beta", "moving_mean", "moving_variance"]


def test_nested_layer_paths() -> None:
    with WeightsFile(MODELS / "nested_frozen.keras") as wf:
        assert [r.layer_path for r in wf.refs[:6]] == ["backbone/dense"] * 2 + [
            "backbone/batch_normalization"] * 4
        assert wf.refs[5].dataset == "/layers/sequential/layers/batch_normalization/vars/3"


def test_bn_center_scale_formula() -> None:
    stats = bn_statistics(MODELS / "bn_center_scale.keras")
    assert [sorted(s.arrays) for s in stats] == [
        ["gamma", "moving_mean", "moving_variance"], ["beta", "moving_mean", "moving_variance"]]
    assert stats[0].formula.endswith("sqrt(moving_variance + 0.001)")
    assert stats[1].formula.startswith("y = (x - moving_mean)")


def _rewrite_keras(path: Path, out: Path, edit: Any) -> Path:
    with zipfile.ZipFile(path) as zin:
        members = {n: zin.read(n) for n in zin.namelist()}
    buf = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buf, "r+") as f:
        edit(f)
    members["model.weights.h5"] = buf.getvalue()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for n, data in members.items():
            zout.writestr(n, data)
    return out


def test_nan_and_negative_variance_keras(tmp_path: Path) -> None:
    def edit(f: Any) -> None:
        f["layers/batch_normalization/vars/3"][0] = np.nan
        f["layers/batch_normalization_1/vars/3"][1] = -0.5
        f["layers/batch_normalization_2/vars/0"][2] = 0.0

    # Also exercises a DEFLATE-compressed model.weights.h5 member.
    bad = _rewrite_keras(MODELS / "seed000_dnn_bn.keras", tmp_path / "bad.keras", edit)
    s = bn_statistics(bad)
    assert [x.has_nonfinite for x in s] == [True, False, False]
    assert [x.negative_variance for x in s] == [False, True, False]
    assert s[1].negative_variance_channels == [1]
    assert s[2].dead_channels == [2]
    text = weights_report(bad)
    assert "NON-FINITE" in text and "NEGATIVE" in text and "dead channels" in text
    data = json.loads(weights_report(bad, "json"))
    assert data["arrays"][5]["nonfinite"] == 1
    assert data["batch_normalization"][0]["has_nonfinite"] is True


def test_nan_h5(tmp_path: Path) -> None:
    bad = tmp_path / "bad.h5"
    shutil.copy(MODELS / "seed002_conv_bn.k2.h5", bad)
    with h5py.File(bad, "r+") as f:
        g = f["model_weights/batch_normalization"]
        names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["weight_names"]]
        name = next(n for n in names if "moving_variance" in n)
        g[name][3] = np.inf
    (s,) = bn_statistics(bad)
    assert s.has_nonfinite and s.nonfinite == {"moving_variance": 1}


def test_report_formats() -> None:
    path = MODELS / "seed002_conv_bn.keras"
    text = weights_report(path)
    assert "never updated" in text and "BN002" in text
    md = weights_report(path, "markdown")
    assert md.startswith("## Weights") and "| 5 | batch_normalization | moving_variance |" in md
    data = json.loads(weights_report(path, "json"))
    assert [a["name"] for a in data["arrays"]] == ["kernel", "bias", "gamma", "beta",
                                                   "moving_mean", "moving_variance"]
    with pytest.raises(ValueError):
        weights_report(path, "yaml")


def test_refuses_shape_mismatch(tmp_path: Path) -> None:
    def edit(f: Any) -> None:
        del f["layers/batch_normalization/vars/3"]
        f["layers/batch_normalization/vars"].create_dataset("3", data=np.ones(7, "float32"))

    bad = _rewrite_keras(MODELS / "seed002_conv_bn.keras", tmp_path / "bad.keras", edit)
    with pytest.raises(ReadError, match="shape"):
        get_weights(bad)


def test_refuses_absurd_dataset(tmp_path: Path) -> None:
    """A declared size beyond the bound is refused before anything is allocated."""
    def edit(f: Any) -> None:
        del f["layers/conv2d/vars/0"]
        f["layers/conv2d/vars"].create_dataset(
            "0", shape=(1 << 20, 1 << 20, 1, 32), dtype="float32", chunks=(1, 1, 1, 32))

    bad = _rewrite_keras(MODELS / "seed002_conv_bn.keras", tmp_path / "bad.keras", edit)
    with pytest.raises(ReadError, match="refusing"):
        get_weights(bad)


def test_refuses_non_numeric(tmp_path: Path) -> None:
    bad = tmp_path / "bad.h5"
    shutil.copy(MODELS / "seed002_conv_bn.k3.h5", bad)
    with h5py.File(bad, "r+") as f:
        g = f["model_weights/conv2d"]
        name = g.attrs["weight_names"][1]
        name = name.decode() if isinstance(name, bytes) else name
        del g[name]
        g.create_dataset(name, data=np.array([b"x"] * 32, dtype=object),
                         dtype=h5py.string_dtype())
    with pytest.raises(ReadError, match="non-numeric"):
        get_weights(bad)


def test_missing_weights_member(tmp_path: Path) -> None:
    bad = tmp_path / "bad.keras"
    with zipfile.ZipFile(MODELS / "seed002_conv_bn.keras") as zin, zipfile.ZipFile(bad, "w") as z:
        for n in zin.namelist():
            if n != "model.weights.h5":
                z.writestr(n, zin.read(n))
    with pytest.raises(ReadError, match=r"no model\.weights\.h5"):
        get_weights(bad)


def _run(text: str) -> dict[str, Any]:
    ns: dict[str, Any] = {"__name__": "exported"}
    exec(compile(text, "forward.py", "exec"), ns)
    return ns


def _reference_seed000(x: np.ndarray, w: list[np.ndarray]) -> np.ndarray:
    """Seed 000's model written by hand: Dense, BN, relu (x3, softmax last)."""
    h = x
    for k in (0, 6, 12):
        h = h @ w[k] + w[k + 1]
        h = w[k + 2] * (h - w[k + 4]) / np.sqrt(w[k + 5] + 0.001) + w[k + 3]
        if k < 12:
            h = np.maximum(h, 0)
    e = np.exp(h - h.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("name", ["seed000_dnn_bn.keras", "seed000_dnn_bn.k3.h5",
                                  "seed000_dnn_bn.k2.h5"])
def test_export_seed000(name: str) -> None:
    text = export_numpy(MODELS / name)
    assert "# layers[1] batch_normalization (BatchNormalization): y = gamma * (x - moving_mean)" \
        in text
    assert "gamma=weights[2] beta=weights[3] moving_mean=weights[4] moving_variance=weights[5]" \
        in text
    ns = _run(text)
    weights = ns["load_weights"](str(MODELS / name))
    x = np.random.default_rng(0).normal(size=(4, 1120)).astype("float32")
    np.testing.assert_allclose(ns["forward"](x, weights), _reference_seed000(x, weights),
                               atol=1e-5)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_export_fixtures_compile_and_run(path: Path) -> None:
    ns = _run(export_numpy(path))
    g = read_saved_model(path)
    weights = ns["load_weights"](str(path))
    shape = [2 if d is None else d for d in g.input_shapes[0]]
    y = ns["forward"](np.zeros(shape, "float32"), weights)
    assert y.shape == tuple(2 if d is None else d for d in g.output_shapes[0])


def _edit_config(src: Path, out: Path, edit: Any) -> Path:
    shutil.copy(src, out)
    with h5py.File(out, "r+") as f:
        cfg = json.loads(f.attrs["model_config"])
        edit(cfg["config"]["layers"])
        f.attrs["model_config"] = json.dumps(cfg)
    return out


def test_export_names_unsupported_layer(tmp_path: Path) -> None:
    def edit(layers: list) -> None:
        drop = next(la for la in layers if la["class_name"] == "Dropout")
        drop["class_name"] = "UnitNormalization"
        drop["config"] = {"name": drop["config"]["name"], "axis": -1}

    bad = _edit_config(MODELS / "seed000_dnn_bn.k3.h5", tmp_path / "bad.h5", edit)
    with pytest.raises(ExportError, match=r"layer `dropout` \(UnitNormalization\)"):
        export_numpy(bad)


def test_export_names_unsupported_activation(tmp_path: Path) -> None:
    def edit(layers: list) -> None:
        layers[-1 if layers[-1]["class_name"] == "Activation" else 0]["config"][
            "activation"] = "my_act"

    bad = _edit_config(MODELS / "seed000_dnn_bn.k3.h5", tmp_path / "bad.h5", edit)
    with pytest.raises(ExportError, match="activation `my_act`"):
        export_numpy(bad)


def test_export_comment_injection(tmp_path: Path) -> None:
    """A layer name with a newline cannot break out of its comment."""
    bad = tmp_path / "bad.h5"
    shutil.copy(MODELS / "seed002_conv_bn.k3.h5", bad)
    evil = "bn\nimport os; os.system('echo pwned')"
    with h5py.File(bad, "r+") as f:
        cfg = json.loads(f.attrs["model_config"])
        cfg["config"]["layers"][-1]["config"]["name"] = evil
        f.attrs["model_config"] = json.dumps(cfg)
        f["model_weights"].move("batch_normalization", evil)
        f["model_weights"].attrs["layer_names"] = [
            n if n != b"batch_normalization" else evil.encode()
            for n in f["model_weights"].attrs["layer_names"]]
    text = export_numpy(bad)
    assert "\nimport os" not in text
    compile(text, "forward.py", "exec")


def test_array_statistics_match_float64_reference() -> None:
    """The per-array statistics of ``--weights`` (accumulated in float64 without a copy, the
    NaN/Inf scan only when the sum is not finite) equal the plain float64 computation over the
    finite values, for arrays with and without NaN/Inf, of every numeric dtype."""
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import array_shapes, arrays

    from bnlint.weights_report import _stats

    dtypes = st.sampled_from([np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8])

    @settings(max_examples=300, deadline=None)
    @given(dtypes.flatmap(lambda d: arrays(d, array_shapes(max_dims=3, max_side=20))))
    def check(a: np.ndarray) -> None:
        x = a.astype(np.float64)
        finite = x[np.isfinite(x)]
        got = _stats(a)
        assert got[4] == x.size - finite.size
        if finite.size == 0:
            assert got[:4] == (None, None, None, None)
            return
        with np.errstate(all="ignore"):
            want = (finite.mean(), finite.std(), finite.min(), finite.max())
        for g, w in zip(got[:4], want, strict=True):
            if not np.isfinite(w):
                assert g is None
            else:
                assert g is not None and np.isclose(g, w, rtol=1e-9, atol=1e-12), (g, w)

    check()
