"""Pennington, Schoenholz & Ganguli 2017: dynamical isometry — reachable by tanh with orthogonal
weights near q* → 0, never by ReLU — and the training speed it buys.

What the paper claims ("Resurrecting the sigmoid in deep learning through dynamical isometry: theory and
practice", NeurIPS 2017, arXiv:1711.04735), for networks at criticality (χ = 1: the mean squared singular
value of the input–output Jacobian J is O(1) at any depth). Its abstract says the three things checked
here; where they are derived is quoted from Depth First Learning's notes on the paper (§2.2 ReLU and
§2.5 hard tanh, S_JJᵀ from the S-transforms of W Wᵀ and D², eq. 12), not read in the paper's own text:

* "ReLU networks are incapable of dynamical isometry": with Gaussian or orthogonal weights alike, the
  variance of J·Jᵀ's spectrum grows with depth (at criticality ~2L Gaussian, ~L orthogonal).
* "Sigmoidal networks can achieve isometry, but only with orthogonal weight initialization": as q* → 0
  along the critical line (σ_b² → 0, σ_w² → 1) the orthogonal network's spectrum stays narrow at large
  depth, while with Gaussian weights its variance grows linearly in depth.
* Networks that achieve dynamical isometry "learn orders of magnitude faster" than those that do not
  (the paper's experiments use 200-layer networks on MNIST and CIFAR-10, according to its NeurIPS
  reviews; its figures are not quoted here).

What runs here, small:

* spectra: square networks of `width` units, depth L ∈ `depths` (a linear last layer: J = ∂Z_L/∂x),
  tanh at the critical σ_w² for σ_b² = 10⁻³ (``theory.critical_sigma_w2``: σ_w² ≈ 1.19, q* ≈ 0.107) and
  ReLU at σ_w² = 2, σ_b² = 0 (He), each with orthogonal weights (``orthogonal(gain=√σ_w²)``, biases
  N(0, σ_b²)) and Gaussian ones (``mean_field(sigma_w2, sigma_b2)``), on Gaussian inputs scaled so
  that q¹ = q*; per seed, the relative variance v = Var λ / (E λ)² of the eigenvalues λ = σ² of J·Jᵀ
  over `examples` inputs (``initlab.jacobian.spectrum``; 0: every singular value equal), beside the
  free-probability prediction of ``jacobian.predicted_moments`` (v adds over layers: 1 per Gaussian
  weight matrix, 0 per orthogonal one, E[φ′⁴]/E[φ′²]² − 1 per nonlinearity).
* training: tanh networks of `train_width` units and depth `train_depths` on scikit-learn's digits
  (cross-entropy), orthogonal against Gaussian at the same criticality, SGD (no momentum) at lr 0.01,
  batches of 128, the same minibatch order for both; the first recorded iteration with training loss
  below ln 10 / 2 (half the loss of a uniform guess over the 10 classes).

Verdicts:

* ReLU: for both weight laws, v at the deepest depth ≥ half of (deepest / shallowest depth) × v at
  the shallowest (it grows at least about linearly) and ≥ half the deepest depth (far from 0);
* tanh: Gaussian v grows as ReLU's does (the same rule); orthogonal v at the deepest depth ≤ 1/10 of
  the Gaussian's;
* training: at every training depth, in every seed, the orthogonal network reaches ln 10 / 2 in at most
  0.6× the Gaussian's iterations (a Gaussian that never reaches it counts as the iteration cap) and
  ends at a lower loss.

The paper's factor ("orders of magnitude", at 200 layers and for far longer) is not claimed: here the
orthogonal networks reach the threshold 2–3× sooner at depths 32 and 64.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..network import Network
from ..jacobian import spectrum
from ..theory import critical_sigma_w2, fixed_point
from .common import (HALF_CHANCE, Claim, Reproduction, SeedsLike, drawing, entry_point, fmt, loss_figure, mean_band,
                     mean_spread, run_settings, train_inits)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "pennington2017"
TITLE = "Pennington et al. 2017: tanh with orthogonal weights near q* → 0 is dynamically isometric, ReLU never; it trains faster"
CITATION = ("Pennington, Schoenholz & Ganguli 2017 (NeurIPS), Resurrecting the sigmoid in deep learning through dynamical "
            "isometry: theory and practice: the abstract's three findings, derived in §2 (§2.2 ReLU, §2.5 hard tanh, per "
            "Depth First Learning's notes), and the training experiments (learning speed with and without isometry)")

SIGMA_B2 = 1e-3  # tanh's bias variance: q* ≈ 0.107 at criticality, close to the paper's q* → 0
LEARNING_RATE, BATCH = 0.01, 128
GROWTH_SHARE = 0.5  # v(deepest) ≥ GROWTH_SHARE × (deepest / shallowest) × v(shallowest)
ISOMETRY = 0.1  # orthogonal tanh's v ≤ ISOMETRY × Gaussian tanh's at the deepest depth
SOONER = 0.6  # orthogonal reaches ln 10 / 2 in ≤ SOONER × the Gaussian's iterations

FULL = dict(width=128, depths=(2, 8, 32), examples=8, train_depths=(32, 64), train_width=64, iterations=200, seeds=3)
QUICK = dict(width=64, depths=(2, 8, 16), examples=4, train_depths=(32,), train_width=64, iterations=200, seeds=2)


def critical(activation: str, sigma_b2: float = SIGMA_B2) -> tuple[float, float, float]:
    """(σ_w², σ_b², q*) at criticality: tanh's χ₁ = 1 line at `sigma_b2`, ReLU's He point (2, 0, —: any q)."""
    if activation == "relu":
        return 2.0, 0.0, 1.0
    sigma_w2 = critical_sigma_w2(sigma_b2, activation)
    return sigma_w2, sigma_b2, fixed_point(sigma_w2, sigma_b2, activation)


def cases(sigma_b2: float = SIGMA_B2) -> dict[str, dict[str, Any]]:
    """key -> {activation, init, options, label}: tanh and ReLU, orthogonal and Gaussian, at criticality."""
    out = {}
    for activation in ("tanh", "relu"):
        sw2, sb2, _ = critical(activation, sigma_b2)
        bias = {"bias": f"normal(std={math.sqrt(sb2)})"} if sb2 > 0 else {}
        out[f"{activation}_orthogonal"] = dict(activation=activation, init="orthogonal",
                                               options={"gain": math.sqrt(sw2), **bias},
                                               label=f"{activation}, orthogonal")
        out[f"{activation}_gaussian"] = dict(activation=activation, init="mean_field",
                                             options={"sigma_w2": sw2, "sigma_b2": sb2}, label=f"{activation}, Gaussian")
    return out


def inputs(width: int, examples: int, activation: str, seed: int, sigma_b2: float = SIGMA_B2) -> np.ndarray:
    """Gaussian inputs (width, examples) whose first pre-activation has variance q* (ReLU: 1)."""
    sw2, sb2, q = critical(activation, sigma_b2)
    scale = math.sqrt(max(q - sb2, 0.0) / sw2)
    return np.random.default_rng(20_000 + seed).standard_normal((width, examples)) * scale


def spectrum_study(width: int, depths: Sequence[int], seeds: Sequence[int], examples: int,
                   sigma_b2: float = SIGMA_B2) -> dict[str, Any]:
    """Per case and depth, per seed: the measured v and E λ, the predicted v; the deepest depth's singular
    values of seed 0 (the histogram)."""
    out: dict[str, Any] = {"depths": list(depths), "width": width, "sigma_b2": sigma_b2, "labels": {}}
    for key, case in cases(sigma_b2).items():
        rows: dict[str, Any] = {"v": [], "mean": [], "predicted_v": [], "deepest": []}
        for L in depths:
            net = Network((width,) * (L + 1), activation=case["activation"], loss="mean_squared_error")
            per: dict[str, list[float]] = {"v": [], "mean": [], "predicted_v": []}
            for seed in seeds:
                X = inputs(width, examples, case["activation"], seed, sigma_b2)
                s = spectrum(net, net.init(case["init"], rng=seed, **case["options"]), X)
                per["v"].append(s.relative_variance)
                per["mean"].append(s.mean_squared)
                per["predicted_v"].append(s.predicted_relative_variance)
                if L == depths[-1] and seed == seeds[0]:
                    rows["deepest"] = s.singular_values.ravel().tolist()
            for name, values in per.items():
                rows[name].append(values)
        out[key] = rows
        out["labels"][key] = case["label"]
    return out


def _grows(rows: Mapping[str, Any], depths: Sequence[int]) -> tuple[bool, float, float]:
    """(grows at least about linearly, v's mean at the shallowest, at the deepest depth)."""
    first, last = mean_spread(rows["v"][0])[0], mean_spread(rows["v"][-1])[0]
    needed = GROWTH_SHARE * depths[-1] / depths[0] * first
    return bool(last >= needed and last >= 0.5 * depths[-1]), first, last


def _per_depth(rows: Mapping[str, Any], depths: Sequence[int]) -> str:
    return "; ".join(f"L={L}: {fmt(v, 3)} (free probability {mean_spread(p)[0]:.3g})"
                     for L, v, p in zip(depths, rows["v"], rows["predicted_v"]))


def _growth_rule(depths: Sequence[int]) -> str:
    return (f"v at depth {depths[-1]} ≥ {GROWTH_SHARE:g} × ({depths[-1]}/{depths[0]}) × v at depth {depths[0]}, and "
            f"≥ {depths[-1]}/2")


def relu_claim(study: Mapping[str, Any]) -> Claim:
    depths = study["depths"]
    orth, gauss = _grows(study["relu_orthogonal"], depths), _grows(study["relu_gaussian"], depths)
    return Claim(
        statement="ReLU networks cannot reach dynamical isometry: at criticality the spread of J·Jᵀ's spectrum grows with "
                  "depth for orthogonal and Gaussian weights alike (§2)",
        expected="relative variance v of J·Jᵀ's eigenvalues growing about linearly in depth for both (free probability: "
                 "L − 1 orthogonal, 2L − 1 Gaussian)",
        measured=f"orthogonal: {_per_depth(study['relu_orthogonal'], depths)} | Gaussian: "
                 f"{_per_depth(study['relu_gaussian'], depths)}",
        holds=orth[0] and gauss[0],
        rule=f"for both weight laws, {_growth_rule(depths)}",
    )


def tanh_claim(study: Mapping[str, Any]) -> Claim:
    depths = study["depths"]
    gauss = _grows(study["tanh_gaussian"], depths)
    orth_last = mean_spread(study["tanh_orthogonal"]["v"][-1])[0]
    ratio = orth_last / gauss[2] if gauss[2] > 0 else math.inf
    return Claim(
        statement="tanh networks near q* → 0 reach dynamical isometry with orthogonal weights only: orthogonal keeps "
                  "J·Jᵀ's spectrum narrow at depth, Gaussian spreads it linearly in depth (§2)",
        expected=f"orthogonal v small at every depth, Gaussian v growing about linearly (σ_b² = {study['sigma_b2']:g} at "
                 f"criticality)",
        measured=f"orthogonal: {_per_depth(study['tanh_orthogonal'], depths)} | Gaussian: "
                 f"{_per_depth(study['tanh_gaussian'], depths)}; orthogonal / Gaussian at depth {depths[-1]}: {ratio:.3g}",
        holds=bool(gauss[0] and ratio <= ISOMETRY),
        rule=f"Gaussian: {_growth_rule(depths)}; orthogonal v at depth {depths[-1]} ≤ {ISOMETRY:g} × the Gaussian's",
    )


def training_study(width: int, depths: Sequence[int], seeds: Sequence[int], iterations: int,
                   learning_rate: float = LEARNING_RATE, sigma_b2: float = SIGMA_B2) -> list[dict[str, Any]]:
    """Per depth: common.train_inits of the tanh network from orthogonal and Gaussian weights at criticality."""
    chosen = cases(sigma_b2)
    inits = {chosen[k]["init"]: chosen[k]["options"] for k in ("tanh_orthogonal", "tanh_gaussian")}
    out = []
    for depth in depths:
        net = Network((64,) + (width,) * (depth - 1) + (10,), activation="tanh", loss="cross_entropy")
        result = train_inits(net, list(inits), seeds, iterations, learning_rate, momentum=0.0, batch_size=BATCH,
                             record_every=10, init_options=inits)
        out.append({**result, "depth": depth, "learning_rate": learning_rate, "cap": iterations})
    return out


def _steps(record: Mapping[str, Any], cap: int) -> list[int]:
    return [cap if s is None else int(s) for s in record["first_below"]]


def training_claim(results: Sequence[Mapping[str, Any]]) -> Claim:
    parts, ok = [], True
    for r in results:
        orth, gauss, cap = r["orthogonal"], r["mean_field"], r["cap"]
        so, sg = _steps(orth, cap), _steps(gauss, cap)
        reached = all(s is not None for s in orth["first_below"])
        sooner = all(a <= SOONER * b for a, b in zip(so, sg))
        lower = all(a < b for a, b in zip(orth["final_loss"], gauss["final_loss"]))
        ok = ok and reached and sooner and lower
        parts.append(f"depth {r['depth']}: below ln 10 / 2 at iteration orthogonal {fmt(so)}, Gaussian {fmt(sg)} (never "
                     f"counted as {cap}); final loss orthogonal {fmt(orth['final_loss'])}, Gaussian {fmt(gauss['final_loss'])}")
    return Claim(
        statement="A deep tanh network that is dynamically isometric (orthogonal, at criticality) learns faster than one "
                  "that is not (Gaussian, the same criticality) (the training experiments)",
        expected="orthogonal reaches a given loss sooner and ends lower",
        measured="; ".join(parts),
        holds=bool(ok),
        rule=f"at every depth and in every seed, orthogonal reaches ln 10 / 2 = {HALF_CHANCE:.3f} within the run, in at "
             f"most {SOONER:g}× the Gaussian's iterations, and ends at a lower training loss",
    )


# --- figures ----------------------------------------------------------------------------------------------
STYLES = {"tanh": "o-", "relu": "s:"}


def spectrum_figure(study: Mapping[str, Any]) -> Figure:
    from matplotlib.figure import Figure

    from ..plots import init_color

    fig = Figure(figsize=(11.5, 4.4), layout="constrained")
    ax, bx = fig.subplots(1, 2)
    depths = np.asarray(study["depths"])
    for key, label in study["labels"].items():
        activation, law = key.split("_")
        color = init_color("orthogonal" if law == "orthogonal" else "mean_field")
        mean_band(ax, depths, np.asarray(study[key]["v"]).T, color, f"{label} measured", fmt=STYLES[activation], ms=4)
        ax.plot(depths, np.mean(study[key]["predicted_v"], axis=1), "--", color=color, lw=1, alpha=0.7)
        sv = np.asarray(study[key]["deepest"])
        bx.hist(sv, bins=40, histtype="step", color=color, ls="-" if activation == "tanh" else ":", lw=1.6, label=label)
    ax.plot([], [], "--", color="0.4", lw=1, label="free probability (initlab.jacobian)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("symlog", linthresh=0.1)
    ax.set_xticks(depths, [str(d) for d in depths])
    ax.set_xlabel("depth L (layers)")
    ax.set_ylabel("relative variance of J·Jᵀ's eigenvalues")
    ax.set_title(f"At criticality, width {study['width']} (0: isometry)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    bx.set_xlabel("singular value of J")
    bx.set_ylabel("count (seed 0)")
    bx.set_title(f"Singular values of J at depth {depths[-1]}")
    bx.grid(True, alpha=0.3)
    bx.legend(fontsize="small")
    return fig


def training_figure(results: Sequence[Mapping[str, Any]]) -> Figure:
    return loss_figure(results, {"orthogonal": "orthogonal, critical", "mean_field": "Gaussian, critical"},
                       f"tanh on digits, SGD at lr {LEARNING_RATE:g}: isometric (orthogonal) against not (Gaussian)")


# --- the experiment -----------------------------------------------------------------------------------------
@entry_point
def reproduce(quick: bool = False, seeds: SeedsLike = None) -> Reproduction:
    s = run_settings(quick, seeds, QUICK, FULL)
    study = spectrum_study(s["width"], s["depths"], s["seeds"], s["examples"])
    trained = training_study(s["train_width"], s["train_depths"], s["seeds"], s["iterations"])
    claims = [relu_claim(study), tanh_claim(study), training_claim(trained)]
    tanh = critical("tanh")
    settings = {**s, "depths": list(s["depths"]), "train_depths": list(s["train_depths"]),
                "tanh": f"σ_w² = {tanh[0]:.4g}, σ_b² = {tanh[1]:g} (q* = {tanh[2]:.3g})", "relu": "σ_w² = 2, σ_b² = 0",
                "training": f"SGD lr {LEARNING_RATE:g}, batch {BATCH}, digits", "inits": "orthogonal(gain=√σ_w²), mean_field"}
    return Reproduction(name=NAME, title=TITLE, citation=CITATION, settings=settings, claims=claims,
                        numbers={"spectra": study, "training": trained},
                        drawings={"spectra": drawing(spectrum_figure, study=study),
                                  "training": drawing(training_figure, results=trained)})
