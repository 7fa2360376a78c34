"""Residual networks on the compiled engine: the flop rate of 64 blocks of width 64 against a plain MLP of that width.

Usage: python bench/residual.py [--repeats N] [--blocks K] [--width N] [--models N]
Issue 15's target: the compiled engine trains a residual MLP (K = 64 blocks of two width × width
layers, depth_mup's 1/√K branches: a 2^64-fold stream would overflow the costs) at the flop rate it
reaches on a plain MLP of the same width (8 hidden layers), within 1.5×; a plain MLP of the residual
network's depth (2K + 1 hidden layers) shows what the blocks themselves cost, apart from depth (its
activations, like the residual network's, no longer fit in the caches). Both train `--models`
networks (one per core) by full-batch GD on the circles data (300 examples) through train_many; the
flops of one iteration are 6·(weights)·m (forward 2, backward 4 per weight and example). The cases take
turns in each repeat (engine_grid.median_seconds) and the medians are reported, beside the baseline
measured in the same run: the notebook-style numpy loop ([2, 10, 5, 1], bench/notebook_baseline.py),
and the numpy reference engine on the residual network.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "src"))

import notebook_baseline  # noqa: E402
from engine_grid import cpu, median_seconds  # noqa: E402
from initlab.data import circles  # noqa: E402
from initlab.engines import ready  # noqa: E402
from initlab.network import Network, residual_network  # noqa: E402
from initlab.training import TrainOptions, train_many  # noqa: E402

DATA = circles()
FLOP_SECONDS = 2.0  # about this long per case and repeat on this machine


def weights(network):
    return sum(s.w_shape[0] * s.w_shape[1] for s in network.slots)


def flops(network, m=DATA.X_train.shape[1]):
    """Flops of one iteration of full-batch training on m examples: 6 per weight and example."""
    return 6.0 * weights(network) * m


def case(network, n_models, iterations, engine="numba"):
    """A function training `n_models` copies of `network` for `iterations` (checked to run them all)."""
    params = np.stack([network.init("he_normal", rng=seed) for seed in range(n_models)])
    options = TrainOptions(1e-3, iterations, iterations)

    def run():
        runs = train_many(network, params, DATA.X_train, DATA.Y_train, options, engine=engine)
        assert all(r.steps == iterations and not r.diverged for r in runs), [str(r.divergence) for r in runs]

    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--blocks", type=int, default=64)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--models", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    ready("numba")
    n, w = args.models, args.width
    residual = residual_network(2, w, args.blocks, residual="depth_mup")
    nets = {"plain": Network((2,) + (w,) * 8 + (1,)), "plain, same depth": Network(residual.sizes), "residual": residual}
    rate = 20e9  # a rough flop rate, only to size each case to ~FLOP_SECONDS
    its = {name: max(2, int(FLOP_SECONDS * rate / (flops(net) * n / max(1, os.cpu_count() or 1)))) for name, net in nets.items()}
    fns = {name: case(net, n, its[name]) for name, net in nets.items()}
    fns["residual, numpy engine"] = case(nets["residual"], 1, max(2, its["residual"] // 20), engine="numpy")
    base_its = 2000
    fns["baseline"] = lambda: notebook_baseline.train(DATA.X_train, DATA.Y_train, notebook_baseline.he_init([2, 10, 5, 1]),
                                                      0.01, base_its)
    seconds = median_seconds(fns, args.repeats)
    sizes = {**nets, "residual, numpy engine": residual, "baseline": Network((2, 10, 5, 1))}
    count = {**its, "residual, numpy engine": max(2, its["residual"] // 20), "baseline": base_its}
    models = {name: 1 if name in ("residual, numpy engine", "baseline") else n for name in fns}
    work = {name: flops(sizes[name]) * models[name] * count[name] for name in fns}
    gflops = {name: work[name] / seconds[name] / 1e9 for name in fns}
    print(f"### Residual networks: {args.blocks} blocks × width {w} against a plain MLP of width {w}, compiled engine, "
          f"{os.cpu_count()} cores\n")
    print(f"CPU: {cpu()}; {n} models (one per core), full-batch GD on 300 examples; medians of {args.repeats} runs, "
          f"the cases taking turns\n")
    print("| case | weights | iterations | median (s) | GFLOP/s | vs baseline |\n|---|---:|---:|---:|---:|---:|")
    for name in ("baseline", "plain", "plain, same depth", "residual", "residual, numpy engine"):
        print(f"| {name} | {weights(sizes[name]):,} | {count[name]} | {seconds[name]:.3f} | {gflops[name]:.2f} | "
              f"{gflops[name] / gflops['baseline']:.1f}× |")
    print(f"\nplain / residual flop rate on the compiled engine: {gflops['plain'] / gflops['residual']:.2f}× "
          f"(target ≤ 1.5×); plain of the same depth / residual: {gflops['plain, same depth'] / gflops['residual']:.2f}×")


if __name__ == "__main__":
    main()
