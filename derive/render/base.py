"""The shape every format shares: steps become headings, prose and rows of maths.

``Renderer.render`` walks ``derivation.steps`` and calls ``_render_<StepClass>`` for each; those methods (here,
once for every format) turn a step into blocks. A format subclass prints the blocks (``heading``, ``prose``,
``math``) and overrides a ``_render_`` method only where it differs. To add a step class, add its
``_render_<Class>`` here. Prose is a tuple of words and maths (a note's ``parts()``): each format prints the
words its way and the maths with its printer (``inline``).

A rule tree prints one row per non-trivial rule: ``d/dv expr = applied   (rule)``, its children indented below
it, then ``= result`` when the applied form (with the trivial d/dv v = 1, d/dv c = 0 filled in) differs.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.rules import RuleApplication, placeholder


@dataclass(frozen=True)
class Row:
    """lhs rel rhs[0] = rhs[1] = …, justified by ``why``; ``lhs`` None continues the row above (``= rhs``).

    ``depth`` > 0 marks a rule of a rule tree, indented that many levels under the row that opened the tree.
    """

    lhs: sp.Expr | None
    rhs: tuple
    why: str = ""
    rel: str = "="
    depth: int = 0


@dataclass(frozen=True)
class Block:
    """One thing a format prints: kind 'heading' (``body`` a string), 'prose' (a tuple of strings and maths, as
    ``Note.parts``), 'math' (groups of Rows) or 'table' (a ``Table`` step)."""

    kind: str
    body: object


def is_number(cell) -> bool:
    """A table cell that holds a number (not words)."""
    return isinstance(cell, (int, float)) and not isinstance(cell, bool)


class Renderer:
    """Turns a Derivation into one string; subclasses say how headings, prose and maths look."""

    printer = None  # a SymPy printer instance, set by each format
    inline_printer = None  # the printer for maths inside sentences, when it differs

    def __init__(self, derivation, *, standalone: bool = False):
        self.derivation = derivation
        self.standalone = standalone
        self._shown: dict = {}

    # --- the walk -------------------------------------------------------------------------------------------
    def render(self) -> str:
        blocks: list[Block] = []
        for step in self.derivation.steps:
            for block in self.dispatch(step):
                if block.kind == "math" and blocks and blocks[-1].kind == "math":
                    blocks[-1] = Block("math", blocks[-1].body + block.body)
                else:
                    blocks.append(block)
        return self.document([self.print_block(block) for block in blocks])

    def dispatch(self, step):
        method = getattr(self, f"_render_{type(step).__name__}", None)
        if method is None:
            raise TypeError(f"{type(self).__name__} has no _render_{type(step).__name__}")
        return method(step)

    def print_block(self, block: Block) -> str:
        return getattr(self, block.kind)(block.body)

    # --- what a format provides -----------------------------------------------------------------------------
    def document(self, parts: list[str]) -> str:
        raise NotImplementedError

    def heading(self, title: str) -> str:
        raise NotImplementedError

    def prose(self, parts: tuple) -> str:
        raise NotImplementedError

    def math(self, groups: list[list[Row]]) -> str:
        raise NotImplementedError

    def table(self, table) -> str:
        raise NotImplementedError

    def show(self, expr) -> str:
        """``expr`` printed in this format (each expression once: rows print and compare the same ones)."""
        if expr not in self._shown:
            self._shown[expr] = self.printer.doprint(expr)
        return self._shown[expr]

    def inline(self, maths) -> str:
        """A note's maths in this format: an expression, or a relation (lhs, "=", rhs, …)."""
        if isinstance(maths, tuple):
            return " ".join(self.relation(p) if isinstance(p, str) else self.inline(p) for p in maths)
        if self.inline_printer is None:
            return self.show(maths)
        if ("inline", maths) not in self._shown:
            self._shown["inline", maths] = self.inline_printer.doprint(maths)
        return self._shown["inline", maths]

    def relation(self, rel: str) -> str:
        """= ≠ < > ≤ ≥ ← as this format writes them."""
        return rel

    # --- steps -> blocks ------------------------------------------------------------------------------------
    def _render_Section(self, step):
        return [Block("heading", step.title)]

    def _render_Note(self, step):
        return [Block("prose", step.parts())]

    def _render_Table(self, step):
        return [Block("table", step)]

    def _render_Equation(self, step):
        return self.rows(Row(step.lhs, self.distinct(step.lhs, step.rhs), step.why))

    _render_Definition = _render_Equation

    def _render_ChainRule(self, step):
        from derive.notation import Times
        return self.rows(Row(step.lhs, (Times(*step.factors),), step.why))

    def _render_Update(self, step):
        return self.rows(Row(step.parameter, self.distinct(None, (step.rhs, *step.values)), rel="←"))

    def _render_LocalDerivative(self, step):
        tree: RuleApplication = step.tree
        root = self.applied(tree)
        rows = [Row(step.lhs, (placeholder(tree.expr, tree.var), root), "" if tree.trivial else tree_why(tree))]
        for child in tree.children:
            rows += self.tree_rows(child, 1)
        textbook = tree.result if step.textbook is None else step.textbook
        tail = self.distinct(root, (tree.result, textbook))
        if tail:
            rows.append(Row(None, tail, step.why))
        elif step.why:
            rows[0] = Row(rows[0].lhs, rows[0].rhs, "; ".join(filter(None, (rows[0].why, step.why))))
        return [Block("math", [rows])] + ([Block("prose", (sentence(step.kink),))] if step.kink else [])

    def tree_rows(self, node: RuleApplication, depth: int) -> list[Row]:
        """``node`` and its non-trivial children, one row each, then ``= result`` if it says more."""
        if node.trivial:
            return []
        applied = self.applied(node)
        rows = [Row(placeholder(node.expr, node.var), (applied,), tree_why(node), depth=depth)]
        for child in node.children:
            rows += self.tree_rows(child, depth + 1)
        result = self.show(node.result)
        if result != self.show(applied) and result != self.show(rows[-1].rhs[-1]):
            rows.append(Row(None, (node.result,), depth=depth))
        return rows

    # --- helpers --------------------------------------------------------------------------------------------
    @staticmethod
    def applied(node: RuleApplication) -> sp.Expr:
        """The applied law with the trivial children (d/dv v = 1, d/dv c = 0) already put in."""
        trivial = {placeholder(c.expr, c.var): c.result for c in node.children if c.trivial}
        return node.applied.xreplace(trivial) if trivial else node.applied

    def distinct(self, lhs, rhs) -> tuple:
        """``rhs`` without a side that prints like the one before it (or like ``lhs``)."""
        kept, last = [], self.show(lhs) if lhs is not None else None
        for side in rhs:
            shown = self.show(side)
            if shown != last:
                kept.append(side)
            last = shown
        return tuple(kept)

    @staticmethod
    def rows(*rows: Row) -> list[Block]:
        return [Block("math", [list(rows)])]


def sentence(text: str) -> str:
    """'at z = 0 …' -> 'At z = 0 ….': a note that reads as a sentence."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def tree_why(node: RuleApplication) -> str:
    return f"{node.rule}: {node.note}" if node.note else node.rule
