"""The shared SymPy symbols and what each one means.

Every symbol is real, so that SymPy differentiates |u| to sign(u). Names follow SymPy's conventions
(``x_j`` prints as x_j, ``a^(l)`` as a superscript), so the printers need no table of their own.
To add a symbol, add it here with its meaning.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

z, a, y, b = sp.symbols("z a y b", real=True)
x_j, w_j = sp.symbols("x_j w_j", real=True)
N = sp.Symbol("N", integer=True, positive=True)
K = sp.Symbol("K", integer=True, positive=True)
alpha = sp.Symbol("alpha", positive=True)
L = sp.Symbol("L", real=True)
L_mean = sp.Symbol("L_mean", real=True)
D = sp.Symbol("D", integer=True, positive=True)
j, k, i = sp.symbols("j k i", integer=True, positive=True)
others_j = sp.Symbol("others_j", real=True)
others_k = sp.Symbol("others_k", positive=True)
others_jk = sp.Symbol("others_jk", real=True)
others_ij = sp.Symbol("others_ij", real=True)

# symbols whose printed form is not their name: symbol -> (text, LaTeX)
DISPLAY: dict = {
    L_mean: ("L̄", r"\bar{L}"),
    others_j: ("Σ_{k≠j} w_k·x_k", r"\sum_{k \neq j} w_k x_k"),
    others_k: ("Σ_{m≠k} e^(z_m)", r"\sum_{m \neq k} e^{z_m}"),
    others_jk: ("(terms without W_jk)", r"(\text{terms without } W_{jk})"),
    others_ij: ("(terms without a_j)", r"(\text{terms without } a_j)"),
}

# outputs k = 1 … K (classes for softmax), feature j
z_k, a_k, p_k, y_k, b_k, W_jk = sp.symbols("z_k a_k p_k y_k b_k W_jk", real=True)
# the vectors of a layer's K outputs, indexed: Z[k] = z_k, P[k] = p_k, Y[k] = y_k
Z, P, Y = (sp.IndexedBase(name, real=True) for name in ("z", "p", "y"))
p_i, y_i, z_i = sp.symbols("p_i y_i z_i", real=True)

MEANINGS: dict[str, str] = {
    "z": "pre-activation (logit): z = sum_j w_j*x_j + b",
    "a": "activation (the prediction): a = f(z)",
    "y": "label (the target)",
    "b": "bias",
    "x_j": "input feature j",
    "w_j": "weight of feature j",
    "N": "number of samples in the batch",
    "K": "number of outputs (classes, for softmax)",
    "alpha": "learning rate",
    "L": "loss of one sample",
    "L_mean": "mean loss over the batch",
    "D": "number of input features",
    "others_j": "the terms of z that do not contain w_j",
    "others_k": "the terms of the softmax denominator that do not contain z_k",
    "others_jk": "the terms of z_k that do not contain W_jk",
    "others_ij": "the terms of the pre-activation that do not contain the variable",
    "z_k": "pre-activation (logit) of output k",
    "a_k": "activation (prediction) of output k",
    "p_k": "softmax probability of class k",
    "y_k": "label of output k (one-hot for softmax: 1 for the true class, 0 otherwise)",
    "b_k": "bias of output k",
    "W_jk": "weight from feature j to output k",
    "p_i": "softmax probability of class i",
    "y_i": "one-hot label of class i",
    "z_i": "logit of class i",
}


def meaning(symbol: sp.Symbol) -> str:
    """What ``symbol`` stands for, by name; layer and sample symbols describe themselves."""
    return MEANINGS.get(symbol.name, _layer_meaning(symbol.name))


def _layer_meaning(name: str) -> str:
    head, _, layer = name.partition("^")
    base = {"z": "pre-activation", "a": "activation", "delta": "error signal dL/dz", "W": "weight",
            "b": "bias"}.get(head.split("_")[0], name)
    return f"{base} of layer {layer.strip('()')}" if layer else base


@lru_cache(maxsize=None)
def sample(symbol: sp.Symbol) -> sp.Symbol:
    """``symbol`` of sample n: a -> a^(n), x_j -> x_j^(n)."""
    return sp.Symbol(f"{symbol.name}^(n)", **symbol.assumptions0)


@lru_cache(maxsize=None)
def layer(name: str, l: int | str, **assumptions) -> sp.Symbol:
    """A layer symbol: layer('a', 2) is a^(2); the index may be a letter such as 'l'."""
    return sp.Symbol(f"{name}^({l})", real=True, **assumptions)


n = sp.Symbol("n", integer=True, positive=True)
