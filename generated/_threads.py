"""Thread pools for the MLP kernels: BLAS on one thread, numba's threads split the batch (written by hand).

The MLP kernels split a batch's rows over numba's threads, and each thread's ``np.dot`` calls SciPy's
OpenBLAS. Left at its default, a pool on every core, OpenBLAS starts its own threads inside those calls, on
the cores numba's threads hold, and its idle threads spin (≈ 0.1 s) before they sleep: one epoch took 3.1 s
instead of 0.15 s in the issue's study, and even one numba thread ran an epoch 1.9× slower here (306 against
162 ms at D = 32, H = 256, batch 256), since these products are too small to pay for BLAS's threads.
``one_blas_thread()`` holds every loaded BLAS at one thread for the call and then restores the caller's
settings (≈ 5 µs, through threadpoolctl). The settings are process-wide, so calls that overlap in several
Python threads share one hold, and the last one out restores them; meanwhile NumPy's own products in other
threads also run on one BLAS thread.

After a product of its own, OpenBLAS's idle threads spin on the cores for 2^28 cycles (≈ 0.1 s) before they
sleep, and a kernel that splits its rows over numba's threads meanwhile runs at one thread's speed: a neuron
call at (1e5, 10) right after a 400×400 NumPy product took 2.1–3.3× the call alone, an MLP call 1.9×; with
OPENBLAS_THREAD_TIMEOUT=4 (2^4 cycles) 1.11–1.20× and 1.02–1.04× (scripts/bench/contention.py, which alternates
call, product, call). OpenBLAS reads that variable once, as NumPy loads it, so ``derive.kernels`` sets it (unless
you did) when it is imported before NumPy; imported after, set it yourself before starting Python.

``batch_threads()`` is how many threads split a batch: numba's count under the OpenMP or TBB layer, whose
idle threads wait spinning, but 1 under the workqueue layer (numba's fallback when neither library is
installed), whose threads sleep between parallel regions: an epoch of 391 batches took 173 ms on two
workqueue threads against 46 ms on one.
"""
import contextlib
import threading

import numba
import threadpoolctl

_libraries = None
_splits = None


def _blas():
    """threadpoolctl's handles on the BLAS libraries loaded, found once (the scan takes milliseconds)."""
    global _libraries
    if _libraries is None:
        import scipy.linalg.cython_blas  # noqa: F401  the BLAS numba's np.dot calls: loaded before the scan
        _libraries = threadpoolctl.ThreadpoolController().select(user_api="blas").lib_controllers
    return _libraries


_held = threading.Lock()   # guards _holders and _saved
_holders = 0               # calls inside one_blas_thread() right now, in any thread
_saved = None              # the BLAS thread counts from before the first of them


@contextlib.contextmanager
def one_blas_thread():
    """Every BLAS at one thread inside the block; the caller's thread counts restored after.

    The counts are process-wide, so overlapping calls from several Python threads share one hold: the first to
    enter saves the counts, the last to leave restores them (two independent save/restore pairs could
    interleave and leave BLAS at one thread for good)."""
    global _holders, _saved
    libraries = _blas()
    with _held:
        if _holders == 0:
            _saved = [library.get_num_threads() for library in libraries]
            for library in libraries:
                library.set_num_threads(1)
        _holders += 1
    try:
        yield
    finally:
        with _held:
            _holders -= 1
            if _holders == 0:
                for library, threads in zip(libraries, _saved):
                    library.set_num_threads(threads)


def batch_threads():
    """Threads to split a batch's rows over: numba.get_num_threads(), or 1 under the workqueue layer."""
    global _splits
    if _splits is None:
        from numba.np.ufunc import parallel  # starts numba's pool, so that its layer is known
        parallel._launch_threads()
        _splits = numba.threading_layer() != "workqueue"
    return numba.get_num_threads() if _splits else 1
