"""Models: how inputs, parameters and the head are wired. One module per model, each declaring one ``Model``.

A model owns its derivation builder, its kernel template (the parts in ``derive/codegen/templates/`` its
modules are assembled from), the modules ``derive generate`` writes for it, the shape of a small test problem
and its reference forward pass (``derive.verify``). Nothing outside its module names it: to add a model, add a
module here and its entry to ``_ENTRIES``.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable


@dataclass(frozen=True)
class Model:
    """One model of the registry."""

    name: str
    description: str
    spans: tuple[str, ...]            # the head spans its output layer may have
    hidden_layers: bool               # True when it has hidden layers with their own activation
    parameters: str                   # how the kernels store its parameters, in words
    build: Callable                   # (head, hidden, layers, outputs) -> Derivation
    template: Callable[..., tuple]    # head Span -> the template parts of its kernel module, in order
    modules: Callable[[], list]       # the (activation, loss, hidden) combinations `derive generate` writes
    test_shape: Callable[[int, int], tuple]   # (features, outputs) -> init arguments of a small test problem
    forward: Callable                 # reference forward pass: (params, X, hidden g, head f) -> (zs, output)
    layout: dict                      # for the kernels' API: {"hidden": takes hidden widths, "squeeze": K = 1
    #                                   stores w as a vector}
    default_hidden: str | None = None


def _entries():
    from derive.models.mlp import MLP
    from derive.models.neuron import NEURON
    from derive.models.softmax import SOFTMAX
    return (NEURON, SOFTMAX, MLP)


MODELS = MappingProxyType({entry.name: entry for entry in _entries()})

__all__ = ["MODELS", "Model"]
