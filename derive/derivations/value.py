"""The ``Derivation`` value: steps plus each parameter's gradient. Renderers and the code generator take a
Derivation and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import sympy as sp

from derive.catalogue.symbols import meaning


@dataclass(frozen=True)
class Derivation:
    """How (model, activation, loss) updates its parameters, step by step.

    ``gradients`` maps each parameter symbol to ∂L/∂parameter of one sample, in terms of the intermediates
    (z, a, y, x_j …); the mean over a batch averages it. ``pieces`` names the scalar expressions the code
    generator prints (activation, loss, their derivatives, ∂L/∂z).
    """

    model: str
    activation: str
    loss: str
    hidden: str | None
    steps: tuple
    gradients: Mapping[sp.Symbol, sp.Expr]
    pieces: Mapping[str, sp.Expr] = field(default_factory=dict)
    layers: int = 0
    outputs: int = 1
    example: object = None     # the numbers of a worked example (``derive.derivations.example.Example``), if any

    def __post_init__(self):
        object.__setattr__(self, "gradients", MappingProxyType(dict(self.gradients)))
        object.__setattr__(self, "pieces", MappingProxyType(dict(self.pieces)))

    @property
    def title(self) -> str:
        hidden = f", hidden {self.hidden} ×{self.layers}" if self.hidden else ""
        outputs = f", K = {self.outputs} outputs" if self.outputs > 1 and self.model != "softmax" else ""
        return f"Weight update: {self.model}, {self.activation} + {self.loss}{hidden}{outputs}"

    @property
    def symbols(self) -> dict[str, str]:
        """What each symbol of the gradients means, by name."""
        used = set().union(*(g.free_symbols for g in self.gradients.values()), self.gradients)
        return {s.name: meaning(s) for s in sorted(used, key=lambda s: s.name)}

    def render(self, fmt: str = "text", *, standalone: bool = False) -> str:
        from derive.render import render
        return render(self, fmt, standalone=standalone)

    def _repr_latex_(self) -> str:
        return self.render("latex")

    def _repr_markdown_(self) -> str:
        return self.render("markdown")

    def _repr_html_(self) -> str:
        """The HTML page's body (MathML, its style scoped to it), for Jupyter and JupyterLab."""
        from derive.render.html import HtmlRenderer
        return HtmlRenderer(self, fragment=True).render()

    def __str__(self) -> str:
        return self.render("text")
