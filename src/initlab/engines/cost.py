"""What "auto" picks: each engine's time for a run, estimated from its shapes, its number of models
and the cores, and the faster of the two.

Per model and iteration, with the flops F = 6·Σ_l n_{l−1}·n_l·m (the forward product, dZ and dW)
and E = Σ_l n_l·m activations (m: the examples of a batch):

    numpy: t = L·LAYER + F / RATE(w, m) + E·φ + P·u  one model after another; BLAS on its threads
                                                     (as many as a limit in force leaves) for layers
                                                     wider than _blas.SMALL, else on one
    numba: t = F / RATE(w) + W·h + E·φ + P·u         models on `threads` threads, each extra
                                                     thread worth a share of a model that falls
                                                     with the width (the threads share the caches)

φ: the activation's cost per element in that engine (a vectorized one or a libm call per element;
ReLU's is in RATE), RATE(w, m) the products' flop rate at the layer's width and the batch's
examples (BLAS gains with size; short rows lose), u the optimizer's cost per parameter P beyond
gradient descent's (Adam's moments; numpy's are several passes over P) and a parametrization's
per-parameter learning rates, h the compiled gradient's cost per weight W whatever m (its sum
over the examples ends in one reduction per weight: what makes short minibatches slower there).
The constants were fitted to ``bench/engine_grid.py`` on a 2-core x86-64 machine (bench/README.md,
"The engine grid"); on another machine the ratios, not only the times, can differ, and
``INITLAB_ENGINE`` or ``engine=`` still decide. The estimate only chooses: it never changes what a
run computes beyond the engines' own rounding differences (tests/test_engines.py).

>>> from initlab.network import Network
>>> from initlab.options import TrainOptions
>>> choose(Network((2, 10, 5, 1)), TrainOptions(), m=300, n_models=1, threads=2)[0]
'numba'
>>> choose(Network((2, 1024, 1024, 1)), TrainOptions(), m=300, n_models=1, threads=2)[0]
'numpy'
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .._blas import SMALL
from .._blas import threads as blas_threads_now

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


M = 300  # the examples the rates were fitted at (bench/engine_grid.py)


NUMPY = Constants(layer=1.8e-5, rates=((32, 3.3e10), (64, 3.4e10), (128, 3.9e10), (256, 4.7e10), (1024, 4.2e10)),
                  blas_threads=True, columns=64.0, weight=0.0,
                  activation={"tanh": 5e-9, "sigmoid": 6e-9, "elu": 9e-9, "selu": 9e-9, "softplus": 1.6e-8,
                              "swish": 8e-9, "gelu": 1.2e-8},
                  update={"momentum": 3e-9, "adam": 8e-9}, scaled=2e-9,
                  speedup=())  # one model after another
NUMBA = Constants(layer=0.0, rates=((128, 3.75e10), (256, 3.89e10), (1024, 3.31e10)), blas_threads=False, columns=0.0, weight=1e-8,
                  activation={"tanh": 4e-9, "sigmoid": 2.5e-9, "elu": 1.2e-8, "selu": 1.2e-8, "softplus": 3.0e-8,
                              "swish": 1.6e-8, "gelu": 2.5e-8},
                  update={"momentum": 1e-9, "adam": 3e-9}, scaled=0.0,
                  speedup=((16, 0.6), (64, 0.85)))  # wider: 0.4 (the threads share the caches)
WIDE_SPEEDUP = 0.4
CONSTANTS = {"numpy": NUMPY, "numba": NUMBA}


def _rate(rates: tuple[tuple[int, float], ...], width: int) -> float:
    """The flop rate at `width`, linear in log2(width) between the table's points (flat beyond them)."""
    widths = [math.log2(w) for w, _ in rates]
    return float(np.interp(math.log2(max(width, 1)), widths, [r for _, r in rates]))


class Estimate(NamedTuple):
    seconds: dict[str, float]  # engine -> the estimated seconds of the whole run
    choice: str
    reason: str


def _per_model_iteration(c: Constants, network: Network, m: int, blas_threads: int, optimizer: str) -> float:
    """Seconds of one iteration of one model (m: the examples of a batch)."""
    seconds = 0.0
    keys = [spec.key for spec in network.activation] + ["linear"]
    columns = (m / (m + c.columns)) / (M / (M + c.columns))  # short products run below the fitted rate
    for n_in, n_out, key in zip(network.sizes[:-1], network.sizes[1:], keys):
        width = max(n_in, n_out)
        rate = _rate(c.rates, width) * columns * (blas_threads if c.blas_threads and width > SMALL else 1)
        seconds += c.layer + n_in * n_out * (6.0 * m / rate + c.weight) + n_out * m * c.activation.get(key, 0.0)
    per_parameter = c.update.get(optimizer, 0.0) + (c.scaled if network.parametrization is not None else 0.0)
    return seconds + network.n_params * per_parameter


def _parallel(c: Constants, network: Network, n_models: int, threads: int) -> float:
    """How many models' worth of work the engine does at once."""
    if not c.speedup:
        return 1.0
    widest = max(network.sizes)
    share = next((s for width, s in c.speedup if widest <= width), WIDE_SPEEDUP)
    return 1.0 + share * (min(n_models, threads) - 1)


def estimate(network: Network, options: TrainOptions, m: int, n_models: int, threads: int,
             blas_threads: int | None = None) -> Estimate:
    """Each engine's estimated seconds for training `n_models` (≥ 1) models of `network` on m
    examples: the compiled engine on `threads` (≥ 1) threads, numpy's BLAS on `blas_threads` for
    layers wider than _blas.SMALL (default `threads`; numpy_engine runs narrower networks on one)."""
    threads, n_models = max(1, threads), max(1, n_models)
    blas_threads = threads if blas_threads is None else max(1, blas_threads)
    batch = m if options.batch_size is None else min(m, int(options.batch_size))
    iterations = max(1, options.iterations)
    seconds = {}
    for engine, c in CONSTANTS.items():
        one = _per_model_iteration(c, network, batch, blas_threads, options.optimizer) * iterations
        seconds[engine] = one * n_models / _parallel(c, network, n_models, threads)
    choice = min(seconds, key=seconds.__getitem__)
    other = "numpy" if choice == "numba" else "numba"
    blas = f", BLAS on {blas_threads}" if max(network.sizes) > SMALL else ""
    reason = (f"estimated {_seconds(seconds[choice])} against {_seconds(seconds[other])} on the {other} engine "
              f"({n_models} model{'s' if n_models != 1 else ''}, {threads} thread{'s' if threads != 1 else ''}{blas})")
    return Estimate(seconds, choice, reason)


def choose(network: Network, options: TrainOptions, m: int, n_models: int, threads: int | None = None,
           blas_threads: int | None = None) -> tuple[str, str]:
    """(engine, why): the engine with the lower estimate, between numpy and numba. `threads`
    defaults to the cores, `blas_threads` to what BLAS runs on now (_blas.threads: a limit in
    force, such as the papers' one thread, counts), looked up only for a network with a layer
    wider than _blas.SMALL (the only ones numpy runs on more than one)."""
    if threads is None:
        import os

        threads = os.cpu_count() or 1
    if blas_threads is None:
        blas_threads = blas_threads_now() if max(network.sizes) > SMALL else 1
    est = estimate(network, options, m, n_models, threads, blas_threads)
    return est.choice, est.reason


def _seconds(s: float) -> str:
    return f"{s:.3g} s" if s >= 0.01 else f"{s * 1e3:.3g} ms"
