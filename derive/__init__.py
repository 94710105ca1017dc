"""derive: step-by-step chain-rule derivations of weight updates, and the kernels generated from them.

    >>> import derive
    >>> d = derive.derivation("sigmoid", "bce")
    >>> d.gradients[derive.symbols.w_j]
    x_j*(a - y)
"""
from derive.catalogue import ACTIVATIONS, LOSSES, MODELS
from derive.catalogue import symbols
from derive.derivation import Derivation, derivation
from derive.errors import DeriveError


def compile(*args, **kwargs):
    """Build and import the kernel module for a combination at run time (see derive.runtime.compile)."""
    from derive.runtime import compile as build
    return build(*args, **kwargs)


__all__ = ["ACTIVATIONS", "LOSSES", "MODELS", "Derivation", "DeriveError", "compile", "derivation", "symbols"]
