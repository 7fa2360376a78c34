"""The course notebook's experiment, generalized: one network per initializer, same data.

>>> c = compare(["zeros", "he"], iterations=1000)
>>> [r.name for r in c.results], c.results[0].train_accuracy
(['zeros', 'he'], 0.5)
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ._validation import InitlabError, check_int, check_layer_sizes, check_names, check_writable_dir
from .data import Dataset, load
from .diagnostics import saturated_outputs, symmetric_layers
from .initializers import INITIALIZERS
from .network import Network
from .train import Run, TrainOptions, train

NOTEBOOK_INITS = ("zeros", "random", "he")
NOTEBOOK_HIDDEN = (10, 5)


@dataclass
class InitResult:
    """One initializer's run, its accuracies and the reading of its starting point."""

    name: str
    run: Run
    train_accuracy: float
    test_accuracy: float
    symmetric_layers: list  # hidden layers whose units are all identical at the start
    saturated_fraction: float  # training examples whose output is saturated at the start

    @property
    def comment(self) -> str:
        """The notebook's "Problem/Comment" column, derived from the numbers."""
        if self.run.diverged:
            return str(self.run.divergence)
        if self.symmetric_layers:
            return f"fails to break symmetry (layer {self.symmetric_layers[0]}: all units identical)"
        if self.saturated_fraction >= 0.5:
            return f"too large weights: {self.saturated_fraction:.0%} of outputs saturated at start"
        if self.train_accuracy >= 0.9:
            return "breaks symmetry without saturating: trains well"
        return "breaks symmetry without saturating, but learns slowly"


@dataclass
class Comparison:
    dataset: Dataset
    network: Network
    options: TrainOptions
    seed: int
    results: list  # of InitResult, in the order asked

    def table(self):
        """Rows of the notebook's conclusions table: model, train and test accuracy, comment."""
        depth = self.network.n_layers
        return [
            {
                "model": f"{depth}-layer NN with {r.name} initialization",
                "train accuracy": r.train_accuracy,
                "test accuracy": r.test_accuracy,
                "comment": r.comment,
            }
            for r in self.results
        ]

    def to_dict(self):
        """Plain JSON-ready data: settings and, per initializer, costs, accuracies, comment."""
        return {
            "settings": {
                "dataset": self.dataset.name,
                "layers": list(self.network.sizes),
                "activation": list(self.network.activation),
                "loss": self.network.loss,
                "learning_rate": self.options.learning_rate,
                "iterations": self.options.iterations,
                "record_every": self.options.record_every,
                "seed": self.seed,
            },
            "runs": [
                {
                    "init": r.name,
                    "train_accuracy": r.train_accuracy,
                    "test_accuracy": r.test_accuracy,
                    "comment": r.comment,
                    "diverged_at": r.run.divergence.iteration if r.run.diverged else None,
                    "cost_iterations": r.run.iterations.tolist(),
                    "costs": r.run.costs.tolist(),
                    "final_train_cost": _finite_or_none(r.run.cost(self.dataset.X_train, self.dataset.Y_train)),
                    "saturated_fraction_at_start": r.saturated_fraction,
                    "symmetric_layers_at_start": r.symmetric_layers,
                }
                for r in self.results
            ],
        }


def _finite_or_none(x):
    """JSON has no NaN or inf: a non-finite number is written as null."""
    return float(x) if np.isfinite(x) else None


def compare(
    inits=NOTEBOOK_INITS,
    *,
    layers=None,
    learning_rate=0.01,
    iterations=15000,
    record_every=100,
    seed=3,
    dataset="circles",
    callback: Optional[Callable[[str, int, float], None]] = None,
) -> Comparison:
    """Train the same network from each initializer in `inits` and collect the results.

    Defaults are the notebook's: circles data, layers [2, 10, 5, 1], ReLU then sigmoid,
    learning rate 0.01, 15000 iterations, and every initializer drawing from ``RandomState(3)``.
    `layers` are all the layer sizes, input and output included (None: the notebook's hidden
    sizes around the dataset's input width). `callback(init, iteration, cost)` reports progress.
    """
    data = load(dataset) if isinstance(dataset, str) else dataset
    inits = check_names("inits", inits, "initializer", INITIALIZERS)
    sizes = (data.n_features, *NOTEBOOK_HIDDEN, 1) if layers is None else check_layer_sizes("layers", layers)
    if sizes[0] != data.n_features or sizes[-1] != 1:
        raise InitlabError(
            f"The 'layers' parameter must start with the data's {data.n_features} input features and "
            f"end with 1 output unit. Got {list(sizes)} instead."
        )
    seed = check_int("seed", seed, low=0)
    network = Network(sizes)
    options = TrainOptions(learning_rate, iterations, record_every)
    results = [_run_one(name, network, data, options, seed, callback) for name in inits]
    return Comparison(data, network, options, seed, results)


def _run_one(name, network, data, options, seed, callback):
    params = network.init(name, rng=seed, X=data.X_train)
    progress = None if callback is None else (lambda i, cost, _params: callback(name, i, cost))
    run = train(network, params, data.X_train, data.Y_train, options, progress)
    return InitResult(
        name=name,
        run=run,
        train_accuracy=run.accuracy(data.X_train, data.Y_train),
        test_accuracy=run.accuracy(data.X_test, data.Y_test),
        symmetric_layers=symmetric_layers(network, params),
        saturated_fraction=saturated_outputs(network, params, data.X_train),
    )


def save(comparison: Comparison, out="initlab-out"):
    """Write results.json, costs.png and decision_boundaries.png into `out`; return their paths."""
    from . import plots  # matplotlib is imported only when figures are drawn

    out = check_writable_dir("out", out)
    paths = {
        "json": os.path.join(out, "results.json"),
        "costs": os.path.join(out, "costs.png"),
        "boundaries": os.path.join(out, "decision_boundaries.png"),
    }
    with open(paths["json"], "w") as f:
        json.dump(comparison.to_dict(), f, indent=2)
    plots.save(plots.cost_curves(comparison), paths["costs"])
    plots.save(plots.decision_boundaries(comparison), paths["boundaries"])
    return paths
