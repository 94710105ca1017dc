"""Heads: an output activation, a loss, and how they span the K outputs of the last layer.

- elementwise: any valid (activation, loss) pair applied to each output, L = (1/K) Σ_k L(a_k, y_k), the mean
  over all N·K elements of a batch (PyTorch's ``reduction="mean"``); labels y of shape (N,) for K = 1, (N, K)
  otherwise. K = 1 is the single-output head.
- softmax: p = softmax(z) over K ≥ 2 classes with cross-entropy L = −Σ_k y_k log p_k, y one-hot (Σ_k y_k = 1),
  given as class indices of shape (N,). Computed as log Σ_k e^(z_k − m) + m − z_y with m = max_k z_k, so no
  exponential overflows.

A span is declared once here; an activation or loss names its span. To add a span, add one ``Span`` and its
derivation (``derive/derivations/heads.py``) and kernel part (``derive/codegen/templates/``).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

import sympy as sp

from derive.catalogue.symbols import K, Y, Z, i


@dataclass(frozen=True)
class Span:
    """How a head spans K outputs."""

    name: str
    description: str
    min_outputs: int              # K at least
    label_shape: str              # how labels are given, in words
    parts: tuple                  # the kernel template parts that compute the head
    constraint: sp.Expr | None = None   # an identity the labels satisfy (= 0), used by the derivation
    stable_loss: sp.Expr | None = None  # the loss as the kernels compute it, in z and the true class's z


class Head(NamedTuple):
    """The output layer: an activation feeding a loss, spanning the outputs as ``span`` says."""

    activation: object
    loss: object

    @property
    def span(self) -> Span:
        return SPANS[self.activation.span]

    @property
    def name(self) -> str:
        return f"{self.activation.name}_{self.loss.name}"


_m = sp.Symbol("m", real=True)          # max_k z_k
_z_true = sp.Symbol("z_y", real=True)   # the true class's logit

_ENTRIES = (
    Span("elementwise", "one activation and loss per output; the loss is the mean over the K outputs", 1,
         "y of shape (N,) for one output, (N, K) for K outputs", ("pieces", "head_elementwise")),
    Span("softmax", "softmax over K classes, with cross-entropy", 2, "class indices 0 … K−1, shape (N,)",
         ("head_softmax",), constraint=sp.Sum(Y[i], (i, 1, K)) - 1,
         stable_loss=sp.log(sp.Sum(sp.exp(Z[i] - _m), (i, 1, K))) + _m - _z_true),
)

SPANS = MappingProxyType({entry.name: entry for entry in _ENTRIES})
