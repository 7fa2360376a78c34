"""Figures from results (never trains): cost curves, decision boundaries (and their animation over
training), signal propagation, sweep heatmaps and seed statistics, dataset thumbnails.

Every figure is a ``matplotlib.figure.Figure`` built without pyplot, so nothing pops up in a
script or a test; :func:`save` writes it. Each initializer keeps one colour in every figure
(:func:`init_color`), and every axis says what it measures.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import LogFormatterSciNotation, MaxNLocator
from numpy.typing import ArrayLike

from ._spec import Spec
from ._validation import InitlabError
from ._atomic import replacing
from .initializers import INITIALIZERS

if TYPE_CHECKING:
    import pandas as pd
    import PIL.Image
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.legend import Legend
    from matplotlib.typing import LegendLocType

# plots comes before data, network, training and compare (tests/test_layering.py): the results it
# draws are typed by what they are, not imported
_Comparison = Any  # a compare.Comparison: .results, .dataset, .options, .network
_Result = Any  # a compare.InitResult: .name, .run, .train_accuracy, .test_accuracy, .snapshots
_Dataset = Any  # a data.Dataset: .X_train, .Y_train, .classes, .n_features, .name
PathT = TypeVar("PathT", bound="str | os.PathLike[str]")  # save and training_animation return the path given

LIMITS = (-1.5, 1.5)  # the notebook's axes for the circles data
GRID_STEP = 0.01  # the notebook's mesh step
_PALETTE = [  # strong colours, each readable on white; the commonly compared initializers come first
    "#7f7f7f", "#d62728", "#1f77b4", "#e8710a", "#2ca02c", "#9467bd", "#0f9fb0", "#8c564b", "#9a9b13", "#c8509f",
    "#393b79", "#637939", "#843c39", "#7b4173", "#5254a3", "#8ca252", "#bd9e39", "#ad494a", "#a55194", "#17495e",
]
_COLOR_ORDER = (  # who gets which palette entry (aliases share their scheme's): distinct in one figure
    "zeros", "random", "he_normal", "xavier_normal", "lecun_normal", "orthogonal", "he_uniform", "xavier_uniform",
    "lecun_uniform", "torch_default", "sklearn_default", "keras_default", "lsuv", "identity", "normal", "uniform",
    "truncated_normal", "variance_scaling", "ones", "constant",
)
UNKNOWN_COLOR = "#222222"


CLASS_COLORS = ("#b2182b", "#2166ac")  # points of class 0 and 1
REGION_COLORS = ("#f4a582", "#92c5de")  # the regions predicted 0 and 1


def init_color(name: object) -> str:
    """The colour of initializer `name`, the same in every figure (aliases share one). A sweep's
    label such as ``random(scale=0.5)`` takes its initializer's colour."""
    try:
        name = Spec.parse(str(name)).key
    except InitlabError:  # not a spec's text: no scheme's colour
        return UNKNOWN_COLOR
    if name not in INITIALIZERS:
        return UNKNOWN_COLOR
    ranked = [INITIALIZERS[n] for n in _COLOR_ORDER if n in INITIALIZERS]
    ranked += [f for f in dict.fromkeys(INITIALIZERS.values()) if f not in ranked]  # schemes registered later
    return _PALETTE[ranked.index(INITIALIZERS[name]) % len(_PALETTE)]


def init_colors(labels: Iterable[Any]) -> dict[str, str]:
    """{label: colour} for the initializers of one figure: each label its scheme's colour
    (:func:`init_color`) unless an earlier label of the figure took it — two configurations of one
    scheme, ``normal(std=0.01)`` and ``normal(std=1)``, or a scheme past the palette's end — then the
    next palette colour no label of the figure uses.

    >>> colors = init_colors(["normal(std=0.01)", "normal(std=1)", "he_normal"])
    >>> colors["he_normal"] == init_color("he_normal"), len(set(colors.values()))
    (True, 3)
    """
    labels = list(dict.fromkeys(str(label) for label in labels))
    wanted = {label: init_color(label) for label in labels}
    taken: set[str] = set()
    colors: dict[str, str] = {}
    for label in labels:
        color = wanted[label]
        if color in taken:
            start = _PALETTE.index(color) if color in _PALETTE else 0
            free = [c for c in _PALETTE[start:] + _PALETTE[:start] if c not in taken and c not in wanted.values()]
            free = free or [c for c in _PALETTE if c not in taken] or [color]  # more labels than colours: reuse
            color = free[0]
        colors[label] = color
        taken.add(color)
    return colors


def _loss_label(loss: str) -> str:
    return f"training cost ({loss.replace('_', ' ')}, nats)"


class _PlainLogFormatter(LogFormatterSciNotation):
    """The log-axis ticks matplotlib labels, as plain numbers: 0.74, 0.1, 1000, and 1e-05 or 1e+05
    outside [0.0001, 10000]. Its own "7.4×10⁻¹" labels of a cost spanning less than a decade were
    so wide that they and the y label fell off the left edge of the fixed-margin cost figure."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        if not super().__call__(x, pos):
            return ""  # a tick matplotlib leaves unlabelled
        return f"{x:.5g}" if 1e-4 <= abs(x) <= 1e4 else f"{x:.0e}"


def _plain_log_ticks(axis: Axis) -> None:
    axis.set_major_formatter(_PlainLogFormatter())
    axis.set_minor_formatter(_PlainLogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.4)))


def _fixed_margins(fig: Figure, left: float, right: float, bottom: float, top: float, wspace: float = 0.0) -> None:
    """Place the subplots by margins in inches instead of a layout engine. The figures that
    ``initlab compare`` writes use it: constrained layout measures every tick label first, which
    doubled their drawing time (bench/README.md)."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height,
                        wspace=wspace)


def cost_figure(named_runs: Iterable[tuple[str, Any]], learning_rate: float | None = None,
                loss: str = "binary_cross_entropy") -> Figure:
    """Training cost against iteration for (name, run) pairs, one line per initializer, log scale."""
    fig = Figure(figsize=(7.0, 4.0))
    _fixed_margins(fig, left=0.95, right=0.15, bottom=0.55, top=0.35)  # y ticks as wide as "0.0001" or "1e+03"
    ax = fig.add_subplot()
    drawn: list[tuple[str, np.ndarray]] = []  # (name, costs) already on the axes
    named_runs = list(named_runs)
    colors = init_colors(name for name, _ in named_runs)
    for name, run in named_runs:
        label = f"{name} (diverged)" if run.diverged else name
        costs = np.asarray(run.costs, dtype=float)
        twin = next((other for other, seen in drawn if np.array_equal(seen, costs, equal_nan=True)), None)
        if twin is not None:  # e.g. xavier_normal and lecun_normal on square layers: say so, keep both visible
            label += f" (same costs as {twin})"
        shown = np.where(costs > 0, costs, np.nan)  # what a log scale can draw
        ax.plot(run.iterations, shown, color=colors[str(name)], label=label, lw=2, linestyle="--" if twin is not None else "-",
                marker="o" if np.isfinite(shown).sum() <= 2 else None)  # a curve of one point shows
        drawn.append((name, costs))
    ax.set_yscale("log")
    _plain_log_ticks(ax.yaxis)
    ax.set_xlabel("iteration (gradient-descent steps)")
    ax.set_ylabel(_loss_label(loss))
    rate = f", learning rate = {learning_rate:g}" if learning_rate is not None else ""
    ax.set_title(f"Cost during training{rate}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(title="initialization")
    return fig


def learning_curves(named_runs: Iterable[tuple[str, Any]], loss: str = "binary_cross_entropy") -> Figure:
    """Each run's ``history`` (``train(…, validation=…)`` with ``record_accuracy``): the cost, and the
    accuracy when recorded, against epochs — training solid, held-out data dashed — with the
    point after the last update."""
    named_runs = [(name, run) for name, run in named_runs if run.history]
    if not named_runs:
        raise InitlabError("The 'named_runs' parameter must hold runs with a history (initlab.train records one). Got none.")
    panels = ["cost"] + (["accuracy"] if any("accuracy" in run.history for _, run in named_runs) else [])
    fig = Figure(figsize=(5.2 * len(panels) + 0.6, 4.0))
    _fixed_margins(fig, left=0.95, right=0.15, bottom=0.55, top=0.35, wspace=0.3)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    colors = init_colors(name for name, _ in named_runs)
    minibatch = any(run.options.batch_size is not None for _, run in named_runs)
    for ax, panel in zip(axes, panels):
        for name, run in named_runs:
            h = run.history
            x = h["epoch"] if minibatch else h["iteration"]
            for column, style, where in ((panel, "-", "training"), (f"val_{panel}", "--", "held-out")):
                if column in h:
                    y = np.asarray(h[column], dtype=float)
                    y = np.where(y > 0, y, np.nan) if panel == "cost" else y  # what a log scale can draw
                    ax.plot(x, y, color=colors[str(name)], linestyle=style, lw=2, label=f"{name}, {where}",
                            marker="o" if np.isfinite(y).sum() <= 2 else None)
        ax.set_xlabel("epoch (passes over the training data)" if minibatch else "iteration (gradient-descent steps)")
        if panel == "cost":
            ax.set_yscale("log")
            _plain_log_ticks(ax.yaxis)
            ax.set_ylabel(_loss_label(loss))
        else:
            ax.set_ylabel("accuracy")
            ax.set_ylim(-0.02, 1.02)
        ax.set_title("Cost" if panel == "cost" else "Accuracy")
        ax.grid(True, which="both", alpha=0.3)
    axes[-1].legend(fontsize="small")
    return fig


def cost_curves(comparison: _Comparison) -> Figure:
    """Training cost against iteration, one line per initializer, log scale."""
    return cost_figure([(r.name, r.run) for r in comparison.results], comparison.options.learning_rate,
                       comparison.network.loss.key)


def data_limits(X: ArrayLike) -> tuple[float, float]:
    """The square plotting window for 2-D points X (2, m): the notebook's [−1.5, 1.5] when the
    points fit in it, else their range with a 10% margin."""
    X = np.asarray(X, dtype=float)
    if X.size == 0 or np.abs(X).max() <= 0.9 * LIMITS[1]:
        return LIMITS
    low, high = float(X.min()), float(X.max())
    pad = 0.1 * (high - low)
    return (low - pad, high + pad)


def _boundary_title(r: _Result) -> str:
    return f"{r.name}\ntrain {r.train_accuracy:.1%}, test {r.test_accuracy:.1%}"


def decision_boundaries(comparison: _Comparison) -> Figure:
    """One panel per initializer: the predicted class over the plane, training points on top."""
    results = comparison.results
    data = comparison.dataset
    fig, axes = _boundary_figure(len(results), 4.0, 4.7, data, "Decision boundaries by initialization")
    limits = data_limits(data.X_train)
    colors = init_colors(r.name for r in results)
    for ax, r in zip(axes, results):
        decision_boundary(ax, lambda X: r.run.predict(X), data.X_train, data.Y_train, limits)
        ax.set_title(_boundary_title(r), color=colors[r.name])
    return fig


def _boundary_figure(n: int, panel_width: float, height: float, data: _Dataset, title: str | None = None,
                     dpi: float | None = None) -> tuple[Figure, np.ndarray]:
    """(figure, axes) for `n` decision-boundary panels in a row, placed by fixed margins (room for
    two-line titles above, the figure's title at the top and the class legend at the bottom).

    Not constrained layout: with square (equal-aspect) panels its first draw — the one savefig
    makes — put the titles above the canvas or under the suptitle and the "outside" legend on
    the x labels; the second draw is right, but the animation's background and a saved PNG are
    drawn once."""
    fig = Figure(figsize=(panel_width * n, height), dpi=dpi)
    _fixed_margins(fig, left=0.75, right=0.2, bottom=1.0, top=0.8 if title else 0.6, wspace=0.3)
    axes = fig.subplots(1, n, squeeze=False)[0]
    if title:
        fig.suptitle(title, y=1 - 0.08 / height, va="top")
    _boundary_legend(fig, data)
    return fig, axes


def decision_boundary_panel(result: _Result, dataset: _Dataset, color: str | None = None) -> Figure:
    """One initializer's decision boundary as its own figure (the report shows one per initializer),
    its title in `color` (default: the initializer's, :func:`init_color`)."""
    fig, (ax,) = _boundary_figure(1, 3.8, 4.5, dataset)
    decision_boundary(ax, result.run.predict, dataset.X_train, dataset.Y_train, data_limits(dataset.X_train))
    ax.set_title(_boundary_title(result), color=color or init_color(result.name))
    return fig


def _boundary_legend(fig: Figure, data: _Dataset, loc: LegendLocType = "lower center") -> Legend:
    """The regions' and the points' legend under the panels; long class names are cut (…) until it
    fits the figure's width (twelve characters did not fit under one panel)."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    full = [str(c) for c in (data.classes or (0, 1))][:2]
    full += [str(k) for k in range(len(full), 2)]
    renderer = RendererAgg(1, 1, fig.dpi)  # measures text only
    for limit in (12, 10, 8, 6):
        names = [n if len(n) <= limit else n[:limit - 1] + "…" for n in full]
        handles: list[Artist] = [Patch(color=REGION_COLORS[k], label=f"predicted {names[k]}") for k in (0, 1)]
        handles += [Line2D([], [], ls="", marker="o", color=CLASS_COLORS[k], label=f"class {names[k]} (training)")
                    for k in (0, 1)]
        legend = fig.legend(handles=handles, loc=loc, ncols=2, fontsize="small", frameon=False)
        if limit == 6 or legend.get_window_extent(renderer).width <= fig.bbox.width - 4:
            return legend
        legend.remove()
    raise AssertionError("not reached: the last limit returns its legend")


def decision_boundary(ax: Axes, predict: Callable[[np.ndarray], ArrayLike], X: np.ndarray, Y: ArrayLike,
                      limits: Sequence[float] = LIMITS, step: float = GRID_STEP) -> Axes:
    """Fill `ax` with predict's class over a grid (as the course's ``plot_decision_boundary``),
    the region predicted 0 light red, 1 light blue, the points of each class dark red and blue.

    `predict` maps points of shape (2, k) to labels of shape (1, k); X (2, m), Y (1, m).
    """
    ticks = np.arange(limits[0], limits[1] + step / 2, step)
    xx, yy = np.meshgrid(ticks, ticks)
    Z = np.asarray(predict(np.vstack([xx.ravel(), yy.ravel()]))).reshape(xx.shape)
    ax.contourf(xx, yy, Z, levels=[-0.5, 0.5, 1.5], colors=REGION_COLORS)
    labels = np.ravel(Y).astype(int)
    for k in (0, 1):
        ax.scatter(X[0, labels == k], X[1, labels == k], color=CLASS_COLORS[k], s=12, label=f"y = {k}",
                   edgecolors="white", linewidths=0.3)
    ax.set_xlim(*limits)
    ax.set_ylim(*limits)
    marks = [t for t in MaxNLocator(5, steps=[1, 2, 5, 10]).tick_values(*limits) if limits[0] <= t <= limits[1]]
    ax.set_xticks(marks)  # a few round ticks, none outside the window: each costs drawing time
    ax.set_yticks(marks)
    ax.set_aspect("equal")
    ax.set_xlabel("feature x1")
    ax.set_ylabel("feature x2")
    return ax


def training_animation(comparison: _Comparison, path: PathT, fps: float = 8, dpi: float = 80, step: float = 0.03) -> PathT:
    """Write a GIF of the decision boundaries over training, one panel per initializer, one frame
    per parameter snapshot (``compare_initializers(..., snapshots=N)``); return `path`.

    A run with fewer snapshots (it diverged) holds its last one. Pillow writes the frames of
    :func:`animation_frames` as a looping GIF.
    """
    frames = [image for _, image in animation_frames(comparison, dpi, step)]
    durations = [int(1000 / fps)] * (len(frames) - 1) + [2000]  # hold the final boundaries for 2 s
    with replacing(path) as part:
        frames[0].save(part, save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return path


def animation_frames(comparison: _Comparison, dpi: float = 80,
                     step: float = 0.03) -> Iterator[tuple[Figure, PIL.Image.Image]]:
    """Yield (figure, frame) for each frame of :func:`training_animation`: the figure is drawn as
    the frame shows it (its titles name the frame's iterations), the frame a PIL RGB image.

    The axes, ticks, labels and legend are drawn once; each frame redraws only the predicted
    regions, the points and the titles over that background (blitting).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    from ._validation import InitlabError

    results = comparison.results
    n_frames = max((len(r.snapshots) for r in results), default=0)
    if n_frames == 0:
        raise InitlabError("The comparison holds no parameter snapshots to animate: run compare_initializers(..., snapshots=30).")
    data = comparison.dataset
    if data.n_features != 2:
        raise InitlabError(f"A decision-boundary animation needs 2-D data. Got {data.n_features} features ({data.name}).")
    limits = data_limits(data.X_train)
    ticks = np.arange(limits[0], limits[1] + step / 2, step)
    xx, yy = np.meshgrid(ticks, ticks)
    grid = np.vstack([xx.ravel(), yy.ravel()])

    fig, axes = _boundary_figure(len(results), 3.4, 4.1, data, "Decision boundaries during training", dpi)
    canvas = FigureCanvasAgg(fig)
    colors = init_colors(r.name for r in results)
    for ax, r in zip(axes, results):
        decision_boundary(ax, lambda X: np.zeros((1, X.shape[1])), data.X_train, data.Y_train, limits, 1.0)
        ax.collections[0].remove()  # the placeholder regions: each frame draws its own
        ax.set_title(f"{r.name}\niteration {r.snapshots[-1][0]}", color=colors[r.name])
        for artist in (*ax.collections, ax.title):
            artist.set_animated(True)
    canvas.draw()  # lays out and draws everything that does not change
    background = canvas.copy_from_bbox(fig.bbox)
    for k in range(n_frames):
        canvas.restore_region(background)
        for ax, r in zip(axes, results):
            iteration, params = r.snapshots[min(k, len(r.snapshots) - 1)]
            Z = np.asarray(r.run.network.predict(params, grid)).reshape(xx.shape)
            regions = ax.contourf(xx, yy, Z, levels=[-0.5, 0.5, 1.5], colors=REGION_COLORS, zorder=0)
            ax.title.set_text(f"{r.name}\niteration {iteration}")
            for artist in (regions, *ax.collections[:-1], *ax.spines.values(), ax.title):
                ax.draw_artist(artist)
            regions.remove()
        yield fig, Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")


def dataset_thumbnail(dataset: _Dataset, size: float = 2.4, n_images: int = 9) -> Figure:
    """A small picture of a dataset: a scatter of the training points coloured by class for 2-D
    data, the first training images for image data (square feature counts, e.g. digits' 8×8)."""
    fig = Figure(figsize=(size, size), layout="constrained")
    X, Y = dataset.X_train, dataset.Y_train
    labels = np.ravel(Y).astype(int) if Y.shape[0] == 1 else np.argmax(Y, axis=0)
    side = int(round(np.sqrt(X.shape[0])))
    if X.shape[0] == 2:
        ax = fig.add_subplot()
        colors = CLASS_COLORS if labels.max() <= 1 else [matplotlib.colormaps["tab10"](k % 10) for k in range(labels.max() + 1)]
        for k in range(labels.max() + 1):
            ax.scatter(X[0, labels == k], X[1, labels == k], s=4, color=colors[k], label=str(dataset.classes[k]) if k < len(dataset.classes) else str(k))
        ax.set_xlabel("x1", fontsize="small", labelpad=1)
        ax.set_ylabel("x2", fontsize="small", labelpad=1)
        ax.tick_params(labelsize="x-small")
        ax.set_aspect("equal", adjustable="datalim")
    elif side * side == X.shape[0]:
        cols = int(np.ceil(np.sqrt(n_images)))
        axes = fig.subplots(int(np.ceil(n_images / cols)), cols, squeeze=False).ravel()
        for j, ax in enumerate(axes):
            if j < min(n_images, X.shape[1]):
                # standardized pixels: ink is above the pixel's mean (positive), blank at or below it (white)
                ax.imshow(np.clip(X[:, j].reshape(side, side), 0.0, 1.5), cmap="gray_r", vmin=0.0, vmax=1.5)
                name = dataset.classes[labels[j]] if labels[j] < len(dataset.classes) else labels[j]
                ax.set_title(f"class {name}", fontsize="x-small", pad=1)
            ax.set_axis_off()
    else:
        ax = fig.add_subplot()
        ax.scatter(X[0], X[1], s=4, c=labels, cmap="tab10")
        ax.set_xlabel("feature 1", fontsize="small")
        ax.set_ylabel("feature 2", fontsize="small")
        ax.tick_params(labelsize="x-small")
    return fig


SIGNAL_PANELS = (  # (measured, predicted, axis label, title); a panel whose columns a table lacks is left out
    ("act_ms", "pred_act_ms", "activation mean square  E[a²]", "Forward: activations by hidden layer"),
    ("grad_var", "pred_grad_var", "back-propagated gradient variance  Var(δ)", "Backward: gradients by hidden layer"),
    ("corr", "pred_corr", "the batch's mean correlation  c", "Forward: correlation of the batch"),
)


def signal_figure(tables: Mapping[str, pd.DataFrame]) -> Figure:
    """Per-layer activation and gradient scale of the hidden layers and the batch's mean correlation,
    measured (line: mean over seeds, band: min–max) against the mean-field prediction (dashed),
    one colour per initializer (the correlation panel only for tables that have its columns: a
    signal.csv written before initlab measured it has not).

    `tables`: init name -> probe table(s) with columns layer, act_ms, grad_var, pred_*; several
    seeds may share a table (a ``seed`` column), they are then summarized.
    """
    panels = [panel for panel in SIGNAL_PANELS if all(panel[0] in t and panel[1] in t for t in tables.values())]
    fig = Figure(figsize=(5.2 * len(panels), 4.8), layout="constrained")
    axes = fig.subplots(1, len(panels))
    hidden = {name: t[~t.activation.str.startswith("output")] for name, t in tables.items()}  # the signal's path
    colors = init_colors(hidden)
    for ax, (measured, predicted, label, title) in zip(axes, panels):
        for name, table in hidden.items():
            stats = table.groupby("layer")[[measured, predicted]].agg(["mean", "min", "max"])
            layers, color = stats.index.to_numpy(), colors[str(name)] if name else _PALETTE[2]
            if np.isfinite(stats[measured]["mean"]).any():  # all-zero weights have no correlation: no empty line
                ax.plot(layers, stats[measured]["mean"], "o-", ms=3, color=color, label=f"{name} measured".strip())
                ax.fill_between(layers, stats[measured]["min"], stats[measured]["max"], color=color, alpha=0.2, lw=0)
            if np.isfinite(stats[predicted]["mean"]).any():  # no prediction (all-zero weights): no empty "theory" entry
                ax.plot(layers, stats[predicted]["mean"], "--", color=color, lw=1.5, label=f"{name} theory".strip())
        if measured == "corr":
            lows = [float(np.nanmin(t[measured])) for t in hidden.values() if t[measured].notna().any()]
            ax.set_ylim(min([-0.05, *lows]), 1.05)  # a correlation: 1 at most (a batch collapsed to one direction)
            if not lows:
                ax.text(0.5, 0.5, "no correlation: every value is 0 (all-zero weights), or one example", transform=ax.transAxes,
                        ha="center", color="0.35")
        else:
            _log_or_zero(ax, [t[c] for t in hidden.values() for c in (measured, predicted)])
        ax.set_xlabel("hidden layer (1 = next to the input)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # layers are whole numbers: no 2.5, 7.5
        ax.set_ylabel(label)
        ax.set_title(title)
        ax.grid(True, which="major", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()  # the same entries on every panel: one legend, below them
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4), fontsize="small")
    return fig


def _log_or_zero(ax: Any, columns: list[pd.Series]) -> None:
    """A log scale, or, when every value is 0 (all-zero weights), a note that says so."""
    if any((column > 0).any() for column in columns):
        ax.set_yscale("log")
    else:
        ax.text(0.5, 0.5, "every value is 0 (all-zero weights)", transform=ax.transAxes, ha="center", color="0.35")


BLOCK_PANELS = (  # (column, axis label, title): Brock et al. 2021's signal propagation plot, and the stream's scale
    ("mean_square", "E h²", "the stream's mean square"),
    ("channel_mean_sq", "E_c (E_x h_c)²", "average squared channel mean"),
    ("channel_var", "E_c Var_x h_c", "average channel variance"),
    ("branch_var", "E_c Var_x α_k F_k", "residual branch variance"),
    ("corr", "mean pairwise cosine", "the batch's correlation"),
)


def block_signal_figure(tables: Mapping[str, pd.DataFrame]) -> Figure:
    """A residual network's signal propagation plot (``blocks.study_blocks``'s table): per block, the
    stream's mean square, squared channel mean, channel variance, the branch's variance and the batch's
    correlation, measured (line) against the wide-network prediction (dashed, where it has one), one
    colour per branch scheme."""
    fig = Figure(figsize=(4.0 * len(BLOCK_PANELS), 4.6), layout="constrained")
    axes = fig.subplots(1, len(BLOCK_PANELS))
    colors = init_colors(tables)
    for ax, (column, label, title) in zip(axes, BLOCK_PANELS):
        for name, table in tables.items():
            rows = table[table[column].notna()]
            ax.plot(rows.block, rows[column], "o-", ms=2.5, color=colors[str(name)], label=f"{name} measured")
            predicted = table[table[f"pred_{column}"].notna()]
            if len(predicted):
                ax.plot(predicted.block, predicted[f"pred_{column}"], "--", color=colors[str(name)], lw=1.5,
                        label=f"{name} theory")
        if column == "corr":
            ax.set_ylim(min([-0.05, *(float(t[column].min()) for t in tables.values() if t[column].notna().any())]), 1.05)
        else:
            _log_or_zero(ax, [t[c] for t in tables.values() for c in (column, f"pred_{column}")])
        ax.set_xlabel("block (0 = after the stem)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.set_title(title)
        ax.grid(True, which="major", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4), fontsize="small")
    return fig


def history_figure(history: pd.DataFrame, metric: str = "dead") -> Figure:
    """One line per hidden layer: `metric` (a probe column, e.g. dead, saturated, act_ms,
    grad_var) against the training iteration, from ``diagnostics.record``'s history."""
    fig = Figure(figsize=(7.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    hidden = history[~history.activation.str.startswith("output")]
    cmap = matplotlib.colormaps["viridis"]
    layers = sorted(hidden.layer.unique())
    for k, (layer, rows) in enumerate(hidden.groupby("layer")):
        ax.plot(rows.iteration, rows[metric], color=cmap(k / max(len(layers) - 1, 1)), label=f"layer {layer}")
    ax.set_xlabel("iteration")
    ax.set_ylabel(metric)
    if metric in ("act_ms", "grad_var", "pre_var"):
        ax.set_yscale("log")
    ax.set_title(f"{metric} of each hidden layer during training")
    ax.legend(fontsize="small", ncols=2)
    return fig


def coord_check_figure(frame: pd.DataFrame, quantity: str = "mean_abs_change") -> Figure:
    """The coord check (``coordcheck.coord_check``'s frame): one panel per parametrization (rows)
    and step (columns), `quantity` of each layer against width on log-log axes, the mean over
    seeds as a line and their range as a band. Flat lines: the parametrization is stable in width."""
    names = list(dict.fromkeys(frame["parametrization"]))
    steps = sorted(s for s in frame["step"].unique() if quantity != "mean_abs_change" or s > 0)
    fig = Figure(figsize=(2.6 * len(steps) + 0.6, 2.3 * len(names) + 0.4), layout="constrained")
    axes = fig.subplots(len(names), len(steps), squeeze=False, sharex=True)
    cmap = matplotlib.colormaps["viridis"]
    layers = list(dict.fromkeys(frame["layer"]))
    for i, name in enumerate(names):
        for j, step in enumerate(steps):
            ax = axes[i][j]
            rows = frame[(frame["parametrization"] == name) & (frame["step"] == step)]
            for k, layer in enumerate(layers):
                by_width = rows[rows["layer"] == layer].groupby("width")[quantity]
                widths = np.array(sorted(by_width.groups), dtype=float)
                color = cmap(k / max(len(layers) - 1, 1))
                ax.fill_between(widths, by_width.min().to_numpy(), by_width.max().to_numpy(), color=color, alpha=0.2, lw=0)
                ax.plot(widths, by_width.mean().to_numpy(), "o-", ms=3, color=color, label=layer)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_title(f"{name}, step {step}", fontsize="small")
            if i == len(names) - 1:
                ax.set_xlabel("width")
            if j == 0:
                ax.set_ylabel(quantity.replace("_", " "))
    axes[0][-1].legend(fontsize="x-small")
    return fig


def transfer_figure(frame: pd.DataFrame, optima: pd.DataFrame, loss: str = "final_train_cost", seed: str = "seed") -> Figure:
    """μTransfer (``transfer.train_grid``'s frame and ``transfer.optima``'s table): for each
    parametrization and optimizer a panel of `loss` against log₂(learning rate), a line per width
    (the mean over seeds, their range as a band, diverged runs left out), each width's optimum marked
    (mean ± sd over seeds, horizontally); and a last panel per optimizer of the optimum against width,
    one line per parametrization. A flat line there: the learning rate transfers across width."""
    frame, optima = (t.assign(**{k: t[k] if k in t else "" for k in ("optimizer", "parametrization")}) for t in (frame, optima))
    optimizers, names = list(dict.fromkeys(frame["optimizer"])), list(dict.fromkeys(frame["parametrization"]))
    fig = Figure(figsize=(3.6 * (len(names) + 1) + 0.4, 3.1 * len(optimizers) + 0.5), layout="constrained")
    axes = fig.subplots(len(optimizers), len(names) + 1, squeeze=False)
    widths = sorted(frame["width"].unique())
    cmap = matplotlib.colormaps["viridis"]
    colors = {w: cmap(k / max(len(widths) - 1, 1) * 0.9) for k, w in enumerate(widths)}
    for i, optimizer in enumerate(optimizers):
        for j, name in enumerate(names):
            ax = axes[i][j]
            rows = frame[(frame["optimizer"] == optimizer) & (frame["parametrization"] == name)]
            best = optima[(optima["optimizer"] == optimizer) & (optima["parametrization"] == name)].set_index("width")
            for width in widths:
                finite = rows[(rows["width"] == width) & np.isfinite(rows[loss].astype(float))]
                by_rate = finite.groupby("learning_rate")[loss]
                x = np.log2(np.array(sorted(by_rate.groups), dtype=float))
                ax.fill_between(x, by_rate.min().to_numpy(), by_rate.max().to_numpy(), color=colors[width], alpha=0.2, lw=0)
                ax.plot(x, by_rate.mean().to_numpy(), "-", color=colors[width], label=f"width {width}")
                if width in best.index:
                    b = best.loc[width]
                    ax.errorbar([b["log2_lr"]], [b["loss"]], xerr=[b["log2_lr_std"]], fmt="o", ms=5, color=colors[width],
                                mec="black", capsize=3)
            ax.set_yscale("log")
            ax.set_title(f"{name or 'loss'}, {optimizer}".strip(", "), fontsize="small")
            ax.set_xlabel("log₂ learning rate")
            ax.set_ylabel(f"{_axis_label(loss)} (log)")
        ax = axes[i][-1]
        for k, name in enumerate(names):
            best = optima[(optima["optimizer"] == optimizer) & (optima["parametrization"] == name)].sort_values("width")
            ax.errorbar(best["width"], best["log2_lr"], yerr=best["log2_lr_std"], fmt="o-", capsize=3,
                        color=_PALETTE[k % len(_PALETTE)], label=name or "optimum")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("width")
        ax.set_ylabel("optimal log₂ learning rate")
        ax.set_title(f"optimum against width, {optimizer}".strip(", "), fontsize="small")
        ax.legend(fontsize="x-small")
    axes[0][0].legend(fontsize="x-small")
    fig.suptitle(f"{_axis_label(loss)} against learning rate per width (band: range over {frame[seed].nunique()} seeds; "
                 "marker: optimum, mean ± sd over seeds)", fontsize="medium")
    return fig


def heatmap(frame: pd.DataFrame, x: str, y: str, metric: str = "test_accuracy", axes: Sequence[str] = ()) -> Figure:
    """`metric` averaged over replicates (and any other axis) on the grid `x` × `y`, annotated; the
    title's second line names what each cell averages over (:func:`averaged_axes`; `axes`: the
    grid's varying axes, ``sweep.varying_axes(frame)``)."""
    table = frame.pivot_table(index=y, columns=x, values=metric, aggfunc="mean").sort_index(ascending=False)
    fig = Figure(figsize=(1.2 * table.shape[1] + 3.0, 0.6 * table.shape[0] + 2.0), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(table.to_numpy(dtype=float), cmap="viridis", aspect="auto")
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns], rotation=30, ha="right")
    ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
    for (i, j), value in np.ndenumerate(table.to_numpy(dtype=float)):
        if np.isfinite(value):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", color="white" if value < np.nanmean(table) else "black")
    ax.set_xlabel(_axis_label(x))
    ax.set_ylabel(_axis_label(y))
    fig.colorbar(image, ax=ax, label=f"{_axis_label(metric)} (mean)")
    ax.set_title(f"{_axis_label(metric)} over {_axis_label(x)} × {_axis_label(y)}\nmean over {averaged_axes(frame, x, y, axes)}",
                 fontsize="medium")
    return fig


def averaged_axes(frame: pd.DataFrame, x: str, y: str, axes: Sequence[str] = ()) -> str:
    """What one heatmap cell of `frame` over `x` × `y` averages: "seeds and learning rate,
    optimizer" (the replicates, then every other of the grid's varying `axes`), "seeds", or "one run".
    `axes`: the axes that vary in the grid (``sweep.varying_axes(frame)``), from the caller."""
    others = [_axis_label(a) for a in axes if a not in (x, y)]
    seeds = "replicate" in frame and frame["replicate"].nunique() > 1
    parts = (["seeds"] if seeds else []) + ([", ".join(others)] if others else [])
    return " and ".join(parts) or "one run"


def _axis_label(name: str) -> str:
    return "initializer" if name == "init_label" else name.replace("_", " ")


SEED_ROWS = 40  # configurations drawn at most in seed_figure (a sweep can have thousands)


STAT_COLUMNS = ("mean", "std", "count", "low", "high", "too_few_seeds", "diverged")  # sweep.seed_statistics'


def seed_figure(stats: pd.DataFrame, metric: str = "test_accuracy", max_rows: int = SEED_ROWS) -> Figure:
    """Mean and 95% interval over seeds per configuration (``sweep.seed_statistics``'s table).

    A configuration with too few seeds for an interval (``too_few_seeds``) is a hollow point
    without a bar, and a note under the axes says so; one with diverged runs gets a red cross
    after its point and "N diverged" beside it.

    With more than `max_rows` configurations, the best and the worst half of `max_rows` by mean are
    drawn, a gap between them saying how many are left out (the database holds them all): a
    thousand rows would make a 30 000-pixel image that takes 20 s to draw and no one can read."""
    shown, left_out = _best_and_worst(stats, max_rows)
    config = shown.drop(columns=[c for c in STAT_COLUMNS if c in shown])
    labels = [" · ".join(_value_label(v) for v in row) for row in config.itertuples(index=False)]
    gap = 1 if left_out else 0
    half = len(labels) // 2 if left_out else len(labels)
    positions = np.array([k if k < half else k + gap for k in range(len(labels))])
    fig = Figure(figsize=(7.0, 0.28 * (len(labels) + gap) + 1.7), layout="constrained")
    ax = fig.add_subplot()
    colors = [init_color(v) for v in config["init_label"]] if "init_label" in config else [_PALETTE[2]] * len(labels)
    n_too_few = n_diverged = 0
    for position, (_, row), color in zip(positions, shown.iterrows(), colors):
        too_few = bool(row.get("too_few_seeds", False)) or not (np.isfinite(row["low"]) and np.isfinite(row["high"]))
        if too_few:  # a point, no bar: there is no interval to draw
            n_too_few += 1
            ax.plot(row["mean"], position, "o", markerfacecolor="white", markeredgecolor=color, gid="too_few_seeds")
        else:
            ax.errorbar(row["mean"], position, xerr=[[row["mean"] - row["low"]], [row["high"] - row["mean"]]],
                        fmt="o", color=color, ecolor=color, capsize=3)
        diverged = int(row.get("diverged", 0) or 0)
        if diverged:
            n_diverged += 1
            ax.plot(row["mean"], position, "x", color="#d62728", markersize=9, markeredgewidth=2, gid="diverged")
            ax.annotate(f"{diverged} diverged", (row["high"] if not too_few else row["mean"], position),
                        xytext=(8, 0), textcoords="offset points", va="center", fontsize="x-small", color="#d62728")
    ax.set_yticks(positions, labels, fontsize="small")
    if left_out:
        ax.axhline(half, color="0.6", linestyle=":", linewidth=1)
        ax.text(0.5, half, f"… {left_out} configurations not shown …", transform=ax.get_yaxis_transform(),
                ha="center", va="center", fontsize="small", color="0.35", backgroundcolor="white")
        ax.set_title(f"{len(labels)} of {len(stats)} configurations: the {half} best and {len(labels) - half} worst by mean",
                     fontsize="medium")
    ax.invert_yaxis()
    ax.set_xlabel(f"{metric.replace('_', ' ')}: mean and 95% interval over seeds")
    ax.set_ylabel("configuration: " + " · ".join(_axis_label(c) for c in config.columns), fontsize="small")
    ax.grid(True, axis="x", alpha=0.3)
    notes = []
    if n_too_few:
        notes.append(f"hollow points: fewer than 3 seeds, no interval ({n_too_few} of {len(labels)} shown)")
    if n_diverged:
        notes.append(f"red ×: configurations with diverged runs ({n_diverged} of {len(labels)} shown)")
    if notes:
        fig.text(0.01, 0.0, "; ".join(notes), ha="left", va="bottom", fontsize="x-small", color="0.3", gid="note")
        engine = fig.get_layout_engine()
        assert isinstance(engine, ConstrainedLayoutEngine)  # the Figure above is made with layout="constrained"
        engine.set(rect=(0, 0.04, 1, 0.96))
    return fig


def _value_label(value: object) -> str:
    """An axis value as a label: floats to 6 significant digits (0.94, not 0.9400000000000001)."""
    return f"{value:.6g}" if isinstance(value, (float, np.floating)) else str(value)


def _best_and_worst(stats: pd.DataFrame, max_rows: int) -> tuple[pd.DataFrame, int]:
    """(rows to draw, how many are left out): all rows when they fit, else the best and the worst
    by mean (best first)."""
    if len(stats) <= max_rows:
        return stats, 0
    ranked = stats.sort_values("mean", ascending=False, kind="stable")
    best = max_rows - max_rows // 2
    return ranked.iloc[np.r_[0:best, len(ranked) - (max_rows - best) : len(ranked)]], len(stats) - max_rows


def save(fig: Figure, path: PathT, dpi: float = 110) -> PathT:
    """Write `fig` as a PNG (or whatever the extension says), whole or not at all (_atomic)."""
    with replacing(path) as part:
        fig.savefig(part, dpi=dpi)
    return path


# --- per-layer histograms (the lecture's picture of vanishing and exploding signals) -----------------
HISTOGRAM_COLUMNS = 6  # layers drawn at most: the first, the last and evenly spaced ones between
HISTOGRAM_KINDS = (  # kind in Probe.histograms -> (block title, x-axis label)
    ("pre-activation", ("Forward: pre-activations z = W·a + b of the hidden layers", "pre-activation z")),
    ("activation", ("Forward: activations a = φ(z) of the hidden layers", "activation a")),
    ("gradient", ("Backward: gradients δ = dCost/dz of the hidden layers", "gradient δ")),
)


def histogram_layers(layers: Iterable[Any], max_columns: int = HISTOGRAM_COLUMNS) -> list[int]:
    """At most `max_columns` of `layers`, evenly spaced from the first to the last.

    >>> histogram_layers(range(1, 31))
    [1, 7, 13, 18, 24, 30]
    >>> histogram_layers([1, 2, 3])
    [1, 2, 3]
    """
    layers = sorted({int(layer) for layer in layers})
    if len(layers) <= max_columns:
        return layers
    return [layers[k] for k in np.linspace(0, len(layers) - 1, max_columns).round().astype(int)]


def _row_label(name: object, width: int = 16) -> str:
    """An initializer's name on at most two lines of `width` characters (a y label must fit its row)."""
    import textwrap

    lines = textwrap.wrap(str(name), width, break_on_hyphens=False) or [""]
    return "\n".join(lines[:2]) + ("…" if len(lines) > 2 else "")


def _value_ticks(low: float, high: float) -> list[float]:
    """Three or so round ticks inside [low, high], none at its ends (where the neighbouring
    panel's labels begin), 0 among them on a symmetric range."""
    margin = 0.08 * (high - low)
    start = low if low == 0 else low + margin  # a [0, r] range keeps its 0: the panel on its left ends short of its edge
    ticks = MaxNLocator(nbins=4, steps=[1, 2, 5, 10], symmetric=low < 0).tick_values(start, high - margin)
    return [t for t in ticks if start - margin * 1e-9 <= t <= high - margin * (1 - 1e-9)]


def _tick_label(value: float, _position: object = None) -> str:
    """A short tick label: 0.5, 2e-05 → 2e-5, 5e+03 → 5e3 (panels stand close together)."""
    text = f"{value + 0.0:.2g}"  # + 0.0: no "-0"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def histogram_figure(histograms: pd.DataFrame, max_columns: int = HISTOGRAM_COLUMNS) -> Figure:
    """Per-layer histograms of the activations and the back-propagated gradients, as in the lecture
    on vanishing and exploding signals: one block per kind (activations above, gradients below),
    in each one row per initializer and one column per drawn layer (the first, the last and evenly
    spaced ones between, at most `max_columns`).

    Bar height = the fraction of the layer's n_l·m values in the bin. A row keeps the x range its
    histograms were binned on (``diagnostics.histograms``: ±max |value| over that initializer's
    layers, at most 5 times their largest std), so a collapsed layer shows as one spike at 0 and a
    saturated tanh layer as two spikes at ±1; each panel's title states the layer's std, which a
    spike's width cannot, and a red note says how many values lay beyond the range (counted in the
    end bins) or were not finite.

    `histograms`: ``Probe.histograms`` or ``SignalStudy.histograms`` (long form: [init, seed,] layer,
    kind, bin_left, bin_right, count, values, clipped, std).
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter

    frame = histograms.assign(init=histograms["init"].astype(str)) if "init" in histograms else histograms.assign(init="")
    inits = list(dict.fromkeys(frame["init"].astype(str)))
    colors = init_colors(inits)
    kinds = [(k, text) for k, text in HISTOGRAM_KINDS if (frame["kind"] == k).any()]
    layers = histogram_layers(frame["layer"], max_columns)
    panel_w, gap_w, left, right = 1.6, 0.36, 0.95, 0.2  # inches
    title_h, header_h, row_h, axes_h, footer_h = 0.45, 0.6, 1.3, 0.72, 0.35
    width = max(left + len(layers) * panel_w + (len(layers) - 1) * gap_w + right, 6.6)  # the block titles need 6.5 inches
    height = title_h + len(kinds) * (header_h + len(inits) * row_h + footer_h)
    fig = Figure(figsize=(width, height))
    fig.suptitle("Per-layer histograms" + (" (seed 0)" if "seed" in frame else ""), x=left / width, ha="left",
                 y=1 - 0.1 / height, va="top", fontsize="large")
    groups = {key: rows for key, rows in frame.groupby(["init", "kind", "layer"], sort=False)}
    top = height - title_h  # inches from the bottom, moving down
    for kind, (block_title, x_label) in kinds:
        fig.text(left / width, (top - 0.12) / height, block_title, ha="left", va="top", weight="bold")
        fig.text(left / width, (top - 0.36) / height, "height: fraction of the layer's values per bin · one x range "
                 "per row · red: values beyond it", ha="left", va="top", fontsize="small", color="0.35")
        top -= header_h
        for r, name in enumerate(inits):
            color = colors[name] if name else _PALETTE[2]
            bottom = top - 0.28 - axes_h  # room above for the panel titles
            first: Axes | None = None
            for c, layer in enumerate(layers):
                x0 = left + c * (panel_w + gap_w)
                ax = fig.add_axes((x0 / width, bottom / height, panel_w / width, axes_h / height), sharex=first)
                first = first or ax
                rows = groups.get((name, kind, layer))
                _histogram_panel(ax, rows, layer, color)
                if c == 0:
                    ax.set_ylabel(_row_label(name) if name else "fraction", color=color, fontsize="small")
                if r == len(inits) - 1:
                    ax.set_xlabel(x_label, fontsize="small", labelpad=1)
            row = frame[(frame["init"] == name) & (frame["kind"] == kind)]
            if len(row):
                low, high = float(row["bin_left"].min()), float(row["bin_right"].max())
                assert first is not None  # rows of this kind: their layers are drawn, at least one
                first.set_xlim(low, high)
                first.xaxis.set_major_locator(FixedLocator(_value_ticks(low, high)))
                first.xaxis.set_major_formatter(FuncFormatter(_tick_label))
            top -= row_h
        top -= footer_h
    return fig


def _histogram_panel(ax: Axes, rows: pd.DataFrame | None, layer: int, color: str) -> None:
    """One layer's histogram: bars of count/values, the layer and its std in the title."""
    ax.tick_params(labelsize="x-small", pad=1.5, length=2.5)
    if rows is None or not len(rows):
        ax.set_title(f"layer {layer}: not recorded", fontsize="small", pad=3)
        return
    counts, values = rows["count"].to_numpy(dtype=float), float(rows["values"].iloc[0])
    edges = np.append(rows["bin_left"].to_numpy(dtype=float), float(rows["bin_right"].iloc[-1]))
    fractions = counts / max(values, 1.0)
    ax.stairs(fractions, edges, fill=True, color=color, alpha=0.8, lw=0)
    top = float(fractions.max()) or 1.0
    ax.set_ylim(0, 1.08 * top)
    marks = MaxNLocator(nbins=2, steps=[1, 2, 5, 10]).tick_values(0, top)  # 0.02, not 0.025: narrow labels
    ax.set_yticks([m for m in marks if 0 <= m <= 1.08 * top])  # only ticks in view: each costs drawing time
    ax.set_title(f"layer {layer} · std {float(rows['std'].iloc[0]):.2g}", fontsize="small", pad=3)
    notes = []
    clipped = int(rows["clipped"].iloc[0]) if "clipped" in rows else 0
    if clipped:  # a tail beyond the row's range, counted in the end bins
        notes.append(f"{clipped} clipped")
    left_out = int(values - counts.sum())
    if left_out:  # non-finite values (a signal that overflowed): not in any bin
        notes.append(f"{left_out} not finite")
    if notes:
        ax.text(0.98, 0.95, "\n".join(notes), transform=ax.transAxes, ha="right", va="top", fontsize="xx-small",
                color="#d62728")
