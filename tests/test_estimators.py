"""The scikit-learn estimators: sklearn's own checks, model selection, labels, and parity with the core."""
import pickle
import re

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from initlab import INITIALIZERS, Network, TrainOptions, train
from initlab._validation import InitlabError
from initlab.data import circles, one_hot
from initlab.estimators import MLPClassifier, MLPRegressor

CIRCLES = circles()  # the course notebook's data, examples as columns
X_CIRCLES, Y_CIRCLES = CIRCLES.X_train.T, CIRCLES.Y_train.ravel()  # sklearn's layout: rows
X_IRIS, Y_IRIS = load_iris(return_X_y=True)


# --- scikit-learn's common checks --------------------------------------------------------------
@parametrize_with_checks([MLPClassifier(), MLPRegressor()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# --- model selection -----------------------------------------------------------------------------
def test_grid_search_over_init_prefers_he_and_xavier_to_zeros():
    grid = {"init": ["zeros", "he_normal", "xavier_normal"]}
    search = GridSearchCV(MLPClassifier(random_state=0), grid, cv=3).fit(X_CIRCLES, Y_CIRCLES)
    scores = dict(zip(search.cv_results_["param_init"], search.cv_results_["mean_test_score"]))
    assert search.best_params_["init"] in ("he_normal", "xavier_normal")
    assert scores["zeros"] <= 0.6 < 0.9 < min(scores["he_normal"], scores["xavier_normal"])  # zeros never breaks symmetry
    assert search.best_estimator_.score(CIRCLES.X_test.T, CIRCLES.Y_test.ravel()) > 0.9


def test_grid_search_in_a_pipeline_on_digits():
    X, y = load_digits(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(32,), random_state=0))
    search = GridSearchCV(pipe, {"mlpclassifier__init": ["zeros", "he_normal"]}, cv=3).fit(X, y)
    assert search.best_params_ == {"mlpclassifier__init": "he_normal"}
    assert search.best_score_ > 0.9


def test_cross_val_score():
    scores = cross_val_score(MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0), X_IRIS, Y_IRIS, cv=5)
    assert scores.shape == (5,) and scores.mean() > 0.9
    r2 = cross_val_score(MLPRegressor(random_state=0, max_iter=500), *_smooth_regression(), cv=3)
    assert r2.min() > 0.8


# --- labels, outputs and learned state --------------------------------------------------------
@pytest.mark.parametrize("labels", [["inner", "outer"], [-1, 1], [3.0, 7.0], [True, False]])
def test_binary_labels_of_any_kind(labels):
    y = np.asarray(labels)[Y_CIRCLES.astype(int)]
    clf = MLPClassifier(random_state=0).fit(X_CIRCLES, y)
    np.testing.assert_array_equal(clf.classes_, np.unique(y))
    assert clf.network_.sizes == (2, 10, 5, 1) and clf.network_.loss == "binary_cross_entropy" and clf.n_outputs_ == 1
    pred, proba = clf.predict(X_CIRCLES), clf.predict_proba(X_CIRCLES)
    assert pred.dtype == clf.classes_.dtype and set(pred) <= set(clf.classes_)
    assert proba.shape == (300, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], pred)
    assert clf.score(X_CIRCLES, y) > 0.9


def test_multiclass_string_labels():
    names = load_iris().target_names[Y_IRIS]
    clf = MLPClassifier(hidden_layer_sizes=(16,), activation="tanh", init="xavier_normal", max_iter=300, random_state=0)
    clf.fit(X_IRIS, names)
    assert clf.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert clf.network_.sizes == (4, 16, 3) and clf.network_.loss == "cross_entropy" and clf.n_outputs_ == 3
    assert clf.predict_proba(X_IRIS).shape == (150, 3)
    np.testing.assert_allclose(clf.predict_log_proba(X_IRIS[:5]), np.log(clf.predict_proba(X_IRIS[:5])))
    assert clf.score(X_IRIS, names) > 0.95


def test_learned_state():
    clf = MLPClassifier(max_iter=50, random_state=3).fit(X_CIRCLES, Y_CIRCLES)
    assert clf.n_features_in_ == 2 and clf.n_iter_ == 50
    assert clf.params_.shape == (clf.network_.n_params,) == (91,)
    assert len(clf.loss_curve_) == 50  # full batch: one cost per update, before it
    assert clf.loss_curve_[0] == pytest.approx(clf.network_.cost(clf.network_.init("he_normal", rng=3), CIRCLES.X_train, CIRCLES.Y_train))
    assert clf.loss_ == pytest.approx(clf.network_.cost(clf.params_, CIRCLES.X_train, CIRCLES.Y_train))
    assert clf.loss_ < clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert [c.shape for c in clf.coefs_] == [(2, 10), (10, 5), (5, 1)]  # scikit-learn's layout
    assert [b.shape for b in clf.intercepts_] == [(10,), (5,), (1,)]
    W1, b1 = clf.network_.unpack(clf.params_)[0]
    np.testing.assert_array_equal(clf.coefs_[0], W1.T)
    np.testing.assert_array_equal(clf.intercepts_[0], b1.ravel())


def test_minibatches_record_the_cost_once_per_epoch():
    clf = MLPClassifier(solver="sgd", learning_rate=0.1, max_iter=9, random_state=0).fit(X_CIRCLES, Y_CIRCLES)
    assert len(clf.loss_curve_) == 5 and clf.n_iter_ == 9  # batch_size min(200, 300): 2 updates an epoch
    clf = MLPClassifier(solver="adam", batch_size=100, max_iter=9, random_state=0).fit(X_CIRCLES, Y_CIRCLES)
    assert len(clf.loss_curve_) == 3


def test_regressor_fits_a_smooth_function():
    X, y = _smooth_regression()
    reg = MLPRegressor(hidden_layer_sizes=(32, 32), activation="tanh", init="xavier_normal", max_iter=1000, random_state=0)
    reg.fit(X, y)
    assert reg.network_.sizes == (2, 32, 32, 1) and reg.network_.loss == "mean_squared_error"
    assert reg.predict(X).shape == (400,)
    assert reg.score(X, y) > 0.95


def test_regressor_keeps_the_shape_of_y():
    X, y = _smooth_regression()
    Y2 = np.column_stack([y, -2 * y])
    reg = MLPRegressor(hidden_layer_sizes=(32,), max_iter=500, random_state=0).fit(X, Y2)
    assert reg.n_outputs_ == 2 and reg.predict(X).shape == (400, 2) and reg.score(X, Y2) > 0.9
    assert MLPRegressor(max_iter=5, random_state=0).fit(X, y[:, None]).predict(X).shape == (400, 1)


def test_no_hidden_layer_is_logistic_regression():
    clf = MLPClassifier(hidden_layer_sizes=(), random_state=0).fit(X_IRIS, Y_IRIS)
    assert clf.network_.sizes == (4, 3) and clf.score(X_IRIS, Y_IRIS) > 0.8


def test_data_dependent_init_sees_the_training_data():
    clf = MLPClassifier(init="lsuv", max_iter=1, random_state=0).fit(X_IRIS, Y_IRIS)
    first = Network((4, 10, 5, 3), "relu", "cross_entropy").init("lsuv", rng=0, X=X_IRIS.T)
    assert clf.loss_curve_[0] == pytest.approx(clf.network_.cost(first, X_IRIS.T, one_hot(Y_IRIS, 3)))


def test_pickle_after_predict():
    clf = MLPClassifier(max_iter=20, random_state=0).fit(X_IRIS, Y_IRIS)
    before = clf.predict_proba(X_IRIS)  # caches the network's loss and activations (lambdas)
    network = clf.network_
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X_IRIS), before)
    assert clf.network_ is network  # pickling leaves the live estimator alone


# --- a thin face over the core ---------------------------------------------------------------
def test_same_as_training_the_network_directly_full_batch():
    clf = MLPClassifier(solver="gd", learning_rate=0.3, max_iter=500, random_state=3).fit(X_CIRCLES, Y_CIRCLES)
    net = Network((2, 10, 5, 1), "relu", "binary_cross_entropy")
    run = train(net, net.init("he_normal", rng=3), CIRCLES.X_train, CIRCLES.Y_train, TrainOptions(0.3, 500, 1, "gd"), engine="numpy")
    np.testing.assert_array_equal(clf.params_, run.params)
    np.testing.assert_array_equal(clf.loss_curve_, run.costs)
    X_test = CIRCLES.X_test
    np.testing.assert_array_equal(clf.predict(X_test.T), net.predict(run.params, X_test).ravel())
    np.testing.assert_array_equal(clf.predict_proba(X_test.T)[:, 1], net.predict_proba(run.params, X_test).ravel())


def test_same_as_training_the_network_directly_minibatch_multiclass():
    clf = MLPClassifier(hidden_layer_sizes=(8,), activation="tanh", init="xavier_uniform", solver="adam",
                        batch_size=32, max_iter=100, random_state=7).fit(X_IRIS, Y_IRIS)
    net = Network((4, 8, 3), "tanh", "cross_entropy")
    options = TrainOptions(0.01, 100, record_every=5, optimizer="adam", batch_size=32, seed=7)  # 150/32: 5 batches an epoch
    run = train(net, net.init("xavier_uniform", rng=7), X_IRIS.T, one_hot(Y_IRIS, 3), options, engine="numpy")
    np.testing.assert_array_equal(clf.params_, run.params)
    np.testing.assert_array_equal(clf.loss_curve_, run.costs)
    np.testing.assert_array_equal(clf.predict_proba(X_IRIS), net.predict_proba(run.params, X_IRIS.T).T)
    np.testing.assert_array_equal(clf.predict(X_IRIS), net.predict(run.params, X_IRIS.T).ravel())


def test_same_as_training_the_network_directly_regression():
    X, y = _smooth_regression()
    reg = MLPRegressor(solver="momentum", init="torch_default", solver_options={"beta": 0.8}, max_iter=50, random_state=1)
    reg.fit(X, y)
    net = Network((2, 10, 5, 1), "relu", "mean_squared_error")
    options = TrainOptions(0.01, 50, 1, "momentum", {"beta": 0.8}, seed=1)
    run = train(net, net.init("torch_default", rng=1), X.T, y[None, :], options, engine="numpy")
    np.testing.assert_array_equal(reg.params_, run.params)
    np.testing.assert_array_equal(reg.predict(X), net.predict_proba(run.params, X.T).ravel())


# --- randomness ----------------------------------------------------------------------------------
def test_random_state_conventions_and_no_global_state():
    state = np.random.get_state()[1].copy()
    a = MLPClassifier(max_iter=10, random_state=3).fit(X_CIRCLES, Y_CIRCLES)
    b = MLPClassifier(max_iter=10, random_state=np.random.RandomState(3)).fit(X_CIRCLES, Y_CIRCLES)
    np.testing.assert_array_equal(a.params_, b.params_)  # full batch: only the initial draw, the same stream
    c = MLPClassifier(max_iter=10).fit(X_CIRCLES, Y_CIRCLES)
    d = MLPClassifier(max_iter=10, random_state=np.random.default_rng(0)).fit(X_CIRCLES, Y_CIRCLES)
    assert not np.array_equal(c.params_, d.params_)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # numpy's global state untouched


def test_minibatch_order_follows_random_state():
    fit = lambda seed: MLPClassifier(solver="sgd", batch_size=50, max_iter=30, random_state=seed).fit(X_CIRCLES, Y_CIRCLES)
    np.testing.assert_array_equal(fit(5).params_, fit(5).params_)
    assert not np.array_equal(fit(5).params_, fit(6).params_)


# --- divergence ------------------------------------------------------------------------------------
def test_divergence_warns_and_keeps_the_last_finite_parameters():
    X, y = _smooth_regression()
    reg = MLPRegressor(solver="gd", learning_rate=10.0, max_iter=200, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"MLPRegressor training diverged at iteration (\d+)") as record:
        reg.fit(X, 100 * y)
    iteration = int(re.search(r"iteration (\d+)", str(record[0].message)).group(1))
    assert reg.n_iter_ < iteration < 200 and f"after {reg.n_iter_} updates" in str(record[0].message)
    assert np.isfinite(reg.params_).all() and np.isfinite(reg.loss_) and np.isfinite(reg.loss_curve_).all()
    assert np.isfinite(reg.predict(X)).all()


def test_classifier_divergence_keeps_finite_probabilities():
    clf = MLPClassifier(solver="sgd", batch_size=50, learning_rate=1e300, init="random", init_options={"scale": 1e3}, random_state=0)
    with pytest.warns(ConvergenceWarning, match="diverged at iteration"):
        clf.fit(X_CIRCLES, Y_CIRCLES)
    assert np.isfinite(clf.predict_proba(X_CIRCLES)).all()


def test_initial_parameters_with_a_non_finite_cost_are_an_error():
    with pytest.raises(InitlabError, match="The 'init' parameter gives initial parameters whose training cost is not finite"):
        MLPRegressor(init="constant", init_options={"value": 1e200}, random_state=0).fit(*_smooth_regression())


# --- bad parameters ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": (10, 0)}, "The 'hidden_layer_sizes' parameter must be a positive int or a sequence of positive ints"),
        ({"hidden_layer_sizes": "10"}, "The 'hidden_layer_sizes' parameter must be"),
        ({"activation": "rellu"}, "The 'activation' parameter is invalid. Unknown activation 'rellu'. Expected one of: .*relu.* Did you mean 'relu'"),
        ({"activation": ("relu", "tanh", "relu")}, "The 'activation' parameter must be one name or 2 names"),
        ({"init": "hee_normal"}, "The 'init' parameter is invalid. Unknown initializer 'hee_normal'. Expected one of: .*he_normal.*xavier_normal"),
        ({"init": "normal", "init_options": {"stdd": 1}}, r"The 'init_options' parameter is invalid. The initializer 'normal' does not take options \['stdd'\]"),
        ({"init": "normal", "init_options": {"std": -1}}, "The 'init_options' parameter is invalid. The 'std' parameter must be a finite float > 0"),
        ({"init_options": ["std"]}, "The 'init_options' parameter must be None or a dict"),
        ({"solver": "lbfgs"}, "The 'solver' parameter must be one of gd, sgd, momentum, adam. Got 'lbfgs' instead."),
        ({"solver": "momentum", "solver_options": {"beta": 1.5}}, "The 'solver_options' parameter is invalid. The 'beta' parameter"),
        ({"learning_rate": -1}, re.escape("The 'learning_rate' parameter must be a finite float > 0. Got -1 instead.")),
        ({"learning_rate": 0}, "The 'learning_rate' parameter must be a finite float > 0"),
        ({"max_iter": 0}, "The 'max_iter' parameter must be an int >= 1. Got 0 instead."),
        ({"max_iter": 2.5}, "The 'max_iter' parameter must be an int >= 1"),
        ({"batch_size": 0, "solver": "sgd"}, "The 'batch_size' parameter must be an int >= 1"),
        ({"random_state": -1}, "The 'random_state' parameter must be an int in"),
        ({"random_state": "seed"}, "The 'random_state' parameter must be an int in"),
        ({"engine": "fortran"}, "The 'engine' parameter must be one of auto, numpy, numba"),
    ],
)
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_bad_parameters_name_the_parameter(Estimator, params, match):
    estimator = Estimator(**params)  # __init__ only stores
    with pytest.raises(InitlabError, match=match) as info:
        estimator.fit(X_IRIS, Y_IRIS)
    assert isinstance(info.value, ValueError)
    assert not hasattr(estimator, "params_")


def test_initializer_names_come_from_the_registry():
    with pytest.raises(InitlabError) as info:
        MLPClassifier(init="nope").fit(X_IRIS, Y_IRIS)
    assert all(name in str(info.value) for name in INITIALIZERS)


def test_one_class_is_an_error_naming_y():
    with pytest.raises(InitlabError, match=r"The 'y' parameter must hold at least 2 classes. Got 1 class \('a'\) instead."):
        MLPClassifier().fit(X_IRIS, ["a"] * 150)


def test_batch_size_with_full_batch_gd_warns():
    with pytest.warns(UserWarning, match="batch_size=32 is ignored with solver='gd'"):
        clf = MLPClassifier(solver="gd", batch_size=32, max_iter=4, random_state=0).fit(X_CIRCLES, Y_CIRCLES)
    assert len(clf.loss_curve_) == 4


def _smooth_regression(n=400):
    """y = sin(x₀) + x₁²/2 on [−2, 2]², no noise."""
    X = np.random.RandomState(0).uniform(-2, 2, size=(n, 2))
    return X, np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2


def test_regressor_targets_too_large_to_square_are_named():
    """(z − y)² overflows for |y| ≳ 1.3e154: that is the targets' fault (it used to blame 'init')."""
    import pytest

    from initlab import InitlabError, MLPRegressor

    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(InitlabError, match=r"The 'y' parameter must have values of magnitude at most 1e\+150.*up to 2.*e\+200.*TransformedTargetRegressor"):
        MLPRegressor(max_iter=10).fit(X, X[:, 0] * 1e200)
    MLPRegressor(max_iter=10).fit(X, X[:, 0] * 1e100)  # large but squarable: accepted
