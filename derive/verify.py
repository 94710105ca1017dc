"""Finite-difference verification of any kernel module: one checker for the tests, `derive verify` and the
benchmark's correctness gate.

Test problems are drawn from the catalogue's own declarations (label sets, kinks) and kept off every kink,
so central differences are valid; the reference loss is an independent NumPy evaluation of the derivation's
expressions, not the kernel's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from derive.catalogue import ACTIVATIONS, LOSSES
from derive.catalogue.custom import custom_activation, custom_loss
from derive.catalogue.functions import expand_named
from derive.catalogue.symbols import a, y, z

TOLERANCE = 1e-6
KINK_MARGIN = 1e-3
STEP = 1e-6


@dataclass(frozen=True)
class Result:
    module: str
    max_relative_error: float
    loss_error: float

    @property
    def passed(self) -> bool:
        return self.max_relative_error <= TOLERANCE and self.loss_error <= 1e-9


def activation_entry(module, role="activation"):
    """The catalogue entry behind a module's activation (or hidden activation), custom ones parsed back."""
    name = module.HIDDEN if role == "hidden" else module.ACTIVATION
    return ACTIVATIONS[name] if name in ACTIVATIONS else custom_activation(module.EXPRESSIONS[role])


def loss_entry(module):
    return LOSSES[module.LOSS] if module.LOSS in LOSSES else custom_loss(module.EXPRESSIONS["loss"])


def _numpy(expr, *symbols):
    return sp.lambdify(symbols, expand_named(expr), modules=["scipy", "numpy"])


def draw_labels(module, n, rng, n_classes=None) -> np.ndarray:
    """Labels the module's loss accepts, by its LABELS spec."""
    kind = module.LABELS[0]
    if kind == "classes":
        return rng.integers(0, n_classes, n)
    if kind == "set":
        return rng.choice(np.array(module.LABELS[1]), n)
    if kind == "interval":
        low, high = module.LABELS[1], module.LABELS[2]
        return rng.integers(0, 6, n).astype(float) if math.isinf(high) else rng.choice([low, high], n)
    return rng.normal(0.0, 1.0, n)


def _vector_head(module) -> bool:
    return module.ACTIVATION in ACTIVATIONS and ACTIVATIONS[module.ACTIVATION].vector


def forward(module, params, X):
    """Independent NumPy forward pass: (pre-activations of every layer, output).

    Every model is a stack of dense layers (a neuron's w is a one-column W): hidden layers apply g, the last
    one the head, softmax over the columns or f on the single column."""
    weights = [W.reshape(len(W), -1) for W in params[0::2]]
    hidden = _numpy(activation_entry(module, "hidden").expr, z) if len(weights) > 1 else None
    A, zs = X, []
    for W, b in zip(weights, params[1::2]):
        zs.append(A @ W + b)
        A = hidden(zs[-1]) * np.ones_like(zs[-1]) if hidden is not None and len(zs) < len(weights) else A
    Z = zs[-1]
    if _vector_head(module):
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        return zs, P / P.sum(axis=1, keepdims=True)
    zs[-1] = Z[:, 0]
    return zs, _numpy(activation_entry(module).expr, z)(Z[:, 0]) * np.ones(len(Z))


def reference_loss(module, params, X, labels) -> float:
    """The mean loss from the catalogue's expressions, evaluated by NumPy."""
    _, out = forward(module, params, X)
    if out.ndim == 2:
        return float(-np.mean(np.log(out[np.arange(len(labels)), labels])))
    return float(np.mean(_numpy(loss_entry(module).expr, a, y)(out, labels) * np.ones(len(labels))))


def off_kinks(module, params, X, labels) -> bool:
    """No pre-activation or loss argument within KINK_MARGIN of a kink."""
    zs, out = forward(module, params, X)
    head = ACTIVATIONS[module.ACTIVATION] if _vector_head(module) else activation_entry(module)
    hidden = activation_entry(module, "hidden") if len(zs) > 1 else head
    for layer, Z in enumerate(zs):
        entry = hidden if layer < len(zs) - 1 else head
        if any(np.min(np.abs(_numpy(k, z)(Z) * np.ones_like(Z))) < KINK_MARGIN for k in entry.kinks):
            return False
    if out.ndim == 1:
        return all(np.min(np.abs(_numpy(k, a, y)(out, labels) * np.ones_like(out))) >= KINK_MARGIN
                   for k in loss_entry(module).kinks)
    return True


# The init arguments of each model's kernels for a small test problem (features, classes -> args).
INIT_SHAPES = {
    "neuron": lambda features, classes: (features,),
    "softmax": lambda features, classes: (features, classes),
    "mlp": lambda features, classes: (features, (4, 3), classes or 1),
}


def problem(module, seed: int = 0, n_rows: int = 24, n_features: int = 3):
    """(params, X, y) for ``module``: random, valid and off every kink."""
    for attempt in range(200):
        rng = np.random.default_rng([seed, attempt])
        X = rng.normal(0.0, 1.0, (n_rows, n_features))
        classes = 3 if _vector_head(module) else None
        params = module.init(*INIT_SHAPES[module.MODEL](n_features, classes), seed=seed + attempt)
        params = tuple(np.ascontiguousarray(p + rng.normal(0.0, 0.3, p.shape)) for p in params)
        labels = draw_labels(module, n_rows, rng, classes)
        if off_kinks(module, params, X, labels):
            return params, X, labels
    raise RuntimeError(f"no kink-free problem found for {module.__name__}")


def gradient_error(module, params, X, labels, step: float = STEP) -> float:
    """Max over coordinates of |central difference − gradient|, relative to the gradient's scale."""
    _, grads = module.loss_and_gradient(params, X, labels)
    scale = max(max(float(np.max(np.abs(g))) for g in grads), 1e-8)
    worst = 0.0
    for index, (p, g) in enumerate(zip(params, grads)):
        for position in np.ndindex(p.shape):
            shifted = [q.copy() for q in params]
            shifted[index][position] = p[position] + step
            up = module.loss(tuple(shifted), X, labels)
            shifted[index][position] = p[position] - step
            down = module.loss(tuple(shifted), X, labels)
            numeric = (up - down) / (2 * step)
            worst = max(worst, abs(numeric - g[position]) / max(abs(g[position]), 1e-2 * scale))
    return worst


def verify_module(module, seed: int = 0) -> Result:
    params, X, labels = problem(module, seed)
    loss = module.loss(params, X, labels)
    reference = reference_loss(module, params, X, labels)
    return Result(module.__name__.rsplit(".", 1)[-1], gradient_error(module, params, X, labels),
                  abs(loss - reference) / max(1.0, abs(reference)))
