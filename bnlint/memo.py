"""A bounded cache of values computed from objects that compare by identity.

Syntax-tree nodes and graphs are looked up by ``id()``. Each entry keeps its object alive, so
an id cannot be reused by another object while the entry exists; when the cache is full it
empties itself (a bound on memory, not an eviction policy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class IdentityCache(Generic[V]):
    def __init__(self, bound: int) -> None:
        self.bound = bound
        self._entries: dict[int, tuple[Any, V]] = {}

    def get(self, obj: Any, compute: Callable[[Any], V]) -> V:
        hit = self._entries.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        value = compute(obj)
        self.put(obj, value)
        return value

    def put(self, obj: Any, value: V) -> None:
        if len(self._entries) >= self.bound:
            self._entries.clear()
        self._entries[id(obj)] = (obj, value)

    def clear(self) -> None:
        self._entries.clear()
