"""Numerical rewrites applied before printing, as named rules (in the spirit of sympy.codegen.rewriting).

Two kinds, each a declared identity, never a guess:
- ``NAMED``: a spelled-out function becomes its named, stable form (1/(1 + e^(−u)) → σ(u), log(1 + e^u) →
  softplus(u), e^u − 1 → expm1(u), c + c·erf(u/√2) → 2c·Φ(u), …), so it is computed as the function table says
  and differentiates to a stable derivative (softplus' = σ, not e^u/(1 + e^u), which is inf/inf from u = 710);
- ``STABLE``: a composition that overflows or cancels in float64 becomes an equal one that does not: the log of a
  function with a stable log form in the function table (log σ(u) = −softplus(−u), log softplus(u) =
  log_softplus(u), log cosh u = logcosh(u)), log(1 − σ(u)) = −softplus(u), and products whose factors overflow
  while others underflow (e^u/cosh²(u/2), σ(u)/softplus(u)), computed as the exp of the sum of their stable logs.
``CHEAPER_IF_EXPANDED`` identities are kept only where, expanded, they save a transcendental: y·softplus(−z) +
(1 − y)·softplus(z) becomes softplus(z) − y·z, PyTorch's BCE-with-logits form.

Each rule lists ``examples``, forms it rewrites; to add a rewrite, add one ``Rewrite`` to a tuple, with examples:
tests/test_stability.py sweeps every example against mpmath and asserts it never turns a finite value into inf
or NaN.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy as sp

from derive.catalogue.functions import FUNCTIONS, expm1, log1p, normal_cdf, sigmoid, softplus


@dataclass(frozen=True)
class Rewrite:
    """``match(e)`` returns what the form binds (its argument u, or a tuple), or None; the form becomes
    ``build(binding)``. ``examples`` are forms it rewrites, as functions of u, for the tests."""

    name: str
    match: Callable[[sp.Basic], object]
    build: Callable[[object], sp.Expr]
    examples: tuple[Callable[[sp.Expr], sp.Expr], ...] = ()

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


def _constant_plus(function) -> Callable:
    """A matcher for c ± c·function(w) among the terms of a sum: binds (±w, c, the other terms)."""
    def match(e):
        if not e.is_Add:
            return None
        terms = list(e.args)
        numbers = [t for t in terms if t.is_Number]
        for index, term in enumerate(terms):
            coefficient, rest = term.as_coeff_Mul()
            if numbers and isinstance(rest, function) and abs(coefficient) == abs(numbers[0]):
                c = numbers[0]
                others = [t for i, t in enumerate(terms) if i != index and t is not c]
                return (rest.args[0] if coefficient == c else -rest.args[0]), c, sp.Add(*others)
        return None
    return match


def _exp_times_sigmoid(e):
    """(u, the other factors) when e is a product holding e^u·σ(−u) (e^u/(1 + e^u), σ(u) spelled out)."""
    if not e.is_Mul:
        return None
    for x in (f for f in e.args if isinstance(f, sp.exp)):
        for s in (f for f in e.args if isinstance(f, sigmoid)):
            if sp.expand(x.args[0] + s.args[0]) == 0:
                return x.args[0], e / (x * s)
    return None


# ---------------------------------------------------------------- products in log space
def _log_factor(base) -> tuple | None:
    """(a stable form of log base, the extremes base can reach: a set of "0" and "inf") for a function with a log
    form in the table, or 1 − σ(u) = σ(−u); else None. The extremes are the table's ``tails``, less the end of the
    argument's range that SymPy knows it never reaches (e^(−z²/2) never overflows)."""
    u = _one_minus_sigmoid(base)
    if u is not None:
        base = sigmoid(-u)
    entry = FUNCTIONS.get(base.func)
    if entry is None or entry.log is None:
        return None
    (arg,) = base.args
    reach = {entry.tails[0] if not arg.is_nonnegative else "", entry.tails[1] if not arg.is_nonpositive else ""}
    return entry.log(arg), reach - {""}


def _log_factors(e) -> tuple[list, list, set, set]:
    """(k·log f for each factor f^k of the product e with a stable log, e's other factors, the indices of the
    former that can overflow, and of those that can underflow)."""
    logs, others, over, under = [], [], set(), set()
    for factor in sp.Mul.make_args(e):
        base, k = (factor, sp.Integer(1)) if isinstance(factor, sp.exp) else factor.as_base_exp()
        found = _log_factor(base) if k.is_number and k.is_real else None
        if found is None:
            others.append(factor)
            continue
        form, reach = found
        if k < 0:                                   # 1/f overflows where f underflows, and the other way round
            reach = {{"0": "inf", "inf": "0"}[r] for r in reach}
        if "inf" in reach:
            over.add(len(logs))
        if "0" in reach:
            under.add(len(logs))
        logs.append(k * form)
    return logs, others, over, under


def _overflow_times_underflow(e) -> bool:
    """True when one factor of the product e can overflow while another underflows (inf·0 or inf/inf: NaN)."""
    _, _, over, under = _log_factors(e)
    return any(i != j for i in over for j in under)


def _in_log_space(e) -> sp.Expr:
    """exp(Σ k·log f over the factors f^k of the product e that have a stable log) times its other factors."""
    logs, others, _, _ = _log_factors(e)
    return sp.exp(sp.Add(*logs)) * sp.Mul(*others)


def _risky_product(e):
    """(the product e, or: its factors outside a sum s + t, s, and the terms t) when e is a product whose factors
    overflow times underflow, or would once distributed over such a term t of a sum factor (p·t with p the rest)."""
    if not e.is_Mul:
        return None
    if _overflow_times_underflow(e):
        return e, None, ()
    for factor in e.args:
        if factor.is_Add:
            outside = e / factor
            risky = [t for t in factor.args if _overflow_times_underflow(outside * t)]
            if risky:
                return outside, sp.Add(*[t for t in factor.args if t not in risky]), risky
    return None


def _log_space(m) -> sp.Expr:
    product, safe, risky = m
    if safe is None:
        return _in_log_space(product)
    return product * safe + sp.Add(*[_in_log_space(product * t) for t in risky])


NAMED = (
    Rewrite("1/(1 + e^(−u)) → σ(u)", _reciprocal_one_plus_exp, sigmoid, (lambda u: 1 / (1 + sp.exp(-u)),)),
    Rewrite("e^u·σ(−u) → σ(u)", _exp_times_sigmoid, lambda m: sigmoid(m[0]) * m[1],
            (lambda u: sp.exp(u) * sigmoid(-u), lambda u: u * sp.exp(-u) * sigmoid(u))),
    Rewrite("log(1 + e^u) → softplus(u)", _log_of(_one_plus_exp), softplus, (lambda u: sp.log(1 + sp.exp(u)),)),
    Rewrite("e^u − 1 → expm1(u)", _exp_minus_one, expm1, (lambda u: sp.exp(u) - 1,)),
    Rewrite("c ± c·erf(u/√2) → 2c·Φ(±u)", _constant_plus(sp.erf),
            lambda m: 2 * m[1] * normal_cdf(sp.sqrt(2) * m[0]) + m[2],
            (lambda u: (1 + sp.erf(u / sp.sqrt(2))) / 2, lambda u: u * (1 - sp.erf(u / sp.sqrt(2))),
             lambda u: sp.erf(u / sp.sqrt(2)) / 2 + sp.Rational(1, 2) + u * sp.exp(-u**2 / 2))),
    Rewrite("c ± c·tanh(u) → 2c·σ(±2u)", _constant_plus(sp.tanh), lambda m: 2 * m[1] * sigmoid(2 * m[0]) + m[2],
            (lambda u: (1 + sp.tanh(u)) / 2, lambda u: 1 - sp.tanh(u))),
)

def _log_form_rule(entry) -> Rewrite:
    """log f(u) → the stable log form the function table gives f."""
    function = entry.sympy
    return Rewrite(f"log {entry.text or entry.name}(u) → {entry.log(_u)}",
                   lambda e: e.args[0].args[0] if isinstance(e, sp.log) and e.args[0].func is function else None,
                   entry.log, (lambda u: sp.log(function(u)),))


_u = sp.Symbol("u", real=True)
# one rule per function with a log form that SymPy does not apply by itself (it does log e^u = u)
_LOG_FORMS = tuple(_log_form_rule(entry) for entry in FUNCTIONS.values()
                   if entry.log is not None and sp.log(entry.sympy(_u)).func is sp.log)

STABLE = (
    *_LOG_FORMS,
    Rewrite("log(1 − σ(u)) → −softplus(u)", _log_of(_one_minus_sigmoid), lambda u: -softplus(u),
            (lambda u: sp.log(1 - sigmoid(u)),)),
    Rewrite("log(1 + u) → log1p(u)", _log_of(_one_plus), log1p, (lambda u: sp.log(1 + u),)),  # after the σ forms
    Rewrite("∏ f^k → exp(Σ k·log f) where some f overflow and others underflow (p·(s + t) → p·s + p·t first)",
            _risky_product, _log_space,
            (lambda u: sigmoid(u) / softplus(u), lambda u: sp.exp(u) / sp.cosh(u / 2)**2,
             lambda u: 1 / (sigmoid(u) * (1 - sigmoid(u)) * sp.cosh(u / 2)**2),
             lambda u: sigmoid(u) * (1 - 3 / softplus(u)), lambda u: (u + sp.exp(u) + 1) / sp.cosh(u / 2)**2)),
)

CHEAPER_IF_EXPANDED = (
    Rewrite("softplus(−u) → softplus(u) − u",
            lambda e: e.args[0] if isinstance(e, softplus) and e.args[0].could_extract_minus_sign() else None,
            lambda u: softplus(-u) + u, (lambda u: softplus(-u),)),
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
