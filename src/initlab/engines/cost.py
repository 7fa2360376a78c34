"""What "auto" picks: each engine's time for a run, estimated from its shapes, its number of models
and the cores, and the faster of the two.

Per model and iteration, with the flops F = 6·Σ_l n_{l−1}·n_l·m (the forward product, dZ and dW)
and E = Σ_l n_l·m activations (m: the examples of a batch):

    numpy: t = L·LAYER + F / RATE(w, m) + E·φ + P·u  one model after another; BLAS on its threads
                                                     (as many as a limit in force leaves) for layers
                                                     wider than _blas.SMALL, else on one
    numba: t = F / RATE(w) + W·h + E·φ + P·u         models on `threads` threads, each extra
                                                     thread worth a share of a model that falls
                                                     with the width (the threads share the caches);
                                                     one model at a time, its layers wider than
                                                     _blas.SMALL on both sides at numpy's BLAS rate
                                                     on BLAS's threads (numba_engine._with_blas)

φ: the activation's cost per element in that engine (a vectorized one or a libm call per element;
ReLU's is in RATE), RATE(w, m) the products' flop rate at the layer's width and the batch's
examples (BLAS gains with size; short rows lose), u the optimizer's cost per parameter P beyond
gradient descent's (Adam's moments; numpy's are several passes over P) and a parametrization's
per-parameter learning rates, h the compiled gradient's cost per weight W whatever m (its sum
over the examples ends in one reduction per weight: what makes short minibatches slower there).

The constants were fitted to ``bench/engine_grid.py`` on a 2-core Zen 5 VM (bench/README.md, "The
engine grid"), whose ``calibrate.measured()`` rates are REFERENCE. Another CPU runs the two
engines at other ratios (the compiled kernels at about half that rate on a Zen 4, where a 128-wide
network trained faster on numpy): when the fitted estimates are within CLOSE of each other on a
run long enough to matter, ``choose`` measures this machine (once per process, ~0.1 s) and scales
the compiled engine's rates by its kernels' measured rate and numpy's by its BLAS's. Near the
boundary the choice can then differ between machines, or between two processes on one; the
engines' results differ by rounding only (tests/test_engines.py), and ``INITLAB_ENGINE`` or
``engine=`` fix the engine. The estimate never changes what a run computes.

>>> from initlab.network import Network
>>> from initlab.options import TrainOptions
>>> choose(Network((2, 10, 5, 1)), TrainOptions(), m=300, n_models=1, threads=2)[0]
'numba'
>>> wide = Network((2, 1024, 1024, 1))  # four models: numpy's BLAS on both cores, model after model
>>> choose(wide, TrainOptions(), m=300, n_models=4, threads=2, blas_threads=2, machine=REFERENCE)[0]
'numpy'
>>> slow_kernels = Machine(kernels=REFERENCE.kernels / 2, blas=REFERENCE.blas)
>>> choose(Network((2, 128, 128, 1)), TrainOptions(), m=300, n_models=1, threads=2, machine=slow_kernels)[0]
'numpy'
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .._blas import SMALL
from .._blas import threads as blas_threads_now
from .calibrate import Machine

if TYPE_CHECKING:
    from ..network import Network
    from ..options import TrainOptions


class Constants(NamedTuple):
    """One engine's cost constants (seconds; flop/s)."""

    layer: float  # fixed cost per layer and iteration (Python and dispatch)
    rates: tuple[tuple[int, float], ...]  # (layer width, flop/s of its products on one thread): interpolated
    blas_threads: bool  # layers wider than _blas.SMALL use every core (numpy's BLAS)
    columns: float  # m0: the products' rate at m examples is the fitted one × (m / (m + m0)) / (M / (M + m0))
    weight: float  # seconds per weight and iteration whatever m (the compiled gradient's sum over examples ends per weight)
    activation: dict[str, float]  # seconds per element of φ and φ′ by activation key (others: 0, in the rates)
    update: dict[str, float]  # seconds per parameter of the optimizer's step beyond gd's (in the rates)
    scaled: float  # seconds per parameter of a parametrization's per-parameter learning rates
    speedup: tuple[tuple[int, float], ...]  # (widest layer up to, share of a perfect speed-up per extra thread)
    gemm: bool  # layers wider than _blas.SMALL on both sides multiply on BLAS's threads when models train one at a time
    probe: str  # the calibrate.Machine rate its products scale with: "kernels" or "blas"


M = 300  # the examples the rates were fitted at (bench/engine_grid.py)


NUMPY = Constants(layer=2.6e-5, rates=((32, 3.0e10), (64, 3.2e10), (128, 3.45e10), (256, 4.2e10), (1024, 3.3e10)),
                  blas_threads=True, columns=64.0, weight=0.0,
                  activation={"tanh": 5e-9, "sigmoid": 6e-9, "elu": 9e-9, "selu": 9e-9, "softplus": 1.6e-8,
                              "swish": 8e-9, "gelu": 1.2e-8},
                  update={"momentum": 3e-9, "adam": 8e-9}, scaled=2e-9,
                  speedup=(), gemm=False, probe="blas")  # one model after another
NUMBA = Constants(layer=0.0, rates=((8, 5.1e10), (32, 5.8e10), (128, 7.2e10), (256, 6.1e10), (1024, 5.2e10)), blas_threads=False, columns=0.0, weight=1e-8,
                  activation={"tanh": 4e-9, "sigmoid": 2.5e-9, "elu": 1.2e-8, "selu": 1.2e-8, "softplus": 3.0e-8,
                              "swish": 1.6e-8, "gelu": 2.5e-8},
                  update={"momentum": 1e-9, "adam": 3e-9}, scaled=0.0,
                  speedup=((16, 0.6), (64, 0.85)),  # wider: 0.4 (the threads share the caches)
                  gemm=True, probe="kernels")
WIDE_SPEEDUP = 0.4
BLAS_PATH = 1.1  # the compiled engine on BLAS over numpy's rate (the same products, the rest compiled: 0.85-1.09x its time)
REFERENCE = Machine(kernels=5.2e10, blas=5.0e10)  # calibrate.measured() on the machine the constants were fitted on
CLOSE = 3.0  # the fitted estimates within this factor: this machine's rates decide (choose)
CALIBRATE_ABOVE = 0.25  # seconds
CONSTANTS = {"numpy": NUMPY, "numba": NUMBA}


def _rate(rates: tuple[tuple[int, float], ...], width: int) -> float:
    """The flop rate at `width`, linear in log2(width) between the table's points (flat beyond them)."""
    widths = [math.log2(w) for w, _ in rates]
    return float(np.interp(math.log2(max(width, 1)), widths, [r for _, r in rates]))


class Estimate(NamedTuple):
    seconds: dict[str, float]  # engine -> the estimated seconds of the whole run
    choice: str
    reason: str


def _per_model_iteration(c: Constants, network: Network, m: int, blas_threads: int, optimizer: str, scale: dict[str, float],
                         one_at_a_time: bool) -> float:
    """Seconds of one iteration of one model (m: the examples of a batch; scale: this machine's
    rates over the reference's, by probe; one_at_a_time: no other model trains meanwhile)."""
    seconds = 0.0
    keys = [spec.key for spec in network.activation] + ["linear"]
    columns = (m / (m + c.columns)) / (M / (M + c.columns))  # short products run below the fitted rate
    for n_in, n_out, key in zip(network.sizes[:-1], network.sizes[1:], keys):
        width = max(n_in, n_out)
        if c.gemm and one_at_a_time and blas_threads > 1 and min(n_in, n_out) > SMALL:  # BLAS's product, every thread
            rate, per_weight = _rate(NUMPY.rates, width) * scale[NUMPY.probe] * blas_threads * BLAS_PATH, 0.0
        else:
            threaded = c.blas_threads and width > SMALL
            rate, per_weight = _rate(c.rates, width) * scale[c.probe] * columns * (blas_threads if threaded else 1), c.weight
        seconds += c.layer + n_in * n_out * (6.0 * m / rate + per_weight) + n_out * m * c.activation.get(key, 0.0)
    per_parameter = c.update.get(optimizer, 0.0) + (c.scaled if network.has_rate_factors else 0.0)
    return seconds + network.n_params * per_parameter


def _parallel(c: Constants, network: Network, n_models: int, threads: int) -> float:
    """How many models' worth of work the engine does at once."""
    if not c.speedup:
        return 1.0
    widest = max(network.sizes)
    share = next((s for width, s in c.speedup if widest <= width), WIDE_SPEEDUP)
    return 1.0 + share * (min(n_models, threads) - 1)


def estimate(network: Network, options: TrainOptions, m: int, n_models: int, threads: int,
             blas_threads: int | None = None, machine: Machine | None = None) -> Estimate:
    """Each engine's estimated seconds for training `n_models` (≥ 1) models of `network` on m
    examples: the compiled engine on `threads` (≥ 1) threads, numpy's BLAS on `blas_threads` for
    layers wider than _blas.SMALL (default `threads`; numpy_engine runs narrower networks on one);
    `machine`: measured rates (calibrate.Machine) to scale the fitted ones by (default: REFERENCE,
    the machine they were fitted on: no scaling)."""
    threads, n_models = max(1, threads), max(1, n_models)
    blas_threads = threads if blas_threads is None else max(1, blas_threads)
    machine = REFERENCE if machine is None else machine
    scale = {probe: getattr(machine, probe) / getattr(REFERENCE, probe) for probe in Machine._fields}
    batch = m if options.batch_size is None else min(m, int(options.batch_size))
    iterations = max(1, options.iterations)
    one_at_a_time = min(n_models, threads) == 1
    seconds = {}
    for engine, c in CONSTANTS.items():
        one = _per_model_iteration(c, network, batch, blas_threads, options.optimizer, scale, one_at_a_time) * iterations
        seconds[engine] = one * n_models / _parallel(c, network, n_models, threads)
    choice = min(seconds, key=seconds.__getitem__)
    other = "numpy" if choice == "numba" else "numba"
    blas = f", BLAS on {blas_threads}" if max(network.sizes) > SMALL else ""
    measured = "" if machine is REFERENCE else f"; {machine.describe()}"
    reason = (f"estimated {_seconds(seconds[choice])} against {_seconds(seconds[other])} on the {other} engine "
              f"({n_models} model{'s' if n_models != 1 else ''}, {threads} thread{'s' if threads != 1 else ''}{blas}{measured})")
    return Estimate(seconds, choice, reason)


def close(est: Estimate) -> bool:
    """Whether the fitted estimate leaves the choice to this machine's measured rates: the two
    engines within CLOSE of each other (the ratio of the rates between two CPUs seen: ~2) on a run
    of at least CALIBRATE_ABOVE seconds (shorter: a wrong choice costs less than measuring)."""
    fast, slow = sorted(est.seconds.values())
    return slow <= CLOSE * fast and fast >= CALIBRATE_ABOVE


def choose(network: Network, options: TrainOptions, m: int, n_models: int, threads: int | None = None,
           blas_threads: int | None = None, machine: Machine | None = None,
           measure: Callable[[], Machine] | None = None) -> tuple[str, str]:
    """(engine, why): the engine with the lower estimate, between numpy and numba. `threads`
    defaults to the cores, `blas_threads` to what BLAS runs on now (_blas.threads: a limit in
    force, such as the papers' one thread, counts), looked up only for a network with a layer
    wider than _blas.SMALL (the only ones numpy runs on more than one). `machine`: the rates to
    estimate with; by default the fitted ones, and this machine's measured ones (`measure`, by
    default calibrate.measured: once per process, ~0.1 s) when the fitted estimate is close (``close``)."""
    if threads is None:
        import os

        threads = os.cpu_count() or 1
    if blas_threads is None:
        blas_threads = blas_threads_now() if max(network.sizes) > SMALL else 1
    est = estimate(network, options, m, n_models, threads, blas_threads, machine)
    if machine is None and close(est):
        from .calibrate import measured

        est = estimate(network, options, m, n_models, threads, blas_threads, (measure or measured)())
    return est.choice, est.reason


def _seconds(s: float) -> str:
    return f"{s:.3g} s" if s >= 0.01 else f"{s * 1e3:.3g} ms"
