"""One neuron per output: z_k = Σ_j W_jk x_j + b_k, a_k = f(z_k), L = (1/K) Σ_k L(a_k, y_k).

With K = 1 output (the default) it is the textbook neuron z = Σ_j w_j x_j + b, a = f(z), L(a, y), and w is
stored as a vector. Its head is any elementwise (activation, loss) pair.
"""
from __future__ import annotations

import sympy as sp

from derive.catalogue import valid_pairs
from derive.catalogue.symbols import (D, K, L, W_jk, a, a_k, b, b_k, j, k, others_j, others_jk, w_j, x_j, y, y_k, z,
                                      z_k)
from derive.derivations.heads import derive_head
from derive.derivations.notes import folded_constant, input_factor, partial
from derive.derivations.sections import batch_mean, means, penalty, scaled, update_rule
from derive.derivations.value import Derivation
from derive.models import Model
from derive.models.dense import forward
from derive.notation import Partial, Times, named, value
from derive.presenter import arrange_product
from derive.rules import differentiate
from derive.steps import ChainRule, Definition, Equation, LocalDerivative, Note, Section, relabel

L_k = sp.Symbol("L_k", real=True)  # the loss of output k


def weighted_sum_steps(weight, input_, bias, out, others) -> tuple:
    """∂z/∂w = x and ∂z/∂b = 1, with every other term of z held constant."""
    z_parts = weight * input_ + others + bias
    return (
        LocalDerivative(Partial(out, weight), differentiate(z_parts, weight), input_,
                        f"every term without {weight} is held constant"),
        LocalDerivative(Partial(out, bias), differentiate(z_parts, bias), sp.Integer(1)),
    )


def build(head, hidden=None, layers=0, outputs: int = 1, training=None) -> Derivation:
    activation, loss = head.activation, head.loss
    h = derive_head(activation, loss)
    many = outputs > 1
    rename = {z: z_k, a: a_k, y: y_k} if many else {}
    zz, aa, yy, weight, bias = (z_k, a_k, y_k, W_jk, b_k) if many else (z, a, y, w_j, b)
    f, loss_name = named(activation.text, activation.latex), named(loss.text, loss.latex)
    loss_step, act_step, chain_step = (relabel(step, rename) for step in h.steps)
    dL_dz = scaled(relabel(h.dL_dz, rename), 1 / K) if many else h.dL_dz
    grad_w, grad_b = (Times(*dL_dz.args, x_j) if many else arrange_product(dL_dz, x_j)), dL_dz
    squares = sp.Sum(sp.Sum(W_jk**2, (j, 1, D)), (k, 1, K)) if many else sp.Sum(w_j**2, (j, 1, D))
    reg = penalty(training, weight, squares)
    per_sample = (aa, yy, zz, x_j)
    forward_pass = (
        Section("Forward pass"),
        *((Note(f"The layer has K = {outputs} outputs, k = 1 … K, each a neuron of its own that shares the "
                f"inputs x_j; the loss is the mean over the outputs, as PyTorch's reduction=\"mean\" takes it."),)
          if many else ()),
        Definition(zz, (sp.Sum(weight * x_j, (j, 1, D)) + bias,), "pre-activation: the weighted sum of the inputs"),
        Definition(aa, (f(zz), activation.expr.xreplace(rename)), f"activation: {activation.description}"),
        Definition(L, ((Times(1 / K, sp.Sum(loss_name(a_k, y_k), (k, 1, K))),
                        Times(1 / K, sp.Sum(loss.expr.xreplace(rename), (k, 1, K))))
                       if many else (loss_name(a, y), loss.expr)), f"loss: {loss.description}"),
        *reg.forward(),
    )
    if many:
        chain = (ChainRule(Partial(L, weight), (Partial(L, aa), Partial(aa, zz), Partial(zz, weight))),
                 ChainRule(Partial(L, bias), (Partial(L, aa), Partial(aa, zz), Partial(zz, bias))),
                 Note("W_jk reaches the loss through output k alone (z_k is the only pre-activation that contains "
                      "it), so the chain has one path."))
        local = (relabel(loss_step, {L: L_k, **rename}),
                 Equation(Partial(L, a_k), (Times(1 / K, Partial(L_k, a_k)),
                                            scaled(relabel(h.steps[0].textbook, rename), 1 / K)),
                          "L = (1/K) Σ_k L_k, and only L_k contains a_k"), act_step)
        together = Equation(Partial(L, z_k), (Times(Partial(L, a_k), Partial(a_k, z_k)), dL_dz),
                            "chain rule, then the local derivatives")
    else:
        chain = (ChainRule(Partial(L, w_j), (Partial(L, a), Partial(a, z), Partial(z, w_j))),
                 ChainRule(Partial(L, b), (Partial(L, a), Partial(a, z), Partial(z, b))))
        local, together = (loss_step, act_step), chain_step
    steps = (
        *forward_pass,
        Section("Chain rule"), *chain, partial(str(weight)),
        Section("Local derivatives"), *local, *weighted_sum_steps(weight, x_j, bias, zz, others_jk if many else others_j),
        *reg.local(),
        Section("Putting it together"), together,
        Equation(Partial(L, weight), (Times(Partial(L, zz), Partial(zz, weight)), grad_w)),
        Equation(Partial(L, bias), (Times(Partial(L, zz), Partial(zz, bias)), grad_b)), *reg.together(bias),
        *((Note("The factor 1/K comes from the mean over all N·K elements (PyTorch's reduction=\"mean\"): like "
                "any constant it folds into the learning rate α, so with K outputs each weight takes 1/K of the "
                "step a single output would give it at the same α."),) if many else ()),
        input_factor(x_j, weight),
        *filter(None, [folded_constant(h.dL_dz, x_j)]),
        *batch_mean({weight: grad_w, bias: grad_b}, per_sample, reg),
        *update_rule((weight, bias), str(weight), training, means({weight: grad_w, bias: grad_b}, per_sample, reg),
                     reg),
    )
    return Derivation("neuron", activation.name, loss.name, None, steps,
                      {weight: value(reg.gradient(weight, grad_w)), bias: value(grad_b)}, pieces=dict(h.pieces),
                      outputs=outputs)


def _modules() -> list:
    return [(activation, loss, None) for activation, loss in valid_pairs(NEURON)]


NEURON = Model(
    name="neuron",
    description="one neuron per output: z_k = Σ_j W_jk x_j + b_k, a_k = f(z_k)",
    spans=("elementwise",),
    hidden_layers=False,
    parameters="(w, b) for one output; (W, b) with W (n_features, K) for K",
    build=build,
    template=lambda span: ("no_hidden", *span.parts, "dense", "fused", "neuron"),
    modules=_modules,
    test_shape=lambda features, outputs: (features, outputs),
    forward=forward,
    layout={"hidden": False, "squeeze": True},
)
