"""Symbolic sizes: polynomial arithmetic must agree with integers once the symbols are known."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bnlint.symbolic import Sym, add, floordiv, fmt_count, mul, simplify, sub, total

NAMES = ["n", "num_classes", "X.shape[1]"]

ints = st.integers(-50, 50)


@st.composite
def expressions(draw, depth: int = 3):
    """A random expression as (bnlint value, function of the symbol values)."""
    if depth == 0 or draw(st.booleans()):
        if draw(st.booleans()):
            k = draw(ints)
            return k, lambda env, k=k: k
        name = draw(st.sampled_from(NAMES))
        return Sym.atom(name), lambda env, name=name: env[name]
    (a, fa), (b, fb) = draw(expressions(depth - 1)), draw(expressions(depth - 1))
    op = draw(st.sampled_from(["add", "sub", "mul"]))
    if op == "add":
        return add(a, b), lambda env: fa(env) + fb(env)
    if op == "sub":
        return sub(a, b), lambda env: fa(env) - fb(env)
    return mul(a, b), lambda env: fa(env) * fb(env)


@settings(max_examples=300, derandomize=True)
@given(expressions(), st.fixed_dictionaries({n: st.integers(-20, 20) for n in NAMES}))
def test_substitution_agrees_with_integer_arithmetic(expr, env) -> None:
    value, reference = expr
    got = value.substitute(env) if isinstance(value, Sym) else value
    assert got == reference(env)


@settings(max_examples=200, derandomize=True)
@given(expressions())
def test_constants_collapse_to_int(expr) -> None:
    value, _ = expr
    assert not (isinstance(value, Sym) and value.constant_value() is not None)
    assert simplify(value) == value


def test_seed000_count_reads_like_keras_would_print_it() -> None:
    n = Sym.atom("num_classes")
    dense = add(mul(256, n), n)  # kernel (256, n) + bias (n,)
    assert str(dense) == "257*num_classes"
    assert fmt_count(total([718270 - 257 * 38, dense])) == "257*num_classes + 708504"
    assert fmt_count(718270) == "718,270"


def test_exact_floor_division_stays_polynomial_otherwise_opaque() -> None:
    n = Sym.atom("n")
    assert floordiv(add(mul(2, n), 4), 2) == add(n, 2)
    opaque = floordiv(add(n, 1), 2)
    # Not exact: a new opaque atom named by the expression, never a rounded polynomial.
    assert isinstance(opaque, Sym) and opaque.atoms() == {"((n + 1) // 2)"}
