"""A worked example: put numbers into a derivation and compute one update.

``--at w=0.5,b=0,x=2,y=1,lr=0.1`` (lists for several features: ``w=[0.5,-0.2],x=[2,1]``) computes z, a, L,
each gradient and each updated parameter from the derivation's own expressions.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import sympy as sp

from derive.catalogue.functions import expand_named
from derive.catalogue.symbols import L, a, alpha, b, j, w_j, x_j, y, z
from derive.errors import BadValue, UnknownName
from derive.notation import Minus, Partial, Times, named, tidy_numbers
from derive.steps import Definition, Equation, Section, Update

KEYS = ("w", "b", "x", "y", "lr")
DIGITS = 4
SPELLED_OUT = 8  # features whose products z = w₁·x₁ + … spells out; beyond, it is written Σⱼ wⱼ·xⱼ


def with_example(derivation, activation, loss, values: Mapping):
    """``derivation`` with a worked example appended."""
    if derivation.model != "neuron":
        raise BadValue(f"worked examples (--at) are available for --model neuron, not {derivation.model}")
    w, bias, x, label, lr = _read(values)
    if label not in loss.labels.values:
        raise BadValue(f"y={_show(label)} is not a label {loss.name} takes; it takes {loss.labels.text}")
    steps = list(_forward(activation, loss, w, bias, x, label))
    z_value = math.fsum(wi * xi for wi, xi in zip(w, x)) + bias
    a_value = _evaluate(activation.expr, {z: z_value})
    point = {z: z_value, a: a_value, y: label}
    numbers = {s: _num(v) for s, v in point.items()}
    gradient = derivation.gradients[w_j]
    value_at = _evaluator(gradient, (x_j, z, a, y))  # once, then a float call per feature
    with sp.evaluate(False):
        template = gradient.xreplace(numbers)
    for index, (wi, xi) in enumerate(zip(w, x), start=1):
        weight, feature = sp.Symbol(f"w_{index}", real=True), sp.Symbol(f"x_{index}", real=True)
        with sp.evaluate(False):
            shown = tidy_numbers(template.xreplace({x_j: _num(xi)}))
        steps += _update(gradient.xreplace({x_j: feature, w_j: weight}), shown, value_at(xi, z_value, a_value, label),
                         weight, wi, lr)
    steps += _parameter_update(derivation.gradients[b], b, bias, point, lr)
    return dataclasses.replace(derivation, steps=derivation.steps + (Section("Worked example"), *steps))


def _forward(activation, loss, w, bias, x, label):
    z_value = math.fsum(wi * xi for wi, xi in zip(w, x)) + bias
    a_value = _evaluate(activation.expr, {z: z_value})
    l_value = _evaluate(loss.expr, {a: a_value, y: label})
    terms = [sp.Mul(_num(wi), _num(xi), evaluate=False) for wi, xi in zip(w, x)] if len(w) <= SPELLED_OUT \
        else [sp.Sum(w_j * x_j, (j, 1, len(w)))]
    with sp.evaluate(False):
        weighted = sp.Add(*terms, _num(bias))
    f, loss_name = named(activation.text, activation.latex), named(loss.text, loss.latex)
    yield Definition(z, (weighted, _num(z_value)), "")
    yield Definition(a, (f(_num(z_value)), _num(a_value)), "")
    yield Definition(L, (loss_name(_num(a_value), _num(label)), _num(l_value)), "")


def _parameter_update(gradient, parameter, current, point, lr):
    numbers = {s: _num(v) for s, v in point.items()}
    with sp.evaluate(False):
        shown = tidy_numbers(gradient.xreplace(numbers))
    return _update(gradient, shown, _evaluate(gradient, point), parameter, current, lr)


def _update(gradient, shown, grad_value, parameter, current, lr):
    step = Minus(_num(current), Times(_num(lr), _num(grad_value)))
    return [Equation(Partial(L, parameter), (gradient, shown, _num(grad_value))),
            Update(parameter, Minus(parameter, Times(alpha, Partial(L, parameter))),
                   (step, _num(current - lr * grad_value)))]


def _read(values: Mapping):
    for key in values:
        if key not in KEYS:
            raise UnknownName("--at value", key, KEYS)
    missing = [k for k in KEYS[:4] if k not in values]
    if missing:
        raise BadValue(f"--at needs {', '.join(missing)}; for example --at w=0.5,b=0,x=2,y=1,lr=0.1")
    w, x = _vector(values["w"], "w"), _vector(values["x"], "x")
    if len(w) != len(x):
        raise BadValue(f"--at has {len(w)} weights but {len(x)} inputs; give w and x the same length")
    return w, _scalar(values["b"], "b"), x, _scalar(values["y"], "y"), _scalar(values.get("lr", 0.1), "lr")


def _vector(v, name):
    items = list(v) if isinstance(v, (list, tuple)) else [v]
    if not items:
        raise BadValue(f"--at {name}=[] is empty; give at least one number")
    return [_scalar(item, name) for item in items]


def _scalar(v, name):
    if isinstance(v, (list, tuple)):
        raise BadValue(f"--at {name} must be one number, not a list")
    try:
        number = float(v)
    except (TypeError, ValueError):
        raise BadValue(f"--at {name}={v!r} is not a number") from None
    if not math.isfinite(number):
        raise BadValue(f"--at {name}={v!r} must be finite")
    return number


def _evaluate(expr, point) -> float:
    return _evaluator(expr, tuple(point))(*point.values())


def _evaluator(expr, symbols):
    """A function of ``symbols``' values giving ``expr``'s real value (15 digits, as sp.N), or raising BadValue."""
    f = sp.lambdify(symbols, expand_named(expr), modules="mpmath")

    def value(*numbers) -> float:
        try:
            number = complex(f(*numbers))
        except (ArithmeticError, ValueError):
            number = complex(math.nan)
        if abs(number.imag) > 1e-12 or not math.isfinite(number.real):
            raise BadValue(f"the example's values make {expr} undefined; choose others")
        return number.real
    return value


def _num(v: float) -> sp.Expr:
    return sp.Integer(int(v)) if float(v).is_integer() and abs(v) < 1e15 else sp.Float(v, DIGITS)


def _show(v: float) -> str:
    return str(_num(v))
