"""derive.kernels.distributed without a cluster: the threaded scheduler gives the in-memory numbers too, bad input
is one line of ValueError before any task runs, the import error says how to install Dask, and a kernel module's
numba thread count is set per task and restored."""
import subprocess
import sys
import threading

import numpy as np
import pytest

from distributed_cases import flat, problem, reference_fit, relative

import dask
import dask.array as da
import numba

import derive.kernels as kernels
from derive.kernels import _distributed_tasks as tasks
from derive.kernels import distributed as dd


@pytest.fixture(autouse=True)
def threaded():
    with dask.config.set(scheduler="threads"):
        yield


def test_the_threaded_scheduler_gives_the_in_memory_loss_gradient_and_optimum():
    module, params, X, y = problem("neuron_identity_mse", (), 3)
    Xd, yd = da.from_array(X, chunks=(700, -1)), da.from_array(y, chunks=(1000, 3))   # y re-chunked to X's rows
    value, grads = module.loss_and_gradient(params, X, y)
    got_value, got_grads = dd.loss_and_gradient(module.__name__.rsplit(".", 1)[1], params, Xd, yd)
    assert relative(got_value, value) < 1e-12 and relative(flat(got_grads), flat(grads)) < 1e-12
    best, J = reference_fit(module, params, X, y, 1e-2)
    history = dd.fit(module, params, Xd, yd, weight_decay=1e-2, tol=1e-10)
    assert abs(history[-1] - J) < 1e-10 * J and relative(flat(params), flat(best)) < 1e-6


def test_a_read_only_source_and_an_empty_chunk_are_read_correctly():
    module, params, X, y = problem("neuron_sigmoid_bce", (), 1, n=1000)
    frozen = X.copy()
    frozen.setflags(write=False)   # the fused kernels are typed for writable arrays: the task copies such a chunk
    rows = (400, 0, 400, 200)
    Xd, yd = da.from_array(frozen, chunks=(rows, (X.shape[1],))), da.from_array(y, chunks=(rows,))
    value, grads = module.loss_and_gradient(params, X, y)
    got_value, got_grads = dd.loss_and_gradient(module, params, Xd, yd)
    assert relative(got_value, value) < 1e-12 and relative(flat(got_grads), flat(grads)) < 1e-12
    assert relative(dd.predict(module, params, Xd).compute(), module.predict(params, X)) < 1e-12


def test_bad_input_is_one_line_before_any_task_runs():
    module, params, X, y = problem("softmax_softmax_cross_entropy", (), 3, n=100)
    Xd, yd = da.from_array(X, chunks=(30, -1)), da.from_array(y, chunks=30)
    unknown = da.from_array(X, chunks=(30, -1))[da.from_array(X[:, 0] > 0, chunks=30)]
    cases = [
        (lambda: dd.loss_and_gradient(module, params, X, yd), "X must be a dask array"),
        (lambda: dd.loss_and_gradient(module, params, Xd.rechunk((30, 3)), yd), r"split into 2 chunks across"),
        (lambda: dd.loss_and_gradient(module, params, Xd[:, :4], yd), r"X has shape \(100, 4\).*6 features"),
        (lambda: dd.loss_and_gradient(module, params, unknown, yd), "unknown chunk sizes"),
        (lambda: dd.loss_and_gradient(module, params, Xd, yd[:50]), r"y has shape \(50,\)"),
        (lambda: dd.loss_and_gradient("no_such_module", params, Xd, yd), "no generated module"),
        (lambda: dd.loss_and_gradient(np, params, Xd, yd), "module must be a kernel module"),
        (lambda: dd.predict(module, params[:1], Xd), "params must be a tuple"),
        (lambda: dd.fit(module, params, Xd, yd, optimizer="newton"), "unknown optimizer 'newton'; choose one of"),
        (lambda: dd.fit(module, params, Xd, yd, lr=0.1), "lbfgs chooses its own steps by line search: drop lr"),
        (lambda: dd.fit(module, params, Xd, yd, optimizer="sgd"), "give lr="),
        (lambda: dd.fit(module, params, Xd, yd, optimizer="adam", lr=0.1, max_iter=3), "max_iter belongs to lbfgs"),
        (lambda: dd.fit(module, params, Xd, yd, weight_decay=-1.0), "weight_decay must be >= 0"),
        (lambda: dd.fit(module, params, Xd, yd, tol=float("nan")), "tol must be a finite number >= 0"),
        (lambda: dd.fit(module, params, Xd, yd, max_iter=0), "max_iter must be a whole number >= 1"),
        (lambda: dd.fit(module, params, Xd, yd, optimizer="sgd", lr=0.1, epochs=0), "epochs must be >= 1"),
        (lambda: dd.fit(module, params, Xd, yd, progress="yes"), "progress must be True"),
        (lambda: dd.fit(module, tuple(p.tolist() for p in params), Xd, yd), "updated in place"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message) as raised:
            call()
        assert "\n" not in str(raised.value), str(raised.value)


def test_a_fit_that_diverges_or_fails_leaves_the_parameters_as_they_were():
    module, params, X, y = problem("neuron_identity_mse", (), 3, n=500)
    X *= 1e150   # the squares overflow float64
    before = tuple(p.copy() for p in params)
    with pytest.raises(ValueError, match="not finite"):
        dd.fit(module, params, da.from_array(X, chunks=(200, -1)), da.from_array(y, chunks=(200, 3)),
               optimizer="sgd", lr=1.0, epochs=5)
    assert all(np.array_equal(p, q) for p, q in zip(params, before))


def test_numba_threads_are_set_for_the_task_and_restored():
    seen = []

    def task():
        numba.set_num_threads(1)
        with tasks._numba_threads(2):
            seen.append(numba.get_num_threads())
        seen.append(numba.get_num_threads())

    worker = threading.Thread(target=task)
    worker.start()
    worker.join()
    assert seen == [min(2, numba.config.NUMBA_NUM_THREADS), 1]


def test_distributed_is_not_a_kernel_module_and_without_dask_its_import_says_how_to_get_it():
    assert "distributed" not in kernels.available()
    code = "import sys; sys.modules['dask'] = None; import derive.kernels.distributed"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode != 0
    assert last == ("ModuleNotFoundError: derive.kernels.distributed needs Dask: pip install 'derive[dask]' "
                    "(dask[array] and distributed)")
