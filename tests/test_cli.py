"""The command line as users run it: fresh processes, exit codes, one-line errors, no TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py
import pytest

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "fixtures" / "models"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bnlint", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def test_summarize_never_imports_tensorflow_or_keras() -> None:
    code = (
        "import sys\n"
        "from bnlint.entry import main\n"
        f"sys.argv = ['bnlint', 'summarize', {str(MODELS / 'seed000_dnn_bn.keras')!r}, "
        f"{str(MODELS / 'seed000_dnn_bn.k2.h5')!r}, '--format', 'json']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'keras', 'tf_keras', 'torch', 'jax'))\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_json_contract_matches_keras_golden() -> None:
    golden = json.loads((MODELS / "seed000_dnn_bn.k3.golden.json").read_text())
    proc = run("summarize", str(MODELS / "seed000_dnn_bn.keras"), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    (model,) = doc["models"]
    for key in ("name", "class_name", "total_params", "trainable_params", "non_trainable_params"):
        assert model[key] == golden[key], key
    assert model["totals"] == golden["summary_totals"]
    assert [la["name"] for la in model["layers"]] == [la["name"] for la in golden["layers"]]
    flat = [w for la in model["layers"] for w in la["weights"]]
    assert [w["index"] for w in flat] == list(range(len(golden["weights"])))
    assert [(w["name"], w["shape"], w["trainable"]) for w in flat] == [
        (w["name"], w["shape"], w["trainable"]) for w in golden["weights"]
    ]
    bns = model["batch_normalization"]
    assert len(bns) == sum(la["class_name"] == "BatchNormalization" for la in golden["layers"])
    for bn in bns:
        layer = model["layers"][bn["layer_index"]]
        assert layer["class_name"] == "BatchNormalization"
        assert set(bn["arrays"]) == {w["name"] for w in layer["weights"]}


def test_text_output_shows_keras_totals_and_bn_formula() -> None:
    golden = json.loads((MODELS / "seed000_dnn_bn.k3.golden.json").read_text())
    proc = run("summarize", str(MODELS / "seed000_dnn_bn.keras"))
    assert proc.returncode == 0, proc.stderr
    for line in golden["summary_totals"]:
        assert line in proc.stdout
    assert "sqrt(moving_variance + 0.001)" in proc.stdout
    assert "moving_variance" in proc.stdout and "not a standard deviation" in proc.stdout


def test_markdown_output() -> None:
    proc = run("summarize", str(MODELS / "seed000_dnn_bn.k2.h5"), "--format", "markdown")
    assert proc.returncode == 0, proc.stderr
    assert "| # | Layer (type) |" in proc.stdout
    golden = json.loads((MODELS / "seed000_dnn_bn.k2.golden.json").read_text())
    for line in golden["summary_totals"]:
        assert line in proc.stdout


def _bad_inputs(tmp: Path) -> dict[str, Path]:
    good = (MODELS / "seed000_dnn_bn.keras").read_bytes()
    files = {
        "truncated.keras": good[: len(good) // 3],
        "not_a_zip.keras": b"hello, I am not a zip",
        "not_keras.json": b'{"hello": "world"}',
        "broken.json": b'{"class_name": ',
    }
    out = {}
    for name, data in files.items():
        (tmp / name).write_bytes(data)
        out[name] = tmp / name
    with h5py.File(tmp / "weights_only.h5", "w") as f:
        f.create_dataset("x", data=[1, 2, 3])
    out["weights_only.h5"] = tmp / "weights_only.h5"
    with zipfile.ZipFile(tmp / "no_config.keras", "w") as zf:
        zf.writestr("metadata.json", "{}")
    out["no_config.keras"] = tmp / "no_config.keras"
    out["missing.keras"] = tmp / "missing.keras"
    out["directory.h5"] = tmp / "directory.h5"
    (tmp / "directory.h5").mkdir()
    return out


def test_bad_inputs_give_one_line_each_and_the_run_goes_on(tmp_path: Path) -> None:
    bad = _bad_inputs(tmp_path)
    good = MODELS / "seed000_dnn_bn.keras"
    proc = run("summarize", *map(str, bad.values()), str(good))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == len(bad), proc.stderr
    for path, line in zip(bad.values(), lines, strict=True):
        assert line.startswith(f"bnlint: {path}: "), line
    # The good file after the bad ones is still summarized.
    assert 'Model: "' in proc.stdout


@pytest.mark.parametrize("fmt", ["json"])
def test_errors_are_part_of_the_json_document(tmp_path: Path, fmt: str) -> None:
    (tmp_path / "x.json").write_text("[]")
    proc = run("summarize", str(tmp_path / "x.json"), "--format", fmt)
    assert proc.returncode == 2
    doc = json.loads(proc.stdout)
    assert doc["models"] == [] and doc["errors"][0]["path"].endswith("x.json")


def test_lambda_bytecode_is_never_run(tmp_path: Path) -> None:
    """A Lambda layer's serialized function stays data: the row is marked unknown."""
    config = {
        "class_name": "Sequential",
        "config": {"name": "s", "layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "in"}},
            {"class_name": "Lambda", "config": {
                "name": "evil", "function": {"class_name": "__lambda__", "config": {
                    "code": "4wEAAAAAAAAAAAAAAAEAAAADAAAA8wQAAACXAFkAcQGpAU4pAdoCb3M=",
                    "defaults": None, "closure": None}}}},
        ]},
    }
    path = tmp_path / "lambda.json"
    path.write_text(json.dumps(config))
    proc = run("summarize", str(path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    layer = json.loads(proc.stdout)["models"][0]["layers"][0]
    assert layer["class_name"] == "Lambda" and layer["unknown"] and layer["params"] is None


def test_version_and_module_entry_point() -> None:
    proc = run("version")
    assert proc.returncode == 0 and proc.stdout.startswith("bnlint ")


SEED000_SOURCE = ROOT / "fixtures" / "source" / "seed000_batchnorm_dnn.py"


def test_source_summary_with_define_equals_keras() -> None:
    """The seed script read statically, num_classes pinned, equals the model Keras saved."""
    golden = json.loads((MODELS / "seed000_dnn_bn.k3.golden.json").read_text())
    proc = run("summarize", str(SEED000_SOURCE), "--define", "num_classes=38", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (model,) = json.loads(proc.stdout)["models"]
    assert model["variable"] == "modelbatch"
    assert model["total_params"] == golden["total_params"]
    assert model["totals"] == golden["summary_totals"]
    flat = [w for la in model["layers"] for w in la["weights"]]
    assert [(w["name"], w["shape"]) for w in flat] == [(w["name"], w["shape"]) for w in golden["weights"]]


def test_source_summary_without_define_is_symbolic() -> None:
    golden = json.loads((MODELS / "seed000_dnn_bn.k3.golden.json").read_text())
    proc = run("summarize", str(SEED000_SOURCE), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (model,) = json.loads(proc.stdout)["models"]
    total = model["total_params"]
    assert isinstance(total, str) and "num_classes" in total
    # The expression evaluated at the value the seed used gives Keras's total.
    # (test side: evaluating bnlint's own output expression, no builtins)
    assert eval(total, {"__builtins__": {}}, {"num_classes": 38}) == golden["total_params"]


def test_where_answers_the_seed_question() -> None:
    """`modelbatch.layers[5].get_weights()[2]` names the array Keras puts there."""
    golden = json.loads((MODELS / "seed000_dnn_bn.k3.golden.json").read_text())
    layer = golden["layers"][5]
    weight = layer["weights"][2]
    proc = run("summarize", str(SEED000_SOURCE), "--define", "num_classes=38", "--where")
    assert proc.returncode == 0, proc.stderr
    expected = (f"modelbatch.layers[5].get_weights()[2] -> {layer['name']}.{weight['name']} "
                f"({weight['shape'][0]},)")
    assert expected in proc.stdout


def test_summarize_weights_reports_untrained_batchnorm() -> None:
    proc = run("summarize", str(MODELS / "seed002_conv_bn.keras"), "--weights", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    (report,) = doc["weights"]
    assert report["path"].endswith("seed002_conv_bn.keras")
    text = run("summarize", str(MODELS / "seed002_conv_bn.keras"), "--weights").stdout
    assert "never updated" in text


def test_export_numpy_writes_a_runnable_module(tmp_path: Path) -> None:
    out = tmp_path / "forward.py"
    proc = run("export", str(MODELS / "seed002_conv_bn.keras"), "--to", "numpy", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    code = (
        "import importlib.util, numpy as np\n"
        f"spec = importlib.util.spec_from_file_location('fwd', {str(out)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        f"w = m.load_weights({str(MODELS / 'seed002_conv_bn.keras')!r})\n"
        "y = m.forward(np.zeros((2, 28, 28, 1), 'float32'), w)\n"
        "print(tuple(np.asarray(y).shape))\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    golden = json.loads((MODELS / "seed002_conv_bn.k3.golden.json").read_text())
    assert ran.stdout.strip() == str(tuple([2, *golden["layers"][-1]["output_shapes"][0][1:]]))


def test_export_refuses_unreadable_input(tmp_path: Path) -> None:
    (tmp_path / "x.keras").write_bytes(b"nope")
    proc = run("export", str(tmp_path / "x.keras"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"bnlint: {tmp_path / 'x.keras'}: ")


def test_json_valid_against_shipped_schema(tmp_path: Path) -> None:
    """Every saved model and source fixture, an unreadable file and --weights: the JSON
    output follows bnlint/report/schemas/summary-json.schema.json (the README's contract)."""
    import jsonschema

    schema = json.loads((ROOT / "bnlint/report/schemas/summary-json.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"PK\x03\x04 not a zip")
    saved = sorted(p for p in MODELS.iterdir() if p.suffix in (".keras", ".h5", ".json")
                   and not p.name.endswith(".golden.json"))
    sources = sorted((ROOT / "fixtures" / "source").glob("*.py")) + sorted(
        (ROOT / "fixtures" / "source").glob("*.ipynb"))
    for args in ([*map(str, saved), str(broken)], list(map(str, sources)),
                 [str(MODELS / "seed000_trained.keras"), "--weights"]):
        proc = run("summarize", *args, "--format", "json")
        data = json.loads(proc.stdout)
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
        assert errors == [], errors[:5]
        assert data["models"] and ("weights" in data) == ("--weights" in args)
    nested = [la for m in json.loads(run("summarize", str(MODELS / "nested_frozen.keras"),
                                         "--format", "json").stdout)["models"]
              for la in m["layers"] if la["model"] is not None]
    assert nested and validator.is_valid({"version": 1, "models": [nested[0]["model"]]})
