"""The HTML report: sections and figures from every result kind, escaping, the training GIF, the
notebook representations, the commands, and a real headless browser rendering the page.

Every run here trains with engine="numpy" (the reference engine), small and fast.
"""
import base64
import dataclasses
import html
import io
import json
import os
import re
import shutil
import subprocess

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from browser_checks import chromium

from initlab import report, sweep
from initlab._validation import InitlabError
from initlab.cli import main
from initlab.compare import Comparison, compare_initializers, save
from initlab.data import get_dataset
from initlab.diagnostics import Probe, deep_network, probe, signal_propagation
from initlab.network import Network
from initlab.plots import init_color

EVIL = "<script>alert(1)</script>"
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
EVIL_FOLDER = "<img src=x onerror=alert(1)>"  # a valid folder name that is also an HTML injection


@pytest.fixture(scope="module")
def comparison():
    return compare_initializers(["he", "zeros"], iterations=1500, record_every=10, engine="numpy", snapshots=30)


@pytest.fixture(scope="module")
def saved(comparison, tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    return save(comparison, out, animate=True)


@pytest.fixture(scope="module")
def study_csv(tmp_path_factory):
    study = signal_propagation(deep_network(6, 32), ["he_normal", "lecun_normal"], seeds=2, batch=64)
    return study, study.save(tmp_path_factory.mktemp("probe"))["csv"]


@pytest.fixture(scope="module")
def sweep_db(tmp_path_factory):
    spec = sweep.make_spec({"sweep": {"name": "t", "seeds": 2, "record_every": 25},
                            "grid": {"init": ["he_normal", "xavier_normal"], "depth": [1, 2], "width": [6], "iterations": [50]}})
    db = str(tmp_path_factory.mktemp("sweep") / "t.db")
    sweep.run_sweep(spec, db, engine="numpy")
    return db


def images(page):
    """The data URIs of every <img> in `page`, decoded: [(mime, bytes)]."""
    found = re.findall(r'<img src="data:(image/[a-z]+);base64,([A-Za-z0-9+/=]+)"', page)
    assert len(found) == page.count("<img"), "every image is embedded"
    return [(mime, base64.b64decode(data)) for mime, data in found]


def headings(page, level):
    return re.findall(rf"<h{level}>(.*?)</h{level}>", page)


# --- contents ---------------------------------------------------------------------------------------
def test_compare_report_has_every_part(comparison, saved, tmp_path):
    path = report.write_report([saved["json"]], tmp_path / "r.html", "my report")
    page = open(path, encoding="utf-8").read()
    assert page.startswith("<!DOCTYPE html>") and "<title>my report</title>" in page
    assert headings(page, 2) == ["Comparison on circles: he, zeros"]
    assert headings(page, 3) == ["Run settings", "Conclusions", "Cost curves", "Decision boundaries",
                                 "Decision boundaries during training"]
    # one cost figure, one decision boundary per initializer, the GIF from beside results.json
    found = images(page)
    assert [mime for mime, _ in found] == ["image/png"] * 3 + ["image/gif"]
    assert found[-1][1] == open(saved["animation"], "rb").read()
    cost = matplotlib.image.imread(io.BytesIO(found[0][1]))
    assert cost.shape[:2] == (400, 700)  # 7 × 4 in at 100 dpi: shown at its pixel size
    # the conclusions: every model line and its accuracies, as the table says
    for row in comparison.table():
        assert f"<td>{row['model']}</td>" in page
        assert f">{row['train accuracy']:.2%}</td>" in page and f">{row['test accuracy']:.2%}</td>" in page
    assert "fails to break symmetry (layer 1: all units identical)" in page
    assert "<th>learning rate</th><td>0.01</td>" in page and "<th>layers</th><td>2 → 10 → 5 → 1</td>" in page
    # self-contained: no script, nothing fetched, a policy that forbids both
    assert "<script" not in page.lower() and "http://" not in page and "https://" not in page
    assert "default-src 'none'; img-src data:" in page


def test_results_json_round_trip(comparison, saved):
    data = json.load(open(saved["json"]))
    assert data["settings"]["layers"] == [2, 10, 5, 1] and len(data["data"]["X_train"][0]) == 300
    again = Comparison.from_dict(data)
    X = get_dataset("circles").X_test
    for before, after in zip(comparison.results, again.results):
        assert after.name == before.name and after.comment == before.comment
        np.testing.assert_array_equal(after.run.params, before.run.params)
        np.testing.assert_array_equal(after.run.predict(X), before.run.predict(X))
        np.testing.assert_array_equal(after.run.costs, before.run.costs)
    assert again.table() == comparison.table()
    assert data.pop("animation") == "training.gif" and "animation" in report._load(saved["json"])[1]
    stale = os.path.join(os.path.dirname(saved["json"]), "without.json")  # beside a GIF it did not write
    json.dump(data, open(stale, "w"))
    assert report._load(stale)[1] == {}
    del data["runs"][0]["final_params"]
    with pytest.raises(InitlabError, match="not a results.json written by this initlab's compare"):
        Comparison.from_dict(data, "old.json")


def test_training_gif(comparison, saved):
    he = comparison.results[0]
    # every 60th iteration (150 recorded costs kept in ≈30 frames) and the final parameters
    assert [i for i, _ in he.snapshots] == list(range(0, 1500, 60)) + [1500]
    assert not np.array_equal(he.snapshots[0][1], he.snapshots[-1][1])
    gif = Image.open(saved["animation"])
    assert gif.format == "GIF" and gif.n_frames == len(he.snapshots) == 26
    width, height = gif.size
    assert 1.4 * height < width < 2 * height  # two panels side by side
    first = np.asarray(gif.convert("RGB"), dtype=float)
    gif.seek(gif.n_frames - 1)
    last = np.asarray(gif.convert("RGB"), dtype=float)
    assert np.abs(first - last).mean() > 1  # the boundaries move
    assert os.path.getsize(saved["animation"]) < 600_000


def test_signal_and_sweep_sections(study_csv, sweep_db, tmp_path):
    study, csv = study_csv
    page = open(report.write_report([csv, sweep_db], tmp_path / "r.html"), encoding="utf-8").read()
    assert headings(page, 2) == ["Signal propagation through 6 hidden layers", "Sweep t.db"]
    assert headings(page, 3) == ["Settings", "Verdicts", "Per-layer signal", "Per-layer histograms",
                                 "Run settings", "Heatmap", "Seed statistics: test accuracy"]
    assert '<nav><ul><li><a href="#s1">' in page and '<section id="s2" class="sweep">' in page
    assert len(images(page)) == 4  # signal figure, histograms (histograms.csv lies beside signal.csv), heatmap, seed statistics
    for name, found in study.verdicts.items():  # read again from the CSV: the same verdicts
        assert found and all(f"<li>{html.escape(v)}</li>" in page for v in found)  # escaped, as all text
    assert "<th>seeds per initializer</th><td>2</td>" in page
    assert "<th>runs stored</th><td>8</td>" in page and "<th>varying: depth</th><td>1, 2</td>" in page
    stats = sweep.seed_statistics(sweep.read_frame(sweep_db))
    assert page.count("<tr>") >= len(stats) + 1 and f">{stats['mean'].max():.2%}</td>" in page


@pytest.mark.parametrize("name, content, message", [
    ("notes.txt", "x", "must be files initlab wrote: results.json"),
    ("missing.json", None, "no such file"),
    ("other.json", '{"a": 1}', "not a results.json written by initlab compare"),
    ("broken.json", "{", "not a readable results.json"),
    ("other.csv", "a,b\n1,2\n", "not a signal.csv written by initlab probe (missing columns: act_ms"),
    ("junk.db", "not sqlite at all" * 100, "is not an initlab database (not an SQLite file)"),  # store.py's message
])
def test_bad_results_files(tmp_path, name, content, message):
    if content is not None:
        (tmp_path / name).write_text(content)
    with pytest.raises(InitlabError, match=re.escape(message)):
        report.write_report([tmp_path / name], tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_the_page_goes_only_into_an_html_file(tmp_path, saved):
    spec = tmp_path / "spec.toml"
    spec.write_text("[grid]\n")
    with pytest.raises(InitlabError, match=re.escape("The 'out' parameter must be a file name ending in .html. Got")):
        report.write_report([saved["json"]], spec)
    assert spec.read_text() == "[grid]\n"
    assert report.write_report([saved["json"]], tmp_path / "R.HTM").endswith("R.HTM")


def test_report_command_errors_are_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path / "notes.txt"), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("initlab: error: The 'results' parameter must be") and err.count("\n") == 1


# --- escaping ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def evil(saved, study_csv, tmp_path_factory):
    """A report in which every user-provided text is an HTML injection: dataset and run names, class
    labels, a folder name (the results file's path), verdicts, a sweep's labels, the title."""
    tmp_path = tmp_path_factory.mktemp("evil")
    data = json.load(open(saved["json"]))
    data["settings"]["dataset"] = EVIL
    data["runs"][1]["init"] = EVIL
    data["data"]["classes"] = [EVIL, "b"]
    folder = tmp_path / EVIL_FOLDER
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps(data))
    table = study_csv[0].table
    frame = pd.DataFrame({"init_label": [EVIL, EVIL, "he_normal", "he_normal"], "depth": [1, 2, 1, 2],
                          "replicate": 0, "status": "done", "test_accuracy": [0.5, 0.6, 0.7, 0.8]})
    results = [str(folder / "results.json"), Probe(table[table.init == "he_normal"], [EVIL]), sweep.Results(frame, EVIL)]
    path = report.write_report(results, tmp_path / "evil.html", EVIL)
    return open(path, encoding="utf-8").read()


def test_user_text_is_escaped(evil):
    page = evil
    assert "<script" not in page.lower() and "<img src=x" not in page
    assert f"<title>{EVIL_ESCAPED}</title>" in page and f"<h1>{EVIL_ESCAPED}</h1>" in page
    assert f"<h2>Comparison on {EVIL_ESCAPED}: he, {EVIL_ESCAPED}</h2>" in page
    assert f"<li>{EVIL_ESCAPED}</li>" in page  # the verdict
    assert f"<td>{EVIL_ESCAPED}</td>" in page  # a table cell (the sweep's initializer label)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # the folder in the results file's path
    assert f'alt="Decision boundary after training from {EVIL_ESCAPED}"' in page
    assert page.count(EVIL_ESCAPED) >= 8


def test_section_builders_escape(comparison):
    named = dataclasses.replace(comparison, results=[dataclasses.replace(comparison.results[0], name=EVIL)])
    for html_text in (named.report_section(), comparison.results[0].run.report_section(name=EVIL),
                      report.table_html([EVIL], [[EVIL]]), report.settings_html([(EVIL, EVIL)])):
        assert "<script" not in html_text and EVIL_ESCAPED in html_text


# --- figures ----------------------------------------------------------------------------------------
def test_figures_are_labelled_with_one_colour_per_initializer(comparison, study_csv):
    from matplotlib.colors import to_hex

    from initlab import plots

    ax = plots.cost_curves(comparison).axes[0]
    assert ax.get_xlabel().startswith("iteration") and "nats" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["he", "zeros"]
    assert [to_hex(line.get_color()) for line in ax.get_lines()] == [init_color("he"), init_color("zeros")]
    assert init_color("he") == init_color("he_normal") == init_color("kaiming_normal")  # aliases share
    assert len({init_color(n) for n in ["zeros", "random", "he", "xavier_normal", "lecun_normal", "orthogonal",
                                        "he_uniform", "xavier_uniform", "lecun_uniform", "torch_default"]}) == 10
    panel = plots.decision_boundary_panel(comparison.results[1], comparison.dataset)
    pax = panel.axes[0]
    assert to_hex(pax.title.get_color()) == init_color("zeros") and pax.get_xlabel() and pax.get_ylabel()
    assert [t.get_text() for t in panel.legends[0].get_texts()] == ["predicted 0", "predicted 1", "class 0 (training)", "class 1 (training)"]
    signal = plots.signal_figure(dict(tuple(study_csv[0].table.groupby("init", sort=False))))
    colours = {to_hex(line.get_color()) for line in signal.axes[0].get_lines()}
    assert colours == {init_color("he_normal"), init_color("lecun_normal")}
    assert all(a.get_xlabel() and a.get_ylabel() for a in signal.axes)


# --- notebooks ----------------------------------------------------------------------------------------
def test_repr_html_and_to_frame(comparison, study_csv, sweep_db):
    run = comparison.results[0].run
    study = study_csv[0]
    net = Network((4, 8, 8, 1))
    one = probe(net, net.init("he_normal", rng=0), np.random.default_rng(0).standard_normal((4, 32)))
    results = sweep.results(sweep_db)
    for obj, heading in [(run, "Training run: run"), (comparison, "Comparison on circles: he, zeros"),
                         (one, "Signal propagation probe"), (study, "Signal propagation through 6 hidden layers"),
                         (results, "Sweep t.db")]:
        html_text = obj._repr_html_()
        assert html_text.startswith('<div class="initlab-report"><style>') and f"<h2>{heading}</h2>" in html_text
        assert "<img" in html_text and "<table" in html_text and "<script" not in html_text
    frame = run.to_frame()
    assert list(frame.columns) == ["iteration", "epoch", "cost"] and frame.cost.iloc[0] == run.costs[0]
    assert len(frame) == 151 and frame.iteration.iloc[-1] == run.steps  # the 150 recorded costs and the final point
    table = comparison.to_frame()
    assert list(table.index) == ["he", "zeros"] and table.loc["zeros", "train accuracy"] == 0.5
    assert list(table.columns) == ["model", "train accuracy", "test accuracy", "comment"]
    assert len(results.to_frame()) == 8 and len(study.to_frame()) == 2 * 2 * 7 and len(one.to_frame()) == 3


# --- commands ----------------------------------------------------------------------------------------
def test_compare_animate_and_report_flags(tmp_path, capsys):
    out = tmp_path / "o"
    code = main(["compare", "--init", "he,zeros", "--iterations", "300", "--engine", "numpy", "--animate",
                 "--report", "--quiet", "--out", str(out)])
    assert code == 0
    assert capsys.readouterr().out.strip().endswith(f"{out}/training.gif, {out}/report.html")
    assert Image.open(out / "training.gif").n_frames == 3 + 1  # 3 recorded costs (0, 100, 200) and the end
    page = (out / "report.html").read_text()
    assert [m for m, _ in images(page)] == ["image/png"] * 3 + ["image/gif"]
    assert main(["report", str(out / "results.json"), "--out", str(tmp_path / "r.html"), "--datasets", "--title", "both"]) == 0
    page = (tmp_path / "r.html").read_text()
    assert headings(page, 2) == ["Comparison on circles: he, zeros", "Datasets"] and len(images(page)) == 4 + 7


def test_probe_and_sweep_report_flags(tmp_path):
    assert main(["probe", "--depth", "3", "--width", "16", "--seeds", "1", "--batch", "32", "--out", str(tmp_path / "p"),
                 "--report", str(tmp_path / "probe.html")]) == 0
    assert "<h2>Signal propagation through 3 hidden layers</h2>" in (tmp_path / "probe.html").read_text()
    assert main(["sweep", "--set", "depth=1,2", "--set", "iterations=20", "--engine", "numpy", "--out", str(tmp_path / "s"),
                 "--report"]) == 0
    page = (tmp_path / "s" / "report.html").read_text()
    assert "<h2>Sweep sweep.db</h2>" in page and "<th>varying: depth</th><td>1, 2</td>" in page


def test_datasets_command(tmp_path, capsys):
    assert main(["datasets", "--report", str(tmp_path / "d.html")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "features", "classes", "train", "test"]
    assert lines[2].split() == ["circles", "2", "2", "300", "100"] and lines[8].split() == ["digits", "64", "10", "1347", "450"]
    page = (tmp_path / "d.html").read_text()
    assert headings(page, 2) == ["Datasets"] and len(images(page)) == 7
    assert all(f"<td>{name}</td>" in page for name in ["circles", "moons", "spirals", "xor", "gaussian_quantiles", "blobs", "digits"])


# --- a real browser ----------------------------------------------------------------------------------
WIDTH, HEIGHT = 1280, 2000


def screenshot(page, folder):
    """Open `page` in headless Chromium (a fresh profile, no network), screenshot it; return
    (pixels, console lines from the browser's log)."""
    shot = folder / "shot.png"
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={folder / 'profile'}", f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={shot}",
         "--enable-logging=stderr", "--v=0", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    return matplotlib.image.imread(shot), console


def near(pixels, color, tol=0.06):
    """Pixels within `tol` of the hex `color`."""
    rgb = np.array([int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return int((np.abs(pixels[..., :3] - rgb).max(axis=-1) < tol).sum())


def test_report_renders_in_a_browser(evil, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(evil, encoding="utf-8")  # every injection attempt included
    pixels, console = screenshot(page, tmp_path)
    assert pixels.shape[:2] == (HEIGHT, WIDTH)
    assert pixels[..., :3].std() > 0.1  # not blank
    assert console == []  # no error, no script ran (an alert would need one), nothing refused
    assert near(pixels, init_color("he")) > 300  # the he line of the cost curves: the figures decoded
    assert near(pixels, "#f4a582") > 20_000  # the predicted-0 regions of the decision boundaries


def test_browser_check_sees_scripts_and_console_errors(tmp_path):
    """The console check can fail: a script injected into a report is refused by its policy (and
    logged), and a page without the policy that logs an error is caught too."""
    injected = tmp_path / "injected.html"
    base = report.page([report.settings_html([("a", 1)])])
    injected.write_text(base.replace("<body>", '<body><script>console.error("ran")</script>'))
    _, console = screenshot(injected, tmp_path)
    assert any("Content Security Policy" in line for line in console) and not any('"ran"' in line for line in console)
    plain = tmp_path / "plain.html"
    plain.write_text('<!DOCTYPE html><html><body><p>x</p><script>console.error("boom"); missing();</script></body></html>')
    (tmp_path / "shot.png").unlink()
    _, console = screenshot(plain, tmp_path)
    assert any('"boom"' in line for line in console) and any("Uncaught ReferenceError" in line for line in console)


def test_the_page_names_inputs_without_absolute_paths(saved, study_csv, sweep_db, tmp_path, tmp_path_factory):
    """A shared page must not tell its readers the writer's home directory: inputs under the page's
    folder are shown relative to it, others by their file name."""
    out = tmp_path / "out"
    (out / "runs").mkdir(parents=True)
    shutil.copy(saved["json"], out / "runs" / "results.json")
    inputs = [str(out / "runs" / "results.json"), os.path.abspath(study_csv[1]), os.path.abspath(sweep_db), sweep.results(sweep_db)]
    page = open(report.write_report(inputs, out / "report.html"), encoding="utf-8").read()
    base = str(tmp_path_factory.getbasetemp())
    for absolute in {base, os.path.realpath(base), str(tmp_path)}:
        assert absolute not in page
    assert "<th>results file</th><td>" + os.path.join("runs", "results.json") + "</td>" in page  # relative to out/
    assert "<th>results file</th><td>signal.csv</td>" in page  # outside out/: the file name
    assert page.count("<th>results file</th><td>t.db</td>") == 2  # the path and the loaded Results
    assert base not in sweep.results(sweep_db)._repr_html_()  # a notebook's output is shared too


def test_sweep_tables_flag_diverged_runs_and_too_few_seeds():
    rows = [{"init_label": i, "depth": d, "width": 8, "replicate": r, "test_accuracy": 0.5 + 0.1 * r,
             "status": "diverged" if (i, d, r) in {("he_normal", 2, 0), ("he_normal", 2, 1)} else "done"}
            for i in ("he_normal", "xavier_normal") for d in (1, 2) for r in range(2)]
    page = report.fragment(sweep.Results(pd.DataFrame(rows), "s.db"))
    assert "<th>diverged</th>" in page and "<td>⚠ 2</td>" in page
    assert "1 of 4 configurations have diverged runs (2 runs)" in page
    assert "4 of 4 configurations have fewer than 3 seeds: no interval" in page
    assert "95% low" in page and "Mean over seeds." in page


# --- per-layer histograms ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tanh_study(tmp_path_factory):
    study = signal_propagation(deep_network(8, 24, "tanh"), ["normal(std=0.01)", "xavier_normal"], seeds=2, batch=48)
    return study, study.save(tmp_path_factory.mktemp("tanh"))


def test_report_shows_the_histograms_beside_signal_csv(tanh_study, tmp_path):
    study, paths = tanh_study
    page = open(report.write_report([paths["csv"]], tmp_path / "r.html"), encoding="utf-8").read()
    assert headings(page, 3) == ["Settings", "Verdicts", "Per-layer signal", "Per-layer histograms"]
    shown = images(page)
    assert len(shown) == 2
    histogram_png = Image.open(io.BytesIO(shown[1][1]))
    assert histogram_png.size[1] > histogram_png.size[0] * 0.5  # two blocks of two rows: the tall figure, not signal.png
    assert "One seed per initializer (seed 0)." in page
    loaded = report.read_result(paths["csv"])
    assert loaded.histograms is not None and len(loaded.histograms) == len(study.histograms)
    assert set(loaded.histograms["init"]) == {"normal(std=0.01)", "xavier_normal"}


def test_an_old_signal_csv_without_histograms_still_reports(tanh_study, tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    shutil.copy(tanh_study[1]["csv"], old / "signal.csv")  # a folder written before histograms.csv existed
    page = open(report.write_report([old / "signal.csv"], tmp_path / "r.html"), encoding="utf-8").read()
    assert headings(page, 3) == ["Settings", "Verdicts", "Per-layer signal"] and len(images(page)) == 1
    assert report.read_result(old / "signal.csv").histograms is None
    with pytest.raises(InitlabError, match="holds no histograms"):
        report.read_result(old / "signal.csv").plot_histograms()
    assert list(report.read_result(old / "signal.csv").save(tmp_path / "again")) == ["csv", "figure"]


def test_a_histograms_csv_from_another_probe_is_a_one_line_error(tanh_study, tmp_path):
    other = signal_propagation(deep_network(3, 8, "tanh"), ["he_normal"], seeds=1, batch=16)
    folder = tmp_path / "mixed"
    other.save(folder)
    shutil.copy(tanh_study[1]["csv"], folder / "signal.csv")  # signal.csv of one probe, histograms.csv of another
    with pytest.raises(InitlabError, match="describes another probe than 'signal.csv'"):
        report.read_result(folder / "signal.csv")
    (folder / "histograms.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InitlabError, match="not a histograms.csv written by initlab probe .missing columns: bin_left"):
        report.read_result(folder / "signal.csv")


def test_repr_html_shows_the_histograms(tanh_study):
    study = tanh_study[0]
    assert "<h3>Per-layer histograms</h3>" in study._repr_html_()
    net = Network((4, 8, 8, 1), activation="tanh")
    X = np.random.default_rng(0).standard_normal((4, 32))
    one = probe(net, net.init("xavier_normal", rng=0), X)
    text = one._repr_html_()
    assert "<h3>Per-layer histograms</h3>" in text and len(images(text)) == 2
    assert "Per-layer histograms" not in probe(net, net.init("xavier_normal", rng=0), X, histograms=False)._repr_html_()


def test_histogram_figure_is_readable(tanh_study):
    """Rows = initializers, columns = at most six layers (first and last among them); every text on
    the canvas and no two overlapping; each panel states its layer's std."""
    from initlab import plots

    study = signal_propagation(deep_network(30, 16, "tanh"), ["normal(std=0.01)", "normal(std=1)", "xavier_normal"],
                               seeds=1, batch=16)
    fig = plots.histogram_figure(study.histograms)
    assert len(fig.axes) == 2 * 3 * 6
    titles = [ax.get_title() for ax in fig.axes[:6]]
    assert [t.split(" · ")[0] for t in titles] == ["layer 1", "layer 7", "layer 13", "layer 18", "layer 24", "layer 30"]
    h = study.histograms
    first = h[(h.init == "normal(std=0.01)") & (h.kind == "activation") & (h.layer == 1)]
    assert titles[0] == f"layer 1 · std {first['std'].iloc[0]:.2g}"
    assert fig.axes[0].get_ylabel() == "normal(std=0.01)" and fig.axes[5].get_xlabel() == ""
    assert all(ax.get_xlabel() for ax in fig.axes[12:18])  # the bottom row of each block says what x is
    _assert_readable(fig)
    net = Network((4, 8, 8, 1), activation="tanh")  # two hidden layers: a narrow figure, one unnamed row
    _assert_readable(probe(net, net.init("xavier_normal", rng=0), np.random.default_rng(0).standard_normal((4, 32))).plot_histograms())


def _assert_readable(fig):
    """Every text of `fig` inside the canvas, and no two overlapping."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    texts = [t for t in _drawn_texts(fig) if t.get_text().strip()]
    boxes = [t.get_window_extent(renderer) for t in texts]
    width, height = canvas.get_width_height()
    for t, box in zip(texts, boxes):
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height, t.get_text()
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (texts[i].get_text(), texts[j].get_text())


def _drawn_texts(fig):
    """The texts a draw puts on the canvas: tick labels only at ticks inside the view (matplotlib
    keeps the others, invisible in the picture but not marked so)."""
    ticks = set()
    drawn = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for loc, tick in zip(axis.get_majorticklocs(), axis.get_major_ticks()):
                ticks.update((tick.label1, tick.label2))
                if low - 1e-12 * (high - low) <= loc <= high + 1e-12 * (high - low) and tick.label1.get_visible():
                    drawn.append(tick.label1)
    drawn += [t for t in fig.findobj(matplotlib.text.Text) if t not in ticks and t.get_visible()]
    return drawn
