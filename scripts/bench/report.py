"""What the benchmark prints and writes: the machine, Markdown tables, the correctness summary, JSON.

Ratios are times: "generated/peer" is the generated kernel's median time over the peer's (below 1: the
generated kernel is faster), "numpy/peer" NumPy's over the peer's (above 1: the peer is faster than
NumPy). "% read BW" compares the bytes of X per second with the faster bandwidth probe that read the
same X in the same round of repetitions. No ratio is printed for a competitor whose check failed.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import time

import numpy as np

from .workloads import SWEEP_D

BUSY = 0.05    # share of the CPU used by other processes above which figures are flagged
PACKAGES = ("numpy", "numba", "llvmlite", "scipy", "torch", "jax", "jaxlib")


def machine() -> dict:
    with open("/proc/cpuinfo") as cpuinfo:
        models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    with open("/proc/meminfo") as meminfo:
        memory = next(line.split(":", 1)[1].strip() for line in meminfo if line.startswith("MemTotal"))
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return {"cpu": models[0] if models else platform.processor(), "cores": os.cpu_count(), "memory": memory,
            "python": platform.python_version(), "platform": platform.platform(),
            "blas": f"{blas.get('name')} {blas.get('version')}",
            "load_average_at_start": os.getloadavg(),
            "versions": {name: _version(name) for name in PACKAGES}}


class CpuMeter:
    """The share of the machine's CPU that other processes took between construction and ``others_share``:
    all busy time in /proc/stat less ours (this process, its finished children such as the cold-start
    probes, and the live worker processes whose ids ``pids`` returns)."""

    def __init__(self, pids=tuple):
        self.pids = pids
        self.start = self._snapshot()

    def _snapshot(self):
        tick = os.sysconf("SC_CLK_TCK")
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
        busy = (sum(fields[:8]) - fields[3] - fields[4]) / tick          # all but idle and iowait
        mine = sum(os.times()[:4])
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    after_name = stat.read().rsplit(")", 1)[1].split()
                mine += (int(after_name[11]) + int(after_name[12])) / tick   # utime, stime
            except (OSError, IndexError):
                pass
        return busy, mine, time.monotonic()

    def others_share(self) -> float:
        (busy0, mine0, t0), (busy1, mine1, t1) = self.start, self._snapshot()
        return max(0.0, (busy1 - busy0) - (mine1 - mine0)) / (max(t1 - t0, 1e-9) * (os.cpu_count() or 1))


def _version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _duration(seconds) -> str:
    if seconds is None:
        return "—"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _ratio(numerator, denominator) -> str:
    return f"{numerator / denominator:.2f}" if numerator and denominator else "—"


def _row(cells) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def workload_table(results) -> list[str]:
    lines = [_row(("workload", "competitor", "check", "median", "reps", "GB/s of X", "% read BW",
                   "generated/peer", "numpy/peer")), _row(("---",) * 9)]
    for result in results:
        if result["group"] == "sweep":
            continue
        ok = {name: entry["median"] for name, entry in result["competitors"].items() if entry["status"] == "ok"}
        others = result.get("other_processes_cpu_share") or 0.0
        label = result["workload"] + (f" (others used {others:.0%} of the CPU)" if others > BUSY else "")
        for name, entry in [*result["competitors"].items(), *result["probes"].items()]:
            if entry["status"] in ("not available", "skipped"):
                continue
            median, memory = entry.get("median"), result["memory_bound"] and entry.get("median")
            lines.append(_row((
                label, name, entry["status"], _duration(median), len(entry.get("times", ())),
                f"{result['x_bytes'] / median / 1e9:.1f}" if memory else "—",
                f"{100 * result['x_bytes'] / median / 1e9 / result['bandwidth_gbs']:.0f}"
                if memory and result.get("bandwidth_gbs") else "—",
                _ratio(ok.get("generated"), ok.get(name)) if name in ok and name != "generated" else "—",
                _ratio(ok.get("numpy"), ok.get(name)) if name in ok and name != "numpy" else "—")))
    return lines


def sweep_table(results) -> list[str]:
    """Every neuron_grad result at the sweep's D (the grad group's 1e6 × 100 is one of its points)."""
    if not any(result["group"] == "sweep" for result in results):
        return []
    sweep = sorted((result for result in results if result["task"] == "neuron_grad" and result["d"] == SWEEP_D),
                   key=lambda result: result["n"])
    names = [name for name in sweep[0]["competitors"]
             if any(result["competitors"][name].get("median") for result in sweep)]
    lines = ["Scaling sweep: picoseconds per byte of X (flat = linear cost); read BW from the probes.", "",
             _row(("N", "X", "read BW GB/s", *names, "others' CPU")), _row(("---",) * (4 + len(names)))]
    for result in sweep:
        cells = []
        for name in names:
            entry = result["competitors"][name]
            good = entry["status"] == "ok" and entry.get("median")
            cells.append(f"{entry['median'] / result['x_bytes'] * 1e12:.1f}" if good else entry["status"])
        bandwidth = result.get("bandwidth_gbs")
        others = result.get("other_processes_cpu_share")
        lines.append(_row((result["n"], f"{result['x_bytes'] / 2**20:.3g} MiB",
                           f"{bandwidth:.1f}" if bandwidth else "—", *cells,
                           "—" if others is None else f"{others:.0%}")))
    return lines


def coldstart_table(rows) -> list[str]:
    if not rows:
        return []
    lines = ["Cold start: a fresh process, import, first call (sigmoid + BCE gradient, 100 × 10).", "",
             _row(("probe", "numba cache", "check", "wall (median)", "import", "first call", "reps")),
             _row(("---",) * 7)]
    for row in rows:
        lines.append(_row((row["probe"], row["cache"], row["status"], _duration(row["wall_median"]),
                           _duration(row["import_median"]), _duration(row["first_call_median"]),
                           row["repetitions"])))
    return lines


def figures(machine, results, coldstart) -> list[str]:
    """The machine line, a warning when others used the CPU, and the tables, as Markdown."""
    versions = ", ".join(f"{name} {version}" for name, version in machine["versions"].items() if version)
    others = machine["other_processes_cpu_share"]
    lines = [f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory']}, Python {machine['python']}, "
             f"{versions}; BLAS {machine['blas']}; other processes used {others:.0%} of the CPU during the run", ""]
    if others > BUSY:
        lines += [f"**Warning: other processes used {others:.0%} of the CPU during the run; with two cores a "
                  "parallel kernel waits for its slowest thread, so these figures are unreliable.**", ""]
    for table in (workload_table(results), sweep_table(results), coldstart_table(coldstart)):
        if table:
            lines += [*table, ""]
    return lines


def correctness(results, coldstart) -> tuple[list[str], bool]:
    """Summary lines, and whether any available competitor failed its check."""
    seen: dict[str, list] = {}
    for result in results:
        for name, entry in result["competitors"].items():
            seen.setdefault(name, []).append((result["workload"], entry))
    for row in coldstart:
        seen.setdefault(row["probe"], []).append((f"cold start ({row['cache']} cache)", row))
    failures = [f"{name} on {workload}: {entry['status']}: {entry['detail']}"
                for name, entries in seen.items() for workload, entry in entries
                if entry["status"] in ("mismatch", "error")]
    passed = [name for name, entries in seen.items()
              if any(entry["status"] == "ok" for _, entry in entries)
              and not any(entry["status"] in ("mismatch", "error") for _, entry in entries)]
    missing = {name: entries[0][1]["detail"] for name, entries in seen.items()
               if all(entry["status"] == "not available" for _, entry in entries)}
    baselines = sorted({result["baseline"] for result in results})
    lines = [f"correctness checks passed for: {', '.join(passed) or 'none'}",
             f"checked against: {', '.join(baselines) or '—'}"
             + ("" if "generated" in baselines or not results else " (the generated kernels are not available)")]
    lines += [f"not available: {name} ({why})" for name, why in missing.items()]
    lines += [f"correctness FAILED: {failure}" for failure in failures]
    return lines, bool(failures)


def write_json(path, document) -> None:
    path.write_text(json.dumps(document, indent=2, default=_plain) + "\n")


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
