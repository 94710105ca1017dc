"""Notes in plain words, generated from the structure of a derivation rather than typed per pair."""
from __future__ import annotations

import sympy as sp

from derive.catalogue.symbols import a, y
from derive.notation import value
from derive.steps import Note

def partial(weight: str) -> Note:
    """Why ∂L/∂weight isolates one weight's effect."""
    return Note(
        f"Each factor is a partial derivative: it holds everything else fixed (the label, the inputs and every "
        f"other weight) and asks how one quantity moves when one other moves. That is what isolates the effect "
        f"of {weight} alone, even though many weights affect the error.")


def against_gradient(weight: str) -> Note:
    """Why the update goes against the gradient."""
    return Note(
        f"The update moves each parameter against its gradient: where ∂L̄/∂{weight} > 0, raising {weight} would "
        f"raise the loss, so {weight} goes down, by an amount proportional to how steeply the loss depends on "
        f"it. The learning rate α sets the step size.")


def input_factor(input_symbol: sp.Symbol, parameter: sp.Symbol) -> Note:
    """Why the gradient is multiplied by the input: ∂z/∂w = x."""
    return Note(
        f"The input {input_symbol} is a factor of ∂L/∂{parameter} because ∂z/∂{parameter} = {input_symbol}. It "
        f"scales the update (a large input moves {parameter} a lot, which is why large inputs want a small α), "
        f"reverses the update's sign when the input is negative, and stops it when the input is zero: an input "
        f"that was 0 took no part in the error, so its weight is not blamed.")


def folded_constant(dL_dz: sp.Expr, input_symbol: sp.Symbol) -> Note | None:
    """For ∂L/∂z = c·r with a constant c ≠ 1: c is usually folded into α; r = a − y is Grokking's form."""
    coefficient, rest = value(dL_dz).as_coeff_Mul()
    parts = []
    if coefficient not in (1, -1):
        parts.append(f"The constant {coefficient} is usually folded into the learning rate α, leaving "
                     f"w_j ← w_j − α·({rest})·{input_symbol}.")
    if sp.expand(rest - (a - y)) == 0:
        parts.append(f"The error times the input, ({rest})·{input_symbol}, is Grokking Deep Learning's "
                     f"`direction_and_amount = (pred - goal_pred) * input`.")
    return Note(" ".join(parts)) if parts else None
