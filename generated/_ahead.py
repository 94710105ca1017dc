"""Shared fit loops compiled in a helper process while this one compiles a module's own code (written by hand,
not generated).

From an empty cache an MLP's first fit compiles about 7 s of code on one core: its head and hidden activation
and the input checks (≈ 2.5 s, its own), then the loops every dense module shares, ``_dense._span`` (≈ 2.2 s),
``_spans.chunks_serial`` and ``_dense._fit`` (≈ 2.1 s), which call ``_span`` by its address and so compile
without it. A neuron's mini-batch fit is alike: its ``_block`` (its own) and the shared ``_fused.fit_batches``.
numba compiles one function at a time in a process. So ``start(kind)`` starts a Python process that compiles
the shared loop of that kind into numba's cache on another core, while this one compiles its own code;
``join(kind)`` waits for the helper just before the loop is needed, and numba then loads it from the cache.

    kind "dense"  _spans.chunks_serial and _dense._fit   started as an MLP or softmax module loads, or by a
                                                         fit of K > 1 outputs; this process compiles _span
    kind "fused"  _fused.fit_batches                     started by a neuron's first mini-batch fit

A fit asks its entry points which loop it will run (``shared(batch_size, kind, hyper)``, the rule the entry
point itself follows) and starts the helper before it compiles its optimizer step.

Nothing starts when the loop is cached already, with one core, in an embedded interpreter, or with
DERIVE_AHEAD=0; a helper that fails leaves the compiling to this process, as before. The types are those of a
fit's arguments (float64 C arrays, the optimizer state): a call with other types compiles its own.
"""
import os
import subprocess
import sys

_helpers = {}   # kind -> the helper process, while it may be running
_started = set()


def start(kind):
    """Start the helper of ``kind`` (None: nothing to do) once per process, unless its loop is cached or it
    cannot help."""
    if kind is None or kind in _started:
        return
    _started.add(kind)
    if os.environ.get("DERIVE_AHEAD") == "0" or (os.cpu_count() or 1) < 2 \
            or not os.path.basename(sys.executable or "").startswith("python"):   # embedded: no interpreter to run
        return
    if _cached(kind):
        return
    try:
        _helpers[kind] = subprocess.Popen(
            [sys.executable, "-c", f"from derive.kernels import _ahead; _ahead.compile_shared({kind!r})"],
            env={**os.environ, "DERIVE_AHEAD": "0"}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
    except OSError:
        pass


def pending(kind):
    """Whether a helper of ``kind`` was started and not yet waited for."""
    return kind in _helpers


def join(kind, timeout=300.0):
    """Wait for the helper of ``kind``, if one is running; numba then finds its work in the cache. Never raises:
    a helper that failed or hangs leaves the compiling to this process."""
    helper = _helpers.pop(kind, None)
    if helper is None:
        return
    try:
        helper.wait(timeout)
    except subprocess.TimeoutExpired:
        helper.kill()
        helper.wait()


def _cached(kind):
    """Whether numba's cache has an index for the loop of ``kind``: a test for a file, since loading the loop
    here would cost every process that loads a module half a second (a stale or partial index: this process
    compiles what it lacks, as before)."""
    try:
        return os.path.exists(_dispatcher(kind)._cache._cache_file._index_path)
    except AttributeError:   # a numba whose cache is laid out otherwise: no helper
        return True


def _dispatcher(kind):
    """The shared loop of ``kind``."""
    from . import _dense, _fused
    return _dense._fit if kind == "dense" else _fused.fit_batches


def _signature(kind):
    """The argument types a fit calls the loop of ``kind`` with."""
    import numba
    import numpy as np

    from . import _training
    state = _training.State((np.zeros((1, 1)), np.zeros(1)))
    optimizer = (state.kind, state.hyper, state.slots, state.count, state.decay, np.zeros(2, dtype=np.int64))
    #            as State.kernel, with the step's addresses left 0: the fit compiles its step, not the helper
    common = (0.1, 1, 1, state.shuffle(2), np.zeros(1))   # lr, epochs, batch_size, (stream, order), losses
    if kind == "dense":
        arguments = (np.zeros(2), np.ones(2, dtype=np.int64), np.zeros((2, 1)), np.zeros((2, 1)), *common, 2,
                     np.zeros(4, dtype=np.int64), optimizer, _training.stopping(None, 1),
                     np.zeros(8, dtype=np.int64), 1)
    else:
        arguments = (np.zeros(2), np.zeros((2, 1)), np.zeros(2), *common, optimizer, _training.stopping(None, 1),
                     np.zeros(4, dtype=np.int64))
    return tuple(numba.typeof(argument) for argument in arguments)


def compile_shared(kind):
    """In the helper: compile the shared loop of ``kind`` (and the dense chunks) into numba's cache."""
    from . import _first_class, _spans
    if kind == "dense":
        _first_class.addresses((_spans.chunks_serial, _first_class.CHUNKS))
    _dispatcher(kind).compile(_signature(kind))
