"""Worked numbers of training: the L2 penalty at the point, and the optimizer's first step.

    R = (λ/2)·Σ w² and J = L + R with the point's weights;  then, for the first weight and the first bias, every
    rule of the optimizer (derive/catalogue/optimizers.py) with its numbers, and a table of every parameter

A ``Stepper`` applies the registry's rules in float64 to parameter arrays, each with its own state: the worked
step and the training trace (``trace``) both take it, so plain descent and Adam are traced alike.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from derive.catalogue.optimizers import J, R, d, g, lam, t, theta, training as default_training
from derive.catalogue.symbols import L, alpha
from derive.derivations.example.context import SPELLED_OUT, Context
from derive.derivations.example.display import Substituted
from derive.derivations.example.network import numeric
from derive.errors import BadValue
from derive.notation import Partial, Times
from derive.steps import Definition, Equation, Note, Section, Table, Update


def penalty_steps(c: Context) -> list:
    """R = (λ/2)·(w₁² + …) and J = L + R at the point."""
    if not c.penalised:
        return []
    weights = [(p, index) for p in c.network.parameters if p.weight
               for index in p.entries(c.point.parameters[p.name].shape)]
    value = 0.5 * c.training.weight_decay * sum(float(np.sum(c.point.parameters[p.name] ** 2))
                                                for p in c.network.parameters if p.weight)
    numbers = {lam: c.number(c.training.weight_decay)}
    if len(weights) <= SPELLED_OUT:
        squares = sp.Add(*[p.entry(index) ** 2 for p, index in weights], evaluate=False)
        numbers.update({p.entry(index): c.number(c.point.parameters[p.name][index]) for p, index in weights})
    else:
        squares = sp.Symbol("Σw²")
    shown = Times(lam / 2, squares)
    R_value = c.record(R, "L2 penalty at the point", value)
    total = sp.Add(L, R, evaluate=False)
    J_value = c.record(J, "penalised loss at the point", c.done.loss + value)
    return [Definition(R, (shown, *((Substituted(shown, numbers),) if len(weights) <= SPELLED_OUT else ()), R_value)),
            Definition(J, (total, Substituted(total, {L: c.number(c.done.loss), R: R_value}), J_value))]


class Stepper:
    """The optimizer's rules on parameter arrays (name -> array), float64, each array with its own state slots.
    The gradient it is given is the derivation's (with λ·w already in it when the loss is penalised)."""

    def __init__(self, training, lr: float, parameters: list):
        self.training, self.lr, self.t = training or default_training(), lr, 0
        entry = self.training.optimizer
        if entry.full_batch:
            raise BadValue(f"--steps with --optimizer {entry.name}: a line search sets each step, from the whole "
                           f"batch; it is not traced (drop --steps)")
        self.weights = {p.name: p.weight for p in parameters}
        self.slots = {p.name: {s.symbol: 0.0 for s in entry.slots} for p in parameters}
        self.hyper = {symbol: float(value) for symbol, value in _hyper(self.training).items()}

    def rules(self, step: int) -> list:
        coupled = self.training.optimizer.decay == "coupled"
        return [r for r in self.training.rules(step) if not (coupled and r.target == g and r.expr.has(lam))]

    def step(self, params: dict, grads: dict, fixed=frozenset()) -> tuple[dict, dict]:
        """(the parameters after one step, {name: [(rule, the values before it, its value)]})."""
        self.t += 1
        out, seen = {}, {}
        for name, value in params.items():
            if name in fixed:
                out[name] = value
                continue
            env = {**self.hyper, t: self.t, alpha: self.lr, d: 1.0 if self.weights[name] else 0.0,
                   theta: np.asarray(value, dtype=float), g: np.asarray(grads[name], dtype=float),
                   **self.slots[name]}
            trail = []
            for rule in self.rules(self.t):
                symbols = sorted(rule.expr.free_symbols, key=lambda s: s.name)
                before = dict(env)
                env[rule.target] = np.asarray(numeric(rule.expr, symbols)(*[env[s] for s in symbols]), dtype=float)
                trail.append((rule, before, env[rule.target]))
            self.slots[name] = {s: env[s] for s in self.slots[name]}
            out[name], seen[name] = np.array(env[theta], dtype=float), trail
        return out, seen


def _hyper(training) -> dict:
    out = {}
    for option in training.optimizer.options:
        value = training.values[option.name]
        values = value if option.kind == "pair" else (value,)
        out.update({s: float(v) for s, v in zip(option.symbols, values)})
    return out


def optimizer_steps(c: Context) -> list:
    """The optimizer's first step: its rules with numbers for the first weight and the first bias, and a table."""
    training = c.training
    entry = training.optimizer
    if entry.full_batch:
        return _first_direction(c)
    stepper = Stepper(training, c.point.lr, c.network.parameters)
    grads = c.done.gradients
    after, seen = stepper.step(dict(c.point.parameters), grads, c.point.fixed)
    from derive.derivations.sections import _display
    steps = [Section(f"Worked example: the first {entry.title} step"),
             Note(f"t = 1 and every state variable is 0 before it; α = {c.point.lr:g}.")]
    shown_for = [p for p in sorted(c.network.parameters, key=lambda p: (-p.layer, not p.weight))
                 if p.name not in c.point.fixed]
    slots = {x.symbol for x in entry.slots} | {theta, g}
    for p in [next((q for q in shown_for if q.weight), None), next((q for q in shown_for if not q.weight), None)]:
        if p is None:
            continue
        index = p.entries(c.point.parameters[p.name].shape)[0]
        at = lambda value: float(np.asarray(value)[index]) if np.ndim(value) else float(value)
        entry_symbol = p.entry(index)
        steps.append(Equation(g, (Partial(c.objective, entry_symbol), c.number(float(grads[p.name][index]))),
                              f"θ = {entry_symbol.name}"))
        for rule, before, value in seen[p.name]:
            shown = _display(rule)
            numbers = {s: c.number(at(before[s])) for s in shown.free_symbols if s in before}
            line = (shown, Substituted(shown, numbers), c.record(f"{rule.target.name}({entry_symbol.name})",
                                                                 f"{rule.target.name} after the first step", at(value)))
            steps.append(Update(rule.target, line[0], line[1:]) if rule.target in slots
                         else Definition(rule.target, line))
    rows = []
    for p in sorted(c.network.parameters, key=lambda p: (-p.layer, not p.weight)):
        for index in p.entries(c.point.parameters[p.name].shape):
            fixed = p.name in c.point.fixed
            rows.append((p.entry(index), float(c.point.parameters[p.name][index]), float(grads[p.name][index]),
                         "fixed" if fixed else float(after[p.name][index])))
    steps.append(Table(("parameter θ", theta, Partial(c.objective, theta), "θ after the step"), tuple(rows),
                       f"Every parameter before and after the first {entry.title} step:", c.digits))
    return steps


def _first_direction(c: Context) -> list:
    """L-BFGS's first iteration: no history yet, so d = −∂J/∂θ; the line search sets the step (not worked here)."""
    grads = c.done.gradients
    rows = [(p.entry(index), float(c.point.parameters[p.name][index]), float(grads[p.name][index]),
             -float(grads[p.name][index]))
            for p in sorted(c.network.parameters, key=lambda p: (-p.layer, not p.weight))
            for index in p.entries(c.point.parameters[p.name].shape)]
    norm = float(np.sqrt(sum(r[2] ** 2 for r in rows)))
    return [Section("Worked example: the first L-BFGS direction"),
            Table(("parameter θ", theta, Partial(c.objective, theta), "d = −∂J/∂θ"), tuple(rows),
                  "With no history yet, H is the identity and the direction is the negative gradient:", c.digits),
            Note("The line search first tries the step length 1/‖∂J/∂θ‖ = {0} along d, then shortens or lengthens it "
                 "until the Wolfe conditions hold (scipy computes it on the whole batch).",
                 (c.number(1 / norm if norm else 0.0),))]
