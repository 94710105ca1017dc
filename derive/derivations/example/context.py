"""What every part of a worked example reads: the derivation, its registry entries, the point, the pass at the
point, the names of its numbers, the digits to show, and the record of every number shown (for JSON).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from derive.catalogue.symbols import L
from derive.derivations.example.display import number
from derive.derivations.example.naming import Names
from derive.derivations.example.point import Parameter, Point, split_name
from derive.notation import Partial
from derive.steps import Equation

SPELLED_OUT = 8  # terms a sum over units writes out; beyond, it is written Σ


@dataclass
class Context:
    derivation: object
    activation: object
    loss: object
    point: Point
    network: object
    done: object          # the Pass at the point
    digits: int
    names: Names = None
    values: list = field(default_factory=list)   # [{"quantity", "what", "value"}] of every number shown
    training: object = None   # the Training (optimizer, options) when one was given, else None: plain descent

    def __post_init__(self):
        self.names = Names(self.derivation)

    @property
    def penalised(self) -> bool:
        return self.training is not None and self.training.penalised

    @property
    def objective(self) -> sp.Symbol:
        """What a gradient is of: J = L + R with a penalty, else L."""
        from derive.catalogue.optimizers import J
        return J if self.penalised else L

    @property
    def top(self) -> int:
        return len(self.done.zs)

    def number(self, value: float) -> sp.Expr:
        return number(value, self.digits)

    def record(self, quantity, what: str, value: float) -> sp.Expr:
        """Keep ``value`` (what it is, and the quantity's name) for the JSON output; its number to show."""
        name = quantity if isinstance(quantity, str) else quantity_name(quantity)
        self.values.append({"quantity": name, "what": what, "value": float(value)})
        return self.number(value)

    def display(self, key: sp.Symbol) -> sp.Expr:
        """The derivation's own form of ∂L/∂key, as its steps show it: for key itself, or for the entry of
        layer l (W_ij⁽ˡ⁾, with l, l − 1 and l + 1 then put in); else its gradient expression."""
        found = last_equation(self.derivation, Partial(L, key))
        if found is not None:
            return found
        base, letters, layer = split_name(key.name)
        if layer:
            general = sp.Symbol(f"{base}_{letters}^(l)" if letters else f"{base}^(l)", real=True)
            found = last_equation(self.derivation, Partial(L, general))
            if found is not None:
                shift = {"l": int(layer), "l-1": int(layer) - 1, "l+1": int(layer) + 1}
                return found.xreplace({s: _at_layer(s, shift) for s in found.free_symbols
                                       if split_name(s.name)[2] in shift})
        return self.derivation.gradients[key]

    def array_symbol(self, p: Parameter) -> sp.Symbol:
        """A parameter array as one symbol: w, b, W⁽²⁾."""
        base, _, layer = p.parts
        return sp.Symbol(base + (f"^({layer})" if layer else ""), real=True)

    def unit_name(self, layer: int, index: int) -> str:
        where = f" of layer {layer}" if self.names.layered else ""
        return f"unit {index + 1}{where}" if self.names.indexed else "the neuron"


def _at_layer(symbol: sp.Symbol, shift: dict) -> sp.Symbol:
    """delta_i^(l) -> delta_i^(2) for l = 2: the general layer's symbol at one layer."""
    layer = split_name(symbol.name)[2]
    return sp.Symbol(symbol.name.replace(f"^({layer})", f"^({shift[layer]})"), **symbol.assumptions0)


def last_equation(derivation, lhs) -> sp.Expr | None:
    """The last side of the last Equation about ``lhs`` in the derivation's steps, or None."""
    for step in reversed(derivation.steps):
        if isinstance(step, Equation) and step.lhs == lhs and step.rhs:
            return step.rhs[-1]
    return None


def quantity_name(expr) -> str:
    """A plain name for a quantity: 'z_1^(1)', 'dL/dW_11^(2)'."""
    if isinstance(expr, Partial):
        return f"d{quantity_name(expr.of)}/d{quantity_name(expr.by)}"
    return expr.name if isinstance(expr, sp.Symbol) else str(expr)


def output_delta_lhs(derivation, top: int):
    """Whether a step's lhs is the output layer's ∂L/∂z (z, z_k, z⁽ᴸ⁾) or δ⁽ᴸ⁾."""
    def matches(lhs) -> bool:
        if isinstance(lhs, sp.Symbol):
            base, letters, layer = split_name(lhs.name)
            return base == "delta" and not letters and layer == str(top)
        if isinstance(lhs, Partial) and lhs.of == L and isinstance(lhs.by, sp.Symbol):
            base, letters, layer = split_name(lhs.by.name)
            return base == "z" and letters in ("", "k") and layer in ("", str(top))
        return False
    return matches
