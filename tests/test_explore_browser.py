"""initlab explore in a real browser: Debian's headless Chromium, driven by Playwright with the system
browser (nothing downloaded), loads the page served on 127.0.0.1, plays the train view, drags a
slider of the signal view, sends a bad value the way a hand-made request would, reads the sweep
view; the numbers the page holds must be the library's, the console must hold no error, and no
request may leave 127.0.0.1. Screenshots of each view go to test-output/explore/ for people to look at.
"""
from __future__ import annotations

import logging
import pathlib
from urllib.parse import urlparse

import numpy as np
import pytest

from browser_checks import chromium
from initlab import sweep
from initlab.explore.server import Running
from initlab.explore.session import TrainSession, TrainSettings
from initlab.explore.signal import SHOWN, SignalSettings, signal_view
from initlab.explore.sweeps import SweepTable

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHOTS = ROOT / "test-output" / "explore"  # screenshots for people (ignored by git)
VIEWPORT = {"width": 1500, "height": 1150}


def model(name: str) -> str:
    return f"Bokeh.documents[0].get_model_by_name('{name}')"


def titled(title: str) -> str:
    """A widget's Bokeh model, found by its label."""
    return f"[...Bokeh.documents[0].all_models].find(m => m.title === {title!r})"


@pytest.fixture(scope="module")
def sweep_db(tmp_path_factory):
    spec = sweep.make_spec({"sweep": {"seeds": 2, "name": "b"}, "grid": {
        "init": ["he", "random"], "learning_rate": [0.01, 0.1, 1.0], "iterations": [20],
        "width": [4], "depth": [1]}})
    db = tmp_path_factory.mktemp("sweep") / "b.db"
    sweep.run_sweep(spec, db, engine="numpy")
    return db


@pytest.fixture(scope="module")
def page(sweep_db):
    playwright = pytest.importorskip("playwright.sync_api")
    browser_path = chromium()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with Running(sweeps=[sweep_db]) as served, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox", "--disable-dev-shm-usage"])
        tab = browser.new_page(viewport=VIEWPORT)
        tab.requests, tab.console = [], []
        tab.on("request", lambda r: tab.requests.append(r.url))
        tab.on("console", lambda m: tab.console.append((m.type, m.text)))
        tab.on("pageerror", lambda e: tab.console.append(("error", str(e))))
        tab.goto(served.url, wait_until="networkidle")
        tab.wait_for_function(f"() => window.Bokeh && Bokeh.documents.length > 0 && {model('train-cost-0')}", timeout=60_000)
        tab.served = served
        yield tab
        browser.close()


def data(tab, name, column):
    return np.array(tab.evaluate(f"() => Array.from({model(name)}.data[{column!r}])"), dtype=float)


def boundary(tab, b):
    """Model b's decision-boundary image, (GRID, GRID)."""
    return np.array(tab.evaluate(f"() => Array.from({model(f'train-boundary-{b}')}.data.image[0])"), dtype=float)


def test_the_train_view_plays_the_notebooks_runs(page):
    image0 = boundary(page, 2)
    page.get_by_role("button", name="▶ play / ❚❚ pause").click()
    page.wait_for_function(f"() => {model('train-cost-2')}.data.iteration.length > 150", timeout=60_000)  # 15 frames
    page.get_by_role("button", name="▶ play / ❚❚ pause").click()  # pause
    page.wait_for_timeout(500)
    iterations, costs = data(page, "train-cost-2", "iteration"), data(page, "train-cost-2", "cost")
    assert iterations[0] == 0 and np.all(np.diff(iterations) > 0) and iterations[-1] % 100 == 0
    session = TrainSession(TrainSettings())
    while session.iteration < iterations[-1]:
        session.advance(100)  # the page's frames: 100 iterations each
    np.testing.assert_allclose(costs, session.curves[2].costs[:len(costs)], rtol=1e-14, atol=0)
    assert not np.array_equal(boundary(page, 2), image0)  # the decision boundary moved
    status = page.locator(".initlab-iteration").inner_text()
    assert f"iteration {int(iterations[-1])} of 15000" in status
    page.screenshot(path=SHOTS / "train.png")


def test_the_signal_view_follows_a_dragged_slider_with_probes_numbers(page):
    page.locator(".bk-tab", has_text="Signal").click()
    page.wait_for_timeout(500)
    before = data(page, "signal-layers", "pre_var")
    handle = page.locator(".noUi-handle").nth(1)  # the σ_w² slider (the train view's one slider is first)
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] - 60, box["y"] + box["height"] / 2, steps=6)
    page.mouse.up()
    page.wait_for_function(f"() => {model('signal-layers')}.data.pre_var[0] != {before[0]}", timeout=30_000)
    page.wait_for_timeout(300)
    sigma_w2 = round(page.evaluate(f"() => {titled('σ_w²')}.value"), 4)  # the view reads its sliders to 4 decimals
    assert sigma_w2 < 2.0
    view = signal_view(SignalSettings().with_sigmas(sigma_w2, 0.0))
    for column in SHOWN:
        np.testing.assert_array_equal(data(page, "signal-layers", column), view.table[column].to_numpy(float))
    first = page.locator(".initlab-layers tbody tr").first.locator("td").all_inner_texts()  # the table people read
    assert first[SHOWN.index("pre_var")] == f"{view.table.pre_var[0]:.4g}" and len(first) == len(SHOWN)
    assert data(page, "signal-point", "sigma_w2")[0] == view.point[0]
    assert page.locator(".verdicts li").all_inner_texts() == view.verdicts
    page.screenshot(path=SHOTS / "signal.png")


def test_a_hand_made_bad_value_shows_the_library_message_in_the_page(page):
    page.locator(".bk-tab", has_text="Signal").click()
    kept = data(page, "signal-layers", "pre_var")
    page.evaluate(f"() => {{ const m = {titled('depth (hidden layers)')}; m.value = -5; m.value_throttled = -5; }}")
    error = page.locator(".signal-errors")
    error.wait_for(timeout=30_000)
    assert error.inner_text() == "The 'depth' parameter must be an int in [1, 201). Got -5 instead."
    np.testing.assert_array_equal(data(page, "signal-layers", "pre_var"), kept)  # the view keeps its last good state
    page.screenshot(path=SHOTS / "signal-error.png")
    page.evaluate(f"() => {{ const m = {titled('depth (hidden layers)')}; m.value = 30; m.value_throttled = 30; }}")
    error.wait_for(state="hidden", timeout=30_000)
    page.locator(".bk-tab", has_text="Train").click()
    page.evaluate(f"() => {{ {titled('initializers (comma-separated, name or name(key=value))')}.value = 'he, <img src=x onerror=alert(1)>'; }}")
    train_error = page.locator(".train-errors")
    train_error.wait_for(timeout=30_000)
    assert "<img src=x onerror=alert(1)>" in train_error.inner_text()  # shown as text, escaped: no image element was made
    assert page.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
    page.evaluate(f"() => {{ {titled('initializers (comma-separated, name or name(key=value))')}.value = 'zeros, random, he'; }}")
    train_error.wait_for(state="hidden", timeout=30_000)


def test_a_value_of_the_wrong_type_is_refused_in_one_line(page, caplog):
    page.locator(".bk-tab", has_text="Signal").click()
    kept = data(page, "signal-layers", "pre_var")
    with caplog.at_level(logging.ERROR, logger="bokeh.server.protocol_handler"):
        page.evaluate(f"() => {{ const m = {titled('depth (hidden layers)')}; m.value = 'abc'; m.value_throttled = 'abc'; }}")
        page.wait_for_timeout(1500)
    refused = [r for r in caplog.records if r.name == "bokeh.server.protocol_handler"]
    assert refused and all(r.exc_info is None and "refused a message from the page" in r.getMessage() for r in refused)
    assert "expected a value of type Real, got abc" in refused[0].getMessage()
    np.testing.assert_array_equal(data(page, "signal-layers", "pre_var"), kept)
    page.evaluate(f"() => {{ const m = {titled('depth (hidden layers)')}; m.value = 30; m.value_throttled = 30; }}")


def test_a_request_beyond_the_budget_is_refused_not_run(page):
    page.locator(".bk-tab", has_text="Signal").click()
    page.evaluate(f"() => {{ const m = {titled('seeds')}; m.value = 1000000000; m.value_throttled = 1000000000; }}")
    error = page.locator(".signal-errors")
    error.wait_for(timeout=30_000)  # at once: the budget is checked before anything is drawn
    assert error.inner_text() == "The 'seeds' parameter must be an int in [1, 11). Got 1000000000 instead."
    page.evaluate(f"() => {{ const m = {titled('seeds')}; m.value = 1; m.value_throttled = 1; }}")
    error.wait_for(state="hidden", timeout=30_000)


def test_the_sweep_view_shows_the_seed_statistics(page, sweep_db):
    page.locator(".bk-tab", has_text="Sweep").click()
    page.wait_for_timeout(500)
    values = data(page, "sweep-cells", "value")
    grid = SweepTable.open(sweep_db).heatmap("init_label", "learning_rate", "test_accuracy", "mean")
    np.testing.assert_array_equal(values, grid.values.ravel())
    page.screenshot(path=SHOTS / "sweep.png")


def test_nothing_left_the_machine_and_the_console_has_no_error(page):
    hosts = {urlparse(u).hostname for u in page.requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, sorted(u for u in page.requests if "127.0.0.1" not in u)[:5]
    refused = "got abc of type str"  # the wrong-type test's own message, answered by Bokeh's error reply
    assert [text for kind, text in page.console if kind == "error" and refused not in text] == []
