"""scripts/bench.py --quick: every available competitor agrees with the generated kernels (or NumPy).

One run in a subprocess; the test asserts facts, never speed. NumPy and the hand-written reference are
always there, so the check cannot rot while torch, JAX or the generated kernels are missing; whichever
of those is installed must have been checked, not skipped.
"""
import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _generated_loads() -> bool:
    """Whether the kernels the benchmark needs can be loaded (they are written by `derive generate`)."""
    probe = ("import derive.kernels as kernels; [kernels.load(name) for name in "
             "('neuron_sigmoid_bce', 'softmax_softmax_cross_entropy', 'mlp_tanh_sigmoid_bce')]")
    return subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True).returncode == 0


def test_quick_benchmark_checks_every_available_competitor():
    done = subprocess.run([sys.executable, "scripts/bench.py", "--quick"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    output = done.stdout
    assert done.returncode == 0, f"exit code {done.returncode}\n{output}\n{done.stderr[-3000:]}"
    assert "quick: correctness only" in output
    assert "correctness FAILED" not in output
    passed_line = next(line for line in output.splitlines() if line.startswith("correctness checks passed for:"))
    passed = set(passed_line.split(":", 1)[1].replace(" ", "").split(","))

    expected = {"numpy", "reference"}
    expected |= {name for name, module in (("torch", "torch"), ("torch-autograd", "torch"), ("jax", "jax"))
                 if importlib.util.find_spec(module)}
    if _generated_loads():
        expected.add("generated")
        assert "checked against: generated" in output
    else:
        assert "checked against: numpy (the generated kernels are not available)" in output
    assert expected <= passed, f"not checked: {sorted(expected - passed)}\n{output}"
