"""Dense products of a block of rows, for the shared loops (written by hand): small blocks in plain loops that
numba vectorises, blocks of _tuning.BLAS_MIN rows or more through BLAS (the caller keeps BLAS on one thread).

    Z = A W + b,   G = Aᵀ D (or G += Aᵀ D)
"""
import math

import numpy as np
from numba import njit

from . import _tuning as _t

_DEPENDS = "a9416ae8bffda64b"  # a digest of the helpers this module compiles in; derive generate keeps it current

_FASTMATH = {"reassoc", "contract", "nsz"}  # what vectorising needs; never nnan or ninf


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def affine(A, W, b, Z):
    """Z = A W + b for the rows of A; returns how many z are not finite (counted as b is added: no extra pass)."""
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
    bad = 0
    for r in range(n):
        for c in range(W.shape[1]):
            z = Z[r, c] + b[c]
            Z[r, c] = z
            bad += 0 if abs(z) < math.inf else 1
    return bad


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def weight_gradient(A, D, G, accumulate):
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
