"""python -m scripts.bench --quick runs: every worker starts, every workload is computed and checked, cold start
loads the kernels from numba's cache. One run in a subprocess, with a timeout; it asserts facts, never speed.

What each competitor must compute is asserted in-process by tests/test_bench_competitors.py; here, that the
script's own gate agrees: NumPy and the hand-written reference are always there, and whichever of the generated
kernels, torch and JAX can be imported must have been checked (not skipped) against the generated kernels.
"""
import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 300


def run(*command):
    return subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)


def test_quick_benchmark_checks_every_available_competitor():
    done = run("-m", "scripts.bench", "--quick")
    output = done.stdout
    assert done.returncode == 0, f"exit code {done.returncode}\n{output}\n{done.stderr[-3000:]}"
    assert output.splitlines()[0] == "quick: correctness only"
    assert "correctness FAILED" not in output and "not available: generated" not in output
    assert "checked against: generated\n" in output
    passed_line = next(line for line in output.splitlines() if line.startswith("correctness checks passed for:"))
    passed = set(passed_line.split(":", 1)[1].replace(" ", "").split(","))
    expected = {"generated", "numpy", "reference"}
    expected |= {name for name, module in (("torch", "torch"), ("torch-autograd", "torch"), ("jax", "jax"))
                 if importlib.util.find_spec(module)}
    assert expected <= passed, f"not checked: {sorted(expected - passed)}\n{output}"


def test_the_package_runs_as_a_directory_too_and_rejects_bad_options_in_one_line():
    done = run("scripts/bench", "--repeat", "3")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == ["python -m scripts.bench: error: argument --repeat: must be a whole number of "
                                        "at least 7 (medians of ≥ 7), not '3' (see --help)"]
