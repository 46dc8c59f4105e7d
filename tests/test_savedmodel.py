"""SavedModel directories and TF checkpoints without TensorFlow: the CLI paths, on the small
generated fixture (fixtures/savedmodel/make_savedmodel_fixtures.py).  The values are checked
against real tf-keras in tests/test_savedmodel_oracle.py; these tests need no TensorFlow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from bnlint.readers.saved import read_saved_model
from bnlint.readers.weights import WeightsFile, get_weights

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "fixtures" / "savedmodel"


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bnlint", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


def test_checkpoint_with_architecture_equals_savedmodel() -> None:
    a = get_weights(FIX / "ckpt", FIX / "tiny")
    b = get_weights(FIX / "tiny")
    assert len(a) == len(b) == len(read_saved_model(FIX / "tiny").all_weights())
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    with WeightsFile(FIX / "ckpt.index", read_saved_model(FIX / "tiny")) as wf:
        assert wf.format == "checkpoint" and wf.stored_count() == len(wf.refs)


def test_summarize_savedmodel_text_and_json() -> None:
    r = _cli("summarize", str(FIX / "tiny"), "--weights")
    assert r.returncode == 0, r.stderr
    assert "Keras 2 semantics" in r.stdout and "moving_variance" in r.stdout
    r = _cli("summarize", str(FIX / "tiny"), "--weights", "--format", "json")
    data = json.loads(r.stdout)
    assert r.returncode == 0 and len(data["weights"][0]["arrays"]) == 8


def test_weights_file_match_and_refusals(tmp_path: Path) -> None:
    r = _cli("summarize", str(FIX / "tiny.py"), "--weights-file", str(FIX / "ckpt"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith(f"{FIX / 'ckpt'}: matches model")
    r = _cli("summarize", str(FIX / "ckpt"))
    assert r.returncode == 2 and "weights only" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    (tmp_path / "plain").mkdir()
    r = _cli("summarize", str(tmp_path / "plain"))
    assert r.returncode == 2 and "not a TensorFlow SavedModel" in r.stderr
    nometa = tmp_path / "nometa"
    shutil.copytree(FIX / "tiny", nometa)
    (nometa / "keras_metadata.pb").unlink()
    r = _cli("summarize", str(nometa))
    assert r.returncode == 2 and "without keras_metadata.pb" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_export_savedmodel_and_weights_file_agree(tmp_path: Path) -> None:
    out = []
    for args in ([str(FIX / "tiny")], [str(FIX / "tiny.py"), "--weights-file", str(FIX / "ckpt")]):
        target = tmp_path / f"f{len(out)}.py"
        r = _cli("export", *args, "-o", str(target))
        assert r.returncode == 0, r.stderr
        ns: dict = {}
        exec(compile(target.read_text(), str(target), "exec"), ns)  # bnlint's own output
        x = np.linspace(-2, 2, 18, dtype="float32").reshape(3, 6)
        path = str(FIX / "tiny") if not out else str(FIX / "ckpt")
        out.append(ns["forward"](x, ns["load_weights"](path)))
    np.testing.assert_array_equal(out[0], out[1])


def test_check_walk_finds_savedmodel_once(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(FIX / "tiny", tree / "models" / "tiny")
    r = _cli("check", "--no-cache", "--select", "BN002,BN013,BN999", str(tree))
    assert r.returncode == 0, r.stdout + r.stderr  # trained: no BN002; variables/ not entered
    assert "variables" not in r.stdout + r.stderr
    r = _cli("check", "--no-cache", "--select", "BN013", "--output-format", "json",
             str(tree / "models" / "tiny"))
    assert r.returncode == 0 and json.loads(r.stdout) == []


def test_json_with_weights_file_follows_schema() -> None:
    import jsonschema

    schema = json.loads((ROOT / "bnlint/report/schemas/summary-json.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for weights in (FIX / "ckpt", FIX / "tiny"):
        r = _cli("summarize", str(FIX / "tiny.py"), "--weights-file", str(weights), "--weights",
                 "--format", "json")
        data = json.loads(r.stdout)
        assert r.returncode == 0 and data["weights_file"]["matches"] is True
        assert not [e.message for e in validator.iter_errors(data)]
