"""A multilayer perceptron: z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾ and a⁽ˡ⁾ = g(z⁽ˡ⁾) for the hidden layers, then the head.

Backpropagation is the chain rule organised by the error signal δ⁽ˡ⁾ = ∂L/∂z⁽ˡ⁾:
δ⁽ᴸ⁾ comes from the head, δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ g'(z⁽ˡ⁾), and ∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾ a⁽ˡ⁻¹⁾ᵀ, ∂L/∂b⁽ˡ⁾ = δ⁽ˡ⁾.
"""
from __future__ import annotations

import sympy as sp

from derive.catalogue import ACTIVATIONS
from derive.catalogue.symbols import K, L, L_mean, a, alpha, i, j, layer, others_ij, p_k, y, y_k, z
from derive.derivations.heads import derive_head
from derive.derivations.notes import against_gradient
from derive.derivations.sections import penalty, scaled, update_rule
from derive.derivations.value import Derivation
from derive.models import Model
from derive.models.dense import forward as dense_forward
from derive.notation import BatchMean, Hadamard, MatProduct, Partial, Times, Transposed, named, value
from derive.presenter import assert_same, simplest
from derive.rules import differentiate
from derive.sampling import head_points
from derive.steps import ChainRule, Definition, Equation, LocalDerivative, Note, Section, Update, relabel

HIDDEN = ("relu", "sigmoid", "tanh")   # the hidden activations `derive generate` writes modules for
HEADS = (("identity", "mse"), ("sigmoid", "bce"), ("softmax", "cross_entropy"))  # and their heads

BACKPROP_NOTE = Note(
    "δ carries the error back: the output error δ⁽ᴸ⁾ is sent down through the transposed weights, so each hidden "
    "unit receives the errors of the units it feeds, weighted by how strongly it feeds them, and then gated by "
    "g'(z): a unit whose activation is flat there (a saturated tanh or sigmoid, a ReLU that is off) passes no "
    "error back, and its incoming weights stop learning until it leaves that region.")
STORAGE_NOTE = Note(
    "The kernels store each W⁽ˡ⁾ transposed, with shape (inputs, outputs), so that a batch computes "
    "Z⁽ˡ⁾ = A⁽ˡ⁻¹⁾ W + b row by row; the gradient is stored the same way.")


def build(head, hidden, layers=1, outputs: int = 1, training=None) -> Derivation:
    activation, loss = head.activation, head.loss
    hidden = hidden or ACTIVATIONS[MLP.default_hidden]
    top = layers + 1
    g = named(hidden.text, hidden.latex)
    f = named(activation.text, activation.latex)
    sym = lambda name, l: layer(name, l)
    forward = [Definition(layer("a", 0), (sp.Symbol("x", real=True),), "the input vector")]
    for l in range(1, top + 1):
        act = g if l < top else f
        forward += [Definition(sym("z", l), (sp.Add(MatProduct(sym("W", l), sym("a", l - 1)), sym("b", l)),)),
                    Definition(sym("a", l), (act(sym("z", l)),),
                               f"{'hidden' if l < top else 'output'} activation, element by element"
                               if l < top or not activation.vector else "softmax output")]
    forward.append(Definition(L, (named(loss.text, loss.latex)(sym("a", top), y),), f"loss: {loss.description}"))
    l_index = sp.Symbol("l", integer=True, positive=True)
    units = lambda shift: sp.Symbol(f"n_{{l{shift}}}" if shift else "n_l", integer=True, positive=True)
    reg = penalty(training, layer("W_ij", "l"),
                  sp.Sum(layer("W_ij", "l")**2, (j, 1, units("-1")), (i, 1, units("")), (l_index, 1, top)))
    forward += reg.forward()

    head_steps, output_delta = _output_delta(activation, loss, top, outputs)
    hidden_tree = differentiate(hidden.expr, z)
    points = head_points(hidden, _ANY_LOSS)
    derivative = hidden.derivative if hidden.derivative is not None else simplest(hidden_tree.result)
    assert_same(derivative.subs({a: hidden.expr}), hidden_tree.result, points)
    l_sym = "l"
    d = lambda name, sub, l: sp.Symbol(f"{name}_{sub}^({l})", real=True)
    gprime = derivative.xreplace({a: d("a", "j", l_sym), z: d("z", "j", l_sym)})
    steps = [
        Section("Forward pass"), *forward, STORAGE_NOTE,
        Section("Error signals"),
        Definition(sym("delta", l_sym), (Partial(L, sym("z", l_sym)),),
                   "the error signal of layer l: how the loss moves with that layer's pre-activations"),
        Section("Output layer"), *head_steps,
        Section("Hidden layers: the delta recursion"),
        ChainRule(Partial(L, d("z", "j", l_sym)),
                  (sp.Sum(Times(Partial(L, d("z", "i", "l+1")), Partial(d("z", "i", "l+1"), d("a", "j", l_sym))),
                          (i, 1, sp.Symbol("n_{l+1}", integer=True, positive=True))),
                   Partial(d("a", "j", l_sym), d("z", "j", l_sym))),
                  "chain rule: a_j⁽ˡ⁾ feeds every unit i of layer l+1"),
        LocalDerivative(Partial(d("z", "i", "l+1"), d("a", "j", l_sym)),
                        differentiate(d("W", "ij", "l+1") * d("a", "j", l_sym) + others_ij,
                                      d("a", "j", l_sym)),
                        d("W", "ij", "l+1"), "every other term of z_i⁽ˡ⁺¹⁾ is held constant"),
        LocalDerivative(Partial(d("a", "j", l_sym), d("z", "j", l_sym)),
                        relabel(hidden_tree, {z: d("z", "j", l_sym)}), gprime,
                        f"written with a_j⁽ˡ⁾ = {hidden.text}(z_j⁽ˡ⁾)" if a in derivative.free_symbols else "",
                        hidden.kink_note),
        Equation(sym("delta", l_sym), (
            Hadamard(MatProduct(Transposed(sym("W", "l+1")), sym("delta", "l+1")),
                     named(hidden.text + "'", hidden.latex + "'")(sym("z", l_sym))),
            Hadamard(MatProduct(Transposed(sym("W", "l+1")), sym("delta", "l+1")),
                     derivative.xreplace({a: sym("a", l_sym), z: sym("z", l_sym)}))),
            "element j: δ_j⁽ˡ⁾ = (Σ_i W_ij⁽ˡ⁺¹⁾ δ_i⁽ˡ⁺¹⁾)·g'(z_j⁽ˡ⁾)"),
        BACKPROP_NOTE,
        Section("Weights and biases of every layer"),
        LocalDerivative(Partial(d("z", "i", l_sym), d("W", "ij", l_sym)),
                        differentiate(d("W", "ij", l_sym) * d("a", "j", "l-1") + others_ij,
                                      d("W", "ij", l_sym)), d("a", "j", "l-1")),
        Equation(Partial(L, d("W", "ij", l_sym)), (Times(d("delta", "i", l_sym), d("a", "j", "l-1")),),
                 "chain rule through z_i⁽ˡ⁾, the only pre-activation that contains W_ij⁽ˡ⁾"),
        *reg.local(), *reg.together(d("b", "i", l_sym)),
    ]
    gradients, pieces = {}, {}
    for l in range(top, 0, -1):
        steps += [Equation(Partial(L, sym("W", l)), (MatProduct(sym("delta", l), Transposed(sym("a", l - 1))),)),
                  Equation(Partial(L, sym("b", l)), (sym("delta", l),))]
        gradients[d("W", "ij", l)] = value(reg.gradient(d("W", "ij", l), d("delta", "i", l) * d("a", "j", l - 1), True))
        gradients[d("b", "i", l)] = d("delta", "i", l)
    steps += [
        Note("a⁽⁰⁾ = x: the first layer's weights are multiplied by the inputs, exactly as for one neuron."),
        Section("Mean over a batch of N samples, and the update"),
        Definition(L_mean, (BatchMean(sp.Symbol("L^(n)", real=True)),),
                   "the mean loss" if reg.on else "the loss the update minimises"),
    ]
    mean_of = lambda l, below: BatchMean(MatProduct(sym("delta", f"{l})(n"), Transposed(sym("a", f"{below})(n"))))
    if training is None or (training.plain and not reg.on):
        for l in range(top, 0, -1):
            steps += [Equation(Partial(L_mean, sym("W", l)), (mean_of(l, l - 1),)),
                      Update(sym("W", l), sym("W", l) - alpha * Partial(L_mean, sym("W", l))),
                      Update(sym("b", l), sym("b", l) - alpha * Partial(L_mean, sym("b", l)))]
        steps.append(against_gradient("W_ij⁽ˡ⁾"))
    else:   # the shared update section, on every layer's W⁽ˡ⁾ and b⁽ˡ⁾
        steps += [Equation(Partial(L_mean, sym("W", l)), (mean_of(l, l - 1),)) for l in range(top, 0, -1)]
        steps += reg.mean()
        means = {sym("W", "l"): reg.gradient(sym("W", "l"), mean_of("l", "l-1"), True),
                 sym("b", "l"): BatchMean(sym("delta", "l)(n"))}
        steps += update_rule((sym("W", "l"), sym("b", "l")), "W_ij⁽ˡ⁾", training, means, reg)
    pieces = {**derive_head(activation, loss).pieces, "hidden_activation": hidden.expr,
              "hidden_derivative": derivative}
    return Derivation("mlp", activation.name, loss.name, hidden.name, tuple(steps), gradients, pieces, layers,
                      outputs)


def _output_delta(activation, loss, top, outputs):
    """The head's steps and δ⁽ᴸ⁾ = ∂L/∂z⁽ᴸ⁾ (in the output layer's a or p, y and z)."""
    out, h = layer("delta", top), derive_head(activation, loss)
    if activation.vector:
        vectors = {p_k: sp.Symbol("p", real=True), y_k: y}
        return (Equation(out, (Partial(L, layer("z", top)), h.delta.xreplace(vectors)),
                         "as for softmax regression, element by element: ∂L/∂z_k = p_k − y_k, using Σ_k y_k = 1"),), \
            h.delta
    at_top = {a: layer("a", top), z: layer("z", top)}
    shown = relabel(h.dL_dz, at_top)
    if outputs > 1:
        return (*h.steps, Equation(out, (Partial(L, layer("z", top)), scaled(shown, 1 / K)),
                                   "each of the K outputs, with the 1/K of the mean over the outputs")), h.delta
    return (*h.steps, Equation(out, (Partial(L, layer("z", top)), shown), "a and z of the output layer")), h.delta


class _AnyLoss:
    """A loss stand-in that adds no kinks and any real label, for sampling a hidden activation alone."""

    kinks = ()
    labels = type("Labels", (), {"values": sp.Reals})()


_ANY_LOSS = _AnyLoss()


MLP = Model(
    name="mlp",
    description="dense hidden layers with a hidden activation, then an output head",
    spans=("elementwise", "softmax"),
    hidden_layers=True,
    parameters="(W1, b1, ..., Wk, bk), W_l of shape (inputs, outputs)",
    build=build,
    template=lambda span: ("hidden", *span.parts, "dense", "stack"),
    modules=lambda: [(activation, loss, hidden) for hidden in HIDDEN for activation, loss in HEADS],
    test_shape=lambda features, outputs: (features, (4, 3), outputs),
    forward=dense_forward,
    layout={"hidden": True, "squeeze": False},
    default_hidden="tanh",
)
