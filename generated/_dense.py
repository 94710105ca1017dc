"""The loops of every dense stack, shared by all modules (written by hand, compiled once): softmax regression,
a neuron with K > 1 outputs, every MLP.

    z⁽ˡ⁾ = a⁽ˡ⁻¹⁾ W⁽ˡ⁾ + b⁽ˡ⁾ (rows are samples, a⁽⁰⁾ = x),   a⁽ˡ⁾ = g(z⁽ˡ⁾) below the head
    δ⁽ᴸ⁾ from the head,   δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾ᵀ) ⊙ g'(z⁽ˡ⁾),   ∂L/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾ᵀ δ⁽ˡ⁾,   ∂L/∂b⁽ˡ⁾ = Σ_rows δ⁽ˡ⁾

theta is flat: W⁽¹⁾ (row-major, (n_in, n_out)), b⁽¹⁾, then the next layer; ``widths`` = (n_features, …, K); the
workspaces are flat too, one block per layer (``_layer``, ``_slot``: no lists, which numba is slow to compile).
Products of _tuning.BLAS_MIN rows or more go to BLAS, which must run on one thread meanwhile (the public API holds
it there). A batch is split over ``threads`` of numba's threads when that pays; ``threads=None`` compiles the
one-thread path only. A fit calls its span and chunks by address, in tiers (``_spans``: equal results, compiled
when they pay). _rows and _forward are inlined into _span (numba re-optimises and re-emits a callee's code in each
caller it is linked into: 1.2 s less to compile). Nothing is allocated in the fit loop; the entry points release
the GIL. Labels Y are 2-D: (N, K) values, or (N, 1) class indices as floats.

What differs from module to module (the head, the hidden activation) comes in ``pieces``: the addresses of the
module's compiled functions (``_first_class``), called once per block of rows; ``per_row`` is the number of loss
terms of a row (K for an elementwise head, 1 for softmax), by which the sums are divided.
"""
import math

import numpy as np
from numba import njit, prange

from . import _first_class as _fc
from ._linear import affine as _affine, weight_gradient as _weight_gradient
from . import _ahead, _optim, _shuffle, _spans, _training
from . import _tuning as _t

_DEPENDS = "aa4469e7890f1690"  # a digest of the helpers this module compiles in; derive generate keeps it current

_FASTMATH = {"reassoc", "contract", "nsz"}  # what vectorising needs; never nnan or ninf


@njit(cache=True)
def _layer(v, widths, l):
    """W⁽ˡ⁺¹⁾ (widths[l], widths[l + 1]) and b⁽ˡ⁺¹⁾ (widths[l + 1],): views of a flat vector laid out as theta."""
    offset = 0
    for k in range(l):
        offset += widths[k] * widths[k + 1] + widths[k + 1]
    n_in, n_out = widths[l], widths[l + 1]
    end = offset + n_in * n_out
    return v[offset:end].reshape((n_in, n_out)), v[end:end + n_out]


@njit(cache=True)
def _slot(buffer, widths, l, rows, n):
    """The first n rows of layer l's (rows, widths[l + 1]) block of a workspace buffer (layer after layer)."""
    offset = 0
    for k in range(1, l + 1):
        offset += rows * widths[k]
    return buffer[offset:offset + rows * widths[l + 1]].reshape((rows, widths[l + 1]))[:n]


@njit(cache=True)
def _units(widths):
    """Σ widths[1:], the values one row has in a workspace buffer."""
    total = 0
    for k in range(1, widths.shape[0]):
        total += widths[k]
    return total


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _forward(theta, widths, A0, n, Z, A, rows, pieces):
    """z⁽ˡ⁾ = a⁽ˡ⁻¹⁾ W⁽ˡ⁾ + b⁽ˡ⁾, and a⁽ˡ⁾ = g(z⁽ˡ⁾) below the head, into the buffers Z and A; the head's z is left in
    Z's last block. Returns how many z⁽¹⁾ are not finite (0 unless X has a NaN or inf, or its sums overflow)."""
    hidden = _fc.hidden_forward_at(pieces[4], pieces[5], pieces)
    last = widths.shape[0] - 2
    bad, previous = 0, A0
    for l in range(last + 1):
        W, b = _layer(theta, widths, l)
        Zl = _slot(Z, widths, l, rows, n)
        non_finite = _affine(previous, W, b, Zl)
        if l == 0:  # a NaN or inf in X makes its row of z⁽¹⁾ non-finite (x·0 is NaN for x = inf), even where a
            bad = non_finite  # hidden ReLU or the head would hide it: so X is checked here, in cache
        if l < last:
            H = _slot(A, widths, l, rows, n)
            hidden(Zl, H, n)
            previous = H
    return bad


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _rows(theta, widths, A0, Y, grad, accumulate, Z, A, D, G, rows, pieces):
    """The rows A0 with labels Y (at most ``rows``): Σ L returned; Σ ∂L/∂θ written into grad (added to it when
    ``accumulate``). Z, A, D hold each layer's pre-activations, activations and deltas; G is scratch like theta."""
    n = A0.shape[0]
    bad = _forward(theta, widths, A0, n, Z, A, rows, pieces)
    last = widths.shape[0] - 2
    head = _fc.head_at(pieces[0], pieces[1], Y)
    total = head(_slot(Z, widths, last, rows, n), Y, n, _slot(A, widths, last, rows, n), _slot(D, widths, last, rows, n))
    total = total if bad == 0 else math.nan
    for l in range(last, -1, -1):  # backpropagation
        Dl = _slot(D, widths, l, rows, n)
        Aprev = A0 if l == 0 else _slot(A, widths, l - 1, rows, n)
        gW, gb = _layer(grad, widths, l)
        if accumulate:  # ∂L/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾ᵀ δ⁽ˡ⁾,  ∂L/∂b⁽ˡ⁾ = Σ_rows δ⁽ˡ⁾
            GW = _layer(G, widths, l)[0]
            _weight_gradient(Aprev, Dl, GW, False)
            for j in range(GW.shape[0]):
                for c in range(GW.shape[1]):
                    gW[j, c] += GW[j, c]
        else:
            _weight_gradient(Aprev, Dl, gW, False)
            gb[:] = 0.0
        for r in range(n):
            for c in range(Dl.shape[1]):
                gb[c] += Dl[r, c]
        if l > 0:  # δ⁽ˡ⁻¹⁾ = (δ⁽ˡ⁾ W⁽ˡ⁾ᵀ) ⊙ g'(z⁽ˡ⁻¹⁾)
            Dprev = _slot(D, widths, l - 1, rows, n)
            np.dot(Dl, _layer(theta, widths, l)[0].T, Dprev)
            _fc.hidden_backward_at(pieces[6], pieces[7], pieces)(_slot(Z, widths, l - 1, rows, n),
                                                                 _slot(A, widths, l - 1, rows, n), Dprev, n)
    return total


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _span(theta, widths, X, Y, grad, Z, A, D, G, rows, pieces):
    """All rows of X in sub-batches of ``rows``: Σ L; Σ gradients into grad. N ≥ 1."""
    total = 0.0
    for lo in range(0, X.shape[0], rows):
        hi = min(lo + rows, X.shape[0])
        total += _rows(theta, widths, X[lo:hi], Y[lo:hi], grad, lo > 0, Z, A, D, G, rows, pieces)
    return total


@njit(cache=True, parallel=True, fastmath=_FASTMATH, error_model="numpy")
def _span_parallel(theta, widths, X, Y, parts, Zs, As, Ds, Gs, rows, pieces, totals):
    """_span over len(parts) row chunks at once: chunk c into totals[c], gradient row parts[c], workspace c."""
    n, chunks = X.shape[0], parts.shape[0]
    for c in prange(chunks):
        lo = c * n // chunks
        hi = (c + 1) * n // chunks
        totals[c] = _span(theta, widths, X[lo:hi], Y[lo:hi], parts[c], Zs[c], As[c], Ds[c], Gs[c], rows, pieces)


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _combined(parts, totals, grad):
    """grad = Σ_c parts[c]; returns Σ_c totals[c]: the chunks' sums, added in chunk order."""
    for i in range(grad.shape[0]):
        acc = 0.0
        for c in range(parts.shape[0]):
            acc += parts[c, i]
        grad[i] = acc
    total = 0.0
    for c in range(totals.shape[0]):
        total += totals[c]
    return total


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
def _sums(theta, widths, X, Y, grad, buffers, threads, pieces):
    """Σ L and Σ ∂L/∂θ over the rows of X (into grad), split over ``threads`` threads when that pays."""
    rows, parts, Zs, As, Ds, Gs = buffers
    if threads is None or not worth_splitting(widths, X.shape[0], parts.shape[0]):
        return _span(theta, widths, X, Y, grad, Zs[0], As[0], Ds[0], Gs[0], rows, pieces)
    totals = np.empty(parts.shape[0])
    _span_parallel(theta, widths, X, Y, parts, Zs, As, Ds, Gs, rows, pieces, totals)
    return _combined(parts, totals, grad)


@njit(cache=True)
def _buffers(widths, rows, threads, size):
    """(rows per sub-batch, gradient rows, Z, A, D, G): workspaces for ``threads`` chunks (one when None) of at
    most ``rows`` rows, one row of each array per chunk; ``size`` is theta's."""
    chunks = 1 if threads is None else threads
    per_chunk = max(1, min(_t.ROWS, -(-rows // chunks)))
    units = per_chunk * _units(widths)
    return (per_chunk, np.empty((chunks, size)), np.empty((chunks, units)), np.empty((chunks, units)),
            np.empty((chunks, units)), np.empty((chunks, size)))


@njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
def loss_and_gradient(theta, widths, X, Y, grad, threads, pieces, per_row):
    """The mean loss; its gradient into grad (one pass over X)."""
    buffers = _buffers(widths, X.shape[0], threads, theta.shape[0])
    total = _sums(theta, widths, X, Y, grad, buffers, threads, pieces)
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
def _predict_span(theta, widths, X, out, pieces):
    """out = the head's output for the rows of X, in sub-batches of _tuning.ROWS."""
    n = X.shape[0]
    rows = min(_t.ROWS, n)
    Z = np.empty(rows * _units(widths))
    A = np.empty(rows * _units(widths))
    last = widths.shape[0] - 2
    head_predict = _fc.head_predict_at(pieces[2], pieces[3], pieces)
    bad = 0
    for lo in range(0, n, rows):
        m = min(lo + rows, n) - lo
        bad += _forward(theta, widths, X[lo:lo + m], m, Z, A, rows, pieces)
        head_predict(_slot(Z, widths, last, rows, m), m, out[lo:lo + m])
    return bad


@njit(cache=True, parallel=True, fastmath=_FASTMATH, error_model="numpy")
def _predict_parallel(theta, widths, X, out, threads, pieces):
    """_predict_span over ``threads`` row chunks at once."""
    n = X.shape[0]
    bad = np.zeros(threads, dtype=np.int64)
    for c in prange(threads):
        lo = c * n // threads
        hi = (c + 1) * n // threads
        bad[c] = _predict_span(theta, widths, X[lo:hi], out[lo:hi], pieces)
    return bad.sum()


@njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
def predict(theta, widths, X, out, threads, pieces):
    """out = the head's output for every row; returns how many rows of X gave a non-finite z⁽¹⁾."""
    if threads is None or not worth_splitting(widths, X.shape[0], threads):
        return _predict_span(theta, widths, X, out, pieces)
    return _predict_parallel(theta, widths, X, out, threads, pieces)


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _gather(source, order, start, m, target):
    """target[r] = source[order[start + r]] for r < m: the batch's rows, in the shuffled order."""
    for r in range(m):
        row = order[start + r]
        for j in range(source.shape[1]):
            target[r, j] = source[row, j]


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _batch(theta, widths, X, Y, grad, buffers, totals, calls, pieces):
    """_sums for a fit: _span and the chunks (``_spans``) called by their addresses ``calls``."""
    rows, parts, Zs, As, Ds, Gs = buffers
    if parts.shape[0] == 1 or not worth_splitting(widths, X.shape[0], parts.shape[0]):
        return _fc.span_at(calls[0], calls[1], X)(theta, widths, X, Y, grad, Zs[0], As[0], Ds[0], Gs[0], rows, pieces)
    _fc.chunks_at(calls[2], calls[3], X)(theta, widths, X, Y, parts, Zs, As, Ds, Gs, rows, pieces, totals, calls)
    return _combined(parts, totals, grad)


def fit(theta, widths, X, Y, lr, epochs, batch_size, shuffle, losses, threads, optimizer, stopping, pieces, per_row):
    """Mini-batch descent (``_fit``), its batches split over ``threads`` (None: one) when that pays."""
    if _ahead.pending("dense"):   # a helper compiles _fit and the chunks: _span meanwhile here, then wait
        _fc.addresses((_span, _fc.SPAN))
        _ahead.join("dense")
    chunks = 1 if threads is None else threads
    calls = _spans.calls(_span, chunks > 1, epochs * X.shape[0] * _macs(widths))
    return _fit(theta, widths, X, Y, lr, epochs, batch_size, shuffle, losses, chunks, calls, optimizer, stopping,
                pieces, per_row)


@njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
def _fit(theta, widths, X, Y, lr, epochs, batch_size, shuffle, losses, chunks, calls, optimizer, stopping, pieces,
         per_row):
    """Mini-batch descent on shuffled batches, in place; losses[e] = the mean loss of epoch e's batches, each
    taken before its update (plus the optimizer's L2 penalty). The update is the optimizer's (``_optim.update``),
    on the batch's mean gradient. ``shuffle`` = (stream, order), advanced in place; the run stops early when
    ``_training.stalled`` says so. Returns the number of epochs run."""
    n = X.shape[0]
    stream, order = shuffle
    grad = np.empty_like(theta)
    buffers = _buffers(widths, batch_size, chunks, theta.shape[0])
    totals = np.empty(chunks)
    rows = np.empty((batch_size, X.shape[1]))
    labels = np.empty((batch_size, Y.shape[1]), dtype=Y.dtype)
    for epoch in range(epochs):
        _shuffle.shuffle(order, stream)
        total = 0.0
        for start in range(0, n, batch_size):
            m = min(start + batch_size, n) - start
            _gather(X, order, start, m, rows)
            _gather(Y, order, start, m, labels)
            total += _batch(theta, widths, rows[:m], labels[:m], grad, buffers, totals, calls, pieces)
            total += m * per_row * _optim.update(theta, grad, 1.0 / (m * per_row), lr, optimizer)
        losses[epoch] = total / (n * per_row)
        if _training.stalled(stopping, losses[epoch]):
            return epoch + 1
    return epochs
