"""The hand-written numba kernels that the benchmark holds the generated kernels against, and their competitor.

Written by hand, never by the generator: plain loops, the parameters in the kernels' layout
(neuron ``(w, b)``, softmax ``(W, b)``, MLP ``(W1, b1, W2, b2)``), and the same conventions:

- sigmoid + BCE:   L = mean(softplus(z) − y·z),  ∂L/∂z = σ(z) − y
- softmax + CE:    L = mean(logsumexp(z) − z_y), ∂L/∂z = softmax(z) − onehot(y)
- MLP:             tanh hidden layer, sigmoid + BCE per output, the mean over the N·K loss terms
- an epoch of SGD visits the rows in ``order``, one update per batch with the batch-mean gradient,
  and returns the mean over all loss terms, each taken before its batch's update.

fastmath leaves out ``nnan``/``ninf`` (as PyTensor's numba backend does), so NaN and inf still behave.
exp and log1p are numba's scalar libm calls (the generated kernels use their own vectorising ones from
generated/_elementary.py; the reference stays independent of them), one exp shared by the loss and σ.
Row blocks: one per numba thread (two here), chosen and reduced by a plain Python function around the
prange kernel (calling numba.get_num_threads() inside a kernel stops numba caching it, and array
reductions inside a parallel kernel triple its compile time). Each block is a slice, so its loops index
from 0: a loop over ``range(lo, hi)`` indexes with numbers numba cannot prove non-negative, and LLVM
then does not vectorise it (5 GB/s instead of 30 GB/s here).
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from .protocol import NUMBA, Run, in_place_epoch, labels_2d, loss_and_grads

FASTMATH = {"nsz", "arcp", "contract", "reassoc"}
JIT = dict(cache=True, nogil=True, fastmath=FASTMATH)


@njit(**JIT)
def _softplus_sigmoid(z):
    """(softplus(z), σ(z)) from one exp: with e = e^−|z|, softplus = max(z, 0) + log1p(e) and
    σ = 1/(1 + e) for z ≥ 0, e/(1 + e) below; nothing overflows."""
    e = np.exp(-abs(z))
    sigmoid = 1.0 / (1.0 + e) if z >= 0.0 else e / (1.0 + e)
    return max(z, 0.0) + np.log1p(e), sigmoid


# ---------------------------------------------------------------- neuron, sigmoid + BCE, full batch
@njit(**JIT)
def _neuron_block(w, b, X, y, grad_w):
    """Adds Σ_i (σ(z_i) − y_i) x_i into grad_w in one pass over X; returns (Σ loss, Σ ∂L/∂b)."""
    loss = 0.0
    grad_b = 0.0
    for i in range(X.shape[0]):
        x = X[i]
        z = b
        for j in range(x.size):
            z += x[j] * w[j]
        softplus, sigmoid = _softplus_sigmoid(z)
        loss += softplus - y[i] * z
        r = sigmoid - y[i]
        grad_b += r
        for j in range(x.size):
            grad_w[j] += r * x[j]
    return loss, grad_b


def neuron_loss_and_gradient(w, b, X, y):
    """(mean loss, (∂L/∂w, ∂L/∂b)): one fused pass over X, the rows split into blocks run by prange."""
    blocks = numba.get_num_threads()
    grad_w, sums = np.zeros((blocks, X.shape[1])), np.zeros((blocks, 2))
    _neuron_blocks(w, b, X, y, grad_w, sums)
    total = sums.sum(axis=0) / X.shape[0]
    return total[0], (grad_w.sum(axis=0) / X.shape[0], total[1:])


@njit(parallel=True, **JIT)
def _neuron_blocks(w, b, X, y, grad_w, sums):
    n, blocks = X.shape[0], sums.shape[0]
    for t in prange(blocks):
        lo, hi = t * n // blocks, (t + 1) * n // blocks
        loss, grad_b = _neuron_block(w, b[0], X[lo:hi], y[lo:hi], grad_w[t])
        sums[t, 0] = loss
        sums[t, 1] = grad_b


@njit(**JIT)
def neuron_fit_epoch(w, b, X, y, lr, order):
    """One epoch of per-sample SGD in place; returns the mean loss before each update."""
    loss = 0.0
    for i in order:
        x = X[i]
        z = b[0]
        for j in range(x.size):
            z += x[j] * w[j]
        softplus, sigmoid = _softplus_sigmoid(z)
        loss += softplus - y[i] * z
        step = lr * (sigmoid - y[i])
        for j in range(x.size):
            w[j] -= step * x[j]
        b[0] -= step
    return loss / order.size


# ---------------------------------------------------------------- softmax regression + cross-entropy
@njit(**JIT)
def _softmax_block(W, b, X, y, grad_W, grad_b):
    """Adds Σ_i x_i ⊗ (p_i − onehot(y_i)) into grad_W (and p_i − onehot into grad_b); returns Σ loss."""
    k = b.size
    p = np.empty(k)
    loss = 0.0
    for i in range(X.shape[0]):
        x = X[i]
        for c in range(k):
            p[c] = b[c]
        for j in range(x.size):
            for c in range(k):
                p[c] += x[j] * W[j, c]
        top = p[0]
        for c in range(1, k):
            top = max(top, p[c])
        total = 0.0
        for c in range(k):
            total += np.exp(p[c] - top)
        lse = top + np.log(total)
        loss += lse - p[y[i]]
        for c in range(k):
            p[c] = np.exp(p[c] - lse)
        p[y[i]] -= 1.0
        for c in range(k):
            grad_b[c] += p[c]
        for j in range(x.size):
            for c in range(k):
                grad_W[j, c] += x[j] * p[c]
    return loss


def softmax_loss_and_gradient(W, b, X, y):
    """(mean loss, (∂L/∂W, ∂L/∂b)) in one fused pass, row blocks run by prange."""
    blocks, n = numba.get_num_threads(), X.shape[0]
    grad_W, grad_b, losses = np.zeros((blocks, *W.shape)), np.zeros((blocks, b.size)), np.zeros(blocks)
    _softmax_blocks(W, b, X, y, grad_W, grad_b, losses)
    return losses.sum() / n, (grad_W.sum(axis=0) / n, grad_b.sum(axis=0) / n)


@njit(parallel=True, **JIT)
def _softmax_blocks(W, b, X, y, grad_W, grad_b, losses):
    n, blocks = X.shape[0], losses.size
    for t in prange(blocks):
        lo, hi = t * n // blocks, (t + 1) * n // blocks
        losses[t] = _softmax_block(W, b, X[lo:hi], y[lo:hi], grad_W[t], grad_b[t])


# ---------------------------------------------------------------- MLP: tanh hidden layer, sigmoid + BCE head, K outputs
@njit(**JIT)
def mlp_fit_epoch(W1, b1, W2, b2, X, Y, lr, order, batch_size):
    """One epoch of mini-batch SGD in place, a row at a time; returns the mean loss before each update."""
    n, d = X.shape
    hidden, k = W2.shape
    a = np.empty(hidden)
    delta = np.empty(hidden)
    r = np.empty(k)
    grad_W1 = np.empty_like(W1)
    grad_b1 = np.empty_like(b1)
    grad_W2 = np.empty_like(W2)
    grad_b2 = np.empty_like(b2)
    loss = 0.0
    for start in range(0, n, batch_size):
        rows = order[start:start + batch_size]
        scale = 1.0 / (rows.size * k)                   # ∂L/∂z of the batch mean over its loss terms
        grad_W1[:] = 0.0
        grad_b1[:] = 0.0
        grad_W2[:] = 0.0
        grad_b2[:] = 0.0
        for i in rows:
            x = X[i]
            a[:] = b1                                    # forward: a = tanh(x W1 + b1)
            for j in range(d):
                for h in range(hidden):
                    a[h] += x[j] * W1[j, h]
            for h in range(hidden):
                a[h] = np.tanh(a[h])
            for c in range(k):                           # z = a W2 + b2, loss and ∂L/∂z per output
                z = b2[c]
                for h in range(hidden):
                    z += a[h] * W2[h, c]
                softplus, sigmoid = _softplus_sigmoid(z)
                loss += softplus - Y[i, c] * z
                r[c] = (sigmoid - Y[i, c]) * scale
                grad_b2[c] += r[c]
            for h in range(hidden):                      # backward: δ = (r W2ᵀ) ⊙ (1 − a²)
                back = 0.0
                for c in range(k):
                    grad_W2[h, c] += r[c] * a[h]
                    back += r[c] * W2[h, c]
                delta[h] = back * (1.0 - a[h] * a[h])
            grad_b1 += delta
            for j in range(d):
                for h in range(hidden):
                    grad_W1[j, h] += x[j] * delta[h]
        W1 -= lr * grad_W1
        b1 -= lr * grad_b1
        W2 -= lr * grad_W2
        b2 -= lr * grad_b2
    return loss / (n * k)


# ---------------------------------------------------------------- the competitor
class Reference:
    """These kernels, through the ``Run`` protocol of ``protocol``; numba on every core, OpenBLAS at one thread."""
    env = NUMBA

    def setup(self):
        return {"numba threads": numba.get_num_threads()}

    def neuron_grad(self, data):
        return Run(lambda: neuron_loss_and_gradient(*data.params, data.X, data.y), loss_and_grads)

    def softmax_grad(self, data):
        return Run(lambda: softmax_loss_and_gradient(*data.params, data.X, data.y), loss_and_grads)

    def neuron_fit(self, data):
        return in_place_epoch(data, lambda params: neuron_fit_epoch(*params, data.X, data.y, data.lr, data.order))

    def mlp_fit(self, data):
        Y = labels_2d(data)
        return in_place_epoch(data, lambda params: mlp_fit_epoch(*params, data.X, Y, data.lr, data.order,
                                                                 data.batch))
