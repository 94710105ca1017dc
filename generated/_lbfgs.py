"""Full-batch L-BFGS (written by hand, not generated): scipy's L-BFGS-B on the fused loss and gradient.

    J(θ) = L̄(θ) + (λ/2)·Σ d·θ²,   ∇J = ∇L̄ + λ·d·θ          (d = 1 for a weight, 0 for a bias)

One pass over X per evaluation (the module's ``loss_and_gradient``, on scipy's own x: theta is not copied), the
penalty added in place. The options are scikit-learn's for ``LogisticRegression(solver="lbfgs")`` (gtol = tol,
ftol = 64·eps, at most 50 line-search steps), so that the same objective takes the same path: with λ = 1/(C·N)
this is its objective, mean log-loss plus ‖w‖²/(2·C·N), the intercept not penalised.
"""
import numpy as np

from . import _training

TOL = 1e-4            # scikit-learn's default tol for LogisticRegression
FTOL = 64 * np.finfo(float).eps
MAX_LINE_SEARCH = 50


def minimise(loss_and_gradient, theta, state, tol, report=None):
    """Minimise J from theta (updated in place); ``loss_and_gradient(x, grad)`` writes ∇L̄ into grad and returns
    L̄. Returns the History: J at the start and after each iteration, n_iter, converged, grad_norm, message.
    ``report(iteration, J, max |∂J/∂θ|)``, if given, is called at the start and after each iteration."""
    from scipy.optimize import minimize   # scipy is imported only by a fit that uses it

    tol = TOL if tol is None else _training.stopping(tol, 1)[0]
    lam, decay = state.options["weight_decay"], state.decay
    values, last = [], [None, None]

    def objective(x):
        grad = np.empty_like(x)   # scipy may keep the gradient it is given: a new one per evaluation
        value = loss_and_gradient(x, grad) + _training.penalise(x, grad, decay, lam)
        last[:] = x.copy() if report else None, grad
        if not values:
            values.append(value)   # the first evaluation is at the start
            if report:
                report(0, value, grad_norm(grad))
        return value, grad

    def record(intermediate_result):
        values.append(float(intermediate_result.fun))
        if report:   # the iterate is the point scipy evaluated last (its line search ends there)
            same = last[0] is not None and np.array_equal(last[0], intermediate_result.x)
            report(len(values) - 1, values[-1], grad_norm(last[1]) if same else float("nan"))

    result = minimize(objective, theta, jac=True, method="L-BFGS-B", callback=record,
                      options={"maxiter": state.options["max_iter"], "maxcor": state.options["history_size"],
                               "gtol": tol, "ftol": FTOL, "maxls": MAX_LINE_SEARCH})
    theta[:] = result.x
    state.count[0] += result.nit
    return _training.History(values, state, int(result.nit), bool(result.status == 0), grad_norm(result.jac),
                             str(result.message))


def grad_norm(grad):
    """max |∂J/∂θ|, what tol bounds."""
    return float(np.max(np.abs(grad))) if grad.size else 0.0
