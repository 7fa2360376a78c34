"""The sweep view: one of the sweep databases the user opened (``initlab explore --sweep FILE.db``,
``app(sweeps=[…])``), a heatmap of a seed statistic of a metric over two of its varying axes.

Only the databases given when the app started can be read: the page chooses among them by name,
and a name the app was not given is an error, not a path.
"""
from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import panel as pn
from bokeh.models import ColorBar, ColumnDataSource, LinearColorMapper
from bokeh.plotting import figure

from .._validation import check_choice
from ..sweep import METRICS
from ._widgets import ErrorBox, guarded, push
from .sweeps import NO_AXIS, STATISTICS, SweepTable

PALETTE = "Viridis256"


class SweepPanel:
    """The sweep view's controls, heatmap and callbacks (``layout`` is what a page shows)."""

    def __init__(self, sweeps: Sequence[str | os.PathLike[str]] = ()) -> None:
        self.errors = ErrorBox("sweep-errors")
        self.paths = {os.fspath(p): os.fspath(p) for p in sweeps}  # shown as given: two t.db in two folders stay two
        self.tables: dict[str, SweepTable] = {}
        self.db = pn.widgets.Select(label="sweep database", options=list(self.paths))
        self.x = pn.widgets.Select(label="x axis")
        self.y = pn.widgets.Select(label="y axis")
        self.metric = pn.widgets.Select(label="metric", options=list(METRICS), value="test_accuracy")
        self.statistic = pn.widgets.Select(label="over the seeds", options=list(STATISTICS), value="mean")
        self.cells = ColumnDataSource({"x": [], "y": [], "value": [], "text": [], "ink": []}, name="sweep-cells")
        self.mapper = LinearColorMapper(palette=PALETTE, nan_color="#dddddd")
        self.figure = figure(title="", width=640, height=420, tools="hover,save", tooltips=[("value", "@text")],
                             x_range=[""], y_range=[""])
        self.figure.rect("x", "y", 1, 1, source=self.cells, fill_color={"field": "value", "transform": self.mapper}, line_color="white")
        self.figure.text("x", "y", text="text", source=self.cells, text_align="center", text_baseline="middle",
                         text_font_size="9pt", text_color="ink")
        self.figure.add_layout(ColorBar(color_mapper=self.mapper, width=12), "right")
        self.db.param.watch(guarded(self.errors, self.open), "value")
        self.x.param.watch(guarded(self.errors, self.new_x), "value")
        redraw = guarded(self.errors, self.redraw)
        for widget in (self.y, self.metric, self.statistic):
            widget.param.watch(redraw, "value")
        hint = ("No sweep database was opened: start with <code>initlab explore --sweep FILE.db</code> "
                "or <code>initlab.explore.app(sweeps=['FILE.db'])</code>.")
        self.layout = pn.Column(self.errors.pane, pn.Row(pn.Column(self.db, self.x, self.y, self.metric, self.statistic, width=280),
                                                         pn.pane.Bokeh(self.figure)),
                                *([] if self.paths else [pn.pane.HTML(f"<p>{hint}</p>")]), name="Sweep")
        if self.paths:
            guarded(self.errors, self.open)()

    def open(self) -> None:
        """Read the chosen database (once) and offer its varying axes."""
        name = check_choice("db", self.db.value, list(self.paths))
        if name not in self.tables:
            self.tables[name] = SweepTable.open(self.paths[name])
        axes = self.tables[name].axes
        with pn.io.hold():
            self.x.options = axes
            self.x.value = axes[0]
            self._offer_y(axes, axes[1] if len(axes) > 1 else NO_AXIS)
        self.redraw()

    def new_x(self) -> None:
        """Another x axis: y offers the others (and keeps its choice unless it is the new x)."""
        name = check_choice("db", self.db.value, list(self.paths))
        if name in self.tables:
            axes = self.tables[name].axes
            others = [a for a in axes if a != self.x.value]
            self._offer_y(axes, self.y.value if self.y.value in others else (others[0] if others else NO_AXIS))
        self.redraw()

    def _offer_y(self, axes: list[str], value: str) -> None:
        with pn.io.hold():
            self.y.options = [NO_AXIS, *[a for a in axes if a != self.x.value]]
            self.y.value = value

    def redraw(self) -> None:
        """The heatmap of the chosen statistic."""
        name = check_choice("db", self.db.value, list(self.paths))
        if name not in self.tables:
            return
        grid = self.tables[name].heatmap(self.x.value, self.y.value, self.metric.value, self.statistic.value)
        rows, columns = np.meshgrid(range(len(grid.rows)), range(len(grid.columns)), indexing="ij")
        values = grid.values.ravel()
        finite = values[np.isfinite(values)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        dark = ~(values > (low + high) / 2)  # the palette's dark half (and the grey of a missing cell): white ink
        self.cells.data = {"x": [grid.columns[j] for j in columns.ravel()], "y": [grid.rows[i] for i in rows.ravel()],
                           "value": values, "text": [f"{v:.3g}" if np.isfinite(v) else "—" for v in values],
                           "ink": np.where(dark & np.isfinite(values), "white", "black").tolist()}
        self.figure.x_range.factors, self.figure.y_range.factors = grid.columns, grid.rows
        self.mapper.low, self.mapper.high = low, high
        self.figure.title.text = f"{grid.statistic} of {grid.metric} over the seeds: {grid.x} × {grid.y}"
        self.figure.xaxis.axis_label, self.figure.yaxis.axis_label = grid.x, "" if grid.y == NO_AXIS else grid.y
        push(self.layout)
