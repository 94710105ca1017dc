"""Sections every model's derivation shares, built once: the mean over a batch, and the update rule.

    L̄ = (1/N) Σₙ L⁽ⁿ⁾,   ∂L̄/∂θ = (1/N) Σₙ ∂L⁽ⁿ⁾/∂θ,   θ ← θ − α·∂L̄/∂θ

The update rule is the seam an optimizer plugs into: ``update_rule`` writes plain gradient descent; momentum,
Adam and the rest replace this one section.
"""
from __future__ import annotations

import sympy as sp

from derive.catalogue.symbols import L, L_mean, alpha, sample
from derive.derivations.notes import against_gradient
from derive.notation import BatchMean, Partial, Times
from derive.steps import Definition, Equation, Section, Update, relabel


def batch_mean(gradients: dict, per_sample: tuple) -> tuple:
    """L̄ and, for each parameter, ∂L̄/∂θ as the mean of the per-sample gradients (``per_sample``: the symbols
    that differ from sample to sample)."""
    to_sample = {s: sample(s) for s in per_sample}
    steps = [Section("Mean over a batch of N samples"),
             Definition(L_mean, (BatchMean(sample(L)),), "the loss the update minimises")]
    for index, (parameter, gradient) in enumerate(gradients.items()):
        steps.append(Equation(Partial(L_mean, parameter), (BatchMean(relabel(gradient, to_sample)),),
                              "the derivative of a mean is the mean of the derivatives" if index == 0 else ""))
    return tuple(steps)


def update_rule(parameters: tuple, weight: str) -> tuple:
    """θ ← θ − α·∂L̄/∂θ for each parameter, and why the step goes against the gradient."""
    return (Section("Update rule"),
            *(Update(p, p - alpha * Partial(L_mean, p)) for p in parameters),
            against_gradient(weight))


def scaled(display: sp.Expr, factor: sp.Expr) -> sp.Expr:
    """``factor`` times an ordered product, merged into its leading number: (1/K)·2(a − y) reads (2/K)(a − y)."""
    if isinstance(display, Times) and display.args[0].is_number:
        return Times(display.args[0] * factor, *display.args[1:])
    if isinstance(display, sp.Mul):
        coefficient, rest = display.as_coeff_Mul()
        if coefficient != 1:
            return Times(coefficient * factor, rest)
    return Times(factor, display)
