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
    """Rows 0 … n of the output layer: A = f(Z), Dz = ∂L/∂z element by element; returns Σ L. One flat loop over
    the n·K elements (contiguous rows), which LLVM vectorises whatever K is (by rows, K = 1 ran 8× slower)."""
    size = n * Z.shape[1]
    z_flat, y_flat = Z[:n].reshape(size), Y[:n].reshape(size)
    a_flat, d_flat = A[:n].reshape(size), Dz[:n].reshape(size)
    total = 0.0
    for i in range(size):
        z = z_flat[i]
        a = _activation(z)
        a_flat[i] = a
        total += _loss(z, a, y_flat[i])
        d_flat[i] = _delta(z, a, y_flat[i])
    return total


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _head_predict(Z, n, A):
    """Rows 0 … n of the output layer without labels: A = f(Z), in one flat loop."""
    size = n * Z.shape[1]
    z_flat, a_flat = Z[:n].reshape(size), A[:n].reshape(size)
    for i in range(size):
        a_flat[i] = _activation(z_flat[i])
