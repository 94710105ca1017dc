"""JAX as a competitor, for comparison only (not a dependency of the project).

``jax.jit(jax.value_and_grad(loss))`` for the full-batch gradients; the per-sample epoch is one jitted
``lax.scan``, the mini-batch epoch a Python loop over a jitted step. JAX copies X into its own buffer, and
XLA uses its own pool on every core. The ``Run`` protocol and the epoch conventions are those of ``protocol``.
"""
from __future__ import annotations

import numpy as np

from .protocol import ONE_BLAS, Run, batches, import_or_unavailable, labels_2d, loss_and_grads


class JAX:
    env = ONE_BLAS

    def setup(self):
        jax = import_or_unavailable("jax")
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        self.jax, self.jnp = jax, jnp
        return {"jax devices": str(jax.devices())}

    def _arrays(self, data, y=None):
        y = data.y if y is None else y
        return self.jnp.asarray(data.X), self.jnp.asarray(y), tuple(map(self.jnp.asarray, data.params))

    def _value_and_grad(self, loss_fn, data, y=None):
        X, y, params = self._arrays(data, y)
        step = self.jax.jit(self.jax.value_and_grad(loss_fn))
        return Run(lambda: self.jax.block_until_ready(step(params, X, y)), loss_and_grads)

    def neuron_grad(self, data):
        jax, jnp = self.jax, self.jnp

        def loss(params, X, y):
            w, b = params
            z = X @ w + b[0]
            return jnp.mean(jax.nn.softplus(z) - y * z)
        return self._value_and_grad(loss, data)

    def neuron_mse_grad(self, data):
        jnp = self.jnp

        def loss(params, X, Y):
            W, b = params
            return jnp.mean((X @ W + b - Y) ** 2)
        return self._value_and_grad(loss, data, labels_2d(data))

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
        X, Y, params = self._arrays(data, labels_2d(data))
        rows_of = [jnp.asarray(rows) for rows in batches(data.order, data.batch)]
        lr = data.lr

        def loss(params, X, Y):
            W1, b1, W2, b2 = params
            Z = jnp.tanh(X @ W1 + b1) @ W2 + b2
            return jnp.mean(jax.nn.softplus(Z) - Y * Z)

        @jax.jit
        def step(params, X, Y, rows):
            value, grads = jax.value_and_grad(loss)(params, X[rows], Y[rows])
            return tuple(p - lr * g for p, g in zip(params, grads)), value * rows.shape[0]

        def epoch():
            state, sums = params, []
            for rows in rows_of:
                state, batch_sum = step(state, X, Y, rows)
                sums.append(batch_sum)
            return jax.block_until_ready((state, jnp.sum(jnp.stack(sums)) / len(data.order)))
        return Run(epoch, self._result)
