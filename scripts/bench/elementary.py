"""Time generated/_elementary.py and _normal.py in numba loops against libm (numba's math.*) and NumPy; ns/element.

    python -m scripts.bench.elementary [--n 1000000] [--repeat 7] [--only NAME ...]

For each function, a loop ``out[i] = f(x[i])`` is compiled twice, with the caller's fastmath flags
{'reassoc', 'contract', 'nsz'} (as in generated kernels) and without; "vectorised" says whether that
loop's machine code holds packed double arithmetic. The same loop calling the libm formula, and the
NumPy expression, are the baselines (NumPy has no erf: SciPy's ufuncs stand in when installed). The
last columns check that the fastmath caller changes no bit, and give the largest distance from the libm
formula. Prints a Markdown table.
"""
import argparse
import math
import time

import numba
import numpy as np

from derive.kernels import _elementary as E
from derive.kernels import _normal as NM

FAST = {"reassoc", "contract", "nsz"}
SQRT_HALF = math.sqrt(0.5)

try:                                       # NumPy has no erf; use SciPy's ufuncs when present
    from scipy.special import erf as _np_erf, ndtr as _np_ndtr
except ImportError:
    _np_erf = _np_ndtr = None

# name: (the libm formula, compiled into the same numba loop; the NumPy expression or None; input range)
BASELINES = {
    "exp": (lambda x: math.exp(x), np.exp, (-700, 700)),
    "expm1": (lambda x: math.expm1(x), np.expm1, (-40, 40)),
    "log": (lambda x: math.log(x), np.log, (1e-300, 1e300)),
    "log1p": (lambda x: math.log1p(x), np.log1p, (-0.999, 1e6)),
    "sigmoid": (lambda x: 1.0 / (1.0 + math.exp(-x)), lambda x: 1.0 / (1.0 + np.exp(-x)), (-40, 40)),
    "softplus": (lambda x: max(x, 0.0) + math.log1p(math.exp(-abs(x))),
                 lambda x: np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))), (-40, 40)),
    "log_softplus": (lambda x: math.log(max(x, 0.0) + math.log1p(math.exp(-abs(x)))),
                     lambda x: np.log(np.logaddexp(0.0, x)), (-40, 40)),
    "tanh": (lambda x: math.tanh(x), np.tanh, (-20, 20)),
    "log_cosh": (lambda x: abs(x) + math.log1p(math.exp(-2.0 * abs(x))) - math.log(2.0),
                 lambda x: np.logaddexp(x, -x) - np.log(2.0), (-20, 20)),
    "erf": (lambda x: math.erf(x), _np_erf, (-6, 6)),
    "normal_cdf": (lambda x: 0.5 * math.erfc(-x * SQRT_HALF), _np_ndtr, (-10, 10)),
}


def loop(f, fastmath):
    """out[i] = f(x[i]), compiled with the caller's ``fastmath``."""
    @numba.njit(fastmath=fastmath)
    def run(x, out):
        for i in range(x.size):
            out[i] = f(x[i])
    return run


def ns_per_element(runs, x, repeat):
    """Median ns/element of each ``run(x, out)``, and its output; the runs take turns, so that load from
    other processes falls on all of them alike."""
    outs = [np.empty_like(x) for _ in runs]
    for run, out in zip(runs, outs):
        run(x, out)                                        # compile, warm up
    times = np.empty((repeat, len(runs)))
    for i in range(repeat):
        for j, (run, out) in enumerate(zip(runs, outs)):
            t = time.perf_counter()
            run(x, out)
            times[i, j] = time.perf_counter() - t
    return 1e9 * np.median(times, axis=0) / x.size, outs


def vectorised(run):
    asm = next(iter(run.inspect_asm().values()))
    return any(op in asm for op in ("vmulpd", "vaddpd", "vfmadd"))


def ulps(a, b):
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return float(np.max(np.where(same, 0.0, np.abs(a - b) / np.spacing(np.abs(b)))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--only", nargs="+", choices=sorted(BASELINES), help="time these functions only")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"ns/element, median of {args.repeat} runs over {args.n:.0e} float64s; numba {numba.__version__}\n")
    print("| function | ours, fastmath caller | ours, strict caller | vectorised | libm in numba | NumPy "
          "| results changed by fastmath caller | max ulp from libm formula |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (libm, numpy_expr, (lo, hi)) in BASELINES.items():
        if args.only and name not in args.only:
            continue
        f = getattr(E if hasattr(E, name) else NM, name)
        x = rng.uniform(lo, hi, args.n)
        fast = loop(f, FAST)
        runs = [fast, loop(f, False), loop(numba.njit(libm), False)]
        if numpy_expr is not None:
            runs.append(lambda x, out, expr=numpy_expr: np.copyto(out, expr(x)))
        (t_fast, t_strict, t_libm, *t_np), (y_fast, y_strict, y_libm, *_) = ns_per_element(runs, x, args.repeat)
        t_np = f"{t_np[0]:.1f}" if t_np else "—"
        changed = int(np.sum(y_fast.view(np.int64) != y_strict.view(np.int64)))
        print(f"| {name} | {t_fast:.1f} | {t_strict:.1f} | {'yes' if vectorised(fast) else 'no'} "
              f"| {t_libm:.1f} | {t_np} | {changed} | {ulps(y_fast, y_libm):.2f} |")
    print("\nThe libm formulas for log_cosh, log_softplus and normal_cdf lose digits themselves"
          " (cancellation near 0 and near log softplus = 0, rounding of x/√2 and x²/2); tests/test_elementary.py"
          " measures against mpmath instead.")


if __name__ == "__main__":
    main()
