"""Every activation both Kerases accept by name, exported to NumPy, against real Keras (oracle).

The names are not typed here: each Keras is asked which names of its ``activations``
module (plus the exporter's table) build an ``Activation`` layer that can be called, and
the exporter must translate every one of them and agree with Keras on random inputs.
"""

from __future__ import annotations

import importlib
import math
import os
from typing import Any

import numpy as np
import pytest

from bnlint.export.numpy_forward import _ACTIVATIONS_3, _activation_expr, _helpers_text

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

pytestmark = pytest.mark.oracle
PACKAGES = {3: "keras", 2: "tf_keras"}


@pytest.fixture(autouse=True, scope="module")
def _quiet(quiet_keras: None) -> None:
    """Both Kerases imported, absl quiet (tests/conftest.py)."""


def _accepted(k: Any) -> list[str]:
    names = {n for n in dir(k.activations) if not n.startswith("_")} | set(_ACTIVATIONS_3)
    names -= {"get", "serialize", "deserialize"}
    x = np.zeros((2, 4), dtype="float32")
    out = []
    for n in sorted(names):
        try:
            layer = k.layers.Activation(n)
            layer(x)
        except Exception:
            continue
        out.append(n)
    return out


@pytest.mark.parametrize("version", [2, 3])
def test_every_named_activation_matches_keras(version: int) -> None:
    k = importlib.import_module(PACKAGES[version])
    names = _accepted(k)
    assert "relu6" in names and "relu" in names
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((5, 8)) * 3).astype("float32")
    x[0, :6] = [-1.0, 1.0, 0.5, -0.5, 2.5, -2.5]  # the kinks of the piecewise activations
    for name in names:
        helpers: set[str] = set()
        expr = _activation_expr(name, "x", version, f"Activation({name!r})", helpers)
        ns: dict[str, Any] = {"np": np, "math": math}
        exec(_helpers_text(helpers), ns)  # bnlint's own generated helpers
        ns["x"] = x
        got = np.asarray(eval(expr, ns))  # bnlint's own generated expression
        want = np.asarray(k.layers.Activation(name)(x))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=name)
