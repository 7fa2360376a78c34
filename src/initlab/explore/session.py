"""The train view's experiment, without a widget: the notebook's comparison (``initlab compare``)
trained a few iterations at a time, so that a page can draw each step.

``TrainSettings`` is plain data; ``TrainSession(settings)`` draws each initializer's weights as
``compare.compare_initializers`` does (``network.init(name, rng=seed, X=X_train)``: the notebook's
weights under the notebook's seed), trains them as one batch by full-batch gradient descent
(``training.train_many``; under "auto" the exact engine where it trains the run, as compare does, so
the printed costs are the notebook's on every CPU), `advance(n)` iterations at a time,
and keeps each model's cost curve, status (a divergence says where) and decision boundary. A
``reset()`` returns to the very same initial weights; only new settings (a seed, an initializer,
the network) draw new ones. Chunks of gradient descent compose: n iterations and then m are the
same updates as n + m at once.

>>> session = TrainSession(TrainSettings(iterations=2000))
>>> session.advance(2000).iteration, [round(c[-1], 6) for c in session.costs]
(2000, [0.693147, 0.598026, 0.675129])
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import InitlabError, check_int, check_layer_sizes, validate
from ..compare import CONSTRAINTS, NOTEBOOK_HIDDEN, NOTEBOOK_INITS
from ..data import DATASETS, Dataset, get_dataset
from ..engines import for_notebook
from ..network import Network
from ..training import TrainOptions, train_many
from .limits import MAX_ADVANCE_WORK, MAX_HIDDEN, MAX_MODELS, MAX_PARAMS, check_option_limits

GRID = 80  # the decision boundary's resolution: GRID × GRID points
MARGIN = 1.0  # the boundary's plot reaches this far beyond the data on each side (the notebook's plot_decision_boundary)
RECORDS_PER_ADVANCE = 10  # cost points recorded per advance (and the last one)


@dataclass(frozen=True)
class TrainSettings:
    """The notebook's experiment, each part a control: initializers (names or ``name(key=value, …)``,
    as ``initlab compare --init`` takes them), a two-class 2-D dataset of ``initlab.data.DATASETS``, the
    hidden layer sizes, the hidden activation, the learning rate, the seed of the weights and the
    iterations to train. The defaults are the notebook's."""

    inits: tuple[str, ...] = NOTEBOOK_INITS
    dataset: str = "circles"
    hidden: tuple[int, ...] = NOTEBOOK_HIDDEN
    activation: str = "relu"
    learning_rate: float = 0.01
    seed: int = 3
    iterations: int = 15000


@dataclass
class Curve:
    """One model's recorded costs (iteration, cost before that iteration's update; the last point after it)."""

    iterations: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)


def two_d_datasets() -> list[str]:
    """The registered datasets a 2-D decision boundary can show: two features, two classes."""
    return [name for name in DATASETS if _is_plane(get_dataset(name))]


def _is_plane(data: Dataset) -> bool:
    return data.n_features == 2 and data.n_outputs == 1


class TrainSession:
    """The notebook's comparison under `settings`, trained on demand (the module's docstring)."""

    def __init__(self, settings: TrainSettings = TrainSettings(), engine: str = "auto") -> None:
        if not 0 < len(settings.inits) <= MAX_MODELS:  # before any weight is drawn
            raise InitlabError(f"The 'inits' parameter must name 1 to {MAX_MODELS} initializers (side by side). "
                               f"Got {len(settings.inits)} instead.", param="inits")
        if len(settings.hidden) > MAX_HIDDEN:
            raise InitlabError(f"The 'hidden' parameter must list at most {MAX_HIDDEN} hidden layers in the explorer. "
                               f"Got {len(settings.hidden)} instead.", param="hidden")
        given = validate(CONSTRAINTS, {"dataset": settings.dataset, "inits": list(settings.inits), "seed": settings.seed})
        check_option_limits(given["inits"])
        self.settings = settings
        self.data: Dataset = given["dataset"]
        if not _is_plane(self.data):
            raise InitlabError(f"The 'dataset' parameter must have 2 features (a plane the decision boundary is drawn "
                               f"on). Got {settings.dataset!r} with {self.data.n_features} instead.", param="dataset")
        self.labels = [label for label, _, _ in given["inits"]]
        hidden = check_layer_sizes("hidden", (2, *settings.hidden, 1))[1:-1] if settings.hidden else ()
        self.network = Network((2, *hidden, 1), activation=settings.activation)
        if self.network.n_params > MAX_PARAMS:
            raise InitlabError(f"The 'hidden' parameter must keep each network within {MAX_PARAMS:,} parameters in the "
                               f"explorer. Got {list(hidden)} ({self.network.n_params:,} parameters) instead.", param="hidden")
        self.options = TrainOptions(settings.learning_rate, check_int("iterations", settings.iterations, low=1))
        self.engine = for_notebook(engine, self.network, self.options)  # auto: the exact engine where it trains the run
        X = self.data.X_train
        self.initial = np.stack([self.network.init(name, rng=given["seed"], X=X, **options)
                                 for _, name, options in given["inits"]])  # (B, P), as compare draws them
        self.reset()

    def reset(self) -> TrainSession:
        """Back to iteration 0 and the initial weights (the same ones: nothing is redrawn)."""
        self.params = self.initial.copy()  # (B, P)
        self.iteration = 0
        self.curves = [Curve() for _ in self.labels]
        self.statuses: list[str | None] = [None] * len(self.labels)  # a divergence, in words
        self._train(list(range(len(self.labels))), 0)  # the costs at iteration 0, as the engine computes them
        return self

    @property
    def finished(self) -> bool:
        """Every iteration trained, or every model diverged."""
        return self.iteration >= self.options.iterations or all(s is not None for s in self.statuses)

    @property
    def costs(self) -> list[list[float]]:
        return [c.costs for c in self.curves]

    def advance(self, n: Any) -> TrainSession:
        """Train `n` more iterations (fewer at the end); a model that diverges stops and says where."""
        n = min(check_int("n", n, low=1), self.options.iterations - self.iteration)
        limit = max(1, MAX_ADVANCE_WORK // (len(self.labels) * self.network.n_params * self.data.X_train.shape[1]))
        if n > limit:
            raise InitlabError(f"The 'n' parameter (iterations per frame) must be at most {limit} for {len(self.labels)} "
                               f"networks of {self.network.n_params:,} parameters on {self.data.X_train.shape[1]} examples "
                               f"(a frame stays under a second or so). Got {n} instead.", param="n")
        active = [b for b, s in enumerate(self.statuses) if s is None]
        if n > 0 and active:
            self._train(active, n)
            self.iteration += n
        return self

    def _train(self, active: list[int], n: int) -> None:
        """`n` iterations of the models `active` (0: their costs only), appended to their curves."""
        chunk = TrainOptions(self.options.learning_rate, n, max(1, n // RECORDS_PER_ADVANCE))
        runs = train_many(self.network, self.params[active], self.data.X_train, self.data.Y_train, chunk, engine=self.engine)
        start = 1 if n else 0  # a chunk's first point is the previous one's last
        for b, run in zip(active, runs):
            self.params[b] = run.params
            self.curves[b].iterations += (run.history["iteration"][start:] + self.iteration).tolist()
            self.curves[b].costs += run.history["cost"][start:].astype(float).tolist()
            if run.divergence is not None:
                self.statuses[b] = f"diverged at iteration {self.iteration + run.divergence.iteration}: {run.divergence.what}"

    def accuracies(self) -> list[tuple[float, float]]:
        """(train, test) accuracy of each model now."""
        d, net = self.data, self.network
        return [(float(net.accuracy(p, d.X_train, d.Y_train)), float(net.accuracy(p, d.X_test, d.Y_test))) for p in self.params]

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """The boundary's axes: GRID x values and GRID y values spanning the data and MARGIN."""
        X = np.concatenate([self.data.X_train, self.data.X_test], axis=1)  # (2, m)
        low, high = X.min(axis=1) - MARGIN, X.max(axis=1) + MARGIN
        return np.linspace(low[0], high[0], GRID), np.linspace(low[1], high[1], GRID)

    def boundaries(self) -> np.ndarray:
        """P(y = 1 | x) of each model on the grid, (B, GRID, GRID): [b, i, j] at (x_j, y_i)."""
        xs, ys = self.grid()
        gx, gy = np.meshgrid(xs, ys)  # (GRID, GRID) each
        points = np.stack([gx.ravel(), gy.ravel()])  # (2, GRID²)
        return np.stack([self.network.predict_proba(p, points).reshape(GRID, GRID) for p in self.params])
