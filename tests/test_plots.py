"""Figures: what they draw, checked on the matplotlib objects (not on pixels)."""
import numpy as np
import pandas as pd
import pytest

from initlab import plots


def _stats(n, seed=0):
    """A seed_statistics-shaped table of n configurations."""
    rng = np.random.default_rng(seed)
    mean = rng.uniform(0.4, 1.0, n)
    return pd.DataFrame({"init_label": ["he_normal" if k % 2 else "xavier_normal" for k in range(n)],
                         "weight_scale": np.arange(n) * 0.01, "mean": mean, "std": 0.01, "count": 3,
                         "low": mean - 0.02, "high": mean + 0.02})


def _labels(fig):
    return [t.get_text() for t in fig.axes[0].get_yticklabels()]


def test_a_few_configurations_are_all_drawn():
    fig = plots.seed_figure(_stats(36))
    assert len(_labels(fig)) == 36 and not fig.axes[0].get_title()
    assert "he_normal · 0.35" in _labels(fig)  # (np.arange(36) * 0.01)[35] is 0.35000000000000003


@pytest.mark.parametrize("n", [41, 1000])
def test_many_configurations_draw_the_best_and_the_worst_and_say_so(n):
    stats = _stats(n)
    fig = plots.seed_figure(stats)
    labels = _labels(fig)
    assert len(labels) == plots.SEED_ROWS
    assert fig.get_size_inches()[1] < 15  # a readable page, not 30 000 pixels
    ranked = stats.sort_values("mean", ascending=False)
    expected = [f"{r.init_label} · {r.weight_scale:.6g}" for r in ranked.itertuples()]
    assert labels[:20] == expected[:20] and labels[20:] == expected[-20:]
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert f"… {n - 40} configurations not shown …" in texts
    assert fig.axes[0].get_title() == f"40 of {n} configurations: the 20 best and 20 worst by mean"


def _texts(fig):
    return [t.get_text() for t in fig.texts] + [t.get_text() for ax in fig.axes for t in ax.texts] + [ax.get_title() for ax in fig.axes]


def test_too_few_seeds_are_points_without_a_bar_and_diverged_runs_are_marked():
    from matplotlib.container import ErrorbarContainer

    stats = _stats(4).assign(too_few_seeds=[True, False, False, True], diverged=[0, 2, 0, 1])
    stats.loc[stats["too_few_seeds"], ["low", "high"]] = np.nan
    fig = plots.seed_figure(stats)
    ax = fig.axes[0]
    assert sum(isinstance(c, ErrorbarContainer) for c in ax.containers) == 2  # only the rows with an interval
    assert len([line for line in ax.lines if line.get_gid() == "too_few_seeds"]) == 2
    assert len([line for line in ax.lines if line.get_gid() == "diverged"]) == 2
    texts = _texts(fig)
    assert "2 diverged" in texts and "1 diverged" in texts
    note = next(t for t in fig.texts if t.get_gid() == "note").get_text()
    assert "fewer than 3 seeds, no interval (2 of 4 shown)" in note and "diverged runs (2 of 4 shown)" in note
    fig.savefig(__import__("io").BytesIO(), format="png")  # the layout with the note draws


def test_a_figure_without_such_rows_has_no_note():
    fig = plots.seed_figure(_stats(3).assign(too_few_seeds=False, diverged=0))
    assert not [t for t in fig.texts if t.get_gid() == "note"]


def test_the_heatmap_names_the_axes_it_averages_over():
    rows = [{"init_label": i, "depth": d, "learning_rate": lr, "optimizer": o, "replicate": r, "width": 8,
             "test_accuracy": 0.5 + 0.1 * d}
            for i in ("he_normal", "xavier_normal") for d in (1, 2) for lr in (0.01, 0.1) for o in ("gd", "adam") for r in (0, 1)]
    frame = pd.DataFrame(rows)
    fig = plots.heatmap(frame, "init_label", "depth")
    assert "mean over seeds and learning rate, optimizer" in fig.axes[0].get_title()
    only = frame[(frame.learning_rate == 0.01) & (frame.optimizer == "gd")]
    assert plots.heatmap(only, "init_label", "depth").axes[0].get_title().endswith("\nmean over seeds")
    assert plots.heatmap(only[only.replicate == 0], "init_label", "depth").axes[0].get_title().endswith("\nmean over one run")


def test_signal_figure_of_all_zero_weights_says_so_without_a_log_scale_warning():
    """probe --init zeros: every mean square is 0; the panels say so instead of warning twice that
    nothing can be log-scaled."""
    import warnings

    from initlab.diagnostics import probe
    from initlab.network import Network

    net = Network((4, 8, 8, 1))
    table = probe(net, np.zeros(net.n_params), np.random.default_rng(0).normal(size=(4, 32))).table
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.signal_figure({"zeros": table})
        fig.canvas.draw()
    assert [ax.get_yscale() for ax in fig.axes] == ["linear", "linear"]
    assert all("every value is 0" in " ".join(t.get_text() for t in ax.texts) for ax in fig.axes)
    he = probe(net, net.init("he", rng=0), np.random.default_rng(0).normal(size=(4, 32))).table
    assert [ax.get_yscale() for ax in plots.signal_figure({"he": he}).axes] == ["log", "log"]


def _run(costs, iterations=None):
    from initlab.train import Run, TrainOptions

    costs = np.asarray(costs, dtype=float)
    iterations = np.arange(costs.size) * 100 if iterations is None else np.asarray(iterations)
    return Run(None, TrainOptions(), None, np.zeros(1), iterations, costs)


def test_a_cost_curve_of_one_point_is_visible():
    fig = plots.cost_figure([("he", _run([0.7])), ("zeros", _run([0.69, 0.6, 0.5]))])
    one, many = fig.axes[0].get_lines()
    assert one.get_marker() == "o" and many.get_marker() in ("None", None, "")


def test_coinciding_cost_curves_say_so_and_both_stay_visible():
    """xavier_normal and lecun_normal coincide on square layers: one line would hide the other."""
    fig = plots.cost_figure([("xavier_normal", _run([0.7, 0.5, 0.3])), ("lecun_normal", _run([0.7, 0.5, 0.3])),
                             ("he_normal", _run([0.8, 0.4, 0.2]))])
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["xavier_normal", "lecun_normal (same costs as xavier_normal)", "he_normal"]
    assert [line.get_linestyle() for line in fig.axes[0].get_lines()] == ["-", "--", "-"]


def test_layer_axes_tick_whole_layers_only():
    from initlab.diagnostics import probe
    from initlab.network import Network

    net = Network((4,) + (8,) * 4 + (1,))  # 4 hidden layers: matplotlib would tick 1.5, 2.5, …
    table = probe(net, net.init("he", rng=0), np.random.default_rng(0).normal(size=(4, 32))).table
    fig = plots.signal_figure({"he": table})
    fig.canvas.draw()
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
