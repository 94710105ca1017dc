"""One neuron: z = Σ_j w_j x_j + b, a = f(z), L(a, y); the gradient of every weight and the bias."""
from __future__ import annotations

import sympy as sp

from derive.catalogue.symbols import D, L, L_mean, a, alpha, b, j, others_j, sample, w_j, x_j, y, z
from derive.derivation.head import derive_head
from derive.derivation.notes import against_gradient, folded_constant, input_factor, partial
from derive.derivation.value import Derivation
from derive.notation import BatchMean, Partial, Times, named, value
from derive.presenter import arrange_product
from derive.rules import differentiate
from derive.steps import ChainRule, Definition, Equation, LocalDerivative, Section, Update


def forward_steps(activation, loss) -> tuple:
    """z, a and L as definitions."""
    f = named(activation.text, activation.latex)
    loss_name = named(loss.text, loss.latex)
    return (
        Section("Forward pass"),
        Definition(z, (sp.Sum(w_j * x_j, (j, 1, D)) + b,), "pre-activation: the weighted sum of the inputs"),
        Definition(a, (f(z), activation.expr), f"activation: {activation.description}"),
        Definition(L, (loss_name(a, y), loss.expr), f"loss: {loss.description}"),
    )


def weighted_sum_steps(weight=w_j, input_=x_j, bias=b) -> tuple:
    """∂z/∂w_j = x_j and ∂z/∂b = 1, with every other term held constant."""
    z_parts = weight * input_ + others_j + bias
    return (
        LocalDerivative(Partial(z, weight), differentiate(z_parts, weight), input_,
                        "every term without w_j is held constant"),
        LocalDerivative(Partial(z, bias), differentiate(z_parts, bias), sp.Integer(1)),
    )


def build_neuron(model, activation, loss, hidden=None, layers=0) -> Derivation:
    head = derive_head(activation, loss)
    grad_w = arrange_product(head.dL_dz, x_j)
    grad_b = head.dL_dz
    per_sample = {s: sample(s) for s in (a, y, z, x_j)}
    steps = (
        *forward_steps(activation, loss),
        Section("Chain rule"),
        ChainRule(Partial(L, w_j), (Partial(L, a), Partial(a, z), Partial(z, w_j))),
        ChainRule(Partial(L, b), (Partial(L, a), Partial(a, z), Partial(z, b))),
        partial("w_j"),
        Section("Local derivatives"),
        *head.steps[:2],
        *weighted_sum_steps(),
        Section("Putting it together"),
        head.steps[2],
        Equation(Partial(L, w_j), (Times(Partial(L, z), Partial(z, w_j)), grad_w)),
        Equation(Partial(L, b), (Times(Partial(L, z), Partial(z, b)), grad_b)),
        input_factor(x_j, w_j),
        *filter(None, [folded_constant(head.dL_dz, x_j)]),
        Section("Mean over a batch of N samples"),
        Definition(L_mean, (BatchMean(sample(L)),), "the loss the update minimises"),
        Equation(Partial(L_mean, w_j), (BatchMean(value(grad_w).xreplace(per_sample)),),
                 "the derivative of a mean is the mean of the derivatives"),
        Equation(Partial(L_mean, b), (BatchMean(value(grad_b).xreplace(per_sample)),)),
        Section("Update rule"),
        Update(w_j, w_j - alpha * Partial(L_mean, w_j)),
        Update(b, b - alpha * Partial(L_mean, b)),
        against_gradient("w_j"),
    )
    return Derivation("neuron", activation.name, loss.name, None, steps,
                      {w_j: value(grad_w), b: value(grad_b)},
                      pieces={"activation": activation.expr, "activation_derivative": head.da_dz,
                              "loss": loss.expr, "loss_derivative": head.dL_da, "dL_dz": value(head.dL_dz)})
