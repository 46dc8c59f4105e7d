"""`bnlint check` reads what a file never runs (functions never called, model subclasses never
instantiated, models made by ``main()``), snippets without imports, and Keras-2-era code
(fixtures in ``fixtures/check/uncalled/``; each has a "use instead" twin that stays silent)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bnlint.readers.source import read_source, read_text
from bnlint.readers.source.reader import version_from_code
from bnlint.readers.source.snippets import snippet_names
from bnlint.readers.source.uncalled import MAX_READINGS
from bnlint.rules.config import Settings
from bnlint.rules.engine import prefilter, run

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "fixtures" / "check" / "uncalled"

NEVER_CALLED = "(in `build_model(...)`, never called in this file, read with unknown arguments)"
NEVER_MADE = ("(in `Classifier(...)`, never instantiated in this file, read with unknown "
              "arguments on a symbolic input)")
MAIN = '(in `main()`, called under `if __name__ == "__main__":`)'

EXPECTED = {
    "library_model.py": [("BN004", 10, NEVER_CALLED), ("BN001", 11, NEVER_CALLED)],
    "uncalled_subclass.py": [("BN004", 11, NEVER_MADE), ("BN001", 12, NEVER_MADE)],
    "main_script.py": [("BN004", 16, MAIN), ("BN001", 17, MAIN)],
    "snippet.py": [("BN004", 5, None), ("BN001", 6, None)],
    # line 10's Dense(5, init=...) is tf_keras's TypeError (a Keras 1 argument): KR009 there,
    # and no BN004 on a layer that is never made
    "keras2_era.py": [("KR009", 10, None), ("BN001", 11, None)],
}
SILENT = ["library_model_ok.py", "uncalled_subclass_ok.py", "main_script_ok.py",
          "snippet_ok.py", "not_a_snippet.py", "keras2_era_ok.py"]


def check(path: Path, **settings: object) -> list:
    result = run([str(path)], Settings(**settings), jobs=1)  # type: ignore[arg-type]
    assert not result.errors and not result.internal, (result.errors, result.internal)
    return result.findings


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_expected_findings_name_their_origin(name: str) -> None:
    found = check(FIX / name)
    got = sorted((f.code, f.line) for f in found)
    assert got == sorted((c, line) for c, line, _ in EXPECTED[name])
    for f in found:
        origin = next(o for c, line, o in EXPECTED[name] if (c, line) == (f.code, f.line))
        if origin is None:
            assert not f.message.endswith(")") or "(in `" not in f.message
        else:
            assert f.message.endswith(" " + origin), f.message


@pytest.mark.parametrize("name", SILENT)
def test_use_instead_variants_are_silent(name: str) -> None:
    assert check(FIX / name) == []


def test_analyze_uncalled_false_turns_it_off(tmp_path: Path) -> None:
    for name in ("library_model.py", "uncalled_subclass.py", "main_script.py"):
        (tmp_path / name).write_text((FIX / name).read_text())
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\nanalyze-uncalled = false\n")
    from bnlint.rules.config import settings_for_dir

    settings_for_dir.cache_clear()
    assert run([str(tmp_path)], Settings(), jobs=1).findings == []
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\nanalyze-uncalled = 1\n")
    settings_for_dir.cache_clear()
    r = subprocess.run([sys.executable, "-m", "bnlint", "check", str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2 and "`analyze-uncalled` must be true or false" in r.stderr


def test_summarize_is_unchanged_by_the_uncalled_reading() -> None:
    r = read_source(FIX / "library_model.py")
    assert r.models == [] and r.uncalled == []
    assert [f.name for f in r.functions] == ["build_model"]
    r = read_text((FIX / "library_model.py").read_text(), "library_model.py", uncalled=True)
    assert r.models == [] and len(r.uncalled) == 1
    reading = r.uncalled[0]
    assert reading.line == 6 and [m.name for m in reading.models] == ["functional"]
    dense = [la for la in reading.models[0].layers if la.class_name == "Dense"][1]
    assert [str(d) for d in dense.weights[0].shape] == ["64", "num_classes"]  # a symbol
    assert [c.method for c in reading.facts.calls] == ["compile"]
    assert r.facts.calls == []  # the reading's facts are its own


def test_functions_the_module_calls_are_not_read_again(tmp_path: Path) -> None:
    text = (FIX / "library_model.py").read_text() + "\nmodel = build_model(3)\n"
    r = read_text(text, "m.py", uncalled=True)
    assert [m.variable for m in r.models] == ["model"] and r.uncalled == []
    # a builder that calls another builder covers it: read once, from the outer one
    text = (FIX / "library_model.py").read_text() + (
        "\n\ndef build_two():\n    return build_model(4), build_model(5)\n")
    r = read_text(text, "m.py", uncalled=True)
    assert [u.origin.split("`")[1] for u in r.uncalled] == ["build_two(...)"]


def test_unknown_values_keep_rules_silent(tmp_path: Path) -> None:
    # the final activation and use_bias are parameters: unknown, so BN001/BN003 (which need
    # the activation) and BN004 (which needs use_bias) stay silent
    p = tmp_path / "head.py"
    p.write_text("from tensorflow import keras\n\n\ndef build(n, final, bias):\n"
                 "    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(n, use_bias=bias),\n"
                 "        keras.layers.BatchNormalization(), keras.layers.Activation(final)])\n")
    assert [f.code for f in check(p)] == []
    # a size that is a parameter is a symbol, and BN004 holds whatever it is
    p.write_text(p.read_text().replace("use_bias=bias", "use_bias=True"))
    assert [f.code for f in check(p)] == ["BN004"]


def test_budget_is_bounded_and_deterministic(tmp_path: Path) -> None:
    body = (FIX / "library_model.py").read_text()
    parts = [body.split("\n\n\n")[0]]
    n = MAX_READINGS + 3
    for i in range(n):
        parts.append(body.split("\n\n\n")[1].replace("build_model", f"build_{i}"))
    text = "\n\n\n".join(parts)
    r1 = read_text(text, "many.py", uncalled=True)
    r2 = read_text(text, "many.py", uncalled=True)
    assert len(r1.uncalled) == MAX_READINGS
    assert [u.origin for u in r1.uncalled] == [u.origin for u in r2.uncalled]
    assert any(n.startswith("never-called code: `check` reads at most ")
               and n.endswith("; `build_0`, `build_1`, `build_2` skipped") for n in r1.notes)
    p = tmp_path / "many.py"
    p.write_text(text)
    found = check(p)
    assert len(found) == 2 * MAX_READINGS
    assert {f.message.split("(in `")[1].split("(")[0] for f in found} == {
        f"build_{i}" for i in range(3, n)}


def test_snippet_names_only_when_unbound() -> None:
    names = snippet_names((FIX / "snippet.py").read_text())
    assert names == {"Activation": "keras.layers.Activation",
                     "BatchNormalization": "keras.layers.BatchNormalization",
                     "Dense": "keras.layers.Dense", "Sequential": "keras.Sequential"}
    assert snippet_names((FIX / "not_a_snippet.py").read_text()) == {}
    assert snippet_names("from keras.layers import *\nm = Sequential([Dense(3)])\n") == {}
    assert snippet_names("Model = object\nx = Model()\n") == {}  # no Keras-only name called
    r = read_source(FIX / "snippet.py")
    assert r.notes[0].startswith("snippet: `Activation`, `BatchNormalization`, `Dense`, "
                                 "`Sequential` used without being imported or defined")
    assert [m.variable for m in r.models] == ["model"]
    assert read_source(FIX / "not_a_snippet.py").models == []


def test_snippet_files_pass_the_prefilter(tmp_path: Path) -> None:
    assert prefilter(Path("s.py"), (FIX / "snippet.py").read_bytes())
    assert not prefilter(Path("s.py"), b"import os\nprint(os.sep)\n")
    assert not prefilter(Path("s.py"), b"x.Dense(3)\n")  # qualified: not a snippet


def test_snippet_notebook(tmp_path: Path) -> None:
    import json

    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": line} for line in (FIX / "snippet.py").read_text().split("\n\n")]
    nb = {"cells": [{**c, "source": (FIX / "snippet.py").read_text()} for c in cells[:1]],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    p = tmp_path / "snippet.ipynb"
    p.write_text(json.dumps(nb))
    assert sorted(f.code for f in check(p)) == ["BN001", "BN004"]


def test_keras_version_from_the_code() -> None:
    text = (FIX / "keras2_era.py").read_text()
    version, note = version_from_code(text)
    assert version == 2
    assert note == ("keras version: Keras 2 semantics (tf_keras), since the code uses API "
                    "Keras 3 rejects: `nb_epoch=` (line 14), `init=` (line 10); "
                    "`--keras-version 3` overrides")
    for snippet in ("Convolution2D(32, 3, 3, input_shape=(1, 28, 28))",
                    "from keras.layers import merge", "from keras.engine import Layer",
                    "model.fit_generator(gen)", "keras.optimizers.Adam(lr=0.1)",
                    "Conv2D(8, 3, border_mode='same')"):
        assert version_from_code(f"import keras\n{snippet}\n")[0] == 2, snippet
    for text3 in ("import keras\nkeras.layers.Dense(3)\n", "from keras import ops\nnb_epoch=3\n",
                  "import keras\nkeras.layers.Embedding(3, output_dim=4)\n",
                  "from keras.layers import Concatenate\n", "Adam(learning_rate=0.1)\n"):
        assert version_from_code(text3) == (3, None), text3
    assert version_from_code("import tf_keras\nnb_epoch=3\n") == (2, None)
    # explicit versions win
    assert check(FIX / "keras2_era.py", keras_version=3) == []
    assert read_source(FIX / "keras2_era.py", keras_version=3).keras_version == 3


def test_check_prints_how_the_file_was_read() -> None:
    r = subprocess.run([sys.executable, "-m", "bnlint", "check", "--no-cache",
                        str(FIX / "snippet.py"), str(FIX / "keras2_era.py")],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 1
    assert "snippet.py: note: snippet: `Activation`" in r.stderr
    assert "keras2_era.py: note: keras version: Keras 2 semantics" in r.stderr


def test_a_model_nested_in_the_readings_model_is_checked_as_nested(tmp_path: Path) -> None:
    # BN003 spares a backbone that ends in BN; the inner model must not be checked as a
    # top-level model of its own (shape of tf_keras's model_subclassing_test_util.py)
    p = tmp_path / "nested.py"
    p.write_text('''from tensorflow import keras


def get_nested(input_dim, num_classes):
    inputs = keras.Input(shape=(input_dim,))

    class Inner(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(5, activation="relu")
            self.bn = keras.layers.BatchNormalization()

        def call(self, x):
            return self.bn(self.dense(x))

    x = Inner()(inputs)
    return keras.Model(inputs, keras.layers.Dense(num_classes)(x))
''')
    assert check(p) == []


def test_a_subclass_whose_call_takes_two_inputs_is_not_called(tmp_path: Path) -> None:
    p = tmp_path / "two.py"
    p.write_text("import keras\n\n\nclass Two(keras.Model):\n    def __init__(self):\n"
                 "        super().__init__()\n        self.d = keras.layers.Dense(1, "
                 "activation='softmax')\n\n    def call(self, a, b):\n        return self.d(a)\n")
    found = check(p)
    assert [f.code for f in found] == ["KR001"]  # the layer's own configuration still counts
    assert found[0].message.endswith(
        "(in `Two(...)`, never instantiated in this file, read with unknown arguments)")


def test_files_without_builders_pay_no_code_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    # 50 never-called functions that name Keras but build no model: decided on the file's text,
    # never by generating code for them, and none is evaluated
    import bnlint.readers.source.uncalled as uncalled

    text = "import keras\n\n\n" + "".join(
        f"def f{i}(x):\n    '''A Model helper.'''\n    return keras.ops.relu(x) + {i}\n\n\n"
        for i in range(50))
    generated: list = []
    evaluated: list = []
    original = uncalled.analyse_uncalled

    def spy(interp, bound, text):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(type(interp), "text", lambda self, node: generated.append(node) or "")
        real = type(interp).call_user
        monkeypatch.setattr(type(interp), "call_user",
                            lambda self, *a: evaluated.append(a[0]) or real(self, *a))
        return original(interp, bound, text)

    monkeypatch.setattr(uncalled, "analyse_uncalled", spy)
    r = read_text(text, "ops.py", uncalled=True)
    assert r.uncalled == [] and generated == [] and evaluated == []


def test_the_setting_is_part_of_the_cache_key(tmp_path: Path) -> None:
    (tmp_path / "models.py").write_text((FIX / "library_model.py").read_text())

    def run_check() -> str:
        return subprocess.run([sys.executable, "-m", "bnlint", "check", "models.py",
                               "--output-format", "concise"], capture_output=True, text=True,
                              cwd=tmp_path, timeout=120).stdout

    assert "BN001" in run_check()
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\nanalyze-uncalled = false\n")
    assert run_check() == "All checks passed!\n"
    (tmp_path / "pyproject.toml").unlink()
    assert "BN001" in run_check()
