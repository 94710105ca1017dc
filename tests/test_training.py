"""Training as practitioners do it: state in and state out (a fit continued equals one longer fit, shuffles
included), scikit-learn's early-stopping rule, one-line errors for options, and full-batch L-BFGS reaching
scikit-learn's LogisticRegression optimum (binary and multinomial) on the same objective."""
import numpy as np
import pytest

import derive.kernels as kernels
from kernel_cases import assert_params_close, copy, problem
from optimizer_reference import CONFIGS

CONTINUED = [("neuron_sigmoid_bce", 1, 1), ("neuron_sigmoid_bce", 1, 4), ("softmax_softmax_cross_entropy", 3, 4),
             ("mlp_tanh_softmax_cross_entropy", 3, 5)]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c[0] + "".join(f"-{k}" for k in c[1]))
@pytest.mark.parametrize("name, outputs, batch", CONTINUED)
def test_two_fits_of_three_epochs_are_one_fit_of_six(name, outputs, batch, config):
    module = kernels.load(name)
    params, X, y = problem(name, outputs)
    optimizer, options = config[0], {**config[1], "weight_decay": 0.05}
    once, twice = copy(params), copy(params)
    whole = module.fit(once, X, y, 0.01, epochs=6, batch_size=batch, seed=11, optimizer=optimizer, **options)
    first = module.fit(twice, X, y, 0.01, epochs=3, batch_size=batch, seed=11, optimizer=optimizer, **options)
    second = module.fit(twice, X, y, 0.01, epochs=3, batch_size=batch, state=first.state)
    np.testing.assert_allclose(np.concatenate([first, second]), whole, rtol=1e-12)
    assert_params_close(twice, once, 1e-12, f"{name}: 3 + 3 epochs vs 6")
    assert second.state is first.state and first.state.t == whole.state.t


def test_a_loop_of_one_epoch_fits_shuffles_anew_each_epoch():
    """The loop people write by hand: with the state passed back, each call is the next epoch of one fit."""
    module = kernels.load("neuron_sigmoid_bce")
    params, X, y = problem("neuron_sigmoid_bce")
    looped, whole = copy(params), copy(params)
    state = kernels.State(looped, "sgd", seed=2)
    losses = [module.fit(looped, X, y, 0.05, epochs=1, state=state)[0] for _ in range(5)]
    np.testing.assert_allclose(losses, module.fit(whole, X, y, 0.05, epochs=5, seed=2), rtol=1e-12)
    assert_params_close(looped, whole, 1e-12, "five one-epoch fits vs one of five")


def _stopped_at(losses, tol, patience):
    """scikit-learn's rule (sklearn/linear_model/_sgd_fast.pyx), written again: the epochs it runs."""
    best, count = np.inf, 0
    for epoch, loss in enumerate(losses):
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count >= patience:
            return epoch + 1
    return len(losses)


@pytest.mark.parametrize("name, outputs, batch", [("neuron_sigmoid_bce", 1, 1), ("neuron_sigmoid_bce", 1, 8),
                                                  ("mlp_tanh_softmax_cross_entropy", 3, 8)])
def test_early_stopping_is_scikit_learns_rule(name, outputs, batch):
    module = kernels.load(name)
    params, X, y = problem(name, outputs)
    full = module.fit(copy(params), X, y, 0.05, epochs=60, batch_size=batch, seed=1)
    tol, patience = 2e-3, 3
    expected = _stopped_at(full, tol, patience)
    assert 3 < expected < 60, "the problem should stop part-way"
    stopped = module.fit(copy(params), X, y, 0.05, epochs=60, batch_size=batch, seed=1, tol=tol,
                         n_iter_no_change=patience)
    np.testing.assert_array_equal(stopped, full[:expected])
    assert stopped.n_iter == expected and stopped.converged is True
    never = module.fit(copy(params), X, y, 0.05, epochs=4, batch_size=batch, seed=1, tol=0.0, n_iter_no_change=50)
    assert never.n_iter == 4 and never.converged is False


@pytest.mark.parametrize("call, match", [
    (dict(optimizer="adam", momentum=0.9), r"adam takes no option 'momentum' \(momentum belongs to sgd, rmsprop\); "
                                           r"its options: betas, eps, weight_decay, amsgrad"),
    (dict(optimizer="sgd", lookahead=2), r"sgd takes no option 'lookahead'; its options: momentum, dampening, "
                                         r"weight_decay, nesterov"),
    (dict(optimizer="sgd", alpha=0.9), r"alpha belongs to rmsprop"),
    (dict(optimizer="nadam"), r"unknown optimizer 'nadam'; choose one of sgd, adam, adamw, rmsprop, lbfgs"),
    (dict(optimizer="sgd", nesterov=True), r"Nesterov momentum requires a momentum and zero dampening"),
    (dict(optimizer="adam", betas=(1.0, 0.9)), r"betas\[0\] must be >= 0 and < 1, not 1.0"),
    (dict(optimizer="adam", betas=0.9), r"betas must be a pair of numbers"),
    (dict(optimizer="rmsprop", eps=-1e-8), r"eps must be >= 0, not -1e-08"),
    (dict(optimizer="sgd", weight_decay="0.1"), r"weight_decay must be a finite number"),
    (dict(optimizer="adam", amsgrad=1), r"amsgrad must be True or False"),
    (dict(optimizer="lbfgs", max_iter=0), r"max_iter must be a whole number >= 1"),
    (dict(optimizer="lbfgs"), r"lbfgs is full batch, with a line search: drop lr, epochs and batch_size"),
    (dict(tol=-1.0), r"tol must be a finite number >= 0"),
])
def test_bad_options_are_one_line_errors_naming_the_valid_ones(call, match):
    module = kernels.load("neuron_sigmoid_bce")
    params, X, y = problem("neuron_sigmoid_bce")
    with pytest.raises(ValueError, match=match) as error:
        module.fit(params, X, y, 0.1, **call)
    assert "\n" not in str(error.value)


def test_a_state_holds_its_options_and_must_fit_the_params():
    module = kernels.load("neuron_sigmoid_bce")
    params, X, y = problem("neuron_sigmoid_bce")
    state = module.fit(params, X, y, 0.1, optimizer="adam").state
    for call, match in [(dict(optimizer="sgd"), "state is a adam state; drop optimizer='sgd'"),
                        (dict(betas=(0.5, 0.5)), "the state holds its options and its shuffle stream; drop betas"),
                        (dict(seed=3), "drop seed")]:
        with pytest.raises(ValueError, match=match):
            module.fit(params, X, y, 0.1, state=state, **call)
    with pytest.raises(ValueError, match="this state was made for 4 parameters; these params have 5"):
        module.step((np.zeros(4), np.zeros(1)), np.zeros((2, 4)), np.zeros(2), 0.1, state=state)
    with pytest.raises(ValueError, match="lbfgs is a full-batch optimizer: use fit"):
        module.step(params, X, y, 0.1, optimizer="lbfgs")


def test_a_diverged_fit_leaves_params_and_state_as_they_were():
    module = kernels.load("mlp_relu_identity_mse")
    params, X, y = problem("mlp_relu_identity_mse")
    history = module.fit(params, X, y, 1e-3, epochs=2, batch_size=4, optimizer="sgd", momentum=0.9)
    before, saved = copy(params), (history.state.t, history.state.slots.copy(), history.state.order.copy())
    with pytest.raises(ValueError, match="training diverged"):
        module.fit(params, X * 1e150, y, 1e3, epochs=3, batch_size=4, state=history.state)
    assert_params_close(params, before, 0.0, "after a diverged fit")
    state = history.state
    assert state.t == saved[0] and np.array_equal(state.slots, saved[1]) and np.array_equal(state.order, saved[2])


# ------------------------------------------------------------------------------------------------------- L-BFGS
def _standardised(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


@pytest.mark.parametrize("dataset, name, C", [("load_breast_cancer", "neuron_sigmoid_bce", 0.5),
                                              ("load_wine", "softmax_softmax_cross_entropy", 0.5),
                                              ("load_digits", "softmax_softmax_cross_entropy", 0.1)])
def test_lbfgs_reaches_logistic_regressions_optimum(dataset, name, C):
    """LogisticRegression(C) minimises mean log-loss + ‖W‖²/(2·C·N), intercepts free: weight_decay = 1/(C·N).
    Both stop where scipy's relative reduction of J reaches 64·eps, so the coefficients agree to what that
    leaves (about |∇J| / λ): 1e-6 relative on these, digits at C = 0.1 (at 0.5 its curvature is too flat)."""
    datasets = pytest.importorskip("sklearn.datasets")
    from sklearn.linear_model import LogisticRegression
    X, y = getattr(datasets, dataset)(return_X_y=True)
    X = _standardised(X[:, X.std(axis=0) > 0])
    tol = 1e-10
    theirs = LogisticRegression(C=C, tol=tol, max_iter=10_000).fit(X, y)
    module = kernels.load(name)
    classes = len(np.unique(y))
    params = tuple(np.zeros_like(p) for p in module.init(X.shape[1], n_outputs=1 if classes == 2 else classes))
    history = module.fit(params, X, y, optimizer="lbfgs", weight_decay=1 / (C * len(X)), tol=tol, max_iter=10_000)
    W, b = params
    coef, intercept = (W[None, :], b) if classes == 2 else (W.T, b - b.mean())
    their_intercept = theirs.intercept_ if classes == 2 else theirs.intercept_ - theirs.intercept_.mean()
    assert np.max(np.abs(coef - theirs.coef_)) <= 1e-6 * np.max(np.abs(theirs.coef_))
    assert np.max(np.abs(intercept - their_intercept)) <= 1e-6 * max(1.0, np.max(np.abs(their_intercept)))
    assert history.converged and history.grad_norm <= 1e-6 and history.n_iter == history.state.t
    assert len(history) == history.n_iter + 1 and np.all(np.diff(history) <= 1e-12)
    assert abs(history.n_iter - int(np.max(theirs.n_iter_))) <= max(3, 0.1 * history.n_iter)


def test_lbfgs_trains_an_mlp_and_reports_when_it_ran_out():
    module = kernels.load("mlp_tanh_softmax_cross_entropy")
    params, X, y = problem("mlp_tanh_softmax_cross_entropy", 3)
    start = module.loss(params, X, y) + 0.5e-2 * sum(np.sum(W**2) for W in params[0::2])
    short = module.fit(copy(params), X, y, optimizer="lbfgs", max_iter=3)
    assert short.n_iter == 3 and short.converged is False and "LIMIT" in short.message
    history = module.fit(params, X, y, optimizer="lbfgs", weight_decay=1e-2, tol=1e-6, max_iter=5000)
    assert history.converged and history[0] == pytest.approx(start, rel=1e-12)
    assert history[-1] < 0.5 * history[0] and history.grad_norm <= 1e-6
