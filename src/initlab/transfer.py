"""μTransfer, measured: each width's learning-rate optimum, its spread over seeds, and how it moves with width.

Tensor Programs V (Yang et al. 2022, "Tuning Large Neural Networks via Zero-Shot Hyperparameter
Transfer", Fig. 1 and §3): under the standard parametrization the learning rate that minimizes the
training loss moves as the network widens (to smaller rates, with Adam), so a rate tuned on a
small model is wrong for a large one; under μP it stays put, and at a fixed rate the wider network
is better. Measuring it needs, per width, a grid of learning rates and several seeds:

* ``train_grid`` trains it (every parametrization × width × learning rate × seed) and returns
  one row per run with its final training loss (inf for a run that diverged);
* ``optima`` finds each seed's optimum on the grid (refined by the vertex of the parabola through
  the log losses at the best rate and its two neighbours, which lies within half a grid step) and gives, per parametrization,
  optimizer and width, the mean and spread over seeds, with ``at_edge`` where a seed's best rate is
  the grid's first or last (the true optimum may lie outside it);
* ``shifts`` fits the optimum's log₂ against log₂(width): the slope per doubling of width (SP with
  Adam: about −1 in theory, the step on each weight being Θ(1) while its effect grows with fan_in;
  μP: 0), and the whole shift from the narrowest width to the widest.

A sweep's database (``sweep.read_frame``) is such a frame too: ``optima(frame, seed="replicate")``.

>>> frame = train_grid(("sp", "mup"), "adam", widths=(8, 16), learning_rates=(0.01, 0.03, 0.1),
...                    seeds=(0, 1), iterations=20, dataset="circles", batch_size=None)
>>> table = optima(frame)
>>> list(table.columns[:4]), len(table)
(['parametrization', 'optimizer', 'width', 'log2_lr'], 4)
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ._validation import Constraint, InitlabError, Interval, Nullable, OneOf, validate
from .data import get_dataset
from .network import Network
from .optim import OPTIMIZERS
from .options import TrainOptions
from .parametrizations import for_training
from .training import train_many

if TYPE_CHECKING:
    import pandas as pd

KEYS = ["parametrization", "optimizer", "width"]  # one optimum per
_INT1 = Interval(numbers.Integral, 1)
_CONSTRAINTS: dict[str, Constraint] = {
    "optimizer": OneOf(tuple(OPTIMIZERS)),
    "depth": _INT1,
    "iterations": _INT1,
    "batch_size": Nullable(_INT1),
    "base_width": Nullable(_INT1),
}


def train_grid(parametrizations: Sequence[str], optimizer: str, widths: Sequence[int], learning_rates: Sequence[float],
               seeds: Sequence[int] = (0, 1, 2), depth: int = 2, dataset: str = "digits", iterations: int = 200,
               batch_size: int | None = 64, base_width: int | None = None, init: str = "he_normal",
               engine: str = "auto") -> pd.DataFrame:
    """Train an MLP of `depth` hidden layers of each width under each parametrization (μP's rules
    follow `optimizer`; the base width is `base_width`, default the narrowest width, unless the spec
    names its own) at each learning rate, from `init` drawn with each seed, for `iterations` updates
    of minibatches of `batch_size` (None: full batch) on `dataset`'s training set. The seeds of one point train as one batch, on one
    minibatch order (``TrainOptions.seed`` 0): they differ in their initial weights.

    One row per run: parametrization (as given), optimizer, width, learning_rate, seed,
    final_train_cost (on the whole training set after the last update; inf when the run diverged),
    diverged."""
    import pandas as pd

    values = validate(_CONSTRAINTS, {"optimizer": optimizer, "depth": depth, "iterations": iterations,
                                     "batch_size": batch_size, "base_width": base_width})
    widths, rates, seeds = _grid("widths", widths, int), _grid("learning_rates", learning_rates, float), _grid("seeds", seeds, int)
    base = values["base_width"] or widths[0]
    data = get_dataset(dataset)
    X, Y = data.X_train, data.Y_train
    rows = []
    for name in parametrizations:
        spec = for_training(name, optimizer, base, "parametrizations")
        for width in widths:
            network = Network((data.n_features,) + (width,) * depth + (data.n_outputs,), loss=data.loss, parametrization=spec)
            start = np.stack([network.init(init, rng=seed) for seed in seeds])  # (S, P)
            for rate in rates:
                options = TrainOptions(rate, values["iterations"], values["iterations"], optimizer, batch_size=values["batch_size"])
                for seed, run in zip(seeds, train_many(network, start, X, Y, options, engine=engine)):
                    cost = math.inf if run.diverged else run.cost(X, Y)
                    rows.append((name, optimizer, width, rate, seed, cost if math.isfinite(cost) else math.inf, run.diverged))
    return pd.DataFrame(rows, columns=[*KEYS, "learning_rate", "seed", "final_train_cost", "diverged"])


def _grid(name: str, values: Sequence[float], kind: type) -> tuple:
    """Two or more (one or more for seeds) distinct positive values, sorted."""
    try:
        out = tuple(sorted(kind(v) for v in values))
    except (TypeError, ValueError):
        out = ()
    least = 1 if name == "seeds" else 2
    if len(out) < least or len(set(out)) != len(out) or any(v < 0 or (v == 0 and name != "seeds") for v in out):
        allowed = "ints >= 0" if name == "seeds" else "different values > 0"
        raise InitlabError(f"The '{name}' parameter must be {least} or more {allowed}. Got {values!r} instead.")
    return out


def best_log2_lr(log2_lrs: np.ndarray, losses: np.ndarray) -> tuple[float, bool]:
    """One seed's optimum on a grid of log₂ learning rates (sorted), and whether the grid's best
    point is its first or last. A diverged or non-finite loss counts as inf. Between two finite
    neighbours, the vertex of the parabola through the three log losses: as the middle one is the
    lowest, the vertex lies within half a step of it (the clip only guards rounding).

    >>> best_log2_lr(np.array([-3.0, -2.0, -1.0]), np.array([0.5, 0.25, 0.5]))  # symmetric: the middle
    (-2.0, False)
    """
    losses = np.where(np.isfinite(losses), losses, np.inf)
    k = int(np.argmin(losses))
    if not np.isfinite(losses[k]):
        return float("nan"), True
    at_edge = k in (0, len(losses) - 1)
    if at_edge or not (np.isfinite(losses[k - 1]) and np.isfinite(losses[k + 1])) or np.any(losses[k - 1 : k + 2] <= 0):
        return float(log2_lrs[k]), at_edge
    (x0, x1, x2), (y0, y1, y2) = log2_lrs[k - 1 : k + 2], np.log(losses[k - 1 : k + 2])
    denominator = (x1 - x0) * (y1 - y2) - (x1 - x2) * (y1 - y0)  # < 0 at a strict grid minimum, 0 when flat
    if denominator >= 0:
        return float(x1), False
    vertex = x1 - 0.5 * ((x1 - x0) ** 2 * (y1 - y2) - (x1 - x2) ** 2 * (y1 - y0)) / denominator
    return float(np.clip(vertex, x1 - 0.5 * (x1 - x0), x1 + 0.5 * (x2 - x1))), False


def optima(frame: pd.DataFrame, loss: str = "final_train_cost", seed: str = "seed") -> pd.DataFrame:
    """Per parametrization, optimizer and width (columns absent from `frame` count as one value):
    ``log2_lr``, the mean over seeds of each seed's optimum (``best_log2_lr``), ``log2_lr_std`` (sample),
    ``loss`` the mean over seeds of each seed's loss at its best grid point, ``seeds``, and ``at_edge``
    (some seed's best grid point is the grid's first or last, or every run of a seed diverged)."""
    import pandas as pd

    frame = frame.assign(**{k: frame[k] if k in frame else "" for k in KEYS})
    out = []
    for key, group in frame.groupby(KEYS, sort=True):
        best, edge, lowest = [], False, []
        for _, runs in group.groupby(seed, sort=True):
            runs = runs.sort_values("learning_rate")
            values = runs[loss].to_numpy(dtype=float)
            point, at_edge = best_log2_lr(np.log2(runs["learning_rate"].to_numpy(dtype=float)), values)
            best.append(point)
            edge |= at_edge
            lowest.append(float(np.min(np.where(np.isfinite(values), values, np.inf))))  # inf when every run diverged
        best_arr = np.asarray(best)
        out.append((*key, float(np.mean(best_arr)), float(np.std(best_arr, ddof=1)) if len(best) > 1 else 0.0,
                    float(np.mean(lowest)), len(best), bool(edge)))
    return pd.DataFrame(out, columns=[*KEYS, "log2_lr", "log2_lr_std", "loss", "seeds", "at_edge"])


def shifts(table: pd.DataFrame) -> pd.DataFrame:
    """Per parametrization and optimizer of an ``optima`` table: ``slope``, the least-squares slope of
    the mean optimum's log₂ against log₂(width) (its move per doubling of width), ``shift`` = the optimum at
    the widest width minus at the narrowest with ``shift_std`` (their spreads combined), the widths'
    ``doublings``, and ``at_edge`` (any of its optima is)."""
    import pandas as pd

    out = []
    for key, rows in table.groupby(KEYS[:2], sort=True):
        rows = rows.sort_values("width")
        x, y = np.log2(rows["width"].to_numpy(dtype=float)), rows["log2_lr"].to_numpy(dtype=float)
        slope = float(np.polyfit(x, y, 1)[0]) if len(rows) > 1 and np.all(np.isfinite(y)) else float("nan")
        spread = rows["log2_lr_std"].to_numpy(dtype=float)
        out.append((*key, slope, float(y[-1] - y[0]), float(math.hypot(spread[0], spread[-1])), float(x[-1] - x[0]),
                    bool(rows["at_edge"].any())))
    return pd.DataFrame(out, columns=[*KEYS[:2], "slope", "shift", "shift_std", "doublings", "at_edge"])
