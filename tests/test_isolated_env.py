"""``pip install bnlint`` alone, in a fresh isolated virtual environment (as pre-commit runs a
hook): no TensorFlow, no tf_keras, only bnlint's own dependencies, which include the
pure-Python ``keras`` package whose application source files bnlint reads (never imports).

One environment per test session, built from a copy of this tree (a non-editable install, pip's
cache reused; the keras version is the one the goldens were checked against in this
environment). That environment's ``bnlint summarize --format json`` must give, exactly:
all 40 ``keras/src/applications`` functions (``weights=None``) vs the Keras 3 goldens, and
fixture scripts using ``keras.applications.MobileNetV2`` / ``tf_keras.applications.MobileNetV2``
as a base vs the goldens real Keras made; a tf-keras application Keras 3's source cannot stand
in for is unknown with the reason, never a number.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare import assert_same_facts  # noqa: E402
from test_source_applications import APPS, APPS_DIR, GOLDENS  # noqa: E402

SOURCE_GOLDENS = ROOT / "fixtures" / "source" / "goldens"
IS_WINDOWS = os.name == "nt"


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if IS_WINDOWS else "bin") / (name + (".exe" if IS_WINDOWS else ""))


@pytest.fixture(scope="session")
def isolated_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A fresh venv with ``pip install <copy of this tree>`` (non-editable): its bin dir."""
    base = tmp_path_factory.mktemp("isolated")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "bnlint", src / "bnlint",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    venv = base / "venv"
    t0 = time.perf_counter()
    # Based on the interpreter's base installation, never on this (test) environment.
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    # Correctness, not speed, is checked here: a loaded CI machine must not hit the per-file
    # wall-clock safety net (the deterministic step budget still applies).
    env["BNLINT_FILE_TIME_BUDGET"] = "600"
    pin = [f"keras=={metadata.version('keras')}"]  # the version the goldens were checked with
    proc = subprocess.run([str(_bin(venv, "python")), "-m", "pip", "install", "--quiet",
                           "--no-compile", str(src), *pin],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"venv": venv, "env": env, "setup_s": time.perf_counter() - t0}


def _run(iso: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(_bin(iso["venv"], "bnlint")), *args], capture_output=True,
                          text=True, env=iso["env"], cwd=str(ROOT), timeout=600)


def json_facts(m: dict[str, Any]) -> dict[str, Any]:
    """A model of ``summarize --format json`` in the golden format (tests/oracle_facts.py)."""
    weights = [(w["index"], m["name"], w) for w in m.get("weights") or []]
    weights += [(w["index"], la["name"], w) for la in m["layers"] for w in la["weights"]]
    return {
        "name": m["name"],
        "class_name": m["class_name"],
        "layers": [
            {
                "name": la["name"],
                "class_name": la["class_name"],
                "params": la["params"],
                "output_shapes": la["output_shapes"] if la["built"] else None,
                "weights": [{"name": w["name"], "shape": w["shape"], "trainable": w["trainable"]}
                            for w in la["weights"]],
            }
            for la in m["layers"]
        ],
        "weights": [{"layer": layer, "name": w["name"], "shape": w["shape"],
                     "trainable": w["trainable"]}
                    for _, layer, w in sorted(weights, key=lambda t: t[0])],
        "total_params": m["total_params"],
        "trainable_params": m["trainable_params"],
        "non_trainable_params": m["non_trainable_params"],
    }


def _assert_golden(got: dict[str, Any], expected: dict[str, Any], where: str) -> None:
    assert got["name"] == expected["name"], f"{where}: name {got['name']} != {expected['name']}"
    assert_same_facts(expected, got, where)


@pytest.mark.skipif(APPS_DIR is None, reason="keras is not installed here (no version to pin)")
def test_applications_exact_with_only_bnlint_installed(isolated_env: dict[str, Any]) -> None:
    iso = isolated_env
    py = str(_bin(iso["venv"], "python"))
    # Like pre-commit's hook environment: neither TensorFlow nor tf_keras can be imported.
    for mod in ("tensorflow", "tf_keras"):
        r = subprocess.run([py, "-c", f"import {mod}"], capture_output=True, env=iso["env"])
        assert r.returncode != 0, f"{mod} is importable in the isolated environment"
    where = subprocess.run([py, "-c", "from bnlint.readers.source import _keras_apps_dir as d;"
                            "print(d(3)); print(d(2))"],
                           capture_output=True, text=True, env=iso["env"], cwd="/")
    apps3, apps2 = where.stdout.split()
    assert Path(apps3).is_relative_to(iso["venv"].resolve()), where.stdout + where.stderr
    assert apps2 == "None", where.stdout

    # The 40 application functions, in two processes at once, each target FILE.py::Name read
    # from the venv's own keras package.
    t0 = time.perf_counter()
    targets = [f"{apps3}/{module}::{name}" for module, name in APPS]
    half = (len(targets) + 1) // 2
    procs = [subprocess.Popen([str(_bin(iso["venv"], "bnlint")), "summarize", *chunk,
                               "--arg", "weights=None", "--format", "json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=iso["env"], cwd=str(ROOT))
             for chunk in (targets[:half], targets[half:])]
    models: list[dict[str, Any]] = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
        models += json.loads(out)["models"]
    apps_s = time.perf_counter() - t0
    assert [m["variable"] for m in models] == [name for _, name in APPS]
    problems = []
    for m, (_, name) in zip(models, APPS, strict=True):
        expected = json.loads((GOLDENS / f"{name}.golden.json").read_text())
        try:
            _assert_golden(json_facts(m), expected, name)
        except AssertionError as exc:
            problems.append(str(exc).splitlines()[0])
    assert not problems, problems
    assert len(models) >= 40

    # Scripts using an application as a base (Keras 3, and tf-keras names without tf_keras).
    fixtures = ["transfer_mobilenetv2.py", "transfer_mobilenetv2_tfkeras.py"]
    proc = _run(iso, "summarize", *[f"fixtures/source/{f}" for f in fixtures], "--format",
                "json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout)["models"]
    for f in fixtures:
        golden = json.loads((SOURCE_GOLDENS / f"{Path(f).stem}.json").read_text())
        mine = {m["variable"]: m for m in got if m["source"].endswith(f)}
        assert set(mine) == set(golden["models"]), (f, set(mine))
        for var, facts in golden["models"].items():
            _assert_golden(json_facts(mine[var]), facts, f"{f}:{var}")

    # A tf-keras application Keras 3's source does not build identically: unknown, with why.
    proc = _run(iso, "summarize", "fixtures/source/transfer_densenet_tfkeras.py", "--format",
                "json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "tf_keras is not installed" in proc.stderr and "DenseNet" in proc.stderr
    for m in json.loads(proc.stdout)["models"]:
        assert m["total_params"] is None, m["name"]

    # bnlint read Keras's source without importing keras.
    check = ("import sys\nfrom bnlint.entry import main\n"
             "sys.argv = ['bnlint', 'summarize', 'fixtures/source/transfer_mobilenetv2.py']\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
             "('keras', 'tf_keras', 'tensorflow'))\nassert not bad, bad\n")
    r = subprocess.run([py, "-c", check], capture_output=True, text=True, env=iso["env"],
                       cwd=str(ROOT))
    assert r.returncode == 0, r.stderr[-2000:]
    print(f"isolated env: setup {iso['setup_s']:.1f} s, 40 applications {apps_s:.1f} s")
