"""Derivation steps: small immutable values that renderers turn into text, LaTeX, Markdown and JSON.

Each step is one thing a reader sees: a heading, a definition, the chain rule, a local derivative worked rule
by rule, a chain of equalities, an update, or a note in words. Expressions inside are SymPy, with the display
nodes of ``derive.notation``.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.rules import RuleApplication


@dataclass(frozen=True)
class Section:
    """A heading."""

    title: str


@dataclass(frozen=True)
class Definition:
    """lhs = rhs[0] = rhs[1] …: names an intermediate of the forward pass."""

    lhs: sp.Expr
    rhs: tuple
    meaning: str = ""


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


@dataclass(frozen=True)
class Update:
    """parameter ← rhs (= values[0] = values[1] …, when numbers are put in)."""

    parameter: sp.Expr
    rhs: sp.Expr
    values: tuple = ()


@dataclass(frozen=True)
class Note:
    """A sentence in plain words."""

    text: str


Step = Section | Definition | ChainRule | LocalDerivative | Equation | Update | Note
