"""Real-world code nobody here wrote: Keras 3's own ``keras/src/applications/*.py``.

Each public application function (``def ResNet50(...)`` etc.) is read statically from the
installed keras package's source *text* (never imported) with ``weights=None`` and compared
with the committed golden (``fixtures/applications/keras3/<Name>.golden.json``, built by
real Keras with ``weights=None``).  Fast: no TensorFlow.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from bnlint.readers.source import _keras_apps_dir, read_source, read_text

ROOT = Path(__file__).resolve().parent.parent
GOLDENS = ROOT / "fixtures" / "applications" / "keras3"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare import assert_same_facts, bnlint_facts  # noqa: E402

# Application functions bnlint does not (yet) read exactly, with the reason.
KNOWN_DISAGREEMENTS: dict[str, str] = {}

APPS_DIR = _keras_apps_dir(3)


def application_functions() -> list[tuple[str, str]]:
    """(module file, function) for every public function that returns a model."""
    if APPS_DIR is None:
        return []
    out = []
    for f in sorted(APPS_DIR.glob("*.py")):
        if f.name.endswith("_test.py") or f.name.startswith("_") or f.stem == "imagenet_utils":
            continue
        tree = ast.parse(f.read_text(encoding="utf-8"))  # parsed, never executed
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name[0].isupper() and any(
                isinstance(d, ast.Call) and getattr(d.func, "id", None) == "keras_export"
                for d in node.decorator_list
            ):
                out.append((f.name, node.name))
    return out


APPS = application_functions()


def check(module: str, name: str) -> str | None:
    """None when bnlint agrees exactly with the golden; else the first difference."""
    golden = GOLDENS / f"{name}.golden.json"
    if not golden.is_file():
        return "no golden"
    expected = json.loads(golden.read_text())
    assert APPS_DIR is not None
    try:
        r = read_source(APPS_DIR / module, function=name, args={"weights": "None"})
    except Exception as exc:  # pragma: no cover - reported as a disagreement
        return f"error: {exc}"
    if not r.models:
        return f"no model: {r.notes[:2]}"
    got = bnlint_facts(r.models[0])
    if got["name"] != expected["name"]:
        return f"name {got['name']} != {expected['name']}"
    try:
        assert_same_facts(expected, got, name)
    except AssertionError as exc:
        return str(exc).splitlines()[0]
    return None


@pytest.mark.skipif(APPS_DIR is None, reason="keras is not installed")
def test_enumerates_every_application() -> None:
    names = {n for _, n in APPS}
    goldens = {p.name.split(".")[0] for p in GOLDENS.glob("*.golden.json")}
    assert goldens <= names, f"goldens without an application function: {goldens - names}"


@pytest.mark.skipif(APPS_DIR is None, reason="keras is not installed")
@pytest.mark.parametrize(("module", "name"), APPS, ids=[n for _, n in APPS])
def test_application(module: str, name: str) -> None:
    problem = check(module, name)
    if name in KNOWN_DISAGREEMENTS:
        if problem is None:
            pytest.fail(f"{name} now agrees: remove it from KNOWN_DISAGREEMENTS")
        pytest.xfail(KNOWN_DISAGREEMENTS[name])
    assert problem is None, problem


@pytest.mark.skipif(APPS_DIR is None, reason="keras is not installed")
def test_agreement_ratio() -> None:
    total = len(APPS)
    agree = total - len([n for _, n in APPS if n in KNOWN_DISAGREEMENTS])
    assert total >= 40
    assert agree / total >= 0.9, f"{agree}/{total} agree"


if __name__ == "__main__":
    for module, name in APPS:
        print(f"{name:22} {module:24} {check(module, name) or 'OK'}")


# --------------------------------------------------------------------------- tf-keras names
# without tf_keras installed: Keras 3's source read under Keras 2 semantics, where it is exact.

GOLDENS2 = ROOT / "fixtures" / "applications" / "keras2"
APPS2 = sorted(p.name.split(".")[0] for p in GOLDENS2.glob("*.golden.json"))


def _read_tf_keras_app(name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    from bnlint.readers.source import imports

    monkeypatch.setitem(imports._APPS_DIR, 2, None)  # as if tf_keras were not installed
    text = f"import tf_keras\nmodel = tf_keras.applications.{name}(weights=None)\n"
    return read_text(text, "<tf_keras app>")


def _keras2_problem(expected: dict[str, Any], result: Any) -> str | None:
    if not result.models:
        return f"no model: {result.notes[:2]}"
    got = bnlint_facts(result.models[0])
    if got["name"] != expected["name"]:
        return f"name {got['name']} != {expected['name']}"
    try:
        assert_same_facts(expected, got)
    except AssertionError as exc:
        return str(exc).splitlines()[0]
    return None


@pytest.mark.skipif(APPS_DIR is None, reason="keras is not installed")
@pytest.mark.parametrize("name", APPS2)
def test_keras2_from_keras3_source(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """tf_keras.applications.NAME with only Keras 3's source on disk: exact, or unknown with a
    reason (no model, a note) — never a model that differs from tf_keras's."""
    from bnlint.readers.source.imports import KERAS2_FROM_KERAS3_EXACT, _keras_app_index

    expected = json.loads((GOLDENS2 / f"{name}.golden.json").read_text())
    result = _read_tf_keras_app(name, monkeypatch)
    if name in KERAS2_FROM_KERAS3_EXACT:
        assert _keras2_problem(expected, result) is None, _keras2_problem(expected, result)
        return
    assert not result.models, f"{name}: a model was built from a source not verified exact"
    assert any("tf_keras is not installed" in n and "not modelled" in n for n in result.notes), (
        result.notes)
    # The list is complete: reading Keras 3's source directly under Keras 2 semantics does
    # not give tf_keras's model either.
    module = _keras_app_index(3).get(name)
    if module is not None:
        assert APPS_DIR is not None
        direct = read_source(APPS_DIR / f"{module}.py", keras_version=2, function=name,
                             args={"weights": "None"})
        assert _keras2_problem(expected, direct) is not None, (
            f"{name}: Keras 3's source is exact under Keras 2: add it to KERAS2_FROM_KERAS3_EXACT")


def test_keras2_exact_list_has_goldens() -> None:
    from bnlint.readers.source.imports import KERAS2_FROM_KERAS3_EXACT

    assert set(KERAS2_FROM_KERAS3_EXACT) <= set(APPS2)


@pytest.mark.skipif(APPS_DIR is None, reason="keras is not installed")
def test_tf_keras_script_without_tf_keras(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tf_keras script built on MobileNetV2, tf_keras absent: exact (real tf_keras golden)."""
    from bnlint.readers.source import imports

    monkeypatch.setitem(imports._APPS_DIR, 2, None)
    path = ROOT / "fixtures" / "source" / "transfer_mobilenetv2_tfkeras.py"
    golden = json.loads((ROOT / "fixtures" / "source" / "goldens" / f"{path.stem}.json")
                        .read_text())
    result = read_source(path)
    assert result.keras_version == 2
    by_var = {m.variable: m for m in result.models}
    assert set(by_var) == set(golden["models"])
    for var, facts in golden["models"].items():
        got = bnlint_facts(by_var[var])
        assert got["name"] == facts["name"]
        assert_same_facts(facts, got, var)


def test_applications_located_only_when_called() -> None:
    """Lazy: a file that calls no application never looks for Keras's source."""
    import subprocess

    code = ("from bnlint.readers.source import imports, read_source\n"
            "read_source('fixtures/source/seed000_batchnorm_dnn.py')\n"
            "assert not imports._APPS_DIR and not imports._APP_INDEX, imports._APPS_DIR\n"
            "read_source('fixtures/source/transfer_mobilenetv2.py')\n"
            "assert 3 in imports._APPS_DIR and 2 not in imports._APPS_DIR, imports._APPS_DIR\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-2000:]
