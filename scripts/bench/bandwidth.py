"""Bandwidth probes: how fast this machine reads X, timed in the same rounds as the memory-bound workloads.

    read: numba prange     Σ X, one contiguous block per numba thread (fastmath reassoc lets the sum vectorise):
                           the bandwidth all cores get, the ceiling of a kernel that reads X once
    read: np.sum 1 thread  np.sum(X), pairwise summation on one core

"% read BW" in the report is a workload's bytes of X per second over the faster probe's. Each probe is a
competitor whose only task is ``read`` (the ``Run`` protocol of ``protocol``).
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from .protocol import NUMBA, ONE_BLAS, Run

JIT = dict(cache=True, nogil=True, fastmath={"reassoc", "contract", "nsz"})


@njit(**JIT)
def _block_sum(values):
    total = 0.0
    for i in range(values.size):
        total += values[i]
    return total


@njit(parallel=True, **JIT)
def _read_blocks(flat, sums):
    n, blocks = flat.size, sums.size
    for t in prange(blocks):
        sums[t] = _block_sum(flat[t * n // blocks:(t + 1) * n // blocks])


def read_sum(X):
    """Σ X, each thread summing one contiguous block."""
    sums = np.zeros(numba.get_num_threads())
    _read_blocks(X.reshape(-1), sums)
    return sums.sum()


def _total(total):
    return (np.atleast_1d(total),)


class ReadNumba:
    env = NUMBA

    def setup(self):
        return {}

    def read(self, data):
        return Run(lambda: read_sum(data.X), _total)


class ReadNumPy:
    env = ONE_BLAS

    def setup(self):
        return {}

    def read(self, data):
        return Run(lambda: np.sum(data.X), _total)


PROBES = {"read: numba prange": ReadNumba, "read: np.sum 1 thread": ReadNumPy}
