"""The signal view's numbers, without a widget: one call of ``diagnostics.signal_propagation`` (the
function ``initlab probe`` calls) for the view's settings, and what the figures draw from it.

``SignalSettings`` is plain data (an initializer spec, the network's depth, width and activation, the
probe's seeds and batch); ``signal_view(settings)`` returns a ``SignalView``: the per-layer table
averaged over the seeds as ``initlab probe``'s verdicts read it, the verdicts, the histograms of
pre-activations and back-propagated gradients as (layers, bins) images, and the point (σ_w², σ_b²) on the
order-to-chaos phase diagram beside the activation's critical line (``theory.critical_sigma_w2``).

The same settings give ``initlab probe --depth D --width N --activation A --init SPEC --seeds S
--batch B``'s numbers: its signal.csv averaged over the seeds per layer (the singular-value columns,
which the view does not show, are left out: ``spectra=False``; pred_corr is NaN unless
`correlations` is set: the live view skips that quadrature unless asked).

>>> view = signal_view(SignalSettings(init="he_normal", depth=4, width=32, seeds=1, batch=16))
>>> view.table[["layer", "pre_var", "pred_pre_var"]].shape, view.phase in ("ordered", "chaotic", "critical")
((5, 3), True)
"""
from __future__ import annotations

import functools
import math
import shlex
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import diagnostics, theory
from .._spec import Spec
from .._validation import InitlabError, check_float, check_int
from ..activations import get_activation
from ..initializers import INITIALIZERS, check_specs, format_spec
from .limits import MAX_BATCH, MAX_DEPTH, MAX_SEEDS, MAX_WEIGHTS, MAX_WIDTH, MAX_WORK, check_option_limits

if TYPE_CHECKING:
    import pandas as pd

SIGMA_W2 = (0.1, 4.0)  # the phase diagram's σ_w² axis (and the slider's range)
SIGMA_B2 = (0.0, 0.5)  # its σ_b² axis
CRITICAL_POINTS = 26  # σ_b² values the critical line is solved at
HISTOGRAMS = ("pre-activation", "gradient")  # what the view bins per layer (seed 0)
SHOWN = ["layer", "units", "pre_var", "pred_pre_var", "act_ms", "pred_act_ms", "grad_var", "pred_grad_var",
         "dead", "saturated", "corr", "pred_corr", "sigma_w2", "sigma_b2"]  # the per-layer numbers the view shows


@dataclass(frozen=True)
class SignalSettings:
    """What the signal view probes: initializer `init` (a name or ``name(key=value, …)``, as
    ``initlab probe --init`` takes it), a network of `depth` hidden layers of `width` units
    (``diagnostics.deep_network``) with `activation`, `seeds` draws of a Gaussian batch of `batch`
    inputs; `correlations`: also the correlation map's prediction (pred_corr; a 2-D quadrature per
    layer). The defaults are the explorer's: probe's network, one seed, a batch of 32 and no
    correlation prediction, so that the view redraws within 150 ms of a slider move at depth 50."""

    init: str = "mean_field(sigma_w2=2.0)"
    depth: int = 30
    width: int = 256
    activation: str = "relu"
    seeds: int = 1
    batch: int = 32
    correlations: bool = False

    def with_sigmas(self, sigma_w2: Any, sigma_b2: Any) -> SignalSettings:
        """These settings with init ``mean_field(sigma_w2, sigma_b2)``: the sliders' initializer."""
        w2 = check_float("sigma_w2", sigma_w2, low=0.0)
        b2 = check_float("sigma_b2", sigma_b2, low=0.0, low_inclusive=True)
        return SignalSettings(**{**asdict(self), "init": format_spec("mean_field", {"sigma_w2": w2, "sigma_b2": b2})})

    def probe_command(self) -> str:
        """The ``initlab probe`` command line that prints these numbers (and more)."""
        return (f"initlab probe --depth {self.depth} --width {self.width} --activation {shlex.quote(self.activation)} "
                f"--init {shlex.quote(self.init)} --seeds {self.seeds} --batch {self.batch}")


@dataclass
class SignalView:
    """One update of the signal view (``signal_view``)."""

    settings: SignalSettings
    table: pd.DataFrame  # one row per layer, SHOWN's columns, averaged over the seeds
    verdicts: list[str]
    images: dict[str, np.ndarray]  # HISTOGRAMS' kinds: (layers, bins), the fraction of each layer's values per bin
    ranges: dict[str, tuple[float, float]]  # each image's value range (bin_left of the first bin, bin_right of the last)
    point: tuple[float, float]  # (σ_w², σ_b²): mean_field's own, else the hidden layers' realized ones, averaged
    phase: str  # theory.chaos_phase's at the point: "ordered", "chaotic", "critical" (or "" without one)
    chi1: float  # χ₁ at the point (NaN where the theory has none)
    critical: tuple[np.ndarray, np.ndarray] = field(default_factory=lambda: (np.zeros(0), np.zeros(0)))  # (σ_w², σ_b²) on the edge


def check_settings(settings: SignalSettings) -> SignalSettings:
    """`settings` with every field checked (the library's messages, naming the field), and within the
    explorer's budget (``explore.limits``): each control within its end, at most MAX_WEIGHTS weights
    (memory) and MAX_WORK for seeds × batch × weights (a slider move answers within a second or two,
    whatever a hand-made request asks for)."""
    check_option_limits(check_specs("init", settings.init))
    depth = check_int("depth", settings.depth, low=1, high=MAX_DEPTH + 1)
    width = check_int("width", settings.width, low=1, high=MAX_WIDTH + 1)
    get_activation(settings.activation)
    seeds = check_int("seeds", settings.seeds, low=1, high=MAX_SEEDS + 1)
    batch = check_int("batch", settings.batch, low=2, high=MAX_BATCH + 1)
    weights = (depth + 1) * width * width
    if weights > MAX_WEIGHTS:
        raise InitlabError(f"The 'depth' parameter must keep the network within {MAX_WEIGHTS:,} weights in the explorer: "
                           f"at width {width}, at most {MAX_WEIGHTS // (width * width) - 1} hidden layers. Got {depth} instead.",
                           param="depth")
    if seeds * batch * weights > MAX_WORK:
        raise InitlabError(f"The 'batch' parameter must keep seeds × batch × weights within {MAX_WORK:,} in the explorer: "
                           f"with {seeds} seeds and {weights:,} weights, at most {MAX_WORK // (seeds * weights)}. Got {batch} instead.",
                           param="batch")
    if not isinstance(settings.correlations, bool):
        raise InitlabError(f"The 'correlations' parameter must be True or False. Got {settings.correlations!r} instead.",
                           param="correlations")
    return settings


def signal_view(settings: SignalSettings) -> SignalView:
    """Probe `settings` (``diagnostics.signal_propagation`` without the singular values) and read off
    the view: the seed-averaged table, the verdicts, the histogram images, the phase diagram."""
    settings = check_settings(settings)
    network = diagnostics.deep_network(settings.depth, settings.width, settings.activation)
    study = diagnostics.signal_propagation(network, [settings.init], settings.seeds, settings.batch, spectra=False,
                                           correlations=settings.correlations, histograms=HISTOGRAMS)
    table = study.table.groupby("layer", sort=True).mean(numeric_only=True).reset_index()[SHOWN]
    images, ranges = _images(study.histograms)
    point = chosen_point(settings.init) or realized_point(table)
    phase, chi1 = _phase(point, settings.activation)
    return SignalView(settings, table, next(iter(study.verdicts.values())), images, ranges, point, phase, chi1,
                      critical_line(settings.activation))


def chosen_point(init: str) -> tuple[float, float] | None:
    """mean_field's (σ_w², σ_b²), the theory's parameters as chosen (a draw's realized ones differ by
    ~1/√(width²), which would put He's exact edge on one side of it); None for another initializer."""
    [(_, name, options)] = check_specs("init", init)
    if name != "mean_field":
        return None
    chosen = Spec.make(name, options).resolved(INITIALIZERS[name])  # its defaults, updated with the options given
    return float(chosen["sigma_w2"]), float(chosen["sigma_b2"])


def realized_point(table: pd.DataFrame) -> tuple[float, float]:
    """The hidden layers' realized (σ_w², σ_b²) (``diagnostics.realized_sigma2``), averaged."""
    hidden = table.iloc[:-1]
    return float(hidden.sigma_w2.mean()), float(hidden.sigma_b2.mean())


def _images(histograms: pd.DataFrame | None) -> tuple[dict[str, np.ndarray], dict[str, tuple[float, float]]]:
    """Each kind's counts as a (layers, bins) image of fractions (layer 1 the first row): the frame holds
    one kind after the other, each layer's bins in order (``diagnostics.histograms``)."""
    assert histograms is not None  # signal_propagation bins seed 0
    kinds = histograms["kind"].to_numpy()
    images, ranges = {}, {}
    for kind in dict.fromkeys(kinds):
        rows = kinds == kind
        layers = int(histograms["layer"].to_numpy()[rows].max())
        counts = histograms["count"].to_numpy(float)[rows].reshape(layers, -1)  # (L, bins)
        total = histograms["values"].to_numpy(float)[rows].reshape(layers, -1)[:, :1]  # (L, 1)
        images[str(kind)] = counts / np.maximum(total, 1.0)
        ranges[str(kind)] = (float(histograms["bin_left"].to_numpy()[rows][0]), float(histograms["bin_right"].to_numpy()[rows][-1]))
    return images, ranges


def _phase(point: tuple[float, float], activation: str) -> tuple[str, float]:
    """``theory.chaos_phase`` at the realized point ("" and NaN where it has none: σ_w² = 0, a NaN)."""
    sigma_w2, sigma_b2 = point
    if not (sigma_w2 > 0 and math.isfinite(sigma_w2) and math.isfinite(sigma_b2)):
        return "", float("nan")
    return theory.chaos_phase(sigma_w2, sigma_b2, activation)


@functools.lru_cache(maxsize=32)
def critical_line(activation: str) -> tuple[np.ndarray, np.ndarray]:
    """(σ_w², σ_b²) on the edge of chaos at CRITICAL_POINTS values of σ_b² in SIGMA_B2 (NaN where the
    activation has no edge for that σ_b²: the line has a gap there). Cached per activation."""
    b2 = np.linspace(*SIGMA_B2, CRITICAL_POINTS)
    w2 = np.array([_critical(float(b), activation) for b in b2])
    w2.setflags(write=False)
    b2.setflags(write=False)
    return w2, b2


def _critical(sigma_b2: float, activation: str) -> float:
    try:
        return theory.critical_sigma_w2(sigma_b2, activation)
    except InitlabError:
        return float("nan")
