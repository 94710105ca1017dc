"""The derivation engine against SymPy: every shown step, every declared textbook form, every final gradient."""
import math
import random

import numpy as np
import pytest
import sympy as sp

import derive
from derive.catalogue import ACTIVATIONS, LOSSES, valid_pairs
from derive.models import MODELS
from derive.catalogue.functions import expand_named, sigmoid
from derive.catalogue.symbols import W_jk, a, b, b_k, p_k, w_j, x_j, y, y_k, z
from derive.errors import BadValue, DeriveError, InvalidPair, UnknownName
from derive.notation import Hadamard, MatProduct, Partial, Times, Transposed
from derive.rules import differentiate
from derive.sampling import head_points
from derive.steps import Equation, LocalDerivative

SCALAR_ACTIVATIONS = sorted(n for n, e in ACTIVATIONS.items() if not e.vector)
SCALAR_LOSSES = sorted(n for n, e in LOSSES.items() if not e.vector)
NEURON_PAIRS = valid_pairs(MODELS["neuron"])
ANY_LOSS = LOSSES["mse"]


def close_at_points(lhs, rhs, points):
    f = sp.lambdify(sorted(lhs.free_symbols | rhs.free_symbols, key=str), expand_named(lhs - rhs), "math")
    names = sorted(lhs.free_symbols | rhs.free_symbols, key=str)
    for point in points:
        difference = f(*[point[s] for s in names])
        assert abs(difference) < 1e-9, (lhs, rhs, point, difference)


def every_node(tree):
    return list(tree.walk())


@pytest.mark.parametrize("name", SCALAR_ACTIVATIONS)
def test_every_activation_step_equals_sympy_diff(name):
    entry = ACTIVATIONS[name]
    points = head_points(entry, ANY_LOSS)
    for node in every_node(differentiate(entry.expr, z)):
        truth = sp.diff(node.expr, node.var)
        assert sp.simplify(expand_named(node.result - truth)) == 0, (node.rule, node.expr)
        close_at_points(node.result, truth, points)


@pytest.mark.parametrize("name", SCALAR_LOSSES)
def test_every_loss_step_equals_sympy_diff(name):
    entry = LOSSES[name]
    fitting = next(ACTIVATIONS[act] for act, loss in NEURON_PAIRS if loss == name)
    points = head_points(fitting, entry)
    for node in every_node(differentiate(entry.expr, a)):
        truth = sp.diff(node.expr, node.var)
        assert sp.simplify(node.result - truth) == 0, (node.rule, node.expr)
        close_at_points(node.result, truth, points)


@pytest.mark.parametrize("name", SCALAR_ACTIVATIONS)
def test_declared_activation_derivative_is_the_derivative(name):
    """The textbook form an entry declares, or (none declared, as for mish) the one the derivation shows."""
    entry = ACTIVATIONS[name]
    shown = entry.derivative if entry.derivative is not None else \
        derive.derivation(name, "mse").pieces["activation_derivative"]
    declared = expand_named(shown.subs(a, entry.expr))
    truth = sp.diff(expand_named(entry.expr), z)
    assert sp.simplify(declared - truth) == 0
    close_at_points(declared, truth, head_points(entry, ANY_LOSS))


@pytest.mark.parametrize("name", SCALAR_LOSSES)
def test_declared_loss_derivative_is_the_derivative(name):
    entry = LOSSES[name]
    assert sp.simplify(entry.derivative - sp.diff(entry.expr, a)) == 0


def _gradient_by_sympy(activation, loss, features=3, seed=0):
    """d/dw_2 and d/db of L(f(Σ w_i x_i + b), y), and points off every kink."""
    ws = sp.symbols(f"w1:{features + 1}", real=True)
    xs = sp.symbols(f"x1:{features + 1}", real=True)
    pre = sum(wi * xi for wi, xi in zip(ws, xs)) + b
    composed = expand_named(LOSSES[loss].expr.subs(a, ACTIVATIONS[activation].expr.subs(z, pre)))
    points = []
    for base in head_points(ACTIVATIONS[activation], LOSSES[loss], count=8, seed=seed):
        rng = random.Random(hash((activation, loss, len(points))))
        values = {s: rng.uniform(-1, 1) for s in (*ws[1:], *xs)}
        values[b] = base[z] - sum(values[w] * values[x] for w, x in zip(ws[1:], xs[1:]))
        values[ws[0]] = 0.0
        values[y] = base[y]
        points.append((values, base))
    return ws, xs, composed, points


@pytest.mark.parametrize("activation,loss", NEURON_PAIRS, ids=[f"{a_}-{l_}" for a_, l_ in NEURON_PAIRS])
def test_neuron_gradient_equals_derivative_of_composed_loss(activation, loss):
    d = derive.derivation(activation, loss)
    ws, xs, composed, points = _gradient_by_sympy(activation, loss)
    for parameter, truth_symbol, x_value in ((w_j, ws[1], xs[1]), (b, b, None)):
        truth = sp.lambdify(sorted(composed.free_symbols, key=str), sp.diff(composed, truth_symbol), "math")
        shown = sp.lambdify((a, y, z, x_j), expand_named(d.gradients[parameter]), "math")
        for values, base in points:
            expected = truth(*[values[s] for s in sorted(composed.free_symbols, key=str)])
            got = shown(base[a], base[y], base[z], values[x_value] if x_value is not None else 0.0)
            assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12), (parameter, values, got, expected)


def test_softmax_gradient_equals_derivative_of_composed_loss():
    d = derive.derivation("softmax", "cross_entropy", model="softmax")
    K, D = 3, 2
    W = sp.Matrix(D, K, lambda j, k: sp.Symbol(f"W{j}{k}", real=True))
    bs = sp.symbols(f"b0:{K}", real=True)
    xs = sp.symbols(f"x0:{D}", real=True)
    logits = [sum(W[j, k] * xs[j] for j in range(D)) + bs[k] for k in range(K)]
    rng = np.random.default_rng(0)
    for trial in range(4):
        true_class = trial % K
        loss = -sp.log(sp.exp(logits[true_class]) / sum(sp.exp(t) for t in logits))
        values = {s: float(rng.normal()) for s in (*W, *bs, *xs)}
        zs = [float(t.subs(values)) for t in logits]
        probabilities = np.exp(zs) / np.sum(np.exp(zs))
        for j in range(D):
            for k in range(K):
                truth = float(sp.diff(loss, W[j, k]).subs(values))
                shown = float(d.gradients[W_jk].subs({p_k: probabilities[k], y_k: float(k == true_class),
                                                      x_j: values[xs[j]]}))
                assert math.isclose(shown, truth, rel_tol=1e-9, abs_tol=1e-12)
        for k in range(K):
            truth = float(sp.diff(loss, bs[k]).subs(values))
            shown = float(d.gradients[b_k].subs({p_k: probabilities[k], y_k: float(k == true_class)}))
            assert math.isclose(shown, truth, rel_tol=1e-9, abs_tol=1e-12)


def _backprop_check(hidden, activation, loss, layers, seed=0):
    """The MLP derivation's pieces (δ⁽ᴸ⁾ = ∂L/∂z, g') in a NumPy backprop, against sympy.diff of the network."""
    d = derive.derivation(activation, loss, model="mlp", hidden=hidden, layers=layers)
    widths = [2] + [2] * layers + [1]
    weights = [sp.Matrix(n_in, n_out, lambda i, o, l=l: sp.Symbol(f"W{l}_{i}{o}", real=True))
               for l, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:]))]
    biases = [sp.Matrix(1, n_out, lambda _, o, l=l: sp.Symbol(f"b{l}_{o}", real=True))
              for l, n_out in enumerate(widths[1:])]
    xs = sp.Matrix(1, 2, sp.symbols("x0:2", real=True))
    g, f = ACTIVATIONS[hidden].expr, ACTIVATIONS[activation].expr
    A = xs
    for W, bias in zip(weights[:-1], biases[:-1]):
        A = (A * W + bias).applyfunc(lambda t: g.subs(z, t))
    network = expand_named(LOSSES[loss].expr.subs(a, f.subs(z, (A * weights[-1] + biases[-1])[0])))
    g_num = sp.lambdify(z, expand_named(g), "math")
    gprime = sp.lambdify((z, a), expand_named(d.pieces["hidden_derivative"]), "math")
    delta_out = sp.lambdify((z, a, y), expand_named(d.pieces["dL_dz"]), "math")
    f_num = sp.lambdify(z, expand_named(f), "math")
    rng = np.random.default_rng(seed)
    parameters = [s for M in (*weights, *biases) for s in M]
    names = sorted(network.free_symbols, key=str)
    derivatives = {s: sp.lambdify(names, sp.diff(network, s), "math") for s in parameters}
    for _ in range(3):
        values = {s: float(rng.normal()) for s in (*parameters, *xs)}
        label = next(iter(head_points(ACTIVATIONS[activation], LOSSES[loss], count=1, seed=int(rng.integers(99)))))[y]
        values[y] = label
        Wn = [np.array(W.subs(values), dtype=float) for W in weights]
        bn = [np.array(bias.subs(values), dtype=float)[0] for bias in biases]
        acts, pres = [np.array([values[s] for s in xs])], []
        for l in range(len(Wn)):
            pres.append(acts[-1] @ Wn[l] + bn[l])
            acts.append(np.vectorize(g_num if l < len(Wn) - 1 else f_num, otypes=[float])(pres[-1]))
        delta = np.array([delta_out(pres[-1][0], acts[-1][0], label)])
        grads = {}
        for l in range(len(Wn) - 1, -1, -1):
            grads[l] = (np.outer(acts[l], delta), delta)
            if l:
                delta = (Wn[l] @ delta) * np.vectorize(gprime, otypes=[float])(pres[l - 1], acts[l])
        point = [values[s] for s in names]
        for l, W in enumerate(weights):
            for (i, o), symbol in np.ndenumerate(np.array(W, dtype=object)):
                truth = derivatives[symbol](*point)
                assert math.isclose(grads[l][0][i, o], truth, rel_tol=1e-8, abs_tol=1e-10), (hidden, l, i, o)
        for l, bias in enumerate(biases):
            for o, symbol in enumerate(bias):
                truth = derivatives[symbol](*point)
                assert math.isclose(grads[l][1][o], truth, rel_tol=1e-8, abs_tol=1e-10), (hidden, l, o)


@pytest.mark.parametrize("hidden", SCALAR_ACTIVATIONS)
def test_mlp_backprop_for_every_hidden_activation(hidden):
    _backprop_check(hidden, "sigmoid", "bce", layers=1)


def test_mlp_backprop_through_two_hidden_layers():
    _backprop_check("tanh", "identity", "mse", layers=2)


@pytest.mark.parametrize("activation,loss", [("identity", "mse"), ("tanh", "log_cosh"), ("softplus", "poisson_nll"),
                                             ("sigmoid", "mse"), ("gelu", "huber")])
def test_mlp_backprop_for_several_heads(activation, loss):
    _backprop_check("tanh", activation, loss, layers=1)


def _final(d, parameter):
    return [s for s in d.steps if isinstance(s, Equation) and s.lhs == Partial(sp.Symbol("L", real=True), parameter)][-1]


def test_textbook_forms():
    a_minus_y = a - y
    assert _final(derive.derivation("sigmoid", "bce"), w_j).rhs[-1] == Times(a_minus_y, x_j)
    assert _final(derive.derivation("identity", "mse"), w_j).rhs[-1] == Times(2, a_minus_y, x_j)
    assert _final(derive.derivation("tanh", "mse"), w_j).rhs[-1] == Times(2, a_minus_y, 1 - a**2, x_j)
    assert _final(derive.derivation("softmax", "cross_entropy", model="softmax"), W_jk).rhs[-1] == \
        Times(p_k - y_k, x_j)
    local = {s.lhs: s.textbook for s in derive.derivation("sigmoid", "bce").steps if isinstance(s, LocalDerivative)}
    assert local[Partial(a, z)] == a * (1 - a)
    assert local[Partial(sp.Symbol("L", real=True), a)] == (a - y) / (a * (1 - a))
    assert {s.lhs: s.textbook for s in derive.derivation("tanh", "mse").steps
            if isinstance(s, LocalDerivative)}[Partial(a, z)] == 1 - a**2
    assert {s.lhs: s.textbook for s in derive.derivation("softplus", "mse").steps
            if isinstance(s, LocalDerivative)}[Partial(a, z)] == sigmoid(z)


def test_mlp_shows_the_delta_recursion():
    d = derive.derivation("sigmoid", "bce", model="mlp", hidden="tanh")
    delta = lambda l: sp.Symbol(f"delta^({l})", real=True)
    recursion = [s for s in d.steps if type(s) is Equation and s.lhs == delta("l")][0]
    assert recursion.rhs[0] == Hadamard(MatProduct(Transposed(sp.Symbol("W^(l+1)", real=True)), delta("l+1")),
                                        recursion.rhs[0].args[1])
    assert recursion.rhs[1].args[1] == 1 - sp.Symbol("a^(l)", real=True)**2
    weight_grad = [s for s in d.steps if isinstance(s, Equation)
                   and s.lhs == Partial(sp.Symbol("L", real=True), sp.Symbol("W^(1)", real=True))][0]
    assert weight_grad.rhs[0] == MatProduct(delta(1), Transposed(sp.Symbol("a^(0)", real=True)))


def test_invalid_pair_says_why():
    with pytest.raises(InvalidPair, match="relu cannot feed bce because its output can be 0"):
        derive.derivation("relu", "bce")
    with pytest.raises(InvalidPair, match="model neuron takes an elementwise head, not softmax, whose head is softmax; activations that fit: elu"):
        derive.derivation("softmax", "mse")
    with pytest.raises(InvalidPair, match="pair softmax with cross_entropy"):
        derive.derivation("softmax", "mse", model="mlp")
    with pytest.raises(InvalidPair, match="model softmax takes a softmax head, not sigmoid, whose head is "
                                          "elementwise; activations that fit: softmax"):
        derive.derivation("sigmoid", "bce", model="softmax")


def test_unknown_names_suggest_the_nearest():
    with pytest.raises(UnknownName, match="did you mean 'sigmoid'"):
        derive.derivation("sigmoidd", "bce")
    with pytest.raises(UnknownName, match="did you mean 'huber'"):
        derive.derivation("identity", "hubber")


def test_custom_expression_derivation():
    d = derive.derivation(activation_expr="z/(1+Abs(z))", loss="mse")
    truth = sp.diff((z / (1 + sp.Abs(z)) - y)**2, z)
    shown = d.gradients[b].subs(a, z / (1 + sp.Abs(z)))
    close_at_points(shown, truth, [{z: v, y: 0.3} for v in (-2.0, -0.5, 0.7, 3.0)])


def test_worked_example_numbers():
    d = derive.derivation("sigmoid", "bce", example={"w": 0.5, "b": 0, "x": 2, "y": 1, "lr": 0.1})
    updates = [s for s in d.steps if type(s).__name__ == "Update" and s.values]
    a_value = 1 / (1 + math.exp(-1.0))
    assert math.isclose(float(updates[0].values[-1]), 0.5 - 0.1 * (a_value - 1) * 2, rel_tol=1e-3)
    assert math.isclose(float(updates[1].values[-1]), 0.0 - 0.1 * (a_value - 1), rel_tol=1e-3)


@pytest.mark.parametrize("example,message", [
    ({"w": [1, 2], "b": 0, "x": [1], "y": 1}, r"w has shape \(2,\) but needs \(1,\)"),
    ({"w": 1, "b": 0, "x": 1, "y": 2}, "not a label bce takes"),
    ({"w": 1, "b": 0, "x": 1}, "needs y"),
    ({"w": 1, "b": 0, "x": 1, "y": 1, "rate": 1}, "unknown --at value 'rate'"),
    ({"w": "abc", "b": 0, "x": 1, "y": 1}, "not a number"),
])
def test_worked_example_refuses_bad_values(example, message):
    with pytest.raises(DeriveError, match=message):
        derive.derivation("sigmoid", "bce", example=example)


def test_layers_must_be_sensible():
    with pytest.raises(BadValue, match="--layers"):
        derive.derivation("sigmoid", "bce", model="mlp", layers=0)


def test_registries_are_read_only():
    with pytest.raises(TypeError):
        derive.ACTIVATIONS["new"] = ACTIVATIONS["relu"]
