"""The benchmark's workloads and their data: tasks, sizes, seeds, and the files workers read.

A task is what every competitor computes (and which generated module is the reference); a workload is a
task at some sizes, in the group ``--only`` selects. Data come from fixed seeds; X and y are written once per
dataset as .npy files that workers map copy-on-write, so N·D·8 bytes sit in memory once however many workers
read them (a worker that copies, like JAX, pays for its own copy). Several workloads share a dataset by
reading its first n rows. To add a workload, add one entry to ``full_plan`` (and ``quick_plan``); to add a task,
one entry to ``TASKS`` and a method of that name to each competitor that runs it.
"""
from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from derive.kernels import _shuffle

SEED = 0
# rows of the sweep at D = 100: X from 0.8 MB, past L2 (1 MiB a core here) and L3 (32 MiB), to 8 GB
SWEEP_D = 100
SWEEP_ROWS = (1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000, 10_000_000)
GROUPS = ("grad", "fit", "mlp", "softmax", "heads", "coldstart", "sweep")
CHUNK = 100_000


@dataclass(frozen=True)
class Task:
    module: str               # the derive.kernels module that computes it
    labels: str               # binary (0/1 floats) | classes (int64 indices) | real
    epoch: bool = False       # one epoch of fit, else a full-batch loss & gradient
    memory_bound: bool = False   # reads X once, so bandwidth is its limit: the probes run beside it


TASKS = {
    "neuron_grad": Task("neuron_sigmoid_bce", "binary", memory_bound=True),
    "neuron_mse_grad": Task("neuron_identity_mse", "real"),
    "softmax_grad": Task("softmax_softmax_cross_entropy", "classes", memory_bound=True),
    "neuron_fit": Task("neuron_sigmoid_bce", "binary", epoch=True),
    "mlp_fit": Task("mlp_tanh_sigmoid_bce", "binary", epoch=True),
}


@dataclass(frozen=True)
class Workload:
    group: str
    task: str
    n: int
    d: int
    outputs: int = 1        # K: the outputs of the head, or the classes of softmax
    hidden: int = 0         # mlp: H
    batch: int = 0          # fit: batch size
    lr: float = 0.0

    @property
    def label(self) -> str:
        sizes = {"N": _short(self.n), "D": self.d, "K": self.outputs if self.outputs > 1 else 0, "H": self.hidden,
                 "batch": self.batch}
        return f"{self.task} " + " ".join(f"{name}={value}" for name, value in sizes.items() if value)

    @property
    def spec(self) -> Task:
        return TASKS[self.task]

    @property
    def x_bytes(self) -> int:
        return self.n * self.d * 8

    @property
    def dataset(self) -> tuple:
        """Workloads with the same dataset key read prefixes of the same X and y."""
        return (self.d, self.outputs, self.spec.labels)


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
        Workload("softmax", "softmax_grad", 100_000, 100, outputs=10),
        Workload("heads", "neuron_mse_grad", 100_000, 10, outputs=3),
        Workload("heads", "mlp_fit", 100_000, 32, outputs=3, hidden=64, batch=256, lr=0.1),
        *(Workload("sweep", "neuron_grad", n, SWEEP_D) for n in SWEEP_ROWS if n <= largest),
    ]


def quick_plan() -> list[Workload]:
    """Tiny sizes that still cover every code path: two row blocks, a partial last batch."""
    return [
        Workload("grad", "neuron_grad", 1_001, 10),
        Workload("fit", "neuron_fit", 500, 10, batch=1, lr=0.01),
        Workload("mlp", "mlp_fit", 1_000, 32, hidden=16, batch=256, lr=0.1),
        Workload("softmax", "softmax_grad", 999, 20, outputs=5),
        Workload("heads", "neuron_mse_grad", 1_001, 10, outputs=3),
        Workload("heads", "mlp_fit", 1_000, 32, outputs=3, hidden=16, batch=256, lr=0.1),
        Workload("sweep", "neuron_grad", 1_000, 100),   # N·D below 2¹⁷: the kernels' serial path
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


def sweep_fits(n: int, memory_available: int) -> bool:
    """X shared by the workers, JAX's own copy of it, and 4 GiB for everything else."""
    return 2 * n * SWEEP_D * 8 + 4 * 2**30 <= memory_available


def memory_available() -> int:
    with open("/proc/meminfo") as meminfo:
        fields = dict(line.split(":", 1) for line in meminfo)
    return int(fields["MemAvailable"].split()[0]) * 1024


# ---------------------------------------------------------------- data
def _label_shape(n: int, outputs: int, labels: str) -> tuple:
    return (n,) if outputs == 1 or labels == "classes" else (n, outputs)


def _fill(X, y, key, start):
    """Rows start … of X ~ N(0, 1), and their labels from a linear teacher; each chunk has its own seed, so the
    data do not depend on how many threads write them."""
    d, outputs, labels = key
    teacher = np.random.default_rng([SEED, d, outputs]).standard_normal((d, outputs)) / np.sqrt(d)
    rng = np.random.default_rng([SEED, d, outputs, start])
    block = X[start:start + CHUNK]
    rng.standard_normal(out=block)
    logits = block @ teacher
    if labels == "classes":   # Gumbel-max: a draw from softmax(logits)
        values = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
    elif labels == "binary":
        values = rng.random(logits.shape) < 0.5 * (1 + np.tanh(0.5 * logits))
    else:
        values = logits + 0.5 * rng.standard_normal(logits.shape)
    y[start:start + CHUNK] = values.reshape(y[start:start + CHUNK].shape)


def write_dataset(folder: Path, key: tuple, n: int) -> dict:
    """X and y for a dataset key (D, K, labels), written a chunk at a time; returns the paths (numpy's
    generators release the GIL: the 8 GB of the largest sweep take seconds, not a minute)."""
    folder.mkdir(parents=True, exist_ok=True)
    X = np.lib.format.open_memmap(folder / "X.npy", mode="w+", dtype=np.float64, shape=(n, key[0]))
    y = np.lib.format.open_memmap(folder / "y.npy", mode="w+", shape=_label_shape(n, *key[1:]),
                                  dtype=np.int64 if key[2] == "classes" else np.float64)
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(lambda start: _fill(X, y, key, start), range(0, n, CHUNK)))
    X.flush()
    y.flush()
    return {"X": str(folder / "X.npy"), "y": str(folder / "y.npy")}


def in_memory(workload: Workload) -> tuple[np.ndarray, np.ndarray]:
    """The workload's X and y in memory, drawn as its dataset's are (for the tests: no files, no workers)."""
    key = workload.dataset
    X = np.empty((workload.n, key[0]))
    y = np.empty(_label_shape(workload.n, *key[1:]), dtype=np.int64 if key[2] == "classes" else np.float64)
    for start in range(0, workload.n, CHUNK):
        _fill(X, y, key, start)
    return X, y


def load(paths: dict, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first n rows of a dataset, mapped copy-on-write (writable, shared until written)."""
    return np.asarray(np.load(paths["X"], mmap_mode="c")[:n]), np.asarray(np.load(paths["y"], mmap_mode="c")[:n])


def initial_parameters(workload: Workload) -> tuple[np.ndarray, ...]:
    """The same starting point for every competitor, in the kernels' layout: (w, b) for a neuron with one
    output, (W, b) for K, (W1, b1, W2, b2) for the MLP."""
    rng = np.random.default_rng([SEED, 1, workload.d])
    d, k, h = workload.d, workload.outputs, workload.hidden
    if workload.task == "mlp_fit":
        shapes, fan_in = ((d, h), (h,), (h, k), (k,)), (d, d, h, h)
    else:
        shapes, fan_in = (((d,), (1,)) if k == 1 and workload.task.startswith("neuron") else ((d, k), (k,))), (d, d)
    return tuple(np.ascontiguousarray(rng.standard_normal(shape) / np.sqrt(fan))
                 for shape, fan in zip(shapes, fan_in))


def order(workload: Workload) -> np.ndarray:
    """The row order every competitor follows: the one the generated fit draws in its first epoch, seed=SEED."""
    return _shuffle.orders(SEED, workload.n, 1)[0]


def request(workload: Workload, X, y) -> dict:
    """What a competitor is given: X and y are arrays, or the paths of a dataset (then n rows are read)."""
    return dict(task=workload.task, X=X, y=y, n=workload.n, params=initial_parameters(workload), lr=workload.lr,
                batch=workload.batch, outputs=workload.outputs,
                order=order(workload) if workload.spec.epoch else None)


def data(request: dict) -> SimpleNamespace:
    """The request as a competitor reads it (``data.X`` …): X and y loaded when the request names files."""
    fields = dict(request)
    if isinstance(fields["X"], str):
        fields["X"], fields["y"] = load({"X": fields["X"], "y": fields["y"]}, fields["n"])
    return SimpleNamespace(**fields)


def temp_root() -> Path:
    """Where datasets go: memory-backed /dev/shm when there is one (no disk writes), else the temp dir."""
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="derive-bench-", dir=base))
