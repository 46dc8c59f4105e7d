"""Keras's own application code, read as source: none of the BatchNormalization/loss mistakes.

The file list comes from the installed keras package (read as text, never imported by bnlint).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bnlint.rules.config import Settings
from bnlint.rules.engine import run


def _applications_dir() -> Path:
    spec = importlib.util.find_spec("keras")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("the test extra (keras) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "src" / "applications"


def test_keras_applications_source_has_no_bn_or_kr_mistakes() -> None:
    apps = _applications_dir()
    files = sorted(apps.glob("*.py"))
    assert len(files) >= 15
    result = run([str(apps)], Settings(select=["ALL"]))
    assert result.errors == []
    bad = [f"{f.code} {f.where()}" for f in result.findings
           if f.code in {"BN001", "BN002", "BN003", "BN005", "BN007"} or f.code.startswith("KR")]
    assert bad == []
    # The application functions are never called in their own files: `check` reads them with
    # unknown arguments, and what that finds is the known, harmless BN004 only.
    uncalled = [f for f in result.findings if "never called in this file" in f.message]
    assert uncalled and {f.code for f in uncalled} == {"BN004"}
