"""Per-layer signal diagnostics, with the mean-field theory's prediction beside each measurement.

:func:`probe` runs one forward and one backward pass and measures, per layer l = 1..L:

================  =====================================================================
pre_mean/pre_var  mean and variance of the pre-activations Z_l (over units and examples)
act_mean/act_ms   mean and mean square of the activations A_l = φ(Z_l)
dead              fraction of units that never activate on the batch (ReLU family)
saturated         fraction of activations beyond 0.99 of their range (tanh, sigmoid)
grad_var          variance of the back-propagated gradient δ_l = dCost/dZ_l
weight_grad_norm  Frobenius norm of dCost/dW_l
sv_max/sv_min     largest and smallest singular value of W_l; sv_spread = their ratio
pred_pre_var      the theory's q_l (length map, from the weights' realized variance)
pred_act_ms       the theory's E[φ(√q_l z)²]
pred_grad_var     the theory's backward recursion for Var(δ_l)
corr              the batch's mean correlation at layer l: the mean over pairs of examples
                  a ≠ b of z_a·z_b / n_l, over the mean of |z_a|² / n_l (pre-activations)
pred_corr         the theory's correlation map iterated from the input's (Poole et al. 2016):
                  c_1 = (σ_w² P_0 + σ_b²)/q_1, P_0 the inputs' mean pairwise x_a·x_b / n_0, then
                  c_{l+1} = theory.correlation_map(c_l, σ_w², σ_b², φ_l, q_l): → 1 in the ordered
                  phase (the batch collapses to one direction), → c* < 1 in the chaotic one
================  =====================================================================

Without targets the backward pass starts from unit Gaussian noise at the output, the usual
probe of gradient propagation; with targets it starts from the loss gradient.

Beside the table, :func:`histograms` bins every value of A_l and δ_l of each hidden layer (the
lecture's per-layer histograms): ``Probe.histograms``, drawn by ``Probe.plot_histograms()``.
:func:`verdicts` reads the table and says what is wrong and what to try, from the numbers.

>>> import numpy as np
>>> from initlab.network import Network
>>> net = Network((100,) + (100,) * 20 + (1,), activation="relu")
>>> X = np.random.default_rng(0).standard_normal((100, 200))
>>> p = probe(net, net.init("lecun_normal", rng=0), X)
>>> print(p.verdicts[0])
activations vanish: mean square ×0.487 per layer (×1.1e-06 over 20 hidden layers, from layer 1 to 20)
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from . import _html
from ._atomic import replacing
from ._blas import one_blas_thread
from ._validation import InitlabError, SeedLike, check_writable_dir, check_X, check_int, check_names, check_random_state, finite_or_none
from .activations import Activation, gaussian_expectation
from .initializers import Cache, check_specs, format_spec
from .network import Backward, Network
from .theory import ResidualStream, correlation_map, critical_sigma_w2, length_map, residual_stream, residual_stream_post
from .training import Run, TrainOptions, train

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

MOSTLY = 0.5  # a layer with this fraction of dead or saturated units is reported
SATURATED_AT = 0.99  # fraction of the activation's range beyond which a unit counts as saturated


@dataclass
class Probe:
    """One probe: the per-layer table, the verdicts read from it and the per-layer histograms of
    the activations and gradients (:func:`histograms`; None when the probe was asked for none)."""

    table: pd.DataFrame  # one row per layer
    verdicts: list[str]
    histograms: pd.DataFrame | None = None  # in long form, one row per hidden layer, kind and bin

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _repr_html_(self):
        return _html.notebook(self.report_section())

    def report_section(self, source: str | None = None) -> str:
        """Its verdicts, the per-layer table (measured beside predicted), the figure, the histograms."""
        return _probe_section(self, source)

    def plot(self) -> Figure:
        from .plots import signal_figure  # matplotlib costs ~0.3 s at start-up: imported when a figure is drawn

        return signal_figure({"": self.table})

    def plot_histograms(self) -> Figure:
        """The per-layer histograms of activations and gradients (``plots.histogram_figure``)."""
        from .plots import histogram_figure

        return histogram_figure(_need_histograms(self.histograms))


def _need_histograms(frame: pd.DataFrame | None) -> pd.DataFrame:
    if frame is None or not len(frame):
        raise InitlabError("This result holds no histograms: probe(..., histograms=True) records them, and a "
                           "signal.csv written before initlab drew histograms has no histograms.csv beside it.")
    return frame


def _check_standard(network: Network) -> None:
    """The predictions read σ_w² off the stored weights and assume Z = W·A + b: a network with a
    parametrization's multipliers is refused rather than given predictions that do not describe it."""
    if network.parametrization is not None:
        raise InitlabError(f"The 'network' parameter must use the standard parametrization here (the theory's "
                           f"predictions assume Z = W·A + b). Got parametrization '{network.parametrization}' instead.")
    if network.residual is not None:
        raise InitlabError(f"The 'network' parameter must be a plain network here (the per-layer predictions assume "
                           f"Z_l = W_l·A_(l-1) + b_l). Got a residual network ('{network.residual}') instead.")


def finite_params(network: Network, params: ArrayLike) -> np.ndarray:
    """One model's parameters for `network`, all finite (else the theory's recursion would blame its own 'q')."""
    params = network.check_params(params, batched=False)
    if not np.isfinite(params).all():
        raise InitlabError(f"The 'params' parameter must be finite (no NaN or inf). Got an array with "
                           f"{int((~np.isfinite(params)).sum())} non-finite values of {params.size} instead.")
    return params


def probe(network: Network, params: ArrayLike, X: ArrayLike, Y: ArrayLike | None = None, rng: SeedLike = 0,
          histograms: bool | Iterable[str] = True, spectra: bool = True, correlations: bool = True) -> Probe:
    """Measure the forward and backward signal of `network` at `params` on the batch X (n_0, m);
    `histograms` False skips the per-layer histograms (they cost about a sixth of a probe; True bins the
    activations and the gradients, or name the kinds of HISTOGRAM_KINDS: "pre-activation" too), `spectra`
    False the weights' singular values (sv_max, sv_min, sv_spread NaN: one SVD per layer is a third of
    a probe at width 256), `correlations` False the correlation map's prediction (pred_corr NaN: a 2-D
    quadrature per layer, a fifth of a probe without the SVDs); every other number is the same either way."""
    return _probe(network, params, X, Y, rng, check_kinds(histograms), spectra, correlations, judge=True)


def _probe(network: Network, params: ArrayLike, X: ArrayLike, Y: ArrayLike | None, rng: SeedLike,
           kinds: Sequence[str], spectra: bool, correlations: bool, judge: bool) -> Probe:
    """``probe``; `judge` False leaves its verdicts out (signal_propagation judges the seeds' mean instead)."""
    _check_standard(network)
    params = finite_params(network, params)
    X = check_X(X, network.sizes[0])
    with one_blas_thread(), np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        ZL, cache = network.forward(params, X)
        if Y is None:
            dZ = check_random_state(rng).standard_normal(ZL.shape)
        else:
            X, Y = network.check_data(X, Y)
            dZ = network.loss_fn.gradient(ZL, Y)
        back = network.backward_from(params, cache, dZ)
        table = _frame(_rows(network, params, X, cache, back, spectra, correlations))
        found = verdicts(table, network) if judge else []
        binned = _histograms(network, cache, back, kinds) if kinds else None
    return Probe(table, found, binned)


def _frame(rows: Any) -> pd.DataFrame:
    import pandas as pd  # imported when used: pandas costs 0.3 s at start-up

    return pd.DataFrame(rows)


def _concat(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    import pandas as pd

    return pd.concat(frames, ignore_index=True)


def _rows(network: Network, params: np.ndarray, X: np.ndarray, cache: Cache, back: Backward,
          spectra: bool = True, correlations: bool = True) -> list[dict[str, Any]]:
    assert back.grad is not None  # probe's backward_from computes the weights' gradients
    layers, grads = network.unpack(params), network.unpack(back.grad)
    acts: list[Activation | None] = list(network.hidden_activations) + [None]
    sigmas = [realized_sigma2(W, b) for W, b in layers]  # read once: every prediction starts from them
    q_pred, act_pred = forward_prediction(network, layers, X, sigmas)
    g_pred = _backward_prediction(network, layers, q_pred, float(np.var(back.dZ[-1])), sigmas)
    c_pred = _correlation_prediction(network, layers, X, q_pred, sigmas) if correlations else [float("nan")] * len(layers)
    rows = []
    for l, ((W, b), (gW, _), act) in enumerate(zip(layers, grads, acts)):
        Z = cache[l][1]
        A = cache[l + 1][0] if act is not None else network.loss_fn.output(Z)  # the cache holds φ(Z_l) as layer l+1's input
        sv = np.linalg.svd(W, compute_uv=False) if spectra else np.full(1, np.nan)
        sw2, sb2 = sigmas[l]
        rows.append({
            "layer": l + 1,
            "units": W.shape[0],
            "activation": act.name if act is not None else f"output ({network.loss})",
            "pre_mean": float(Z.mean()),
            "pre_var": float(Z.var()),
            "act_mean": float(A.mean()),
            "act_ms": float(np.mean(A**2)),
            "dead": _dead_fraction(act, Z),
            "saturated": _saturated_fraction(act, A),
            "grad_var": float(np.var(back.dZ[l])),
            "weight_grad_norm": float(np.linalg.norm(gW)),
            "sv_max": float(sv.max()),
            "sv_min": float(sv.min()),
            "sv_spread": float(sv.max() / sv.min()) if sv.min() > 0 else float("inf" if spectra else "nan"),
            "sigma_w2": sw2,
            "sigma_b2": sb2,
            "pred_pre_var": q_pred[l],
            "pred_act_ms": act_pred[l],
            "pred_grad_var": g_pred[l],
            "corr": mean_correlation(Z),
            "pred_corr": c_pred[l],
        })
    return rows


def mean_correlation(Z: np.ndarray) -> float:
    """The mean over pairs of columns a ≠ b of Z (n, m) of z_a·z_b, over the mean of |z_a|²: the
    mean-field correlation c of a batch (NaN for one example or an all-zero Z).

    >>> mean_correlation(np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]))  # three copies of one direction
    1.0
    """
    m = Z.shape[-1]
    total = float(np.sum(Z**2))  # Σ_a |z_a|²
    if m < 2 or not total > 0:
        return float("nan")
    return mean_pair_product(Z) / (total / (m * Z.shape[0]))


def mean_pair_product(Z: np.ndarray) -> float:
    """The mean over pairs of columns a ≠ b of Z (n, m) of z_a·z_b / n (m ≥ 2), in O(nm):
    Σ_{a≠b} z_a·z_b = |Σ_a z_a|² − Σ_a |z_a|²."""
    n, m = Z.shape
    return (float(np.sum(Z.sum(axis=-1) ** 2)) - float(np.sum(Z**2))) / (m * (m - 1)) / n


# --- per-layer histograms -------------------------------------------------------------------
HISTOGRAM_BINS = 41  # odd: on a symmetric range 0 is a bin's centre, so a collapsed layer is one spike, not two
HISTOGRAM_TAIL = 5.0  # the range reaches at most this many of the widest layer's std: a tail value sets no range
HISTOGRAM_COLUMNS = ["layer", "kind", "bin_left", "bin_right", "count", "values", "clipped", "std"]


def histograms(arrays: Sequence[np.ndarray], kind: str, bins: int = HISTOGRAM_BINS) -> dict[str, np.ndarray]:
    """Bin each layer's values on one range shared by all the layers of `arrays` (a list, layer
    1 first, of arrays such as A_l (n_l, m)): the columns (equal-length arrays, one entry per
    layer and bin) of a long table: layer, kind, bin_left, bin_right, count, values (n_l·m, the
    layer's number of values), clipped (how many of them lay beyond the range) and std (of all
    n_l·m values, np.std).

    The range is symmetric, [−r, r], or [0, r] when no value is negative (ReLU and sigmoid
    activations), with r = max |value| over every layer, but at most HISTOGRAM_TAIL = 5 times the
    largest layer std: the gradients of a saturated tanh net reach 20 std, and their one extreme
    value would squeeze every layer into the middle bin. A value beyond the range is counted in
    the end bin on its side (``clipped`` says how many), so a layer's counts sum to its number of
    finite values. One range for all layers lets them compare by eye: a layer whose signal
    collapsed is one spike at 0 beside a first layer spread over the range, a saturated tanh layer
    piles up at ±1. Per-layer ranges would draw every layer as the same bell and hide that; the
    std column says how wide a spike really is (1e-30 at depth 30 is not "about 0.02").

    >>> import numpy as np
    >>> h = histograms([np.array([[-1.0, 0.0, 1.0]]), np.array([[0.5, 0.5, 0.0]])], "activation", bins=3)
    >>> h["layer"].tolist(), h["bin_left"].round(3).tolist()[:3], h["count"].tolist()
    ([1, 1, 1, 2, 2, 2], [-1.0, -0.333, 0.333], [1, 1, 1, 0, 1, 2])
    >>> bool(h["std"][3] == np.std([0.5, 0.5, 0.0])), h["clipped"].tolist()
    (True, [0, 0, 0, 0, 0, 0])
    """
    finite = [a if np.isfinite(a).all() else a[np.isfinite(a)] for a in arrays]  # no copy in the usual case
    stds = _stds(arrays)
    same = all(f is a for f, a in zip(finite, arrays))  # all finite: their stds are the ones just taken
    finite_stds = [v for v, a in zip(stds, arrays) if a.size] if same else _stds([a for a in finite if a.size])
    largest = [float(np.abs(a).max()) if a.size else 0.0 for a in finite]
    high = min(max(largest, default=0.0), HISTOGRAM_TAIL * max(finite_stds, default=0.0))
    high = high if 0 < high < np.inf else 1.0  # all zero (zeros init) or nothing finite: any range shows it
    low = 0.0 if all(a.size == 0 or a.min() >= 0 for a in finite) else -high
    counts: list[np.ndarray] = []
    clipped: list[int] = []
    for a, top in zip(finite, largest):
        if top > high:  # a tail beyond the range: into the end bins
            clipped.append(int(np.count_nonzero((a < low) | (a > high))))
            a = np.clip(a, low, high)
        else:
            clipped.append(0)
        counts.append(np.histogram(a, bins=bins, range=(low, high))[0])
    edges = np.linspace(low, high, bins + 1)  # np.histogram's own edges for this range
    n = len(arrays)
    return {
        "layer": np.repeat(np.arange(1, n + 1), bins),
        "kind": np.full(n * bins, kind, dtype=object),
        "bin_left": np.tile(edges[:-1], n),
        "bin_right": np.tile(edges[1:], n),
        "count": np.concatenate(counts).astype(np.int64) if n else np.zeros(0, np.int64),
        "values": np.repeat([int(a.size) for a in arrays], bins).astype(np.int64),
        "clipped": np.repeat(clipped, bins).astype(np.int64),
        "std": np.repeat(stds, bins),
    }


def _stds(arrays: Iterable[np.ndarray]) -> list[float]:
    with np.errstate(invalid="ignore", over="ignore"):  # a layer that overflowed has no std (nan), quietly
        return [float(np.std(a)) for a in arrays]


HISTOGRAM_KINDS = ("pre-activation", "activation", "gradient")  # what probe can bin, per hidden layer
BINNED = ("activation", "gradient")  # what it bins by default (histograms=True)


def check_kinds(histograms: bool | Iterable[str]) -> tuple[str, ...]:
    """probe's `histograms`: True (BINNED), False (none) or kinds of HISTOGRAM_KINDS, in that order."""
    if isinstance(histograms, (bool, np.bool_)):
        return BINNED if histograms else ()
    names = check_names("histograms", histograms, "histogram kind", {k: k for k in HISTOGRAM_KINDS})
    return tuple(k for k in HISTOGRAM_KINDS if k in names)


def _histograms(network: Network, cache: Cache, back: Backward, kinds: Sequence[str] = BINNED) -> pd.DataFrame:
    """The histograms of the hidden layers' pre-activations Z_l (cache[l][1]), activations A_l
    (cache[l+1][0]: layer l+1's input) and gradients δ_l = dCost/dZ_l, the `kinds` asked for; the output
    layer is no part of the signal's path (its δ is the noise)."""
    hidden = range(len(network.hidden_activations))
    values = {"pre-activation": lambda l: cache[l][1], "activation": lambda l: cache[l + 1][0], "gradient": lambda l: back.dZ[l]}
    return _concat(_frame(histograms([values[k](l) for l in hidden], k)) for k in kinds)[HISTOGRAM_COLUMNS]


def _dead_fraction(act: Activation | None, Z: np.ndarray) -> float:
    """Units whose pre-activation is ≤ 0 on every example: they pass no signal and get no gradient."""
    if act is None or act.family != "relu":
        return float("nan")
    return float(np.mean(np.all(Z <= 0, axis=-1)))


def _saturated_fraction(act: Activation | None, A: np.ndarray) -> float:
    if act is None or act.bounds is None:
        return float("nan")
    low, high = act.bounds
    position = 2 * (A - low) / (high - low) - 1  # −1 … +1 across the range
    return float(np.mean(np.abs(position) > SATURATED_AT))


def realized_sigma2(W: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The weights' realized σ_w² = fan_in·E[w²] and σ_b² = E[b²] (the mean-field parameters)."""
    return W.shape[-1] * float(np.mean(W**2)), float(np.mean(b**2))


def effective_layers(network: Network, params: np.ndarray, upto: int | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(m_l·W_l, b_l)] for l = 1 … upto (default: every layer): the weights as the forward pass applies them."""
    return [(rule.multiplier * W, b) for (W, b), rule in list(zip(network.unpack(params), network.rules))[:upto]]


def skip_variances(network: Network, params: np.ndarray) -> list[float | None]:
    """Each residual block's skip path as a variance factor: None for the identity, a projection's
    realized σ_P² = n_in·E[p²]."""
    return [b.proj_shape[1] * float(np.mean(network.projection(params, b) ** 2)) if b.projected else None
            for b in network.blocks]


def residual_prediction(network: Network, params: np.ndarray, X: np.ndarray) -> ResidualStream | None:
    """The wide-network prediction of a residual network's stream at `params` on X (n_0, m):
    ``theory.residual_stream`` (pre-activation blocks) or ``residual_stream_post`` (post), from the stem's
    q_0 = σ_w²·E[x²] + σ_b² and c_0 (the inputs' mean pairwise product; 0 for one example), each layer's
    realized σ_w², σ_b² as the forward pass applies them and each projection's σ_P²; None where the theory
    has none (mixed activations, q_0 = 0)."""
    assert network.branch is not None
    if len(set(network.activation)) != 1:
        return None
    sigmas = [realized_sigma2(W, b) for W, b in effective_layers(network, params)]
    q0 = sigmas[0][0] * float(np.mean(X**2)) + sigmas[0][1]
    if not q0 > 0:
        return None
    pairs = mean_pair_product(X) if X.shape[1] > 1 else 0.0
    c0 = float(np.clip((sigmas[0][0] * pairs + sigmas[0][1]) / q0, -1, 1))
    alphas, skips = network.alphas(params).tolist(), skip_variances(network, params)
    branches = [sigmas[b.first:b.last + 1] for b in network.blocks]
    act = network.hidden_activations[0]
    if network.branch.order == "pre":
        return residual_stream(q0, c0, alphas, branches, act, [1.0 if v is None else v for v in skips])
    return residual_stream_post(q0, c0, alphas, branches, act, skips)  # the block's output φ(s), sampled


def forward_prediction(network: Network, layers: Sequence[tuple[np.ndarray, np.ndarray]],
                       X: np.ndarray, sigmas: Sequence[tuple[float, float]] | None = None) -> tuple[list[float], list[float]]:
    """q_l = σ_w,l²·E[φ_{l−1}(√q_{l−1} z)²] + σ_b,l², starting from the input's mean square (`sigmas`:
    the layers' ``realized_sigma2``, when the caller has them).

    The theory has no prediction (NaN) from a layer whose weights are all zero (σ_w² = 0: no
    Gaussian field, every unit computes the same thing) or whose q left the floats (a deep net's
    q underflowing to 0 or overflowing), nor for any layer above it."""

    q_pred: list[float] = []
    act_pred: list[float] = []
    incoming_ms = float(np.mean(X**2))
    acts = list(network.hidden_activations)
    sigmas = sigmas or [realized_sigma2(W, b) for W, b in layers]
    for l, (sw2, sb2) in enumerate(sigmas):
        if not (sw2 > 0 and np.isfinite(incoming_ms) and (l == 0 or _usable(q_pred[-1]))):
            q = float("nan")
        else:
            q = sw2 * incoming_ms + sb2 if l == 0 else length_map(q_pred[-1], sw2, sb2, acts[l - 1])
        q_pred.append(q)
        if l < len(acts):
            incoming_ms = gaussian_expectation(lambda z: acts[l].fn(z) ** 2, q) if _usable(q) else float("nan")
            act_pred.append(incoming_ms)
        else:
            act_pred.append(float("nan"))  # the output activation is not a mean-field layer
    return q_pred, act_pred


def _correlation_prediction(network: Network, layers: Sequence[tuple[np.ndarray, np.ndarray]], X: np.ndarray,
                            q_pred: Sequence[float], sigmas: Sequence[tuple[float, float]]) -> list[float]:
    """c_l from the inputs' mean pairwise inner product through theory.correlation_map (the
    module's docstring, pred_corr); NaN from a layer where q has no prediction, and above it."""
    acts = list(network.hidden_activations)
    m = X.shape[1]
    pairs = mean_pair_product(X) if m > 1 else float("nan")
    sw2, sb2 = sigmas[0]
    c = [(sw2 * pairs + sb2) / q_pred[0] if _usable(q_pred[0]) else float("nan")]
    for l in range(1, len(layers)):
        sw2, sb2 = sigmas[l]
        ok = np.isfinite(c[-1]) and _usable(q_pred[l - 1]) and _usable(q_pred[l]) and sw2 > 0
        c.append(correlation_map(float(np.clip(c[-1], -1.0, 1.0)), sw2, sb2, acts[l - 1], q=q_pred[l - 1]) if ok else float("nan"))
    return c


def _usable(q: float) -> bool:
    """A variance the theory's quadrature can take: finite and > 0."""
    return bool(np.isfinite(q) and q > 0)


def _backward_prediction(network: Network, layers: Sequence[tuple[np.ndarray, np.ndarray]], q_pred: Sequence[float],
                         top_var: float, sigmas: Sequence[tuple[float, float]]) -> list[float]:
    """Var(δ_l) = Var(δ_{l+1})·σ_w,l+1²·(n_{l+1}/n_l)·E[φ′(√q_l z)²], from the output's measured variance
    (NaN below a layer where the forward prediction has none)."""
    acts = list(network.hidden_activations)
    g = [float("nan")] * len(layers)
    g[-1] = top_var
    for l in range(len(layers) - 2, -1, -1):
        W_next, _ = layers[l + 1]
        sw2, _ = sigmas[l + 1]
        fan_ratio = W_next.shape[0] / W_next.shape[1]
        if not _usable(q_pred[l]):
            continue
        slope2 = gaussian_expectation(lambda z: acts[l].derivative(z) ** 2, q_pred[l])
        g[l] = g[l + 1] * sw2 * fan_ratio * slope2
    return g


# --- verdicts -----------------------------------------------------------------------------
def verdicts(table: pd.DataFrame, network: Network) -> list[str]:
    """What a person can act on, read off the table: vanishing or growing signals (judged by the
    geometric-mean factor per layer), all-zero weights, dead or saturated layers, and what to try
    (derived from the activation, never the variance just probed)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        return _verdicts(table, network)


def _verdicts(table: pd.DataFrame, network: Network) -> list[str]:
    hidden = table.iloc[:-1]  # the output layer's width and loss make it no part of the signal's path
    found = []
    zero = _zero_weight_layers(hidden)
    if len(hidden) and len(zero) == len(hidden):
        found.append(ALL_ZERO)
    else:
        if zero:
            found.append(f"{_layers_text(zero)}: all weights are zero: every unit of the layer computes the same "
                         "thing; nothing propagates past it")
        if len(hidden) >= 2 and not zero:
            found += [_forward_verdict(hidden), _backward_verdict(hidden)]
    found += _collapsed(hidden, "dead", "of units dead (never active on the batch)")
    found += _collapsed(hidden, "saturated", "of activations saturated")
    if any(not v.startswith(("forward signal preserved", "gradients preserved")) for v in found):
        found.append(_suggestion(network, hidden))
    return found


ALL_ZERO = "all weights are zero: every unit of a layer computes the same thing; nothing propagates"
PRESERVED_WITHIN = 2.0  # a signal whose total change over the hidden layers stays within ×2 either way is "preserved" …
FLUCTUATION = 5.0  # … or within 2 standard deviations of a finite width's random drift, Var(log) ≈ 5·steps/width
# (Hanin & Nica 2019, for ReLU; a smooth activation drifts less, about 2·steps/width): a 20-layer
# He network of width 100 measures ×0.5–×2 by chance, which is no verdict against He.


def _bound(steps: int, hidden: pd.DataFrame) -> float:
    """The total change (a factor ≥ 2) within which a signal counts as preserved over `steps` layers."""
    width = float(hidden.units.min()) if "units" in hidden and len(hidden) else float("inf")
    return float(np.exp(max(np.log(PRESERVED_WITHIN), 2.0 * np.sqrt(FLUCTUATION * steps / width))))


def _within(bound: float, hidden: pd.DataFrame) -> str:
    width = int(hidden.units.min()) if "units" in hidden and len(hidden) else None
    if bound <= PRESERVED_WITHIN * (1 + 1e-12) or width is None:
        return f"within ×{PRESERVED_WITHIN:g}"
    return f"within ×{bound:.3g}, the random drift of {len(hidden)} layers of width {width}"
SHOWN_RUNS = 8  # layer runs listed in one collapsed line before "…"


def _zero_weight_layers(hidden: pd.DataFrame) -> list[int]:
    if "sigma_w2" not in hidden:  # a table written before the column existed
        return []
    return [int(l) for l, v in zip(hidden["layer"].to_numpy(), hidden["sigma_w2"].to_numpy()) if v == 0]


def _per_layer(values: ArrayLike) -> tuple[float, float, int, int | None]:
    """(per-layer factor f, total ratio, steps, underflow layer index or None) of values[−1]/values[0],
    in log space: f = exp(mean Δlog). A run that reaches 0 or inf (underflow, overflow) is judged
    on the layers before it, and the index of the first such layer is returned."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v) & (v > 0)
    if not ok[0]:
        return float("nan"), float("nan"), 0, None
    last = len(v) - 1 if ok.all() else int(np.argmin(ok)) - 1  # the last layer before the first bad one
    broken = None if ok.all() else int(np.argmin(ok))
    steps = max(last, 1)
    log_total = float(np.log(v[last]) - np.log(v[0])) if last > 0 else 0.0
    return float(np.exp(log_total / steps)), float(np.exp(log_total)), steps, broken


def _factor_text(f: float) -> str:
    return f"×{f:.3g}" if 0.01 < f < 100 else f"×{f:.1e}"


def _forward_verdict(hidden: pd.DataFrame) -> str:
    f, total, steps, broken = _per_layer(hidden.act_ms.to_numpy())
    n, first = len(hidden), int(hidden.layer.iloc[0])
    if not np.isfinite(f):
        return "activations: no signal to judge (mean square 0 or non-finite at the first hidden layer)"
    if broken is not None:
        at = int(hidden.layer.iloc[broken])
        value = hidden.act_ms.iloc[broken]
        word = "vanish" if not value > 0 else "grow"
        return (f"activations {word}: mean square {_factor_text(f)} per layer, reaching {value:g} "
                f"(beyond the floats) at layer {at} of {n} hidden layers")
    over = f"{_factor_text(total)} over {n} hidden layers, from layer {first} to {int(hidden.layer.iloc[-1])}"
    bound = _bound(steps, hidden)
    if abs(np.log(total)) <= np.log(bound):
        return f"forward signal preserved: mean square {_factor_text(f)} per layer ({over}; {_within(bound, hidden)})"
    word = "vanish" if f < 1 else "grow"
    return f"activations {word}: mean square {_factor_text(f)} per layer ({over})"


def _backward_verdict(layers: pd.DataFrame) -> str:
    """Gradient variance at layer 1 relative to the topmost one in `layers`, per layer downwards."""
    top = int(layers.layer.iloc[-1])
    f, total, steps, broken = _per_layer(layers.grad_var.to_numpy()[::-1])
    if not np.isfinite(f):
        return f"gradients: nothing to judge (variance {layers.grad_var.iloc[-1]:g} at layer {top}, the top hidden layer)"
    if broken is not None:
        at = int(layers.layer.iloc[::-1].iloc[broken])
        value = layers.grad_var.iloc[::-1].iloc[broken]
        word = "vanish" if not value > 0 else "grow"
        return (f"gradients {word} toward the input: variance {_factor_text(f)} per layer down from layer {top}, "
                f"reaching {value:g} (beyond the floats) at layer {at}")
    over = f"{_factor_text(total)} at layer 1 relative to layer {top}"
    bound = _bound(steps, layers)
    if abs(np.log(total)) <= np.log(bound):
        return f"gradients preserved: variance {_factor_text(f)} per layer ({over}; {_within(bound, layers)})"
    word = "vanish" if f < 1 else "grow"
    return f"gradients {word} toward the input: variance {_factor_text(f)} per layer ({over})"


def _layers_text(layers: Sequence[int]) -> str:
    """'layer 3', 'layers 3–7', 'layers 2, 5–9, 12', with runs of consecutive layers collapsed."""
    runs: list[list[int]] = []
    for l in layers:
        if runs and l == runs[-1][1] + 1:
            runs[-1][1] = l
        else:
            runs.append([l, l])
    text = [f"{a}" if a == b else f"{a}–{b}" for a, b in runs[:SHOWN_RUNS]]
    more = ", …" if len(runs) > SHOWN_RUNS else ""
    word = "layer" if len(layers) == 1 else "layers"
    return f"{word} {', '.join(text)}{more}"


def _collapsed(hidden: pd.DataFrame, column: str, what: str) -> list[str]:
    """One line for all the layers where `column` ≥ MOSTLY (a deep net printed one line per layer)."""
    values, layers = hidden[column].to_numpy(), hidden["layer"].to_numpy()
    rows = [(int(l), v) for l, v in zip(layers, values) if v >= MOSTLY]
    if not rows:
        return []
    low, high = min(v for _, v in rows), max(v for _, v in rows)
    share = f"{low:.0%}" if f"{low:.0%}" == f"{high:.0%}" else f"{low:.0%}–{high:.0%}"
    return [f"{_layers_text([l for l, _ in rows])}: {share} {what}"]


def _suggestion(network: Network, hidden: pd.DataFrame) -> str:
    """What to try, from the activation: its critical σ_w² (theory.critical_sigma_w2 at the σ_b² used),
    or its gain² where it has no edge of chaos; never the variance the probe already used."""
    acts = network.hidden_activations
    names = {a.name for a in acts}
    if len(names) != 1:
        return (f"the layers use different activations ({', '.join(sorted(names))}): give each layer the "
                "σ_w² of its own activation, theory.critical_sigma_w2(σ_b², activation)")
    act = acts[0]
    if act.name == "sigmoid":
        return ("no weight variance fixes the mean shift of a sigmoid: its outputs average 0.5, so the inputs "
                "of every layer are offset and the signal drifts whatever σ_w²; use a zero-centred activation (tanh) "
                "or normalization")
    used_w2 = _mean_or_nan(hidden, "sigma_w2")
    used_b2 = _mean_or_nan(hidden, "sigma_b2")
    b2 = used_b2 if np.isfinite(used_b2) else 0.0
    if act.name == "selu":
        target, why = 1.0, "the self-normalizing setting of selu, Klambauer et al. 2017"
    else:
        try:
            target = critical_sigma_w2(b2, act)
            why = f"the edge of chaos of {act.name} at σ_b² = {b2:.3g}, by theory.critical_sigma_w2"
        except InitlabError:
            target = act.gain**2
            why = (f"the gain² of {act.name}, 1/E[φ(z)²]: {act.name} has no edge of chaos at σ_b² = {b2:.3g} "
                   "(below it the signal collapses, above it grows without bound), so no variance preserves "
                   "it over depth and this one keeps it longest")
    if np.isfinite(used_w2) and abs(used_w2 / target - 1) < 0.1:
        return (f"σ_w² ≈ {used_w2:.2g} is already the best weight variance for {act.name} ({why}): no other variance "
                "does better; what change is left comes from the activation itself or the finite width, so try a "
                "shallower or wider network, another activation or normalization")
    return f"try {_named(target, b2)}: σ_w² = {target:.3g} is {why}"


def _named(target: float, b2: float = 0.0) -> str:
    """The initializer that draws Var(w) = target/fan_in (and, when b2 > 0, biases of variance b2)."""
    if b2 > 1e-12:  # the named schemes all have zero biases: the critical σ_w² holds only with these biases
        spec = format_spec("mean_field", {"sigma_w2": float(f"{target:.3g}"), "sigma_b2": float(f"{b2:.3g}")})
        return f"{spec} (W ~ N(0, {target:.3g}/fan_in), b ~ N(0, {b2:.3g}))"
    if abs(target - 2.0) < 0.01:
        return "he_normal (Var(w) = 2/fan_in, He et al. 2015)"
    if abs(target - 1.0) < 0.01:
        return "lecun_normal (Var(w) = 1/fan_in; xavier_normal on square layers)"
    return f"variance_scaling(scale={target:.3g}) (Var(w) = {target:.3g}/fan_in)"


def _mean_or_nan(table: pd.DataFrame, column: str) -> float:
    return float(table[column].mean()) if column in table and len(table) else float("nan")


def summary(network: Network, params: ArrayLike, X: np.ndarray, rng: SeedLike = 0,
            noise: np.ndarray | None = None) -> dict[str, list[float | None]]:
    """A small per-hidden-layer record for a run store (no pandas, no SVD): activation mean
    square, gradient variance (from output noise) and dead fraction, as plain lists.

    The output noise is ``standard_normal((n_L, m))`` from `rng`; a sweep draws it once per chunk
    and passes it as `noise` (the same numbers: drawing it for every run cost a third of this).
    Measurements only (no prediction), so any parametrization is read as it trains."""
    params = network.check_params(params, batched=False)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        ZL, cache = network.forward(params, X)
        if noise is None:
            noise = check_random_state(rng).standard_normal(ZL.shape)
        back = network.backward_from(params, cache, noise, weights=False)
        acts = network.hidden_activations
        out = {
            "act_ms": [float(np.mean(cache[l + 1][0] ** 2)) for l in range(len(acts))],  # A_l: layer l+1's input
            "grad_var": [float(np.var(back.dZ[l])) for l in range(len(acts))],
            "dead": [_dead_fraction(a, cache[l][1]) for l, a in enumerate(acts)],
        }
    return {k: [finite_or_none(v) for v in values] for k, values in out.items()}


# --- starting-point readings used by the comparison ------------------------------------------
def symmetric_layers(network: Network, params: ArrayLike) -> list[int]:
    """Hidden layers (1-based) whose units all have identical incoming weights and biases.

    Such units compute the same function and receive the same gradient, so gradient descent
    keeps them identical forever: the layer behaves as a single unit. In a residual network the
    layers that write the stream (the stem, each branch's last layer) are not read: their units are
    the stream's coordinates, which the skip path tells apart (Fixup's and ReZero's zero layers
    train).
    """
    layers = network.unpack(network.check_params(params))[:-1]
    writers = {0, *(block.last for block in network.blocks)} if network.blocks else set()
    return [
        l
        for l, (W, b) in enumerate(layers, start=1)
        if l - 1 not in writers and W.shape[0] > 1 and np.all(W == W[0]) and np.all(b == b[0])
    ]


def saturated_outputs(network: Network, params: ArrayLike, X: np.ndarray, logit: float = float(np.log(99.0))) -> float:
    """Fraction of examples whose output sigmoid is beyond [0.01, 0.99] (|logit| > log 99)."""
    with np.errstate(over="ignore", invalid="ignore"):
        ZL, _ = network.forward(network.check_params(params), X)
    return float(np.mean(np.abs(ZL) > logit))


# --- several initializers and seeds ----------------------------------------------------------
@dataclass
class SignalStudy:
    """Probes of one architecture from several initializers, each over several seeds, and the
    per-layer histograms of activations and gradients of each initializer's first seed (seed 0:
    one draw shows the shape, and the seeds' tables give the spread)."""

    network: Network
    table: pd.DataFrame  # one row per init, seed and layer
    verdicts: dict[str, list[str]]  # init -> verdicts read from the seed-averaged table
    histograms: pd.DataFrame | None = None  # Probe.histograms of seed 0 with an init column; None if not recorded

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _repr_html_(self):
        return _html.notebook(self.report_section())

    def report_section(self, source: str | None = None) -> str:
        """Settings, verdicts per initializer, the measured-against-predicted figure, a first/last
        hidden layer summary and, when the study holds them, the per-layer histograms."""
        return _study_section(self, source)

    def plot(self) -> Figure:
        from .plots import signal_figure  # matplotlib: imported when a figure is drawn

        return signal_figure(dict(tuple(self.table.groupby("init", sort=False))))

    def plot_histograms(self) -> Figure:
        """Per-layer histograms of activations and gradients, one row per initializer (seed 0)."""
        from .plots import histogram_figure

        return histogram_figure(_need_histograms(self.histograms))

    def save(self, out: str | os.PathLike[str] = "initlab-out") -> dict[str, str]:
        """Write signal.csv (every probe) and signal.png (the figure) into `out`, and, when the study
        holds them, histograms.csv and histograms.png; return the paths."""
        from .plots import save  # matplotlib: imported when a figure is drawn

        out = check_writable_dir("out", out)
        paths = {"csv": os.path.join(out, "signal.csv"), "figure": os.path.join(out, "signal.png")}
        with replacing(paths["csv"]) as part:
            self.table.to_csv(part, index=False)
        save(self.plot(), paths["figure"])
        if self.histograms is not None and len(self.histograms):
            paths["histograms"] = os.path.join(out, HISTOGRAMS_CSV)
            paths["histogram_figure"] = os.path.join(out, "histograms.png")
            with replacing(paths["histograms"]) as part:
                self.histograms.to_csv(part, index=False)
            save(self.plot_histograms(), paths["histogram_figure"])
        return paths


HISTOGRAMS_CSV = "histograms.csv"  # beside signal.csv; initlab report reads it from there


# --- report sections and reading signal.csv back ------------------------------------------------
PROBE_COLUMNS = ["layer", "units", "activation", "act_ms", "pred_act_ms", "grad_var", "pred_grad_var", "dead", "saturated"]


def _probe_section(probe: Probe, source: str | None = None) -> str:
    """One probe: its verdicts, the per-layer table (measured beside predicted) and figure."""
    table = probe.table
    columns = [c for c in PROBE_COLUMNS if c in table]
    body = [
        "<h3>Verdicts</h3>", _html.verdicts_html(probe.verdicts),
        "<h3>Per-layer signal</h3>", _html.settings_html([("results file", source)]) if source else "",
        _html.table_html(columns, table[columns].itertuples(index=False)),
        _html.figure_html(probe.plot(), "Activation mean square and gradient variance by layer, measured and predicted",
                          "Measured (solid) against the mean-field prediction (dashed), log scale."),
        _histograms_html(probe),
    ]
    return _html.section("Signal propagation probe", "".join(body), "probe")


HISTOGRAM_CAPTION = ("Each panel: one hidden layer's values binned (41 bins), bar height the fraction of its values. "
                     "A row shares one x range over all its layers, ±max |value| (at most 5 times the largest layer "
                     "std; values beyond are counted in the end bins), so a collapsed layer is a spike at 0 and a "
                     "saturated tanh layer piles up at ±1; the title states each layer's std.")


def _histograms_html(result: Probe | SignalStudy) -> str:
    """The per-layer histograms of a probe or study (heading and figure), or nothing when it holds none
    (a signal.csv written without histograms.csv beside it)."""
    binned = getattr(result, "histograms", None)
    if binned is None or not len(binned):
        return ""
    one_seed = "seed" in binned  # a study bins its first seed only
    return "<h3>Per-layer histograms</h3>" + _html.figure_html(
        result.plot_histograms(), "Histograms of the activations and gradients of a few hidden layers",
        HISTOGRAM_CAPTION + (" One seed per initializer (seed 0)." if one_seed else ""))


def _study_section(study: SignalStudy, source: str | None = None) -> str:
    """A signal study (several initializers and seeds): settings, verdicts per initializer, the
    measured-against-predicted figure, a first/last hidden layer summary and, when the study holds
    them, the per-layer histograms."""
    table, network = study.table, study.network
    inits = list(dict.fromkeys(table["init"])) if "init" in table else []
    hidden = table[~table["activation"].astype(str).str.startswith("output")]
    n_seeds = int(table["seed"].nunique()) if "seed" in table else 1
    widths = sorted(set(network.sizes[1:-1]))
    settings = [
        ("results file", source),
        ("network", f"{len(network.sizes) - 2} hidden layers of {', '.join(map(str, widths))} units, "
                    f"input width {network.sizes[0]}, {network.sizes[-1]} output unit(s)"),
        ("hidden activation", ", ".join(dict.fromkeys(network.activation_names))),
        ("initializers", ", ".join(map(str, inits))),
        ("seeds per initializer", n_seeds),
    ]
    from .plots import init_colors  # matplotlib: imported when a page is built

    colors = init_colors(map(str, inits))
    verdicts = "".join(f"<h4>{_html.swatch(name, colors.get(str(name)))}</h4>{_html.verdicts_html(found)}"
                       for name, found in study.verdicts.items())
    rows = []
    for name in inits:
        mean = hidden[hidden["init"] == name].groupby("layer").mean(numeric_only=True)
        if len(mean):
            first, last = mean.iloc[0], mean.iloc[-1]
            rows.append([_html.swatch(name, colors.get(str(name))), float(first.act_ms), float(last.act_ms), float(last.pred_act_ms),
                         float(first.grad_var), float(last.grad_var), float(first.pred_grad_var)])
    header = ["initialization", "E[a²] layer 1", "E[a²] last layer", "E[a²] last, theory",
              "Var(δ) layer 1", "Var(δ) last layer", "Var(δ) layer 1, theory"]
    body = [
        "<h3>Settings</h3>", _html.settings_html(settings),
        "<h3>Verdicts</h3>", verdicts,
        "<h3>Per-layer signal</h3>",
        _html.figure_html(study.plot(), "Activation mean square and gradient variance per hidden layer, by initializer",
                          "Line: mean over seeds, band: min–max, dashed: the mean-field theory's prediction; log scale."),
        _html.table_html(header, rows, raw=("initialization",)),
        '<p class="note">Means over seeds at the first and last hidden layer.</p>',
        _histograms_html(study),
    ]
    return _html.section(f"Signal propagation through {len(network.sizes) - 2} hidden layers", "".join(body), "signal")


SIGNAL_COLUMNS = {"layer", "units", "activation", "act_ms", "grad_var", "pred_act_ms", "pred_grad_var"}


def read_signal(path: str | os.PathLike[str]) -> Probe | SignalStudy:
    """Rebuild the study (or probe) from its CSV; verdicts are read again from the seed means,
    as ``signal_propagation`` reads them."""
    import pandas as pd  # imported when used: pandas costs 0.3 s at start-up

    try:
        table = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise InitlabError(f"The file {path!r} is not a readable CSV file ({exc}).") from None
    missing = SIGNAL_COLUMNS - set(table.columns)
    if missing or not len(table):
        raise InitlabError(f"The file {path!r} is not a signal.csv written by initlab probe "
                           f"(missing columns: {', '.join(sorted(missing)) or 'none; it has no rows'}).")
    keys = [k for k in ("init", "seed") if k in table]
    first = table[(table[keys] == table[keys].iloc[0]).all(axis=1)] if keys else table
    first = first.sort_values("layer")
    try:
        output = str(first["activation"].iloc[-1])
        loss = output[output.index("(") + 1 : output.rindex(")")] if "(" in output else "binary_cross_entropy"
        units = tuple(int(u) for u in first["units"])
        network = Network((units[0],) + units, tuple(str(a) for a in first["activation"].iloc[:-1]), loss)
    except (ValueError, InitlabError) as exc:
        raise InitlabError(f"The file {path!r} does not describe an initlab network ({exc}).") from None
    table = table.assign(init=table["init"].astype(str)) if "init" in table else table
    binned = _load_histograms(path, table)
    if "init" not in table:
        return Probe(table, verdicts(table, network), binned)
    found = {}
    for name, rows in table.groupby("init", sort=False):
        found[name] = verdicts(rows.groupby("layer", sort=True).mean(numeric_only=True).reset_index(), network)
    return SignalStudy(network, table, found, binned)


HISTOGRAM_FILE_COLUMNS = {"layer", "kind", "bin_left", "bin_right", "count", "values", "std"}


def _load_histograms(signal_path: str | os.PathLike[str], table: pd.DataFrame) -> pd.DataFrame | None:
    """The histograms.csv that ``SignalStudy.save`` wrote beside `signal_path`, or None when there is
    none (a folder written before initlab drew histograms). One that cannot be read, or that describes
    other initializers or layers than signal.csv (left from another probe), is a one-line error."""
    import pandas as pd

    path = os.path.join(os.path.dirname(os.path.abspath(signal_path)), HISTOGRAMS_CSV)
    if not os.path.isfile(path):
        return None
    try:
        frame = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise InitlabError(f"The file {_html.shown(path)!r} beside {_html.shown(signal_path)!r} is not a readable CSV file ({exc}).") from None
    missing = HISTOGRAM_FILE_COLUMNS - set(frame.columns)
    if missing:
        raise InitlabError(f"The file {_html.shown(path)!r} is not a histograms.csv written by initlab probe "
                           f"(missing columns: {', '.join(sorted(missing))}).")
    frame = frame.assign(init=frame["init"].astype(str)) if "init" in frame else frame
    inits_ok = ("init" in frame) == ("init" in table) and ("init" not in frame or set(frame["init"]) <= set(table["init"]))
    if not inits_ok or not set(frame["layer"]) <= set(table["layer"]):
        raise InitlabError(f"The file {_html.shown(path)!r} describes another probe than {_html.shown(signal_path)!r} beside it "
                           "(other initializers or layers): run initlab probe again, or remove it.")
    return frame


PROBE_INITS = ("he_normal", "xavier_normal")  # what `initlab probe` compares by default: the ReLU scheme and the tanh one


def deep_network(depth: int = 30, width: int = 256, activation: Any = "relu") -> Network:
    """`depth` hidden layers of `width` units on a `width`-wide input, one sigmoid output (the
    defaults are `initlab probe`'s: 30 layers of 256, deep enough that a factor per layer shows)."""
    depth, width = check_int("depth", depth, low=1), check_int("width", width, low=1)
    return Network((width,) * (depth + 1) + (1,), activation=activation)


def signal_propagation(network: Network, inits: str | Iterable[str] = PROBE_INITS, seeds: int = 5,
                       batch: int = 256, spectra: bool = True, correlations: bool = True,
                       histograms: bool | Iterable[str] = True) -> SignalStudy:
    """Probe `network` from each initializer in `inits` with `seeds` seeds (0, 1, …).

    Seed s draws the input batch X ~ N(0, 1), shape (n_0, batch), and then the weights from
    ``default_rng(s)``, so every initializer sees the same inputs. The histograms
    (``SignalStudy.histograms``) come from seed 0 alone: one draw shows the distribution's shape,
    and binning every seed would cost a sixth of the study for the same picture. `spectra` and
    `correlations` False skip the weights' singular values and the correlation map's prediction, and
    `histograms` says what seed 0 bins (``probe``'s; the explorer's live signal view skips the first two
    unless asked, and bins the pre-activations and the gradients).
    """
    seeds, batch = check_int("seeds", seeds, low=1), check_int("batch", batch, low=2)
    specs = check_specs("inits", inits)  # (label, name, options): "normal(std=0.01)" configures one
    with one_blas_thread():  # the initializers' draws and LSUV's passes are small-matrix work too
        return _signal_propagation(network, specs, seeds, batch, bool(spectra), bool(correlations), check_kinds(histograms))


def seed_draw(network: Network, name: str, options: Mapping[str, Any], seed: int,
              batch: int) -> tuple[np.ndarray, np.ndarray, np.random.Generator]:
    """What signal_propagation probes at `seed`: the inputs X ~ N(0, 1) (n_0, batch), then the
    weights of initializer `name` (with `options`) from the same ``default_rng(seed)``, and that
    generator (the probe's backward noise continues from it)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((network.sizes[0], batch))
    return X, network.init(name, rng=rng, X=X, **options), rng


def _signal_propagation(network: Network, specs: Sequence[tuple[str, str, Mapping[str, Any]]], seeds: int,
                        batch: int, spectra: bool = True, correlations: bool = True,
                        kinds: Sequence[str] = BINNED) -> SignalStudy:
    frames, found, binned = [], {}, []
    for label, name, options in specs:
        tables = []
        for seed in range(seeds):
            X, params, rng = seed_draw(network, name, options, seed, batch)
            one = _probe(network, params, X, None, rng, kinds if seed == 0 else (), spectra, correlations, judge=False)
            tables.append(one.table.assign(init=label, seed=seed))
            if one.histograms is not None:
                binned.append(one.histograms.assign(init=label, seed=seed)[["init", "seed", *HISTOGRAM_COLUMNS]])
        mean = _concat(tables).groupby("layer", sort=True).mean(numeric_only=True).reset_index()
        found[label] = verdicts(mean, network)
        frames += tables
    return SignalStudy(network, _concat(frames), found, _concat(binned))


# --- during training -------------------------------------------------------------------------
def record(network: Network, params: ArrayLike, X: ArrayLike, Y: ArrayLike, options: TrainOptions, every: int | None = None,
           probe_X: ArrayLike | None = None) -> tuple[Run, pd.DataFrame]:
    """Train and probe every `every` iterations (default: options.record_every).

    Returns (run, history): history has one row per layer and probe, with an ``iteration``
    column, so a plot shows a layer dying or saturating over time.
    """
    if every is not None:
        options = replace(options, record_every=every)
    batch = X if probe_X is None else probe_X
    frames = []

    def on_record(i: int, cost: float, current: np.ndarray) -> None:
        frames.append(probe(network, current, batch, histograms=False).table.assign(iteration=i, cost=cost))

    run = train(network, params, X, Y, options, on_record)
    history = _concat(frames) if frames else _frame([])
    return run, history
