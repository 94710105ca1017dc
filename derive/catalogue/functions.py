"""Every elementary function, declared once: f'(u), how it prints, how a user spells it, how a kernel computes it.

    σ(u) = 1/(1 + e^(−u)),  σ' = σ(1 − σ)        softplus(u) = log(1 + e^u),  softplus' = σ
    logcosh(u) = log cosh u,  logcosh' = tanh    expm1(u) = e^u − 1,  log1p(u) = log(1 + u)
    log_softplus(u) = log softplus(u),  log_softplus' = σ/softplus

Differentiation (``derive.rules``), the parser (``derive.expressions``), the printers (``derive.render``), the
kernel printer (``derive.codegen.printer``), the row costs of the kernels and the stabiliser (``log``: a stable form
of log f(u), with ``tails``: where f leaves float64's range) all read ``FUNCTIONS``. The named
functions are SymPy classes, so a derivative reads softplus'(z) = σ(z); ``expand_named`` turns them back into
exp and log, so values can be compared with ``sympy.diff`` of the plain expression.

To add a function: define it (a SymPy class if SymPy has none), add one ``Function`` entry, and, if kernels
compute it, name its implementation in ``derive/kernels/_elementary.py`` (vectorisable) or ``math`` (libm).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable

import sympy as sp


class sigmoid(sp.Function):
    """σ(u) = 1/(1 + e^(−u)); σ'(u) = σ(u)(1 − σ(u))."""

    is_real = True

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return 1 / (1 + sp.exp(-u))

    def _sympystr(self, printer):
        return f"sigmoid({printer._print(self.args[0])})"


class softplus(sp.Function):
    """softplus(u) = log(1 + e^u), computed as max(u, 0) + log1p(e^(−|u|)); softplus' = σ."""

    is_real = True

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return sp.log(1 + sp.exp(u))


class logcosh(sp.Function):
    """logcosh(u) = log cosh u, computed as |u| + log1p(e^(−2|u|)) − log 2; logcosh' = tanh."""

    is_real = True

    def fdiff(self, argindex=1):
        return sp.tanh(self.args[0])

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return sp.log(sp.cosh(u))


class expm1(sp.Function):
    """expm1(u) = e^u − 1 without cancellation near 0; expm1' = e^u."""

    is_real = True

    def fdiff(self, argindex=1):
        return sp.exp(self.args[0])

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return sp.exp(u) - 1


class log1p(sp.Function):
    """log1p(u) = log(1 + u) without cancellation near 0; log1p' = 1/(1 + u)."""

    is_real = True

    def fdiff(self, argindex=1):
        return 1 / (1 + self.args[0])

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return sp.log(1 + u)


class log_softplus(sp.Function):
    """log softplus(u), finite where softplus(u) underflows (≈ u − e^u/2 for u ≪ 0); log_softplus' = σ/softplus."""

    is_real = True

    def fdiff(self, argindex=1):
        u = self.args[0]
        return sigmoid(u) / softplus(u)

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return sp.log(sp.log(1 + sp.exp(u)))


class normal_cdf(sp.Function):
    """Φ(u) = (1 + erf(u/√2))/2, the standard normal CDF; Φ' = e^(−u²/2)/√(2π)."""

    is_real = True

    def fdiff(self, argindex=1):
        u = self.args[0]
        return sp.exp(-u**2 / 2) / sp.sqrt(2 * sp.pi)

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return (1 + sp.erf(u / sp.sqrt(2))) / 2


NAMED = (sigmoid, softplus, logcosh, expm1, log1p, log_softplus, normal_cdf)   # the functions SymPy does not have


@dataclass(frozen=True)
class Function:
    """One elementary function: its SymPy class, f'(u), its names, its kernel implementations and cost.

    ``vector`` is the call a block loop uses (``_em.`` functions vectorise), ``libm`` the call a one-sample loop
    uses (latency-bound, so libm wins there); ``cost`` is the vector form's ns per element, measured by
    ``python -m scripts.bench.elementary``, from which the kernels size their parallel work.

    ``log`` is log f(u) in a form that stays finite wherever log f does (log σ(u) = −softplus(−u), where σ(u)
    underflows from u = −745), and ``tails`` says where f itself leaves float64's range: (at u → −∞, at u → ∞),
    each "0" (underflows), "inf" (overflows) or "" (neither). The stabiliser computes a product of such f in
    log space when some of its factors overflow while others underflow (``derive.codegen.rewriting``).
    """

    sympy: type
    rule: str
    derivative: Callable[[sp.Expr], sp.Expr]
    names: tuple[str, ...] = ()       # how a user calls it in an expression (none: the stabiliser's own)
    text: str | None = None           # its name in text output (None: SymPy's name)
    latex: str | None = None          # its name in LaTeX output (None: SymPy's default)
    vector: str | None = None         # its kernel call in vectorised loops
    libm: str | None = None           # its kernel call in one-sample loops
    cost: float = 1.0                 # ns per element of ``vector``
    log: Callable[[sp.Expr], sp.Expr] | None = None   # a stable form of log f(u)
    tails: tuple[str, str] = ("", "")                 # f at u → −∞ and u → ∞: "0", "inf" or ""

    @property
    def name(self) -> str:
        return self.sympy.__name__


_ENTRIES = (
    Function(sp.exp, "exp rule", sp.exp, ("exp",), vector="_em.exp", libm="math.exp", cost=1.4,
             log=lambda u: u, tails=("0", "inf")),
    Function(sp.log, "log rule", lambda u: 1 / u, ("log",), vector="_em.log", libm="math.log", cost=1.3),
    Function(expm1, "expm1 rule", sp.exp, (), text="expm1", latex=r"\operatorname{expm1}",
             vector="_em.expm1", libm="math.expm1", cost=1.7),
    Function(log1p, "log1p rule", lambda u: 1 / (1 + u), (), text="log1p", latex=r"\operatorname{log1p}",
             vector="_em.log1p", libm="math.log1p", cost=1.6),
    Function(sp.tanh, "tanh rule", lambda u: 1 - sp.tanh(u)**2, ("tanh",), vector="_em.tanh", libm="math.tanh",
             cost=2.2),
    Function(sp.sinh, "sinh rule", sp.cosh, ("sinh",), vector="math.sinh", libm="math.sinh", cost=6.0),
    Function(sp.cosh, "cosh rule", sp.sinh, ("cosh",), vector="math.cosh", libm="math.cosh", cost=6.0,
             log=lambda u: logcosh(u), tails=("inf", "inf")),
    Function(sp.sin, "sin rule", sp.cos, ("sin",), vector="math.sin", libm="math.sin", cost=6.0),
    Function(sp.cos, "cos rule", lambda u: -sp.sin(u), ("cos",), vector="math.cos", libm="math.cos", cost=6.0),
    Function(sp.tan, "tan rule", lambda u: 1 + sp.tan(u)**2, ("tan",), vector="math.tan", libm="math.tan", cost=8.0),
    Function(sp.atan, "arctan rule", lambda u: 1 / (1 + u**2), ("atan",), latex=r"\arctan", vector="math.atan",
             libm="math.atan", cost=8.0),
    Function(sp.asinh, "arsinh rule", lambda u: 1 / sp.sqrt(u**2 + 1), ("asinh",), text="arsinh",
             latex=r"\operatorname{arsinh}", vector="math.asinh", libm="math.asinh", cost=10.0),
    Function(sp.erf, "erf rule", lambda u: 2 * sp.exp(-u**2) / sp.sqrt(sp.pi), ("erf",), vector="_nm.erf",
             libm="math.erf", cost=8.5),
    Function(sp.erfc, "erfc rule", lambda u: -2 * sp.exp(-u**2) / sp.sqrt(sp.pi), ("erfc",), vector="math.erfc",
             libm="math.erfc", cost=10.0),
    Function(normal_cdf, "normal CDF rule", lambda u: sp.exp(-u**2 / 2) / sp.sqrt(2 * sp.pi), (), text="Φ",
             latex=r"\Phi", vector="_nm.normal_cdf", libm="_nm.normal_cdf", cost=9.5),
    Function(sp.Abs, "absolute value rule", sp.sign, ("Abs", "abs"), vector="abs", libm="abs", cost=0.1),
    Function(sp.sign, "sign rule", lambda u: sp.Integer(0), ("sign",), vector="np.sign", libm="np.sign", cost=0.2),
    Function(sigmoid, "sigmoid rule", lambda u: sigmoid(u) * (1 - sigmoid(u)), ("sigmoid",), text="σ",
             latex=r"\sigma", vector="_em.sigmoid", libm="_sc.sigmoid", cost=2.7,
             log=lambda u: -softplus(-u), tails=("0", "")),
    Function(softplus, "softplus rule", sigmoid, ("softplus",), text="softplus", latex=r"\operatorname{softplus}",
             vector="_em.softplus", libm="_sc.softplus", cost=4.8, log=lambda u: log_softplus(u), tails=("0", "")),
    Function(log_softplus, "log softplus rule", lambda u: sigmoid(u) / softplus(u), (), text="log_softplus",
             latex=r"\operatorname{logsoftplus}", vector="_em.log_softplus", libm="_sc.log_softplus", cost=14.0),
    Function(logcosh, "log cosh rule", sp.tanh, (), text="logcosh", latex=r"\operatorname{logcosh}",
             vector="_em.log_cosh", libm="_sc.log_cosh", cost=5.4),
)

FUNCTIONS = MappingProxyType({entry.sympy: entry for entry in _ENTRIES})
BY_NAME = MappingProxyType({name: entry for entry in _ENTRIES for name in entry.names})

# Functions whose derivative is 0 on each side of a jump (PyTorch takes 0 at the jump too).
PIECEWISE_CONSTANT = MappingProxyType({sp.sign: "sign", sp.Heaviside: "step"})
# What else a user may call, with what it builds: names that are not one SymPy function class.
SPELLINGS = MappingProxyType({"sqrt": (sp.sqrt, 1, 1), "Max": (sp.Max, 2, math.inf),
                              "max": (sp.Max, 2, math.inf), "Min": (sp.Min, 2, math.inf),
                              "min": (sp.Min, 2, math.inf)})


def expand_named(expr: sp.Expr) -> sp.Expr:
    """Replace every named function (σ, softplus, …) by its definition in exp, log and erf."""
    return expr.rewrite(NAMED, sp.exp) if expr.has(*NAMED) else expr


def row_cost(expr: sp.Expr, per_operation: float = 0.1) -> float:
    """ns per element to evaluate ``expr`` in a vectorised loop: its functions' costs plus its arithmetic."""
    functions = sum(FUNCTIONS[node.func].cost for node in sp.preorder_traversal(expr) if node.func in FUNCTIONS)
    return functions + per_operation * float(sp.count_ops(expr))
