"""The input checks every generated module shares (written by hand, not generated).

Each check returns the value ready for the compiled cores (float64, C-contiguous) or raises ``ValueError``
with one line that says what was wrong and what is expected. Conversions happen only where they are
lossless. X and the parameters are checked for NaN and inf before any kernel runs: a result cannot be trusted
to show them (ReLU and the hinge map NaN and -inf to 0, predict has no result to check, and fit would have
updated the parameters in place before the check). X is screened by its sum, one vectorised pass; only when
the sum is not finite is X searched for the row to name.
"""
import math
import numbers
import operator

import numba
import numpy as np

NO_LABELS = object()     # "no y given" (a user's y=None must still be refused as a bad label array)
_LOSSLESS = ("b", "i1", "i2", "i4", "u1", "u2", "u4", "f2", "f4", "f8")
MAX_EPOCHS = 10**7      # a loss per epoch is kept: 80 MB at most
_EXACT_INT = 2**53       # a Python int: compared with int64 in float64, 2**53 + 1 would pass


def _not_masked(value, name):
    if isinstance(value, np.ma.MaskedArray):
        raise ValueError(f"{name} is a masked array; its mask would be ignored: fill or drop the masked values "
                         f"(e.g. {name}.filled() or {name}.compressed())")


def _as_float64(value, name):
    """``value`` as a float64 C-contiguous array, converting only where no value can change."""
    if type(value) is np.ndarray and value.dtype == np.float64 and value.flags.c_contiguous:
        return value  # the common case, in well under a microsecond
    _not_masked(value, name)
    array = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, not {array.dtype}")
    if array.dtype.kind in "iu" and array.dtype.itemsize == 8 and array.size \
            and (array.max() > _EXACT_INT or array.min() < -_EXACT_INT):
        raise ValueError(f"{name} has integers beyond 2**53 that float64 cannot hold exactly")
    if array.dtype.kind == "f" and array.dtype.itemsize > 8:
        raise ValueError(f"{name} is {array.dtype}; converting to float64 would round it: pass float64")
    return np.ascontiguousarray(array, dtype=np.float64)


def _shaped(value, name, shape):
    array = _as_float64(value, name)
    if array.shape != shape:
        raise ValueError(f"{name} has shape {array.shape}; expected {shape}")
    return _finite_parameter(array, name)


def _finite_parameter(array, name):
    if not all_finite(array.reshape(-1)):  # 1-D: one compiled specialisation for every shape
        raise ValueError(f"{name} holds a non-finite value: the parameters must be finite")
    return array


def layers(params, hidden, squeeze, min_outputs):
    """(W1, b1, …, Wk, bk) as float64 arrays: W_l of shape (n_in, n_out), each n_in the previous n_out, b_l of
    shape (n_out,); k ≥ 2 when ``hidden``, else k = 1, where ``squeeze`` lets one output keep w as a vector."""
    if not isinstance(params, (tuple, list)) or len(params) % 2 or len(params) < 2 or \
            (hidden and len(params) < 4) or (not hidden and len(params) != 2):
        what = "(W1, b1, ..., Wk, bk) with at least one hidden layer" if hidden else \
            "(w, b) or (W, b)" if squeeze else "(W, b)"
        got = f"{type(params).__name__} of length {len(params)}" if isinstance(params, (tuple, list)) \
            else type(params).__name__
        raise ValueError(f"params must be a tuple {what}; got a {got}")
    checked, width = [], None
    count = len(params) // 2
    for layer in range(count):
        name = f"W{layer + 1}" if hidden else "W"
        W = _as_float64(params[2 * layer], name)
        if squeeze and W.ndim == 1 and count == 1:
            W = W.reshape(-1, 1)
            name = "w"
        if W.ndim != 2 or 0 in W.shape or (width is not None and W.shape[0] != width):
            want = f"({width}, n_out)" if width is not None else "(n_features, n_outputs)"
            raise ValueError(f"{name} has shape {W.shape}; expected {want}")
        width = W.shape[1]
        b = _shaped(params[2 * layer + 1], f"b{layer + 1}" if hidden else "b", (width,))
        checked += [_finite_parameter(W, name), b]
    if width < min_outputs:
        raise ValueError(f"the last layer has {width} output(s); this head needs at least {min_outputs}")
    return tuple(checked)


class _Alias:
    """The array interface of a read-only array, marked writable: see ``readable``."""

    def __init__(self, array):
        interface = dict(array.__array_interface__)
        interface["data"] = (interface["data"][0], False)  # (address, read-only flag)
        self.__array_interface__ = interface
        self.array = array  # kept alive by the alias's base


def readable(array):
    """``array`` itself, or, when it is read-only (a memory map opened for reading, a Dask chunk, a view with
    write=False), the same memory as a writable array: the kernels never write X or y, but numba types read-only
    arrays apart and the compiled loops take writable ones. No copy either way."""
    return array if array.flags.writeable else np.asarray(_Alias(array))


def features(X, n_features, screen=True):
    """X of shape (N, n_features), N >= 1, as float64; finite too, unless ``screen`` is False because the
    kernel itself reports a non-finite X through its result (then ``finite_rows`` names the row)."""
    X = readable(_as_float64(X, "X"))
    if X.ndim != 2 or X.shape[1] != n_features or X.shape[0] == 0:
        got = f"{X.shape[1]} columns" if X.ndim == 2 and X.shape[0] else f"shape {X.shape}"
        fix = f"; or, if X is right, weights of {X.shape[1]} rows" if X.ndim == 2 and X.shape[0] else ""
        raise ValueError(f"X has {got}, but the parameters take {n_features} feature{'s' * (n_features != 1)} "
                         f"(the first weights' rows): X must have shape (N, {n_features}) with N >= 1{fix}")
    if screen:
        with np.errstate(over="ignore", invalid="ignore"):
            total = X.sum()
        if not math.isfinite(total):  # a NaN or inf makes the sum non-finite; so can an overflow, hence the search
            finite_rows(X)
    return X


def finite_rows(X):
    """Raise naming the first non-finite entry of X, if there is one."""
    rows = np.flatnonzero(~np.isfinite(X).all(axis=1))
    if rows.size:
        row = int(rows[0])
        column = int(np.flatnonzero(~np.isfinite(X[row]))[0])
        raise ValueError(f"X[{row}, {column}] = {X[row, column]}: X must be finite")


def labels(y, n_rows, spec, n_outputs=1, classes=False):
    """y with values the loss accepts: spec is ('real',), ('interval', lo, hi), ('set', values) or ('classes',).
    Class indices have shape (n_rows,); values shape (n_rows,) for one output and (n_rows, n_outputs) for more."""
    _not_masked(y, "y")
    if classes:
        array = np.asarray(y)
        if array.dtype.kind not in "iu" and not (array.dtype.kind == "f" and array.size
                                                  and np.all(np.isfinite(array)) and np.all(array == np.round(array))):
            raise ValueError(f"y must hold integer class indices 0 … {n_outputs - 1}, not {array.dtype} values")
        array = np.ascontiguousarray(array, dtype=np.int64)
        shape = (n_rows,)
    else:
        array = _as_float64(y, "y")
        shape = (n_rows,) if n_outputs == 1 else (n_rows, n_outputs)
    if array.shape != shape and not (n_outputs == 1 and array.shape == (n_rows, 1)):
        per_row = "one class index per row of X" if classes else \
            "one label per row of X" if n_outputs == 1 else f"{n_outputs} labels per row of X, one per output"
        raise ValueError(f"y has shape {array.shape}; expected {shape}, {per_row}")
    row = _first_bad_label(array.reshape(-1), spec, n_outputs)
    if row >= 0:
        where = np.unravel_index(row, array.shape)
        index = where[0] if array.ndim == 1 else where
        raise ValueError(f"y[{', '.join(str(int(i)) for i in np.atleast_1d(index))}] = {array.reshape(-1)[row]} "
                         f"is not a valid label: {_label_text(spec, n_outputs)}")
    return array


def _first_bad_label(array, spec, n_classes):
    """The index of the first label outside the loss's set, or -1: one compiled, vectorised pass."""
    kind = spec[0]
    if kind == "classes":
        first = _first_outside(array, 0, n_classes - 1)
    elif kind == "interval":  # finite even where the interval is unbounded: a count of inf is no count
        first = _first_outside(array, spec[1], spec[2])
    elif kind == "set":
        first = _first_not_in(array, np.asarray(spec[1], dtype=np.float64))
    else:
        first = _first_outside(array, -math.inf, math.inf)
    return int(first)


@numba.njit(cache=True)
def _first_outside(values, low, high):
    """The first index whose value is not finite or not in [low, high], or -1.

    First a count with no early exit and no branch, which LLVM vectorises (≈ 0.1 ns a label against ≈ 1 ns
    for a loop that stops at the first bad label); the search runs only when the count is not 0."""
    bad = 0
    for i in range(values.shape[0]):
        v = values[i]
        bad += (v >= low) & (v <= high) & (abs(v) < math.inf) ^ True
    if bad == 0:
        return -1
    for i in range(values.shape[0]):
        v = values[i]
        if not (v >= low and v <= high and abs(v) < math.inf):
            return i
    return -1


@numba.njit(cache=True)
def _first_not_in(values, allowed):
    """The first index whose value is none of ``allowed`` (distinct values), or -1. First the matches are
    counted, one vectorised pass per allowed value (a value matches at most one); the search runs only when
    some value matched none."""
    good = 0
    for a in allowed:
        for i in range(values.shape[0]):
            good += values[i] == a
    if good == values.shape[0]:
        return -1
    for i in range(values.shape[0]):
        found = False
        for a in allowed:
            found |= values[i] == a
        if not found:
            return i
    return -1


@numba.njit(cache=True)
def all_finite(values):
    """Whether every value of the array is finite (compiled: no temporary array)."""
    for v in values.ravel():
        if not abs(v) < math.inf:
            return False
    return True


def _label_text(spec, n_classes):
    kind = spec[0]
    if kind == "classes":
        return f"expected a class index 0 … {n_classes - 1}"
    if kind == "interval":
        return f"expected a finite value in [{spec[1]}, {spec[2]}]"
    if kind == "set":
        return f"expected one of {', '.join(str(v) for v in spec[1])}"
    return "expected a finite number"


def writable(params, X=None):
    """params that an in-place update can write: float64, C-contiguous, writable arrays that share no memory
    with X (an update would change X)."""
    if not isinstance(params, (tuple, list)):
        raise ValueError(f"params must be a tuple of arrays; got {type(params).__name__}")
    for index, array in enumerate(params):
        if not (isinstance(array, np.ndarray) and array.dtype == np.float64 and array.flags.c_contiguous
                and array.flags.writeable) or isinstance(array, np.ma.MaskedArray):
            raise ValueError(f"params[{index}] is updated in place, so it must be a writable C-contiguous float64 "
                             f"array (use init() or np.ascontiguousarray(p, dtype=np.float64))")
        if X is not None and isinstance(X, np.ndarray) and np.may_share_memory(array, X):
            raise ValueError(f"params[{index}] shares memory with X, so an update would change X; pass a copy "
                             f"(params[{index}].copy())")
    return params


def learning_rate(lr):
    """A finite lr > 0, given as a number (not a string or a bool)."""
    if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, (numbers.Real, np.ndarray)):
        raise ValueError(f"lr must be a number, not {lr!r}")
    try:
        lr = float(lr)
    except (TypeError, ValueError):
        raise ValueError(f"lr must be a number, not {lr!r}") from None
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be finite and > 0, not {lr}")
    return lr


def count(value, name, low=1, high=None):
    """A whole number in [low, high] (a bool is not a number here)."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None
    if number < low:
        raise ValueError(f"{name} must be >= {low}, not {number}")
    if high is not None and number > high:
        raise ValueError(f"{name} must be at most {high:,}, not {number:,}")
    return number


def seed(value):
    """A seed for numpy's generators: a whole number >= 0 below 2**32."""
    number = count(value, "seed", 0)
    if number >= 2**32:
        raise ValueError(f"seed must be below 2**32, not {number}")
    return number


def fit_options(epochs, batch_size, seed_value, n_rows):
    """(1 <= epochs <= MAX_EPOCHS, 1 <= batch_size <= N, seed): a batch larger than N is the full batch."""
    epochs = count(epochs, "epochs", 1, MAX_EPOCHS)
    batch_size = min(count(batch_size, "batch_size"), n_rows)
    return epochs, batch_size, seed(seed_value)


def finite_result(value, arrays, X, params):
    """Raise naming the first non-finite input when the result is not finite, or saying that the arithmetic
    overflowed when every input is finite."""
    if math.isfinite(value) and all(all_finite(a) for a in arrays):
        return
    finite_rows(X)
    for index, array in enumerate(params):
        if not np.isfinite(array).all():
            raise ValueError(f"params[{index}] holds a non-finite value: the parameters must be finite "
                             f"(a learning rate too large for the data can make them diverge)")
    raise ValueError("the loss or its gradient is not finite although X and the parameters are: the weighted "
                     "sums overflow float64 (|z| beyond 1.8e308); scale X or the parameters")
