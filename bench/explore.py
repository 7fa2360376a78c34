"""The explorer's speed: how long a slider move takes to reach the signal view, and how many frames a
second the train view draws while it trains the notebook's network.

Usage: python bench/explore.py [--repeats N] [--depth D] [--width N] [--no-browser]
Issue 17's targets: ≤ 150 ms from a slider move to the updated signal view at depth 50, width 256
(the explorer's other defaults: one seed, a batch of 32 Gaussian inputs, no correlation prediction), and ≥ 15 frames a second in
the train view (the notebook's three runs, 100 iterations a frame).

Measured two ways, each a median over `--repeats` moves (or a few seconds of frames):
- in a real browser (Debian's Chromium driven by Playwright, the app served on 127.0.0.1): the time
  from setting the σ_w² slider's value in the page to the page holding the new per-layer table (the
  websocket round trip, the server's update, the browser applying it), and the frames the train view's
  page receives per second while playing;
- in the server alone: SignalPanel.refresh() (the probe and the models' update) and one train-view frame
  (TrainPanel.advance(): 100 iterations of three models, their boundaries, the models' update).
The baselines are measured in the same run: the notebook-style numpy loop (bench/engine_grid.py's
course loop) doing one forward and backward pass of the same depth-50 network on the same batch, and
the notebook's own three-layer loop (bench/notebook_baseline.py) doing one frame's 3 × 100 iterations.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys

import numpy as np
import param

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "src"))

import notebook_baseline  # noqa: E402
from engine_grid import cpu, notebook_loop  # noqa: E402
from run import timed  # noqa: E402
from initlab.data import circles  # noqa: E402
from initlab.explore.server import Running  # noqa: E402
from initlab.explore.signal import SignalSettings  # noqa: E402
from initlab.explore.signal_view import SignalPanel  # noqa: E402
from initlab.explore.train_view import TrainPanel  # noqa: E402

FRAME_ITERATIONS = 100  # the train view's default iterations per frame
PLAY_SECONDS = 4.0


def median_ms(fn, repeats, warmup=2):
    """run.timed's median, min and max, in milliseconds."""
    return tuple(1e3 * t for t in timed(fn, repeats, warmup))


def moves(repeats):
    """σ_w² values of successive slider moves: each new, none the default 2.0."""
    return [round(1.6 + 0.8 * k / max(repeats, 1), 3) for k in range(1, repeats + 3)]


def server_signal(depth, width, repeats):
    panel = SignalPanel(SignalSettings(depth=depth, width=width))
    values = iter(moves(repeats))

    def move():
        v = next(values)
        panel.sigma_w2.value = v
        with param.edit_constant(panel.sigma_w2):
            panel.sigma_w2.value_throttled = v  # the watched event: refresh()
        assert panel.errors.message == "", panel.errors.message

    return median_ms(move, repeats)


def baseline_pass(depth, width, batch, repeats):
    """The course's loop, one iteration (forward, cost, backward, update) of the same network and batch."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((width, batch))
    Y = (rng.random((1, batch)) > 0.5).astype(float)
    sizes = [width] * (depth + 1) + [1]

    def one():
        params = {}
        for l in range(1, len(sizes)):
            params[f"W{l}"] = rng.standard_normal((sizes[l], sizes[l - 1])) * np.sqrt(2.0 / sizes[l - 1])
            params[f"b{l}"] = np.zeros((sizes[l], 1))
        notebook_loop(X, Y, params, 0.01, 1)

    return median_ms(one, repeats)


def server_frame(repeats):
    panel = TrainPanel()
    panel.per_frame.value = FRAME_ITERATIONS
    return median_ms(panel.advance, repeats)


def baseline_frame(repeats):
    data = circles()

    def frame():
        for seed_params in (notebook_baseline.he_init([2, 10, 5, 1]),) * 3:
            notebook_baseline.train(data.X_train, data.Y_train, dict(seed_params), 0.01, FRAME_ITERATIONS)

    return median_ms(frame, repeats, warmup=1)


LATENCY_JS = """async ([value, depth]) => {
  const doc = Bokeh.documents[0];
  const find = (title) => [...doc.all_models].find(m => m.title === title);
  const source = doc.get_model_by_name('signal-layers');
  const before = source.data.pre_var[0];
  const slider = find('σ_w²');
  const start = performance.now();
  slider.value = value; slider.value_throttled = value;
  while (source.data.pre_var[0] === before) { await new Promise(r => requestAnimationFrame(r)); }
  return performance.now() - start;
}"""

FRAMES_JS = """async (seconds) => {
  const source = Bokeh.documents[0].get_model_by_name('train-cost-0');
  let frames = 0, last = source.data.iteration.length;
  const end = performance.now() + 1000 * seconds;
  while (performance.now() < end) {
    await new Promise(r => requestAnimationFrame(r));
    const now = source.data.iteration.length;
    if (now !== last) { frames += 1; last = now; }
  }
  return frames / seconds;
}"""


def browser(depth, repeats):
    """(median, min, max latency in ms, frames per second) in headless Chromium, or None without one
    (the page's width is its default, 256)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if path is None:
        return None
    with Running() as served, sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = chrome.new_page(viewport={"width": 1500, "height": 1100})
        page.goto(served.url, wait_until="networkidle")
        page.wait_for_function("() => window.Bokeh && Bokeh.documents.length && Bokeh.documents[0].get_model_by_name('signal-layers')")
        page.locator(".bk-tab", has_text="Signal").click()
        page.evaluate("""(depth) => { const m = [...Bokeh.documents[0].all_models].find(m => m.title === 'depth (hidden layers)');
                          m.value = depth; m.value_throttled = depth; }""", depth)
        page.wait_for_timeout(3000)
        times = [page.evaluate(LATENCY_JS, [v, depth]) for v in moves(repeats)][2:]  # two warm-up moves
        page.locator(".bk-tab", has_text="Train").click()
        page.get_by_role("button", name="▶ play / ❚❚ pause").click()
        page.wait_for_timeout(500)
        fps = page.evaluate(FRAMES_JS, PLAY_SECONDS)
        page.get_by_role("button", name="▶ play / ❚❚ pause").click()
        chrome.close()
    return statistics.median(times), min(times), max(times), fps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--no-browser", action="store_true", help="the server-side timings only")
    args = parser.parse_args(argv)
    batch = SignalSettings().batch
    signal = server_signal(args.depth, args.width, args.repeats)
    base = baseline_pass(args.depth, args.width, batch, args.repeats)
    frame = server_frame(args.repeats * 2)
    base_frame = baseline_frame(max(3, args.repeats // 3))
    in_page = not args.no_browser and args.width == SignalSettings().width
    seen = browser(args.depth, args.repeats) if in_page else None
    print(f"### initlab explore: signal-view latency and train-view frame rate\n\nMachine: {cpu()}, {os.cpu_count()} cores\n")
    print("| case | median (ms) | min–max (ms) | against the baseline |\n|---|---:|---:|---:|")
    print(f"| baseline: the course's loop, one pass of {args.depth} × {args.width} at batch {batch} | {base[0]:.1f} | "
          f"{base[1]:.1f}–{base[2]:.1f} | 1× |")
    print(f"| signal view, server: a slider move → probe + models updated | {signal[0]:.1f} | {signal[1]:.1f}–{signal[2]:.1f} | "
          f"{signal[0] / base[0]:.2f}× |")
    if seen is not None:
        print(f"| signal view, browser: slider value set → new table in the page | {seen[0]:.1f} | {seen[1]:.1f}–{seen[2]:.1f} | "
              f"{seen[0] / base[0]:.2f}× |")
    print(f"| baseline: the notebook's loop, 3 × {FRAME_ITERATIONS} iterations | {base_frame[0]:.1f} | "
          f"{base_frame[1]:.1f}–{base_frame[2]:.1f} | 1× |")
    print(f"| train view, server: one frame ({FRAME_ITERATIONS} iterations × 3 models, boundaries) | {frame[0]:.1f} | "
          f"{frame[1]:.1f}–{frame[2]:.1f} | {base_frame[0] / frame[0]:.1f}× faster |")
    if seen is not None:
        print(f"\nTrain view in the browser: {seen[3]:.1f} frames per second received while playing "
              f"(the server can draw {1e3 / frame[0]:.0f}; the page asks for one every 50 ms).")
    else:
        print("\nNo browser measurement (no chromium or playwright, or --no-browser).")
    ok = (seen[0] if seen else signal[0]) <= 150 and (seen[3] if seen else 1e3 / frame[0]) >= 15
    print(f"Targets (≤ 150 ms, ≥ 15 fps): {'met' if ok else 'NOT met'}.")


if __name__ == "__main__":
    main()
