"""The competitors: each computes the benchmark's tasks in its own idiom, from the same data.

A competitor is a class with one method per task it runs (``neuron_grad``, ``softmax_grad``,
``neuron_fit``, ``mlp_fit``; the bandwidth probes run ``read``). A method gets the workload's data and
returns a ``Run``; a task without a method is one the competitor does not run. ``setup`` imports the
library and raises ``Unavailable`` when it is missing. To add a competitor, add a class to ``competitors()``.

Every competitor runs in its own process, alone while it is timed. ``env`` is set before that process
imports anything, so the thread pools never fight: the numba kernels use numba's pool on every core, with
OpenBLAS at one thread (a BLAS call inside a kernel must not start a second pool on the same cores);
NumPy keeps OpenBLAS on every core, its default and the idiomatic setting (and ``settle`` gives its
spinning threads time to sleep before anyone else is timed); torch and XLA use their own pools at their
defaults (every core), with OpenBLAS at one thread. threadpoolctl is not used: it is not installed here,
and environment variables set before the import do the same for every library.

An epoch visits the rows in ``data.order`` (the order the generated ``fit`` draws itself), updates once
per batch with the batch-mean gradient, and reports the mean over rows of each row's loss before its
batch's update.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

CORES = str(os.cpu_count() or 1)
ONE_BLAS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
ALL_BLAS = {"OPENBLAS_NUM_THREADS": CORES, "OMP_NUM_THREADS": CORES, "MKL_NUM_THREADS": CORES}
NUMBA = {**ONE_BLAS, "NUMBA_NUM_THREADS": CORES}


class Unavailable(Exception):
    """The competitor's library, or the kernel for this task, is not there."""


@dataclass
class Run:
    call: Callable[[], Any]                 # the timed work
    result: Callable[[Any], tuple]          # call's output → numpy arrays, for the checks
    reset: Callable[[], None] | None = None  # untimed, before every call: fresh parameters for an epoch


def _loss_and_grads(out) -> tuple:
    loss, grads = out
    return (np.atleast_1d(np.asarray(loss, dtype=np.float64)), *(np.asarray(g) for g in grads))


def _in_place_epoch(data, epoch: Callable[[tuple], Any]) -> Run:
    """An epoch that updates numpy parameters in place, restarted from data.params before every call."""
    params = tuple(p.copy() for p in data.params)

    def reset():
        for p, p0 in zip(params, data.params):
            np.copyto(p, p0)
    return Run(lambda: epoch(params), lambda loss: (np.atleast_1d(loss), *params), reset)


# ---------------------------------------------------------------- NumPy, written the idiomatic way
def _log_sigmoid_parts(z):
    """(softplus(z), σ(z)) without overflow: σ(z) = exp(z − softplus(z))."""
    softplus = np.logaddexp(0.0, z)
    return softplus, np.exp(z - softplus)


class NumPy:
    env = ALL_BLAS
    settle = 0.15   # seconds the driver waits after its repetition: idle OpenBLAS threads spin ~0.1 s
                    # (2²⁸ cycles) before they sleep, and would take the cores of whoever runs next

    def setup(self):
        return {}

    def neuron_grad(self, data):
        def loss_and_gradient(w, b, X, y):
            z = X @ w + b[0]
            softplus, sigmoid = _log_sigmoid_parts(z)
            r = (sigmoid - y) / len(y)
            return np.mean(softplus - y * z), (X.T @ r, np.array([r.sum()]))
        return Run(lambda: loss_and_gradient(*data.params, data.X, data.y), _loss_and_grads)

    def softmax_grad(self, data):
        def loss_and_gradient(W, b, X, y):
            Z = X @ W + b
            lse = np.logaddexp.reduce(Z, axis=1)
            rows = np.arange(len(y))
            P = np.exp(Z - lse[:, None])
            P[rows, y] -= 1.0
            P /= len(y)
            return np.mean(lse - Z[rows, y]), (X.T @ P, P.sum(axis=0))
        return Run(lambda: loss_and_gradient(*data.params, data.X, data.y), _loss_and_grads)

    def neuron_fit(self, data):
        X, y, lr, order = data.X, data.y, data.lr, data.order

        def epoch(params):
            w, b = params
            loss = 0.0
            for i in order:
                x = X[i]
                z = x @ w + b[0]
                softplus, sigmoid = _log_sigmoid_parts(z)
                loss += softplus - y[i] * z
                step = lr * (sigmoid - y[i])
                w -= step * x
                b -= step
            return loss / len(order)
        return _in_place_epoch(data, epoch)

    def mlp_fit(self, data):
        X, y, lr, order, batch = data.X, data.y, data.lr, data.order, data.batch

        def epoch(params):
            W1, b1, W2, b2 = params
            loss = 0.0
            for start in range(0, len(order), batch):
                rows = order[start:start + batch]
                Xb, yb = X[rows], y[rows]
                A = np.tanh(Xb @ W1 + b1)
                z = A @ W2[:, 0] + b2[0]
                softplus, sigmoid = _log_sigmoid_parts(z)
                loss += np.sum(softplus - yb * z)
                r = (sigmoid - yb) / len(rows)
                dZ = np.outer(r, W2[:, 0]) * (1.0 - A * A)
                W2[:, 0] -= lr * (A.T @ r)
                b2 -= lr * r.sum()
                W1 -= lr * (Xb.T @ dZ)
                b1 -= lr * dZ.sum(axis=0)
            return loss / len(order)
        return _in_place_epoch(data, epoch)


# ---------------------------------------------------------------- numba: the generated kernels, the reference
class Generated:
    """The generated kernels through their public, validating functions."""
    env = NUMBA
    modules = {"neuron_grad": dict(name="neuron_sigmoid_bce"), "neuron_fit": dict(name="neuron_sigmoid_bce"),
               "softmax_grad": dict(name="softmax_softmax_cross_entropy"),
               "mlp_fit": dict(model="mlp", hidden="tanh", activation="sigmoid", loss="bce")}

    def setup(self):
        try:
            import derive.kernels as kernels
        except Exception as error:
            raise Unavailable(f"import derive.kernels failed: {error}") from None
        if not hasattr(kernels, "load"):
            raise Unavailable("derive.kernels has no load(): no kernels generated yet")
        self.generated = kernels
        return {}

    def _load(self, task):
        try:
            return self.kernels.load(**self.modules[task])
        except Exception as error:
            raise Unavailable(f"kernels.load({self.modules[task]}) failed: {error}") from None

    def _gradient(self, data):
        kernel = self._load(data.task)
        return Run(lambda: kernel.loss_and_gradient(data.params, data.X, data.y), _loss_and_grads)

    def _epoch(self, data):
        kernel = self._load(data.task)
        return _in_place_epoch(data, lambda params: kernel.fit(params, data.X, data.y, data.lr, epochs=1,
                                                               batch_size=data.batch, seed=0))

    neuron_grad = softmax_grad = _gradient
    neuron_fit = mlp_fit = _epoch


class Reference:
    """The hand-written numba kernels of bench_reference.py."""
    env = NUMBA

    def setup(self):
        import bench_reference
        import numba
        self.kernels = bench_reference
        return {"numba threads": numba.get_num_threads()}

    def neuron_grad(self, data):
        kernel = self.kernels.neuron_loss_and_gradient
        return Run(lambda: kernel(*data.params, data.X, data.y), _loss_and_grads)

    def softmax_grad(self, data):
        kernel = self.kernels.softmax_loss_and_gradient
        return Run(lambda: kernel(*data.params, data.X, data.y), _loss_and_grads)

    def neuron_fit(self, data):
        kernel = self.kernels.neuron_fit_epoch
        return _in_place_epoch(data, lambda params: kernel(*params, data.X, data.y, data.lr, data.order))

    def mlp_fit(self, data):
        kernel = self.kernels.mlp_fit_epoch
        return _in_place_epoch(data, lambda params: kernel(*params, data.X, data.y, data.lr, data.order,
                                                           data.batch))


# ---------------------------------------------------------------- bandwidth probes: read X once
class ReadNumba:
    """Σ X by a numba prange over one block per thread, fastmath reassoc: the bandwidth all cores get."""
    env = NUMBA

    def setup(self):
        import bench_reference
        self.read_sum = bench_reference.read_sum
        return {}

    def read(self, data):
        return Run(lambda: self.read_sum(data.X), lambda total: (np.atleast_1d(total),))


class ReadNumPy:
    """np.sum(X): one thread, pairwise summation, the bandwidth one core gets."""
    env = ONE_BLAS

    def setup(self):
        return {}

    def read(self, data):
        return Run(lambda: np.sum(data.X), lambda total: (np.atleast_1d(total),))


def competitors() -> dict:
    """name → class, in the order of the report; the torch and JAX classes live in bench_frameworks."""
    from bench_frameworks import JAX, Torch, TorchAutograd
    return {"generated": Generated, "reference": Reference, "numpy": NumPy, "torch": Torch,
            "torch-autograd": TorchAutograd, "jax": JAX}


PROBES = {"read: numba prange": ReadNumba, "read: np.sum 1 thread": ReadNumPy}
