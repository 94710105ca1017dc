"""Softmax regression: z_k = Σ_j W_jk x_j + b_k, p_k = e^(z_k)/Σ_i e^(z_i), L = −Σ_k y_k log p_k.

The result ∂L/∂z_k = p_k − y_k needs Σ_i y_i = 1 (a one-hot label); the builder checks it numerically on
K = 3 classes against ``sympy.diff`` of the composed loss.
"""
from __future__ import annotations

import random

import sympy as sp

from derive.catalogue.symbols import (D, K, L, L_mean, W_jk, alpha, b_k, i, j, k, others_jk, others_k, p_i, p_k, sample, x_j,
                                      y_i, y_k, z_k)
from derive.derivation.notes import against_gradient, input_factor, partial
from derive.derivation.value import Derivation
from derive.notation import BatchMean, Partial, Times, value
from derive.presenter import assert_same
from derive.rules import differentiate
from derive.steps import ChainRule, Definition, Equation, LocalDerivative, Note, Section, Update

z_i_sym = sp.Symbol("z_i", real=True)
delta_ik = sp.KroneckerDelta(i, k)


def build_softmax(model, activation, loss, hidden=None, layers=0) -> Derivation:
    dL_dz = p_k - y_k
    grad_w = Times(dL_dz, x_j)
    _check_against_sympy()
    same_class = differentiate(sp.exp(z_k) / (sp.exp(z_k) + others_k), z_k)
    other_class = differentiate(sp.exp(z_i_sym) / (sp.exp(z_k) + others_k), z_k)
    per_sample = {s: sample(s) for s in (p_k, y_k, x_j)}
    steps = (
        Section("Forward pass"),
        Definition(z_k, (sp.Sum(W_jk * x_j, (j, 1, D)) + b_k,), "logit of class k"),
        Definition(p_k, (sp.exp(z_k) / sp.Sum(sp.exp(z_i_sym), (i, 1, K)),), "softmax: probabilities that sum to 1"),
        Definition(L, (-sp.Sum(y_k * sp.log(p_k), (k, 1, K)),),
                   "cross-entropy with a one-hot label y (y_k = 1 for the true class c), so L = −log p_c"),
        Section("Chain rule"),
        Note("Every probability p_i depends on z_k (through the shared denominator), so the chain rule sums "
             "over i; z_k is the only logit that contains W_jk."),
        ChainRule(Partial(L, W_jk), (sp.Sum(Times(Partial(L, p_i), Partial(p_i, z_k)), (i, 1, K)),
                                     Partial(z_k, W_jk))),
        partial("W_jk"),
        Section("Local derivatives"),
        LocalDerivative(Partial(L, p_i), differentiate(-y_i * sp.log(p_i), p_i), -y_i / p_i,
                        "only the i-th term of the sum contains p_i"),
        LocalDerivative(Partial(p_k, z_k), same_class, p_k * (1 - p_k), "with p_k = e^(z_k)/Σ_i e^(z_i)"),
        LocalDerivative(Partial(p_i, z_k), other_class, -p_i * p_k, "for i ≠ k, with p_i = e^(z_i)/Σ_m e^(z_m)"),
        Equation(Partial(p_i, z_k), (p_i * (delta_ik - p_k),), "both cases at once: δ_ik is 1 if i = k, else 0"),
        LocalDerivative(Partial(z_k, W_jk), differentiate(W_jk * x_j + others_jk + b_k, W_jk),
                        x_j, "every term without W_jk is held constant"),
        Section("Putting it together"),
        Equation(Partial(L, z_k), (
            sp.Sum(Times(-y_i / p_i, p_i * (delta_ik - p_k)), (i, 1, K)),
            sp.Sum(-y_i * (delta_ik - p_k), (i, 1, K)),
            -y_k + p_k * sp.Sum(y_i, (i, 1, K)),
            dL_dz), "the p_i cancel; then Σ_i y_i δ_ik = y_k and Σ_i y_i = 1 (one-hot label)"),
        Equation(Partial(L, W_jk), (Times(Partial(L, z_k), Partial(z_k, W_jk)), grad_w)),
        Equation(Partial(L, b_k), (dL_dz,)),
        Note("Each class's weights move by its probability error p_k − y_k: the true class (y_k = 1) is pushed "
             "up by 1 − p_k, every other class is pushed down by its probability p_k."),
        input_factor(x_j, W_jk),
        Section("Mean over a batch of N samples"),
        Definition(L_mean, (BatchMean(sample(L)),), "the loss the update minimises"),
        Equation(Partial(L_mean, W_jk), (BatchMean(value(grad_w).xreplace(per_sample)),),
                 "the derivative of a mean is the mean of the derivatives"),
        Equation(Partial(L_mean, b_k), (BatchMean(dL_dz.xreplace(per_sample)),)),
        Section("Update rule"),
        Update(W_jk, W_jk - alpha * Partial(L_mean, W_jk)),
        Update(b_k, b_k - alpha * Partial(L_mean, b_k)),
        against_gradient("W_jk"),
    )
    return Derivation("softmax", activation.name, loss.name, None, steps,
                      {W_jk: value(grad_w), b_k: dL_dz},
                      pieces={"loss": loss.expr, "dL_dz": dL_dz})


def _check_against_sympy(classes: int = 3, seed: int = 0) -> None:
    """∂L/∂z_k = p_k − y_k on ``classes`` classes, against sympy.diff of −Σ y log softmax."""
    zs = sp.symbols(f"z1:{classes + 1}", real=True)
    ys = sp.symbols(f"y1:{classes + 1}", real=True)
    total = sum(sp.exp(v) for v in zs)
    loss = -sum(yc * sp.log(sp.exp(zc) / total) for yc, zc in zip(ys, zs))
    rng = random.Random(seed)
    points = []
    for _ in range(6):
        true_class = rng.randrange(classes)
        points.append({**{v: rng.uniform(-3, 3) for v in zs}, **{yc: float(c == true_class) for c, yc in enumerate(ys)}})
    for c in range(classes):
        assert_same(sp.exp(zs[c]) / total - ys[c], sp.diff(loss, zs[c]), points)
