"""Poole et al. 2016 / Schoenholz et al. 2017: signal propagation in deep tanh nets, the edge of
chaos, and the depth scale ξ_c that bounds trainable depth.

The papers' claims checked here, for tanh layers h^l = W^l φ(h^{l−1}) + b^l with
W_ij ~ N(0, σ_w²/N) and b_i ~ N(0, σ_b²), σ_b² = 0.05 (Schoenholz et al.'s value):

* Poole et al. §2–3 (Fig. 1): the mean squared pre-activation q^l converges to the fixed point q* of
  the length map q^l = σ_w² E[φ(√q^{l−1} z)²] + σ_b²;
* Poole et al. §3 / Schoenholz et al. §3: χ₁ = σ_w² E[φ′(√q* z)²] is the per-layer growth of a
  perturbation (or of the back-propagated gradient's variance, Schoenholz et al.'s mean-field
  theory of backpropagation): ordered for
  χ₁ < 1, chaotic for χ₁ > 1; the order-to-chaos transition is at the σ_w² where χ₁ = 1
  (≈ 1.76 for σ_b² = 0.05, ``theory.critical_sigma_w2``);
* Schoenholz et al., trainability experiments (Fig. 5): a network trains when its depth is below
  about 6·ξ_c, ξ_c = −1/log χ_c the depth scale of the correlation map (§3), which diverges at the
  edge of chaos.

What runs here:

* propagation: random tanh nets of width 256 and depth 50 (square layers; σ_w² from 0.5 to 4, four
  seeds) on Gaussian inputs. q* measured as the mean of h² over units, examples and layers 10–50;
  χ₁ as the geometric mean over layers 10–49 of Var(δ_l)/Var(δ_{l+1}), δ the gradient
  back-propagated from unit Gaussian noise at the output (``Network.backward_from``). Rules: the
  seeds' mean q* (and χ₁) within 5% or 3 standard errors of ``theory.fixed_point`` (``theory.chi1``)
  at every σ_w²; the σ_w² where the measured log χ₁ changes sign (linear interpolation between grid
  points, per seed) within 5% or 3 standard errors of ``theory.critical_sigma_w2``.
* trainability: tanh MLPs of width 48 on scikit-learn's digits, depth L ∈ {10, 20, 30, 45} ×
  σ_w² ∈ {0.5 … 8}, two seeds, each trained 500 steps of SGD with momentum 0.9 (lr 0.001, batch 64;
  every σ_w² of one depth in one ``train_many`` batch). A cell counts as trained when its training
  accuracy reaches 0.5 (chance: 0.1); it is predicted trainable when L < 6·ξ_c(σ_w²) (``theory.mean_field``).
  Rule: trained and predicted agree in at least 80% of the cells, in every seed. The paper trained
  wider nets on MNIST for far longer; in this short run the chaotic side just inside the line is
  under-trained (300 instead of 500 steps trains fewer of those cells), and the mismatches sit there.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .._validation import InitlabError, RandomSource
from ..data import Dataset, get_dataset
from ..network import Network
from ..training import TrainOptions, train_many
from .common import Claim, Reproduction, SeedsLike, drawing, entry_point, fmt, mean_spread, seed_list, within

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "edge-of-chaos"
TITLE = "Poole et al. 2016 / Schoenholz et al. 2017: q* and χ₁ as the theory says; trainable while depth < 6·ξ_c"
CITATION = ("Poole et al. 2016, Exponential expressivity in deep neural networks through transient chaos, §2–3; "
            "Schoenholz et al. 2017, Deep Information Propagation, §3 (depth scales) and the trainability experiments "
            "(accuracy over depth × σ_w² with 6·ξ_c drawn, Fig. 5)")

ACTIVATION = "tanh"
SIGMA_B2 = 0.05
REL = 0.05  # relative tolerance for q*, χ₁ and the critical σ_w²
AGREEMENT = 0.8  # fraction of grid cells where trained == predicted
TRAINED = 0.5  # training accuracy that counts as trained (chance 0.1)
BOUND = 6.0  # Schoenholz et al.: trainable when depth < 6 ξ_c

FULL: dict[str, dict[str, Any]] = dict(
    propagation=dict(sigma_w2=(0.5, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 4.0), width=256, depth=50, burn_in=10,
                     examples=32, seeds=4),
    grid=dict(depths=(10, 20, 30, 45), sigma_w2=(0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0), width=48, iterations=500,
              learning_rate=0.001, momentum=0.9, batch_size=64, seeds=2),
)
QUICK: dict[str, dict[str, Any]] = dict(
    propagation=dict(sigma_w2=(1.0, 1.5, 1.75, 2.0, 2.5), width=128, depth=30, burn_in=10, examples=16, seeds=3),
    grid=dict(depths=(4, 24), sigma_w2=(0.5, 2.0, 3.0), width=32, iterations=300, learning_rate=0.001, momentum=0.9,
              batch_size=64, seeds=2),
)


def gaussian_bias(sigma_b2: float = SIGMA_B2) -> Callable[[tuple[int, ...], RandomSource], np.ndarray]:
    """Biases b ~ N(0, σ_b²): a ``bias=`` function f(shape, rng) for ``Network.init``."""
    std = math.sqrt(sigma_b2)
    return lambda shape, rng: rng.standard_normal(shape) * std


def init_params(network: Network, sigma_w2: float, seed: int, sigma_b2: float = SIGMA_B2) -> np.ndarray:
    """W ~ N(0, σ_w²/fan_in) (variance_scaling, fan_in), b ~ N(0, σ_b²), drawn from `seed`."""
    return network.init("variance_scaling", rng=seed, scale=sigma_w2, mode="fan_in", bias=gaussian_bias(sigma_b2))


# --- propagation: q* and χ₁ --------------------------------------------------------------------------
def measure_layers(sigma_w2: float, seed: int, width: int = 256, depth: int = 50, examples: int = 32,
                   sigma_b2: float = SIGMA_B2, input_scale: float = 1.0,
                   activation: str = ACTIVATION) -> tuple[np.ndarray, np.ndarray]:
    """One random net of `depth` square layers: per layer l = 1..depth, q_l = mean h_l² and the
    gradient variance g_l = mean δ_l², δ back-propagated from unit Gaussian noise at the output.

    Inputs are `examples` Gaussian vectors of standard deviation `input_scale`.
    Returns (q, g), arrays of length `depth`.
    """
    network = Network((width,) * (depth + 1), activation=activation, loss="mean_squared_error")
    params = init_params(network, sigma_w2, seed, sigma_b2)
    rng = np.random.default_rng([seed, 1])
    X = rng.standard_normal((width, examples)) * input_scale
    with np.errstate(over="ignore", under="ignore"):
        ZL, cache = network.forward(params, X)
        back = network.backward_from(params, cache, rng.standard_normal(ZL.shape))
    q = np.array([np.mean(Z**2) for _, Z in cache])
    g = np.array([np.mean(d**2) for d in back.dZ])
    return q, g


def propagation(sigma_w2: Iterable[float] = (1.0, 1.5, 2.0), seeds: SeedsLike = (0, 1, 2), width: int = 256,
                depth: int = 50, burn_in: int = 10, examples: int = 32, sigma_b2: float = SIGMA_B2,
                input_scale: float = 1.0, activation: str = ACTIVATION) -> dict[str, Any]:
    """q* and χ₁ measured per σ_w² and seed, with the theory's values.

    q* is the mean of q_l over layers burn_in..depth; log χ₁ the mean of log(g_l/g_{l+1}) over layers
    burn_in..depth−1 (a layer's Jacobian scales the gradient's variance by χ₁ on average).
    Returns plain data: {"sigma_w2", "q_star": [[per seed] per σ_w²], "log_chi1": [[…]], "q_theory",
    "chi1_theory", "critical_theory", "crossing": [per seed: σ_w² where log χ₁ turns positive, or None]}.
    """
    from ..theory import chi1, critical_sigma_w2, fixed_point

    sigma_w2 = [float(s) for s in sigma_w2]
    seeds = seed_list(seeds, 3)
    first = max(burn_in, 1) - 1  # zero-based index of layer burn_in
    q_star, log_chi = [], []
    for s in sigma_w2:
        qs, cs = [], []
        for seed in seeds:
            q, g = measure_layers(s, seed, width, depth, examples, sigma_b2, input_scale, activation)
            qs.append(float(q[first:].mean()))
            cs.append(float(np.mean(np.log(g[first:-1] / g[first + 1:]))))
        q_star.append(qs)
        log_chi.append(cs)
    crossing = [_crossing(sigma_w2, [c[k] for c in log_chi]) for k in range(len(seeds))]
    try:
        critical = critical_sigma_w2(sigma_b2, activation)
    except InitlabError:  # an activation without an edge of chaos for this σ_b²
        critical = float("nan")
    return {
        "sigma_w2": sigma_w2, "seeds": seeds, "q_star": q_star, "log_chi1": log_chi,
        "q_theory": [fixed_point(s, sigma_b2, activation) for s in sigma_w2],
        "chi1_theory": [chi1(s, sigma_b2, activation) for s in sigma_w2],
        "critical_theory": critical, "crossing": crossing,
        "settings": dict(width=width, depth=depth, burn_in=burn_in, examples=examples, sigma_b2=sigma_b2,
                         input_scale=input_scale, activation=activation),
    }


def _crossing(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """The x where ys first turns from negative to positive, by linear interpolation; None if never."""
    for x0, x1, y0, y1 in zip(xs, xs[1:], ys, ys[1:]):
        if y0 < 0 <= y1:
            return float(x0 + (x1 - x0) * (-y0) / (y1 - y0))
    return None


def _rows(sigma_w2: Iterable[float], measured: Iterable[Sequence[float] | np.ndarray], theory: Iterable[float]) -> str:
    """"σ_w²=s: measured mean vs theory" for each σ_w²."""
    return ", ".join(f"σ_w²={s:g}: {np.mean(m):.3g} vs {t:.3g}" for s, m, t in zip(sigma_w2, measured, theory))


def q_star_claim(p: Mapping[str, Any]) -> Claim:
    ok = [within(q, t, rel=REL) for q, t in zip(p["q_star"], p["q_theory"])]
    rows = _rows(p["sigma_w2"], p["q_star"], p["q_theory"])
    worst = max(abs(np.mean(q) / t - 1) for q, t in zip(p["q_star"], p["q_theory"]))
    return Claim(
        statement="The mean squared pre-activation of a deep random tanh net settles at the length map's fixed "
                  f"point q* (σ_b² = {p['settings']['sigma_b2']:g}, {len(p['sigma_w2'])} values of σ_w²)",
        expected="q* = theory.fixed_point(σ_w², σ_b², tanh) (Poole et al. §2)",
        measured=f"measured vs theory (mean of {len(p['seeds'])} seeds): {rows}; largest relative gap {worst:.1%}",
        holds=all(ok),
        rule=f"at every σ_w² the seeds' mean q* within {REL:.0%} or 3 standard errors of the theory",
    )


def chi1_claim(p: Mapping[str, Any]) -> Claim:
    chis = [np.exp(c) for c in p["log_chi1"]]
    ok = [within(c, t, rel=REL) for c, t in zip(chis, p["chi1_theory"])]
    rows = _rows(p["sigma_w2"], chis, p["chi1_theory"])
    return Claim(
        statement="Each layer multiplies the back-propagated gradient's variance by χ₁ = σ_w² E[φ′(√q* z)²]",
        expected="χ₁ = theory.chi1(σ_w², σ_b², tanh) (Poole et al. §3; Schoenholz et al.)",
        measured=f"per-layer factor, measured vs theory (mean of {len(p['seeds'])} seeds): {rows}",
        holds=all(ok),
        rule=f"at every σ_w² the seeds' mean χ₁ within {REL:.0%} or 3 standard errors of the theory",
    )


def transition_claim(p: Mapping[str, Any]) -> Claim:
    found = [c for c in p["crossing"] if c is not None]
    target = p["critical_theory"]
    holds = len(found) == len(p["crossing"]) and math.isfinite(target) and within(found, target, rel=REL)
    measured = f"log χ₁ changes sign at σ_w² = {fmt(found)}" if found else "log χ₁ never changes sign on the grid"
    if found and len(found) < len(p["crossing"]):
        measured += f" (no sign change in {len(p['crossing']) - len(found)} seeds)"
    return Claim(
        statement="The order-to-chaos transition (χ₁ = 1) sits at the critical σ_w²",
        expected=f"σ_w² = {target:.4g} (theory.critical_sigma_w2({p['settings']['sigma_b2']:g}, tanh))",
        measured=measured + f", grid {p['sigma_w2'][0]:g}–{p['sigma_w2'][-1]:g}",
        holds=bool(holds),
        rule=f"a sign change in every seed, and their mean within {REL:.0%} or 3 standard errors of the theory",
    )


# --- trainability ----------------------------------------------------------------------------------
def six_xi_c(sigma_w2: float, sigma_b2: float = SIGMA_B2, activation: str = ACTIVATION) -> float:
    """6·ξ_c from ``theory.mean_field`` (inf at the edge of chaos)."""
    from ..theory import mean_field

    return BOUND * mean_field(sigma_w2, sigma_b2, activation).xi_c


def trainability(depths: Iterable[int] = (10, 20), sigma_w2: Iterable[float] = (0.5, 2.0), seeds: SeedsLike = (0, 1),
                 width: int = 48, iterations: int = 500, learning_rate: float = 0.001, momentum: float = 0.9,
                 batch_size: int = 64, sigma_b2: float = SIGMA_B2, threshold: float = TRAINED,
                 data: Dataset | None = None, engine: str = "auto") -> dict[str, Any]:
    """Train tanh MLPs on digits over the grid depth × σ_w²; compare trained cells with depth < 6 ξ_c.

    Every σ_w² of one depth and seed is trained in one ``train_many`` batch (one architecture).
    Returns plain data: "accuracy" [seed][depth][σ_w²] (final training accuracy), "six_xi_c" per
    σ_w², "predicted" [depth][σ_w²], "trained" and "agree" [seed][depth][σ_w²], "agreement" per seed.
    """
    data = get_dataset("digits") if data is None else data
    depths, sigma_w2, seeds = [int(d) for d in depths], [float(s) for s in sigma_w2], seed_list(seeds, 2)
    bound = [six_xi_c(s, sigma_b2) for s in sigma_w2]
    predicted = [[depth < b for b in bound] for depth in depths]
    accuracy = []
    for seed in seeds:
        options = TrainOptions(learning_rate=learning_rate, iterations=iterations, record_every=max(iterations, 1),
                               optimizer="momentum", optimizer_options={"beta": momentum}, batch_size=batch_size,
                               seed=seed)
        rows = []
        for depth in depths:
            network = Network((data.n_features,) + (width,) * (depth - 1) + (data.n_outputs,), activation=ACTIVATION,
                              loss="cross_entropy")
            params = np.stack([init_params(network, s, seed, sigma_b2) for s in sigma_w2])
            runs = train_many(network, params, data.X_train, data.Y_train, options, engine=engine)
            rows.append([run.accuracy(data.X_train, data.Y_train) for run in runs])
        accuracy.append(rows)
    trained = (np.asarray(accuracy) >= threshold).tolist()
    agree = (np.asarray(trained) == np.asarray(predicted)[None]).tolist()
    return {
        "depths": depths, "sigma_w2": sigma_w2, "seeds": seeds, "accuracy": accuracy, "six_xi_c": bound,
        "predicted": predicted, "trained": trained, "agree": agree,
        "agreement": [float(np.mean(a)) for a in agree], "threshold": threshold,
    }


def trainability_claim(t: Mapping[str, Any]) -> Claim:
    holds = all(a >= AGREEMENT for a in t["agreement"])
    n = len(t["depths"]) * len(t["sigma_w2"])
    misses = np.argwhere(~np.asarray(t["agree"]).all(axis=0))
    where = ", ".join(f"(L={t['depths'][i]}, σ_w²={t['sigma_w2'][j]:g})" for i, j in misses) or "none"
    return Claim(
        statement="A deep tanh net trains when its depth is below 6·ξ_c, which diverges at the edge of chaos "
                  "(Schoenholz et al. Fig. 5)",
        expected="trainable ⇔ L < 6 ξ_c(σ_w²) (theory.mean_field(σ_w², σ_b², tanh).xi_c)",
        measured=f"cells where trained (training accuracy ≥ {t['threshold']:g}) agrees with L < 6 ξ_c: "
                 f"{fmt([100 * a for a in t['agreement']])} % of {n}; cells that disagree in some seed: {where}",
        holds=holds,
        rule=f"agreement in at least {AGREEMENT:.0%} of the {n} cells, in every seed",
    )


# --- figures ------------------------------------------------------------------------------------
def propagation_figure(p: Mapping[str, Any]) -> Figure:
    from matplotlib.figure import Figure

    from ..theory import chi1, fixed_point

    settings = p["settings"]
    fig = Figure(figsize=(11.0, 4.3), layout="constrained")
    ax_q, ax_c = fig.subplots(1, 2)
    s = np.asarray(p["sigma_w2"])
    fine = np.linspace(s.min(), s.max(), 200)
    for ax, values, curve, label in (
        (ax_q, np.asarray(p["q_star"]), [fixed_point(x, settings["sigma_b2"], settings["activation"]) for x in fine],
         "q* (mean squared pre-activation)"),
        (ax_c, np.exp(np.asarray(p["log_chi1"])), [chi1(x, settings["sigma_b2"], settings["activation"]) for x in fine],
         "χ₁ (per-layer gradient-variance factor)"),
    ):
        ax.plot(fine, curve, "-", color="0.3", lw=1.5, label="mean-field theory")
        ax.errorbar(s, values.mean(axis=1), yerr=values.std(axis=1, ddof=1) if values.shape[1] > 1 else None,
                    fmt="o", color="#C44E52", capsize=3, label=f"measured (mean ± sd, {values.shape[1]} seeds)")
        ax.set_xlabel("σ_w²")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    ax_c.axhline(1.0, color="0.5", ls=":", lw=1)
    if math.isfinite(p["critical_theory"]):
        ax_c.axvline(p["critical_theory"], color="0.3", ls="--", lw=1,
                     label=f"critical σ_w² (theory) {p['critical_theory']:.3g}")
    found = [c for c in p["crossing"] if c is not None]
    if found:
        mean, sd = mean_spread(found)
        ax_c.axvspan(mean - sd, mean + sd, color="#C44E52", alpha=0.2, lw=0)
        ax_c.axvline(mean, color="#C44E52", ls="--", lw=1, label=f"measured χ₁ = 1 at {mean:.3g}")
    ax_q.set_title(f"Fixed point of the length map (σ_b² = {settings['sigma_b2']:g})")
    ax_c.set_title("Order (χ₁ < 1) to chaos (χ₁ > 1)")
    ax_q.legend(fontsize="small")
    ax_c.legend(fontsize="small")
    fig.suptitle(f"Random {settings['activation']} nets, width {settings['width']}, depth {settings['depth']}, "
                 f"layers {settings['burn_in']}–{settings['depth']}")
    return fig


def _edges(values: ArrayLike, log: bool = False) -> np.ndarray:
    """Cell edges around grid `values`: midpoints between them, half a step beyond the ends (in log if `log`)."""
    v = np.log(np.asarray(values, dtype=float)) if log else np.asarray(values, dtype=float)
    if len(v) == 1:
        edges = np.array([v[0] - 0.5, v[0] + 0.5])
    else:
        mids = (v[1:] + v[:-1]) / 2
        edges = np.concatenate([[2 * v[0] - mids[0]], mids, [2 * v[-1] - mids[-1]]])
    return np.exp(edges) if log else edges


def phase_figure(t: Mapping[str, Any]) -> Figure:
    from matplotlib.figure import Figure

    acc = np.asarray(t["accuracy"]).mean(axis=0)  # depth × σ_w²
    s, d = np.asarray(t["sigma_w2"]), np.asarray(t["depths"])
    fig = Figure(figsize=(8.0, 5.0), layout="constrained")
    ax = fig.add_subplot()
    xe, ye = _edges(s, log=True), _edges(d)
    mesh = ax.pcolormesh(xe, ye, acc, cmap="viridis", vmin=0.0, vmax=1.0, shading="flat")
    agree = np.asarray(t["agree"]).all(axis=0)
    assert isinstance(agree, np.ndarray)  # [seed][depth][σ_w²] reduced over seeds: a depth × σ_w² array
    for i, depth in enumerate(d):
        for j, sw in enumerate(s):
            ax.text(sw, depth, f"{acc[i, j]:.2f}" + ("" if agree[i, j] else "\n✗"), ha="center", va="center",
                    fontsize="small", color="black" if acc[i, j] > 0.6 else "white")
    fine = np.exp(np.linspace(np.log(xe[0]), np.log(xe[-1]), 400))
    bound = np.array([six_xi_c(x) for x in fine])
    ax.plot(fine, np.where(np.isfinite(bound), bound, 1e6), "w--", lw=2, label="6·ξ_c (theory)")
    from ..theory import critical_sigma_w2

    ax.axvline(critical_sigma_w2(SIGMA_B2, ACTIVATION), color="w", ls=":", lw=1, label="edge of chaos (χ₁ = 1)")
    ax.set_xscale("log")
    ax.set_xticks(s, [f"{x:g}" for x in s])
    ax.set_xticks([], minor=True)
    ax.set_xlim(xe[0], xe[-1])
    ax.set_ylim(ye[0], ye[-1])
    ax.set_xlabel("σ_w² (log scale)")
    ax.set_ylabel("depth L (weight layers)")
    ax.set_title(f"Training accuracy after the run (mean of {len(t['seeds'])} seeds); ✗: trained ≠ (L < 6 ξ_c) in some seed")
    fig.colorbar(mesh, ax=ax, label="training accuracy on digits")
    ax.legend(loc="upper right", fontsize="small")
    return fig


# --- the experiment ---------------------------------------------------------------------------------
@entry_point
def reproduce(quick: bool = False, seeds: SeedsLike = None) -> Reproduction:
    s = QUICK if quick else FULL
    prop_settings, grid_settings = dict(s["propagation"]), dict(s["grid"])
    if seeds is not None:
        prop_settings["seeds"] = grid_settings["seeds"] = seed_list(seeds, 2)
    p = propagation(**prop_settings)
    t = trainability(**grid_settings)
    claims = [q_star_claim(p), chi1_claim(p), transition_claim(p), trainability_claim(t)]
    settings = {"propagation": {**prop_settings, "seeds": p["seeds"]}, "grid": {**grid_settings, "seeds": t["seeds"]},
                "sigma_b2": SIGMA_B2, "activation": ACTIVATION, "dataset": "digits (trainability)",
                "optimizer": "momentum"}
    return Reproduction(
        name=NAME, title=TITLE, citation=CITATION, settings=settings, claims=claims,
        numbers={"propagation": p, "trainability": t},
        drawings={"propagation": drawing(propagation_figure, p=p), "phase-diagram": drawing(phase_figure, t=t)},
    )
