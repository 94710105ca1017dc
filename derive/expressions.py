"""A user's formula as SymPy, without running Python: "z/(1+Abs(z))" ↦ z/(1 + |z|).

The text goes through ``ast.parse(mode="eval")`` and a whitelist walk that builds the expression with SymPy
constructors; nothing is evaluated as Python (no ``eval``, ``sympify`` or ``parse_expr``). Allowed: numbers
(0.01 ↦ 1/100 exactly), the caller's symbols, pi and E (or e), + − * / ** and unary ±, and calls of
``FUNCTIONS`` by bare name with positional arguments. Anything else is a one-line ``BadExpression`` naming the
offending token. The limits below keep hostile input cheap. To allow a function, add one entry to FUNCTIONS.
"""
from __future__ import annotations

import ast
import difflib
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import NamedTuple

import sympy as sp

from derive.catalogue.functions import BY_NAME, SPELLINGS
from derive.errors import BadExpression

MAX_LENGTH, MAX_DEPTH, MAX_DIGITS = 500, 50, 100  # characters of text, levels of the tree, digits of a literal
MAX_EXPONENT, MAX_POWER_DIGITS = 1000, 1000       # |p| in u**p, digits of a number a power may create

Arity = NamedTuple("Arity", [("fewest", int), ("most", float), ("text", str)])
ONE, ONE_OR_TWO = Arity(1, 1, "1 argument"), Arity(1, 2, "1 or 2 arguments")

def _arity(fewest: int, most: float) -> Arity:
    text = f"{fewest} argument{'s' if fewest > 1 else ''}" if fewest == most else \
        f"at least {fewest} arguments" if most == math.inf else f"{fewest} to {most} arguments"
    return Arity(fewest, most, text)


# name -> (SymPy callable, arity), read from the function table: sigmoid(u) stays σ(u), softplus(u) stays
# softplus(u), so their derivatives and kernels are the stable named forms. Heaviside is left out on purpose:
# its value at 0 is a convention.
FUNCTIONS = {**{name: (entry.sympy, ONE) for name, entry in BY_NAME.items()},
             **{name: (build, _arity(fewest, most)) for name, (build, fewest, most) in SPELLINGS.items()},
             "log": (sp.log, ONE_OR_TWO)}
CONSTANTS = {"pi": sp.pi, "E": sp.E, "e": sp.E}
UNDEFINED = (sp.zoo, sp.nan, sp.oo, -sp.oo, sp.AccumBounds)


def _power(base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
    """base**exponent, refused before SymPy builds a huge number (9**9**9, (10**99*z)**999)."""
    if exponent.is_Number:
        if abs(exponent) > MAX_EXPONENT:
            raise BadExpression(f"exponent {exponent} is too large; |exponent| may be at most {MAX_EXPONENT}")
        bits = max((max(abs(r.p), r.q).bit_length() for r in base.atoms(sp.Rational)), default=0)
        if bits * float(abs(exponent)) * math.log10(2) > MAX_POWER_DIGITS:
            raise BadExpression(f"the power with exponent {exponent} would be a number of more than "
                                f"{MAX_POWER_DIGITS} digits")
    return sp.Pow(base, exponent)


BINARY = {ast.Add: sp.Add, ast.Sub: lambda u, v: sp.Add(u, sp.Mul(-1, v)),
          ast.Mult: sp.Mul, ast.Div: lambda u, v: sp.Mul(u, sp.Pow(v, -1)), ast.Pow: _power}
UNARY = {ast.USub: lambda u: sp.Mul(-1, u), ast.UAdd: lambda u: u}
_USE, _KINK = "use + - * / ** and functions", "for a kink use Max, Min, Abs or sign"
REFUSED_OPERATORS = {  # templates get show= (the operation's source) and power= (it with ^ as **)
    ast.BitXor: "'^' is not a power here; write {power}", ast.FloorDiv: "'//' is not allowed; write / to divide",
    **{op: f"operator {token!r} is not allowed; {_USE}" for op, token in (
        (ast.Mod, "%"), (ast.MatMult, "@"), (ast.LShift, "<<"), (ast.RShift, ">>"), (ast.BitOr, "|"),
        (ast.BitAnd, "&"), (ast.Invert, "~"), (ast.Not, "not"))},
}
REFUSED_NODES = {  # templates get node=, show= (its source) and kind= (its class name)
    ast.Attribute: "attribute access '.{node.attr}' is not allowed",
    ast.Subscript: "indexing {show!r} is not allowed",
    ast.Lambda: "'lambda' is not allowed",
    ast.IfExp: f"conditional {{show!r}} is not allowed; {_KINK}",
    ast.Compare: f"comparison {{show!r}} is not allowed; {_KINK}",
    ast.BoolOp: f"'and'/'or' in {{show!r}} is not allowed; {_KINK}",
    ast.NamedExpr: "':=' is not allowed",
    ast.Starred: "'*' unpacking is not allowed; pass arguments by position",
    ast.JoinedStr: "only real numbers are allowed, not {show}",
    **dict.fromkeys((ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp),
                    "comprehension {show!r} is not allowed"),
    **dict.fromkeys((ast.List, ast.Tuple, ast.Set, ast.Dict),
                    "{show!r} is not allowed: lists, tuples, sets and dicts are not numbers"),
}


def _integer(value: int, literal: str) -> sp.Integer | None:
    return sp.Integer(value) if abs(value) < 10**MAX_DIGITS else None


def _decimal(value: float, literal: str) -> sp.Rational | None:
    """The decimal as written, 0.01 ↦ 1/100 (not the nearest binary float); None if it has too many digits."""
    number = Decimal(literal.replace("_", ""))
    if len(number.as_tuple().digits) > MAX_DIGITS or abs(number.adjusted()) > MAX_DIGITS:
        return None
    return sp.Rational(*number.as_integer_ratio())


NUMBERS = {int: _integer, float: _decimal}  # exact types, so bool, complex, str, bytes and None are refused


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


def _suggest(name: str, known) -> str:
    near = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    return f"did you mean {' or '.join(map(repr, near))}? " if near else ""


class _Builder:
    """Walks an ``ast`` tree top-down, building SymPy for whitelisted nodes via ``_build_<NodeClass>``."""

    def __init__(self, source: str, symbols: Mapping[str, sp.Symbol], what: str):
        self.source, self.symbols, self.what = source, symbols, what
        self.known = {**CONSTANTS, **symbols}

    def show(self, node: ast.AST) -> str:
        return _clip(ast.get_source_segment(self.source, node) or type(node).__name__)

    def build(self, node: ast.AST, depth: int) -> sp.Expr:
        if depth > MAX_DEPTH:
            raise BadExpression(f"{self.what} is nested too deeply (more than {MAX_DEPTH} levels)")
        method = getattr(self, f"_build_{type(node).__name__}", None)
        if method is None:
            template = REFUSED_NODES.get(type(node), "{show!r} ({kind}) is not allowed")
            raise BadExpression(template.format(node=node, show=self.show(node), kind=type(node).__name__))
        value = method(node, depth + 1)
        if value.has(*UNDEFINED):
            raise BadExpression(f"{self.show(node)!r} is undefined (division by zero?)")
        return value

    def _build_Constant(self, node: ast.Constant, depth: int) -> sp.Expr:
        if type(node.value) not in NUMBERS:
            raise BadExpression(f"only real numbers are allowed, not {self.show(node)}")
        number = NUMBERS[type(node.value)](node.value, ast.get_source_segment(self.source, node))
        if number is None:
            raise BadExpression(f"number {self.show(node)} is too long; at most {MAX_DIGITS} digits")
        return number

    def _build_Name(self, node: ast.Name, depth: int) -> sp.Expr:
        if node.id in self.known:
            return self.known[node.id]
        if node.id in FUNCTIONS:
            raise BadExpression(f"{node.id!r} is a function; call it as {node.id}(...)")
        names = [*self.symbols, *dict.fromkeys(map(str, CONSTANTS.values()))]  # each constant once
        raise BadExpression(f"unknown name {node.id!r}; {_suggest(node.id, self.known)}"
                            f"this {self.what} may use: {', '.join(names)}")

    def _build_BinOp(self, node: ast.BinOp, depth: int) -> sp.Expr:
        self._check_operator(BINARY, node)
        return BINARY[type(node.op)](self.build(node.left, depth), self.build(node.right, depth))

    def _build_UnaryOp(self, node: ast.UnaryOp, depth: int) -> sp.Expr:
        self._check_operator(UNARY, node)
        return UNARY[type(node.op)](self.build(node.operand, depth))

    def _build_Call(self, node: ast.Call, depth: int) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            self.build(node.func, depth)  # names the attribute, subscript ... being called
            raise BadExpression(f"{self.show(node.func)!r} is not a function; write * to multiply")
        name = node.func.id
        if name not in FUNCTIONS:
            raise BadExpression(f"{name!r} is not a function; write * to multiply" if name in self.known else
                                f"unknown function {name!r}; {_suggest(name, FUNCTIONS)}allowed functions: "
                                f"{', '.join(sorted(FUNCTIONS, key=str.lower))}")
        if node.keywords:
            keyword = node.keywords[0].arg
            raise BadExpression(f"keyword argument '{keyword}=' is not allowed; pass arguments by position"
                                if keyword else "'**' unpacking is not allowed; pass arguments by position")
        function, arity = FUNCTIONS[name]
        args = [self.build(arg, depth) for arg in node.args]
        if not arity.fewest <= len(args) <= arity.most:
            raise BadExpression(f"{name} takes {arity.text}, got {len(args)}")
        return function(*args)

    def _check_operator(self, allowed: dict, node: ast.BinOp | ast.UnaryOp) -> None:
        if type(node.op) not in allowed:
            template = REFUSED_OPERATORS.get(type(node.op), f"operator {{show!r}} is not allowed; {_USE}")
            raise BadExpression(template.format(show=self.show(node), power=self.show(node).replace("^", "**")))


# Characters the grammar never needs, refused before Python's tokenizer sees them: a comment would hide the rest
# of the text from the walk below, a backslash joins lines, and non-ASCII letters fold (NFKC) into other names.
# (Quotes reach the walk, which refuses the string by name.)
_FORBIDDEN = {"#": "'#' starts a comment, which is not part of a formula", "\\": "a backslash is not allowed"}


def _refuse_characters(text: str, what: str) -> None:
    """One-line refusal of the first character that no formula contains (shown escaped, never raw)."""
    for column, char in enumerate(text, start=1):
        if char in " \t\n\r":
            continue
        if char in _FORBIDDEN:
            raise BadExpression(f"{what}: {_FORBIDDEN[char]} (column {column}); use + - * / ** and functions")
        if not (char.isascii() and char.isprintable()):
            raise BadExpression(f"{what}: character {ascii(char)} at column {column} is not allowed; "
                                f"write the formula in ASCII, e.g. z/(1+Abs(z))")


def parse_expression(text: str, symbols: Mapping[str, sp.Symbol], *, what: str = "expression") -> sp.Expr:
    """The SymPy expression ``text`` writes in ``symbols``; anything else is a one-line ``BadExpression``."""
    if len(text) > MAX_LENGTH:
        raise BadExpression(f"{what} is too long ({len(text)} characters; at most {MAX_LENGTH})")
    _refuse_characters(text, what)
    source = " ".join(text.split())  # whitespace only separates tokens here, so newlines and indents go
    shown = repr(_clip(source, 80))
    if not source:
        raise BadExpression(f"{what} is empty; write a formula in {', '.join(symbols)}")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:  # offset is 1-based; 0 means Python ran off the end of the text
        where = "" if error.offset is None else f" at column {error.offset}" if error.offset else " at the end"
        raise BadExpression(f"cannot parse {what} {shown}: {error.msg}{where}") from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise BadExpression(f"cannot parse {what} {shown}: {type(error).__name__}") from None
    for node in ast.walk(tree):  # before building, so __import__('os').system('ls') is refused by its worst name
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise BadExpression(f"name {node.id!r} is not allowed: names starting with an underscore never are")
    try:
        expr = _Builder(source, symbols, what).build(tree.body, 1)
        checks = (
            (isinstance(expr, sp.Expr), f"{what} {shown} is not a number-valued expression"),
            (expr.free_symbols <= set(symbols.values()), f"{what} {shown} uses symbols it may not"),
            (not expr.has(sp.I), f"{what} {shown} is not real-valued (it contains I)"),
        )
    except BadExpression:
        raise
    except Exception as error:  # a SymPy surprise is still a user-facing, one-line refusal
        reason = _clip(" ".join(str(error).split()), 80)
        raise BadExpression(f"cannot build {what} {shown}: {type(error).__name__}: {reason}") from error
    for ok, message in checks:
        if not ok:
            raise BadExpression(message)
    return expr
