"""Every generated kernel module, with one output and (elementwise heads) with K = 3: against central finite
differences, an independent NumPy forward pass, and itself (step, fit, the shuffled order)."""
import math

import numpy as np
import pytest

import derive.kernels as kernels
from derive import verify
from derive.catalogue import ACTIVATIONS
from derive.kernels import _shuffle
from kernel_cases import (ELEMENTWISE, MODULES, NAMES, RELATIVE, assert_params_close, copy, init, outputs_of,
                          problem, relative)

# every module at its least K, and every elementwise head again at K = 3 (the neuron's dense path, the MLP's
# K-output layer)
CASES = [pytest.param(name, 1 if MODULES[name].SPAN == "elementwise" else None, id=name) for name in NAMES] + \
        [pytest.param(name, 3, id=f"{name}-K3") for name in ELEMENTWISE]
LEARNERS = ["neuron_sigmoid_bce", "neuron_identity_mse", "neuron_tanh_hinge", "neuron_softplus_poisson_nll",
            "softmax_softmax_cross_entropy", "mlp_tanh_sigmoid_bce", "mlp_relu_softmax_cross_entropy",
            "mlp_sigmoid_identity_mse"]


def _gradient_table(module, params, X, labels, step=verify.STEP, rows=6):
    """The worst coordinates: analytic and central-difference values, for a failure message."""
    _, grads = module.loss_and_gradient(params, X, labels)
    scale = max(max(float(np.max(np.abs(g))) for g in grads), 1e-8)
    lines = []
    for index, (p, g) in enumerate(zip(params, grads)):
        for position in np.ndindex(p.shape):
            shifted = copy(params)
            shifted[index][position] = p[position] + step
            up = module.loss(shifted, X, labels)
            shifted[index][position] = p[position] - step
            numeric = (up - module.loss(shifted, X, labels)) / (2 * step)
            error = abs(numeric - g[position]) / max(abs(g[position]), 1e-2 * scale)
            lines.append((error, f"params[{index}]{list(position)}: analytic {g[position]:+.12e}  "
                                 f"numeric {numeric:+.12e}  relative error {error:.2e}"))
    return "\n".join(line for _, line in sorted(lines, reverse=True)[:rows])


def test_the_checker_has_a_reference_for_every_span():
    from derive.catalogue.heads import SPANS
    assert set(verify.REFERENCES) == set(SPANS)


# ---------------------------------------------------------------- the gradient and the loss
@pytest.mark.parametrize("name, outputs", CASES)
def test_gradient_matches_central_differences(name, outputs):
    module = MODULES[name]
    params, X, labels = problem(name, outputs)
    assert np.shape(params[-1]) == (outputs_of(module, outputs),)
    error = verify.gradient_error(module, params, X, labels)
    assert error <= verify.TOLERANCE, \
        f"{name}: gradient error {error:.2e} > {verify.TOLERANCE}\n{_gradient_table(module, params, X, labels)}"


@pytest.mark.parametrize("name, outputs", CASES)
def test_loss_matches_reference(name, outputs):
    module = MODULES[name]
    params, X, labels = problem(name, outputs)
    value, reference = module.loss(params, X, labels), verify.reference_loss(module, params, X, labels)
    assert isinstance(value, float)
    assert abs(value - reference) <= 1e-9 * abs(reference), f"{name}: loss {value!r}, reference {reference!r}"


@pytest.mark.parametrize("n_features", [3, 33])  # up to NARROW, four rows at a time; beyond, one
@pytest.mark.parametrize("n_rows", [1, 7, 130])  # remainders of 4 rows, and more than one block
def test_neuron_passes_of_every_width_match_central_differences(n_features, n_rows):
    module = MODULES["neuron_sigmoid_bce"]
    assert kernels._tuning.NARROW == 32 and kernels._tuning.BLOCK < 130
    params, X, labels = verify.problem(module, seed=2, n_rows=n_rows, n_features=n_features)
    error = verify.gradient_error(module, params, X, labels)
    assert error <= verify.TOLERANCE, f"{n_rows} × {n_features}: gradient error {error:.2e}"
    reference = verify.reference_loss(module, params, X, labels)
    assert abs(module.loss_and_gradient(params, X, labels)[0] - reference) <= 1e-13 * max(1.0, abs(reference))


@pytest.mark.parametrize("n_rows", [1, 5, 8, 300])  # loops below BLAS_MIN rows, BLAS from it, two sub-batches
@pytest.mark.parametrize("name", ["softmax_softmax_cross_entropy", "neuron_identity_mse"])
def test_dense_blocks_of_every_size_match_central_differences_and_the_forward_pass(name, n_rows):
    module = MODULES[name]
    assert kernels._tuning.BLAS_MIN == 8 and kernels._tuning.ROWS < 300
    params, X, labels = verify.problem(module, seed=3, n_rows=n_rows, n_features=4, outputs=3)
    error = verify.gradient_error(module, params, X, labels)
    assert error <= verify.TOLERANCE, f"{n_rows} rows: gradient error {error:.2e}"
    assert abs(module.loss(params, X, labels) - verify.reference_loss(module, params, X, labels)) <= 1e-13
    np.testing.assert_allclose(module.predict(params, X), verify.forward(module, params, X)[1], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name, outputs", CASES)
def test_gradient_is_loss_and_gradient(name, outputs):
    module = MODULES[name]
    params, X, labels = problem(name, outputs)
    value, grads = module.loss_and_gradient(params, X, labels)
    alone = module.gradient(params, X, labels)
    assert isinstance(value, float) and abs(value - module.loss(params, X, labels)) <= RELATIVE * abs(value)
    assert isinstance(grads, tuple) and isinstance(alone, tuple) and len(grads) == len(alone) == len(params)
    for p, g, h in zip(params, grads, alone):
        assert g.shape == h.shape == p.shape and g.dtype == h.dtype == np.float64
        assert g.flags.c_contiguous and not np.shares_memory(g, p)
        np.testing.assert_array_equal(g, h)


@pytest.mark.parametrize("name, outputs", CASES)
def test_step_is_params_minus_lr_gradient(name, outputs):
    module = MODULES[name]
    params, X, labels = problem(name, outputs)
    lr = 0.05
    before, grads = module.loss(params, X, labels), module.gradient(params, X, labels)
    stepped = copy(params)
    returned = module.step(stepped, X, labels, lr)
    assert abs(returned - before) <= RELATIVE * abs(before), f"step returned {returned}, loss before {before}"
    assert_params_close(stepped, [p - lr * g for p, g in zip(params, grads)], 1e-14, "step")


# ---------------------------------------------------------------- fit
@pytest.mark.parametrize("name, outputs", CASES)
def test_full_batch_fit_is_repeated_steps(name, outputs):
    module = MODULES[name]
    params, X, labels = problem(name, outputs)
    lr, epochs = 0.05, 3
    stepped = copy(params)
    step_losses = [module.step(stepped, X, labels, lr) for _ in range(epochs)]
    fitted = copy(params)
    losses = module.fit(fitted, X, labels, lr, epochs=epochs, batch_size=len(X) + 5, seed=5)  # > N: full batch
    assert isinstance(losses, np.ndarray) and losses.shape == (epochs,) and losses.dtype == np.float64
    assert relative(losses, step_losses) <= RELATIVE, f"{losses} vs {step_losses}"
    assert_params_close(fitted, stepped, RELATIVE, "fit(batch_size=N) vs step")


@pytest.mark.parametrize("name, outputs", CASES)
def test_per_sample_fit_is_steps_in_the_shuffled_order(name, outputs):
    module = MODULES[name]
    params, X, labels = problem(name, outputs)
    lr, epochs, seed = 0.05, 2, 11
    fitted = copy(params)
    losses = module.fit(fitted, X, labels, lr, epochs=epochs, batch_size=1, seed=seed)
    stepped = copy(params)
    step_losses = [np.mean([module.step(stepped, X[i:i + 1], labels[i:i + 1], lr) for i in order])
                   for order in _shuffle.orders(seed, len(X), epochs)]
    assert relative(losses, step_losses) <= RELATIVE, f"{losses} vs {step_losses}"
    assert_params_close(fitted, stepped, RELATIVE, "fit(batch_size=1) vs per-sample steps")


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
    return out[:, 0]


@pytest.mark.parametrize("name", LEARNERS)
def test_per_sample_fit_learns_and_is_seeded(name):
    module = MODULES[name]
    rng = np.random.default_rng(7)
    X = rng.normal(0.0, 1.0, (128, 3))
    teacher = tuple(2.0 * p + rng.normal(0.0, 0.5, p.shape) for p in init(module, 3, seed=99))
    labels = _teacher_labels(module, teacher, X)
    start = init(module, 3, seed=1)
    fitted = copy(start)
    losses = module.fit(fitted, X, labels, 0.05, epochs=8, batch_size=1, seed=3)
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], f"per-epoch losses {losses}"
    final, initial, target = (module.loss(p, X, labels) for p in (fitted, start, teacher))
    # down to the teacher's loss (the minimum when the labels are its outputs), or at least halved
    assert final < initial and final <= 1.001 * max(target, initial / 2), \
        f"loss {initial} -> {final}; the teacher's is {target}; per-epoch losses {losses}"
    again = copy(start)
    np.testing.assert_array_equal(module.fit(again, X, labels, 0.05, epochs=8, batch_size=1, seed=3), losses)
    assert_params_close(again, fitted, 0.0, "the same seed")
    other = copy(start)
    module.fit(other, X, labels, 0.05, epochs=8, batch_size=1, seed=4)
    assert any(not np.array_equal(p, q) for p, q in zip(other, fitted)), "seeds 3 and 4 gave the same fit"


# ---------------------------------------------------------------- predict and init
def _range_check(out, output_range):
    low, high = float(output_range.inf), float(output_range.sup)
    slack = 1e-12  # the catalogue writes SiLU's and GELU's minima as decimals
    assert np.all(out > low if output_range.left_open else out >= low - slack), f"below {output_range}: {out.min()}"
    assert np.all(out < high if output_range.right_open else out <= high + slack), f"above {output_range}: {out.max()}"


@pytest.mark.parametrize("name, outputs", CASES)
def test_predict_matches_forward(name, outputs):
    module = MODULES[name]
    params, X, _ = problem(name, outputs)
    out = module.predict(params, X)
    _, reference = verify.forward(module, params, X)
    K = outputs_of(module, outputs)
    assert out.shape == ((len(X),) if K == 1 else (len(X), K)) and out.dtype == np.float64
    np.testing.assert_allclose(out, reference.reshape(out.shape), rtol=1e-12, atol=1e-14)
    _range_check(out, ACTIVATIONS[module.ACTIVATION].output_range)
    if module.SPAN == "softmax":
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-13)


def _expected_shapes(module, K):
    first = [(5,), (1,)] if module.LAYOUT["squeeze"] and K == 1 else [(5, K), (K,)]
    return [(5, 4), (4,), (4, 3), (3,), (3, K), (K,)] if module.LAYOUT["hidden"] else first


@pytest.mark.parametrize("name, outputs", CASES)
def test_init(name, outputs):
    module = MODULES[name]
    K = outputs_of(module, outputs)
    params = init(module, 5, seed=2, outputs=outputs)
    assert isinstance(params, tuple) and [p.shape for p in params] == _expected_shapes(module, K)
    assert all(p.dtype == np.float64 and p.flags.c_contiguous and p.flags.writeable for p in params)
    assert all(np.all(b == 0) for b in params[1::2]) and all(np.any(W != 0) for W in params[0::2])
    assert_params_close(init(module, 5, seed=2, outputs=outputs), params, 0.0, "init with one seed")
    assert not np.array_equal(init(module, 5, seed=3, outputs=outputs)[0], params[0])
    with pytest.raises(ValueError):
        init(module, 0, seed=0, outputs=outputs)
    with pytest.raises(ValueError):
        init(module, 5, seed=-1, outputs=outputs)
    if module.LAYOUT["hidden"]:
        assert [p.shape for p in module.init(5, 6, n_outputs=K)] == [(5, 6), (6,), (6, K), (K,)]
        with pytest.raises(ValueError):
            module.init(5, (), n_outputs=K)
    if module.SPAN == "softmax":
        with pytest.raises(ValueError, match=">= 2"):
            module.init(5, 4, n_outputs=1) if module.LAYOUT["hidden"] else module.init(5, 1)


# ---------------------------------------------------------------- load
@pytest.mark.parametrize("name", NAMES)
def test_load_by_name_and_by_parts(name):
    module = kernels.load(name)
    assert module is MODULES[name] and module.__name__ == f"derive.kernels.{name}"
    assert name == "_".join(part for part in (module.MODEL, module.HIDDEN, module.ACTIVATION, module.LOSS) if part)
    assert kernels.load(model=module.MODEL, hidden=module.HIDDEN, activation=module.ACTIVATION,
                        loss=module.LOSS) is module


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
    ((5,), {}, "not int"),
])
def test_load_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match) as raised:
        kernels.load(*args, **kwargs)
    assert "\n" not in str(raised.value)
