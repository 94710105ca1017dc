"""Template part: the neuron's entry points. One output takes the fused loops; K > 1 outputs the dense ones.

The entry points are Python functions over compiled ones, so that a call compiles only what it runs. Each has
the signature the public API calls (``derive/kernels/_api.py``):
``loss_and_gradient(theta, widths, X, Y, grad, threads) -> mean loss``, ``loss(theta, widths, X, Y, threads)``,
``predict(theta, widths, X, out, threads) -> non-finite rows``, ``fit(theta, widths, X, Y, lr, epochs,
batch_size, shuffle, losses, threads, optimizer, stopping) -> epochs run`` (``shuffle`` = (stream, order) and
``stopping`` as ``derive/kernels/_training.py`` makes them); ``threads`` is None for one thread.
``split(widths, n, threads)`` says whether n rows pay for several threads; ``shared(batch_size, kind, hyper)``
names the shared fit loop a fit runs (``derive/kernels/_ahead.py``).
"""
from types import SimpleNamespace

import numpy as np

from derive.codegen.templates.dense import DENSE
from derive.codegen.templates.fused import _fused_pieces, _fused_predict
from derive.codegen.templates.pieces import _ROW_COST
from derive.kernels import _ahead, _fused, _optim
from derive.kernels import _tuning as _t

CONSTANTS = ("MODEL", "LAYOUT")

MODEL = "neuron"
LAYOUT = {"hidden": False, "squeeze": True}   # no hidden layers; one output keeps w as a vector


def _one_loss_and_gradient(theta, widths, X, Y, grad, threads):
    return _fused.loss_and_gradient(theta, X, Y, grad, threads, _fused_pieces(0))


def _one_loss(theta, widths, X, Y, threads):
    return _one_loss_and_gradient(theta, widths, X, Y, np.empty_like(theta), threads)


def _one_predict(theta, widths, X, out, threads):
    d = X.shape[1]
    return _fused_predict(theta[:d], theta[d:], X, out.reshape(-1))


def _one_shared(batch_size, kind, hyper):
    """The shared loop a fit runs, for ``_ahead``: None for the fused one-sample loop, which one sample at a time
    with plain SGD (every option 0) takes; "fused" for mini-batches through the optimizer's update."""
    return None if batch_size == 1 and kind == _optim.SGD and not hyper.any() else "fused"


def _one_fit(theta, widths, X, Y, lr, epochs, batch_size, shuffle, losses, threads, optimizer, stopping):
    """The loop ``_one_shared`` names, with this module's block or one-sample epoch."""
    if _one_shared(batch_size, optimizer[0], optimizer[1]) is None:
        return _fused.fit_samples(theta, X, Y.reshape(-1), lr, epochs, shuffle, losses, optimizer, stopping,
                                  _fused_pieces(1))
    pieces = _fused_pieces(0)
    _ahead.join("fused")   # the shared loop, if a helper compiled it meanwhile
    return _fused.fit_batches(theta, X, Y.reshape(-1), lr, epochs, batch_size, shuffle, losses, optimizer, stopping,
                              pieces)


def _one_split(widths, n, threads):
    """Whether N rows of D features pay for two threads: N·(D + _ROW_COST) >= _tuning.FUSED_PARALLEL_MIN."""
    return threads > 1 and n * (int(widths[0]) + _ROW_COST) >= _t.FUSED_PARALLEL_MIN


ONE = SimpleNamespace(loss_and_gradient=_one_loss_and_gradient, loss=_one_loss, predict=_one_predict,
                      fit=_one_fit, split=_one_split, blas=False, shared=_one_shared)
core = DENSE   # the entry points for any K


def _kernels(widths):
    """The entry points for a layer of widths (n_features, K)."""
    return ONE if widths[-1] == 1 else DENSE
