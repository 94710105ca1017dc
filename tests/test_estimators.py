"""The scikit-learn estimators: scikit-learn's own estimator checks (every expected failure listed with its
reason), labels mapped and back, and the same optimum as scikit-learn's own estimators on the same objective."""
import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.datasets import load_breast_cancer, load_iris  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from derive.kernels.estimators import (MLPClassifier, MLPRegressor, NeuronClassifier, NeuronRegressor,  # noqa: E402
                                       SoftmaxClassifier)

ESTIMATORS = [NeuronClassifier(), NeuronClassifier("identity", "hinge"), NeuronRegressor(), SoftmaxClassifier(),
              MLPClassifier(), MLPRegressor()]
EXPECTED_FAILURES: dict = {}   # check name -> why it cannot pass (per estimator class name)


def expected_failures(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures, xfail_strict=True)
def test_scikit_learns_estimator_checks(estimator, check):
    check(estimator)


def _cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), np.where(y == 1, "benign", "malignant")


@pytest.mark.parametrize("estimator, data", [(NeuronClassifier, _cancer), (SoftmaxClassifier, _cancer),
                                             (SoftmaxClassifier, lambda: load_iris(return_X_y=True))])
def test_linear_classifiers_reach_logistic_regressions_optimum(estimator, data):
    """alpha = 1/(C·N) is LogisticRegression(C)'s objective: the same probabilities, and the same coefficients.
    Softmax regression over two classes has two weight vectors W₁, W₂ for one logit difference w = W₂ − W₁; the
    penalty splits w evenly, ‖W₁‖² + ‖W₂‖² = ‖w‖²/2, so it is binary logistic regression with C doubled."""
    X, y = data()
    C, tol = 0.1, 1e-10
    doubled = estimator is SoftmaxClassifier and len(np.unique(y)) == 2
    theirs = LogisticRegression(C=2 * C if doubled else C, tol=tol, max_iter=10_000).fit(X, y)
    # a fixed start: from some random starts, L-BFGS stops by scipy's relative-reduction rule (ftol = 64·eps, as
    # scikit-learn sets it) in iris's flattest direction, up to 1.3e-6 relative from the optimum
    ours = estimator(alpha=1 / (C * len(X)), tol=tol, max_iter=10_000, random_state=0).fit(X, y)
    assert list(ours.classes_) == list(theirs.classes_) and ours.n_features_in_ == X.shape[1]
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    if ours.coef_.shape == theirs.coef_.shape:
        np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6 * np.abs(theirs.coef_).max())


def test_labels_are_mapped_to_the_losses_label_set_and_back():
    X, y = _cancer()
    hinge = NeuronClassifier("identity", "hinge", alpha=1e-3).fit(X, y)   # trained on ±1, answers in the labels
    assert set(hinge.predict(X)) == {"benign", "malignant"} and hinge.score(X, y) > 0.95
    assert not hasattr(hinge, "predict_proba"), "a hinge score is not a probability"
    iris_X, iris_y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[iris_y]
    for model in (NeuronClassifier(max_iter=500), MLPClassifier(hidden_layer_sizes=(8,), max_iter=500,
                                                                learning_rate=1e-2, random_state=0)):
        model.fit(StandardScaler().fit_transform(iris_X), labels)
        assert list(model.classes_) == ["setosa", "versicolor", "virginica"]
        assert model.predict_proba(StandardScaler().fit_transform(iris_X)).shape == (150, 3)
        assert model.score(StandardScaler().fit_transform(iris_X), labels) > 0.9


def test_regressors_take_several_targets_through_the_multi_output_heads():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    Y = np.column_stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]])
    mlp = MLPRegressor(hidden_layer_sizes=(32,), activation="tanh", learning_rate=1e-2, max_iter=400, random_state=0)
    assert mlp.fit(X, Y).predict(X).shape == (400, 2) and mlp.score(X, Y) > 0.9
    assert [W.shape for W in mlp.coefs_] == [(3, 32), (32, 2)]
    linear = NeuronRegressor(loss="huber").fit(X, X @ [1.0, -2.0, 0.5] + 3.0)
    np.testing.assert_allclose(linear.coef_, [[1.0, -2.0, 0.5]], atol=1e-3)
    np.testing.assert_allclose(linear.intercept_, [3.0], atol=1e-3)


def test_an_estimator_in_a_pipeline_with_cross_validation():
    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), NeuronClassifier(alpha=1e-3))
    assert cross_val_score(model, X, y, cv=5).mean() > 0.95
    mlp = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), optimizer="sgd",
                                                        learning_rate=0.05, random_state=0,
                                                        optimizer_options={"momentum": 0.9, "nesterov": True}))
    assert cross_val_score(mlp, X, y, cv=3).mean() > 0.93


@pytest.mark.parametrize("estimator, match", [
    (NeuronClassifier(loss="mse"), "loss 'mse' does not take two labels, so it cannot classify"),
    (NeuronClassifier(activation="cube"), "no kernel module 'neuron_cube_bce'; available after neuron_: "),
    (MLPClassifier(optimizer="adam", optimizer_options={"momentum": 0.9}), "adam takes no option 'momentum'"),
    (SoftmaxClassifier(optimizer_options={"weight_decay": 0.1}), "give weight_decay as the estimator's alpha"),
    (SoftmaxClassifier(alpha=-1.0), "alpha must be a number >= 0"),
    (SoftmaxClassifier(optimizer="newton"), "unknown optimizer 'newton'"),
])
def test_bad_parameters_are_one_line_errors_at_fit(estimator, match):
    X, y = _cancer()
    with pytest.raises(ValueError, match=match) as error:
        estimator.fit(X[:50], y[:50])
    assert "\n" not in str(error.value)


def test_running_out_of_iterations_warns():
    from sklearn.exceptions import ConvergenceWarning
    X, y = _cancer()
    with pytest.warns(ConvergenceWarning, match="stopped at max_iter=2"):
        model = NeuronClassifier(max_iter=2).fit(X, y)
    assert model.n_iter_ == 2


def test_the_estimators_import_without_sympy():
    import subprocess
    import sys
    code = "import sys, derive.kernels.estimators; print('sympy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
