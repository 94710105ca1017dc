"""Generated numba kernels: one module per (model, activation, loss), all with the same API.

    >>> import derive.kernels as kernels
    >>> m = kernels.load("neuron_sigmoid_bce")          # or load(model="neuron", activation=..., loss=...)
    >>> params = m.init(3)
    >>> m.fit(params, X, y, lr=0.1, epochs=5)

Every module: MODEL, ACTIVATION, LOSS (HIDDEN for mlp); init, predict, loss, loss_and_gradient, gradient,
step, fit; and ``core`` with the unchecked compiled functions. ``State(params, "adam", **options)`` carries an
optimizer between calls; ``derive.kernels.estimators`` holds the scikit-learn estimators,
``derive.kernels.distributed`` the kernels on Dask arrays. The modules are written by
``derive generate``; do not edit them by hand.
"""
import importlib
import os
import sys

if __name__ != "derive.kernels":   # numba caches by file, not by module name: code cached under another name
    raise ImportError(f"the kernels are the package derive.kernels: import them by that name, not as {__name__!r}")

if "numpy" not in sys.modules:   # OpenBLAS reads it once, when NumPy loads it; a value you set is kept
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")   # idle BLAS threads sleep at once: see _threads

from ._tbb import _load_tbb

_load_tbb()   # before any numba thread starts: see _tbb

__all__ = ["State", "available", "load", "warm"]
_RUNTIME = ("distributed.py", "estimators.py")   # public modules beside the kernels, written by hand


def available():
    """The names of the generated modules, sorted (os, not pkgutil: 23 ms less at import)."""
    return sorted(entry[:-3] for folder in __path__ for entry in os.listdir(folder)
                  if entry.endswith(".py") and not entry.startswith("_") and entry not in _RUNTIME)


def __getattr__(name):
    """``State`` (an optimizer and what it carries between calls, ``_training.State``), imported on first use."""
    if name == "State":
        from ._training import State
        return State
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load(name=None, *, model="neuron", activation=None, loss=None, hidden=None):
    """A generated module by name, or by its parts: load(model="mlp", hidden="tanh", activation=..., loss=...)."""
    if name is None:
        if activation is None or loss is None:
            raise ValueError("load() needs a module name, or activation= and loss= (and model=, hidden=)")
        name = "_".join(part for part in (model, hidden, activation, loss) if part)
    elif any(v is not None for v in (activation, loss, hidden)):
        raise ValueError("load() takes a module name or its parts (activation=, loss=, ...), not both")
    if not isinstance(name, str):
        raise ValueError(f"load() takes a module name as a string, not {type(name).__name__}")
    names = available()
    if name not in names:
        import difflib  # only for the error, so as not to slow the import
        near = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(near)}?" if near else "; see derive.kernels.available()"
        raise ValueError(f"no generated module {name!r}{hint}")
    return importlib.import_module(f"{__name__}.{name}")


def warm(names=None, *, progress=None):
    """Compile modules ahead of time, every path their public functions take (default: all of them), into
    numba's cache; returns {name: seconds}. ``progress(name, seconds)`` is called after each."""
    from ._warm import warm as warm_module
    names = available() if names is None else ([names] if isinstance(names, str) else list(names))
    took = {}
    for name in names:
        took[name] = warm_module(load(name))
        if progress is not None:
            progress(name, took[name])
    return took
