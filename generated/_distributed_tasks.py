"""What runs on a Dask worker (written by hand, not generated): sums over chunks of rows, one chunk's
predictions, and the rows of a .npy file read in place.

Chunk c of n_c rows gives the vector s_c = (n_c, n_c·L̄_c, n_c·∇L̄_c) of P + 2 numbers, where L̄_c is the
module's mean loss on the chunk; the client adds them and divides by N = Σ n_c. The mean is over the chunk's
n_c·K elements for an elementwise head and over its n_c rows for softmax; either way n_c·L̄_c is the chunk's
share of N·L̄, so K cancels. A task returns one s_c (``chunk_sums``: X read in place, one task per chunk) or the
sum over the chunks a worker holds in memory (``group_sums``: one task per worker).

numba threads, set in the task's thread (numba's count is thread-local) and restored after, so that the kernels
running at once on a machine use its cores once:

    one task per chunk     numba threads = max(1, cores of the host // Dask threads of all workers on the host)
    one task per worker    numba threads = max(1, cores of the host // workers on the host)

Two one-thread workers on two cores get one numba thread each; one one-thread worker on eight cores gets
eight. A worker the plan does not know (one that joined during the evaluation) uses one thread, which never
oversubscribes.
"""
import contextlib
import importlib
import os

import numba
import numpy as np


class Plan:
    """Everything a task needs besides its rows, sent once per evaluation: the module's name (imported once per
    worker process, its kernels loaded from numba's cache), the parameters' shapes, theta, the numba threads of
    a chunk task on each worker address (None: the local threaded scheduler), and whether the caller's labels
    are (N,) (they travel as a column beside X's rows)."""

    def __init__(self, module, shapes, theta, threads, flat_labels=False):
        self.module, self.shapes, self.theta, self.threads = module, shapes, theta, threads
        self.flat_labels = flat_labels

    def params(self):
        """Views of theta in the parameters' shapes."""
        out, offset = [], 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            out.append(self.theta[offset:offset + size].reshape(shape))
            offset += size
        return tuple(out)


def chunk_sums(X, y, plan, block_info=None):
    """s_c for one chunk of rows, as a column (the task's block is X's, so reading X fuses into it), on the
    numba threads the plan gives this worker."""
    rows = block_info[0]["array-location"][0] if block_info else None
    return _sums(X, y, plan, plan.threads.get(worker_address(), 1), rows)[:, None]


def group_sums(Xs, ys, plan, rows, threads):
    """Σ_c s_c over the chunks a worker holds: one task per worker, which gets theta once, in its arguments."""
    total = np.zeros(2 + plan.theta.size)
    for X, y, where in zip(Xs, ys, rows):
        total += _sums(X, y, plan, threads, where)
    return total


def _sums(X, y, plan, threads, rows):
    """s_c = (n_c, n_c·L̄_c, n_c·∇L̄_c) for rows ``rows`` = (first, after the last) of X."""
    module = importlib.import_module(plan.module)
    n = X.shape[0]
    out = np.zeros(2 + plan.theta.size)
    if n == 0:
        return out
    with _numba_threads(threads), _where(rows):
        labels = y[:, 0] if plan.flat_labels else y
        value, grads = module.loss_and_gradient(plan.params(), _writable(X), _writable(labels))
    out[0] = n
    out[1] = n * value
    out[2:] = np.concatenate([g.reshape(-1) for g in grads])
    out[2:] *= n
    return out


def predict_block(X, plan, block_info=None):
    """The head's output on one chunk of rows, as (n, K) (the caller takes column 0 for one output)."""
    module = importlib.import_module(plan.module)
    if X.shape[0] == 0:
        return np.empty((0, plan.shapes[-1][0]))
    rows = block_info[0]["array-location"][0] if block_info else None
    with _numba_threads(plan.threads.get(worker_address(), 1)), _where(rows):
        out = module.predict(plan.params(), X)
    return out.reshape(X.shape[0], -1)


def _writable(array):
    """The array, or a copy where it is read-only: the compiled loops are typed for writable arrays, and numba
    refuses a read-only one (a chunk Dask read from a read-only source). ``NpyRows`` maps files copy-on-write,
    so its chunks are writable without a copy (and the file is never written)."""
    return array if not isinstance(array, np.ndarray) or array.flags.writeable else np.array(array)


@contextlib.contextmanager
def _where(rows):
    """A ValueError from the chunk says which rows it came from (its indices count from the chunk's first row)."""
    try:
        yield
    except ValueError as error:
        start, stop = rows if rows is not None else ("?", "?")
        raise ValueError(f"{error} (in the chunk of rows {start}:{stop}; indices count from row {start})") from None


@contextlib.contextmanager
def _numba_threads(count):
    """numba's thread count for this thread (see the module docstring), restored after."""
    count = max(1, min(int(count), numba.config.NUMBA_NUM_THREADS))
    before = numba.get_num_threads()
    numba.set_num_threads(count)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def worker_address():
    """The address of the distributed worker running this task, or None outside one."""
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return None


def cores():
    """The cores this process may use: Dask's count (CPU affinity and cgroup quotas included)."""
    from dask.system import CPU_COUNT
    return CPU_COUNT


class NpyRows:
    """A .npy file's rows, read in place: slicing maps the file (copy-on-write: writable arrays, and the file is
    never written) and returns a view of the rows, so a chunk reaches the kernel from the page cache without a
    copy, and its pages are released when the task drops it. Pickles as its path alone: a task carries no data."""

    def __init__(self, path):
        self.path = os.fspath(path)
        header = np.load(self.path, mmap_mode="r")
        if not header.flags.c_contiguous:
            raise ValueError(f"{self.path} is stored in Fortran order; rows read in place need C order")
        self.shape, self.dtype, self.ndim = header.shape, header.dtype, header.ndim
        del header

    def __getitem__(self, index):
        return np.load(self.path, mmap_mode="c")[index]

    def __reduce__(self):
        return (_npy_rows, (self.path, self.shape, self.dtype))


def _npy_rows(path, shape, dtype):
    rows = NpyRows.__new__(NpyRows)
    rows.path, rows.shape, rows.dtype, rows.ndim = path, shape, dtype, len(shape)
    return rows
