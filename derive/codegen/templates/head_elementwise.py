"""Template part: an elementwise head over K outputs, L = mean of L(a_k, y_k) over the batch's N·K elements.

    a_k = f(z_k),   Σ L(a_k, y_k),   δ_k = ∂L/∂z_k (unscaled: the loops divide by N·K once)
"""
import numpy as np
from numba import njit

from derive.codegen.templates.pieces import _activation, _delta, _loss
from derive.kernels import _first_class as _fc

SPAN = "elementwise"
LABEL_DTYPE = np.float64
_HEAD_TYPE = _fc.HEAD   # (Z, Y values, n, A, Dz) -> Σ L

_FASTMATH = {"reassoc", "contract", "nsz"}  # what vectorising needs; never nnan or ninf


def _per_row(K):
    """Loss terms per row: the mean runs over all N·K elements (PyTorch's reduction="mean")."""
    return int(K)


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _head(Z, Y, n, A, Dz):
    """Rows 0 … n of the output layer: A = f(Z), Dz = ∂L/∂z element by element; returns Σ L."""
    K = Z.shape[1]
    total = 0.0
    for r in range(n):
        for c in range(K):
            z = Z[r, c]
            a = _activation(z)
            A[r, c] = a
            total += _loss(z, a, Y[r, c])
            Dz[r, c] = _delta(z, a, Y[r, c])
    return total


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _head_predict(Z, n, A):
    """Rows 0 … n of the output layer without labels: A = f(Z)."""
    for r in range(n):
        for c in range(Z.shape[1]):
            A[r, c] = _activation(Z[r, c])
