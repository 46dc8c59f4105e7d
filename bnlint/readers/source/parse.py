"""Parsing once per process, lazy positions, and the per-node caches that go with parsed trees."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bnlint.memo import IdentityCache

# Parsed modules (with their positions, a map over every node) kept per process: enough for
# the helper modules and the re-reads of one analysis; a tree-wide check reads each file once.
_PARSED: dict[str, Any] = {}


_MAX_PARSED = 16


def _parse_cached(text: str) -> tuple[Any, _LazyPositions]:
    """Parse once per process (libcst trees are immutable; positions are resolved lazily)."""
    import hashlib

    import libcst as cst

    key = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
    hit = _PARSED.get(key)
    if hit is None:
        module = cst.parse_module(text)
        hit = (module, _LazyPositions(module))
        if len(_PARSED) > _MAX_PARSED:
            # the per-node caches hold nodes of these trees: they go with them
            for cache in (_YIELDS, _GENERATORS, _LITERALS):
                cache.clear()
        _PARSED[key] = hit
        _YIELDS.put(module, _YIELD_RE.search(text) is not None)
    return hit


def _own_nodes(cst: Any, body: Any) -> Iterator[tuple[Any, bool]]:
    """Every node of a body, depth first, with whether it lies in a loop nested in the body;
    nested functions, classes and lambdas are yielded but not entered (bounded by the size of
    the syntax tree)."""
    stack: list[tuple[Any, bool]] = [(c, False) for c in body.children]
    while stack:
        n, in_loop = stack.pop()
        yield n, in_loop
        if not isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            inner = in_loop or isinstance(n, (cst.For, cst.While))
            stack.extend((c, inner) for c in n.children)


def _parsed_positions(module: Any) -> Any:
    for m, lazy in _PARSED.values():
        if m is module:
            return lazy
    return _LazyPositions(module)


class _LazyPositions:
    """libcst positions, resolved on first use (a full pass over the module)."""

    def __init__(self, module: Any):
        self.module = module
        self.map: Any = None

    def __getitem__(self, node: Any) -> Any:
        if self.map is None:
            from libcst.metadata import MetadataWrapper, PositionProvider

            self.map = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(
                PositionProvider)
        return self.map[node]


# libcst's ``evaluated_value`` runs ast.literal_eval (a compile) on every call, and a helper
# function called in a loop evaluates the same literal node many times: keep each value, with
# its node (so that ids stay unique), up to a bound.
_MAX_NODE_CACHE = 200_000


_LITERALS: IdentityCache[Any] = IdentityCache(_MAX_NODE_CACHE)


_GENERATORS: IdentityCache[bool] = IdentityCache(_MAX_NODE_CACHE)  # function node -> yields?


_YIELDS: IdentityCache[bool] = IdentityCache(_MAX_NODE_CACHE)  # module -> text says yield?


_YIELD_RE = re.compile(r"\byield\b")


def _literal(node: Any) -> Any:
    return _LITERALS.get(node, _evaluated_value)


def _evaluated_value(node: Any) -> Any:
    return node.evaluated_value


_LOOP_NAMES: IdentityCache[tuple[frozenset[str], dict[str, frozenset[str]]]] = IdentityCache(
    _MAX_NODE_CACHE)


def loop_names(cst: Any, loop: Any) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """(names a loop statement binds, {name: methods called on it} for names whose object its
    body may change — ``"[]"`` for an item or attribute set) — what may be unknown after a loop
    bnlint did not evaluate to its end."""
    return _LOOP_NAMES.get(loop, lambda n: _loop_names(cst, n))


def _loop_names(cst: Any, loop: Any) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    bound: set[str] = set()
    mutated: dict[str, set[str]] = {}

    def bind(t: Any) -> None:
        if isinstance(t, cst.Name):
            bound.add(t.value)
        elif isinstance(t, (cst.Tuple, cst.List)):
            for e in t.elements:
                bind(e.value)
        elif isinstance(t, cst.StarredElement):
            bind(t.value)
        elif isinstance(t, (cst.Subscript, cst.Attribute)) and isinstance(t.value, cst.Name):
            mutated.setdefault(t.value.value, set()).add("[]")

    if isinstance(loop, cst.For):
        bind(loop.target)
    for n, _ in _own_nodes(cst, loop):
        if isinstance(n, cst.Assign):
            for t in n.targets:
                bind(t.target)
        elif isinstance(n, (cst.AugAssign, cst.AnnAssign, cst.For)):
            bind(n.target)
        elif isinstance(n, cst.NamedExpr):
            bind(n.target)
        elif isinstance(n, cst.AsName):
            bind(n.name)
        elif isinstance(n, (cst.FunctionDef, cst.ClassDef)):
            bound.add(n.name.value)
        elif isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and isinstance(
                n.func.value, cst.Name):
            mutated.setdefault(n.func.value.value, set()).add(n.func.attr.value)
    return frozenset(bound), {k: frozenset(v) for k, v in mutated.items() if k not in bound}
