"""Numerical rewrites applied before printing, as named rules (in the spirit of sympy.codegen.rewriting).

Each rule replaces a form that overflows or cancels in float64 by a stable named function:
log σ(u) = −softplus(−u), log(1 − σ(u)) = −softplus(u), log(1 + e^u) = softplus(u),
log cosh u = logcosh(u), e^u − 1 = expm1(u), 1/(1 + e^(−u)) = σ(u). To add a rewrite, add one rule to RULES.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy as sp

from derive.catalogue.functions import sigmoid


class softplus(sp.Function):
    """softplus(u) = log(1 + e^u), computed as max(u, 0) + log1p(e^(−|u|))."""


class logcosh(sp.Function):
    """logcosh(u) = log cosh u, computed as |u| + log1p(e^(−2|u|)) − log 2."""


class expm1(sp.Function):
    """expm1(u) = e^u − 1 without cancellation near 0."""


@dataclass(frozen=True)
class Rewrite:
    name: str
    match: Callable[[sp.Basic], bool]
    replace: Callable[[sp.Basic], sp.Basic]

    def __call__(self, expr: sp.Expr) -> sp.Expr:
        return expr.replace(self.match, self.replace)


def _sigmoid_arg(e) -> sp.Expr | None:
    """u when e is σ(u) in any spelling: sigmoid(u), 1/(1 + e^(−u))."""
    if isinstance(e, sigmoid):
        return e.args[0]
    if e.is_Pow and e.exp == -1 and e.base.is_Add and len(e.base.args) == 2 and 1 in e.base.args:
        other = [t for t in e.base.args if t != 1][0]
        if isinstance(other, sp.exp):
            return -other.args[0]
    return None


def _one_minus_sigmoid_arg(e) -> sp.Expr | None:
    """u when e is 1 − σ(u)."""
    if e.is_Add and len(e.args) == 2 and 1 in e.args:
        other = [t for t in e.args if t != 1][0]
        if other.is_Mul and other.args[0] == -1:
            return _sigmoid_arg(sp.Mul(*other.args[1:]))
    return None


def _softplus_arg(e) -> sp.Expr | None:
    """u when e is 1 + e^u."""
    if e.is_Add and len(e.args) == 2 and 1 in e.args:
        other = [t for t in e.args if t != 1][0]
        if isinstance(other, sp.exp):
            return other.args[0]
    return None


RULES = (
    Rewrite("log σ(u) → −softplus(−u)",
            lambda e: isinstance(e, sp.log) and _sigmoid_arg(e.args[0]) is not None,
            lambda e: -softplus(-_sigmoid_arg(e.args[0]))),
    Rewrite("log(1 − σ(u)) → −softplus(u)",
            lambda e: isinstance(e, sp.log) and _one_minus_sigmoid_arg(e.args[0]) is not None,
            lambda e: -softplus(_one_minus_sigmoid_arg(e.args[0]))),
    Rewrite("log(1 + e^u) → softplus(u)",
            lambda e: isinstance(e, sp.log) and _softplus_arg(e.args[0]) is not None,
            lambda e: softplus(_softplus_arg(e.args[0]))),
    Rewrite("log cosh u → logcosh(u)",
            lambda e: isinstance(e, sp.log) and isinstance(e.args[0], sp.cosh),
            lambda e: logcosh(e.args[0].args[0])),
    Rewrite("e^u − 1 → expm1(u)",
            lambda e: e.is_Add and -1 in e.args and any(isinstance(t, sp.exp) for t in e.args),
            lambda e: expm1([t for t in e.args if isinstance(t, sp.exp)][0].args[0])
            + sp.Add(*[t for t in e.args if t != -1 and not isinstance(t, sp.exp)])),
    Rewrite("1/(1 + e^(−u)) → σ(u)",
            lambda e: not isinstance(e, sigmoid) and _sigmoid_arg(e) is not None,
            lambda e: sigmoid(_sigmoid_arg(e))),
)


# Identities kept only where, expanded, they make the expression cheaper: y·softplus(−z) + (1 − y)·softplus(z)
# becomes softplus(z) − y·z (one transcendental instead of two), PyTorch's BCE-with-logits form.
CHEAPER_IF_EXPANDED = (
    Rewrite("softplus(−u) → softplus(u) − u",
            lambda e: isinstance(e, softplus) and e.args[0].could_extract_minus_sign(),
            lambda e: softplus(-e.args[0]) + e.args[0]),
)


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
