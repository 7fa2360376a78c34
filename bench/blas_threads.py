"""BLAS threads for small matrices, before and after (issue 11): `initlab probe`'s computation and
the numpy engine, each timed with initlab's one-thread limit (``initlab._blas``) as shipped and with
it switched off (threadpoolctl's ``threadpool_limits`` replaced by a no-op, so OpenBLAS keeps its
own threads), taking turns in one process, medians over the rounds. Never run as a test.

Usage: python bench/blas_threads.py [--repeats 3] [--quick] [--busy N]
(--busy N: N spinning processes beside it the whole time, the "2 loaded cores" of CI.)
"""
from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import time

import threadpoolctl

from initlab import diagnostics
from initlab.data import circles
from initlab.network import Network
from initlab.training import TrainOptions, train

REAL_LIMITS = threadpoolctl.threadpool_limits


@contextlib.contextmanager
def limits_switched_off():
    """initlab's BLAS limit as a no-op: what the library did before issue 11."""
    threadpoolctl.threadpool_limits = lambda *args, **kwargs: contextlib.nullcontext()
    try:
        yield
    finally:
        threadpoolctl.threadpool_limits = REAL_LIMITS


def probe_case(seeds):
    """What `initlab probe` computes before writing: 30 layers of 256, He and Xavier, `seeds` seeds."""
    network = diagnostics.deep_network(30, 256)
    return lambda: diagnostics.signal_propagation(network, ["he_normal", "xavier_normal"], seeds, 256)


def numpy_engine_case(iterations):
    """The reference engine on a 30-layer, width-64 ReLU net over the circles."""
    data, network = circles(), Network((2,) + (64,) * 30 + (1,))
    params = network.init("he_normal", rng=0)
    options = TrainOptions(0.01, iterations, iterations)
    return lambda: train(network, params, data.X_train, data.Y_train, options, engine="numpy")


def rounds(fn, repeats):
    """{'before': [s, …], 'after': [s, …]}: the two settings take turns, after one warm-up each."""
    times = {"before": [], "after": []}
    for k in range(repeats + 1):
        for label in ("before", "after"):
            setting = limits_switched_off() if label == "before" else contextlib.nullcontext()
            with setting:
                start = time.perf_counter()
                fn()
                seconds = time.perf_counter() - start
            if k:  # round 0 warms caches and imports
                times[label].append(seconds)
    return times


def row(name, times):
    before, after = statistics.median(times["before"]), statistics.median(times["after"])
    spread = lambda xs: f"{min(xs):.2f}–{max(xs):.2f}"  # noqa: E731
    return (f"| {name} | {before:.2f} ({spread(times['before'])}) | {after:.2f} ({spread(times['after'])}) "
            f"| {before / after:.1f}× |")


@contextlib.contextmanager
def busy(n):
    """`n` processes spinning a core each while the block runs."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for p in spinners:
            p.kill()
            p.wait()


def report(repeats=3, quick=False, n_busy=0):
    seeds, iterations = (2, 100) if quick else (5, 300)
    cases = {
        f"probe: 30 × 256, 2 inits × {seeds} seeds": probe_case(seeds),
        f"numpy engine: 30 × 64, {iterations} iterations": numpy_engine_case(iterations),
    }
    lines = [
        f"{platform.machine()} · {os.cpu_count()} cores · load average {os.getloadavg()[0]:.1f} before · "
        f"{n_busy} spinning process(es) beside · {repeats} rounds taking turns, median (min–max) wall seconds",
        "",
        "| case | BLAS's own threads (before) | one thread, initlab._blas (after) | speed-up |",
        "|---|---:|---:|---:|",
    ]
    with busy(n_busy):
        lines += [row(name, rounds(fn, repeats)) for name, fn in cases.items()]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2 seeds and 100 iterations")
    parser.add_argument("--busy", type=int, default=0, help="spinning processes beside the benchmark")
    args = parser.parse_args(argv)
    print(report(args.repeats, args.quick, args.busy))


if __name__ == "__main__":
    main()
