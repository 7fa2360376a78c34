"""Full-batch gradient descent with a cost history and divergence detection.

>>> from initlab.data import circles
>>> from initlab.network import Network
>>> d, net = circles(), Network((2, 10, 5, 1))
>>> run = train(net, net.init("he", rng=3), d.X_train, d.Y_train, TrainOptions(iterations=2000))
>>> float(run.costs[0])                              # the notebook's cost after iteration 0
0.8830537463419761
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ._validation import check_data, check_float, check_int
from .network import Network


@dataclass(frozen=True)
class TrainOptions:
    """How to train: step size, number of full-batch steps, and how often to record the cost."""

    learning_rate: float = 0.01
    iterations: int = 15000
    record_every: int = 1000

    def __post_init__(self):
        object.__setattr__(self, "learning_rate", check_float("learning_rate", self.learning_rate, low=0.0))
        object.__setattr__(self, "iterations", check_int("iterations", self.iterations, low=0))
        object.__setattr__(self, "record_every", check_int("record_every", self.record_every, low=1))


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
    costs: np.ndarray  # cost before the update of that iteration (as the notebook prints)
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
    callback: Callable[[int, float], None] | None = None,
) -> Run:
    """Train `network` from `params` by full-batch gradient descent on (X, Y).

    Each iteration i: forward pass, cost recorded when i % record_every == 0 (so the history
    matches the notebook's "Cost after iteration i"), backward pass, W ← W − α·dW. The run stops
    early, with ``run.divergence`` saying where, as soon as an update would make a parameter NaN
    or infinite (``run.params`` keeps the last finite ones) or a recorded cost is; a cost that is merely huge (a saturated output) is not a divergence.
    `callback(i, cost)` is called at every recorded iteration (progress bars use it).
    """
    X, Y = check_data(X, Y, network.sizes[0])
    initial = network.check_params(params).copy()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # reported as a Divergence
        return _descend(network, initial, X, Y, options, callback)


def _descend(network, initial, X, Y, options, callback):
    current, iterations, costs, divergence, steps = initial, [], [], None, 0
    for i in range(options.iterations):
        ZL, cache = network.forward(current, X)
        if i % options.record_every == 0:
            cost = float(network.loss_fn.value(ZL, Y))
            iterations.append(i)
            costs.append(cost)
            if callback is not None:
                callback(i, cost)
            if not np.isfinite(cost):
                divergence = Divergence(i, f"the cost is {cost}")
                break
        updated = current - options.learning_rate * network.backward(current, cache, Y).grad
        if not np.isfinite(updated).all():
            divergence = Divergence(i, _nonfinite(updated) + " after the update")
            break
        current, steps = updated, steps + 1
    return Run(network, options, initial, current, np.array(iterations), np.array(costs), divergence, steps)


def _nonfinite(a):
    kind = "nan" if np.isnan(a).any() else "inf"
    return f"the parameters contain {kind} ({int((~np.isfinite(a)).sum())} of {a.size})"
