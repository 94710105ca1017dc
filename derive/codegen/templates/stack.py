"""Template part: the entry points of a plain dense stack (softmax regression, an MLP): the dense loops for
any widths. Signatures as in ``neuron``; MODEL and LAYOUT come from the model's entry."""
from types import SimpleNamespace

from derive.codegen.templates.dense import (_dense_fit, _dense_loss, _dense_loss_and_gradient, _dense_predict,
                                            _worth_splitting)

CONSTANTS = ("MODEL", "LAYOUT")

MODEL = "mlp"
LAYOUT = {"hidden": True, "squeeze": False}

core = SimpleNamespace(loss_and_gradient=_dense_loss_and_gradient, loss=_dense_loss, predict=_dense_predict,
                       fit=_dense_fit, split=_worth_splitting, blas=True)


def _kernels(widths):
    """The entry points, whatever the widths."""
    return core
