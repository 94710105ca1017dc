"""derive.kernels.distributed on one LocalCluster: against dask-ml, against the in-memory fit, and its scaling.

    data      N × 100 standard-normal float64 in a memory-mapped .npy under /tmp (1.6 GB at N = 2e6), labels
              from a planted logistic model; the file is deleted at the end
    cluster   LocalCluster, 2 worker processes × 1 thread (so 1 numba thread per task on 2 cores), the workers'
              profiler off for everyone (its 10 ms sampling thread per worker competes for the 2 cores)
    1. time to the optimum, 8 chunks: ours (X persisted in the workers; and X read in place from the file each
       evaluation) against dask-ml's LogisticRegression(solver="lbfgs", C=1) on the same persisted X, without its
       default standardisation (solver_kwargs={"normalize": False}, so that it minimises its documented
       objective). Each minimises its own objective (dask-ml penalises its intercept): each is checked against
       that objective's optimum from a tight in-memory L-BFGS. Target: ≥ 3× faster, both within 1e-8 relative.
    2. overhead at N = 1e6: the in-memory fit (scipy's L-BFGS-B with the options of ours, on the module's
       loss_and_gradient, numba on both cores) against ours on the LocalCluster (2 and 8 chunks) and on the
       threaded scheduler. Target: ≤ 1.5× the in-memory time.
    3. scaling: time per evaluation against chunks and workers (1, 2), X persisted.

The machine is shared: medians of --repeat runs, interleaved; compare within one run.

    python scripts/bench_dask.py [--rows 2000000] [--repeat 3] [--json FILE]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import tempfile
import time
import warnings

import numpy as np

D, C, TOL = 100, 1.0, 1e-5     # features; dask-ml's C; our tol on max |∂J/∂θ| (dask-ml's is on N·J: N·TOL)
FTOL = 64 * np.finfo(float).eps


def make_data(path, rows, seed=0, block=250_000):
    """X (rows × D, standard normal) in a .npy file, written block by block, and y from a planted model (also
    saved beside X, as y.npy)."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=D) / 5
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(rows, D))
    y = np.empty(rows)
    for start in range(0, rows, block):
        part = X[start:start + block]
        rng.standard_normal(out=part)
        y[start:start + block] = part @ w + 0.5 + rng.logistic(size=len(part)) > 0
    X.flush()
    del X
    np.save(os.path.join(os.path.dirname(path), "y.npy"), y)
    return y


def objective_and_fit(module, X, y, lam, intercept_penalised, params=None, tol=1e-10):
    """(J(θ) at params, or the optimum of J from zero with a tight in-memory L-BFGS: (J*, θ*)).

    J = mean log-loss + (λ/2)·(‖w‖² [+ b²]), λ = 1/(C·N): dask-ml's Σ log-loss + ‖β‖²/(2C), divided by N."""
    from scipy.optimize import minimize
    mask = np.ones(D + 1)
    mask[-1] = 1.0 if intercept_penalised else 0.0

    def J(theta):
        value, (gw, gb) = module.loss_and_gradient((theta[:D], theta[D:]), X, y)
        return value + 0.5 * lam * float(mask @ theta ** 2), np.concatenate([gw, gb]) + lam * mask * theta

    if params is not None:
        return J(np.concatenate(params))[0]
    result = minimize(J, np.zeros(D + 1), jac=True, method="L-BFGS-B",
                      options={"gtol": tol, "ftol": 0.0, "maxiter": 10_000, "maxls": 50})
    return float(result.fun), result.x


def timed(call):
    started = time.perf_counter()
    out = call()
    return time.perf_counter() - started, out


def load():
    return f"{os.getloadavg()[0]:.1f}"


@contextlib.contextmanager
def cluster(workers):
    import dask
    from distributed import Client, LocalCluster
    with dask.config.set({"distributed.worker.profile.enabled": False}), \
            LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None, silence_logs=40) as lc, \
            Client(lc) as client:
        yield client


def counting_dask_glm_iterations():
    """dask-glm's L-BFGS calls scipy's fmin_l_bfgs_b: wrapped to keep the iterations of its last run."""
    from dask_glm import algorithms
    original, last = algorithms.fmin_l_bfgs_b, {}

    def counted(*args, **kwargs):
        x, f, info = original(*args, **kwargs)
        last.update(info)
        return x, f, info

    algorithms.fmin_l_bfgs_b = counted
    return last


def against_dask_ml(module, path, y, repeat):
    """Section 1: (rows of the table, facts) on N rows in 8 chunks."""
    from dask_ml.linear_model import LogisticRegression
    from distributed import wait

    from derive.kernels import distributed as dd
    n = len(y)
    lam = 1.0 / (C * n)
    X = np.load(path, mmap_mode="c")
    ours_star, _ = objective_and_fit(module, X, y, lam, intercept_penalised=False)
    theirs_star, _ = objective_and_fit(module, X, y, lam, intercept_penalised=True)
    times = {"ours, X persisted": [], "ours, X read in place from the file": [], "dask-ml lbfgs": [],
             "dask-ml lbfgs, defaults (standardises X)": []}
    gaps, iterations = {}, {}
    last = counting_dask_glm_iterations()
    with cluster(2) as client:
        Xf = dd.from_npy(path, rows=n // 8)
        Xp = Xf.persist()
        yd = dd.from_npy(os.path.join(os.path.dirname(path), "y.npy"), rows=n // 8).persist()
        wait([Xp, yd])
        dd.loss_and_gradient(module, (np.zeros(D), np.zeros(1)), Xp, yd)   # the workers load the kernels
        LogisticRegression(solver="lbfgs", max_iter=1).fit(Xp, yd)
        for _ in range(repeat):
            for name, source in (("ours, X persisted", Xp), ("ours, X read in place from the file", Xf)):
                params = (np.zeros(D), np.zeros(1))
                seconds, history = timed(lambda: dd.fit(module, params, source, yd, weight_decay=lam, tol=TOL))
                times[name].append(seconds)
                gaps[name] = objective_and_fit(module, X, y, lam, False, params) / ours_star - 1
                iterations[name] = history.n_iter
            model = LogisticRegression(solver="lbfgs", C=C, tol=n * TOL, max_iter=1000,
                                       solver_kwargs={"normalize": False})
            seconds, _ = timed(lambda: model.fit(Xp, yd))
            times["dask-ml lbfgs"].append(seconds)
            fitted = (np.asarray(model.coef_, dtype=float), np.array([float(model.intercept_)]))
            gaps["dask-ml lbfgs"] = objective_and_fit(module, X, y, lam, True, fitted) / theirs_star - 1
            iterations["dask-ml lbfgs"] = last.get("nit")
            model = LogisticRegression(solver="lbfgs", C=C, tol=n * TOL, max_iter=1000)
            seconds, _ = timed(lambda: model.fit(Xp, yd))
            times["dask-ml lbfgs, defaults (standardises X)"].append(seconds)
            fitted = (np.asarray(model.coef_, dtype=float), np.array([float(model.intercept_)]))
            gaps["dask-ml lbfgs, defaults (standardises X)"] = \
                objective_and_fit(module, X, y, lam, True, fitted) / theirs_star - 1
            iterations["dask-ml lbfgs, defaults (standardises X)"] = last.get("nit")
        client.cancel([Xp, yd])
    rows = [(name, statistics.median(seconds), gaps[name], iterations.get(name)) for name, seconds in times.items()]
    return rows, {"J* (ours: intercept free)": ours_star, "J* (dask-ml: intercept penalised)": theirs_star}


def lbfgs_in_memory(module, X, y, lam):
    """The in-memory fit: scipy's L-BFGS-B with our options on the module's loss_and_gradient (what the in-memory
    ``fit(optimizer="lbfgs")`` runs). Returns the number of iterations."""
    from scipy.optimize import minimize
    mask = np.concatenate([np.ones(D), np.zeros(1)])

    def J(theta):
        value, (gw, gb) = module.loss_and_gradient((theta[:D], theta[D:]), X, y)
        return value + 0.5 * lam * float(mask @ theta ** 2), np.concatenate([gw, gb]) + lam * mask * theta

    return minimize(J, np.zeros(D + 1), jac=True, method="L-BFGS-B",
                    options={"gtol": TOL, "ftol": FTOL, "maxls": 50, "maxcor": 10}).nit


def overhead(module, path, y, rows, repeat):
    """Section 2: (name, seconds per fit, iterations) on the first ``rows`` rows."""
    import dask
    import dask.array as da
    from distributed import wait

    from derive.kernels import distributed as dd
    X = np.array(np.load(path, mmap_mode="r")[:rows])   # in RAM
    y = y[:rows]
    lam = 1.0 / (C * rows)
    iterations = {}

    def ours(source, labels):
        return dd.fit(module, (np.zeros(D), np.zeros(1)), source, labels, weight_decay=lam, tol=TOL).n_iter

    times = {"in memory (numba on 2 threads)": [], "threaded scheduler, 2 chunks": [],
             "LocalCluster, 2 chunks": [], "LocalCluster, 8 chunks": []}
    with cluster(2):
        on_cluster = {}
        for chunks in (2, 8):
            Xp = dd.from_npy(path, rows=rows // chunks)[:rows].persist()
            yp = dd.from_npy(os.path.join(os.path.dirname(path), "y.npy"), rows=rows // chunks)[:rows].persist()
            wait([Xp, yp])
            on_cluster[chunks] = (Xp, yp)
        local = (da.from_array(X, chunks=(rows // 2, D)), da.from_array(y, chunks=rows // 2))
        module.loss_and_gradient((np.zeros(D), np.zeros(1)), X, y)
        for data in on_cluster.values():
            dd.loss_and_gradient(module, (np.zeros(D), np.zeros(1)), *data)
        for _ in range(repeat):
            seconds, iterations["in memory (numba on 2 threads)"] = timed(lambda: lbfgs_in_memory(module, X, y, lam))
            times["in memory (numba on 2 threads)"].append(seconds)
            with dask.config.set(scheduler="threads"):
                seconds, iterations["threaded scheduler, 2 chunks"] = timed(lambda: ours(*local))
            times["threaded scheduler, 2 chunks"].append(seconds)
            for chunks, data in on_cluster.items():
                seconds, iterations[f"LocalCluster, {chunks} chunks"] = timed(lambda: ours(*data))
                times[f"LocalCluster, {chunks} chunks"].append(seconds)
    return [(name, statistics.median(seconds), iterations[name]) for name, seconds in times.items()]


def scaling(module, path, y, repeat, evaluations=5):
    """Section 3: (workers, chunks, seconds per evaluation), X persisted."""
    from distributed import wait

    from derive.kernels import distributed as dd
    n, out = len(y), []
    params = module.init(D, seed=0)
    for workers in (1, 2):
        with cluster(workers) as client:
            for chunks in (2, 4, 8, 16, 32):
                Xp = dd.from_npy(path, rows=-(-n // chunks)).persist()
                yp = dd.from_npy(os.path.join(os.path.dirname(path), "y.npy"), rows=-(-n // chunks)).persist()
                wait([Xp, yp])
                data = dd._Data(module, params, Xp, yp)
                data.evaluate(data.theta)
                seconds = [timed(lambda: data.evaluate(data.theta))[0] for _ in range(evaluations * repeat)]
                out.append((workers, chunks, statistics.median(seconds)))
                client.cancel([Xp, yp])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*(iprint|fuse_ave_width).*")   # dask-glm's, on every fit
    import derive.kernels as kernels
    module = kernels.load("neuron_sigmoid_bce")
    folder = tempfile.mkdtemp(prefix="derive-bench-dask-", dir="/tmp")
    path = os.path.join(folder, "X.npy")
    report = {"load average at start": load()}
    try:
        y = make_data(path, args.rows)
        print(f"data: {args.rows} × {D} float64 ({os.path.getsize(path) / 1e9:.2f} GB) in {path}; load {load()}")
        rows, optima = against_dask_ml(module, path, y, args.repeat)
        report.update(dask_ml=rows, optima=optima, load_after_1=load())
        print(f"\n1. time to the optimum, N = {args.rows}, 8 chunks (load {load()}); optima {optima}")
        print("| fit | seconds | J/J* − 1 | iterations |\n|---|---|---|---|")
        for name, seconds, gap, iterations in rows:
            print(f"| {name} | {seconds:.2f} | {gap:.1e} | {iterations} |")
        base = rows[2][1]
        print(f"dask-ml / ours (persisted): {base / rows[0][1]:.1f}×; dask-ml / ours (file): {base / rows[1][1]:.1f}×")
        rows = overhead(module, path, y, args.rows // 2, args.repeat)
        report.update(overhead=rows, load_after_2=load())
        print(f"\n2. overhead, N = {args.rows // 2} (load {load()})\n| fit | seconds | iterations | × in memory |"
              f"\n|---|---|---|---|")
        for name, seconds, iterations in rows:
            print(f"| {name} | {seconds:.2f} | {iterations} | {seconds / rows[0][1]:.2f} |")
        rows = scaling(module, path, y, args.repeat)
        report.update(scaling=rows, load_after_3=load())
        print(f"\n3. time per evaluation, N = {args.rows}, X persisted (load {load()})\n| workers | chunks | ms |"
              f"\n|---|---|---|")
        for workers, chunks, seconds in rows:
            print(f"| {workers} | {chunks} | {seconds * 1e3:.0f} |")
    finally:
        for name in ("X.npy", "y.npy"):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(folder, name))
        with contextlib.suppress(OSError):
            os.rmdir(folder)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=1, default=float)


if __name__ == "__main__":
    main()
