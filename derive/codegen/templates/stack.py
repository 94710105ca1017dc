"""Template part: the entry points of a plain dense stack (softmax regression, an MLP): the dense loops for
any widths. Signatures as in ``neuron``; MODEL and LAYOUT come from the model's entry."""
from derive.codegen.templates.dense import DENSE

CONSTANTS = ("MODEL", "LAYOUT")

MODEL = "mlp"
LAYOUT = {"hidden": True, "squeeze": False}

core = DENSE


def _kernels(widths):
    """The entry points, whatever the widths."""
    return core
