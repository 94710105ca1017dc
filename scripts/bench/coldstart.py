"""Cold start: a fresh process imports a library and makes its first call.

Each probe is a small program run by a new interpreter, with its competitor's thread settings. The
driver times the whole process (wall, interpreter start included); the program reports its own import
and first-call times and the loss it computed, which is checked against NumPy's, so a kernel loaded
from numba's cache is known to compute the right thing. Numba kernels run with an empty cache
(NUMBA_CACHE_DIR a new folder each time) and with a warm one (a folder filled by an untimed run first);
every other probe gets one untimed run first, so all of them start from a warm disk cache.
To add a probe, add one entry to ``PROBES``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checks import RTOL, Verdict, relative_error

ROOT = Path(__file__).resolve().parents[2]     # the repository: `scripts.bench` imports from here


@dataclass(frozen=True)
class Probe:
    competitor: str           # whose thread settings the process gets
    imports: str              # timed as "import"; a failure here means "not available"
    first_call: str           # timed as "first call"; sets `loss`
    numba: bool = False       # run with an empty and with a warm numba cache


PROBES = {
    "python": Probe("numpy", "", "loss = None"),
    "numpy": Probe("numpy", "import numpy as np",
                   "z = X @ w + b[0]\nloss = np.mean(np.logaddexp(0.0, z) - y * z)"),
    "generated": Probe("generated", "import numpy as np\nimport derive.kernels as kernels\n"
                                    "kernel = kernels.load('neuron_sigmoid_bce')",
                       "loss, _ = kernel.loss_and_gradient((w, b), X, y)", numba=True),
    "reference": Probe("reference", "import numpy as np\nfrom scripts.bench import reference as kernel",
                       "loss, _ = kernel.neuron_loss_and_gradient(w, b, X, y)", numba=True),
    "torch": Probe("torch", "import numpy as np\nimport torch\nimport torch.nn.functional as F",
                   "w_, b_ = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)\n"
                   "loss_ = F.binary_cross_entropy_with_logits(torch.from_numpy(X) @ w_ + b_, "
                   "torch.from_numpy(y))\nloss_.backward()\nloss = loss_.item()"),
    "jax": Probe("jax", "import numpy as np\nimport jax\njax.config.update('jax_enable_x64', True)\n"
                        "import jax.numpy as jnp",
                 "def f(p, X, y):\n    z = X @ p[0] + p[1][0]\n    return jnp.mean(jax.nn.softplus(z) - y * z)\n"
                 "loss, grads = jax.jit(jax.value_and_grad(f))((w, b), X, y)"),
}

_PROGRAM = """\
import json, sys, time
start = time.perf_counter()
try:
{imports}
except Exception as error:
    print(json.dumps({{"unavailable": f"{{type(error).__name__}}: {{error}}"}}))
    sys.exit(0)
imported = time.perf_counter()
{data}
called = time.perf_counter()
{first_call}
done = time.perf_counter()
print(json.dumps({{"import": imported - start, "first_call": done - called,
                  "loss": None if loss is None else float(loss)}}))
"""
_DATA = ("rng = np.random.default_rng(0)\nX = rng.standard_normal((100, 10))\n"
         "y = (rng.random(100) < 0.5).astype(np.float64)\nw = rng.standard_normal(10) / 3\nb = np.array([0.1])")


def _program(probe: Probe) -> str:
    indent = lambda code: "\n".join("    " + line for line in (code or "pass").splitlines())
    data = _DATA if probe.imports else ""
    return _PROGRAM.format(imports=indent(probe.imports), data=data, first_call=probe.first_call)


def _expected_loss() -> float:
    namespace = {"np": np}
    exec(_DATA, namespace)
    z = namespace["X"] @ namespace["w"] + namespace["b"][0]
    return float(np.mean(np.logaddexp(0.0, z) - namespace["y"] * z))


def _run(program: str, env: dict) -> tuple[float, dict]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True,
                          timeout=600)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return wall, {"error": f"exit code {done.returncode}: {last}"}
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def measure(root: Path, repeat: int, worker_env, quick: bool, progress) -> list[dict]:
    """One row per (probe, cache): median wall, import and first-call times, and the check's verdict.

    --quick runs each numba probe once, on the cache the workers filled (numba's default, beside the
    sources): a fresh process loading the kernels from numba's cache computes the right loss. It claims no times.
    """
    base = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    names = [name for name in PROBES if not quick or PROBES[name].numba]
    warm = {name: None if quick else tempfile.mkdtemp(prefix="numba-warm-", dir=root) for name in names}

    def run(name, cache):
        fresh = cache == "empty"
        cache_dir = tempfile.mkdtemp(prefix="numba-cold-", dir=root) if fresh else warm[name]
        env = {**base, **worker_env(PROBES[name].competitor)}
        if cache_dir:
            env["NUMBA_CACHE_DIR"] = cache_dir
        return _run(_program(PROBES[name]), env)

    rows, variants = {}, []
    for name in names:
        caches = ("warm",) if quick else ("empty", "warm") if PROBES[name].numba else ("—",)
        first = None
        if not quick:                  # untimed: fills the warm cache, and the disk cache for everyone
            progress(f"cold start: first run of {name}")
            first = run(name, "warm")
        for cache in caches:
            rows[name, cache] = {"probe": name, "cache": cache, "runs": [], "first": first}
        if not first or "unavailable" not in first[1]:
            variants += [(name, cache) for cache in caches]
    for repetition in range(repeat if variants else 0):
        progress(f"cold start: repetition {repetition + 1}/{repeat}")
        shift = repetition % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            rows[variant]["runs"].append(run(*variant))
    expected = _expected_loss()
    return [_summarise(row, expected) for row in rows.values()]


def _summarise(row, expected) -> dict:
    """Times from the timed runs; the check covers the first, untimed run too."""
    reports = [run[1] for run in [row["first"], *row["runs"]] if run]
    failure = next((report for report in reports if "unavailable" in report or "error" in report), None)
    walls = [wall for wall, _ in row["runs"]]
    if failure:
        status = "not available" if "unavailable" in failure else "error"
        verdict = Verdict(status, failure.get("unavailable") or failure["error"])
    elif reports[0]["loss"] is None:
        verdict = Verdict("ok", "no computation")
    else:
        error = max(relative_error([report["loss"]], [expected]) for report in reports)
        verdict = Verdict("ok" if error <= RTOL else "mismatch", f"loss vs numpy: relative error {error:.1e}",
                          error)
    timed = walls and not failure
    median = lambda key: float(np.median([report[key] for _, report in row["runs"]])) if timed else None
    return {"probe": row["probe"], "cache": row["cache"], "status": verdict.status, "detail": verdict.detail,
            "repetitions": len(walls), "wall_median": float(np.median(walls)) if timed else None,
            "import_median": median("import"), "first_call_median": median("first_call"), "walls": walls}
