"""He et al. 2015, Figs. 2–3: a deep ReLU net trains from He init and stalls from Xavier init.

The paper ("Delving Deep into Rectifiers", §2.2, eq. 10) shows that in a ReLU net the variance of
the responses is multiplied by ½·n_l·Var[w_l] at each layer: 1 with its init (Var[w] = 2/n), ½ with
Xavier's (Var[w] = 1/n for square layers), so in a 30-layer net the variance of the deep responses
shrinks by about 2⁻³⁰ from Xavier init (their std by 1/√(2^L) of He's). Fig. 3: a 30-layer ReLU model converges from He init and stalls (its error does
not fall) from Xavier init; Fig. 2: a 22-layer model converges from both, He's starting to reduce
the error earlier.

What runs here, small: plain MLPs of ReLU layers (width 64, zero biases) on scikit-learn's digits
(64 features, 10 classes, softmax cross-entropy), trained from ``he_normal`` and ``xavier_normal``
by minibatch SGD with momentum 0.9 (the paper's solver; no weight decay, lr 0.002, batch 64, 1000
updates ≈ 47 epochs), at depth 30 (Fig. 3) and at a moderate depth of 12 (Fig. 2: at 20–22 layers
this small MLP from Xavier only starts to move after 1000 updates, so the moderate depth is 12 here).
Each seed draws both inits from the same standard normals (they differ only in scale) and trains
them on the same minibatch order. The per-layer variance factor is measured at init on the
training set.

Verdicts (rules in ``Claim.rule``):

* variance: the per-layer factor (q_{L−1}/q_1)^(1/(L−2)) of the mean squared pre-activation, over
  the hidden layers of the 30-layer net, is within 10% (or 3 standard errors) of the theory's
  σ_w²/2 (``theory.length_map``: 1 for He, ½ for Xavier), for both inits (at width 64 the
  finite-width drift of log q, Hanin & Rolnick 2018, puts the measured factors a few percent low);
* deep (Fig. 3): in every seed He's final training loss is below half the chance-level loss
  (ln 10 / 2) and Xavier's stays within 5% of its initial loss;
* moderate (Fig. 2): in every seed both final losses are below ln 10 / 2, and He's loss first
  falls below ln 10 / 2 at an earlier recorded iteration than Xavier's.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data import Dataset, get_dataset
from .common import (HALF_CHANCE, Claim, Reproduction, SeedsLike, deep_claim, drawing, entry_point, fmt, loss_figure,
                     mean_band, mean_spread, reach, relu_net, run_settings, seed_list, train_inits)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "he2015-depth"
TITLE = "He et al. 2015: a 30-layer ReLU net trains from He init and stalls from Xavier init"
CITATION = "He, Zhang, Ren & Sun 2015, Delving Deep into Rectifiers, §2.2 (eq. 10), Figs. 2–3"

INITS = ("he_normal", "xavier_normal")
LABELS = {"he_normal": "He", "xavier_normal": "Xavier"}
FACTOR_TOL = 0.10  # per-layer variance factor: relative tolerance

FULL = dict(deep=30, moderate=12, width=64, iterations=1000, learning_rate=0.002, momentum=0.9,
            batch_size=64, record_every=25, seeds=5)
QUICK = dict(deep=30, moderate=12, width=64, iterations=600, learning_rate=0.002, momentum=0.9,
             batch_size=64, record_every=100, seeds=2)


def train_depth(depth: int, seeds: SeedsLike = (0, 1), width: int = 64, iterations: int = 1000,
                learning_rate: float = 0.002, momentum: float = 0.9, batch_size: int = 64, record_every: int = 25,
                inits: Sequence[str] = INITS, data: Dataset | None = None, engine: str = "auto") -> dict[str, Any]:
    """He vs Xavier (by default) on a `depth`-layer ReLU net of `width` units: ``train_inits``'s numbers."""
    out = train_inits(relu_net(depth, width), inits, seed_list(seeds, 2), iterations, learning_rate, momentum,
                      batch_size, record_every, data, engine=engine)
    out["depth"] = depth
    return out


# --- the variance of the responses at init (§2.2) -----------------------------------------------
def theory_factor(sigma_w2: float) -> float:
    """The mean-field per-layer factor q^l/q^{l−1} of a ReLU net: length_map(1, σ_w², 0, relu) = σ_w²/2."""
    from ..theory import length_map

    return length_map(1.0, sigma_w2, 0.0, "relu")


def realized_sigma_w2(name: str, width: int) -> float:
    """σ_w² = n·Var[w] of a square width×width layer under the init `name` (He 2, Xavier 1)."""
    return {"he_normal": 2.0, "xavier_normal": 2.0 * width / (width + width)}[name]


def variance_profile(depth: int, seeds: SeedsLike = (0, 1), width: int = 64, inits: Sequence[str] = INITS,
                     X: np.ndarray | None = None) -> dict[str, dict[str, Any]]:
    """Mean squared pre-activation q_l of each hidden layer l = 1..L−1 at init, on X (digits by default).

    Returns {init: {"q": [[q_1 … q_{L−1}] per seed], "factor": [per-layer factor per seed],
    "theory": σ_w²/2}}: the factor is (q_{L−1}/q_1)^(1/(L−2)), the geometric mean of q_l/q_{l−1}
    over the square hidden layers 2..L−1.
    """
    X = get_dataset("digits").X_train if X is None else X
    network = relu_net(depth, width, n_in=X.shape[0])
    out: dict[str, dict[str, Any]] = {}
    for name in inits:
        qs, factors = [], []
        for seed in seed_list(seeds, 2):
            _, cache = network.forward(network.init(name, rng=seed), X)
            q = [float(np.mean(Z**2)) for _, Z in cache[:-1]]
            qs.append(q)
            factors.append(float((q[-1] / q[0]) ** (1.0 / (depth - 2))))
        out[name] = {"q": qs, "factor": factors, "theory": theory_factor(realized_sigma_w2(name, width))}
    return out


def _close(values: Sequence[float], target: float, rel: float, sds: float = 3.0) -> bool:
    """The seeds' mean within `rel` (relative) or `sds` standard errors of `target`."""
    mean, sd = mean_spread(values)
    return abs(mean - target) <= max(rel * abs(target), sds * sd / math.sqrt(len(values)))


# --- verdicts ---------------------------------------------------------------------------------------
def variance_claim(profile: Mapping[str, Mapping[str, Any]], depth: int) -> Claim:
    holds = all(_close(profile[n]["factor"], profile[n]["theory"], FACTOR_TOL) for n in INITS if n in profile)
    measured = "; ".join(f"{LABELS[n]} {fmt(profile[n]['factor'])}" for n in INITS if n in profile)
    expected = "; ".join(f"{LABELS[n]} {profile[n]['theory']:g}" for n in INITS if n in profile)
    return Claim(
        statement=f"Each ReLU layer multiplies the response variance by ½·n·Var[w]: 1 from He init, ½ from Xavier "
                  f"init (over the {depth - 2} square hidden layers of the {depth}-layer net, at init)",
        expected=f"per-layer factor {expected} (eq. 10; theory.length_map)",
        measured=f"per-layer factor (q_{depth - 1}/q_1)^(1/{depth - 2}): {measured}",
        holds=holds,
        rule=f"each init's mean factor within {FACTOR_TOL:.0%} or 3 standard errors of the theory",
    )


def moderate_claim(result: Mapping[str, Any]) -> Claim:
    """Both end below ln 10 / 2 in every seed; He crosses ln 10 / 2 first in every seed."""
    he, xa = result["he_normal"], result["xavier_normal"]
    both = all(f < HALF_CHANCE for f in he["final_loss"] + xa["final_loss"])
    sooner = all(h is not None and (x is None or h < x) for h, x in zip(he["first_below"], xa["first_below"]))
    return Claim(
        statement=f"At moderate depth ({result['depth']} layers) both inits train, He sooner (Fig. 2)",
        expected="both converge; He's error starts falling earlier",
        measured=f"final loss He {fmt(he['final_loss'])}, Xavier {fmt(xa['final_loss'])}; loss below ln 10 / 2: "
                 f"He {reach(he)}, Xavier {reach(xa)}",
        holds=both and sooner,
        rule=f"in every seed both final losses < ln 10 / 2 = {HALF_CHANCE:.3f}, and He's loss falls below it at an "
             "earlier recorded iteration than Xavier's",
    )


# --- figures ------------------------------------------------------------------------------------
def variance_figure(profile: Mapping[str, Mapping[str, Any]], depth: int) -> Figure:
    """q_l/q_1 by hidden layer at init, measured (mean over seeds, band min–max) and theory (dashed)."""
    from matplotlib.figure import Figure

    from ..plots import init_color

    fig = Figure(figsize=(7.0, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for name in INITS:
        ratios = np.log2(np.asarray(profile[name]["q"]) / np.asarray(profile[name]["q"])[:, :1])
        layers = np.arange(1, ratios.shape[1] + 1)
        color = init_color(name)
        mean_band(ax, layers, ratios, color, f"{LABELS[name]} measured", "o-", ms=3)
        ax.plot(layers, (layers - 1) * np.log2(profile[name]["theory"]), "--", color=color,
                label=f"{LABELS[name]} theory (factor {profile[name]['theory']:g} per layer)")
    ax.set_xlabel("hidden layer l")
    ax.set_ylabel("log₂ (q_l / q_1), q = mean squared pre-activation")
    ax.set_title(f"Response variance at init, {depth}-layer ReLU net on digits")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return fig


# --- the experiment ---------------------------------------------------------------------------------
@entry_point
def reproduce(quick: bool = False, seeds: SeedsLike = None) -> Reproduction:
    s = run_settings(quick, seeds, QUICK, FULL)
    data = get_dataset("digits")
    common = dict(seeds=s["seeds"], width=s["width"], iterations=s["iterations"], learning_rate=s["learning_rate"],
                  momentum=s["momentum"], batch_size=s["batch_size"], record_every=s["record_every"], data=data)
    deep, moderate = train_depth(s["deep"], **common), train_depth(s["moderate"], **common)
    profile = variance_profile(s["deep"], s["seeds"], s["width"], X=data.X_train)
    claims = [variance_claim(profile, s["deep"]), deep_claim(deep, "he_normal", "xavier_normal", LABELS, "Fig. 3"), moderate_claim(moderate)]
    settings = {**s, "optimizer": "momentum", "activation": "relu", "dataset": "digits", "inits": list(INITS),
                "threshold": HALF_CHANCE}
    return Reproduction(
        name=NAME, title=TITLE, citation=CITATION, settings=settings, claims=claims,
        numbers={"deep": deep, "moderate": moderate, "variance": profile},
        drawings={"loss": drawing(loss_figure, results=[moderate, deep], labels=LABELS,
                                  title="Training loss by depth and init (mean over seeds, band: min–max)"),
                  "variance": drawing(variance_figure, profile=profile, depth=s["deep"])},
    )
