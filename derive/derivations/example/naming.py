"""How a worked example names its numbers, read from the derivation's own symbols.

A model whose symbols carry layers (a_j⁽ˡ⁻¹⁾, δ_i⁽ˡ⁾) names every unit with its layer: z₁⁽¹⁾, a₂⁽²⁾, inputs
a₁⁽⁰⁾; a single layer names them z, a, x₁ (one output) or z_k, a_k, y_k (K outputs), and p_k when its
gradients speak of probabilities. ``bind`` turns a symbol of an expression (x_j, a, δ_i⁽²⁾, K) into the symbol
of one entry (x₁, a, δ₂⁽²⁾, K) and its number at a Pass.
"""
from __future__ import annotations

import sympy as sp

from derive.catalogue.symbols import K
from derive.derivations.example.network import OUTPUTS, layer_values
from derive.derivations.example.point import INPUT, Parameter, script, split_name


class Names:
    """The symbols of one derivation's units, inputs and labels."""

    def __init__(self, derivation):
        used = {s.name for g in derivation.gradients.values() for s in g.free_symbols}
        used |= {s.name for s in derivation.gradients}
        self.layered = any("^(" in name for name in used)
        self.probabilities = any(split_name(name)[0] == "p" for name in used)
        self.indexed = self.layered or derivation.outputs > 1 or self.probabilities
        self.top = derivation.layers + 1

    def symbol(self, base: str, layer: int | None, *indices: int) -> sp.Symbol:
        sub = script([i + 1 for i in indices]) if self.indexed or base in ("x", "w") else ""
        sup = f"^({layer})" if self.layered and layer is not None else ""
        return sp.Symbol(base + (f"_{sub}" if sub else "") + sup, real=True)

    def unit(self, base: str, layer: int, index: int) -> sp.Symbol:
        """z, a or δ of unit ``index`` of ``layer`` (the output of the top layer is p for probabilities)."""
        if base == "a" and layer == 0:
            return self.input(index)
        if base == "a" and layer == self.top and self.probabilities:
            base = "p"
        return self.symbol(base, layer, index)

    def input(self, index: int) -> sp.Symbol:
        return self.symbol("a", 0, index) if self.layered else self.symbol("x", None, index)

    def label(self, index: int) -> sp.Symbol:
        return self.symbol("y", None, index)

    def output(self, index: int) -> sp.Symbol:
        return self.unit("a", self.top, index)

    def bind(self, symbol: sp.Symbol, done, layer: int, inputs: int | None, unit: int | None):
        """(entry symbol, value) of ``symbol`` for the entry with input ``inputs`` and output ``unit`` of
        ``layer``: an input-indexed symbol (letter j) takes ``inputs``, any other takes ``unit``."""
        if symbol == K:
            return K, float(len(done.y))
        if symbol in done.constants:
            return symbol, float(done.constants[symbol])
        base, letters, sup = split_name(symbol.name)
        if base in ("w", "W") and INPUT in letters:   # a weight, in a penalty's λ·w: its entry and its value
            weight = Parameter(symbol)
            index = (inputs, unit) if len(letters) == 2 else (inputs,)
            return weight.entry(index), float(done.parameters[weight.name][index])
        values = layer_values(symbol, done, layer)
        index = inputs if INPUT in letters else unit
        level = int(sup) if sup else (0 if base == "x" else self.top)
        value = float(values[index if len(values) > 1 else 0])
        if base == "x" or (base in OUTPUTS and level == 0):
            return self.input(index), value
        if base == "y":
            return self.label(index), value
        return self.unit("a" if base in OUTPUTS else base, level, index), value

    def bind_all(self, expr, done, layer: int, inputs: int | None = None, unit: int | None = None):
        """``expr`` relabelled to one entry's symbols, and {entry symbol: value}."""
        mapping, values = {}, {}
        for s in sorted(expr.free_symbols, key=lambda s: s.name):
            try:
                mapping[s], values_of = self.bind(s, done, layer, inputs, unit)
            except KeyError:
                continue   # not a quantity of the network (a constant symbol): it stays
            values[mapping[s]] = values_of
        return mapping, values
