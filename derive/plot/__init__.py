"""Figures of a derivation, drawn with matplotlib (an optional extra: ``pip install 'derive[plot]'``).

    activation   f and f' over z, each kink marked                      any element-wise activation
    loss         L along one weight around the --at point, its tangent    a worked example (--at), with the
                 there and the path of --steps                           path when --steps is given
    graph        the computational graph: values forward, gradients back  a worked example
    delta        ‖δ⁽ˡ⁾‖ per layer                                         a worked example of an MLP
    curve        the loss per step of the trace                          a worked example with --steps

``figure(d)`` draws every figure that applies, one panel each, stacked in one Figure; ``figure(d, "loss")``
draws one. ``training_curve(losses)`` draws the per-epoch losses a kernel's ``fit`` returns. ``save(fig, path)``
writes PNG or SVG as the suffix says, the same bytes on every run. To add a figure, add a module with a
``draw(container, …)`` and its entry to ``FIGURES``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from types import MappingProxyType
from typing import Callable

from derive.errors import BadValue, UnknownName
from derive.plot.style import FORMATS, INSTALL, new_figure, require, style, svg_inline, to_bytes


@dataclass(frozen=True)
class Selection:
    """What a figure is drawn from: the activation's registry entry, and the derivation (with its worked
    example when there is one)."""

    activation: object
    derivation: object = None

    @property
    def example(self):
        return getattr(self.derivation, "example", None)

    @classmethod
    def of(cls, derivation) -> "Selection":
        from derive.catalogue import ACTIVATIONS
        if derivation.activation not in ACTIVATIONS:
            raise BadValue("a custom activation is drawn through the command line: derive plot --activation-expr …")
        return cls(ACTIVATIONS[derivation.activation], derivation)


@dataclass(frozen=True)
class Kind:
    """One figure: its name, what it shows, why it does not apply (None when it does), how it is drawn."""

    name: str
    description: str
    missing: Callable[[Selection], str | None]
    draw: Callable
    size: tuple


def _needs_example(s: Selection) -> str | None:
    return None if s.example is not None else "it needs a worked example: give --at"


def _draw_activation(container, s, weight=None):
    from derive.plot import activation
    activation.draw(container, s.activation)


def _draw_loss(container, s, weight=None):
    from derive.plot import loss
    loss.draw(container, s.example, weight)


def _draw_graph(container, s, weight=None):
    from derive.plot import graph
    graph.draw(container, s.example)


def _draw_delta(container, s, weight=None):
    from derive.plot import depth
    depth.draw(container, s.example)


def _draw_curve(container, s, weight=None):
    from derive.plot import curve
    curve.draw(container, [p.loss for p in s.example.passes], xlabel="step", label="loss L", start=0,
               title="The loss at each step of the trace")


FIGURES = MappingProxyType({kind.name: kind for kind in (
    Kind("activation", "the activation and its derivative over z, kinks marked",
         lambda s: "softmax couples its outputs: it has no curve over one z" if s.activation.vector else None,
         _draw_activation, (6.4, 3.4)),
    Kind("loss", "the loss along one weight at the point, the tangent there and the path of --steps",
         _needs_example, _draw_loss, (6.4, 3.8)),
    Kind("graph", "the computational graph with every value and gradient", _needs_example, _draw_graph, (7.6, 3.6)),
    Kind("delta", "the length of δ in each layer",
         lambda s: _needs_example(s) or (None if len(s.example.first.deltas) > 1 else "it needs --model mlp"),
         _draw_delta, (6.4, 3.4)),
    Kind("curve", "the loss at each step of the trace",
         lambda s: _needs_example(s) or (None if len(s.example.passes) > 1 else "it needs --steps"),
         _draw_curve, (6.4, 3.2)),
)})


def applicable(selection) -> list[str]:
    """The names of the figures that apply to ``selection`` (a Selection or a Derivation), in FIGURES' order."""
    selection = selection if isinstance(selection, Selection) else Selection.of(selection)
    return [name for name, kind in FIGURES.items() if kind.missing(selection) is None]


def figure(selection, name: str | None = None, *, weight: str | None = None):
    """One figure by ``name``, or every figure that applies stacked in one Figure (a panel each).

    ``selection`` is a Derivation (``derive.derivation(..., example=...)``) or a Selection; ``weight`` picks the
    weight of the loss figure as the kernels store it (``W2[0,1]``)."""
    require()
    selection = selection if isinstance(selection, Selection) else Selection.of(selection)
    if name is not None:
        if name not in FIGURES:
            raise UnknownName("figure", name, FIGURES)
        reason = FIGURES[name].missing(selection)
        if reason:
            raise BadValue(f"the {name} figure does not apply here: {reason}")
    names = [name] if name is not None else applicable(selection)
    if not names:
        reasons = "; ".join(f"{n}: {kind.missing(selection)}" for n, kind in FIGURES.items())
        raise BadValue(f"no figure applies here ({reasons})")
    kinds = [FIGURES[n] for n in names]
    with style():
        fig = new_figure(max(k.size[0] for k in kinds), sum(k.size[1] for k in kinds))
        panels = [fig] if len(kinds) == 1 else fig.subfigures(len(kinds), 1, height_ratios=[k.size[1] for k in kinds])
        for kind, panel in zip(kinds, panels):
            kind.draw(panel, selection, weight)
    return fig


def training_curve(losses, *, xlabel: str = "epoch", label: str = "mean loss L̄", title: str | None = None):
    """The losses of a training run (``losses = module.fit(...)``: one mean per epoch) as a Figure."""
    from derive.plot import curve
    with style():
        fig = new_figure(6.4, 3.4)
        curve.draw(fig, losses, xlabel=xlabel, label=label, title=title)
    return fig


def format_of(path) -> str:
    """'png' or 'svg', from the path's suffix; a one-line error for any other."""
    suffix = PurePath(str(path)).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise BadValue(f"cannot tell the format of {str(path)!r}: end the file name in .png or .svg")
    return suffix


def save(fig, path) -> None:
    """Write ``fig`` to ``path`` (PNG or SVG by its suffix) with the project's file writer."""
    from derive.files import write_output
    write_output(path, to_bytes(fig, format_of(path)))


def svg(fig) -> str:
    """``fig`` as an inline <svg> element for an HTML page."""
    return svg_inline(fig)


__all__ = ["FIGURES", "INSTALL", "Selection", "applicable", "figure", "format_of", "save", "svg", "training_curve"]
