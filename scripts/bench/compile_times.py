"""First-call times from an empty numba cache: what a new user waits for before the first result.

Each case runs in a fresh process with NUMBA_CACHE_DIR set to a new empty folder, so numba compiles everything
it needs (the module's functions and the shared helpers: _elementary, _dense, _validate, _shuffle …); then the
same call runs again in another fresh process on the filled cache. Compiling is single-threaded and the machine is
shared, so each case runs --repeat times (3), each from its own empty cache, and the median and range are given.
Targets of the heads-and-models issue: first fit of a neuron module ≤ 3 s, of an MLP module ≤ 8 s.

    python -m scripts.bench.compile_times [--repeat 3] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

CASES = {  # name: (module, init arguments, labels, fit keyword arguments)
    "neuron fit, one sample at a time": ("neuron_sigmoid_bce", "4", "(X[:, 0] > 0).astype(float)",
                                         "batch_size=1"),
    "neuron fit, mini-batches": ("neuron_sigmoid_bce", "4", "(X[:, 0] > 0).astype(float)", "batch_size=32"),
    "neuron with 3 outputs, fit": ("neuron_identity_mse", "4, 3", "X[:, :3]", "batch_size=32"),
    "softmax regression fit": ("softmax_softmax_cross_entropy", "4, 3", "(X[:, 0] > 0).astype(int) + (X[:, 1] > 0)",
                               "batch_size=32"),
    "MLP fit, batch 256": ("mlp_tanh_sigmoid_bce", "4, (64,)", "(X[:, 0] > 0).astype(float)", "batch_size=256"),
    "MLP fit, 3 outputs": ("mlp_tanh_identity_mse", "4, (16,), n_outputs=3", "X[:, :3]", "batch_size=32"),
}
PROGRAM = """
import time
started = time.perf_counter()
import numpy as np
import derive.kernels as kernels
m = kernels.load({name!r})
X = np.random.default_rng(0).normal(size=(2000, 4))
y = {labels}
params = m.init({init})
imported = time.perf_counter()
m.fit(params, X, y, 0.05, epochs=2, {fit})
print(imported - started, time.perf_counter() - imported)
"""


def _run(case, cache):
    name, init, labels, fit = CASES[case]
    env = {**os.environ, "NUMBA_CACHE_DIR": cache, "DERIVE_QUIET": "1"}
    done = subprocess.run([sys.executable, "-c", PROGRAM.format(name=name, init=init, labels=labels, fit=fit)],
                          env=env, capture_output=True, text=True, check=True)
    return [float(v) for v in done.stdout.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="cold runs per case (median reported)")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    results = {}
    print(f"{'case':<36} {'import':>8} {'first fit, empty cache: median (range)':>40} {'cached':>8}")
    for case in CASES:
        runs = []
        for _ in range(max(1, args.repeat)):
            with tempfile.TemporaryDirectory(prefix="derive-numba-") as cache:
                imported, cold = _run(case, cache)
                _, warm = _run(case, cache)
            runs.append((cold, imported, warm))
        cold, imported, warm = sorted(runs)[len(runs) // 2]
        colds = [run[0] for run in runs]
        results[case] = {"import_s": imported, "first_fit_s": cold, "first_fit_runs_s": colds, "cached_fit_s": warm}
        spread = f"{cold:.2f}s ({min(colds):.2f}–{max(colds):.2f})"
        print(f"{case:<36} {imported:>7.2f}s {spread:>40} {warm:>7.2f}s", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(results, stream, indent=2)


if __name__ == "__main__":
    main()
