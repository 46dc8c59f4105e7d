"""The committed goldens are current: rebuilding with live Keras gives the same facts.

A subset only (two applications per Keras version plus every small model in
``fixtures/models``), so this stays well under a minute. The full comparison is
``python scripts/regen_goldens.py --check``.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import json
import sys
import warnings
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
APPLICATIONS = ("ResNet50", "MobileNetV2")


def _regen_module() -> ModuleType:
    name = "regen_goldens"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "regen_goldens.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _mismatch(path: Path, live: str) -> str | None:
    if not path.is_file():
        return f"{path.relative_to(REPO)}: missing"
    committed = path.read_text(encoding="utf-8")
    if json.loads(committed) == json.loads(live):
        return None
    diff = difflib.unified_diff(
        committed.splitlines(), live.splitlines(), "committed", "live", n=1, lineterm=""
    )
    return f"{path.relative_to(REPO)}: differs\n" + "\n".join(list(diff)[2:12])


@pytest.mark.oracle
def test_committed_goldens_match_live_keras() -> None:
    importlib.import_module("keras")
    importlib.import_module("tf_keras")
    regen = _regen_module()
    oracle = regen.load_oracle_facts()
    problems: list[str] = []
    checked = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # input_shape/input_dim deprecation notices
        for version in regen.VERSIONS:
            k = regen.import_keras(version)
            app_dir = FIXTURES / "applications" / f"keras{version}"
            for name in APPLICATIONS:
                live = regen.golden_text(
                    oracle.keras_facts(regen.build_application(k, name), version)
                )
                problems.append(_mismatch(app_dir / f"{name}.golden.json", live))
                checked += 1
            for name in regen.MODELS:
                live = regen.golden_text(oracle.keras_facts(regen.build_model(k, name), version))
                golden = FIXTURES / "models" / regen.model_files(name, version)["golden"]
                problems.append(_mismatch(golden, live))
                checked += 1
            k.backend.clear_session()
    problems = [p for p in problems if p]
    assert not problems, (
        f"{len(problems)} of {checked} goldens are stale; rerun scripts/regen_goldens.py\n"
        + "\n\n".join(problems)
    )
