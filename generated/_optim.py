"""The update step every kernel calls, written once (by hand, not generated): θ ← θ − lr·g for g = scale·grad.

    optimizer = (kind, hyper, state, count, decay)      the seam an optimizer plugs into
      kind   int: which rule (SGD = 0)
      hyper  float64 array: the rule's hyper-parameters (momentum, betas, eps, weight decay …)
      state  float64 array (slots, P): per-parameter state (momentum buffers, moments), carried between calls
      count  int64 array (1,): the number of updates taken (bias corrections need it)
      decay  float64 array (P,): 1 where weight decay applies (weights), 0 where it does not (biases)

``plain(P)`` is plain gradient descent. Optimizers add a kind, its slots and its branch here; no kernel writes
its own update.
"""
import numpy as np
from numba import njit

SGD = 0


def plain(size):
    """Plain SGD: no hyper-parameters, no state."""
    return (SGD, np.zeros(0), np.zeros((0, size)), np.zeros(1, dtype=np.int64), np.zeros(size))


@njit(cache=True, fastmath={"reassoc", "contract", "nsz"}, error_model="numpy")
def update(theta, grad, scale, lr, optimizer):
    """One step on the mean gradient scale·grad, in place; counts it."""
    kind, hyper, state, count, decay = optimizer
    step = lr * scale
    for i in range(theta.shape[0]):
        theta[i] -= step * grad[i]
    count[0] += 1
