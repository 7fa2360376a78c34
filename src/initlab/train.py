"""Training: full-batch gradient descent (the notebook's), minibatch SGD, momentum and Adam,
with a cost history and divergence detection.

>>> from initlab.data import circles
>>> from initlab.network import Network
>>> d, net = circles(), Network((2, 10, 5, 1))
>>> run = train(net, net.init("he", rng=3), d.X_train, d.Y_train, TrainOptions(iterations=2000))
>>> float(run.costs[0])                              # the notebook's cost after iteration 0
0.8830537463419761
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ._validation import check_float, check_int
from .network import Network
from .optim import get_optimizer


@dataclass(frozen=True)
class TrainOptions:
    """How to train.

    `iterations` counts updates. `batch_size` None is full-batch; otherwise each epoch visits the
    examples in a fresh random order (from `seed`) in batches of that size (the last may be
    smaller). The cost is recorded on the whole training set every `record_every` iterations,
    before that iteration's update (as the notebook prints it).
    """

    learning_rate: float = 0.01
    iterations: int = 15000
    record_every: int = 1000
    optimizer: str = "gd"
    optimizer_options: dict = field(default_factory=dict)
    batch_size: Optional[int] = None
    seed: int = 0  # order of the minibatches

    def __post_init__(self):
        object.__setattr__(self, "learning_rate", check_float("learning_rate", self.learning_rate, low=0.0))
        object.__setattr__(self, "iterations", check_int("iterations", self.iterations, low=0))
        object.__setattr__(self, "record_every", check_int("record_every", self.record_every, low=1))
        if self.batch_size is not None:
            object.__setattr__(self, "batch_size", check_int("batch_size", self.batch_size, low=1))
        object.__setattr__(self, "optimizer_options", dict(self.optimizer_options))
        get_optimizer(self.optimizer, **self.optimizer_options)


@dataclass(frozen=True)
class Divergence:
    """Where a run stopped because its cost or parameters stopped being finite numbers."""

    iteration: int
    what: str  # e.g. "the parameters contain nan after the update"

    def __str__(self):
        return f"diverged at iteration {self.iteration}: {self.what}"


@dataclass
class Run:
    """A finished (or diverged) training run: plain data that figures and files read."""

    network: Network
    options: TrainOptions
    initial_params: np.ndarray  # (P,)
    params: np.ndarray  # (P,) after the last finite update
    iterations: np.ndarray  # iterations at which the cost was recorded
    costs: np.ndarray  # training cost before the update of that iteration
    divergence: Optional[Divergence] = None
    steps: int = 0  # updates applied (fewer than options.iterations if it diverged)

    @property
    def diverged(self) -> bool:
        return self.divergence is not None

    def predict(self, X):
        return self.network.predict(self.params, X)

    def predict_proba(self, X):
        return self.network.predict_proba(self.params, X)

    def accuracy(self, X, Y):
        return float(self.network.accuracy(self.params, X, Y))

    def cost(self, X, Y):
        return float(self.network.cost(self.params, X, Y))


def train(
    network: Network,
    params,
    X,
    Y,
    options: TrainOptions = TrainOptions(),
    callback: Callable[[int, float, np.ndarray], None] | None = None,
) -> Run:
    """Train `network` from `params` on (X, Y) and return the ``Run``.

    Each iteration: forward pass, cost recorded when i % record_every == 0, backward pass,
    update. The run stops early, with ``run.divergence`` saying where, as soon as an update would
    make a parameter NaN or infinite (``run.params`` keeps the last finite ones) or a recorded cost
    is; a cost that is merely huge (a saturated output) is not a divergence.
    `callback(i, cost, params)` is called at every recorded iteration (progress bars and the
    diagnostics recorder use it; `params` is live: copy it to keep it).
    """
    X, Y = network.check_data(X, Y)
    initial = network.check_params(params, batched=False).copy()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # reported as a Divergence
        return _descend(network, initial, X, Y, options, callback)


def _descend(network, initial, X, Y, options, callback):
    optimizer = get_optimizer(options.optimizer, **options.optimizer_options)
    state = optimizer.init(initial)
    batches = _minibatches(X.shape[1], options.batch_size, options.seed)
    current, iterations, costs, divergence, steps = initial, [], [], None, 0
    for i in range(options.iterations):
        index = next(batches)
        Xb, Yb = (X, Y) if index is None else (X[:, index], Y[:, index])
        ZL, cache = network.forward(current, Xb)
        if i % options.record_every == 0:
            cost = float(network.loss_fn.value(ZL, Y) if index is None else network.cost(current, X, Y))
            iterations.append(i)
            costs.append(cost)
            if callback is not None:
                callback(i, cost, current)
            if not np.isfinite(cost):
                divergence = Divergence(i, f"the cost is {cost}")
                break
        updated = optimizer.step(current, network.backward(current, cache, Yb).grad, state, i + 1, options.learning_rate)
        if not np.isfinite(updated).all():
            divergence = Divergence(i, _nonfinite(updated) + " after the update")
            break
        current, steps = updated, steps + 1
    return Run(network, options, initial, current, np.array(iterations), np.array(costs), divergence, steps)


def _minibatches(m, batch_size, seed):
    """Index arrays of successive minibatches, reshuffled every epoch; None forever if full-batch."""
    if batch_size is None or batch_size >= m:
        while True:
            yield None
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(m)
        for start in range(0, m, batch_size):
            yield order[start : start + batch_size]


def _nonfinite(a):
    kind = "nan" if np.isnan(a).any() else "inf"
    return f"the parameters contain {kind} ({int((~np.isfinite(a)).sum())} of {a.size})"
