"""Which (model, activation, loss) fit together, decided from what the entries declare.

An activation may feed a loss when its output range lies inside the predictions the loss accepts, and both are
scalar or both are vectors. The refusal says which outputs fall outside, and why the loss cannot take them.
"""
from __future__ import annotations

import sympy as sp

from derive.catalogue.activations import ACTIVATIONS, Activation
from derive.catalogue.losses import LOSSES, Loss
from derive.catalogue.heads import SPANS
from derive.errors import InvalidPair, UnknownName


def lookup(registry, name: str, kind: str):
    """registry[name], or an UnknownName error that suggests the nearest names."""
    if name not in registry:
        raise UnknownName(kind, name, registry)
    return registry[name]


def head_problem(activation: Activation, loss: Loss) -> str | None:
    """Why ``activation`` cannot feed ``loss``, or None when it can."""
    if activation.span != loss.span:
        vector, scalar = (activation, loss) if activation.vector else (loss, activation)
        partners = sorted(e.name for e in (*ACTIVATIONS.values(), *LOSSES.values())
                          if e.span == vector.span and e is not vector)
        return (f"{activation.name} cannot feed {loss.name}: {vector.name} works on a probability vector over "
                f"classes and {scalar.name} on one number; pair {vector.name} with {' or '.join(partners)}")
    outside = sp.Complement(activation.output_range, loss.accepts)
    if outside.is_empty:
        return None
    fits = sorted(n for n, act in ACTIVATIONS.items()
                  if act.span == loss.span and sp.Complement(act.output_range, loss.accepts).is_empty)
    return (f"{activation.name} cannot feed {loss.name} because its output can {_describe(outside)}, "
            f"{loss.undefined}; {loss.name} needs predictions in {_interval(loss.accepts)} "
            f"(activations that fit: {', '.join(fits)})")


def check(model, activation: Activation, loss: Loss, hidden: Activation | None = None, outputs: int = 1) -> None:
    """Raise InvalidPair with a sentence saying why, unless the combination is valid.

    ``model`` is a model entry (``derive.models``): it names the spans its head may have and whether it has
    hidden layers."""
    if hidden is not None and not model.hidden_layers:
        raise InvalidPair(f"model {model.name} has no hidden layers; --hidden applies to --model mlp")
    if hidden is not None and hidden.vector:
        raise InvalidPair(f"{hidden.name} cannot be a hidden activation: it couples the units of a layer; "
                          f"choose an element-wise activation such as tanh or relu")
    if activation.span not in model.spans:
        fits = sorted(n for n, e in ACTIVATIONS.items() if e.span in model.spans)
        spans = " or ".join(("an " if span[0] in "aeiou" else "a ") + span for span in model.spans)
        raise InvalidPair(f"model {model.name} takes {spans} head, not {activation.name}, whose head is "
                          f"{activation.span}; activations that fit: {', '.join(fits)}")
    problem = head_problem(activation, loss)
    if problem:
        raise InvalidPair(problem)
    span = SPANS[activation.span]
    if not isinstance(outputs, int) or isinstance(outputs, bool) or outputs < span.min_outputs:
        raise InvalidPair(f"a {span.name} head needs at least {span.min_outputs} outputs, not {outputs!r}")


def valid_pairs(model) -> list[tuple[str, str]]:
    """All (activation, loss) names that ``model`` accepts as its head, sorted."""
    return [(act.name, loss.name) for act in sorted(ACTIVATIONS.values(), key=lambda e: e.name)
            for loss in sorted(LOSSES.values(), key=lambda e: e.name)
            if act.span in model.spans and head_problem(act, loss) is None]


def _describe(outside: sp.Set) -> str:
    parts = outside.args if isinstance(outside, sp.Union) else (outside,)
    return " or ".join(_describe_part(part) for part in parts)


def _describe_part(part: sp.Set) -> str:
    if isinstance(part, sp.FiniteSet):
        return "be " + " or ".join(str(v) for v in part)
    if part.sup == sp.oo:
        return f"be {part.inf} or more" if not part.left_open else f"exceed {part.inf}"
    if part.inf == -sp.oo:
        return f"be {part.sup} or less" if not part.right_open else f"be below {part.sup}"
    return f"lie in {_interval(part)}"


def _interval(interval: sp.Set) -> str:
    if interval == sp.Reals:
        return "(−∞, ∞)"
    left = "(" if interval.left_open else "["
    right = ")" if interval.right_open else "]"
    show = lambda v: "∞" if v == sp.oo else "−∞" if v == -sp.oo else str(v)
    return f"{left}{show(interval.inf)}, {show(interval.sup)}{right}"
