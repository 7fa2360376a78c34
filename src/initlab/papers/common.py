"""What every paper experiment returns: claims, each with the paper's statement, the measured
value with its spread over seeds, and a verdict computed from the numbers.

An experiment module defines ``NAME``, ``TITLE``, ``CITATION`` (paper, section or figure) and
``reproduce(quick=False, seeds=None) -> Reproduction``, decorated with ``entry_point`` (BLAS on one
thread). ``quick`` settings are for the test suite (seconds); the full settings are what
``initlab reproduce NAME`` runs (under about two minutes on a 2-core CPU).

What experiments share lives here, so that no paper module imports another: the verdict helpers,
``Reproduction`` (plain data; figures drawn on demand from ``drawing`` specs), ``mean_band`` (the
mean-over-seeds line with its min–max band), and the deep ReLU nets trained on digits that
he2015-depth and lsuv2015 both use (``relu_net``, ``train_inits``, ``deep_claim``, ``loss_figure``).
"""
from __future__ import annotations

import functools
import importlib
import math
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, Union

import numpy as np
from numpy.typing import ArrayLike

from .. import _html
from .._blas import one_blas_thread
from .._validation import check_writable_dir
from ..data import Dataset, get_dataset
from ..network import Network
from ..training import TrainOptions, train_many

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_P = ParamSpec("_P")
_R = TypeVar("_R")

#: What an experiment's `seeds` may be (``seed_list``): None for its default count, a count n, or the seeds.
SeedsLike = Union[int, Iterable[int], None]


@dataclass(frozen=True)
class Claim:
    """One claim of a paper, checked on this run.

    `expected` is what the paper (or its formula) says, as text; `measured` what this run measured,
    as text with the spread over seeds; `holds` the verdict computed from the numbers by the
    experiment's own rule, stated in `rule`.
    """

    statement: str
    expected: str
    measured: str
    holds: bool
    rule: str

    @property
    def verdict(self) -> str:
        return "the claim holds on this run" if self.holds else "the claim does not hold on this run"


@dataclass
class Reproduction:
    """An experiment's result: its claims, the numbers behind them, and how to draw its figures.

    Plain data throughout (it pickles, and its fields JSON-serialize): `drawings` maps a figure's
    name to ``{"draw": "module:function", "data": {keyword: plain data}}`` (see ``drawing``), and
    ``figures`` draws them when read.
    """

    name: str
    title: str
    citation: str
    settings: dict[str, Any]
    claims: list[Claim]
    numbers: dict[str, Any] = field(default_factory=dict)  # plain data (lists, floats) behind the claims
    # figure name -> {"draw": "module:function", "data": {...}}
    drawings: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def holds(self) -> bool:
        return all(c.holds for c in self.claims)

    @property
    def figures(self) -> dict[str, Figure]:
        """Figure name -> matplotlib Figure, drawn now from `drawings` (a new Figure at each read)."""
        return {key: draw(spec) for key, spec in self.drawings.items()}

    def lines(self) -> list[str]:
        """The printed report: each claim, what was measured, the verdict."""
        out = [f"{self.title} — {self.citation}"]
        for c in self.claims:
            out += [f"  claim:    {c.statement}", f"  paper:    {c.expected}", f"  measured: {c.measured}",
                    f"  verdict:  {c.verdict} ({c.rule})"]
        return out

    def save(self, out: str | os.PathLike[str]) -> dict[str, str]:
        """Write every figure as NAME-FIGURE.png into `out`; return the paths."""
        from ..plots import save  # matplotlib: imported when figures are written

        out = check_writable_dir("out", out)
        return {key: save(fig, os.path.join(out, f"{self.name}-{key}.png")) for key, fig in self.figures.items()}

    def report_section(self, source: Any = None) -> str:
        """Each claim, the paper's value, this run's, the verdict; the settings and the figures."""
        rows = [[c.statement, c.expected, c.measured, "holds" if c.holds else "does not hold", c.rule] for c in self.claims]
        settings = _html.table_html(["setting", "value"], [[k, str(v)] for k, v in self.settings.items()], limit=None)
        claims = _html.table_html(["claim", "paper", "measured on this run", "verdict", "rule"], rows, limit=None)
        figures = "".join(_html.figure_html(fig, f"{self.name}: {key}", key.replace("_", " "))
                          for key, fig in self.figures.items())
        body = f"<p>{_html.escape(self.citation)}</p>{settings}{claims}{figures}"
        return _html.section(f"Reproduction: {self.title}", body, "reproduction")


def mean_spread(values: ArrayLike) -> tuple[float, float]:
    """Mean and sample standard deviation of per-seed values (std 0 for a single seed)."""
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def fmt(values: ArrayLike, digits: int = 3) -> str:
    """"mean ± sd (n seeds)" of per-seed values."""
    mean, sd = mean_spread(values)
    return f"{mean:.{digits}g} ± {sd:.2g} ({len(np.atleast_1d(values))} seeds)"


def within(values: ArrayLike, target: float, rel: float = 0.0, sds: float = 3.0) -> bool:
    """True when the seeds' mean is within `sds` standard errors (or `rel` relative) of `target`."""
    mean, sd = mean_spread(values)
    n = len(np.atleast_1d(values))
    return bool(abs(mean - target) <= max(sds * sd / np.sqrt(n), rel * abs(target)))


def run_settings(quick: bool, seeds: SeedsLike, quick_settings: Mapping[str, Any],
                 full_settings: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the quick or the full settings of an experiment, with `seeds` (see seed_list) for their
    default seeds."""
    chosen = dict(quick_settings if quick else full_settings)
    chosen["seeds"] = seed_list(seeds, chosen["seeds"])
    return chosen


def seed_list(seeds: SeedsLike, default: int | Iterable[int]) -> list[int]:
    """`seeds` as a list of ints: None -> range(default), an int n -> range(n), else the ints given."""
    if seeds is None:
        seeds = default
    if isinstance(seeds, (int, np.integer)):
        return list(range(int(seeds)))
    return [int(s) for s in seeds]


def plain(value: Any) -> Any:
    """`value` with numpy arrays and scalars as Python lists and numbers, tuples as lists (dict keys kept)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def drawing(function: Callable[..., Figure], **data: Any) -> dict[str, Any]:
    """A figure to draw on demand: the drawing function's name and its keyword arguments as plain data."""
    return {"draw": f"{function.__module__}:{function.__qualname__}", "data": plain(data)}


def draw(spec: Mapping[str, Any]) -> Figure:
    """The matplotlib Figure that a ``drawing`` spec describes."""
    module, name = spec["draw"].split(":")
    return getattr(importlib.import_module(module), name)(**spec["data"])


def entry_point(run: Callable[_P, _R]) -> Callable[_P, _R]:
    """An experiment's ``run``, with BLAS on one thread (small matrices: bench/README.md, initlab._blas)."""
    @functools.wraps(run)
    def limited(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with one_blas_thread():
            return run(*args, **kwargs)
    return limited


def mean_band(ax: Axes, x: ArrayLike, values: ArrayLike, color: Any, label: str | None = None, fmt: str = "-",
              alpha: float = 0.2, nan: bool = False, **line: Any) -> None:
    """The papers' per-seed picture: the mean over seeds (rows of `values`) as a line, min–max as a band.
    `nan`: ignore NaN entries (a record where a seed had diverged)."""
    values = np.asarray(values, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column where every seed is NaN
        if nan:
            mean, low, high = np.nanmean(values, axis=0), np.nanmin(values, axis=0), np.nanmax(values, axis=0)
        else:
            mean, low, high = values.mean(axis=0), values.min(axis=0), values.max(axis=0)
    ax.plot(x, mean, fmt, color=color, label=label, **line)
    ax.fill_between(x, low, high, color=color, alpha=alpha, lw=0)


# --- shared by the experiments that train deep ReLU nets on digits (he2015-depth, lsuv2015) ---------
HALF_CHANCE = math.log(10) / 2  # half the loss of a uniform guess over 10 classes
STALL = 0.05  # a run "stalls" when its final loss is within 5% of its initial loss


def relu_net(depth: int, width: int, n_in: int = 64, n_out: int = 10) -> Network:
    """`depth` weight layers: n_in -> width (× depth−1 hidden layers) -> n_out, ReLU, cross-entropy."""
    return Network((n_in,) + (width,) * (depth - 1) + (n_out,), activation="relu", loss="cross_entropy")


def first_below(iterations: Sequence[int], costs: ArrayLike, threshold: float) -> int | None:
    """The first recorded iteration whose cost is below `threshold`, or None."""
    below = np.flatnonzero(np.asarray(costs) < threshold)
    return int(iterations[below[0]]) if below.size else None


def train_inits(network: Network, inits: Sequence[str], seeds: Iterable[int], iterations: int, learning_rate: float,
                momentum: float = 0.9, batch_size: int = 64, record_every: int = 25, data: Dataset | None = None,
                init_options: Mapping[str, Mapping[str, Any]] | None = None, engine: str = "auto") -> dict[str, Any]:
    """Train `network` from each initializer in `inits`, once per seed, on the digits training set.

    Seed s draws every init with ``rng=s`` and trains them together (``train_many``) on one
    minibatch order (``TrainOptions.seed = s``). `init_options`: name -> dict of keyword
    arguments for ``network.init`` (e.g. ``{"lsuv": {"X": batch}}``).
    Returns plain data: {"iterations": [...], init: {"costs", "initial_loss", "final_loss",
    "accuracy", "first_below", "diverged"}} with one entry per seed in each list.
    """
    data = get_dataset("digits") if data is None else data
    init_options = init_options or {}
    grid = list(range(0, iterations, record_every)) + [iterations]  # recorded iterations, then the end
    out: dict[str, Any] = {
        name: {"costs": [], "initial_loss": [], "final_loss": [], "accuracy": [], "first_below": [], "diverged": []}
        for name in inits}
    out["iterations"] = grid
    for seed in seeds:
        params = np.stack([network.init(name, rng=seed, **init_options.get(name, {})) for name in inits])
        options = TrainOptions(learning_rate=learning_rate, iterations=iterations, record_every=record_every,
                               optimizer="momentum", optimizer_options={"beta": momentum}, batch_size=batch_size,
                               seed=seed)
        runs = train_many(network, params, data.X_train, data.Y_train, options, engine=engine)
        for name, run in zip(inits, runs):
            # the loss after the last update; a diverged run did not train: inf (its missing records NaN)
            final = math.inf if run.diverged else run.cost(data.X_train, data.Y_train)
            costs = np.full(len(grid), np.nan)
            costs[: len(run.costs)] = run.costs
            costs[-1] = final if not run.diverged else np.nan
            record = out[name]
            record["costs"].append(costs.tolist())
            record["initial_loss"].append(float(run.costs[0]))
            record["final_loss"].append(final)
            record["accuracy"].append(run.accuracy(data.X_train, data.Y_train))
            record["first_below"].append(first_below(grid, costs, HALF_CHANCE))
            record["diverged"].append(run.diverged)
    return out


def reach(record: Mapping[str, Any]) -> str:
    """'iteration mean ± sd (k of n seeds)' of the first iteration below ln 10 / 2, or 'never'."""
    hits = [i for i in record["first_below"] if i is not None]
    n = len(record["first_below"])
    if not hits:
        return f"never (0 of {n} seeds)"
    return f"at iteration {fmt(hits)}" + (f", never in {n - len(hits)} of {n} seeds" if len(hits) < n else "")


def deep_claim(result: Mapping[str, Any], trains: str, stalls: str, labels: Mapping[str, str], what: str) -> Claim:
    """`trains` ends below ln 10 / 2 in every seed and `stalls` ends within 5% of its initial loss."""
    good, bad = result[trains], result[stalls]
    trained = all(f < HALF_CHANCE for f in good["final_loss"])
    stalled = all(f >= (1 - STALL) * i for f, i in zip(bad["final_loss"], bad["initial_loss"]))
    below = all(g < b for g, b in zip(good["final_loss"], bad["final_loss"]))
    change = [f / i - 1 for f, i in zip(bad["final_loss"], bad["initial_loss"])]
    return Claim(
        statement=f"A {result['depth']}-layer ReLU net trains from {labels[trains]} init and stalls from "
                  f"{labels[stalls]} init ({what})",
        expected=f"{labels[trains]} converges; {labels[stalls]} does not reduce the loss",
        measured=f"final training loss {labels[trains]} {fmt(good['final_loss'])} (accuracy {fmt(good['accuracy'])}), "
                 f"{labels[stalls]} {fmt(bad['final_loss'])} (accuracy {fmt(bad['accuracy'])}, change from its initial "
                 f"loss {fmt([100 * c for c in change], 2)} %)",
        holds=trained and stalled and below,
        rule=f"in every seed {labels[trains]}'s final loss < ln 10 / 2 = {HALF_CHANCE:.3f} and below "
             f"{labels[stalls]}'s, and {labels[stalls]}'s final loss ≥ {1 - STALL:.0%} of its initial loss",
    )



# --- figures ------------------------------------------------------------------------------------
def loss_figure(results: Sequence[Mapping[str, Any]], labels: Mapping[str, str], title: str) -> Figure:
    """One panel per result: training loss against iteration, mean over seeds and min–max band per init."""
    from matplotlib.figure import Figure

    from ..plots import init_color

    fig = Figure(figsize=(max(7.5, 5.5 * len(results)), 4.2), layout="constrained")
    axes = fig.subplots(1, len(results), squeeze=False)[0]
    for ax, result in zip(axes, results):
        its = np.asarray(result["iterations"])
        for name in labels:
            if name not in result:
                continue
            costs = result[name]["costs"]  # NaN where a seed had diverged
            mean_band(ax, its, costs, init_color(name), f"{labels[name]} ({len(costs)} seeds)", nan=True, lw=2)
        ax.axhline(HALF_CHANCE, color="0.4", ls="--", lw=1, label="ln 10 / 2 (half chance level)")
        ax.set_yscale("log")
        ax.set_xlabel("iteration (minibatch updates)")
        ax.set_ylabel("training loss (cross-entropy)")
        ax.set_title(f"{result['depth']} layers")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(title)
    return fig
