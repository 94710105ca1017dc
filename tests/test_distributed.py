"""derive.kernels.distributed on a real LocalCluster (two worker processes, one thread each, a memory limit): the
same numbers as in memory for every model, with X in the workers' memory (one task per worker) and read in place
(one task per chunk, theta one key of the graph), a fit on a file larger than the workers' memory, and a worker
killed during a fit. One cluster for the module; the fault test runs last."""
import os
import signal
import threading

import numpy as np
import pytest

from distributed_cases import MODELS, ROWS, flat, objective, problem, reference_fit, relative, write_npy

import dask
import dask.array as da
from distributed import Client, LocalCluster, futures_of

import derive.kernels as kernels
from derive.kernels import _distributed_tasks as tasks
from derive.kernels import distributed as dd

MEMORY_LIMIT = 500 * 2**20     # per worker: a worker process with the kernels loaded holds ≈ 240 MB


@pytest.fixture(scope="module")
def client():
    with dask.config.set({"distributed.worker.profile.enabled": False}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit=MEMORY_LIMIT,
                         dashboard_address=None, silence_logs=40) as cluster, \
            Client(cluster.scheduler_address) as connected:   # a Client on an address, as on any cluster
        yield connected


def chunked(X, y, path, rows=ROWS):
    """X written to a .npy file, read in place in chunks of ``rows`` rows and persisted on the workers; y beside."""
    np.save(path, X)
    return dd.from_npy(path, rows=rows).persist(), da.from_array(y, chunks=(rows,) + np.shape(y)[1:])


@pytest.mark.parametrize("name, hidden, K", MODELS)
def test_loss_gradient_and_predict_equal_the_in_memory_calls(client, tmp_path, name, hidden, K):
    module, params, X, y = problem(name, hidden, K)
    value, grads = module.loss_and_gradient(params, X, y)   # compiles here first: the workers load the cache
    Xd, yd = chunked(X, y, tmp_path / "X.npy")
    assert Xd.numblocks[0] == 5
    for source in (Xd, dd.from_npy(tmp_path / "X.npy", rows=ROWS)):   # in the workers' memory; read in place
        got_value, got_grads = dd.loss_and_gradient(module, params, source, yd)
        assert relative(got_value, value) < 1e-12
        for got, expected in zip(got_grads, grads):
            assert got.shape == expected.shape and relative(got, expected) < 1e-12
    predicted = dd.predict(module, params, Xd)
    assert isinstance(predicted, da.Array) and predicted.chunks[0] == Xd.chunks[0]
    assert relative(predicted.compute(), module.predict(params, X)) < 1e-12


@pytest.mark.parametrize("name, hidden, K", MODELS)
def test_lbfgs_reaches_the_in_memory_optimum(client, tmp_path, name, hidden, K):
    module, params, X, y = problem(name, hidden, K)
    lam = 0.1 if hidden else 1e-2   # an MLP's landscape takes ~100 iterations at 0.1, ~500 at 0.01
    in_memory, J = reference_fit(module, params, X, y, lam)
    optimum = reference_fit(module, params, X, y, lam, tol=1e-12, ftol=0.0)[1]
    Xd, yd = chunked(X, y, tmp_path / "X.npy")
    history = dd.fit(module, params, Xd, yd, weight_decay=lam, tol=1e-10, max_iter=1000)
    assert history.converged and history.n_iter == len(history) - 1
    assert abs(objective(module, params, X, y, lam) - J) < 1e-10 * J and abs(history[-1] - J) < 1e-10 * J
    assert abs(history[-1] - optimum) < 1e-10 * optimum
    assert relative(flat(params), flat(in_memory)) < 1e-6


@pytest.mark.parametrize("optimizer, options", [("sgd", {"momentum": 0.9, "nesterov": True}),
                                                ("adam", {"weight_decay": 1e-3}), ("rmsprop", {"centered": True})])
def test_full_batch_steps_equal_the_in_memory_full_batch_fit(client, tmp_path, optimizer, options):
    module, params, X, y = problem("softmax_softmax_cross_entropy", (), 3)
    expected = tuple(p.copy() for p in params)
    losses = module.fit(expected, X, y, lr=0.05, epochs=15, batch_size=len(X), optimizer=optimizer, **options)
    Xd, yd = chunked(X, y, tmp_path / "X.npy")
    history = dd.fit(module, params, Xd, yd, optimizer, lr=0.05, epochs=10, **options)
    history = dd.fit(module, params, Xd, yd, lr=0.05, epochs=5, state=history.state)   # continued
    assert history.state.t == losses.state.t == 15 and history.n_iter == 5
    assert relative(history, losses[10:]) < 1e-12
    for got, want in zip(params, expected):
        assert relative(got, want) < 1e-12


def test_progress_reports_each_iteration_and_is_off_by_default(client, tmp_path, capsys):
    module, params, X, y = problem("neuron_sigmoid_bce", (), 1)
    Xd, yd = chunked(X, y, tmp_path / "X.npy")
    dd.fit(module, tuple(p.copy() for p in params), Xd, yd, weight_decay=1e-3, max_iter=5)
    assert capsys.readouterr() == ("", "")
    seen = []
    history = dd.fit(module, params, Xd, yd, weight_decay=1e-3, tol=1e-8,
                     progress=lambda i, J, norm: seen.append((i, J, norm)))
    assert [i for i, _, _ in seen] == list(range(len(history)))
    assert [J for _, J, _ in seen] == list(history)
    assert seen[-1][2] == history.grad_norm <= 1e-8 < seen[0][2]
    dd.fit(module, problem("neuron_sigmoid_bce", (), 1)[1], Xd, yd, weight_decay=1e-3, max_iter=2, progress=True)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) >= 2 and all(line.startswith("derive: iteration") and "J = " in line for line in lines)


def test_one_task_per_chunk_reads_its_rows_where_they_are_and_theta_travels_once(client, tmp_path):
    module, params, X, y = problem("neuron_identity_mse", (), 3)
    np.save(tmp_path / "X.npy", X)
    data = dd._Data(module, params, dd.from_npy(tmp_path / "X.npy", rows=ROWS), da.from_array(y, chunks=(ROWS, 3)))
    theta = np.linspace(-1.0, 1.0, data.theta.size) + np.pi   # bytes that appear nowhere else
    (graph,) = dask.optimize(data.graph(theta))
    nodes = dict(graph.__dask_graph__())
    holders = [key for key, node in nodes.items() if theta.tobytes() in _pickled(node)]
    chunk_tasks = [node for key, node in nodes.items() if "chunk_sums" in str(key)]
    assert len(holders) == 1 and holders[0].startswith("derive-plan-")
    assert len(chunk_tasks) == 5 and all(holders[0] in node.dependencies for node in chunk_tasks)
    # the read of each chunk is fused into its task: per chunk one task and its labels, and the one plan
    assert len(nodes) == 2 * 5 + 1
    assert graph.shape == (5 * (theta.size + 2), 1)   # each chunk returns P + 2 numbers


def test_numba_threads_leave_the_cores_neither_idle_nor_oversubscribed(client):
    cores = client.run(tasks.cores)
    per_chunk, per_worker = dd._threads(client)   # two one-thread workers on one host
    assert per_chunk == per_worker == {address: max(1, cores[address] // 2) for address in cores}
    with dask.config.set(scheduler="threads", num_workers=1):
        assert dd._threads(dd._client()) == ({None: tasks.cores()}, {})
    with dask.config.set(scheduler="sync"):
        assert dd._threads(dd._client()) == ({None: tasks.cores()}, {})


def test_chunks_in_the_workers_memory_take_one_task_per_worker_where_they_are(client, tmp_path):
    module, params, X, y = problem("neuron_sigmoid_bce", (), 1)
    Xd, yd = chunked(X, y, tmp_path / "X.npy")
    data = dd._Data(module, params, Xd, yd)
    owners = client.who_has(futures_of(Xd))
    assert sorted(worker for worker, *_ in data.groups) == sorted(client.scheduler_info()["workers"])
    for worker, xs, ys, rows in data.groups:
        assert all(owners[x.key] == (worker,) for x in xs) and len(xs) == len(ys) == len(rows)
    assert sorted(start for *_, rows in data.groups for start, _ in rows) == list(range(0, len(X), ROWS))
    moved = client.run(lambda dask_worker: len(dask_worker.transfer_incoming_log))
    assert relative(data.evaluate(data.theta)[0], module.loss(params, X, y)) < 1e-12
    after = client.run(lambda dask_worker: [set(entry["keys"]) for entry in dask_worker.transfer_incoming_log])
    assert not any(x.key in keys for address, logs in after.items() for keys in logs[moved[address]:]
                   for x in futures_of(Xd))   # no chunk of X moved


def test_a_bad_label_names_its_chunk(client, tmp_path):
    module, params, X, y = problem("neuron_sigmoid_bce", (), 1)
    y[2 * ROWS + 7] = 3.0
    Xd, yd = chunked(X, y, tmp_path / "X.npy")
    with pytest.raises(ValueError, match=rf"y\[7\] = 3.0 is not a valid label.*rows {2 * ROWS}:{3 * ROWS}"):
        dd.loss_and_gradient(module, params, Xd, yd)


def reset_peak():
    """Start the process's peak resident size (VmHWM) afresh (Linux: ``echo 5 > /proc/self/clear_refs``)."""
    with open("/proc/self/clear_refs", "w") as control:
        control.write("5")


def peak_since_reset():
    """The process's peak resident size in bytes since ``reset_peak``."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


def test_a_fit_on_a_file_larger_than_the_workers_memory_runs_out_of_core(client, tmp_path):
    """X (1.07 GB) is larger than both workers' limits together (2 × 500 MiB): it is read in place, a chunk at a
    time, by the task that reduces it; nothing of X is persisted, moved between workers or gathered."""
    rows, columns = 1_400_000, 96
    path = write_npy(tmp_path / "big.npy", rows, columns, seed=1)
    X = np.load(path, mmap_mode="c")   # copy-on-write: writable for the in-memory kernels, never written
    w = np.random.default_rng(2).normal(size=columns) / 4
    y = (X @ w + np.random.default_rng(3).logistic(size=rows) > 0).astype(float)
    np.save(tmp_path / "y.npy", y)
    assert X.nbytes > 2 * MEMORY_LIMIT
    module = kernels.load("neuron_sigmoid_bce")
    start, lam = module.init(columns, seed=0), 1e-3
    best, best_J = reference_fit(module, start, X, y, lam)
    moved = client.run(lambda dask_worker: len(dask_worker.transfer_incoming_log))
    client.run(reset_peak)   # from here on: what earlier tests made the workers hold (a compile) is not this fit's
    params = tuple(p.copy() for p in start)
    history = dd.fit(module, params, dd.from_npy(path, rows=80_000), dd.from_npy(tmp_path / "y.npy", rows=80_000),
                     weight_decay=lam, tol=1e-10)
    assert history.converged and abs(history[-1] - best_J) < 1e-10 * best_J
    assert relative(flat(params), flat(best)) < 1e-6
    peak = client.run(peak_since_reset)
    assert all(bytes_ < MEMORY_LIMIT for bytes_ in peak.values()), peak   # never more than the limit, ever
    transfers = client.run(lambda dask_worker, before=moved: [entry["total"] for entry in
                                                            list(dask_worker.transfer_incoming_log)])
    assert sum(sum(sizes[moved[address]:]) for address, sizes in transfers.items()) < 80_000 * columns * 8
    del X


def test_zz_a_worker_killed_during_a_fit_never_gives_a_wrong_result(client, tmp_path):
    """SIGKILL one worker process while the fit's evaluations run: its tasks and its persisted chunks are redone
    on the survivor (the nanny restarts the dead one), and the fit ends at the in-memory optimum, or raises a
    RuntimeError that says so, with the parameters untouched."""
    module, params, X, y = problem("neuron_sigmoid_bce", (), 1, n=200_000)
    lam = 1e-3
    best, best_J = reference_fit(module, params, X, y, lam)
    Xd, yd = chunked(X, y, tmp_path / "X.npy", rows=25_000)
    pids = client.run(os.getpid)
    address = sorted(pids)[0]
    third, done, killed = threading.Event(), threading.Event(), threading.Event()

    def kill_while_it_works():   # after the third iteration, while the victim runs a task of the fit
        third.wait(60)
        while not done.is_set():
            if client.processing([address]).get(address):
                os.kill(pids[address], signal.SIGKILL)
                killed.set()
                return

    killer = threading.Thread(target=kill_while_it_works)
    killer.start()
    before = tuple(p.copy() for p in params)
    try:
        history = dd.fit(module, params, Xd, yd, weight_decay=lam, tol=1e-10,
                         progress=lambda i, J, norm: i == 3 and third.set())
    except RuntimeError as error:
        assert "the parameters were left as they were" in str(error)
        assert all(np.array_equal(p, q) for p, q in zip(params, before))
    else:
        assert history.converged and abs(history[-1] - best_J) < 1e-10 * best_J
        assert relative(flat(params), flat(best)) < 1e-6
    finally:
        done.set()
        third.set()
        killer.join()
    assert killed.is_set() and pids[address] not in client.run(os.getpid).values()   # the kill happened
    client.wait_for_workers(2, timeout=60)


def _pickled(node):
    import cloudpickle
    return cloudpickle.dumps(node)
