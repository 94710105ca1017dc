"""Template part: the hidden activation of a model without hidden layers. The shared dense loops take the
addresses of these functions as of any module's, but with one layer they never call them.
"""
from numba import njit

HIDDEN = None


@njit(cache=True)
def _hidden_forward(Z, H, n):
    """(no hidden layers)"""


@njit(cache=True)
def _hidden_backward(Z, A, D, n):
    """(no hidden layers)"""
