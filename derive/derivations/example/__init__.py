"""A worked example: put numbers into a derivation, compute one update, and (``steps``) a short training run.

``--at x=[0.05,0.1],y=[0.01,0.99],W1=[[…]],b1=[…],W2=[[…]],b2=[…],lr=0.5`` (the neuron keeps
``w=…,b=…,x=…,y=…``) gives the forward pass layer by layer, each δ, the chain of one weight per layer, every
gradient entry with the factors that make it, and the updated parameters, all computed in float64 from the
derivation's own expressions (``network``) and shown to ``digits`` significant digits. ``fix`` keeps named
parameters at their values; ``steps`` repeats the update and tabulates it (``trace``).

The parts: ``point`` reads the values, ``network`` computes, ``naming`` names the numbers, ``forward`` and
``chain`` write the steps, ``trace`` the training run, ``insight`` the notes that need numbers.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from derive.catalogue.heads import SPANS
from derive.catalogue.optimizers import lam
from derive.derivations.example.point import implied
from derive.errors import BadValue
from derive.steps import Note, Section

DIGITS = 4
MAX_DIGITS = 17   # enough to print any double exactly
MAX_STEPS = 1000


@dataclass(frozen=True)
class At:
    """What ``derive.derivation(..., example=At(...))`` puts numbers into: the ``--at`` values, the digits to
    show, the parameters to keep fixed, and how many update steps to trace."""

    values: Mapping
    digits: int = DIGITS
    fix: tuple = ()
    steps: int = 0


@dataclass(frozen=True)
class Example:
    """The numbers of a worked example, as numbers: for JSON, plots and tests."""

    digits: int
    point: object                  # Point
    network: object                # Network
    passes: tuple                  # the Pass at the point, then after each step of the trace
    values: tuple = ()             # every number shown: {"quantity", "what", "value"}
    parameters_after: tuple = ()   # the parameters (dicts of arrays) after each step

    @property
    def first(self):
        return self.passes[0]

    def data(self) -> dict:
        point = self.point
        return {"digits": self.digits, "point": {"x": point.x.tolist(), "y": point.y.tolist(), "lr": point.lr,
                                                  **({"class": int(point.label)} if point.label is not None else {}),
                                                  "parameters": {n: v.tolist() for n, v in point.parameters.items()},
                                                  "fixed": sorted(point.fixed)},
                "values": list(self.values),
                "trace": [{"step": s, "loss": p.loss, "outputs": p.output.tolist(),
                           "parameters": {n: v.tolist() for n, v in params.items()}}
                          for s, (p, params) in enumerate(zip(self.passes, (point.parameters, *self.parameters_after)))]
                if len(self.passes) > 1 else []}


def with_example(derivation, activation, loss, at, training=None):
    """``derivation`` with a worked example appended (``at``: an ``At`` or the plain ``--at`` values); with a
    ``training`` (optimizer and weight decay), the penalty at the point and the optimizer's first step too."""
    from derive.derivations.example.chain import chain_steps, gradient_steps
    from derive.derivations.example.context import Context
    from derive.derivations.example.forward import delta_steps, forward_steps
    from derive.derivations.example.insight import insight_steps
    from derive.derivations.example.network import Network
    from derive.derivations.example.point import read
    from derive.derivations.example.trace import trace_steps
    from derive.derivations.example.training import optimizer_steps, penalty_steps

    at = at if isinstance(at, At) else At(at)
    if not 1 <= at.digits <= MAX_DIGITS:
        raise BadValue(f"--digits must be a whole number from 1 to {MAX_DIGITS}, not {at.digits}")
    if not 0 <= at.steps <= MAX_STEPS:
        raise BadValue(f"--steps must be a whole number from 0 to {MAX_STEPS}, not {at.steps}")
    class_index = SPANS[activation.span].constraint is not None   # one-hot labels are given as the class index
    point = read(derivation, dict(at.values), tuple(at.fix), class_index, loss)
    constants = {lam: training.weight_decay} if training is not None and training.penalised else {}
    network = Network(derivation, activation, loss, constants)
    done = network.run(point.parameters, point.x, point.y)
    c = Context(derivation, activation, loss, point, network, done, at.digits, training=training)
    fixed = [c.array_symbol(p) for p in network.parameters if p.name in point.fixed]
    steps = [Section("Worked example: forward pass"), *forward_steps(c), *penalty_steps(c),
             Note(f"Numbers to {at.digits} significant digits, computed in double precision (float64)."),
             Section("Worked example: error signals δ = ∂L/∂z"), *delta_steps(c), *insight_steps(c),
             Section("Worked example: the chain of one weight per layer"), *chain_steps(c),
             Section("Worked example: every gradient, and the update"),
             *([Note("Fixed (not updated): " + ", ".join("{%d}" % n for n in range(len(fixed))) + ".",
                     tuple(fixed))] if fixed else []),
             *gradient_steps(c), *(optimizer_steps(c) if training is not None and not training.plain else ())]
    passes, after = (done,), ()
    if at.steps:
        trace, passes, after = trace_steps(c, at.steps)
        steps += trace
    example = Example(at.digits, point, network, passes, tuple(c.values), after)
    return dataclasses.replace(derivation, steps=derivation.steps + tuple(steps), example=example)


__all__ = ["At", "DIGITS", "Example", "MAX_DIGITS", "implied", "with_example"]
