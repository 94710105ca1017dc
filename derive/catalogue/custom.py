"""Entries made from a user's expression (``--activation-expr``, ``--loss-expr``), parsed without eval.

A custom activation's output range is computed by SymPy where it can be, else taken as the whole real line,
so pair checks stay honest: a loss that needs (0, 1) refuses an activation whose range is unknown.
"""
from __future__ import annotations

import sympy as sp

from derive.catalogue.activations import Activation
from derive.catalogue.losses import REAL, Loss
from derive.catalogue.symbols import a, y, z
from derive.errors import BadExpression
from derive.expressions import parse_expression


def custom_activation(text: str) -> Activation:
    expr = parse_expression(text, {"z": z}, what="activation expression")
    if z not in expr.free_symbols:
        raise BadExpression(f"activation expression {text!r} does not depend on z; write f(z), e.g. z/(1+Abs(z))")
    return Activation("custom", expr, None, _range(expr), "f", "f", f"custom: f(z) = {sp.sstr(expr)}", "",
                      kinks=_kinks(expr))


def custom_loss(text: str) -> Loss:
    expr = parse_expression(text, {"a": a, "y": y}, what="loss expression")
    if a not in expr.free_symbols:
        raise BadExpression(f"loss expression {text!r} does not depend on a; write L(a, y), e.g. (a-y)**2")
    return Loss("custom", expr, None, sp.Reals, "", REAL, r"\mathcal{L}", f"custom: L(a, y) = {sp.sstr(expr)}", "",
                kinks=_kinks(expr))


def _range(expr: sp.Expr) -> sp.Set:
    try:
        found = sp.calculus.util.function_range(expr, z, sp.Reals)
    except Exception:  # SymPy cannot bound every expression; the whole line is the honest answer
        return sp.Reals
    return found if isinstance(found, sp.Interval) else sp.Reals


def _kinks(expr: sp.Expr) -> tuple:
    """Zeros of the arguments of |u|, sign(u) and max/min, where a derivative may jump."""
    found = [f.args[0] for f in expr.atoms(sp.Abs, sp.sign)]
    found += [f.args[0] - f.args[1] for f in expr.atoms(sp.Max, sp.Min) if len(f.args) == 2]
    return tuple(found)
