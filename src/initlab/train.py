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

import numbers
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ._validation import InitlabError, _fail, check_float, check_int
from .engines import ready, select
from .engines.common import Divergence
from .network import Network
from .optim import get_optimizer

MAX_RECORDED = 10**8  # cost-history entries (float64) a call may hold: 800 MB
MAX_SEED = 2**63  # seeds are stored as SQLite INTEGERs and JSON numbers; default_rng takes any int >= 0


def _size(n_bytes):
    """Bytes as a readable size: '800 MB', '8 PB'."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if n_bytes < 1000 or unit == "PB":
            return f"{n_bytes:.3g} {unit}"
        n_bytes /= 1000


def _check_history(iterations, record_every, n_runs=1):
    """The cost histories of `n_runs` runs (ceil(iterations / record_every) float64 each) must fit."""
    n_recorded = -(-iterations // record_every)
    if n_runs * n_recorded > MAX_RECORDED:
        runs = f" for each of {n_runs} runs" if n_runs > 1 else ""
        raise InitlabError(
            f"The 'iterations' and 'record_every' parameters must record at most {MAX_RECORDED:,} costs in all "
            f"(ceil(iterations / record_every) per run). Got iterations={iterations}, record_every={record_every}: "
            f"{n_recorded:,} costs{runs}, {_size(8 * n_runs * n_recorded)} of memory, instead. "
            "Raise record_every or lower iterations."
        )


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
    seed: int = 0  # order of the minibatches: an int in [0, 2**63)

    def __post_init__(self):
        object.__setattr__(self, "learning_rate", check_float("learning_rate", self.learning_rate, low=0.0))
        object.__setattr__(self, "iterations", check_int("iterations", self.iterations, low=0))
        object.__setattr__(self, "record_every", check_int("record_every", self.record_every, low=1))
        _check_history(self.iterations, self.record_every)
        seed = self.seed
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < MAX_SEED:
            _fail("seed", "an int in [0, 2**63)", seed)
        object.__setattr__(self, "seed", int(seed))
        if self.batch_size is not None:
            object.__setattr__(self, "batch_size", check_int("batch_size", self.batch_size, low=1))
        object.__setattr__(self, "optimizer_options", dict(self.optimizer_options))
        get_optimizer(self.optimizer, **self.optimizer_options)


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
    engine: str = "numpy"

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

    def to_frame(self):
        """The recorded costs as a pandas DataFrame: columns iteration and cost."""
        import pandas as pd

        return pd.DataFrame({"iteration": np.asarray(self.iterations), "cost": np.asarray(self.costs, dtype=float)})

    def _repr_html_(self):
        from .report import fragment

        return fragment(self)


def train(
    network: Network,
    params,
    X,
    Y,
    options: TrainOptions = TrainOptions(),
    callback: Callable[[int, float, np.ndarray], None] | None = None,
    engine: str = "auto",
) -> Run:
    """Train `network` from `params` on (X, Y) and return the ``Run``.

    Each iteration: forward pass, cost recorded when i % record_every == 0, backward pass,
    update. The run stops early, with ``run.divergence`` saying where, as soon as an update would
    make a parameter NaN or infinite (``run.params`` keeps the last finite ones) or a recorded cost
    is; a cost that is merely huge (a saturated output) is not a divergence.
    `callback(i, cost, params)` is called at every recorded iteration (progress bars and the
    diagnostics recorder use it; `params` is live: copy it to keep it).
    `engine`: "auto" (the compiled engine when it supports the run, else numpy), "numpy", "numba".
    """
    _check_arguments(network, options, callback)
    params = network.check_params(params, batched=False)
    report = None if callback is None else (lambda b, i, cost, current: callback(i, cost, current))
    return train_many(network, params[None, :], X, Y, options, report, engine)[0]


def train_many(network, params, X, Y, options=TrainOptions(), callback=None, engine="auto") -> list:
    """Train B networks of one architecture from `params` (B, P) on the same data and options.

    Returns one ``Run`` per row; `callback(b, i, cost, params)` reports network b's recorded costs.
    """
    _check_arguments(network, options, callback)
    X, Y = network.check_data(X, Y)
    initial = network.check_params(params).reshape(-1, network.n_params).copy()
    _check_history(options.iterations, options.record_every, len(initial))
    _check_epoch_orders(options, X.shape[1])
    chosen = select(engine, network, options)
    ready(chosen.NAME)  # a first compile on this machine is announced before it starts
    traces = chosen.train_batch(network, initial, X, Y, options, callback)
    return [
        Run(network, options, p0, t.params, t.iterations, t.costs, t.divergence, t.steps, chosen.NAME)
        for p0, t in zip(initial, traces)
    ]


def _check_arguments(network, options, callback):
    if not isinstance(network, Network):
        _fail("network", "an initlab Network", f"a {type(network).__name__}", described=True)
    if not isinstance(options, TrainOptions):
        _fail("options", "a TrainOptions", f"a {type(options).__name__}", described=True)
    if callback is not None and not callable(callback):
        _fail("callback", "a callable or None", f"a {type(callback).__name__}", described=True)


def _check_epoch_orders(options, m):
    """Minibatch training draws every epoch's example order up front (n_epochs × m indices)."""
    k = 1 if options.batch_size is None or options.batch_size >= m else -(-m // options.batch_size)
    if k == 1:
        return
    n_indices = max(1, -(-options.iterations // k)) * m
    if n_indices > MAX_RECORDED:
        raise InitlabError(
            f"The 'iterations' and 'batch_size' parameters must need at most {MAX_RECORDED:,} minibatch indices "
            f"(ceil(iterations / batches per epoch) epochs × {m} examples). Got iterations={options.iterations}, "
            f"batch_size={options.batch_size}: {n_indices:,} indices, {_size(8 * n_indices)} of memory, instead."
        )
