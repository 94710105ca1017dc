"""Kernels on several threads: the numbers one thread gives, and BLAS held at one thread meanwhile.

The public functions split large calls over numba's threads (``split``); the entry points take ``threads``
(None: one thread), so both paths are compared directly on the same data."""
import os
import subprocess
import sys

import numpy as np
import pytest
import threadpoolctl

from derive.kernels import _threads, _training, _tuning
from kernel_cases import MODULES, RELATIVE, assert_params_close, init, outputs_of

SPLIT = [("neuron_sigmoid_bce", 1), ("neuron_identity_mse", 3), ("softmax_softmax_cross_entropy", None),
         ("mlp_tanh_sigmoid_bce", 1), ("mlp_relu_softmax_cross_entropy", None), ("mlp_tanh_identity_mse", 3)]


def _problem(name, outputs, rows=None, seed=0):
    """Enough rows that the entry points split them (uneven chunks), in the module's own layout."""
    from derive import verify
    module = MODULES[name]
    K = outputs_of(module, outputs)
    params = tuple(p + 0.3 for p in init(module, 6, seed=seed, outputs=outputs))
    widths = np.array([6] + [np.shape(W)[-1] if np.ndim(W) == 2 else 1 for W in params[0::2]], dtype=np.int64)
    kernels = module._kernels(widths)
    n = rows or next(n for n in range(64, 10**6, 64) if kernels.split(widths, n, 2)) + 7
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    y = verify.draw_labels(module, n, rng, K)
    theta = np.concatenate([np.reshape(p, -1) for p in params])
    Y = np.ascontiguousarray(np.reshape(y, (n, -1)), dtype=module.LABEL_DTYPE)
    return module, params, X, y, kernels, widths, theta, Y


@pytest.mark.parametrize("name, outputs", SPLIT)
def test_split_rows_give_what_one_thread_gives(name, outputs):
    module, params, X, y, kernels, widths, theta, Y = _problem(name, outputs)
    K = int(widths[-1])
    results = {}
    with _threads.one_blas_thread():
        for threads in (None, 2, 3):
            grad = np.empty_like(theta)
            value = kernels.loss_and_gradient(theta, widths, X, Y, grad, threads)
            out = np.empty((len(X), K))
            kernels.predict(theta, widths, X, out, threads)
            fitted, losses = theta.copy(), np.empty(2)
            state = _training.State(params, seed=3)
            kernels.fit(fitted, widths, X, Y, 0.05, 2, 128, state.shuffle(len(X)), losses, threads, state.kernel,
                        _training.stopping(None, 1))
            results[threads] = (value, grad, out, losses, fitted, kernels.loss(theta, widths, X, Y, threads))
    value, grad, out, losses, fitted, only = results[None]
    for threads in (2, 3):
        other = results[threads]
        assert abs(other[0] - value) <= 1e-13 * abs(value) and abs(other[5] - value) <= 1e-13 * abs(value)
        assert_params_close([other[1]], [grad], RELATIVE, f"gradient on {threads} threads")
        np.testing.assert_allclose(other[2], out, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(other[3], losses, rtol=1e-12)
        assert_params_close([other[4]], [fitted], 1e-11, f"fit on {threads} threads")


@pytest.mark.parametrize("name, outputs", [("mlp_tanh_sigmoid_bce", 1), ("softmax_softmax_cross_entropy", None)])
def test_a_fits_serial_and_parallel_chunks_agree_to_the_last_bit(name, outputs, monkeypatch):
    """_spans: the chunks of a split batch, one after the other or on threads, give the same bits."""
    from derive.kernels import _spans
    module, params, X, y, kernels, widths, theta, Y = _problem(name, outputs)
    results = []
    for pays in (1 << 62, 0):   # the serial chunks, then the parallel ones
        monkeypatch.setattr(_spans, "_calls", {})
        monkeypatch.setattr(_spans, "_work", [0])
        monkeypatch.setattr(_spans._t, "COMPILE_PAYS", pays)
        monkeypatch.setattr(_spans._fc, "ready", lambda dispatcher, fntype: None)
        fitted, losses = theta.copy(), np.empty(2)
        state = _training.State(params, seed=3)
        with _threads.one_blas_thread():
            kernels.fit(fitted, widths, X, Y, 0.05, 2, len(X), state.shuffle(len(X)), losses, 2, state.kernel,
                        _training.stopping(None, 1))   # whole batches, which split
        runner = [key[1] for key in _spans._calls]
        results.append((fitted, losses, runner))
    assert results[0][2] == [_spans.chunks_serial] and results[1][2] == [_spans.chunks_parallel]
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


@pytest.mark.parametrize("name, outputs", SPLIT)
def test_public_functions_above_the_threshold_equal_one_thread(name, outputs):
    module, params, X, y, kernels, widths, theta, Y = _problem(name, outputs)
    assert kernels.split(widths, len(X), 2) and not kernels.split(widths, 63, 2)
    grad = np.empty_like(theta)
    with _threads.one_blas_thread():
        value = kernels.loss_and_gradient(theta, widths, X, Y, grad, None)
    public_value, grads = module.loss_and_gradient(params, X, y)
    assert abs(public_value - value) <= RELATIVE * abs(value)
    assert_params_close([np.concatenate([g.reshape(-1) for g in grads])], [grad], RELATIVE, "public vs one thread")


@pytest.mark.parametrize("name, outputs", [("mlp_tanh_sigmoid_bce", 1), ("mlp_relu_softmax_cross_entropy", None),
                                           ("neuron_identity_mse", 3)])
def test_sub_batches_add_up(name, outputs):
    """Above ROWS rows the dense loops sum sub-batches: the same as weighting separate calls by their rows."""
    n_rows = 2 * _tuning.ROWS + 88
    module, params, X, y, *_ = _problem(name, outputs, rows=n_rows)
    value, grads = module.loss_and_gradient(params, X, y)
    cuts = list(range(0, n_rows, _tuning.ROWS)) + [n_rows]
    parts = [module.loss_and_gradient(params, X[lo:hi], y[lo:hi]) for lo, hi in zip(cuts, cuts[1:])]
    weights = [(hi - lo) / n_rows for lo, hi in zip(cuts, cuts[1:])]
    assert abs(value - sum(w * v for w, (v, _) in zip(weights, parts))) <= RELATIVE * abs(value)
    assert abs(module.loss(params, X, y) - value) <= RELATIVE * abs(value)
    assert_params_close(grads, [sum(w * g[i] for w, (_, g) in zip(weights, parts)) for i in range(len(params))],
                        RELATIVE, "sub-batched vs separate calls")
    np.testing.assert_allclose(module.predict(params, X),
                               np.concatenate([module.predict(params, X[lo:hi]) for lo, hi in zip(cuts, cuts[1:])]),
                               rtol=1e-14, atol=0)


def _blas_threads():
    return [info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]


def test_blas_runs_on_one_thread_inside_and_the_callers_setting_returns():
    module, params, X, y, *_ = _problem("mlp_tanh_sigmoid_bce", 1)
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
    code = ("import numba\nfrom derive.kernels import _threads\n"
            "print(_threads.batch_threads(), numba.get_num_threads(), numba.threading_layer())")
    env = {**os.environ, "NUMBA_THREADING_LAYER": layer, "NUMBA_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if layer != "workqueue" and done.returncode != 0:
        pytest.skip(f"numba's {layer} layer is not available here")
    splits, threads, chosen = done.stdout.split()
    assert chosen == layer and int(splits) == (1 if layer == "workqueue" else int(threads))


def test_overlapping_calls_from_python_threads_restore_the_callers_blas_setting():
    """Four Python threads calling dense kernels at once: BLAS is back at the caller's count after every round."""
    import concurrent.futures
    module, params, X, y, *_ = _problem("mlp_tanh_sigmoid_bce", 1)
    other, other_params, X2, y2, *_ = _problem("softmax_softmax_cross_entropy", None)
    _threads._blas()
    work = [lambda: module.loss_and_gradient(params, X, y), lambda: other.loss_and_gradient(other_params, X2, y2),
            lambda: module.predict(params, X), lambda: other.fit(tuple(p.copy() for p in other_params), X2, y2,
                                                                 0.01, epochs=1, batch_size=64)]
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"), \
            concurrent.futures.ThreadPoolExecutor(4) as pool:
        for _ in range(30):
            for future in [pool.submit(job) for job in work]:
                future.result()
            assert all(count == 2 for count in _blas_threads())


def test_parallel_chunks_compiled_once_are_found_in_numbas_cache(tmp_path):
    """A fit takes the parallel chunks from numba's cache (``_first_class.ready``) once any process compiled them."""
    program = ("from derive.kernels import _first_class, _spans\n"
               "print(_first_class.ready(_spans.chunks_parallel, _first_class.CHUNKS) is not None)\n"
               "_spans.parallel()\n")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    found = [subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True,
                            check=True).stdout.split() for _ in range(2)]
    assert found == [["False"], ["True"]]
