"""The one-output neuron's loops that do not depend on the pair, shared by every module (written by hand,
compiled once).

    z = X w + b,   a = f(z),   Σ L(a, y),   ∂L̄/∂w = (1/N) Σ_rows ∂L/∂z · x,   ∂L̄/∂b = (1/N) Σ_rows ∂L/∂z

A module's ``_block`` (its pieces inlined, so that f, L and ∂L/∂z vectorise over a block) does one block of
_tuning.BLOCK rows: the z pass (``narrow_forward`` four rows at a time for D ≤ NARROW), then f, L and ∂L/∂z,
then the gradient pass while the block is still in cache. These loops call it, and the module's one-sample
epoch, through their addresses (``pieces``, see ``_first_class``): one call per block, or per epoch.
"""
import numpy as np
from numba import njit, prange

from . import _first_class as _fc
from . import _optim, _shuffle, _training
from . import _tuning as _t

_DEPENDS = "d16637438a21e41c"  # a digest of the helpers this module compiles in; derive generate keeps it current

_FASTMATH = {"reassoc", "contract", "nsz"}  # what vectorising needs; never nnan or ninf


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def narrow_forward(w, b0, X, zs):
    """zs = X w + b0, four rows at a time: four independent sums per pass over w, where one row's short
    reduction (D ≤ _tuning.NARROW) would leave the vector units idle."""
    n, D = X.shape
    r = 0
    while r + 4 <= n:
        z0 = b0
        z1 = b0
        z2 = b0
        z3 = b0
        for j in range(D):
            z0 += X[r, j] * w[j]
            z1 += X[r + 1, j] * w[j]
            z2 += X[r + 2, j] * w[j]
            z3 += X[r + 3, j] * w[j]
        zs[r] = z0
        zs[r + 1] = z1
        zs[r + 2] = z2
        zs[r + 3] = z3
        r += 4
    for r in range(r, n):
        acc = b0
        for j in range(D):
            acc += X[r, j] * w[j]
        zs[r] = acc


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def narrow_backward(ds, X, gw):
    """gw += Σ_r ds_r x_r, four rows per update of gw: a row at a time, each update waits for the last one's
    store (D ≤ _tuning.NARROW leaves nothing else to do meanwhile)."""
    n, D = X.shape
    r = 0
    while r + 4 <= n:
        d0 = ds[r]
        d1 = ds[r + 1]
        d2 = ds[r + 2]
        d3 = ds[r + 3]
        for j in range(D):
            gw[j] += (d0 * X[r, j] + d1 * X[r + 1, j]) + (d2 * X[r + 2, j] + d3 * X[r + 3, j])
        r += 4
    for r in range(r, n):
        d = ds[r]
        for j in range(D):
            gw[j] += d * X[r, j]


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def blocks(w, b0, X, y, gw, pieces):
    """_block over all rows of X; adds the Σ ∂L/∂z · x of these rows to gw once, at the end (a local sum, so
    threads never write neighbouring cache lines row after row). Returns (Σ L, Σ ∂L/∂z)."""
    block = _fc.block_at(pieces[0], pieces[1], pieces)
    zs = np.empty(_t.BLOCK)
    ds = np.empty(_t.BLOCK)
    local = np.zeros(X.shape[1])
    loss_sum = 0.0
    delta_sum = 0.0
    for start in range(0, X.shape[0], _t.BLOCK):
        stop = min(start + _t.BLOCK, X.shape[0])
        block_loss, block_delta = block(w, b0, X[start:stop], y[start:stop], local, zs, ds)
        loss_sum += block_loss
        delta_sum += block_delta
    for j in range(X.shape[1]):
        gw[j] += local[j]
    return loss_sum, delta_sum


@njit(cache=True, parallel=True, fastmath=_FASTMATH, error_model="numpy")
def blocks_parallel(w, b0, X, y, gw, pieces):
    """blocks over _tuning.CHUNKS row chunks on numba's threads, each into its own row of partial sums."""
    n, d = X.shape
    chunks = min(_t.CHUNKS, n)
    partial = np.zeros((chunks, d))
    sums = np.zeros((chunks, 2))
    for c in prange(chunks):
        lo = c * n // chunks
        hi = (c + 1) * n // chunks
        chunk_loss, chunk_delta = blocks(w, b0, X[lo:hi], y[lo:hi], partial[c], pieces)
        sums[c, 0] = chunk_loss
        sums[c, 1] = chunk_delta
    for j in range(d):
        total = 0.0
        for c in range(chunks):
            total += partial[c, j]
        gw[j] += total
    return sums[:, 0].sum(), sums[:, 1].sum()


@njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
def loss_and_gradient(theta, X, Y, grad, threads, pieces):
    """The mean loss; its gradient into grad: one pass over X (on numba's threads unless threads is None).
    theta = (w, b) and grad flat; Y of shape (N, 1)."""
    n, d = X.shape
    w, b, gw, gb, y = theta[:d], theta[d:], grad[:d], grad[d:], Y.reshape(n)
    gw[:] = 0.0
    if threads is None:
        loss_sum, delta_sum = blocks(w, b[0], X, y, gw, pieces)
    else:
        loss_sum, delta_sum = blocks_parallel(w, b[0], X, y, gw, pieces)
    for j in range(gw.shape[0]):
        gw[j] /= n
    gb[0] = delta_sum / n
    return loss_sum / n


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _batch_epoch(theta, grad, X, y, order, lr, batch_size, optimizer, pieces):
    """One epoch of mini-batch updates: each batch's rows gathered, then the full-batch block code; Σ L."""
    n, d = X.shape
    block = _fc.block_at(pieces[0], pieces[1], pieces)
    zs = np.empty(_t.BLOCK)
    ds = np.empty(_t.BLOCK)
    rows = np.empty((_t.BLOCK, d))
    labels = np.empty(_t.BLOCK)
    gw = grad[:d]
    total = 0.0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        gw[:] = 0.0
        batch_delta = 0.0
        for lo in range(start, stop, _t.BLOCK):
            m = min(lo + _t.BLOCK, stop) - lo
            for r in range(m):
                row = order[lo + r]
                for j in range(d):
                    rows[r, j] = X[row, j]
                labels[r] = y[row]
            block_loss, block_delta = block(theta[:d], theta[d], rows[:m], labels[:m], gw, zs, ds)
            total += block_loss
            batch_delta += block_delta
        grad[d] = batch_delta
        total += (stop - start) * _optim.update(theta, grad, 1.0 / (stop - start), lr, optimizer)
    return total


@njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
def fit_samples(theta, X, y, lr, epochs, shuffle, losses, optimizer, stopping, pieces):
    """Plain SGD one sample at a time, in place; losses[e] = the mean loss of epoch e, each taken before its
    update. theta = (w, b) flat; ``shuffle`` = (stream, order), advanced in place. Returns the epochs run."""
    epoch_of = _fc.one_sample_epoch_at(pieces[2], pieces[3], pieces)
    stream, order = shuffle
    for epoch in range(epochs):
        _shuffle.shuffle(order, stream)  # a new uniform order, in place (uint64: no wraparound)
        losses[epoch] = epoch_of(theta, X, y, order, lr) / X.shape[0]
        optimizer[3][0] += X.shape[0]
        if _training.stalled(stopping, losses[epoch]):
            return epoch + 1
    return epochs


@njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
def fit_batches(theta, X, y, lr, epochs, batch_size, shuffle, losses, optimizer, stopping, pieces):
    """Mini-batch updates by the optimizer, in place; losses (with the optimizer's L2 penalty) and the rest as
    for fit_samples."""
    stream, order = shuffle
    grad = np.empty_like(theta)
    for epoch in range(epochs):
        _shuffle.shuffle(order, stream)
        losses[epoch] = _batch_epoch(theta, grad, X, y, order, lr, batch_size, optimizer, pieces) / X.shape[0]
        if _training.stalled(stopping, losses[epoch]):
            return epoch + 1
    return epochs
