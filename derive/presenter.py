"""Pick the textbook arrangement of an expression without changing its value.

SymPy's own simplify often lands on forms no textbook prints (e^(−z)/(1 + e^(−z))² for σ'), so the catalogue
declares the textbook form and the presenter proves it equal; for products it keeps the chain's order and
cancels only when that makes the expression shorter. Every choice is checked with ``assert_same``.
"""
from __future__ import annotations

import math
import random

import sympy as sp

from sympy.core.parameters import distribute

from derive import budget
from derive.catalogue.functions import expand_named
from derive.catalogue.symbols import a
from derive.errors import Unsampleable
from derive.notation import Times, times, value


SIMPLIFY_SECONDS = 1.0  # the time slice for each form ``simplest`` tries
UNDEFINED = (sp.zoo, sp.nan, sp.oo, -sp.oo)
# sympy.diff of sign(u), |u| and max/min brings δ(u) and the step H(u); off the kinks, where every checked point
# lies, δ is 0 (PyTorch's sign' is 0 too) and H(u) = (1 + sign u)/2 (lambdify would rewrite H through sets,
# which takes minutes for a Max of a few arguments).
OFF_KINK = {sp.DiracDelta: lambda *args: sp.S.Zero, sp.Heaviside: lambda u, *at_zero: (1 + sp.sign(u)) / 2}


class Mismatch(AssertionError):
    """A shown expression differs from the value it claims: a bug in derive, never a user error."""


def assert_same(shown, truth, points) -> None:
    """``shown`` equals ``truth`` at every point (dicts symbol -> float) where both are finite."""
    shown_f = _numeric(shown)
    truth_f = _numeric(truth)
    checked = 0
    for point in points:
        s, t = _at(shown_f, point), _at(truth_f, point)
        if s is None or t is None:
            continue
        checked += 1
        if not math.isclose(s, t, rel_tol=1e-9, abs_tol=1e-12):
            raise Mismatch(f"{shown} = {s} but {truth} = {t} at {point}")
    if checked == 0:  # nothing was wrong, but nothing could be checked: say so, as for any unsampleable input
        raise Unsampleable(f"the derivative {budget.shown(value(truth))} cannot be checked: it is not finite in double "
                           f"precision at any of the {len(points)} points drawn")


def arrange_product(*factors, prediction=None) -> sp.Expr:
    """The product of ``factors`` in the textbook's arrangement.

    Keeps the chain's order (loss factors, then activation factors, then inputs) unless cancelling makes the
    expression clearly shorter; then the error factor (a − y) is oriented with the prediction first.
    """
    prediction = prediction if prediction is not None else a
    with distribute(False):
        plain = [f for factor in factors for f in _factor_list(factor)]
        coefficient = sp.Mul(*[f for f in plain if f.is_number])
        ordered = times(coefficient, *[f for f in plain if not f.is_number])
        cancelled = _oriented(sp.factor(sp.cancel(value(ordered))), prediction)
    if _shown_ops(cancelled) + 2 <= _shown_ops(ordered):
        return cancelled
    return ordered


def simplest(expr: sp.Expr) -> sp.Expr:
    """The shortest of a few equal forms of ``expr``, for derivatives the catalogue does not declare.

    The forms: ``expr``, and simplify, factor and cancel of it and of it with its signs folded (u·sign(u) = |u|,
    true at every u, so (1 + |z| − z·sign(z))/(1 + |z|)² becomes 1/(1 + |z|)²). Under a budget (a user's
    expression) each is tried within a time slice, and one that runs past it is left out; for the registry's
    entries every form is computed, so the result never depends on the machine's load.
    """
    candidates = list(dict.fromkeys([expr, _signs_folded(expr)]))
    for start in list(candidates):
        for rewrite in (sp.simplify, sp.factor, sp.cancel):
            found = budget.attempt(SIMPLIFY_SECONDS, rewrite, start) if budget.bounded() else rewrite(start)
            if found is not None and not found.has(*UNDEFINED):
                candidates.append(found)
    return min(candidates, key=lambda e: (sp.count_ops(e), candidates.index(e)))


def _signs_folded(expr: sp.Expr) -> sp.Expr:
    """``expr`` with u·sign(u) written |u| and |u|·sign(u) written u, in every product."""
    def fold(product):
        factors = list(product.args)
        for sign in [f for f in factors if isinstance(f, sp.sign)]:
            u = sign.args[0]
            for partner, folded in ((u, sp.Abs(u)), (sp.Abs(u), u)):
                if sign in factors and partner in factors:
                    factors.remove(sign)
                    factors.remove(partner)
                    factors.append(folded)
        return sp.Mul(*factors)
    return expr.replace(lambda e: e.is_Mul and any(isinstance(f, sp.sign) for f in e.args), fold)


def _factor_list(expr) -> list:
    if isinstance(expr, Times):
        return [f for arg in expr.args for f in _factor_list(arg)]
    if isinstance(expr, sp.Mul):
        numbers = [f for f in expr.args if f.is_number]
        rest = [f for f in expr.args if not f.is_number]
        if any(f.is_Pow and f.exp.is_negative for f in rest):
            return [*numbers, sp.Mul(*rest)]
        return [*numbers, *rest]
    return [expr]


def _oriented(expr: sp.Expr, prediction) -> sp.Expr:
    """``expr`` as an ordered product whose sums read prediction-first (a − y, not y − a), error first."""
    coefficient, factors = sp.Integer(1), []
    for factor in _factor_list(expr):
        if factor.is_number:
            coefficient *= factor
            continue
        if factor.is_Add and factor.coeff(prediction).is_number and factor.coeff(prediction) < 0:
            coefficient, factor = -coefficient, _negated(factor)
        factors.append(factor)
    if coefficient.is_negative:  # absorb the sign into a factor such as (a − 1), giving (1 − a)
        for index, factor in enumerate(factors):
            if factor.is_Add and any(t.is_number for t in factor.args):
                coefficient, factors[index] = -coefficient, _negated(factor)
                break
    factors.sort(key=lambda f: not (f.is_Add and f.free_symbols - {prediction}))
    return times(coefficient, *factors)


def _negated(sum_: sp.Add) -> sp.Add:
    return sp.Add(*[-term for term in sum_.args])


def _shown_ops(expr) -> int:
    if isinstance(expr, Times):
        return sum(_shown_ops(f) for f in expr.args) + len(expr.args) - 1
    return int(sp.count_ops(expr))


def _numeric(expr):
    expr = expand_named(value(expr))
    for distribution, off_kink in OFF_KINK.items():
        expr = expr.replace(distribution, off_kink)
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    return symbols, sp.lambdify(symbols, expr, modules="math")


def _at(compiled, point):
    symbols, f = compiled
    try:
        result = complex(f(*[point[s] for s in symbols]))
    except (ZeroDivisionError, OverflowError, ValueError, KeyError):
        return None
    if abs(result.imag) > 1e-12 or not math.isfinite(result.real):
        return None
    return result.real


def random_points(samplers: dict, count: int = 12, seed: int = 0) -> list[dict]:
    """``count`` points, each symbol drawn by its sampler (a function of a ``random.Random``)."""
    rng = random.Random(seed)
    return [{s: draw(rng) for s, draw in samplers.items()} for _ in range(count)]


__all__ = ["Mismatch", "Times", "arrange_product", "assert_same", "random_points", "simplest"]
