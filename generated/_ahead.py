"""The shared dense loops compiled in a helper process while this one compiles a module's own code (written by
hand, not generated).

From an empty cache an MLP's first fit compiles about 7 s of code on one core: its head and hidden activation
and the input checks (≈ 2.5 s, its own), then the loops every dense module shares, ``_dense._span`` (≈ 2.2 s),
``_spans.chunks_serial`` and ``_dense._fit`` (≈ 2.1 s), which call ``_span`` by its address and so compile
without it. numba compiles one function at a time in a process. So ``start()``, called as an MLP or softmax
module is loaded, starts a Python process that compiles the chunks and ``_fit`` into numba's cache on another
core, while this one compiles its own code and ``_span``; ``join()`` waits for the helper just before ``_fit``
is needed, and numba then loads it from the cache. Nothing starts when the loops are cached already, with one
core, or with DERIVE_AHEAD=0; if the helper fails, this process compiles them itself, as before.
"""
import os
import subprocess
import sys

_helper = None   # the helper process of this process, if one was started
_started = False


def start():
    """Start the helper once per process, unless the shared loops are cached or it cannot help."""
    global _helper, _started
    if _started:
        return
    _started = True
    if os.environ.get("DERIVE_AHEAD") == "0" or (os.cpu_count() or 1) < 2 \
            or not os.path.basename(sys.executable or "").startswith("python"):   # embedded: no interpreter to run
        return
    from . import _first_class, _spans
    if _first_class.ready(_spans.chunks_serial, _first_class.CHUNKS) is not None:
        return   # cached (and now loaded): nothing to compile
    try:
        _helper = subprocess.Popen(
            [sys.executable, "-c", "from derive.kernels import _ahead; _ahead.compile_shared()"],
            env={**os.environ, "DERIVE_AHEAD": "0"}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
    except OSError:
        _helper = None


def join(timeout=300.0):
    """Wait for the helper, if one is running; numba then finds its work in the cache. Never raises: a helper
    that failed or hangs leaves the compiling to this process."""
    global _helper
    if _helper is None:
        return
    helper, _helper = _helper, None
    try:
        helper.wait(timeout)
    except subprocess.TimeoutExpired:
        helper.kill()
        helper.wait()


def compile_shared():
    """In the helper: compile the shared loops for the types a fit calls them with (numba caches them)."""
    import numpy as np
    import numba

    from . import _dense, _first_class, _spans, _training
    _first_class.addresses((_spans.chunks_serial, _first_class.CHUNKS))
    params = (np.zeros((1, 1)), np.zeros(1))
    state = _training.State(params)
    arguments = (np.zeros(2), np.ones(2, dtype=np.int64), np.zeros((2, 1)), np.zeros((2, 1)), 0.1, 1, 1,
                 state.shuffle(2), np.zeros(1), 2, np.zeros(6, dtype=np.int64), state.kernel,
                 _training.stopping(None, 1), np.zeros(8, dtype=np.int64), 1)
    _dense._fit.compile(tuple(numba.typeof(argument) for argument in arguments))
