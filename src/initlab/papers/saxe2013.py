"""Saxe, McClelland & Ganguli 2013: orthogonal products keep their spectrum, scaled Gaussian products
lose it, and deep linear nets learn from orthogonal init in a depth-independent number of steps.

What the paper claims ("Exact solutions to the nonlinear dynamics of learning in deep linear neural
networks", ICLR 2014, arXiv:1312.6120):

* §3 ("Finding good weight initializations: on greediness and randomness", Fig. 6B): a product of
  random orthogonal matrices has every singular value exactly 1, whereas a product of scaled random
  Gaussian matrices (entries N(0, 1/n), which preserve the norm of a vector on average) has a
  spectrum that spreads with depth: most singular values become small while a few grow. The paper
  computes that spectrum numerically. (Its limit, used here as the target, is free probability's,
  not the paper's: the squared singular values of a product of L such matrices follow the
  Fuss–Catalan law of order L, with mean 1 and second moment L + 1; Haagerup & Möller 2012.)
* §2–3 (learning times, Fig. 4; orthogonal against Gaussian init over depth, Fig. 6A): with the
  learning rate chosen optimally for each depth, a deep linear network started from orthogonal
  matrices learns in a number of steps that does not grow with depth ("only a finite, depth
  independent, delay" relative to shallow networks, abstract), while from scaled Gaussian init the
  learning time grows with depth.

What runs here, small:

* spectrum: for each depth L (1 … 16) and seed, the product W_L ⋯ W_1 of L square `n`×`n` matrices
  drawn by ``orthogonal`` and by ``lecun_normal`` (N(0, 1/n), Saxe's scaled Gaussian); all its
  singular values. Target for the Gaussian: the fraction of singular values below 0.1 (squared
  below 0.01) under the Fuss–Catalan law of order L, computed here from its parametrized density
  (Haagerup & Möller 2012; checked against its moments 1 and L + 1).
* learning: deep LINEAR networks (``Network``, activation ``linear``, loss ``mean_squared_error``)
  of `depth` square layers of width `width`, learning a fixed random linear map T (entries
  N(0, 1/n), one per seed) from whitened inputs (X = √n·I, so the loss is ½‖W_L⋯W_1 − T‖²_F / n).
  Full-batch gradient descent from orthogonal and from N(0, 1/n) init; we count the steps until the
  loss is at most 5% of the loss of the zero map (½‖T‖²_F / n), with a cap. Learning rates
  η = η₀/L for η₀ in ``ETAS`` (steps of √2; at init an orthogonal net's end-to-end map moves by
  η·L·∇ per step, so η₀ is the depth-free step size): every (init, depth, seed) gets its best rate
  from the same grid, as the paper compares learning times at each network's optimal learning rate.
  The orthogonal learning time still grows at small depths and then levels off (the paper's finite
  delay relative to shallow nets); with a 1% threshold it levels off later (in a trial, mean steps
  12, 38, 54, 68, 88, 85 at depths 2, 4, 8, 16, 32, 64), with 5% from about depth 16.

Verdicts:

* orthogonal: every singular value of every product is 1 within 1e-9;
* Gaussian: at every depth the seeds' mean fraction of singular values below 0.1 is within 10% (or 3
  standard errors) of the Fuss–Catalan value, and at the deepest depth it is above ½;
* orthogonal learning: every run reaches the threshold, and the mean steps at the deepest depth are
  at most 1.5× those at half that depth (the learning time has stopped growing: a finite delay);
* Gaussian learning: the mean steps grow with depth (never fall from one depth to the next; "not
  reached" counts as the cap, a lower bound) and at the deepest depth they are at least 10× those at
  the shallowest.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ..initializers import get_initializer
from ..network import Network
from .common import Claim, Reproduction, SeedsLike, drawing, entry_point, fmt, mean_spread, run_settings, within

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "saxe2013"
TITLE = "Saxe et al. 2013: orthogonal init keeps the spectrum and learns in depth-independent time"
CITATION = ("Saxe, McClelland & Ganguli 2013 (ICLR 2014), Exact solutions to the nonlinear dynamics of learning in "
            "deep linear neural networks, §2 (depth-independent learning times, Fig. 4) and §3 (random orthogonal "
            "initializations, Fig. 6)")

INITS = {"orthogonal": "orthogonal", "gaussian": "lecun_normal"}  # lecun_normal = N(0, 1/fan_in)
LABELS = {"orthogonal": "orthogonal", "gaussian": "scaled Gaussian N(0, 1/n)"}
SMALL = 0.1  # a singular value below this is "lost"
ETAS = (0.2, 0.28, 0.4, 0.57, 0.8, 1.13)  # η₀ (steps of √2); the learning rate is η₀ / depth
THRESHOLD = 0.05  # loss at most this fraction of the zero map's loss
ORTHO_TOL = 1e-9
REL, SDS = 0.10, 3.0
PLATEAU = 1.5  # orthogonal: steps(D) ≤ PLATEAU × steps(D/2)
GROWTH = 10.0  # Gaussian: steps(D_max) ≥ GROWTH × steps(D_min)

FULL = dict(n=100, spectrum_depths=(1, 2, 4, 8, 16), width=16, depths=(2, 4, 8, 16, 32), cap=2000, seeds=5)
QUICK = dict(n=100, spectrum_depths=(1, 4, 16), width=16, depths=(4, 16, 32), cap=1000, seeds=2)


# --- the spectrum of products ---------------------------------------------------------------------------
def _fc_log_x(phi: float, s: int) -> float:
    return (s + 1) * np.log(np.sin((s + 1) * phi)) - np.log(np.sin(phi)) - s * np.log(np.sin(s * phi))


def _fc_density(phi: float, s: int) -> float:
    """The Fuss–Catalan density at x(φ), φ ∈ (0, π/(s+1)) (Haagerup & Möller 2012)."""
    log = 2 * np.log(np.sin(phi)) + (s - 1) * np.log(np.sin(s * phi)) - s * np.log(np.sin((s + 1) * phi))
    return np.exp(log) / np.pi


def fuss_catalan_cdf(t: float, s: int) -> float:
    """P(x ≤ t) for x Fuss–Catalan of order s (s = 1: Marchenko–Pastur with ratio 1): the limit law of
    the squared singular values of a product of s square N(0, 1/n) matrices.

    Parametrization x(φ) = sin((s+1)φ)^(s+1) / (sin φ · sin(sφ)^s), decreasing from (s+1)^(s+1)/s^s at
    φ = 0 to 0 at φ = π/(s+1); the mass above t is ∫ρ(x(φ))·|x′(φ)| dφ over φ ∈ (0, φ_t).

    >>> round(fuss_catalan_cdf(0.01, 1), 4)   # Marchenko–Pastur: P(λ ≤ 0.01)
    0.0636
    """
    from scipy.integrate import quad
    from scipy.optimize import brentq

    if t <= 0:
        return 0.0
    top = math.pi / (s + 1)
    if t >= (s + 1) ** (s + 1) / s**s:
        return 1.0
    lo, hi = 1e-9 * top, top * (1 - 1e-12)
    phi_t = brentq(lambda p: _fc_log_x(p, s) - math.log(t), lo, hi, xtol=1e-15)

    def weight(p: float, h: float = 1e-7 * top) -> float:
        dx = (np.exp(_fc_log_x(p + h, s)) - np.exp(_fc_log_x(p - h, s))) / (2 * h)
        return _fc_density(p, s) * abs(dx)

    above, _ = quad(weight, 2e-7 * top, phi_t, limit=200)
    return float(min(1.0, max(0.0, 1.0 - above)))


def product_singular_values(init: str, depth: int, n: int, seed: int) -> np.ndarray:
    """Singular values of W_depth ⋯ W_1, n×n matrices drawn by the initializer `init` from seed."""
    rng = np.random.default_rng(seed)
    draw = get_initializer(init)
    M = np.eye(n)
    for _ in range(depth):
        M = draw((n, n), rng) @ M
    return np.linalg.svd(M, compute_uv=False)


def spectrum_study(n: int, depths: Sequence[int], seeds: Iterable[int]) -> dict[str, Any]:
    """Per init and depth, per seed: max |σ − 1|, mean σ², mean σ⁴, fraction of σ below SMALL; the
    Fuss–Catalan fraction; and the deepest depth's singular values (for the figure)."""
    out: dict[str, Any] = {"depths": list(depths), "n": n,
                           "theory_small": [fuss_catalan_cdf(SMALL**2, L) for L in depths]}
    for key, init in INITS.items():
        rows: dict[str, list[Any]] = {"max_dev": [], "ms": [], "m4": [], "small": [], "deepest": []}
        for L in depths:
            per: dict[str, list[float]] = {k: [] for k in ("max_dev", "ms", "m4", "small")}
            for seed in seeds:
                sv = product_singular_values(init, L, n, seed)
                per["max_dev"].append(float(np.max(np.abs(sv - 1))))
                per["ms"].append(float(np.mean(sv**2)))
                per["m4"].append(float(np.mean(sv**4)))
                per["small"].append(float(np.mean(sv < SMALL)))
                if L == depths[-1]:
                    rows["deepest"].extend(float(v) for v in sv)
            for k, v in per.items():
                rows[k].append(v)
        out[key] = rows
    return out


def orthogonal_spectrum_claim(spec: Mapping[str, Any]) -> Claim:
    worst = max(max(v) for v in spec["orthogonal"]["max_dev"])
    return Claim(
        statement="A product of orthogonal matrices keeps every singular value at 1, at any depth (§3)",
        expected="all singular values exactly 1",
        measured=f"largest |σ − 1| over depths {spec['depths']} and all seeds: {worst:.2g}",
        holds=bool(worst <= ORTHO_TOL),
        rule=f"every singular value within {ORTHO_TOL:g} of 1",
    )


def gaussian_spectrum_claim(spec: Mapping[str, Any]) -> Claim:
    g, theory = spec["gaussian"], spec["theory_small"]
    n = spec["n"]
    close = [within(v, t, REL, SDS) or abs(mean_spread(v)[0] - t) <= SDS * math.sqrt(t * (1 - t) / (n * len(v)))
             for v, t in zip(g["small"], theory)]
    deepest = mean_spread(g["small"][-1])[0]
    parts = "; ".join(f"L={L}: {fmt(v, 2)} (law {t:.3f})" for L, v, t in zip(spec["depths"], g["small"], theory))
    return Claim(
        statement="A product of scaled Gaussian matrices loses most of its spectrum with depth: its squared singular "
                  "values keep mean 1 in expectation but spread, and most fall toward 0 (§3, Fig. 6B)",
        expected=f"fraction of singular values below {SMALL:g}: the Fuss–Catalan law of order L ("
                 + ", ".join(f"L={L}: {t:.3f}" for L, t in zip(spec["depths"], theory)) + "); E[σ⁴] = L + 1",
        measured=f"fraction below {SMALL:g}: {parts}; mean σ² at L={spec['depths'][-1]}: {fmt(g['ms'][-1], 3)}, "
                 f"E[σ⁴] {fmt(g['m4'][-1], 3)} (heavy-tailed; reported, not judged)",
        holds=bool(all(close) and deepest > 0.5),
        rule=f"at every depth the mean fraction within {REL:.0%} of the law, or {SDS:g} standard errors (the seeds' "
             f"spread, or the binomial √(p(1−p)/(n·seeds)), which bounds the sampling noise of a fraction of n = {n} "
             f"singular values), and above ½ at the deepest depth (L = {spec['depths'][-1]})",
    )


# --- learning times ------------------------------------------------------------------------------------------
def linear_network(depth: int, width: int) -> Network:
    """`depth` square weight layers, linear, squared loss."""
    return Network((width,) * (depth + 1), activation="linear", loss="mean_squared_error")


def task(width: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Whitened inputs X = √n·I (n × n) and the targets Y = T·X of a random map T ~ N(0, 1/n)."""
    T = np.random.default_rng(10_000 + seed).standard_normal((width, width)) / math.sqrt(width)
    X = math.sqrt(width) * np.eye(width)
    return X, T @ X


def steps_to_threshold(network: Network, params: np.ndarray, X: np.ndarray, Y: np.ndarray, learning_rates: ArrayLike,
                       thresholds: ArrayLike, cap: int) -> np.ndarray:
    """Full-batch gradient descent on a stack of networks (params (B, P), targets Y (B, n, m)).

    Returns, per row, the first step at which the loss is at most its threshold, −1 if not within
    `cap` steps, −2 if it diverged (a non-finite loss, or one above 10⁶ times its threshold).
    """
    steps = np.full(len(params), -1)
    rows = np.arange(len(params))
    P, Y, lr, th = params.copy(), Y, np.asarray(learning_rates, float), np.asarray(thresholds, float)
    m = X.shape[1]
    for i in range(cap + 1):
        with np.errstate(all="ignore"):
            ZL, cache = network.forward(P, X)
            loss = 0.5 * np.sum((ZL - Y) ** 2, axis=(-2, -1)) / m
        done = loss <= th
        bad = ~np.isfinite(loss) | (loss > 1e6 * th)
        steps[rows[done]] = i
        steps[rows[bad]] = -2
        keep = ~(done | bad)
        if not keep.any() or i == cap:
            break
        if not keep.all():
            rows, P, Y, lr, th = rows[keep], P[keep], Y[keep], lr[keep], th[keep]
            with np.errstate(all="ignore"):
                ZL, cache = network.forward(P, X)
        with np.errstate(all="ignore"):
            grad = network.backward_from(P, cache, (ZL - Y) / m).grad
        P = P - lr[:, None] * grad
    return steps


def learning_study(width: int, depths: Sequence[int], seeds: Sequence[int], cap: int, etas: Sequence[float] = ETAS,
                   inits: Mapping[str, str] = INITS) -> dict[str, Any]:
    """Steps to the threshold per init, depth and seed at the best η₀ of `etas`, −1 if none reached it.

    Returns {"depths", "cap", init: {"steps": [[per seed] per depth], "eta0": [[best η₀ or None]],
    "grid": [[[steps per η₀] per seed] per depth]}}.
    """
    out: dict[str, Any] = {"depths": list(depths), "cap": cap, "etas": list(etas), "width": width,
                           "threshold": THRESHOLD}
    for key in inits:
        out[key] = {"steps": [], "eta0": [], "grid": []}
    for L in depths:
        net = linear_network(L, width)
        params, targets, rates, thresholds, index = [], [], [], [], []
        for key, init in inits.items():
            for seed in seeds:
                X, Y = task(width, seed)
                p = net.init(init, rng=seed)
                for eta in etas:
                    params.append(p)
                    targets.append(Y)
                    rates.append(eta / L)
                    thresholds.append(THRESHOLD * 0.5 * np.sum(Y**2) / Y.shape[1])
                    index.append((key, seed, eta))
        steps = steps_to_threshold(net, np.array(params), X, np.array(targets), rates, thresholds, cap)
        for key in inits:
            best, best_eta, grid = [], [], []
            for seed in seeds:
                row = [int(s) for (k, sd, _), s in zip(index, steps) if k == key and sd == seed]
                grid.append(row)
                ok = [(s, e) for s, e in zip(row, etas) if s >= 0]
                best.append(min(ok)[0] if ok else -1)
                best_eta.append(min(ok)[1] if ok else None)
            out[key]["steps"].append(best)
            out[key]["eta0"].append(best_eta)
            out[key]["grid"].append(grid)
    return out


def _capped(steps: Iterable[int], cap: int) -> list[int]:
    """Steps with 'not reached' (−1) counted as the cap (a lower bound)."""
    return [s if s >= 0 else cap for s in steps]


def _describe(steps: Sequence[int], cap: int) -> str:
    reached = [s for s in steps if s >= 0]
    missing = len(steps) - len(reached)
    if not reached:
        return f"not reached within {cap} ({len(steps)} seeds)"
    text = fmt(reached, 3)
    return text + (f", not reached within {cap} in {missing} of {len(steps)} seeds" if missing else "")


def orthogonal_learning_claim(study: Mapping[str, Any]) -> Claim:
    steps, depths, cap = study["orthogonal"]["steps"], study["depths"], study["cap"]
    all_reached = all(s >= 0 for row in steps for s in row)
    last, before = mean_spread(_capped(steps[-1], cap))[0], mean_spread(_capped(steps[-2], cap))[0]
    ratio = last / before
    return Claim(
        statement="A deep linear net from orthogonal init learns in a number of steps that stops growing with depth "
                  "(a finite, depth-independent delay; §2–3, Figs. 4 and 6A)",
        expected="steps to the threshold level off as depth grows",
        measured="steps at the best rate: "
                 + "; ".join(f"depth {L}: {_describe(s, cap)}" for L, s in zip(depths, steps))
                 + f"; depth {depths[-1]} / depth {depths[-2]} = {ratio:.2f}",
        holds=bool(all_reached and ratio <= PLATEAU),
        rule=f"every run reaches the threshold within {cap} steps and the mean steps at depth {depths[-1]} are at most "
             f"{PLATEAU:g}× those at depth {depths[-2]}",
    )


def gaussian_learning_claim(study: Mapping[str, Any]) -> Claim:
    steps, depths, cap = study["gaussian"]["steps"], study["depths"], study["cap"]
    means = [mean_spread(_capped(row, cap))[0] for row in steps]
    grows = all(b >= a for a, b in zip(means, means[1:]))
    factor = means[-1] / means[0]
    return Claim(
        statement="From scaled Gaussian init the number of steps grows with depth (§3, Fig. 6A)",
        expected="steps to the threshold grow with depth",
        measured="steps at the best rate: "
                 + "; ".join(f"depth {L}: {_describe(s, cap)}" for L, s in zip(depths, steps))
                 + f"; depth {depths[-1]} / depth {depths[0]} ≥ {factor:.3g}",
        holds=bool(grows and factor >= GROWTH),
        rule=f"the mean steps ('not reached' counted as the cap {cap}) never fall from one depth to the next and at "
             f"depth {depths[-1]} are at least {GROWTH:g}× those at depth {depths[0]}",
    )


# --- figures ----------------------------------------------------------------------------------------------
def spectrum_figure(spec: Mapping[str, Any]) -> Figure:
    from matplotlib.figure import Figure

    from ..plots import init_color

    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    ax, bx = fig.subplots(1, 2)
    depths = np.asarray(spec["depths"])
    for key, init in INITS.items():
        small = np.asarray(spec[key]["small"])
        mean, sd = small.mean(axis=1), small.std(axis=1, ddof=1) if small.shape[1] > 1 else np.zeros(len(depths))
        ax.errorbar(depths, mean, yerr=sd, fmt="o-", color=init_color(init), capsize=3, label=f"{LABELS[key]} measured")
        sv = np.asarray(spec[key]["deepest"])
        bins = np.linspace(-10, 1.5, 70)
        bx.hist(np.log10(np.maximum(sv, 1e-10)), bins=bins, color=init_color(init), alpha=0.6, label=LABELS[key])
    fine = np.array([1, 2, 3, 4, 6, 8, 12, 16, 24, 32])
    fine = fine[fine <= depths.max()]
    ax.plot(fine, [fuss_catalan_cdf(SMALL**2, int(L)) for L in fine], "--", color="0.2",
            label="Fuss–Catalan law (free probability)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(depths, [str(d) for d in depths])
    ax.set_xlabel("depth L (matrices in the product)")
    ax.set_ylabel(f"fraction of singular values below {SMALL:g}")
    ax.set_ylim(-0.05, 1.0)
    ax.set_title(f"Products of {spec['n']}×{spec['n']} random matrices")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    bx.axvline(np.log10(SMALL), color="0.4", ls="--", lw=1, label=f"σ = {SMALL:g}")
    bx.set_xlabel("log₁₀ singular value (below −10 counted at −10)")
    bx.set_ylabel("count (all seeds)")
    bx.set_title(f"Singular values of the depth-{spec['depths'][-1]} product")
    bx.grid(True, alpha=0.3)
    bx.legend(fontsize="small")
    return fig


def learning_figure(study: Mapping[str, Any]) -> Figure:
    from matplotlib.figure import Figure

    from ..plots import init_color

    fig = Figure(figsize=(7.0, 4.4), layout="constrained")
    ax = fig.add_subplot()
    depths, cap = np.asarray(study["depths"]), study["cap"]
    for key, init in INITS.items():
        color = init_color(init)
        steps = np.asarray([_capped(row, cap) for row in study[key]["steps"]], dtype=float)
        reached = np.asarray([[s >= 0 for s in row] for row in study[key]["steps"]])
        ax.plot(depths, steps.mean(axis=1), "-", color=color, lw=2,
                label=f"{LABELS[key]} (mean over seeds; 'not reached' at the cap)")
        for j, L in enumerate(depths):
            ax.scatter([L] * int(reached[j].sum()), steps[j][reached[j]], color=color, s=14, alpha=0.7)
            if (~reached[j]).any():
                ax.scatter([L], [cap], marker="^", color=color, s=60, edgecolors="black", linewidths=0.5,
                           label="not reached within the cap" if key == "gaussian" and j == len(depths) - 1 else None)
    ax.axhline(cap, color="0.5", ls=":", lw=1)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(depths, [str(d) for d in depths])
    ax.set_xlabel("depth (weight layers)")
    ax.set_ylabel(f"GD steps until loss ≤ {THRESHOLD:g} × loss of the zero map")
    grid = ", ".join(f"{e:g}" for e in study["etas"])
    ax.set_title(f"Deep linear nets of width {study['width']} learning a random map\n"
                 f"(each run at its best η = η₀/depth, η₀ ∈ {{{grid}}})", fontsize="medium")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return fig


# --- the experiment -----------------------------------------------------------------------------------------
@entry_point
def reproduce(quick: bool = False, seeds: SeedsLike = None) -> Reproduction:
    s = run_settings(quick, seeds, QUICK, FULL)
    spec = spectrum_study(s["n"], s["spectrum_depths"], s["seeds"])
    learn = learning_study(s["width"], s["depths"], s["seeds"], s["cap"])
    claims = [orthogonal_spectrum_claim(spec), gaussian_spectrum_claim(spec), orthogonal_learning_claim(learn),
              gaussian_learning_claim(learn)]
    settings = {**s, "spectrum_depths": list(s["spectrum_depths"]), "depths": list(s["depths"]), "etas": list(ETAS),
                "learning_rate": "η₀ / depth, best η₀ per run", "threshold": THRESHOLD, "inputs": "whitened, X = √n·I",
                "target": "T ~ N(0, 1/n) per seed", "inits": dict(INITS)}
    return Reproduction(
        name=NAME, title=TITLE, citation=CITATION, settings=settings, claims=claims,
        numbers={"spectrum": spec, "learning": learn},
        drawings={"spectrum": drawing(spectrum_figure, spec=spec), "learning": drawing(learning_figure, study=learn)},
    )
