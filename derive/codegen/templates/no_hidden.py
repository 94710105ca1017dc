"""Template part: the hidden activation of a model without hidden layers. The dense loops type-check a call
to g for the layers below the head; with one layer there are none, so these are never called.
"""
from numba import njit

HIDDEN = None


@njit(cache=True, forceinline=True)
def _hidden(z):
    """(no hidden layers)"""
    return z


@njit(cache=True, forceinline=True)
def _hidden_derivative(z, a):
    """(no hidden layers)"""
    return 1.0
