"""This machine's speeds, measured once per process: the two rates ``engines.cost`` scales its
fitted tables by, so that "auto" chooses by this CPU and not by the one the constants were fitted on.

Why: the compiled engine's row kernels are LLVM's code for this CPU's vectors, BLAS's products
OpenBLAS's hand-written kernels for a CPU family, and their ratio moves from machine to machine. On
the 2-core Zen 4 VM the constants were first fitted on the kernels ran at ~30 GF/s and one BLAS
thread at 33–44 (a 128-wide network trained faster on numpy); on a Zen 5 VM (full-width AVX-512) the
kernels ran at 55–65 and BLAS at ~33 (the same network twice as fast on the compiled engine).

Two probes, ~0.1 s together (min over repeats: the least disturbed run of a noisy machine):
``kernels``, the compiled engine training a [2, 128, 128, 128, 1] ReLU network on 300 examples (one
model, one thread: the row kernels), and ``blas``, one BLAS thread multiplying a (128, 128) by a
(128, 304) matrix. Both in flop/s, as ``engines.cost`` counts them.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .._blas import one_blas_thread

PROBE_SIZES = (2, 128, 128, 128, 1)
PROBE_M = 300
PROBE_ITERATIONS = 8
REPEATS = 7


class Machine(NamedTuple):
    """Measured flop rates (flop/s)."""

    kernels: float  # the compiled engine's row kernels, one model on one thread (PROBE_SIZES)
    blas: float  # one BLAS thread, (128, 128) · (128, 304)

    def describe(self) -> str:
        return f"this machine's measured rates: compiled kernels {self.kernels / 1e9:.0f} GF/s, one BLAS thread {self.blas / 1e9:.0f} GF/s"


def _best(run: Callable[[], object], repeats: int) -> float:
    """The shortest of `repeats` timed calls of `run` (after one untimed)."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def kernel_rate(repeats: int = REPEATS) -> float:
    """flop/s of the compiled engine on the probe network (6 flops per weight and example)."""
    from ..network import Network
    from ..options import TrainOptions
    from .numba_engine import train_batch  # (loaded or compiled at its first call: engines.choose loads it first, announced)

    network = Network(PROBE_SIZES)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((PROBE_SIZES[0], PROBE_M))
    Y = (X[:1] > 0).astype(float)
    params = network.init("he_normal", rng=rng)[None, :]  # (1, P)
    options = TrainOptions(1e-4, PROBE_ITERATIONS, PROBE_ITERATIONS)
    seconds = _best(lambda: train_batch(network, params, X, Y, options), repeats)
    weights = sum(a * b for a, b in zip(PROBE_SIZES[:-1], PROBE_SIZES[1:]))
    return 6.0 * weights * PROBE_M * PROBE_ITERATIONS / seconds


def blas_rate(repeats: int = 8 * REPEATS) -> float:
    """flop/s of one BLAS thread on a (128, 128) · (128, 304) product."""
    rng = np.random.default_rng(0)
    W, A = rng.standard_normal((128, 128)), rng.standard_normal((128, 304))
    out = np.empty((128, 304))
    with one_blas_thread():
        seconds = _best(lambda: np.dot(W, A, out=out), repeats)
    return 2.0 * 128 * 128 * 304 / seconds


@functools.lru_cache(maxsize=1)
def measured() -> Machine:
    """This machine's rates, measured the first time they are asked for in this process."""
    blas = blas_rate()  # (first: before numba's threads exist)
    return Machine(kernel_rate(), blas)
