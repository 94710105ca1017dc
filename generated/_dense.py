"""The loops of every dense stack, shared by all modules (written by hand, compiled once): softmax regression,
a neuron with K > 1 outputs, every MLP.

    z⁽ˡ⁾ = a⁽ˡ⁻¹⁾ W⁽ˡ⁾ + b⁽ˡ⁾ (rows are samples, a⁽⁰⁾ = x),   a⁽ˡ⁾ = g(z⁽ˡ⁾) below the head
    δ⁽ᴸ⁾ from the head,   δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾ᵀ) ⊙ g'(z⁽ˡ⁾),   ∂L/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾ᵀ δ⁽ˡ⁾,   ∂L/∂b⁽ˡ⁾ = Σ_rows δ⁽ˡ⁾

The parameters are one flat vector theta: W⁽¹⁾ (row-major, shape (n_in, n_out)), then b⁽¹⁾, then the next layer;
``widths`` = (n_features, …, K). Products of at least _tuning.BLAS_MIN rows go through BLAS (np.dot into buffers), so
BLAS must run on one thread meanwhile (the public API holds it there). A batch's rows are split over
``threads`` of numba's threads when that pays; ``threads=None`` compiles and runs the one-thread path only.
Nothing is allocated inside the fit loop. The entry points release the GIL, so Python threads (a Dask worker's)
run them at once. Labels Y are 2-D: (N, K) values, or (N, 1) class indices.

What differs from module to module (the head, the hidden activation) comes in ``pieces``: the addresses of the
module's compiled functions (``_first_class``), called once per block of rows; ``per_row`` is the number of loss
terms of a row (K for an elementwise head, 1 for softmax), by which the sums are divided.
"""
import math

import numpy as np
from numba import njit, prange

from . import _first_class as _fc
from . import _optim, _shuffle, _training
from . import _tuning as _t

_DEPENDS = "a4c135347dec8610"  # a digest of the helpers this module compiles in; derive generate keeps it current

_FASTMATH = {"reassoc", "contract", "nsz"}  # what vectorising needs; never nnan or ninf


@njit(cache=True)
def _views(theta, widths):
    """Ws[l] (widths[l], widths[l + 1]) and bs[l] (widths[l + 1],): views of the flat vector theta."""
    Ws = [theta[:0].reshape((0, 0))]
    bs = [theta[:0]]
    Ws.pop()
    bs.pop()
    offset = 0
    for l in range(widths.shape[0] - 1):
        n_in = widths[l]
        n_out = widths[l + 1]
        Ws.append(theta[offset:offset + n_in * n_out].reshape((n_in, n_out)))
        offset += n_in * n_out
        bs.append(theta[offset:offset + n_out])
        offset += n_out
    return Ws, bs


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _affine(A, W, b, Z):
    """Z = A W + b for the rows of A."""
    n, D = A.shape
    if n >= _t.BLAS_MIN:
        np.dot(A, W, Z)
    else:
        for r in range(n):
            for c in range(W.shape[1]):
                acc = 0.0
                for j in range(D):
                    acc += A[r, j] * W[j, c]
                Z[r, c] = acc
    for r in range(n):
        for c in range(W.shape[1]):
            Z[r, c] += b[c]


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _weight_gradient(A, D, G, accumulate):
    """G = Aᵀ D (or G += Aᵀ D when ``accumulate``): ∂L/∂W summed over the rows."""
    n = A.shape[0]
    if n >= _t.BLAS_MIN and not accumulate:
        np.dot(A.T, D, G)
        return
    if not accumulate:
        G[:, :] = 0.0
    for r in range(n):
        for j in range(A.shape[1]):
            x = A[r, j]
            for c in range(D.shape[1]):
                G[j, c] += x * D[r, c]


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _add(target, source):
    """target += source, element by element (1-D or 2-D), in place."""
    flat_target = target.reshape(-1)
    flat_source = source.reshape(-1)
    for i in range(flat_target.shape[0]):
        flat_target[i] += flat_source[i]


@njit(cache=True)
def _workspace(widths, rows):
    """Buffers for ``rows`` samples: each layer's pre-activations, activations, deltas, and gradient scratch."""
    Zs = [np.empty((rows, widths[l + 1])) for l in range(widths.shape[0] - 1)]
    As = [np.empty((rows, widths[l + 1])) for l in range(widths.shape[0] - 1)]
    Ds = [np.empty((rows, widths[l + 1])) for l in range(widths.shape[0] - 1)]
    Gs = [np.empty((widths[l], widths[l + 1])) for l in range(widths.shape[0] - 1)]
    return Zs, As, Ds, Gs


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _forward(Ws, bs, A0, n, Zs, As, pieces):
    """z⁽ˡ⁾ = a⁽ˡ⁻¹⁾ W⁽ˡ⁾ + b⁽ˡ⁾, and a⁽ˡ⁾ = g(z⁽ˡ⁾) below the head; the head's z is left in Zs[-1]. Returns how many
    z⁽¹⁾ are not finite (0 unless X has a NaN or inf, or its sums overflow)."""
    hidden = _fc.hidden_forward_at(pieces[4], pieces[5], pieces)
    A = A0
    last = len(Ws) - 1
    bad = 0
    for l in range(len(Ws)):
        Z = Zs[l][:n]
        _affine(A, Ws[l], bs[l], Z)
        if l == 0:  # a NaN or inf in X makes its row of z⁽¹⁾ non-finite (x·0 is NaN for x = inf), even where a
            for r in range(n):  # hidden ReLU or the head would hide it: so X is checked here, in cache
                for c in range(Z.shape[1]):
                    bad += 0 if abs(Z[r, c]) < math.inf else 1
        if l < last:
            H = As[l][:n]
            hidden(Z, H, n)
            A = H
    return bad


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _rows(Ws, bs, A0, Y, gWs, gbs, accumulate, work, pieces):
    """The rows A0 with labels Y (at most as many as ``work`` holds): Σ L returned; Σ ∂L/∂W⁽ˡ⁾, Σ ∂L/∂b⁽ˡ⁾ written
    into gWs, gbs (added to them when ``accumulate``)."""
    Zs, As, Ds, Gs = work
    n = A0.shape[0]
    bad = _forward(Ws, bs, A0, n, Zs, As, pieces)
    last = len(Ws) - 1
    total = _fc.head_at(pieces[0], pieces[1], Y)(Zs[last][:n], Y, n, As[last][:n], Ds[last][:n])
    total = total if bad == 0 else math.nan
    for l in range(last, -1, -1):  # backpropagation
        D = Ds[l][:n]
        Aprev = A0 if l == 0 else As[l - 1][:n]
        if accumulate:  # ∂L/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾ᵀ δ⁽ˡ⁾,  ∂L/∂b⁽ˡ⁾ = Σ_rows δ⁽ˡ⁾
            _weight_gradient(Aprev, D, Gs[l], False)
            _add(gWs[l], Gs[l])
        else:
            _weight_gradient(Aprev, D, gWs[l], False)
            gbs[l][:] = 0.0
        gb = gbs[l]
        for r in range(n):
            for c in range(D.shape[1]):
                gb[c] += D[r, c]
        if l > 0:  # δ⁽ˡ⁻¹⁾ = (δ⁽ˡ⁾ W⁽ˡ⁾ᵀ) ⊙ g'(z⁽ˡ⁻¹⁾)
            Dprev = Ds[l - 1][:n]
            np.dot(D, Ws[l].T, Dprev)
            _fc.hidden_backward_at(pieces[6], pieces[7], pieces)(Zs[l - 1][:n], As[l - 1][:n], Dprev, n)
    return total


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _span(Ws, bs, X, Y, gWs, gbs, work, pieces):
    """All rows of X in sub-batches of the rows ``work`` holds: Σ L; Σ gradients into gWs, gbs. N ≥ 1."""
    rows = work[0][0].shape[0]
    total = 0.0
    for lo in range(0, X.shape[0], rows):
        hi = min(lo + rows, X.shape[0])
        total += _rows(Ws, bs, X[lo:hi], Y[lo:hi], gWs, gbs, lo > 0, work, pieces)
    return total


@njit(cache=True, parallel=True, fastmath=_FASTMATH, error_model="numpy")
def _span_parallel(Ws, bs, X, Y, parts, works, pieces):
    """_span over len(works) row chunks at once, each into its own gradient buffers (parts)."""
    n = X.shape[0]
    chunks = len(works)
    totals = np.empty(chunks)
    for c in prange(chunks):
        lo = c * n // chunks
        hi = (c + 1) * n // chunks
        totals[c] = _span(Ws, bs, X[lo:hi], Y[lo:hi], parts[c][0], parts[c][1], works[c], pieces)
    return totals.sum()


@njit(cache=True)
def _macs(widths):
    """Multiply-adds of one row's forward pass: Σ n_in · n_out."""
    total = 0
    for l in range(widths.shape[0] - 1):
        total += widths[l] * widths[l + 1]
    return total


@njit(cache=True)
def worth_splitting(widths, rows, threads):
    """Whether ``rows`` pay for ``threads`` threads: _tuning.MIN_ROWS each, and rows × _macs >= _tuning.PARALLEL_MIN."""
    return threads > 1 and rows >= _t.MIN_ROWS * threads and rows * _macs(widths) >= _t.PARALLEL_MIN


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _sums(Ws, bs, widths, X, Y, gWs, gbs, parts, works, threads, pieces):
    """Σ L, Σ ∂L/∂W and Σ ∂L/∂b over the rows of X, split over ``threads`` threads when that pays."""
    if threads is None:
        return _span(Ws, bs, X, Y, gWs, gbs, works[0], pieces)
    if not worth_splitting(widths, X.shape[0], len(works)):
        return _span(Ws, bs, X, Y, gWs, gbs, works[0], pieces)
    total = _span_parallel(Ws, bs, X, Y, parts, works, pieces)
    for l in range(len(gWs)):
        gWs[l][:, :] = 0.0
        gbs[l][:] = 0.0
        for c in range(len(parts)):
            _add(gWs[l], parts[c][0][l])
            _add(gbs[l], parts[c][1][l])
    return total


@njit(cache=True)
def _buffers(widths, rows, threads):
    """Workspaces and gradient buffers for ``threads`` chunks (one when None) of at most ``rows`` rows."""
    chunks = 1 if threads is None else threads
    per_chunk = min(_t.ROWS, -(-rows // chunks))
    works = [_workspace(widths, per_chunk) for _ in range(chunks)]
    parts = [(_workspace(widths, 0)[3], [np.empty(widths[l + 1]) for l in range(widths.shape[0] - 1)])
             for _ in range(chunks)]
    return parts, works


@njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
def loss_and_gradient(theta, widths, X, Y, grad, threads, pieces, per_row):
    """The mean loss; its gradient into grad (one pass over X)."""
    Ws, bs = _views(theta, widths)
    gWs, gbs = _views(grad, widths)
    parts, works = _buffers(widths, X.shape[0], threads)
    total = _sums(Ws, bs, widths, X, Y, gWs, gbs, parts, works, threads, pieces)
    scale = 1.0 / (X.shape[0] * per_row)
    for i in range(grad.shape[0]):
        grad[i] *= scale
    return total * scale


@njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
def loss(theta, widths, X, Y, threads, pieces, per_row):
    """The mean loss (the gradient goes to scratch)."""
    grad = np.empty_like(theta)
    return loss_and_gradient(theta, widths, X, Y, grad, threads, pieces, per_row)


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _predict_span(Ws, bs, widths, X, out, pieces):
    """out = the head's output for the rows of X, in sub-batches of _tuning.ROWS."""
    n = X.shape[0]
    Zs, As, Ds, Gs = _workspace(widths, min(_t.ROWS, n))
    last = len(Ws) - 1
    head_predict = _fc.head_predict_at(pieces[2], pieces[3], pieces)
    bad = 0
    for lo in range(0, n, _t.ROWS):
        hi = min(lo + _t.ROWS, n)
        bad += _forward(Ws, bs, X[lo:hi], hi - lo, Zs, As, pieces)
        head_predict(Zs[last][:hi - lo], hi - lo, out[lo:hi])
    return bad


@njit(cache=True, parallel=True, fastmath=_FASTMATH, error_model="numpy")
def _predict_parallel(Ws, bs, widths, X, out, threads, pieces):
    """_predict_span over ``threads`` row chunks at once."""
    n = X.shape[0]
    bad = np.zeros(threads, dtype=np.int64)
    for c in prange(threads):
        lo = c * n // threads
        hi = (c + 1) * n // threads
        bad[c] = _predict_span(Ws, bs, widths, X[lo:hi], out[lo:hi], pieces)
    return bad.sum()


@njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
def predict(theta, widths, X, out, threads, pieces):
    """out = the head's output for every row; returns how many rows of X gave a non-finite z⁽¹⁾."""
    Ws, bs = _views(theta, widths)
    if threads is None or not worth_splitting(widths, X.shape[0], threads):
        return _predict_span(Ws, bs, widths, X, out, pieces)
    return _predict_parallel(Ws, bs, widths, X, out, threads, pieces)


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _gather(source, order, start, m, target):
    """target[r] = source[order[start + r]] for r < m: the batch's rows, in the shuffled order."""
    for r in range(m):
        row = order[start + r]
        for j in range(source.shape[1]):
            target[r, j] = source[row, j]


@njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
def fit(theta, widths, X, Y, lr, epochs, batch_size, shuffle, losses, threads, optimizer, stopping, pieces, per_row):
    """Mini-batch descent on shuffled batches, in place; losses[e] = the mean loss of epoch e's batches, each
    taken before its update (plus the optimizer's L2 penalty). The update is the optimizer's (``_optim.update``),
    on the batch's mean gradient. ``shuffle`` = (stream, order), advanced in place; the run stops early when
    ``_training.stalled`` says so. Returns the number of epochs run."""
    n = X.shape[0]
    stream, order = shuffle
    Ws, bs = _views(theta, widths)
    grad = np.empty_like(theta)
    gWs, gbs = _views(grad, widths)
    parts, works = _buffers(widths, batch_size, threads)
    rows = np.empty((batch_size, X.shape[1]))
    labels = np.empty((batch_size, Y.shape[1]), dtype=Y.dtype)
    for epoch in range(epochs):
        _shuffle.shuffle(order, stream)
        total = 0.0
        for start in range(0, n, batch_size):
            m = min(start + batch_size, n) - start
            _gather(X, order, start, m, rows)
            _gather(Y, order, start, m, labels)
            total += _sums(Ws, bs, widths, rows[:m], labels[:m], gWs, gbs, parts, works, threads, pieces)
            total += m * per_row * _optim.update(theta, grad, 1.0 / (m * per_row), lr, optimizer)
        losses[epoch] = total / (n * per_row)
        if _training.stalled(stopping, losses[epoch]):
            return epoch + 1
    return epochs
