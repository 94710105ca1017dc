"""Which kernel modules exist: each model names its own (``Model.modules``).

A module is named <model>_[<hidden>_]<activation>_<loss>; the number of outputs is read from the parameters,
so one module serves every K.
"""
from __future__ import annotations

from dataclasses import dataclass



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
    from derive.models import MODELS
    specs = [ModuleSpec(model.name, act, loss, hidden) for model in MODELS.values()
             for act, loss, hidden in model.modules()]
    return sorted(specs, key=lambda spec: spec.name)
