"""Template part: the scalar pieces of an elementwise head, printed from the derivation (sigmoid + BCE here).

    a = f(z),   L(a, y) computed stably,   ∂L/∂z = ∂L/∂a · f'(z)

``_activation``, ``_loss`` and ``_delta`` use vectorisable functions (``_elementary``), for block loops; the
``_1`` forms use libm (``_scalar``), for the one-sample loop of ``fit``, where latency rules. The pieces are
force-inlined: LLVM must inline them into the loops, or the loops call them and do not vectorise (≈10×).
"""
from numba import njit

from derive.kernels import _elementary as _em

STUBS = ("_activation", "_loss", "_delta", "_activation_1", "_loss_1", "_delta_1")
CONSTANTS = ("ACTIVATION", "LOSS", "LABELS", "EXPRESSIONS", "_ROW_COST")

ACTIVATION = "sigmoid"
LOSS = "bce"
LABELS = ("interval", 0.0, 1.0)   # the loss's label set, as _validate.labels reads it
EXPRESSIONS = {"activation": "1/(1 + exp(-z))", "loss": "-y*log(a) - (1 - y)*log(1 - a)"}  # SymPy text
_ROW_COST = 30   # f, L and ∂L/∂z of one output in multiply-adds (0.2 ns each), from the pieces' function costs

_FASTMATH = {"reassoc", "contract", "nsz"}  # what vectorising needs; never nnan or ninf


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", forceinline=True)
def _activation(z):
    """a = σ(z)"""
    return _em.sigmoid(z)


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", forceinline=True)
def _loss(z, a, y):
    """L = −y log a − (1 − y) log(1 − a) = softplus(z) − y z"""
    return _em.softplus(z) - y * z


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", forceinline=True)
def _delta(z, a, y):
    """∂L/∂z = a − y"""
    return a - y


# the one-sample forms: libm where the vectorised ones differ (here the defaults share them)
_activation_1 = _activation
_loss_1 = _loss
_delta_1 = _delta
