"""Template part: a module's way into the shared dense loops (``derive/kernels/_dense.py``): the addresses of
its head and hidden-activation functions, compiled on first use, and the entry points with the signature the
public API calls (see ``neuron``).
"""
from types import SimpleNamespace

from derive.codegen.templates.head_elementwise import _HEAD_TYPE, _head, _head_predict, _per_row
from derive.codegen.templates.hidden import _hidden_backward, _hidden_forward
from derive.kernels import _dense
from derive.kernels import _first_class as _fc

# this module's head (0), head without labels (1), hidden activation (2) and its derivative (3), each compiled
# on first need
_pieces = _fc.Pieces((_head, _HEAD_TYPE), (_head_predict, _fc.HEAD_PREDICT), (_hidden_forward, _fc.HIDDEN_FORWARD),
                     (_hidden_backward, _fc.HIDDEN_BACKWARD))


def _dense_loss_and_gradient(theta, widths, X, Y, grad, threads):
    return _dense.loss_and_gradient(theta, widths, X, Y, grad, threads, _pieces(0, 2, 3), _per_row(widths[-1]))


def _dense_loss(theta, widths, X, Y, threads):
    return _dense.loss(theta, widths, X, Y, threads, _pieces(0, 2, 3), _per_row(widths[-1]))


def _dense_predict(theta, widths, X, out, threads):
    return _dense.predict(theta, widths, X, out, threads, _pieces(1, 2))


def _dense_fit(theta, widths, X, Y, lr, epochs, batch_size, shuffle, losses, threads, optimizer, stopping):
    return _dense.fit(theta, widths, X, Y, lr, epochs, batch_size, shuffle, losses, threads, optimizer, stopping,
                      _pieces(0, 2, 3), _per_row(widths[-1]))


def _dense_shared(batch_size, kind, hyper):
    """The shared loop every fit of a dense stack runs, for ``_ahead``."""
    return "dense"


DENSE = SimpleNamespace(loss_and_gradient=_dense_loss_and_gradient, loss=_dense_loss, predict=_dense_predict,
                        fit=_dense_fit, split=_dense.worth_splitting, blas=True, shared=_dense_shared)
