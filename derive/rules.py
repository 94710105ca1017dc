"""Rule-by-rule differentiation: d/dv of a SymPy expression as a tree of rule applications.

Each node shows one law with the derivatives it still needs as unevaluated ``Derivative`` placeholders
(``applied``), and evaluates itself by putting its children's results in their place (``result``), so a shown
step can never disagree with the answer. To teach a new function, add one line to ``FUNCTION_RULES``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sympy as sp
from sympy.core.parameters import distribute

from derive.catalogue.functions import sigmoid
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


# f'(u) for the elementary functions, one line each; the chain rule multiplies by du/dv.
FUNCTION_RULES = {
    sp.exp: ("exp rule", lambda u: sp.exp(u)),
    sp.log: ("log rule", lambda u: 1 / u),
    sp.tanh: ("tanh rule", lambda u: 1 - sp.tanh(u)**2),
    sp.cosh: ("cosh rule", lambda u: sp.sinh(u)),
    sp.sinh: ("sinh rule", lambda u: sp.cosh(u)),
    sp.sin: ("sin rule", lambda u: sp.cos(u)),
    sp.cos: ("cos rule", lambda u: -sp.sin(u)),
    sp.tan: ("tan rule", lambda u: 1 + sp.tan(u)**2),
    sp.atan: ("arctan rule", lambda u: 1 / (1 + u**2)),
    sp.asinh: ("arsinh rule", lambda u: 1 / sp.sqrt(u**2 + 1)),
    sp.erf: ("erf rule", lambda u: 2 * sp.exp(-u**2) / sp.sqrt(sp.pi)),
    sp.erfc: ("erfc rule", lambda u: -2 * sp.exp(-u**2) / sp.sqrt(sp.pi)),
    sp.Abs: ("absolute value rule", lambda u: sp.sign(u)),
    sigmoid: ("sigmoid rule", lambda u: sigmoid(u) * (1 - sigmoid(u))),
}
PIECEWISE_CONSTANT = {sp.sign: "sign", sp.Heaviside: "step"}


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
    if expr.func in FUNCTION_RULES:
        return _function(expr, var)
    if expr.func in PIECEWISE_CONSTANT:
        return RuleApplication(f"{PIECEWISE_CONSTANT[expr.func]} rule", expr, var, sp.Integer(0),
                               note=f"{expr.func.__name__} is constant on each side of 0; its jump at 0 is ignored")
    raise BadExpression(f"no differentiation rule for {expr.func.__name__}; "
                        f"known functions: {', '.join(sorted(f.__name__ for f in FUNCTION_RULES))}")


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
    name, derivative = FUNCTION_RULES[expr.func]
    return _apply(_chained(name, u, var), expr, var, derivative(u) * placeholder(u, var), [u])


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
