"""The kernels on Dask: data chunked by rows, each chunk reduced where it lives (written by hand).

    loss_and_gradient(module, params, X, y)    -> (mean loss, gradient shaped like params)
    fit(module, params, X, y, optimizer="lbfgs", weight_decay=0.0, max_iter=100, tol=1e-4, ...)
                                               -> History of the objective; params updated in place
    predict(module, params, X)                 -> a dask array: (N,) for one output, else (N, K)
    from_npy(path, rows)                       -> a dask array of a .npy file's rows, read in place

For chunks c of n_c rows, with L̄_c the module's mean loss on chunk c:

    L̄ = (1/N) Σ_c n_c·L̄_c        ∇L̄ = (1/N) Σ_c n_c·∇L̄_c        N = Σ_c n_c

One evaluation is one round of tasks, one per chunk: each runs the module's compiled ``loss_and_gradient`` on its
rows where they are (persisted in a worker's memory, or read in place from a file, zarr, or any dask array) and
returns P + 2 numbers; the client adds them. theta travels once per evaluation, as one key of the graph that
every chunk task reads (each worker fetches it once); X never leaves the workers. Each task runs the kernel on
``max(1, cores of the host // Dask threads on the host)`` numba threads (``_distributed_tasks``); the kernels
release the GIL, so a worker's threads run them in parallel. It runs on whatever scheduler Dask would use: the
threaded one, or a ``distributed.Client`` (a ``LocalCluster``, or any cluster address). Workers import the
module once per process and load its kernels from numba's cache.

X must be a dask array with one chunk across its columns; y a dask array (or array) with one entry (or K)
per row, re-chunked to X's rows if it is not already. Dask is an optional extra: ``pip install 'derive[dask]'``.
"""
import uuid

try:
    import dask
    import dask.array as da
except ModuleNotFoundError as missing:   # the optional extra
    if (missing.name or "").split(".")[0] not in ("dask", "toolz", "cloudpickle", "partd", "fsspec"):
        raise
    raise ModuleNotFoundError("derive.kernels.distributed needs Dask: pip install 'derive[dask]' "
                              "(dask[array] and distributed)") from None
import numpy as np

from . import _api, _validate
from . import _distributed_fit as _fit
from . import _distributed_tasks as _tasks

__all__ = ["History", "fit", "from_npy", "loss_and_gradient", "predict"]
History = _fit.History


def loss_and_gradient(module, params, X, y):
    """(mean loss over all N rows, its gradient shaped like params): one round of tasks over X's chunks."""
    data = _Data(module, params, X, y)
    value, grad = data.evaluate(data.theta)
    return value, data.layout.shaped(grad, data.arrays)


def predict(module, params, X):
    """The head's output on every row, lazily: a dask array chunked like X's rows ((N,) for one output)."""
    layout = _layout(module)
    arrays, widths, theta = layout.flat(params)
    X = _rows(X, int(widths[0]))
    K = int(widths[-1])
    plan = _plan(module, arrays, theta, _threads_plan())
    out = da.map_blocks(_tasks.predict_block, X, plan, chunks=(X.chunks[0], (K,)), dtype=np.float64,
                        meta=np.empty((0, 0)))
    return out[:, 0] if K == 1 and not layout.classes else out


def fit(module, params, X, y, optimizer="lbfgs", *, weight_decay=0.0, max_iter=100, tol=1e-4, lr=None,
        history_size=10, progress=None):
    """Full-batch training on the distributed loss and gradient; params updated in place, at the end.

    Minimises J(θ) = L̄(θ) + (λ/2)·Σ_W ‖W‖², λ = weight_decay, the biases not penalised. ``optimizer="lbfgs"``:
    scipy's L-BFGS-B, stopping when max |∂J/∂θ| ≤ tol, after max_iter iterations, or when J stalls (relative
    change ≤ 64·eps). Another optimizer takes full-batch steps of lr (``_distributed_fit.rule``), stopping when
    max |∂J/∂θ| ≤ tol or after max_iter steps. ``progress``: True prints iteration, J, max |∂J/∂θ| and time to
    stderr; a callable gets ``(iteration, J, max |∂J/∂θ|)``. Returns the History: J at the start and after each
    iteration, with n_iter, converged, grad_norm and message."""
    data = _Data(module, _validate.writable(params), X, y)
    options = _fit.options(optimizer, weight_decay, max_iter, tol, lr, history_size, progress)
    data.y = data.y.persist()   # small (1/D of X): held by the workers for the fit, not sent per evaluation
    theta = data.theta.copy()
    try:
        history = _fit.run(data.evaluate, theta, data.decay, options)
    except (ValueError, KeyboardInterrupt):
        raise
    except Exception as error:   # the engine's: a worker lost for good, a closed connection …
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise RuntimeError(f"the fit stopped: {type(error).__name__}: {first} (the parameters were left as they "
                           f"were)") from error
    for target, source in zip(params, data.layout.shaped(theta, data.arrays)):
        target[...] = source
    return history


def from_npy(path, rows=None):
    """A .npy file as a dask array of chunks of ``rows`` rows (default: about 128 MB each), read in place: each
    task maps the file and hands the kernel a view of its rows, so nothing is copied or kept in memory."""
    source = _tasks.NpyRows(path)
    if rows is None:
        row_bytes = max(1, int(np.prod(source.shape[1:], dtype=np.int64)) * source.dtype.itemsize)
        rows = max(1, (128 << 20) // row_bytes)
    rows = _validate.count(rows, "rows")
    chunks = (rows,) + tuple(source.shape[1:])
    return da.from_array(source, chunks=chunks, asarray=False, inline_array=True, fancy=False,
                         meta=np.empty((0,) * len(source.shape), dtype=source.dtype))


class _Data:
    """A module, checked params and the chunked X and y: what one evaluation needs besides theta."""

    def __init__(self, module, params, X, y):
        self.module = _module(module)
        self.layout = _layout(self.module)
        self.arrays, self.widths, self.theta = self.layout.flat(params)
        self.X = _rows(X, int(self.widths[0]))
        self.y, self.flat_labels = _labels(y, self.X)
        self.n = int(self.X.shape[0])
        self.decay = np.concatenate([np.full(a.size, 1.0 - index % 2) for index, a in enumerate(self.arrays)])
        self.threads = _threads_plan()   # once per call: a worker that joins later runs one numba thread

    def graph(self, theta):
        """One evaluation: a dask array of the chunks' sums, (P + 2) numbers per chunk."""
        plan = _plan(self.module, self.arrays, theta, self.threads, self.flat_labels)
        blocks = ((theta.size + 2,) * len(self.X.chunks[0]), (1,))
        return da.map_blocks(_tasks.chunk_sums, self.X, self.y, plan, chunks=blocks, dtype=np.float64,
                             meta=np.empty((0, 0)))

    def evaluate(self, theta):
        """(L̄, ∇L̄ as a flat vector) at theta, from one round of tasks."""
        sums = dask.compute(self.graph(theta))[0].reshape(-1, theta.size + 2).sum(axis=0)
        if sums[0] != self.n:   # every chunk's sums, or none: a lost chunk must never go unnoticed
            raise RuntimeError(f"the chunks' results cover {sums[0]:.0f} of the {self.n} rows; nothing was updated")
        value, grad = sums[1] / self.n, sums[2:] / self.n
        if not (np.isfinite(value) and np.isfinite(grad).all()):
            raise ValueError("the loss or its gradient is not finite although every chunk's was: the sums "
                             "overflow float64; scale X or the parameters")
        return float(value), grad


def _module(module):
    if isinstance(module, str):
        from . import load
        return load(module)
    if not (hasattr(module, "_kernels") and hasattr(module, "LAYOUT")):
        raise ValueError(f"module must be a kernel module (derive.kernels.load(name)) or its name, not "
                         f"{type(module).__name__}")
    return module


def _layout(module):
    return _api._Layout(_module(module))


def _rows(X, n_features):
    """X as a dask array of rows (N, n_features) with one chunk across the columns and known chunk sizes."""
    if not isinstance(X, da.Array):
        raise ValueError(f"X must be a dask array chunked by rows, not {type(X).__name__}: da.from_array(X, "
                         f"chunks=(rows, -1)), from_npy(path) or da.from_zarr(...)")
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ValueError(f"X has shape {X.shape}, but the parameters take {n_features} features: X must have "
                         f"shape (N, {n_features})")
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError("X has unknown chunk sizes; call X.compute_chunk_sizes() first")
    if len(X.chunks[1]) != 1:
        raise ValueError(f"X is split into {len(X.chunks[1])} chunks across its columns; each chunk must hold "
                         f"whole rows: X.rechunk({{1: -1}}) (and persist it, if it is used often)")
    if X.shape[0] == 0:
        raise ValueError("X has no rows: X must have shape (N, D) with N >= 1")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must hold real numbers, not {X.dtype}")
    return X


def _labels(y, X):
    """(y as (N, 1) or (N, K) chunked like X's rows, whether it was (N,)): a column of labels beside each chunk
    of X, so that the chunk's task reads both (and X's read fuses into it)."""
    y = y if isinstance(y, da.Array) else da.asarray(np.asarray(y), chunks=(X.chunks[0],) + np.shape(y)[1:])
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(f"y has shape {y.shape}; expected ({X.shape[0]},) or ({X.shape[0]}, K), one label "
                         f"(or K) per row of X")
    flat = y.ndim == 1
    y = y[:, None] if flat else y
    if y.chunks[0] != X.chunks[0] or len(y.chunks[1]) != 1:
        y = y.rechunk((X.chunks[0], -1))
    return y, flat


def _plan(module, arrays, theta, threads, flat_labels=False):
    """One key of the graph holding the Plan, read by every chunk task: theta reaches each worker once."""
    plan = _tasks.Plan(module.__name__, tuple(a.shape for a in arrays), np.array(theta), threads, flat_labels)
    return dask.delayed(plan, name=f"derive-plan-{uuid.uuid4().hex}", traverse=False)


_cores = {}   # worker address -> its cores, asked once per worker


def _threads_plan():
    """numba threads per worker address: max(1, cores of the host // Dask threads on the host)."""
    scheduler = dask.base.get_scheduler()
    client = getattr(scheduler, "__self__", None)
    if client is None or not hasattr(client, "scheduler_info"):
        pool = 1 if scheduler is dask.local.get_sync else (dask.config.get("num_workers", None) or _tasks.cores())
        return {None: max(1, _tasks.cores() // pool)}
    workers = client.scheduler_info(n_workers=-1)["workers"]
    new = [address for address in workers if address not in _cores]
    if new:
        _cores.update(client.run(_tasks.cores, workers=new, on_error="ignore"))
    hosts = {}
    for address, info in workers.items():
        cores, threads = hosts.get(info["host"], (0, 0))
        hosts[info["host"]] = (max(cores, int(_cores.get(address, 1) or 1)), threads + info["nthreads"])
    return {address: max(1, hosts[info["host"]][0] // max(1, hosts[info["host"]][1]))
            for address, info in workers.items()}
