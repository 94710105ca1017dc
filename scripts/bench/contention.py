"""A kernel call inside real work: beside other processes running it, and after NumPy's BLAS in the same process.

    alone             the public call (numba's threads when it pays), and the same on one thread
    busy              the same two while two other processes run the same call in a loop (three processes on
                      two cores, as a small process pool makes): target ≤ 1.5× the one-thread time under that load
    after BLAS        the public call right after a 400×400 NumPy product (OpenBLAS's threads): target ≤ 1.3×
                      the call alone; the two alternate (call, product, call), each ratio from one stretch of time

Medians of many calls; the ratios are what matter (the machine is shared: compare within one run).

    python -m scripts.bench.contention [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import time

import derive.kernels as kernels   # before NumPy, as a user would: so that its OPENBLAS_THREAD_TIMEOUT holds
import numpy as np

CASES = {  # name: (module, rows, features, init arguments)
    "sigmoid + BCE loss & gradient, N = 1e5, D = 10": ("neuron_sigmoid_bce", 100_000, 10, ()),
    "MLP loss & gradient, N = 2e4, D = 32, H = 64": ("mlp_tanh_sigmoid_bce", 20_000, 32, ((64,),)),
}


def _setup(case):
    name, rows, features, extra = CASES[case]
    module = kernels.load(name)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, features))
    y = (X[:, 0] > 0).astype(float)
    params = module.init(features, *extra)
    widths = np.array([features] + [np.shape(W)[-1] if np.ndim(W) == 2 else 1 for W in params[0::2]],
                      dtype=np.int64)
    theta = np.concatenate([np.reshape(p, -1) for p in params])
    return module, params, X, y, widths, theta


def _median(call, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _calls(case):
    """(public call, the same on one thread) for ``case``."""
    from derive.kernels import _threads
    module, params, X, y, widths, theta = _setup(case)
    kernels = module._kernels(widths)
    Y = y.reshape(-1, 1)
    grad = np.empty_like(theta)

    def one_thread():
        with _threads.one_blas_thread():
            kernels.loss_and_gradient(theta, widths, X, Y, grad, None)
    return (lambda: module.loss_and_gradient(params, X, y)), one_thread


def _spin(case, stop):
    public, _ = _calls(case)
    while not stop.is_set():
        public()


def measure(case, repeats=60):
    public, one_thread = _calls(case)
    public(), one_thread()  # compiled and cached before timing
    result = {"alone": _median(public, repeats), "alone, one thread": _median(one_thread, repeats)}
    A = np.random.default_rng(1).normal(size=(400, 400))
    alone, after = [], []
    for _ in range(4 * repeats):  # interleaved, so that both see the same moments of a shared machine
        started = time.perf_counter()
        public()
        alone.append(time.perf_counter() - started)
        A @ A
        started = time.perf_counter()
        public()
        after.append(time.perf_counter() - started)
    result["alone, beside BLAS"], result["after BLAS"] = statistics.median(alone), statistics.median(after)
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    others = [context.Process(target=_spin, args=(case, stop)) for _ in range(2)]
    for process in others:
        process.start()
    time.sleep(3.0)  # let them compile-load and settle
    try:
        result["busy"] = _median(public, repeats)
        result["busy, one thread"] = _median(one_thread, repeats)
    finally:
        stop.set()
        for process in others:
            process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    report = {}
    for case in CASES:
        r = measure(case)
        report[case] = r
        print(f"{case}\n  alone {r['alone'] * 1e3:.3f} ms (one thread {r['alone, one thread'] * 1e3:.3f} ms)"
              f"\n  busy  {r['busy'] * 1e3:.3f} ms = {r['busy'] / r['busy, one thread']:.2f}× one thread under the "
              f"same load ({r['busy, one thread'] * 1e3:.3f} ms; target ≤ 1.5×)"
              f"\n  after BLAS {r['after BLAS'] * 1e3:.3f} ms = "
              f"{r['after BLAS'] / r['alone, beside BLAS']:.2f}× alone "
              f"({r['alone, beside BLAS'] * 1e3:.3f} ms, the calls in between) "
              f"(target ≤ 1.3×; OPENBLAS_THREAD_TIMEOUT={os.environ.get('OPENBLAS_THREAD_TIMEOUT')})", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(report, stream, indent=2)


if __name__ == "__main__":
    main()
