"""Numbers from a derivation's own expressions, in float64: the forward pass, δ of every layer, the gradients.

Every model is a stack of dense layers, z⁽ˡ⁾ = a⁽ˡ⁻¹⁾ W⁽ˡ⁾ + b⁽ˡ⁾ with W stored (inputs, outputs):

    a⁽ˡ⁾ = g(z⁽ˡ⁾) below the top, the head on top;   δ⁽ᴸ⁾ from the head,   δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ δ⁽ˡ⁺¹⁾) ⊙ g'(z⁽ˡ⁾)

and each gradient is the derivation's expression for it, evaluated entry by entry (``bind`` says which number
each of its symbols stands for). The head is evaluated as its span says: to add a span, add it to ``HEADS``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import sympy as sp

from derive.catalogue.functions import expand_named
from derive.catalogue.symbols import K, P, Y, Z, a, k, y, z
from derive.derivations.example.point import INPUT, parameters, split_name
from derive.errors import BadValue

OUTPUTS = ("a", "p")   # names of a layer's outputs (p: probabilities)


def numeric(expr, symbols):
    """``expr`` as a NumPy function of ``symbols``' values (named functions such as σ written out)."""
    expr = sp.Tuple(*expr) if isinstance(expr, (list, tuple)) else sp.sympify(expr)
    return sp.lambdify(symbols, expand_named(expr), modules=["scipy", "numpy"])  # scipy: erf, for GELU


@dataclass(frozen=True)
class Pass:
    """One forward and backward pass at a point; arrays per layer l = 1 … L (index l − 1)."""

    x: np.ndarray
    y: np.ndarray
    zs: tuple
    activations: tuple
    deltas: tuple
    loss: float
    gradients: MappingProxyType   # storage name -> array in storage shape
    head_factors: tuple | None    # (∂L/∂a, ∂a/∂z) of the top layer, when the head has them
    parameters: MappingProxyType = field(default_factory=dict)   # storage name -> the parameters of this pass
    constants: MappingProxyType = field(default_factory=dict)    # symbol -> number: λ, when the loss is penalised

    def layer_input(self, layer: int) -> np.ndarray:
        return self.x if layer == 1 else self.activations[layer - 2]

    @property
    def output(self) -> np.ndarray:
        return self.activations[-1]


class ElementwiseHead:
    """a_k = f(z_k) and L = (1/K) Σ_k L(a_k, y_k): δ_k = (1/K)·∂L/∂z(a_k, y_k, z_k)."""

    def __init__(self, activation, loss, pieces):
        self.f = numeric(activation.expr, (z,))
        self.loss = numeric(loss.expr, (a, y))
        self.delta = numeric(pieces["dL_dz"], (a, y, z))
        self.dL_da = numeric(pieces["loss_derivative"], (a, y))
        self.da_dz = numeric(pieces["activation_derivative"], (a, z))

    def forward(self, zs):
        return _full(self.f(zs), zs)

    def evaluate(self, zs, out, labels):
        k = len(zs)
        loss = float(np.mean(_full(self.loss(out, labels), zs)))
        factors = (_full(self.dL_da(out, labels), zs) / k, _full(self.da_dz(out, zs), zs))
        return loss, _full(self.delta(out, labels, zs), zs) / k, factors


class VectorHead:
    """p = f(z) over all K outputs at once (softmax) and L(p, y) over the vector: δ_k = ∂L/∂z_k(p_k, y_k)."""

    def __init__(self, activation, loss, pieces):
        self.activation, self.loss_expr = activation.expr, loss.expr
        self.delta = numeric(pieces["dL_dz"], (sp.Symbol("p_k", real=True), sp.Symbol("y_k", real=True)))
        self._compiled: dict = {}

    def _functions(self, n: int):
        if n not in self._compiled:
            zs, ps, ys = (sp.symbols(f"{name}1:{n + 1}", real=True) for name in "zpy")
            plain = {**{Z[c + 1]: zs[c] for c in range(n)}, **{P[c + 1]: ps[c] for c in range(n)},
                     **{Y[c + 1]: ys[c] for c in range(n)}}
            outputs = [self.activation.subs({K: n, k: c + 1}).doit().xreplace(plain) for c in range(n)]
            self._compiled[n] = (numeric(outputs, zs), numeric(self.loss_expr.subs(K, n).doit().xreplace(plain),
                                                                   (*ps, *ys)))
        return self._compiled[n]

    def forward(self, zs):
        return np.asarray(self._functions(len(zs))[0](*zs), dtype=float)

    def evaluate(self, zs, out, labels):
        loss = float(self._functions(len(zs))[1](*out, *labels))
        return loss, _full(self.delta(out, labels), zs), None


HEADS = MappingProxyType({"elementwise": ElementwiseHead, "softmax": VectorHead})


def _full(values, like) -> np.ndarray:
    """A lambdified result as an array shaped like ``like`` (a constant comes back as one number)."""
    return np.broadcast_to(np.asarray(values, dtype=float), np.shape(like)).copy()


class Network:
    """The derivation's model as numbers: ``run(params, x, y)`` gives a Pass. ``constants`` ({λ: number}) are
    put into the gradients (a penalised loss's λ·w)."""

    def __init__(self, derivation, activation, loss, constants=None):
        self.constants = MappingProxyType(dict(constants or {}))
        self.derivation = derivation
        self.parameters = parameters(derivation)
        self.head = HEADS[activation.span](activation, loss, derivation.pieces)
        pieces = derivation.pieces
        self.hidden = numeric(pieces["hidden_activation"], (z,)) if "hidden_activation" in pieces else None
        self.hidden_derivative = numeric(pieces["hidden_derivative"], (a, z)) if self.hidden else None
        self.gradient = {}   # name -> (function of its symbols' values, those symbols)
        for p in self.parameters:
            expr = derivation.gradients[p.symbol].xreplace(dict(self.constants))
            symbols = sorted(expr.free_symbols, key=lambda s: s.name)
            self.gradient[p.name] = (numeric(expr, symbols), symbols)

    def run(self, params: dict, x: np.ndarray, labels: np.ndarray) -> Pass:
        weights = [params[p.name] for p in self.parameters if p.weight]
        biases = [params[p.name] for p in self.parameters if not p.weight]
        layer_in, zs, outs = np.asarray(x, dtype=float), [], []
        with np.errstate(all="ignore"):
            for index, (W, b) in enumerate(zip(weights, biases)):
                zs.append(layer_in @ W.reshape(len(layer_in), -1) + np.reshape(b, -1))
                top = index == len(weights) - 1
                outs.append(self.head.forward(zs[-1]) if top else _full(self.hidden(zs[-1]), zs[-1]))
                layer_in = outs[-1]
            loss, delta, factors = self.head.evaluate(zs[-1], outs[-1], labels)
            deltas = [delta]
            for index in range(len(weights) - 2, -1, -1):
                W = weights[index + 1].reshape(len(zs[index]), -1)
                deltas.insert(0, (W @ deltas[0]) * _full(self.hidden_derivative(outs[index], zs[index]), zs[index]))
        if not all(np.all(np.isfinite(v)) for v in (*zs, *outs, *deltas, [loss])):
            raise BadValue("the example's values make the loss or its gradient undefined (not finite); choose others")
        stored = MappingProxyType({name: np.asarray(v, dtype=float) for name, v in params.items()})
        done = Pass(np.asarray(x, dtype=float), labels, tuple(zs), tuple(outs), tuple(deltas), loss,
                    MappingProxyType({}), factors, stored, self.constants)
        gradients = {p.name: self.gradient_of(p, done, params[p.name].shape) for p in self.parameters}
        return Pass(done.x, labels, done.zs, done.activations, done.deltas, loss, MappingProxyType(gradients),
                    factors, stored, self.constants)

    def gradient_of(self, p, done: Pass, shape: tuple) -> np.ndarray:
        """The derivation's ∂L/∂p, every entry at once: input-indexed symbols run down, output-indexed across;
        the parameter itself (in a penalty's λ·w) is its own array."""
        function, symbols = self.gradient[p.name]
        arrays = [done.parameters[p.name] if s == p.symbol else bind_array(s, done, p.layer, len(shape) == 2)
                  for s in symbols]
        return np.array(np.broadcast_to(np.asarray(function(*arrays), dtype=float), shape), dtype=float, order="C")


def layer_values(symbol: sp.Symbol, done: Pass, layer: int) -> np.ndarray | float:
    """The numbers ``symbol`` stands for at ``done``: x, a/p, z, δ, y of its layer (the top one without a
    superscript) or K. Raises KeyError for a symbol that is not a quantity of the network."""
    base, _, sup = split_name(symbol.name)
    top = len(done.zs)
    if symbol == K:
        return float(len(done.y))
    if base == "x":
        return done.x
    level = int(sup) if sup else (top if base != "x" else 0)
    table = {"z": lambda: done.zs[level - 1], "delta": lambda: done.deltas[level - 1], "y": lambda: done.y,
             **{name: (lambda: done.layer_input(level + 1)) for name in OUTPUTS}}
    return table[base]()


def bind_array(symbol: sp.Symbol, done: Pass, layer: int, matrix: bool):
    """The values of ``symbol`` shaped to broadcast over a parameter's entries (inputs down, outputs across)."""
    values = layer_values(symbol, done, layer)
    if np.ndim(values) == 0:
        return values
    letters = split_name(symbol.name)[1]
    if not letters:
        if len(values) != 1:
            raise KeyError(symbol)   # an unindexed vector cannot be one number of an entry
        return float(values[0])
    if matrix:
        return np.reshape(values, (-1, 1) if INPUT in letters else (1, -1))
    return np.asarray(values)
