"""Display nodes for worked numbers, and the numbers themselves.

``Substituted(expr, {symbol: number})`` prints ``expr`` with the numbers put in for its symbols, keeping the
arrangement and signs of ``expr`` (the printers walk ``expr`` and print a number where a symbol stands), so
(a − y)·x₁ reads (0.982 − 0)·1 and never SymPy's order of the numbers. ``SecondPartial(L, w)`` is ∂²L/∂w²,
``Norm(v)`` is ‖v‖.
``number(v, digits)`` is v to ``digits`` significant digits, as a SymPy number every printer prints that way.
"""
from __future__ import annotations

import sympy as sp


class Substituted(sp.Expr):
    """``expr`` with numbers in place of its symbols, printed in ``expr``'s own arrangement."""

    is_commutative = True

    def __new__(cls, expr, numbers: dict):
        used = sorted((s for s in numbers if s in expr.free_symbols), key=lambda s: s.name)
        return sp.Expr.__new__(cls, expr, sp.Tuple(*(sp.Tuple(s, numbers[s]) for s in used)))

    @property
    def expr(self):
        return self.args[0]

    @property
    def numbers(self) -> dict:
        return dict(self.args[1])


class SecondPartial(sp.Expr):
    """∂²f/∂v²: how fast ∂f/∂v changes along v (the curvature of f along v)."""

    is_commutative = True

    def __new__(cls, f, v):
        return sp.Expr.__new__(cls, sp.sympify(f), sp.sympify(v))


class Norm(sp.Expr):
    """‖v‖: the Euclidean length of a vector."""

    is_commutative = True

    def __new__(cls, v):
        return sp.Expr.__new__(cls, sp.sympify(v))


def number(value: float, digits: int) -> sp.Expr:
    """``value`` to ``digits`` significant digits: an Integer when it is a whole number, else a Float whose
    precision is ``digits`` (so it prints that way). 16 digits and more keep the double exactly."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return sp.Integer(int(value))
    if digits >= 16:
        return sp.Float(value, digits)
    return sp.Float(f"{value:.{digits}g}", digits)
