"""The head of every model: ∂L/∂a and ∂a/∂z worked rule by rule, put in textbook form, and multiplied into
∂L/∂z. The neuron and the MLP's output layer share it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from derive.catalogue.activations import Activation
from derive.catalogue.losses import Loss
from derive.catalogue.symbols import L, a, z
from derive.notation import Partial, Times
from derive.presenter import arrange_product, assert_same, simplest
from derive.rules import differentiate
from derive.sampling import head_points
from derive.steps import Equation, LocalDerivative


@dataclass(frozen=True)
class Head:
    """The head's local derivatives (textbook forms) and their product ∂L/∂z (display form)."""

    dL_da: sp.Expr
    da_dz: sp.Expr
    dL_dz: sp.Expr
    steps: tuple


@lru_cache(maxsize=256)
def derive_head(activation: Activation, loss: Loss) -> Head:
    """Worked once per (activation, loss): the neuron and every MLP with that head share it."""
    points = head_points(activation, loss)
    in_z = {a: activation.expr}
    loss_tree = differentiate(loss.expr, a)
    dL_da = loss.derivative if loss.derivative is not None else simplest(loss_tree.result)
    assert_same(dL_da, loss_tree.result, points)
    act_tree = differentiate(activation.expr, z)
    da_dz = activation.derivative if activation.derivative is not None else simplest(act_tree.result)
    assert_same(da_dz.subs(in_z), act_tree.result, points)
    dL_dz = arrange_product(dL_da, da_dz)
    assert_same(dL_dz.doit().subs(in_z), sp.diff(loss.expr.subs(in_z), z), points)
    uses_a = a in da_dz.free_symbols
    steps = (
        LocalDerivative(Partial(L, a), loss_tree, dL_da, "simplified" if dL_da != loss_tree.result else "",
                        loss.kink_note),
        LocalDerivative(Partial(a, z), act_tree, da_dz,
                        f"written with a = {activation.text}(z)" if uses_a else
                        ("simplified" if da_dz != act_tree.result else ""), activation.kink_note),
        Equation(Partial(L, z), (Times(Partial(L, a), Partial(a, z)), Times(dL_da, da_dz), dL_dz),
                 "chain rule, then the local derivatives, then cancel what cancels"),
    )
    return Head(dL_da, da_dz, dL_dz, steps)
