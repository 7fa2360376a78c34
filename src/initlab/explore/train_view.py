"""The train view: the notebook's experiment, live. Initializers (any registry entry, with options,
side by side on the same data), hidden layers, activation, learning rate, dataset and seed; play,
pause, step and reset; the cost curves and each model's decision boundary redraw while it trains.

Its numbers are ``explore.session.TrainSession``'s: ``initlab compare``'s runs, a few iterations per
frame. Sources are named (``train-cost-0``, ``train-boundary-0``, …) for the browser test.
"""
from __future__ import annotations

import html
from typing import Any

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, LinearColorMapper
from bokeh.plotting import figure

from ..activations import ACTIVATIONS
from ..initializers import INITIALIZERS, split_specs
from .._validation import InitlabError, check_int, parse_ints
from ..plots import init_colors
from ._widgets import ErrorBox, guarded, push
from .limits import MAX_MODELS
from .session import GRID, TrainSession, TrainSettings, two_d_datasets

FRAME_MS = 50  # the periodic callback's period: at most 20 frames a second
BOUNDARY = "RdBu11"  # P(y = 1) from red (0) to blue (1), as the course's plots


class TrainPanel:
    """The train view's controls, figures and callbacks (``layout`` is what a page shows)."""

    def __init__(self, settings: TrainSettings = TrainSettings()) -> None:
        self.errors = ErrorBox("train-errors")
        self._controls(settings)
        self.status = pn.pane.HTML("", name="train-status", sizing_mode="stretch_width")
        self.costs = [ColumnDataSource({"iteration": [], "cost": []}, name=f"train-cost-{b}") for b in range(MAX_MODELS)]
        self.cost_figure = self._cost_figure()
        self.boundary_row = pn.Row()
        self.session: TrainSession | None = None
        self.callback: Any = None
        rebuild, play = guarded(self.errors, self.rebuild), guarded(self.errors, self.toggle)
        for widget in self.settings_widgets:
            widget.param.watch(rebuild, "value")
        self.play.param.watch(play, "value")
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:  # served: stop with the page
            pn.state.on_session_destroyed(lambda _context: self.pause())
        self.step.on_click(guarded(self.errors, self.advance))
        self.frame = self._frame_callback()
        self.reset.on_click(guarded(self.errors, self.restart))
        self.layout = pn.Row(pn.Column(*self.settings_widgets, self.per_frame, pn.Row(self.play, self.step, self.reset), width=300),
                             pn.Column(self.errors.pane, self.status, pn.pane.Bokeh(self.cost_figure), self.boundary_row),
                             name="Train")
        rebuild()

    def _controls(self, s: TrainSettings) -> None:
        self.inits = pn.widgets.TextInput(label="initializers (comma-separated, name or name(key=value))",
                                          value=", ".join(s.inits), description="known: " + ", ".join(INITIALIZERS))
        self.dataset = pn.widgets.Select(label="dataset", options=two_d_datasets(), value=s.dataset)
        self.hidden = pn.widgets.TextInput(label="hidden layer sizes (any depth and width)", value=", ".join(map(str, s.hidden)))
        self.activation = pn.widgets.Select(label="activation", options=list(ACTIVATIONS), value=s.activation)
        self.learning_rate = pn.widgets.FloatInput(label="learning rate", value=s.learning_rate, step=0.001)
        self.seed = pn.widgets.IntInput(label="seed (of the initial weights)", value=s.seed)
        self.iterations = pn.widgets.IntInput(label="iterations", value=s.iterations, step=1000)
        self.per_frame = pn.widgets.IntSlider(label="iterations per frame", start=1, end=1000, value=100)
        self.play = pn.widgets.Toggle(label="▶ play / ❚❚ pause", color="primary", value=False)
        self.step = pn.widgets.Button(label="step")
        self.reset = pn.widgets.Button(label="reset")
        self.settings_widgets = [self.inits, self.dataset, self.hidden, self.activation, self.learning_rate, self.seed,
                                 self.iterations]

    def settings(self) -> TrainSettings:
        """The controls' values as settings (checked by ``TrainSession``)."""
        hidden = tuple(parse_ints("hidden", str(self.hidden.value), example="10, 5"))
        return TrainSettings(inits=tuple(split_specs(str(self.inits.value))), dataset=self.dataset.value, hidden=hidden,
                             activation=self.activation.value, learning_rate=self.learning_rate.value,
                             seed=self.seed.value, iterations=self.iterations.value)

    # --- callbacks -----------------------------------------------------------------------------
    def rebuild(self) -> None:
        """New settings: a new session (its weights drawn from the seed), drawn at iteration 0. Training
        pauses first: settings that fail leave the last session paused, under their message."""
        self.pause()
        self.session = TrainSession(self.settings())
        self._new_boundaries()
        self.draw(restart=True)

    def restart(self) -> None:
        """Back to the very same initial weights."""
        self.current().reset()
        self.draw(restart=True)

    def advance(self) -> None:
        """One frame: `per_frame` more iterations, then redraw."""
        session = self.current()
        session.advance(check_int("iterations per frame", self.per_frame.value, low=1))
        self.draw()
        if session.finished:
            self.pause()

    def current(self) -> TrainSession:
        """The session the controls last built (an error if their settings never built one)."""
        if self.session is None:
            raise InitlabError("There is no run to train: the settings above have not built one yet (see their message).")
        return self.session

    def toggle(self) -> None:
        if self.play.value and self.callback is None:
            self.callback = pn.state.add_periodic_callback(self.frame, period=FRAME_MS)
        elif not self.play.value:
            self.pause()

    def _frame_callback(self) -> Any:
        """advance() for the periodic callback: a frame's error pauses and stays shown (a good frame does
        not clear a message the settings left)."""
        def frame() -> None:
            try:
                self.advance()
            except (ValueError, TypeError) as exc:
                self.pause()
                self.errors.show(str(exc))

        return frame

    def pause(self) -> None:
        if self.callback is not None:
            self.callback.stop()
            self.callback = None
        self.play.value = False

    # --- drawing -------------------------------------------------------------------------------
    def draw(self, restart: bool = False) -> None:
        """Stream each curve's new points, redraw the boundaries and the status line (not held into one
        message: measured, holding a frame's changes cut the page's frame rate from ~19.7 to ~15.5 a second)."""
        session = self.current()
        probs = session.boundaries()  # (B, GRID, GRID)
        accuracies = session.accuracies()
        self._draw_curves(session, restart)
        for b, (source, fig) in enumerate(self.boundaries):
            source.data = {**source.data, "image": [probs[b]]}
            fig.title.text = f"{session.labels[b]}: train {accuracies[b][0]:.0%}, test {accuracies[b][1]:.0%}"
        self.status.object = _status(session, accuracies, self.colours)
        push(self.layout)

    def _draw_curves(self, session: TrainSession, restart: bool) -> None:
        for b, source in enumerate(self.costs[:len(session.curves)]):
            curve = session.curves[b]
            sent = 0 if restart else len(source.data["iteration"])
            if restart:
                source.data = {"iteration": list(curve.iterations), "cost": list(curve.costs)}
            elif len(curve.iterations) > sent:
                source.stream({"iteration": curve.iterations[sent:], "cost": curve.costs[sent:]})
        if restart:
            for source in self.costs[len(session.curves):]:
                if len(source.data["iteration"]):
                    source.data = {"iteration": [], "cost": []}

    def _cost_figure(self) -> Any:
        f = figure(title="cost on the training set", width=620, height=280, x_axis_label="iteration", y_axis_label="cost",
                   y_axis_type="log", tools="pan,wheel_zoom,box_zoom,reset,hover")
        self.cost_lines = [f.line("iteration", "cost", source=s, line_width=2) for s in self.costs]
        return f

    def _new_boundaries(self) -> None:
        """One decision-boundary figure per model, with the training points."""
        session = self.current()
        xs, ys = session.grid()
        X, y = session.data.X_train, session.data.Y_train.ravel()
        points = ColumnDataSource({"x": X[0], "y": X[1], "colour": np.where(y > 0.5, "#08306b", "#67000d")}, name="train-points")
        self.boundaries, figures = [], []
        self.colours = init_colors(session.labels)  # each initializer its colour, as in every initlab figure
        for b, label in enumerate(session.labels):
            source = ColumnDataSource({"image": [np.full((GRID, GRID), 0.5)], "x": [xs[0]], "y": [ys[0]],
                                       "dw": [xs[-1] - xs[0]], "dh": [ys[-1] - ys[0]]}, name=f"train-boundary-{b}")
            f = figure(title=label, width=300, height=300, x_range=(xs[0], xs[-1]), y_range=(ys[0], ys[-1]),
                       tools="pan,wheel_zoom,reset", name=f"train-boundary-figure-{b}")
            f.image("image", x="x", y="y", dw="dw", dh="dh", source=source,
                    color_mapper=LinearColorMapper(palette=BOUNDARY, low=0.0, high=1.0))
            f.scatter("x", "y", source=points, color="colour", size=4, line_color="white", line_width=0.5)
            f.outline_line_color = self.colours[label]
            f.outline_line_width = 4
            self.boundaries.append((source, f))
            figures.append(pn.pane.Bokeh(f))
        for b, line in enumerate(self.cost_lines):
            line.visible = b < len(session.labels)
            if line.visible:
                line.glyph.line_color = self.colours[session.labels[b]]
        self.boundary_row.objects = figures


def _status(session: TrainSession, accuracies: list[tuple[float, float]], colours: dict[str, str]) -> str:
    """The iteration and each model's line (escaped: the labels are what the user typed)."""
    rows = []
    for b, label in enumerate(session.labels):
        cost = session.curves[b].costs[-1]
        state = session.statuses[b] or ("finished" if session.iteration >= session.options.iterations else "training")
        rows.append(f'<li><span style="color:{colours[label]}">■</span> {html.escape(label)}: cost {cost:.6f}, train accuracy '
                    f"{accuracies[b][0]:.0%}, test {accuracies[b][1]:.0%} — {html.escape(state)}</li>")
    head = f"<p class=\"initlab-iteration\">iteration <b>{session.iteration}</b> of {session.options.iterations} ({html.escape(session.engine)} engine)</p>"
    return head + "<ul>" + "".join(rows) + "</ul>"
