"""Activations f(z), as PyTorch defines them. To add an activation, add one entry to ``_ENTRIES``.

Each entry holds its SymPy expression, its derivative in the form a textbook prints (in terms of the output
a = f(z) where one exists), its output range (which decides the losses it may feed), and its kinks.
The derivation proves every declared derivative equal to ``sympy.diff`` of the expression.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import sympy as sp

from derive.catalogue.functions import sigmoid, softplus
from derive.catalogue.symbols import K, Z, a, i, k, z

HALF = sp.Rational(1, 2)


@dataclass(frozen=True)
class Activation:
    """a = f(z): one registry entry."""

    name: str
    expr: sp.Expr                 # f(z)
    derivative: sp.Expr | None    # f'(z), textbook form, in z and/or a (None: derived, e.g. softmax's Jacobian)
    output_range: sp.Set          # every value f can take
    latex: str                    # the symbol for f in LaTeX
    text: str                     # the symbol for f in plain text
    description: str
    torch: str                    # the PyTorch function it matches
    kinks: tuple = ()             # z where f' jumps
    kink_note: str = ""           # the value f' takes there, and why
    init: str = "glorot"          # weight initialisation suited to it as a hidden activation
    span: str = "elementwise"     # how it spans a layer's outputs: one at a time, or all at once (softmax)

    @property
    def vector(self) -> bool:
        """True when the activation couples the outputs of a layer (softmax): it cannot be a hidden activation."""
        return self.span != "elementwise"

    @property
    def derivative_uses_output(self) -> bool:
        return a in self.derivative.free_symbols


_ENTRIES = (
    Activation("identity", z, sp.Integer(1), sp.Reals, r"\operatorname{id}", "id",
               "f(z) = z: linear output, for regression", "torch.nn.Identity"),
    Activation("sigmoid", 1 / (1 + sp.exp(-z)), a * (1 - a), sp.Interval.open(0, 1), r"\sigma", "σ",
               "σ(z) = 1/(1 + e^-z): a probability", "torch.sigmoid"),
    Activation("tanh", sp.tanh(z), 1 - a**2, sp.Interval.open(-1, 1), r"\tanh", "tanh",
               "tanh(z): squashes to (-1, 1), zero-centred", "torch.tanh"),
    Activation("relu", sp.Piecewise((z, z > 0), (0, True)), sp.Piecewise((1, z > 0), (0, True)),
               sp.Interval(0, sp.oo), r"\operatorname{ReLU}", "ReLU",
               "max(0, z)", "torch.relu", kinks=(z,),
               kink_note="at z = 0 ReLU has no derivative; ReLU'(0) = 0 is the convention of PyTorch and JAX",
               init="he"),
    Activation("leaky_relu", sp.Piecewise((z, z > 0), (z / 100, True)),
               sp.Piecewise((1, z > 0), (sp.Rational(1, 100), True)), sp.Reals,
               r"\operatorname{LeakyReLU}", "LeakyReLU", "max(0, z) + 0.01·min(0, z)",
               "torch.nn.functional.leaky_relu", kinks=(z,),
               kink_note="at z = 0 the slope jumps from 0.01 to 1; PyTorch takes 0.01 there", init="he"),
    Activation("elu", sp.Piecewise((z, z > 0), (sp.exp(z) - 1, True)), sp.Piecewise((1, z > 0), (a + 1, True)),
               sp.Interval.open(-1, sp.oo), r"\operatorname{ELU}", "ELU", "z for z > 0, e^z − 1 otherwise (α = 1)",
               "torch.nn.functional.elu", init="he"),
    Activation("softplus", sp.log(1 + sp.exp(z)), sigmoid(z), sp.Interval.open(0, sp.oo),
               r"\operatorname{softplus}", "softplus", "log(1 + e^z): a smooth ReLU", "torch.nn.functional.softplus",
               init="he"),
    Activation("silu", z / (1 + sp.exp(-z)), sigmoid(z) * (1 + z * (1 - sigmoid(z))),
               sp.Interval(sp.Float("-0.27846454276107380"), sp.oo), r"\operatorname{SiLU}", "SiLU",
               "z·σ(z), also called swish", "torch.nn.functional.silu", init="he"),
    Activation("gelu", z * (1 + sp.erf(z / sp.sqrt(2))) / 2,
               (1 + sp.erf(z / sp.sqrt(2))) / 2 + z * sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi),
               sp.Interval(sp.Float("-0.16997120747990253"), sp.oo), r"\operatorname{GELU}", "GELU",
               "z·Φ(z), the exact erf form", "torch.nn.functional.gelu", init="he"),
    Activation("mish", z * sp.tanh(softplus(z)), None, sp.Interval(sp.Float("-0.30884341301725041"), sp.oo),
               r"\operatorname{Mish}", "Mish", "z·tanh(softplus(z)), a smooth non-monotonic ReLU",
               "torch.nn.functional.mish", init="he"),
    Activation("softsign", z / (1 + sp.Abs(z)), 1 / (1 + sp.Abs(z))**2, sp.Interval.open(-1, 1),
               r"\operatorname{softsign}", "softsign", "z/(1 + |z|)", "torch.nn.functional.softsign"),
    Activation("softmax", sp.exp(Z[k]) / sp.Sum(sp.exp(Z[i]), (i, 1, K)), None, sp.Interval.open(0, 1),
               r"\operatorname{softmax}", "softmax", "e^(z_k)/Σ_i e^(z_i): a probability vector over K classes",
               "torch.softmax", span="softmax"),
)

ACTIVATIONS = MappingProxyType({entry.name: entry for entry in _ENTRIES})
