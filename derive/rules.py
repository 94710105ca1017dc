"""Rule-by-rule differentiation: d/dv of a SymPy expression as a tree of rule applications.

Each node shows one law with the derivatives it still needs as unevaluated ``Derivative`` placeholders
(``applied``), and evaluates itself by putting its children's results in their place (``result``), so a shown
step can never disagree with the answer. Function rules come from the table in ``derive.catalogue.functions``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sympy as sp
from sympy.core.parameters import distribute

from derive.catalogue.functions import FUNCTIONS, PIECEWISE_CONSTANT
from derive.errors import BadExpression


@dataclass(frozen=True)
class RuleApplication:
    """d/d``var`` ``expr`` = ``applied`` (by ``rule``), where each child fills one placeholder."""

    rule: str
    expr: sp.Expr
    var: sp.Symbol
    applied: sp.Expr
    children: tuple["RuleApplication", ...] = ()
    note: str = ""

    @cached_property
    def result(self) -> sp.Expr:
        return self.applied.xreplace({placeholder(c.expr, c.var): c.result for c in self.children})

    @property
    def trivial(self) -> bool:
        """A step a reader needs no line for: d/dv v = 1 or d/dv c = 0."""
        return self.rule in ("variable", "constant")

    def walk(self):
        """This node and every node below it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


def placeholder(expr: sp.Expr, var: sp.Symbol) -> sp.Derivative:
    return sp.Derivative(expr, var, evaluate=False)


def differentiate(expr: sp.Expr, var: sp.Symbol) -> RuleApplication:
    """The rule tree of d/d``var`` ``expr``."""
    expr = sp.sympify(expr)
    if expr == var:
        return RuleApplication("variable", expr, var, sp.Integer(1))
    if not expr.has(var):
        return RuleApplication("constant", expr, var, sp.Integer(0))
    for kind, handler in _HANDLERS:
        if isinstance(expr, kind):
            return handler(expr, var)
    if expr.func in PIECEWISE_CONSTANT:
        return RuleApplication(f"{PIECEWISE_CONSTANT[expr.func]} rule", expr, var, sp.Integer(0),
                               note=f"{expr.func.__name__} is constant on each side of 0; its jump at 0 is ignored")
    if expr.func in FUNCTIONS:
        return _function(expr, var)
    raise BadExpression(f"no differentiation rule for {expr.func.__name__}; "
                        f"known functions: {', '.join(sorted(f.name for f in FUNCTIONS.values()))}")


def _sum(expr: sp.Add, var) -> RuleApplication:
    terms = expr.as_ordered_terms()
    return _apply("sum rule", expr, var, sp.Add(*[placeholder(t, var) for t in terms], evaluate=False), terms)


def _mul(expr: sp.Mul, var) -> RuleApplication:
    constant, dependent = expr.as_independent(var, as_Add=False)
    if constant != 1:
        return _apply("constant multiple rule", expr, var, constant * placeholder(dependent, var), [dependent])
    numerator, denominator = sp.fraction(expr)
    if denominator.has(var) and numerator.has(var):
        law = (placeholder(numerator, var) * denominator - numerator * placeholder(denominator, var)) / denominator**2
        return _apply("quotient rule", expr, var, law, [numerator, denominator])
    first, *rest = expr.as_ordered_factors()
    rest = sp.Mul(*rest)
    law = sp.Add(placeholder(first, var) * rest, first * placeholder(rest, var), evaluate=False)
    return _apply("product rule", expr, var, law, [first, rest])


def _pow(expr: sp.Pow, var) -> RuleApplication:
    base, exponent = expr.as_base_exp()
    if not exponent.has(var):
        with distribute(False):  # keep 2(a − y), as a reader writes it
            law = exponent * base**(exponent - 1) * placeholder(base, var)
        return _apply(_chained("power rule", base, var), expr, var, law, [base])
    if not base.has(var):
        return _apply(_chained("exponential rule", exponent, var), expr, var,
                      expr * sp.log(base) * placeholder(exponent, var), [exponent])
    raise BadExpression(f"no rule for a variable power {expr}; rewrite it as exp(({exponent})*log({base}))")


def _function(expr: sp.Function, var) -> RuleApplication:
    (u,) = expr.args
    function = FUNCTIONS[expr.func]
    return _apply(_chained(function.rule, u, var), expr, var, function.derivative(u) * placeholder(u, var), [u])


def _piecewise(expr: sp.Piecewise, var) -> RuleApplication:
    pieces = [piece for piece, _ in expr.args]
    law = sp.Piecewise(*[(placeholder(piece, var), condition) for piece, condition in expr.args])
    return _apply("piecewise rule", expr, var, law, pieces,
                  note="differentiate each piece on its own side; a boundary takes the piece whose condition holds")


def _max_min(expr, var) -> RuleApplication:
    cases = expr.rewrite(sp.Piecewise)
    return _apply("max/min as cases", expr, var, placeholder(cases, var), [cases])


_HANDLERS = ((sp.Add, _sum), (sp.Mul, _mul), (sp.Pow, _pow), (sp.Piecewise, _piecewise),
             ((sp.Max, sp.Min), _max_min))


def _apply(rule: str, expr, var, applied, parts, note: str = "") -> RuleApplication:
    children = tuple(differentiate(part, var) for part in dict.fromkeys(parts))
    return RuleApplication(rule, expr, var, applied, children, note)


def _chained(rule: str, inner, var) -> str:
    return rule if inner == var else f"{rule} and chain rule"
