"""The source reader (bnlint/readers/source.py) against real Keras executing the same code.

Oracle tests run each fixture script under real Keras in a long-lived worker
subprocess (test code may execute the fixtures; bnlint never does) and compare
``keras_facts`` of every model variable with bnlint's static reading.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bnlint.readers.source import SourceError, mentions_keras, read_source, read_text

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "source"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare import assert_same_facts, bnlint_facts  # noqa: E402

# --------------------------------------------------------------------------- the oracle worker

WORKER = r'''
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, sys.argv[1])
from oracle_facts import run_program_facts
import keras, tf_keras
out = sys.stdout
for line in sys.stdin:
    req = json.loads(line)
    keras.backend.clear_session()
    tf_keras.backend.clear_session()
    if req.get("path") and os.path.dirname(req["path"]) not in sys.path:
        sys.path.insert(0, os.path.dirname(req["path"]))
    result = run_program_facts(req["text"], req.get("path"), req["version"],
                               req.get("defines", {}))
    out.write(json.dumps(result) + "\n")
    out.flush()
'''


class Oracle:
    def __init__(self) -> None:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(Path(__file__).resolve().parent)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, env=env, cwd=str(ROOT),
        )

    def run(self, text: str, version: int, defines: dict[str, Any] | None = None,
            path: str | None = None) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        req = {"text": text, "version": version, "defines": defines or {}, "path": path}
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("oracle worker died")
        return json.loads(line)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def oracle():
    importlib.import_module("keras")
    importlib.import_module("tf_keras")
    o = Oracle()
    yield o
    o.close()


def _directives(text: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    defines: dict[str, Any] = {}
    subs: list[tuple[str, str]] = []
    for line in text.splitlines():
        m = re.match(r"#\s*oracle:\s*defines=(\{.*\})\s*$", line)
        if m:
            defines = json.loads(m.group(1))
        m = re.match(r"#\s*oracle-sub:\s*(.*?)\s*=>\s*(.*)$", line)
        if m:
            subs.append((m.group(1), m.group(2)))
    return defines, subs


def _program_text(path: Path) -> str:
    if path.suffix == ".ipynb":
        from bnlint.readers.notebook import join_cells, notebook_cells

        text, _ = join_cells(notebook_cells(json.loads(path.read_text())))
        return text
    return path.read_text()


def compare_with_oracle(oracle: Oracle, result: Any, text: str, defines: dict[str, Any],
                        where: str, path: str | None = None) -> None:
    got = oracle.run(text, result.keras_version, defines, path)
    models = got["models"]
    assert models, f"{where}: the oracle built no model ({got['error']})"
    by_var: dict[str, Any] = {}
    for m in result.models:  # alternatives (unknown `if`s) come after the model as read
        by_var.setdefault(m.variable, m)
    for var, facts in models.items():
        assert var in by_var, f"{where}: bnlint did not report model `{var}`"
        if facts.get("unbuilt"):
            assert not by_var[var].built, f"{where}: `{var}` is unbuilt in Keras"
            continue
        assert "error" not in facts, f"{where}: oracle failed on `{var}`: {facts}"
        ours = bnlint_facts(by_var[var])
        assert ours["name"] == facts["name"], f"{where}: `{var}` name {ours['name']} != {facts['name']}"
        assert_same_facts(facts, ours, f"{where}:{var}")
    if got["error"] is None:
        extra = set(by_var) - set(models)
        assert not extra, f"{where}: bnlint reports models Keras does not have: {extra}"


FIXTURE_FILES = sorted(p for p in FIXTURES.glob("*") if p.suffix in (".py", ".ipynb"))


@pytest.mark.oracle
@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_fixture_matches_keras(oracle: Oracle, path: Path) -> None:
    text = _program_text(path)
    defines, subs = _directives(text)
    result = read_source(path, defines={k: repr(v) for k, v in defines.items()})
    run_text = text
    for old, new in subs:
        assert old in run_text, f"oracle-sub pattern not found: {old}"
        run_text = run_text.replace(old, new)
    compare_with_oracle(oracle, result, run_text, defines, path.name, str(path))


# --------------------------------------------------------------------------- fast tests

SEED0 = FIXTURES / "seed000_batchnorm_dnn.py"


def test_seed000_symbolic_without_define() -> None:
    r = read_source(SEED0)
    (m,) = r.models
    assert m.variable == "modelbatch" and m.location is not None and m.location.line == 8
    dense_2 = m.layer("dense_2")
    assert [str(d) for d in dense_2.weights[0].shape] == ["256", "num_classes"]
    assert isinstance(m.total_params, object) and "num_classes" in str(m.total_params)
    # The Keras total for num_classes=38 (seed 000 lists (256, 38) kernels) is 718270.
    assert m.total_params.substitute({"num_classes": 38}) == 718270


def test_seed000_define_and_references() -> None:
    r = read_source(SEED0, defines={"num_classes": "38"})
    assert r.models[0].total_params == 718270
    refs = {x.text: x.description for x in r.references}
    assert refs["modelbatch.layers[5].get_weights()[2]"] == "batch_normalization_1.moving_mean (256,)"
    assert refs["modelbatch.layers[8].get_weights()[0]"] == "dense_2.kernel (256, 38)"
    assert "modelbatch.layers[5]" not in refs  # subsumed by the full expression
    ref = next(x for x in r.references if x.text.startswith("modelbatch.layers[5]"))
    assert ref.line == 30
    calls = [(c.variable, c.method, c.line) for c in r.facts.calls]
    assert ("modelbatch", "compile", 21) in calls and ("modelbatch", "fit", 24) in calls
    compile_fact = next(c for c in r.facts.calls if c.method == "compile")
    assert compile_fact.kwargs["loss"] == "categorical_crossentropy"


def test_symbolic_total_matches_keras(oracle: Oracle) -> None:
    r = read_source(SEED0)
    got = oracle.run(SEED0.read_text(), 3, {"num_classes": 38})
    keras_total = got["models"]["modelbatch"]["total_params"]
    assert r.models[0].total_params.substitute({"num_classes": 38}) == keras_total


test_symbolic_total_matches_keras = pytest.mark.oracle(test_symbolic_total_matches_keras)


def test_seed001_indices() -> None:
    r = read_source(FIXTURES / "seed001_mnist_mlp.py")
    relu, batch = r.models
    assert len(relu.all_weights()) == 6 and len(batch.all_weights()) == 14
    assert [w.index for w in batch.all_weights() if w.name == "kernel"] == [0, 6, 12]


def test_expression_define() -> None:
    code = (
        "import keras\nclass_names = load()\n"
        "m = keras.Sequential([keras.Input((x_train.shape[1],)), keras.layers.Dense(len(class_names))])\n"
    )
    r = read_text(code)
    # The symbol is named by the expression the value came from (one symbol per value, even
    # when one name is bound to several), and a define of either text answers it.
    assert "len(load())" in str(r.models[0].total_params)
    assert "x_train.shape[1]" in str(r.models[0].total_params)
    r = read_text(code, defines={"len(class_names)": "5", "x_train.shape[1]": "7"})
    assert r.models[0].total_params == 40
    r = read_text(code, defines={"len(load())": "5", "x_train.shape[1]": "7"})
    assert r.models[0].total_params == 40


def test_safety_no_side_effects(tmp_path: Path) -> None:
    sentinel = tmp_path / "sentinel.txt"
    script = tmp_path / "evil.py"
    script.write_text(
        "import os, subprocess, shutil\n"
        f"os.system('touch {sentinel}')\n"
        f"open({str(sentinel)!r}, 'w').write('x')\n"
        f"subprocess.run(['touch', {str(sentinel)!r}])\n"
        "__import__('os').remove('/nonexistent')\n"
        "exec('import os')\n"
        "while True:\n    pass\n"
    )
    r = read_source(script)
    assert not sentinel.exists()
    assert r.models == []


def test_bounds_give_notes() -> None:
    code = "def f(n):\n    return f(n + 1)\nx = f(0)\nfor i in range(10**9):\n    y = i\n"
    r = read_text(code)
    assert any("bound" in n or "budget" in n for n in r.notes)


def test_syntax_error() -> None:
    with pytest.raises(SourceError, match=r"^line \d+: "):
        read_text("import keras\nmodel = keras.Sequential(\n  [Dense(3)\n")


def test_unreadable(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"^line 0: "):
        read_source(tmp_path / "missing.py")
    bad = tmp_path / "bin.py"
    bad.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(SourceError, match=r"^line 0: "):
        read_source(bad)


def test_mentions_keras() -> None:
    assert mentions_keras("import tensorflow as tf")
    assert mentions_keras("from tf_keras import layers")
    assert not mentions_keras("import numpy as np\nprint(1)")


def test_notebook_cells_and_locations() -> None:
    r = read_source(FIXTURES / "notebook_magic.ipynb")
    (m,) = r.models
    assert m.location is not None and m.location.cell == 4 and m.location.line == 2
    (ref,) = r.references
    assert (ref.cell, ref.line) == (5, 3)
    assert ref.description == "batch_normalization.moving_mean (16,)"


def test_functions_listed_when_no_model() -> None:
    code = (
        "import keras\n\n"
        "def make(units=32, n_out=10):\n"
        "    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units),\n"
        "                          keras.layers.Dense(n_out)])\n"
        "    return m\n"
    )
    r = read_text(code)
    assert r.models == []
    (fi,) = r.functions
    assert fi.name == "make" and fi.parameters == [("units", "32"), ("n_out", "10")]
    assert fi.line == 3


def test_function_with_args(tmp_path: Path) -> None:
    p = tmp_path / "f.py"
    p.write_text(
        "import keras\nfrom keras import layers\n"
        "def build(inp, num_classes=3, hidden=(8, 4)):\n"
        "    x = inp\n"
        "    for h in hidden:\n"
        "        x = layers.Dense(h)(x)\n"
        "    return keras.Model(inp, layers.Dense(num_classes)(x))\n"
    )
    r = read_source(p, function="build", args={"inp": "keras.Input((64,))", "num_classes": "10"})
    (m,) = r.models
    assert m.total_params == 64 * 8 + 8 + 8 * 4 + 4 + 4 * 10 + 10
    with pytest.raises(SourceError):
        read_source(p, function="nope")


def test_keras2_version_detection() -> None:
    r = read_source(FIXTURES / "tfkeras_v2.py")
    assert r.keras_version == 2
    assert [m.name for m in r.models] == ["sequential", "model"]
    assert r.models[1].layers[0].name == "input_1"
    (t,) = r.facts.trainable
    assert t.resolved == "concatenate" and t.value is False
    r3 = read_source(FIXTURES / "tfkeras_v2.py", keras_version=3)
    assert r3.keras_version == 3 and r3.models[1].name == "functional_1"


def test_import_forms() -> None:
    code = (
        "import tensorflow as tf\nimport keras.src.layers as KL\n"
        "from keras.layers import Dense as D\n"
        "from tensorflow.keras.models import Sequential\n"
        "from keras.layers.normalization import BatchNormalization\n"
        "from keras.layers.convolutional import Conv2D\n"
        "import tf_keras\n"
        "m = Sequential([tf.keras.layers.InputLayer(input_shape=(8, 8, 3)), Conv2D(4, 3),\n"
        "               tf.keras.layers.Flatten(), D(5), BatchNormalization(), KL.Dense(2)])\n"
    )
    r = read_text(code)
    assert r.keras_version == 2
    m = r.models[0]
    assert [la.class_name for la in m.layers] == [
        "Conv2D", "Flatten", "Dense", "BatchNormalization", "Dense"]
    assert m.total_params == (3 * 3 * 3 * 4 + 4) + (144 * 5 + 5) + 20 + 12


def test_unknown_branch_is_noted() -> None:
    code = (
        "import keras, sys\nm = keras.Sequential()\nm.add(keras.Input((3,)))\n"
        "if sys.argv[1] == 'big':\n    m.add(keras.layers.Dense(100))\nelse:\n"
        "    m.add(keras.layers.Dense(2))\n"
    )
    r = read_text(code)
    assert any("not known statically" in n for n in r.notes)
    assert r.models[0].notes


def test_program_facts_training_and_load() -> None:
    code = (
        "import keras\nbase = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])\n"
        "base.trainable = False\nx = keras.Input((4,))\ny = base(x, training=False)\n"
        "m = keras.Model(x, y)\nm.load_weights('w.h5')\nm.predict(data)\n"
        "m.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))\n"
    )
    r = read_text(code)
    calls = {c.method: c for c in r.facts.calls}
    assert calls["__call__"].training is False and calls["__call__"].variable == "base"
    assert calls["load_weights"].line == 7 and calls["predict"].line == 8
    assert r.facts.trainable[0].is_model and r.facts.trainable[0].line == 3
    m = next(g for g in r.models if g.variable == "m")
    assert m.trainable_params == 0 and m.non_trainable_params == 15


def test_conditional_expression_alternatives() -> None:
    code = (
        "import keras\nfrom keras import layers\ninp = keras.Input((8,))\n"
        "x = layers.Dense(16)(inp)\n"
        "x = layers.BatchNormalization()(x) if USE_BN else x\n"
        "model = keras.Model(inp, layers.Dense(2 if BINARY else 5)(x))\n"
    )
    r = read_text(code)
    assert "line 5: condition `USE_BN` is not known statically; assumed true (the else value "\
        "was not evaluated)" in r.notes
    base, no_bn, multi = r.models
    assert [m.variable for m in r.models] == ["model"] * 3
    assert base.notes[-1] == "alternative 1 of 3: condition `USE_BN` true, `BINARY` true (as read)"
    assert no_bn.notes[-1] == "alternative 2 of 3: condition `USE_BN` false"
    assert multi.notes[-1] == "alternative 3 of 3: condition `BINARY` false"
    assert [la.class_name for la in no_bn.layers] == ["InputLayer", "Dense", "Dense"]
    assert (base.total_params, no_bn.total_params, multi.total_params) == (
        8 * 16 + 16 + 64 + 16 * 2 + 2, 8 * 16 + 16 + 16 * 2 + 2, 8 * 16 + 16 + 64 + 16 * 5 + 5)
    # A known condition is evaluated as before: no note, no alternative.
    r = read_text(code, defines={"USE_BN": "False", "BINARY": "True"})
    (m,) = r.models
    assert not r.notes and m.total_params == 8 * 16 + 16 + 16 * 2 + 2


def test_conditional_expression_alternatives_are_bounded() -> None:
    from bnlint.readers.source import MAX_ALTERNATIVES

    lines = ["import keras", "m = keras.Sequential([keras.Input((3,))])"]
    lines += [f"m.add(keras.layers.Dense({i + 1} if C{i} else {i + 20}))" for i in range(8)]
    r = read_text("\n".join(lines) + "\n")
    assert len(r.models) == MAX_ALTERNATIVES + 1
    assert sum("not known statically" in n for n in r.notes) == 8


def test_layers_created_in_call_keras3_state_error() -> None:
    code = (
        "import keras\nL = keras.layers\n"
        "class Head(keras.Model):\n"
        "    def __init__(self):\n        super().__init__()\n        self.a = L.Dense(5)\n"
        "    def call(self, x):\n        self.d = L.Dense(3)\n        return self.d(self.a(x))\n"
        "class Gate(L.Layer):\n"
        "    def call(self, x):\n        self.g = self.add_weight(shape=(1,))\n"
        "        return x * self.g\n"
        "m = Head()\ny = m(keras.Input((4,)))\n"
        "i = keras.Input((4,))\nf = keras.Model(i, Gate()(i))\n"
    )
    r = read_text(code)
    m, f = r.models
    assert m.total_params is None and f.total_params is None
    assert "Keras 3 raises ValueError" in (m.layers[1].unknown or "")
    assert "Keras 3 raises ValueError" in (f.layers[1].unknown or "")
    assert any(n.startswith("line 8: `self.d = L.Dense(3)`: Keras 3 raises") for n in r.notes)
    # tf_keras tracks a layer assigned in call(), named from the call's scratch graph.
    r2 = read_text(code.replace("import keras\n", "import tf_keras as keras\n"))
    m2 = r2.models[0]
    assert [la.name for la in m2.layers] == ["dense", "dense"] and m2.total_params == 43


def test_model_own_weights_in_keras_order() -> None:
    """self.add_weight on a Model subclass: the model's own variables (trainable first) stand
    before its layers' weights in Keras 3 and after them in tf-keras, and count in the totals
    (the fixture subclassed_model_own_weights*.py checks the same against real Keras)."""
    code = (
        "import keras\n"
        "class Scaled(keras.Model):\n"
        "    def __init__(self):\n        super().__init__()\n        self.a = keras.layers.Dense(5)\n"
        "        self.s = self.add_weight(name='s', shape=(2,), trainable=False)\n"
        "    def build(self, input_shape):\n"
        "        self.w = self.add_weight(name='w', shape=(input_shape[-1],))\n"
        "    def call(self, x):\n        return self.a(x) * self.w[0]\n"
        "m = Scaled()\ny = m(keras.Input((4,)))\n"
    )
    (m,) = read_text(code).models
    assert [(w.name, w.index, w.trainable) for w in m.weights] == [
        ("w", 0, True), ("s", 1, False)]
    assert [w.name for w in m.all_weights()] == ["w", "s", "kernel", "bias"]
    assert (m.total_params, m.non_trainable_params) == (4 + 2 + 25, 2)
    (m2,) = read_text(code.replace("import keras\n", "import tf_keras as keras\n")).models
    assert [(w.name, w.index) for w in m2.all_weights()] == [
        ("kernel", 0), ("bias", 1), ("w", 2), ("s", 3)]


METHODS = (
    "import keras\n\n"
    "class Factory:\n"
    "    def __init__(self, width=8):\n        self.width = width\n\n"
    "    def build(self, n_in=4, n_out=2):\n"
    "        return keras.Sequential([keras.Input((n_in,)), keras.layers.Dense(self.width),\n"
    "                                 keras.layers.Dense(n_out)])\n\n"
    "    @staticmethod\n"
    "    def tiny(n_in):\n"
    "        return keras.Sequential([keras.Input((n_in,)), keras.layers.Dense(1)])\n\n"
    "    @classmethod\n"
    "    def wide(cls, n_in=4):\n"
    "        return cls(width=64).build(n_in)\n\n"
    "class NeedsArgs:\n"
    "    def __init__(self, units):\n        self.units = units\n\n"
    "    def make(self):\n"
    "        return keras.Sequential([keras.Input((3,)), keras.layers.Dense(self.units)])\n"
)


def test_class_method_targets(tmp_path: Path) -> None:
    p = tmp_path / "factory.py"
    p.write_text(METHODS)
    r = read_source(p)
    assert [(f.name, f.parameters) for f in r.functions] == [
        ("Factory.build", [("n_in", "4"), ("n_out", "2")]), ("Factory.tiny", [("n_in", None)]),
        ("NeedsArgs.make", [])]
    (m,) = read_source(p, function="Factory.build", args={"n_out": "3"}).models
    assert m.variable == "Factory.build" and m.total_params == 4 * 8 + 8 + 8 * 3 + 3
    (m,) = read_source(p, function="Factory.tiny", args={"n_in": "6"}).models
    assert m.total_params == 7
    (m,) = read_source(p, function="Factory.wide").models
    assert m.total_params == 4 * 64 + 64 + 64 * 2 + 2
    with pytest.raises(SourceError, match="`__init__` has no default for `units`"):
        read_source(p, function="NeedsArgs.make")
    with pytest.raises(SourceError, match="class `Factory` has no method `nope`"):
        read_source(p, function="Factory.nope")
    with pytest.raises(SourceError, match="no top-level class `Nope`"):
        read_source(p, function="Nope.build")


def test_class_method_target_cli(tmp_path: Path) -> None:
    p = tmp_path / "factory.py"
    p.write_text(METHODS)

    def cli(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bnlint", "summarize", *argv],
                              capture_output=True, text=True, cwd=str(ROOT), timeout=120)

    out = cli(str(p))
    assert out.returncode == 0, out.stderr
    assert "line 7: Factory.build(n_in=4, n_out=2)" in out.stdout
    assert f"bnlint summarize '{p}::Factory.tiny' --arg n_in=..." in out.stdout
    out = cli(f"{p}::Factory.build", "--arg", "n_in=10", "--format", "json")
    assert out.returncode == 0, out.stderr
    (model,) = json.loads(out.stdout)["models"]
    assert model["variable"] == "Factory.build" and model["total_params"] == 10 * 8 + 8 + 18
    out = cli(f"{p}::NeedsArgs.make")
    assert out.returncode == 2 and "no default for `units`" in out.stderr


# --------------------------------------------------------------------------- hypothesis

import hypothesis  # noqa: E402,F401
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_LAYER_SPECS = st.one_of(
    st.tuples(st.just("Dense"), st.integers(1, 12)),
    st.tuples(st.just("BatchNormalization"), st.sampled_from([True, False])),
    st.tuples(st.just("Dropout"), st.just(0.1)),
    st.tuples(st.just("Activation"), st.sampled_from(["relu", "tanh"])),
)


def _layer_code(spec: tuple, prefix: str) -> str:
    kind, arg = spec
    if kind == "Dense":
        return f"{prefix}Dense({arg})"
    if kind == "BatchNormalization":
        return f"{prefix}BatchNormalization(center={arg})"
    if kind == "Dropout":
        return f"{prefix}Dropout({arg})"
    return f"{prefix}Activation({arg!r})"


@st.composite
def programs(draw) -> tuple[str, int]:
    version = draw(st.sampled_from([3, 3, 2]))
    mod = "keras" if version == 3 else "tf_keras"
    style = draw(st.sampled_from(["seq_list", "seq_add", "functional", "helper_loop"]))
    n_in = draw(st.integers(1, 9))
    specs = draw(st.lists(_LAYER_SPECS, min_size=1, max_size=5))
    lines = [f"import {mod} as keras", "from keras_mod_layers import *".replace(
        "keras_mod_layers", f"{mod}.layers"), f"N_IN = {n_in}"]
    if style == "seq_list":
        body = ", ".join(_layer_code(s, "") for s in specs)
        first = draw(st.sampled_from(["input_shape", "input_dim", "Input"]))
        if first == "Input":
            lines.append(f"model = keras.Sequential([keras.Input(shape=(N_IN,)), {body}])")
        elif first == "input_dim":
            lines.append(f"model = keras.Sequential([Dense(4, input_dim=N_IN), {body}])")
        else:
            lines.append(f"model = keras.Sequential([Dense(4, input_shape=(N_IN,)), {body}])")
    elif style == "seq_add":
        lines.append("model = keras.Sequential()")
        lines.append("model.add(Dense(N_IN * 2, input_shape=(N_IN,)))")
        for s in specs:
            lines.append(f"model.add({_layer_code(s, '')})")
    elif style == "functional":
        lines.append("inp = keras.Input((N_IN,))")
        lines.append("x = inp")
        for s in specs:
            lines.append(f"x = {_layer_code(s, '')}(x)")
        merge = draw(st.booleans())
        if merge:
            lines.append("y = Dense(3)(inp)")
            lines.append("x = concatenate([Dense(3)(x), y])")
        lines.append("model = keras.Model(inputs=inp, outputs=x)")
    else:
        widths = draw(st.lists(st.integers(1, 10), min_size=1, max_size=4))
        lines += [
            "def block(x, units, bn=True):",
            "    x = Dense(units)(x)",
            "    if bn:",
            "        x = BatchNormalization()(x)",
            "    return Activation('relu')(x)",
            "",
            f"def build(widths={widths!r}, n_out=2):",
            "    inp = keras.Input(shape=(N_IN,))",
            "    x = inp",
            "    for i, w in enumerate(widths):",
            "        x = block(x, w, bn=i % 2 == 0)",
            "    return keras.Model(inp, Dense(n_out)(x))",
            "",
            "model = build()",
            "other = keras.Sequential([keras.Input((N_IN,)), Dense(2)])",
        ]
    return "\n".join(lines) + "\n", version


@pytest.mark.oracle
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(prog=programs())
def test_generated_programs_match_keras(oracle: Oracle, prog: tuple[str, int]) -> None:
    text, version = prog
    result = read_text(text, "<generated>")
    assert result.keras_version == version
    compare_with_oracle(oracle, result, text, {}, "generated program:\n" + text)


# --------------------------------------------------------------------------- real-world sweep


def test_generator_function_body_is_not_run() -> None:
    # calling a generator function runs none of its body: a data generator's endless loop
    # must not spend the step budget before the model is built
    code = (
        "import keras\n"
        "def batches(rows, size=8):\n"
        "    while 1:\n"
        "        for start in range(0, len(rows), size):\n"
        "            yield rows[start:start + size]\n"
        "feed = batches(load_rows())\n"
        "net = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4)])\n"
    )
    r = read_text(code)
    assert [m.variable for m in r.models] == ["net"] and r.models[0].total_params == 28
    assert not any("budget" in n or "bound" in n for n in r.notes), r.notes


def test_endless_while_true_is_evaluated_once() -> None:
    code = (
        "import keras\n"
        "net = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)])\n"
        "mode = 0\n"
        "while True:\n"
        "    if sensor.read() > 3:\n"
        "        mode = 1\n"
        "    for k in range(3):\n"
        "        if k == 2:\n"
        "            break\n"
    )
    r = read_text(code)
    assert r.models[0].total_params == 12
    assert any("never ends" in n for n in r.notes), r.notes
    assert not any("budget" in n or "bound" in n for n in r.notes), r.notes
    assert sum("uncertain" in n for n in r.models[0].notes) == 1  # not once per iteration
    # a loop that can leave (break/return/raise) is still iterated as written
    r = read_text("i = 0\nwhile True:\n    i += 1\n    if i == 3:\n        break\n")
    assert not any("never ends" in n for n in r.notes), r.notes


def test_sequential_input_shape_not_known_is_unknown_not_unbuilt() -> None:
    # `input_shape=` given but not readable: Keras builds the model, so its layers are
    # unknown (with a reason), not "0 (unbuilt)"
    code = (
        "import keras\nshape = probe()\n"
        "net = keras.Sequential()\n"
        "net.add(keras.layers.Dense(3, input_shape=shape))\n"
        "net.add(keras.layers.BatchNormalization())\n"
    )
    (m,) = read_text(code).models
    assert m.total_params is None
    assert all(la.built and la.params is None and la.unknown for la in m.layers), m.layers


def test_unbuilt_sequential_gets_a_note() -> None:
    code = "import keras\nnet = keras.Sequential([keras.layers.Embedding(20, 4)])\n"
    r = read_text(code)
    assert any("`net`" in n and "unbuilt" in n for n in r.notes), r.notes


def test_parenthesized_expression_define() -> None:
    code = (
        "import keras\nimport numpy as np\nX = np.array(load()).reshape(-1, 48, 1)\n"
        "net = keras.Sequential([keras.layers.Dense(3, input_shape=(X.shape[1:]))])\n"
    )
    (m,) = read_text(code, defines={"X.shape[1:]": "(48, 1)"}).models
    assert m.total_params == 6 and m.layers[0].weights[0].shape == (1, 3)


@pytest.mark.oracle
def test_sequential_of_sequentials_is_built(oracle: Oracle) -> None:
    # a Sequential whose first layer is a built Sequential is built on its input (Keras 3
    # `_maybe_rebuild`); the nested model builds its graph lazily in bnlint
    code = (
        "import keras\n"
        "gen = keras.Sequential([keras.layers.Dense(12, input_shape=[5]),\n"
        "                        keras.layers.Reshape([3, 4]), keras.layers.BatchNormalization()])\n"
        "disc = keras.Sequential([keras.layers.Flatten(input_shape=[3, 4]),\n"
        "                         keras.layers.Dense(1)])\n"
        "disc.trainable = False\n"
        "both = keras.Sequential([gen, disc])\n"
    )
    r = read_text(code)
    assert r.models[-1].variable == "both" and r.models[-1].total_params == 72 + 16 + 13
    compare_with_oracle(oracle, r, code, {}, "sequential-of-sequentials")


def test_type_of_a_known_value_is_decided() -> None:
    """`type(h) is not tuple` on a known int is False/True like Python, so no alternative
    is reported for a branch Python never takes."""
    code = ("import keras\nh = 128\nif type(h) is not tuple:\n    h = (h,)\n"
            "if type(h) is tuple and type(len(h)) is int:\n    pass\n"
            "m = keras.Sequential([keras.Input((4,)), *[keras.layers.Dense(u) for u in h]])\n")
    r = read_text(code)
    assert [m.total_params for m in r.models] == [4 * 128 + 128]
    assert not any("not known statically" in n for n in r.notes), r.notes


def test_inputless_sequential_called_on_unknown_shape() -> None:
    """Keras builds an input-less Sequential (and the custom layers in it, each holding its own
    input-less Sequential) on its first call: when bnlint does not know the input's shape, the
    layers' parameters are unknown, never 0 (unbuilt); the custom layer's unknown output is
    noted with its line."""
    code = (
        "import keras\nfrom keras import layers\n"
        "class Gray(layers.Layer):\n"
        "    def call(self, x):\n"
        "        return keras.ops.image.rgb_to_grayscale(x)\n"
        "class Mixer(layers.Layer):\n"
        "    def __init__(self, n, **kw):\n"
        "        super().__init__(**kw)\n"
        "        self.mlp = keras.Sequential([layers.Dense(n)])\n"
        "    def call(self, x):\n"
        "        return x + self.mlp(x)\n"
        "blocks = keras.Sequential([Mixer(4), Mixer(4)])\n"
        "inp = keras.Input((8, 8, 3))\n"
        "model = keras.Model(inp, blocks(layers.Dense(4)(Gray()(inp))))\n"
    )
    r = read_text(code)
    seq = next(m for m in r.models if m.variable == "blocks")
    assert seq.total_params is None
    assert [la.params for la in seq.layers] == [None, None]
    assert all(la.unknown for la in seq.layers)
    assert any(n.startswith("line 14: `gray` (Gray): output shape unknown") and
               "line 5: `keras.ops.image.rgb_to_grayscale(x)`" in n for n in r.notes)
    assert not any("Keras counts 0 parameters" in n for n in r.notes)


@pytest.mark.parametrize("version", [2, 3])
def test_custom_call_read_past_its_allowance_is_unknown(version: int) -> None:
    """A custom layer's call() that takes more than CUSTOM_CALL_STEPS steps to read is not read
    further: the sublayer it would have built stays unbuilt, so the layer is unknown with the
    line of its call(), even though compute_output_shape gives the output's shape; the layers
    after it keep their own counts."""
    code = (
        "from tensorflow import keras\nfrom tensorflow.keras import layers\n"
        "class Slow(layers.Layer):\n"
        "    def __init__(self, units, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        "        self.units = units\n"
        "        self.act = layers.Activation('relu')\n"
        "        self.dense = layers.Dense(units)\n"
        "    def call(self, x):\n"
        "        for _ in range(4000):\n"
        "            x = self.act(x)\n"
        "        return self.dense(x)\n"
        "    def compute_output_shape(self, input_shape):\n"
        "        return input_shape[:-1] + (self.units,)\n"
        "inp = keras.Input((6,))\n"
        "m = keras.Model(inp, layers.Dense(2)(Slow(3)(inp)))\n"
    )
    (m,) = read_text(code, keras_version=version).models
    slow = next(la for la in m.layers if la.name == "slow")
    assert slow.params is None and slow.unknown
    if version == 2:  # Keras 3 takes the shape from compute_output_shape and runs call() only
        # to build: the sublayer it does not reach is what is unknown there
        assert "line 9: reading `Slow.call` takes more than" in slow.unknown
        assert slow.unknown.endswith("` is not built")
    else:
        assert "dense_1" in slow.unknown
    assert m.total_params is None and m.layers[-1].params == 8

def test_numpy_literal_array_shape_not_elements() -> None:
    # np.array of literal data: its shape and len() are known; an element is a NumPy scalar
    # (np.int64), which Keras 3 rejects as `units` ("expected a positive integer"), so it is
    # never read as a Python int.
    code = (
        "import numpy as np\nimport keras\nM = np.array([[6, 7, 8], [3, 4, 5]])\n"
        "inp = keras.Input((8,))\n"
        "a = keras.Model(inp, keras.layers.Dense(len(M[0]) * M.shape[0])(inp))\n"
        "b = keras.Model(inp, keras.layers.Dense(M[1][2] + 1)(inp))\n"
    )
    a, b = read_text(code, keras_version=3).models
    assert a.total_params == 8 * 6 + 6
    assert not isinstance(b.total_params, int)


def test_pythonpath_package_reexporting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A layer library on PYTHONPATH whose __init__ only re-exports (`from .layers import *`,
    # no mention of Keras) is read like an installed one; an import bnlint does not find at
    # all leaves a note naming it where its names are called.
    from bnlint.readers.source import imports

    lib = tmp_path / "site" / "mylayers"
    lib.mkdir(parents=True)
    (lib / "__init__.py").write_text("from .layers import *\n")
    (lib / "layers.py").write_text(
        "from tensorflow import keras\n\n"
        "def block(x, units):\n    return keras.layers.Dense(units, name='blk')(x)\n")
    prog = tmp_path / "proj" / "net.py"
    prog.parent.mkdir()
    prog.write_text(
        "import keras\nfrom mylayers import block\nfrom notthere import Thing\n"
        "inp = keras.Input((4,))\nm = keras.Model(inp, block(inp, 3))\n"
        "m2 = keras.Model(inp, Thing(2)(inp))\nimport tracker\ntracker.init(project='x')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "site"))
    monkeypatch.setattr(imports, "_SITE", None)
    monkeypatch.setattr(imports, "_INSTALLED", {})
    r = read_source(prog)
    m, m2 = r.models
    assert m.total_params == 15 and m.layers[-1].name == "blk"
    assert m2.total_params is None
    assert any("line 6" in n and "notthere" in n for n in r.notes), r.notes
    assert not any("tracker" in n for n in r.notes)  # a helper never given tensors: no note
