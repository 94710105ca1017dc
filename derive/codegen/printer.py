"""SymPy → numba-safe Python for the scalar pieces (activation, loss, ∂L/∂z …).

Function names map through the function table (``derive.catalogue.functions``) to the vectorisable functions of
``derive/kernels/_elementary.py`` (``_em``) or to ``math``/``np``; the printer records which modules it used, so
no import list is kept by hand.
Common subexpressions become temporaries t0, t1, … in a fixed order. NumPy's printer is not used: its
``select``, ``Max`` and ``Heaviside`` forms do not compile under numba.
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from derive.catalogue.functions import FUNCTIONS as TABLE

# SymPy function -> kernel call, from the function table: vectorisable forms for block loops, libm forms for
# one-sample loops (latency-bound: libm wins there).
FUNCTIONS = {f.sympy: f.vector for f in TABLE.values() if f.vector}
SCALAR_FUNCTIONS = {f.sympy: f.libm for f in TABLE.values() if f.libm}
# Kernel module aliases the printed calls use, and the import each needs.
IMPORTS = {"_em": "from . import _elementary as _em", "_nm": "from . import _normal as _nm",
           "_sc": "from . import _scalar as _sc", "math": "import math",
           "np": "import numpy as np"}


class KernelPrinter(PythonCodePrinter):
    """Prints scalar float64 expressions for numba; ``used`` collects the module prefixes it printed."""

    def __init__(self, functions: dict = FUNCTIONS):
        super().__init__({"fully_qualified_modules": False, "standard": "python3"})
        self.functions = functions
        self.used: set[str] = set()

    def _print_Function(self, expr):
        target = self.functions.get(expr.func)
        if target is None:
            raise NotImplementedError(f"no kernel function for {expr.func.__name__}; name one in its entry of "
                                      f"derive/catalogue/functions.py")
        if "." in target:
            self.used.add(target.split(".")[0])
        return f"{target}({', '.join(self._print(arg) for arg in expr.args)})"


    def _print_Rational(self, expr):
        return repr(float(expr))

    _print_Half = _print_Rational

    def _print_Integer(self, expr):
        return f"{int(expr)}.0"

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.as_base_exp()
        if exponent == sp.Rational(1, 2):
            self.used.add("math")
            return f"math.sqrt({self._print(base)})"
        if exponent.is_Integer and 2 <= int(exponent) <= 3:
            b = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Mul"] + 1)
            return f"({'*'.join([b] * int(exponent))})"
        if exponent == -1:
            return f"(1.0/{self.parenthesize(base, sp.printing.precedence.PRECEDENCE['Mul'] + 1)})"
        return super()._print_Pow(expr, rational=rational)

    def _print_Pi(self, expr):
        self.used.add("math")
        return "math.pi"

    def _print_Exp1(self, expr):
        self.used.add("math")
        return "math.e"

    def _print_NaN(self, expr):
        return "np.nan"


for _function in FUNCTIONS:  # SymPy's printer has its own _print_<name> for many; ours must win
    setattr(KernelPrinter, f"_print_{_function.__name__}", KernelPrinter._print_Function)


def body(expr: sp.Expr, printer: KernelPrinter, indent: str = "    ", prefix: str = "t") -> list[str]:
    """Assignments of the common subexpressions, then ``return``: the lines of a function body."""
    replacements, (reduced,) = sp.cse([expr], symbols=sp.numbered_symbols(prefix), order="canonical")
    lines = [f"{indent}{name} = {printer.doprint(sub)}" for name, sub in replacements]
    return lines + [f"{indent}return {printer.doprint(reduced)}"]


def scalar_function(name: str, params: tuple, expr: sp.Expr, doc: str, printer: KernelPrinter,
                    decorator: str) -> str:
    """One jitted scalar function ``name(params) = expr``, its docstring the formula it computes."""
    lines = [decorator, f"def {name}({', '.join(params)}):", f'    """{doc}"""']
    unused = [p for p in params if sp.Symbol(p) not in {sp.Symbol(s.name) for s in expr.free_symbols}]
    if unused:
        lines.append(f"    # unused here, kept for a uniform signature: {', '.join(unused)}")
    return "\n".join(lines + body(expr, printer)) + "\n"
