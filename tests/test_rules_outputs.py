"""KR006-KR008, BN014, BN004 through inference-identity layers, the shared loss recognition,
and every rule document's stated default selection (no TensorFlow)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bnlint.rules import all_rules
from bnlint.rules.config import Settings, selected
from bnlint.rules.docs import all_docs
from bnlint.rules.engine import run

RULES = all_rules()
HEAD = "import keras\nimport tensorflow as tf\nfrom keras import layers, ops\n"


def found(tmp_path: Path, body: str, select: list[str] | None = None,
          ) -> list[tuple[str, int | None]]:
    p = tmp_path / "m.py"
    p.write_text(HEAD + body, "utf-8")
    r = run([str(p)], Settings(select=select or ["ALL"]))
    return sorted((f.code, f.line) for f in r.findings)


# ------------------------------------------------------------------ item 5: default selection
_STATED = re.compile(r"^(Not selected|Selected) by default\b", re.MULTILINE)


def test_every_rule_document_states_its_default_selection_as_the_registry_has_it() -> None:
    defaults = {c: cls.default for c, cls in RULES.items()}
    on = selected(defaults, Settings())
    for code, text in all_docs().items():
        intro = text.split("## What it does", 1)[0]
        stated = _STATED.findall(intro)
        assert len(stated) == 1, f"{code}: state the default selection once, before the sections"
        assert (stated[0] == "Selected") == (code in on), (code, stated[0])
        # and nowhere else a contradicting sentence
        others = re.findall(r"(not selected|selected|enabled|disabled|off|on) by default",
                            text.split("## What it does", 1)[1], re.I)
        assert not others, (code, others)


def test_bn004_document_says_it_is_selected_by_default() -> None:
    assert RULES["BN004"].default is True
    assert "Selected by default" in all_docs()["BN004"]
    assert "Not selected" not in all_docs()["BN004"]


# ------------------------------------------------------------------ shared loss recognition
_SOFTMAX3 = 'm = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])\n'
_MSE_SPELLINGS = [
    'm.compile(optimizer="adam", loss="mse")',
    'm.compile(optimizer="adam", loss="mean_squared_error")',
    'm.compile(optimizer="adam", loss=keras.losses.MeanSquaredError())',
    'm.compile(optimizer="adam", loss=keras.losses.mean_squared_error)',
    'm.compile(optimizer="adam", loss=tf.keras.losses.MSE)',
    'm.compile(optimizer="adam", loss=tf.keras.losses.MeanSquaredError(reduction="sum"))',
    'm.compile("adam", "mse")',
    'm.compile(keras.optimizers.SGD(0.1), keras.losses.MeanSquaredError())',
    'm.compile(optimizer="adam", loss=lambda t, p: ops.mean(ops.square(p - t)))',
    'm.compile(optimizer="adam", loss=my_loss)',
    'loss_fn = keras.losses.MeanSquaredError()\nm.compile(optimizer="adam", loss=loss_fn)',
]
_MY_LOSS = "def my_loss(y_true, y_pred):\n    return ops.mean(ops.square(y_pred - y_true))\n"


@pytest.mark.parametrize("compile_line", _MSE_SPELLINGS)
def test_every_spelling_of_mse_is_recognised(compile_line: str, tmp_path: Path) -> None:
    got = found(tmp_path, _MY_LOSS + _SOFTMAX3 + compile_line + "\n", ["KR"])
    assert [c for c, _ in got] == ["KR006"], got


_CCE_SPELLINGS = [
    ('"categorical_crossentropy"', False),
    ("keras.losses.categorical_crossentropy", False),
    ("tf.keras.losses.categorical_crossentropy", False),
    ("keras.losses.CategoricalCrossentropy()", False),
    ("tf.keras.losses.CategoricalCrossentropy(from_logits=True)", True),
    ("wrapped", False),
    ("wrapped_logits", True),
    ("lambda t, p: keras.losses.categorical_crossentropy(t, p, from_logits=True)", True),
]
_WRAPPED = ("def wrapped(y_true, y_pred):\n"
            "    return keras.losses.categorical_crossentropy(y_true, y_pred) * 2.0\n"
            "def wrapped_logits(y_true, y_pred):\n"
            "    return keras.losses.CategoricalCrossentropy(from_logits=True)(y_true, y_pred)\n")


@pytest.mark.parametrize(("loss", "logits"), _CCE_SPELLINGS)
def test_every_loss_rule_sees_every_spelling_of_cross_entropy(loss: str, logits: bool,
                                                              tmp_path: Path) -> None:
    # KR002 (logits on softmax), KR003 (probabilities on linear), KR005 (single unit),
    # KR008 (probabilities on relu): each fires on the spelling that fits it.
    models = {
        "KR002": 'layers.Dense(3, activation="softmax")',
        "KR003": "layers.Dense(3)",
        "KR005": 'layers.Dense(1, activation="sigmoid")',
        "KR008": 'layers.Dense(3, activation="relu")',
    }
    for code, layer in models.items():
        body = (_WRAPPED + f"m = keras.Sequential([keras.Input((4,)), {layer}])\n"
                f"m.compile(optimizer='adam', loss={loss})\n")
        got = [c for c, _ in found(tmp_path, body, ["KR"])]
        fires = {"KR002": logits, "KR003": not logits, "KR005": True, "KR008": not logits}[code]
        assert (code in got) == fires, (code, loss, got)


def test_bce_spellings_reach_kr004(tmp_path: Path) -> None:
    for loss in ('"binary_crossentropy"', "keras.losses.BinaryCrossentropy()",
                 "tf.keras.losses.binary_crossentropy"):
        got = found(tmp_path, _SOFTMAX3 + f"m.compile('adam', {loss})\n", ["KR"])
        assert [c for c, _ in got] == ["KR004"], (loss, got)


def test_unknown_or_mixed_losses_stay_silent(tmp_path: Path) -> None:
    body = ("def mixed(t, p):\n"
            "    return keras.losses.mse(t, p) + keras.losses.categorical_crossentropy(t, p)\n"
            + _SOFTMAX3 + "m.compile(optimizer='adam', loss=mixed)\n"
            "m.compile(optimizer='adam', loss=some_module.custom_loss)\n"
            "m.compile(optimizer='adam', loss=keras.losses.KLDivergence())\n")
    assert found(tmp_path, body, ["KR"]) == []


# ------------------------------------------------------------------ KR006
def test_kr006_sigmoid_needs_classification_metrics(tmp_path: Path) -> None:
    model = 'm = keras.Sequential([keras.Input((4,)), layers.Dense(1, activation="sigmoid")])\n'
    assert found(tmp_path, model + "m.compile('adam', 'mse', metrics=['mae'])\n") == []
    assert found(tmp_path, model + "m.compile('adam', 'mse')\n") == []
    for metric in ("'accuracy'", "'acc'", "keras.metrics.AUC()", "'binary_accuracy'",
                   "tf.keras.metrics.Precision()"):
        got = found(tmp_path, model + f"m.compile('adam', 'huber', metrics=[{metric}])\n")
        assert got == [("KR006", 5)], (metric, got)


def test_kr006_regression_model_with_linear_output_is_fine(tmp_path: Path) -> None:
    body = ('m = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"), '
            'layers.Dense(3)])\nm.compile(optimizer="adam", loss="mse", metrics=["mae"])\n')
    assert found(tmp_path, body) == []


# ------------------------------------------------------------------ KR007
@pytest.mark.parametrize(("src", "fires"), [
    ('layers.Dense(3, activation="relu")', True),
    ('layers.Dense(3, activation="softplus")', True),
    ("layers.Dense(3), layers.ReLU()", True),
    ("layers.Dense(3), layers.ReLU(max_value=6)", True),
    ("layers.Dense(3), layers.ReLU(negative_slope=0.1)", False),
    ("layers.Dense(3), layers.LeakyReLU()", False),
    ('layers.Dense(3, activation="tanh")', False),
    ("layers.Dense(3)", False),
])
def test_kr007_activations(src: str, fires: bool, tmp_path: Path) -> None:
    body = f'm = keras.Sequential([keras.Input((4,)), {src}, layers.Activation("softmax")])\n'
    got = [c for c, _ in found(tmp_path, body)]
    assert got == (["KR007"] if fires else []), (src, got)


# ------------------------------------------------------------------ KR008
def test_kr008_leaves_plain_linear_output_to_kr003(tmp_path: Path) -> None:
    body = ('m = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dropout(0.1)])\n'
            'm.compile(optimizer="adam", loss="categorical_crossentropy")\n')
    assert [c for c, _ in found(tmp_path, body)] == ["KR003"]


def test_kr008_silent_with_from_logits(tmp_path: Path) -> None:
    body = ('m = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="relu")])\n'
            'm.compile("adam", keras.losses.CategoricalCrossentropy(from_logits=True))\n')
    assert found(tmp_path, body, ["KR008"]) == []


# ------------------------------------------------------------------ BN014
_CONV_BN1 = ('m = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3, '
             'use_bias=False), layers.BatchNormalization(axis=1), layers.Flatten(), '
             'layers.Dense(1)])\n')


def test_bn014_assumes_channels_last_and_says_so(tmp_path: Path) -> None:
    p = tmp_path / "m.py"
    p.write_text(HEAD + _CONV_BN1, "utf-8")
    r = run([str(p)], Settings(select=["BN014"]))
    assert [(f.code, f.line) for f in r.findings] == [("BN014", 4)]
    assert "channels_last\" assumed" in r.findings[0].message


def test_bn014_silent_when_the_file_sets_the_layout(tmp_path: Path) -> None:
    body = 'keras.backend.set_image_data_format("channels_first")\n' + _CONV_BN1
    assert found(tmp_path, body, ["BN014"]) == []


def test_bn014_and_bn007_split_stated_and_default_layouts(tmp_path: Path) -> None:
    stated = _CONV_BN1.replace("use_bias=False", 'use_bias=False, data_format="channels_last"')
    assert [c for c, _ in found(tmp_path, stated, ["BN007", "BN014"])] == ["BN007"]
    assert [c for c, _ in found(tmp_path, _CONV_BN1, ["BN007", "BN014"])] == ["BN014"]


def test_bn014_dense_features_are_not_judged(tmp_path: Path) -> None:
    body = ('m = keras.Sequential([keras.Input((10, 4)), layers.Dense(8, use_bias=False), '
            'layers.BatchNormalization(axis=1)])\n')
    assert found(tmp_path, body, ["BN014"]) == []


# ------------------------------------------------------------------ BN004 through identities
@pytest.mark.parametrize(("between", "fires"), [
    ("layers.Dropout(0.3)", True),
    ("layers.SpatialDropout2D(0.2)", True),
    ("layers.GaussianNoise(0.1)", True),
    ('layers.Activation("linear")', True),
    ("layers.Dropout(0.1), layers.Activation('linear')", True),
    ('layers.Activation("relu")', False),
    ("layers.MaxPooling2D()", False),
])
def test_bn004_through_inference_identity_layers(between: str, fires: bool,
                                                 tmp_path: Path) -> None:
    body = ('m = keras.Sequential([keras.Input((28, 28, 3)), layers.Conv2D(8, 3), '
            f"{between}, layers.BatchNormalization(), layers.Flatten(), layers.Dense(1)])\n")
    got = [c for c, _ in found(tmp_path, body, ["BN004"])]
    assert got == (["BN004"] if fires else []), (between, got)


def test_bn004_through_flatten_on_features(tmp_path: Path) -> None:
    body = ('m = keras.Sequential([keras.Input((28, 28, 3)), layers.Conv2D(8, 3), '
            "layers.Flatten(), layers.BatchNormalization(), layers.Dense(1)])\n")
    assert [c for c, _ in found(tmp_path, body, ["BN004"])] == ["BN004"]


def test_bn004_not_when_the_identity_layer_has_other_users(tmp_path: Path) -> None:
    body = ("i = keras.Input((16,))\nx = layers.Dense(8)(i)\nd = layers.Dropout(0.2)(x)\n"
            "b = layers.BatchNormalization()(d)\no = layers.Concatenate()([b, d])\n"
            "m = keras.Model(i, o)\n")
    assert found(tmp_path, body, ["BN004"]) == []


# ------------------------------------------------------------------ the buggy-programs corpus
def test_buggy_corpus_manifest_and_figures() -> None:
    import importlib.util
    import json

    root = Path(__file__).resolve().parents[1] / "benchmarks" / "buggy"
    manifest = json.loads((root / "manifest.json").read_text("utf-8"))
    assert len(manifest["cases"]) >= 25
    for case in manifest["cases"]:
        assert case["source"].startswith("https://"), case
        assert (root / case["case"]).is_file() and (root / case["fixed"]).is_file(), case
        assert case["expected"] and all(e["code"] in RULES for e in case["expected"]), case
    spec = importlib.util.spec_from_file_location("measure", root / "measure.py")
    measure = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(measure)
    per_rule, notes, _ = measure.measure()
    tp = sum(c["tp"] for c in per_rule.values())
    fn = sum(c["fn"] for c in per_rule.values())
    wrong = sum(c["fp"] + c["fp_fixed"] for c in per_rule.values())
    assert tp / (tp + fn) >= 0.85, notes
    assert wrong == 0, notes


def test_kr006_leaves_sigmoid_reconstructions_alone(tmp_path: Path) -> None:
    body = ('ae = keras.Sequential([keras.Input((784,)), layers.Dense(32, activation="relu"), '
            'layers.Dense(784, activation="sigmoid")])\n'
            'ae.compile(optimizer="adam", loss="mse", metrics=["accuracy"])\n')
    assert found(tmp_path, body) == []


@pytest.mark.parametrize(("act", "fires"), [("relu", True), ("softplus", True),
                                            ("tanh", False), ("linear", False)])
def test_kr007_relu_output_with_logits_loss(act: str, fires: bool, tmp_path: Path) -> None:
    body = (f'm = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="{act}")])\n'
            'm.compile("adam", keras.losses.CategoricalCrossentropy(from_logits=True))\n')
    got = found(tmp_path, body)
    assert got == ([("KR007", 5)] if fires else []), (act, got)


def test_loss_info_every_alias_in_every_spelling() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    from bnlint.rules.lossinfo import CLASSIFICATION, KINDS, loss_info

    prefixes = st.sampled_from(["", "keras.losses.", "tf.keras.losses.",
                                "tensorflow.keras.losses.", "losses."])
    logits = st.sampled_from([None, True, False])

    @given(alias=st.sampled_from(sorted(KINDS)), prefix=prefixes, flag=logits,
           upper=st.booleans())
    def check(alias: str, prefix: str, flag: bool | None, upper: bool) -> None:
        name = alias.upper() if upper else alias
        kind = KINDS[alias]
        as_name = loss_info(prefix + name)  # string alias or function object
        assert as_name is not None and as_name.kind == kind
        args = "" if flag is None else f"from_logits={flag}"
        as_call = loss_info({"unknown": f"{prefix}{name}({args})"})  # a loss object
        assert as_call is not None and as_call.kind == kind
        if kind in CLASSIFICATION:
            assert as_call.from_logits is (flag is True)
        else:
            assert as_call.from_logits is None

    check()


def test_bn014_silent_on_keras1_dim_ordering_files(tmp_path: Path) -> None:
    body = 'keras.backend.set_image_dim_ordering("th")\n' + _CONV_BN1
    assert found(tmp_path, body, ["BN014"]) == []


def test_metric_names_from_source_and_saved_configs() -> None:
    from bnlint.rules.lossinfo import _metric_names

    assert _metric_names(["accuracy", {"unknown": "keras.metrics.AUC(name='auc')"}]) == [
        "accuracy", "auc"]
    assert _metric_names([{"class_name": "BinaryAccuracy", "config": {}}]) == ["binaryaccuracy"]
    assert _metric_names({"out": ["acc"], "aux": "mae"}) == ["acc", "mae"]


@pytest.mark.parametrize(("compile_config", "want"), [
    ({"loss": "mse", "metrics": ["accuracy"]}, ["KR006"]),
    ({"loss": {"class_name": "MeanAbsoluteError", "config": {}}}, ["KR006"]),
    ({"loss": {"class_name": "CategoricalCrossentropy", "config": {"from_logits": False}}}, []),
])
def test_saved_model_compile_config_reaches_the_loss_rules(compile_config: dict,
                                                           want: list[str]) -> None:
    from bnlint.readers.saved import read_config, read_saved_model
    from bnlint.rules import Context
    from bnlint.rules.engine import check_context

    path = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "seed000_dnn_bn.keras"
    model = read_saved_model(path)  # a 38-class softmax output (the seed 000 model)
    config, _ = read_config(path)
    config = {**config, "compile_config": compile_config}
    ctx = Context(path=str(path), kind="saved", models=[model], saved_config=config)
    findings, problems = check_context(ctx, {"KR006", "KR007", "KR008"})
    assert problems == []
    assert [f.code for f in findings] == want
    assert all(f.config_path == "compile_config.loss" for f in findings)
