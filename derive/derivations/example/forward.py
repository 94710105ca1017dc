"""The worked forward pass, layer by layer, the loss, and the error signal δ = ∂L/∂z of every unit:

    z_i = Σ_j W_ij a_j + b_i = 0.15·0.05 + 0.2·0.1 + 0.35 = 0.3775,   a_i = g(z_i) = σ(0.3775) = 0.5933
    δ of the top from the derivation's own ∂L/∂z;   δ_j⁽ˡ⁾ = (Σ_i W_ij⁽ˡ⁺¹⁾ δ_i⁽ˡ⁺¹⁾)·g'(z_j⁽ˡ⁾)

Each line shows the symbols, then the same form with the numbers put in, then the value.
"""
from __future__ import annotations

import sympy as sp

from derive.catalogue.symbols import K, L, P, Y, Z, i, j, k
from derive.derivations.example.context import SPELLED_OUT, Context, output_delta_lhs
from derive.derivations.example.display import Substituted
from derive.notation import Partial, Times, named
from derive.steps import Definition, Equation, relabel


def forward_steps(c: Context) -> list:
    steps = []
    weights = [p for p in c.network.parameters if p.weight]
    biases = [p for p in c.network.parameters if not p.weight]
    for layer, (w, b) in enumerate(zip(weights, biases), start=1):
        inputs = c.done.layer_input(layer)
        for unit, z_value in enumerate(c.done.zs[layer - 1]):
            steps.append(_weighted_sum(c, layer, unit, w, b, inputs, z_value))
        steps += _activations(c, layer)
    return steps + [_loss(c)]


def _weighted_sum(c: Context, layer: int, unit: int, w, b, inputs, z_value) -> Definition:
    """z = W₁a₁ + W₂a₂ + b with the numbers put in (a Σ beyond SPELLED_OUT inputs)."""
    W, bias = c.point.parameters[w.name], c.point.parameters[b.name]
    index = lambda j: (j, unit) if W.ndim == 2 else (j,)
    entry = lambda j: w.entry(index(j))
    b_symbol = b.entry((unit,) if bias.ndim else ())
    numbers = {b_symbol: c.number(bias[unit] if bias.ndim else bias)}
    if len(inputs) <= SPELLED_OUT:
        with sp.evaluate(False):
            shown = sp.Add(*[sp.Mul(entry(j), c.names.unit("a", layer - 1, j)) for j in range(len(inputs))],
                           b_symbol)
        numbers.update({entry(j): c.number(W[index(j)]) for j in range(len(inputs))})
        numbers.update({c.names.unit("a", layer - 1, j): c.number(v) for j, v in enumerate(inputs)})
    else:
        row = w.entry(index(0), keep="j")
        shown = sp.Sum(row * _with_letter(c.names.unit("a", layer - 1, 0), "j"), (j, 1, len(inputs))) + b_symbol
    z_symbol = c.names.unit("z", layer, unit)
    value = c.record(z_symbol, f"pre-activation of {c.unit_name(layer, unit)}", z_value)
    return Definition(z_symbol, (shown, Substituted(shown, numbers), value))


def _with_letter(symbol: sp.Symbol, letter: str) -> sp.Symbol:
    """x_1 -> x_j, a_1^(0) -> a_j^(0), z_3 -> z_i: a unit's index written as a letter."""
    head, _, sup = symbol.name.partition("^")
    base, _, sub = head.partition("_")
    sub = letter
    return sp.Symbol(f"{base}_{sub}" + (f"^{sup}" if sup else ""), real=True)


def _activations(c: Context, layer: int) -> list:
    """a = f(z) = f(0.3775) = 0.5933 per unit; a vector activation (softmax) written over all the layer's z."""
    top = layer == c.top
    entry = c.activation if top else None
    zs, outs = c.done.zs[layer - 1], c.done.activations[layer - 1]
    steps = []
    for unit, (z_value, a_value) in enumerate(zip(zs, outs)):
        a_symbol, z_symbol = c.names.unit("a", layer, unit), c.names.unit("z", layer, unit)
        if entry is not None and entry.vector:
            shown = _vector_output(c, layer, unit, len(zs))
            numbers = {c.names.unit("z", layer, m): c.number(v) for m, v in enumerate(zs)}
            sides = (shown, Substituted(shown, numbers))
        else:
            text, latex = (c.activation.text, c.activation.latex) if top else _hidden_names(c)
            f = named(text, latex)
            sides = (f(z_symbol), f(c.number(z_value)))
        what = "output" if top else "activation"
        steps.append(Definition(a_symbol, (*sides, c.record(a_symbol, f"{what} of {c.unit_name(layer, unit)}",
                                                                a_value))))
    return steps


def _hidden_names(c: Context) -> tuple[str, str]:
    from derive.catalogue import ACTIVATIONS
    hidden = ACTIVATIONS[c.derivation.hidden]
    return hidden.text, hidden.latex


def _vector_output(c: Context, layer: int, unit: int, size: int) -> sp.Expr:
    """p_k = e^(z_k)/(e^(z₁) + … + e^(z_K)) from the activation's expression, over this layer's units."""
    if size > SPELLED_OUT:
        return sp.exp(c.names.unit("z", layer, unit)) / sp.Sum(sp.exp(_with_letter(c.names.unit("z", layer, 0), "i")),
                                                               (i, 1, size))
    plain = {Z[m + 1]: c.names.unit("z", layer, m) for m in range(size)}
    return c.activation.expr.subs({K: size, k: unit + 1}).doit().xreplace(plain)


def _loss(c: Context) -> Definition:
    """L with the outputs and labels put in: L(a, y), (1/K)·Σ_k L(a_k, y_k), or the vector loss written out."""
    size, names = len(c.done.y), c.names
    outs, labels = [names.output(m) for m in range(size)], [names.label(m) for m in range(size)]
    numbers = {**{o: c.number(v) for o, v in zip(outs, c.done.output)},
               **{y: c.number(v) for y, v in zip(labels, c.done.y)}, K: sp.Integer(size)}
    loss_name = named(c.loss.text, c.loss.latex)
    if c.loss.vector:
        plain = {**{P[m + 1]: outs[m] for m in range(size)}, **{Y[m + 1]: labels[m] for m in range(size)}}
        shown = c.loss.expr.subs(K, size).doit().xreplace(plain) if size <= SPELLED_OUT else loss_name(
            sp.Symbol("p", real=True), sp.Symbol("y", real=True))
    elif size == 1:
        shown = loss_name(outs[0], labels[0])
    elif size <= SPELLED_OUT:
        with sp.evaluate(False):
            shown = Times(1 / K, sp.Add(*[loss_name(o, y) for o, y in zip(outs, labels)]))
    else:
        shown = Times(1 / K, sp.Sum(loss_name(sp.Symbol("a_k", real=True), sp.Symbol("y_k", real=True)), (k, 1, K)))
    value = c.record(L, "loss at the point", c.done.loss)
    return Definition(L, (shown, Substituted(shown, numbers), value))


def delta_steps(c: Context) -> list:
    """δ of the output layer from the derivation's ∂L/∂z, then δ of each hidden layer by the recursion."""
    is_top = output_delta_lhs(c.derivation, c.top)
    form = next((s.rhs[-1] for s in reversed(c.derivation.steps) if isinstance(s, Equation) and is_top(s.lhs)), None)
    steps = []
    for unit, value in enumerate(c.done.deltas[-1]):
        mapping, values = c.names.bind_all(form, c.done, c.top, unit=unit)
        shown, numbers = relabel(form, mapping), {s: c.number(v) for s, v in values.items()}
        steps.append(Equation(_delta_symbol(c, c.top, unit), (shown, Substituted(shown, numbers), c.record(
            _delta_symbol(c, c.top, unit), f"error signal ∂L/∂z of {c.unit_name(c.top, unit)}", value))))
    for layer in range(c.top - 1, 0, -1):
        for unit, value in enumerate(c.done.deltas[layer - 1]):
            shown, numbers = _hidden_delta(c, layer, unit)
            steps.append(Equation(_delta_symbol(c, layer, unit), (shown, Substituted(shown, numbers), c.record(
                _delta_symbol(c, layer, unit), f"error signal ∂L/∂z of {c.unit_name(layer, unit)}", value))))
    return steps


def _delta_symbol(c: Context, layer: int, unit: int) -> sp.Symbol:
    return c.names.unit("delta", layer, unit) if c.names.layered else Partial(L, c.names.unit("z", layer, unit))


def back_sum(c: Context, layer: int, unit: int) -> tuple[sp.Expr, dict]:
    """∂L/∂a_j⁽ˡ⁾ = Σ_i W_ij⁽ˡ⁺¹⁾ δ_i⁽ˡ⁺¹⁾: what unit ``unit`` of ``layer`` receives from the layer above."""
    above = next(p for p in c.network.parameters if p.weight and p.layer == layer + 1)
    W, deltas = c.point.parameters[above.name], c.done.deltas[layer]
    terms, numbers = [], {}
    for i_, d in enumerate(deltas):
        weight, delta = above.entry((unit, i_)), c.names.unit("delta", layer + 1, i_)
        terms.append(sp.Mul(weight, delta, evaluate=False))
        numbers.update({weight: c.number(W[unit, i_]), delta: c.number(d)})
    if len(terms) > SPELLED_OUT:
        row = above.entry((unit, 0), keep="i")
        return sp.Sum(row * _with_letter(c.names.unit("delta", layer + 1, 0), "i"), (i, 1, len(terms))), {}
    with sp.evaluate(False):
        return sp.Add(*terms), numbers


def hidden_derivative(c: Context, layer: int, unit: int) -> tuple[sp.Expr, dict]:
    """g'(z) in the catalogue's textbook form (a(1 − a) for σ) at one unit, and its numbers."""
    from derive.catalogue.symbols import a, z
    a_symbol, z_symbol = c.names.unit("a", layer, unit), c.names.unit("z", layer, unit)
    shown = relabel(c.derivation.pieces["hidden_derivative"], {a: a_symbol, z: z_symbol})
    return shown, {a_symbol: c.number(c.done.activations[layer - 1][unit]),
                   z_symbol: c.number(c.done.zs[layer - 1][unit])}


def _hidden_delta(c: Context, layer: int, unit: int):
    received, numbers = back_sum(c, layer, unit)
    gate, more = hidden_derivative(c, layer, unit)
    return Times(received, gate), {**numbers, **more}
