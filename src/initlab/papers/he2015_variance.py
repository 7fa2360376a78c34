"""He et al. 2015, §2.2: the per-layer variance factor ½·(1+a²)·n·Var[w] of a rectifier network.

What the paper claims ("Delving Deep into Rectifiers", §2.2, "Forward Propagation Case"): with
``y_l = W_l x_l`` and ``x_l = f(y_{l−1})`` a ReLU, ``Var[y_l] = ½·n_l·Var[w_l]·Var[y_{l−1}]`` (eq. 8),
so ``Var[y_L] = Var[y_1]·∏ ½·n_l·Var[w_l]`` (eq. 9) and the signal keeps its size exactly when
``½·n_l·Var[w_l] = 1`` (eq. 10), i.e. Var[w] = 2/n_in. The Xavier-like 1/n_in (§2.2, "Comparisons
with Xavier Initialization") makes each factor ½: the variance halves at every layer. For PReLU /
leaky rectifiers of negative slope a the condition becomes ½·(1+a²)·n_l·Var[w_l] = 1, i.e.
Var[w] = 2/((1+a²)·n_in) (the paper initializes a = 0.25).

What runs here: plain networks of `depth` square layers of `width` units, zero biases, on a batch of
standard-normal inputs, at init (no training). Per seed we draw the weights, run one forward pass and
record q_l, the mean square of the pre-activations y_l over units and examples (He's Var[y_l]), and
the per-layer ratio q_{l+1}/q_l. Four settings:

* ReLU with ``he_normal`` (Var[w] = 2/n): theory factor 1;
* ReLU with ``lecun_normal`` (Var[w] = 1/n, Xavier's for square layers): theory ½;
* leaky ReLU, slope a = 0.25, with ``he_normal(a=0.25)`` (2/((1+a²)n)): theory 1;
* leaky ReLU a = 0.25 with plain 2/n: theory 1 + a² = 1.0625 — the (1+a²) term is real.

Why the arithmetic mean of the ratios: for weights whose rows are sign-symmetric, flipping a row's
sign swaps the positive and negative parts of that unit, so E[Σφ(y)²/Σy²] = (1+a²)/2 exactly and
E[q_{l+1}/q_l] = ½·(1+a²)·n·Var[w] exactly, at any width. The per-seed value is the mean of the
ratios over the layers; the verdict compares the seeds' mean to the formula.

Verdict (each claim): the seeds' mean per-layer ratio is within ``REL`` (3%) relative or 3 standard
errors of ½·(1+a²)·n·Var[w] (``common.within``). 3% separates the leaky 2/n factor 1.0625 from 1.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..activations import get_activation
from ..network import Network
from .common import (Claim, Reproduction, SeedsLike, drawing, entry_point, fmt, mean_band, mean_spread, run_settings,
                     within)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "he2015-variance"
TITLE = "He et al. 2015: Var[w] = 2/n keeps a ReLU net's signal, 1/n halves it at every layer"
CITATION = ("He, Zhang, Ren & Sun 2015, Delving Deep into Rectifiers, §2.2 (Forward Propagation Case, "
            "eqs. 8–10; the PReLU form ½(1+a²)n·Var[w] = 1; Comparisons with Xavier Initialization)")

SLOPE = 0.25  # He et al.'s initial PReLU slope
REL = 0.03  # relative tolerance of a per-layer factor
SDS = 3.0

FULL = dict(depth=30, width=512, batch=64, seeds=5)
QUICK = dict(depth=12, width=256, batch=32, seeds=2)

# name -> (activation, slope a, initializer, its options, Var[w]·n, label)
SETTINGS = {
    "relu_he": ("relu", 0.0, "he_normal", {}, 2.0, "ReLU, Var[w] = 2/n (He)"),
    "relu_xavier": ("relu", 0.0, "lecun_normal", {}, 1.0, "ReLU, Var[w] = 1/n (Xavier-like)"),
    "leaky_he": ("leaky_relu", SLOPE, "he_normal", {"a": SLOPE}, 2.0 / (1 + SLOPE**2),
                 f"leaky a = {SLOPE:g}, Var[w] = 2/((1+a²)n)"),
    "leaky_plain": ("leaky_relu", SLOPE, "he_normal", {}, 2.0, f"leaky a = {SLOPE:g}, Var[w] = 2/n"),
}


def theory_factor(sigma_w2: float, slope: float = 0.0) -> float:
    """He's per-layer factor Var[y_l]/Var[y_{l−1}] = ½·(1+a²)·n·Var[w] (eq. 8; PReLU form)."""
    return 0.5 * (1.0 + slope**2) * sigma_w2


def network(depth: int, width: int, activation: str = "relu", slope: float = 0.0) -> Network:
    """`depth` square hidden layers of `width` units (plus the one-unit output layer Network needs)."""
    act = get_activation(activation, slope=slope) if activation == "leaky_relu" else get_activation(activation)
    return Network((width,) * (depth + 1) + (1,), activation=(act,) * depth)


def measure(depth: int, width: int, batch: int, seed: int, activation: str = "relu", slope: float = 0.0,
            init: str = "he_normal", options: Mapping[str, Any] | None = None) -> tuple[list[float], float]:
    """One draw: q_l = mean(y_l²) of the `depth` hidden layers on N(0, 1) inputs (width, batch).

    Returns (q, ratio): q as a list, and the mean over layers of q_{l+1}/q_l.
    """
    net = network(depth, width, activation, slope)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((width, batch))
    params = net.init(init, rng=rng, **(options or {}))
    _, cache = net.forward(params, X)
    q = np.array([np.mean(Z**2) for _, Z in cache[:-1]])
    return [float(v) for v in q], float(np.mean(q[1:] / q[:-1]))


def study(key: str, depth: int, width: int, batch: int, seeds: Iterable[int]) -> dict[str, Any]:
    """Every seed of one setting of ``SETTINGS``: {"q": [[q_l] per seed], "ratio": [per seed], "theory"}."""
    activation, slope, init, options, sigma_w2, label = SETTINGS[key]
    qs, ratios = [], []
    for seed in seeds:
        q, ratio = measure(depth, width, batch, seed, activation, slope, init, options)
        qs.append(q)
        ratios.append(ratio)
    return {"label": label, "activation": activation, "slope": slope, "init": init, "sigma_w2": sigma_w2,
            "q": qs, "ratio": ratios, "theory": theory_factor(sigma_w2, slope)}


def factor_claim(result: Mapping[str, Any], statement: str, target: float | None = None) -> Claim:
    """The seeds' mean per-layer ratio vs He's factor (or `target`), within REL or SDS standard errors."""
    target = result["theory"] if target is None else target
    q = np.asarray(result["q"])
    depth = q.shape[1]
    total = float(np.exp(np.mean(np.log(q[:, -1] / q[:, 0]))))  # geometric mean over seeds of q_L/q_1
    return Claim(
        statement=statement,
        expected=f"per-layer factor ½·(1+a²)·n·Var[w] = {target:.4g} (so ×{target ** (depth - 1):.3g} over "
                 f"{depth - 1} layers)",
        measured=f"per-layer factor {fmt(result['ratio'], 4)}; q_{depth}/q_1 = ×{total:.3g} (geometric mean over "
                 "seeds)",
        holds=bool(within(result["ratio"], target, REL, SDS)),
        rule=f"mean over seeds of the per-layer ratio q_(l+1)/q_l within {REL:.0%} or {SDS:g} standard errors "
             f"of {target:.4g}",
    )


def signal_figure(results: Mapping[str, Mapping[str, Any]], depth: int, width: int) -> Figure:
    """q_l/q_1 against depth (log scale), each setting's mean over seeds, band min–max, theory dashed;
    and the per-layer factors with their spread against the formula."""
    from matplotlib.figure import Figure

    from ..plots import init_color

    fig = Figure(figsize=(12.0, 4.4), layout="constrained")
    ax, bx = fig.subplots(1, 2, width_ratios=(1.6, 1.0))
    styles = {"relu_he": "-", "relu_xavier": "-", "leaky_he": "--", "leaky_plain": ":"}
    layers = np.arange(1, depth + 1)
    for i, (key, r) in enumerate(results.items()):
        q = np.asarray(r["q"])
        rel = q / q[:, :1]
        color = init_color(r["init"])
        mean_band(ax, layers, rel, color, f"{r['label']}", styles[key], alpha=0.15, lw=2)
        ax.plot(layers, r["theory"] ** (layers - 1), color="0.2", lw=0.8, ls=(0, (2, 2)))
        mean, sd = mean_spread(r["ratio"])
        bx.errorbar([i], [mean], yerr=[sd], fmt="o", color=color, capsize=4, label="measured (± sd over seeds)"
                    if i == 0 else None)
        bx.plot([i - 0.3, i + 0.3], [r["theory"]] * 2, color="0.2", lw=1.5,
                label="½(1+a²)·n·Var[w]" if i == 0 else None)
    ax.plot([], [], color="0.2", lw=0.8, ls=(0, (2, 2)), label="theory ∏ ½(1+a²)·n·Var[w]")
    ax.set_yscale("log")
    ax.set_xlabel("layer l")
    ax.set_ylabel("Var[y_l] / Var[y_1] (mean square of pre-activations)")
    ax.set_title(f"Forward signal at init, width {width} (mean over seeds, band: min–max)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    ticks = {"relu_he": "ReLU\n2/n", "relu_xavier": "ReLU\n1/n", "leaky_he": f"leaky {SLOPE:g}\n2/((1+a²)n)",
             "leaky_plain": f"leaky {SLOPE:g}\n2/n"}
    bx.set_xticks(range(len(results)), [ticks.get(key, key) for key in results], fontsize="small")
    bx.set_xlabel("activation and Var[w]")
    bx.set_ylabel("per-layer factor q_(l+1) / q_l")
    bx.set_title("Per-layer factor vs He's formula")
    bx.grid(True, axis="y", alpha=0.3)
    bx.legend(fontsize="small")
    return fig


@entry_point
def reproduce(quick: bool = False, seeds: SeedsLike = None) -> Reproduction:
    s = run_settings(quick, seeds, QUICK, FULL)
    results = {key: study(key, s["depth"], s["width"], s["batch"], s["seeds"]) for key in SETTINGS}
    claims = [
        factor_claim(results["relu_he"], "ReLU with Var[w] = 2/n_in keeps the forward signal's second moment "
                                         "constant over depth (eq. 10)"),
        factor_claim(results["relu_xavier"], "ReLU with Var[w] = 1/n_in (Xavier-like) halves it at every layer"),
        factor_claim(results["leaky_he"], f"Leaky ReLU / PReLU (a = {SLOPE:g}) with Var[w] = 2/((1+a²)·n_in) keeps "
                                          "it constant"),
        factor_claim(results["leaky_plain"], f"…and plain 2/n_in with a = {SLOPE:g} grows it by 1+a² per layer "
                                             "(the (1+a²) term matters)"),
    ]
    settings = {**s, "inputs": "N(0, 1)", "biases": 0.0, "slope": SLOPE, "rel_tolerance": REL, "sds": SDS}
    return Reproduction(
        name=NAME, title=TITLE, citation=CITATION, settings=settings, claims=claims,
        numbers={key: r for key, r in results.items()},
        drawings={"signal": drawing(signal_figure, results=results, depth=s["depth"], width=s["width"])},
    )
