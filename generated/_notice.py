"""One line on stderr while a first call compiles (written by hand, not generated).

numba compiles a kernel on its first call in a machine's life, and loads it from its cache afterwards; a compile
takes seconds and says nothing. The first call of each public function of a module in a process runs under a
timer: if it is still running after ``AFTER`` seconds, one line says what is happening. ``DERIVE_QUIET=1``
silences it.
"""
import contextlib
import os
import sys
import threading

AFTER = 1.0
_seen = set()


_QUIET = contextlib.nullcontext()


def compiling(module_name, what):
    """Around a call that may compile: says so once, if it takes longer than AFTER seconds (after the first call
    of a kind, nothing at all: a shared null context)."""
    key = (module_name, what)
    if key in _seen or os.environ.get("DERIVE_QUIET") == "1":
        return _QUIET
    _seen.add(key)
    return _timed(module_name, what)


@contextlib.contextmanager
def _timed(module_name, what):
    timer = threading.Timer(AFTER, _say, (module_name, what))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _say(module_name, what):
    print(f"derive: compiling {module_name.rsplit('.', 1)[-1]} ({what}) for this machine; numba caches it, so "
          f"later runs start at once (derive warm compiles ahead of time)", file=sys.stderr, flush=True)
