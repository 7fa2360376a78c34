"""float32 against float64: the benchmarks' 1000-network sweep (bench/run.py, section 2) in each dtype.

Usage: python bench/float32.py [--models N] [--repeats N] [--iterations N]
The notebook's [2, 10, 5, 1] network, He, Xavier and LeCun initial weights from different seeds,
15000 iterations of full-batch GD (lr 0.01) on the circles data, all models through train_many on
the compiled engine (one model per core); the float64 and float32 sweeps take turns in each repeat
(engine_grid.median_seconds: a drifting load slows both alike) and the medians are reported, with
the notebook-style numpy loop (the baseline, one model, measured in the same run) extrapolated to
N models. Below the timings: how far each float32 run ended from its float64 twin (final cost, the
training accuracy's agreement).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "src"))

import notebook_baseline  # noqa: E402
from engine_grid import cpu, median_seconds  # noqa: E402
from run import stack, timed  # noqa: E402  (run.py's section 2: the same initial weights)
from initlab.data import circles  # noqa: E402
from initlab.engines import ready  # noqa: E402
from initlab.network import Network  # noqa: E402
from initlab.training import TrainOptions, train_many  # noqa: E402

DATA = circles()
SIZES = (2, 10, 5, 1)


def baseline_seconds(iterations, repeats):
    """The median seconds of one notebook-style numpy run (the benchmarks' baseline)."""
    return timed(lambda: notebook_baseline.train(DATA.X_train, DATA.Y_train, notebook_baseline.he_init(list(SIZES)), 0.01,
                                                 iterations), repeats, warmup=0)[0]


def sweeps(n, iterations):
    """{dtype: a function training the n-model sweep in it, keeping its last runs}, and those runs."""
    options = TrainOptions(0.01, iterations, 1000)
    runs = {}

    def sweep(dtype):
        network = Network(SIZES, dtype=dtype)
        params = stack(n, network=network)  # the float32 sweep starts from the float64 one's weights, rounded

        def run():
            runs[dtype] = train_many(network, params, DATA.X_train, DATA.Y_train, options, engine="numba")

        return run

    return {dtype: sweep(dtype) for dtype in ("float64", "float32")}, runs


def distance(runs):
    """How far the float32 runs ended from the float64 ones: max |Δ final cost|, its median, and the
    share of models whose final training accuracy is the same."""
    network = {dtype: Network(SIZES, dtype=dtype) for dtype in runs}
    gaps = [abs(float(a.costs[-1]) - float(b.costs[-1])) for a, b in zip(runs["float32"], runs["float64"])]
    same = [float(network["float32"].accuracy(a.params, DATA.X_train.astype(np.float32), DATA.Y_train)) ==
            float(network["float64"].accuracy(b.params, DATA.X_train, DATA.Y_train)) for a, b in zip(runs["float32"], runs["float64"])]
    return max(gaps), statistics.median(gaps), sum(same) / len(same)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=15000)
    args = parser.parse_args(argv)
    ready("numba")
    fns, runs = sweeps(args.models, args.iterations)
    seconds = median_seconds(fns, args.repeats)
    base = baseline_seconds(args.iterations, args.repeats)
    worst, middle, agree = distance(runs)
    n = args.models
    print(f"### float32 vs float64: {n} networks × {args.iterations} iterations, compiled engine, {os.cpu_count()} cores\n")
    print(f"CPU: {cpu()}; medians of {args.repeats} runs each, the two dtypes taking turns\n")
    print("| sweep | total median (s) | per model (ms) | vs baseline | float64 / this |\n|---|---:|---:|---:|---:|")
    print(f"| baseline: notebook-style numpy loop, one model (extrapolated ×{n}) | {base * n:.1f} | {base * 1000:.1f} | 1.0× | |")
    for dtype in ("float64", "float32"):
        s = seconds[dtype]
        print(f"| train_many, numba, {dtype} | {s:.2f} | {s / n * 1000:.2f} | {base * n / s:.1f}× | "
              f"{seconds['float64'] / s:.2f}× |")
    print(f"\nfloat32 against float64 at the end: final cost max |Δ| {worst:.2e} (median {middle:.2e}); "
          f"final training accuracy equal in {agree:.1%} of the {n} models")


if __name__ == "__main__":
    main()
