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
    from initlab.sweep import varying_axes

    fig = plots.heatmap(frame, "init_label", "depth", axes=varying_axes(frame))
    assert "mean over seeds and learning rate, optimizer" in fig.axes[0].get_title()
    only = frame[(frame.learning_rate == 0.01) & (frame.optimizer == "gd")]
    assert plots.heatmap(only, "init_label", "depth", axes=varying_axes(only)).axes[0].get_title().endswith("\nmean over seeds")
    one = only[only.replicate == 0]
    assert plots.heatmap(one, "init_label", "depth", axes=varying_axes(one)).axes[0].get_title().endswith("\nmean over one run")


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
    assert [ax.get_yscale() for ax in fig.axes] == ["linear", "linear", "linear"]  # the scales, and the correlation's
    assert all("every value is 0" in " ".join(t.get_text() for t in ax.texts) for ax in fig.axes)
    he = probe(net, net.init("he", rng=0), np.random.default_rng(0).normal(size=(4, 32))).table
    assert [ax.get_yscale() for ax in plots.signal_figure({"he": he}).axes] == ["log", "log", "linear"]


def _run(costs, iterations=None):
    from initlab.training import Run, TrainOptions

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


# --- every figure readable: nothing off the canvas, no two captions on each other, every curve visible
from functools import lru_cache  # noqa: E402

from figure_checks import assert_readable, problems  # noqa: E402

FIVE = ["zeros", "random(scale=0.01)", "he", "xavier_normal", "lecun_normal"]  # long label, five panels


def _every_kind_probe():
    from initlab.diagnostics import HISTOGRAM_KINDS, probe
    from initlab.network import Network

    net = Network((8, 16, 16, 16, 1), activation="tanh")
    return probe(net, net.init("xavier_normal", rng=0), np.random.default_rng(0).normal(size=(8, 32)), histograms=HISTOGRAM_KINDS)


@lru_cache(maxsize=None)
def _comparison(names, snapshots=0, **options):
    from initlab.compare import compare_initializers

    return compare_initializers(list(names), iterations=200, snapshots=snapshots, **options)


@lru_cache(maxsize=None)
def _study():
    from initlab.diagnostics import deep_network, signal_propagation

    return signal_propagation(deep_network(6, 32), ["he_normal", "xavier_normal"], seeds=2, batch=64)


@lru_cache(maxsize=None)
def _history():
    from initlab.data import circles
    from initlab.diagnostics import record
    from initlab.network import Network
    from initlab.training import TrainOptions

    d, net = circles(), Network((2, 10, 5, 1))
    return record(net, net.init("he", rng=3), d.X_train, d.Y_train, TrainOptions(0.01, 300), every=100)[1]


def _notebook_run():
    """The figure a Run shows in Jupyter (Run._repr_html_ → Run.report_section): one run's cost
    over less than a decade, which matplotlib ticks 7.4×10⁻¹, 7.6×10⁻¹, …"""
    from initlab.data import circles
    from initlab.network import Network
    from initlab.training import TrainOptions, train

    d, net = circles(), Network((2, 10, 5, 1))
    run = train(net, net.init("he", rng=3), d.X_train, d.Y_train, TrainOptions(0.01, 2000, record_every=100))
    shown, cost_figure = [], plots.cost_figure
    plots.cost_figure = lambda *args, **kwargs: shown.append(cost_figure(*args, **kwargs)) or shown[-1]
    try:
        run._repr_html_()
    finally:
        plots.cost_figure = cost_figure
    (fig,) = shown
    return fig


def _sweep_frame(labels=("he_normal", "random(scale=0.01)", "xavier_normal")):
    rows = [{"init_label": i, "depth": d, "learning_rate": lr, "replicate": r, "status": "done",
             "test_accuracy": 0.5 + 0.1 * d + 0.01 * r}
            for i in labels for d in (1, 2, 4) for lr in (0.01, 0.1) for r in range(3)]
    return pd.DataFrame(rows)


def _seed_stats(**columns):
    from initlab import sweep

    return sweep.seed_statistics(_sweep_frame()).assign(**columns)


def _long_classes():
    from initlab.data import from_arrays

    X = np.random.default_rng(0).normal(size=(60, 2))
    return from_arrays("named", X, np.where(X[:, 0] > 0, "a_long_class_name", "another_long_one"))


def _dataset(name):
    from initlab.data import get_dataset

    return get_dataset(name)


def _zeros_probe():
    from initlab.diagnostics import probe
    from initlab.network import Network

    net = Network((4, 8, 8, 1))
    return probe(net, np.zeros(net.n_params), np.random.default_rng(0).normal(size=(4, 32)))


@lru_cache(maxsize=None)
def _variants_study():
    from initlab.diagnostics import deep_network, signal_propagation

    return signal_propagation(deep_network(4, 16, "tanh"), ["normal(std=0.01)", "normal(std=1)", "mean_field(sigma_w2=1.5)"],
                              seeds=1, batch=32)


@lru_cache(maxsize=None)
def _coord_frame():
    from initlab.coordcheck import coord_check

    return coord_check("sp, mup(base_width=32)", widths=(32, 64, 128), steps=2, seeds=(0, 1), examples=64).frame


def _transfer(optimizers=("adam",), diverge=False):
    import pandas as pd

    from initlab import transfer

    rates = (0.003, 0.01, 0.03, 1e3 if diverge else 0.1)
    frame = pd.concat([transfer.train_grid(("sp", "mup"), o, (8, 16, 32), rates, seeds=(0, 1), iterations=10,
                                           dataset="circles", batch_size=None) for o in optimizers], ignore_index=True)
    return plots.transfer_figure(frame, transfer.optima(frame))


def _learning_runs(accuracy):
    from initlab import Network, TrainOptions, train
    from initlab.data import circles

    d = circles()
    net = Network((2, 10, 5, 1))
    options = TrainOptions(0.3, 400, 1, batch_size=30, record_unit="epochs", record_accuracy=True) if accuracy else \
        TrainOptions(0.05, 300, 50)
    return [(name, train(net, net.init(name, rng=3), d.X_train, d.Y_train, options, engine="numpy",
                         validation=(d.X_test, d.Y_test) if accuracy else None)) for name in ("he", "zeros")]


FIGURES = {  # every figure function of plots, on small realistic inputs and the cases that broke
    "cost_curves: 2 initializers": lambda: plots.cost_curves(_comparison(("zeros", "he"))),
    "cost_curves: 5 with a long label": lambda: plots.cost_curves(_comparison(tuple(FIVE))),
    "cost_curves: costs over 1000 (learning rate 1000)": lambda: plots.cost_curves(
        _comparison(("he", "random(scale=10)"), learning_rate=1000.0, record_every=10)),
    "cost_figure: the notebook's Run": _notebook_run,
    "learning_curves: accuracy and held-out data, minibatch": lambda: plots.learning_curves(_learning_runs(True)),
    "learning_curves: cost only, full batch": lambda: plots.learning_curves(_learning_runs(False)),
    "cost_figure: one-point curves": lambda: plots.cost_figure([("he", _run([0.7])), ("random(scale=0.01)", _run([0.69]))]),
    "cost_figure: mean squared error": lambda: plots.cost_figure([("he", _run([0.3, 0.2, 0.01]))], 0.1, "mean_squared_error"),
    "decision_boundaries: 2": lambda: plots.decision_boundaries(_comparison(("zeros", "he"))),
    "decision_boundaries: 5": lambda: plots.decision_boundaries(_comparison(tuple(FIVE))),
    "decision_boundary_panel: long label": lambda: plots.decision_boundary_panel(_comparison(tuple(FIVE)).results[1],
                                                                                  _comparison(tuple(FIVE)).dataset),
    "decision_boundary_panel: long class names": lambda: plots.decision_boundary_panel(
        _comparison(("he",)).results[0], _long_classes()),
    "dataset_thumbnail: circles": lambda: plots.dataset_thumbnail(_dataset("circles")),
    "dataset_thumbnail: blobs (4 classes)": lambda: plots.dataset_thumbnail(_dataset("blobs")),
    "dataset_thumbnail: digits": lambda: plots.dataset_thumbnail(_dataset("digits")),
    "signal_figure: two initializers, two seeds": lambda: _study().plot(),
    "signal_figure: one probe of all-zero weights": lambda: _zeros_probe().plot(),
    "history_figure: dead": lambda: plots.history_figure(_history(), "dead"),
    "history_figure: act_ms (log)": lambda: plots.history_figure(_history(), "act_ms"),
    "heatmap: initializer x depth": lambda: plots.heatmap(_sweep_frame(), "init_label", "depth", axes=("init_label", "depth", "learning_rate")),
    "heatmap: depth x learning rate": lambda: plots.heatmap(_sweep_frame(), "depth", "learning_rate", axes=("init_label", "depth", "learning_rate")),
    "seed_figure": lambda: plots.seed_figure(_seed_stats()),
    "seed_figure: notes on too few seeds and divergence": lambda: plots.seed_figure(
        _seed_stats(too_few_seeds=[k % 3 == 0 for k in range(18)], diverged=[k % 4 == 1 for k in range(18)])),
    "seed_figure: 41 rows, best and worst": lambda: plots.seed_figure(_stats(41)),
    "histogram_figure: a study of two initializers": lambda: _study().plot_histograms(),
    "histogram_figure: one probe of all-zero weights": lambda: plots.histogram_figure(_zeros_probe().histograms),
    "histogram_figure: every kind, pre-activations too": lambda: plots.histogram_figure(_every_kind_probe().histograms),
    "histogram_figure: two configurations of one scheme": lambda: _variants_study().plot_histograms(),
    "signal_figure: two configurations of one scheme": lambda: _variants_study().plot(),
    "coord_check_figure: sp and mup, two steps": lambda: plots.coord_check_figure(_coord_frame()),
    "coord_check_figure: mean_abs, with step 0": lambda: plots.coord_check_figure(_coord_frame(), "mean_abs"),
    "transfer_figure: sp and mup, adam": _transfer,
    "transfer_figure: two optimizers, a diverged rate": lambda: _transfer(("adam", "sgd"), diverge=True),
    "block_signal_figure: three schemes, one without a prediction": lambda: _blocks(("standard", "depth_mup", "fixup")).plot(),
    "block_signal_figure: rezero (every branch 0)": lambda: _blocks(("rezero",)).plot(),
}


def _blocks(schemes):
    from initlab.blocks import study_blocks

    return study_blocks(list(schemes), blocks=6, width=32, seeds=2, batch=16)


@pytest.mark.parametrize("case", FIGURES)
def test_every_figure_is_readable(case):
    assert_readable(FIGURES[case]())


@pytest.mark.parametrize("names", [("zeros", "he"), tuple(FIVE)])
def test_every_frame_of_the_training_animation_is_readable(names):
    """Checked as each frame was drawn (draw=False): the animation draws its layout once."""
    n = 0
    for k, (fig, image) in enumerate(plots.animation_frames(_comparison(names, snapshots=3))):
        assert image.size == tuple(fig.canvas.get_width_height())
        assert [ax.get_title().split("\n")[1] for ax in fig.axes] == [f"iteration {k * 100}"] * len(names)
        assert_readable(fig, draw=False)
        n += 1
    assert n == 3


def test_the_animation_writes_the_frames_as_a_gif(tmp_path):
    from PIL import Image

    path = plots.training_animation(_comparison(("zeros", "he"), snapshots=3), tmp_path / "training.gif")
    with Image.open(path) as gif:
        assert gif.n_frames == 3


NOT_FIGURES = {"init_color", "init_colors", "histogram_layers", "data_limits", "decision_boundary", "averaged_axes", "save", "training_animation",
               "animation_frames"}  # helpers, a GIF writer, and the frames test above


def test_the_table_covers_every_figure_function():
    """A new figure function of plots needs a row in FIGURES."""
    import inspect

    functions = {name for name, f in inspect.getmembers(plots, inspect.isfunction)
                 if f.__module__ == plots.__name__ and not name.startswith("_")}
    covered = {case.split(":")[0] for case in FIGURES}
    missing = functions - covered - NOT_FIGURES
    assert not missing, f"no readability case for {sorted(missing)}"


def test_the_checker_catches_a_suptitle_on_a_title_an_axis_label_off_the_canvas_and_an_invisible_curve():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3))
    fig.subplots_adjust(left=0.02, top=0.85)  # no room for the y label or tick labels
    ax = fig.add_subplot()
    ax.plot([1.0], [2.0], label="one point, no marker")
    ax.set_title("a title")
    ax.set_ylabel("a y label")
    fig.suptitle("a suptitle", y=0.88)  # on the axes title
    found = problems(fig)
    assert any(p.startswith("suptitle 'a suptitle' overlaps axes 0 title 'a title'") for p in found), found
    assert any(p.startswith("axes 0 ylabel 'a y label' lies outside the canvas") for p in found), found
    assert any("Line2D 'one point, no marker' shows no mark" in p for p in found), found
    with pytest.raises(AssertionError, match="not readable"):
        assert_readable(fig)


def test_the_checker_catches_a_legend_on_an_axis_label_and_ticks_on_the_next_panels_title():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 5))
    fig.subplots_adjust(bottom=0.3, hspace=0.05)  # the lower panel's title under the upper one's x ticks
    upper, lower = fig.subplots(2, 1)
    for ax in (upper, lower):
        ax.plot([0, 1], [0, 1], label="a line")
        ax.set_xlabel("x")
    lower.set_title("lower title")
    FigureCanvasAgg(fig).draw()
    box = lower.xaxis.label.get_window_extent()
    fig.legend(loc="center", bbox_to_anchor=fig.transFigure.inverted().transform(((box.x0 + box.x1) / 2, box.y0)))
    found = problems(fig)
    assert any(p.startswith("axes 1 xlabel 'x' overlaps figure legend") for p in found), found
    assert any(p.startswith("axes 0 x tick label '0.4' lies on axes 1") for p in found), found
    assert any(p.startswith("axes 1 title 'lower title' lies on axes 0") for p in found), found
    with pytest.raises(AssertionError):
        assert_readable(fig)


def test_the_checker_passes_a_plain_readable_figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [1, 0, 1], label="a line")
    ax.plot([1], [0.5], "o", label="a point")
    ax.set(title="title", xlabel="x", ylabel="y")
    ax.legend()
    fig.suptitle("suptitle")
    assert problems(fig) == []


def _line_colors(fig):
    return {line.get_label(): line.get_color() for ax in fig.axes for line in ax.lines}


def test_two_configurations_of_one_scheme_get_two_colours_and_a_plain_name_keeps_its_own():
    """normal(std=0.01) and normal(std=1) were both drawn in normal's colour, and mean_field (past
    the palette's end) in zeros' grey: one figure's initializers now have distinct colours, and a
    name alone keeps the colour it has in every figure."""
    names = ["normal(std=0.01)", "normal(std=1)", "zeros", "mean_field(sigma_w2=1.5)", "he_normal"]
    colors = plots.init_colors(names)
    assert len(set(colors.values())) == len(names)
    assert colors["normal(std=0.01)"] == plots.init_color("normal")
    assert colors["zeros"] == plots.init_color("zeros") and colors["he_normal"] == plots.init_color("he_normal")
    drawn = _line_colors(plots.cost_figure([(n, _run([0.7, 0.6 - 0.01 * k])) for k, n in enumerate(names)]))
    assert [drawn[n] for n in names] == [colors[n] for n in names]
    measured = {label.removesuffix(" measured"): c for label, c in _line_colors(_variants_study().plot()).items()
                if label.endswith(" measured")}
    assert len(set(measured.values())) == 3


def test_more_initializers_than_colours_reuse_colours_without_failing():
    names = [f"normal(std={k})" for k in range(1, 30)]
    colors = plots.init_colors(names)
    assert len(colors) == 29 and len(set(colors.values())) == len(plots._PALETTE)
