"""Every optimizer's trajectory equals torch.optim's (or, without PyTorch, the NumPy algorithms of
``optimizer_reference``) on the same mean loss, with and without weight decay, for the neuron (one output: the
fused loops; three: the dense ones), softmax regression and an MLP; and the kernels' update equals the
registry's equations evaluated by SymPy."""
import numpy as np
import pytest
import sympy as sp

import derive.kernels as kernels
from derive.catalogue.optimizers import OPTIMIZERS, alpha, d, g, t, theta
from derive.kernels import _optim, _shuffle, _training
from kernel_cases import assert_params_close, copy, problem
from optimizer_reference import CONFIGS, KINDS, reference

CASES = [("neuron_sigmoid_bce", 1), ("neuron_identity_mse", 3), ("softmax_softmax_cross_entropy", 3),
         ("mlp_tanh_softmax_cross_entropy", 3), ("mlp_relu_identity_mse", 2)]
TRAJECTORY = 1e-10   # a few updates, two implementations' rounding
LR = {"sgd": 0.1, "adam": 0.01, "adamw": 0.01, "rmsprop": 0.01}


def _id(config):
    name, options = config
    return name + "".join(f"-{k}={v}" for k, v in options.items())


def _options(config, decay):
    name, options = config
    return {**options, **({"weight_decay": decay} if decay is not None else {})}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("decay", [0.0, 0.1])
@pytest.mark.parametrize("config", CONFIGS, ids=_id)
@pytest.mark.parametrize("name, outputs", CASES)
def test_full_batch_steps_equal_torch_optim(name, outputs, config, decay, kind):
    """Four steps through ``step(state=...)``: against torch.optim, and against the NumPy algorithms always."""
    module = kernels.load(name)
    params, X, y = problem(name, outputs)
    options = _options(config, decay)
    ours, theirs = copy(params), reference(module, params, config[0], LR[config[0]], options, kind)
    state = kernels.State(ours, config[0], **options)
    for step in range(4):
        value = module.step(ours, X, y, LR[config[0]], state=state)
        expected = theirs.step(X, y)
        assert abs(value - expected) <= 1e-12 * abs(expected), f"step {step}: loss {value} vs {expected}"
        assert_params_close(ours, theirs.params, TRAJECTORY, f"{name} {_id(config)} λ={decay}, step {step + 1}")
    assert state.t == 4


@pytest.mark.parametrize("decay", [0.0, 0.1])
@pytest.mark.parametrize("config", CONFIGS, ids=_id)
@pytest.mark.parametrize("name, outputs", CASES)
def test_minibatch_fit_equals_torch_optim_in_the_shuffled_order(name, outputs, config, decay):
    """fit(batch_size=5) over 24 rows (a short last batch) for 2 epochs: the batches in the order the seed's
    stream gives (``_shuffle.orders``), each one torch.optim step; the epoch losses are the batches' mean."""
    module = kernels.load(name)
    params, X, y = problem(name, outputs)
    options, lr, batch = _options(config, decay), LR[config[0]], 5
    fitted = copy(params)
    history = module.fit(fitted, X, y, lr, epochs=2, batch_size=batch, seed=7, optimizer=config[0], **options)
    theirs, losses = reference(module, params, config[0], lr, options), []
    for order in _shuffle.orders(7, len(X), 2):
        total = sum(theirs.step(X[order[s:s + batch]], y[order[s:s + batch]]) * len(order[s:s + batch])
                    for s in range(0, len(X), batch))
        losses.append(total / len(X))
    np.testing.assert_allclose(history, losses, rtol=1e-11)
    assert_params_close(fitted, theirs.params, TRAJECTORY, f"{name} {_id(config)} λ={decay}")
    assert history.state.t == 2 * 5 and history.n_iter == 2 and history.converged is None


# ------------------------------------------------------------------- the kernels' update is the registry's maths
def _registry_step(entry, values, p, grad, slots, step, lr, decay):
    """One update of one parameter by the registry's rules, evaluated exactly by SymPy."""
    symbols = {s: sp.Float(v, 30) for s, v in zip((s for _, s in entry.hyper if s is not None),
                                                   [v for (n, s), v in zip(entry.hyper, _flat(entry, values))
                                                    if s is not None])}
    env = {**symbols, theta: sp.Float(p, 30), g: sp.Float(grad, 30), d: decay, t: step, alpha: sp.Float(lr, 30),
           **{slot.symbol: sp.Float(v, 30) for slot, v in zip(entry.slots, slots)}}
    for rule in entry.rules:
        if entry.holds(rule.when, values, step):
            env[rule.target] = rule.expr.xreplace(env).evalf(30)
    return float(env[theta]), [float(env[slot.symbol]) for slot in entry.slots]


def _flat(entry, values):
    out = []
    for option in entry.options:
        if option.kind == "pair":
            out += list(values[option.name])
        elif option.kind in ("number", "flag"):
            out.append(float(values[option.name]))
    return out


@pytest.mark.parametrize("config", CONFIGS + [("sgd", {"momentum": 0.9, "weight_decay": 0.3}),
                                             ("adam", {"weight_decay": 0.2}), ("adamw", {"weight_decay": 0.2}),
                                             ("rmsprop", {"weight_decay": 0.2, "momentum": 0.3})], ids=_id)
def test_the_compiled_update_is_the_registry_rules(config):
    name, options = config
    entry = OPTIMIZERS[name]
    rng = np.random.default_rng(3)
    params = (rng.normal(size=(3, 2)), rng.normal(size=2))
    state = kernels.State(params, name, **options)
    theta_now = np.concatenate([p.ravel() for p in params])
    for step in (1, 2, 3):
        grad = rng.normal(size=theta_now.size)
        expected = [_registry_step(entry, state.options, theta_now[i], 0.5 * grad[i], state.slots[:, i], step, 0.05,
                                   state.decay[i]) for i in range(theta_now.size)]
        penalty = _optim.update(theta_now, grad, 0.5, 0.05, state.kernel)
        np.testing.assert_allclose(theta_now, [e[0] for e in expected], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(state.slots.T, [e[1] for e in expected], rtol=1e-12, atol=1e-15)
        lam = state.options.get("weight_decay", 0.0) if entry.decay == "coupled" else 0.0
        before = np.concatenate([p.ravel() for p in params]) if step == 1 else None
        if before is not None:
            assert penalty == pytest.approx(0.5 * lam * np.sum(before[:6] ** 2), rel=1e-13)


def test_generated_update_names_its_registry_entries():
    text = (_optim.__file__ and open(_optim.__file__, encoding="utf-8").read())
    assert text.startswith("# Generated by `python -m derive generate` from the registry entries optimizer=sgd")
    assert _optim.OPTIMIZERS == __import__("derive.catalogue.optimizers", fromlist=["table"]).table()
    assert _training.State((np.zeros(2), np.zeros(1)), "rmsprop").slots.shape == (3, 3)
