"""‖δ⁽ˡ⁾‖ of every layer of an MLP at the worked example's point, from the output down to the first layer, on a
logarithmic scale, each bar labelled with its length and its ratio to the layer above: δ shrinks toward the input
when the hidden activation's slope is small (at most 1/4 for σ).
"""
from __future__ import annotations

import numpy as np

from derive.catalogue.symbols import layer
from derive.errors import BadValue
from derive.plot.style import BLUE, INK
from derive.render.printers import TextPrinter


def draw(container, example) -> None:
    deltas = example.first.deltas
    if len(deltas) < 2:
        raise BadValue("‖δ‖ per layer needs hidden layers: give --model mlp")
    norms = [float(np.linalg.norm(d)) for d in deltas]
    show = TextPrinter().doprint
    labels = [show(layer("delta", level)) for level in range(1, len(norms) + 1)]
    ax = container.subplots()
    bars = ax.bar(labels, norms, color=BLUE, width=0.55)
    ax.set_yscale("log")
    for level, (bar, norm) in enumerate(zip(bars, norms), start=1):
        above = f"\n×{norm / norms[level]:.3g} of δ above" if level < len(norms) and norms[level] else ""
        ax.annotate(f"{norm:.4g}{above}", (bar.get_x() + bar.get_width() / 2, norm), textcoords="offset points",
                    xytext=(0, 4), ha="center", va="bottom", fontsize=9, color=INK)
    ax.set_ylim(min(norms) / 3, max(norms) * 6)
    ax.set_xlabel("layer (the input side on the left)")
    ax.set_ylabel("‖δ⁽ˡ⁾‖ (log scale)")
    ax.set_title("The length of the error signal δ in each layer, at the point")
    ax.grid(axis="x", visible=False)
