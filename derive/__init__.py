"""derive: step-by-step chain-rule derivations of weight updates, and the kernels generated from them.

    >>> import derive
    >>> d = derive.derivation("sigmoid", "bce")
    >>> d.gradients[derive.symbols.w_j]
    x_j*(a - y)

The SymPy-backed names load on first use (PEP 562), so ``import derive.kernels`` stays free of SymPy.
"""
from __future__ import annotations

import importlib

__version__ = "0.2.0"

# public name -> (module, attribute); attribute None means the module itself
_LAZY = {
    "ACTIVATIONS": ("derive.catalogue", "ACTIVATIONS"),
    "LOSSES": ("derive.catalogue", "LOSSES"),
    "MODELS": ("derive.models", "MODELS"),
    "symbols": ("derive.catalogue.symbols", None),
    "Derivation": ("derive.derivations", "Derivation"),
    "derivation": ("derive.derivations", "derivation"),
    "DeriveError": ("derive.errors", "DeriveError"),
}

__all__ = [*_LAZY, "compile"]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'derive' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = importlib.import_module(module)
    value = value if attribute is None else getattr(value, attribute)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


def compile(*args, **kwargs):
    """Build and import the kernel module for a combination at run time (see derive.runtime.compile)."""
    from derive.runtime import compile as build
    return build(*args, **kwargs)
