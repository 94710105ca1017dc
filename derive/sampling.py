"""Random test points drawn from what the catalogue declares: z on the real line, labels from the loss's label
set, both kept off every kink. One sampler serves the derivation's own checks, the tests and ``derive verify``.
"""
from __future__ import annotations

import math
import random

import sympy as sp

from derive.catalogue.functions import expand_named
from derive.catalogue.symbols import a, y, z

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
    """Points {z, a, y} with a = f(z), off the kinks of both the activation and the loss."""
    f = sp.lambdify(z, expand_named(activation.expr), modules="math")
    kinks = [sp.lambdify((z, a, y), expand_named(k), modules="math")
             for k in (*activation.kinks, *loss.kinks)]
    rng, found = random.Random(seed), []
    for _ in range(count * 50):
        zz = rng.uniform(*Z_RANGE)
        point = {z: zz, a: float(f(zz)), y: draw(loss.labels.values, rng)}
        if all(abs(k(*point.values())) > KINK_MARGIN for k in kinks) and math.isfinite(point[a]):
            found.append(point)
        if len(found) == count:
            return found
    raise RuntimeError(f"could not draw {count} points off the kinks of {activation.name} and {loss.name}")
