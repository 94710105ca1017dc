"""Random test points drawn from what the catalogue declares: z on the real line, labels from the loss's label
set, both kept off every kink. One sampler serves the derivation's own checks, the tests and ``derive verify``.

A point is kept only where a = f(z) and L(a, y) are finite real numbers in double precision; when there are not
enough such points (exp nested 8 deep is infinite everywhere), the expression cannot be checked numerically and
``Unsampleable`` says so.
"""
from __future__ import annotations

import math
import random

import sympy as sp

from derive import budget
from derive.catalogue.functions import expand_named
from derive.catalogue.symbols import a, y, z
from derive.errors import Unsampleable

Z_RANGE = (-3.0, 3.0)
KINK_MARGIN = 0.05


def draw(values: sp.Set, rng: random.Random) -> float:
    """A float inside ``values`` (an interval, the reals, or a finite set), away from open ends."""
    if isinstance(values, sp.FiniteSet):
        return float(rng.choice(sorted(values)))
    if values in (sp.Naturals0, sp.Naturals):
        return float(rng.randrange(0, 4))
    low = -2.0 if values.inf == -sp.oo else float(values.inf)
    high = low + 4.0 if values.sup == sp.oo else float(values.sup)
    return rng.uniform(low + 1e-3, high - 1e-3)


def head_points(activation, loss, count: int = 12, seed: int = 0) -> list[dict]:
    """Points {z, a, y} with a = f(z), off the kinks of both the activation and the loss, where f and L are finite."""
    f = _finite(sp.lambdify(z, expand_named(activation.expr), modules="math"))
    loss_expr = getattr(loss, "expr", sp.Integer(0))  # a stand-in without one samples the activation alone
    loss_value = _finite(sp.lambdify((a, y), expand_named(loss_expr), modules="math"))
    kinks = [_finite(sp.lambdify((z, a, y), expand_named(k), modules="math")) for k in (*activation.kinks, *loss.kinks)]
    rng, found = random.Random(seed), []
    for _ in range(count * 50):
        zz = rng.uniform(*Z_RANGE)
        point = {z: zz, a: f(zz), y: draw(loss.labels.values, rng)}
        if point[a] is None or loss_value(point[a], point[y]) is None:
            continue
        if all(_off(k(*point.values())) for k in kinks):
            found.append(point)
        if len(found) == count:
            return found
    raise Unsampleable(f"the derivatives of {activation.text} = {budget.shown(activation.expr)} with {loss.name} "
                       f"cannot be checked: there are not {count} points z in [{Z_RANGE[0]:g}, {Z_RANGE[1]:g}], off "
                       f"the kinks, where both are finite in double precision")


def _finite(f):
    """``f`` returning None instead of raising, or of returning a complex, infinite or NaN value."""
    def safe(*args):
        try:
            value = complex(f(*args))
        except (ArithmeticError, ValueError, TypeError):
            return None
        return value.real if value.imag == 0 and math.isfinite(value.real) else None
    return safe


def _off(kink_value: float | None) -> bool:
    """A kink expression's value far enough from 0 (an overflowing one is far)."""
    return kink_value is None or abs(kink_value) > KINK_MARGIN
