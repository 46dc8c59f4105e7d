"""Exact integer arithmetic over named unknowns.

A size bnlint cannot know (``num_classes`` in ``Dense(num_classes)``) is a
:class:`Sym`; sizes and parameter counts built from it are polynomials with
integer coefficients (``257*num_classes``), kept exact.  Operations that leave
the polynomials (floor division, ``ceil``) wrap the operand into a new opaque
atom whose name is the expression text, so nothing is ever approximated.

``Size`` is what shapes and counts hold: a plain ``int`` when known, a
:class:`Sym` otherwise (never a ``Sym`` that is really a constant).
"""

from __future__ import annotations

from collections.abc import Iterable

Monomial = tuple[tuple[str, int], ...]  # sorted (atom, power) pairs; () is the constant term


def _mono_mul(a: Monomial, b: Monomial) -> Monomial:
    powers = dict(a)
    for atom, p in b:
        powers[atom] = powers.get(atom, 0) + p
    return tuple(sorted(powers.items()))


def _mono_str(m: Monomial) -> str:
    parts = []
    for atom, p in m:
        parts.append(atom if p == 1 else f"{atom}**{p}")
    return "*".join(parts)


def _needs_parens(atom: str) -> bool:
    depth = 0
    for ch in atom:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch in " +-*/%":
            return True
    return False


class Sym:
    """An integer polynomial in named atoms. Immutable and hashable."""

    __slots__ = ("_hash", "terms")

    def __init__(self, terms: dict[Monomial, int]):
        self.terms: dict[Monomial, int] = {m: c for m, c in terms.items() if c != 0}
        self._hash = hash(frozenset(self.terms.items()))

    # construction -------------------------------------------------------------
    @staticmethod
    def atom(name: str) -> Sym:
        name = name.strip()
        if _needs_parens(name):
            name = f"({name})"
        return Sym({((name, 1),): 1})

    @staticmethod
    def const(value: int) -> Sym:
        return Sym({(): int(value)})

    # queries ------------------------------------------------------------------
    def constant_value(self) -> int | None:
        if not self.terms:
            return 0
        if set(self.terms) == {()}:
            return self.terms[()]
        return None

    def atoms(self) -> set[str]:
        return {a for m in self.terms for a, _ in m}

    def substitute(self, values: dict[str, int]) -> Size:
        total: Size = 0
        for mono, coeff in self.terms.items():
            term: Size = coeff
            for atom_name, p in mono:
                factor: Size = values[atom_name] if atom_name in values else Sym.atom(atom_name)
                for _ in range(p):
                    term = mul(term, factor)
            total = add(total, term)
        return total

    # arithmetic (returns Size, i.e. int when it collapses) -------------------
    def __add__(self, other: object) -> Size:
        o = _as_sym(other)
        if o is None:
            return NotImplemented
        terms = dict(self.terms)
        for m, c in o.terms.items():
            terms[m] = terms.get(m, 0) + c
        return simplify(Sym(terms))

    __radd__ = __add__

    def __neg__(self) -> Size:
        return simplify(Sym({m: -c for m, c in self.terms.items()}))

    def __sub__(self, other: object) -> Size:
        o = _as_sym(other)
        if o is None:
            return NotImplemented
        return self + (-o)

    def __rsub__(self, other: object) -> Size:
        o = _as_sym(other)
        if o is None:
            return NotImplemented
        return o + (-self)

    def __mul__(self, other: object) -> Size:
        o = _as_sym(other)
        if o is None:
            return NotImplemented
        terms: dict[Monomial, int] = {}
        for m1, c1 in self.terms.items():
            for m2, c2 in o.terms.items():
                m = _mono_mul(m1, m2)
                terms[m] = terms.get(m, 0) + c1 * c2
        return simplify(Sym(terms))

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:
        o = _as_sym(other)
        return o is not None and o.terms == self.terms

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        if not self.terms:
            return "0"
        # Highest degree first, constant last: "257*num_classes + 718270".
        order = sorted(self.terms, key=lambda m: (-sum(p for _, p in m), m))
        out = ""
        for i, mono in enumerate(order):
            coeff = self.terms[mono]
            sign = "-" if coeff < 0 else "+"
            mag = abs(coeff)
            if mono == ():
                body = str(mag)
            elif mag == 1:
                body = _mono_str(mono)
            else:
                body = f"{mag}*{_mono_str(mono)}"
            if i == 0:
                out = ("-" if sign == "-" else "") + body
            else:
                out += f" {sign} {body}"
        return out

    def __repr__(self) -> str:
        return f"Sym({self})"


Size = int | Sym


def _as_sym(value: object) -> Sym | None:
    if isinstance(value, Sym):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Sym.const(value)
    return None


def simplify(value: Size) -> Size:
    """A Sym that is really a constant becomes a plain int."""
    if isinstance(value, Sym):
        c = value.constant_value()
        return value if c is None else c
    return value


def add(a: Size, b: Size) -> Size:
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    return simplify(_as_sym(a) + _as_sym(b))  # type: ignore[operator]


def mul(a: Size, b: Size) -> Size:
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    return simplify(_as_sym(a) * _as_sym(b))  # type: ignore[operator]


def sub(a: Size, b: Size) -> Size:
    if isinstance(a, int) and isinstance(b, int):
        return a - b
    return simplify(_as_sym(a) - _as_sym(b))  # type: ignore[operator]


def total(values: Iterable[Size]) -> Size:
    acc: Size = 0
    for v in values:
        acc = add(acc, v)
    return acc


def product(values: Iterable[Size]) -> Size:
    acc: Size = 1
    for v in values:
        acc = mul(acc, v)
    return acc


def floordiv(a: Size, b: Size) -> Size:
    if isinstance(a, int) and isinstance(b, int):
        return a // b
    if isinstance(b, int) and isinstance(a, Sym) and b != 0:
        # Exact when every coefficient divides: (2*n + 4) // 2 == n + 2.
        if all(c % b == 0 for c in a.terms.values()):
            return simplify(Sym({m: c // b for m, c in a.terms.items()}))
    return Sym.atom(f"{_paren(a)} // {_paren(b)}")


def ceildiv(a: Size, b: Size) -> Size:
    if isinstance(a, int) and isinstance(b, int):
        return -(-a // b)
    if isinstance(b, int) and isinstance(a, Sym) and b != 0:
        if all(c % b == 0 for c in a.terms.values()):
            return simplify(Sym({m: c // b for m, c in a.terms.items()}))
    return Sym.atom(f"ceil({a} / {_paren(b)})")


def _paren(v: Size) -> str:
    s = str(v)
    return f"({s})" if isinstance(v, Sym) and _needs_parens(s) else s


def fmt_size(value: Size | None) -> str:
    return "None" if value is None else str(value)


def fmt_count(value: Size) -> str:
    """Thousands separators as Keras prints counts; symbolic counts as expressions."""
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
