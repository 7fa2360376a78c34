"""The signal view: σ_w² and σ_b² sliders (or a named initializer), depth, width, activation; per
layer the measured variances beside the mean-field prediction, the dead and saturated fractions,
the histograms of pre-activations and back-propagated gradients, and the point on the order-to-chaos
phase diagram. Its numbers are ``explore.signal.signal_view``'s, which are ``initlab probe``'s.

Every data source has a name (``signal-layers``, ``signal-hist-pre-activation``, …) so that a browser
test can read what the page holds.
"""
from __future__ import annotations

import functools
import html
from typing import Any

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, LogColorMapper
from bokeh.plotting import figure

from .. import _html
from ..activations import ACTIVATIONS
from .._spec import Spec
from .._validation import InitlabError
from ..initializers import INITIALIZERS, check_specs
from ._widgets import ErrorBox, guarded, prompt, push, spec_text
from .signal import HISTOGRAMS as KINDS
from .limits import MAX_BATCH, MAX_DEPTH, MAX_SEEDS, MAX_WIDTH
from .signal import SHOWN, SIGMA_B2, SIGMA_W2, SignalSettings, SignalView, chosen_point, signal_view

SLIDERS = "σ_w², σ_b² sliders"  # the initializer choice that reads the two sliders (mean_field)
DIGITS = 4  # the σ sliders' values are read to this many decimals (their steps are 0.01 and 0.005)
WIDTHS = [8, 16, 32, 64, 128, 256, 512, MAX_WIDTH]
BATCHES = [16, 32, 64, 128, 256, MAX_BATCH]
NEAR_EDGE = 0.01  # |χ₁ − 1| below this is said to be at the edge (a draw's sampling error is about this size)
PALETTE = "Viridis256"
TABLE_STYLE = {"max-height": "320px", "overflow-y": "auto"}  # the per-layer numbers scroll under the figures
TABLE_CSS = "table { border-collapse: collapse; font-size: 12px; } th, td { padding: 2px 6px; border-bottom: 1px solid #ddd; } td.num { text-align: right; font-variant-numeric: tabular-nums; }"


class SignalPanel:
    """The signal view's controls, figures and callbacks (``layout`` is what a page shows)."""

    def __init__(self, settings: SignalSettings = SignalSettings()) -> None:
        self.errors = ErrorBox("signal-errors")
        self._controls(settings)
        self._sources()
        self.figures = [self._variance_figure(), self._fraction_figure(), self._phase_figure(),
                        *[self._histogram_figure(kind) for kind in KINDS]]
        self.verdicts = pn.pane.HTML("", name="signal-verdicts", sizing_mode="stretch_width")
        self.numbers = pn.pane.HTML("", name="signal-numbers", sizing_mode="stretch_width", styles=TABLE_STYLE,
                                    stylesheets=[TABLE_CSS])
        refresh = guarded(self.errors, self.refresh)
        for widget in self.watched:
            prompt(widget).param.watch(refresh, "value_throttled" if "value_throttled" in widget.param else "value")
        self.layout = pn.Row(
            pn.Column(*self.widgets, width=280),
            pn.Column(self.errors.pane, self.verdicts, pn.Row(*[pn.pane.Bokeh(f) for f in self.figures[:3]]),
                      pn.Row(*[pn.pane.Bokeh(f) for f in self.figures[3:]]), self.numbers),
            name="Signal")
        self.view: SignalView | None = None
        refresh()

    def _controls(self, s: SignalSettings) -> None:
        sigmas = chosen_point(s.init)  # mean_field: the sliders'; another initializer: its name and options
        [(_, name, options)] = check_specs("init", s.init)
        self.init = pn.widgets.Select(label="initializer", options=[SLIDERS, *dense_initializers()],
                                      value=SLIDERS if sigmas else name)
        self.options = pn.widgets.TextInput(label="its options (key=value, …)", placeholder="e.g. gain=1.2",
                                            value="" if sigmas else _options_text(name, options))
        w2, b2 = sigmas or (2.0, 0.0)
        self.sigma_w2 = pn.widgets.FloatSlider(label="σ_w²", start=SIGMA_W2[0], end=SIGMA_W2[1], step=0.01, value=w2)
        self.sigma_b2 = pn.widgets.FloatSlider(label="σ_b²", start=SIGMA_B2[0], end=SIGMA_B2[1], step=0.005, value=b2)
        self.depth = pn.widgets.IntSlider(label="depth (hidden layers)", start=1, end=MAX_DEPTH, value=s.depth)
        self.width = pn.widgets.DiscreteSlider(label="width", options=sorted({*WIDTHS, s.width}), value=s.width)
        self.activation = pn.widgets.Select(label="activation", options=list(ACTIVATIONS), value=s.activation)
        self.seeds = pn.widgets.IntSlider(label="seeds", start=1, end=MAX_SEEDS, value=s.seeds)
        self.batch = pn.widgets.DiscreteSlider(label="batch (Gaussian inputs)", options=sorted({*BATCHES, s.batch}), value=s.batch)
        self.correlations = pn.widgets.Checkbox(label="predict the correlations too (slower)", value=s.correlations)
        self.command = pn.pane.HTML("", name="signal-command", sizing_mode="stretch_width")
        self.watched = [self.init, self.options, self.sigma_w2, self.sigma_b2, self.depth, self.width, self.activation,
                        self.seeds, self.batch, self.correlations]
        self.widgets = [*self.watched, self.command]

    def settings(self) -> SignalSettings:
        """The controls' values as settings (checked by ``signal_view``)."""
        base = SignalSettings(init=spec_text(str(self.init.value), str(self.options.value)), depth=self.depth.value,
                              width=self.width.value, activation=self.activation.value, seeds=self.seeds.value,
                              batch=self.batch.value, correlations=self.correlations.value)
        if self.init.value == SLIDERS:  # the sliders' values on their steps (a drag leaves 1.0600000000000003)
            return base.with_sigmas(round(self.sigma_w2.value, DIGITS), round(self.sigma_b2.value, DIGITS))
        return base

    def refresh(self) -> None:
        """Probe the controls' settings and redraw every figure from the result (one message to the page)."""
        self.sigma_w2.disabled = self.sigma_b2.disabled = self.init.value != SLIDERS  # first: a failing probe
        self.options.disabled = self.init.value == SLIDERS  # must not leave a bad option text locked in
        view = signal_view(self.settings())
        self.view = view
        with pn.io.hold():  # one message to the page for every change below
            self._show(view)
        push(self.layout)

    def _show(self, view: SignalView) -> None:
        t = view.table
        layers = {name: t[name].to_numpy(float) for name in SHOWN}
        self.layers.data = {**layers, **{f"{k}_log": _positive(layers[k]) for k in
                                         ("pre_var", "pred_pre_var", "grad_var", "pred_grad_var")}}
        for kind in KINDS:
            self._show_histogram(kind, view)
        w2, b2 = view.critical
        self.critical.data = {"sigma_w2": w2, "sigma_b2": b2}
        self.point.data = {"sigma_w2": [view.point[0]], "sigma_b2": [view.point[1]]}
        self.figures[2].title.text = _phase_title(view)
        self.figures[2].xaxis.axis_label = _point_label(view)
        self.verdicts.object = _html.verdicts_html(view.verdicts)  # escaped
        self.numbers.object = _html.table_html(SHOWN, t.itertuples(index=False), limit=None, css_class="initlab-layers")
        self.command.object = f"<p>The same numbers: <code>{html.escape(view.settings.probe_command())}</code></p>"

    def _show_histogram(self, kind: str, view: SignalView) -> None:
        image = view.images[kind]  # (L, bins)
        low, high = view.ranges[kind]
        shown = np.where(image > 0, image, np.nan)  # empty bins transparent on the log colour scale
        self.histograms[kind].data = {"image": [shown], "x": [low], "y": [0.5], "dw": [high - low], "dh": [image.shape[0]]}

    # --- figures -------------------------------------------------------------------------------
    def _sources(self) -> None:
        self.layers = ColumnDataSource(name="signal-layers")
        self.histograms = {k: ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []}, name=f"signal-hist-{k}")
                           for k in KINDS}
        self.critical = ColumnDataSource({"sigma_w2": [], "sigma_b2": []}, name="signal-critical")
        self.point = ColumnDataSource({"sigma_w2": [], "sigma_b2": []}, name="signal-point")

    def _variance_figure(self) -> Any:
        f = figure(title="variance per layer: measured (points), predicted (lines)", y_axis_type="log", width=420,
                   height=300, x_axis_label="layer", tools="pan,wheel_zoom,box_zoom,reset,hover")
        for name, colour, label in (("pre_var", "#1f77b4", "pre-activations"), ("grad_var", "#d62728", "gradients")):
            f.scatter("layer", f"{name}_log", source=self.layers, color=colour, legend_label=label)
            f.line("layer", f"pred_{name}_log", source=self.layers, color=colour, line_dash="dashed")
        f.legend.location = "bottom_left"
        return f

    def _fraction_figure(self) -> Any:
        f = figure(title="dead and saturated units per layer", width=360, height=300, x_axis_label="layer",
                   y_range=(-0.02, 1.02), tools="pan,box_zoom,reset,hover")
        f.line("layer", "dead", source=self.layers, color="#444444", legend_label="dead (ReLU family)")
        f.line("layer", "saturated", source=self.layers, color="#ff7f0e", legend_label="saturated (bounded)")
        f.legend.location = "top_left"
        return f

    def _phase_figure(self) -> Any:
        f = figure(title="phase diagram", width=360, height=300, x_range=SIGMA_W2, y_range=SIGMA_B2,
                   x_axis_label="σ_w²", y_axis_label="σ_b²", tools="pan,box_zoom,reset")
        f.line("sigma_w2", "sigma_b2", source=self.critical, color="black", line_width=2, legend_label="edge of chaos (χ₁ = 1)")
        f.scatter("sigma_w2", "sigma_b2", source=self.point, size=12, color="#d62728", legend_label="this network")
        f.legend.location = "top_right"
        return f

    def _histogram_figure(self, kind: str) -> Any:
        what = {"pre-activation": "pre-activations z", "activation": "activations a"}.get(kind, "gradients δ")
        f = figure(title=f"{what}: a histogram per layer (seed 0)", width=420, height=300,
                   x_axis_label="value", y_axis_label="layer", tools="pan,wheel_zoom,box_zoom,reset")
        mapper = LogColorMapper(palette=PALETTE, low=1e-4, high=1.0, nan_color=(0, 0, 0, 0))
        f.image("image", x="x", y="y", dw="dw", dh="dh", source=self.histograms[kind], color_mapper=mapper)
        return f


@functools.lru_cache(maxsize=1)
def dense_initializers() -> tuple[str, ...]:
    """The registry's initializers that draw a dense layer's (out, in) weights, by asking each for a
    (4, 4) one (dirac and delta_orthogonal draw convolution kernels only)."""
    return tuple(name for name in INITIALIZERS if _draws_dense(name))


def _draws_dense(name: str) -> bool:
    try:
        INITIALIZERS[name]()((4, 4), np.random.default_rng(0))
    except InitlabError:
        return False
    return True


def _options_text(name: str, options: dict[str, Any]) -> str:
    """An initializer's options as the options box reads them: normal(std=0.5) → "std=0.5"."""
    text = str(Spec.make(name, options))
    return text[len(name) + 1:-1] if text != name else ""


def _phase_title(view: SignalView) -> str:
    if not view.phase:
        return "phase: no χ₁ here"
    near = " (the edge within 1%)" if view.phase != "critical" and abs(view.chi1 - 1.0) < NEAR_EDGE else ""
    return f"phase: {view.phase}, χ₁ = {view.chi1:.4g}{near}"


def _point_label(view: SignalView) -> str:
    """Which (σ_w², σ_b²) the point is: mean_field's own, or a named initializer's realized ones."""
    return "σ_w² (mean_field's)" if chosen_point(view.settings.init) else "σ_w² (realized, averaged over the layers)"


def _positive(values: np.ndarray) -> np.ndarray:
    """A log axis's values: NaN (not drawn) where a value is not > 0."""
    return np.where(values > 0, values, np.nan)
