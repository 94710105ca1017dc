"""The chain of one weight per layer written out, factor by factor, as the tutorials do for w5 and w1:

    ∂L/∂W₁₁⁽²⁾ = ∂L/∂a₁⁽²⁾ · ∂a₁⁽²⁾/∂z₁⁽²⁾ · ∂z₁⁽²⁾/∂W₁₁⁽²⁾ = 0.7414·0.1868·0.5933 = 0.08217

(below the top, ∂L/∂a_j⁽ˡ⁾ = Σ_i W_ij⁽ˡ⁺¹⁾ δ_i⁽ˡ⁺¹⁾); then every gradient entry in the derivation's own form
with its numbers, and the update θ ← θ − α·∂L/∂θ of every parameter that is not fixed.
"""
from __future__ import annotations

import sympy as sp

from derive.catalogue.symbols import K, L, alpha
from derive.derivations.example.context import Context
from derive.derivations.example.display import Substituted
from derive.derivations.example.forward import back_sum, hidden_derivative
from derive.derivations.sections import scaled
from derive.notation import Minus, Partial, Times
from derive.steps import Equation, Table, Update, relabel


def chain_steps(c: Context) -> list:
    """For the first weight of each layer, top down: each local derivative with its numbers, then their product."""
    steps = []
    for p in sorted((p for p in c.network.parameters if p.weight), key=lambda p: -p.layer):
        shape = c.point.parameters[p.name].shape
        index = (0, 0) if len(shape) == 2 else (0,)
        weight, layer = p.entry(index), p.layer
        z_symbol, a_symbol = c.names.unit("z", layer, 0), c.names.unit("a", layer, 0)
        factors, values = [], []
        if layer == c.top and c.done.head_factors is None:   # a head without ∂L/∂a and ∂a/∂z of its own
            factors.append(Partial(L, z_symbol))
            values.append(c.done.deltas[-1][0])
        else:
            steps += _upstream(c, layer, a_symbol, z_symbol, factors, values)
        factors.append(Partial(z_symbol, weight))
        input_symbol, input_value = c.names.unit("a", layer - 1, 0), c.done.layer_input(layer)[0]
        steps.append(Equation(factors[-1], (input_symbol, c.number(input_value)), "every other term of z is constant"))
        values.append(input_value)
        gradient = c.done.gradients[p.name][index]
        steps.append(Equation(Partial(L, weight), (Times(*factors), Times(*map(c.number, values)),
                                                   c.number(gradient)), "chain rule"))
    return steps


def _upstream(c: Context, layer: int, a_symbol, z_symbol, factors: list, values: list) -> list:
    """∂L/∂a and ∂a/∂z of unit 1 of ``layer`` with their numbers; appends the factors and their values."""
    if layer == c.top:
        dL_da, da_dz = (float(v[0]) for v in c.done.head_factors)
        received, gate = c.derivation.pieces["loss_derivative"], c.derivation.pieces["activation_derivative"]
        received = scaled(received, 1 / K) if len(c.done.y) > 1 else received
        (received, received_numbers), (gate, gate_numbers) = (_at_unit(c, e, layer) for e in (received, gate))
    else:
        received, received_numbers = back_sum(c, layer, 0)
        gate, gate_numbers = hidden_derivative(c, layer, 0)
        dL_da = float(c.point.parameters[_weights(c, layer + 1)][0] @ c.done.deltas[layer])
        da_dz = float(c.network.hidden_derivative(c.done.activations[layer - 1][0], c.done.zs[layer - 1][0]))
    where = c.unit_name(layer, 0)
    steps = [Equation(Partial(L, a_symbol), (received, Substituted(received, received_numbers),
                                             c.record(Partial(L, a_symbol), f"slope of the loss at the output of "
                                                                            f"{where}", dL_da)),
                      "the loss's slope at the unit's output"),
             Equation(Partial(a_symbol, z_symbol), (gate, Substituted(gate, gate_numbers),
                                                    c.record(Partial(a_symbol, z_symbol), f"slope of the activation "
                                                                                          f"of {where}", da_dz)),
                      "the activation's slope")]
    factors += [Partial(L, a_symbol), Partial(a_symbol, z_symbol)]
    values += [dL_da, da_dz]
    return steps


def _at_unit(c: Context, expr, layer: int) -> tuple[sp.Expr, dict]:
    """``expr`` (in a, y, z, K) at unit 1 of ``layer``: relabelled to its symbols, and their numbers."""
    mapping, values = c.names.bind_all(expr, c.done, layer, unit=0)
    return relabel(expr, mapping), {s: c.number(v) for s, v in values.items()}


def _weights(c: Context, layer: int) -> str:
    return next(p.name for p in c.network.parameters if p.weight and p.layer == layer)


def gradient_steps(c: Context) -> list:
    """Every entry: ∂L/∂θ (∂J/∂θ = ∂L/∂θ + λθ with a penalty) in the derivation's form, with its numbers; then,
    for plain descent, θ ← θ − α·∂L/∂θ unless θ is fixed, and a table of every parameter before and after (an
    optimizer's own step follows instead, ``training.optimizer_steps``)."""
    from derive.catalogue.optimizers import lam
    steps, rows = [], []
    plain = c.training is None or c.training.plain
    of = c.objective
    for p in sorted(c.network.parameters, key=lambda p: (-p.layer, not p.weight)):
        current, gradient = c.point.parameters[p.name], c.done.gradients[p.name]
        form = c.display(p.symbol)
        if c.penalised and p.weight:
            form = sp.Add(form, Times(lam, p.symbol), evaluate=False)
        for index in p.entries(current.shape):
            inputs = index[0] if p.weight else None
            unit = index[-1] if (index and (not p.weight or len(index) == 2)) else 0
            mapping, values = c.names.bind_all(form, c.done, p.layer, inputs=inputs, unit=unit)
            entry = p.entry(index)
            shown = relabel(form, mapping)
            numbers = {s: c.number(v) for s, v in values.items()}
            grad = c.record(Partial(of, entry), "gradient of the loss", gradient[index])
            steps.append(Equation(Partial(of, entry), (shown, Substituted(shown, numbers), grad)))
            fixed = p.name in c.point.fixed
            new = current[index] - (0 if fixed else c.point.lr * gradient[index])
            rows.append((entry, float(current[index]), float(gradient[index]), "fixed" if fixed else float(new)))
            if fixed or not plain:
                continue
            step = Minus(c.number(current[index]), Times(c.number(c.point.lr), c.number(gradient[index])))
            steps.append(Update(entry, Minus(entry, Times(alpha, Partial(of, entry))),
                                (step, c.record(entry, "updated parameter", new))))
    if not plain:
        return steps
    theta = sp.Symbol("theta", real=True)
    return steps + [Table(("parameter θ", theta, Partial(of, theta), "θ after the update"), tuple(rows),
                          f"Every parameter before and after one step, α = {c.point.lr:g}:", c.digits)]
