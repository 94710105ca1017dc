"""Display-only SymPy nodes: the textbook's notation, kept as written.

``Partial(L, a)`` is ∂L/∂a; ``Times(f, g, h)`` is the product f·g·h in exactly that order (SymPy's ``Mul``
would sort and merge it). Both evaluate with ``.doit()``; renderers print them, nothing differentiates them.
"""
from __future__ import annotations

import sympy as sp


class _Display(sp.Expr):
    """A display node: its arguments sympified, kept as given; commutative unless a subclass says not."""

    is_commutative = True

    def __new__(cls, *args):
        return sp.Expr.__new__(cls, *[sp.sympify(arg) for arg in args])


class Partial(_Display):
    """∂f/∂v as a symbol of the chain rule: Partial(f, v)."""

    @property
    def of(self):
        return self.args[0]

    @property
    def by(self):
        return self.args[1]


class Times(_Display):
    """f·g·h in the order given; ``doit`` multiplies."""

    def doit(self, **hints):
        return sp.Mul(*[f.doit(**hints) if isinstance(f, sp.Basic) else f for f in self.args])


class BatchMean(_Display):
    """(1/N) Σ_n term: the mean of ``term`` over the samples n = 1 … N."""


def times(*factors) -> sp.Expr:
    """An ordered product that drops 1s and collapses to the factor itself when only one is left."""
    kept = [f for f in factors if f != 1]
    if not kept:
        return sp.Integer(1)
    return kept[0] if len(kept) == 1 else Times(*kept)


def value(expr) -> sp.Expr:
    """The plain SymPy value of a display expression (display nodes multiplied out, nothing else evaluated)."""
    expr = sp.sympify(expr)
    return expr.replace(lambda e: isinstance(e, (Times, Minus, BatchMean)), lambda e: e.doit()) \
        if expr.has(Times, Minus) else expr


class Named(sp.Function):
    """f(u) shown by its name (σ(z), MSE(a, y)); subclasses made by ``named`` carry the text and LaTeX."""

    text = "f"
    latex = "f"


_NAMED_CACHE: dict = {}


def named(text: str, latex: str) -> type[Named]:
    """A display function printed as ``text(args)`` / ``latex(args)``."""
    key = (text, latex)
    if key not in _NAMED_CACHE:
        _NAMED_CACHE[key] = type(f"Named_{len(_NAMED_CACHE)}", (Named,), {"text": text, "latex": latex})
    return _NAMED_CACHE[key]


class MatProduct(_Display):
    """A matrix-vector product written by juxtaposition: W a."""

    is_commutative = False


class Transposed(_Display):
    """vᵀ."""

    is_commutative = False


class Hadamard(_Display):
    """u ⊙ v: the element-wise product."""


class Minus(_Display):
    """x − y exactly as written (SymPy's Add would reorder the terms): Minus(x, y)."""

    def doit(self, **hints):
        return value(self.args[0]) - value(self.args[1])


def tidy_numbers(expr: sp.Expr) -> sp.Expr:
    """Fold −1·n into the number −n in an unevaluated expression, so 0.69 + (−1)·1 prints as 0.69 − 1."""
    if not expr.args:
        return expr
    args = [tidy_numbers(arg) for arg in expr.args]
    if isinstance(expr, sp.Mul) and args and args[0] == -1 and all(arg.is_number for arg in args[1:]) \
            and len(args) == 2:
        return -args[1]
    with sp.evaluate(False):
        return expr.func(*args)
