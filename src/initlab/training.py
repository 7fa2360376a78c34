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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np
from numpy.typing import ArrayLike

from . import _html
from ._validation import InitlabError, _fail
from .engines import ready, select
from .engines.common import Divergence
from .network import Network
from .options import MAX_RECORDED, TrainOptions, _check_history, _size  # noqa: F401 (TrainOptions: initlab.options, which the engines read)

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
    steps: int = 0  # updates applied (fewer than options.iterations if it diverged)
    engine: str = "numpy"

    @property
    def diverged(self) -> bool:
        return self.divergence is not None

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.network.predict(self.params, X)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.network.predict_proba(self.params, X)

    def accuracy(self, X: np.ndarray, Y: ArrayLike) -> float:
        return float(self.network.accuracy(self.params, X, Y))

    def cost(self, X: np.ndarray, Y: np.ndarray) -> float:
        return float(self.network.cost(self.params, X, Y))

    def to_frame(self) -> pd.DataFrame:
        """The recorded costs as a pandas DataFrame: columns iteration and cost."""
        import pandas as pd

        return pd.DataFrame({"iteration": np.asarray(self.iterations), "cost": np.asarray(self.costs, dtype=float)})

    def _repr_html_(self):
        return _html.notebook(self.report_section())

    def report_section(self, source: str | None = None, name: str | None = None) -> str:
        """This run's report section: its settings, the cost table (at most a dozen rows) and the cost curve."""
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
            ("engine", run.engine),
            ("status", str(run.divergence) if run.diverged else "finished"),
        ]
        iterations, costs = np.asarray(run.iterations), np.asarray(run.costs, dtype=float)
        pick: Any = np.unique(np.linspace(0, len(costs) - 1, min(len(costs), 12)).round().astype(int)) if len(costs) else []
        rows = [[int(iterations[k]), float(costs[k])] for k in pick]
        body = ["<h3>Settings</h3>", _html.settings_html(settings), "<h3>Cost</h3>",
                _html.table_html(["iteration", "training cost"], rows)]
        if len(costs):
            body.append(_html.figure_html(plots.cost_figure([(name, run)], o.learning_rate, run.network.loss.key),
                                          f"Training cost of {name}"))
        return _html.section(f"Training run: {name}", "".join(body), "run")


def train(
    network: Network,
    params: ArrayLike,
    X: ArrayLike,
    Y: ArrayLike,
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


def train_many(
    network: Network,
    params: ArrayLike,
    X: ArrayLike,
    Y: ArrayLike,
    options: TrainOptions = TrainOptions(),
    callback: Callable[[int, int, float, np.ndarray], None] | None = None,
    engine: str = "auto",
) -> list[Run]:
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


def _check_arguments(network: Any, options: Any, callback: Any) -> None:
    if not isinstance(network, Network):
        _fail("network", "an initlab Network", f"a {type(network).__name__}", described=True)
    if not isinstance(options, TrainOptions):
        _fail("options", "a TrainOptions", f"a {type(options).__name__}", described=True)
    if callback is not None and not callable(callback):
        _fail("callback", "a callable or None", f"a {type(callback).__name__}", described=True)


def _check_epoch_orders(options: TrainOptions, m: int) -> None:
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
