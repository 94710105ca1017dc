"""What every competitor shares: the ``Run`` it returns, its thread settings, and how a run is computed once.

A competitor is a class with one method per task it runs (``neuron_grad``, ``neuron_mse_grad``,
``softmax_grad``, ``neuron_fit``, ``mlp_fit``; the bandwidth probes run ``read``). A method gets the workload's
data (``data.X``, ``data.y``, ``data.params``, ``data.lr``, ``data.batch``, ``data.order``, ``data.outputs``) and
returns a ``Run``; a task without a method is one the competitor does not run. ``setup`` imports the library
and raises ``Unavailable`` when it is missing.

Thread settings (``env``) are set before a worker process imports anything, so the pools never fight: numba
on every core with OpenBLAS at one thread (a BLAS call inside a kernel must not start a second pool on the
same cores); NumPy keeps OpenBLAS on every core, its default; torch and XLA use their own pools at their
defaults, with OpenBLAS at one thread.

An epoch visits the rows in ``data.order`` (the order the generated ``fit`` draws itself), updates once per
batch with the batch-mean gradient, and reports the mean over the rows' loss terms, each taken before its
batch's update. Its result is (loss, *parameters after the epoch).
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
    call: Callable[[], Any]                  # the timed work
    result: Callable[[Any], tuple]           # call's output → numpy arrays, for the checks
    reset: Callable[[], None] | None = None  # untimed, before every call: fresh parameters for an epoch


def compute(run: Run) -> tuple:
    """The run's result from one call (after its reset): what the correctness gate and the tests compare."""
    if run.reset:
        run.reset()
    return run.result(run.call())


def import_or_unavailable(name):
    try:
        return __import__(name)
    except ImportError as error:
        raise Unavailable(f"{name} is not installed ({error})") from None


def loss_and_grads(out) -> tuple:
    """(loss, gradients) → (loss as a 1-element array, *gradients as numpy arrays)."""
    loss, grads = out
    return (np.atleast_1d(np.asarray(loss, dtype=np.float64)), *(np.asarray(g) for g in grads))


def in_place_epoch(data, epoch: Callable[[tuple], Any]) -> Run:
    """An epoch that updates numpy parameters in place, restarted from data.params before every call."""
    params = tuple(p.copy() for p in data.params)

    def reset():
        for p, p0 in zip(params, data.params):
            np.copyto(p, p0)
    return Run(lambda: epoch(params), lambda loss: (np.atleast_1d(np.asarray(loss, dtype=np.float64)), *params),
               reset)


def batches(order: np.ndarray, size: int) -> list[np.ndarray]:
    """The epoch's batches: consecutive slices of the row order, the last one possibly shorter."""
    return [order[start:start + size] for start in range(0, len(order), size)]


def labels_2d(data) -> np.ndarray:
    """y as (N, K) for the elementwise heads: (N,) labels of one output become one column."""
    return data.y.reshape(len(data.y), -1)
