"""Input validation of every public kernel function: each bad input is one line of ValueError, and nothing the
caller passed is changed."""
import math
import re

import numpy as np
import pytest

from kernel_cases import MODULES, _cached_problem, assert_params_close, outputs_of, problem

# one module per model, the MLP's two kinds of head, a neuron with K outputs, and the label sets of hinge,
# poisson_nll and mae (with ReLU, which maps NaN and -inf to 0, so a NaN cannot be found from the result)
VALIDATED = ["neuron_sigmoid_bce", "softmax_softmax_cross_entropy", "mlp_tanh_sigmoid_bce",
             "mlp_relu_softmax_cross_entropy", "neuron_relu_hinge", "neuron_softplus_poisson_nll",
             "neuron_relu_mae"]


PREDICT, LOSSES_OF, UPDATES = ("predict",), ("loss", "loss_and_gradient", "gradient"), ("step", "fit")
ALL = PREDICT + LOSSES_OF + UPDATES
LABELLED = LOSSES_OF + UPDATES


def _grown(array, axis):
    return np.concatenate([array, np.take(array, [0], axis=axis)], axis=axis)


def _strided(array):
    """The same values, not C-contiguous."""
    wide = np.zeros(array.shape[:-1] + (2 * array.shape[-1],))
    wide[..., ::2] = array
    return wide[..., ::2]


def _read_only(array):
    array = array.copy()
    array.setflags(write=False)
    return array


def _with(array, index, value, dtype=None):
    array = np.array(array, dtype=dtype or np.asarray(array).dtype, copy=True)
    array[index] = value
    return array


def _bad_label_values(spec, n_classes):
    """Values outside the loss's label set."""
    kind = spec[0]
    if kind == "classes":
        return (n_classes, -1, 1.5)
    if kind == "set":
        return (0.0, 2.0)
    if kind == "interval":
        return (spec[1] - 1.0,) + ((spec[2] + 1.0,) if math.isfinite(spec[2]) else ())
    return ()


def _bad_inputs(name):
    """(case id, functions it applies to, a function of (params, X, y, K) giving the bad arguments, match)."""
    module = MODULES[name]
    params, X, labels = _cached_problem(name, outputs_of(module))
    P = len(params)
    cases = [
        ("params too short", ALL, lambda p, X, y, K: dict(params=p[:-1]), "params"),
        ("params too long", ALL, lambda p, X, y, K: dict(params=p + (p[-1],)), "params"),
        ("params a dict", ALL, lambda p, X, y, K: dict(params=dict(enumerate(p))), "params"),
        ("params None", ALL, lambda p, X, y, K: dict(params=None), "params"),
        ("params one array", ALL, lambda p, X, y, K: dict(params=p[0]), "params"),
        # step and fit refuse these first, as arrays they cannot update in place
        ("params holding a string", ALL, lambda p, X, y, K: dict(params=("w",) + p[1:]), r"real|params\[0\]"),
        ("params complex", ALL, lambda p, X, y, K: dict(params=(p[0].astype(complex),) + p[1:]),
         r"real|params\[0\]"),
        ("params object", ALL, lambda p, X, y, K: dict(params=(p[0].astype(object),) + p[1:]), r"real|params\[0\]"),
        ("params int64 beyond 2**53", ALL,
         lambda p, X, y, K: dict(params=(_with(p[0].astype(np.int64), (0,) * p[0].ndim, 2**53 + 1),) + p[1:]),
         r"2\*\*53|params\[0\]"),
        ("params NaN", ALL, lambda p, X, y, K: dict(params=(_with(p[0], (0,) * p[0].ndim, np.nan),) + p[1:]),
         "finite"),
        ("params inf", ALL, lambda p, X, y, K: dict(params=p[:-1] + (_with(p[-1], 0, -np.inf),)), "finite"),
    ]
    for index in range(P):
        for axis in range(params[index].ndim):
            cases.append((f"params[{index}] grown along axis {axis}", ALL,
                          lambda p, X, y, K, i=index, ax=axis: dict(params=p[:i] + (_grown(p[i], ax),) + p[i + 1:]),
                          "shape"))
        cases.append((f"params[{index}] with an extra axis", ALL,
                      lambda p, X, y, K, i=index: dict(params=p[:i] + (p[i][None],) + p[i + 1:]), "shape"))
    cases += [
        ("X missing a column", ALL, lambda p, X, y, K: dict(X=X[:, :-1]), "X has|X must have shape"),
        ("X with an extra column", ALL, lambda p, X, y, K: dict(X=np.hstack([X, X[:, :1]])), "X has|X must have shape"),
        ("X 1-D row", ALL, lambda p, X, y, K: dict(X=X[0], y=y[:1]), "X has|X must have shape"),
        ("X 1-D flat", ALL, lambda p, X, y, K: dict(X=X.ravel()), "X has|X must have shape"),
        ("X 3-D", ALL, lambda p, X, y, K: dict(X=X[None]), "X has|X must have shape"),
        ("X scalar", ALL, lambda p, X, y, K: dict(X=1.0), "X has|X must have shape"),
        ("X empty", ALL, lambda p, X, y, K: dict(X=X[:0], y=y[:0]), "X has|X must have shape"),
        ("X None", ALL, lambda p, X, y, K: dict(X=None), "X must hold real numbers"),
        ("X NaN", ALL, lambda p, X, y, K: dict(X=_with(X, (5, 1), np.nan)), r"X\[5, 1\]"),
        ("X inf", ALL, lambda p, X, y, K: dict(X=_with(X, (7, 0), np.inf)), r"X\[7, 0\]"),
        ("X -inf", ALL, lambda p, X, y, K: dict(X=_with(X, (3, 2), -np.inf)), r"X\[3, 2\]"),
        ("X NaN and a huge value", ALL,
         lambda p, X, y, K: dict(X=_with(_with(X, (2, 0), 1e308), (9, 2), np.nan)), r"X\[9, 2\]"),
        ("X complex", ALL, lambda p, X, y, K: dict(X=X.astype(complex)), "X must hold real numbers"),
        ("X object", ALL, lambda p, X, y, K: dict(X=X.astype(object)), "X must hold real numbers"),
        ("X strings", ALL, lambda p, X, y, K: dict(X=X.astype(str)), "X must hold real numbers"),
        ("X int64 beyond 2**53", ALL, lambda p, X, y, K: dict(X=_with(X.astype(np.int64), (4, 1), 2**53 + 1)),
         "2\\*\\*53"),
        ("X int64 below -2**53", ALL, lambda p, X, y, K: dict(X=_with(X.astype(np.int64), (4, 1), -2**53 - 1)),
         "2\\*\\*53"),
        ("y too short", LABELLED, lambda p, X, y, K: dict(y=y[:-1]), "y has shape"),
        ("y too long", LABELLED, lambda p, X, y, K: dict(y=np.append(y, y[:1])), "y has shape"),
        ("y 3-D", LABELLED, lambda p, X, y, K: dict(y=y[:, None, None]), "y has shape"),
        ("y scalar", LABELLED, lambda p, X, y, K: dict(y=y[0]), "y has shape"),
        ("y None", LABELLED, lambda p, X, y, K: dict(y=None), "y must hold"),
        ("y NaN", LABELLED, lambda p, X, y, K: dict(y=_with(y, 4, np.nan, float)), r"y\[4\]|integer class"),
        ("y inf", LABELLED, lambda p, X, y, K: dict(y=_with(y, 4, np.inf, float)), r"y\[4\]|integer class"),
        ("y complex", LABELLED, lambda p, X, y, K: dict(y=y.astype(complex)), "y must hold"),
        ("y object", LABELLED, lambda p, X, y, K: dict(y=y.astype(object)), "y must hold"),
        ("y strings", LABELLED, lambda p, X, y, K: dict(y=y.astype(str)), "y must hold"),
        ("y int64 beyond 2**53", LABELLED, lambda p, X, y, K: dict(y=_with(y.astype(np.int64), 0, 2**53 + 1)),
         r"2\*\*53|y\[0\]"),
    ]
    for value in _bad_label_values(module.LABELS, outputs_of(module)):
        dtype = np.int64 if isinstance(value, int) else float   # class indices stay int64, 1.5 cannot
        cases.append((f"label {value}", LABELLED, lambda p, X, y, K, v=value, t=dtype: dict(y=_with(y, 2, v, t)),
                      r"y\[2\]|integer class"))
    for lr in (0, -0.1, np.nan, np.inf, "0.1", "fast", None, True, 1j):
        cases.append((f"lr {lr!r}", UPDATES, lambda p, X, y, K, lr=lr: dict(lr=lr), "lr"))
    for option, values in (("epochs", (0, -1, 1.5, "2", None, True, 10**12)), ("batch_size", (0, -1, 2.0, "1", True)),
                           ("seed", (-1, 2**32, 1.5, "0", False))):   # seed=None: 0, or the state's stream
        for value in values:
            cases.append((f"{option} {value!r}", ("fit",), lambda p, X, y, K, o=option, v=value: {o: v}, option))
    for what, change in (("read-only", _read_only), ("float32", lambda q: q.astype(np.float32)),
                         ("non-contiguous", _strided), ("int64", lambda q: np.round(q).astype(np.int64))):
        cases.append((f"params {what} (updated in place)", UPDATES,
                      lambda p, X, y, K, c=change: dict(params=(c(p[0]),) + p[1:]), "params\\[0\\]"))
    cases += [
        ("X masked", ALL, lambda p, X, y, K: dict(X=np.ma.masked_array(X, mask=X > 1)), "masked"),
        ("y masked", LABELLED, lambda p, X, y, K: dict(y=np.ma.masked_array(y, mask=np.arange(len(y)) == 2)),
         "masked"),
        ("params sharing memory with X", UPDATES, lambda p, X, y, K: _aliased(p, X), "shares memory with X"),
    ]
    return [(name, case_id, functions, build, match) for case_id, functions, build, match in cases]


def _aliased(params, X):
    """params whose first array is a view of the X passed with them: an update in place would change X."""
    X = X.copy()
    return dict(params=(X.reshape(-1)[:params[0].size].reshape(params[0].shape),) + params[1:], X=X)


# Bugs reported to the lead, in the templates (which this file's author may not edit): strict, so a fix shows.
KNOWN_BUGS: dict[str, str] = {}  # case -> reason, for a bug found and not yet fixed (strict xfail)
BAD_INPUTS = [pytest.param(*case, id=f"{case[0]}-{case[1]}",
                           marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[case[1]])]
                           if case[1] in KNOWN_BUGS else [])
              for name in VALIDATED for case in _bad_inputs(name)]


def _call(module, function, params, X, y, lr=0.05, epochs=2, batch_size=4, seed=0):
    return {"predict": lambda: module.predict(params, X), "loss": lambda: module.loss(params, X, y),
            "loss_and_gradient": lambda: module.loss_and_gradient(params, X, y),
            "gradient": lambda: module.gradient(params, X, y), "step": lambda: module.step(params, X, y, lr),
            "fit": lambda: module.fit(params, X, y, lr, epochs=epochs, batch_size=batch_size, seed=seed)}[function]()


@pytest.mark.parametrize("name, case, functions, build, match", BAD_INPUTS)
def test_bad_input_raises_one_line_value_error(name, case, functions, build, match):
    module = MODULES[name]
    for function in functions:
        params, X, labels = problem(name)
        arguments = dict(params=params, X=X, y=labels)
        arguments.update(build(params, X, labels, outputs_of(module)))
        given = arguments["params"]
        before = [np.array(p, copy=True) for p in given] if isinstance(given, tuple) else None
        with pytest.raises(ValueError) as raised:
            _call(module, function, **arguments)
        message = str(raised.value)
        assert message and "\n" not in message, f"{function}: not one line: {message!r}"
        assert re.search(match, message), f"{function}: {message!r} does not match {match!r}"
        if before is not None:
            for p, q in zip(given, before):
                np.testing.assert_array_equal(p, q, err_msg=f"{function} changed params it refused")


@pytest.mark.parametrize("name", VALIDATED)
def test_lossless_conversions_are_accepted(name):
    """Lists, float32, int32, non-contiguous arrays: converted where no value changes, with the same result."""
    module = MODULES[name]
    params, X, labels = problem(name)
    params32 = tuple(p.astype(np.float32) for p in params)
    params64 = tuple(p.astype(np.float64) for p in params32)
    X32 = X.astype(np.float32)
    for given, X_given, X_exact in ((params32, X, X), (list(params32), X.tolist(), X),
                                    (params64, X32, X32.astype(np.float64)),
                                    (tuple(_strided(p) for p in params64), np.asfortranarray(X), X)):
        value, grads = module.loss_and_gradient(given, X_given, labels.tolist())
        exact = module.loss_and_gradient(params64, X_exact, labels)
        assert value == exact[0]
        assert_params_close(grads, exact[1], 0.0, "converted input")
    assert module.loss(params, np.round(X * 4).astype(np.int32), labels) == \
        module.loss(params, np.round(X * 4).astype(np.float64), labels)


def test_a_weight_vector_of_the_wrong_length_names_both_sides():
    module = MODULES["neuron_sigmoid_bce"]
    params, X, labels = problem("neuron_sigmoid_bce")
    with pytest.raises(ValueError, match=r"X has 3 columns, but the parameters take 2 features \(the first "
                       r"weights' rows\).*or, if X is right, weights of 3 rows$"):
        module.loss((params[0][:2], params[1]), X, labels)


def test_finite_inputs_whose_sums_overflow_are_refused_in_one_line():
    module = MODULES["neuron_sigmoid_bce"]
    X = np.array([[1e308, 1e308], [1.0, 1.0]])
    with pytest.raises(ValueError, match="overflow"):
        module.loss((np.ones(2), np.zeros(1)), X, np.array([1.0, 0.0]))


@pytest.mark.parametrize("name", ["neuron_identity_mse", "mlp_tanh_identity_mse"])
def test_a_diverging_fit_is_refused_and_leaves_params_unchanged(name):
    module = MODULES[name]
    params, X, labels = problem(name)
    before = tuple(p.copy() for p in params)
    with pytest.raises(ValueError, match="diverged"):
        module.fit(params, X * 1e150, labels, 1e308, epochs=3, batch_size=4)
    assert_params_close(params, before, 0.0, "a refused fit")



@pytest.mark.parametrize("name", VALIDATED)
def test_read_only_inputs_give_the_same_results(name, tmp_path):
    """X and y from read-only memory (a view with write=False, a memory map opened for reading) work, uncopied."""
    module = MODULES[name]
    params, X, labels = problem(name)
    expected = module.loss_and_gradient(params, X, labels)
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    frozen_y = labels.copy()
    frozen_y.setflags(write=False)
    for X_given in (mapped, np.array(X, copy=True)):
        X_given.setflags(write=False) if X_given.flags.writeable else None
        value, grads = module.loss_and_gradient(params, X_given, frozen_y)
        assert value == expected[0]
        assert_params_close(grads, expected[1], 0.0, "read-only input")
        np.testing.assert_array_equal(module.predict(params, X_given), module.predict(params, X))
        fitted = tuple(p.copy() for p in params)
        module.fit(fitted, X_given, frozen_y, 0.01, epochs=1, batch_size=4)
