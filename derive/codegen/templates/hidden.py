"""Template part: the hidden activation g of an MLP and its derivative, printed from the derivation (tanh here).

    a = g(z),   g'(z) written with a where the textbook does (tanh' = 1 − a²)
"""
from numba import njit

from derive.kernels import _elementary as _em

STUBS = ("_hidden", "_hidden_derivative")
CONSTANTS = ("HIDDEN", "INIT")

HIDDEN = "tanh"
INIT = "glorot"   # the weight initialisation suited to g: "he" for ReLU-like, "glorot" otherwise

_FASTMATH = {"reassoc", "contract", "nsz"}  # what vectorising needs; never nnan or ninf


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", forceinline=True)
def _hidden(z):
    """g(z) = tanh z"""
    return _em.tanh(z)


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", forceinline=True)
def _hidden_derivative(z, a):
    """g'(z) = 1 − a²"""
    return 1.0 - a * a


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _hidden_forward(Z, H, n):
    """Rows 0 … n of a hidden layer: H = g(Z)."""
    for r in range(n):
        for c in range(Z.shape[1]):
            H[r, c] = _hidden(Z[r, c])


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def _hidden_backward(Z, A, D, n):
    """Rows 0 … n: D = D ⊙ g'(Z), with A = g(Z) (δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾ᵀ) ⊙ g'(z⁽ˡ⁾))."""
    for r in range(n):
        for c in range(Z.shape[1]):
            D[r, c] *= _hidden_derivative(Z[r, c], A[r, c])
