"""Full-batch training on a distributed evaluation (written by hand, not generated): the in-memory fit's rules,
with one round of tasks per evaluation.

    J(θ) = L̄(θ) + (λ/2)·Σ d·θ²,   ∇J = ∇L̄ + λ·d·θ          (d = 1 for a weight, 0 for a bias)

``run(evaluate, theta, state, ...)`` trains theta in place, ``evaluate(theta)`` giving (L̄, ∇L̄). L-BFGS is the
in-memory fit's own (``_lbfgs.minimise``: scipy's L-BFGS-B with scikit-learn's options), so the same objective
takes the same path. Every other optimizer of the registry takes one full-batch step per epoch through the
update every kernel calls (``_optim.update`` on ``state.kernel``: its slots, step count and weight decay), with
the in-memory fit's early-stopping rule: exactly what ``module.fit(..., batch_size=N)`` does in memory.
"""
import math
import sys
import time

from . import _lbfgs, _optim, _training, _validate


def run(evaluate, theta, state, lr, epochs, tol, n_iter_no_change, report):
    """Train theta in place from ``state``; returns the History (``history.state`` continues the run)."""
    if state.full_batch:
        if lr is not None or epochs is not None:
            raise ValueError(f"{state.name} chooses its own steps by line search: drop lr and epochs (max_iter= "
                             f"and tol= bound the iterations)")

        def loss_and_gradient(x, grad):
            value, grad[:] = evaluate(x)
            return value
        return _lbfgs.minimise(loss_and_gradient, theta, state, tol, report)
    if lr is None:
        raise ValueError(f"optimizer={state.name!r} takes full-batch steps of lr: give lr= (and epochs=, the "
                         f"number of steps)")
    lr = _validate.learning_rate(lr)
    epochs = _validate.count(1 if epochs is None else epochs, "epochs", 1, _validate.MAX_EPOCHS)
    stopping, losses, stalled = _training.stopping(tol, n_iter_no_change), [], False
    for epoch in range(epochs):
        value, grad = evaluate(theta)
        norm = _lbfgs.grad_norm(grad)   # of ∇L̄: the update adds the coupled decay to grad in place
        value += _optim.update(theta, grad, 1.0, lr, state.kernel)
        losses.append(value)
        if report:
            report(epoch, value, norm)
        if not math.isfinite(value):
            break
        stalled = bool(_training.stalled(stopping, value))
        if stalled:
            break
    return _training.History(losses, state, len(losses), None if tol is None else stalled)


def reporter(progress):
    """``progress``: None or False (silent), True (a line per iteration on stderr), or a callable
    ``(iteration, J, max |∂J/∂θ|)``."""
    if progress is None or progress is False:
        return None
    if callable(progress):
        return progress
    if progress is not True:
        raise ValueError(f"progress must be True, False, None or a callable (iteration, J, max|dJ/dtheta|), not "
                         f"{type(progress).__name__}")
    start = time.perf_counter()

    def report(iteration, value, norm):
        print(f"derive: iteration {iteration:4d}  J = {value:.12g}  max|dJ/dtheta| = {norm:.3g}  "
              f"({time.perf_counter() - start:.1f} s)", file=sys.stderr, flush=True)
    return report
