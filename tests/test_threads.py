"""MLP kernels on several threads: the numbers one thread gives, with BLAS held at one thread meanwhile."""
import os
import subprocess
import sys

import numpy as np
import pytest
import threadpoolctl

import derive.kernels as kernels
from derive.kernels import _threads

MLPS = ["mlp_tanh_sigmoid_bce", "mlp_relu_softmax_cross_entropy"]


def _problem(module, seed=0):
    """Enough rows that the kernels split them: rows × multiply-adds per row >= _PARALLEL_MIN."""
    rng = np.random.default_rng(seed)
    D, H = 6, 12
    K = 1 if module.N_OUTPUTS == 1 else 3
    n = max(module._PARALLEL_MIN // (D * H + H * K) + 1, 4 * module._MIN_ROWS) + 7  # uneven chunks
    params = module.init(D, H, n_outputs=K, seed=seed)
    X = rng.normal(size=(n, D))
    y = rng.integers(0, K, n) if K > 1 else (rng.random(n) < 0.5).astype(np.float64)
    return params, X, y


def _relative(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("name", MLPS)
def test_split_rows_give_what_one_thread_gives(name):
    module = kernels.load(name)
    params, X, y = _problem(module)
    Ws, bs = params[0::2], params[1::2]
    assert X.shape[0] * module._macs(Ws) >= module._PARALLEL_MIN
    results = {}
    with _threads.one_blas_thread():
        for threads in (1, 2, 3):
            gWs, gbs = tuple(np.empty_like(W) for W in Ws), tuple(np.empty_like(b) for b in bs)
            value = module._loss_and_gradient_core(Ws, bs, X, y, gWs, gbs, threads)
            out = np.empty((X.shape[0], Ws[-1].shape[1]))
            module._predict(Ws, bs, X, out, threads)
            fitted = tuple(p.copy() for p in params)
            losses = np.empty(2)
            module._fit(fitted[0::2], fitted[1::2], X, y, 0.05, 2, 128, 3, losses, threads)
            results[threads] = (value, gWs + gbs, out, losses, fitted,
                                module._loss_only(Ws, bs, X, y, threads))
    value, grads, out, losses, fitted, only = results[1]
    for threads in (2, 3):
        other = results[threads]
        assert abs(other[0] - value) <= 1e-13 * abs(value) and abs(other[5] - value) <= 1e-13 * abs(value)
        assert all(_relative(g, h) <= 1e-12 for g, h in zip(other[1], grads)), f"gradients on {threads} threads"
        np.testing.assert_allclose(other[2], out, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(other[3], losses, rtol=1e-12)
        assert all(_relative(p, q) <= 1e-11 for p, q in zip(other[4], fitted)), f"fit on {threads} threads"


def _blas_threads():
    return [info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]


def test_blas_runs_on_one_thread_inside_and_the_callers_setting_returns():
    module = kernels.load(MLPS[0])
    params, X, y = _problem(module)
    _threads._blas()  # loads SciPy's BLAS, so the counts include it
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        assert before and all(count == 2 for count in before)
        with _threads.one_blas_thread():
            assert all(count == 1 for count in _blas_threads())
        assert _blas_threads() == before
        module.fit(tuple(p.copy() for p in params), X, y, 0.05, epochs=1, batch_size=64)
        module.loss_and_gradient(params, X, y)
        assert _blas_threads() == before
        with pytest.raises(RuntimeError), _threads.one_blas_thread():
            raise RuntimeError("inside")
        assert _blas_threads() == before


@pytest.mark.parametrize("layer", ["workqueue", "omp"])
def test_batches_stay_on_one_thread_under_the_workqueue_layer(layer):
    code = ("import numba\nfrom generated import _threads\n"
            "print(_threads.batch_threads(), numba.get_num_threads(), numba.threading_layer())")
    env = {**os.environ, "NUMBA_THREADING_LAYER": layer, "NUMBA_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if layer != "workqueue" and done.returncode != 0:
        pytest.skip(f"numba's {layer} layer is not available here")
    splits, threads, chosen = done.stdout.split()
    assert chosen == layer and int(splits) == (1 if layer == "workqueue" else int(threads))
