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
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from derive.catalogue.symbols import DISPLAY
from derive.notation import Named

ADD, MUL, POW, FUNC, ATOM = (PRECEDENCE[k] for k in ("Add", "Mul", "Pow", "Func", "Atom"))
NODE_PRECEDENCE = {"Partial": ATOM, "Piecewise": ATOM, "KroneckerDelta": ATOM, "Named": FUNC, "Times": MUL,
                   "BatchMean": MUL, "Derivative": MUL, "Sum": MUL, "Hadamard": MUL, "MatProduct": MUL,
                   "Minus": ADD, "Transposed": POW}
SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))
SUP = dict(zip("0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVW",
               "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ"))
SUP_CHARS = set(SUP.values())
GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η", "theta": "θ",
         "lambda": "λ", "mu": "μ", "sigma": "σ", "tau": "τ", "phi": "φ", "omega": "ω", "pi": "π",
         "Delta": "Δ", "Sigma": "Σ"}
LATEX_NAMES = {"atan": r"\arctan", "asinh": r"\operatorname{arsinh}"}
RELATIONS = {"<": "<", ">": ">", "<=": "≤", ">=": "≥", "!=": "≠", "==": "="}


def scripted(text: str, table: dict) -> str | None:
    """``text`` in Unicode sub- or superscripts, or None when a character has none."""
    return "".join(table[c] for c in text) if text and all(c in table for c in text) else None


def split_name(name: str) -> tuple[str, str, str]:
    """'x_j^(n)' -> ('x', 'j', '(n)'); 'n_{l+1}' -> ('n', 'l+1', '')."""
    head, _, sup = name.partition("^")
    base, _, sub = head.partition("_")
    return base, sub.strip("{}"), sup


def compound(expr) -> bool:
    """A symbol that stands for a whole expression (Σ_{k≠j} w_k·x_k), and so prints like a product."""
    return expr in DISPLAY and " " in DISPLAY[expr][0]


def prec(expr) -> int:
    if expr.is_Symbol and compound(expr):
        return MUL
    for cls in type(expr).__mro__:
        if cls.__name__ in NODE_PRECEDENCE:
            return NODE_PRECEDENCE[cls.__name__]
    return precedence(expr)


def negative_term(t) -> bool:
    """A term printed with a leading minus: −3, −2·x, −y/a."""
    return bool((t.is_Number and t.is_negative) or (t.is_Mul and t.args[0].is_Number and t.args[0].is_negative))


def negated(t):
    """−t without evaluating the rest of an unevaluated product."""
    if t.is_Number:
        return -t
    first, rest = -t.args[0], t.args[1:]
    kept = rest if first == 1 else (first, *rest)
    return kept[0] if len(kept) == 1 else sp.Mul(*kept, evaluate=False)


def ordered_terms(expr: sp.Add) -> list:
    """Terms in reading order: Σ and W·a first, d/dv placeholders last, otherwise SymPy's order (numbers first:
    1 + e^(−z)), with a positive term moved to the front when the first is negative (1 − a·y, not −a·y + 1)."""
    rank = lambda t: 0 if isinstance(t, sp.Sum) or type(t).__name__ == "MatProduct" else 2 if t.has(sp.Derivative) else 1
    terms = sorted(expr.args, key=rank)
    if negative_term(terms[0]):
        positive = next((t for t in terms if not negative_term(t)), None)
        if positive is not None:
            terms.remove(positive)
            terms.insert(0, positive)
    return terms


def split_product(expr) -> tuple[bool, list, list]:
    """(negative, numerator factors, denominator factors) of a product, in reading order."""
    args = list(sp.Mul.make_args(expr))
    negative = bool(args[0].is_Number and args[0].is_negative)
    if negative:
        args[0] = -args[0]
        if args[0] == 1 and len(args) > 1:
            args = args[1:]
    numerator, denominator = [], []
    for f in args:
        if f.is_Rational and not f.is_Integer:
            numerator += [sp.Integer(f.p)] if f.p != 1 else []
            denominator.append(sp.Integer(f.q))
        elif f.is_Pow and f.exp.is_Rational and f.exp.is_negative:
            denominator.append(f.base if f.exp == -1 else sp.Pow(f.base, -f.exp, evaluate=False))
        else:
            numerator.append(f)
    return negative, _reading_order(numerator), _reading_order(denominator)


def _reading_order(factors: list) -> list:
    numbers = [f for f in factors if f.is_number]
    placeholders = [f for f in factors if isinstance(f, sp.Derivative)]
    rest = [f for f in factors if not f.is_number and not isinstance(f, sp.Derivative)]
    trailing = []
    if any(f.is_Add or isinstance(f, sp.Piecewise) for f in rest):
        for f in rest:
            others = {split_name(s.name)[0] for g in rest if g is not f for s in g.free_symbols}
            if f.is_Symbol and split_name(f.name)[0] not in others:
                trailing.append(f)
    return numbers + [f for f in rest if f not in trailing] + trailing + placeholders


def atomic(expr) -> bool:
    """Needs no parentheses after d/dv or as a base: a symbol, a number ≥ 0, a function call."""
    return bool((expr.is_Symbol and not compound(expr)) or (expr.is_Number and not expr.is_negative) or
                (isinstance(expr, sp.Function) and not isinstance(expr, sp.Piecewise)) or
                type(expr).__name__ in ("Partial", "KroneckerDelta"))


class _Layout:
    """What both printers share: reading order, parentheses by precedence, and the display nodes; each printer
    gives its own tokens in ``T``."""

    T: dict = {}

    def wrap(self, s: str) -> str:
        raise NotImplementedError

    def paren(self, expr, level: int, strict: bool = False, first: bool = False) -> str:
        p = prec(expr)
        needs = p < level or (not strict and p <= level) or (expr.is_Number and expr.is_negative and not first)
        return self.wrap(self._print(expr)) if needs else self._print(expr)

    def operand(self, expr) -> str:
        return self._print(expr) if atomic(expr) else self.wrap(self._print(expr))

    def factor_strings(self, factors, ordered: bool) -> list[tuple]:
        """(expr, printed) for each factor; Σ, d/dv (and, in ``ordered`` text, a fraction) before others is
        wrapped, and so is a negative number after the first."""
        out = []
        for index, f in enumerate(factors):
            fraction = ordered and self.WRAP_FRACTIONS and not f.is_Integer and (
                f.is_Rational or (f.is_Mul and split_product(f)[2]) or (f.is_Pow and f.exp.is_negative))
            loose = (isinstance(f, (sp.Sum, sp.Derivative)) or fraction) and index < len(factors) - 1
            if loose or (index and f.is_Number and f.is_negative):
                out.append((f, self.wrap(self._print(f))))
            else:
                out.append((f, self._print(f) if index and f.is_Number else self.paren(f, MUL, strict=True)))
        return out

    def join_factors(self, items, times: bool = False) -> str:
        text = items[0][1] if items else ""
        for (prev, _), (f, s) in zip(items, items[1:]):
            text += self.separator(prev, f, s, times) + s
        return text

    def product(self, expr) -> str:
        negative, numerator, denominator = split_product(expr)
        placeholders = [f for f in numerator if isinstance(f, sp.Derivative)] if denominator else []
        numerator = [f for f in numerator if f not in placeholders]
        sign = self.T["minus"] if negative else ""
        if not denominator:
            return sign + self.join_factors(self.factor_strings(numerator, ordered=False))
        body = self.fraction(numerator, denominator)
        if placeholders:
            body = self.join_factors([(sp.Symbol("q"), body)] + self.factor_strings(placeholders, ordered=False))
        return sign + body

    @staticmethod
    def partials(prev, nxt) -> bool:
        """Two factors of a chain rule, ∂L/∂a · ∂a/∂z, that want a spaced dot."""
        return "Partial" in (type(prev).__name__, type(nxt).__name__) and not (prev.is_Atom or nxt.is_Atom)

    def _print_Add(self, expr, order=None):
        text = ""
        for index, term in enumerate(ordered_terms(expr)):
            if negative_term(term):
                text += (self.T["minus"] if not index else f" {self.T['minus']} ") + self.paren(negated(term), ADD)
            else:
                text += f" + {self.paren(term, ADD)}" if index else self.paren(term, ADD, strict=True)
        return text

    def _print_Mul(self, expr, **kwargs):
        return self.product(expr)

    def _print_Times(self, expr):
        return self.join_factors(self.factor_strings(expr.args, ordered=True), times=True)

    def _print_Minus(self, expr):
        return f"{self.paren(expr.args[0], ADD, True, True)} {self.T['minus']} {self.paren(expr.args[1], ADD)}"

    def _print_Hadamard(self, expr):
        return self.T["odot"].join(self.paren(f, MUL) for f in expr.args)

    def _print_MatProduct(self, expr):
        return self.T["matmul"].join(self.paren(f, MUL) for f in expr.args)

    def _print_Transposed(self, expr):
        return self.T["transposed"].format(self.paren(expr.args[0], POW))

    def _print_Derivative(self, expr):
        (v, _), = expr.variable_count
        return self.T["derivative"].format(v=self._print(v), of=self.operand(expr.expr))

    def _print_Partial(self, expr):
        return self.T["partial"].format(of=self.operand(expr.of), by=self._print(expr.by))

    def _print_BatchMean(self, expr):
        return self.T["mean"] + self.paren(expr.args[0], MUL, strict=True)

    def _print_Abs(self, expr, **kwargs):
        return self.T["abs"].format(self._print(expr.args[0]))

    def _print_And(self, expr):
        return self.T["and"].join(self._print(arg) for arg in expr.args)

    def _print_Pi(self, expr, **kwargs):
        return self.T["pi"]

    def _print_Exp1(self, expr, **kwargs):
        return "e"

    def _print_Infinity(self, expr, **kwargs):
        return self.T["oo"]

    def _print_NegativeInfinity(self, expr, **kwargs):
        return self.T["minus"] + self.T["oo"]


class TextPrinter(_Layout, StrPrinter):
    """Linear Unicode maths: ∂L/∂wⱼ = (a − y)·xⱼ."""

    printmethod = "_derive_text"
    WRAP_FRACTIONS = True
    T = {"minus": "−", "odot": " ⊙ ", "matmul": " ", "transposed": "{}ᵀ", "derivative": "d/d{v} {of}",
         "partial": "∂{of}/∂{by}", "mean": "(1/N) Σₙ ", "abs": "|{}|", "and": " and ", "pi": "π", "oo": "∞"}

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
        return super()._print_Float(expr).replace("-", "−")

    def _print_Rational(self, expr):
        return f"{'−' if expr.p < 0 else ''}{abs(expr.p)}/{expr.q}"

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.args
        if exp.is_Rational and exp.is_negative:
            return self.product(expr)
        if exp == sp.S.Half:
            return "√" + (self._print(base) if base.is_Atom and not compound(base) else self.wrap(self._print(base)))
        shown = self._print(base) if atomic(base) and not isinstance(base, sp.Function) else self.wrap(self._print(base))
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
    T = {"minus": "-", "odot": r" \odot ", "matmul": r" \, ", "transposed": "{{{}}}^{{\\top}}",
         "derivative": r"\frac{{d}}{{d{v}}} {of}", "partial": r"\frac{{\partial {of}}}{{\partial {by}}}",
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
        if expr in DISPLAY:
            return DISPLAY[expr][1]
        base, sub, sup = split_name(expr.name)
        text = translate(base) if len(base) > 1 else base
        text = text if len(base) == 1 or text.startswith("\\") else rf"\mathrm{{{base}}}"
        return text + (f"_{{{sub}}}" if sub else "") + (f"^{{{sup}}}" if sup else "")

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.args
        if exp.is_Rational and exp.is_negative:
            return self.product(expr)
        if exp == sp.S.Half:
            return rf"\sqrt{{{self._print(base)}}}"
        shown = self._print(base)
        if not (base.is_Symbol or (base.is_Number and not base.is_negative)) or "^" in shown:
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
