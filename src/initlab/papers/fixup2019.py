"""Fixup (Zhang et al. 2019), SkipInit and ReZero (2020), depth-μP and CompleteP (2023–2025): deep residual
MLPs without normalization — which start trains, and whether the learning rate transfers across depth.

What the papers claim:

* Fixup (Zhang, Dauphin & Ma 2019, "Fixup Initialization: Residual Learning Without Normalization",
  ICLR; §2 and §3): at a standard initialization (He branches added to the stream, no normalization)
  the gradient of a deep residual network explodes (the paper's lower bound on its norm at
  initialization explains why normalization is needed); zeroing each branch's last layer and the
  classification layer and scaling the other branch layers by L^(−1/(2m−2)) trains it stably without
  normalization ("even for networks with 10,000 layers", abstract).
* SkipInit (De & Smith 2020) and ReZero (Bachlechner et al. 2020, eq. 1: x_{i+1} = x_i + α_i F(x_i), α_i
  learnable from 0): one scalar per branch starting at 0 trains deep residual networks without
  normalization; ReZero's abstract reports fully connected networks of 10,000 layers and "1,500%
  faster convergence" for deep fully connected ones (not checked here).
* Depth-μP (Yang et al. 2023; Bordelon et al. 2023) and CompleteP (Dey et al. 2025): with branches
  × 1/√L or × 1/L the optimal learning rate stays put as depth grows (hyperparameter transfer across
  depth); with branches × 1 it does not.

What runs here, small, on scikit-learn's digits (64 features, 10 classes, cross-entropy), each network
``residual_network(64, width, K, 10, residual=scheme)`` drawn by He (``he_normal``):

* trainability: K = `blocks` blocks of two `width` × `width` layers (quick 16, full 64), SGD with
  momentum 0.9 at one learning rate for every scheme, batches of 128, the same minibatch order; the
  standard start is Fixup's baseline (post-activation blocks, α = 1: the stream's variance ×2 per
  block, 2^K in all, ``theory.residual_stream``); Fixup (post), SkipInit (α = 0.1), ReZero, depth-μP and
  CompleteP (pre-activation blocks).
* depth transfer: K ∈ `transfer_depths`, width `transfer_width`, plain SGD for `transfer_iterations`,
  the learning rate on a grid of factors of 2; each (scheme, depth)'s best learning rate is the grid
  point of lowest mean final training loss over the seeds (a diverged run counts as +∞), for standard
  (pre, α = 1), depth-μP (α = 1/√K) and CompleteP (α = 1/K, SGD's branch learning rates × K).

Verdicts:

* standard explodes: in every seed its loss at initialization is at least 100 × ln 10 (a uniform guess
  is ln 10) and its training diverges;
* the branch schemes train: each of them, in every seed, ends below ln 10 / 2;
* depth transfer: under depth-μP and CompleteP every depth's best learning rate is within a factor 4
  (two grid steps: the best rate sits next to the divergence edge, where one step can tip a run) of
  the shallowest's; under standard the deepest depth's is at most 1/8 of the shallowest's, or no
  learning rate of the grid trains it at all.

Seen (full settings, 3 seeds): standard's loss at initialization ~10^12, diverged at iteration 1; every
scheme below ln 10 / 2 within 10–30 iterations; best rates standard 1.02, 0.032, none (K = 2, 8, 32),
depth-μP 1.02, 1.02, 0.512, CompleteP 1.02, 1.02, 2.05.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data import get_dataset
from ..network import residual_network
from ..theory import residual_stream
from ..training import TrainOptions, train_many
from .common import HALF_CHANCE, Claim, Reproduction, SeedsLike, drawing, entry_point, first_below, fmt, run_settings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "fixup2019"
TITLE = "Fixup, SkipInit, ReZero and depth-μP: deep residual MLPs train without normalization; 1/√K and 1/K transfer the learning rate"
CITATION = ("Zhang, Dauphin & Ma 2019 (ICLR), Fixup Initialization: Residual Learning Without Normalization, §2–3; De & "
            "Smith 2020 (SkipInit); Bachlechner et al. 2020, ReZero is All You Need, eq. 1; Yang et al. 2023 (Tensor "
            "Programs VI), Bordelon et al. 2023 and Dey et al. 2025 (CompleteP): depth transfer of the learning rate")

SCHEMES = {"standard": "standard(order=post)", "fixup": "fixup", "skipinit": "skipinit(alpha=0.1)", "rezero": "rezero",
           "depth_mup": "depth_mup", "completep": "completep"}
TRANSFER = {"standard": "standard", "depth_mup": "depth_mup", "completep": "completep"}
LEARNING_RATE, MOMENTUM, BATCH = 0.01, 0.9, 128
EXPLODED = 100.0  # standard's initial loss ≥ EXPLODED × ln 10
SAME = 4.0  # depth-scaled: best learning rates within this factor (two grid steps: the best sits by the divergence edge) of the shallowest's
SHIFT = 8.0  # standard: the deepest's best ≤ shallowest's / SHIFT (or none)

FULL = dict(blocks=64, width=64, iterations=200, transfer_depths=(2, 8, 32), transfer_width=32, transfer_iterations=100,
            rates=tuple(0.008 * 2**k for k in range(11)), seeds=3)
QUICK = dict(blocks=16, width=32, iterations=100, transfer_depths=(2, 8), transfer_width=16, transfer_iterations=60,
             rates=tuple(0.016 * 2**k for k in range(8)), seeds=2)


def _final(run: Any, X: np.ndarray, Y: np.ndarray) -> float:
    return math.inf if run.diverged else float(run.cost(X, Y))


def trainability(blocks: int, width: int, seeds: Sequence[int], iterations: int, learning_rate: float = LEARNING_RATE,
                 schemes: Mapping[str, str] = SCHEMES) -> dict[str, Any]:
    """Per scheme and seed: the loss at initialization, the final loss (+∞ if diverged), where it diverged,
    the first recorded iteration below ln 10 / 2, and the loss curve."""
    data = get_dataset("digits")
    every = max(1, iterations // 20)
    grid = list(range(0, iterations, every))
    out: dict[str, Any] = {"blocks": blocks, "width": width, "iterations": grid, "learning_rate": learning_rate,
                           "growth": float(residual_stream(1.0, 0.0, [1.0] * blocks, [[(2.0, 0.0)] * 2] * blocks, "relu").q[-1]),
                           "labels": dict(schemes)}
    for key, scheme in schemes.items():
        net = residual_network(64, width, blocks, 10, residual=scheme, loss="cross_entropy")
        params = np.stack([net.init("he_normal", rng=seed) for seed in seeds])
        options = TrainOptions(learning_rate, iterations, every, optimizer="momentum", optimizer_options={"beta": MOMENTUM},
                               batch_size=BATCH, seed=0)
        runs = train_many(net, params, data.X_train, data.Y_train, options)
        record: dict[str, list[Any]] = {"initial_loss": [], "final_loss": [], "diverged_at": [], "first_below": [], "costs": []}
        for run in runs:
            costs = np.full(len(grid), np.nan)
            costs[: len(run.costs)] = run.costs
            record["initial_loss"].append(float(run.costs[0]))
            record["final_loss"].append(_final(run, data.X_train, data.Y_train))
            record["diverged_at"].append(None if run.divergence is None else run.divergence.iteration)
            record["first_below"].append(first_below(grid, costs, HALF_CHANCE))
            record["costs"].append([float(c) if np.isfinite(c) else None for c in costs])
        out[key] = record
    return out


def explodes_claim(t: Mapping[str, Any]) -> Claim:
    r = t["standard"]
    exploded = all(i >= EXPLODED * math.log(10) for i in r["initial_loss"])
    diverged = all(d is not None for d in r["diverged_at"])
    return Claim(
        statement=f"Without normalization, a {t['blocks']}-block residual network at the standard start (He branches, "
                  "α = 1) explodes: it cannot be trained at the learning rate the branch schemes train at (Fixup §2)",
        expected=f"the output's scale ×√(2^K) at initialization (the stream's variance ×{t['growth']:.3g}, "
                 "theory.residual_stream), training diverges",
        measured=f"loss at initialization {fmt(r['initial_loss'])}; diverged at iteration "
                 + ", ".join("never" if d is None else str(d) for d in r["diverged_at"]) + f" ({len(r['diverged_at'])} seeds)",
        holds=bool(exploded and diverged),
        rule=f"in every seed the initial loss ≥ {EXPLODED:g} × ln 10 = {EXPLODED * math.log(10):.0f} and the run diverges "
             f"(lr {t['learning_rate']:g}, momentum {MOMENTUM:g})",
    )


def _losses(values: Sequence[float]) -> str:
    """fmt of the final losses, or how many seeds diverged (a loss of +∞)."""
    bad = sum(not math.isfinite(v) for v in values)
    return fmt(values) if not bad else f"diverged in {bad} of {len(values)} seeds"


def trains_claim(t: Mapping[str, Any]) -> Claim:
    keys = [k for k in t["labels"] if k != "standard"]
    ok = all(f < HALF_CHANCE for k in keys for f in t[k]["final_loss"])
    parts = [f"{t['labels'][k]}: final {_losses(t[k]['final_loss'])}, below ln 10 / 2 at iteration "
             + ", ".join("never" if i is None else str(i) for i in t[k]["first_below"]) for k in keys]
    return Claim(
        statement=f"Fixup, SkipInit, ReZero and the depth-scaled branches train the same {t['blocks']}-block network "
                  "without normalization, at the same learning rate (Fixup §3, ReZero eq. 1)",
        expected="each converges",
        measured="; ".join(parts),
        holds=bool(ok),
        rule=f"every scheme but standard ends below ln 10 / 2 = {HALF_CHANCE:.3f} in every seed",
    )


def transfer(depths: Sequence[int], width: int, seeds: Sequence[int], iterations: int, rates: Sequence[float],
             schemes: Mapping[str, str] = TRANSFER) -> dict[str, Any]:
    """Per scheme and depth: the mean final loss over seeds at each learning rate (+∞ if any seed diverged) and
    the best rate (None when every rate diverged)."""
    data = get_dataset("digits")
    out: dict[str, Any] = {"depths": list(depths), "rates": list(rates), "width": width, "labels": dict(schemes)}
    for key, scheme in schemes.items():
        losses, best = [], []
        for K in depths:
            net = residual_network(64, width, K, 10, residual=scheme, loss="cross_entropy")
            params = np.stack([net.init("he_normal", rng=seed) for seed in seeds])
            row = []
            for lr in rates:
                runs = train_many(net, params, data.X_train, data.Y_train,
                                  TrainOptions(lr, iterations, iterations, batch_size=BATCH, seed=0))
                row.append(float(np.mean([_final(r, data.X_train, data.Y_train) for r in runs])))
            losses.append([v if math.isfinite(v) else None for v in row])
            finite = [v for v in row if math.isfinite(v)]
            best.append(rates[row.index(min(finite))] if finite else None)
        out[key] = {"loss": losses, "best": best}
    return out


def _best_text(t: Mapping[str, Any], key: str) -> str:
    return ", ".join(f"K={K}: {'none trains' if b is None else f'{b:.3g}'}" for K, b in zip(t["depths"], t[key]["best"]))


def transfer_claim(t: Mapping[str, Any]) -> Claim:
    stays = True
    for key in ("depth_mup", "completep"):
        best = t[key]["best"]
        stays = stays and all(b is not None for b in best) and all(max(b, best[0]) / min(b, best[0]) <= SAME for b in best)
    std = t["standard"]["best"]
    shifts = std[0] is not None and (std[-1] is None or std[-1] <= std[0] / SHIFT)
    return Claim(
        statement="With branches × 1/√K (depth-μP) or × 1/K (CompleteP) the best learning rate stays put as the residual "
                  "network deepens; with branches × 1 it does not (Yang et al. 2023, Bordelon et al. 2023, Dey et al. 2025)",
        expected="depth-scaled: one best learning rate at every depth; standard: the best rate falls with depth",
        measured="best learning rate — " + "; ".join(f"{t['labels'][k]}: {_best_text(t, k)}" for k in t["labels"])
                 + f" (mean over {t.get('seeds', 'the')} seeds)",
        holds=bool(stays and shifts),
        rule=f"depth_mup and completep: every depth's best rate within ×{SAME:g} (two grid steps) of K={t['depths'][0]}'s; "
             f"standard: K={t['depths'][-1]}'s at most 1/{SHIFT:g} of K={t['depths'][0]}'s, or no rate of the grid trains it",
    )


# --- figures ----------------------------------------------------------------------------------------------
def trainability_figure(t: Mapping[str, Any]) -> Figure:
    from matplotlib.figure import Figure

    from ..plots import init_colors
    from .common import mean_band

    fig = Figure(figsize=(8.0, 4.6), layout="constrained")
    ax = fig.add_subplot()
    colors = init_colors(t["labels"].values())
    its = np.asarray(t["iterations"])
    for key, label in t["labels"].items():
        costs = np.array([[np.nan if c is None else c for c in row] for row in t[key]["costs"]], dtype=float)
        mean_band(ax, its, costs, colors[label], f"{label} ({len(costs)} seeds)", nan=True, lw=2)
    ax.axhline(HALF_CHANCE, color="0.4", ls="--", lw=1, label="ln 10 / 2 (half chance level)")
    ax.set_yscale("log")
    ax.set_xlabel("iteration (minibatch updates)")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.set_title(f"{t['blocks']} residual blocks of width {t['width']} on digits, lr {t['learning_rate']:g}\n"
                 "(standard: the loss is not finite after its first steps)", fontsize="medium")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def transfer_figure(t: Mapping[str, Any]) -> Figure:
    import matplotlib
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13.0, 4.4), layout="constrained")
    axes = fig.subplots(1, len(t["labels"]), sharey=True)
    cmap = matplotlib.colormaps["viridis"]
    rates = np.asarray(t["rates"])
    for ax, (key, label) in zip(axes, t["labels"].items()):
        for j, K in enumerate(t["depths"]):
            loss = np.array([np.nan if v is None else v for v in t[key]["loss"][j]], dtype=float)
            color = cmap(j / max(1, len(t["depths"]) - 1))
            if np.isfinite(loss).any():
                ax.plot(rates, loss, "o-", ms=3, color=color, label=f"K = {K}")
            else:
                ax.plot([], [], "o-", color=color, label=f"K = {K}: every rate diverged")
            best = t[key]["best"][j]
            if best is not None:
                ax.axvline(best, color=color, ls=":", lw=1)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("learning rate (SGD)")
        ax.set_ylabel("final training loss (mean over seeds)")
        ax.set_title(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    return fig


# --- the experiment -----------------------------------------------------------------------------------------
@entry_point
def reproduce(quick: bool = False, seeds: SeedsLike = None) -> Reproduction:
    s = run_settings(quick, seeds, QUICK, FULL)
    t = trainability(s["blocks"], s["width"], s["seeds"], s["iterations"])
    d = transfer(s["transfer_depths"], s["transfer_width"], s["seeds"], s["transfer_iterations"], s["rates"])
    d["seeds"] = len(s["seeds"])
    claims = [explodes_claim(t), trains_claim(t), transfer_claim(d)]
    settings = {**s, "transfer_depths": list(s["transfer_depths"]), "rates": [round(r, 6) for r in s["rates"]],
                "schemes": dict(SCHEMES), "init": "he_normal", "data": "digits",
                "trainability": f"SGD momentum {MOMENTUM:g}, lr {LEARNING_RATE:g}, batch {BATCH}",
                "transfer": f"SGD, batch {BATCH}"}
    return Reproduction(name=NAME, title=TITLE, citation=CITATION, settings=settings, claims=claims,
                        numbers={"trainability": t, "transfer": d},
                        drawings={"trainability": drawing(trainability_figure, t=t), "transfer": drawing(transfer_figure, t=d)})
