"""No rewrite and no kernel turns a finite value into inf or NaN, or loses its digits, for |z| ≤ 750.

Each value a kernel computes is compared with mpmath's value of the SymPy expression it comes from (the rule's form
before the rewrite; the derivation's pieces with a = f(z) put in), within RTOL·cond + ATOL: see
tests/stability_reference.py for the reference, the condition cond, and why those tolerances. Where the true value is
a finite float64, the kernel's must be finite and that close; where it overflows, the kernel may too.

The compiled pieces are called one by one from Python (each compiles once, into numba's cache), never ``fit``.
"""
from __future__ import annotations

import functools
import importlib
import math

import numba
import numpy as np
import pytest
import sympy as sp

import derive
from derive.catalogue import LOSSES
from derive.catalogue.symbols import a, y, z
from derive.codegen.modules import catalogue_modules
from derive.codegen.printer import SCALAR_FUNCTIONS, KernelPrinter, body
from derive.codegen.rewriting import CHEAPER_IF_EXPANDED, RULES
from derive.codegen.templates.pieces import _FASTMATH
from derive.derivations import derivation
from derive.kernels import _elementary, _normal, _scalar
from stability_reference import RTOL, miss, named_functions_without_definition

_SPECIAL = (1e-300, 1e-8, 0.5, 0.7518, 1.0, 2.5, 3.0, 5.0, 10.0, 20.0, 37.0, 40.0, 60.0, 100.0, 200.0, 300.0, 420.0,
            425.0, 600.0, 700.0, 709.8, 710.0, 745.0, 750.0)   # 0.7518: GELU's minimum; 709.8: e^z overflows
Z = (0.0, *_SPECIAL, *(-v for v in _SPECIAL))
REAL_LABELS = (-1.3, 0.0, 2.9)
u = sp.Symbol("u", real=True)
MODULES = {spec.name: spec for spec in catalogue_modules()}


def labels(loss) -> tuple:
    """A few labels from the loss's declared label set: both ends of an interval and a point inside."""
    values = loss.labels.values
    if isinstance(values, sp.FiniteSet):
        return tuple(float(v) for v in values)
    if values == sp.Reals:
        return REAL_LABELS
    low, high = float(values.inf), float(values.sup)
    return (low, 1.0, 7.0) if math.isinf(high) else (low, high, low + 0.3 * (high - low))


def _misses(kernel, expr, args, points, inner=()) -> list[str]:
    """The points where kernel(*point) misses expr, as lines naming the point."""
    found = []
    for point, kernel_args in points:
        got = float(kernel(*kernel_args))
        reason = miss(got, expr, args, point, inner)
        if reason:
            found.append(f"{getattr(kernel, '__name__', kernel)}{tuple(kernel_args)}: {reason}")
    return found


def _sweep_head(module, pieces, loss) -> list[str]:
    """_activation, _loss and _delta (and their libm forms, where a module has them) over Z and the labels."""
    f, found = pieces["activation"], []
    for suffix in ("", "_1") if hasattr(module, "_activation_1") else ("",):
        activation = getattr(module, "_activation" + suffix)
        found += _misses(activation, f, (z,), [((v,), (v,)) for v in Z])
        points = [((v, label), (v, activation(v), label)) for v in Z for label in labels(loss)]
        for name, piece in (("_loss", "loss"), ("_delta", "dL_dz")):
            found += _misses(getattr(module, name + suffix), pieces[piece], (z, a, y), points, ((a, f),))
    return found


def _sweep_hidden(module, pieces) -> list[str]:
    g = pieces["hidden_activation"]
    found = _misses(module._hidden, g, (z,), [((v,), (v,)) for v in Z])
    points = [((v,), (v, module._hidden(v))) for v in Z]
    return found + _misses(module._hidden_derivative, pieces["hidden_derivative"], (z, a), points, ((a, g),))


def _report(found: list[str]) -> str:
    return f"{len(found)} misses:\n" + "\n".join(found[:12])


# ---------------------------------------------------------------- every rewrite rule
RULE_CASES = [(rule, index, example) for rule in RULES + CHEAPER_IF_EXPANDED
              for index, example in enumerate(rule.examples)]


@functools.cache
def _rewritten_values(scalar: bool) -> np.ndarray:
    """Row k: the k-th case's rewritten form over Z, as the generated kernels compute it: printed by the kernel
    printer (libm forms if ``scalar``) into one numba function compiled with the kernels' flags, so inf and NaN
    come out as they would there (plain Python raises instead)."""
    printer = KernelPrinter(SCALAR_FUNCTIONS) if scalar else KernelPrinter()
    lines = ["def run(us, out):", "    for i in range(us.size):", "        u = us[i]"]
    for k, (rule, _, example) in enumerate(RULE_CASES):
        *assignments, result = body(rule(example(u)), printer, indent="        ", prefix=f"t{k}_")
        lines += [*assignments, result.replace("return ", f"out[{k}, i] = ", 1)]
    namespace = {"_em": _elementary, "_nm": _normal, "_sc": _scalar, "math": math, "np": np}
    exec("\n".join(lines), namespace)  # noqa: S102 - our printer's output for the rules' own examples
    run = numba.njit(fastmath=_FASTMATH, error_model="numpy")(namespace["run"])
    out = np.empty((len(RULE_CASES), len(Z)))
    run(np.array(Z), out)
    return out


def test_every_rule_has_examples():
    assert all(rule.examples for rule in RULES + CHEAPER_IF_EXPANDED)


@pytest.mark.parametrize("case", range(len(RULE_CASES)),
                         ids=[f"{rule.name} [{index}]" for rule, index, _ in RULE_CASES])
@pytest.mark.parametrize("scalar", [False, True], ids=["vector", "libm"])
def test_a_rewrite_keeps_every_finite_value(case, scalar):
    """The form before the rewrite, in mpmath, against the rewritten form run as a kernel runs it, over |u| ≤ 750.

    CHEAPER_IF_EXPANDED trades digits near 0 for a transcendental (softplus(−u) = softplus(u) − u cancels to 0 from
    u = 37 on, where softplus(−u) < 1e-16 u): there the slack is RTOL times the size of the expanded terms, as in
    PyTorch's BCE-with-logits; the BCE loss it feeds is conditioned by y·z anyway."""
    rule, _, example = RULE_CASES[case]
    before = example(u)
    after = rule(before)
    assert after != before, f"{rule.name} does not rewrite its own example {before}"
    terms = sp.Add(*[sp.Abs(t) for t in sp.Add.make_args(after)]) if rule in CHEAPER_IF_EXPANDED else None
    found = []
    for v, got in zip(Z, _rewritten_values(scalar)[case]):
        reason = miss(float(got), before, (u,), (v,), scale=terms)
        if reason:
            found.append(f"u = {v}: {after} {reason}")
    assert not found, f"{rule.name}: {before} → {after}\n" + "\n".join(found[:12])


def test_every_named_function_has_a_reference_definition():
    assert named_functions_without_definition() == []


# ---------------------------------------------------------------- every generated module
@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_generated_piece_is_finite_where_the_truth_is(name):
    spec = MODULES[name]
    pieces = derivation(spec.activation, spec.loss, spec.model, hidden=spec.hidden).pieces
    module = importlib.import_module(f"derive.kernels.{name}")
    found = _sweep_hidden(module, pieces) if spec.hidden else []
    if "activation" in pieces:
        found += _sweep_head(module, pieces, LOSSES[spec.loss])
    assert not found, _report(found)


LOGITS = [(750.0, -750.0, 0.0), (-750.0, -745.0, 709.8), (710.0, 710.0, -710.0), (1e-300, 0.0, -1e-300),
          (-750.0, -750.0, -750.0), (745.0, 0.0, -745.0), (37.0, -20.0, 0.5), (425.0, 424.0, -300.0)]


def test_softmax_head_over_logits_up_to_750():
    """softmax + cross-entropy through the public loss_and_gradient, logits fed in directly (W = I, b = 0): the
    loss log Σ e^(z_i) − z_y and δ = p − onehot(y) (the gradient of b) for every class as the label.

    The loss and δ_y get RTOL·1 more slack: the head template computes log s, s = Σ e^(z_i − m) ≥ 1, and p_y − 1
    from s and p_y rounded, so where p_y ≈ 1 both carry an absolute error of about 2^-52 (as PyTorch's log_softmax
    does); log1p of the other classes' sum would keep their digits (a change for the template, not the
    stabiliser). δ_k = p_k of the other classes must be accurate relative to themselves."""
    module = importlib.import_module("derive.kernels.softmax_softmax_cross_entropy")
    logits = sp.symbols("z1:4", real=True)
    total = sum(sp.exp(v) for v in logits)
    params = (np.eye(3), np.zeros(3))
    found = []
    for row in LOGITS:
        for label in range(3):
            loss, (_, grad_b) = module.loss_and_gradient(params, np.array([row]), np.array([label]))
            truths = [(loss, sp.log(total) - logits[label])]
            truths += [(grad_b[k], sp.exp(logits[k]) / total - int(k == label)) for k in range(3)]
            for k, (got, expr) in enumerate(truths):
                near_one = k in (0, label + 1)      # the loss and δ_y, where p_y ≈ 1 is rounded
                reason = miss(float(got), expr, logits, row, scale=sp.Integer(1) if near_one else None)
                if reason:
                    found.append(f"logits {row}, class {label}: {expr} {reason}")
    assert not found, _report(found)


# ---------------------------------------------------------------- derive.compile, custom activations
CUSTOM = [("z*tanh(softplus(z))", "mse"), ("z*tanh(log(1+exp(z)))", "mse"),          # mish, named and spelled out
          ("z*sigmoid(1.702*z)", "mse"), ("z/(1+exp(-1.702*z))", "mse"),           # quick GELU, both ways
          ("z/(1+Abs(z))", "mse"), ("log(1+z**2)", "mse"),
          ("1/(1+exp(-z))", "bce"), ("(1+tanh(z))/2", "bce"),                    # σ(z) and σ(2z) spelled out
          ("log(1+exp(z))", "poisson_nll"), ("exp(z)", "poisson_nll")]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DERIVE_CACHE_DIR", str(tmp_path_factory.mktemp("kernels")))
        yield


@pytest.mark.parametrize("expr, loss", CUSTOM, ids=[f"{e} {l}" for e, l in CUSTOM])
def test_compiled_custom_activation_is_finite_where_the_truth_is(cache, expr, loss):
    module = derive.compile(activation_expr=expr, loss=loss)
    pieces = derivation(activation_expr=expr, loss=loss).pieces
    found = _sweep_head(module, pieces, LOSSES[loss])
    assert not found, _report(found)


def test_softplus_poisson_where_softplus_underflows():
    """∂L/∂z = (1 − y/a)·σ(z) with a = softplus(z): at z = −750, a = 0 in float64, yet ∂L/∂z ≈ σ(z) − y = −y and
    L = a − y·log a ≈ 750·y, since log softplus(−750) ≈ −750 in truth."""
    module = importlib.import_module("derive.kernels.neuron_softplus_poisson_nll")
    a0 = module._activation(-750.0)
    assert a0 == 0.0
    for label in (1.0, 7.0):
        assert module._delta(-750.0, a0, label) == pytest.approx(-label, rel=RTOL)
        assert module._loss(-750.0, a0, label) == pytest.approx(750.0 * label, rel=RTOL)
        assert module._delta_1(-750.0, a0, label) == pytest.approx(-label, rel=RTOL)
