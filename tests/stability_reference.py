"""Exact values for tests/test_stability.py: a SymPy expression at a point, in mpmath, and how far float64 may miss it.

``miss(got, expr, …)`` evaluates ``expr`` with every named function (σ, softplus, Φ …) by its definition in mpmath,
never through derive's kernels or rewrites. Spelled-out forms cancel (log(1 + e^-750), 1 − tanh² 300, 1 + erf(−20),
cosh(10^-130) − 1), so the precision is read off the expression at the point: its largest exponent (750 in e^-750,
2·300 in tanh 300, 20²/2 in erf(−20/√2)) times log2(e), what its tiny arguments need, and 128 bits more
(``precision``); then two evaluations 64 bits apart must agree, or the precision doubles (``settled``).

How far a correct float64 evaluation may miss: a kernel receives z, y and a = f(z) rounded, and its operations
round too, so it errs by about RTOL times the condition of the problem,
    cond = |v| + Σ_x |x ∂v/∂x|   over its inputs x (z, a, y),
plus ATOL for results that underflow (treated as correct when they do). Cancellation that is inherent in the
problem (a − y near a = y, GELU' at its zero) shows in cond, so it is allowed; cancellation that a rewrite should
have avoided (1 + erf(u) at u = −7, 1 − y/a with a = 0) does not, so it fails.
"""
from __future__ import annotations

import functools
import math

import mpmath
import sympy as sp

from derive.catalogue import functions


def _erf(x):
    """erf x, as 1 − erfc|x| with erfc at the relative precision that sum needs: erfc|x| < 2^(−1.44x²), so far
    fewer bits (mpmath's erf at 1000+ bits and 4 < |x| < 40 takes 10–100 ms; this, well under 1 ms)."""
    if abs(x) < 4:
        return mpmath.erf(x)
    outer = mpmath.mp.prec
    with mpmath.mp.workprec(max(64, outer - int(1.44 * float(x) ** 2) + 64)):
        tail = mpmath.erfc(abs(x))
    return mpmath.sign(x) * (1 - tail)


# Each named function of derive's table by its mathematical definition, written with mpmath's accurate functions;
# erf by the identity above, for speed.
DEFINITIONS = {
    "erf": _erf,
    "sigmoid": lambda u: 1 / (1 + mpmath.exp(-u)),
    "softplus": lambda u: mpmath.log1p(mpmath.exp(u)),
    "logcosh": lambda u: mpmath.log1p(2 * mpmath.sinh(u / 2) ** 2),   # cosh u − 1 = 2 sinh²(u/2) keeps small u
    "expm1": mpmath.expm1,
    "log1p": mpmath.log1p,
    "log_softplus": lambda u: mpmath.log(mpmath.log1p(mpmath.exp(u))),
    "normal_cdf": mpmath.ncdf,
}
MAX_PREC = 16384
# RTOL: a kernel rounds its inputs (a = f(z) to ≤ 3 ulp) and each of its operations (≤ 5 ulp for the _em and _sc
# functions, 0.5 ulp for arithmetic), so a chain of a few dozen operations errs by well under 1e-13 of cond; the
# worst seen over the sweep is 1.1e-13 (quick GELU's δ in log space, u − 2·logcosh(u/2) cancelling terms of 1200
# to 1.39). A wrong form (a branch, an avoidable cancellation, an overflow) misses by 1e-8 or far more.
# ATOL: results below 1e-300 may underflow to 0 or lose digits as subnormals.
RTOL, ATOL = 1e-12, 1e-300
DBL_MAX = 1.7976931348623157e308


def named_functions_without_definition() -> list[str]:
    """Named functions of derive's table that DEFINITIONS lacks (a test asserts there are none)."""
    return sorted(f.__name__ for f in functions.NAMED if f.__name__ not in DEFINITIONS)


def _no_dirac(expr: sp.Expr) -> sp.Expr:
    """∂ of sign or Heaviside: 0 away from the kink (the sample points avoid kinks)."""
    return expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.Integer(0))


@functools.lru_cache(maxsize=None)
def _value(expr: sp.Expr, args: tuple, inner: tuple):
    """v as an mpmath function of the free inputs (``args`` less the inner ones), ``inner`` = ((a, f(z)), …)."""
    full, free = _composed(expr, args, inner)
    return sp.lambdify(free, full, modules=[DEFINITIONS, "mpmath"])


@functools.lru_cache(maxsize=None)
def _composed(expr: sp.Expr, args: tuple, inner: tuple) -> tuple:
    """(expr with ``inner`` put in, its free inputs)."""
    return expr.xreplace(dict(inner)), tuple(x for x in args if x not in dict(inner))


@functools.lru_cache(maxsize=None)
def _partials(expr: sp.Expr, args: tuple, inner: tuple) -> tuple:
    """(x, ∂v/∂x) for each input x of the kernel, as mpmath functions of the free inputs; a kernel takes a = f(z)
    as an input, rounded, so ∂v/∂a is taken before f(z) is put in."""
    return tuple((_value(x, args, inner), _value(_no_dirac(sp.diff(expr, x)), args, inner)) for x in args)


# How fast each function's terms decay, as a multiple of its argument's size: tanh x = 1 − 2e^(−2x) + …, so
# 1 − tanh x needs 2x·log2(e) bits; erf x = 1 − e^(−x²)/(x√π) + …, so 1 + erf(−x) needs x²·log2(e) bits.
GROWTH = {sp.exp: 1, sp.tanh: 2, sp.cosh: 2, sp.sinh: 2, functions.sigmoid: 1, functions.softplus: 1,
          functions.logcosh: 2, functions.log_softplus: 1, functions.expm1: 1}
SQUARED = {sp.erf: 1, sp.erfc: 1, functions.normal_cdf: 0.5}
TINY = {sp.exp: 1, sp.cosh: 2}   # e^x − 1 ≈ x and cosh x − 1 ≈ x²/2 cancel at tiny x
# Beyond these, terms are too small to matter in any result float64 can hold, even divided by e^-750: the
# largest exponent any swept expression resolves is 2·750 (1 + tanh z at z = −750).
ERF_BITS, MAX_EXPONENT = 1200, 1600


@functools.lru_cache(maxsize=None)
def _arguments(expr: sp.Expr, free: tuple):
    """The arguments of expr's exponential-like functions, as one mpmath function of the free inputs, with the
    weight that turns an argument's size into the exponent its terms decay with."""
    found = [(f.args[0], f) for f in sp.preorder_traversal(expr) if f.func in GROWTH or f.func in SQUARED]
    args = sp.lambdify(free, [arg for arg, _ in found] or [sp.Integer(0)], modules=[DEFINITIONS, "mpmath"])
    return args, [f.func for _, f in found]


def precision(expr: sp.Expr, free: tuple, point) -> int:
    """Bits that resolve every cancellation of the expression's exponentially small terms at ``point``: its largest
    exponent times log2(e), plus 128 bits, plus what tiny arguments need (e^x − 1 and cosh x − 1 at x = 1e-300).
    The arguments are sized at 64 bits, then again at the bits their exponents call for, so an argument that is
    itself a cancellation (cosh(log(1 + e^-300))) is seen at its true size."""
    args, kinds = _arguments(expr, free)
    prec = 64
    for _ in range(2):
        with mpmath.mp.workprec(prec):
            sizes = [abs(mpmath.mpf(v)) for v in args(*[mpmath.mpf(p) for p in point])]
        exponent = max([0.0] + [float(GROWTH[k] * s) if k in GROWTH else min(float(SQUARED[k] * s * s), ERF_BITS)
                                for k, s in zip(kinds, sizes)])
        tiny = max([0.0] + [-TINY.get(k, 0) * float(mpmath.log(s, 2)) for k, s in zip(kinds, sizes) if s])
        prec = int(128 + 1.4427 * min(exponent, MAX_EXPONENT) + min(tiny, 2 * 1100))
    return prec


def _at(function, point, prec):
    """function(point) at ``prec`` bits: a real mpmath number; None where it is complex or infinite; ZeroDivisionError
    where it divides by 0 (a cancellation ``prec`` did not resolve, or a true pole)."""
    with mpmath.mp.workprec(prec):
        v = mpmath.mpmathify(function(*[mpmath.mpf(p) for p in point]))
        return +v if isinstance(v, mpmath.mpf) and mpmath.isfinite(v) else None


def settled(function, point, start: int) -> tuple:
    """(bits, value): from ``start`` bits on, doubling until two evaluations 64 bits apart agree (or both lie below
    ATOL/4); value None where the function is not a real number at the point. A value that never settles by MAX_PREC
    bits is an error of the reference, raised, never a pass."""
    prec = start
    while prec <= MAX_PREC:
        try:
            v, check = _at(function, point, prec), _at(function, point, prec + 64)
        except ZeroDivisionError:
            v = check = 0
        else:
            if v is None or check is None:
                return prec, None
            if abs(v - check) <= abs(check) * mpmath.mpf(2) ** -100 or max(abs(v), abs(check)) < ATOL / 4:
                return prec + 64, check
        prec *= 2
    raise ArithmeticError(f"no settled value at {point} by {MAX_PREC} bits: {v} and {check}")


@functools.lru_cache(maxsize=None)   # modules share pieces: an activation feeds six losses, an MLP a neuron's head
def miss(got: float, expr: sp.Expr, args: tuple, point: tuple, inner: tuple = (), scale: sp.Expr | None = None):
    """Why the float64 ``got`` is not ``expr`` at ``point`` (the free inputs) to within RTOL·(cond + |scale|) + ATOL,
    or None when it is, or when the true value is not a finite float64 (where a kernel may overflow). ``scale``
    widens the slack where a cancellation is accepted on purpose."""
    prec, v = settled(_value(expr, args, inner), point, precision(*_composed(expr, args, inner), point))
    if v is None or abs(v) > DBL_MAX:
        return None
    with mpmath.mp.workprec(prec):
        wide = abs(_at(_value(scale, args, inner), point, prec)) if scale is not None else 0
        error = abs(mpmath.mpf(got) - v) if math.isfinite(got) else mpmath.inf
        if error <= RTOL * (abs(v) + wide) + ATOL:
            return None                       # cond ≥ |v|: the partial derivatives are needed only beyond this
        terms = [(settled(x, point, prec)[1], settled(d, point, prec)[1]) for x, d in _partials(expr, args, inner)]
        if any(t is None for pair in terms for t in pair):
            return f"got {got!r}, true {mpmath.nstr(v, 17)}, and ∂v/∂x is not a real number (a kink at the point?)"
        cond = abs(v) + sum(abs(x * d) for x, d in terms)
        if error <= RTOL * (cond + wide) + ATOL:
            return None
    return f"got {got!r}, true {mpmath.nstr(v, 17)} (cond {mpmath.nstr(cond, 3)})"
