"""Glorot & Bengio 2010: the "standard" init shrinks activations and gradients layer by layer, the
normalized init keeps them balanced, and a sigmoid net's top hidden layer saturates near 0.

What the paper claims ("Understanding the difficulty of training deep feedforward neural networks",
AISTATS 2010):

* §4.2.1, eqs. 5–6: in the linear regime of a symmetric activation, each layer multiplies the
  variance of the activations (going up) and of the back-propagated gradients ∂Cost/∂s (going down)
  by n·Var[W]. The "standard" init W ~ U[−1/√n, 1/√n] (eq. 1, §2.3) has n·Var[W] = 1/3 (eq. 15),
  so in that regime both shrink by ×1/3 per layer: the theory behind Figs. 6–7 (top: tanh, standard
  init), which show the shrinking; what the paper measures per layer is the average singular value
  of the Jacobian, ≈ 0.5 for the standard init against ≈ 0.8 for the normalized one (§4.2.2).
* eq. 16: the normalized init U[±√6/√(n_j + n_{j+1})] gives n·Var[W] = 1 for square layers, which
  keeps the variances balanced across layers (Figs. 6–7, bottom).
* §3.1, Fig. 2: in a sigmoid network with the standard init the top hidden layer is driven to
  saturation near 0 early in training (its mean activation drops from ≈ 0.5 to ≈ 0) while the
  lower layers' means stay above 0.5, and learning stalls. §3.2: tanh networks do not saturate that way
  (0 is tanh's linear centre, not a saturated value; their layers saturate later, one after another
  from the bottom, Fig. 3).

What runs here, small (the paper used 1000-unit layers on Shapeset-3×2 and MNIST-size data):

* at init, a tanh network 64 → 5 × `width` → 10 (cross-entropy) on a batch of scikit-learn digits:
  per hidden layer the variance of the activations and of the back-propagated gradient δ_l =
  ∂Cost/∂Z_l (from the loss gradient of the batch), with the standard init
  (``variance_scaling(1/3, "fan_in", "uniform")`` = U[±1/√n]) and the normalized init
  (``xavier_uniform``). The per-layer ratios Var(a_{l+1})/Var(a_l) and Var(δ_l)/Var(δ_{l+1}) over
  the 4 hidden-to-hidden steps, averaged per seed.
* training: a 4-hidden-layer sigmoid network and the same tanh network (`train_width` units),
  standard init, minibatch SGD (batch 10, as the paper) at one learning rate for both (0.4; 600
  updates, 240 in the quick settings), on the digits training set; every ``RECORD`` updates the mean
  activation of each hidden layer on 300 training examples and the training loss. (At 0.3 the
  sigmoid's top layer takes about twice as long to fall below 0.1; at 0.5 the tanh net's top layer
  has more units near ±1 — up to ~45% in a trial — while its mean still stays at 0.)

Targets and verdicts:

* the per-layer ratios are compared to the paper's eq. 5–6 factor n·Var[W] (1/3 standard, 1
  normalized) carried through tanh's curvature by the mean-field recursion from this batch's
  input scale (``theory.length_map``; E[tanh′²] for the gradients): it tends to n·Var[W] as the
  layers become linear. A claim holds when the seeds' mean ratio is within 5% or 3 standard errors of that target
  (``common.within``).
* sigmoid: holds when in every seed the top hidden layer's mean activation falls below 0.1 (within
  10% of the range's lower end) during the run.
* tanh: holds when in every seed the top hidden layer's mean activation stays within ±0.2 of 0 (10%
  of the range around its centre, i.e. at least 40% of the range away from either end) during the
  whole run, while the loss falls below ln 10 / 2 (the network learns instead of stalling).
  Both rules are written in fractions of the activation's range, so each can be applied to the
  other activation (and then fails).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..activations import gaussian_expectation, get_activation
from ..data import Dataset, get_dataset
from ..network import Network
from ..training import TrainOptions, train
from .common import Claim, Reproduction, SeedsLike, drawing, entry_point, fmt, mean_band, run_settings, within

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "glorot2010"
TITLE = "Glorot & Bengio 2010: standard init shrinks signals by n·Var[W] = 1/3 per layer; the top sigmoid layer saturates"
CITATION = ("Glorot & Bengio 2010, Understanding the difficulty of training deep feedforward neural networks, "
            "§2.3 (eq. 1), §3.1–3.2 (Figs. 2–3), §4.2 (eqs. 5–6, 15–16; Fig. 6), §4.3 (Fig. 7)")

STANDARD: tuple[str, dict[str, Any]] = (  # U[±1/√n]
    "variance_scaling", {"scale": 1.0 / 3.0, "mode": "fan_in", "distribution": "uniform"})
NORMALIZED: tuple[str, dict[str, float | str]] = ("xavier_uniform", {})
INITS: dict[str, tuple[str, Mapping[str, Any]]] = {"standard": STANDARD, "normalized": NORMALIZED}
LABELS = {"standard": "standard U[±1/√n]", "normalized": "normalized (Xavier)"}
COLORS = {"standard": "uniform", "normalized": "xavier_uniform"}  # plots.init_color of the closest registry name
REL, SDS = 0.05, 3.0
NEAR_END = 0.1  # a mean activation within this fraction of the range from its lower end = saturated there
CENTRED = 0.1  # a mean activation within this fraction of the range from its centre = not driven to an end
HALF_CHANCE = math.log(10) / 2
RECORD = 20  # record every this many updates
PROBE = 300  # training examples on which the activations are read during training

FULL = dict(width=256, depth=5, batch=500, train_width=128, train_depth=4, steps=600, learning_rate=0.4,
            batch_size=10, seeds=5)
QUICK = dict(width=128, depth=5, batch=300, train_width=128, train_depth=4, steps=240, learning_rate=0.4,
             batch_size=10, seeds=2)


def sigma_w2(init: str, fan_in: int, fan_out: int) -> float:
    """n_in·Var[W] of a (fan_out, fan_in) layer: 1/3 for U[±1/√n], 2·n_in/(n_in + n_out) for Xavier."""
    return 1.0 / 3.0 if init == "standard" else 2.0 * fan_in / (fan_in + fan_out)


# --- at init: eqs. 5–6, Figs. 6–7 ---------------------------------------------------------------------
def theory_ratios(sizes: Sequence[int], init: str, input_ms: float,
                  activation: str = "tanh") -> tuple[np.ndarray, np.ndarray]:
    """Mean-field per-layer ratios (activation variance up, gradient variance down) of the hidden
    layers of a network `sizes` under `init`, from the input's mean square `input_ms`.

    q_1 = σ_1²·input_ms, q_{l+1} = length_map(q_l, σ_{l+1}²); Var(a_l) = E[φ(√q_l z)²] (φ odd, mean 0);
    Var(δ_l)/Var(δ_{l+1}) = σ_{l+1}²·(n_{l+1}/n_l)·E[φ′(√q_l z)²] (eq. 6 with φ′ kept).
    """
    from ..theory import length_map, mean_square

    act = get_activation(activation)
    hidden = len(sizes) - 2
    s2 = [sigma_w2(init, sizes[l], sizes[l + 1]) for l in range(hidden)]
    q = [s2[0] * input_ms]
    for l in range(1, hidden):
        q.append(length_map(q[-1], s2[l], 0.0, act))
    ms = np.array([mean_square(v, act) for v in q])
    slope2 = np.array([gaussian_expectation(lambda z: act.derivative(z) ** 2, v) for v in q])
    up = ms[1:] / ms[:-1]
    down = np.array([s2[l + 1] * sizes[l + 2] / sizes[l + 1] * slope2[l] for l in range(hidden - 1)])
    return up, down


def measure_init(net: Network, init: str, X: np.ndarray, Y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One draw at init: per hidden layer Var(a_l) and Var(δ_l), δ_l = ∂Cost/∂Z_l from the loss on (X, Y)."""
    name, options = INITS[init]
    params = net.init(name, rng=seed, **options)
    ZL, cache = net.forward(params, X)
    back = net.backward(params, cache, Y)
    acts = net.hidden_activations
    act_var = np.array([np.var(a.fn(cache[l][1])) for l, a in enumerate(acts)])
    grad_var = np.array([np.var(back.dZ[l]) for l in range(len(acts))])
    return act_var, grad_var


def init_study(init: str, width: int, depth: int, batch: int, seeds: Iterable[int],
               data: Dataset | None = None) -> dict[str, Any]:
    """Per-layer variance ratios at init, per seed, with their mean-field targets (see module doc)."""
    data = get_dataset("digits") if data is None else data
    X, Y = data.X_train[:, :batch], data.Y_train[:, :batch]
    net = Network((X.shape[0],) + (width,) * depth + (Y.shape[0],), activation="tanh", loss="cross_entropy")
    up_t, down_t = theory_ratios(net.sizes, init, float(np.mean(X**2)))
    act_vars, grad_vars, up, down = [], [], [], []
    for seed in seeds:
        a, g = measure_init(net, init, X, Y, seed)
        act_vars.append([float(v) for v in a])
        grad_vars.append([float(v) for v in g])
        up.append(float(np.mean(a[1:] / a[:-1])))
        down.append(float(np.mean(g[:-1] / g[1:])))
    return {"init": init, "sizes": list(net.sizes), "input_ms": float(np.mean(X**2)),
            "act_var": act_vars, "grad_var": grad_vars, "act_ratio": up, "grad_ratio": down,
            "act_target": float(np.mean(up_t)), "grad_target": float(np.mean(down_t)),
            "act_targets": [float(v) for v in up_t], "grad_targets": [float(v) for v in down_t],
            "linear_factor": sigma_w2(init, width, width)}


def _targets(study: Mapping[str, Any], init: str) -> dict[str, np.ndarray]:
    """Mean-field per-layer targets (activations up, gradients down) of `init` for the study's network and batch."""
    up, down = theory_ratios(study["sizes"], init, study["input_ms"])
    return {"act": up, "grad": down}


def ratio_claim(study: Mapping[str, Any], which: str, statement: str, figure: str, init: str = "standard") -> Claim:
    """The seeds' mean per-layer ratio (`which`: "act" or "grad") within REL or SDS s.e. of `init`'s target."""
    targets = _targets(study, init)[which]
    target = float(np.mean(targets))
    per_layer = ", ".join(f"{v:.3f}" for v in targets)
    n = sigma_w2(init, study["sizes"][1], study["sizes"][2])
    direction = "going up" if which == "act" else "going down"
    return Claim(
        statement=statement,
        expected=f"×{n:.3g} per layer {direction} in the linear regime (n·Var[W] = {n:.3g}, {figure}); with tanh's "
                 f"curvature (mean-field, from this batch's input scale) ×{per_layer} (mean {target:.3f})",
        measured=f"mean per-layer ratio {fmt(study[f'{which}_ratio'], 3)} ({LABELS[study['init']]} init)",
        holds=bool(within(study[f"{which}_ratio"], target, REL, SDS)),
        rule=f"seeds' mean within {REL:.0%} or {SDS:g} standard errors of the mean-field target {target:.3f}",
    )


def balanced_claim(study: Mapping[str, Any]) -> Claim:
    """Normalized init: both ratios within tolerance of the n·Var[W] = 1 (normalized) targets."""
    targets = {k: float(np.mean(v)) for k, v in _targets(study, "normalized").items()}
    ok = within(study["act_ratio"], targets["act"], REL, SDS) and within(study["grad_ratio"], targets["grad"], REL, SDS)
    return Claim(
        statement="The normalized init keeps activation and gradient variances balanced across layers (eq. 16, "
                  "Figs. 6–7 bottom)",
        expected=f"×1 per layer in the linear regime (n·Var[W] = 1); with tanh's curvature ×{targets['act']:.3f} "
                 f"(activations, up) and ×{targets['grad']:.3f} (gradients, down), vs ≈ ×1/3 for the standard init",
        measured=f"activations {fmt(study['act_ratio'], 3)}, gradients {fmt(study['grad_ratio'], 3)} per layer "
                 f"({LABELS[study['init']]} init)",
        holds=bool(ok),
        rule=f"the means over seeds of both ratios within {REL:.0%} or {SDS:g} standard errors of their mean-field "
             "targets",
    )


# --- training: §3, Figs. 2–3 --------------------------------------------------------------------------
def train_study(activation: str, width: int, depth: int, steps: int, learning_rate: float, batch_size: int,
                seeds: Iterable[int], data: Dataset | None = None) -> dict[str, Any]:
    """Train `activation` nets (standard init) per seed; record each hidden layer's mean activation
    on PROBE training examples and the training loss every RECORD updates."""
    data = get_dataset("digits") if data is None else data
    X, Y = data.X_train, data.Y_train
    probe = X[:, :PROBE]
    net = Network((X.shape[0],) + (width,) * depth + (Y.shape[0],), activation=activation, loss="cross_entropy")
    acts = net.hidden_activations
    name, options = STANDARD
    means, stds, losses, saturated = [], [], [], []
    for seed in seeds:
        rows: list[list[float]] = []
        spread: list[list[float]] = []
        sat: list[float] = []

        def record(i, cost, params, rows=rows, spread=spread, sat=sat):
            _, cache = net.forward(params, probe)
            A = [a.fn(cache[l][1]) for l, a in enumerate(acts)]
            rows.append([float(a.mean()) for a in A])
            spread.append([float(a.std()) for a in A])
            low, high = acts[-1].bounds
            sat.append(float(np.mean(np.abs(2 * (A[-1] - low) / (high - low) - 1) > 0.99)))

        options_ = TrainOptions(learning_rate=learning_rate, iterations=steps + 1, record_every=RECORD,
                                batch_size=batch_size, seed=seed)
        run = train(net, net.init(name, rng=seed, **options), X, Y, options_, record)
        means.append(rows)
        stds.append(spread)
        losses.append([float(c) for c in run.costs])
        saturated.append(sat)
        iterations = [int(i) for i in run.iterations]
    bounds = acts[-1].bounds
    assert bounds is not None  # a saturating activation (sigmoid, tanh): record read them already
    return {"activation": activation, "iterations": iterations, "layer_means": means, "layer_stds": stds,
            "loss": losses,
            "top_saturated": saturated, "bounds": list(bounds)}


def _top(result: Mapping[str, Any]) -> np.ndarray:
    """(seeds × records) mean activation of the top hidden layer."""
    return np.asarray(result["layer_means"])[:, :, -1]


def _position(result: Mapping[str, Any]) -> np.ndarray:
    """The top layer's mean activation as a fraction of the activation's range: 0 its lower end, 1 its upper."""
    low, high = result["bounds"]
    return (_top(result) - low) / (high - low)


def saturation_claim(result: Mapping[str, Any]) -> Claim:
    """Sigmoid (Fig. 2): in every seed the top layer's mean activation comes within NEAR_END of the
    range's lower end (below 0.1 for the sigmoid)."""
    top, pos = _top(result), _position(result)
    low, high = result["bounds"]
    level = low + NEAR_END * (high - low)
    its = np.asarray(result["iterations"])
    reached = [int(its[np.argmax(row < NEAR_END)]) if (row < NEAR_END).any() else None for row in pos]
    hits = [r for r in reached if r is not None]
    lower = np.asarray(result["layer_means"])[:, -1, :-1].mean(axis=1)
    when = (f"first below {level:g} at update {fmt(hits, 3)}" if hits else f"never below {level:g}") + (
        f", never in {len(reached) - len(hits)} of {len(reached)} seeds" if hits and len(hits) < len(reached) else "")
    final_loss = [l[-1] for l in result["loss"]]
    return Claim(
        statement=f"With the standard init the top hidden {result['activation']} layer saturates near its lower end "
                  "(0 for the sigmoid) early in training while the lower layers' means stay at or above 0.5 (Fig. 2)",
        expected="top layer's mean activation drops from ≈ 0.5 to ≈ 0; learning stalls meanwhile",
        measured=f"top layer mean {fmt(top[:, 0], 3)} at start → {fmt(top[:, -1], 3)} after {its[-1]} updates "
                 f"({when}); "
                 f"lower layers' mean then {fmt(lower, 3)}; training loss then {fmt(final_loss, 3)} "
                 f"(chance ln 10 = {math.log(10):.3f})",
        holds=bool(len(hits) == len(reached)),
        rule=f"in every seed the top layer's mean activation falls below {level:g} (within {NEAR_END:.0%} of the "
             f"range's lower end) within {its[-1]} updates",
    )


def no_saturation_claim(result: Mapping[str, Any]) -> Claim:
    """Tanh (§3.2): the top layer's mean stays within CENTRED of the range's centre (±0.2 for tanh)
    and the loss falls below ln 10 / 2."""
    low, high = result["bounds"]
    off = np.abs(_top(result) - (low + high) / 2)
    worst = off.max(axis=1)
    final_loss = [l[-1] for l in result["loss"]]
    sat = np.asarray(result["top_saturated"]).max(axis=1)
    limit = CENTRED * (high - low)
    centred = bool(np.all(worst <= limit))
    learns = all(l < HALF_CHANCE for l in final_loss)
    return Claim(
        statement=f"A {result['activation']} network with the same init does not saturate that way: its top layer "
                  "stays around the linear centre and the network learns (§3.2)",
        expected="top layer's mean activation stays near the centre of the range (no collapse to a saturated value); "
                 "the loss falls",
        measured=f"largest distance of the top layer's mean activation from the centre {(low + high) / 2:g} over "
                 f"training {fmt(worst, 3)}; largest fraction of its units beyond 99% of the range {fmt(sat, 2)}; "
                 f"final training loss {fmt(final_loss, 3)}",
        holds=bool(centred and learns),
        rule=f"in every seed the top layer's mean stays within {limit:g} ({CENTRED:.0%} of the range) of "
             f"{(low + high) / 2:g} at every record and the final loss < ln 10 / 2 = {HALF_CHANCE:.3f}",
    )


# --- figures --------------------------------------------------------------------------------------------
def init_figure(studies: Mapping[str, Mapping[str, Any]]) -> Figure:
    """Var(a_l) and Var(δ_l) per hidden layer (relative to layer 1 / to the top layer), both inits."""
    from matplotlib.figure import Figure

    from ..plots import init_color

    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    ax, bx = fig.subplots(1, 2)
    for key, st in studies.items():
        color = init_color(COLORS[key])
        a = np.asarray(st["act_var"])
        g = np.asarray(st["grad_var"])
        layers = np.arange(1, a.shape[1] + 1)
        for axis, values, ref, targets in ((ax, a / a[:, :1], 0, st["act_targets"]),
                                            (bx, g / g[:, -1:], -1, st["grad_targets"])):
            mean_band(axis, layers, values, color, f"{LABELS[key]} measured", "o-" if key == "standard" else "s-", lw=2)
            if ref == 0:
                theory = np.concatenate([[1.0], np.cumprod(targets)])
            else:
                theory = np.concatenate([np.cumprod(targets[::-1])[::-1], [1.0]])
            axis.plot(layers, theory, "--", color=color, lw=1, label=f"{LABELS[key]} mean-field")
            axis.plot(layers, st["linear_factor"] ** (layers - 1 if ref == 0 else layers[-1] - layers), ":",
                      color=color, lw=1, label=f"{LABELS[key]} ×n·Var[W] = {st['linear_factor']:.3g} per layer")
    ax.set_title("Activation variance (Fig. 6), relative to layer 1")
    ax.set_ylabel("Var(a_l) / Var(a_1)")
    bx.set_title("Back-propagated gradients (Fig. 7), relative to the top layer")
    bx.set_ylabel("Var(∂Cost/∂Z_l) / Var(∂Cost/∂Z_top)")
    for axis in (ax, bx):
        axis.set_yscale("log")
        axis.set_xlabel("hidden layer l (tanh)")
        axis.set_xticks(range(1, len(studies["standard"]["act_var"][0]) + 1))
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize="x-small")
    return fig


def training_figure(results: Sequence[Mapping[str, Any]]) -> Figure:
    """Mean activation of each hidden layer during training (Figs. 2–3), one panel per activation."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    axes = fig.subplots(1, len(results), squeeze=False)[0]
    colors = ["#9ecae1", "#4292c6", "#2171b5", "#08306b", "#000000"]
    for ax, result in zip(axes, results):
        its = np.asarray(result["iterations"])
        m = np.asarray(result["layer_means"])  # seeds × records × layers
        depth = m.shape[2]
        for l in range(depth):
            color = colors[-depth + l] if depth <= len(colors) else None
            mean_band(ax, its, m[:, :, l], color, f"layer {l + 1}" + (" (top)" if l == depth - 1 else ""), alpha=0.15,
                      lw=2 if l == depth - 1 else 1.2)
        top, spread = m[:, :, -1].mean(axis=0), np.asarray(result["layer_stds"])[:, :, -1].mean(axis=0)
        ax.fill_between(its, top - spread, top + spread, color="0.6", alpha=0.2, lw=0,
                        label="top layer mean ± std over units and examples")
        low, high = result["bounds"]
        ax.set_ylim(low - 0.05 * (high - low), high + 0.05 * (high - low))
        ax.axhline(low + NEAR_END * (high - low), color="0.5", ls="--", lw=1,
                   label=f"{low + NEAR_END * (high - low):g} (within {NEAR_END:.0%} of the lower end)")
        ax.set_xlabel("update (minibatches of 10)")
        ax.set_ylabel("mean activation on 300 training examples")
        ax.set_title(f"{result['activation']}, standard init (mean over seeds)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    return fig


# --- the experiment ---------------------------------------------------------------------------------------
@entry_point
def reproduce(quick: bool = False, seeds: SeedsLike = None) -> Reproduction:
    s = run_settings(quick, seeds, QUICK, FULL)
    data = get_dataset("digits")
    studies = {key: init_study(key, s["width"], s["depth"], s["batch"], s["seeds"], data) for key in INITS}
    trained = [train_study(act, s["train_width"], s["train_depth"], s["steps"], s["learning_rate"], s["batch_size"],
                           s["seeds"], data) for act in ("sigmoid", "tanh")]
    claims = [
        ratio_claim(studies["standard"], "act", "With the standard init the activation variance shrinks by "
                                                "n·Var[W] = 1/3 per layer in tanh's linear regime (eqs. 5, 15)", "eq. 5, Fig. 6 top"),
        ratio_claim(studies["standard"], "grad", "…and so does the back-propagated gradient variance, going down "
                                                 "(eq. 6)", "eq. 6, Fig. 7 top"),
        balanced_claim(studies["normalized"]),
        saturation_claim(trained[0]),
        no_saturation_claim(trained[1]),
    ]
    settings = {**s, "dataset": "digits",
                "standard_init": "U[−1/√n, 1/√n] = variance_scaling(1/3, fan_in, uniform)",
                "normalized_init": "xavier_uniform", "optimizer": "gd (minibatch SGD)", "rel_tolerance": REL,
                "sds": SDS}
    return Reproduction(
        name=NAME, title=TITLE, citation=CITATION, settings=settings, claims=claims,
        numbers={"init": studies, "training": {r["activation"]: r for r in trained}},
        drawings={"init": drawing(init_figure, studies=studies), "training": drawing(training_figure, results=trained)},
    )
