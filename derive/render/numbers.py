"""Numbers as every format prints them: ``digits`` significant digits, no trailing zeros, and a power of ten
beyond the range ``%g`` keeps fixed (1.5×10⁻⁵ in text, 1.5 \\times 10^{-5} in LaTeX).

A SymPy Float prints at its own precision (a worked example makes each number at ``--digits``); a table cell
is a Python float printed at the table's digits. Both go through ``parts``.
"""
from __future__ import annotations

import math

import mpmath.libmp as mlib

SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def parts(value: float, digits: int) -> tuple[str, int | None]:
    """(mantissa, exponent or None): 0.3775 -> ('0.3775', None); 1.5e-5 -> ('1.5', -5); '-' as the sign."""
    if isinstance(value, int):
        return str(value), None
    shown = f"{value:.{max(1, digits)}g}"
    mantissa, _, exponent = shown.partition("e")
    return mantissa, int(exponent) if exponent else None


def text(value: float, digits: int) -> str:
    """Unicode: −0.25, 1.5×10⁻⁵."""
    mantissa, exponent = parts(value, digits)
    mantissa = mantissa.replace("-", "−")
    return mantissa if exponent is None else f"{mantissa}×10{str(exponent).translate(SUPERSCRIPT)}"


def latex(value: float, digits: int) -> str:
    """LaTeX: -0.25, 1.5 \\times 10^{-5}."""
    mantissa, exponent = parts(value, digits)
    return mantissa if exponent is None else rf"{mantissa} \times 10^{{{exponent}}}"


def float_digits(expr) -> tuple[float, int] | None:
    """(value, significant digits) of a SymPy Float, or None when it is beyond double precision's range."""
    value = float(expr)
    if not math.isfinite(value) or (value == 0 and expr != 0):
        return None
    return value, max(1, mlib.libmpf.prec_to_dps(expr._prec))
