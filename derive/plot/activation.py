"""An activation and its derivative over z: f(z) solid, f'(z) dashed, each kink marked where f' jumps.

Both curves come from the registry entry (its expression, and its derivative in the textbook's form, in a and z);
the kinks are the zeros of the entry's kink expressions.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from derive.catalogue.symbols import a, z
from derive.derivations.example.network import numeric
from derive.errors import BadValue
from derive.plot.style import BLUE, GREY, ORANGE
from derive.render.printers import TextPrinter

SPAN = (-6.0, 6.0)
SAMPLES = 1201


def kinks(activation) -> list[float]:
    """The z where f' jumps, within the plotted span."""
    found = []
    for expr in activation.kinks:
        zeros = sp.solveset(expr, z, sp.Interval(*SPAN))
        if isinstance(zeros, sp.FiniteSet):
            found += [float(v) for v in zeros]
    return sorted(set(found))


def draw(container, activation) -> None:
    """f and f' of ``activation`` over z ∈ [−6, 6] in one axes of ``container`` (a Figure or SubFigure)."""
    if activation.vector:
        raise BadValue(f"{activation.name} couples the outputs of a layer, so it has no curve over one z; "
                       f"plot --figure loss or graph of a worked example instead")
    ax = container.subplots()
    zs = np.linspace(*SPAN, SAMPLES)
    breaks = kinks(activation)
    with np.errstate(all="ignore"):
        f = np.broadcast_to(numeric(activation.expr, (z,))(zs), zs.shape).astype(float)
        slope = np.broadcast_to(numeric(activation.derivative, (a, z))(f, zs), zs.shape).astype(float)
    for k in breaks:   # leave the jump open rather than draw a vertical stroke through it
        slope = np.where(np.abs(zs - k) < (zs[1] - zs[0]) / 2, np.nan, slope)
    name = activation.text
    ax.plot(zs, f, color=BLUE, label=f"{name}(z)")
    ax.plot(zs, slope, color=ORANGE, linestyle="--",
            label=f"{name}′(z) = {TextPrinter().doprint(activation.derivative)}")
    for k in breaks:   # open circles for the two one-sided limits, a filled one for the value taken at the kink
        ax.axvline(k, color=GREY, linestyle=":", linewidth=1)
        at = lambda u: float(np.broadcast_to(numeric(activation.derivative, (a, z))(
            numeric(activation.expr, (z,))(u), u), ()))
        with np.errstate(all="ignore"):
            left, right, taken = at(k - 1e-9), at(k + 1e-9), at(k)
        ax.plot([k, k], [left, right], linestyle="none", marker="o", markerfacecolor="white",
                markeredgecolor=ORANGE, markersize=7, zorder=3)
        ax.plot([k], [taken], linestyle="none", marker="o", color=ORANGE, markersize=4, zorder=4)
        ax.annotate(f"kink at z = {k:g}: {name}′({k:g}) = {taken:g}", (k, max(left, right)), textcoords="offset points",
                    xytext=(-8, 8), ha="right", fontsize=9, color=GREY)
    ax.axhline(0, color=GREY, linewidth=0.8)
    ax.set_xlabel("z")
    ax.set_title(f"{name} and its derivative")
    ax.legend(loc="best")
