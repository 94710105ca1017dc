"""The layout both derivation printers share: Unicode script tables, precedence of the display nodes,
term and factor order (numbers first, derivative placeholders last, a lone input symbol after the sums), and
``_Layout``, the printing of ``derive.notation`` nodes with the printer-specific strings in ``T``.
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE, precedence

from derive.catalogue.functions import FUNCTIONS
from derive.catalogue.symbols import DISPLAY

ADD, MUL, POW, FUNC, ATOM = (PRECEDENCE[k] for k in ("Add", "Mul", "Pow", "Func", "Atom"))
NODE_PRECEDENCE = {"Partial": ATOM, "SecondPartial": ATOM, "Norm": ATOM, "Piecewise": ATOM, "KroneckerDelta": ATOM,
                   "Named": FUNC, "Times": MUL, "BatchMean": MUL, "Derivative": MUL, "Sum": MUL, "Hadamard": MUL, "MatProduct": MUL,
                   "Minus": ADD, "Transposed": POW}
SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))
SUP = dict(zip("0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVW",
               "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ"))
SUP_CHARS = set(SUP.values())
GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η", "theta": "θ",
         "lambda": "λ", "mu": "μ", "sigma": "σ", "tau": "τ", "phi": "φ", "omega": "ω", "pi": "π",
         "Delta": "Δ", "Sigma": "Σ"}
# function name -> (text, LaTeX), from the function table
FUNCTION_NAMES = {f.name: (f.text or f.name, f.latex) for f in FUNCTIONS.values()}
LATEX_NAMES = {name: latex for name, (_, latex) in FUNCTION_NAMES.items() if latex}
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
                type(expr).__name__ in ("Partial", "SecondPartial", "Norm", "KroneckerDelta"))


class _Layout:
    """What both printers share: reading order, parentheses by precedence, and the display nodes; each printer
    gives its own tokens in ``T``."""

    T: dict = {}
    substituted: dict = {}  # symbol -> number, while a Substituted node prints

    def wrap(self, s: str) -> str:
        raise NotImplementedError

    def paren(self, expr, level: int, strict: bool = False, first: bool = False) -> str:
        p = prec(expr)
        needs = p < level or (not strict and p <= level) or (self.negative_number(expr) and not first)
        return self.wrap(self._print(expr)) if needs else self._print(expr)

    def operand(self, expr) -> str:
        return self._print(expr) if atomic(expr) and not self.negative_number(expr) else self.wrap(self._print(expr))

    def negative_number(self, expr) -> bool:
        """A negative number, or a symbol standing for one: wrapped after an operator, as in a − (−1)."""
        expr = self.substituted.get(expr, expr) if expr.is_Symbol else expr
        return bool(expr.is_Number and expr.is_negative)

    def _print_Substituted(self, node):
        """The expression with numbers put in for its symbols, in the expression's own arrangement and signs:
        (a − y)·x₁ prints (0.982 − 0)·1, never SymPy's order of the numbers."""
        outer = self.substituted
        self.substituted = {**outer, **dict(node.args[1])}
        try:
            return self._print(node.args[0])
        finally:
            self.substituted = outer

    def symbolic(self, shown) -> str:
        """``shown()`` (a function that prints) with the symbols printed, not the numbers put in for them."""
        outer, self.substituted = self.substituted, {}
        try:
            return shown()
        finally:
            self.substituted = outer

    def factor_strings(self, factors, ordered: bool) -> list[tuple]:
        """(expr, printed, printed with its symbols) for each factor; Σ, d/dv (and, in ``ordered`` text, a fraction)
        before others is wrapped, and so is a negative number after the first."""
        out = []
        for index, f in enumerate(factors):
            fraction = ordered and self.WRAP_FRACTIONS and not f.is_Integer and (
                f.is_Rational or (f.is_Mul and split_product(f)[2]) or (f.is_Pow and f.exp.is_negative))
            loose = (isinstance(f, (sp.Sum, sp.Derivative)) or fraction) and index < len(factors) - 1
            if loose or (index and f.is_Number and f.is_negative):
                shown = lambda f=f: self.wrap(self._print(f))
            else:
                shown = lambda f=f, index=index: self._print(f) if index and f.is_Number \
                    else self.paren(f, MUL, strict=True)
            out.append((f, shown(), self.symbolic(shown) if self.substituted else None))
        return out

    def join_factors(self, items, times: bool = False) -> str:
        """Factors joined as the symbols would be; with numbers put in, juxtaposition stays only before a
        parenthesis the symbols have too (2(0.98 − 1)), and two numbers get a multiplication sign (2·0.5)."""
        text = items[0][1] if items else ""
        for (prev, *_), (f, s, *plain) in zip(items, items[1:]):
            plain = plain[0] if plain and plain[0] is not None else s
            separator = self.separator(prev, f, plain, times)
            if not separator.strip() and ((s != plain and not plain.startswith(("(", r"\left(")))
                                          or (text[-1:].isdigit() and s[:1].isdigit())):
                separator = self.T["times"]
            text += separator + s
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
                text += f" + {self.paren(term, ADD)}" if index else self.paren(term, ADD, strict=True, first=True)
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

    def _print_SecondPartial(self, expr):
        by = self._print(expr.args[1])
        return self.T["second"].format(of=self.operand(expr.args[0]), by=self.square_base(by))

    def _print_Norm(self, expr):
        return self.T["norm"].format(self._print(expr.args[0]))

    def square_base(self, shown: str) -> str:
        """A symbol about to be squared: wrapped when it already carries a superscript."""
        return self.wrap(shown) if any(c in SUP_CHARS for c in shown) or "^" in shown else shown

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
