"""The loss along one weight around the worked example's point, with the tangent there (slope ∂L/∂θ) and the path
of ``--steps`` gradient-descent steps, so that an overshoot, or a divergence, is visible.

Every other parameter stays at the point; the path's losses are the full losses of the trace (when other
parameters move too, the legend says so). ``choose`` reads a weight as the kernels store it: ``W2[0,1]``,
``w[0]`` or a name alone for its first entry.
"""
from __future__ import annotations

import re

import numpy as np

from derive.errors import BadValue, UnknownName
from derive.plot.style import BLUE, GREY, ORANGE, RED
from derive.render.printers import TextPrinter

SAMPLES = 401


def choose(example, weight: str | None):
    """(Parameter, storage index) of ``weight``, or of the first free weight of the top layer."""
    parameters = example.network.parameters
    if weight is None:
        free = [p for p in parameters if p.weight and p.name not in example.point.fixed] or \
               [p for p in parameters if p.weight]
        p = max(free, key=lambda p: p.layer)
        return p, p.entries(example.point.parameters[p.name].shape)[0]
    found = re.fullmatch(r"\s*([A-Za-z]\w*)\s*(?:\[([\d,\s]*)\])?\s*", weight)
    names = {p.name: p for p in parameters}
    if not found or found[1] not in names:
        raise UnknownName("--weight", weight, [f"{n}[…]" for n in names])
    p, shape = names[found[1]], example.point.parameters[found[1]].shape
    index = tuple(int(i) for i in found[2].split(",") if i.strip()) if found[2] else (0,) * len(shape)
    if len(index) != len(shape) or any(not 0 <= i < n for i, n in zip(index, shape)):
        raise BadValue(f"--weight {weight}: {p.name} has shape {shape}; give an index inside it, e.g. "
                       f"{p.name}[{','.join('0' * len(shape))}]")
    return p, index


def draw(container, example, weight: str | None = None) -> None:
    p, index = choose(example, weight)
    point, network = example.point, example.network
    theta0 = float(point.parameters[p.name][index])
    path = [float((point.parameters, *example.parameters_after)[s][p.name][index]) for s in range(len(example.passes))]
    losses = [done.loss for done in example.passes]
    low, high = min(path), max(path)
    half = max((high - low) * 0.6, 1.0, abs(theta0) * 0.5)
    thetas = np.linspace((low + high) / 2 - half, (low + high) / 2 + half, SAMPLES)

    def loss_at(theta: float) -> float:
        params = {n: np.array(v, dtype=float, copy=True) for n, v in point.parameters.items()}
        params[p.name][index] = theta
        try:
            return network.run(params, point.x, point.y).loss
        except Exception:   # noqa: BLE001 - a value where the loss is undefined: a gap in the curve
            return float("nan")

    curve = np.array([loss_at(t) for t in thetas])
    slope = float(example.first.gradients[p.name][index])
    entry = TextPrinter().doprint(p.entry(index))
    ax = container.subplots()
    ax.plot(thetas, curve, color=BLUE, label=f"L along {entry}, the rest held at the point")
    width = half / 3
    ax.plot([theta0 - width, theta0 + width], [losses[0] - slope * width, losses[0] + slope * width], color=ORANGE,
            linestyle="--", label=f"tangent: slope ∂L/∂{entry} = {slope:.4g}")
    if len(path) > 1:
        others = sum(v.size for n, v in point.parameters.items() if n not in point.fixed) > 1
        ax.plot(path, losses, color=RED, marker="o", markersize=4, linewidth=1,
                label="gradient-descent steps" + (" (other parameters move too)" if others else ""))
        _number_steps(ax, path, losses, (thetas[0], thetas[-1]), (np.nanmin([*curve, *losses]),
                                                                   np.nanmax([*curve, *losses])))
    ax.plot([theta0], [losses[0]], marker="o", color=ORANGE, markersize=6, linestyle="none")
    ax.axvline(theta0, color=GREY, linewidth=0.8, linestyle=":")
    ax.set_xlabel(entry)
    ax.set_ylabel("L")
    ax.set_title(f"The loss along {entry} at the point (α = {point.lr:g})")
    ax.legend(loc="best")


def _number_steps(ax, path, losses, xs, ys) -> None:
    """Step numbers beside the path's points, across the path (not on it), leaving out any that would sit on
    one already written."""
    places = [((t - xs[0]) / ((xs[1] - xs[0]) or 1), (v - ys[0]) / ((ys[1] - ys[0]) or 1))
              for t, v in zip(path, losses)]
    written = []
    for step, (t, value) in enumerate(zip(path, losses)):
        before, after = places[max(step - 1, 0)], places[min(step + 1, len(places) - 1)]
        dx, dy = after[0] - before[0], after[1] - before[1]
        norm = float(np.hypot(dx, dy)) or 1.0
        offset = (-dy / norm * 9, dx / norm * 9)   # 9 points across the direction of travel
        u, v = places[step]
        if all(abs(u - p) > 0.04 or abs(v - q) > 0.06 for p, q in written):
            ax.annotate(str(step), (t, value), textcoords="offset points", xytext=offset, ha="center", va="center",
                        fontsize=9, color=RED)
            written.append((u, v))
