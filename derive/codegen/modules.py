"""Which kernel modules exist: every valid neuron pair, softmax regression, and a curated set of MLPs.

A module is named <model>_[<hidden>_]<activation>_<loss>. To generate more MLPs, extend MLP_HIDDEN or MLP_HEADS.
"""
from __future__ import annotations

from dataclasses import dataclass

from derive.catalogue import MODELS, valid_pairs

MLP_HIDDEN = ("relu", "sigmoid", "tanh")
MLP_HEADS = (("identity", "mse"), ("sigmoid", "bce"), ("softmax", "cross_entropy"))


@dataclass(frozen=True, order=True)
class ModuleSpec:
    model: str
    activation: str
    loss: str
    hidden: str | None = None

    @property
    def name(self) -> str:
        return "_".join(part for part in (self.model, self.hidden, self.activation, self.loss) if part)

    @property
    def entries(self) -> str:
        hidden = f" hidden={self.hidden}" if self.hidden else ""
        return f"model={self.model}{hidden} activation={self.activation} loss={self.loss}"


def catalogue_modules() -> list[ModuleSpec]:
    """Every module `derive generate` writes, sorted by name."""
    specs = [ModuleSpec(model.name, act, loss) for model in MODELS.values() if not model.hidden_layers
             for act, loss in valid_pairs(model)]
    specs += [ModuleSpec("mlp", act, loss, hidden) for hidden in MLP_HIDDEN for act, loss in MLP_HEADS]
    return sorted(specs, key=lambda spec: spec.name)
