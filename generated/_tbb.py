"""numba's TBB threading layer made available before anything starts numba's threads (written by hand).

Loaded by ``derive.kernels`` as it is imported, so that a ``numba.set_num_threads`` of yours, or any parallel
code that runs before a kernel, starts TBB's pool rather than GNU OpenMP's: a child forked after OpenMP ran
dies, and OpenMP's idle threads spin on the cores: an epoch of the MLP training benchmark beside one busy
process took 190–230 ms on two OpenMP threads, 48 ms on TBB's two, 43–69 ms on one thread.
"""
import ctypes
import os
import site
import sys


def _load_tbb():
    """Make numba's TBB threading layer available, which survives fork() (GNU OpenMP's does not: a child forked
    after a parallel kernel ran dies with "fork() called from a process already using GNU OpenMP").

    pip's ``tbb`` wheel puts libtbb.so.12 in <prefix>/lib, off the loader's path, so numba cannot import its TBB
    pool; loading the library first by its full path fixes that. numba then prefers TBB by default. A layer the
    user chose (NUMBA_THREADING_LAYER) is left alone."""
    if os.environ.get("NUMBA_THREADING_LAYER") or not sys.platform.startswith("linux"):
        return
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix, site.getuserbase())):
        path = os.path.join(prefix, "lib", "libtbb.so.12")
        if os.path.exists(path):
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
            except OSError:
                continue
            return
