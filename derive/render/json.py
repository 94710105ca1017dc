"""JSON: the steps as data, each {"kind": step class, field: value …} with every expression as
{"text": …, "latex": …} and rule trees nested; plus each parameter's gradient as a string that
``sympy.sympify`` parses back (with ``gradient_symbols`` naming the symbols it uses), and what the symbols mean.
A worked example adds ``example``: its point, every number it shows as a number with what it is, and the trace.
"""
from __future__ import annotations

import dataclasses
import json
import re

import sympy as sp

from derive.catalogue.functions import NAMED
from derive.render.base import Renderer
from derive.render.printers import LatexPrinter, TextPrinter
from derive.rules import RuleApplication

TREE_FIELDS = ("rule", "expr", "var", "applied", "result", "note", "trivial")


def identifier(name: str) -> str:
    """A Python name for a symbol name: 'delta_i^(3)' -> 'delta_i__3'."""
    if name.isidentifier():
        return name
    return re.sub(r"\W", "_", name.replace("^(", "__").replace(")", "")).strip("_") or "s"


def plain(expr: sp.Expr) -> tuple[str, dict]:
    """``expr`` as a string sympify reads back, and {identifier: symbol name} for its symbols.

    sympify("2*(a - y)*s") multiplies out 2*(a - y) first; "2*((a - y)*s)" keeps the product as it was.
    """
    names = {s: identifier(s.name) for s in sorted(expr.free_symbols, key=lambda s: s.name)}
    renamed = expr.xreplace({s: sp.Symbol(n, **s.assumptions0) for s, n in names.items() if n != s.name})
    text = sp.sstr(renamed, order=None)
    coefficient, rest = renamed.as_coeff_Mul()
    if coefficient not in (1, -1) and rest.is_Mul:
        local = {**{n: sp.Symbol(n, **s.assumptions0) for s, n in names.items()}, **{f.__name__: f for f in NAMED}}
        if sp.sympify(text, locals=local) != renamed:
            text = f"{sp.sstr(coefficient)}*({sp.sstr(rest, order=None)})"
    return text, {n: s.name for s, n in names.items()}


class JsonRenderer(Renderer):
    text_printer, latex_printer = TextPrinter(), LatexPrinter()

    def render(self) -> str:
        d = self.derivation
        gradients, used = {}, {}
        for parameter, gradient in d.gradients.items():
            gradients[parameter.name], names = plain(gradient)
            used.update(names)
        data = {"title": d.title, "model": d.model, "activation": d.activation, "loss": d.loss, "hidden": d.hidden,
                "layers": d.layers, "steps": [self.dispatch(step) for step in d.steps], "gradients": gradients,
                "gradient_symbols": dict(sorted(used.items())), "symbols": d.symbols,
                **({"example": d.example.data()} if d.example is not None else {})}
        return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"

    def dispatch(self, step):
        """Every step class the same way: its class name, then its fields as data."""
        return {"kind": type(step).__name__,
                **{f.name: self.data(getattr(step, f.name)) for f in dataclasses.fields(step)}}

    def data(self, value):
        if isinstance(value, RuleApplication):
            return {**{name: self.data(getattr(value, name)) for name in TREE_FIELDS},
                    "children": [self.data(child) for child in value.children]}
        if isinstance(value, sp.Basic):
            return {"text": self.text_printer.doprint(value), "latex": self.latex_printer.doprint(value)}
        if isinstance(value, (tuple, list)):
            return [self.data(item) for item in value]
        return value
