"""``bnlint check --fix``: automatic fixes, with ruff's conventions.

Each rule declares the fix it offers (``Rule.fix_safety``: None, "safe" or "unsafe") and
:mod:`bnlint.fix.fixers` holds one fixer per such rule: libcst on the finding's location
(its start and end) plus the plain data the rule put in ``Finding.fix_args``.  Which fixes
run is ruff's policy, per file from ``[tool.bnlint]`` and the command line: ``fix``,
``unsafe-fixes``, ``fixable``/``extend-fixable``/``unfixable`` and
``extend-safe-fixes``/``extend-unsafe-fixes`` (a code's safety promoted or demoted).

This module is the policy only (no libcst): a ``--fix`` run whose findings have no fix at
all never imports libcst.  :mod:`bnlint.fix.files` applies fixes to files.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bnlint.rules.base import Finding
    from bnlint.rules.config import Settings


def _specificity(prefixes: list[str], code: str) -> int:
    best = -1
    for p in prefixes:
        p = p.upper()
        if p == "ALL":
            best = max(best, 0)
        elif code.startswith(p):
            best = max(best, len(p))
    return best


def is_fixable(code: str, s: Settings) -> bool:
    """``fixable`` (default ALL) plus ``extend-fixable`` minus ``unfixable`` (ruff's rules:
    the most specific prefix wins, ``unfixable`` wins a tie)."""
    allow = max(_specificity(s.fixable if s.fixable is not None else ["ALL"], code),
                _specificity(s.extend_fixable, code))
    return allow >= 0 and _specificity(s.unfixable, code) < allow


def safety(code: str, declared: str | None, s: Settings) -> str | None:
    """A fix's safety after ``extend-safe-fixes``/``extend-unsafe-fixes`` (the more specific
    prefix wins; unsafe wins a tie)."""
    if declared is None:
        return None
    safe = _specificity(s.extend_safe_fixes, code)
    unsafe = _specificity(s.extend_unsafe_fixes, code)
    if unsafe >= 0 and unsafe >= safe:
        return "unsafe"
    if safe >= 0:
        return "safe"
    return declared


def declared_safety(code: str) -> str | None:
    from bnlint.rules.base import all_rules

    cls = all_rules().get(code)
    return cls.fix_safety if cls is not None else None


def may_fix(f: Finding, s: Settings) -> bool:
    """Whether ``f``'s rule offers a fix that these settings allow (of either safety: the
    unsafe ones are tried without ``--unsafe-fixes`` too, to count the hidden fixes)."""
    return declared_safety(f.code) is not None and is_fixable(f.code, s)


def whole_sites(ctx: Any, flagged: list[tuple[Any, Finding]]) -> Iterator[Finding]:
    """The findings, with their fix kept only where every layer built by the finding's call
    site is flagged too: a call in a loop, a comprehension or a helper function builds several
    layers, and one edit there changes them all.  (Rules call this; it needs no libcst.)"""
    from bnlint.rules.graphs import all_layers

    def site(la: Any) -> tuple[Any, ...] | None:
        loc = la.location
        return None if loc is None or loc.line is None else (loc.line, loc.column, loc.cell)

    built: dict[tuple[Any, ...], set[str]] = {}
    for top in ctx.models:
        for _, la in all_layers(top):
            key = site(la)
            if key is not None:
                built.setdefault(key, set()).add(la.name)
    hit: dict[tuple[Any, ...], set[str]] = {}
    for la, _ in flagged:
        key = site(la)
        if key is not None:
            hit.setdefault(key, set()).add(la.name)
    for la, f in flagged:
        key = site(la)
        if key is None or built.get(key, set()) - hit.get(key, set()):
            f.fix_args = {}
        bias = f.fix_args.get("bias_at")
        if bias is not None and len(built.get(tuple(bias), ())) != 1:
            del f.fix_args["bias_at"]  # the layer before is built by a shared call site
        yield f
