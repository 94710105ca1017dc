"""NumPy, written the idiomatic way: whole-array expressions, OpenBLAS on every core (its default).

    sigmoid + BCE:   L = mean(softplus(z) − y·z),          ∂L/∂z = (σ(z) − y) / N
    identity + MSE:  L = mean over N·K of (z − y)²,        ∂L/∂z = 2 (z − y) / (N·K)
    softmax + CE:    L = mean(logsumexp(z) − z_y),         ∂L/∂z = (softmax(z) − onehot(y)) / N
    MLP:             a = tanh(x W1 + b1), z = a W2 + b2, sigmoid + BCE per output, mean over N·K;
                     δ₁ = (∂L/∂z W2ᵀ) ⊙ (1 − a²)

The ``Run`` protocol and the epoch conventions are those of ``protocol``.
"""
from __future__ import annotations

import numpy as np

from .protocol import ALL_BLAS, Run, in_place_epoch, labels_2d, loss_and_grads


def softplus_sigmoid(z):
    """(softplus(z), σ(z)) without overflow: σ(z) = exp(z − softplus(z))."""
    softplus = np.logaddexp(0.0, z)
    return softplus, np.exp(z - softplus)


class NumPy:
    env = ALL_BLAS
    settle = 0.15   # seconds the driver waits after its repetition: idle OpenBLAS threads spin ~0.1 s
                    # (2²⁸ cycles) before they sleep, and would take the cores of whoever runs next

    def setup(self):
        return {}

    def neuron_grad(self, data):
        def loss_and_gradient(w, b, X, y):
            z = X @ w + b[0]
            softplus, sigmoid = softplus_sigmoid(z)
            r = (sigmoid - y) / len(y)
            return np.mean(softplus - y * z), (X.T @ r, np.array([r.sum()]))
        return Run(lambda: loss_and_gradient(*data.params, data.X, data.y), loss_and_grads)

    def neuron_mse_grad(self, data):
        def loss_and_gradient(W, b, X, Y):
            R = X @ W + b - Y
            G = (2.0 / R.size) * R
            return np.mean(R * R), (X.T @ G, G.sum(axis=0))
        return Run(lambda: loss_and_gradient(*data.params, data.X, labels_2d(data)), loss_and_grads)

    def softmax_grad(self, data):
        def loss_and_gradient(W, b, X, y):
            Z = X @ W + b
            lse = np.logaddexp.reduce(Z, axis=1)
            rows = np.arange(len(y))
            P = np.exp(Z - lse[:, None])
            P[rows, y] -= 1.0
            P /= len(y)
            return np.mean(lse - Z[rows, y]), (X.T @ P, P.sum(axis=0))
        return Run(lambda: loss_and_gradient(*data.params, data.X, data.y), loss_and_grads)

    def neuron_fit(self, data):
        X, y, lr, order = data.X, data.y, data.lr, data.order

        def epoch(params):
            w, b = params
            loss = 0.0
            for i in order:
                x = X[i]
                z = x @ w + b[0]
                softplus, sigmoid = softplus_sigmoid(z)
                loss += softplus - y[i] * z
                step = lr * (sigmoid - y[i])
                w -= step * x
                b -= step
            return loss / len(order)
        return in_place_epoch(data, epoch)

    def mlp_fit(self, data):
        X, Y, lr, order, batch = data.X, labels_2d(data), data.lr, data.order, data.batch

        def epoch(params):
            W1, b1, W2, b2 = params
            loss = 0.0
            for start in range(0, len(order), batch):
                rows = order[start:start + batch]
                Xb, Yb = X[rows], Y[rows]
                A = np.tanh(Xb @ W1 + b1)
                Z = A @ W2 + b2
                softplus, sigmoid = softplus_sigmoid(Z)
                loss += np.sum(softplus - Yb * Z)
                R = (sigmoid - Yb) / Yb.size
                D1 = (R @ W2.T) * (1.0 - A * A)
                W2 -= lr * (A.T @ R)
                b2 -= lr * R.sum(axis=0)
                W1 -= lr * (Xb.T @ D1)
                b1 -= lr * D1.sum(axis=0)
            return loss / Y.size
        return in_place_epoch(data, epoch)
