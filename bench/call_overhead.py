"""What one train() call costs besides training: a one-update call on a 32-layer network.

Usage: python bench/call_overhead.py [--repeats N]   (PYTHONPATH=OTHER/src for another checkout)
Prints the median milliseconds per call for each engine and activation (the issue "Fast at every
size" measured 62% of such a call re-validating the activations).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from initlab import Network, TrainOptions, train

X = np.random.default_rng(0).standard_normal((2, 64))
Y = (X[:1] > 0).astype(float)


def per_call(net, engine, calls=200, repeats=5):
    params = net.init("xavier_normal", rng=0)
    options = TrainOptions(0.01, 1, 1)
    train(net, params, X, Y, options, engine=engine)
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            train(net, params, X, Y, options, engine=engine)
        rounds.append((time.perf_counter() - start) / calls)
    return statistics.median(rounds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print("| one-update call, 32 layers × 16, 64 examples | numpy (ms) | numba (ms) |")
    print("|---|---:|---:|")
    for activation in ("relu", "tanh"):
        net = Network((2,) + (16,) * 32 + (1,), activation=activation)
        times = [per_call(net, engine, repeats=args.repeats) * 1e3 for engine in ("numpy", "numba")]
        print(f"| {activation} | {times[0]:.2f} | {times[1]:.2f} |")


if __name__ == "__main__":
    main()
