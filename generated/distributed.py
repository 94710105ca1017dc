"""The kernels on Dask: data chunked by rows, each chunk reduced where it lives (written by hand).

    loss_and_gradient(module, params, X, y)    -> (mean loss, gradient shaped like params)
    fit(module, params, X, y, optimizer="lbfgs", lr=None, epochs=None, tol=None, state=None, progress=None,
        **options)                             -> History; params updated in place (L-BFGS or full-batch steps)
    predict(module, params, X)                 -> a dask array: (N,) for one output, else (N, K)
    from_npy(path, rows)                       -> a dask array of a .npy file's rows, read in place

For chunks c of n_c rows, with L̄_c the module's mean loss on chunk c:

    L̄ = (1/N) Σ_c n_c·L̄_c        ∇L̄ = (1/N) Σ_c n_c·∇L̄_c        N = Σ_c n_c

One evaluation is one round of tasks, each returning P + 2 numbers, which the client adds; X never leaves the
workers. When every chunk of X is in the workers' memory (``X.persist()`` on a ``distributed.Client``), there is
one task per worker, over the chunks it holds, and theta travels in it; otherwise (X read in place from a file,
zarr, or any dask array; or the threaded scheduler) one task per chunk reads and reduces its rows, and theta is
one key of the graph that every chunk task reads, fetched once by each worker. Each task runs the kernel on as
many numba threads as leave the host's cores neither idle nor oversubscribed (``_distributed_tasks``); the
kernels release the GIL, so a worker's threads run them in parallel. It runs on whatever scheduler Dask would
use: the threaded one, or a ``distributed.Client`` (a ``LocalCluster``, or any cluster address). Workers import
the module once per process and load its kernels from numba's cache.

X must be a dask array with one chunk across its columns; y a dask array (or array) with one entry (or K)
per row, re-chunked to X's rows if it is not already. Dask is an optional extra: ``pip install 'derive[dask]'``.
"""
import uuid

try:
    import dask
    import dask.array as da
    import dask.core
    import dask.local
except ModuleNotFoundError as missing:   # the optional extra
    if (missing.name or "").split(".")[0] not in ("dask", "toolz", "cloudpickle", "partd", "fsspec"):
        raise
    raise ModuleNotFoundError("derive.kernels.distributed needs Dask: pip install 'derive[dask]' "
                              "(dask[array] and distributed)") from None
import numpy as np

from . import _api, _training, _validate
from . import _distributed_fit as _fit
from . import _distributed_tasks as _tasks

__all__ = ["fit", "from_npy", "loss_and_gradient", "predict"]


def loss_and_gradient(module, params, X, y):
    """(mean loss over all N rows, its gradient shaped like params): one round of tasks over X's chunks."""
    data = _Data(module, params, X, y)
    value, grad = data.evaluate(data.theta)
    return value, data.layout.shaped(grad, data.arrays)


def predict(module, params, X):
    """The head's output on every row, lazily: a dask array chunked like X's rows ((N,) for one output)."""
    module = _module(module)
    layout = _layout(module)
    arrays, widths, theta = layout.flat(params)
    X = _rows(X, int(widths[0]))
    K = int(widths[-1])
    plan = _tasks.Plan(module.__name__, tuple(a.shape for a in arrays), np.array(theta), _threads(_client())[0])
    plan = dask.delayed(plan, name=f"derive-plan-{uuid.uuid4().hex}", traverse=False)   # one key, read by all
    out = da.map_blocks(_tasks.predict_block, X, plan, chunks=(X.chunks[0], (K,)), dtype=np.float64,
                        meta=np.empty((0, 0)))
    return out[:, 0] if K == 1 and not layout.classes else out


def fit(module, params, X, y, optimizer=None, *, lr=None, epochs=None, tol=None, n_iter_no_change=5, state=None,
        progress=None, **options):
    """Full-batch training on the distributed loss and gradient; params updated in place, at the end.

    The in-memory ``fit``'s optimizers, options and State, on the full batch. ``optimizer="lbfgs"`` (the default)
    minimises J(θ) = L̄(θ) + (λ/2)·Σ_W ‖W‖² (λ = weight_decay, biases free) with scipy's L-BFGS-B: max_iter=,
    history_size=, and tol (default 1e-4) on max |∂J/∂θ|. Any other optimizer (sgd, adam, adamw, rmsprop, with
    torch.optim's options) takes ``epochs`` full-batch steps of ``lr``, stopping early by the in-memory rule when
    ``tol`` is given. ``progress``: True prints iteration, J, max |∂J/∂θ| and time to stderr; a callable gets
    ``(iteration, J, max |∂J/∂θ|)``. Returns the History (``history.state`` continues the run)."""
    data = _Data(module, _validate.writable(params), X, y)
    if state is None and optimizer is None:
        optimizer = "lbfgs"
    state = _training.state_for(data.arrays, optimizer, state, None, options)
    report = _fit.reporter(progress)
    data.y = data.y.persist()   # small (1/D of X): held by the workers for the fit, not sent per evaluation
    theta, saved = data.theta.copy(), state.snapshot()
    try:
        history = _fit.run(data.evaluate, theta, state, lr, epochs, tol, n_iter_no_change, report)
    except BaseException as error:
        state.restore(saved)
        if isinstance(error, ValueError) or not isinstance(error, Exception):
            raise
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""   # the engine's: a worker lost
        raise RuntimeError(f"the fit stopped: {type(error).__name__}: {first} (the parameters were left as they "
                           f"were)") from error
    if not (np.isfinite(history[-1]) and np.isfinite(theta).all()):
        state.restore(saved)
        raise ValueError("training diverged: J or the parameters are no longer finite (the parameters were left "
                         "as they were); use a smaller lr, or scale X")
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
        self.client = _client()
        self.threads, self.worker_threads = _threads(self.client)   # once per call: a worker that joins later
        self.groups = _groups(self)                                  # runs one numba thread

    def plan(self, theta):
        return _tasks.Plan(self.module.__name__, tuple(a.shape for a in self.arrays), np.array(theta), self.threads,
                           self.flat_labels)

    def graph(self, theta):
        """One evaluation as a dask array of the chunks' sums, P + 2 numbers per chunk (one task per chunk)."""
        plan = dask.delayed(self.plan(theta), name=f"derive-plan-{uuid.uuid4().hex}", traverse=False)
        blocks = ((theta.size + 2,) * len(self.X.chunks[0]), (1,))
        return da.map_blocks(_tasks.chunk_sums, self.X, self.y, plan, chunks=blocks, dtype=np.float64,
                             meta=np.empty((0, 0)))

    def evaluate(self, theta):
        """(L̄, ∇L̄ as a flat vector) at theta, from one round of tasks."""
        if self.groups is None:
            sums = dask.compute(self.graph(theta))[0].reshape(-1, theta.size + 2).sum(axis=0)
        else:
            plan = self.plan(theta)
            sums = np.sum(self.client.gather([self.client.submit(
                _tasks.group_sums, xs, ys, plan, rows, self.worker_threads.get(worker, 1), pure=False,
                **({"workers": [worker], "allow_other_workers": True} if worker else {}))
                for worker, xs, ys, rows in self.groups]), axis=0)
        if sums[0] != self.n:   # every chunk's sums, or none: a lost chunk must never go unnoticed
            raise RuntimeError(f"the chunks' results cover {sums[0]:.0f} of the {self.n} rows; nothing was updated")
        value, grad = sums[1] / self.n, sums[2:] / self.n
        if not (np.isfinite(value) and np.isfinite(grad).all()):
            raise ValueError("the loss or its gradient is not finite although every chunk's was: the sums "
                             "overflow float64; scale X or the parameters")
        return float(value), grad


def _groups(data):
    """[(worker, its chunks of X, of y, their rows)] when every chunk of X is in a worker's memory (one task per
    worker then, pinned where its chunks are but free to run elsewhere if that worker is lost), else None."""
    if data.client is None:
        return None
    from distributed import futures_of, wait
    keys = list(dask.core.flatten(data.X.__dask_keys__()))
    held = {future.key: future for future in futures_of(data.X)}
    if not all(key in held for key in keys):
        return None
    data.y = data.client.persist(data.y)   # 1/D of X, placed by the scheduler
    labels = {future.key: future for future in futures_of(data.y)}
    label_keys = list(dask.core.flatten(data.y.__dask_keys__()))
    wait([held[key] for key in keys])       # X's chunks land where the scheduler puts them
    owners = data.client.who_has([held[key] for key in keys])
    stops = np.cumsum(data.X.chunks[0])
    groups = {}
    for index, key in enumerate(keys):
        groups.setdefault(min(owners.get(key) or ("",)), []).append(index)
    return [(worker, [held[keys[i]] for i in chunks], [labels[label_keys[i]] for i in chunks],
             [(int(stops[i] - data.X.chunks[0][i]), int(stops[i])) for i in chunks])
            for worker, chunks in sorted(groups.items())]


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


def _client():
    """The distributed Client Dask would compute on, or None (the threaded or another local scheduler)."""
    client = getattr(dask.base.get_scheduler(), "__self__", None)
    return client if hasattr(client, "scheduler_info") else None


_cores = {}   # worker address -> its cores, asked once per worker


def _threads(client):
    """numba threads per worker address for one task per chunk, max(1, cores of the host // Dask threads on the
    host), and for one task per worker, max(1, cores of the host // workers on the host)."""
    if client is None:
        scheduler = dask.base.get_scheduler()
        pool = 1 if scheduler is dask.local.get_sync else (dask.config.get("num_workers", None) or _tasks.cores())
        return {None: max(1, _tasks.cores() // pool)}, {}
    workers = client.scheduler_info(n_workers=-1)["workers"]
    new = [address for address in workers if address not in _cores]
    if new:
        _cores.update(client.run(_tasks.cores, workers=new, on_error="ignore"))
    hosts = {}
    for address, info in workers.items():
        cores, threads, count = hosts.get(info["host"], (0, 0, 0))
        hosts[info["host"]] = (max(cores, int(_cores.get(address) or 1)), threads + info["nthreads"], count + 1)
    per_host = {address: hosts[info["host"]] for address, info in workers.items()}
    return ({address: max(1, cores // max(1, threads)) for address, (cores, threads, _) in per_host.items()},
            {address: max(1, cores // count) for address, (cores, _, count) in per_host.items()})
