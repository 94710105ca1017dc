"""erf and the standard normal CDF as vectorisable float64 functions (written by hand; see ``_elementary``,
whose building blocks they use and whose conventions they follow: ≤ N ulp is the bound tests/test_elementary.py
asserts against mpmath, then the largest error seen and the median ns/element).
"""
import math

import numba

from ._elementary import _EXPM1_TAYLOR, _div_one_plus, _exp_parts, _fma, _poly, _square_split

_DEPENDS = "c05c20dc090ae52d"  # a digest of the helpers this module compiles in; derive generate keeps it current

__all__ = ("erf", "normal_cdf")

_jit = numba.njit(cache=True, fastmath=False, error_model="numpy", forceinline=True)


# ---------------------------------------------------------------- erf and the normal distribution
# The log and erf coefficients are from fdlibm (via musl):
#   Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
#   Developed at SunPro, a Sun Microsystems, Inc. business.
#   Permission to use, copy, modify, and distribute this software is freely granted, provided that this
#   notice is preserved.
_ERX = 8.45062911510467529297e-01    # erf(1) rounded to 24 bits
_PP = (-2.37630166566501626084e-05, -5.77027029648944159157e-03, -2.84817495755985104766e-02,
       -3.25042107247001499370e-01, 1.28379167095512558561e-01)
_QQ = (-3.96022827877536812320e-06, 1.32494738004321644526e-04, 5.08130628187576562776e-03,
       6.50222499887672944485e-02, 3.97917223959155352819e-01, 1.0)
_PA = (-2.16637559486879084300e-03, 3.54783043256182359371e-02, -1.10894694282396677476e-01,
       3.18346619901161753674e-01, -3.72207876035701323847e-01, 4.14856118683748331666e-01,
       -2.36211856075265944077e-03)
_QA = (1.19844998467991074170e-02, 1.36370839120290507362e-02, 1.26171219808761642112e-01,
       7.18286544141962662868e-02, 5.40397917702171048937e-01, 1.06420880400844228286e-01, 1.0)
_RA = (-9.81432934416914548592e+00, -8.12874355063065934246e+01, -1.84605092906711035994e+02,
       -1.62396669462573470355e+02, -6.23753324503260060396e+01, -1.05586262253232909814e+01,
       -6.93858572707181764372e-01, -9.86494403484714822705e-03)
_SA = (-6.04244152148580987438e-02, 6.57024977031928170135e+00, 1.08635005541779435134e+02,
       4.29008140027567833386e+02, 6.45387271733267880336e+02, 4.34565877475229228821e+02,
       1.37657754143519042600e+02, 1.96512716674392571292e+01, 1.0)
_RB = (-4.83519191608651397019e+02, -1.02509513161107724954e+03, -6.37566443368389627722e+02,
       -1.60636384855821916062e+02, -1.77579549177547519889e+01, -7.99283237680523006574e-01,
       -9.86494292470009928597e-03)
_SB = (-2.24409524465858183362e+01, 4.74528541206955367215e+02, 2.55305040643316442583e+03,
       3.19985821950859553908e+03, 1.53672958608443695994e+03, 3.25792512996573918826e+02,
       3.03380607434824582924e+01, 1.0)
_SQRT_HALF = 0.7071067811865476
_SQRT_HALF_LO = -4.833646656726457e-17  # 1/√2 - _SQRT_HALF
_TWO_OVER_SQRT_PI = 1.1283791670955126
_INV_SQRT_2PI = (0.3989422804014327, -2.49232720227773e-17)  # 1/√(2π) as hi + lo


@_jit
def _erf_erfc(z, dz, hi, lo):
    """(erf(z + dz), erfc(z + dz)) for 0 ≤ z ≤ 40, |dz| ≤ ulp(z), given hi + lo = -(z + dz)², hi exact.

    fdlibm's pieces, all evaluated and then selected: z < 0.84375: erf = z + z P/Q(z²);
    z < 1.25: erf = erx + P/Q(z - 1); beyond: erfc = e^(-z² - 0.5625 + R/S(1/z²))/z, the exponent kept
    in two parts and 2^n (1 + u)/(z + dz) divided without rounding 1 + u. dz enters the first two
    pieces to first order, as erf' dz = 2/√π e^-z² dz.
    """
    q = z * z
    d = dz * (_TWO_OVER_SQRT_PI * (1.0 + (-q + q * q * _poly(-q, _EXPM1_TAYLOR))))  # e^-q is ample here
    y = z * (_poly(q, _PP) / _poly(q, _QQ)) + d
    erf0 = z + y
    erfc0 = 1.0 - erf0 if z < 0.25 else 0.5 - ((z - 0.5) + y)
    pq = _poly(z - 1.0, _PA) / _poly(z - 1.0, _QA) + d
    t = 1.0 / q
    rs = _poly(t, _RA) / _poly(t, _SA) if z < 1.0 / 0.35 else _poly(t, _RB) / _poly(t, _SB)
    u, n, s1, s2 = _exp_parts(hi - 0.5625, lo + rs)
    erfc2 = (_div_one_plus(u, z, dz) * s1) * s2
    mid_or_tail = (_ERX + pq, (1.0 - _ERX) - pq) if z < 1.25 else (1.0 - erfc2, erfc2)
    return (erf0, erfc0) if z < 0.84375 else mid_or_tail


@_jit
def erf(x):
    """erf x = 2/√π ∫₀ˣ e^(-t²) dt, by fdlibm's piecewise rational approximations (``_erf_erfc``).

    ≤ 1 ulp (max seen 0.90); 5.7 ns/element.
    """
    z = abs(x)
    z = 40.0 if z > 40.0 else z                        # erf = 1 beyond 6; keeps z² finite for inf
    hi, lo = _square_split(z)
    return math.copysign(_erf_erfc(z, 0.0, -hi, -lo)[0], x)


@_jit
def normal_cdf(x):
    """Φ(x) = erfc(-x/√2)/2, the standard normal CDF (GELU(x) = x Φ(x)).

    ≤ 3 ulp (max seen 2.65); 6.3 ns/element. z = fl(|x|/√2) is off by up to half an ulp, which
    erfc's slope turned into 4.6 ulp near x = -1.6; so its error dz is computed with an fma and
    corrected for, and e^(-x²/2) uses the exact split of x², not of z².
    """
    a = abs(x)
    a = 60.0 if a > 60.0 else a                        # Φ(-60) underflows to 0
    z = a * _SQRT_HALF
    dz = _fma(a, _SQRT_HALF, -z) + a * _SQRT_HALF_LO     # |x|/√2 - z, to ~2^-50 relative
    hi, lo = _square_split(a)
    e, ec = _erf_erfc(z, dz, -0.5 * hi, -0.5 * lo)
    return 0.5 * ec if x < 0.0 else 0.5 + 0.5 * e




