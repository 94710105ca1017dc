"""A fit's batches split over threads, compiled in tiers (written by hand, not generated).

A batch of N rows that pays for C threads (``_dense.worth_splitting``) is cut into C chunks, rows
[c·N/C, (c + 1)·N/C), each summed by ``_dense._span`` into its own gradient row and workspace:

    totals[c] = Σ L over chunk c,   parts[c] = Σ ∂L/∂θ over chunk c   (the caller adds them up, c = 0 … C − 1)

``chunks_parallel`` runs the chunks on numba's threads (a parfor: 0.6 s to compile, and a pool to start),
``chunks_serial`` one after the other (0.2 s). Both call the same compiled ``_span`` by its address and fill the
same arrays, which the caller sums in the same order: the results are equal to the last bit whichever ran. A fit
calls the chunks by address too (``calls``): the serial runner until the parallel one is compiled (in this
process or in numba's cache), or until the work of the process's split fits (epochs × N × multiply-adds of a
row) pays for compiling it (_tuning.COMPILE_PAYS). So a first short fit does not wait for the parfor, and a
process that keeps fitting soon runs on all its threads.
"""
import numpy as np
from numba import njit, prange

from . import _first_class as _fc
from . import _tuning as _t

_DEPENDS = "98e6e895034e53a9"  # a digest of the helpers this module compiles in; derive generate keeps it current

_FASTMATH = {"reassoc", "contract", "nsz"}  # what vectorising needs; never nnan or ninf


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy")
def chunks_serial(theta, widths, X, Y, parts, Zs, As, Ds, Gs, rows, pieces, totals, calls):
    """Chunk c of X's rows into totals[c] and parts[c], one chunk after the other."""
    n = X.shape[0]
    chunks = parts.shape[0]
    span = _fc.span_at(calls[0], calls[1], X)
    for c in range(chunks):
        lo = c * n // chunks
        hi = (c + 1) * n // chunks
        totals[c] = span(theta, widths, X[lo:hi], Y[lo:hi], parts[c], Zs[c], As[c], Ds[c], Gs[c], rows, pieces)


@njit(cache=True, parallel=True, fastmath=_FASTMATH, error_model="numpy")
def chunks_parallel(theta, widths, X, Y, parts, Zs, As, Ds, Gs, rows, pieces, totals, calls):
    """chunks_serial on numba's threads."""
    n = X.shape[0]
    chunks = parts.shape[0]
    for c in prange(chunks):
        lo = c * n // chunks
        hi = (c + 1) * n // chunks
        span = _fc.span_at(calls[0], calls[1], X)
        totals[c] = span(theta, widths, X[lo:hi], Y[lo:hi], parts[c], Zs[c], As[c], Ds[c], Gs[c], rows, pieces)


_calls = {}   # (span dispatcher, tier) -> addresses: span, then chunk runner (0 when no runner is needed)
_work = [0]   # the work of the split fits so far in this process


def calls(span, split, work):
    """int64 addresses (span, chunk runner) for a fit: no runner when ``split`` is False, else the parallel one
    when it is ready or the split fits' work in this process (this one's included) pays for compiling it, else
    the serial one."""
    if not split:
        return _addresses(span, None)
    if (span, chunks_parallel) in _calls:
        return _calls[span, chunks_parallel]
    _work[0] += work
    if _work[0] >= _t.COMPILE_PAYS or _fc.ready(chunks_parallel, _fc.CHUNKS) is not None:
        return _addresses(span, chunks_parallel)
    return _addresses(span, chunks_serial)


def parallel():
    """Compile the parallel chunks now (``derive warm``): later split fits use them."""
    _fc.addresses((chunks_parallel, _fc.CHUNKS))


def _addresses(span, runner):
    found = _calls.get((span, runner))
    if found is None:
        pair = [0, 0] if runner is None else list(_fc.addresses((runner, _fc.CHUNKS)))
        found = _calls[span, runner] = np.array(list(_fc.addresses((span, _fc.SPAN))) + pair, dtype=np.int64)
    return found
