"""Weight decay and optimizers in the derivation: the derived gradient of L + (λ/2)·Σ w² equals the kernels'
gradient plus λ·W; the worked first step and the trace of every optimizer equal the kernels' own steps (which
test_optimizers.py holds equal to torch.optim); and the text says what the issue asks of it."""
import numpy as np
import pytest

import derive
import derive.kernels as kernels
from derive.catalogue.optimizers import OPTIMIZERS
from derive.cli import main
from derive.derivations.example import At

POINTS = {   # (activation, loss, model, --at values, kernel module)
    "neuron": ("sigmoid", "bce", "neuron", {"w": [0.5, -0.3], "b": 0.1, "x": [2.0, 1.0], "y": 1, "lr": 0.1},
               "neuron_sigmoid_bce"),
    "softmax": ("softmax", "cross_entropy", "softmax",
                {"W": [[0.2, -0.1, 0.3], [0.4, 0.1, -0.2]], "b": [0.0, 0.1, -0.1], "x": [1.0, -2.0], "y": 2,
                 "lr": 0.05}, "softmax_softmax_cross_entropy"),
    "mlp": ("sigmoid", "bce", "mlp", {"W1": [[0.15, 0.25], [0.2, 0.3]], "b1": [0.35, 0.35], "W2": [[0.4], [0.45]],
                                      "b2": [0.6], "x": [0.05, 0.1], "y": 1, "lr": 0.5}, "mlp_tanh_sigmoid_bce"),
}
CONFIGS = [("sgd", {}), ("sgd", {"momentum": 0.9, "nesterov": True}), ("adam", {}), ("adam", {"amsgrad": True}),
           ("adamw", {}), ("rmsprop", {"centered": True, "momentum": 0.5})]


def _kernel_problem(model, values):
    """The --at point as the kernels' params and a batch of one sample."""
    names = ["w", "b"] if model == "neuron" else ["W", "b"] if model == "softmax" else ["W1", "b1", "W2", "b2"]
    params = tuple(np.array(values[n], dtype=float).reshape(-1) if n == "b" else np.array(values[n], dtype=float)
                   for n in names)
    X = np.array([values["x"]], dtype=float)
    y = np.array([values["y"]], dtype=np.int64 if model == "softmax" else float)
    return params, X, y


def _derivation(model, optimizer=None, options=None, weight_decay=None, steps=0):
    activation, loss, model_name, values, module = POINTS[model]
    return derive.derivation(activation, loss, model_name, hidden="tanh" if model == "mlp" else None,
                             outputs=3 if model == "softmax" else None, weight_decay=weight_decay,
                             optimizer=optimizer, optimizer_options=options,
                             example=At(values, digits=6, steps=steps)), kernels.load(module)


@pytest.mark.parametrize("model", POINTS)
def test_the_penalised_gradient_is_the_kernels_gradient_plus_lambda_w(model):
    d, module = _derivation(model, weight_decay=0.2)
    params, X, y = _kernel_problem(model, POINTS[model][3])
    _, grads = module.loss_and_gradient(params, X, y)
    ours = [d.example.first.gradients[p] for p in (["w", "b"] if model == "neuron" else ["W", "b"] if model ==
                                                   "softmax" else ["W1", "b1", "W2", "b2"])]
    for index, (mine, theirs, p) in enumerate(zip(ours, grads, params)):
        expected = theirs + (0.2 * p if index % 2 == 0 else 0.0)   # weights decay, biases do not
        np.testing.assert_allclose(np.reshape(mine, np.shape(expected)), expected, rtol=1e-12, atol=1e-15)
    text = d.render()
    assert "∂R/∂" in text and "holds every other weight constant" in text and "R = (λ/2)·" in text
    assert "pulls every weight toward 0 in proportion to its size" in text and "(1 − α·λ)" in text


@pytest.mark.parametrize("decay", [None, 0.1])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c[0] + "".join(f"-{k}" for k in c[1]))
@pytest.mark.parametrize("model", POINTS)
def test_the_worked_steps_are_the_kernels_steps(model, config, decay):
    """--at with --steps 3: the trace's parameters after each step equal three kernel steps on the one sample."""
    optimizer, options = config
    d, module = _derivation(model, optimizer, options, decay, steps=3)
    params, X, y = _kernel_problem(model, POINTS[model][3])
    state = kernels.State(params, optimizer, **options, **({"weight_decay": decay} if decay else {}))
    lr = POINTS[model][3]["lr"]
    for after in d.example.parameters_after:
        module.step(params, X, y, lr, state=state)
        for mine, theirs in zip(after.values(), params):
            np.testing.assert_allclose(np.reshape(mine, np.shape(theirs)), theirs, rtol=1e-11, atol=1e-14)
    title = OPTIMIZERS[optimizer].title
    text = d.render()
    if optimizer != "sgd" or options:   # plain SGD keeps the plain update rule
        assert f"Update rule: {title} ({OPTIMIZERS[optimizer].torch})" in text
        assert f"Worked example: the first {title} step" in text
    flat = " ".join(text.split())
    for slot in OPTIMIZERS[optimizer].slots:   # a sentence on each state variable the rules use
        if any(slot.symbol == r.target for r in _rules(optimizer, options)):
            assert slot.meaning[:40] in flat, slot.symbol


def _rules(optimizer, options):
    from derive.catalogue.optimizers import training
    return training(optimizer, options).rules()


def test_adams_notes_say_what_its_state_does():
    text = " ".join(derive.derivation("sigmoid", "bce", optimizer="adam").render().split())
    for phrase in ("keeps the direction through noisy batches", "a per-weight step size from the gradient's recent "
                   "scale", "Bias correction", "the first steps would be too small"):
        assert phrase in text, phrase
    assert "θ ← θ − α·m̂/(√v̂ + ε)" in text and "m̂ = m/(1 − β₁^t)" in text


def test_lbfgs_shows_its_first_direction_and_refuses_a_trace():
    d, _ = _derivation("neuron", "lbfgs", weight_decay=0.1)
    rows = [s for s in d.steps if type(s).__name__ == "Table"][-1].rows
    assert [r[3] for r in rows] == [-r[2] for r in rows]
    assert main(["show", "--activation", "sigmoid", "--loss", "bce", "--optimizer", "lbfgs", "--at",
                 "w=0.5,b=0,x=2,y=1,lr=0.1", "--steps", "2"]) == 2


@pytest.mark.parametrize("argv, message", [
    (["--optimizer", "adam", "--momentum", "0.9"], "adam takes no option 'momentum'"),
    (["--optimizer", "sgd", "--nesterov"], "Nesterov momentum requires a momentum and zero dampening"),
    (["--optimizer", "nadam"], "unknown optimizer 'nadam'"),
    (["--betas", "0.9"], "--betas takes two numbers"),
])
def test_cli_refuses_options_that_do_not_belong_in_one_line(capsys, argv, message):
    assert main(["show", "--activation", "sigmoid", "--loss", "bce", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize("fmt", ["latex", "markdown", "json", "html"])
def test_every_format_renders_an_optimizer_with_weight_decay(fmt):
    d, _ = _derivation("mlp", "adam", {"amsgrad": True}, 0.01, steps=2)
    out = d.render(fmt)
    assert ("Adam" in out) and len(out) > 1000
