"""Finite-difference verification of any kernel module: one checker for the tests, `derive verify` and the
benchmark's correctness gate.

Test problems are drawn from the catalogue's own declarations (label sets, kinks) and kept off every kink,
so central differences are valid; the reference loss is an independent NumPy forward pass (the model's own,
``Model.forward``) through the catalogue's expressions, not the kernel's.
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
    outputs: int
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
    f = sp.lambdify(symbols, expand_named(expr), modules=["scipy", "numpy"])
    return lambda *args: f(*args) * np.ones_like(args[0], dtype=float)


def _softmax(Z):
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    return P / P.sum(axis=1, keepdims=True)


def draw_labels(module, n, rng, outputs) -> np.ndarray:
    """Labels the module's loss accepts, by its LABELS spec: (n,) class indices or values, (n, K) for K > 1."""
    kind = module.LABELS[0]
    if kind == "classes":
        return rng.integers(0, outputs, n)
    shape = (n,) if outputs == 1 else (n, outputs)
    if kind == "set":
        return rng.choice(np.array(module.LABELS[1]), shape)
    if kind == "interval":
        low, high = module.LABELS[1], module.LABELS[2]
        return rng.integers(0, 6, shape).astype(float) if math.isinf(high) else rng.choice([low, high], shape)
    return rng.normal(0.0, 1.0, shape)


def _model(module):
    from derive.models import MODELS
    return MODELS[module.MODEL]


def _elementwise_loss(module, out, labels) -> float:
    return float(np.mean(_numpy(loss_entry(module).expr, a, y)(out, np.reshape(labels, out.shape))))


def _elementwise_loss_off_kinks(module, out, labels) -> bool:
    shaped = np.reshape(labels, out.shape)
    return all(np.min(np.abs(_numpy(k, a, y)(out, shaped))) >= KINK_MARGIN for k in loss_entry(module).kinks)


@dataclass(frozen=True)
class _Reference:
    """A span's head in NumPy, written from its definition (``catalogue/heads.py``), not from the kernels."""

    test_outputs: int        # K of the test problems
    head: object             # module -> (Z (N, K) -> outputs (N, K))
    mean_loss: object        # (module, outputs, labels) -> the mean loss
    loss_off_kinks: object   # (module, outputs, labels) -> whether every loss argument is off the loss's kinks


REFERENCES = {   # one per span of catalogue.heads.SPANS
    "elementwise": _Reference(1, lambda module: _numpy(activation_entry(module).expr, z), _elementwise_loss,
                              _elementwise_loss_off_kinks),
    "softmax": _Reference(3, lambda module: _softmax,
                          lambda module, out, labels: float(-np.mean(np.log(out[np.arange(len(labels)), labels]))),
                          lambda module, out, labels: True),
}


def forward(module, params, X):
    """Independent NumPy forward pass of the module's model: (pre-activations of every layer, output (N, K))."""
    hidden = _numpy(activation_entry(module, "hidden").expr, z) if module.HIDDEN else None
    return _model(module).forward(params, X, hidden, REFERENCES[module.SPAN].head(module))


def reference_loss(module, params, X, labels) -> float:
    """The mean loss (over N·K elements; over N rows for softmax) from the catalogue's expressions, by NumPy."""
    _, out = forward(module, params, X)
    return REFERENCES[module.SPAN].mean_loss(module, out, labels)


def off_kinks(module, params, X, labels) -> bool:
    """No pre-activation or loss argument within KINK_MARGIN of a kink."""
    zs, out = forward(module, params, X)
    head = activation_entry(module)
    hidden = activation_entry(module, "hidden") if module.HIDDEN else head
    for layer, Z in enumerate(zs):
        entry = hidden if layer < len(zs) - 1 else head
        if any(np.min(np.abs(_numpy(k, z)(Z))) < KINK_MARGIN for k in entry.kinks):
            return False
    return REFERENCES[module.SPAN].loss_off_kinks(module, out, labels)


def problem(module, seed: int = 0, n_rows: int = 24, n_features: int = 3, outputs: int | None = None):
    """(params, X, y) for ``module`` with ``outputs`` outputs (default: the least its head takes, 3 classes
    for softmax): random, valid and off every kink."""
    outputs = outputs or REFERENCES[module.SPAN].test_outputs
    for attempt in range(200):
        rng = np.random.default_rng([seed, attempt])
        X = rng.normal(0.0, 1.0, (n_rows, n_features))
        params = module.init(*_model(module).test_shape(n_features, outputs), seed=(seed + attempt) % 2**32)
        params = tuple(np.ascontiguousarray(p + rng.normal(0.0, 0.3, p.shape)) for p in params)
        labels = draw_labels(module, n_rows, rng, outputs)
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


def verify_module(module, seed: int = 0, outputs: int | None = None) -> Result:
    params, X, labels = problem(module, seed, outputs=outputs)
    loss = module.loss(params, X, labels)
    reference = reference_loss(module, params, X, labels)
    return Result(module.__name__.rsplit(".", 1)[-1], int(np.shape(params[-1])[0]),
                  gradient_error(module, params, X, labels), abs(loss - reference) / max(1.0, abs(reference)))
