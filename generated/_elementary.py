"""Float64 elementary functions that LLVM vectorises inside numba loops.

numba's ``math.exp``, ``log1p``, ``tanh``, ``erf`` are scalar libm calls (pip builds have no SVML), and a
call keeps the loop scalar. These use only arithmetic, selects and bit operations instead.

All are compiled with ``fastmath=False``, set explicitly: a callee left unset takes the flags of whichever
caller compiles it first. ``forceinline=True`` marks them ``alwaysinline`` for LLVM, whose inliner keeps
each instruction's strict flags, so ``fastmath`` kernels may call them (without it, the larger ones stay
calls). numba's ``inline='always'`` is avoided: it re-lowers the body under the caller's flags, ``reassoc``
folds (x + 1.5·2^52) - 1.5·2^52 and ln2_hi + ln2_lo, and exp, expm1, tanh and erf return garbage.

Each docstring gives the formula; ``≤ N ulp``, the bound tests/test_elementary.py asserts against mpmath;
the largest error seen in ~10^7 samples (and 4·10^5 more after Horner went to fused multiply-adds); and the
median ns/element from ``python -m scripts.bench.elementary`` (1e6 elements, 2-core AMD EPYC Zen 4). To add a
function: write it so, add it to ``__all__`` and to the test's REFERENCE and EDGES tables.
"""
import math

import numba
from numba.core import types
from numba.extending import intrinsic

__all__ = ("exp", "expm1", "log", "log1p", "sigmoid", "softplus", "log_softplus", "tanh", "log_cosh")

_jit = numba.njit(cache=True, fastmath=False, error_model="numpy", forceinline=True)

_INF = math.inf
_NAN = math.nan
# powers of two as globals: numba would compute a literal 2.0**-54 with a pow() call, which blocks vectorising
_TWO_54, _TWO_M28, _TWO_M53, _TWO_M54 = 2.0**54, 2.0**-28, 2.0**-53, 2.0**-54


@intrinsic
def _bits(typingctx, x):
    """The IEEE-754 bit pattern of a float64 as an int64 (a register move, so it vectorises)."""
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))
    return types.int64(types.float64), codegen


@intrinsic
def _float(typingctx, b):
    """The float64 whose IEEE-754 bit pattern is the int64 ``b``."""
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))
    return types.float64(types.int64), codegen


@intrinsic
def _fma(typingctx, a, b, c):
    """a b + c rounded once (llvm.fma: one instruction where the CPU has FMA, as x86-64-v3 and arm64 do)."""
    def codegen(context, builder, sig, args):
        return builder.fma(*args)
    return types.float64(types.float64, types.float64, types.float64), codegen


@numba.njit(cache=True, fastmath=False, error_model="numpy", inline="always")
def _poly(t, c):
    """c[0] t^m + ... + c[m] by Horner, each step one fused multiply-add (half the instructions, one rounding
    fewer: tanh 2.2 → 1.8 ns/element); ``c`` is a constant tuple, so LLVM unrolls the loop. Inlined by numba
    (no compile of its own for each length of ``c``: 0.3 s of a first fit): every caller is strict, as it is."""
    acc = c[0]
    for k in range(1, len(c)):
        acc = _fma(acc, t, c[k])
    return acc


# ---------------------------------------------------------------- exp family
_SHIFT = 6755399441055744.0          # 1.5 * 2^52: t + _SHIFT rounds t to an integer held in the low bits
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # 32 significant bits, so n * _LN2_HI is exact for |n| < 2^21
_LN2_LO = 1.90821492927058770002e-10  # ln2 - _LN2_HI
_EXPM1_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(13, 1, -1))  # 1/13! ... 1/2!


@_jit
def _exp_parts(hi, lo):
    """e^(hi + lo) = 2^n (1 + u) with |u| < 0.42; returns (u, n, s1, s2) where s1 s2 = 2^n.

    Cody–Waite: n = round((hi + lo)/ln2), r = (hi - n ln2_hi) + (lo - n ln2_lo). The first difference is
    exact: n ln2_hi has 43 bits on a 2^-32 grid, and the result, below 2 in size, lies on hi's grid
    (for a plain double, and for the squares from ``_square_split``). e^r - 1 is Taylor to degree 13
    (truncation < 2^-57 for |r| ≤ ln2/2). 2^n is split into two normal powers, so (1 + u) s1 is exact
    and only the last product rounds, also into subnormals.
    """
    hi = 1400.0 if hi > 1400.0 else (-1400.0 if hi < -1400.0 else hi)  # keeps 2^n in range; NaN passes
    k = (hi + lo) * _LOG2E + _SHIFT
    n = k - _SHIFT
    r_hi = hi - n * _LN2_HI
    r_lo = lo - n * _LN2_LO
    r = r_hi + r_lo
    c = (r_hi - r) + r_lo                                   # what rounding r dropped
    u = r + (r * r * _poly(r, _EXPM1_TAYLOR) + c)
    m = _bits(k) - _bits(_SHIFT)                            # n as an int64
    h = m >> 1
    return u, n, _float((h + 1023) << 52), _float((m - h + 1023) << 52)


@_jit
def exp(x):
    """e^x = 2^n e^r, r = x - n ln2 (Cody–Waite); inf above 709.78, subnormal results rounded once.

    ≤ 1 ulp (max seen 0.88); 1.3 ns/element.
    """
    u, n, s1, s2 = _exp_parts(x, 0.0)
    return ((1.0 + u) * s1) * s2


@_jit
def expm1(x):
    """e^x - 1 = 2^n u + (2^n - 1) where e^r = 1 + u; e^x itself once n > 56 hides the -1.

    ≤ 2 ulp (max seen 1.52); 1.6 ns/element.
    """
    u, n, s1, s2 = _exp_parts(x, 0.0)
    s = s1 * s2
    y = ((1.0 + u) * s1) * s2 if n > 56.0 else u * s + (s - 1.0)   # s - 1 is exact while n ≤ 53
    return x if abs(x) < _TWO_M54 else y                        # x²/2 < half an ulp; keeps -0


# ---------------------------------------------------------------- log family (fdlibm/musl, see notice)
# log(1 + f) = 2 atanh(s) = 2s + s (Lg1 s² + Lg2 s⁴ + ... + Lg7 s¹⁴), split by parity for speed
_LG_ODD = (1.479819860511658591e-01, 1.818357216161805012e-01, 2.857142874366239149e-01,
           6.666666666666735130e-01)  # Lg7, Lg5, Lg3, Lg1
_LG_EVEN = (1.531383769920937332e-01, 2.222219843214978396e-01, 3.999999999940941908e-01)  # Lg6, Lg4, Lg2
_SQRT_HALF_BITS = 0x3FE6A09E << 32   # top word of √2/2: mantissas below it move up one binade
_ONE_BITS = 0x3FF00000 << 32


@_jit
def _log_kernel(f, k, c):
    """k ln2 + log(1 + f) + c for 1 + f in [√2/2, √2], s = f/(2 + f); musl's log1p core, < 1 ulp."""
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    r = z * _poly(w, _LG_ODD) + w * _poly(w, _LG_EVEN)
    return s * (hfsq + r) + (k * _LN2_LO + c) - hfsq + f + k * _LN2_HI


@_jit
def _split(v):
    """v = 2^k (1 + f) with 1 + f in [√2/2, √2), for finite normal v > 0; returns (f, k)."""
    b = _bits(v) + (_ONE_BITS - _SQRT_HALF_BITS)
    m = _float((b & 0xFFFFFFFFFFFFF) + _SQRT_HALF_BITS)
    return m - 1.0, float((b >> 52) - 1023)


@_jit
def log(x):
    """ln x = k ln2 + log(1 + f), x = 2^k (1 + f), 1 + f in [√2/2, √2); log 0 = -inf, log(x < 0) = nan.

    ≤ 1 ulp (max seen 0.79); 1.3 ns/element.
    """
    tiny = x < 2.2250738585072014e-308
    f, k = _split(x * _TWO_54 if tiny else x)
    y = _log_kernel(f, k - 54.0 if tiny else k, 0.0)
    y = x if x == _INF else y
    y = -_INF if x == 0.0 else y
    return _NAN if not x >= 0.0 else y


@_jit
def log1p(x):
    """ln(1 + x) = log u + (1 + x - u)/u, u = fl(1 + x); the kernel on x itself if √2/2 < 1 + x < √2.

    ≤ 1 ulp (max seen 0.79); 1.7 ns/element.
    """
    u = 1.0 + x
    f, k = _split(u)
    c = (1.0 - (u - x)) if k >= 2.0 else (x - (u - 1.0))   # the rounding error of 1 + x, exactly
    c = c / u if k < 54.0 else 0.0
    near = (x > -0.2928932188134524) & (x < 0.41421356237309515)  # 1 + x in (√2/2, √2): no reduction
    y = _log_kernel(x if near else f, 0.0 if near else k, 0.0 if near else c)
    y = x if abs(x) < _TWO_M53 else y                             # keeps -0 and subnormals
    y = x if x == _INF else y
    y = -_INF if x == -1.0 else y
    return _NAN if not x >= -1.0 else y


# ---------------------------------------------------------------- activations built on them
@_jit
def _square_split(a):
    """(hi, lo) with hi + lo = a² to ~2^-72 relative; hi = a_hi² is exact and, as a_hi keeps only a's top
    21 bits (fdlibm's trick), so is hi plus a multiple of 2^-4 below 2^11."""
    ah = _float(_bits(a) & -(1 << 32))
    return ah * ah, (a - ah) * (a + ah)


@_jit
def _div_one_plus(u, d, d_lo):
    """(1 + u)/(d + d_lo) with 1 + u never rounded; |u| < 1/2 and |d_lo| ≤ ulp(d).

    q = (1 + u)/d to about an ulp is corrected by its residual 1 + u - q (d + d_lo), computed exactly:
    q d = p + p_lo by one fma, 1 - p by Sterbenz (p ≈ 1 + u), and adding u to that cancels exactly.
    About 0.5 ulp, with a single division.
    """
    r = 1.0 / d
    q = (1.0 + u) * r
    p = q * d
    return q + ((((1.0 - p) + u) - _fma(q, d, -p)) - q * d_lo) * r


@_jit
def sigmoid(x):
    """σ(x) = 1/(1 + e^-x) = N/(1 + e) with e = e^-|x| = 2^n (1 + u), N = 1 (x ≥ 0) or e (x < 0).

    ≤ 1 ulp (max seen 0.89); 2.3 ns/element. The plain quotient errs by up to 2.3 ulp, as both 1 + u
    and 1 + e are rounded; ``_div_one_plus`` divides the unrounded 1 + u by d + d_lo = 1 + e.
    """
    u, n, s1, s2 = _exp_parts(-abs(x), 0.0)
    e = ((1.0 + u) * s1) * s2
    d = 1.0 + e
    q = _div_one_plus(u if x < 0.0 else 0.0, d, (1.0 - d) + e)   # 1 + e = d + ((1 - d) + e) exactly
    return q if x >= 0.0 else (q * s1) * s2


@_jit
def softplus(x):
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|).

    ≤ 2 ulp (max seen 1.48); 4.2 ns/element.
    """
    return (x if x > 0.0 else 0.0) + log1p(exp(-abs(x)))


# softplus(u0) = 1 at u0 = log(e − 1), as hi + lo; around it log softplus is log1p of softplus − 1, which is
# log1p((1 − 1/e) expm1(x − u0)) exactly, since e^x − (e − 1) = (e − 1)(e^(x − u0) − 1)
_U0_HI = 0.5413248546129181
_U0_LO = -1.8138570925507326e-17
_ONE_MINUS_INV_E = 0.6321205588285577


@_jit
def log_softplus(x):
    """log softplus(x) = log log(1 + e^x), finite wherever softplus(x) underflows:
    x − e^x/2 for x < −20 (the rest of the series, 5e^(2x)/24, is below 2^-60 of |x|);
    log1p(log1p((1 − 1/e) expm1(x − u0))) for −0.3 < x < 2, around the zero u0 = log(e − 1),
    where the logarithm of softplus(x) ≈ 1 would cancel; log(softplus(x)) elsewhere.

    ≤ 5 ulp (max seen 4.05); 11.4 ns/element.
    """
    e = exp(-abs(x))                                          # e^x where the tail is taken
    tail = x - 0.5 * e
    d = (x - _U0_HI) - _U0_LO
    near = log1p(log1p(_ONE_MINUS_INV_E * expm1(d)))
    far = log((x if x > 0.0 else 0.0) + log1p(e))                # log softplus(x), sharing e
    y = near if (x > -0.3) & (x < 2.0) else far
    return tail if x < -20.0 else y


@_jit
def tanh(x):
    """tanh x = -t/(2 + t), t = expm1(-2|x|), sign restored; x itself for |x| < 2^-28 (keeps -0).

    ≤ 3 ulp (max seen 2.50); 1.8 ns/element.
    """
    t = expm1(-2.0 * abs(x))
    y = -t / (2.0 + t)
    y = -y if x < 0.0 else y
    return x if abs(x) < _TWO_M28 else y


_COSHM1_TAIL = tuple(1.0 / math.factorial(k) for k in range(20, 2, -2))  # 1/20! ... 1/4!


@_jit
def log_cosh(x):
    """log cosh x = log1p(cosh x - 1) for |x| < 1, else |x| - ln2 + log1p(e^-2|x|).

    ≤ 2 ulp (max seen 1.56); 4.4 ns/element. The overflow-safe second form cancels near 0, where
    log cosh x ≈ x²/2; the first sums cosh x - 1 = x²/2 + x⁴/4! + ... with x² split exactly.
    """
    a = abs(x)
    hi, lo = _square_split(a)
    q = a * a
    t = 0.5 * hi + (0.5 * lo + q * q * _poly(q, _COSHM1_TAIL))
    e = exp(-2.0 * a)
    small = a < 1.0
    l = log1p(t if small else e)
    return l if small else (a - _LN2_HI) + (l - _LN2_LO)
