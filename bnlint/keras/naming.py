"""Keras's automatic names: per-session counters per base name.

Keras 3 (``keras.src.backend.common.global_state`` + ``naming.uniquify``) and
tf-keras (``backend.unique_object_name``) both snake-case the class name and
number repeats ``dense``, ``dense_1``, …; the counters are global to the Python
session, so they continue across every model one script builds.  Inputs and
models differ by version: Keras 3 ``input_layer``/``functional``/``sequential``,
tf-keras ``input_1``/``model``/``sequential``.
"""

from __future__ import annotations

import re


def to_snake_case(name: str) -> str:
    intermediate = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    insecure = re.sub(r"([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    if insecure[0] != "_":
        return insecure
    return "private" + insecure


class NameCounters:
    """One Python session's worth of Keras naming state."""

    def __init__(self, version: int):
        self.version = version
        self.counts: dict[str, int] = {}

    def uniquify(self, base: str, zero_based: bool = True) -> str:
        n = self.counts.get(base, 0)
        self.counts[base] = n + 1
        if zero_based:
            return base if n == 0 else f"{base}_{n}"
        return f"{base}_{n + 1}"

    def get_uid(self, prefix: str) -> int:
        """``keras.backend.get_uid(prefix)``: Keras 3 counts in the same table as the
        automatic names (``get_uid("dense")`` then a Dense is ``dense_1``); tf_keras's names
        are keyed ``(namespace, name)``, its uids by the bare prefix: a table of their own."""
        key = prefix if self.version == 3 else f"\0uid:{prefix}"
        n = self.counts.get(key, 0) + 1
        self.counts[key] = n
        return n

    def layer_name(self, class_name: str) -> str:
        return self.uniquify(to_snake_case(class_name))

    def input_name(self) -> str:
        if self.version == 3:
            return self.uniquify("input_layer")
        return self.uniquify("input", zero_based=False)

    def model_name(self, kind: str) -> str:
        if kind == "Sequential":
            return self.uniquify("sequential")
        if self.version == 3:
            return self.uniquify("functional" if kind == "Functional" else to_snake_case(kind))
        return self.uniquify("model" if kind == "Functional" else to_snake_case(kind))
