"""PyTorch and JAX as competitors, for comparison only: neither is a dependency of the project.

- ``torch``: the gradient written out by hand under ``torch.no_grad()``.
- ``torch-autograd``: the loss only, differentiated by ``torch.autograd.grad``.
- ``jax``: ``jax.jit(jax.value_and_grad(loss))``; the per-sample epoch is one jitted ``lax.scan``, the
  mini-batch epoch a Python loop over a jitted step.

Tensors share memory with the numpy data (``torch.from_numpy``); JAX copies X into its own buffer.
Conventions and the ``Run`` protocol are those of ``bench_competitors``.
"""
from __future__ import annotations

import numpy as np

from bench_competitors import CORES, ONE_BLAS, Run, Unavailable, _in_place_epoch, _loss_and_grads


def _import(name):
    try:
        return __import__(name)
    except ImportError as error:
        raise Unavailable(f"{name} is not installed ({error})") from None


# ---------------------------------------------------------------- PyTorch
class Torch:
    env = ONE_BLAS

    def setup(self):
        torch = _import("torch")
        import torch.nn.functional as F
        torch.set_num_threads(int(CORES))
        self.torch, self.F = torch, F
        return {"torch threads": torch.get_num_threads()}

    def _tensors(self, data):
        return [self.torch.from_numpy(a) for a in (data.X, data.y, *data.params)]

    # the losses that torch-autograd differentiates
    def _neuron_loss(self, w, b, X, y):
        return self.F.binary_cross_entropy_with_logits(X @ w + b, y)

    def _softmax_loss(self, W, b, X, y):
        return self.F.cross_entropy(X @ W + b, y)

    def _mlp_loss(self, W1, b1, W2, b2, X, y):
        z = (self.torch.tanh(X @ W1 + b1) @ W2)[:, 0] + b2
        return self.F.binary_cross_entropy_with_logits(z, y)

    def neuron_grad(self, data):
        torch = self.torch
        X, y, w, b = self._tensors(data)

        @torch.no_grad()
        def loss_and_gradient():
            z = X @ w + b
            r = (torch.sigmoid(z) - y) / len(y)
            return self.F.binary_cross_entropy_with_logits(z, y), (X.T @ r, r.sum().reshape(1))
        return Run(loss_and_gradient, _loss_and_grads)

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
        return Run(loss_and_gradient, _loss_and_grads)

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
        return _in_place_epoch(data, epoch)

    def mlp_fit(self, data):
        torch = self.torch
        X, y = self._tensors(data)[:2]
        batches = [torch.from_numpy(data.order[s:s + data.batch]) for s in range(0, len(data.order), data.batch)]
        lr = data.lr

        @torch.no_grad()
        def epoch(params):
            W1, b1, W2, b2 = (torch.from_numpy(p) for p in params)
            total = torch.zeros((), dtype=torch.float64)
            for rows in batches:
                Xb, yb = X[rows], y[rows]
                A = torch.tanh(Xb @ W1 + b1)
                z = (A @ W2)[:, 0] + b2
                total += self.F.binary_cross_entropy_with_logits(z, yb, reduction="sum")
                r = (torch.sigmoid(z) - yb) / len(rows)
                dZ = torch.outer(r, W2[:, 0]) * (1.0 - A * A)
                W2[:, 0] -= lr * (A.T @ r)
                b2 -= lr * r.sum()
                W1 -= lr * (Xb.T @ dZ)
                b1 -= lr * dZ.sum(dim=0)
            return total.item() / len(data.order)
        return _in_place_epoch(data, epoch)


class TorchAutograd(Torch):
    """The same losses, differentiated by torch.autograd.grad; SGD steps under no_grad."""

    def _grad(self, loss_fn, data):
        X, y, *params = self._tensors(data)
        params = [p.requires_grad_() for p in params]

        def loss_and_gradient():
            loss = loss_fn(*params, X, y)
            return loss.detach(), self.torch.autograd.grad(loss, params)
        return Run(loss_and_gradient, _loss_and_grads)

    def neuron_grad(self, data):
        return self._grad(self._neuron_loss, data)

    def softmax_grad(self, data):
        return self._grad(self._softmax_loss, data)

    def _epoch(self, loss_fn, data, batches):
        torch = self.torch
        X, y = self._tensors(data)[:2]
        lr = data.lr

        def epoch(params):
            params = [torch.from_numpy(p).requires_grad_() for p in params]
            total = torch.zeros((), dtype=torch.float64)
            for rows in batches:
                Xb, yb = X[rows], y[rows]
                loss = loss_fn(*params, Xb, yb)
                grads = torch.autograd.grad(loss, params)
                with torch.no_grad():
                    total += loss * len(yb)
                    for p, g in zip(params, grads):
                        p -= lr * g
            return total.item() / len(data.order)
        return _in_place_epoch(data, epoch)

    def neuron_fit(self, data):
        # one row at a time, as a slice so that X[rows] keeps its batch axis of one
        return self._epoch(self._neuron_loss, data, [slice(i, i + 1) for i in data.order.tolist()])

    def mlp_fit(self, data):
        order = self.torch.from_numpy(data.order)
        return self._epoch(self._mlp_loss, data, list(order.split(data.batch)))


# ---------------------------------------------------------------- JAX
class JAX:
    env = ONE_BLAS

    def setup(self):
        jax = _import("jax")
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        self.jax, self.jnp = jax, jnp
        return {"jax devices": str(jax.devices())}

    def _arrays(self, data):
        return self.jnp.asarray(data.X), self.jnp.asarray(data.y), tuple(map(self.jnp.asarray, data.params))

    def _value_and_grad(self, loss_fn, data):
        X, y, params = self._arrays(data)
        step = self.jax.jit(self.jax.value_and_grad(loss_fn))
        return Run(lambda: self.jax.block_until_ready(step(params, X, y)), _loss_and_grads)

    def neuron_grad(self, data):
        jax, jnp = self.jax, self.jnp

        def loss(params, X, y):
            w, b = params
            z = X @ w + b[0]
            return jnp.mean(jax.nn.softplus(z) - y * z)
        return self._value_and_grad(loss, data)

    def softmax_grad(self, data):
        jax, jnp = self.jax, self.jnp

        def loss(params, X, y):
            W, b = params
            Z = X @ W + b
            return jnp.mean(jax.nn.logsumexp(Z, axis=1) - jnp.take_along_axis(Z, y[:, None], axis=1)[:, 0])
        return self._value_and_grad(loss, data)

    def _result(self, out):
        params, loss = out
        return (np.atleast_1d(np.asarray(loss)), *(np.asarray(p) for p in params))

    def neuron_fit(self, data):
        jax, jnp = self.jax, self.jnp
        X, y, params = self._arrays(data)
        order, lr = jnp.asarray(data.order), data.lr

        def sample_loss(params, x, t):
            z = x @ params[0] + params[1][0]
            return jax.nn.softplus(z) - t * z

        @jax.jit
        def epoch(params, X, y, order):
            def step(params, i):
                loss, grads = jax.value_and_grad(sample_loss)(params, X[i], y[i])
                return tuple(p - lr * g for p, g in zip(params, grads)), loss
            params, losses = jax.lax.scan(step, params, order)
            return params, jnp.mean(losses)
        return Run(lambda: jax.block_until_ready(epoch(params, X, y, order)), self._result)

    def mlp_fit(self, data):
        jax, jnp = self.jax, self.jnp
        X, y, params = self._arrays(data)
        batches = [jnp.asarray(data.order[s:s + data.batch]) for s in range(0, len(data.order), data.batch)]
        lr = data.lr

        def loss(params, X, y):
            W1, b1, W2, b2 = params
            z = (jnp.tanh(X @ W1 + b1) @ W2)[:, 0] + b2[0]
            return jnp.mean(jax.nn.softplus(z) - y * z)

        @jax.jit
        def step(params, X, y, rows):
            value, grads = jax.value_and_grad(loss)(params, X[rows], y[rows])
            return tuple(p - lr * g for p, g in zip(params, grads)), value * rows.shape[0]

        def epoch():
            state, sums = params, []
            for rows in batches:
                state, batch_sum = step(state, X, y, rows)
                sums.append(batch_sum)
            return jax.block_until_ready((state, jnp.sum(jnp.stack(sums)) / len(data.order)))
        return Run(epoch, self._result)
