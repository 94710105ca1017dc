"""Template part: the neuron's entry points. One output takes the fused loops; K > 1 outputs the dense ones.

The entry points are Python functions over compiled ones, so that a call compiles only what it runs. Each has
the signature the public API calls (``derive/kernels/_api.py``):
``loss_and_gradient(theta, widths, X, Y, grad, threads) -> mean loss``, ``loss(theta, widths, X, Y, threads)``,
``predict(theta, widths, X, out, threads) -> non-finite rows``, ``fit(theta, widths, X, Y, lr, epochs,
batch_size, seed, losses, threads, optimizer)``; ``threads`` is None for one thread. ``split(widths, n, threads)`` says
whether n rows pay for several threads.
"""
from types import SimpleNamespace

from derive.codegen.templates.dense import DENSE
from derive.codegen.templates.fused import (_fused_fit_batches, _fused_fit_samples, _fused_loss,
                                            _fused_loss_and_gradient, _fused_predict, _fused_split)
from derive.kernels import _optim

CONSTANTS = ("MODEL", "LAYOUT")

MODEL = "neuron"
LAYOUT = {"hidden": False, "squeeze": True}   # no hidden layers; one output keeps w as a vector


def _one_loss_and_gradient(theta, widths, X, Y, grad, threads):
    d = X.shape[1]
    return _fused_loss_and_gradient(theta[:d], theta[d:], X, Y.reshape(-1), grad[:d], grad[d:], threads)


def _one_loss(theta, widths, X, Y, threads):
    d = X.shape[1]
    return _fused_loss(theta[:d], theta[d:], X, Y.reshape(-1))


def _one_predict(theta, widths, X, out, threads):
    d = X.shape[1]
    return _fused_predict(theta[:d], theta[d:], X, out.reshape(-1))


def _one_fit(theta, widths, X, Y, lr, epochs, batch_size, seed, losses, threads, optimizer):
    """One sample at a time with plain SGD takes the fused one-sample loop; anything else, mini-batches."""
    if batch_size == 1 and optimizer[0] == _optim.SGD:
        _fused_fit_samples(theta, X, Y.reshape(-1), lr, epochs, seed, losses, optimizer)
    else:
        _fused_fit_batches(theta, X, Y.reshape(-1), lr, epochs, batch_size, seed, losses, optimizer)


def _one_split(widths, n, threads):
    return threads > 1 and _fused_split(n, widths[0])


ONE = SimpleNamespace(loss_and_gradient=_one_loss_and_gradient, loss=_one_loss, predict=_one_predict,
                      fit=_one_fit, split=_one_split, blas=False)
core = DENSE   # the entry points for any K


def _kernels(widths):
    """The entry points for a layer of widths (n_features, K)."""
    return ONE if widths[-1] == 1 else DENSE
