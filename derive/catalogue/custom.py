"""Entries made from a user's expression (``--activation-expr``, ``--loss-expr``), parsed without eval.

Each is checked before any derivation work, within the budget (``derive.budget``):

- its size: operations, nesting, powers of sums, Max/Min arguments, and the size of its derivative; and its
  constants, which must fit in double precision (e^1000 does not, so no kernel could compute e^1000·z);
- its domain, from the conditions in ``DEFINED_WHERE`` and ``_power_condition`` (log u needs u > 0, a
  fractional power u**p needs u ≥ 0 as SymPy's real powers do, 1/u needs u ≠ 0 …), each solved with
  ``sympy.solveset``. An activation must be defined for every real z, since weights can make z anything; a loss
  accepts the predictions a where it is defined, and pairs are checked against that set as for a named loss.
  Where SymPy cannot solve a condition within its time slice, a grid of points decides, so a gap narrower than
  the grid may go unseen (the kernel then returns NaN there);
- an activation's output range, by ``function_range`` for small expressions, else the whole real line, so pair
  checks stay honest: a loss that needs (0, 1) refuses an activation whose range is unknown.

A custom loss takes any real label y: derive cannot tell 0/1 labels from counts or ±1 from the formula alone, so
its domain in a must hold for every real y (a loss such as log(a − y), whose domain moves with y, is refused).
To teach the domain check a new function, add one line to ``DEFINED_WHERE``.
"""
from __future__ import annotations

import sys
from functools import lru_cache

import sympy as sp
from sympy.calculus.util import function_range

from derive import budget
from derive.catalogue.activations import Activation
from derive.catalogue.losses import REAL, Loss
from derive.catalogue.symbols import a, y, z
from derive.errors import BadExpression
from derive.expressions import parse_expression
from derive.rules import differentiate

# f(u) is real and finite only where the condition holds; a function not listed is, for every real u.
DEFINED_WHERE = {
    sp.log: (lambda u: u > 0, "log needs a positive argument"),
    sp.tan: (lambda u: sp.Ne(sp.cos(u), 0), "tan is infinite where cos is 0"),
}
SOLVE_SECONDS = 2.0   # time slice for solving one condition, and for the output range
RANGE_SIZE = {"ops": 8, "nesting": 2, "degree": 4}  # function_range only below these: it can run for minutes
GRID = [k / 8 for k in range(-80, 81)] + [0.3, -0.3, 1e-3, -1e-3]  # the numeric fallback's points
LABEL_GRID = (-2.0, -1.0, 0.0, 0.5, 1.0, 3.0)


def custom_activation(text: str) -> Activation:
    """f(z) from ``text``, checked to be within the budget and defined for every real z."""
    return _activation(text, budget.current())


def custom_loss(text: str) -> Loss:
    """L(a, y) from ``text``, checked to be within the budget; it accepts the predictions where it is defined."""
    return _loss(text, budget.current())


def _parsed(text: str, symbols: dict, variable: sp.Symbol, what: str, example: str):
    """The parsed expression, refused unless it depends on ``variable`` and fits the budget, and where it is
    undefined (symbol -> (set, reason))."""
    expr = parse_expression(text, symbols, what=what)
    if variable not in expr.free_symbols:
        raise BadExpression(f"{what} {budget.shown(expr)} does not depend on {variable}; write {example}")
    _check_cost(expr, variable, what)
    return expr, _undefined(expr, variable)


@lru_cache(maxsize=64)
def _activation(text: str, limits: budget.Budget) -> Activation:
    what = "activation expression"
    expr, undefined = _parsed(text, {"z": z}, z, what, "f(z), e.g. z/(1+Abs(z))")
    if z in undefined:
        bad, reason = undefined[z]
        hint = "; for a real root of any sign write sign(z)*Abs(z)**p" if "fractional" in reason else ""
        raise BadExpression(f"{what} {budget.shown(expr)} is undefined for {_where(z, bad)} ({reason}); an "
                            f"activation must be defined for every real z, since the weights can make z anything"
                            f"{hint}")
    return Activation("custom", expr, None, _range(expr), "f", "f", f"custom: f(z) = {sp.sstr(expr)}", "",
                      kinks=_kinks(expr))


@lru_cache(maxsize=64)
def _loss(text: str, limits: budget.Budget) -> Loss:
    what = "loss expression"
    expr, undefined = _parsed(text, {"a": a, "y": y}, a, what, "L(a, y), e.g. (a-y)**2")
    if y in undefined:
        bad, reason = undefined[y]
        raise BadExpression(f"{what} {budget.shown(expr)} is undefined for the label {_where(y, bad)} ({reason}); "
                            f"custom losses take any real label y")
    bad, reason = undefined.get(a, (sp.S.EmptySet, ""))
    accepts = sp.Reals if bad.is_empty else sp.Complement(sp.Reals, bad)
    if bad.free_symbols or accepts.is_empty:
        because = ("which depends on the label y; custom losses take any real label, so the predictions they "
                   "accept must not depend on y") if bad.free_symbols else "so no activation can feed it"
        raise BadExpression(f"{what} {budget.shown(expr)} is undefined for {_where(a, bad)} ({reason}), {because}")
    return Loss("custom", expr, None, accepts, f"where L(a, y) is undefined ({reason})" if reason else "", REAL,
                r"\mathcal{L}", f"custom: L(a, y) = {sp.sstr(expr)}", "", kinks=_kinks(expr))


def _check_cost(expr: sp.Expr, var: sp.Symbol, what: str) -> None:
    budget.check_size(expr, what)
    for constant in _constants(expr):
        if abs(sp.N(constant)) > sys.float_info.max:
            raise BadExpression(f"{what} {budget.shown(expr)} has the constant {budget.shown(constant, 20)} ≈ "
                                f"{sp.N(constant, 3)}, beyond double precision (at most about 1.8e+308), so no "
                                f"kernel can compute it")
    budget.check_derivative(expr, differentiate(expr, var).result, what)


def _constants(expr: sp.Expr):
    """The largest parts of ``expr`` without a symbol: e^1000 in e^1000·z."""
    if expr.is_number:
        yield expr
    else:
        for arg in expr.args:
            yield from _constants(arg)


# --- domain -------------------------------------------------------------------------------------------------------
def _power_condition(base: sp.Expr, exponent: sp.Expr):
    """Where SymPy's real power base**exponent is defined: (condition, reason), or None when it always is."""
    if exponent.is_Integer:
        return None if exponent >= 0 else (sp.Ne(base, 0), "division by zero")
    if not exponent.is_number:
        return base > 0, "a power with a variable exponent needs a positive base"
    if exponent.is_positive:
        return base >= 0, "a fractional power needs a non-negative base"
    return base > 0, "a negative fractional power needs a positive base"


def _conditions(expr: sp.Expr):
    """(condition, reason) for each part of ``expr`` that is not defined for every real argument."""
    for node in sp.preorder_traversal(expr):
        if node.func in DEFINED_WHERE:
            condition, reason = DEFINED_WHERE[node.func]
            found = (condition(node.args[0]), reason)
        elif node.is_Pow:
            found = _power_condition(*node.as_base_exp())
        else:
            continue
        if found is not None and found[0] is not sp.true:
            yield found


def _undefined(expr: sp.Expr, var: sp.Symbol) -> dict:
    """{symbol: (the set where ``expr`` is undefined, the reasons)} for ``var``, and for any other symbol (a label)
    that a condition holds on its own; empty when ``expr`` is defined for every real value of each."""
    found: dict = {}
    for condition, reason in _conditions(expr):
        unknown = var if var in condition.free_symbols else min(condition.free_symbols, key=str, default=var)
        bad = _solve(condition, unknown)
        if bad is not None and not bad.is_empty:
            before, reasons = found.get(unknown, (sp.S.EmptySet, ()))
            found[unknown] = (sp.Union(before, bad), (*reasons, reason))
    return {s: (bad, "; ".join(dict.fromkeys(reasons))) for s, (bad, reasons) in found.items()}


def _solve(condition, unknown: sp.Symbol) -> sp.Set | None:
    """The ``unknown`` where ``condition`` fails: by solveset within its slice, else the grid's first failing point."""
    if condition is sp.false:
        return sp.Reals
    solved = budget.attempt(SOLVE_SECONDS, _solveset, condition.negated, unknown)
    if solved is not None and not isinstance(solved, sp.ConditionSet):
        return solved
    return _grid_failure(condition, unknown)


def _solveset(relation, unknown):
    try:
        return sp.solveset(relation, unknown, sp.Reals)
    except (NotImplementedError, ValueError, TypeError):
        return None


def _grid_failure(condition, var: sp.Symbol) -> sp.Set | None:
    symbols = sorted(condition.free_symbols, key=lambda s: s != var)
    holds = sp.lambdify(symbols, condition, modules="mpmath")
    labels = LABEL_GRID if len(symbols) > 1 else (None,)
    for value in GRID:
        for label in labels:
            budget.check()
            try:
                ok = bool(holds(value, label) if label is not None else holds(value))
            except (ArithmeticError, ValueError, TypeError):
                ok = False
            if not ok:
                return sp.FiniteSet(sp.Rational(value))
    return None


def _where(var: sp.Symbol, bad: sp.Set) -> str:
    """'z ≤ 0', 'z = 0', 'every real z', 'a in [0, 1]' … for the set where something is undefined."""
    if bad == sp.Reals:
        return f"every real {var}"
    if isinstance(bad, sp.FiniteSet):
        return f"{var} = {', '.join(budget.shown(v, 20) for v in bad)}"
    if isinstance(bad, sp.Interval) and sp.oo in (bad.sup, -bad.inf):
        low = bad.sup == sp.oo
        end, open_ = (bad.inf, bad.left_open) if low else (bad.sup, bad.right_open)
        sign = (">" if open_ else "≥") if low else ("<" if open_ else "≤")
        return f"{var} {sign} {budget.shown(end, 30)}"
    if isinstance(bad, sp.Interval):
        return (f"{var} in {'(' if bad.left_open else '['}{budget.shown(bad.inf, 20)}, "
                f"{budget.shown(bad.sup, 20)}{')' if bad.right_open else ']'}")
    first = bad.args[0] if isinstance(bad, sp.Union) else bad
    if isinstance(first, sp.ImageSet) and 0 in first.base_set:  # tan's poles: pi/2 + 2πn …
        return f"{var} = {budget.shown(first.lamda(0), 20)} and infinitely many others"
    return f"{var} in {budget.shown(bad, 50)}"


# --- range and kinks ------------------------------------------------------------------------------------------------
def _range(expr: sp.Expr) -> sp.Set:
    """f's output range by ``function_range`` for small f (bounded by a time slice), else the whole line."""
    small = (sp.count_ops(expr) <= RANGE_SIZE["ops"] and budget.nesting(expr) <= RANGE_SIZE["nesting"]
             and max((abs(p.exp) for p in expr.atoms(sp.Pow) if p.exp.is_Integer), default=0) <= RANGE_SIZE["degree"])
    found = budget.attempt(SOLVE_SECONDS, _function_range, expr) if small else None
    return found if isinstance(found, sp.Interval) else sp.Reals


def _function_range(expr):
    try:
        return function_range(expr, z, sp.Reals)
    except Exception:  # SymPy cannot bound every expression; the whole line is the honest answer
        return None


def _kinks(expr: sp.Expr) -> tuple:
    """Expressions whose zeros are the kinks: u for |u| and sign(u); for max/min, u − v where the two arguments u
    and v tie, and beyond two arguments only where they tie at the top (|u − v| plus how far the others are above)."""
    found = [f.args[0] for f in expr.atoms(sp.Abs, sp.sign)]
    for f in sorted(expr.atoms(sp.Max, sp.Min), key=sp.default_sort_key):
        for i, u in enumerate(f.args):
            for v in f.args[i + 1:]:
                others = [w for w in f.args if w not in (u, v)]
                beyond = (sp.Max(0, sp.Max(*others) - sp.Min(u, v)) if isinstance(f, sp.Max) else
                          sp.Max(0, sp.Max(u, v) - sp.Min(*others))) if others else None
                found.append(u - v if beyond is None else sp.Abs(u - v) + beyond)
    return tuple(found)
