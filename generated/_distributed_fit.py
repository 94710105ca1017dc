"""Full-batch training on any loss-and-gradient evaluation (written by hand, not generated).

    J(θ) = L̄(θ) + (λ/2)·Σ d·θ²,   ∇J = ∇L̄ + λ·d·θ          (d = 1 for a weight, 0 for a bias)

``run(evaluate, theta, decay, options)`` minimises J from theta (updated in place), ``evaluate(theta)`` giving
(L̄, ∇L̄) from one pass over the data. L-BFGS is scipy's L-BFGS-B with the options the in-memory fit and
scikit-learn's ``LogisticRegression(solver="lbfgs")`` use (gtol = tol, ftol = 64·eps, at most 50 line-search
steps, history_size corrections), so that the same objective takes the same path. Any other optimizer takes
full-batch steps through the one update every kernel calls, ``_optim.update``; ``rule`` is the seam where an
optimizer of ``_optim`` plugs in (today plain gradient descent, "sgd").
"""
import math
import sys
import time

import numpy as np

from . import _optim, _validate

FTOL = 64 * np.finfo(float).eps
MAX_LINE_SEARCH = 50
STEPPED = ("sgd",)   # the full-batch step rules _optim has; an optimizer added there is added here


class History(np.ndarray):
    """J at the start and after each iteration, with how the run ended:

        n_iter     iterations (L-BFGS) or steps taken
        converged  whether max |∂J/∂θ| ≤ tol (or, for L-BFGS, J stalled) before max_iter ran out
        grad_norm  max |∂J/∂θ| at the end, what tol bounds
        message    why it stopped
    """

    def __new__(cls, values, n_iter, converged, grad_norm, message):
        history = np.asarray(values, dtype=np.float64).view(cls)
        history.n_iter, history.converged, history.grad_norm, history.message = n_iter, converged, grad_norm, message
        return history

    def __array_finalize__(self, source):
        for name in ("n_iter", "converged", "grad_norm"):
            setattr(self, name, getattr(source, name, None))
        self.message = getattr(source, "message", "")


def options(optimizer, weight_decay, max_iter, tol, lr, history_size, progress):
    """The fit's options, checked: one-line ValueErrors."""
    if optimizer != "lbfgs" and optimizer not in STEPPED:
        raise ValueError(f"optimizer must be 'lbfgs' or one of {', '.join(map(repr, STEPPED))}, not {optimizer!r}")
    if optimizer == "lbfgs" and lr is not None:
        raise ValueError("L-BFGS chooses its own step by line search: drop lr")
    if optimizer != "lbfgs" and lr is None:
        raise ValueError(f"optimizer={optimizer!r} takes full-batch steps of lr: give lr=")
    lam = _number(weight_decay, "weight_decay")
    if progress is not None and progress is not True and progress is not False and not callable(progress):
        raise ValueError(f"progress must be True, False, None or a callable, not {type(progress).__name__}")
    return {"optimizer": optimizer, "weight_decay": lam, "max_iter": _validate.count(max_iter, "max_iter"),
            "tol": _number(tol, "tol"), "lr": None if lr is None else _validate.learning_rate(lr),
            "history_size": _validate.count(history_size, "history_size"),
            "report": _printer() if progress is True else (progress or None)}


def run(evaluate, theta, decay, options):
    """Minimise J from theta (updated in place, only when the run ends well); returns the History."""
    lam = options["weight_decay"]
    report = options["report"] or (lambda *_: None)

    def objective(x):
        value, grad = evaluate(x)
        value += penalise(x, grad, decay, lam)
        return value, grad

    driver = _lbfgs if options["optimizer"] == "lbfgs" else _steps
    x, history = driver(objective, theta.copy(), options, report)
    if not (math.isfinite(history[-1]) and np.isfinite(x).all()):
        raise ValueError("training diverged: J or the parameters are no longer finite (the parameters were left "
                         "as they were); use a smaller lr, or scale X")
    theta[:] = x
    return history


def penalise(theta, grad, decay, lam):
    """grad += λ·d·θ in place; returns (λ/2)·Σ d·θ²: the L2 penalty on the weights and its gradient."""
    if lam == 0.0:
        return 0.0
    weighted = decay * theta
    grad += lam * weighted
    return 0.5 * lam * float(weighted @ theta)


def rule(optimizer, size):
    """The tuple ``_optim.update`` reads for a full-batch optimizer: the seam for _optim's rules. Today _optim
    has plain descent only; when it gains adam, rmsprop …, their names join STEPPED and this returns their state
    tuple, and since their update adds coupled weight decay itself, ``run`` then leaves λ·d·θ out of ∇J."""
    return _optim.plain(size)


def _lbfgs(objective, x0, options, report):
    from scipy.optimize import minimize   # scipy is imported only by a fit that uses it

    values, last = [], {}

    def tracked(x):
        value, grad = objective(x)
        last.update(x=x.copy(), grad=grad)
        if not values:
            values.append(value)
            report(0, value, _norm(grad))
        return value, grad

    def record(intermediate_result):
        values.append(float(intermediate_result.fun))
        same = "x" in last and np.array_equal(last["x"], intermediate_result.x)
        report(len(values) - 1, values[-1], _norm(last["grad"]) if same else math.nan)

    result = minimize(tracked, x0, jac=True, method="L-BFGS-B", callback=record,
                      options={"maxiter": options["max_iter"], "maxcor": options["history_size"],
                               "gtol": options["tol"], "ftol": FTOL, "maxls": MAX_LINE_SEARCH})
    return result.x, History(values, int(result.nit), bool(result.status == 0), _norm(result.jac),
                             str(result.message))


def _steps(objective, theta, options, report):
    """Full-batch steps θ ← update(θ, ∇J) until max |∂J/∂θ| ≤ tol or max_iter steps; J before each step and at
    the end."""
    update = rule(options["optimizer"], theta.size)
    values, steps = [], 0
    while True:
        value, grad = objective(theta)
        values.append(value)
        norm = _norm(grad)
        report(steps, value, norm)
        if norm <= options["tol"] or steps == options["max_iter"] or not math.isfinite(value):
            break
        _optim.update(theta, grad, 1.0, options["lr"], update)
        steps += 1
    converged = norm <= options["tol"]
    message = "max |dJ/dtheta| <= tol" if converged else f"stopped after max_iter = {options['max_iter']} steps"
    return theta, History(values, steps, converged, norm, message)


def _norm(grad):
    return float(np.max(np.abs(grad))) if grad.size else 0.0


def _number(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")
    return float(value)


def _printer():
    """progress=True: one line per iteration on stderr."""
    start = time.perf_counter()

    def report(iteration, value, norm):
        print(f"derive: iteration {iteration:4d}  J = {value:.12g}  max|dJ/dtheta| = {norm:.3g}  "
              f"({time.perf_counter() - start:.1f} s)", file=sys.stderr, flush=True)
    return report
