"""One wide model: the compiled engine's products on BLAS's threads (numba_engine._with_blas) against
the same engine on its row kernels (one core, the engine before) and the numpy engine.

Usage: python bench/wide_model.py [--repeats N] [--iterations N]
Each network ([2, width × depth, 1], ReLU, He) trains one model on 300 examples by full-batch GD;
the three ways take turns in each repeat, each after a pause (engine_grid.median_seconds: the two
BLAS libraries' threads), and the median is reported,
with the flop rate (6 flops per weight and example). "kernels" sets numba_engine.SMALL out of reach
for its runs, so that no layer takes BLAS: what the engine did before.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

from engine_grid import M, cpu, data, flops_per_iteration, median_seconds  # noqa: E402
from initlab.engines import numba_engine, ready  # noqa: E402
from initlab.network import Network  # noqa: E402
from initlab.training import TrainOptions, train_many  # noqa: E402

SIZES = ((384, 3), (512, 2), (512, 3), (512, 8), (1024, 2), (1024, 4))


def on_kernels(run):
    """`run` with no layer on BLAS (numba_engine.SMALL out of reach), then the rule restored."""
    def wrapped():
        small, numba_engine.SMALL = numba_engine.SMALL, 10**9
        try:
            return run()
        finally:
            numba_engine.SMALL = small
    return wrapped


def row(width, depth, iterations, repeats):
    X, Y = data()
    net = Network((2,) + (width,) * depth + (1,))
    params = net.init("he_normal", rng=np.random.default_rng(0))[None, :]
    options = TrainOptions(1e-4, iterations, iterations)
    train = {engine: (lambda engine=engine: train_many(net, params, X, Y, options, engine=engine)) for engine in ("numpy", "numba")}
    seconds = median_seconds({"numpy": train["numpy"], "blas": train["numba"], "kernels": on_kernels(train["numba"])}, repeats)
    rate = {k: flops_per_iteration(net) * iterations / s / 1e9 for k, s in seconds.items()}
    layers = numba_engine._with_blas(numba_engine._layout(net).layers, 1)[:, numba_engine.GEMM]
    return (f"| {width} × {depth} | {int(layers.sum())} of {len(layers)} | {rate['numpy']:.1f} | {rate['kernels']:.1f} | "
            f"{rate['blas']:.1f} | {seconds['blas'] / seconds['numpy']:.2f} | {seconds['kernels'] / seconds['blas']:.2f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--iterations", type=int, default=20)
    args = parser.parse_args(argv)
    ready("numba")
    print(f"{cpu()} · {os.cpu_count()} cores · {M} examples, {args.iterations} iterations, median of {args.repeats} (taking turns)\n")
    print("| width × depth | layers on BLAS | numpy GF/s | numba, kernels GF/s | numba, BLAS GF/s | numba BLAS / numpy time | kernels / BLAS time |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for width, depth in SIZES:
        print(row(width, depth, args.iterations, args.repeats), flush=True)


if __name__ == "__main__":
    main()
