"""Every competitor of the benchmark (scripts/bench) computes what the generated kernels compute.

The facts behind the benchmark's correctness gate, asserted on the --quick plan's small data in this process:
each competitor's full-batch (loss, gradient) and each epoch's (mean loss, parameters after it), in the row
order ``derive.kernels._shuffle.orders`` gives, equal the generated kernel's to 1e-10 relative. NumPy and the
hand-written numba reference always run; PyTorch and JAX only where they are installed (they are comparison
targets, never dependencies).
"""
import functools
import importlib.util

import numpy as np
import pytest

from derive.kernels import _shuffle
from scripts.bench import checks, workloads
from scripts.bench.competitors import COMPETITORS
from scripts.bench.protocol import compute

PLAN = workloads.unique(workloads.quick_plan())
LIBRARY = {"torch": "torch", "torch-autograd": "torch", "jax": "jax"}


@functools.cache
def data(workload):
    return workloads.data(workloads.request(workload, *workloads.in_memory(workload)))


@functools.cache
def competitor(name):
    library = LIBRARY.get(name)
    if library and importlib.util.find_spec(library) is None:
        pytest.skip(f"{library} is not installed")
    instance = COMPETITORS[name]()
    instance.setup()
    return instance


@functools.cache
def kernel_result(workload):
    return compute(getattr(competitor("generated"), workload.task)(data(workload)))


def pairs():
    return [pytest.param(name, workload, id=f"{name}: {workload.label}")
            for name, cls in COMPETITORS.items() if name != "generated"
            for workload in PLAN if hasattr(cls, workload.task)]


@pytest.mark.parametrize("name, workload", pairs())
def test_competitor_computes_what_the_kernel_computes(name, workload):
    result = compute(getattr(competitor(name), workload.task)(data(workload)))
    error = checks.relative_error(result, kernel_result(workload))
    assert error <= checks.RTOL, f"{name} on {workload.label}: relative error {error:.2e}"


def test_numpy_and_the_reference_run_every_task_they_are_timed_on():
    """The two competitors that are always there cover every task but one (the reference has no MSE head)."""
    tasks = {workload.task for workload in PLAN}
    assert all(hasattr(COMPETITORS["numpy"], task) for task in tasks)
    assert {task for task in tasks if not hasattr(COMPETITORS["reference"], task)} == {"neuron_mse_grad"}


@pytest.mark.parametrize("workload", [w for w in PLAN if w.spec.epoch], ids=lambda w: w.label)
def test_an_epoch_follows_the_fit_order_and_moves_every_parameter(workload):
    """The epoch comparison means something: the order is fit's first-epoch permutation, and every parameter
    array moved, by more than the tolerance, from where it started."""
    order = data(workload).order
    assert np.array_equal(order, _shuffle.orders(workloads.SEED, workload.n, 1)[0])
    assert np.array_equal(np.sort(order), np.arange(workload.n)) and not np.array_equal(order, np.arange(workload.n))
    _, *after = kernel_result(workload)
    for start, end in zip(data(workload).params, after):
        assert checks.relative_error([end], [start]) > 1e3 * checks.RTOL
