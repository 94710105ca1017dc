"""A training curve: one loss per epoch (a kernel's ``fit`` returns them) or per step of a worked example's
trace, on a logarithmic scale when the losses are positive and span more than a factor of 10.
"""
from __future__ import annotations

import numpy as np

from derive.errors import BadValue
from derive.plot.style import BLUE


def draw(container, losses, *, xlabel: str = "epoch", label: str = "mean loss L̄", title: str | None = None,
         start: int = 1) -> None:
    values = np.asarray(losses, dtype=float).ravel()
    if values.size == 0:
        raise BadValue("a training curve needs at least one loss")
    ax = container.subplots()
    steps = np.arange(start, start + values.size)
    ax.plot(steps, values, color=BLUE, marker="o" if values.size <= 40 else None, markersize=3.5, label=label)
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > 10:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(label)
    ax.set_title(title or f"Training curve: {label} per {xlabel}")
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
