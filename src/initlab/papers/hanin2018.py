"""Hanin & Rolnick 2018: the mean activation length is kept only by Var(w) = 2/fan_in (failure mode 1);
its spread grows with Σ 1/width (failure mode 2).

What the paper claims ("How to Start Training: The Effect of Initialization and Architecture",
NeurIPS 2018, §1 and §3, fully connected ReLU nets): with M_j = ‖z_j‖²/n_j the normalized squared
length of the activations of layer j (M_0 that of the input),

* FM1: E[M_L] stays equal to M_0 at every depth exactly when the weights are symmetric with
  variance 2/fan_in; otherwise it changes exponentially in depth, E[M_L] = (σ²/2)^L·M_0 for
  Var(w) = σ²/fan_in (zero biases);
* FM2: even then the empirical variance of the length scales across the layers of one network
  grows exponentially in β = Σ_j 1/n_j, the sum of the reciprocal widths: deep narrow nets have
  wildly varying lengths, and only β (not the depth or the width alone) decides. The paper's
  quantity is the spread across layers within a network; what is measured here is its companion
  over random networks, the variance of log M_L across draws, whose exact value for ReLU nets is
  Σ_j v(n_j) ≈ 5β (below).

What runs here: for Gaussian weights N(0, σ²/fan_in) and zero biases, `draws` random networks per
seed, each fed `inputs` random inputs (standard normal, length rescaled so that M_0 = 1), one
forward pass through ReLU layers; M_j read at every layer. FM1: σ² ∈ {1 (LeCun, or Xavier for
square layers), 2 (He), 3} at one width; the seed's value is the mean of M_l/M_0 over draws and
inputs. FM2: architectures of constant width n ∈ `widths` at depths `depths` (several with equal β,
e.g. depth 5 at width 16, depth 10 at 32, depth 20 at 64) and one alternating-width net, σ² = 2;
the seed's value is the variance of log M_L over its draws and inputs.

Theory used for the targets (exact for Gaussian weights, any width): layer j multiplies M by
σ²·S_j/n_j with S_j = Σ_i relu(g_i)² over its n_j units, g_i iid N(0, 1), independent of the past
(rotation invariance). So E[M_L] = (σ²/2)^L·M_0 (FM1), E[M_L²]/E[M_L]² = ∏_j (1 + 5/n_j) ≈ e^(5β),
and, S_j being χ² with K_j ~ Binomial(n_j, ½) degrees of freedom,
Var[log M_L] = Σ_j v(n_j), v(n) = E[ψ′(K/2)] + Var[ψ(K/2)] = 5/n + O(1/n²) (ψ the digamma function;
K conditioned on K ≥ 1: a network with a layer of all-dead units has M = 0 and is left out, with
probability about L·2^(−n)). FM2's "grows with β" is checked as the slope of Var[log M_L] against β
over the architectures.

Verdicts:

* FM1 (He): at every depth the seeds' mean of M_L/M_0 is within 10% or 3 standard errors of 1;
* FM1 (others): at every depth the seeds' mean of M_L/M_0 divided by (σ²/2)^L is within 10% or 3
  standard errors of 1, and at the deepest depth (σ²/2)^L is beyond a factor 10 from 1, so that the
  mean length is not preserved;
* FM2: the per-seed least-squares slope of Var[log M_L] against β is positive and its seeds' mean
  within 10% or 3 standard errors of the same fit of the exact theory (about 7 here rather than 5:
  the O(1/n²) term of the narrow width-16 nets); the fit of the seeds' means explains at least 95%
  of their variance (R²); and every architecture's Var[log M_L] is within 10% or 3 standard errors
  of its Σ v(n_j).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .common import (Claim, Reproduction, SeedsLike, drawing, entry_point, fmt, mean_band, mean_spread, run_settings,
                     within)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "hanin2018"
TITLE = "Hanin & Rolnick 2018: only 2/fan_in keeps the mean length; its spread grows with Σ 1/width"
CITATION = ("Hanin & Rolnick 2018, How to Start Training: The Effect of Initialization and Architecture (NeurIPS), "
            "§1 and §3: failure modes FM1 (mean length) and FM2 (variance of the length, β = Σ 1/n_j)")

SIGMAS = (1.0, 2.0, 3.0)
INIT_NAMES = {1.0: "lecun_normal", 2.0: "he_normal", 3.0: "variance_scaling"}  # for the colours
REL, SDS = 0.10, 3.0
FAR = 10.0  # FM1: a mean length off by more than this factor is "not preserved"
MIN_R2 = 0.95

FULL = dict(fm1_width=64, fm1_depths=(5, 10, 20), widths=(16, 32, 64), depths=(5, 10, 20), mixed=((16, 64), 10),
            draws=200, inputs=8, seeds=5)
QUICK = dict(fm1_width=32, fm1_depths=(5, 10), widths=(16, 32, 64), depths=(5, 10), mixed=((16, 64), 10),
             draws=300, inputs=4, seeds=2)


# --- theory ---------------------------------------------------------------------------------------------
def log_variance_per_layer(n: int) -> float:
    """v(n) = Var[log S], S ~ χ²_K, K ~ Binomial(n, ½) conditioned on K ≥ 1 (≈ 5/n)."""
    from scipy.special import polygamma, psi
    from scipy.stats import binom

    k = np.arange(1, n + 1)
    p = binom.pmf(k, n, 0.5)
    p = p / p.sum()
    mean_psi = np.sum(p * psi(k / 2))
    return float(np.sum(p * polygamma(1, k / 2)) + np.sum(p * psi(k / 2) ** 2) - mean_psi**2)


def log_variance(widths: Iterable[int]) -> float:
    """Var[log M_L] of a ReLU net of hidden widths (n_1, …, n_L), Gaussian weights, any σ²: Σ v(n_j)."""
    return float(sum(log_variance_per_layer(int(n)) for n in widths))


def beta(widths: Iterable[float]) -> float:
    """β = Σ_j 1/n_j."""
    return float(sum(1.0 / n for n in widths))


# --- measurement ----------------------------------------------------------------------------------------
def lengths(widths: Sequence[int], sigma_w2: float, draws: int, inputs: int, seed: int | Sequence[int]) -> np.ndarray:
    """M_j/M_0 for j = 1..L, shape (L, draws·inputs): `draws` networks of hidden widths `widths`,
    drawn from ``numpy.random.default_rng(seed)`` (an int or a tuple of ints),
    weights N(0, σ²/fan_in) (``variance_scaling(σ², "fan_in", "normal")``), zero biases, ReLU, each
    fed `inputs` N(0, 1) inputs of length rescaled to M_0 = 1 (input width = widths[0])."""
    rng = np.random.default_rng(seed)
    n0 = int(widths[0])
    x = rng.standard_normal((n0, inputs))
    h = np.broadcast_to(x / np.sqrt(np.mean(x**2, axis=0)), (draws, n0, inputs))  # M_0 = 1 per input
    out, fan_in = [], n0
    for n in widths:
        W = rng.standard_normal((draws, int(n), fan_in)) * np.sqrt(sigma_w2 / fan_in)
        h = np.maximum(W @ h, 0.0)
        out.append(np.mean(h**2, axis=1).ravel())
        fan_in = int(n)
    return np.array(out)


def fm1_study(width: int, depths: Sequence[int], draws: int, inputs: int, seeds: Iterable[int],
              sigmas: Iterable[float] = SIGMAS) -> dict[str | float, Any]:
    """Per σ²: per seed, the mean over draws and inputs of M_l/M_0 at every layer l = 1..max(depths)."""
    L = max(depths)
    out: dict[str | float, Any] = {"width": width, "depths": list(depths)}
    for s2 in sigmas:
        means = [[float(v) for v in lengths((width,) * L, s2, draws, inputs, (seed, 1, round(1000 * s2))).mean(axis=1)]
                 for seed in seeds]
        out[s2] = {"mean": means, "theory": [(s2 / 2) ** l for l in range(1, L + 1)]}
    return out


def architectures(widths: Iterable[int], depths: Iterable[int],
                  mixed: tuple[Sequence[int], int] | None) -> list[tuple[str, tuple[int, ...]]]:
    """Constant-width nets (width, depth) for each pair, then one alternating-width net."""
    archs = [(f"width {n}, depth {L}", (int(n),) * int(L)) for L in depths for n in widths]
    if mixed:
        pattern, L = mixed
        archs.append((f"widths {'/'.join(map(str, pattern))} alternating, depth {L}",
                      tuple(int(pattern[j % len(pattern)]) for j in range(L))))
    return archs


def fm2_study(widths: Iterable[int], depths: Iterable[int], mixed: tuple[Sequence[int], int] | None, draws: int,
              inputs: int, seeds: Iterable[int]) -> dict[str, Any]:
    """Per architecture and seed Var[log M_L] (σ² = 2), with β and the exact theory; per seed the
    least-squares slope and intercept against β."""
    archs = architectures(widths, depths, mixed)
    var, dead = [], []
    for a, (name, ws) in enumerate(archs):
        per, lost = [], []
        for seed in seeds:
            M = lengths(ws, 2.0, draws, inputs, (seed, 2, a))[-1]
            alive = M > 0
            per.append(float(np.var(np.log(M[alive]), ddof=1)))
            lost.append(int((~alive).sum()))
        var.append(per)
        dead.append(lost)
    betas = np.array([beta(ws) for _, ws in archs])
    theory = np.array([log_variance(ws) for _, ws in archs])
    V = np.array(var)  # architectures × seeds
    slopes = [float(np.polyfit(betas, V[:, j], 1)[0]) for j in range(V.shape[1])]
    theory_slope, theory_intercept = (float(v) for v in np.polyfit(betas, theory, 1))
    mean = V.mean(axis=1)
    fit = np.polyfit(betas, mean, 1)
    residual = mean - np.polyval(fit, betas)
    r2 = float(1 - np.sum(residual**2) / np.sum((mean - mean.mean()) ** 2))
    return {"names": [n for n, _ in archs], "widths": [list(ws) for _, ws in archs], "beta": betas.tolist(),
            "log_var": var, "dead": dead, "theory": theory.tolist(), "slopes": slopes,
            "fit": [float(v) for v in fit], "r2": r2, "theory_slope": theory_slope,
            "theory_intercept": theory_intercept}


# --- verdicts --------------------------------------------------------------------------------------------
def preserved_claim(study: Mapping[str | float, Any], sigma_w2: float = 2.0) -> Claim:
    """FM1: at every depth the mean M_L/M_0 within REL or SDS s.e. of 1 (the claim for 2/fan_in)."""
    r = study[sigma_w2]
    rows = [[m[L - 1] for m in r["mean"]] for L in study["depths"]]
    ok = all(within(v, 1.0, REL, SDS) for v in rows)
    return Claim(
        statement=f"With Var(w) = {sigma_w2:g}/fan_in the mean normalized length is preserved at every depth: "
                  "E[M_L] = M_0 (FM1 avoided)",
        expected="E[M_L]/M_0 = 1 at every depth L",
        measured="mean of M_L/M_0: " + "; ".join(f"L={L}: {fmt(v, 3)}" for L, v in zip(study["depths"], rows))
                 + f" (width {study['width']})",
        holds=bool(ok),
        rule=f"at every depth the seeds' mean within {REL:.0%} or {SDS:g} standard errors of 1",
    )


def exponential_claim(study: Mapping[str | float, Any], sigmas: Iterable[float] = (1.0, 3.0)) -> Claim:
    """FM1: for σ² ≠ 2, M_L/M_0 follows (σ²/2)^L (ratio within tolerance of 1) and is far from 1."""
    parts, ok = [], True
    for s2 in sigmas:
        r = study[s2]
        rows = [[m[L - 1] / r["theory"][L - 1] for m in r["mean"]] for L in study["depths"]]
        ok &= all(within(v, 1.0, REL, SDS) for v in rows)
        deepest = study["depths"][-1]
        predicted = r["theory"][deepest - 1]
        ok &= predicted >= FAR or predicted <= 1 / FAR
        means = [mean_spread([m[deepest - 1] for m in r["mean"]])[0]]
        parts.append(f"σ² = {s2:g}: measured/predicted " + ", ".join(f"L={L}: {fmt(v, 3)}"
                                                                      for L, v in zip(study["depths"], rows))
                     + f"; E[M_{deepest}]/M_0 = {means[0]:.3g}")
    return Claim(
        statement="Any other variance makes the mean length vanish or explode exponentially with depth: "
                  "E[M_L] = (σ²/2)^L·M_0 (FM1)",
        expected="; ".join(f"σ² = {s2:g}: E[M_L]/M_0 = " + ", ".join(f"L={L}: {(s2 / 2) ** L:.3g}"
                                                                     for L in study["depths"]) for s2 in sigmas),
        measured="; ".join(parts),
        holds=bool(ok),
        rule=f"for each σ² at every depth the seeds' mean of (M_L/M_0)/(σ²/2)^L within {REL:.0%} or {SDS:g} "
             f"standard errors of 1, and (σ²/2)^L beyond ×{FAR:g} from 1 at the deepest depth",
    )


def spread_claim(study: Mapping[str, Any]) -> Claim:
    """FM2: Var[log M_L] grows linearly in β with the exact theory's slope, the fit is good, and every
    architecture's spread matches the exact theory."""
    slopes = study["slopes"]
    each = [within(v, t, REL, SDS) for v, t in zip(study["log_var"], study["theory"])]
    ok = min(slopes) > 0 and within(slopes, study["theory_slope"], REL, SDS) and study["r2"] >= MIN_R2 and all(each)
    same: dict[float, list[str]] = {}
    for name, b, v, t in zip(study["names"], study["beta"], study["log_var"], study["theory"]):
        same.setdefault(round(b, 6), []).append(f"{name} → {mean_spread(v)[0]:.2f} (theory {t:.2f})")
    groups = ["β = " + f"{b:.3g}: " + ", ".join(g) for b, g in same.items() if len(g) > 1]
    worst = max(abs(mean_spread(v)[0] / t - 1) for v, t in zip(study["log_var"], study["theory"]))
    dead = sum(sum(d) for d in study["dead"])
    return Claim(
        statement="The spread of the activation length grows with β = Σ 1/width (FM2): Var[log M_L] = Σ v(n_j) ≈ 5β, "
                  "so nets of equal β spread alike whatever their depth (up to O(Σ 1/n_j²))",
        expected=f"slope of Var[log M_L] against β over these architectures: {study['theory_slope']:.3g} (exact "
                 "Gaussian-weight theory Σ v(n_j), v(n) = 5/n + O(1/n²)); each architecture at its Σ v(n_j)",
        measured=f"slope {fmt(slopes, 3)}, R² of the fit {study['r2']:.3f}; largest deviation of an architecture from "
                 f"its theory {worst:.1%}; " + "; ".join(groups)
                 + (f"; {dead} of the samples had a layer of dead units (M = 0) and were left out" if dead else ""),
        holds=bool(ok),
        rule=f"every seed's slope > 0, the seeds' mean slope within {REL:.0%} or {SDS:g} standard errors of the "
             f"theory's, R² ≥ {MIN_R2:g}, and every architecture's mean Var[log M_L] within {REL:.0%} or {SDS:g} "
             "standard errors of its Σ v(n_j)",
    )


# --- figures ------------------------------------------------------------------------------------------------
def fm1_figure(study: Mapping[str, Any]) -> Figure:
    from matplotlib.figure import Figure

    from ..plots import init_color

    fig = Figure(figsize=(7.0, 4.4), layout="constrained")
    ax = fig.add_subplot()
    for s2 in SIGMAS:
        if str(s2) not in study:  # keys as in the reproduction's numbers: "2.0"
            continue
        m = np.asarray(study[str(s2)]["mean"])
        layers = np.arange(1, m.shape[1] + 1)
        color = init_color(INIT_NAMES.get(s2, "variance_scaling"))
        mean_band(ax, layers, m, color, f"Var(w) = {s2:g}/fan_in measured", "o-", ms=3, lw=2)
        ax.plot(layers, study[str(s2)]["theory"], "--", color="0.2", lw=0.8)
    ax.plot([], [], "--", color="0.2", lw=0.8, label="(σ²/2)^l (theory)")
    ax.set_yscale("log")
    ax.set_xlabel("layer l")
    ax.set_ylabel("E[M_l] / M_0 (mean over networks and inputs)")
    ax.set_title(f"FM1: mean normalized length, ReLU width {study['width']} (band: min–max over seeds)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def fm2_figure(study: Mapping[str, Any]) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 4.6), layout="constrained")
    ax = fig.add_subplot()
    betas = np.asarray(study["beta"])
    V = np.asarray(study["log_var"])
    palette = {16: "#1b9e77", 32: "#d95f02", 64: "#7570b3"}
    markers = {5: "o", 10: "s", 20: "^"}
    for name, ws, b, v in zip(study["names"], study["widths"], betas, V):
        constant = len(set(ws)) == 1
        color = palette.get(ws[0], "0.3") if constant else "0.2"
        marker = markers.get(len(ws), "D") if constant else "*"
        sd = v.std(ddof=1) if v.size > 1 else 0.0
        ax.errorbar([b], [v.mean()], yerr=[sd], fmt=marker, color=color, ms=7 if constant else 11, capsize=3,
                    label=name)
    grid = np.linspace(0, betas.max() * 1.05, 50)
    ax.plot(grid, np.polyval(study["fit"], grid), "-", color="0.5", lw=1,
            label=f"fit: slope {study['fit'][0]:.2f}, R² {study['r2']:.3f}")
    ax.scatter(betas, study["theory"], marker="x", color="black", s=40, zorder=3,
               label="exact theory Σ v(n_j) of each net")
    ax.plot(grid, 5 * grid, ":", color="black", lw=1, label="5β")
    ax.set_xlabel("β = Σ 1/n_j (sum of reciprocal widths)")
    ax.set_ylabel("Var[log M_L] over networks and inputs")
    ax.set_title("FM2: spread of the output length, He init (error bars: sd over seeds)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="x-small", ncol=2)
    return fig


# --- the experiment ---------------------------------------------------------------------------------------
@entry_point
def reproduce(quick: bool = False, seeds: SeedsLike = None) -> Reproduction:
    s = run_settings(quick, seeds, QUICK, FULL)
    fm1 = fm1_study(s["fm1_width"], s["fm1_depths"], s["draws"], s["inputs"], s["seeds"])
    fm2 = fm2_study(s["widths"], s["depths"], s["mixed"], s["draws"], s["inputs"], s["seeds"])
    claims = [preserved_claim(fm1), exponential_claim(fm1), spread_claim(fm2)]
    settings = {**s, "fm1_depths": list(s["fm1_depths"]), "widths": list(s["widths"]), "depths": list(s["depths"]),
                "mixed": [list(s["mixed"][0]), s["mixed"][1]], "sigmas": list(SIGMAS), "weights": "N(0, σ²/fan_in)",
                "biases": 0.0, "activation": "relu"}
    numbers = {"fm1": {str(k) if isinstance(k, float) else k: v for k, v in fm1.items()}, "fm2": fm2}
    return Reproduction(
        name=NAME, title=TITLE, citation=CITATION, settings=settings, claims=claims, numbers=numbers,
        drawings={"fm1": drawing(fm1_figure, study=numbers["fm1"]), "fm2": drawing(fm2_figure, study=fm2)},
    )
