"""scikit-learn estimators over the initlab core: ``MLPClassifier`` and ``MLPRegressor``.

They follow scikit-learn's conventions — ``X`` of shape (n_samples, n_features), ``fit`` returns
the estimator, learned state ends in ``_``, parameters are only stored by ``__init__`` and checked
by ``fit`` — so they work in pipelines, ``GridSearchCV`` (e.g. over ``init``) and
``cross_val_score``. They are a thin face over the core: ``fit`` builds a :class:`~initlab.Network`,
draws its parameters with ``Network.init`` and trains them with :func:`initlab.train`; the only
work done here is moving between scikit-learn's rows and the core's columns (``X.T``) and between
labels and the targets the losses take.

Decisions where scikit-learn's ``MLPClassifier`` differs or leaves room:

- ``max_iter`` counts **updates** (one minibatch, or the whole set for ``solver="gd"``), as
  ``TrainOptions.iterations`` does, not epochs as scikit-learn does: the cost of a fit then does
  not grow with the number of samples, and ``n_iter_``, ``loss_curve_`` and divergence
  messages speak the core's unit. For full-batch training the two are the same.
- ``loss_curve_`` holds the cost on the whole training set recorded **once per epoch**, before
  that epoch's first update: every update for full-batch training (free: it is the forward pass
  the update needs), every ``ceil(n_samples / batch_size)`` updates for minibatches (one extra
  forward pass per epoch). ``loss_`` is the cost of the final parameters.
- No L2 penalty, no early stopping, no tolerance: the core has none; training runs
  ``max_iter`` updates unless it diverges.
- A run that diverges (a non-finite cost or parameter) gives a ``ConvergenceWarning`` naming
  the iteration and keeps the last parameters whose training cost was finite.

>>> from sklearn.datasets import make_circles
>>> X, y = make_circles(200, noise=0.05, factor=0.5, random_state=0)
>>> clf = MLPClassifier(random_state=0).fit(X, y)
>>> clf.network_.sizes, clf.n_iter_
((2, 10, 5, 1), 200)
>>> bool(clf.score(X, y) > 0.95)
True
"""
from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import (Checked, Constraint, InitlabError, Interval, Nullable, OneOf, Registered, _fail, checked,
                          validate)
from ._spec import Spec
from .activations import activation_spec
from .data import one_hot
from .engines import CHOICES as ENGINE_CHOICES
from .engines.common import batches_per_epoch
from .initializers import INITIALIZERS, get_initializer
from .network import Network
from .optim import OPTIMIZERS, get_optimizer
from .training import TrainOptions, train

__all__ = ["MLPClassifier", "MLPRegressor"]

SOLVERS = tuple(OPTIMIZERS)  # gd (full batch), sgd (minibatches), momentum, adam
DEFAULT_SGD_BATCH = 200  # scikit-learn's batch_size="auto": min(200, n_samples)


def _hidden_sizes(name, value):
    """`hidden_layer_sizes` as a tuple of positive ints (one int is one hidden layer; () none)."""
    sizes = (value,) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else value
    ok = isinstance(sizes, (tuple, list, np.ndarray)) and all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in np.ravel(sizes).tolist()
    ) and np.ndim(sizes) == 1
    if not ok:
        _fail(name, "a positive int or a sequence of positive ints (one width per hidden layer)", value)
    return tuple(int(s) for s in sizes)


def _activations(name, value):
    """One activation (a name or text spec, ``Spec``) or a sequence of them, each checked; kept as given."""
    names = (value,) if isinstance(value, (str, Spec)) else value
    if not isinstance(names, (tuple, list)):
        _fail(name, "a name or a sequence of names", value)
    for one in names:
        activation_spec(one)
    return value if isinstance(value, (str, Spec)) else tuple(names)


def _keyword_options(name, value):
    """None (no options) or a dict of keyword options, as a fresh dict."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        _fail(name, "None or a dict of keyword options", value)
    return dict(value)


def _random_sources(random_state):
    """(rng of the initial weights, a function giving the minibatch-order seed), no global state.

    An int is used as initlab uses seeds: ``Network.init(rng=seed)`` (a ``RandomState(seed)``,
    the course notebook's stream) and ``TrainOptions(seed=seed)``. A ``RandomState`` or
    ``Generator`` draws the weights, then the minibatch seed; None is a fresh ``Generator``.
    """
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool) and 0 <= random_state < 2**32:
        return int(random_state), lambda: int(random_state)
    if random_state is None:
        random_state = np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state, lambda: int(random_state.integers(2**32))
    if isinstance(random_state, np.random.RandomState):
        return random_state, lambda: int(random_state.randint(2**32, dtype=np.int64))
    raise InitlabError(
        "The 'random_state' parameter must be an int in [0, 2**32), a numpy RandomState or Generator, "
        f"or None. Got {random_state!r} instead."
    )


class _BaseMLP(BaseEstimator):
    """Parameters, their checks and the training shared by the classifier and the regressor."""

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (10, 5),
        activation: str | Spec | Sequence[str | Spec] = "relu",
        init: str = "he_normal",
        solver: str = "adam",
        learning_rate: float = 0.01,
        max_iter: int = 200,
        batch_size: int | None = None,
        random_state: int | np.random.RandomState | np.random.Generator | None = None,
        init_options: dict[str, Any] | None = None,
        solver_options: dict[str, Any] | None = None,
        engine: str = "numpy",
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.random_state = random_state
        self.init_options = init_options
        self.solver_options = solver_options
        self.engine = engine

    # --- parameters ------------------------------------------------------------------------
    _constraints: dict[str, Constraint] = {  # every parameter of __init__ but random_state (``_random_sources`` reads it)
        "hidden_layer_sizes": Checked(_hidden_sizes),
        "activation": Checked(_activations),
        "init": Registered("initializer", INITIALIZERS),
        "init_options": Checked(_keyword_options),
        "solver": OneOf(SOLVERS),
        "solver_options": Checked(_keyword_options),
        "engine": OneOf(ENGINE_CHOICES),
        "learning_rate": Interval(Real, 0.0, closed="neither"),
        "max_iter": Interval(Integral, 1),
        "batch_size": Nullable(Interval(Integral, 1)),
    }

    def _check_params(self, n_samples):
        """The checked settings: hidden widths, activation(s), TrainOptions, init options."""
        p = validate(self._constraints, self.get_params(deep=False), wrap=True)
        checked("init_options", get_initializer, p["init"], **p["init_options"])
        checked("solver_options", get_optimizer, p["solver"], **p["solver_options"])
        solver, batch_size = p["solver"], p["batch_size"]
        if solver == "gd":
            if batch_size is not None:
                warnings.warn(
                    f"batch_size={batch_size} is ignored with solver='gd' (full-batch gradient descent); "
                    "use solver='sgd' for minibatches.",
                    UserWarning,
                    stacklevel=4,
                )
            batch_size = None
        elif solver == "sgd" and batch_size is None:
            batch_size = min(DEFAULT_SGD_BATCH, n_samples)
        options = dict(
            learning_rate=p["learning_rate"],
            iterations=p["max_iter"],
            record_every=batches_per_epoch(n_samples, batch_size),  # once per epoch
            optimizer=solver,
            optimizer_options=p["solver_options"],
            batch_size=batch_size,
        )
        return p["hidden_layer_sizes"], p["activation"], options, p["init_options"]

    # --- training ----------------------------------------------------------------------------
    def _fit_network(self, X, Y, loss):
        """Build the network, draw its parameters and train them on X (n_samples, n_features)
        against the core's targets Y (n_outputs, n_samples); set the learned state."""
        n_samples, n_features = X.shape
        hidden, activation, options, init_options = self._check_params(n_samples)
        network = checked("activation", Network, (n_features, *hidden, Y.shape[0]), activation, loss)
        init_rng, batch_seed = _random_sources(self.random_state)
        X_columns = X.T  # the core's layout: examples as columns
        params = checked("init", network.init, self.init, rng=init_rng, X=X_columns, **init_options)
        options = TrainOptions(**options, seed=batch_seed())  # drawn after the weights

        last_finite = {}  # the last recorded parameters with a finite training cost

        def keep(i, cost, current):
            if np.isfinite(cost):
                last_finite.update(steps=i, params=current.copy())

        run = train(network, params, X_columns, Y, options, callback=keep, engine=self.engine)
        params, steps = run.params, run.steps
        loss_value = float(network.cost(params, X_columns, Y))
        if run.diverged or not np.isfinite(loss_value):
            if not np.isfinite(loss_value):
                if not last_finite:
                    raise InitlabError(
                        f"The 'init' parameter gives initial parameters whose training cost is not finite "
                        f"({self.init!r} with options {init_options}): choose another initializer or smaller weights."
                    )
                params, steps = last_finite["params"], last_finite["steps"]
                loss_value = float(network.cost(params, X_columns, Y))
            what = run.divergence or f"ended with a training cost of {float(network.cost(run.params, X_columns, Y))}"
            warnings.warn(
                f"{type(self).__name__} training {what}. Keeping the parameters after "
                f"{steps} updates, the last with a finite training cost ({loss_value:.6g}). "
                "Lower the learning_rate or choose another init.",
                ConvergenceWarning,
                stacklevel=3,
            )
        recorded = (run.iterations <= steps) & np.isfinite(run.costs)

        self.network_ = network
        self.params_ = params
        self.n_iter_ = int(steps)
        self.loss_curve_ = [float(c) for c in run.costs[recorded]]
        self.loss_ = loss_value
        self.n_outputs_ = int(Y.shape[0])
        return self

    def _logits(self, X):
        """The output layer's logits Z_L on X (n_samples, n_features), shape (n_outputs, n_samples):
        ``Network.forward``, whose output and labels the loss reads off as ``Network.predict_proba``
        and ``Network.predict`` do. A warning where they overflowed."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            Z = self.network_.forward(self.params_, X.T)[0]
        if not np.isfinite(Z).all():
            bad = int((~np.isfinite(Z).all(axis=0)).sum())
            warnings.warn(
                f"The network's outputs overflow for {bad} of {Z.shape[1]} samples (inputs far outside "
                "the training data, or a diverged fit): their predictions are meaningless.",
                RuntimeWarning,
                stacklevel=3,
            )
        return Z

    # --- sklearn-style views of the parameters -------------------------------------------------
    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices as scikit-learn's ``coefs_``: layer l's has shape (n_{l-1}, n_l) (W_l transposed)."""
        check_is_fitted(self)
        return [W.T.copy() for W, _ in self.network_.unpack(self.params_)]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors as scikit-learn's ``intercepts_``: layer l's has shape (n_l,)."""
        check_is_fitted(self)
        return [b.ravel().copy() for _, b in self.network_.unpack(self.params_)]


_PARAMETERS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(10, 5)
        Width of each hidden layer (an int is one layer, ``()`` none: a linear model).
    activation : str or sequence of str, default="relu"
        Hidden activation, a name of ``initlab.ACTIVATIONS`` — one for every hidden layer or one
        per hidden layer.
    init : str, default="he_normal"
        Weight initializer, a name of ``initlab.INITIALIZERS`` (``"he_normal"``,
        ``"xavier_uniform"``, ``"zeros"``, ``"lsuv"``, ``"sklearn_default"``…); biases follow the
        scheme's own rule, else 0. Data-dependent schemes (``lsuv``) see the training data.
    solver : {"gd", "sgd", "momentum", "adam"}, default="adam"
        ``"gd"``: full-batch gradient descent (``batch_size`` is ignored, with a warning);
        ``"sgd"``: the same update on minibatches; ``"momentum"``, ``"adam"``: full batch, or
        minibatches when ``batch_size`` is given.
    learning_rate : float, default=0.01
        Step size, > 0.
    max_iter : int, default=200
        Number of **updates** (minibatch steps, or full-batch steps for ``"gd"``) — not epochs
        as in scikit-learn. Training always runs them all unless it diverges.
    batch_size : int or None, default=None
        Minibatch size. None: ``min(200, n_samples)`` for ``"sgd"`` (scikit-learn's "auto"),
        the full batch for the others. Each epoch visits the samples in a fresh random order.
    random_state : int, RandomState, Generator or None, default=None
        Source of the initial weights and the minibatch order. An int ``s`` is used as initlab
        uses seeds: ``Network.init(init, rng=s)`` and ``TrainOptions(seed=s)``. Global numpy
        state is never touched.
    init_options : dict or None, default=None
        Options of the initializer, e.g. ``{"std": 0.5}`` for ``"normal"``.
    solver_options : dict or None, default=None
        Options of the update rule, e.g. ``{"beta": 0.95}`` for ``"momentum"``.
    engine : {"numpy", "numba", "auto"}, default="numpy"
        The training engine, as ``initlab.train``'s ``engine``: the numpy reference by default
        (one small model at a time, nothing to compile at first use); ``"numba"`` or ``"auto"``
        for the compiled engine.
"""

_ATTRIBUTES_DOC = """
    network_ : initlab.Network
        The trained architecture (sizes, activations, loss).
    params_ : ndarray of shape (network_.n_params,)
        The trained parameters, one flat vector in the core's layout (W_1, b_1, W_2, …).
    coefs_, intercepts_ : list of ndarray
        The same weights and biases in scikit-learn's layout (read-only copies).
    loss_curve_ : list of float
        Training-set cost once per epoch, before that epoch's first update (every update for
        full-batch training).
    loss_ : float
        Training-set cost of the final parameters.
    n_iter_ : int
        Updates applied (``max_iter`` unless training diverged).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Feature names seen during fit (only when X has string column names).
    n_outputs_ : int
        Output units of the network.
"""


class MLPClassifier(ClassifierMixin, _BaseMLP):
    __doc__ = (
        """A multilayer-perceptron classifier trained by initlab.

    Two classes: one sigmoid output unit and binary cross-entropy; more: one softmax unit per
    class and cross-entropy. Labels may be of any kind (ints, strings…): ``classes_`` holds them
    sorted, and ``predict`` returns them.
"""
        + _PARAMETERS_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted."""
        + _ATTRIBUTES_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from initlab.estimators import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0)
    >>> clf.fit(X, load_iris().target_names[y]).classes_.tolist()
    ['setosa', 'versicolor', 'virginica']
    >>> clf.predict(X[:2]).tolist(), clf.predict_proba(X[:2]).shape
    (['setosa', 'setosa'], (2, 3))
    >>> bool(clf.score(X, load_iris().target_names[y]) > 0.95)
    True
    """
    )

    def fit(self, X: ArrayLike, y: ArrayLike) -> MLPClassifier:
        """Train on X (n_samples, n_features) and labels y (n_samples,); returns self."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        classes, index = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise InitlabError(f"The 'y' parameter must hold at least 2 classes. Got 1 class ({classes.tolist()[0]!r}) instead.")
        if len(classes) == 2:
            Y, loss = index.reshape(1, -1).astype(np.float64), "binary_cross_entropy"
        else:
            Y, loss = one_hot(index, len(classes)), "cross_entropy"
        self._fit_network(X, Y, loss)
        self.classes_ = classes
        return self

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), columns in the order of ``classes_``."""
        Z = self._logits(X)
        with np.errstate(over="ignore", invalid="ignore"):
            P = self.network_.loss_fn.output(Z).T
        if P.shape[1] == 1:  # sigmoid output: P(classes_[1])
            return np.hstack([1.0 - P, P])
        return P

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """The log of ``predict_proba`` (−inf where a probability is 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted labels (from ``classes_``), shape (n_samples,), read off as ``Network.predict``
        does: σ(z) > 0.5 for two classes, the largest logit for more."""
        Z = self._logits(X)
        with np.errstate(over="ignore", invalid="ignore"):
            index = self.network_.loss_fn.predict(Z)  # (1, n_samples)
        return self.classes_[index.ravel()]


class MLPRegressor(RegressorMixin, _BaseMLP):
    __doc__ = (
        """A multilayer-perceptron regressor trained by initlab: linear outputs, mean squared error.

    The loss is ½·Σ(output − y)² averaged over samples (scikit-learn's squared loss); y may have
    one target (1-D) or several (2-D), and ``predict`` returns the same shape.
"""
        + _PARAMETERS_DOC
        + """
    Attributes
    ----------"""
        + _ATTRIBUTES_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from initlab.estimators import MLPRegressor
    >>> X = np.linspace(-3, 3, 200).reshape(-1, 1)
    >>> reg = MLPRegressor(hidden_layer_sizes=(32, 32), max_iter=1000, random_state=0)
    >>> reg.fit(X, np.sin(X).ravel()).predict(X[:3]).shape
    (3,)
    >>> bool(reg.score(X, np.sin(X).ravel()) > 0.95)
    True
    """
    )

    def fit(self, X: ArrayLike, y: ArrayLike) -> MLPRegressor:
        """Train on X (n_samples, n_features) and targets y (n_samples,) or (n_samples, n_outputs); returns self."""
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        assert isinstance(y, np.ndarray)
        _check_target_scale(y)
        y_2d = y.reshape(-1, 1) if y.ndim == 1 else y
        self._fit_network(X, y_2d.T, "mean_squared_error")
        self._y_1d = y.ndim == 1
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted targets, shape (n_samples,) if y was 1-D in fit, else (n_samples, n_outputs)."""
        out = self._logits(X).T  # linear output: the logits are the predictions
        return out.ravel() if self._y_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


_LARGEST_TARGET = 1e150  # (z − y)² overflows a float64 past ~1.3e154: the cost would be inf from the start


def _check_target_scale(y):
    """Targets whose squared error cannot be a finite number are the targets' fault, not the
    initializer's: say so, and how to fix it."""
    largest = float(np.max(np.abs(y))) if y.size else 0.0
    if largest > _LARGEST_TARGET:
        raise InitlabError(
            f"The 'y' parameter must have values of magnitude at most {_LARGEST_TARGET:g} (their squared error "
            f"must be a finite float64). Got values up to {largest:.3g} instead: scale the targets, e.g. with "
            "sklearn.compose.TransformedTargetRegressor(regressor=..., transformer=StandardScaler())."
        )
