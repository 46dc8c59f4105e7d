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


_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_nodes(node: Any, node_type: type) -> Iterator[Any]:
    """The nodes (instances of ``node_type``, libcst's CSTNode) held in a libcst node's
    fields: its ``children``, without the visitor pass libcst's ``children`` property runs."""
    import dataclasses

    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node))
    for name in names:
        v = getattr(node, name)
        if isinstance(v, node_type):
            yield v
        elif isinstance(v, (list, tuple)):
            for e in v:
                if isinstance(e, node_type):
                    yield e


class _LazyPositions:
    """libcst positions, resolved on first use, one top-level statement at a time: a lookup
    finds the statement holding the node (a walk of the statements not indexed yet, stopping
    at it) and resolves the positions of that statement alone, shifted by the lines before it
    (libcst's PositionProvider on the whole module costs a code generation of all of it, and
    only the functions a program calls are ever asked about)."""

    def __init__(self, module: Any):
        self.module = module
        self.map: dict[Any, Any] = {}
        self._owner: dict[int, int] = {}  # id(node) -> index of its top-level statement
        self._walked = 0
        self._resolved: set[int] = set()
        self._starts: list[int] | None = None
        self._full_done = False

    def __getitem__(self, node: Any) -> Any:
        hit = self.map.get(node)
        if hit is not None:
            return hit
        i = self._owner.get(id(node))
        if i is None:
            i = self._walk_to(node)
        if i is None or i in self._resolved:
            if not self._full_done:  # the module's header/footer lines: resolve it whole
                self._full_done = True
                from libcst.metadata import MetadataWrapper, PositionProvider

                self.map.update(MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(
                    PositionProvider))
                return self.map[node]
            raise KeyError(node)
        self._resolve(i)
        return self.map[node]

    def _walk_to(self, node: Any) -> int | None:
        from libcst import CSTNode

        body = self.module.body
        while self._walked < len(body):
            i = self._walked
            self._walked += 1
            stack = [body[i]]
            found = False
            while stack:  # bounded by the size of the statement's tree
                n = stack.pop()
                self._owner[id(n)] = i
                found = found or n is node
                stack.extend(_child_nodes(n, CSTNode))
            if found:
                return i
        return None

    def _resolve(self, i: int) -> None:
        from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider

        m = self.module
        if self._starts is None:
            self._starts = [1 + sum(m.code_for_node(h).count("\n") for h in m.header)]
        starts = self._starts
        while len(starts) <= i:  # the start lines up to statement i only (codegen is slow)
            starts.append(starts[-1] + m.code_for_node(m.body[len(starts) - 1]).count("\n"))
        self._resolved.add(i)
        shift = self._starts[i] - 1
        sub = self.module.with_changes(body=[self.module.body[i]], header=[], footer=[])
        for n, r in MetadataWrapper(sub, unsafe_skip_copy=True).resolve(
                PositionProvider).items():
            if n is sub:
                continue
            self.map[n] = CodeRange(CodePosition(r.start.line + shift, r.start.column),
                                    CodePosition(r.end.line + shift, r.end.column))


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

    def root(e: Any) -> str | None:
        """The name an attribute/item/call chain starts from (``self`` of ``self.a.b[0]``)."""
        for _ in range(64):
            if isinstance(e, cst.Name):
                return e.value
            if not isinstance(e, (cst.Attribute, cst.Subscript, cst.Call)):
                return None
            e = e.func if isinstance(e, cst.Call) else e.value
        return None

    def bind(t: Any) -> None:
        if isinstance(t, cst.Name):
            bound.add(t.value)
        elif isinstance(t, (cst.Tuple, cst.List)):
            for e in t.elements:
                bind(e.value)
        elif isinstance(t, cst.StarredElement):
            bind(t.value)
        elif isinstance(t, (cst.Subscript, cst.Attribute)):
            name = root(t.value)
            if name is not None:
                mutated.setdefault(name, set()).add("[]")

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
        elif isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute):
            name = root(n.func.value)
            if name is not None:
                mutated.setdefault(name, set()).add(n.func.attr.value)
    # ``for layer in base.layers: layer.trainable = False`` changes what it iterates over.
    if isinstance(loop, cst.For) and isinstance(loop.target, cst.Name) \
            and loop.target.value in mutated:
        name = root(loop.iter)
        if name is not None:
            mutated.setdefault(name, set()).add("[]")
    return frozenset(bound), {k: frozenset(v) for k, v in mutated.items() if k not in bound}
