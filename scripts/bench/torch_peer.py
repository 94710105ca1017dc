"""PyTorch as a competitor, for comparison only (not a dependency of the project).

- ``torch``: the gradient written out by hand under ``torch.no_grad()`` (the formulas of ``numpy_peer``).
- ``torch-autograd``: the loss only, differentiated by ``torch.autograd.grad``; SGD steps under no_grad.

Tensors share memory with the numpy data (``torch.from_numpy``); torch uses its own pool on every core.
The ``Run`` protocol and the epoch conventions are those of ``protocol``.
"""
from __future__ import annotations

from .protocol import CORES, ONE_BLAS, Run, batches, import_or_unavailable, in_place_epoch, labels_2d, loss_and_grads


class Torch:
    env = ONE_BLAS

    def setup(self):
        torch = import_or_unavailable("torch")
        import torch.nn.functional as F
        torch.set_num_threads(int(CORES))
        self.torch, self.F = torch, F
        return {"torch threads": torch.get_num_threads()}

    def _tensors(self, data, y=None):
        return [self.torch.from_numpy(a) for a in (data.X, data.y if y is None else y, *data.params)]

    # the losses that torch-autograd differentiates
    def _neuron_loss(self, w, b, X, y):
        return self.F.binary_cross_entropy_with_logits(X @ w + b, y)

    def _mse_loss(self, W, b, X, Y):
        return self.F.mse_loss(X @ W + b, Y)

    def _softmax_loss(self, W, b, X, y):
        return self.F.cross_entropy(X @ W + b, y)

    def _mlp_loss(self, W1, b1, W2, b2, X, Y):
        return self.F.binary_cross_entropy_with_logits(self.torch.tanh(X @ W1 + b1) @ W2 + b2, Y)

    def neuron_grad(self, data):
        torch = self.torch
        X, y, w, b = self._tensors(data)

        @torch.no_grad()
        def loss_and_gradient():
            z = X @ w + b
            r = (torch.sigmoid(z) - y) / len(y)
            return self.F.binary_cross_entropy_with_logits(z, y), (X.T @ r, r.sum().reshape(1))
        return Run(loss_and_gradient, loss_and_grads)

    def neuron_mse_grad(self, data):
        torch = self.torch
        X, Y, W, b = self._tensors(data, labels_2d(data))

        @torch.no_grad()
        def loss_and_gradient():
            R = X @ W + b - Y
            G = (2.0 / R.numel()) * R
            return (R * R).mean(), (X.T @ G, G.sum(dim=0))
        return Run(loss_and_gradient, loss_and_grads)

    def softmax_grad(self, data):
        torch = self.torch
        X, y, W, b = self._tensors(data)
        rows = torch.arange(len(y))

        @torch.no_grad()
        def loss_and_gradient():
            Z = X @ W + b
            P = torch.softmax(Z, dim=1)
            P[rows, y] -= 1.0
            P /= len(y)
            return self.F.cross_entropy(Z, y), (X.T @ P, P.sum(dim=0))
        return Run(loss_and_gradient, loss_and_grads)

    def neuron_fit(self, data):
        torch = self.torch
        X, y = self._tensors(data)[:2]
        order, lr = data.order.tolist(), data.lr

        @torch.no_grad()
        def epoch(params):
            w, b = (torch.from_numpy(p) for p in params)
            total = torch.zeros((), dtype=torch.float64)
            for i in order:
                x, t = X[i], y[i:i + 1]
                z = x @ w + b
                total += self.F.binary_cross_entropy_with_logits(z, t, reduction="sum")
                step = lr * (torch.sigmoid(z) - t)
                w -= step * x
                b -= step
            return total.item() / len(order)
        return in_place_epoch(data, epoch)

    def mlp_fit(self, data):
        torch = self.torch
        X, Y = self._tensors(data, labels_2d(data))[:2]
        rows_of = [torch.from_numpy(rows) for rows in batches(data.order, data.batch)]
        lr = data.lr

        @torch.no_grad()
        def epoch(params):
            W1, b1, W2, b2 = (torch.from_numpy(p) for p in params)
            total = torch.zeros((), dtype=torch.float64)
            for rows in rows_of:
                Xb, Yb = X[rows], Y[rows]
                A = torch.tanh(Xb @ W1 + b1)
                Z = A @ W2 + b2
                total += self.F.binary_cross_entropy_with_logits(Z, Yb, reduction="sum")
                R = (torch.sigmoid(Z) - Yb) / Yb.numel()
                D1 = (R @ W2.T) * (1.0 - A * A)
                W2 -= lr * (A.T @ R)
                b2 -= lr * R.sum(dim=0)
                W1 -= lr * (Xb.T @ D1)
                b1 -= lr * D1.sum(dim=0)
            return total.item() / Y.numel()
        return in_place_epoch(data, epoch)


class TorchAutograd(Torch):
    """The same losses, differentiated by torch.autograd.grad; SGD steps under no_grad."""

    def _grad(self, loss_fn, data, y=None):
        X, y, *params = self._tensors(data, y)
        params = [p.requires_grad_() for p in params]

        def loss_and_gradient():
            loss = loss_fn(*params, X, y)
            return loss.detach(), self.torch.autograd.grad(loss, params)
        return Run(loss_and_gradient, loss_and_grads)

    def neuron_grad(self, data):
        return self._grad(self._neuron_loss, data)

    def neuron_mse_grad(self, data):
        return self._grad(self._mse_loss, data, labels_2d(data))

    def softmax_grad(self, data):
        return self._grad(self._softmax_loss, data)

    def _epoch(self, loss_fn, data, y, rows_of):
        torch = self.torch
        X, Y = self._tensors(data, y)[:2]
        lr = data.lr

        def epoch(params):
            params = [torch.from_numpy(p).requires_grad_() for p in params]
            total = torch.zeros((), dtype=torch.float64)
            for rows in rows_of:
                Xb, Yb = X[rows], Y[rows]
                loss = loss_fn(*params, Xb, Yb)
                grads = torch.autograd.grad(loss, params)
                with torch.no_grad():
                    total += loss * Yb.numel()
                    for p, g in zip(params, grads):
                        p -= lr * g
            return total.item() / Y.numel()
        return in_place_epoch(data, epoch)

    def neuron_fit(self, data):
        # one row at a time, as a slice so that X[rows] keeps its batch axis of one
        return self._epoch(self._neuron_loss, data, None, [slice(i, i + 1) for i in data.order.tolist()])

    def mlp_fit(self, data):
        rows_of = [self.torch.from_numpy(rows) for rows in batches(data.order, data.batch)]
        return self._epoch(self._mlp_loss, data, labels_2d(data), rows_of)
