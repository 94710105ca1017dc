"""What the Dask tests share: the models they run, their data, and an independent in-memory L-BFGS reference.

The reference minimises J(θ) = L̄(θ) + (λ/2)·Σ_W ‖W‖² with scipy on the module's in-memory
``loss_and_gradient``, written here from the definition (not through derive.kernels.distributed), to a tighter
tolerance than the fits it checks.
"""
import os

import numpy as np
import pytest

try:
    import dask  # noqa: F401
    import distributed  # noqa: F401
except ImportError:   # a fresh checkout without the test extra; under CI this is a failure, never a skip
    if os.environ.get("CI"):
        raise
    pytest.skip("the Dask tests need dask[array] and distributed: pip install -e '.[test]'", allow_module_level=True)

import derive.kernels as kernels

# (module, hidden widths, K): every model, one output and several
MODELS = [("neuron_sigmoid_bce", (), 1), ("neuron_identity_mse", (), 3), ("softmax_softmax_cross_entropy", (), 3),
          ("mlp_tanh_identity_mse", (4,), 2), ("mlp_sigmoid_softmax_cross_entropy", (5,), 3)]
N, D, ROWS = 4000, 6, 900          # five chunks, the last one short
FTOL = 64 * np.finfo(float).eps    # L-BFGS's stop on a stalled J, as in scikit-learn and the in-memory fit


def problem(name, hidden, K, n=N, seed=0):
    """(module, params, X, y) for a model: labels that fit its head, from a planted model plus noise."""
    module = kernels.load(name)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, D))
    Z = X @ rng.normal(size=(D, K)) + 0.5 * rng.normal(size=(n, K))
    if module.SPAN == "softmax":
        y = Z.argmax(axis=1)
    elif module.LABELS[0] == "interval":
        y = (Z > 0).astype(float)
    else:
        y = Z
    y = y[:, 0] if K == 1 else y
    params = module.init(D, hidden, n_outputs=K, seed=seed) if hidden else module.init(D, n_outputs=K, seed=seed)
    return module, params, X, y


def flat(arrays):
    return np.concatenate([np.asarray(a).reshape(-1) for a in arrays])


def decay_of(params):
    return np.concatenate([np.full(np.size(p), 1.0 - index % 2) for index, p in enumerate(params)])


def objective(module, params, X, y, lam):
    """J at params, in memory."""
    return module.loss(params, X, y) + 0.5 * lam * float(np.sum(decay_of(params) * flat(params) ** 2))


def reference_fit(module, params, X, y, lam, tol=1e-10, ftol=FTOL):
    """The in-memory L-BFGS fit of J from params, with the options of the fit it checks (scikit-learn's: gtol =
    tol, ftol = 64·eps): (params at its end, J there). ``ftol=0`` and a small tol give the optimum itself."""
    from scipy.optimize import minimize
    shapes = [np.shape(p) for p in params]
    decay = decay_of(params)

    def shaped(theta):
        out, offset = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            out.append(theta[offset:offset + size].reshape(shape).copy())
            offset += size
        return tuple(out)

    def J(theta):
        value, grads = module.loss_and_gradient(shaped(theta), X, y)
        return value + 0.5 * lam * float(decay @ theta ** 2), flat(grads) + lam * decay * theta

    result = minimize(J, flat(params), jac=True, method="L-BFGS-B",
                      options={"gtol": tol, "ftol": ftol, "maxiter": 5000, "maxls": 50, "maxcor": 10})
    return shaped(result.x), float(result.fun)


def relative(actual, expected):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    return float(np.max(np.abs(actual - expected))) / max(float(np.max(np.abs(expected))), 1e-300)


def write_npy(path, rows, columns, seed, block=200_000):
    """A standard-normal float64 .npy file written block by block (never whole in memory); returns the path."""
    rng = np.random.default_rng(seed)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(rows, columns))
    for start in range(0, rows, block):
        rng.standard_normal(out=out[start:start + block])
    out.flush()
    del out
    return path
