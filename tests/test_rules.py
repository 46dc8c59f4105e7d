"""Rules on the seeds, on Keras's own applications, selection, noqa and config (no TensorFlow)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bnlint.readers.config import model_from_config
from bnlint.rules import Context, all_rules
from bnlint.rules.config import Settings, parse_settings, selected
from bnlint.rules.engine import check_context, run
from bnlint.rules.noqa import file_noqa, line_noqa, suppressed

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "fixtures"
APPS = sorted((FIX / "applications").glob("keras*/*.json.gz"))
DEFAULTS = {c: cls.default for c, cls in all_rules().items()}


def codes_at(paths: list[str], **settings) -> list[tuple[str, int | None]]:
    r = run(paths, Settings(**settings))
    return [(f.code, f.line) for f in r.findings]


def test_registry_codes_and_names() -> None:
    rules = all_rules()
    expected = {f"BN{n:03d}" for n in range(1, 15)} | {f"KR{n:03d}" for n in range(1, 10)} | {
        "BN998", "BN999"}
    assert set(rules) == expected
    assert len({cls.name for cls in rules.values()}) == len(rules)
    for cls in rules.values():
        assert cls.message and cls.why and cls.fix


@pytest.mark.parametrize("path", APPS, ids=lambda p: f"{p.parent.name}-{p.name[:-8]}")
def test_keras_applications_have_no_findings_but_true_bias_notes(path: Path) -> None:
    """Keras's own models: nothing but BN004 (a conv bias before BN, true and harmless)."""
    model = model_from_config(json.loads(gzip.decompress(path.read_bytes())), str(path))
    ctx = Context(path=str(path), kind="saved", models=[model])
    findings, problems = check_context(ctx, selected(DEFAULTS, Settings()))
    assert problems == []
    assert [f"{f.code} {f.where()}" for f in findings if f.code != "BN004"] == []


def test_applications_with_all_rules_only_report_bias_before_batchnorm() -> None:
    path = FIX / "applications" / "keras3" / "ResNet50.json.gz"
    model = model_from_config(json.loads(gzip.decompress(path.read_bytes())), str(path))
    ctx = Context(path=str(path), kind="saved", models=[model])
    findings, _ = check_context(ctx, set(all_rules()))
    assert {f.code for f in findings} == {"BN004"}  # conv with bias before BN: true, opt-in


def test_seed000_bn001_at_last_batchnorm_line_and_bn004_on_linear_dense() -> None:
    got = codes_at([str(FIX / "check" / "seed000.py")])
    assert sorted(got) == [("BN001", 18), ("BN004", 9), ("BN004", 13), ("BN004", 17)]


def test_seed000_bn004_on_the_three_linear_dense_layers_when_selected() -> None:
    got = codes_at([str(FIX / "check" / "seed000.py")], extend_select=["BN004"])
    assert sorted(got) == [("BN001", 18), ("BN004", 9), ("BN004", 13), ("BN004", 17)]


def test_seed001_relu_dense_layers_are_not_bn004() -> None:
    assert codes_at([str(FIX / "source" / "seed001_mnist_mlp.py")], select=["ALL"]) == []


def test_seed002_predict_on_untrained_model() -> None:
    got = codes_at([str(FIX / "check" / "seed002.py")])
    # Conv2D keeps its bias before the BN: BN004 is true there as well.
    assert sorted(got) == [("BN002", 17), ("BN003", 13), ("BN004", 12)]


@pytest.mark.parametrize("name", ["seed001_mnist_mlp.py", "functional_branches.py",
                                  "helper_loop.py", "shared_layers.py", "subclassed.py",
                                  "tfkeras_v2.py", "nested_model.py"])
def test_source_fixtures_without_mistakes_are_clean(name: str) -> None:
    # BN004 (a bias before BN: dead weight, severity note) is left out: these fixtures are
    # about the other rules staying silent on correct code.
    assert codes_at([str(FIX / "source" / name)], ignore=["BN004"]) == []


def test_saved_models_weights_half_of_bn002_and_bn013() -> None:
    r = run([str(FIX / "check" / "bn013_nan.keras"), str(FIX / "check" / "trained_stats.keras")],
            Settings(ignore=["BN003", "BN004"]))
    got = [(Path(f.path).name, f.code, f.config_path) for f in r.findings]
    assert sorted(got) == [("bn013_nan.keras", "BN002", "config.layers[2]"),
                           ("bn013_nan.keras", "BN013", "config.layers[1]")]


def test_notebook_locations_are_per_cell(tmp_path: Path) -> None:
    cells = [
        {"cell_type": "markdown", "source": "# title"},
        {"cell_type": "code", "source": ["import keras\n", "from keras import layers\n"]},
        {"cell_type": "code", "source": [
            "model = keras.Sequential([keras.Input((4,)), layers.Dense(2),\n",
            "    layers.BatchNormalization(),  # noqa: BN003\n",
            "    layers.Activation('softmax')])\n"]},
        {"cell_type": "code", "source": ["%matplotlib inline\n", "model.predict(x)\n"]},
    ]
    nb = tmp_path / "nb.ipynb"
    nb.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                              "nbformat_minor": 5}))
    r = run([str(nb)], Settings(ignore=["BN004"]))
    got = sorted((f.code, f.cell, f.line) for f in r.findings)
    assert got == [("BN001", 3, 2), ("BN002", 4, 2)]
    nb.write_text(nb.read_text().replace("# noqa: BN003", "# noqa: BN001"))
    got_codes = run([str(nb)], Settings(ignore=["BN004"])).findings
    assert sorted(f.code for f in got_codes) == ["BN002"]


def test_noqa_parsing() -> None:
    assert line_noqa("x = 1") is None
    assert line_noqa("x  # noqa") == "all"
    assert line_noqa("x  # noqa: BN001, KR002") == {"BN001", "KR002"}
    assert suppressed("BN001", "x  # noqa:BN001")
    assert not suppressed("BN002", "x  # noqa: BN001")
    assert suppressed("BN002", "x  # NOQA")
    assert file_noqa("import keras\n# bnlint: noqa\n")
    assert not file_noqa("x = 1  # bnlint: noqa: BN001\n")


def test_noqa_silences_exactly_that_finding(tmp_path: Path) -> None:
    src = (FIX / "check" / "seed000.py").read_text().splitlines()
    src[17] += "  # noqa: BN001"
    p = tmp_path / "s.py"
    p.write_text("\n".join(src) + "\n")
    assert codes_at([str(p)]) == [("BN004", 9), ("BN004", 13), ("BN004", 17)]
    src[17] = src[17].replace("BN001", "BN004")
    p.write_text("\n".join(src) + "\n")
    assert ("BN001", 18) in codes_at([str(p)])


def test_file_level_noqa(tmp_path: Path) -> None:
    p = tmp_path / "s.py"
    p.write_text("# bnlint: noqa\n" + (FIX / "check" / "seed000.py").read_text())
    assert codes_at([str(p)]) == []


@pytest.mark.parametrize(("select", "extend", "ignore", "expect_in", "expect_out"), [
    (None, [], [], {"BN001", "BN004", "KR001"}, set()),
    (["ALL"], [], [], {"BN004", "BN001"}, set()),
    (["BN"], [], [], {"BN004", "BN013"}, {"KR001"}),
    (["BN00"], [], [], {"BN001", "BN009"}, {"BN010", "KR001"}),
    (None, ["BN004"], [], {"BN004", "KR005"}, set()),
    (None, [], ["BN"], {"KR001"}, {"BN001", "BN002"}),
    (["BN"], [], ["BN001"], {"BN002"}, {"BN001"}),
    (["BN001"], [], ["BN"], {"BN001"}, {"BN002"}),  # the more specific prefix wins
    (["ALL"], [], ["ALL"], set(), {"BN001"}),
])
def test_selection(select, extend, ignore, expect_in, expect_out) -> None:
    on = selected(DEFAULTS, Settings(select=select, extend_select=extend, ignore=ignore))
    assert expect_in <= on
    assert not (expect_out & on)


def test_settings_parsing_and_errors() -> None:
    from bnlint.rules.config import ConfigError

    s = parse_settings({"select": ["BN"], "define": {"num_classes": 38}, "keras-version": 2,
                        "per-file-ignores": {"tests/*.py": ["BN002"]}}, None)
    assert s.define == {"num_classes": "38"} and s.keras_version == 2
    for bad in ({"select": 3}, {"keras-version": 4}, {"bogus": 1}, {"define": [1]}):
        with pytest.raises(ConfigError):
            parse_settings(bad, None)


def test_nearest_pyproject_config_define_and_per_file_ignores(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    (proj / "sub").mkdir(parents=True)
    (proj / "pyproject.toml").write_text(
        '[tool.bnlint]\nextend-select = ["BN004"]\ndefine = {num_classes = 1}\n'
        'per-file-ignores = {"sub/*.py" = ["BN001"]}\nexclude = ["skipme"]\n')
    seed = (FIX / "check" / "seed000.py").read_text()
    (proj / "a.py").write_text(seed)
    (proj / "sub" / "b.py").write_text(seed)
    (proj / "skipme").mkdir()
    (proj / "skipme" / "c.py").write_text(seed)
    r = run([str(proj)], Settings())
    by_file: dict[str, set[str]] = {}
    for f in r.findings:
        by_file.setdefault(Path(f.path).name, set()).add(f.code)
    # num_classes = 1: softmax over one unit (KR001), categorical loss on one unit (KR005)
    assert by_file == {"a.py": {"BN001", "BN004", "KR001", "KR005"},
                       "b.py": {"BN004", "KR001", "KR005"}}


def test_discovery_skips_venvs_git_and_non_keras_json(tmp_path: Path) -> None:
    seed = (FIX / "check" / "seed000.py").read_text()
    for d in (".git", "venv_x", "__pycache__", "node_modules"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "m.py").write_text(seed)
    (tmp_path / "venv_x" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "data.json").write_text('{"a": 1}')
    (tmp_path / "plain.py").write_text("print('no deep learning here')\n")
    (tmp_path / "model.json").write_text((FIX / "models" / "seed000_dnn_bn.k3.json").read_text())
    r = run([str(tmp_path)], Settings())
    assert {Path(f.path).name for f in r.findings} == {"model.json"}
    assert r.errors == [] and r.files == 1


def test_unreadable_files_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import keras\nmodel = keras.Sequential([\n")
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    (tmp_path / "good.py").write_text((FIX / "check" / "seed000.py").read_text())
    r = run([str(tmp_path)], Settings(ignore=["BN004"]))
    assert sorted((Path(p).name for p, _ in r.errors)) == ["bad.keras", "bad.py"]
    assert {(Path(f.path).name, f.code) for f in r.findings} == {
        ("bad.py", "BN999"), ("bad.keras", "BN999"), ("good.py", "BN001")}
