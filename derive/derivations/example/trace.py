"""A training trace: the update θ ← θ − α·∂L/∂θ repeated ``steps`` times from the worked example's point (fixed
parameters stay), tabulated as step, output(s), loss and parameters.

When the loss grows from one step to the next, a note says the step overshoots and why, from the structure:
for a weight w of the top layer, z is linear in w with the input x as slope, so ∂²L/∂w² = x²·∂²L/∂z², and one
step on w alone lands nearer the minimum only when α·∂²L/∂w² < 2. ∂²L/∂z² comes from the head: its ∂L/∂z
differentiated once more (symbolically, when the head has ∂a/∂z of its own; else by central differences).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from derive.catalogue.symbols import L, a, y, z
from derive.derivations.example.context import Context
from derive.derivations.notes import overshoot
from derive.steps import Section, Table

EPSILON = 1e-5   # relative step of the central differences along z


def trace_steps(c: Context, count: int):
    """(steps, passes at every step, parameters after every step): each step the optimizer's (plain descent
    unless one was given, ``training.Stepper``)."""
    from derive.derivations.example.training import Stepper
    params, passes, after = dict(c.point.parameters), [c.done], []
    stepper = Stepper(c.training, c.point.lr, c.network.parameters)
    for _ in range(count):
        params = stepper.step(params, passes[-1].gradients, c.point.fixed)[0]
        after.append(params)
        passes.append(c.network.run(params, c.point.x, c.point.y))
    free = [(p, index) for p in c.network.parameters if p.name not in c.point.fixed
            for index in p.entries(c.point.parameters[p.name].shape)]
    outputs = [c.names.output(k) for k in range(len(c.point.y))]
    columns = ("step", *outputs, L, *(p.entry(index) for p, index in free))
    rows = tuple((s, *map(float, done.output), done.loss, *(float(ps[p.name][index]) for p, index in free))
                 for s, (done, ps) in enumerate(zip(passes, (c.point.parameters, *after))))
    how = "Gradient descent" if c.training is None or c.training.plain else c.training.optimizer.title
    caption = (f"{how} from the point, α = {c.point.lr:g}: row 0 is the point itself; each row holds the "
               "output, the loss and the parameters before that step's update.")
    steps = [Section("Training trace"), Table(columns, rows, caption, c.digits)]
    grew = next((s for s in range(count) if passes[s + 1].loss > passes[s].loss), None)
    if grew is not None:
        note = _overshoot(c, grew, passes[grew], (c.point.parameters, *after)[grew])
        steps += [note] if note is not None else []
    return steps, tuple(passes), tuple(after)


def _overshoot(c: Context, step: int, done, params):
    """The note for the top-layer weight with the largest α·∂²L/∂w² at ``step``."""
    weight = next((p for p in c.network.parameters if p.weight and p.layer == c.top and p.name not in c.point.fixed),
                  None)
    if weight is None:
        return None
    inputs, curvature = done.layer_input(c.top), z_curvature(c, done)
    best = max(weight.entries(params[weight.name].shape),
               key=lambda index: inputs[index[0]] ** 2 * curvature[index[-1] if len(index) == 2 else 0])
    j, k = best[0], (best[-1] if len(best) == 2 else 0)
    x, d2 = inputs[j], curvature[k]
    symbolic = _symbolic_curvature(c)
    if symbolic is not None:
        mapping, values = c.names.bind_all(symbolic, done, c.top, unit=k)
        symbolic = symbolic.xreplace(mapping)
        d2 = float(symbolic.xreplace(values))   # exact where the differences are not
    numbers = (c.number(c.point.lr), c.number(x), c.number(d2), c.number(c.point.lr * x * x * d2))
    return overshoot(step, weight.entry(best), c.names.unit("a", c.top - 1, j), c.names.unit("z", c.top, k),
                     symbolic, numbers)


def z_curvature(c: Context, done) -> np.ndarray:
    """∂²L/∂z_k² of each output unit at ``done``, by central differences of the head's δ along z_k."""
    zs, labels, out = done.zs[-1], done.y, []
    for k in range(len(zs)):
        h = EPSILON * max(1.0, abs(zs[k]))
        shifted = [zs + sign * h * np.eye(len(zs))[k] for sign in (1, -1)]
        deltas = [c.network.head.evaluate(s, c.network.head.forward(s), labels)[1][k] for s in shifted]
        out.append((deltas[0] - deltas[1]) / (2 * h))
    return np.asarray(out)


def _symbolic_curvature(c: Context) -> sp.Expr | None:
    """d/dz of the head's ∂L/∂z with a = f(z) (∂/∂z + ∂a/∂z·∂/∂a), in a, y and z; over K outputs, 1/K of it."""
    pieces = c.derivation.pieces
    if "activation_derivative" not in pieces:
        return None
    dL_dz = pieces["dL_dz"]
    total = sp.factor(sp.diff(dL_dz, z) + sp.diff(dL_dz, a) * pieces["activation_derivative"])
    if total.has(sp.Piecewise, sp.DiracDelta) or not (total.free_symbols <= {a, y, z}):
        return None
    return total / len(c.point.y) if len(c.point.y) > 1 else total
