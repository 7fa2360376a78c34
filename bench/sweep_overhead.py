"""Where a large sweep's time goes: training against everything else (issue 12: a 10,000-run sweep
spent 9.3 s training out of 83-97 s). Runs a grid of short runs (numba engine, 100 iterations of a
[2, 16, 16, 1]-ish network) through sweep.run_sweep in a temporary folder, with the stages timed by
wrapping the functions that do them, then draws the two figures. Never run as a test.

Usage: python bench/sweep_overhead.py [--runs 10000]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time

from initlab import sweep

SPEC = """
[sweep]
name = "overhead"
seeds = {seeds}
record_every = 10
chunk_size = 50

[grid]
init = ["he_normal", "xavier_normal", "lecun_normal", "he_uniform", "xavier_uniform"]
weight_scale = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0]
depth = [2, 3]
width = [16]
learning_rate = [0.05, 0.1, 0.2, 0.4, 0.8]
iterations = [100]
"""


def _timed(module, name, totals, key):
    """Replace module.name by a wrapper that adds its wall-clock time to totals[key]."""
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            totals[key] = totals.get(key, 0.0) + time.perf_counter() - start

    setattr(module, name, wrapper)


def measure(runs):
    """Seconds per stage of a sweep of `runs` runs (a multiple of 500)."""
    import initlab.diagnostics as diagnostics
    import initlab.store as store

    train_module = sys.modules["initlab.training"]
    folder = tempfile.mkdtemp()
    spec_path = os.path.join(folder, "spec.toml")
    with open(spec_path, "w") as f:
        f.write(SPEC.format(seeds=max(1, runs // 500)))
    spec = sweep.read_spec(spec_path)
    totals = {}
    _timed(train_module, "train_many", totals, "training (train_many)")
    _timed(diagnostics, "summary", totals, "per-layer summaries at initialization")
    _timed(sweep, "_scores", totals, "final costs and accuracies")
    _timed(sweep, "_initial_params", totals, "initial weights")
    _timed(store.Store, "add", totals, "storing chunks (SQLite)")
    db = os.path.join(folder, "overhead.db")
    start = time.perf_counter()
    outcome = sweep.run_sweep(spec, db, engine="numba")
    totals["sweep.run_sweep in all"] = time.perf_counter() - start
    start = time.perf_counter()
    sweep.save_figures(db, folder)
    totals["figures (heatmap.png, seeds.png)"] = time.perf_counter() - start
    return outcome, totals


def report(runs):
    from initlab import engines

    engines.ready("numba")  # a first compile is not the sweep's time
    outcome, totals = measure(runs)
    training = totals["training (train_many)"]
    whole = totals["sweep.run_sweep in all"] + totals["figures (heatmap.png, seeds.png)"]
    lines = [f"### A {outcome.total}-run sweep: training against the rest",
             "", f"{platform.machine()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
             "`python bench/sweep_overhead.py --runs " + str(runs) + "`", "",
             "| stage | seconds | share of the whole |", "|---|---:|---:|"]
    for key, seconds in totals.items():
        lines.append(f"| {key} | {seconds:.2f} | {seconds / whole:.0%} |")
    lines.append(f"| everything but training | {whole - training:.2f} | {(whole - training) / whole:.0%} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10000)
    print(report(parser.parse_args().runs))
