"""Derivation steps: small immutable values that renderers turn into text, LaTeX, Markdown and JSON.

Each step is one thing a reader sees: a heading, a definition, the chain rule, a local derivative worked rule
by rule, a chain of equalities, an update, a note in words, or a table of numbers. Expressions inside are
SymPy, with the display nodes of ``derive.notation``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from string import Formatter

import sympy as sp
from sympy.core.parameters import distribute

from derive.rules import RuleApplication


@dataclass(frozen=True)
class Section:
    """A heading."""

    title: str


@dataclass(frozen=True)
class ChainRule:
    """lhs = factor · factor · …, in Leibniz notation."""

    lhs: sp.Expr
    factors: tuple
    why: str = "chain rule"


@dataclass(frozen=True)
class LocalDerivative:
    """One local derivative: its rule tree, then the textbook form (equal by assertion) and why."""

    lhs: sp.Expr
    tree: RuleApplication
    textbook: sp.Expr | None = None
    why: str = ""
    kink: str = ""


@dataclass(frozen=True)
class Equation:
    """lhs = rhs[0] = rhs[1] …, each equality justified by ``why``."""

    lhs: sp.Expr
    rhs: tuple
    why: str = ""


class Definition(Equation):
    """lhs = rhs[0] = …: names an intermediate of the forward pass; ``why`` says what it means."""

    @property
    def meaning(self) -> str:
        return self.why


@dataclass(frozen=True)
class Update:
    """parameter ← rhs (= values[0] = values[1] …, when numbers are put in)."""

    parameter: sp.Expr
    rhs: sp.Expr
    values: tuple = ()


@dataclass(frozen=True)
class Note:
    """A sentence in plain words, with maths inside it kept as maths.

    ``{0}``, ``{1}`` … in ``text`` stand for ``maths[0]``, ``maths[1]`` …: each a SymPy expression, or a relation
    ``(lhs, "=", rhs, …)`` with relations from ``RELATIONS``, that every format prints with its own printer.
    Without ``maths``, ``text`` is the whole sentence, braces and all.
    """

    text: str
    maths: tuple = ()

    def parts(self) -> tuple:
        """Words and maths in reading order: ('The input ', x_j, ' is a factor of ', ∂L/∂w_j, …)."""
        if not self.maths:
            return (self.text,)
        out = []
        for words, field, _, _ in Formatter().parse(self.text):
            out += [words] if words else []
            out += [self.maths[int(field)]] if field is not None else []
        return tuple(out)


RELATIONS = ("=", "≠", "<", ">", "≤", "≥", "←")


@dataclass(frozen=True)
class Table:
    """Numbers in rows under ``columns`` (each a word or a SymPy expression, printed as maths), with a caption.

    A cell is a number (printed to ``digits`` significant digits; JSON keeps it a number), words, or a SymPy
    expression (printed as maths).
    """

    columns: tuple
    rows: tuple
    caption: str = ""
    digits: int = 4


Step = Section | Definition | ChainRule | LocalDerivative | Equation | Update | Note | Table


def relabel(step, mapping: dict):
    """``step`` with its symbols renamed (z → z_k, a → a⁽ᴸ⁾), for display; rule trees are renamed node by node,
    so each placeholder still matches the child that fills it."""
    if isinstance(step, RuleApplication):
        children = tuple(relabel(child, mapping) for child in step.children)
        slots = {sp.Derivative(c.expr, c.var, evaluate=False): sp.Derivative(r.expr, r.var, evaluate=False)
                 for c, r in zip(step.children, children)}
        return dataclasses.replace(step, expr=step.expr.xreplace(mapping), var=step.var.xreplace(mapping),
                                   applied=step.applied.xreplace({**mapping, **slots}), children=children)
    if isinstance(step, sp.Basic):
        with distribute(False):  # keep 2(a − y) as written
            return step.xreplace(mapping)
    if isinstance(step, tuple):
        return tuple(relabel(part, mapping) for part in step)
    if dataclasses.is_dataclass(step):
        return dataclasses.replace(step, **{f.name: relabel(getattr(step, f.name), mapping)
                                            for f in dataclasses.fields(step)})
    return step
