"""Compile ahead of time: every path a module's public functions can take, into numba's cache (written by hand).

    warm(module)  runs loss_and_gradient, loss, predict, step and fit (one sample and mini-batches) on a small
                  problem, with one output and with two (the dense loops), on one thread and on several
"""
import math
import time

import numpy as np

from . import _spans, _threads, _training


def _labels(module, n, outputs, rng):
    """Labels from the module's label set: class indices, values of a set, an interval's ends, or reals."""
    kind = module.LABELS[0]
    if kind == "classes":
        return rng.integers(0, outputs, n)
    shape = (n,) if outputs == 1 else (n, outputs)
    if kind == "set":
        return rng.choice(np.array(module.LABELS[1]), shape)
    if kind == "interval":
        low, high = module.LABELS[1], module.LABELS[2]
        return rng.choice([low, high if math.isfinite(high) else low + 1.0], shape)
    return rng.normal(size=shape)


def warm(module):
    """Compile every path of ``module``; returns the seconds it took (about 0 once cached)."""
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    least = 2 if module.SPAN == "softmax" else 1
    for outputs in (least, least + 1):
        shape = (3, (4,)) if module.LAYOUT["hidden"] else (3,)
        params = module.init(*shape, n_outputs=outputs)
        y = _labels(module, len(X), outputs, rng)
        module.loss_and_gradient(params, X, y)
        module.loss(params, X, y)
        module.predict(params, X)
        module.step(params, X, y, 1e-3)
        module.fit(params, X, y, 1e-3, epochs=1, batch_size=1)
        module.fit(params, X, y, 1e-3, epochs=1, batch_size=8)
        if _threads.batch_threads() > 1:
            _warm_threads(module, params, X, y)
    return time.perf_counter() - started


def _warm_threads(module, params, X, y):
    """The entry points with a thread count, which compiles their parallel paths."""
    widths = np.array([X.shape[1]] + [np.shape(W)[-1] if np.ndim(W) == 2 else 1 for W in params[0::2]],
                      dtype=np.int64)
    kernels = module._kernels(widths)
    theta = np.concatenate([np.reshape(p, -1) for p in params])
    Y = np.ascontiguousarray(np.reshape(y, (len(X), -1)), dtype=module.LABEL_DTYPE)
    threads = _threads.batch_threads()
    with _threads.one_blas_thread():
        kernels.loss_and_gradient(theta, widths, X, Y, np.empty_like(theta), threads)
        kernels.predict(theta, widths, X, np.empty((len(X), int(widths[-1]))), threads)
        state = _training.State(params)
        kernels.fit(theta.copy(), widths, X, Y, 1e-3, 1, 8, state.shuffle(len(X)), np.empty(1), threads, state.kernel,
                    _training.stopping(None, 1))
    _spans.parallel()   # what a fit splits its batches with, once compiled (else its chunks run one by one)
