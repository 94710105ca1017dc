"""Named functions that textbooks write by name: σ(u) = 1/(1 + e^(−u)).

SymPy would expand σ into exponentials; keeping it as a function lets a derivative read
softplus'(z) = σ(z). ``expand_named`` turns every named function back into elementary ones, so values can be
compared with ``sympy.diff`` of the plain expression.
"""
from __future__ import annotations

import sympy as sp


class sigmoid(sp.Function):
    """σ(u) = 1/(1 + e^(−u)); σ'(u) = σ(u)(1 − σ(u))."""

    is_real = True

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, u, **kwargs):
        return 1 / (1 + sp.exp(-u))

    def _latex(self, printer, exp=None):
        inner = printer._print(self.args[0])
        base = rf"\sigma\left({inner}\right)"
        return f"{base}^{{{exp}}}" if exp else base

    def _sympystr(self, printer):
        return f"sigmoid({printer._print(self.args[0])})"


NAMED = {sigmoid: lambda u: 1 / (1 + sp.exp(-u))}


def expand_named(expr: sp.Expr) -> sp.Expr:
    """Replace every named function by its elementary definition."""
    for function, definition in NAMED.items():
        expr = expr.replace(function, definition)
    return expr
