"""Bounded work: every valid custom expression ends in a checked derivation or in one line, soon.

Ordinary expressions derive, and their derivatives equal sympy.diff at sample points; hostile ones are refused by a
size limit, a domain or the time limit with a one-line ``DeriveError`` (exit 2 from the CLI); an unexpected failure
on a user's expression becomes one line naming it, while one on named entries surfaces as itself.
"""
import math
import signal
import subprocess
import sys
import threading
import time

import pytest
import sympy as sp
from sympy.core.parameters import global_parameters

import derive
import derive.runtime
from derive import budget
from derive.budget import Budget
from derive.catalogue import ACTIVATIONS, LOSSES
from derive.catalogue.custom import custom_activation, custom_loss
from derive.catalogue.symbols import a, b, w_j, y, z
import derive.models.neuron
from derive.errors import BadExpression, BadValue, CannotDerive, InvalidPair, TooCostly, TooSlow, Unsampleable
from derive.presenter import assert_same
from derive.sampling import head_points

MSE = LOSSES["mse"]
BCE_TEXT = "-y*log(a)-(1-y)*log(1-a)"


def derived_correctly(text: str) -> derive.Derivation:
    """The derivation of ``text`` + mse, after checking f' and ∂L/∂b against sympy.diff at sample points."""
    d = derive.derivation(activation_expr=text, loss="mse")
    act = custom_activation(text)
    points = head_points(act, MSE)
    assert_same(d.pieces["activation_derivative"].subs(a, act.expr), sp.diff(act.expr, z), points)
    assert_same(d.gradients[b].subs(a, act.expr), sp.diff(MSE.expr.subs(a, act.expr), z), points)
    return d


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert message and "\n" not in message and "\x1b" not in message
    return message


# --- ordinary expressions derive, correctly --------------------------------------------------------------------
@pytest.mark.parametrize("text", ["z**7-3*z**5+z", "(z**2+1)/(z**2+z+2)", "tanh(sin(exp(atan(z))))", "z**1000",
                                  "Max(z,2*z,-z,0)", "Abs(z)**(1/3)*sign(z)",
                                  "Max(z,-z,z**2,sin(z),cos(z),tanh(z),atan(z),erf(z))"])
def test_ordinary_expressions_derive_and_match_sympy_diff(text):
    derived_correctly(text)


def test_sign_derives_with_the_zero_derivative_pytorch_uses():
    d = derived_correctly("sign(z)")
    assert d.pieces["activation_derivative"] == 0


def test_a_custom_softsign_simplifies_as_far_as_the_registry_entry():
    d = derived_correctly("z/(1+Abs(z))")
    shown, textbook = d.pieces["activation_derivative"], ACTIVATIONS["softsign"].derivative
    assert sp.count_ops(shown) == sp.count_ops(textbook) and shown == textbook  # 1/(1 + |z|)²


def test_a_worked_example_with_a_thousand_features():
    n = 1000
    d = derive.derivation("sigmoid", "bce", example={"w": [1e-5 * k for k in range(n)], "b": 0.5,
                                                     "x": [1.0] * n, "y": 1, "lr": 0.1})
    updates = [s for s in d.steps if type(s).__name__ == "Update" and s.values]
    assert len(updates) == n + 1
    z_value = 0.5 + 1e-5 * sum(range(n))
    gradient = 1 / (1 + math.exp(-z_value)) - 1  # (a − y)·x_j with x_j = 1
    assert math.isclose(float(updates[-2].values[-1]), 1e-5 * (n - 1) - 0.1 * gradient, rel_tol=1e-3)
    z_line = d.render("text").split("Worked example")[1].splitlines()[3]
    assert z_line.startswith("  z = Σ")  # Σⱼ wⱼ·xⱼ + b, not 1000 products


# --- hostile expressions are refused by size, up front -----------------------------------------------------------
def test_the_size_measures():
    assert budget.nesting(sp.exp(sp.sin(z)) + z**2) == 2 and budget.nesting(2**sp.tanh(z)) == 2
    assert budget.sum_power((z + 1)**5 * z**100 + sp.tan(z + 1)**90) == 5  # z**100, tan(z+1)**90 expand to 1 term
    assert budget.cases(sp.Max(z, 1, 2 * z) + sp.Min(z, 0)) == 3


@pytest.mark.parametrize("kwargs,limit", [
    ({"activation_expr": "sin(" * 16 + "z" + ")" * 16, "loss": "mse"}, "DERIVE_MAX_NESTING"),
    ({"activation_expr": f"Max({','.join(f'{k}*z' for k in range(1, 31))})", "loss": "mse"}, "DERIVE_MAX_CASES"),
    ({"activation": "identity", "loss_expr": "(a-y)**1000"}, "DERIVE_MAX_POWER"),
    ({"activation_expr": "(z+1)**100", "loss": "mse"}, "DERIVE_MAX_POWER"),
    ({"activation_expr": "+".join(f"sin({k}*z)*cos(z)" for k in range(2, 27)), "loss": "mse"}, "DERIVE_MAX_OPS"),
])
def test_too_large_expressions_are_refused_naming_the_limit(kwargs, limit):
    with pytest.raises(TooCostly) as error:
        derive.derivation(**kwargs)
    assert "is too costly to derive" in one_line(error) and f"(set {limit} to allow more)" in str(error.value)


def test_a_size_limit_can_be_raised_by_its_environment_variable(monkeypatch):
    nested = "sin(" * 16 + "z" + ")" * 16
    with pytest.raises(TooCostly):
        custom_activation(nested)
    monkeypatch.setenv("DERIVE_MAX_NESTING", "20")
    assert custom_activation(nested).expr.has(sp.sin)


@pytest.mark.parametrize("value", ["abc", "-1", "0", "inf"])
def test_a_malformed_budget_setting_is_one_line(monkeypatch, value):
    monkeypatch.setenv("DERIVE_TIME_LIMIT", value)
    with pytest.raises(BadValue, match=f"DERIVE_TIME_LIMIT must be a positive number, not '{value}'"):
        derive.derivation(activation_expr="z*tanh(z)", loss="mse")


@pytest.mark.parametrize("text", ["exp(" * 8 + "z" + ")" * 8, "10**300*z"])  # f, or the chain's ∂L/∂z, overflows
def test_expressions_infinite_everywhere_cannot_be_checked_and_say_so(text):
    with pytest.raises(Unsampleable) as error:
        derive.derivation(activation_expr=text, loss="mse")
    assert "cannot be checked" in one_line(error) and "finite in double precision" in str(error.value)


# --- valid input: a domain refusal, never a crash ------------------------------------------------------------------
@pytest.mark.parametrize("text,where,why", [
    ("log(z)", "log(z) is undefined for z ≤ 0", "log needs a positive argument"),
    ("sqrt(z)", "sqrt(z) is undefined for z < 0", "a fractional power needs a non-negative base"),
    ("z**0.5", "sqrt(z) is undefined for z < 0", "a fractional power needs a non-negative base"),
    ("z**(1/3)", "z**(1/3) is undefined for z < 0", "a fractional power needs a non-negative base"),
    ("z**pi", "z**pi is undefined for z < 0", "a fractional power needs a non-negative base"),
    ("(-1)**z", "(-1)**z is undefined for every real z", "a power with a variable exponent needs a positive base"),
    ("tan(z)**1000", "tan(z)**1000 is undefined for z = pi/2 and infinitely many others", "tan is infinite"),
    ("1/z", "1/z is undefined for z = 0", "division by zero"),
    # solveset cannot solve this one; the grid finds where it fails
    ("log(sin(z)+z/3+2)", "log(z/3 + sin(z) + 2) is undefined for z = -10", "log needs a positive argument"),
])
def test_activations_undefined_somewhere_are_refused_with_where_and_why(text, where, why):
    with pytest.raises(BadExpression) as error:
        derive.derivation(activation_expr=text, loss="mse")
    message = one_line(error)
    assert f"activation expression {where} ({why}" in message
    assert message.endswith("the weights can make z anything") or "sign(z)*Abs(z)**p" in message


def test_a_constant_beyond_double_precision_is_refused():
    with pytest.raises(BadExpression, match=r"z\*exp\(1000\) has the constant exp\(1000\) ≈ 1.97E\+434, beyond "
                                            r"double precision"):
        derive.derivation(activation_expr="exp(1000)*z", loss="mse")


def test_a_custom_loss_is_checked_against_the_activation_like_a_named_one():
    with pytest.raises(InvalidPair) as named:
        derive.derivation("identity", "bce")
    with pytest.raises(InvalidPair) as custom:
        derive.derivation("identity", loss_expr=BCE_TEXT)
    common = "because its output can be 0 or less or be 1 or more, where"
    assert common in str(named.value) and common in one_line(custom)
    assert "custom needs predictions in (0, 1) (activations that fit: sigmoid)" in str(custom.value)
    assert custom_loss(BCE_TEXT).accepts == sp.Interval.open(0, 1) == LOSSES["bce"].accepts


def test_sigmoid_feeds_the_custom_bce_with_the_named_bce_gradient():
    custom, named = derive.derivation("sigmoid", loss_expr=BCE_TEXT), derive.derivation("sigmoid", "bce")
    points = [{a: p, y: label, w_j: 0.3, sp.Symbol("x_j", real=True): 2.0}
              for p in (0.1, 0.5, 0.93) for label in (0.0, 1.0)]
    assert_same(custom.gradients[b], named.gradients[b], points)


@pytest.mark.parametrize("text,message", [
    ("log(a-y)", "is undefined for a ≤ y (log needs a positive argument), which depends on the label y"),
    ("a/y", "is undefined for the label y = 0 (division by zero)"),
    ("log(-a**2)", "is undefined for every real a (log needs a positive argument), so no activation can feed it"),
])
def test_custom_losses_undefined_for_some_label_or_every_prediction_are_refused(text, message):
    with pytest.raises(BadExpression) as error:
        derive.derivation("sigmoid", loss_expr=text)
    assert message in one_line(error)


# --- the time limit ------------------------------------------------------------------------------------------------
def test_the_time_limit_stops_work_and_restores_the_callers_timer():
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *args: fired.append(1))
    signal.setitimer(signal.ITIMER_REAL, 50)
    try:
        with pytest.raises(TooSlow) as error:  # an expression no other test derives (~3 s), so nothing is cached
            derive.derivation(activation_expr="sin(z)**2*exp(-z**2)*atan(z)*erf(z)*cosh(z)*tanh(z)*asinh(z)",
                              loss="mse", budget=Budget(seconds=0.3))
        assert one_line(error).startswith("deriving activation f(z) = ")
        assert "took longer than 0.3 s (DERIVE_TIME_LIMIT) and was stopped" in str(error.value)
        assert signal.getsignal(signal.SIGALRM) is not budget._on_alarm and not fired
        assert 45 < signal.getitimer(signal.ITIMER_REAL)[0] <= 50
        assert global_parameters.evaluate and global_parameters.distribute
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _spin():
    while True:
        pass


def test_a_time_slice_gives_up_quietly_inside_a_deadline_that_still_holds():
    start = time.perf_counter()
    with pytest.raises(TimeoutError):
        with budget.deadline(1.0, lambda: TimeoutError("outer")):
            assert budget.attempt(0.1, _spin) is None
            assert time.perf_counter() - start < 0.9  # the slice ended, well before the deadline around it
            _spin()
    assert 0.9 < time.perf_counter() - start < 5


def test_outside_the_main_thread_work_runs_without_signals():
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(derive.derivation(activation_expr="z*erf(z)",
                                                                              loss="mse")))
    worker.start()
    worker.join(60)
    assert outcome and outcome[0].activation == "custom"


# --- unexpected failures on a user's expression are one line naming it ------------------------------------------------
def _boom(*args, **kwargs):
    raise ValueError("boom \x1b[31m")


def test_an_unexpected_failure_on_a_custom_expression_is_one_line_naming_it(monkeypatch):
    monkeypatch.setattr(derive.models.neuron, "derive_head", _boom)
    with pytest.raises(CannotDerive) as error:
        derive.derivation(activation_expr="z*tanh(z)", loss_expr="(a-y)**2")
    assert one_line(error) == ("cannot derive activation f(z) = z*tanh(z) with loss L(a, y) = (a - y)**2: "
                               "ValueError: boom  [31m")
    with pytest.raises(ValueError):  # a failure with named entries only is a bug, and surfaces as one
        derive.derivation("tanh", "mse")


def test_compile_raises_only_derive_errors(monkeypatch, tmp_path):
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path))
    with pytest.raises(BadExpression, match="log needs a positive argument"):
        derive.compile(activation_expr="log(z)", loss="mse")
    with pytest.raises(InvalidPair, match="identity cannot feed custom"):
        derive.compile("identity", loss_expr=BCE_TEXT)
    monkeypatch.setattr(derive.runtime, "module_source", _boom)
    with pytest.raises(CannotDerive, match=r"^cannot derive activation f\(z\) = z\*erf\(z\): ValueError: boom"):
        derive.compile(activation_expr="z*erf(z)", loss="mse")
    with pytest.raises(ValueError):
        derive.compile("tanh", "mse")
    assert not any(tmp_path.rglob("*.py"))


def test_the_custom_bce_compiles_to_a_kernel_with_finite_losses(monkeypatch, tmp_path):
    np = pytest.importorskip("numpy")
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path))
    module = derive.compile("sigmoid", loss_expr=BCE_TEXT)
    rng = np.random.default_rng(0)
    X, labels = rng.normal(size=(40, 3)), rng.integers(0, 2, size=40).astype(float)
    params = module.init(3)
    p = 1 / (1 + np.exp(-(X @ params[0] + params[1][0])))
    expected = np.mean(-labels * np.log(p) - (1 - labels) * np.log(1 - p))
    assert math.isclose(module.loss(params, X, labels), expected, rel_tol=1e-9)


# --- the CLI: exit 0 or one line and exit 2, within a timeout ------------------------------------------------------
@pytest.mark.parametrize("args,status,says", [
    (["--activation-expr", "log(z)", "--loss", "mse"], 2, "log needs a positive argument"),
    (["--activation-expr", "tan(z)**1000", "--loss", "mse"], 2, "tan is infinite where cos is 0"),
    (["--activation", "identity", "--loss-expr", "(a-y)**1000"], 2, "DERIVE_MAX_POWER"),
    (["--activation", "identity", f"--loss-expr={BCE_TEXT}"], 2, "identity cannot feed custom"),
    (["--activation-expr", "sign(z)", "--loss", "mse"], 0, ""),
    (["--activation-expr", "z**7-3*z**5+z", "--loss", "mse"], 0, ""),
])
def test_cli_ends_in_a_derivation_or_one_line_and_exit_2(args, status, says):
    done = subprocess.run([sys.executable, "-m", "derive", "show", *args], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == status, done.stderr
    if status:
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("derive: ") and says in done.stderr
    else:
        assert "Weight update: neuron, custom + mse" in done.stdout
