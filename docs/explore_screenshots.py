"""Redraw the README's screenshots of `initlab explore` (docs/explore-*.png) in headless Chromium.

Usage: .venv/bin/python docs/explore_screenshots.py [SWEEP.db]
Needs the explore extra and Debian's chromium (Playwright drives the system browser). The train view is
played to the notebook's 15000 iterations, 500 a frame; the signal view is shown at σ_w² = 1.06; the
sweep view reads SWEEP.db (default: a small grid swept into a temporary folder first).
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile

from playwright.sync_api import sync_playwright

from initlab import sweep
from initlab.explore.server import Running

HERE = os.path.dirname(os.path.abspath(__file__))
VIEWPORT = {"width": 1500, "height": 1000}


def small_sweep(folder: str) -> str:
    spec = sweep.make_spec({"sweep": {"seeds": 3, "name": "docs"}, "grid": {
        "init": ["zeros", "random", "he", {"name": "normal", "std": 0.5}], "learning_rate": [0.003, 0.01, 0.03, 0.1],
        "iterations": [1500], "width": [10], "depth": [2]}})
    db = os.path.join(folder, "docs.db")
    sweep.run_sweep(spec, db)
    return db


def set_value(page, title: str, value) -> None:
    page.evaluate("([t, v]) => { const m = [...Bokeh.documents[0].all_models].find(m => m.title === t); "
                  "m.value = v; if ('value_throttled' in m) m.value_throttled = v; }", [title, value])


def main() -> None:
    folder = tempfile.mkdtemp()
    db = sys.argv[1] if len(sys.argv) > 1 else small_sweep(folder)
    with Running(sweeps=[db]) as served, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(served.url, wait_until="networkidle")
        page.wait_for_function("() => window.Bokeh && Bokeh.documents.length && Bokeh.documents[0].get_model_by_name('train-cost-0')")
        set_value(page, "iterations per frame", 500)
        page.get_by_role("button", name="▶ play / ❚❚ pause").click()
        page.locator(".initlab-iteration", has_text="iteration 15000 of 15000").wait_for(timeout=120_000)
        page.wait_for_timeout(500)
        page.screenshot(path=os.path.join(HERE, "explore-train.png"))
        page.locator(".bk-tab", has_text="Signal").click()
        set_value(page, "σ_w²", 1.06)
        page.wait_for_timeout(2000)
        page.screenshot(path=os.path.join(HERE, "explore-signal.png"))
        page.locator(".bk-tab", has_text="Sweep").click()
        page.wait_for_timeout(1000)
        page.screenshot(path=os.path.join(HERE, "explore-sweep.png"), clip={"x": 0, "y": 0, "width": 1000, "height": 520})
        browser.close()
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
