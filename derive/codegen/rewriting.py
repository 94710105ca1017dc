"""Numerical rewrites applied before printing, as named rules (in the spirit of sympy.codegen.rewriting).

Two kinds, each a declared identity, never a guess:
- ``NAMED``: a spelled-out function becomes its named, stable form (1/(1 + e^(−u)) → σ(u), log(1 + e^u) →
  softplus(u), e^u − 1 → expm1(u), …), so it is computed as the function table says and differentiates to a
  stable derivative (softplus' = σ, not e^u/(1 + e^u), which is inf/inf from u = 710);
- ``STABLE``: a composition that overflows or cancels in float64 becomes an equal one that does not
  (log σ(u) = −softplus(−u), log(1 − σ(u)) = −softplus(u), log cosh u = logcosh(u)).
``CHEAPER_IF_EXPANDED`` identities are kept only where, expanded, they save a transcendental: y·softplus(−z) +
(1 − y)·softplus(z) becomes softplus(z) − y·z, PyTorch's BCE-with-logits form.

To add a rewrite, add one ``Rewrite`` to a tuple; tests/test_stability.py sweeps every rule against mpmath and
asserts it never turns a finite value into inf or NaN.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy as sp

from derive.catalogue.functions import expm1, log1p, logcosh, normal_cdf, sigmoid, softplus


@dataclass(frozen=True)
class Rewrite:
    """``match(e)`` returns the argument u of a form, or None; the form becomes ``build(u)``."""

    name: str
    match: Callable[[sp.Basic], sp.Expr | None]
    build: Callable[[sp.Expr], sp.Expr]

    def __call__(self, expr: sp.Expr) -> sp.Expr:
        return expr.replace(lambda e: self.match(e) is not None, lambda e: self.build(self.match(e)))


def _pair(e, one=1):
    """The other term of a two-term sum that contains ``one``, else None."""
    if e.is_Add and len(e.args) == 2 and one in e.args:
        return e.args[0] if e.args[1] == one else e.args[1]
    return None


def _reciprocal_one_plus_exp(e) -> sp.Expr | None:
    """u when e is 1/(1 + e^(−u)) (σ(u) spelled out)."""
    if e.is_Pow and e.exp == -1:
        other = _pair(e.base)
        if isinstance(other, sp.exp):
            return -other.args[0]
    return None


def _sigmoid_arg(e) -> sp.Expr | None:
    """u when e is σ(u) in either spelling."""
    return e.args[0] if isinstance(e, sigmoid) else _reciprocal_one_plus_exp(e)


def _log_of(inner: Callable) -> Callable:
    """A matcher for log(X) where ``inner`` matches X."""
    return lambda e: inner(e.args[0]) if isinstance(e, sp.log) else None


def _one_plus_exp(e) -> sp.Expr | None:
    other = _pair(e)
    return other.args[0] if isinstance(other, sp.exp) else None


def _one_minus_sigmoid(e) -> sp.Expr | None:
    other = _pair(e)
    if other is not None and other.is_Mul and other.args[0] == -1:
        return _sigmoid_arg(sp.Mul(*other.args[1:]))
    return None


def _exp_minus_one(e) -> sp.Expr | None:
    other = _pair(e, -1)
    return other.args[0] if isinstance(other, sp.exp) else None


def _one_plus(e) -> sp.Expr | None:
    """u when e is log(1 + u) with u not an exponential (that one is softplus)."""
    other = _pair(e)
    return other if other is not None and not isinstance(other, sp.exp) and other.free_symbols else None


def _half_one_plus_erf(e) -> sp.Expr | None:
    """u when e is (1 + erf(u/√2))/2."""
    if e.is_Mul and len(e.args) == 2 and sp.Rational(1, 2) in e.args:
        other = _pair(e.args[0] if e.args[1] == sp.Rational(1, 2) else e.args[1])
        if isinstance(other, sp.erf):
            return sp.sqrt(2) * other.args[0]
    return None


def _cosh_arg(e) -> sp.Expr | None:
    return e.args[0] if isinstance(e, sp.cosh) else None


NAMED = (
    Rewrite("1/(1 + e^(−u)) → σ(u)", _reciprocal_one_plus_exp, sigmoid),
    Rewrite("log(1 + e^u) → softplus(u)", _log_of(_one_plus_exp), softplus),
    Rewrite("e^u − 1 → expm1(u)", _exp_minus_one, expm1),
    Rewrite("(1 + erf(u/√2))/2 → Φ(u)", _half_one_plus_erf, normal_cdf),
)

STABLE = (
    Rewrite("log σ(u) → −softplus(−u)", _log_of(_sigmoid_arg), lambda u: -softplus(-u)),
    Rewrite("log(1 − σ(u)) → −softplus(u)", _log_of(_one_minus_sigmoid), lambda u: -softplus(u)),
    Rewrite("log cosh u → logcosh(u)", _log_of(_cosh_arg), logcosh),
    Rewrite("log(1 + u) → log1p(u)", _log_of(_one_plus), log1p),   # after the σ forms, which it would catch
)

CHEAPER_IF_EXPANDED = (
    Rewrite("softplus(−u) → softplus(u) − u",
            lambda e: e.args[0] if isinstance(e, softplus) and e.args[0].could_extract_minus_sign() else None,
            lambda u: softplus(-u) + u),
)

RULES = NAMED + STABLE


def name_functions(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every spelled-out named function in its named form."""
    for rule in NAMED:
        expr = rule(expr)
    return expr


def stabilise(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every rule applied, in order, then the cheaper-if-expanded identities where they pay."""
    for rule in RULES:
        expr = rule(expr)
    for rule in CHEAPER_IF_EXPANDED:
        candidate = sp.expand(rule(expr))
        if _transcendentals(candidate) < _transcendentals(expr):
            expr = candidate
    return expr


def _transcendentals(expr: sp.Expr) -> int:
    return sum(1 for node in sp.preorder_traversal(expr) if isinstance(node, sp.Function))
