"""Notes that read the worked example's numbers, built from the structure (``derive.derivations.notes``):

- whether the activation's slope ∂a/∂z cancels in ∂L/∂z or survives, its value at the point, and how much
  smaller the step is than with a loss of the registry that cancels it (found by the same factor test);
- for an MLP, δ's recursion and the largest slope of the hidden activation (found numerically over z), and
  ‖δ⁽ˡ⁾‖ of every layer at the point.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from derive.catalogue import LOSSES
from derive.catalogue.pairs import head_problem
from derive.catalogue.symbols import a, layer, y, z
from derive.derivations.example.context import Context
from derive.derivations.example.display import Norm
from derive.derivations.example.network import numeric
from derive.derivations.heads import derive_head
from derive.derivations.notes import activation_slope, shares, shrinking_delta, slope_factors
from derive.notation import Partial, value
from derive.steps import LocalDerivative, Table

GRID = np.linspace(-12.0, 12.0, 48001)   # where the largest slope of a hidden activation is looked for


def insight_steps(c: Context) -> list:
    steps = [note for note in (_head_note(c),) if note is not None]
    if c.names.layered and c.derivation.hidden:
        steps += _depth(c)
    return steps


def head_slope(head) -> tuple | None:
    """(∂a/∂z, its textbook form) of a head's derivation (``derive_head``): the local derivative of its output
    by its pre-activation (∂p_k/∂z_k = p_k(1 − p_k) for softmax), or None."""
    for step in head.steps:
        if isinstance(step, LocalDerivative) and isinstance(step.lhs, Partial):
            of, by = (s.name.partition("_") for s in (step.lhs.of, step.lhs.by))
            if of[0] in ("a", "p") and by[0] == "z" and of[2] == by[2]:
                return step.lhs, step.textbook if step.textbook is not None else step.tree.result
    return None


def _head_note(c: Context):
    head = derive_head(c.activation, c.loss)
    found = head_slope(head)
    if found is None:
        return None
    lhs, slope = found
    at, other = None, None
    if c.done.head_factors is not None:
        at = c.number(c.done.head_factors[1][0])
        other = _cancelling(c, slope)
    return activation_slope(lhs, slope, head.dL_dz, at, other)


def _cancelling(c: Context, slope: sp.Expr):
    """(name, ∂L/∂z, ratio of the steps) for the first loss of the registry that the activation can feed and
    whose derivative cancels its slope; None when there is none (or the point's label does not suit it)."""
    own = slope_factors(slope)
    a_value, y_value, z_value = (float(v[0]) for v in (c.done.output, c.done.y, c.done.zs[-1]))
    for other in sorted(LOSSES.values(), key=lambda e: e.name):
        if other is c.loss or other.derivative is None or head_problem(c.activation, other) is not None:
            continue
        dL_dz = sp.factor(sp.cancel(value(other.derivative) * value(slope)))
        if any(shares(f, slope_factors(dL_dz)) for f in own) or y_value not in other.labels.values:
            continue
        with np.errstate(all="ignore"):
            mine = numeric(c.derivation.pieces["dL_dz"], (a, y, z))(a_value, y_value, z_value)
            theirs = numeric(dL_dz, (a, y, z))(a_value, y_value, z_value)
        ratio = c.number(abs(mine / theirs)) if theirs and np.isfinite(mine / theirs) else None
        return other.name, dL_dz, ratio
    return None


def largest_slope(derivative: sp.Expr, activation: sp.Expr) -> float:
    """max over z of |g'(z)|, g' in the catalogue's form (in a and z), sampled densely over z ∈ [−12, 12]."""
    with np.errstate(all="ignore"):
        outputs = np.broadcast_to(numeric(activation, (z,))(GRID), GRID.shape)
        slopes = np.broadcast_to(numeric(derivative, (a, z))(outputs, GRID), GRID.shape)
    return float(np.max(np.abs(slopes[np.isfinite(slopes)])))


def _depth(c: Context) -> list:
    pieces = c.derivation.pieces
    from derive.catalogue import ACTIVATIONS
    hidden = ACTIVATIONS[c.derivation.hidden]
    largest = largest_slope(pieces["hidden_derivative"], pieces["hidden_activation"])
    largest = sp.nsimplify(largest, tolerance=1e-6, rational=True) if abs(largest - round(largest * 64) / 64) < 1e-6 \
        else c.number(largest)
    norms = [float(np.linalg.norm(d)) for d in c.done.deltas]
    rows = []
    for level in range(c.top, 0, -1):
        c.record(f"|delta^({level})|", f"length of δ of layer {level}", norms[level - 1])
        ratio = norms[level - 1] / norms[level] if level < c.top and norms[level] else ""
        rows.append((level, norms[level - 1], ratio))
    table = Table(("layer l", Norm(layer("delta", "l")), "ratio to the layer above"), tuple(rows),
                  "The length of δ in each layer at the point, from the output down:", c.digits)
    return [shrinking_delta(hidden, largest), table]
