"""Losses L(a, y), with PyTorch's definitions and names. To add a loss, add one entry to ``_ENTRIES``.

Each entry declares the predictions it accepts (``accepts``, with the reason in ``undefined``), the labels it
takes, its textbook derivative ∂L/∂a, and its kinks (expressions whose zeros are the kinks).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

import sympy as sp
from sympy.core.parameters import distribute

from derive.catalogue.symbols import K, P, Y, a, i, y

HALF = sp.Rational(1, 2)


@dataclass(frozen=True)
class Labels:
    """The label values a loss takes: a SymPy set, and how to say it."""

    values: sp.Set
    text: str


REAL = Labels(sp.Reals, "real values")
BINARY = Labels(sp.Interval(0, 1), "0/1 labels (probabilities in [0, 1] are accepted too)")
SIGNS = Labels(sp.FiniteSet(-1, 1), "labels −1 or +1")
COUNTS = Labels(sp.Interval(0, sp.oo), "non-negative counts")
CLASSES = Labels(sp.Naturals0, "integer class indices 0 … K−1")  # one-hot: Σ_k y_k = 1


@dataclass(frozen=True)
class Loss:
    """L(a, y): one registry entry."""

    name: str
    expr: sp.Expr                 # L(a, y)
    derivative: sp.Expr | None    # ∂L/∂a, textbook form (None: derived)
    accepts: sp.Set               # predictions a for which L is defined
    undefined: str                # why L is undefined outside ``accepts``
    labels: Labels
    latex: str
    description: str
    torch: str
    kinks: tuple = ()             # expressions in a, y whose zeros are kinks
    kink_note: str = ""
    span: str = "elementwise"     # "softmax": takes the whole probability vector (cross_entropy)

    @property
    def vector(self) -> bool:
        return self.span != "elementwise"

    @property
    def text(self) -> str:
        """The loss's symbol in plain text, read from its LaTeX: \\operatorname{BCE} -> BCE."""
        found = re.fullmatch(r"\\operatorname\{(\w+)\}(\^2)?", self.latex)
        return found.group(1) + ("²" if found.group(2) else "") if found else "L"


with distribute(False):  # keep 2·(a − y) as written instead of 2a − 2y
    _MSE_DERIVATIVE = 2 * (a - y)
    _SQUARED_HINGE_DERIVATIVE = sp.Piecewise((-2 * y * (1 - y * a), y * a < 1), (0, True))

_ENTRIES = (
    Loss("mse", (a - y)**2, _MSE_DERIVATIVE, sp.Reals, "", REAL, r"\operatorname{MSE}",
         "squared error (a − y)²", "torch.nn.MSELoss"),
    Loss("mae", sp.Abs(a - y), sp.sign(a - y), sp.Reals, "", REAL, r"\operatorname{MAE}",
         "absolute error |a − y|", "torch.nn.L1Loss", kinks=(a - y,),
         kink_note="at a = y |a − y| has no derivative; sign(0) = 0 is PyTorch's choice"),
    Loss("huber", sp.Piecewise(((a - y)**2 / 2, sp.Abs(a - y) < 1), (sp.Abs(a - y) - HALF, True)),
         sp.Piecewise((a - y, sp.Abs(a - y) < 1), (sp.sign(a - y), True)), sp.Reals, "", REAL,
         r"\operatorname{Huber}", "quadratic within 1 of the label, linear beyond (δ = 1)", "torch.nn.HuberLoss",
         kinks=(sp.Abs(a - y) - 1,),
         kink_note="at |a − y| = 1 both pieces give the slope ±1, so the derivative is continuous there"),
    Loss("log_cosh", sp.log(sp.cosh(a - y)), sp.tanh(a - y), sp.Reals, "", REAL, r"\operatorname{logcosh}",
         "log cosh(a − y): quadratic near the label, linear far away", "(no PyTorch class)"),
    Loss("bce", -(y * sp.log(a) + (1 - y) * sp.log(1 - a)), (a - y) / (a * (1 - a)),
         sp.Interval.open(0, 1), "where log is undefined", BINARY, r"\operatorname{BCE}",
         "binary cross-entropy −(y log a + (1 − y) log(1 − a))", "torch.nn.BCELoss"),
    Loss("hinge", sp.Piecewise((1 - y * a, y * a < 1), (0, True)), sp.Piecewise((-y, y * a < 1), (0, True)),
         sp.Reals, "", SIGNS, r"\operatorname{hinge}", "max(0, 1 − y·a) with labels ±1",
         "(no PyTorch class; torch.clamp(1 - y*a, min=0))", kinks=(1 - y * a,),
         kink_note="at y·a = 1 the hinge has no derivative; 0 is taken there, as for ReLU'(0)"),
    Loss("squared_hinge", sp.Piecewise(((1 - y * a)**2, y * a < 1), (0, True)), _SQUARED_HINGE_DERIVATIVE,
         sp.Reals, "", SIGNS, r"\operatorname{hinge}^2", "max(0, 1 − y·a)² with labels ±1",
         "(no PyTorch class)"),
    Loss("poisson_nll", a - y * sp.log(a), 1 - y / a, sp.Interval.open(0, sp.oo), "where log a is undefined",
         COUNTS, r"\operatorname{PoissonNLL}", "a − y·log a for a rate a > 0",
         "torch.nn.PoissonNLLLoss(log_input=False), without its eps"),
    Loss("cross_entropy", -sp.Sum(Y[i] * sp.log(P[i]), (i, 1, K)), None, sp.Interval.open(0, 1),
         "where log is undefined", CLASSES, r"\operatorname{CE}",
         "cross-entropy −Σ_k y_k log p_k of softmax probabilities", "torch.nn.CrossEntropyLoss", span="softmax"),
)

LOSSES = MappingProxyType({entry.name: entry for entry in _ENTRIES})
