"""Assemble a ``Derivation`` for (model, activation, loss). To add a model, add its builder to ``BUILDERS``."""
from __future__ import annotations

from derive.catalogue.pairs import resolve
from derive.derivation.neuron import build_neuron
from derive.derivation.value import Derivation

BUILDERS = {"neuron": build_neuron}


def derivation(activation: str, loss: str, model: str = "neuron", *, hidden: str | None = None,
               layers: int = 1) -> Derivation:
    """The step-by-step derivation of the weight update of ``model`` with ``activation`` and ``loss``."""
    model_entry, activation_entry, loss_entry, hidden_entry = resolve(model, activation, loss, hidden)
    return BUILDERS[model_entry.name](model_entry, activation_entry, loss_entry, hidden_entry, layers)


__all__ = ["BUILDERS", "Derivation", "derivation"]
