"""The sweep view's numbers, without a widget: a sweep database the user opened, read once
(``sweep.read_frame``), and a heatmap of one seed statistic (``sweep.seed_statistics``: mean, std,
the 95% interval's ends, the count of finite seeds, the diverged runs) of one metric over two of
its varying axes, every other axis and the seeds pooled per cell.

>>> import tempfile, os
>>> from initlab import sweep
>>> spec = sweep.make_spec({"sweep": {"seeds": 2, "name": "t"}, "grid": {"init": ["he", "random"],
...     "learning_rate": [0.01, 0.1], "iterations": [20], "width": [4], "depth": [1]}})
>>> db = os.path.join(tempfile.mkdtemp(), "t.db")
>>> _ = sweep.run_sweep(spec, db, engine="numpy")
>>> table = SweepTable.open(db)
>>> table.axes
['init_label', 'learning_rate']
>>> grid = table.heatmap("learning_rate", "init_label", "test_accuracy", "count")
>>> grid.columns, grid.rows, grid.values.tolist()
(['0.01', '0.1'], ['he', 'random'], [[2.0, 2.0], [2.0, 2.0]])
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import InitlabError, check_choice
from ..sweep import METRICS, read_frame, seed_statistics, varying_axes

if TYPE_CHECKING:
    import pandas as pd

STATISTICS = ("mean", "std", "low", "high", "count", "diverged")  # seed_statistics' columns a cell can show
NO_AXIS = "(none)"  # the heatmap's y axis when the sweep varies one axis only


@dataclass
class Heatmap:
    """One statistic on a grid: values[i, j] at (columns[j], rows[i]); NaN where no run is stored."""

    x: str
    y: str
    metric: str
    statistic: str
    columns: list[str]
    rows: list[str]
    values: np.ndarray  # (len(rows), len(columns))


@dataclass
class SweepTable:
    """The runs of one sweep database (``open``), and the axes its heatmaps can use."""

    source: str
    frame: pd.DataFrame

    @classmethod
    def open(cls, db: str | os.PathLike[str]) -> SweepTable:
        """Read `db` (read-only; a missing file or one that is not a sweep is the store's error)."""
        frame = read_frame(db)
        if not len(frame):
            raise InitlabError(f"The 'db' parameter must be a sweep database with stored runs. Got {os.fspath(db)!r}, "
                               "which holds none yet.", param="db")
        return cls(os.fspath(db), frame)

    @property
    def axes(self) -> list[str]:
        """The axes that take more than one value (at least the initializer's label)."""
        return varying_axes(self.frame) or ["init_label"]

    def heatmap(self, x: Any, y: Any, metric: Any = "test_accuracy", statistic: Any = "mean") -> Heatmap:
        """`statistic` of `metric` over the seeds (and any other axis) per cell of `x` × `y` (y NO_AXIS: one row)."""
        x = check_choice("x", x, self.axes)
        y = check_choice("y", y, [NO_AXIS, *[a for a in self.axes if a != x]])
        metric = check_choice("metric", metric, METRICS)
        statistic = check_choice("statistic", statistic, STATISTICS)
        by = [x] if y == NO_AXIS else [x, y]
        stats = seed_statistics(self.frame, metric, by=by)
        stats = stats.assign(_x=stats[x].astype(str), _y=stats[y].astype(str) if y != NO_AXIS else "")
        columns, rows = _labels(stats, x, "_x"), _labels(stats, y, "_y")
        table = stats.pivot_table(index="_y", columns="_x", values=statistic, aggfunc="first", dropna=False)
        return Heatmap(x, y, metric, statistic, columns, rows,
                       table.reindex(index=rows, columns=columns).to_numpy(dtype=float))


def _labels(stats: pd.DataFrame, axis: str, label: str) -> list[str]:
    """An axis's labels in the order of its values (numbers as numbers: 0.01, 0.1, 1, 10)."""
    if axis == NO_AXIS:
        return [""]
    return list(dict.fromkeys(stats.sort_values(axis, kind="stable")[label]))
