"""Benchmark the generated kernels against NumPy, PyTorch, JAX and a hand-written numba reference.

    python scripts/bench.py                     # everything, about 10 minutes on 2 cores
    python scripts/bench.py --only grad --only coldstart --json bench.json
    python scripts/bench.py --quick             # tiny sizes, correctness only, well under a minute

Workloads (groups for --only): grad (full-batch sigmoid + BCE gradient), fit (one epoch of per-sample
SGD), mlp (one epoch, tanh hidden layer, batches of 256), softmax (softmax-regression gradient),
coldstart (fresh process: import and first call), sweep (grad from 1e3 rows to what fits in memory).

How it runs: every competitor lives in its own worker process (bench_workers), started once with its
own thread settings (bench_competitors). Per workload the data are written once from fixed seeds
(bench_workloads), every worker computes the result once (warm-up), each result is checked against the
generated kernel's or, without one, NumPy's (bench_checks), and only then are the competitors that passed
timed: repetitions go round-robin across the workers, each timing its own calls, and medians are reported.
Memory-bound workloads time two bandwidth probes in the same rounds. Progress goes to stderr; the
tables (bench_report) to stdout. The exit code is 1 when an available competitor fails a check.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))          # benchmark this tree's `generated`, not an installed copy

import bench_checks  # noqa: E402  (after the path is set)
import bench_coldstart  # noqa: E402
import bench_report  # noqa: E402
import bench_workloads as workloads  # noqa: E402
from bench_competitors import PROBES, competitors  # noqa: E402
from bench_workers import Worker, registry  # noqa: E402


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class _Parser(argparse.ArgumentParser):
    def error(self, message):   # one line, not the usage block
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _repeat(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value < 7:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 7 (medians of ≥ 7), not {text!r}")
    return value


def parse_args(argv):
    parser = _Parser(prog="bench.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, correctness checks only, no figures")
    parser.add_argument("--only", action="append", choices=workloads.GROUPS, metavar="WORKLOAD",
                        help=f"run only this workload group (repeatable): {', '.join(workloads.GROUPS)}")
    parser.add_argument("--repeat", type=_repeat, default=7, help="timed repetitions per competitor (≥ 7)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON to FILE")
    args = parser.parse_args(argv)
    if args.json and (args.json.is_dir() or not args.json.resolve().parent.is_dir()):
        parser.error(f"--json: cannot write a file at {args.json}")
    return args


# ---------------------------------------------------------------- data, shared by every worker
class Datasets:
    """Writes each dataset once, as large as the largest workload that reads it; frees it after its last use."""

    def __init__(self, root: Path, plan):
        self.root, self.paths = root, {}
        self.rows = {key: max(w.n for w in plan if w.dataset == key) for key in {w.dataset for w in plan}}
        self.last_use = {w.dataset: index for index, w in enumerate(plan)}

    def get(self, workload):
        key = workload.dataset
        if key not in self.paths:
            progress(f"writing dataset D={key[0]} K={key[1]}: {self.rows[key]} rows")
            folder = self.root / f"data-d{key[0]}-k{key[1]}"
            self.paths[key] = workloads.write_dataset(folder, *key, self.rows[key])
        return self.paths[key]

    def release_after(self, index):
        for key, last in self.last_use.items():
            if last == index and key in self.paths:
                shutil.rmtree(Path(self.paths.pop(key)["X"]).parent, ignore_errors=True)


# ---------------------------------------------------------------- one workload
def _gather(workers, command, requests):
    """Sends to every worker first, so they prepare side by side, then collects the answers in order."""
    for worker in workers:
        worker.send(command, requests[worker.name])
    return {worker.name: worker.receive() for worker in workers}


def _round_robin(workers, repeat):
    """name → (seconds per call, calls) per repetition; the order rotates so no one always goes first."""
    times = {worker.name: [] for worker in workers}
    for repetition in range(repeat):
        progress(f"  repetition {repetition + 1}/{repeat}")
        shift = repetition % len(workers)
        for worker in workers[shift:] + workers[:shift]:
            answer = worker.ask("time")
            times[worker.name].append(answer[1:] if answer[0] == "time" else (np.nan, 0))
            time.sleep(worker.settle)
    return times


class Job:
    """One workload on its way through the workers: sent, then answered, checked and (unless --quick) timed."""

    def __init__(self, workload, workers, setup, datasets):
        progress(f"{workload.label}: preparing")
        self.workload, self.workers = workload, workers
        self.paths = datasets.get(workload)
        self.params0 = workloads.initial_parameters(workload)
        self.request = dict(task=workload.task, X=self.paths["X"], y=self.paths["y"], n=workload.n,
                            params=self.params0, lr=workload.lr, batch=workload.batch,
                            order=workloads.order(workload) if workload.epoch else None)
        self.names = [name for name in competitors() if setup[name][0] == "ready"]
        self.probes = [name for name in PROBES if workload.memory_bound and setup.get(name, ("",))[0] == "ready"]
        self.answers = dict(setup)
        for name in self.names + self.probes:     # every worker computes the workload once, side by side
            workers[name].send("prepare", {**self.request, "task": "read"} if name in self.probes
                               else self.request)

    def finish(self, repeat) -> dict:
        workload = self.workload
        self.answers |= {name: self.workers[name].receive() for name in self.names + self.probes}
        mine = {name: self.answers[name] for name in competitors()}
        baseline, verdicts = bench_checks.check(workload.task, mine)
        if baseline == "generated" and any(verdict.failed for verdict in verdicts.values()) \
                and workload.epoch:
            baseline, verdicts = bench_checks.check(workload.task, mine, *self._identical_rows())
        for name, verdict in verdicts.items():
            progress(f"  check {name}: {verdict.status} {verdict.detail}")
        result = {"workload": workload.label, "group": workload.group, "task": workload.task,
                  "n": workload.n, "d": workload.d, "classes": workload.classes, "hidden": workload.hidden,
                  "batch": workload.batch, "lr": workload.lr, "x_bytes": workload.x_bytes,
                  "memory_bound": workload.memory_bound, "baseline": baseline, "probes": {},
                  "competitors": {name: {"status": verdict.status, "detail": verdict.detail,
                                         "relative_error": verdict.error} for name, verdict in verdicts.items()}}
        for name in self.probes:
            ready = self.answers[name][0] == "ready"
            result["probes"][name] = {"status": "ok" if ready else "error",
                                      "detail": "" if ready else self.answers[name][1]}
        if repeat:
            self._time(result, repeat)
        return result

    def _identical_rows(self):
        """The epochs once more, on identical rows (see bench_checks): their answers, and the trajectory data."""
        X, y = workloads.load(self.paths, self.workload.n)
        rows = bench_checks.IDENTICAL_ROWS
        Xi, yi = workloads.identical_rows(X, y, rows)
        same = {**self.request, "X": Xi, "y": yi, "n": rows, "order": np.arange(rows)}
        return _gather([self.workers[name] for name in self.names], "check",
                       {name: same for name in self.names}), (self.params0, X, y)

    def _time(self, result, repeat):
        timed = [name for name in self.names if result["competitors"][name]["status"] == "ok"]
        timed += [name for name in self.probes if result["probes"][name]["status"] == "ok"]
        meter = bench_report.CpuMeter(lambda: [self.workers[name].process.pid for name in timed])
        times = _round_robin([self.workers[name] for name in timed], repeat)
        result["other_processes_cpu_share"] = meter.others_share()
        for name, samples in times.items():
            entry = result["competitors"].get(name) or result["probes"][name]
            seconds = [per_call for per_call, _ in samples]
            entry.update(times=seconds, median=float(np.median(seconds)),
                         calls_per_repetition=[calls for _, calls in samples])
        speeds = [self.workload.x_bytes / entry["median"] / 1e9
                  for entry in result["probes"].values() if "median" in entry]
        result["bandwidth_gbs"] = max(speeds, default=None)


# ---------------------------------------------------------------- the run
def _start_workers(plan, common_env, args):
    timed = not args.quick and any(w.memory_bound for w in plan)
    names = list(competitors()) + (list(PROBES) if timed else [])     # probes only matter for figures
    progress(f"starting workers: {', '.join(names)}")
    workers = {name: Worker(name, common_env) for name in names}
    setup = {name: worker.receive() for name, worker in workers.items()}
    for name, answer in setup.items():
        if answer[0] != "ready":
            progress(f"  {name}: {answer[0]}: {answer[1]}")
    return workers, setup


def run(plan, groups, root, args):
    """(workload results, cold-start rows, what each worker said when it started)."""
    common_env = {"NUMBA_CACHE_DIR": str(root / "numba-cache")}
    results, workers, setup = [], {}, {}
    try:
        if plan:
            workers, setup = _start_workers(plan, common_env, args)
            datasets = Datasets(root, plan)
            if args.quick:    # nothing is timed: send every workload at once, so the workers compile side by side
                jobs = [Job(workload, workers, setup, datasets) for workload in plan]
                results = [job.finish(repeat=0) for job in jobs]
            else:
                for index, workload in enumerate(plan):
                    results.append(Job(workload, workers, setup, datasets).finish(args.repeat))
                    datasets.release_after(index)
    finally:
        for worker in workers.values():
            worker.stop()
    coldstart = []
    if "coldstart" in groups:
        coldstart = bench_coldstart.measure(root, 1 if args.quick else args.repeat,
                                            lambda name: {**common_env, **registry()[name].env},
                                            args.quick, progress)
    return results, coldstart, {name: list(answer[:2]) for name, answer in setup.items()}


def _print_figures(machine, results, coldstart):
    versions = ", ".join(f"{name} {version}" for name, version in machine["versions"].items() if version)
    others = machine["other_processes_cpu_share"]
    print(f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory']}, "
          f"Python {machine['python']}, {versions}; BLAS {machine['blas']}; other processes used "
          f"{others:.0%} of the CPU during the run\n")
    if others > bench_report.BUSY:
        print(f"**Warning: other processes used {others:.0%} of the CPU during the run; with two cores a "
              "parallel kernel waits for its slowest thread, so these figures are unreliable.**\n")
    for table in (bench_report.workload_table(results), bench_report.sweep_table(results),
                  bench_report.coldstart_table(coldstart)):
        if table:
            print("\n".join(table) + "\n")


def main(argv=None) -> int:
    args = parse_args(argv)
    groups = set(args.only or workloads.GROUPS)
    everything = workloads.quick_plan() if args.quick else workloads.full_plan(workloads.memory_available())
    plan = workloads.unique([workload for workload in everything if workload.group in groups])
    machine = bench_report.machine()
    if args.quick:
        print("quick: correctness only")
    root = workloads.temp_root()
    started, cpu = time.perf_counter(), bench_report.CpuMeter()
    try:
        results, coldstart, setup = run(plan, groups, root, args)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    machine["load_average_at_end"] = os.getloadavg()
    machine["other_processes_cpu_share"] = cpu.others_share()
    summary, failed = bench_report.correctness(results, coldstart)
    if not args.quick:
        _print_figures(machine, results, coldstart)
    print("\n".join(summary))
    if args.json:
        bench_report.write_json(args.json, {
            "machine": machine, "quick": args.quick, "repeat": args.repeat, "workers": setup,
            "threads": {name: cls.env for name, cls in registry().items()},
            "workloads": results, "coldstart": coldstart, "correctness": summary,
            "seconds": time.perf_counter() - started})
    progress(f"done in {time.perf_counter() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
