"""Mishkin & Matas 2015: LSUV brings every layer's output variance to 1 and trains a deep net that
orthogonal-only init does not.

The paper ("All you need is a good init", ICLR 2016), §2, Algorithm 1: pre-initialize every layer
with an orthonormal matrix (Saxe et al.), then, from the first layer to the last, forward a
mini-batch and divide W_L by √Var(B_L), B_L the layer's output, until |Var(B_L) − 1| < Tol_var
(0.1) or T_max (10) rescalings. §3: with it, very deep and thin networks (FitNets) train from the
start, matching or beating the other initializations; the orthonormal start alone leaves the
variance of the responses to the nonlinearity (for ReLU it halves at every layer).

What runs here, small: a 30-layer ReLU MLP (width 64, zero biases) on scikit-learn's digits.
ReLU is the choice where orthogonal-only init fails: an orthogonal matrix of gain 1 preserves the
norm of its input, and each ReLU drops the negative half of the signal, so the variance of the
responses halves at every layer (factor ½, as Xavier in He et al. §2.2), going forward and, for
the gradients, going backward: the output's variance is ~2⁻²⁹ of the first layer's, and SGD with a
learning rate that is safe for the trained net does not move the loss. (With tanh, the same
30-layer net from orthogonal gain 1 does train with this recipe: tanh is near-linear around 0.)
LSUV, from the same orthogonal draws (seed s gives both), rescales each layer to unit output
variance on a batch of 128 training examples.

* variance: after LSUV, the pre-activation variance of every layer (hidden and output) on the
  LSUV batch, per seed (and on the training examples outside the batch, for information);
  orthogonal-only's for contrast, against the mean-field (σ_w²/2)^(l−1) with σ_w² = 1. Rule: every
  layer in every seed within Tol_var = 0.1 of 1.
* training: SGD with momentum 0.9 (lr 0.002, batch 64, 1000 updates), the same recipe as
  ``he2015-depth``. Rule: in every seed LSUV's final training loss is below half the chance-level
  loss (ln 10 / 2) and below orthogonal's, and orthogonal's stays within 5% of its initial loss.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ..data import get_dataset
from ..network import Network
from .common import (Claim, Reproduction, SeedsLike, deep_claim, drawing, entry_point, fmt, loss_figure, mean_band,
                     relu_net, run_settings, seed_list, train_inits)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "lsuv2015"
TITLE = "Mishkin & Matas 2015: LSUV gives every layer unit variance and trains a 30-layer ReLU net"
CITATION = "Mishkin & Matas 2015, All you need is a good init (ICLR 2016), §2 Algorithm 1, §3"

INITS = ("lsuv", "orthogonal")
LABELS = {"lsuv": "LSUV", "orthogonal": "orthogonal"}
TOL = 0.1  # the paper's Tol_var (and initlab's lsuv default)
BATCH = 128  # examples in the LSUV batch

FULL = dict(depth=30, width=64, iterations=1000, learning_rate=0.002, momentum=0.9, batch_size=64, record_every=25,
            seeds=5)
QUICK = dict(depth=30, width=64, iterations=600, learning_rate=0.002, momentum=0.9, batch_size=64, record_every=100,
             seeds=2)


def batch_index(m: int, seed: int, size: int = BATCH) -> np.ndarray:
    """Sorted indices of `size` of m examples, drawn without replacement from `seed`."""
    return np.sort(np.random.default_rng(seed).choice(m, size=min(size, m), replace=False))


def lsuv_batch(X: np.ndarray, seed: int, size: int = BATCH) -> np.ndarray:
    """The LSUV batch of `seed`: `size` examples (columns of X)."""
    return X[:, batch_index(X.shape[1], seed, size)]


def layer_variances(network: Network, name: str, seeds: SeedsLike, X: np.ndarray, tol: float = TOL,
                    max_iter: int = 10) -> dict[str, list[list[float]]]:
    """Per seed, Var(Z_l) of every layer l = 1..L after init `name`, on the seed's LSUV batch and
    on the other examples of X (which LSUV did not see).

    Seed s draws with ``rng=s``; ``lsuv`` (with `tol`, `max_iter`) is fitted on ``lsuv_batch(X, s)``.
    Returns {"variance": [[Var(Z_1) … Var(Z_L)] per seed], "held_out": the same on the rest of X}.
    """
    out: dict[str, list[list[float]]] = {"variance": [], "held_out": []}
    for seed in seed_list(seeds, 2):
        index = batch_index(X.shape[1], seed)
        batch, rest = X[:, index], np.delete(X, index, axis=1)
        options: dict[str, Any] = {"X": batch, "tol": tol, "max_iter": max_iter} if name == "lsuv" else {}
        params = network.init(name, rng=seed, **options)
        for key, data in (("variance", batch), ("held_out", rest)):
            out[key].append([float(np.var(Z)) for _, Z in network.forward(params, data)[1]])
    return out


def theory_profile(depth: int, sigma_w2: float = 1.0) -> np.ndarray:
    """Var(Z_l)/Var(Z_1) = (σ_w²/2)^(l−1) for a ReLU net (theory.variance_trajectory from q = 1)."""
    from ..theory import variance_trajectory

    return variance_trajectory(1.0, depth - 1, sigma_w2, 0.0, "relu")


def variance_claim(variances: ArrayLike, tol: float = TOL, label: str = "LSUV") -> Claim:
    """Every layer of every seed within `tol` of 1 on the LSUV batch."""
    v = np.asarray(variances)
    worst = np.abs(v - 1).max(axis=1)  # per seed
    return Claim(
        statement=f"After {label} every layer's output (pre-activation) variance on the batch is 1 "
                  f"(all {v.shape[1]} layers)",
        expected=f"|Var(B_L) − 1| < Tol_var = {tol:g} for every layer (Algorithm 1)",
        measured=f"per-layer variance from {v.min():.4g} to {v.max():.4g}; worst |Var − 1| per seed {fmt(worst)}",
        holds=bool(np.all(np.abs(v - 1) < tol)),
        rule=f"every layer in every seed has |Var − 1| < {tol:g}",
    )


def variance_figure(lsuv: Mapping[str, Any], ortho: Mapping[str, Any], depth: int) -> Figure:
    """Per-layer variance at init (log scale): LSUV on its batch and held out, orthogonal and its theory."""
    from matplotlib.figure import Figure

    from ..plots import init_color

    fig = Figure(figsize=(7.5, 4.3), layout="constrained")
    ax = fig.add_subplot()
    layers = np.arange(1, depth + 1)
    for name, result, label in (("lsuv", lsuv, "LSUV, its batch"), ("orthogonal", ortho, "orthogonal (gain 1)")):
        mean_band(ax, layers, result["variance"], init_color(name), f"{label} (mean over seeds)", "o-", ms=3)
    if lsuv.get("held_out"):
        h = np.asarray(lsuv["held_out"])
        ax.plot(layers, h.mean(axis=0), "s:", ms=3, color=init_color("lsuv"), label="LSUV, the other training examples")
    v1 = np.asarray(ortho["variance"])[:, 0].mean()
    ax.plot(layers, v1 * theory_profile(depth), "--", color=init_color("orthogonal"),
            label="orthogonal, theory ×½ per layer")
    ax.axhspan(1 - TOL, 1 + TOL, color="0.5", alpha=0.15, lw=0, label=f"1 ± Tol_var ({TOL:g})")
    ax.set_yscale("log")
    ax.set_xlabel("layer l (the last is the output layer)")
    ax.set_ylabel("Var(Z_l) at init")
    ax.set_title(f"Layer output variance at init, {depth}-layer ReLU net on digits")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small")
    return fig


@entry_point
def reproduce(quick: bool = False, seeds: SeedsLike = None) -> Reproduction:
    s = run_settings(quick, seeds, QUICK, FULL)
    data = get_dataset("digits")
    network = relu_net(s["depth"], s["width"])
    lsuv = layer_variances(network, "lsuv", s["seeds"], data.X_train)
    ortho = layer_variances(network, "orthogonal", s["seeds"], data.X_train)
    result = {"depth": s["depth"]}
    for seed in s["seeds"]:  # each seed its own LSUV batch
        one = train_inits(network, INITS, [seed], s["iterations"], s["learning_rate"], s["momentum"], s["batch_size"],
                          s["record_every"], data, init_options={"lsuv": {"X": lsuv_batch(data.X_train, seed)}})
        result["iterations"] = one["iterations"]
        for name in INITS:
            for key, values in one[name].items():
                result.setdefault(name, {}).setdefault(key, []).extend(values)
    claims = [variance_claim(lsuv["variance"]),
              deep_claim(result, trains="lsuv", stalls="orthogonal", labels=LABELS, what="§3")]
    settings = {**s, "optimizer": "momentum", "activation": "relu", "dataset": "digits", "lsuv_batch": BATCH,
                "tol": TOL, "base": "orthogonal"}
    return Reproduction(
        name=NAME, title=TITLE, citation=CITATION, settings=settings, claims=claims,
        numbers={"variance": {"lsuv": lsuv, "orthogonal": ortho,
                              "orthogonal_theory": theory_profile(s["depth"]).tolist()},
                 "training": result},
        drawings={"variance": drawing(variance_figure, lsuv=lsuv, ortho=ortho, depth=s["depth"]),
                  "loss": drawing(loss_figure, results=[result], labels=LABELS,
                                  title="Training loss, LSUV vs orthogonal (mean over seeds, band: min–max)")},
    )
