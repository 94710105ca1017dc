"""The public API of every kernel module, written once (by hand, not generated).

    init(n_features[, hidden], n_outputs=K, seed=0) -> params
    predict(params, X)                     -> the head's output, (N,) for one output, else (N, K)
    loss(params, X, y)                     -> the mean loss
    loss_and_gradient(params, X, y)        -> (mean loss, gradient), one pass over X
    gradient(params, X, y)                 -> the gradient of the mean loss, shaped like params
    step(params, X, y, lr, optimizer="sgd", state=None, **options) -> one step in place; the loss before it
    fit(params, X, y, lr, epochs=1, batch_size=1, seed=0, optimizer="sgd", state=None, tol=None,
        n_iter_no_change=5, **options)     -> History: per-epoch mean losses; params updated in place

``optimizer`` is sgd, adam, adamw, rmsprop or lbfgs (full batch: no lr, epochs or batch_size; max_iter=, tol=)
and ``options`` torch.optim's keywords (momentum, dampening, nesterov, betas, eps, weight_decay, amsgrad, alpha,
centered); weight_decay λ adds (λ/2)‖W‖² over the weights, biases free. ``state`` (a ``_training.State``, or
``history.state`` of a fit) holds the optimizer, its options, its slots and the shuffle stream: passed back, the
next call continues exactly. ``tol``: stop when the epoch loss has not improved by tol for n_iter_no_change
epochs (scikit-learn's SGD rule); for lbfgs, the gradient tolerance (default 1e-4).

params = (W1, b1, …, Wk, bk) with W_l of shape (n_in, n_out); a neuron with one output keeps (w, b) with w of
shape (n_features,). The checks return one-line ``ValueError``s (``_validate``); the compiled work happens in
the module's entry points (``module._kernels(widths)``) on one flat parameter vector theta, which this layer
builds from params and writes back. A kernel module calls ``public(module)`` once, at its end.
"""
import contextlib
import math

import numpy as np

from . import _ahead, _lbfgs, _notice, _optim, _threads, _training, _validate


class _Layout:
    """What the API needs to know of a module: its layout, label set and the shapes of its parameters."""

    def __init__(self, module):
        self.module = module
        self.hidden = module.LAYOUT["hidden"]
        self.squeeze = module.LAYOUT["squeeze"]
        self.min_outputs = 2 if module.SPAN == "softmax" else 1
        self.classes = module.SPAN == "softmax"
        self.labels = module.LABELS
        self.init_scheme = getattr(module, "INIT", None)
        self._widths = {}   # checked shapes -> widths
        self._seen = {}     # shapes of parameters that passed the checks -> widths

    def widths(self, arrays):
        """(params checked as float64 arrays, widths as int64) from a params tuple."""
        arrays = _validate.layers(arrays, self.hidden, self.squeeze, self.min_outputs)
        shapes = tuple(a.shape for a in arrays)
        widths = self._widths.get(shapes)
        if widths is None:
            widths = np.array([arrays[0].shape[0]] + [a.shape[0] for a in arrays[1::2]], dtype=np.int64)
            self._widths[shapes] = widths
        return arrays, widths

    def flat(self, params):
        """(checked arrays in the caller's shapes, widths, theta: one flat copy of them all).

        Parameters seen before in these shapes, as float64 C-contiguous arrays, take a fast path: one copy into
        theta and one compiled finiteness check of it (a failure goes the full way, for the message)."""
        if type(params) is tuple:
            shapes = []
            for a in params:
                if type(a) is not np.ndarray or a.dtype != _FLOAT64 or not a.flags.c_contiguous:
                    break
                shapes.append(a.shape)
            else:
                widths = self._seen.get(tuple(shapes))
                if widths is not None:
                    theta = np.concatenate(params, axis=None)
                    if _validate.all_finite(theta):
                        return params, widths, theta
        arrays, widths = self.widths(params)
        if self.squeeze and widths.shape[0] == 2 and widths[1] == 1 and np.ndim(params[0]) == 1:
            arrays = (arrays[0].reshape(-1), arrays[1])   # w stays a vector, as the caller gave it
        self._seen[tuple(a.shape for a in arrays)] = widths
        return arrays, widths, np.concatenate(arrays, axis=None)

    def label_array(self, y, n_rows, widths):
        """Y as the kernels read it, float64: (N, K) values, or (N, 1) class indices (exact in float64)."""
        y = _validate.labels(y, n_rows, self.labels, int(widths[-1]), self.classes)
        return _validate.readable(y.astype(np.float64) if self.classes else y).reshape(n_rows, -1)

    @staticmethod
    def shaped(flat, arrays):
        """Views of a flat vector shaped like ``arrays``."""
        out, offset = [], 0
        for a in arrays:
            part = flat[offset:offset + a.size]
            out.append(part if a.ndim == 1 else part.reshape(a.shape))
            offset += a.size
        return tuple(out)

    def threads(self, kernels, widths, rows):
        """None (one thread) or the number of numba threads, when ``rows`` pay for them (asked only then:
        numba's thread count costs microseconds to read)."""
        if not kernels.split(widths, rows, 2):
            return None
        count = _threads.batch_threads()
        return count if count > 1 and kernels.split(widths, rows, count) else None

    @staticmethod
    def blas(kernels):
        """BLAS held at one thread around entry points that call it (dense products); else nothing to do."""
        return _threads.one_blas_thread() if kernels.blas else _NOTHING


_NOTHING = contextlib.nullcontext()
_FLOAT64 = np.dtype(np.float64)


def public(module):
    """The public functions of ``module``, as a tuple in the order of the names in this docstring."""
    layout = _Layout(module)
    if layout.hidden or layout.classes:   # every call of it runs the shared dense loops: see _ahead
        _ahead.start("dense")

    def init(n_features, *args, n_outputs=None, seed=0):
        return _init(layout, n_features, args, n_outputs, seed)

    def prepare(params, X, y=_validate.NO_LABELS, screen=False):
        """Checked params, widths, theta, X (and Y). X is screened for NaN and inf before an update in place;
        otherwise the entry points report them through their results (a non-finite z of the first layer)."""
        arrays, widths, theta = layout.flat(params)
        X = _validate.features(X, int(widths[0]), screen)
        if y is _validate.NO_LABELS:
            return arrays, widths, theta, X
        return arrays, widths, theta, X, layout.label_array(y, X.shape[0], widths)

    def evaluate(arrays, widths, theta, X, Y):
        kernels = module._kernels(widths)
        grad = np.empty_like(theta)
        with layout.blas(kernels), _notice.compiling(module.__name__, "loss and gradient"):
            value = kernels.loss_and_gradient(theta, widths, X, Y, grad, layout.threads(kernels, widths, len(X)))
        if not (math.isfinite(value) and _validate.all_finite(grad)):
            _validate.finite_result(value, (grad,), X, arrays)
        return value, grad

    def predict(params, X):
        """The head's output f(z) (probabilities for softmax): shape (N,) for one output, else (N, K)."""
        arrays, widths, theta, X = prepare(params, X)
        kernels = module._kernels(widths)
        out = np.empty((X.shape[0], int(widths[-1])))
        with layout.blas(kernels), _notice.compiling(module.__name__, "predict"):
            bad = kernels.predict(theta, widths, X, out, layout.threads(kernels, widths, len(X)))
        if bad:
            _validate.finite_rows(X)
        return out[:, 0].copy() if out.shape[1] == 1 and not layout.classes else out

    def loss(params, X, y):
        """The mean loss over the batch (over its N·K elements for K outputs)."""
        arrays, widths, theta, X, Y = prepare(params, X, y)
        kernels = module._kernels(widths)
        with layout.blas(kernels), _notice.compiling(module.__name__, "loss"):
            value = kernels.loss(theta, widths, X, Y, layout.threads(kernels, widths, len(X)))
        _validate.finite_result(value, (), X, arrays)
        return value

    def loss_and_gradient(params, X, y):
        """(mean loss, gradient of the mean loss shaped like params), in one pass over X."""
        arrays, widths, theta, X, Y = prepare(params, X, y)
        value, grad = evaluate(arrays, widths, theta, X, Y)
        return value, layout.shaped(grad, arrays)

    def gradient(params, X, y):
        """The gradient of the mean loss, shaped like params."""
        return loss_and_gradient(params, X, y)[1]

    def step(params, X, y, lr, optimizer=None, *, state=None, **options):
        """One step of the optimizer in place (default plain SGD: params ← params − lr·gradient), on the mean
        gradient of the batch. Returns the loss before it (with the coupled L2 penalty, when weight_decay is set)."""
        arrays, widths, theta, X, Y = prepare(_validate.writable(params, X), X, y)
        lr = _validate.learning_rate(lr)
        state = _training.state_for(arrays, optimizer, state, None, options)
        if state.full_batch:
            raise ValueError(f"{state.name} is a full-batch optimizer: use fit(params, X, y, optimizer={state.name!r})")
        value, grad = evaluate(arrays, widths, theta, X, Y)
        saved = state.snapshot()
        value += _optim.update(theta, grad, 1.0, lr, state.kernel)
        _write_back(layout, theta, params, X, value, state, saved)
        return value

    def fit(params, X, y, lr=None, epochs=1, batch_size=1, seed=None, optimizer=None, *, state=None, tol=None,
            n_iter_no_change=5, **options):
        """Train in place: mini-batches shuffled anew each epoch, all inside numba; or, for optimizer="lbfgs",
        scipy's L-BFGS-B on the full batch. Returns the History of losses (``history.state`` continues the run)."""
        arrays, widths, theta, X, Y = prepare(_validate.writable(params, X), X, y, screen=True)
        state = _training.state_for(arrays, optimizer, state, seed, options)
        kernels = module._kernels(widths)
        saved = state.snapshot()
        if state.full_batch:
            if lr is not None or epochs != 1 or batch_size != 1:
                raise ValueError(f"{state.name} is full batch, with a line search: drop lr, epochs and batch_size "
                                 f"(max_iter= and tol= bound the iterations)")
            threads = layout.threads(kernels, widths, len(X))
            with layout.blas(kernels), _notice.compiling(module.__name__, "loss and gradient"):
                history = _lbfgs.minimise(lambda x, grad: kernels.loss_and_gradient(x, widths, X, Y, grad, threads),
                                          theta, state, tol)
        else:
            lr = _validate.learning_rate(lr)
            epochs, batch_size, _ = _validate.fit_options(epochs, batch_size, 0, X.shape[0])
            _ahead.start(kernels.shared(batch_size, state.kind, state.hyper))   # before state.kernel compiles a step
            stopping, losses = _training.stopping(tol, n_iter_no_change), np.empty(epochs)
            with layout.blas(kernels), _notice.compiling(module.__name__, "fit"):
                ran = kernels.fit(theta, widths, X, Y, lr, epochs, batch_size, state.shuffle(X.shape[0]), losses,
                                  layout.threads(kernels, widths, batch_size), state.kernel, stopping)
            stalled = bool(stopping[3] >= stopping[1])   # the rule stopped the run (on its last epoch, maybe)
            history = _training.History(losses[:ran], state, ran, None if tol is None else stalled)
        _write_back(layout, theta, params, X, float(history[-1]), state, saved)
        return history

    return init, predict, loss, loss_and_gradient, gradient, step, fit


def _write_back(layout, theta, params, X, value, state, saved):
    """Copy the updated theta into the caller's arrays, after checking that training did not diverge (if it
    did, the state goes back to ``saved`` too)."""
    if not (math.isfinite(value) and _validate.all_finite(theta)):
        state.restore(saved)
        _validate.finite_rows(X)
        raise ValueError("training diverged: the loss or the parameters are no longer finite (the parameters "
                         "were left as they were); use a smaller lr, or scale X")
    for target, source in zip(params, layout.shaped(theta, params)):
        target[...] = source


def _init(layout, n_features, args, n_outputs, seed):
    """Parameters for layer widths n_features → hidden… → n_outputs, seeded; biases 0.

    One layer: W ~ N(0, 1/n_in). With hidden layers: He N(0, 2/n_in) for a ReLU-like g, Glorot
    N(0, 2/(n_in + n_out)) otherwise, and Glorot for the output layer."""
    if layout.hidden:
        if not args:
            raise ValueError("init needs the hidden widths: init(n_features, hidden, n_outputs=1), e.g. init(4, (8,))")
        hidden, *rest = args
        hidden = hidden if isinstance(hidden, (tuple, list)) else (hidden,)
        if not hidden:
            raise ValueError("hidden must be a width or a non-empty tuple of widths")
    else:
        hidden, rest = (), list(args)
    if len(rest) > 1 or (rest and n_outputs is not None):
        raise ValueError("init takes n_features, " + ("hidden, " if layout.hidden else "") + "n_outputs and seed")
    n_outputs = rest[0] if rest else (layout.min_outputs if n_outputs is None else n_outputs)
    widths = [_validate.count(n_features, "n_features"), *(_validate.count(h, "hidden width") for h in hidden),
              _validate.count(n_outputs, "n_outputs" if not layout.classes else "n_outputs (classes)",
                              layout.min_outputs)]
    rng = np.random.default_rng(_validate.seed(seed))
    params = []
    for index, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        last = index == len(widths) - 2
        if not layout.hidden:
            std = math.sqrt(1.0 / n_in)
        elif not last and layout.init_scheme == "he":
            std = math.sqrt(2.0 / n_in)
        else:
            std = math.sqrt(2.0 / (n_in + n_out))
        params += [rng.normal(0.0, std, (n_in, n_out)), np.zeros(n_out)]
    if layout.squeeze and widths[-1] == 1:
        params[0] = params[0].reshape(-1)
    return tuple(params)
