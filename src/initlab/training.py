"""Training: full-batch gradient descent (the notebook's), minibatch SGD, momentum and Adam,
with a cost history, divergence detection and a stopping rule (a target loss).

Randomness, draw for draw: ``Network.init(weights, rng)`` draws W_1, then b_1 (when layer 1 has
a bias and the bias rule draws), W_2, b_2, … from `rng`; a data-dependent scheme (``lsuv``)
draws nothing more (it rescales on the batch X it is given); ``train(…, rng=rng)`` then draws
every epoch's example order, ``rng.permutation(m)`` epoch after epoch, all up front
(ceil(iterations / batches per epoch) of them, nothing in full-batch training). So one
``Generator`` passed to both makes a run reproducible from one seed:

>>> rng = np.random.default_rng(7)
>>> net = Network((2, 8, 1))
>>> X = np.random.default_rng(0).standard_normal((2, 64)); Y = (X[:1] * X[1:] > 0).astype(float)
>>> run = train(net, net.init("he", rng=rng), X, Y, TrainOptions(0.1, 200, 50, batch_size=16), rng=rng)
>>> rng2 = np.random.default_rng(7)
>>> again = train(net, net.init("he", rng=rng2), X, Y, TrainOptions(0.1, 200, 50, batch_size=16), rng=rng2)
>>> bool(np.array_equal(run.params, again.params))
True

>>> from initlab.data import circles
>>> from initlab.network import Network
>>> d, net = circles(), Network((2, 10, 5, 1))
>>> run = train(net, net.init("he", rng=3), d.X_train, d.Y_train, TrainOptions(iterations=2000))
>>> float(run.costs[0])                              # the notebook's cost after iteration 0
0.8830537463419761
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np
from numpy.typing import ArrayLike

from . import _html
from ._validation import InitlabError, _fail
from .engines import choose, ready
from .engines.common import Divergence, Reached, epoch_orders
from .network import Network
from .options import MAX_RECORDED, TrainOptions, _check_history, _size, batches_per_epoch  # noqa: F401 (TrainOptions: initlab.options, which the engines read)

if TYPE_CHECKING:
    import pandas as pd

@dataclass
class Run:
    """A finished (or diverged) training run: plain data that figures and files read."""

    network: Network
    options: TrainOptions
    initial_params: Optional[np.ndarray]  # (P,); None in a run read back from a results.json (it keeps the final ones only)
    params: np.ndarray  # (P,) after the last finite update
    iterations: np.ndarray  # iterations at which the cost was recorded
    costs: np.ndarray  # training cost before the update of that iteration
    divergence: Optional[Divergence] = None
    steps: int = 0  # updates applied (fewer than options.iterations if it diverged or reached its target)
    engine: str = "numpy"
    reached: Optional[Reached] = None  # where it reached options.target_loss, if it did
    history: dict[str, np.ndarray] = field(default_factory=dict)  # see History below; {} in a run read back from a file
    engine_reason: str = ""  # why `engine` trained it ("asked for", or auto's estimate); "" in a run read back from a file

    @property
    def diverged(self) -> bool:
        return self.divergence is not None

    @property
    def status(self) -> str:
        """What ended the run, in words: "finished", the target reached, or the divergence."""
        if self.divergence is not None:
            return str(self.divergence)
        return "finished" if self.reached is None else str(self.reached)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.network.predict(self.params, X)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.network.predict_proba(self.params, X)

    def accuracy(self, X: np.ndarray, Y: ArrayLike) -> float:
        return float(self.network.accuracy(self.params, X, Y))

    def cost(self, X: np.ndarray, Y: np.ndarray) -> float:
        return float(self.network.cost(self.params, X, Y))

    def to_frame(self) -> pd.DataFrame:
        """The history as a pandas DataFrame: a row per recorded point and the final one (columns
        iteration, epoch, cost, and accuracy, val_cost, val_accuracy when recorded); a run read back
        from a file has the recorded costs only (iteration, cost)."""
        import pandas as pd

        if self.history:
            return pd.DataFrame({name: np.asarray(values) for name, values in self.history.items()})
        return pd.DataFrame({"iteration": np.asarray(self.iterations), "cost": np.asarray(self.costs, dtype=float)})

    def _repr_html_(self):
        return _html.notebook(self.report_section())

    def report_section(self, source: str | None = None, name: str | None = None) -> str:
        """This run's report section: its settings, the cost table (at most a dozen rows), the cost curve
        and, when accuracy or held-out data was recorded, the learning curves."""
        from . import plots  # matplotlib costs ~0.3 s at start-up: imported when a figure is drawn

        run, name = self, name or source or "run"
        o = run.options
        settings = [
            ("layers", " → ".join(map(str, run.network.sizes))),
            ("hidden activation", ", ".join(dict.fromkeys(run.network.activation_names)) or "none"),
            ("loss", str(run.network.loss)),
            ("optimizer", o.optimizer + (f" {o.optimizer_options}" if o.optimizer_options else "")),
            ("learning rate", o.learning_rate),
            ("iterations", o.iterations),
            ("batch size", o.batch_size or "full batch"),
            ("updates applied", run.steps),
            ("engine", run.engine + (f" ({run.engine_reason})" if run.engine_reason else "")),
            ("status", run.status),
        ]
        iterations, costs = np.asarray(run.iterations), np.asarray(run.costs, dtype=float)
        pick: Any = np.unique(np.linspace(0, len(costs) - 1, min(len(costs), 12)).round().astype(int)) if len(costs) else []
        rows = [[int(iterations[k]), float(costs[k])] for k in pick]
        body = ["<h3>Settings</h3>", _html.settings_html(settings), "<h3>Cost</h3>",
                _html.table_html(["iteration", "training cost"], rows)]
        if len(costs):
            body.append(_html.figure_html(plots.cost_figure([(name, run)], o.learning_rate, run.network.loss.key),
                                          f"Training cost of {name}"))
        if {"accuracy", "val_cost"} & set(run.history):  # recorded with record_accuracy or validation data
            body.append(_html.figure_html(plots.learning_curves([(name, run)], run.network.loss.key),
                                          f"Learning curves of {name}"))
        return _html.section(f"Training run: {name}", "".join(body), "run")


Validation = tuple[ArrayLike, ArrayLike]  # held-out (X, Y)
Shuffle = np.random.Generator | np.random.RandomState


def train(
    network: Network,
    params: ArrayLike,
    X: ArrayLike,
    Y: ArrayLike,
    options: TrainOptions = TrainOptions(),
    callback: Callable[[int, float, np.ndarray], None] | None = None,
    engine: str = "auto",
    *,
    rng: Shuffle | None = None,
    validation: Validation | None = None,
) -> Run:
    """Train `network` from `params` on (X, Y) and return the ``Run``.

    Each iteration: forward pass, cost recorded when i % record_every == 0 (or every record_every
    epochs), the stopping rule (``TrainOptions.target_loss``), backward pass, update. The run stops
    early, with ``run.divergence`` saying where, as soon as an update would make a parameter NaN or
    infinite (``run.params`` keeps the last finite ones) or a recorded cost is; a cost that is
    merely huge (a saturated output) is not a divergence. It stops at its target with
    ``run.reached`` saying where.
    `callback(i, cost, params)` is called at every recorded iteration (progress bars and the
    diagnostics recorder use it; `params` is live: copy it to keep it).
    `engine`: "auto" (the compiled engine when it supports the run, else numpy), "numpy", "numba".
    `rng`: a ``Generator`` (or ``RandomState``) the minibatch orders are drawn from instead of
    ``default_rng(options.seed)`` (the module's docstring gives the order of the draws).
    `validation`: held-out (X, Y) whose cost (and accuracy, with ``record_accuracy``) ``run.history``
    records beside the training set's.

    >>> from initlab.data import circles
    >>> d, net = circles(), Network((2, 10, 5, 1))
    >>> run = train(net, net.init("he", rng=3), d.X_train, d.Y_train,
    ...             TrainOptions(iterations=15000, target_loss=0.2, record_accuracy=True))
    >>> run.status
    'reached the target loss 0.2 at iteration 8705 (cost 0.199989 on the training set)'
    >>> sorted(run.history)
    ['accuracy', 'cost', 'epoch', 'iteration']
    """
    _check_arguments(network, options, callback)
    params = network.check_params(params, batched=False)
    report = None if callback is None else (lambda b, i, cost, current: callback(i, cost, current))
    return train_many(network, params[None, :], X, Y, options, report, engine, rng=rng, validation=validation)[0]


def train_many(
    network: Network,
    params: ArrayLike,
    X: ArrayLike,
    Y: ArrayLike,
    options: TrainOptions = TrainOptions(),
    callback: Callable[[int, int, float, np.ndarray], None] | None = None,
    engine: str = "auto",
    *,
    rng: Shuffle | None = None,
    validation: Validation | None = None,
) -> list[Run]:
    """Train B networks of one architecture from `params` (B, P) on the same data, options and
    minibatch orders.

    Returns one ``Run`` per row; `callback(b, i, cost, params)` reports network b's recorded costs.
    `rng` and `validation` as in ``train``.
    """
    _check_arguments(network, options, callback)
    X, Y = network.check_data(X, Y)
    held_out = None if validation is None else _check_validation(network, validation)
    if options.record_accuracy and network.loss_fn.predict is None:
        raise InitlabError(f"The 'record_accuracy' option needs a loss that predicts classes; the loss '{network.loss}' "
                           "is a regression loss. Leave record_accuracy False.")
    if rng is not None and not isinstance(rng, (np.random.Generator, np.random.RandomState)):
        _fail("rng", "a numpy Generator, a RandomState or None (an int seed goes in TrainOptions(seed=…))",
              f"a {type(rng).__name__}", described=True)
    initial = network.check_params(params).reshape(-1, network.n_params).copy()
    m = X.shape[1]
    every = options.every(m)
    _check_history(options.iterations, every, len(initial))
    _check_epoch_orders(options, m)
    chosen, why = choose(engine, network, options, m, len(initial))
    ready(chosen.NAME)  # a first compile on this machine is announced before it starts
    orders = epoch_orders(m, options.batch_size, options.seed if rng is None else rng, options.iterations)
    recorder = _Recorder(network, len(initial), X, Y, held_out, options.record_accuracy, callback)
    engine_options = options if every == options.record_every else dataclasses.replace(options, record_every=every,
                                                                                          record_unit="iterations")
    traces = chosen.train_batch(network, initial, X, Y, engine_options, recorder.callback, orders=orders)
    k = batches_per_epoch(m, options.batch_size)
    return [
        Run(network, options, p0, t.params, t.iterations, t.costs, t.divergence, t.steps, chosen.NAME, t.reached,
            recorder.history(b, t, k), why)
        for b, (p0, t) in enumerate(zip(initial, traces))
    ]


def _check_validation(network: Network, validation: Any) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(validation, (tuple, list)) or len(validation) != 2:
        _fail("validation", "a pair (X, Y) of held-out data, or None", f"a {type(validation).__name__}", described=True)
    try:
        return network.check_data(*validation)
    except InitlabError as exc:
        raise InitlabError(f"In the 'validation' data: {exc}") from None


class _Recorder:
    """``Run.history``: at each recorded iteration (through the engine's callback, which it passes
    on) the metrics that the engine does not compute — the training accuracy, the held-out cost
    and accuracy — and the point after the last update."""

    def __init__(self, network: Network, n_models: int, X: np.ndarray, Y: np.ndarray,
                 held_out: tuple[np.ndarray, np.ndarray] | None, accuracy: bool,
                 callback: Callable[[int, int, float, np.ndarray], None] | None) -> None:
        self.network, self.X, self.Y, self.held_out, self.accuracy, self.outer = network, X, Y, held_out, accuracy, callback
        self.points: list[list[dict[str, float]]] = [[] for _ in range(n_models)]  # per model: the metrics of each recorded point
        self.callback = callback if (held_out is None and not accuracy) else self._record

    def _record(self, b: int, i: int, cost: float, params: np.ndarray) -> None:
        self.points[b].append(self._metrics(params))
        if self.outer is not None:
            self.outer(b, i, cost, params)

    def _metrics(self, params: np.ndarray) -> dict[str, float]:
        out = {}
        if self.accuracy:
            out["accuracy"] = float(self.network.accuracy(params, self.X, self.Y))
        if self.held_out is not None:
            out["val_cost"] = float(self.network.cost(params, *self.held_out))
            if self.accuracy:
                out["val_accuracy"] = float(self.network.accuracy(params, *self.held_out))
        return out

    def history(self, b: int, trace: Any, per_epoch: int) -> dict[str, np.ndarray]:
        """Columns iteration, epoch (= iteration / updates per epoch), cost, and the metrics: the
        recorded points, then the state after the last update when it is not the last of those."""
        iterations, costs, points = list(map(int, trace.iterations)), list(map(float, trace.costs)), list(self.points[b])
        if not iterations or iterations[-1] != trace.steps:  # the final parameters were not recorded
            iterations.append(int(trace.steps))
            costs.append(float(self.network.cost(trace.params, self.X, self.Y)))
            points.append(self._metrics(trace.params))
        columns: dict[str, np.ndarray] = {"iteration": np.array(iterations, dtype=np.int64),
                                          "epoch": np.array(iterations, dtype=float) / per_epoch,
                                          "cost": np.array(costs)}
        for name in points[0] if points else ():
            columns[name] = np.array([p[name] for p in points])
        return columns


def _check_arguments(network: Any, options: Any, callback: Any) -> None:
    if not isinstance(network, Network):
        _fail("network", "an initlab Network", f"a {type(network).__name__}", described=True)
    if not isinstance(options, TrainOptions):
        _fail("options", "a TrainOptions", f"a {type(options).__name__}", described=True)
    if callback is not None and not callable(callback):
        _fail("callback", "a callable or None", f"a {type(callback).__name__}", described=True)


def _check_epoch_orders(options: TrainOptions, m: int) -> None:
    """Minibatch training draws every epoch's example order up front (n_epochs × m indices)."""
    k = batches_per_epoch(m, options.batch_size)
    if k == 1:
        return
    n_indices = max(1, -(-options.iterations // k)) * m
    if n_indices > MAX_RECORDED:
        raise InitlabError(
            f"The 'iterations' and 'batch_size' parameters must need at most {MAX_RECORDED:,} minibatch indices "
            f"(ceil(iterations / batches per epoch) epochs × {m} examples). Got iterations={options.iterations}, "
            f"batch_size={options.batch_size}: {n_indices:,} indices, {_size(8 * n_indices)} of memory, instead."
        )
