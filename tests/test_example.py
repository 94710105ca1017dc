"""Worked examples as numbers: equal to the generated kernels, carried by JSON as numbers, traced, explained by
notes read from the structure, and refused in one line when the arrays do not fit.

Two kernel modules are used (each compiles once, then numba's cache serves it): an MLP with a sigmoid hidden
layer and a sigmoid + bce head over K = 2 outputs, and the identity + mse neuron, whose ``step`` the trace is
compared with.
"""
import json
import math

import numpy as np
import pytest

import derive
import derive.kernels as kernels
from derive.derivations.example import At
from derive.errors import DeriveError

RELATIVE = 1e-12
MAZUR = dict(x=[0.05, 0.10], y=[0.01, 0.99], W1=[[0.15, 0.25], [0.20, 0.30]], b1=[0.35, 0.35],
             W2=[[0.40, 0.50], [0.45, 0.55]], b2=[0.60, 0.60], lr=0.5)


def close(ours, theirs):
    """Equal to RELATIVE; the kernels keep a neuron's one bias as an array of one, the example as a number."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape or (ours.size == theirs.size == 1)
    ours = ours.reshape(theirs.shape)
    assert np.allclose(ours, theirs, rtol=RELATIVE, atol=1e-300), (ours, theirs)


def kernel_params(example, module):
    """The example's parameters in the kernel's order and shapes."""
    return tuple(np.array(v, dtype=float).reshape(np.shape(p)) for v, p in
                 zip(example.point.parameters.values(), module.init(len(example.point.x), *_hidden(example),
                                                                    n_outputs=len(example.point.y))))


def _hidden(example):
    sizes = example.point.sizes
    return (tuple(sizes[1:-1]),) if len(sizes) > 2 else ()


def test_mlp_numbers_equal_the_kernel():
    d = derive.derivation("sigmoid", "bce", "mlp", hidden="sigmoid", outputs=2, example=At(MAZUR, steps=2))
    module = kernels.load("mlp_sigmoid_sigmoid_bce")
    example = d.example
    params = kernel_params(example, module)
    X, Y = np.array([example.point.x]), np.array([example.point.y])
    value, grads = module.loss_and_gradient(params, X, Y)
    assert math.isclose(example.first.loss, value, rel_tol=RELATIVE)
    for grad, name in zip(grads, example.point.parameters):
        close(example.first.gradients[name], grad)
    for after in example.parameters_after:   # the trace is the kernel's step, repeated
        module.step(params, X, Y, example.point.lr)
        for theirs, name in zip(params, after):
            close(after[name], theirs)


def test_neuron_trace_equals_the_kernel_step():
    d = derive.derivation("identity", "mse", example=At(dict(w=[0.5, -0.3], b=0.1, x=[2, 1], y=1.7, lr=0.05),
                                                           steps=5))
    module = kernels.load("neuron_identity_mse")
    params = kernel_params(d.example, module)
    X, Y = np.array([d.example.point.x]), np.array([1.7])
    for done, after in zip(d.example.passes, d.example.parameters_after):
        assert math.isclose(module.step(params, X, Y, 0.05), done.loss, rel_tol=RELATIVE)
        close(after["w"], params[0])
        close(after["b"], params[1])


def test_json_carries_every_number_as_a_number():
    d = derive.derivation("sigmoid", "mse", "mlp", hidden="sigmoid", outputs=2,
                          example=At(MAZUR, digits=9, fix=("b1", "b2"), steps=1))
    data = json.loads(d.render("json"))["example"]
    assert data["digits"] == 9 and data["point"]["fixed"] == ["b1", "b2"] and data["point"]["lr"] == 0.5
    values = {v["quantity"]: v for v in data["values"]}
    assert all(isinstance(v["value"], float) and v["what"] for v in data["values"])
    assert values["L"]["value"] == d.example.first.loss and values["L"]["what"] == "loss at the point"
    assert values["dL/dW_11^(2)"]["value"] == d.example.first.gradients["W2"][0, 0]
    assert values["W_11^(1)"]["what"] == "updated parameter" and "b_1^(1)" not in values   # fixed: not updated
    assert values["a_2^(1)"]["value"] == d.example.first.activations[0][1]
    assert [row["step"] for row in data["trace"]] == [0, 1]
    assert data["trace"][1]["parameters"]["b1"] == [0.35, 0.35]
    table = next(s for s in json.loads(d.render("json"))["steps"] if s["kind"] == "Table"
                 and s["caption"].startswith("Gradient descent"))
    assert table["rows"][0][0] == 0 and table["rows"][1][3] == d.example.passes[1].loss   # step, a₁, a₂, L, …


def test_tables_in_every_format():
    d = derive.derivation("identity", "mse", example=At(dict(w=0.5, x=2, y=0.8, lr=0.5), fix=("b",), steps=3))
    text, latex, markdown, html = (d.render(f) for f in ("text", "latex", "markdown", "html"))
    assert "     3  −4.6  29.16  −2.3" in text
    assert "\\begin{tabular}{rrrr}" in latex and "$3$ & $-4.6$ & $29.16$ & $-2.3$ \\\\" in latex
    assert "| step | a | L | w₁ |" in markdown and "| 3 | −4.6 | 29.16 | −2.3 |" in markdown
    assert '<td class="n">−4.6</td>' in html and "<caption>" in html


def test_every_parameter_before_and_after_in_a_table():
    d = derive.derivation("sigmoid", "mse", "mlp", hidden="sigmoid", outputs=2, example=At(MAZUR, fix=("b1", "b2")))
    table = next(s for s in d.steps if type(s).__name__ == "Table" and s.caption.startswith("Every parameter"))
    rows = {str(row[0]): row[1:] for row in table.rows}
    gradient = d.example.first.gradients["W2"][0, 0]
    assert rows["W_11^(2)"] == (0.4, gradient, 0.4 - 0.5 * gradient)
    assert rows["b_1^(1)"][2] == "fixed" and len(rows) == 12
    markdown = d.render("markdown")
    assert "| W₁₁⁽²⁾ | 0.4 | 0.08217 | 0.3589 |" in markdown and "| b₁⁽¹⁾ | 0.35 | 0.008771 | fixed |" in markdown


def test_digits_and_powers_of_ten():
    d = derive.derivation("sigmoid", "bce", example=At(dict(w=[1e-5, 2], b=0, x=[3, 1], y=1), digits=2))
    text = d.render("text")
    assert "σ(2) = 0.88" in text and "w₁ ← w₁ − α·∂L/∂w₁ = 1×10⁻⁵ − 0.1·(−0.36) = 0.036" in text
    assert "1 \\times 10^{-5}" in d.render("latex")


def test_insight_the_activation_slope_survives_or_cancels():
    at = dict(w=1, b=0.2, x=1.5, y=0)
    survives = derive.derivation("sigmoid", "mse", example=at).render("text")
    a = 1 / (1 + math.exp(-1.7))
    assert "survives" in survives and f"{a * (1 - a):.4g}" in survives
    assert f"this step is {2 * a * (1 - a):.4g} times that one" in survives.replace("\n  ", " ")   # 2a(1 − a)
    assert "cancels" in derive.derivation("sigmoid", "bce", example=at).render("text")
    softmax = derive.derivation("softmax", "cross_entropy", "softmax", example=dict(x=1, W=[[1, 2]], b=[0, 0], y=0))
    assert "∂pₖ/∂zₖ = pₖ(1 − pₖ) cancels" in softmax.render("text").replace("\n  ", " ")


@pytest.mark.parametrize("hidden, bound", [("sigmoid", "≤ 1/4"), ("tanh", "≤ 1 over all z")])
def test_insight_delta_shrinks_through_sigmoid_layers(hidden, bound):
    at = dict(x=[1, -1], W1=[[0.5, -0.2], [0.3, 0.8]], b1=[0, 0], W2=[[0.4, 0.1], [-0.6, 0.2]], b2=[0.1, 0],
              W3=[[1.0], [-1.0]], b3=[0], y=1)
    d = derive.derivation("sigmoid", "bce", "mlp", hidden=hidden, layers=2, example=at)
    text = d.render("text").replace("\n  ", " ")
    assert bound in text and (("a factor of at least 4" in text) == (hidden == "sigmoid"))
    norms = [np.linalg.norm(delta) for delta in d.example.first.deltas]
    table = [s for s in d.steps if type(s).__name__ == "Table"][0]
    assert [row[1] for row in table.rows] == norms[::-1]
    assert table.rows[1][2] == norms[1] / norms[2]


@pytest.mark.parametrize("values, model, message", [
    (dict(x=[1, 2], W1=[[1, 2], [3, 4]], b1=[0, 0], W2=[[1, 2, 3]], b2=[0], y=1), "mlp",
     r"W2 has shape \(1, 3\) but needs \(2, 3\): 2 rows, one per input"),
    (dict(x=[1, 2], W1=[[1, 2], [3, 4]], b1=[0], W2=[[1], [2]], b2=[0], y=1), "mlp",
     r"b1 has shape \(1,\) but needs \(2,\)"),
    (dict(x=[1, 2, 3], W=[[1, 2], [3, 4], [5, 6]], b=[0, 0], y=3), "softmax", "class index 0 … 1"),
    (dict(x=1, w=1, y=1), "neuron", "needs b"),
    (dict(x=1, w=1, b=0, y=1, lr=-1), "neuron", "lr=-1 must be > 0"),
    (dict(x=1, w=1, b=0, y=1, lr=0), "neuron", "lr=0 must be > 0"),
])
def test_arrays_that_do_not_fit_are_one_line(values, model, message):
    outputs = 2 if model == "softmax" else None
    with pytest.raises(DeriveError, match=message) as caught:
        derive.derivation("sigmoid" if model != "softmax" else "softmax", "bce" if model != "softmax" else
                          "cross_entropy", model, outputs=outputs, example=values)
    assert "\n" not in str(caught.value)


def test_fixed_parameters_stay_and_default_to_zero():
    d = derive.derivation("identity", "mse", example=At(dict(w=0.5, x=2, y=0.8, lr=0.1), fix=("b",), steps=2))
    assert all(float(after["b"]) == 0.0 for after in d.example.parameters_after)
    with pytest.raises(DeriveError, match="unknown --fix parameter 'c'"):
        derive.derivation("identity", "mse", example=At(dict(w=0.5, b=0, x=2, y=0.8), fix=("c",)))
