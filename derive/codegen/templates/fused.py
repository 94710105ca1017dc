"""Template part: the one-output neuron's pair-specific loops, its pieces inlined so that they vectorise: one
block of rows, one epoch of one-sample updates, and predict. The rest of its loops are shared by every module
(``derive/kernels/_fused.py``), which calls these through their addresses.

For each block of _tuning.BLOCK rows: the z pass, then f, L and ∂L/∂z vectorised over the block, then the
gradient pass while the block is still in cache. A non-finite X shows as a NaN loss (its z is not finite, even
where ReLU would hide it), so X is read once. Loops index blocks from 0 (slices, not row offsets): numba cannot
prove lo + r >= 0, and the negative-index wraparound it would add stops LLVM from vectorising the loop.
"""
import math

from numba import njit

from derive.codegen.templates.pieces import _activation, _activation_1, _delta, _delta_1, _loss, _loss_1
from derive.kernels import _first_class as _fc
from derive.kernels import _fused
from derive.kernels import _tuning as _t

_FASTMATH = {"reassoc", "contract", "nsz"}  # what vectorising needs; never nnan or ninf


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _block(w, b0, X, y, gw, zs, ds):
    """Rows of the block X, y: returns (Σ L, Σ ∂L/∂z); adds Σ ∂L/∂z · x to gw."""
    n, D = X.shape
    if D <= _t.NARROW:  # forward pass: z = Σ_j w_j x_j + b
        _fused.narrow_forward(w, b0, X, zs)
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
        _fused.narrow_backward(ds, X, gw)
    else:
        for r in range(n):
            d = ds[r]
            for j in range(D):
                gw[j] += d * X[r, j]
    return (loss_sum if bad == 0 else math.nan), delta_sum


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _one_sample_epoch(theta, X, y, order, lr):
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
    return total


@njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
def _fused_predict(w, b, X, out):
    """out = f(X w + b); returns the number of rows whose z is not finite (0 unless X has a NaN or inf).

    Two loops, z then f(z): the second vectorises, and LLVM takes minutes over one loop that inlines a large f
    (mish: tanh of softplus) behind the reduction."""
    for r in range(X.shape[0]):
        acc = b[0]
        for j in range(X.shape[1]):
            acc += X[r, j] * w[j]
        out[r] = acc
    bad = 0
    for r in range(X.shape[0]):
        z = out[r]
        out[r] = _activation(z)
        bad += 0 if abs(z) < math.inf else 1
    return bad


# this module's block (0) and one-sample epoch (1), each compiled on first need
_fused_pieces = _fc.Pieces((_block, _fc.BLOCK), (_one_sample_epoch, _fc.ONE_SAMPLE_EPOCH))
