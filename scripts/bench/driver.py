"""The run: datasets written once, workers started once, each workload prepared, checked and timed.

Per workload the data are written once from fixed seeds (``workloads``), every worker computes the result
once (warm-up), each result is checked against the generated kernel's or, without one, NumPy's (``checks``), and
only then are the competitors that passed timed: repetitions go round-robin across the workers, each timing
its own calls, and medians are reported. Memory-bound workloads time the bandwidth probes in the same rounds.
Progress goes to stderr.
"""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import numpy as np

from . import checks, coldstart, report, workloads
from .bandwidth import PROBES
from .competitors import BASELINES, COMPETITORS, EVERYONE
from .workers import Worker


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Datasets:
    """Writes each dataset once, as large as the largest workload that reads it; frees it after its last use."""

    def __init__(self, root: Path, plan):
        self.root, self.paths = root, {}
        self.rows = {key: max(w.n for w in plan if w.dataset == key) for key in {w.dataset for w in plan}}
        self.last_use = {w.dataset: index for index, w in enumerate(plan)}

    def get(self, workload):
        key = workload.dataset
        if key not in self.paths:
            progress(f"writing dataset D={key[0]} K={key[1]} {key[2]} labels: {self.rows[key]} rows")
            self.paths[key] = workloads.write_dataset(self.root / "data-d{}-k{}-{}".format(*key), key,
                                                      self.rows[key])
        return self.paths[key]

    def release_after(self, index):
        for key, last in self.last_use.items():
            if last == index and key in self.paths:
                shutil.rmtree(Path(self.paths.pop(key)["X"]).parent, ignore_errors=True)


def _round_robin(workers, repeat):
    """(name → (seconds per call, calls) per repetition, name → why it stopped answering); the order rotates so
    no one always goes first, and a worker that fails leaves the rounds."""
    times, failed = {worker.name: [] for worker in workers}, {}
    for repetition in range(repeat):
        progress(f"  repetition {repetition + 1}/{repeat}")
        shift = repetition % len(workers)
        for worker in workers[shift:] + workers[:shift]:
            if worker.name in failed:
                continue
            answer = worker.ask("time")
            if answer[0] == "time":
                times[worker.name].append(answer[1:])
            else:
                failed[worker.name] = f"while timed: {answer[1]}"
                progress(f"  {worker.name}: {failed[worker.name]}")
            time.sleep(worker.settle)
    return times, failed


class Job:
    """One workload on its way through the workers: sent, then answered, checked and (unless --quick) timed."""

    def __init__(self, workload, workers, setup, datasets):
        progress(f"{workload.label}: preparing")
        self.workload, self.workers = workload, workers
        paths = datasets.get(workload)
        request = workloads.request(workload, paths["X"], paths["y"])
        self.names = [name for name in COMPETITORS if setup[name][0] == "ready"]
        self.probes = [name for name in PROBES
                       if workload.spec.memory_bound and setup.get(name, ("",))[0] == "ready"]
        self.answers = dict(setup)
        for name in self.names + self.probes:     # every worker computes the workload once, side by side
            workers[name].send("prepare", {**request, "task": "read"} if name in self.probes else request)

    def finish(self, repeat) -> dict:
        workload = self.workload
        self.answers |= {name: self.workers[name].receive() for name in self.names + self.probes}
        baseline, verdicts = checks.check({name: self.answers[name] for name in COMPETITORS}, BASELINES,
                                          workload.spec.epoch)
        for name, verdict in verdicts.items():
            progress(f"  check {name}: {verdict.status} {verdict.detail}")
        result = {"workload": workload.label, "group": workload.group, "task": workload.task,
                  "n": workload.n, "d": workload.d, "outputs": workload.outputs, "hidden": workload.hidden,
                  "batch": workload.batch, "lr": workload.lr, "x_bytes": workload.x_bytes,
                  "memory_bound": workload.spec.memory_bound, "baseline": baseline, "probes": {},
                  "competitors": {name: {"status": verdict.status, "detail": verdict.detail,
                                         "relative_error": verdict.error} for name, verdict in verdicts.items()}}
        for name in self.probes:
            ready = self.answers[name][0] == "ready"
            result["probes"][name] = {"status": "ok" if ready else "error",
                                      "detail": "" if ready else self.answers[name][1]}
        if repeat:
            self._time(result, repeat)
        return result

    def _time(self, result, repeat):
        timed = [name for name in self.names if result["competitors"][name]["status"] == "ok"]
        timed += [name for name in self.probes if result["probes"][name]["status"] == "ok"]
        meter = report.CpuMeter(lambda: [self.workers[name].process.pid for name in timed])
        times, failed = _round_robin([self.workers[name] for name in timed], repeat)
        result["other_processes_cpu_share"] = meter.others_share()
        for name, samples in times.items():
            entry = result["competitors"].get(name) or result["probes"][name]
            if name in failed:
                entry.update(status="error", detail=failed[name])
                continue
            seconds = [per_call for per_call, _ in samples]
            entry.update(times=seconds, median=float(np.median(seconds)),
                         calls_per_repetition=[calls for _, calls in samples])
        speeds = [self.workload.x_bytes / entry["median"] / 1e9
                  for entry in result["probes"].values() if "median" in entry]
        result["bandwidth_gbs"] = max(speeds, default=None)


def _start_workers(plan, common_env, quick):
    timed = not quick and any(w.spec.memory_bound for w in plan)
    names = list(COMPETITORS) + (list(PROBES) if timed else [])     # probes only matter for figures
    progress(f"starting workers: {', '.join(names)}")
    workers = {name: Worker(name, common_env) for name in names}
    setup = {name: worker.receive() for name, worker in workers.items()}
    for name, answer in setup.items():
        if answer[0] != "ready":
            progress(f"  {name}: {answer[0]}: {answer[1]}")
    return workers, setup


def run(plan, groups, root, quick, repeat):
    """(workload results, cold-start rows, what each worker said when it started)."""
    # figures: numba compiles into a cache of the run's own; --quick reuses numba's default cache beside the sources
    common_env = {} if quick else {"NUMBA_CACHE_DIR": str(root / "numba-cache")}
    results, workers, setup = [], {}, {}
    try:
        if plan:
            workers, setup = _start_workers(plan, common_env, quick)
            datasets = Datasets(root, plan)
            if quick:    # nothing is timed: send every workload at once, so the workers compile side by side
                jobs = [Job(workload, workers, setup, datasets) for workload in plan]
                results = [job.finish(repeat=0) for job in jobs]
            else:
                for index, workload in enumerate(plan):
                    results.append(Job(workload, workers, setup, datasets).finish(repeat))
                    datasets.release_after(index)
    finally:
        for worker in workers.values():
            worker.stop()
    rows = []
    if "coldstart" in groups:
        rows = coldstart.measure(root, 1 if quick else repeat,
                                 lambda name: {**common_env, **EVERYONE[name].env}, quick, progress)
    return results, rows, {name: list(answer[:2]) for name, answer in setup.items()}
