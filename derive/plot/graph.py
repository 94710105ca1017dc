"""The computational graph of a worked example, in the style of CS231n's circuit diagrams: each wire carries its
forward value (green, above) and the gradient of the loss with respect to it (red, below).

- one neuron with one output: the circuit itself, wⱼ and xⱼ into ×, the products and b into +, then f, then L;
- any other stack (K outputs, softmax regression, an MLP): one node per unit, its activation above and its δ
  below, and L at the end; each weight's gradient is the δ of the unit it feeds times the value it carries.
"""
from __future__ import annotations

import numpy as np

from derive.errors import BadValue
from derive.plot.style import GREEN, GREY, INK, RED
from derive.render.printers import TextPrinter

MOST_INPUTS = 6      # a circuit draws every input's wires
MOST_UNITS = 8       # a unit graph draws every unit of a layer
CLEAR = dict(facecolor="white", edgecolor="none", pad=0.5, alpha=0.85)   # behind a label, so wires do not cross it
show = TextPrinter().doprint


def draw(container, example) -> None:
    sizes = example.point.sizes
    if len(sizes) == 2 and sizes[1] == 1:
        _circuit(container, example)
    else:
        _units(container, example)


def _value(v: float, digits: int = 4) -> str:
    return f"{v:.{digits}g}".replace("-", "−")


def _node(ax, xy, text, size=0.17, fill="white"):
    from matplotlib.patches import Circle
    ax.add_patch(Circle(xy, size, facecolor=fill, edgecolor=INK, linewidth=1.2, zorder=3))
    ax.text(*xy, text, ha="center", va="center", fontsize=11, zorder=4)


def _wire(ax, start, end, above: str, below: str, shrink=0.19, at=0.5, tail=0.0):
    """An arrow from ``start`` to ``end`` with ``above`` over it and ``below`` under it, at fraction ``at`` of its
    length, both turned along the wire (the axes keep an equal aspect, so data angles are screen angles)."""
    (x0, y0), (x1, y1) = start, end
    length = float(np.hypot(x1 - x0, y1 - y0)) or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    ax.annotate("", xy=(x1 - ux * shrink, y1 - uy * shrink), xytext=(x0 + ux * tail, y0 + uy * tail),
                arrowprops=dict(arrowstyle="-|>", color=GREY, linewidth=1.1, shrinkA=0, shrinkB=0), zorder=2)
    mx, my = x0 + (x1 - x0) * at, y0 + (y1 - y0) * at
    angle = float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))
    for text, side, colour in ((above, 1, GREEN), (below, -1, RED)):
        if text:
            ax.text(mx - uy * 0.08 * side, my + ux * 0.08 * side, text, color=colour, ha="center",
                    va="bottom" if side > 0 else "top", fontsize=9, rotation=angle, rotation_mode="anchor", zorder=5)


def _circuit(container, example) -> None:
    """wⱼ, xⱼ -> × -> + (with b) -> f -> L (with y): values above the wires, gradients below."""
    point, done, names = example.point, example.first, example.network.parameters
    w_name, b_name = names[0].name, names[1].name
    w, x, b = np.ravel(point.parameters[w_name]), point.x, float(point.parameters[b_name])
    if len(x) > MOST_INPUTS:
        raise BadValue(f"the circuit is drawn for at most {MOST_INPUTS} inputs, not {len(x)}; plot --figure loss")
    delta, dL_da = float(done.deltas[-1][0]), (float(done.head_factors[0][0]) if done.head_factors else None)
    grad_w, grad_b = np.ravel(done.gradients[w_name]), float(np.ravel(done.gradients[b_name])[0])
    ax = container.subplots()
    ax.set_axis_off()
    rows = len(x) + 1
    ys = np.linspace(rows - 1, 0, rows) * 1.5
    middle = float(np.mean(ys))
    plus, act, loss = (3.2, middle), (5.0, middle), (6.8, middle)
    for j in range(len(x)):
        w_symbol, x_symbol = names[0].entry((j,)), show(_names(example).input(j))
        times = (1.6, ys[j])
        for name, offset, value, gradient in ((show(w_symbol), 0.4, w[j], grad_w[j]),
                                              (x_symbol, -0.4, x[j], delta * w[j])):
            ax.text(0, ys[j] + offset, name, ha="right", va="center", fontsize=11)
            _wire(ax, (0.1, ys[j] + offset), times, _value(value), _value(gradient), at=0.4)
        _node(ax, times, "×")
        _wire(ax, times, plus, _value(w[j] * x[j]), _value(delta), tail=0.19)
    ax.text(0, ys[-1], show(names[1].entry(())), ha="right", va="center", fontsize=11)
    _wire(ax, (0.1, ys[-1]), plus, _value(b), _value(grad_b), at=0.35)
    _node(ax, plus, "+")
    _wire(ax, plus, act, f"z = {_value(done.zs[-1][0])}", f"∂L/∂z = {_value(delta)}", tail=0.19)
    _node(ax, act, _label(example))
    _wire(ax, act, loss, f"a = {_value(done.output[0])}", f"∂L/∂a = {_value(dL_da)}" if dL_da is not None else "",
          tail=0.19)
    _node(ax, loss, "L", fill="#f2f2f2")
    ax.text(loss[0], loss[1] + 0.25, f"L = {_value(done.loss)}", ha="center", va="bottom", color=GREEN, fontsize=9)
    ax.text(loss[0], loss[1] - 0.25, f"y = {_value(point.y[0])}", ha="center", va="top", fontsize=9)
    ax.set_xlim(-0.7, 7.4)
    ax.set_ylim(ys[-1] - 0.9, ys[0] + 0.9)
    ax.set_aspect("equal")
    ax.set_title("The neuron as a circuit: values (green) forward, gradients (red) back")


def _label(example) -> str:
    from derive.catalogue import ACTIVATIONS
    entry = ACTIVATIONS.get(example.network.derivation.activation)
    return entry.text if entry is not None else "f"


def _units(container, example) -> None:
    """One node per unit, a column per layer; its value above, its δ below."""
    point, done = example.point, example.first
    sizes = point.sizes
    if max(sizes) > MOST_UNITS:
        raise BadValue(f"the graph is drawn for at most {MOST_UNITS} units a layer, not {max(sizes)}; "
                       f"plot --figure delta or loss")
    ax = container.subplots()
    ax.set_axis_off()
    height = max(sizes)
    positions = {(l, u): (l * 3.0, ((sizes[l] - 1) / 2 - u) * 1.5) for l in range(len(sizes)) for u in range(sizes[l])}
    for layer in range(1, len(sizes)):
        for j in range(sizes[layer - 1]):
            for i in range(sizes[layer]):
                _wire(ax, positions[layer - 1, j], positions[layer, i], "", "", shrink=0.3, tail=0.3)
    for (layer, unit), xy in positions.items():
        symbol = _unit_symbol(example, layer, unit)
        _node(ax, xy, symbol, size=0.3, fill="#f2f2f2" if layer == 0 else "white")
        value = point.x[unit] if layer == 0 else done.activations[layer - 1][unit]
        ax.text(xy[0], xy[1] + 0.36, _value(value), color=GREEN, ha="center", va="bottom", fontsize=9, bbox=CLEAR)
        if layer:
            ax.text(xy[0], xy[1] - 0.36, f"δ = {_value(done.deltas[layer - 1][unit])}", color=RED, ha="center",
                    va="top", fontsize=9, bbox=CLEAR, zorder=5)
    end = (len(sizes) * 3.0 - 0.8, 0.0)
    for unit in range(sizes[-1]):
        ax.annotate("", xy=(end[0] - 0.3, end[1]), xytext=positions[len(sizes) - 1, unit],
                    arrowprops=dict(arrowstyle="-|>", color=GREY, linewidth=1.0, shrinkA=14, shrinkB=0))
    _node(ax, end, "L", size=0.3, fill="#f2f2f2")
    ax.text(end[0], end[1] + 0.36, _value(done.loss), color=GREEN, ha="center", va="bottom", fontsize=9)
    ax.set_xlim(-0.8, end[0] + 0.6)
    span = (height - 1) / 2 * 1.5
    ax.set_ylim(-span - 1.0, span + 1.0)
    ax.set_aspect("equal")
    ax.set_title("Each unit's value (green) forward and its error signal δ = ∂L/∂z (red) back;\n"
                 "every weight's gradient is δ of the unit it feeds times the value it carries: ∂L/∂Wᵢⱼ = δᵢ·aⱼ",
                 fontsize=10)


def _names(example):
    from derive.derivations.example.naming import Names
    return Names(example.network.derivation)


def _unit_symbol(example, layer: int, unit: int) -> str:
    names = _names(example)
    return show(names.input(unit) if layer == 0 else names.unit("a", layer, unit))
