"""Models holding models and layers holding layers, as the source reader sees them (issue 11).

The numbers themselves are checked against real Keras by ``test_realworld`` (goldens of
``fixtures/source/realworld``); these tests pin what bnlint says around them: a rebound model
is still reported and says where, clone/load give the same architecture, what cannot be read
is unknown with a note, layer notes reach every output format.
"""

from __future__ import annotations

import json
from pathlib import Path

from bnlint.readers.source import read_text

ROOT = Path(__file__).resolve().parent.parent


def _arch(m):
    return [(la.name, la.class_name, [(w.name, w.shape, w.trainable) for w in la.weights])
            for la in m.layers]


def test_rebound_model_is_reported_with_where() -> None:
    r = read_text(
        "import keras\n"
        "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])\n"
        "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5)])\n")
    assert [m.variable for m in r.models] == ["model", "model"]
    current, old = r.models
    assert old.layers[0].name == "dense" and current.layers[0].name == "dense_1"
    assert any("until line 3 rebound" in n for n in old.notes)
    assert not any("rebound" in n for n in current.notes)


def test_clone_model_same_architecture() -> None:
    r = read_text(
        "import keras\n"
        "base = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)], name='base')\n"
        "copy = keras.models.clone_model(base)\n")
    by = {m.variable: m for m in r.models}
    assert _arch(by["copy"]) == _arch(by["base"])
    assert by["copy"].total_params == by["base"].total_params


def test_load_model_of_saved_path_and_unknown_path() -> None:
    r = read_text(
        "import keras\n"
        "m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)])\n"
        "m.save('m.keras')\n"
        "again = keras.models.load_model('m.keras')\n"
        "other = keras.models.load_model('nowhere.keras')\n")
    by = {m.variable: m for m in r.models}
    assert _arch(by["again"]) == _arch(by["m"])
    assert "other" not in by
    assert any("nowhere.keras is not a saved model file" in n for n in r.notes)


def test_load_model_reads_a_saved_file(tmp_path: Path) -> None:
    src = ROOT / "fixtures" / "models" / "bn_center_scale.keras"
    (tmp_path / "m.keras").write_bytes(src.read_bytes())
    prog = tmp_path / "prog.py"
    prog.write_text("import keras\nm = keras.models.load_model('m.keras')\n")
    from bnlint.readers.saved import read_saved_model
    from bnlint.readers.source import read_source

    (m,) = read_source(prog).models
    saved = read_saved_model(src)
    assert _arch(m) == _arch(saved)
    assert m.total_params == saved.total_params


def test_unknown_value_in_sequential_is_not_skipped() -> None:
    r = read_text(
        "import keras\n"
        "from mystery import Thing\n"
        "model = keras.Sequential([keras.Input((16,)), Thing(), keras.layers.Dense(4)])\n")
    (m,) = r.models
    assert m.total_params is None
    assert m.layers[0].unknown is not None and "line 3" in m.layers[0].unknown


def test_unbuilt_wrapper_keeps_held_models() -> None:
    text = ("import keras\n"
            "a = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)], name='a')\n"
            "class Pair(keras.Model):\n"
            "    def __init__(self, first):\n"
            "        super().__init__()\n"
            "        self.first = first\n"
            "pair = Pair(a)\n")
    k3 = {m.variable: m for m in read_text(text).models}
    assert not k3["pair"].built
    assert k3["pair"].total_params == k3["a"].total_params  # Keras 3's summary()
    k2 = {m.variable: m for m in read_text(text, keras_version=2).models}
    assert k2["pair"].total_params is None  # tf-keras's summary() raises


def test_frozen_wrapped_layer_weights_are_non_trainable() -> None:
    for version in (2, 3):
        r = read_text(
            "import keras\n"
            "x = keras.Input((4, 8))\n"
            "inner = keras.layers.Dense(3, trainable=False)\n"
            "m = keras.Model(x, keras.layers.TimeDistributed(inner)(x))\n",
            keras_version=version)
        (m,) = r.models
        assert m.trainable_params == 0 and m.non_trainable_params == m.total_params


def test_string_lookup_vocabulary_includes_oov_and_mask() -> None:
    r = read_text(
        "import keras\n"
        "lk = keras.layers.StringLookup(vocabulary=['a', 'b'], mask_token='')\n"
        "n = len(lk.get_vocabulary())\n"
        "inp = keras.Input((3,))\n"
        "model = keras.Model(inp, keras.layers.Dense(n)(inp))\n")
    (m,) = r.models
    assert m.layers[1].weights[1].shape == (4,)  # '' + '[UNK]' + a, b


def test_adapted_vocabulary_is_a_symbol_the_user_can_define() -> None:
    text = ("import keras\n"
            "vec = keras.layers.TextVectorization(output_mode='multi_hot')\n"
            "vec.adapt(data)\n"
            "inp = keras.Input((1,), dtype='string')\n"
            "model = keras.Model(inp, keras.layers.Dense(2)(vec(inp)))\n")
    (m,) = read_text(text).models
    assert "len(vec.get_vocabulary())" in str(m.total_params)
    (m,) = read_text(text, defines={"len(vec.get_vocabulary())": "7"}).models
    assert m.total_params == 7 * 2 + 2


def test_layer_notes_are_printed(tmp_path: Path) -> None:
    from bnlint.report.structured import render_json
    from bnlint.report.text import render
    from bnlint.summary import summarize

    r = read_text(
        "import keras\n"
        "class B(keras.layers.Layer):\n"
        "    def call(self, x):\n"
        "        return mystery(x)\n"
        "inp = keras.Input((4,))\n"
        "model = keras.Model(inp, B()(inp))\n")
    (m,) = r.models
    assert m.layers[1].notes
    text = render([summarize(m)])
    assert "note: layers[1] b (line 6): output shape unknown" in text
    doc = json.loads(render_json([summarize(m)]))
    assert doc["models"][0]["layers"][1]["notes"] == m.layers[1].notes
