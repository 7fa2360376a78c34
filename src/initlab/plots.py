"""Figures from results (never trains): cost curves and decision boundaries.

Every figure is a ``matplotlib.figure.Figure`` built without pyplot, so nothing pops up in a
script or a test; :func:`save` writes it. Each initializer keeps one colour in every figure.
"""
from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .initializers import INITIALIZERS

LIMITS = (-1.5, 1.5)  # the notebook's axes for the circles data
GRID_STEP = 0.01  # the notebook's mesh step
_PALETTE = [
    "#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3",
    "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD",
]


CLASS_COLORS = ("#b2182b", "#2166ac")  # points of class 0 and 1
REGION_COLORS = ("#f4a582", "#92c5de")  # the regions predicted 0 and 1


def init_color(name):
    """The colour of initializer `name`, the same in every figure (aliases share one)."""
    schemes = list(dict.fromkeys(INITIALIZERS.values()))
    if name not in INITIALIZERS:
        return _PALETTE[-1]
    return _PALETTE[schemes.index(INITIALIZERS[name]) % len(_PALETTE)]


def cost_curves(comparison):
    """Training cost against iteration, one line per initializer, log scale."""
    fig = Figure(figsize=(7.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    for r in comparison.results:
        label = f"{r.name} (diverged)" if r.run.diverged else r.name
        ax.plot(r.run.iterations, r.run.costs, color=init_color(r.name), label=label, lw=2)
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("training cost (binary cross-entropy)")
    ax.set_title(f"Cost during training, learning rate = {comparison.options.learning_rate:g}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(title="initialization")
    return fig


def decision_boundaries(comparison):
    """One panel per initializer: the predicted class over the plane, training points on top."""
    results = comparison.results
    fig = Figure(figsize=(4.0 * len(results), 4.3), layout="constrained")
    axes = fig.subplots(1, len(results), squeeze=False)[0]
    data = comparison.dataset
    for ax, r in zip(axes, results):
        decision_boundary(ax, lambda X: r.run.predict(X), data.X_train, data.Y_train)
        ax.set_title(
            f"{r.name}\ntrain {r.train_accuracy:.1%}, test {r.test_accuracy:.1%}",
            color=init_color(r.name),
        )
    fig.suptitle("Decision boundaries by initialization")
    return fig


def decision_boundary(ax, predict, X, Y, limits=LIMITS, step=GRID_STEP):
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
    ax.set_aspect("equal")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return ax


SIGNAL_PANELS = (
    ("act_ms", "pred_act_ms", "activation mean square  E[a²]"),
    ("grad_var", "pred_grad_var", "back-propagated gradient variance  Var(δ)"),
)


def signal_figure(tables):
    """Per-layer activation and gradient scale of the hidden layers, measured (line: mean over
    seeds, band: min–max) against the mean-field prediction (dashed), one colour per initializer.

    `tables`: init name -> probe table(s) with columns layer, act_ms, grad_var, pred_*; several
    seeds may share a table (a ``seed`` column), they are then summarized.
    """
    fig = Figure(figsize=(11.0, 4.3), layout="constrained")
    axes = fig.subplots(1, 2)
    hidden = {name: t[~t.activation.str.startswith("output")] for name, t in tables.items()}  # the signal's path
    for ax, (measured, predicted, label) in zip(axes, SIGNAL_PANELS):
        for name, table in hidden.items():
            stats = table.groupby("layer")[[measured, predicted]].agg(["mean", "min", "max"])
            layers, color = stats.index.to_numpy(), init_color(name) if name else _PALETTE[0]
            ax.plot(layers, stats[measured]["mean"], "o-", ms=3, color=color, label=f"{name} measured".strip())
            ax.fill_between(layers, stats[measured]["min"], stats[measured]["max"], color=color, alpha=0.2, lw=0)
            ax.plot(layers, stats[predicted]["mean"], "--", color=color, lw=1.5, label=f"{name} theory".strip())
        ax.set_yscale("log")
        ax.set_xlabel("layer")
        ax.set_ylabel(label)
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_title("Forward: activations by hidden layer")
    axes[1].set_title("Backward: gradients by hidden layer")
    axes[1].legend(fontsize="small", ncols=2)
    return fig


def history_figure(history, metric="dead"):
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


def heatmap(frame, x, y, metric="test_accuracy"):
    """`metric` averaged over replicates (and any other axis) on the grid `x` × `y`, annotated."""
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
    fig.colorbar(image, ax=ax, label=f"{_axis_label(metric)} (mean over seeds)")
    ax.set_title(f"{_axis_label(metric)} over {_axis_label(x)} × {_axis_label(y)}")
    return fig


def _axis_label(name):
    return "initializer" if name == "init_label" else name.replace("_", " ")


def seed_figure(stats, metric="test_accuracy"):
    """Mean and 95% interval over seeds per configuration (``sweep.seed_statistics``'s table)."""
    labels = [" · ".join(str(v) for v in row) for row in stats.drop(columns=["mean", "std", "count", "low", "high"]).itertuples(index=False)]
    fig = Figure(figsize=(7.0, 0.28 * len(labels) + 1.5), layout="constrained")
    ax = fig.add_subplot()
    positions = np.arange(len(labels))
    ax.errorbar(stats["mean"], positions, xerr=[stats["mean"] - stats["low"], stats["high"] - stats["mean"]],
                fmt="o", color=_PALETTE[0], ecolor="0.4", capsize=3)
    ax.set_yticks(positions, labels, fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel(f"{metric.replace('_', ' ')}: mean and 95% interval over seeds")
    ax.grid(True, axis="x", alpha=0.3)
    return fig


def save(fig, path, dpi=110):
    """Write `fig` as a PNG (or whatever the extension says)."""
    fig.savefig(path, dpi=dpi)
    return path
