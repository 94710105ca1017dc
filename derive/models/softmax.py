"""Softmax regression: z_k = Σ_j W_jk x_j + b_k, p = softmax(z), L = −Σ_k y_k log p_k over K ≥ 2 classes.

∂L/∂z_k = p_k − y_k is derived by the softmax head (``derive/derivations/heads.py``), which needs Σ_k y_k = 1.
"""
from __future__ import annotations

import sympy as sp

from derive.catalogue import valid_pairs
from derive.catalogue.symbols import D, K, L, W_jk, b_k, i, j, k, others_jk, p_i, p_k, x_j, y_k, z_i, z_k
from derive.derivations.heads import derive_head
from derive.derivations.notes import input_factor, partial
from derive.derivations.sections import batch_mean, means, penalty, update_rule
from derive.derivations.value import Derivation
from derive.models import Model
from derive.models.dense import forward
from derive.notation import Partial, Times, value
from derive.rules import differentiate
from derive.steps import ChainRule, Definition, Equation, LocalDerivative, Note, Section


def build(head, hidden=None, layers=0, outputs: int = 2, training=None) -> Derivation:
    activation, loss = head.activation, head.loss
    h = derive_head(activation, loss)
    dL_dz = h.dL_dz
    grad_w = Times(dL_dz, x_j)
    reg = penalty(training, W_jk, sp.Sum(sp.Sum(W_jk**2, (j, 1, D)), (k, 1, K)))
    steps = (
        Section("Forward pass"),
        Definition(z_k, (sp.Sum(W_jk * x_j, (j, 1, D)) + b_k,), "logit of class k"),
        Definition(p_k, (sp.exp(z_k) / sp.Sum(sp.exp(z_i), (i, 1, K)),), "softmax: probabilities that sum to 1"),
        Definition(L, (-sp.Sum(y_k * sp.log(p_k), (k, 1, K)),),
                   "cross-entropy with a one-hot label y (y_k = 1 for the true class c), so L = −log p_c"),
        *reg.forward(),
        Section("Chain rule"),
        Note("Every probability p_i depends on z_k (through the shared denominator), so the chain rule sums "
             "over i; z_k is the only logit that contains W_jk."),
        ChainRule(Partial(L, W_jk), (sp.Sum(Times(Partial(L, p_i), Partial(p_i, z_k)), (i, 1, K)),
                                     Partial(z_k, W_jk))),
        partial("W_jk"),
        Section("Local derivatives"),
        *h.steps[:4],
        LocalDerivative(Partial(z_k, W_jk), differentiate(W_jk * x_j + others_jk + b_k, W_jk),
                        x_j, "every term without W_jk is held constant"),
        *reg.local(),
        Section("Putting it together"),
        h.steps[4],
        Equation(Partial(L, W_jk), (Times(Partial(L, z_k), Partial(z_k, W_jk)), grad_w)),
        Equation(Partial(L, b_k), (dL_dz,)), *reg.together(b_k),
        Note("Each class's weights move by its probability error p_k − y_k: the true class (y_k = 1) is pushed "
             "up by 1 − p_k, every other class is pushed down by its probability p_k."),
        input_factor(x_j, W_jk),
        *batch_mean({W_jk: grad_w, b_k: dL_dz}, (p_k, y_k, x_j), reg),
        *update_rule((W_jk, b_k), "W_jk", training, means({W_jk: grad_w, b_k: dL_dz}, (p_k, y_k, x_j), reg), reg),
    )
    return Derivation("softmax", activation.name, loss.name, None, steps,
                      {W_jk: value(reg.gradient(W_jk, grad_w)), b_k: h.delta},
                      pieces=dict(h.pieces), outputs=outputs)


SOFTMAX = Model(
    "softmax", "softmax regression over K classes", spans=("softmax",), hidden_layers=False,
    parameters="(W, b) with W (n_features, K)", build=build, forward=forward,
    template=lambda span: ("no_hidden", *span.parts, "dense", "stack"),
    modules=lambda: [(activation, loss, None) for activation, loss in valid_pairs(SOFTMAX)],
    test_shape=lambda features, outputs: (features, max(outputs, 2)),
    layout={"hidden": False, "squeeze": False},
)
