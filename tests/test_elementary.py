"""generated/_elementary.py against high-precision references, in ulps, over each function's domain.

Every function is called the way generated kernels call it: from a numba loop compiled with
fastmath={'reassoc', 'contract', 'nsz'}. The bound asserted is the "≤ N ulp" of its own docstring.
"""
import functools
import math
import re
import zlib

import mpmath
import numba
import numpy as np
import pytest

from derive.kernels import _elementary as E
from derive.kernels import _normal as NM
from derive.kernels import _scalar as S

FUNCTIONS = {name: getattr(module, name) for module in (E, NM) for name in module.__all__}  # every function

TINY = 5e-324                  # smallest subnormal
DBL_MIN = 2.2250738585072014e-308
DBL_MAX = 1.7976931348623157e308
R2 = math.sqrt(2.0)
mp = mpmath.mp


def _ref_log_cosh(x):
    """log cosh x, with cosh x - 1 = 2 sinh²(x/2) so that small x keep their digits."""
    return mpmath.log1p(2 * mpmath.sinh(x / 2) ** 2)


# name: (mpmath reference, lowest x in the domain, largest |x| sampled, edges where the method switches)
REFERENCE = {
    "exp": (mpmath.exp, -math.inf, 800.0,
            (709.782712893384, -708.3964185322641, -745.1332191019411, 0.34657359027997264)),
    "expm1": (mpmath.expm1, -math.inf, 800.0, (709.782712893384, 38.816242111356935, 0.34657359027997264,
                                              -0.34657359027997264, -37.42994775023705, 2.0**-54)),
    "log": (mpmath.log, 0.0, DBL_MAX, (1.0, DBL_MIN, R2, 1 / R2)),
    "log1p": (mpmath.log1p, -1.0, DBL_MAX, (-0.2928932188134524, 0.41421356237309515, -1.0 + 2.0**-40,
                                            2.0**-53, 2.0**54)),
    "sigmoid": (lambda x: 1 / (1 + mpmath.exp(-x)), -math.inf, DBL_MAX, (0.0, 36.7, -745.0, -709.0)),
    "softplus": (lambda x: mpmath.log1p(mpmath.exp(x)), -math.inf, DBL_MAX, (0.0, 37.0, -745.0, 709.0)),
    "log_softplus": (lambda x: mpmath.log(mpmath.log1p(mpmath.exp(x))), -math.inf, DBL_MAX,
                     (-20.0, -0.3, 2.0, 0.5413248546129181, -745.0, -709.0)),
    "tanh": (mpmath.tanh, -math.inf, DBL_MAX, (2.0**-28, 0.55, 19.06)),
    "log_cosh": (_ref_log_cosh, -math.inf, DBL_MAX, (20.0, 2.0**-28, 1.0)),
    "erf": (mpmath.erf, -math.inf, DBL_MAX, (0.25, 0.84375, 1.25, 1 / 0.35, 6.0, 2.0**-28)),
    "normal_cdf": (lambda x: mpmath.ncdf(min(max(x, -100), 100)),      # mpmath overflows for huge |x|
                   -math.inf, DBL_MAX, (0.25 * R2, 0.84375 * R2, 1.25 * R2, R2 / 0.35, -38.4, 8.3)),
}

# f(-inf), f(-0), f(+0), f(inf): compared bit for bit, so the sign of zero counts
EDGES = {
    "exp": (0.0, 1.0, 1.0, math.inf),
    "expm1": (-1.0, -0.0, 0.0, math.inf),
    "log": (math.nan, -math.inf, -math.inf, math.inf),
    "log1p": (math.nan, -0.0, 0.0, math.inf),
    "sigmoid": (0.0, 0.5, 0.5, 1.0),
    "softplus": (0.0, math.log(2), math.log(2), math.inf),
    "log_softplus": (-math.inf, math.log(math.log(2)), math.log(math.log(2)), math.inf),
    "tanh": (-1.0, -0.0, 0.0, 1.0),
    "log_cosh": (math.inf, 0.0, 0.0, math.inf),
    "erf": (-1.0, -0.0, 0.0, 1.0),
    "normal_cdf": (0.0, 0.5, 0.5, 1.0),
}

# dense checks against Python's libm (glibc), adding glibc's listed maximum error to the bound
LIBM = {"exp": (math.exp, 1), "expm1": (math.expm1, 1), "log": (math.log, 1), "log1p": (math.log1p, 1),
        "tanh": (math.tanh, 2), "erf": (math.erf, 1)}


def _bound(name, module=None):
    """The '≤ N ulp' stated in the function's docstring."""
    f = FUNCTIONS[name] if module is None else getattr(module, name)
    return float(re.search(r"≤ (\d+(?:\.\d+)?) ulp", f.__doc__).group(1))


@functools.cache
def _fast_loop(name, module=None):
    f = FUNCTIONS[name] if module is None else getattr(module, name)

    @numba.njit(fastmath={"reassoc", "contract", "nsz"})
    def run(x):
        out = np.empty_like(x)
        for i in range(x.size):
            out[i] = f(x[i])
        return out
    return run


def _sample(name, n, seed):
    """Log-uniform magnitudes from the smallest subnormal up, uniform points in the middle, and points
    within a few ulps and within 1% of every edge; all inside the domain."""
    _, lowest, top, edges = REFERENCE[name]
    rng = np.random.default_rng(seed)
    mags = np.exp2(rng.uniform(-1074, np.log2(top), n))
    x = [mags * rng.choice([-1.0, 1.0], n), rng.uniform(-min(top, 50), min(top, 50), n // 4)]
    for e in edges + (lowest,):
        if math.isfinite(e):
            x += [e + np.spacing(e) * np.arange(-4, 5), e + abs(e) * rng.uniform(-0.01, 0.01, 50)]
    x += [np.array([TINY, DBL_MIN, DBL_MAX, 0.5, 1.0, 2.0])]
    x = np.concatenate(x + [-x[-1]])
    if lowest == -1.0:                                   # log1p: also approach -1 from above
        x = np.concatenate([x, -1.0 + np.exp2(rng.uniform(-53, 0, n // 4))])
    return x[x >= lowest]


def _ulps(got, ref):
    """|got - ref| in units of the ulp of the exact value ref (2^-1074 for subnormals)."""
    if mpmath.isinf(ref) or abs(ref) > DBL_MAX:
        return 0.0 if got == float(ref) else math.inf
    ulp = mpmath.ldexp(1, max(mpmath.frexp(ref)[1] - 53, -1074)) if ref else mpmath.mpf(TINY)
    err = float(abs(mpmath.mpf(got) - ref) / ulp)
    return err if err == err else math.inf


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_within_bound_of_mpmath(name):
    x = _sample(name, 1500, seed=zlib.crc32(name.encode()))
    got = _fast_loop(name)(x)
    reference = REFERENCE[name][0]
    with mp.workprec(160):
        ulps = np.array([_ulps(g, reference(mpmath.mpf(v))) for v, g in zip(x.tolist(), got.tolist())])
    worst = int(np.argmax(ulps))
    assert ulps[worst] <= _bound(name), f"{name}({x[worst]!r}) = {got[worst]!r}: {ulps[worst]:.2f} ulp"


@pytest.mark.parametrize("name", S.__all__)
def test_scalar_forms_within_bound_of_mpmath(name):
    """generated/_scalar.py, the libm forms of the one-sample loops, against the same references."""
    x = _sample(name, 1500, seed=zlib.crc32(name.encode()))
    got = _fast_loop(name, S)(x)
    with mp.workprec(160):
        ulps = np.array([_ulps(g, REFERENCE[name][0](mpmath.mpf(v))) for v, g in zip(x.tolist(), got.tolist())])
    worst = int(np.argmax(ulps))
    assert ulps[worst] <= _bound(name, S), f"_scalar.{name}({x[worst]!r}) = {got[worst]!r}: {ulps[worst]:.2f} ulp"


def _or_nan(f, v):
    try:
        return f(v)
    except (OverflowError, ValueError):
        return math.nan


@pytest.mark.parametrize("name", sorted(LIBM))
def test_dense_against_libm(name):
    libm, libm_err = LIBM[name]
    x = _sample(name, 200_000, seed=1)
    got = _fast_loop(name)(x)
    with np.errstate(over="ignore", divide="ignore"):                 # the flags libm's errors leave
        want = np.frompyfunc(functools.partial(_or_nan, libm), 1, 1)(x).astype(np.float64)
    keep = ~np.isnan(want)                               # libm raised; test_edges_and_nan covers these
    x, got, want = x[keep], got[keep], want[keep]
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    ulps = np.where(same, 0.0, np.abs(got - want) / np.spacing(np.abs(want)))
    worst = int(np.argmax(ulps))
    assert ulps[worst] <= _bound(name) + libm_err, f"{name}({x[worst]!r}) = {got[worst]!r}, libm {want[worst]!r}"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_edges_and_nan(name):
    x = np.array([-math.inf, -0.0, 0.0, math.inf, math.nan])
    got = _fast_loop(name)(x)
    want = np.array(EDGES[name] + (math.nan,))
    for g, w, v in zip(got.tolist(), want.tolist(), x.tolist()):
        exact = (math.isnan(g) and math.isnan(w)) or (g == w and math.copysign(1, g) == math.copysign(1, w))
        close = w != 0 and math.isfinite(w) and abs(g - w) <= _bound(name) * math.ulp(w)  # φ(0) = 1/√(2π)
        assert exact or close, f"{name}({v}) = {g!r}, want {w!r}"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_fastmath_caller_changes_no_bit(name):
    """Inlined into a reassoc/contract caller (and vectorised), each result equals the scalar call's."""
    f = FUNCTIONS[name]
    x = _sample(name, 300, seed=7)
    got = _fast_loop(name)(x)
    alone = np.array([f(v) for v in x.tolist()])
    same = (got.view(np.int64) == alone.view(np.int64)) | (np.isnan(got) & np.isnan(alone))
    assert same.all(), f"{name}({x[~same][0]!r}): {got[~same][0]!r} in a loop, {alone[~same][0]!r} alone"


def test_compiled_strict_and_exported():
    assert isinstance(E.__all__, tuple) and isinstance(NM.__all__, tuple)
    for name, function in FUNCTIONS.items():
        opts = function.targetoptions
        # strict flags, inlined by LLVM (which keeps them), never by numba (which would not)
        assert opts["fastmath"] is False and opts["forceinline"] and opts.get("inline", "never") == "never", name
