"""initlab.explore without a browser: the views' numbers against the library's own calls (compare's
runs, probe's table and verdicts, the sweep's seed statistics), the views' callbacks driven as a
page would drive them (bad values shown in the page, text escaped), the server's address rules
and the command line."""
from __future__ import annotations

import re
import shlex
import socket

import numpy as np
import pandas as pd
import panel as pn
import param
import pytest

from initlab import cli, diagnostics, sweep
from initlab._validation import InitlabError
from initlab.compare import compare_initializers
from initlab.explore import server
from initlab.explore.session import TrainSession, TrainSettings, two_d_datasets
from initlab.explore.signal import SHOWN, SignalSettings, critical_line, signal_view
from initlab.explore.signal_view import SLIDERS, SignalPanel
from initlab.explore.sweep_view import SweepPanel
from initlab.explore.sweeps import STATISTICS, SweepTable
from initlab.explore.train_view import TrainPanel

SMALL_SIGNAL = SignalSettings(init="he_normal", depth=4, width=24, seeds=2, batch=8, correlations=True)


# --- the train view's session -----------------------------------------------------------------
def test_session_in_chunks_is_compare_run_at_once():
    """The live view's runs are compare's: the same weights bit for bit, the same costs at every recorded
    iteration (a chunk's last point, after its last update, is the recorder's numpy cost, not the exact
    engine's: within a few ulps there)."""
    session = TrainSession(TrainSettings(iterations=1500))
    while not session.finished:
        session.advance(50)  # 30 chunks, each recording every 5 iterations
    ran = compare_initializers(iterations=1500, record_every=100)
    for b, result in enumerate(ran.results):
        curve = dict(zip(session.curves[b].iterations, session.curves[b].costs))
        history = result.run.history
        np.testing.assert_allclose([curve[int(i)] for i in history["iteration"]], history["cost"], rtol=1e-15 * 8, atol=0)
        np.testing.assert_array_equal(session.params[b], result.run.params)
    assert session.accuracies() == [(r.train_accuracy, r.test_accuracy) for r in ran.results]


def test_reset_keeps_the_initial_weights_and_only_a_new_seed_redraws():
    session = TrainSession(TrainSettings(iterations=300))
    initial = session.params.copy()
    session.advance(300)
    assert not np.array_equal(session.params, initial)
    session.reset()
    np.testing.assert_array_equal(session.params, initial)
    assert session.iteration == 0 and [len(c.iterations) for c in session.curves] == [1, 1, 1]
    again = TrainSession(TrainSettings(iterations=300, learning_rate=0.5))  # another setting: the same weights
    np.testing.assert_array_equal(again.initial, initial)
    other = TrainSession(TrainSettings(iterations=300, seed=4))
    assert not np.array_equal(other.initial[2], initial[2])


def test_a_diverging_model_says_where_and_the_others_go_on():
    session = TrainSession(TrainSettings(inits=("he", "zeros"), learning_rate=1e300, iterations=100))
    session.advance(1)  # iteration 0's update is still finite
    assert session.statuses == [None, None]
    session.advance(10)  # he's cost is NaN at iteration 1: the chunk's 0th, the run's 1st
    assert session.statuses[0] == "diverged at iteration 1: the cost is nan" and session.statuses[1] is None
    session.advance(89)
    assert session.finished and session.curves[0].iterations == [0, 1] and session.curves[1].iterations[-1] == 100
    assert np.isfinite(session.params).all()  # the diverged model keeps its last finite parameters


@pytest.mark.parametrize("settings, message", [
    (TrainSettings(dataset="digits"), "'dataset' parameter must have two classes"),
    (TrainSettings(dataset="blobs"), "'dataset' parameter must have two classes"),
    (TrainSettings(inits=("nonsense",)), "nonsense"),
    (TrainSettings(inits=()), "The 'inits' parameter must name 1 to 8 initializers (side by side). Got 0 instead."),
    (TrainSettings(inits=("he",) * 1000, hidden=(1024, 1024)), "must name 1 to 8 initializers"),  # before 1000 draws
    (TrainSettings(hidden=(1,) * 65), "The 'hidden' parameter must list at most 64 hidden layers"),
    (TrainSettings(inits=("lsuv(max_iter=100000000000)",)), "The 'max_iter' option of lsuv must be at most 100"),
    (TrainSettings(hidden=(10, -1)), "'hidden' parameter"),
    (TrainSettings(learning_rate=-1.0), "'learning_rate' parameter must be"),
    (TrainSettings(iterations=0), "'iterations' parameter must be an int >= 1"),
    (TrainSettings(seed=-2), "'seed' parameter"),
    (TrainSettings(activation="nope"), "nope"),
    (TrainSettings(hidden=(2048, 2048)), "The 'hidden' parameter must keep each network within 4,194,304 parameters"),
])
def test_session_refuses_bad_settings_with_the_library_message(settings, message):
    with pytest.raises(InitlabError, match=re.escape(message)):
        TrainSession(settings)


def test_a_frame_too_big_to_draw_at_once_is_refused():
    session = TrainSession(TrainSettings(hidden=(512, 512), iterations=10**6))
    with pytest.raises(InitlabError, match=r"The 'n' parameter \(iterations per frame\) must be at most 9 for 3 networks"):
        session.advance(10)
    assert session.iteration == 0 and session.advance(9).iteration == 9


def test_two_d_datasets_are_the_registered_two_class_planes():
    assert two_d_datasets() == ["circles", "moons", "spirals", "xor", "gaussian_quantiles"]


def test_boundaries_are_each_models_probabilities_on_the_grid():
    session = TrainSession(TrainSettings(iterations=200)).advance(200)
    xs, ys = session.grid()
    probs = session.boundaries()
    assert probs.shape == (3, len(ys), len(xs))
    j, i = 7, 11
    point = np.array([[xs[j]], [ys[i]]])
    assert probs[2, i, j] == pytest.approx(float(session.network.predict_proba(session.params[2], point)[0, 0]), rel=1e-12)
    assert np.all(probs[0] == 0.5)  # zeros: every unit computes the same thing, the output is sigmoid(0)


# --- the signal view's numbers ----------------------------------------------------------------
def test_signal_view_equals_signal_propagation():
    view = signal_view(SMALL_SIGNAL)
    network = diagnostics.deep_network(SMALL_SIGNAL.depth, SMALL_SIGNAL.width, SMALL_SIGNAL.activation)
    study = diagnostics.signal_propagation(network, ["he_normal"], SMALL_SIGNAL.seeds, SMALL_SIGNAL.batch)
    mean = study.table.groupby("layer").mean(numeric_only=True).reset_index()
    pd.testing.assert_frame_equal(view.table.reset_index(drop=True), mean[SHOWN], check_exact=True)
    assert view.verdicts == study.verdicts["he_normal"]


def test_without_correlations_only_their_prediction_is_left_out():
    fast = signal_view(SignalSettings(**{**SMALL_SIGNAL.__dict__, "correlations": False}))
    full = signal_view(SMALL_SIGNAL)
    assert fast.table.pred_corr.isna().all() and full.table.pred_corr.notna().all()
    others = [c for c in SHOWN if c != "pred_corr"]
    pd.testing.assert_frame_equal(fast.table[others], full.table[others], check_exact=True)
    assert fast.verdicts == full.verdicts and fast.point == full.point


def test_signal_view_equals_what_initlab_probe_writes_and_prints(tmp_path, capsys):
    s = SMALL_SIGNAL
    argv = ["probe", "--depth", str(s.depth), "--width", str(s.width), "--activation", s.activation, "--init",
            s.init, "--seeds", str(s.seeds), "--batch", str(s.batch)]
    assert cli.main([*argv, "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert shlex.split(s.probe_command())[1:] == argv  # the command the page prints is this one
    written = pd.read_csv(tmp_path / "signal.csv").groupby("layer").mean(numeric_only=True).reset_index()
    view = signal_view(s)
    for column in SHOWN:
        np.testing.assert_allclose(view.table[column].to_numpy(float), written[column].to_numpy(float), rtol=1e-12, atol=0)
    assert all(f"  - {line}" in printed for line in view.verdicts)
    quoted = SignalSettings(init="normal(std=0.5, mode='x')").probe_command()  # a quote in the spec survives the shell
    assert shlex.split(quoted)[shlex.split(quoted).index("--init") + 1] == "normal(std=0.5, mode='x')"


def test_sliders_are_mean_field_and_the_phase_follows_chi1():
    ordered = signal_view(SignalSettings(depth=3, width=64, activation="tanh", batch=16).with_sigmas(0.5, 0.0))
    chaotic = signal_view(SignalSettings(depth=3, width=64, activation="tanh", batch=16).with_sigmas(3.0, 0.05))
    assert ordered.settings.init == "mean_field(sigma_b2=0.0, sigma_w2=0.5)"
    assert ordered.phase == "ordered" and ordered.chi1 < 1 and chaotic.phase == "chaotic" and chaotic.chi1 > 1
    assert ordered.point == (0.5, 0.0) and chaotic.point == (3.0, 0.05)  # mean_field's own parameters
    edge = signal_view(SignalSettings(depth=3, width=64, batch=16))  # mean_field's default: He's σ_w² = 2
    assert edge.point == (2.0, 0.0) and edge.phase == "critical"
    named = signal_view(SignalSettings(init="he_normal", depth=3, width=64, batch=16))  # the realized σ's
    assert named.point == (float(named.table.sigma_w2[:-1].mean()), float(named.table.sigma_b2[:-1].mean()))
    assert named.point[0] != 2.0 and abs(named.chi1 - 1) < 0.05


def test_critical_line_is_the_edge_of_chaos():
    w2, b2 = critical_line("tanh")
    assert b2[0] == 0.0 and w2[0] == pytest.approx(1.0) and np.all(np.diff(w2) > 0)  # Poole et al.'s curve rises
    assert np.allclose(critical_line("relu")[0], 2.0)
    assert np.isnan(critical_line("gelu")[0][0])  # no edge at σ_b² = 0: a gap, not an error


def test_histogram_images_hold_every_value_of_each_layer():
    view = signal_view(SMALL_SIGNAL)
    for kind, image in view.images.items():
        assert image.shape == (SMALL_SIGNAL.depth, 41)
        np.testing.assert_allclose(image.sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("change, message", [
    ({"depth": 0}, "The 'depth' parameter must be an int in [1, 201). Got 0 instead."),
    ({"width": -3}, "The 'width' parameter must be an int in [1, 1025). Got -3 instead."),
    ({"batch": 1}, "The 'batch' parameter must be an int in [2, 513). Got 1 instead."),
    ({"activation": "<b>relu</b>"}, "<b>relu</b>"),
    ({"init": "normal(std=-1)"}, "std"),
    ({"depth": 100, "width": 1024}, "The 'depth' parameter must keep the network within 16,777,216 weights in the "
                                    "explorer: at width 1024, at most 15 hidden layers. Got 100 instead."),
    ({"depth": 10**7, "width": 8}, "The 'depth' parameter must be an int in [1, 201). Got 10000000 instead."),
    ({"seeds": 10**9}, "The 'seeds' parameter must be an int in [1, 11). Got 1000000000 instead."),
    ({"init": "lsuv(max_iter=100000000000, tol=1e-300)"}, "The 'max_iter' option of lsuv must be at most 100"),
    ({"depth": 50, "width": 256, "seeds": 10, "batch": 512}, "The 'batch' parameter must keep seeds × batch × weights "
                                                             "within 2,147,483,648 in the explorer: with 10 seeds and "
                                                             "3,342,336 weights, at most 64. Got 512 instead."),
])
def test_signal_settings_are_checked(change, message):
    with pytest.raises(InitlabError, match=re.escape(message)):
        signal_view(SignalSettings(**{**SMALL_SIGNAL.__dict__, **change}))


# --- the views, driven as the page drives them ------------------------------------------------
def throttled(widget, value):
    """What the browser sends when a slider is let go: its value, then value_throttled (read-only in Python)."""
    widget.value = value
    with param.edit_constant(widget):
        widget.value_throttled = value


@pytest.fixture(scope="module")
def signal_panel():
    return SignalPanel(SignalSettings(depth=5, width=32, batch=16))


def test_signal_panel_shows_signal_view_numbers(signal_panel):
    throttled(signal_panel.sigma_w2, 1.5)
    view = signal_view(SignalSettings(depth=5, width=32, batch=16).with_sigmas(1.5, 0.0))
    np.testing.assert_array_equal(signal_panel.layers.data["pre_var"], view.table.pre_var.to_numpy())
    assert signal_panel.errors.message == "" and signal_panel.point.data["sigma_w2"] == [view.point[0]]
    assert signal_panel.figures[2].title.text == f"phase: ordered, χ₁ = {view.chi1:.4g}" and "mean_field" in signal_panel.figures[2].xaxis.axis_label


def test_a_bad_value_from_the_page_shows_the_library_message_and_keeps_the_view(signal_panel):
    kept = signal_panel.layers.data["pre_var"].copy()
    throttled(signal_panel.depth, -5)
    assert signal_panel.errors.message == "The 'depth' parameter must be an int in [1, 201). Got -5 instead."
    assert signal_panel.errors.pane.visible and "initlab-error" in signal_panel.errors.pane.object
    np.testing.assert_array_equal(signal_panel.layers.data["pre_var"], kept)
    signal_panel.options.value = "<script>alert(1)</script>"
    signal_panel.init.value = "normal"
    assert "<script>" not in signal_panel.errors.pane.object and "&lt;script&gt;" in signal_panel.errors.pane.object
    throttled(signal_panel.depth, 5)
    signal_panel.options.value = ""
    assert signal_panel.errors.message == "" and not signal_panel.errors.pane.visible


def test_train_panel_steps_resets_and_escapes():
    panel = TrainPanel(TrainSettings(iterations=400))
    panel.per_frame.value = 100
    start = panel.boundaries[2][0].data["image"][0].copy()
    panel.step.clicks += 1
    assert panel.session.iteration == 100 and panel.costs[2].data["iteration"][-1] == 100
    assert not np.array_equal(panel.boundaries[2][0].data["image"][0], start)
    panel.reset.clicks += 1
    assert panel.session.iteration == 0 and list(panel.costs[2].data["iteration"]) == [0]
    np.testing.assert_array_equal(panel.boundaries[2][0].data["image"][0], start)
    panel.inits.value = "he, <img src=x onerror=alert(1)>"
    assert "<img" not in panel.errors.pane.object and "&lt;img" in panel.errors.pane.object
    panel.inits.value = "he, normal(std=0.5)"
    assert panel.errors.message == "" and "normal(std=0.5)" in panel.status.object
    panel.learning_rate.value = -1.0
    assert panel.errors.message == "The 'learning_rate' parameter must be a finite float > 0. Got -1.0 instead."
    panel.hidden.value = "10, x"
    assert panel.errors.message == "The 'hidden' parameter must be comma-separated integers such as 10, 5. Got '10, x' instead."


@pytest.fixture(scope="module")
def sweep_db(tmp_path_factory):
    spec = sweep.make_spec({"sweep": {"seeds": 3, "name": "t"}, "grid": {
        "init": ["he", "random", {"name": "normal", "std": 0.5}], "learning_rate": [0.01, 0.1], "iterations": [20],
        "width": [4], "depth": [1]}})
    db = tmp_path_factory.mktemp("sweep") / "t.db"
    sweep.run_sweep(spec, db, engine="numpy")
    return db


@pytest.mark.parametrize("statistic", STATISTICS)
def test_sweep_heatmap_is_seed_statistics(sweep_db, statistic):
    grid = SweepTable.open(sweep_db).heatmap("learning_rate", "init_label", "test_accuracy", statistic)
    stats = sweep.seed_statistics(sweep.read_frame(sweep_db), "test_accuracy", by=["learning_rate", "init_label"])
    for row in stats.itertuples():
        i, j = grid.rows.index(str(row.init_label)), grid.columns.index(str(row.learning_rate))
        np.testing.assert_equal(grid.values[i, j], float(getattr(row, statistic)))
    assert grid.columns == ["0.01", "0.1"] and grid.rows == ["he", "normal(std=0.5)", "random"]


def test_sweep_panel_reads_only_the_databases_it_was_given(sweep_db):
    panel = SweepPanel([sweep_db])
    assert panel.x.value == "init_label" and panel.y.value == "learning_rate"
    assert len(panel.cells.data["value"]) == 6 and panel.errors.message == ""
    panel.db.options = [str(sweep_db), "/etc/passwd"]  # a value that got past the widget (a hand-made request)
    panel.db.value = "/etc/passwd"
    assert panel.errors.message.startswith("The 'db' parameter must be one of") and "/etc/passwd" in panel.errors.message
    assert list(panel.tables) == [str(sweep_db)]
    panel.db.value = str(sweep_db)
    panel.statistic.value = "count"
    assert set(panel.cells.data["value"]) == {3.0}
    panel.x.value = "learning_rate"  # y was learning_rate: it moves to another axis, no error
    assert panel.errors.message == "" and panel.y.value == "init_label" and "learning_rate" not in panel.y.options
    assert panel.figure.x_range.factors == ["0.01", "0.1"]


def test_two_databases_of_one_name_stay_two(sweep_db, tmp_path):
    twin = tmp_path / sweep_db.name
    twin.write_bytes(sweep_db.read_bytes())
    panel = SweepPanel([sweep_db, twin])
    assert panel.db.options == [str(sweep_db), str(twin)]


def test_sweep_table_refuses_an_empty_database(tmp_path):
    spec = sweep.make_spec({"sweep": {"seeds": 1, "name": "e"}, "grid": {"init": ["he"], "iterations": [5]}})
    db = tmp_path / "e.db"
    sweep.run_sweep(spec, db, engine="numpy")
    assert len(SweepTable.open(db).frame) == 1
    with pytest.raises(InitlabError):
        SweepTable.open(tmp_path / "missing.db")


# --- the server and the command line ----------------------------------------------------------
@pytest.mark.parametrize("address, loopback", [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True),
                                                ("localhost", True), ("0.0.0.0", False), ("192.168.1.5", False),
                                                ("example.org", False)])
def test_only_the_loopback_address_is_served_without_a_warning(address, loopback):
    assert server.is_loopback(address) is loopback
    warning = server.exposure_warning(address)
    assert (warning is None) is loopback
    if not loopback:
        assert f"serving on {address}" in warning and "anyone on the network" in warning


def test_websocket_origins_are_the_served_address():
    assert server._origins("127.0.0.1", 5006) == ["127.0.0.1:5006", "localhost:5006"]
    assert server._origins("::1", 5006) == ["127.0.0.1:5006", "[::1]:5006", "localhost:5006"]  # a page's host, bracketed
    assert server._origins("192.168.1.5", 80) == ["192.168.1.5:80"]
    every = server._origins("0.0.0.0", 80)  # this machine's names, never "*" (any web page could drive it)
    assert "*" not in every and "127.0.0.1:80" in every and f"{socket.gethostname()}:80" in every


def test_the_command_refuses_a_missing_database_before_serving(tmp_path, capsys, monkeypatch):
    served = []
    monkeypatch.setattr("initlab.explore.serve", lambda *a, **k: served.append(a))
    assert cli.main(["explore", "--sweep", str(tmp_path / "nope.db")]) in (2, 3)
    assert "nope.db" in capsys.readouterr().err and served == []
    assert cli.main(["explore", "--port", "5999", "--open"]) == 0
    assert served == [("127.0.0.1", 5999, True, [])]


def test_the_command_says_which_extra_is_missing(monkeypatch, capsys):
    import builtins

    real = builtins.__import__

    def no_panel(name, *args, **kwargs):
        if name == "panel" or name.startswith("panel."):
            raise ImportError("No module named 'panel'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_panel)
    assert cli.main(["explore"]) == 2
    assert "pip install 'initlab[explore]'" in capsys.readouterr().err


def test_app_starts_each_view_from_the_settings_given(sweep_db):
    import initlab.explore

    page = initlab.explore.app(sweeps=[sweep_db], train=TrainSettings(iterations=10, hidden=(4,)),
                               signal=SignalSettings(init="normal(std=0.5)", depth=3, width=48, batch=8))
    train, signal, sweeps = page.objects
    assert [train.name, signal.name, sweeps.name] == ["Train", "Signal", "Sweep"]
    widgets = {getattr(w, "label", None): w for w in signal.select(pn.widgets.Widget)}
    assert widgets["initializer"].value == "normal" and widgets["its options (key=value, …)"].value == "std=0.5"
    assert widgets["width"].value == 48 and "dirac" not in widgets["initializer"].options
    assert {getattr(w, "label", None): w for w in train.select(pn.widgets.Widget)}["iterations"].value == 10


def test_a_bad_option_text_cannot_lock_the_options_box():
    panel = SignalPanel(SignalSettings(depth=3, width=16, batch=8))
    panel.init.value = "normal"
    panel.options.value = "std=-1"
    assert "std" in panel.errors.message
    panel.init.value = SLIDERS  # works: the options box is disabled, its bad text still in it
    assert panel.errors.message == "" and panel.options.disabled
    panel.init.value = "he_normal"  # fails on the old text — and the box is open again to fix it
    assert "std" in panel.errors.message and not panel.options.disabled
    panel.options.value = ""
    assert panel.errors.message == ""


def test_a_bad_setting_while_playing_pauses_and_its_message_stays():
    panel = TrainPanel(TrainSettings(iterations=1000))
    stopped = []
    panel.callback = type("Playing", (), {"stop": lambda self: stopped.append(True)})()  # as a periodic callback
    panel.play.value = True
    panel.hidden.value = "10, x"
    assert stopped == [True] and panel.callback is None and not panel.play.value
    message = panel.errors.message
    assert "'hidden' parameter must be comma-separated integers" in message
    panel.frame()  # a frame still trains the last good session and leaves the message in place
    assert panel.errors.message == message and panel.session.iteration == 100


def test_a_frame_error_pauses_and_says_so():
    panel = TrainPanel(TrainSettings(iterations=1000, hidden=(512, 512)))
    panel.per_frame.value = 500  # above the frame budget for 3 networks of 264,705 parameters
    panel.frame()
    assert panel.errors.message.startswith("The 'n' parameter (iterations per frame) must be at most 9")
    assert not panel.play.value and panel.session.iteration == 0
