"""Template part: the softmax head with cross-entropy over K classes; labels are class indices.

    p = softmax(z),   L = −log p_y = log Σ_k e^(z_k − m) + m − z_y  (m = max_k z_k: no exponential overflows)
    δ_k = ∂L/∂z_k = p_k − y_k  (printed from the derivation into ``_delta``)
"""
import numpy as np
from numba import njit

from derive.kernels import _elementary as _em
from derive.kernels import _first_class as _fc

STUBS = ("_delta",)
CONSTANTS = ("ACTIVATION", "LOSS", "LABELS", "EXPRESSIONS")

ACTIVATION = "softmax"
LOSS = "cross_entropy"
LABELS = ("classes",)
EXPRESSIONS = {"activation": "exp(z[k])/Sum(exp(z[i]), (i, 1, K))", "loss": "-Sum(y[i]*log(p[i]), (i, 1, K))"}
SPAN = "softmax"
LABEL_DTYPE = np.float64   # class indices as floats (exact below 2**53): the dense loops compile once
_HEAD_TYPE = _fc.HEAD      # (Z, Y class indices, n, P, Dz) -> Σ L

_FASTMATH = {"reassoc", "contract", "nsz"}  # what vectorising needs; never nnan or ninf


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", forceinline=True)
def _delta(p, t):
    """∂L/∂z_k = p − t, with p = p_k and t = y_k"""
    return p - t


def _per_row(K):
    """Loss terms per row: one (the cross-entropy of the row's class), whatever K."""
    return 1


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _head(Z, Y, n, P, Dz):
    """Rows 0 … n: P = softmax(Z), Dz = ∂L/∂z with the one-hot label of class Y[r, 0] (a whole float);
    returns Σ L."""
    K = Z.shape[1]
    total = 0.0
    for r in range(n):
        label = int(Y[r, 0])
        top = Z[r, 0]
        for c in range(1, K):
            top = max(top, Z[r, c])
        s = 0.0
        for c in range(K):
            e = _em.exp(Z[r, c] - top)
            P[r, c] = e
            s += e
        inv = 1.0 / s
        for c in range(K):
            P[r, c] *= inv
            Dz[r, c] = _delta(P[r, c], 1.0 if c == label else 0.0)
        total += _em.log(s) + top - Z[r, label]
    return total


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _head_predict(Z, n, P):
    """Rows 0 … n without labels: P = softmax(Z), the max subtracted."""
    K = Z.shape[1]
    for r in range(n):
        top = Z[r, 0]
        for c in range(1, K):
            top = max(top, Z[r, c])
        s = 0.0
        for c in range(K):
            P[r, c] = _em.exp(Z[r, c] - top)
            s += P[r, c]
        for c in range(K):
            P[r, c] /= s
