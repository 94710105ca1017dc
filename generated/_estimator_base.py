"""What the scikit-learn estimators share (written by hand): input checks through scikit-learn's own helpers,
the kernel module a fit uses, the optimizer's options and the fit itself (``derive.kernels.estimators``).

The objective is the module's mean loss plus (alpha/2)·Σ‖W‖² over the weights, biases free: ``alpha`` is
``SGDClassifier``'s (for L-BFGS on logistic regression, ``LogisticRegression(C)`` with alpha = 1/(C·N)); it is
the optimizer's ``weight_decay``, decoupled for AdamW. ``max_iter`` bounds the epochs (L-BFGS: the iterations);
``tol`` and ``n_iter_no_change`` stop a mini-batch fit as scikit-learn's SGD does (L-BFGS: tol bounds the
gradient). A run that stops at max_iter warns with ``ConvergenceWarning``. The kernel module is loaded by name
when needed (Python caches it, numba compiles it once per process), so the estimators pickle as plain data.
"""
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._available_if import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _optim, _options, available, load

AUTO_BATCH = 200          # batch_size="auto": min(200, N), as scikit-learn's MLPs
RESERVED = {"weight_decay": "alpha", "max_iter": "max_iter"}   # options the estimator sets from its own parameters


class Trained(BaseEstimator):
    """The fit and predict every estimator of ``estimators`` shares; subclasses say which module and labels."""

    def _module(self, name):
        if name not in available():
            kind = self._model_prefix()
            known = sorted(n[len(kind) + 1:] for n in available() if n.startswith(kind + "_"))
            raise ValueError(f"{type(self).__name__}: no kernel module {name!r}; available after {kind}_: "
                             f"{', '.join(known)}")
        return load(name)

    def _model_prefix(self):
        return "neuron"

    def _validate(self, X, y, **y_checks):
        """X as float64 C-ordered, and y, through scikit-learn's checks; a read-only X or y is copied, as the
        compiled loops of a one-output neuron take writable arrays only."""
        X, y = validate_data(self, X, y, dtype=np.float64, order="C", **y_checks)
        return _writable(X), _writable(y)

    def _train(self, name, X, targets, outputs, hidden=None):
        """Fit the module ``name`` with ``outputs`` outputs on (X, targets): sets params_, n_iter_, loss_curve_."""
        module = self._module(name)
        options = dict(self.optimizer_options or {})
        for key, instead in RESERVED.items():
            if key in options:
                raise ValueError(f"give {key} as the estimator's {instead}, not in optimizer_options")
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, numbers.Real) or not self.alpha >= 0:
            raise ValueError(f"alpha must be a number >= 0, not {self.alpha!r}")
        entry, _ = _options.resolve(_optim.OPTIMIZERS, self.optimizer, {**options, "weight_decay": self.alpha})
        rng = check_random_state(self.random_state)
        init_seed, shuffle_seed = (int(s) for s in rng.randint(0, 2**31 - 1, size=2))
        shape = (X.shape[1], tuple(hidden)) if hidden is not None else (X.shape[1],)
        params = module.init(*shape, n_outputs=outputs, seed=init_seed)
        options["weight_decay"] = float(self.alpha)
        if entry["full_batch"]:
            history = module.fit(params, X, targets, optimizer=self.optimizer, tol=self.tol, max_iter=self.max_iter,
                                 **options)
        else:
            lr = entry["lr"] if self.learning_rate is None else self.learning_rate
            batch = min(AUTO_BATCH, len(X)) if self.batch_size == "auto" else self.batch_size
            history = module.fit(params, X, targets, lr, epochs=self.max_iter, batch_size=batch, seed=shuffle_seed,
                                 optimizer=self.optimizer, tol=self.tol, n_iter_no_change=self.n_iter_no_change,
                                 **options)
        if history.converged is False:
            warnings.warn(f"{type(self).__name__}: {self.optimizer} stopped at max_iter={self.max_iter} before "
                          f"converging; raise max_iter (or tol)", ConvergenceWarning)
        self.kernel_, self.params_ = name, params
        self.n_iter_, self.loss_curve_, self.loss_ = history.n_iter, np.asarray(history), float(history[-1])
        return self

    def _output(self, X):
        """The head's output on X: (N,) for one output, else (N, K)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64, order="C")
        return load(self.kernel_).predict(self.params_, _writable(X))


class Classifier(Trained):
    """Any labels mapped to the loss's label set and back: classes_ sorted, as ``np.unique`` gives them."""

    def _classes(self, y):
        check_classification_targets(y)
        self.classes_, indices = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes; got 1 class "
                             f"({self.classes_[0]!r})")
        return indices

    def predict(self, X):
        scores = self._scores(X)   # first: it checks that the estimator is fitted
        return self.classes_[np.argmax(scores, axis=1)]

    @available_if(lambda self: hasattr(self, "predict_proba"))
    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


def _writable(array):
    return array if array.flags.writeable else array.copy()
