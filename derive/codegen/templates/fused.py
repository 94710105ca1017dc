"""Template part: one neuron with one output, fused so that each block of rows of X is read once.

    z = X w + b,   a = f(z),   Σ L(a, y),   ∂L̄/∂w = (1/N) Σ_rows ∂L/∂z · x,   ∂L̄/∂b = (1/N) Σ_rows ∂L/∂z

For each block of _tuning.BLOCK rows: the z pass, then f, L and ∂L/∂z vectorised over the block, then the
gradient pass while the block is still in cache. A non-finite X shows as a NaN loss (its z is not finite, even
where ReLU would hide it), so X is read once. Loops index blocks from 0 (slices, not row offsets): numba cannot
prove lo + r >= 0, and the negative-index wraparound it would add stops LLVM from vectorising the loop.
"""
import math

import numpy as np
from numba import njit, prange

from derive.codegen.templates.pieces import (_ROW_COST, _activation, _activation_1, _delta, _delta_1, _loss,
                                             _loss_1)
from derive.kernels import _optim, _shuffle
from derive.kernels import _tuning as _t

_FASTMATH = {"reassoc", "contract", "nsz"}  # what vectorising needs; never nnan or ninf


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _narrow_forward(w, b0, X, zs):
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
def _narrow_backward(ds, X, gw):
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
def _block(w, b0, X, y, gw, zs, ds):
    """Rows of the block X, y: returns (Σ L, Σ ∂L/∂z); adds Σ ∂L/∂z · x to gw."""
    n, D = X.shape
    if D <= _t.NARROW:  # forward pass: z = Σ_j w_j x_j + b
        _narrow_forward(w, b0, X, zs)
    else:
        for r in range(n):  # one vectorised sum per row (four rows at a time was slower at D = 100)
            acc = b0
            for j in range(D):
                acc += X[r, j] * w[j]
            zs[r] = acc
    loss_sum = 0.0
    delta_sum = 0.0
    bad = 0
    for r in range(n):  # a = f(z), L(a, y) and ∂L/∂z = ∂L/∂a · ∂a/∂z, vectorised over the block
        z = zs[r]
        a = _activation(z)
        loss_sum += _loss(z, a, y[r])
        d = _delta(z, a, y[r])
        ds[r] = d
        delta_sum += d
        bad += 0 if abs(z) < math.inf else 1  # X has a NaN or inf exactly when some z does
    if D <= _t.NARROW:  # chain rule through z: ∂L/∂w_j = ∂L/∂z · x_j
        _narrow_backward(ds, X, gw)
    else:
        for r in range(n):
            d = ds[r]
            for j in range(D):
                gw[j] += d * X[r, j]
    return (loss_sum if bad == 0 else math.nan), delta_sum


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _blocks(w, b0, X, y, gw):
    """_block over all rows of X; adds the Σ ∂L/∂z · x of these rows to gw once, at the end (a local sum, so
    threads never write neighbouring cache lines row after row). Returns (Σ L, Σ ∂L/∂z)."""
    zs = np.empty(_t.BLOCK)
    ds = np.empty(_t.BLOCK)
    local = np.zeros(X.shape[1])
    loss_sum = 0.0
    delta_sum = 0.0
    for start in range(0, X.shape[0], _t.BLOCK):
        stop = min(start + _t.BLOCK, X.shape[0])
        block_loss, block_delta = _block(w, b0, X[start:stop], y[start:stop], local, zs, ds)
        loss_sum += block_loss
        delta_sum += block_delta
    for j in range(X.shape[1]):
        gw[j] += local[j]
    return loss_sum, delta_sum


@njit(cache=True, parallel=True, fastmath=_FASTMATH, error_model="numpy")
def _blocks_parallel(w, b0, X, y, gw):
    """_blocks over _tuning.CHUNKS row chunks on numba's threads, each into its own row of partial sums."""
    n, d = X.shape
    chunks = min(_t.CHUNKS, n)
    partial = np.zeros((chunks, d))
    sums = np.zeros((chunks, 2))
    for c in prange(chunks):
        lo = c * n // chunks
        hi = (c + 1) * n // chunks
        chunk_loss, chunk_delta = _blocks(w, b0, X[lo:hi], y[lo:hi], partial[c])
        sums[c, 0] = chunk_loss
        sums[c, 1] = chunk_delta
    for j in range(d):
        total = 0.0
        for c in range(chunks):
            total += partial[c, j]
        gw[j] += total
    return sums[:, 0].sum(), sums[:, 1].sum()


@njit(cache=True)
def _fused_split(n, d):
    """Whether N rows of D features pay for two threads: N·(D + _ROW_COST) >= _tuning.FUSED_PARALLEL_MIN."""
    return n * (d + _ROW_COST) >= _t.FUSED_PARALLEL_MIN


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _fused_loss_and_gradient(w, b, X, y, gw, gb, threads):
    """The mean loss; its gradient into gw, gb: one pass over X (on numba's threads unless threads is None)."""
    n = X.shape[0]
    gw[:] = 0.0
    if threads is None:
        loss_sum, delta_sum = _blocks(w, b[0], X, y, gw)
    else:
        loss_sum, delta_sum = _blocks_parallel(w, b[0], X, y, gw)
    for j in range(gw.shape[0]):
        gw[j] /= n
    gb[0] = delta_sum / n
    return loss_sum / n


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _fused_predict(w, b, X, out):
    """out = f(X w + b); returns the number of rows whose z is not finite (0 unless X has a NaN or inf)."""
    bad = 0
    for r in range(X.shape[0]):
        acc = b[0]
        for j in range(X.shape[1]):
            acc += X[r, j] * w[j]
        out[r] = _activation(acc)
        bad += 0 if abs(acc) < math.inf else 1
    return bad


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _fused_loss(w, b, X, y):
    """The mean loss, without the gradient."""
    total = 0.0
    bad = 0
    for r in range(X.shape[0]):
        z = b[0]
        for j in range(X.shape[1]):
            z += X[r, j] * w[j]
        total += _loss(z, _activation(z), y[r])
        bad += 0 if abs(z) < math.inf else 1
    return total / X.shape[0] if bad == 0 else math.nan


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _one_sample_epoch(theta, X, y, order, lr, optimizer):
    """One epoch of per-sample updates in ``order``, fused into one loop per row (libm pieces: the loop is a
    chain of dependent operations, so latency rules); returns Σ L, each taken before its update."""
    n, d = X.shape
    total = 0.0
    for i in range(n):
        row = order[i]
        z = theta[d]
        for j in range(d):
            z += X[row, j] * theta[j]
        a = _activation_1(z)
        total += _loss_1(z, a, y[row])
        step = lr * _delta_1(z, a, y[row])
        for j in range(d):  # w_j ← w_j − α ∂L/∂z · x_j
            theta[j] -= step * X[row, j]
        theta[d] -= step
    optimizer[3][0] += n
    return total


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _batch_epoch(theta, grad, X, y, order, lr, batch_size, optimizer):
    """One epoch of mini-batch updates: each batch's rows gathered, then the full-batch block code; Σ L."""
    n, d = X.shape
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
            block_loss, block_delta = _block(theta[:d], theta[d], rows[:m], labels[:m], gw, zs, ds)
            total += block_loss
            batch_delta += block_delta
        grad[d] = batch_delta
        _optim.update(theta, grad, 1.0 / (stop - start), lr, optimizer)
    return total


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _fused_fit_samples(theta, X, y, lr, epochs, seed, losses, optimizer):
    """Plain SGD one sample at a time, in place; losses[e] = the mean loss of epoch e, each taken before its
    update. theta = (w, b) flat."""
    state = _shuffle.seeded(seed)
    order = _shuffle.rows(X.shape[0])
    for epoch in range(epochs):
        _shuffle.shuffle(order, state)  # a new uniform order, in place (uint64: no wraparound)
        losses[epoch] = _one_sample_epoch(theta, X, y, order, lr, optimizer) / X.shape[0]


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _fused_fit_batches(theta, X, y, lr, epochs, batch_size, seed, losses, optimizer):
    """Mini-batch updates by the optimizer, in place; losses as for _fused_fit_samples."""
    state = _shuffle.seeded(seed)
    order = _shuffle.rows(X.shape[0])
    grad = np.empty_like(theta)
    for epoch in range(epochs):
        _shuffle.shuffle(order, state)
        losses[epoch] = _batch_epoch(theta, grad, X, y, order, lr, batch_size, optimizer) / X.shape[0]
