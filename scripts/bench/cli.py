"""Benchmark the generated kernels against NumPy, PyTorch, JAX and a hand-written numba reference.

    python -m scripts.bench                     # everything, about 10 minutes on 2 cores
    python -m scripts.bench --only grad --only coldstart --json bench.json
    python -m scripts.bench --quick             # tiny sizes, correctness only, well under a minute

Workloads (groups for --only): grad (full-batch sigmoid + BCE gradient), fit (one epoch of per-sample SGD),
mlp (one epoch, tanh hidden layer, batches of 256), softmax (softmax-regression gradient), heads (K = 3
outputs: identity + MSE gradient, MLP epoch), coldstart (fresh process: import and first call), sweep (grad from
1e3 rows to what fits in memory). Progress goes to stderr; the tables to stdout. The exit code is 1 when an
available competitor fails its correctness check.
"""
from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

from . import report, workloads
from .competitors import EVERYONE
from .driver import progress, run


class _Parser(argparse.ArgumentParser):
    def error(self, message):   # one line, not the usage block
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _repeat(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value < 7:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 7 (medians of ≥ 7), not {text!r}")
    return value


def parse_args(argv):
    parser = _Parser(prog="python -m scripts.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, correctness checks only, no figures")
    parser.add_argument("--only", action="append", choices=workloads.GROUPS, metavar="WORKLOAD",
                        help=f"run only this workload group (repeatable): {', '.join(workloads.GROUPS)}")
    parser.add_argument("--repeat", type=_repeat, default=7, help="timed repetitions per competitor (≥ 7)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON to FILE")
    args = parser.parse_args(argv)
    if args.json and (args.json.is_dir() or not args.json.resolve().parent.is_dir()):
        parser.error(f"--json: cannot write a file at {args.json}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    groups = set(args.only or workloads.GROUPS)
    everything = workloads.quick_plan() if args.quick else workloads.full_plan(workloads.memory_available())
    plan = workloads.unique([workload for workload in everything if workload.group in groups])
    machine = report.machine()
    if args.quick:
        print("quick: correctness only")
    root = workloads.temp_root()
    started, cpu = time.perf_counter(), report.CpuMeter()
    try:
        results, coldstart, setup = run(plan, groups, root, args.quick, args.repeat)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    machine["load_average_at_end"] = os.getloadavg()
    machine["other_processes_cpu_share"] = cpu.others_share()
    summary, failed = report.correctness(results, coldstart)
    if not args.quick:
        print("\n".join(report.figures(machine, results, coldstart)))
    print("\n".join(summary))
    if args.json:
        report.write_json(args.json, {
            "machine": machine, "quick": args.quick, "repeat": args.repeat, "workers": setup,
            "threads": {name: cls.env for name, cls in EVERYONE.items()},
            "workloads": results, "coldstart": coldstart, "correctness": summary,
            "seconds": time.perf_counter() - started})
    progress(f"done in {time.perf_counter() - started:.0f} s")
    return 1 if failed else 0
