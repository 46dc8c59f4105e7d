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

import pytest

from bnlint.readers.source import _keras_apps_dir, read_source

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
