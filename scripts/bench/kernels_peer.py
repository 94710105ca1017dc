"""The generated kernels (``derive.kernels``) as a competitor, through their public, validating functions:

    loss_and_gradient(params, X, y)                         the full-batch tasks
    fit(params, X, y, lr, epochs=1, batch_size, seed=0)     the epochs (seed 0 draws ``workloads.order``)

Each task names its module in ``workloads.TASKS``. The kernels use numba's pool on every core, with OpenBLAS at
one thread. The ``Run`` protocol is that of ``protocol``.
"""
from __future__ import annotations

from .protocol import NUMBA, Run, Unavailable, in_place_epoch, loss_and_grads
from .workloads import TASKS


class Generated:
    env = NUMBA

    def setup(self):
        try:
            import derive.kernels as kernels
        except Exception as error:
            raise Unavailable(f"import derive.kernels failed: {error}") from None
        self.kernels = kernels
        return {}

    def _load(self, task):
        name = TASKS[task].module
        try:
            return self.kernels.load(name)
        except Exception as error:
            raise Unavailable(f"derive.kernels.load({name!r}) failed: {error}") from None

    def _gradient(self, data):
        kernel = self._load(data.task)
        return Run(lambda: kernel.loss_and_gradient(data.params, data.X, data.y), loss_and_grads)

    def _epoch(self, data):
        kernel = self._load(data.task)
        return in_place_epoch(data, lambda params: kernel.fit(params, data.X, data.y, data.lr, epochs=1,
                                                              batch_size=data.batch, seed=0)[0])

    neuron_grad = neuron_mse_grad = softmax_grad = _gradient
    neuron_fit = mlp_fit = _epoch
