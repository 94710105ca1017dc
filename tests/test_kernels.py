"""Every generated kernel module: against finite differences, an independent NumPy forward pass, a
high-precision reference at the edges of the float range, and itself (step, fit, the parallel path).

Compiling dominates the run time (cold: about 2.5 s per neuron module and 8 s per MLP, 4 minutes in all on
one core). Each module's functions compile once per session: the session fixture ``_compiled`` compiles the
selected modules in worker processes, one per core, into numba's on-disk cache, and the tests load them
from there (30 s for the whole file once cached).
"""
import concurrent.futures
import functools
import math
import multiprocessing
import os
import re
import warnings
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp

import derive.kernels as kernels
from derive.kernels import _shuffle
from derive import verify
from derive.catalogue import ACTIVATIONS, LOSSES
from derive.catalogue.functions import expand_named
from derive.catalogue.symbols import a, y, z

NAMES = kernels.available()
MODULES = {name: kernels.load(name) for name in NAMES}
NEURONS = [name for name in NAMES if MODULES[name].MODEL == "neuron"]
WIDE = [name for name in NAMES if MODULES[name].MODEL != "neuron"]
PARALLEL = ["neuron_sigmoid_bce", "softmax_softmax_cross_entropy"]          # the models with a parallel core
SUB_BATCHED = ["mlp_tanh_sigmoid_bce", "mlp_relu_softmax_cross_entropy"]   # MLPs: _ROWS-row sub-batches instead
LEARNERS = ["neuron_sigmoid_bce", "neuron_identity_mse", "neuron_tanh_hinge", "neuron_softplus_poisson_nll",
            "softmax_softmax_cross_entropy", "mlp_tanh_sigmoid_bce", "mlp_relu_softmax_cross_entropy",
            "mlp_sigmoid_identity_mse"]
# one module per model, the MLP's two kinds of head, and the label sets of hinge, poisson_nll and mae
# (with ReLU, which maps NaN and -inf to 0, so a NaN cannot be found from the result)
VALIDATED = ["neuron_sigmoid_bce", "softmax_softmax_cross_entropy", "mlp_tanh_sigmoid_bce",
             "mlp_relu_softmax_cross_entropy", "neuron_relu_hinge", "neuron_softplus_poisson_nll",
             "neuron_relu_mae"]
RELATIVE = 1e-12        # two summation orders of the same float64 sums


def _copy(params):
    return tuple(np.array(p, copy=True) for p in params)


@functools.lru_cache(maxsize=None)
def _cached_problem(name):
    return verify.problem(MODULES[name])


def _problem(name):
    """verify.problem's (params, X, y) for ``name``, as fresh copies."""
    params, X, labels = _cached_problem(name)
    return _copy(params), X.copy(), labels.copy()


def _n_classes(module):
    """The K that verify.problem and these tests use for softmax heads; None for scalar heads."""
    return 3 if module.LABELS[0] == "classes" else None


def _relative(actual, expected):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    return float(np.max(np.abs(actual - expected), initial=0.0)) / scale


def _assert_params_close(actual, expected, rtol, what):
    assert len(actual) == len(expected)
    for index, (p, q) in enumerate(zip(actual, expected)):
        error = _relative(p, q)
        assert error <= rtol, f"{what}: params[{index}] differ by {error:.2e} (relative)\n{p}\nvs\n{q}"


# ---------------------------------------------------------------- compiling once, on every core
def _core_arguments(module, params, X, labels):
    """(params..., X, y) as the unchecked cores take them: float64 (y int64 for class indices), C-contiguous."""
    y_type = np.int64 if module.LABELS[0] == "classes" else np.float64
    return tuple(np.ascontiguousarray(p, dtype=np.float64) for p in params) + \
        (np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(labels, dtype=y_type))


def _compile(name, parallel):
    """Run every compiled function the tests call, with the same argument types, so numba caches them."""
    module = MODULES[name]
    params, X, labels = _problem(name)
    module.loss_and_gradient(params, X, labels)
    module.loss(params, X, labels)
    module.predict(params, X)
    module.fit(params, X, labels, 0.01, epochs=1, batch_size=2)
    if parallel:
        module._loss_and_gradient_parallel(*_core_arguments(module, params, X, labels),
                                           *(np.empty_like(p) for p in params))
    return name


def _cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _compile_seconds(name):
    """Roughly what compiling ``name`` costs, cold: to hand out the longest jobs first."""
    return {"mlp": 8.0, "softmax": 3.0, "neuron": 2.5}[MODULES[name].MODEL] + 5.0 * (name in PARALLEL)


@pytest.fixture(scope="session", autouse=True)
def _compiled(request):
    """Compile the selected modules in worker processes, longest first, into numba's cache.

    Only the time is at stake: a module a worker could not compile is compiled here, by its first test, which
    then reports the error itself."""
    here = Path(__file__).resolve()
    names = {item.callspec.params["name"] for item in request.session.items
             if Path(item.path).resolve() == here and "name" in getattr(getattr(item, "callspec", None), "params", {})}
    workers = min(_cores(), len(names))
    if workers < 2:
        return
    order = sorted(names, key=lambda n: (-_compile_seconds(n), n))
    context = multiprocessing.get_context("spawn")
    failed = []
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        for name, future in [(name, pool.submit(_compile, name, name in PARALLEL)) for name in order]:
            try:
                future.result()
            except Exception as error:  # noqa: BLE001 - the module's own tests meet it again, and report it
                failed.append(f"{name} ({type(error).__name__})")
    if failed:
        warnings.warn(f"compiling in worker processes failed for {', '.join(failed)}: compiled in-process instead")


# ---------------------------------------------------------------- the gradient and the loss
def _gradient_table(module, params, X, labels, step=verify.STEP, rows=6):
    """The worst coordinates: analytic and central-difference values, for a failure message."""
    _, grads = module.loss_and_gradient(params, X, labels)
    scale = max(max(float(np.max(np.abs(g))) for g in grads), 1e-8)
    lines = []
    for index, (p, g) in enumerate(zip(params, grads)):
        for position in np.ndindex(p.shape):
            shifted = _copy(params)
            shifted[index][position] = p[position] + step
            up = module.loss(shifted, X, labels)
            shifted[index][position] = p[position] - step
            down = module.loss(shifted, X, labels)
            numeric = (up - down) / (2 * step)
            error = abs(numeric - g[position]) / max(abs(g[position]), 1e-2 * scale)
            lines.append((error, f"params[{index}]{list(position)}: analytic {g[position]:+.12e}  "
                                 f"numeric {numeric:+.12e}  relative error {error:.2e}"))
    return "\n".join(line for _, line in sorted(lines, reverse=True)[:rows])


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_central_differences(name):
    module = MODULES[name]
    params, X, labels = _problem(name)
    error = verify.gradient_error(module, params, X, labels)
    assert error <= verify.TOLERANCE, \
        f"{name}: gradient error {error:.2e} > {verify.TOLERANCE}\n{_gradient_table(module, params, X, labels)}"


@pytest.mark.parametrize("n_features", [3, 33])  # up to _NARROW, four rows at a time; beyond, one
@pytest.mark.parametrize("n_rows", [1, 7, 130])  # remainders of 4 rows, and more than one block
def test_neuron_passes_of_every_width_match_central_differences(n_features, n_rows):
    module = MODULES["neuron_sigmoid_bce"]
    assert module._NARROW == 32 and module._BLOCK < 130
    params, X, labels = verify.problem(module, seed=2, n_rows=n_rows, n_features=n_features)
    error = verify.gradient_error(module, params, X, labels)
    assert error <= verify.TOLERANCE, f"{n_rows} × {n_features}: gradient error {error:.2e}"
    reference = verify.reference_loss(module, params, X, labels)
    assert abs(module.loss_and_gradient(params, X, labels)[0] - reference) <= 1e-13 * max(1.0, abs(reference))


@pytest.mark.parametrize("n_rows", [1, 5, 8, 300])  # loops below _BLAS_MIN rows, BLAS from it, two blocks
def test_softmax_blocks_of_every_size_match_central_differences_and_the_forward_pass(n_rows):
    module = MODULES["softmax_softmax_cross_entropy"]
    assert module._BLAS_MIN == 8 and module._BLOCK < 300
    params, X, labels = verify.problem(module, seed=3, n_rows=n_rows, n_features=4)
    error = verify.gradient_error(module, params, X, labels)
    assert error <= verify.TOLERANCE, f"{n_rows} rows: gradient error {error:.2e}"
    assert abs(module.loss(params, X, labels) - verify.reference_loss(module, params, X, labels)) <= 1e-13
    np.testing.assert_allclose(module.predict(params, X), verify.forward(module, params, X)[1], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_loss_matches_reference(name):
    module = MODULES[name]
    params, X, labels = _problem(name)
    value, reference = module.loss(params, X, labels), verify.reference_loss(module, params, X, labels)
    assert isinstance(value, float)
    assert abs(value - reference) <= 1e-9 * abs(reference), f"{name}: loss {value!r}, reference {reference!r}"


@pytest.mark.parametrize("name", NAMES)
def test_gradient_is_loss_and_gradient(name):
    module = MODULES[name]
    params, X, labels = _problem(name)
    value, grads = module.loss_and_gradient(params, X, labels)
    alone = module.gradient(params, X, labels)
    assert isinstance(value, float) and abs(value - module.loss(params, X, labels)) <= RELATIVE * abs(value)
    assert isinstance(grads, tuple) and isinstance(alone, tuple) and len(grads) == len(alone) == len(params)
    for p, g, h in zip(params, grads, alone):
        assert g.shape == h.shape == p.shape and g.dtype == h.dtype == np.float64
        assert g.flags.c_contiguous and not np.shares_memory(g, p)
        np.testing.assert_array_equal(g, h)


@pytest.mark.parametrize("name", NAMES)
def test_step_is_params_minus_lr_gradient(name):
    module = MODULES[name]
    params, X, labels = _problem(name)
    lr = 0.05
    before, grads = module.loss(params, X, labels), module.gradient(params, X, labels)
    stepped = _copy(params)
    returned = module.step(stepped, X, labels, lr)
    assert abs(returned - before) <= RELATIVE * abs(before), f"step returned {returned}, loss before {before}"
    _assert_params_close(stepped, [p - lr * g for p, g in zip(params, grads)], 1e-14, "step")


# ---------------------------------------------------------------- fit
@pytest.mark.parametrize("name", NAMES)
def test_full_batch_fit_is_repeated_steps(name):
    module = MODULES[name]
    params, X, labels = _problem(name)
    lr, epochs = 0.05, 3
    stepped = _copy(params)
    step_losses = [module.step(stepped, X, labels, lr) for _ in range(epochs)]
    fitted = _copy(params)
    losses = module.fit(fitted, X, labels, lr, epochs=epochs, batch_size=len(X), seed=5)
    assert isinstance(losses, np.ndarray) and losses.shape == (epochs,) and losses.dtype == np.float64
    assert _relative(losses, step_losses) <= RELATIVE, f"{losses} vs {step_losses}"
    _assert_params_close(fitted, stepped, RELATIVE, "fit(batch_size=N) vs step")


@pytest.mark.parametrize("name", NAMES)
def test_per_sample_fit_is_steps_in_the_shuffled_order(name):
    module = MODULES[name]
    params, X, labels = _problem(name)
    lr, epochs, seed = 0.05, 2, 11
    fitted = _copy(params)
    losses = module.fit(fitted, X, labels, lr, epochs=epochs, batch_size=1, seed=seed)
    stepped = _copy(params)
    step_losses = [np.mean([module.step(stepped, X[i:i + 1], labels[i:i + 1], lr) for i in order])
                   for order in _shuffle.orders(seed, len(X), epochs)]
    assert _relative(losses, step_losses) <= RELATIVE, f"{losses} vs {step_losses}"
    _assert_params_close(fitted, stepped, RELATIVE, "fit(batch_size=1) vs per-sample steps")


def _teacher_labels(module, params, X):
    """Labels a model of the same module can fit, of the kind its loss takes."""
    zs, out = verify.forward(module, params, X)
    logits = zs[-1].reshape(len(X), -1)
    kind = module.LABELS[0]
    if kind == "classes":
        return np.argmax(logits, axis=1)
    if kind == "set":
        return np.where(logits[:, 0] > 0, 1.0, -1.0)
    if kind == "interval" and math.isfinite(module.LABELS[2]):
        return np.where(logits[:, 0] > 0, module.LABELS[2], module.LABELS[1])
    return out


def _init(module, n_features, seed):
    n_classes = _n_classes(module)
    return {"neuron": lambda: module.init(n_features, seed=seed),
            "softmax": lambda: module.init(n_features, n_classes, seed=seed),
            "mlp": lambda: module.init(n_features, (4, 3), n_outputs=n_classes or 1, seed=seed)}[module.MODEL]()


@pytest.mark.parametrize("name", LEARNERS)
def test_per_sample_fit_learns_and_is_seeded(name):
    module = MODULES[name]
    rng = np.random.default_rng(7)
    X = rng.normal(0.0, 1.0, (128, 3))
    teacher = tuple(2.0 * p + rng.normal(0.0, 0.5, p.shape) for p in _init(module, 3, seed=99))
    labels = _teacher_labels(module, teacher, X)
    start = _init(module, 3, seed=1)
    fitted = _copy(start)
    losses = module.fit(fitted, X, labels, 0.05, epochs=8, batch_size=1, seed=3)
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], f"per-epoch losses {losses}"
    final, initial, target = (module.loss(p, X, labels) for p in (fitted, start, teacher))
    # down to the teacher's loss (the minimum when the labels are its outputs), or at least halved
    assert final < initial and final <= 1.001 * max(target, initial / 2), \
        f"loss {initial} -> {final}; the teacher's is {target}; per-epoch losses {losses}"
    again = _copy(start)
    np.testing.assert_array_equal(module.fit(again, X, labels, 0.05, epochs=8, batch_size=1, seed=3), losses)
    _assert_params_close(again, fitted, 0.0, "the same seed")
    other = _copy(start)
    module.fit(other, X, labels, 0.05, epochs=8, batch_size=1, seed=4)
    assert any(not np.array_equal(p, q) for p, q in zip(other, fitted)), "seeds 3 and 4 gave the same fit"


# ---------------------------------------------------------------- predict and init
def _range_check(out, output_range):
    low, high = float(output_range.inf), float(output_range.sup)
    slack = 1e-12  # the catalogue writes SiLU's and GELU's minima as decimals
    assert np.all(out > low if output_range.left_open else out >= low - slack), f"below {output_range}: {out.min()}"
    assert np.all(out < high if output_range.right_open else out <= high + slack), f"above {output_range}: {out.max()}"


@pytest.mark.parametrize("name", NAMES)
def test_predict_matches_forward(name):
    module = MODULES[name]
    params, X, _ = _problem(name)
    out = module.predict(params, X)
    _, reference = verify.forward(module, params, X)
    K = _n_classes(module)
    assert out.shape == ((len(X), K) if K else (len(X),)) and out.dtype == np.float64
    np.testing.assert_allclose(out, reference, rtol=1e-12, atol=1e-14)
    _range_check(out, ACTIVATIONS[module.ACTIVATION].output_range)
    if K:
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-13)


@pytest.mark.parametrize("name", NAMES)
def test_init(name):
    module = MODULES[name]
    K = _n_classes(module)
    expected = {"neuron": [(5,), (1,)], "softmax": [(5, K), (K,)],
                "mlp": [(5, 4), (4,), (4, 3), (3,), (3, K or 1), (K or 1,)]}[module.MODEL]
    params = _init(module, 5, seed=2)
    assert isinstance(params, tuple) and [p.shape for p in params] == expected
    assert all(p.dtype == np.float64 and p.flags.c_contiguous and p.flags.writeable for p in params)
    assert all(np.all(b == 0) for b in params[1::2]) and all(np.any(W != 0) for W in params[0::2])
    _assert_params_close(_init(module, 5, seed=2), params, 0.0, "init with one seed")
    assert not np.array_equal(_init(module, 5, seed=3)[0], params[0])
    with pytest.raises(ValueError):
        _init(module, 0, seed=0)
    with pytest.raises(ValueError):
        _init(module, 5, seed=-1)
    if module.MODEL == "mlp":
        assert [p.shape for p in module.init(5, 6, n_outputs=K or 1)] == [(5, 6), (6,), (6, K or 1), (K or 1,)]
        with pytest.raises(ValueError):
            module.init(5, (), n_outputs=K or 1)
        with pytest.raises(ValueError):
            module.init(5, 4, n_outputs=1 if K else 2)


# ---------------------------------------------------------------- the edges of the float range
SWEEP = np.concatenate([np.linspace(-700.0, 700.0, 201), [-700.0, 0.0, 700.0]])


def _sweep_labels(spec, n_classes=None):
    """Label values the loss takes: both ends and a middle of an interval, every value of a set."""
    kind = spec[0]
    if kind == "classes":
        return tuple(range(n_classes))
    if kind == "set":
        return spec[1]
    if kind == "interval":
        low, high = spec[1], spec[2]
        return (low, (low + high) / 2, high) if math.isfinite(high) else (low, low + 1.0, low + 3.0)
    return (-3.0, 0.0, 3.0)


@functools.lru_cache(maxsize=None)
def _references(activation, loss):
    """L(f(z), y) and ∂L/∂z from the catalogue's expressions, for mpmath; and the kink expressions."""
    composed = expand_named(LOSSES[loss].expr).subs(a, expand_named(ACTIVATIONS[activation].expr))
    value = sp.lambdify((z, y), composed, "mpmath")
    slope = sp.lambdify((z, y), sp.diff(composed, z), "mpmath")
    kinks = [sp.lambdify((z, y), k, "math") for k in ACTIVATIONS[activation].kinks] + \
            [sp.lambdify((z, y), k.subs(a, expand_named(ACTIVATIONS[activation].expr)), "math")
             for k in LOSSES[loss].kinks]
    return value, slope, kinks


def _exact(function, zv, yv):
    """function(z, y) to 17 correct digits: at 50 and 100 digits when they agree, else at 350 (log(1 + e^-140)
    needs 61 digits before its first correct one, and 1 - σ(700) 304); inf only if it is infinite."""
    results = []
    for digits in (50, 100, 350):
        with mpmath.workdps(digits):
            try:
                results.append(function(mpmath.mpf(zv), mpmath.mpf(yv)))
            except (ValueError, ZeroDivisionError):
                results.append(None)
        if digits == 100 and None not in results and mpmath.isfinite(results[1]) \
                and abs(results[0] - results[1]) <= mpmath.mpf(10)**-30 * max(abs(results[1]), 1):
            return float(results[1])
    return float(results[-1]) if results[-1] is not None and mpmath.isfinite(results[-1]) else math.inf


@pytest.mark.parametrize("name", NEURONS)
def test_neuron_is_finite_and_accurate_for_z_up_to_700(name):
    """w = 1, b = 0 and x = z: the loss and ∂L/∂z at every z in [-700, 700], against mpmath (_exact).

    Every valid pair has a finite true loss and slope at every such z (the reference says so; no point is
    excluded), so each must come out finite, and accurate to 1e-12: relative, or absolute below 1."""
    module = MODULES[name]
    value, slope, kinks = _references(module.ACTIVATION, module.LOSS)
    params = (np.ones(1), np.zeros(1))
    failures = []
    for label in _sweep_labels(module.LABELS):
        for zv in SWEEP:
            X, labels = np.array([[zv]]), np.array([label])
            loss = module.loss(params, X, labels)
            same, (gw, gb) = module.loss_and_gradient(params, X, labels)
            true_loss, true_slope = _exact(value, zv, label), _exact(slope, zv, label)
            assert math.isfinite(true_loss) and math.isfinite(true_slope), \
                f"the true value is infinite at z = {zv}, y = {label}: exclude that point with a proof"
            on_kink = any(abs(k(zv, label)) < 1e-9 for k in kinks)
            if not (np.isfinite([loss, same, gw[0], gb[0]]).all()
                    and abs(loss - true_loss) <= 1e-12 * max(abs(true_loss), 1.0)
                    and abs(same - loss) <= 1e-15 * abs(loss)  # the loss's two compiled paths: an FMA apart
                    and (on_kink or abs(gb[0] - true_slope) <= 1e-12 * max(abs(true_slope), 1.0))
                    and abs(gw[0] - gb[0] * zv) <= 1e-15 * abs(gw[0])):
                failures.append(f"z = {zv:g}, y = {label:g}: L = {loss!r} (true {true_loss!r}), "
                                f"∂L/∂z = {gb[0]!r} (true {true_slope!r}), ∂L/∂w = {gw[0]!r}")
    assert not failures, f"{name}: {len(failures)} bad points\n" + "\n".join(failures[:10])


def _wide_params(module, X):
    """Params whose output logits run over ±700 as x runs over SWEEP (and a first layer whose z does too)."""
    K = _n_classes(module)
    spread = np.array([[1.0, 0.0, -1.0], [-1.0, 0.0, 1.0]]) if K else np.array([[1.0], [-1.0]])
    if module.MODEL == "softmax":
        return (spread[:1].copy(), np.zeros(3))
    params = [np.array([[1.0, -1.0]]), np.zeros(2), np.eye(2), np.zeros(2), spread, np.zeros(spread.shape[1])]
    zs, _ = verify.forward(module, params, X)
    params[4] = spread * (700.0 / np.max(np.abs(zs[-1])))
    return tuple(params)


@pytest.mark.parametrize("name", WIDE)
def test_wide_models_are_finite_for_logits_up_to_700(name):
    module = MODULES[name]
    X = SWEEP[:, None].copy()
    params = _wide_params(module, X)
    zs, _ = verify.forward(module, params, X)
    assert np.isclose(np.max(np.abs(zs[-1])), 700.0) and np.max(np.abs(zs[0])) == 700.0
    out = module.predict(params, X)
    assert np.all(np.isfinite(out))
    if out.ndim == 2:
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-13)
    failures = []
    for label in _sweep_labels(module.LABELS, _n_classes(module)):
        for row, zv in enumerate(SWEEP):
            labels = np.array([label])
            loss = module.loss(params, X[row:row + 1], labels)
            same, grads = module.loss_and_gradient(params, X[row:row + 1], labels)
            if not (np.isfinite([loss, same]).all() and all(np.isfinite(g).all() for g in grads)):
                failures.append(f"x = {zv:g}, y = {label}: L = {loss!r}, gradient {grads}")
    assert not failures, f"{name}: {len(failures)} bad points\n" + "\n".join(failures[:10])


# ---------------------------------------------------------------- the parallel path and the sub-batches
def _large_problem(module, n_rows):
    rng = np.random.default_rng(21)
    X = rng.normal(0.0, 1.0, (n_rows, 3))
    params = tuple(p + rng.normal(0.0, 0.3, p.shape) for p in _init(module, 3, seed=4))
    return params, X, verify.draw_labels(module, n_rows, rng, _n_classes(module))


@pytest.mark.parametrize("name", PARALLEL)
def test_parallel_core_equals_serial_core(name):
    module = MODULES[name]
    params, X, labels = _large_problem(module, 5000)
    arguments = _core_arguments(module, params, X, labels)
    serial = [np.empty_like(p) for p in params]
    parallel = [np.empty_like(p) for p in params]
    value = module._loss_and_gradient_serial(*arguments, *serial)
    parallel_value = module._loss_and_gradient_parallel(*arguments, *parallel)
    assert abs(parallel_value - value) <= RELATIVE * abs(value)
    _assert_params_close(parallel, serial, RELATIVE, "parallel vs serial core")


@pytest.mark.parametrize("name", PARALLEL)
def test_public_loss_and_gradient_above_the_threshold_equals_serial(name):
    module = MODULES[name]
    weights = _init(module, 3, seed=4)[0]
    n_rows = next(n for n in range(100, 10**6, 100) if module._threaded(np.empty((n, 3)), weights))  # the first above
    params, X, labels = _large_problem(module, n_rows)
    assert module._threaded(X, params[0]) and not module._threaded(X[:n_rows - 100], params[0])
    serial = [np.empty_like(p) for p in params]
    value = module._loss_and_gradient_serial(*_core_arguments(module, params, X, labels), *serial)
    public_value, grads = module.loss_and_gradient(params, X, labels)
    assert abs(public_value - value) <= RELATIVE * abs(value)
    _assert_params_close(grads, serial, RELATIVE, "public (parallel) vs serial")


@pytest.mark.parametrize("name", SUB_BATCHED)
def test_mlp_sub_batches_add_up(name):
    """Above _ROWS rows the MLP core sums sub-batches: the same as weighting separate calls by their rows."""
    module = MODULES[name]
    n_rows = 2 * module._ROWS + 88
    params, X, labels = _large_problem(module, n_rows)
    value, grads = module.loss_and_gradient(params, X, labels)
    cuts = list(range(0, n_rows, module._ROWS)) + [n_rows]
    parts = [module.loss_and_gradient(params, X[lo:hi], labels[lo:hi]) for lo, hi in zip(cuts, cuts[1:])]
    weights = [(hi - lo) / n_rows for lo, hi in zip(cuts, cuts[1:])]
    assert abs(value - sum(w * v for w, (v, _) in zip(weights, parts))) <= RELATIVE * abs(value)
    assert abs(module.loss(params, X, labels) - value) <= RELATIVE * abs(value)
    _assert_params_close(grads, [sum(w * g[i] for w, (_, g) in zip(weights, parts)) for i in range(len(params))],
                         RELATIVE, "sub-batched vs separate calls")
    np.testing.assert_allclose(module.predict(params, X),
                               np.concatenate([module.predict(params, X[lo:hi]) for lo, hi in zip(cuts, cuts[1:])]),
                               rtol=1e-14, atol=0)


# ---------------------------------------------------------------- input validation
PREDICT, LOSSES_OF, UPDATES = ("predict",), ("loss", "loss_and_gradient", "gradient"), ("step", "fit")
ALL = PREDICT + LOSSES_OF + UPDATES
LABELLED = LOSSES_OF + UPDATES


def _grown(array, axis):
    return np.concatenate([array, np.take(array, [0], axis=axis)], axis=axis)


def _strided(array):
    """The same values, not C-contiguous."""
    wide = np.zeros(array.shape[:-1] + (2 * array.shape[-1],))
    wide[..., ::2] = array
    return wide[..., ::2]


def _read_only(array):
    array = array.copy()
    array.setflags(write=False)
    return array


def _with(array, index, value, dtype=None):
    array = np.array(array, dtype=dtype or np.asarray(array).dtype, copy=True)
    array[index] = value
    return array


def _bad_label_values(spec, n_classes):
    """Values outside the loss's label set."""
    kind = spec[0]
    if kind == "classes":
        return (n_classes, -1, 1.5)
    if kind == "set":
        return (0.0, 2.0)
    if kind == "interval":
        return (spec[1] - 1.0,) + ((spec[2] + 1.0,) if math.isfinite(spec[2]) else ())
    return ()


def _bad_inputs(name):
    """(case id, functions it applies to, a function of (params, X, y, K) giving the bad arguments, match)."""
    module = MODULES[name]
    params, X, labels = _cached_problem(name)
    P, n = len(params), len(X)
    cases = [
        ("params too short", ALL, lambda p, X, y, K: dict(params=p[:-1]), "params"),
        ("params too long", ALL, lambda p, X, y, K: dict(params=p + (p[-1],)), "params"),
        ("params a dict", ALL, lambda p, X, y, K: dict(params=dict(enumerate(p))), "params"),
        ("params None", ALL, lambda p, X, y, K: dict(params=None), "params"),
        ("params one array", ALL, lambda p, X, y, K: dict(params=p[0]), "params"),
        # step and fit refuse these first, as arrays they cannot update in place
        ("params holding a string", ALL, lambda p, X, y, K: dict(params=("w",) + p[1:]), r"real|params\[0\]"),
        ("params complex", ALL, lambda p, X, y, K: dict(params=(p[0].astype(complex),) + p[1:]),
         r"real|params\[0\]"),
        ("params object", ALL, lambda p, X, y, K: dict(params=(p[0].astype(object),) + p[1:]), r"real|params\[0\]"),
        ("params int64 beyond 2**53", ALL,
         lambda p, X, y, K: dict(params=(_with(p[0].astype(np.int64), (0,) * p[0].ndim, 2**53 + 1),) + p[1:]),
         r"2\*\*53|params\[0\]"),
        ("params NaN", ALL, lambda p, X, y, K: dict(params=(_with(p[0], (0,) * p[0].ndim, np.nan),) + p[1:]),
         "finite"),
        ("params inf", ALL, lambda p, X, y, K: dict(params=p[:-1] + (_with(p[-1], 0, -np.inf),)), "finite"),
    ]
    for index in range(P):
        for axis in range(params[index].ndim):
            cases.append((f"params[{index}] grown along axis {axis}", ALL,
                          lambda p, X, y, K, i=index, ax=axis: dict(params=p[:i] + (_grown(p[i], ax),) + p[i + 1:]),
                          "shape"))
        cases.append((f"params[{index}] with an extra axis", ALL,
                      lambda p, X, y, K, i=index: dict(params=p[:i] + (p[i][None],) + p[i + 1:]), "shape"))
    cases += [
        ("X missing a column", ALL, lambda p, X, y, K: dict(X=X[:, :-1]), "X has shape"),
        ("X with an extra column", ALL, lambda p, X, y, K: dict(X=np.hstack([X, X[:, :1]])), "X has shape"),
        ("X 1-D row", ALL, lambda p, X, y, K: dict(X=X[0], y=y[:1]), "X has shape"),
        ("X 1-D flat", ALL, lambda p, X, y, K: dict(X=X.ravel()), "X has shape"),
        ("X 3-D", ALL, lambda p, X, y, K: dict(X=X[None]), "X has shape"),
        ("X scalar", ALL, lambda p, X, y, K: dict(X=1.0), "X has shape"),
        ("X empty", ALL, lambda p, X, y, K: dict(X=X[:0], y=y[:0]), "X has shape"),
        ("X None", ALL, lambda p, X, y, K: dict(X=None), "X must hold real numbers"),
        ("X NaN", ALL, lambda p, X, y, K: dict(X=_with(X, (5, 1), np.nan)), r"X\[5, 1\]"),
        ("X inf", ALL, lambda p, X, y, K: dict(X=_with(X, (7, 0), np.inf)), r"X\[7, 0\]"),
        ("X -inf", ALL, lambda p, X, y, K: dict(X=_with(X, (3, 2), -np.inf)), r"X\[3, 2\]"),
        ("X NaN and a huge value", ALL,
         lambda p, X, y, K: dict(X=_with(_with(X, (2, 0), 1e308), (9, 2), np.nan)), r"X\[9, 2\]"),
        ("X complex", ALL, lambda p, X, y, K: dict(X=X.astype(complex)), "X must hold real numbers"),
        ("X object", ALL, lambda p, X, y, K: dict(X=X.astype(object)), "X must hold real numbers"),
        ("X strings", ALL, lambda p, X, y, K: dict(X=X.astype(str)), "X must hold real numbers"),
        ("X int64 beyond 2**53", ALL, lambda p, X, y, K: dict(X=_with(X.astype(np.int64), (4, 1), 2**53 + 1)),
         "2\\*\\*53"),
        ("X int64 below -2**53", ALL, lambda p, X, y, K: dict(X=_with(X.astype(np.int64), (4, 1), -2**53 - 1)),
         "2\\*\\*53"),
        ("y too short", LABELLED, lambda p, X, y, K: dict(y=y[:-1]), "y has shape"),
        ("y too long", LABELLED, lambda p, X, y, K: dict(y=np.append(y, y[:1])), "y has shape"),
        ("y 2-D", LABELLED, lambda p, X, y, K: dict(y=y[:, None]), "y has shape"),
        ("y scalar", LABELLED, lambda p, X, y, K: dict(y=y[0]), "y has shape"),
        ("y None", LABELLED, lambda p, X, y, K: dict(y=None), "y must hold"),
        ("y NaN", LABELLED, lambda p, X, y, K: dict(y=_with(y, 4, np.nan, float)), r"y\[4\]|integer class"),
        ("y inf", LABELLED, lambda p, X, y, K: dict(y=_with(y, 4, np.inf, float)), r"y\[4\]|integer class"),
        ("y complex", LABELLED, lambda p, X, y, K: dict(y=y.astype(complex)), "y must hold"),
        ("y object", LABELLED, lambda p, X, y, K: dict(y=y.astype(object)), "y must hold"),
        ("y strings", LABELLED, lambda p, X, y, K: dict(y=y.astype(str)), "y must hold"),
        ("y int64 beyond 2**53", LABELLED, lambda p, X, y, K: dict(y=_with(y.astype(np.int64), 0, 2**53 + 1)),
         r"2\*\*53|y\[0\]"),
    ]
    for value in _bad_label_values(module.LABELS, _n_classes(module)):
        dtype = np.int64 if isinstance(value, int) else float   # class indices stay int64, 1.5 cannot
        cases.append((f"label {value}", LABELLED, lambda p, X, y, K, v=value, t=dtype: dict(y=_with(y, 2, v, t)),
                      r"y\[2\]|integer class"))
    for lr in (0, -0.1, np.nan, np.inf, "0.1", "fast", None, True, 1j):
        cases.append((f"lr {lr!r}", UPDATES, lambda p, X, y, K, lr=lr: dict(lr=lr), "lr"))
    for option, values in (("epochs", (0, -1, 1.5, "2", None)), ("batch_size", (0, n + 1, -1, 2.0, "1")),
                           ("seed", (-1, 2**32, 1.5, "0", None))):
        for value in values:
            cases.append((f"{option} {value!r}", ("fit",), lambda p, X, y, K, o=option, v=value: {o: v}, option))
    for what, change in (("read-only", _read_only), ("float32", lambda q: q.astype(np.float32)),
                         ("non-contiguous", _strided), ("int64", lambda q: np.round(q).astype(np.int64))):
        cases.append((f"params {what} (updated in place)", UPDATES,
                      lambda p, X, y, K, c=change: dict(params=(c(p[0]),) + p[1:]), "params\\[0\\]"))
    return [(name, case_id, functions, build, match) for case_id, functions, build, match in cases]


# Bugs reported to the lead, in the templates (which this file's author may not edit): strict, so a fix shows.
KNOWN_BUGS: dict[str, str] = {}  # case -> reason, for a bug found and not yet fixed (strict xfail)
BAD_INPUTS = [pytest.param(*case, id=f"{case[0]}-{case[1]}",
                           marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[case[1]])]
                           if case[1] in KNOWN_BUGS else [])
              for name in VALIDATED for case in _bad_inputs(name)]


def _call(module, function, params, X, y, lr=0.05, epochs=2, batch_size=4, seed=0):
    return {"predict": lambda: module.predict(params, X), "loss": lambda: module.loss(params, X, y),
            "loss_and_gradient": lambda: module.loss_and_gradient(params, X, y),
            "gradient": lambda: module.gradient(params, X, y), "step": lambda: module.step(params, X, y, lr),
            "fit": lambda: module.fit(params, X, y, lr, epochs=epochs, batch_size=batch_size, seed=seed)}[function]()


@pytest.mark.parametrize("name, case, functions, build, match", BAD_INPUTS)
def test_bad_input_raises_one_line_value_error(name, case, functions, build, match):
    module = MODULES[name]
    for function in functions:
        params, X, labels = _problem(name)
        arguments = dict(params=params, X=X, y=labels)
        arguments.update(build(params, X, labels, _n_classes(module)))
        given = arguments["params"]
        before = [np.array(p, copy=True) for p in given] if isinstance(given, tuple) else None
        with pytest.raises(ValueError) as raised:
            _call(module, function, **arguments)
        message = str(raised.value)
        assert message and "\n" not in message, f"{function}: not one line: {message!r}"
        assert re.search(match, message), f"{function}: {message!r} does not match {match!r}"
        if before is not None:
            for p, q in zip(given, before):
                np.testing.assert_array_equal(p, q, err_msg=f"{function} changed params it refused")


@pytest.mark.parametrize("name", VALIDATED)
def test_lossless_conversions_are_accepted(name):
    """Lists, float32, int32, non-contiguous arrays: converted where no value changes, with the same result."""
    module = MODULES[name]
    params, X, labels = _problem(name)
    params32 = tuple(p.astype(np.float32) for p in params)
    params64 = tuple(p.astype(np.float64) for p in params32)
    X32 = X.astype(np.float32)
    for given, X_given, X_exact in ((params32, X, X), (list(params32), X.tolist(), X),
                                    (params64, X32, X32.astype(np.float64)),
                                    (tuple(_strided(p) for p in params64), np.asfortranarray(X), X)):
        value, grads = module.loss_and_gradient(given, X_given, labels.tolist())
        exact = module.loss_and_gradient(params64, X_exact, labels)
        assert value == exact[0]
        _assert_params_close(grads, exact[1], 0.0, "converted input")
    assert module.loss(params, np.round(X * 4).astype(np.int32), labels) == \
        module.loss(params, np.round(X * 4).astype(np.float64), labels)


# ---------------------------------------------------------------- generated.load
@pytest.mark.parametrize("name", NAMES)
def test_load_by_name_and_by_parts(name):
    module = kernels.load(name)
    assert module is MODULES[name] and module.__name__ == f"derive.kernels.{name}"
    hidden = getattr(module, "HIDDEN", None)
    assert name == "_".join(part for part in (module.MODEL, hidden, module.ACTIVATION, module.LOSS) if part)
    assert kernels.load(model=module.MODEL, hidden=hidden, activation=module.ACTIVATION, loss=module.LOSS) is module


def test_load_defaults_to_the_neuron():
    assert kernels.load(activation="sigmoid", loss="bce") is MODULES["neuron_sigmoid_bce"]
    assert NAMES == sorted(NAMES) and all(not name.startswith("_") for name in NAMES)


@pytest.mark.parametrize("args, kwargs, match", [
    (("neuron_sigmoid_bc",), {}, "did you mean neuron_sigmoid_bce"),
    (("neuron_sigmod_bce",), {}, "did you mean neuron_sigmoid_bce"),
    (("mlp_tanh_softmax_crossentropy",), {}, "did you mean mlp_tanh_softmax_cross_entropy"),
    (("xyzzy",), {}, r"no generated module 'xyzzy'; see derive.kernels.available\(\)"),
    (("_validate",), {}, "no generated module '_validate'"),
    ((), {}, "needs a module name"),
    ((), {"activation": "sigmoid"}, "needs a module name"),
    ((), {"model": "mlp", "activation": "sigmoid", "loss": "bce"}, "no generated module 'mlp_sigmoid_bce'"),
    ((), {"activation": "relu", "loss": "bce"}, "no generated module 'neuron_relu_bce'"),
    (("neuron_sigmoid_bce",), {"activation": "tanh"}, "not both"),
])
def test_load_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match) as raised:
        kernels.load(*args, **kwargs)
    assert "\n" not in str(raised.value)


def test_load_rejects_a_name_that_is_not_a_string():
    with pytest.raises(ValueError):
        kernels.load(5)
