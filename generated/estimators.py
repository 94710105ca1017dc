"""scikit-learn estimators over the generated kernels; ``import derive.kernels.estimators`` needs scikit-learn
but not SymPy.

    NeuronClassifier(activation="sigmoid", loss="bce")    one neuron per class (one for two classes), any loss
                                                           with two labels (bce 0/1, hinge ±1, squared_hinge)
    NeuronRegressor(activation="identity", loss="mse")     one neuron per target
    SoftmaxClassifier()                                    softmax regression (multinomial logistic regression)
    MLPClassifier(hidden_layer_sizes=(100,), activation="relu")   sigmoid + bce for two classes, softmax beyond
    MLPRegressor(hidden_layer_sizes=(100,), activation="relu")    identity + mse, one output per target

Every estimator also takes ``optimizer`` (sgd, adam, adamw, rmsprop or lbfgs: "lbfgs" for the linear models,
"adam" for the MLPs), ``alpha`` (the L2 strength, as SGDClassifier's), ``learning_rate`` (None: the optimizer's
torch default), ``batch_size``, ``max_iter``, ``tol``, ``n_iter_no_change``, ``random_state`` and
``optimizer_options`` (torch.optim's keywords: momentum, betas, eps, amsgrad, alpha (RMSprop's), centered …).
Classifiers map any labels to the loss's label set and back; ``predict_proba`` is there when the head's output
is a probability (sigmoid + bce, softmax). Fitted: ``params_`` (the kernels' (W1, b1, …)), ``n_iter_``,
``loss_curve_``, ``classes_``, ``n_features_in_``, and ``coef_``/``intercept_`` (linear) or ``coefs_``/
``intercepts_`` (MLP).
"""
import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._available_if import available_if

from ._estimator_base import Classifier, Trained

__all__ = ["MLPClassifier", "MLPRegressor", "NeuronClassifier", "NeuronRegressor", "SoftmaxClassifier"]


class _Linear:
    """coef_ (K, D) and intercept_ (K,), as scikit-learn's linear models give them."""

    @property
    def coef_(self):
        W = self.params_[0]
        return W.reshape(1, -1) if W.ndim == 1 else W.T

    @property
    def intercept_(self):
        return self.params_[1]


class _Layers:
    """coefs_ and intercepts_ per layer, (inputs, outputs) as scikit-learn's MLPs store them."""

    _model_prefix = staticmethod(lambda: "mlp")

    @property
    def coefs_(self):
        return list(self.params_[0::2])

    @property
    def intercepts_(self):
        return list(self.params_[1::2])


def _options(self, optimizer, alpha, learning_rate, batch_size, max_iter, tol, n_iter_no_change, random_state,
             optimizer_options):
    self.optimizer, self.alpha, self.learning_rate, self.batch_size = optimizer, alpha, learning_rate, batch_size
    self.max_iter, self.tol, self.n_iter_no_change = max_iter, tol, n_iter_no_change
    self.random_state, self.optimizer_options = random_state, optimizer_options


class NeuronClassifier(ClassifierMixin, _Linear, Classifier):
    """One neuron per class, f(x·w + b), trained on a loss with two labels; for more than two classes, one
    versus the rest (predict: the largest output)."""

    def __init__(self, activation="sigmoid", loss="bce", *, optimizer="lbfgs", alpha=1e-4, learning_rate=None,
                 batch_size="auto", max_iter=100, tol=1e-4, n_iter_no_change=10, random_state=None,
                 optimizer_options=None):
        self.activation, self.loss = activation, loss
        _options(self, optimizer, alpha, learning_rate, batch_size, max_iter, tol, n_iter_no_change, random_state,
                 optimizer_options)

    def fit(self, X, y):
        X, y = self._validate(X, y)
        indices = self._classes(y)
        name = f"neuron_{self.activation}_{self.loss}"
        low, high = _two_labels(self._module(name).LABELS, self.loss)
        outputs = 1 if len(self.classes_) == 2 else len(self.classes_)
        targets = np.where(indices == 1, high, low) if outputs == 1 else \
            np.where(np.eye(outputs, dtype=bool)[indices], high, low)
        return self._train(name, X, targets, outputs)

    def _scores(self, X):
        out = self._output(X)
        if out.ndim == 1:
            low, high = _two_labels(self._module(self.kernel_).LABELS, self.loss)
            middle = (low + high) / 2
            return np.column_stack([middle - out, out - middle])
        return out

    def _probabilistic(self):
        return self._module(f"neuron_{self.activation}_{self.loss}").LABELS == ("interval", 0.0, 1.0)

    @available_if(_probabilistic)
    def predict_proba(self, X):
        """P(class): [1 − p, p] for two classes; the outputs normalised to sum to 1 beyond (one versus the rest)."""
        out = self._output(X)
        return np.column_stack([1.0 - out, out]) if out.ndim == 1 else out / out.sum(axis=1, keepdims=True)


class SoftmaxClassifier(ClassifierMixin, _Linear, Classifier):
    """Softmax regression: p = softmax(x·W + b) over the classes, with cross-entropy (multinomial logistic
    regression; with optimizer="lbfgs" and alpha = 1/(C·N), LogisticRegression(C)'s objective)."""

    def __init__(self, *, optimizer="lbfgs", alpha=1e-4, learning_rate=None, batch_size="auto", max_iter=100,
                 tol=1e-4, n_iter_no_change=10, random_state=None, optimizer_options=None):
        _options(self, optimizer, alpha, learning_rate, batch_size, max_iter, tol, n_iter_no_change, random_state,
                 optimizer_options)

    def _model_prefix(self):
        return "softmax"

    def fit(self, X, y):
        X, y = self._validate(X, y)
        indices = self._classes(y)
        return self._train("softmax_softmax_cross_entropy", X, indices, len(self.classes_))

    def _scores(self, X):
        return self._output(X)

    def predict_proba(self, X):
        return self._output(X)


class MLPClassifier(ClassifierMixin, _Layers, Classifier):
    """Dense hidden layers g(·) of ``hidden_layer_sizes``, then sigmoid + bce for two classes or softmax +
    cross-entropy for more."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, optimizer="adam", alpha=1e-4,
                 learning_rate=None, batch_size="auto", max_iter=200, tol=1e-4, n_iter_no_change=10,
                 random_state=None, optimizer_options=None):
        self.hidden_layer_sizes, self.activation = hidden_layer_sizes, activation
        _options(self, optimizer, alpha, learning_rate, batch_size, max_iter, tol, n_iter_no_change, random_state,
                 optimizer_options)

    def fit(self, X, y):
        X, y = self._validate(X, y)
        indices = self._classes(y)
        two = len(self.classes_) == 2
        head = "sigmoid_bce" if two else "softmax_cross_entropy"
        return self._train(f"mlp_{self.activation}_{head}", X, indices.astype(np.float64) if two else indices,
                           1 if two else len(self.classes_), _widths(self.hidden_layer_sizes))

    def _scores(self, X):
        return self.predict_proba(X)

    def predict_proba(self, X):
        out = self._output(X)
        return np.column_stack([1.0 - out, out]) if out.ndim == 1 else out


class _Regressor(RegressorMixin):
    def _fit_targets(self, X, y):
        X, y = self._validate(X, y, multi_output=True, y_numeric=True)
        self._two_d = y.ndim == 2
        return X, y, (y.shape[1] if y.ndim == 2 else 1)

    def predict(self, X):
        out = self._output(X)
        return out.reshape(len(out), -1) if self._two_d else out

    def __sklearn_tags__(self):
        found = super().__sklearn_tags__()
        found.target_tags.multi_output = True   # several targets: one output each
        return found


class NeuronRegressor(_Regressor, _Linear, Trained):
    """One neuron per target, f(x·w + b), on a loss that takes real (or count) labels."""

    def __init__(self, activation="identity", loss="mse", *, optimizer="lbfgs", alpha=1e-4, learning_rate=None,
                 batch_size="auto", max_iter=100, tol=1e-4, n_iter_no_change=10, random_state=None,
                 optimizer_options=None):
        self.activation, self.loss = activation, loss
        _options(self, optimizer, alpha, learning_rate, batch_size, max_iter, tol, n_iter_no_change, random_state,
                 optimizer_options)

    def fit(self, X, y):
        X, y, outputs = self._fit_targets(X, y)
        return self._train(f"neuron_{self.activation}_{self.loss}", X, y, outputs)


class MLPRegressor(_Regressor, _Layers, Trained):
    """Dense hidden layers g(·) of ``hidden_layer_sizes``, then identity + mse, one output per target."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, optimizer="adam", alpha=1e-4,
                 learning_rate=None, batch_size="auto", max_iter=200, tol=1e-4, n_iter_no_change=10,
                 random_state=None, optimizer_options=None):
        self.hidden_layer_sizes, self.activation = hidden_layer_sizes, activation
        _options(self, optimizer, alpha, learning_rate, batch_size, max_iter, tol, n_iter_no_change, random_state,
                 optimizer_options)

    def fit(self, X, y):
        X, y, outputs = self._fit_targets(X, y)
        return self._train(f"mlp_{self.activation}_identity_mse", X, y, outputs, _widths(self.hidden_layer_sizes))


def _two_labels(spec, loss):
    """(negative, positive) label of a loss that takes two: a set of two values, or a bounded interval's ends."""
    if spec[0] == "set" and len(spec[1]) == 2:
        return float(spec[1][0]), float(spec[1][1])
    if spec[0] == "interval" and np.isfinite(spec[1]) and np.isfinite(spec[2]):
        return float(spec[1]), float(spec[2])
    raise ValueError(f"loss {loss!r} does not take two labels, so it cannot classify; use bce, hinge or "
                     f"squared_hinge (or NeuronRegressor)")


def _widths(sizes):
    """hidden_layer_sizes as a tuple of widths (one width may be given as a number)."""
    return (sizes,) if np.ndim(sizes) == 0 else tuple(sizes)
