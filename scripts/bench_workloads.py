"""The benchmark's workloads and their data: sizes, seeds, and the files workers read.

A workload names a task (what every competitor computes), its sizes, and the group ``--only`` selects.
Data come from fixed seeds; X and y are written once per dataset as .npy files that workers map
copy-on-write, so N·D·8 bytes sit in memory once however many workers read them (a worker that
copies, like JAX, pays for its own copy). Several workloads share a dataset by reading its first n rows.
To add a workload, add one entry to ``full_plan`` (and ``quick_plan``).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

SEED = 0
# rows of the sweep at D = 100: X from 0.8 MB, past L2 (1 MiB a core here) and L3 (32 MiB), to 8 GB
SWEEP_D = 100
SWEEP_ROWS = (1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000, 10_000_000)
GROUPS = ("grad", "fit", "mlp", "softmax", "coldstart", "sweep")
MEMORY_BOUND = ("neuron_grad", "softmax_grad")    # tasks that read X once: bandwidth is their limit


@dataclass(frozen=True)
class Workload:
    group: str
    task: str               # neuron_grad | softmax_grad | neuron_fit | mlp_fit
    n: int
    d: int
    classes: int = 0        # softmax: K
    hidden: int = 0         # mlp: H
    batch: int = 0          # fit: batch size
    lr: float = 0.0

    @property
    def label(self) -> str:
        sizes = {"N": _short(self.n), "D": self.d, "K": self.classes, "H": self.hidden, "batch": self.batch}
        return f"{self.task} " + " ".join(f"{name}={value}" for name, value in sizes.items() if value)

    @property
    def epoch(self) -> bool:
        return self.task.endswith("_fit")

    @property
    def memory_bound(self) -> bool:
        return self.task in MEMORY_BOUND

    @property
    def x_bytes(self) -> int:
        return self.n * self.d * 8

    @property
    def dataset(self) -> tuple:
        """Workloads with the same dataset key read prefixes of the same X and y."""
        return (self.d, self.classes)


def _short(n: int) -> str:
    exponent = len(str(n)) - 1
    return f"1e{exponent}" if n == 10 ** exponent else f"{n / 10 ** exponent:g}e{exponent}"


def full_plan(memory_available: int) -> list[Workload]:
    largest = max(n for n in SWEEP_ROWS if sweep_fits(n, memory_available))
    return [
        Workload("grad", "neuron_grad", 1_000_000, 100),
        Workload("grad", "neuron_grad", 100_000, 10),
        Workload("grad", "neuron_grad", 1_000, 10),
        Workload("fit", "neuron_fit", 100_000, 10, batch=1, lr=0.01),
        Workload("mlp", "mlp_fit", 100_000, 32, hidden=64, batch=256, lr=0.1),
        Workload("mlp", "mlp_fit", 100_000, 32, hidden=256, batch=256, lr=0.1),
        Workload("softmax", "softmax_grad", 100_000, 100, classes=10),
        *(Workload("sweep", "neuron_grad", n, SWEEP_D) for n in SWEEP_ROWS if n <= largest),
    ]


def unique(plan: list[Workload]) -> list[Workload]:
    """The plan without repeats: the sweep's 1e6 × 100 point is the grad group's first workload."""
    seen, kept = set(), []
    for workload in plan:
        key = replace(workload, group="")
        if key not in seen:
            seen.add(key)
            kept.append(workload)
    return kept


def quick_plan() -> list[Workload]:
    """Tiny sizes that still cover every code path: two row blocks, a partial last batch."""
    return [
        Workload("grad", "neuron_grad", 1_001, 10),
        Workload("fit", "neuron_fit", 500, 10, batch=1, lr=0.01),
        Workload("mlp", "mlp_fit", 1_000, 32, hidden=16, batch=256, lr=0.1),
        Workload("softmax", "softmax_grad", 999, 20, classes=5),
        Workload("sweep", "neuron_grad", 1_000, 100),   # N·D below 2¹⁷: the kernels' serial path, compiled already
    ]


def sweep_fits(n: int, memory_available: int) -> bool:
    """X shared by the workers, JAX's own copy of it, and 4 GiB for everything else."""
    return 2 * n * SWEEP_D * 8 + 4 * 2**30 <= memory_available


def memory_available() -> int:
    with open("/proc/meminfo") as meminfo:
        fields = dict(line.split(":", 1) for line in meminfo)
    return int(fields["MemAvailable"].split()[0]) * 1024


# ---------------------------------------------------------------- data
def write_dataset(folder: Path, d: int, classes: int, n: int, chunk: int = 100_000) -> dict:
    """X ~ N(0, 1) and labels drawn from a linear teacher, written a chunk at a time; returns the paths.

    Each chunk has its own seed, so the data do not depend on how many threads write them (numpy's
    generators release the GIL: the 8 GB of the largest sweep take seconds, not a minute)."""
    folder.mkdir(parents=True, exist_ok=True)
    teacher = np.random.default_rng([SEED, d, classes]).standard_normal((d, max(classes, 1))) / np.sqrt(d)
    X = np.lib.format.open_memmap(folder / "X.npy", mode="w+", dtype=np.float64, shape=(n, d))
    y = np.lib.format.open_memmap(folder / "y.npy", mode="w+", dtype=np.int64 if classes else np.float64,
                                  shape=(n,))

    def write(start):
        rng = np.random.default_rng([SEED, d, classes, start])
        block = X[start:start + chunk]
        rng.standard_normal(out=block)
        logits = block @ teacher
        if classes:   # Gumbel-max: a draw from softmax(logits)
            y[start:start + chunk] = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
        else:
            y[start:start + chunk] = rng.random(len(block)) < 0.5 * (1 + np.tanh(0.5 * logits[:, 0]))

    with ThreadPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(write, range(0, n, chunk)))
    X.flush()
    y.flush()
    return {"X": str(folder / "X.npy"), "y": str(folder / "y.npy")}


def initial_parameters(workload: Workload) -> tuple[np.ndarray, ...]:
    """The same starting point for every competitor, in the kernels' layout."""
    rng = np.random.default_rng([SEED, 1, workload.d])
    d, k, h = workload.d, workload.classes, workload.hidden
    shapes = {"neuron_grad": ((d,), (1,)), "neuron_fit": ((d,), (1,)),
              "softmax_grad": ((d, k), (k,)), "mlp_fit": ((d, h), (h,), (h, 1), (1,))}[workload.task]
    fan_in = {0: d, 1: d, 2: h, 3: h}
    return tuple(np.ascontiguousarray(rng.standard_normal(shape) / np.sqrt(fan_in[i]))
                 for i, shape in enumerate(shapes))


def order(workload: Workload) -> np.ndarray:
    """The row order every competitor follows: the one the generated fit draws with seed=SEED (if that
    ever changes, bench_checks falls back to checks that need no common order)."""
    from bench_reference import epoch_order
    return epoch_order(workload.n, SEED)


def load(paths: dict, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first n rows of a dataset, mapped copy-on-write (writable, shared until written)."""
    X = np.load(paths["X"], mmap_mode="c")[:n]
    y = np.load(paths["y"], mmap_mode="c")[:n]
    return np.asarray(X), np.asarray(y)


def identical_rows(X: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n copies of the first row: an epoch over them ends the same in any row order."""
    return np.repeat(X[:1], n, axis=0), np.repeat(y[:1], n)


def temp_root() -> Path:
    """Where datasets go: memory-backed /dev/shm when there is one (no disk writes), else the temp dir."""
    import tempfile
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="derive-bench-", dir=base))
