"""Training benchmarks: the generated kernels' fit against scikit-learn, PyTorch and NumPy.

    python scripts/bench_training.py                 # everything: a few minutes on 2 cores
    python scripts/bench_training.py --quick         # small sizes: the correctness gates only, no timing
    python scripts/bench_training.py --only adam --repeat 9 --json training.json

Workloads (--only):
  lbfgs  L-BFGS logistic regression to LogisticRegression(solver="lbfgs")'s optimum, same C and tol, at
         (N, D) = (1e6, 100) and (1e5, 10): iterations, coefficients, time   (target: ≥ 2.5× scikit-learn)
  adam   one epoch of minibatch Adam, batch 32, N = 1e5, D = 100, logistic regression, against a PyTorch loop
         with torch.optim.Adam and a NumPy loop                                (target: ≥ 20× PyTorch)
  mlp    one epoch of Adam on an MLP, D = 32, tanh H = 64, batch 256, N = 1e5, against scikit-learn's
         MLPClassifier(solver="adam", max_iter=1) and PyTorch            (target: ≥ 3× scikit-learn, ≥ 1.5× PyTorch)

Every competitor computes in float64 and runs in a fresh process of its own, one after another (numba's and
PyTorch's thread pools in one process slow PyTorch down a hundredfold): it makes the data from fixed seeds, trains
once (its result, and the warm-up), then --repeat times; the median is reported. The results are checked: the
PyTorch and NumPy loops visit the batches in the order the kernels' seeded stream gives (``_shuffle.orders``)
from the same start, so their parameters must equal the kernels' (relative 1e-8); scikit-learn's L-BFGS must
reach the same optimum (coefficients to 1e-3 relative at tol 1e-4; the iterations are reported), and its MLP,
with its own shuffle and initialisation, the same loss within 0.05. A competitor that fails is listed and its
time left out (exit 1); one that is not installed is reported as such. Timing lives here only; the tests assert
facts, never speed.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import derive.kernels as kernels
from derive.kernels import _shuffle

def progress(message):
    print(f"[bench_training {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def logistic_data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w = rng.normal(size=d) / np.sqrt(d)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w * 2 + 0.3)))).astype(np.float64)
    return X, y


_WARMED = set()


def _warm_once(name):
    """In a competitor's untimed first run, as `derive warm` does: every path of the module compiled (the threads'
    split too) or loaded, so that no timed run compiles."""
    if name not in _WARMED:
        _WARMED.add(name)
        kernels.warm(name)


def relative(a, b):
    a, b = np.concatenate([np.ravel(x) for x in a]), np.concatenate([np.ravel(x) for x in b])
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


# ------------------------------------------------------------------------------------------------- workloads
# Each returns {competitor: function}; a function trains from the same start and returns what the checks compare:
# {"params": flat parameters} or {"loss": the loss after training}, and "n_iter" where there are iterations; a value
# may be a function of no arguments, called once for the checks, never inside the timed runs.
def _flat(arrays):
    return np.concatenate([np.ravel(a) for a in arrays])


def lbfgs(n, d, C=1.0, tol=1e-4):
    X, y = logistic_data(n, d)
    module = kernels.load("neuron_sigmoid_bce")

    def generated():
        params = (np.zeros(d), np.zeros(1))
        history = module.fit(params, X, y, optimizer="lbfgs", weight_decay=1 / (C * n), tol=tol)
        return {"params": _flat(params), "n_iter": history.n_iter}

    def scikit_learn():
        from sklearn.linear_model import LogisticRegression
        model = LogisticRegression(C=C, tol=tol, max_iter=1000).fit(X, y)
        return {"params": _flat((model.coef_[0], model.intercept_)), "n_iter": int(model.n_iter_[0])}

    return {"generated": generated, "scikit-learn": scikit_learn}


def adam_numpy(params, X, y, orders, lr, batch, betas=(0.9, 0.999), eps=1e-8):
    """Adam as torch.optim writes it, one batch at a time in NumPy, for sigmoid + BCE."""
    w, b = (p.copy() for p in params)
    m, v = [np.zeros_like(w), np.zeros_like(b)], [np.zeros_like(w), np.zeros_like(b)]
    t = 0
    for order in orders:
        for start in range(0, len(order), batch):
            rows = order[start:start + batch]
            Xb, yb = X[rows], y[rows]
            r = (1 / (1 + np.exp(-(Xb @ w + b[0]))) - yb) / len(rows)
            t += 1
            for k, (p, grad) in enumerate(((w, Xb.T @ r), (b, np.array([r.sum()])))):
                m[k] = betas[0] * m[k] + (1 - betas[0]) * grad
                v[k] = betas[1] * v[k] + (1 - betas[1]) * grad * grad
                p -= lr / (1 - betas[0] ** t) * m[k] / (np.sqrt(v[k] / (1 - betas[1] ** t)) + eps)
    return w, b


def torch_loop(model, X, y, orders, lr, batch):
    """One pass per order: batches by index, torch.optim.Adam on the mean BCE of the logits. One thread: on
    these small batches a second one only costs (2.5× to 30× slower per batch here, more on a busy machine)."""
    import torch
    torch.set_num_threads(1)
    Xt, yt, loss = torch.from_numpy(X), torch.from_numpy(y), torch.nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for order in orders:
        index = torch.from_numpy(order)
        for start in range(0, len(order), batch):
            rows = index[start:start + batch]
            optimizer.zero_grad()
            loss(model(Xt[rows]).reshape(-1), yt[rows]).backward()
            optimizer.step()
    return {"params": _flat(p.detach().numpy().T for p in model.parameters())}


def adam(n, d, batch=32, lr=1e-3):
    X, y = logistic_data(n, d, seed=1)
    module = kernels.load("neuron_sigmoid_bce")
    start, orders = module.init(d, seed=0), _shuffle.orders(0, n, 1)

    def generated():
        _warm_once("neuron_sigmoid_bce")
        params = tuple(p.copy() for p in start)
        module.fit(params, X, y, lr, epochs=1, batch_size=batch, seed=0, optimizer="adam")
        return {"params": _flat(params)}

    def pytorch():
        import torch
        model = torch.nn.Linear(d, 1).double()
        with torch.no_grad():
            model.weight.copy_(torch.from_numpy(start[0][None, :]))
            model.bias.copy_(torch.from_numpy(start[1]))
        return torch_loop(model, X, y, orders, lr, batch)

    return {"generated": generated, "NumPy": lambda: {"params": _flat(adam_numpy(start, X, y, orders, lr, batch))},
            "PyTorch": pytorch}


def mlp(n, d, hidden, batch=256, lr=1e-3):
    X, y = logistic_data(n, d, seed=2)
    module = kernels.load("mlp_tanh_sigmoid_bce")
    start, orders = module.init(d, (hidden,), seed=0), _shuffle.orders(0, n, 1)

    def generated():
        _warm_once("mlp_tanh_sigmoid_bce")
        params = tuple(p.copy() for p in start)
        module.fit(params, X, y, lr, epochs=1, batch_size=batch, seed=0, optimizer="adam")
        return {"params": _flat(params), "loss": lambda: module.loss(params, X, y)}   # checked, not timed

    def pytorch():
        import torch
        model = torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1)).double()
        with torch.no_grad():
            for layer, (W, b) in zip((model[0], model[2]), (start[:2], start[2:])):
                layer.weight.copy_(torch.from_numpy(W.T.copy()))
                layer.bias.copy_(torch.from_numpy(b))
        return torch_loop(model, X, y, orders, lr, batch)

    def scikit_learn():
        from sklearn.neural_network import MLPClassifier
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # one epoch: it warns that it has not converged
            model = MLPClassifier((hidden,), activation="tanh", solver="adam", alpha=0.0, batch_size=batch,
                                  learning_rate_init=lr, max_iter=1, random_state=0).fit(X, y)
        return {"loss": float(model.loss_)}

    return {"generated": generated, "PyTorch": pytorch, "scikit-learn": scikit_learn}


WORKLOADS = {   # name -> (group, what, the function making the competitors, its arguments at full and quick size)
    "lbfgs_large": ("lbfgs", "L-BFGS logistic regression, N = 1e6, D = 100, C = 1, tol = 1e-4", lbfgs,
                    (1_000_000, 100), (10_000, 100)),
    "lbfgs_small": ("lbfgs", "L-BFGS logistic regression, N = 1e5, D = 10, C = 1, tol = 1e-4", lbfgs,
                    (100_000, 10), (1_000, 10)),
    "adam": ("adam", "Adam, one epoch, batch 32, N = 1e5, D = 100, logistic regression", adam,
             (100_000, 100), (1_000, 100)),
    "mlp": ("mlp", "MLP with Adam, one epoch, D = 32, tanh H = 64, batch 256, N = 1e5", mlp,
            (100_000, 32, 64), (1_000, 32, 64)),
}


COMPETITORS = {"lbfgs": ("generated", "scikit-learn"), "adam": ("generated", "NumPy", "PyTorch"),
               "mlp": ("generated", "PyTorch", "scikit-learn")}


def run(job):
    """In a fresh process: make the workload, run one competitor once (its result), then ``repeat`` times."""
    workload, competitor, repeat, quick = job
    _, _, make, full, small = WORKLOADS[workload]
    function = make(*(small if quick else full))[competitor]
    result = {key: value() if callable(value) else value for key, value in function().items()}   # outside the timing
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return result, (statistics.median(times) if times else None)


def bench(workload, repeat, quick):
    """One row: each competitor in its own process (numba's and PyTorch's thread pools in one process slow
    PyTorch a hundredfold), one after another; then the checks."""
    group, what, make, *_ = WORKLOADS[workload]
    row, results, times = {"workload": what + (" (--quick: small sizes)" if quick else "")}, {}, {}
    for competitor in COMPETITORS[group]:
        progress(f"{workload}: {competitor}")
        try:
            with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                results[competitor], times[competitor] = pool.submit(run, (workload, competitor, repeat, quick)).result()
        except ImportError as error:
            row[competitor] = f"not available ({error})"
    mine = results["generated"]
    for competitor, result in results.items():
        if competitor == "generated":
            continue
        if "params" in result:
            row[f"{competitor}: parameters, max relative difference"] = relative([result["params"]], [mine["params"]])
        if "n_iter" in result:
            row["iterations (generated, scikit-learn)"] = (mine["n_iter"], result["n_iter"])
        if "loss" in result:
            row["loss after the epoch (generated, scikit-learn)"] = (mine["loss"], result["loss"])
    failed = [k for k, v in row.items() if k.endswith("difference") and v > (1e-3 if group == "lbfgs" else 1e-8)]
    if "loss after the epoch (generated, scikit-learn)" in row:
        ours, theirs = row["loss after the epoch (generated, scikit-learn)"]
        failed += [] if abs(ours - theirs) < 0.05 else ["loss after the epoch"]
    row["failed checks"] = failed
    if repeat:
        row["times"] = {k: v for k, v in times.items() if k.split(":")[0] not in " ".join(failed)}
        row["ratio"] = {k: v / times["generated"] for k, v in row["times"].items() if k != "generated"}
    return row


def show(row):
    times = row.get("times", {})
    for key, value in row.items():
        if key not in ("times", "workload"):
            print(f"    {key}: {value}")
    if times:
        print("    times: " + ", ".join(f"{k} {v * 1e3:.1f} ms" if v < 1 else f"{k} {v:.2f} s" for k, v in times.items()))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bench_training.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, correctness gates only")
    parser.add_argument("--only", action="append", choices=("lbfgs", "adam", "mlp"))
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per competitor (median; default 5)")
    parser.add_argument("--json", metavar="FILE", help="write every row to FILE")
    args = parser.parse_args(argv)
    repeat = 0 if args.quick else args.repeat
    chosen = args.only or ["lbfgs", "adam", "mlp"]
    rows = []
    for workload, (group, *_) in WORKLOADS.items():
        if group in chosen:
            rows.append(bench(workload, repeat, args.quick))
            print(rows[-1]["workload"])
            show(rows[-1])
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=float))
    return 1 if any(row["failed checks"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
