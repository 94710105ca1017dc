"""What a training run carries from call to call, and how it ends (written by hand, not generated).

    State(params, optimizer="sgd", seed=0, **options)   the optimizer, its options (torch.optim's names), its
                                                        per-parameter slots, the step count t, the weight-decay
                                                        mask, and the shuffle stream with the current row order
    History                                             the losses of a fit, with n_iter, converged, grad_norm

State in, state out: ``fit`` and ``step`` advance the State they are given (or a fresh one), and a fit returns
it as ``history.state``; passed back (``fit(..., state=history.state)``), the next call continues exactly, its
shuffles included, as one longer call would have. The early-stopping rule is scikit-learn's SGD rule
(``stalled``); it starts afresh on each call.
"""
import math

import numpy as np
from numba import njit

from . import _optim, _options, _validate

_DEPENDS = "a96b23b42c020d28"  # a digest of the helpers this module compiles in; derive generate keeps it current


class State:
    """An optimizer and everything it carries between calls; pass it to ``fit`` or ``step`` as ``state=``."""

    def __init__(self, params, optimizer="sgd", seed=0, **options):
        entry, self.options = _options.resolve(_optim.OPTIMIZERS, optimizer, options)
        if not isinstance(params, (tuple, list)) or len(params) % 2 or not params:
            raise ValueError("params must be a tuple (W1, b1, ..., Wk, bk) of arrays")
        sizes = [int(np.size(p)) for p in params]
        self.name, self.full_batch, self.seed = optimizer, entry["full_batch"], _validate.seed(seed)
        self.kind = entry["kind"]
        self.hyper = np.array(_options.hyper(entry, self.options), dtype=np.float64)
        self.decay = np.concatenate([np.full(size, 1.0 if index % 2 == 0 else 0.0)   # W decays, b does not
                                     for index, size in enumerate(sizes)])
        self.slots = np.zeros((len(entry["slots"]), self.decay.size))
        self.count = np.zeros(1, dtype=np.int64)
        self.stream = np.array([self.seed], dtype=np.uint64)   # SplitMix64's state: _shuffle.seeded(seed)
        self.order = None

    @property
    def t(self):
        """The number of updates taken so far."""
        return int(self.count[0])

    @property
    def kernel(self):
        """The tuple the compiled update reads (``_optim.update``): its arrays are this state's, updated in place."""
        return (self.kind, self.hyper, self.slots, self.count, self.decay, _optim.address(self.kind))

    def shuffle(self, n):
        """(stream, order) for N rows: the row order carries on from the last call on as many rows."""
        if self.order is None or self.order.size != n:
            self.order = np.arange(n, dtype=np.uint64)
        return self.stream, self.order

    def check(self, size):
        if size != self.decay.size:
            raise ValueError(f"this state was made for {self.decay.size} parameters; these params have {size}")

    def snapshot(self):
        return [a.copy() for a in (self.slots, self.count, self.stream)] + [None if self.order is None else
                                                                           self.order.copy()]

    def restore(self, saved):
        """Back to ``snapshot()`` (after a run that diverged: the parameters were left as they were too)."""
        for target, source in zip((self.slots, self.count, self.stream), saved):
            target[...] = source
        self.order = saved[3]

    def __repr__(self):
        options = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"State({self.name!r}, {options}, t={self.t})"


def state_for(params, optimizer, state, seed, options):
    """The State a call uses: ``state`` (which then holds the optimizer, its options and its stream) or a new one."""
    if state is None:
        return State(params, "sgd" if optimizer is None else optimizer, 0 if seed is None else seed, **options)
    if not isinstance(state, State):
        raise ValueError(f"state must be a State (history.state of a fit), not {type(state).__name__}")
    if optimizer is not None and optimizer != state.name:
        raise ValueError(f"state is a {state.name} state; drop optimizer={optimizer!r} or start a new state")
    if options or seed is not None:
        given = ", ".join(sorted(options) + (["seed"] if seed is not None else []))
        raise ValueError(f"the state holds its options and its shuffle stream; drop {given}")
    state.check(sum(int(np.size(p)) for p in params))
    return state


class History(np.ndarray):
    """The loss per epoch (L-BFGS: the objective at the start and after each iteration), with the penalty
    (λ/2)‖W‖² of coupled weight decay included, and how the run ended:

        state      the State after the run: fit(..., state=history.state) continues it
        n_iter     epochs run (L-BFGS: iterations)
        converged  tol met (L-BFGS: scipy's convergence test); False when the epochs or max_iter ran out; None
                   when no tol was given
        grad_norm  L-BFGS: max |∂J/∂θ| at the end, what tol bounds; None otherwise
        message    L-BFGS: scipy's message; "" otherwise
    """

    def __new__(cls, losses, state, n_iter, converged, grad_norm=None, message=""):
        history = np.asarray(losses, dtype=np.float64).view(cls)
        history.state, history.n_iter, history.converged = state, n_iter, converged
        history.grad_norm, history.message = grad_norm, message
        return history

    def __array_finalize__(self, source):
        for name in ("state", "n_iter", "converged", "grad_norm"):
            setattr(self, name, getattr(source, name, None))
        self.message = getattr(source, "message", "")


def stopping(tol, patience):
    """[tol, n_iter_no_change, best loss, epochs without improvement] for ``stalled``; tol None: never stop."""
    tol = -math.inf if tol is None else _tolerance(tol)
    return np.array([tol, _validate.count(patience, "n_iter_no_change"), math.inf, 0.0])


def _tolerance(tol):
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating, np.integer)) \
            or not math.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be a finite number >= 0 (or None), not {tol!r}")
    return float(tol)


@njit(cache=True)
def stalled(stopping, loss):
    """scikit-learn's SGD rule: an epoch whose loss is above best − tol counts, any other resets the count; the
    run stops when n_iter_no_change epochs in a row counted. Updates ``stopping`` in place."""
    if loss > stopping[2] - stopping[0]:
        stopping[3] += 1.0
    else:
        stopping[3] = 0.0
    if loss < stopping[2]:
        stopping[2] = loss
    return stopping[3] >= stopping[1]


@njit(cache=True, error_model="numpy")
def penalise(theta, grad, decay, lam):
    """grad += λ·d·θ in place; returns (λ/2)·Σ d·θ²: the L2 penalty on the weights and its gradient."""
    squares = 0.0
    for i in range(theta.shape[0]):
        squares += decay[i] * theta[i] * theta[i]
        grad[i] += lam * decay[i] * theta[i]
    return 0.5 * lam * squares
