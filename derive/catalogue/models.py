"""Models: how z, a and the parameters are wired. To add a model, add one entry here and one builder
in ``derive/derivation/``.

- neuron:  z = Σ_j w_j x_j + b,  a = f(z),  L(a, y)
- softmax: z_k = Σ_j W_jk x_j + b_k,  p = softmax(z),  L = −Σ_k y_k log p_k
- mlp:     z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾ with a hidden activation, then an output head (activation, loss)
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Model:
    name: str
    description: str
    vector_head: bool | None   # True: the head must be softmax; False: a scalar head; None: either
    hidden_layers: bool        # True when the model has hidden layers with their own activation
    parameters: str            # how the parameters are stored in the kernels


_ENTRIES = (
    Model("neuron", "one neuron: z = Σ_j w_j x_j + b, a = f(z)", False, False, "(w, b)"),
    Model("softmax", "softmax regression over K classes", True, False, "(W, b)"),
    Model("mlp", "dense hidden layers with a hidden activation, then an output head", None, True,
          "(W1, b1, ..., Wk, bk)"),
)

MODELS = MappingProxyType({entry.name: entry for entry in _ENTRIES})
