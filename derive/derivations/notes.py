"""Notes in plain words, generated from the structure of a derivation rather than typed per pair.

The maths inside a note is SymPy (``Note(text, maths)``, ``{0}`` … marking where each piece goes), so every
format prints it as maths: Unicode in text, ``$…$`` in LaTeX, MathML in HTML. To add a note, add a function
here that builds one from the derivation's symbols.
"""
from __future__ import annotations

import sympy as sp

from derive.catalogue.symbols import L, L_mean, a, alpha, w_j, y, z
from derive.notation import Minus, Partial, Times, times, value
from derive.steps import Note

SUPERSCRIPTS = "⁽⁾⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ˡᴸⁿ"
PLAIN = str.maketrans(SUPERSCRIPTS, "()0123456789+-lLn")


def parameter_symbol(weight: str | sp.Symbol) -> sp.Symbol:
    """A parameter named in words as the symbol the printers know: 'w_j' -> w_j, 'W_ij⁽ˡ⁾' -> W_ij^(l)."""
    if isinstance(weight, sp.Basic):
        return weight
    name = weight.rstrip(SUPERSCRIPTS)
    layer = weight[len(name):].translate(PLAIN)
    return sp.Symbol(name + (f"^{layer}" if layer else ""), real=True)


def partial(weight: str | sp.Symbol) -> Note:
    """Why ∂L/∂weight isolates one weight's effect."""
    return Note(
        "Each factor is a partial derivative: it holds everything else fixed (the label, the inputs and every "
        "other weight) and asks how one quantity moves when one other moves. That is what isolates the effect "
        "of {0} alone, even though many weights affect the error.", (parameter_symbol(weight),))


def against_gradient(weight: str | sp.Symbol) -> Note:
    """Why the update goes against the gradient: w ← w − α·∂L̄/∂w."""
    w = parameter_symbol(weight)
    return Note(
        "The update moves each parameter against its gradient: where {0}, raising {1} would raise the loss, so "
        "{1} goes down, by an amount proportional to how steeply the loss depends on it. The learning rate {2} "
        "sets the step size.", ((Partial(L_mean, w), ">", sp.Integer(0)), w, alpha))


def input_factor(input_symbol: sp.Symbol, parameter: str | sp.Symbol, pre_activation: sp.Symbol = z) -> Note:
    """Why the gradient is multiplied by the input: ∂z/∂w = x, for the pre-activation z that w feeds."""
    w = parameter_symbol(parameter)
    return Note(
        "The input {0} is a factor of {1} because {2}. It scales the update (a large input moves {3} a lot, which "
        "is why large inputs want a small {4}), reverses the update's sign when the input is negative, and stops "
        "it when the input is zero: an input that was 0 took no part in the error, so its weight is not blamed.",
        (input_symbol, Partial(L, w), (Partial(pre_activation, w), "=", input_symbol), w, alpha))


def folded_constant(dL_dz: sp.Expr, input_symbol: sp.Symbol) -> Note | None:
    """For ∂L/∂z = c·r with a constant c ≠ ±1, c is usually folded into α: w_j ← w_j − α·r·x_j.
    When r = a − y, r·x_j is Grokking Deep Learning's form."""
    coefficient, rest = split_constant(dL_dz)
    text, maths = [], []
    if coefficient not in (1, -1):
        text.append("The constant {0} is usually folded into the learning rate {1}, leaving {2}.")
        maths += [coefficient, alpha, (w_j, "←", Minus(w_j, times(alpha, *rest, input_symbol)))]
    if sp.expand(value(sp.Mul(*rest)) - (a - y)) == 0:
        text.append(f"The error times the input, {{{len(maths)}}}, is Grokking Deep Learning's "
                    "`direction_and_amount = (pred - goal_pred) * input`.")
        maths.append(times(*rest, input_symbol))
    return Note(" ".join(text), tuple(maths)) if text else None


def split_constant(expr: sp.Expr) -> tuple[sp.Expr, tuple]:
    """(c, (r₁, r₂, …)) with expr = c·r₁·r₂…, the factors kept in the order the derivation shows them."""
    if isinstance(expr, Times) and expr.args[0].is_Number:
        return expr.args[0], expr.args[1:]
    coefficient, rest = value(expr).as_coeff_Mul()
    return coefficient, (rest,)
