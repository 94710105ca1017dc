"""Every module at the edges of the float range: the loss and ∂L/∂z of every neuron against mpmath for z up to
±700, and the wide models (softmax, MLPs) finite for logits up to ±700."""
import functools
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from derive import verify
from derive.catalogue import ACTIVATIONS, LOSSES
from derive.catalogue.functions import expand_named
from derive.catalogue.symbols import a, y, z
from kernel_cases import MODULES, NAMES, outputs_of

NEURONS = [name for name in NAMES if MODULES[name].MODEL == "neuron"]
WIDE = [name for name in NAMES if MODULES[name].MODEL != "neuron"]
SWEEP = np.concatenate([np.linspace(-700.0, 700.0, 201), [-700.0, 0.0, 700.0]])


def _sweep_labels(spec, n_classes=None):
    """Label values the loss takes: both ends and a middle of an interval, every value of a set."""
    kind = spec[0]
    if kind == "classes":
        return tuple(range(n_classes))
    if kind == "set":
        return spec[1]
    if kind == "interval":
        low, high = spec[1], spec[2]
        return (low, (low + high) / 2, high) if math.isfinite(high) else (low, low + 1.0, low + 3.0)
    return (-3.0, 0.0, 3.0)


@functools.lru_cache(maxsize=None)
def _references(activation, loss):
    """L(f(z), y) and ∂L/∂z from the catalogue's expressions, for mpmath; and the kink expressions."""
    composed = expand_named(LOSSES[loss].expr).subs(a, expand_named(ACTIVATIONS[activation].expr))
    value = sp.lambdify((z, y), composed, "mpmath")
    slope = sp.lambdify((z, y), sp.diff(composed, z), "mpmath")
    kinks = [sp.lambdify((z, y), k, "math") for k in ACTIVATIONS[activation].kinks] + \
            [sp.lambdify((z, y), k.subs(a, expand_named(ACTIVATIONS[activation].expr)), "math")
             for k in LOSSES[loss].kinks]
    return value, slope, kinks


def _exact(function, zv, yv):
    """function(z, y) to 17 correct digits: at 50 and 100 digits when they agree, else at 350 (log(1 + e^-140)
    needs 61 digits before its first correct one, and 1 - σ(700) 304); inf only if it is infinite."""
    results = []
    for digits in (50, 100, 350):
        with mpmath.workdps(digits):
            try:
                results.append(function(mpmath.mpf(zv), mpmath.mpf(yv)))
            except (ValueError, ZeroDivisionError):
                results.append(None)
        if digits == 100 and None not in results and mpmath.isfinite(results[1]) \
                and abs(results[0] - results[1]) <= mpmath.mpf(10)**-30 * max(abs(results[1]), 1):
            return float(results[1])
    return float(results[-1]) if results[-1] is not None and mpmath.isfinite(results[-1]) else math.inf


@pytest.mark.parametrize("name", NEURONS)
def test_neuron_is_finite_and_accurate_for_z_up_to_700(name):
    """w = 1, b = 0 and x = z: the loss and ∂L/∂z at every z in [-700, 700], against mpmath (_exact).

    Every valid pair has a finite true loss and slope at every such z (the reference says so; no point is
    excluded), so each must come out finite, and accurate to 1e-12: relative, or absolute below 1."""
    module = MODULES[name]
    value, slope, kinks = _references(module.ACTIVATION, module.LOSS)
    params = (np.ones(1), np.zeros(1))
    failures = []
    for label in _sweep_labels(module.LABELS):
        for zv in SWEEP:
            X, labels = np.array([[zv]]), np.array([label])
            loss = module.loss(params, X, labels)
            same, (gw, gb) = module.loss_and_gradient(params, X, labels)
            true_loss, true_slope = _exact(value, zv, label), _exact(slope, zv, label)
            assert math.isfinite(true_loss) and math.isfinite(true_slope), \
                f"the true value is infinite at z = {zv}, y = {label}: exclude that point with a proof"
            on_kink = any(abs(k(zv, label)) < 1e-9 for k in kinks)
            if not (np.isfinite([loss, same, gw[0], gb[0]]).all()
                    and abs(loss - true_loss) <= 1e-12 * max(abs(true_loss), 1.0)
                    and abs(same - loss) <= 1e-15 * abs(loss)  # the loss's two compiled paths: an FMA apart
                    and (on_kink or abs(gb[0] - true_slope) <= 1e-12 * max(abs(true_slope), 1.0))
                    and abs(gw[0] - gb[0] * zv) <= 1e-15 * abs(gw[0])):
                failures.append(f"z = {zv:g}, y = {label:g}: L = {loss!r} (true {true_loss!r}), "
                                f"∂L/∂z = {gb[0]!r} (true {true_slope!r}), ∂L/∂w = {gw[0]!r}")
    assert not failures, f"{name}: {len(failures)} bad points\n" + "\n".join(failures[:10])


def _wide_params(module, X):
    """Params whose output logits run over ±700 as x runs over SWEEP (and a first layer whose z does too)."""
    K = module.SPAN == "softmax"
    spread = np.array([[1.0, 0.0, -1.0], [-1.0, 0.0, 1.0]]) if K else np.array([[1.0], [-1.0]])
    if module.MODEL == "softmax":
        return (spread[:1].copy(), np.zeros(3))
    params = [np.array([[1.0, -1.0]]), np.zeros(2), np.eye(2), np.zeros(2), spread, np.zeros(spread.shape[1])]
    zs, _ = verify.forward(module, params, X)
    params[4] = spread * (700.0 / np.max(np.abs(zs[-1])))
    return tuple(params)


@pytest.mark.parametrize("name", WIDE)
def test_wide_models_are_finite_for_logits_up_to_700(name):
    module = MODULES[name]
    X = SWEEP[:, None].copy()
    params = _wide_params(module, X)
    zs, _ = verify.forward(module, params, X)
    assert np.isclose(np.max(np.abs(zs[-1])), 700.0) and np.max(np.abs(zs[0])) == 700.0
    out = module.predict(params, X)
    assert np.all(np.isfinite(out))
    if out.ndim == 2:
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-13)
    failures = []
    for label in _sweep_labels(module.LABELS, outputs_of(module)):
        for row, zv in enumerate(SWEEP):
            labels = np.array([label])
            loss = module.loss(params, X[row:row + 1], labels)
            same, grads = module.loss_and_gradient(params, X[row:row + 1], labels)
            if not (np.isfinite([loss, same]).all() and all(np.isfinite(g).all() for g in grads)):
                failures.append(f"x = {zv:g}, y = {label}: L = {loss!r}, gradient {grads}")
    assert not failures, f"{name}: {len(failures)} bad points\n" + "\n".join(failures[:10])
