"""Benchmarks: `make bench`. Each reports medians over repeats and a ratio against the notebook-style
numpy loop (bench/notebook_baseline.py) measured in the same run. Never run as a test.

Usage: python bench/run.py [--repeats N] [--iterations N]
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import notebook_baseline  # noqa: E402

from initlab.data import circles  # noqa: E402
from initlab.network import Network  # noqa: E402
from initlab.train import TrainOptions, train  # noqa: E402


def timed(fn, repeats):
    """Median and spread of wall-clock seconds over `repeats` calls (one warm-up call first)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def one_run(repeats, iterations):
    """One training run of the notebook's He network on the circles data."""
    d = circles()
    net = Network((2, 10, 5, 1))
    params = net.init("he", rng=3)
    options = TrainOptions(0.01, iterations, 1000)
    cases = {
        "notebook-style numpy loop (baseline)": lambda: notebook_baseline.train(
            d.X_train, d.Y_train, notebook_baseline.he_init([2, 10, 5, 1]), 0.01, iterations
        ),
        "initlab.train (numpy engine)": lambda: train(net, params, d.X_train, d.Y_train, options),
    }
    # same numbers first: a benchmark of different computations would mean nothing
    _, base_costs = notebook_baseline.train(d.X_train, d.Y_train, notebook_baseline.he_init([2, 10, 5, 1]), 0.01, iterations)
    run = train(net, params, d.X_train, d.Y_train, options)
    np.testing.assert_allclose(run.costs, base_costs, rtol=1e-12)
    return {name: timed(fn, repeats) for name, fn in cases.items()}


def report(title, results):
    base = next(iter(results.values()))[0]
    lines = [f"### {title}", "", "| case | median (s) | min–max (s) | speed-up vs baseline |", "|---|---:|---:|---:|"]
    for name, (median, lo, hi) in results.items():
        lines.append(f"| {name} | {median:.3f} | {lo:.3f}–{hi:.3f} | {base / median:.2f}× |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=15000)
    args = parser.parse_args(argv)
    print(f"{datetime.date.today()} · {platform.processor() or platform.machine()} · {os.cpu_count()} cores · "
          f"Python {platform.python_version()} · numpy {np.__version__} · {args.repeats} repeats\n")
    print(report(f"One {args.iterations}-iteration run, He init, [2, 10, 5, 1] on circles",
                 one_run(args.repeats, args.iterations)))


if __name__ == "__main__":
    main()
