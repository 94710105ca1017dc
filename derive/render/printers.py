"""SymPy printers for derivations: ``TextPrinter`` (Unicode for an 80-column terminal) and ``LatexPrinter``
(amsmath only). Both print the display nodes of ``derive.notation`` and lay out products the same way:
numbers first, derivative placeholders last, and a lone symbol that no other factor contains after the rest,
so x_j*(a - y) reads (a − y)·xⱼ while a*(1 - a) stays a(1 − a). To print a new node, add ``_print_<Class>``
to both printers.
"""
from __future__ import annotations

import re

import sympy as sp
from sympy.printing.latex import LatexPrinter as _SympyLatex, translate
from sympy.printing.str import StrPrinter

from derive.catalogue.symbols import DISPLAY
from derive.notation import Named
from derive.render import numbers as numerals
from derive.render.layout import (FUNCTION_NAMES, GREEK, LATEX_NAMES, MUL, POW, RELATIONS, SUB, SUP, SUP_CHARS, _Layout, atomic,
                                  compound, scripted, split_name)


class TextPrinter(_Layout, StrPrinter):
    """Linear Unicode maths: ∂L/∂wⱼ = (a − y)·xⱼ."""

    printmethod = "_derive_text"
    WRAP_FRACTIONS = True
    T = {"minus": "−", "times": "·", "odot": " ⊙ ", "matmul": " ", "transposed": "{}ᵀ", "derivative": "d/d{v} {of}",
         "partial": "∂{of}/∂{by}", "second": "∂²{of}/∂{by}²", "norm": "‖{}‖", "mean": "(1/N) Σₙ ", "abs": "|{}|",
         "and": " and ", "pi": "π", "oo": "∞"}

    def wrap(self, s):
        return f"({s})"

    def separator(self, prev, nxt, s, times) -> str:
        """'·' between factors, ' · ' between partials, nothing in 2(a − y), a(1 − a), 2xⱼ."""
        if self.partials(prev, nxt):
            return " · "
        if prev.is_Number and not nxt.is_Number and (s.startswith("(") or nxt.is_Symbol or nxt.is_Pow
                                                        or isinstance(nxt, sp.exp)):
            return ""
        if s.startswith("(") and not prev.is_Number and (prev.is_Symbol or prev.is_Pow or prev.is_Add or (
                isinstance(prev, sp.Function) and not isinstance(prev, sp.Piecewise))):
            return ""
        return "·"

    def fraction(self, numerator, denominator) -> str:
        top = self.paren(numerator[0], MUL, strict=True) if len(numerator) == 1 else \
            self.join_factors(self.factor_strings(numerator, ordered=False)) if numerator else "1"
        if len(denominator) == 1:
            return f"{top}/{self.paren(denominator[0], POW, strict=True)}"
        return f"{top}/{self.wrap(self.join_factors(self.factor_strings(denominator, ordered=False)))}"

    def _print_Symbol(self, expr):
        if expr in self.substituted:
            return self._print(self.substituted[expr])
        if expr in DISPLAY:
            return re.sub(r"(?<=[A-Za-z])_([a-z0-9])(?![A-Za-z0-9{])", lambda m: SUB[m[1]], DISPLAY[expr][0])
        base, sub, sup = split_name(expr.name)
        text = GREEK.get(base, base)
        if sub:
            text += scripted(sub, SUB) or (f"_{sub}" if len(sub) == 1 else f"_({sub})")
        return text + ((scripted(sup, SUP) or f"^{sup}") if sup else "")

    def _print_Integer(self, expr):
        return str(expr.p).replace("-", "−")

    def _print_Float(self, expr):
        found = numerals.float_digits(expr)
        return numerals.text(*found) if found else super()._print_Float(expr).replace("-", "−")

    def _print_Rational(self, expr):
        return f"{'−' if expr.p < 0 else ''}{abs(expr.p)}/{expr.q}"

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.args
        if exp.is_Rational and exp.is_negative:
            return self.product(expr)
        if exp == sp.S.Half:
            return "√" + (self._print(base) if base.is_Atom and not compound(base) else self.wrap(self._print(base)))
        shown = self._print(base) if atomic(base) and not isinstance(base, sp.Function) \
            and not self.negative_number(base) else self.wrap(self._print(base))
        if base.is_Symbol and any(c in SUP_CHARS for c in shown):
            shown = self.wrap(shown)  # (a⁽ⁿ⁾)², not a⁽ⁿ⁾²
        power = scripted(str(exp), SUP) if exp.is_Integer else None
        return shown + power if power else f"{shown}^{self.operand(exp)}"

    def _print_exp(self, expr):
        u = self._print(expr.args[0])
        return f"e^{u}" if len(u) == 1 else f"e^({u})"

    def _print_sigmoid(self, expr):
        return f"σ({self._print(expr.args[0])})"

    def _print_Function(self, expr):
        if isinstance(expr, Named):  # SymPy skips renamed subclasses of a function when it dispatches
            return f"{expr.text}({', '.join(self._print(arg) for arg in expr.args)})"
        if expr.func.__name__ in FUNCTION_NAMES:
            return f"{FUNCTION_NAMES[expr.func.__name__][0]}({', '.join(self._print(arg) for arg in expr.args)})"
        return super()._print_Function(expr)

    def _print_KroneckerDelta(self, expr):
        return "δ" + (scripted("".join(str(i) for i in expr.args), SUB) or f"({expr.args[0]}, {expr.args[1]})")

    def _print_Relational(self, expr):
        return f"{self._print(expr.lhs)} {RELATIONS.get(expr.rel_op, expr.rel_op)} {self._print(expr.rhs)}"

    def _print_Piecewise(self, expr):
        pieces = [f"{self._print(e)} {'otherwise' if c == sp.true else 'if ' + self._print(c)}" for e, c in expr.args]
        return "{" + "; ".join(pieces) + "}"

    def _print_Sum(self, expr):
        head = ""
        for v, low, high in expr.limits:
            below, above = scripted(f"{v}={low}", SUB), scripted(str(high), SUP)
            head += f"Σ{below}{above}" if below and above else f"Σ({v}={self._print(low)}…{self._print(high)})"
        return f"{head} {self.paren(expr.function, MUL, strict=True)}"


class LatexPrinter(_Layout, _SympyLatex):
    """LaTeX for amsmath alone: \\frac{\\partial L}{\\partial w_{j}} = (a - y) x_{j}."""

    printmethod = "_derive_latex"
    WRAP_FRACTIONS = False
    T = {"minus": "-", "times": r" \cdot ", "odot": r" \odot ", "matmul": r" \, ", "transposed": "{{{}}}^{{\\top}}",
         "derivative": r"\frac{{d}}{{d{v}}} {of}", "partial": r"\frac{{\partial {of}}}{{\partial {by}}}",
         "second": r"\frac{{\partial^{{2}} {of}}}{{\partial {by}^{{2}}}}", "norm": r"\lVert {} \rVert",
         "mean": r"\frac{1}{N} \sum_{n=1}^{N} ", "abs": r"\left|{}\right|", "and": r" \text{ and } ",
         "pi": r"\pi", "oo": r"\infty"}

    def wrap(self, s):
        tall = any(mark in s for mark in (r"\frac", r"\sum", r"\begin", r"\left"))
        return rf"\left({s}\right)" if tall else f"({s})"

    def separator(self, prev, nxt, s, times) -> str:
        """Juxtaposition in a product; \\cdot between numbers and in a chain of factors (none before a parenthesis
        after a number)."""
        if prev.is_Number and nxt.is_Number:
            return r" \cdot "
        if times or self.partials(prev, nxt):
            return " " if prev.is_Number and s.startswith(("(", r"\left(")) else r" \cdot "
        return " "

    def fraction(self, numerator, denominator) -> str:
        part = lambda fs: self._print(fs[0]) if len(fs) == 1 else self.join_factors(self.factor_strings(fs, False))
        return rf"\frac{{{part(numerator) if numerator else '1'}}}{{{part(denominator)}}}"

    def _print_Symbol(self, expr, style="plain"):
        if expr in self.substituted:
            return self._print(self.substituted[expr])
        if expr in DISPLAY:
            return DISPLAY[expr][1]
        base, sub, sup = split_name(expr.name)
        text = translate(base) if len(base) > 1 else base
        text = text if len(base) == 1 or text.startswith("\\") else rf"\mathrm{{{base}}}"
        return text + (f"_{{{sub}}}" if sub else "") + (f"^{{{sup}}}" if sup else "")

    def _print_Float(self, expr):
        found = numerals.float_digits(expr)
        return numerals.latex(*found) if found else super()._print_Float(expr)

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.args
        if exp.is_Rational and exp.is_negative:
            return self.product(expr)
        if exp == sp.S.Half:
            return rf"\sqrt{{{self._print(base)}}}"
        shown = self._print(base)
        if not (base.is_Symbol or base.is_Number) or self.negative_number(base) or "^" in shown:
            shown = self.wrap(shown)
        return f"{shown}^{{{self._print(exp)}}}"

    def _print_exp(self, expr, exp=None):
        return f"e^{{{self._print(expr.args[0])}}}"

    def _print_sigmoid(self, expr, exp=None):
        return rf"\sigma{self.wrap(self._print(expr.args[0]))}"

    def _print_Function(self, expr, exp=None):
        name = expr.func.__name__
        head = expr.latex if isinstance(expr, Named) else LATEX_NAMES.get(name) or self._hprint_Function(name)
        return head + self.wrap(", ".join(self._print(arg) for arg in expr.args))

    _print_log = _print_Function

    def _print_Piecewise(self, expr):
        rows = [rf"{self._print(e)} & \text{{otherwise}}" if c == sp.true else
                rf"{self._print(e)} & \text{{if }} {self._print(c)}" for e, c in expr.args]
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"

    def _print_Sum(self, expr):
        head = "".join(rf"\sum_{{{self._print(v)}={self._print(lo)}}}^{{{self._print(hi)}}} "
                       for v, lo, hi in expr.limits)
        return head + self.paren(expr.function, MUL, strict=True)


class InlineLatexPrinter(LatexPrinter):
    """LaTeX for maths inside a sentence: ∂L/∂w_j with a slash, so the line keeps its height."""

    T = {**LatexPrinter.T, "partial": r"\partial {of}/\partial {by}",
         "second": r"\partial^{{2}} {of}/\partial {by}^{{2}}"}
