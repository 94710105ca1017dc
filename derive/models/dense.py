"""What every dense stack shares: the reference forward pass that ``derive verify`` checks kernels against.

    z⁽ˡ⁾ = a⁽ˡ⁻¹⁾ W⁽ˡ⁾ + b⁽ˡ⁾ (rows are samples, a⁽⁰⁾ = x),  a⁽ˡ⁾ = g(z⁽ˡ⁾) below the top,  output = f(z⁽ᴸ⁾)

A neuron with one output stores w as a vector: it is the one-column W.
"""
from __future__ import annotations

import numpy as np


def forward(params, X, hidden, head):
    """(pre-activations of every layer, output) by NumPy; ``hidden`` and ``head`` map arrays to arrays."""
    weights = [np.asarray(W).reshape(len(W), -1) for W in params[0::2]]
    A, zs = np.asarray(X, dtype=float), []
    for layer, (W, b) in enumerate(zip(weights, params[1::2])):
        zs.append(A @ W + np.asarray(b))
        if layer < len(weights) - 1:
            A = hidden(zs[-1])
    return zs, head(zs[-1])
