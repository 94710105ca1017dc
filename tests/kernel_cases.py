"""What the kernel tests share: the modules, their test problems for K outputs, and comparisons.

Compiling dominates the run time: every module compiles its own head (and, for a neuron with one output, its
fused loops), and the dense loops compile once for all (``derive/kernels/_dense.py``). ``compile_in_workers``
compiles the modules a session selects in worker processes, one per core, into numba's on-disk cache, so the
tests load them from there.
"""
import concurrent.futures
import functools
import multiprocessing
import os
import warnings

import numpy as np

import derive.kernels as kernels
from derive import verify

NAMES = kernels.available()
MODULES = {name: kernels.load(name) for name in NAMES}
ELEMENTWISE = [name for name in NAMES if MODULES[name].SPAN == "elementwise"]
RELATIVE = 1e-12        # two summation orders of the same float64 sums


def outputs_of(module, outputs=None):
    """K for a test problem: the given one, else 3 classes for softmax and 1 output otherwise."""
    return outputs or (3 if module.SPAN == "softmax" else 1)


def copy(params):
    return tuple(np.array(p, copy=True) for p in params)


@functools.lru_cache(maxsize=None)
def _cached_problem(name, outputs):
    return verify.problem(MODULES[name], outputs=outputs)


def problem(name, outputs=None):
    """verify.problem's (params, X, y) for ``name`` with K outputs, as fresh copies."""
    params, X, labels = _cached_problem(name, outputs_of(MODULES[name], outputs))
    return copy(params), X.copy(), labels.copy()


def init(module, n_features, seed, outputs=None):
    """module.init for a small model: hidden widths (4, 3) for an MLP."""
    from derive.models import MODELS
    return module.init(*MODELS[module.MODEL].test_shape(n_features, outputs_of(module, outputs)), seed=seed)


def relative(actual, expected):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    return float(np.max(np.abs(actual - expected), initial=0.0)) / scale


def assert_params_close(actual, expected, rtol, what):
    assert len(actual) == len(expected)
    for index, (p, q) in enumerate(zip(actual, expected)):
        error = relative(p, q)
        assert error <= rtol, f"{what}: params[{index}] differ by {error:.2e} (relative)\n{p}\nvs\n{q}"


def exercise(name, outputs=None):
    """Run every public function of ``name`` once on a small problem, so numba caches what they compile."""
    module = MODULES[name]
    params, X, labels = problem(name, outputs)
    module.loss_and_gradient(params, X, labels)
    module.loss(params, X, labels)
    module.predict(params, X)
    module.fit(params, X, labels, 0.01, epochs=1, batch_size=2)
    module.fit(params, X, labels, 0.01, epochs=1, batch_size=1)
    return name


def _exercise_all(name, many):
    exercise(name)
    if many:
        exercise(name, 3)
    return name


def compile_in_workers(names, many=()):
    """Compile ``names`` (and K = 3 for those in ``many``) in worker processes, one per core, longest first.

    Only the time is at stake: a module a worker could not compile is compiled in the test process, by its
    first test, which then reports the error itself."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    workers = min(cores, len(names))
    if workers < 2:
        return
    order = sorted(names, key=lambda n: (MODULES[n].MODEL != "neuron", n))
    failed = []
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for name, future in [(n, pool.submit(_exercise_all, n, n in many)) for n in order]:
            try:
                future.result()
            except Exception as error:  # noqa: BLE001 - the module's own tests meet it again, and report it
                failed.append(f"{name} ({type(error).__name__})")
    if failed:
        warnings.warn(f"compiling in worker processes failed for {', '.join(failed)}: compiled in-process instead")
