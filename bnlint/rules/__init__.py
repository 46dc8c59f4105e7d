"""The rule catalogue: ``Rule`` classes register by existing; docs live in ``rules/<CODE>.md``."""

from __future__ import annotations

import importlib

from bnlint.rules.base import Context, Finding, Position, Rule, all_rules

__all__ = ["Context", "Finding", "Position", "Rule", "all_rules", "load_rules"]

_MODULES = ("bn_output", "bn_layers", "bn_training", "bn_variance", "bn_weights", "losses",
            "outputs", "bn_axis", "layer_args", "engine")


def load_rules() -> None:
    for name in _MODULES:
        importlib.import_module(f"bnlint.rules.{name}")
