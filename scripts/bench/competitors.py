"""Who competes: name → competitor class, in the order of the report, and the bandwidth probes.

Importing this imports numba (the reference and the probes are numba code) but none of the libraries that
compete: each class imports its own in ``setup``, inside its worker. To
add a competitor, write its module (the ``Run`` protocol of ``protocol``) and add one entry here.
"""
from __future__ import annotations

from .bandwidth import PROBES
from .jax_peer import JAX
from .kernels_peer import Generated
from .numpy_peer import NumPy
from .reference import Reference
from .torch_peer import Torch, TorchAutograd

COMPETITORS = {"generated": Generated, "reference": Reference, "numpy": NumPy, "torch": Torch,
               "torch-autograd": TorchAutograd, "jax": JAX}
BASELINES = ("generated", "numpy")     # whose result the others are checked against: the first that ran
EVERYONE = {**COMPETITORS, **PROBES}   # every kind of worker process
