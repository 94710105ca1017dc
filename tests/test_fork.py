"""Kernels in a child forked after the parent ran them on several threads (multiprocessing's default start
method on Linux, ProcessPoolExecutor, data loaders): the child computes the same numbers and exits normally.

Under GNU OpenMP such a child dies ("fork() called from a process already using GNU OpenMP"); numba's TBB
layer, which derive.kernels loads, survives fork."""
import os
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent("""
    import multiprocessing, os, sys
    import numpy as np
    import numba
    import derive.kernels as kernels
    from derive.kernels import _optim, _threads

    m = kernels.load("{name}")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 8))
    params = m.init(8, {shape} seed=1)
    y = {labels}
    widths = np.array({widths}, dtype=np.int64)
    theta = np.concatenate([np.reshape(p, -1) for p in params])
    Y = np.ascontiguousarray(np.reshape(y, (len(X), -1)), dtype=m.LABEL_DTYPE)
    grad = np.empty_like(theta)
    with _threads.one_blas_thread():
        parent = m._kernels(widths).loss_and_gradient(theta, widths, X, Y, grad, 2)   # on two threads
    layer = numba.threading_layer()

    def work(_):
        with _threads.one_blas_thread():
            return m._kernels(widths).loss_and_gradient(theta, widths, X, Y, np.empty_like(theta), 2)

    pid = os.fork()
    if pid == 0:
        os._exit(0 if abs(work(0) - parent) <= 1e-12 * abs(parent) else 7)
    _, status = os.waitpid(pid, 0)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(work, range(2))
    print(layer, os.waitstatus_to_exitcode(status), all(abs(r - parent) <= 1e-12 * abs(parent) for r in results))
""")
CASES = {
    "neuron_sigmoid_bce": ("", "(X[:, 0] > 0).astype(float)", "[8, 1]"),
    "mlp_tanh_softmax_cross_entropy": ("(16,), n_outputs=3,", "rng.integers(0, 3, len(X))", "[8, 16, 3]"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_forked_child_runs_the_kernels_the_parent_ran_on_threads(name):
    shape, labels, widths = CASES[name]
    code = CHILD.format(name=name, shape=shape, labels=labels, widths=widths)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"} | {"NUMBA_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    layer, child, pool = done.stdout.split()
    assert (layer, child, pool) == ("tbb", "0", "True"), done.stdout


def test_threads_started_by_the_user_right_after_import_are_tbbs():
    """numba picks its layer when its pool starts: a numba.set_num_threads of the user's, before any kernel is
    loaded, used to start GNU OpenMP's pool (fork-unsafe, and its idle threads spin); derive.kernels loads TBB
    as it is imported, so the pool is TBB's and a forked child after a parallel loop exits normally."""
    code = textwrap.dedent("""
        import os
        import numba
        import numpy as np
        import derive.kernels
        numba.set_num_threads(2)

        @numba.njit(parallel=True)
        def total(x):
            s = 0.0
            for i in numba.prange(x.shape[0]):
                s += x[i]
            return s

        before = total(np.ones(100_000))
        pid = os.fork()
        if pid == 0:
            os._exit(0 if total(np.ones(100_000)) == before else 7)
        _, status = os.waitpid(pid, 0)
        print(numba.threading_layer(), os.waitstatus_to_exitcode(status))
    """)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"} | {"NUMBA_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["tbb", "0"], done.stdout + done.stderr[-2000:]
