"""Yang et al. 2022 (Tensor Programs V): under μP the optimal learning rate transfers across width, under SP it does not.

The paper ("Tuning Large Neural Networks via Zero-Shot Hyperparameter Transfer") trains networks
of growing width over a grid of learning rates: under the standard parametrization the learning
rate with the lowest training loss moves as the width grows, so a rate tuned on a small model is
wrong for a large one; under μP (its Table 3, ``initlab.parametrizations.mup``) it stays put, and at a
fixed learning rate the wider network trains to a lower loss ("wider is better").

What runs here, small: MLPs of two hidden ReLU layers (64 → n → n → 10) on scikit-learn's digits,
from ``he_normal``, widths 32 … 256 (quick, 2 seeds) or 32 … 512 (full, 3 seeds), μP relative to the narrowest width
(where the two parametrizations are the same network), trained by Adam and by plain SGD on
minibatches of 64 for a fixed number of updates, on a grid of learning rates in powers of 2 (Adam
2^−10 … 2^−4, SGD 2^−3 … 2^1). Each width's optimum is found per seed (``transfer.optima``: the
grid's best rate, refined by a parabola through the log losses at most half a step) and its move
with width fitted (``transfer.shifts``: the slope of log₂ optimum against log₂ width).

Verdicts (rules in ``Claim.rule``):

* transfer under μP (Adam, SGD): the optimum's slope is within ±``STABLE`` (0.25) per doubling;
* the shift under SP (Adam, SGD): the slope is below −``STABLE``: the optimum moves to smaller
  rates. At these widths and this budget of updates SGD's optimum sits just below the largest
  stable rate under both parametrizations and hardly moves under SP — the weak shift that users of
  the ``mup`` package report for SGD; the verdict says so when it does not hold.
* wider is better under μP (Adam, SGD): at the grid rate nearest μP's mean optimum, the
  least-squares slope of log(loss) against log₂(width) is negative in every seed, and the widest
  network's mean loss is below the narrowest's.

A claim whose optima lie on the edge of the learning-rate grid does not hold (the optimum may be
outside it).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import transfer
from .common import Claim, Reproduction, SeedsLike, drawing, entry_point, fmt, run_settings

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

NAME = "yang2022"
TITLE = "Yang et al. 2022: the learning-rate optimum transfers across width under μP, not under SP"
CITATION = "Yang, Hu, Babuschkin, Sidor, Liu, Farhi, Ryder, Pachocki, Chen & Gao 2022, Tensor Programs V (μTransfer), Table 3"

STABLE = 0.25  # |slope| of the optimum's log2 per doubling of width at most this: stable; below -STABLE: shifts
PARAMETRIZATIONS = ("sp", "mup")
RATES = {"adam": [2.0**k for k in range(-10, -3)], "sgd": [2.0**k for k in range(-3, 2)]}

FULL = dict(widths=[32, 64, 128, 256, 512], iterations=100, batch_size=64, depth=2, seeds=3)
QUICK = dict(widths=[32, 64, 128, 256], iterations=100, batch_size=64, depth=2, seeds=2)


# --- verdicts ---------------------------------------------------------------------------------------
def _row(shifts: pd.DataFrame, name: str, optimizer: str) -> Any:
    return shifts[(shifts["parametrization"] == name) & (shifts["optimizer"] == optimizer)].iloc[0]


def _optima_text(optima: pd.DataFrame, name: str, optimizer: str) -> str:
    rows = optima[(optima["parametrization"] == name) & (optima["optimizer"] == optimizer)].sort_values("width")
    return f"(mean ± sd over {int(rows['seeds'].min())} seeds) " + ", ".join(f"{int(r.width)}: {r.log2_lr:+.2f} ± {r.log2_lr_std:.2f}" for r in rows.itertuples())


def shift_claim(optima: pd.DataFrame, shifts: pd.DataFrame, name: str, optimizer: str) -> Claim:
    """μP: the optimum stays within ±STABLE per doubling; SP: it moves down faster than STABLE."""
    row = _row(shifts, name, optimizer)
    stays = name != "sp"
    holds = bool(not row["at_edge"] and np.isfinite(row["slope"])
                 and (abs(row["slope"]) <= STABLE if stays else row["slope"] < -STABLE))
    edge = "; an optimum is on the edge of the learning-rate grid" if row["at_edge"] else ""
    label = "SP" if name == "sp" else "μP"
    return Claim(
        statement=f"Under {label} with {optimizer}, the learning-rate optimum {'stays put' if stays else 'moves'} as the width grows",
        expected="the optimum transfers across width (μP)" if stays else
                 "the optimum moves to smaller learning rates as the network widens (SP)",
        measured=f"optimal log₂ learning rate per width {_optima_text(optima, name, optimizer)}; slope "
                 f"{row['slope']:+.2f} per doubling, shift {row['shift']:+.2f} ± {row['shift_std']:.2f} over "
                 f"{row['doublings']:g} doublings{edge}",
        holds=holds,
        rule=(f"|slope| ≤ {STABLE:g}" if stays else f"slope < −{STABLE:g}") +
             " (least squares of the mean optimum's log₂ against log₂ width), no optimum on the grid's edge",
    )


def wider_claim(frame: pd.DataFrame, optima: pd.DataFrame, optimizer: str, name: str = "mup") -> Claim:
    """At the grid rate nearest `name`'s mean optimum, log loss falls with log₂ width in every seed."""
    rows = frame[(frame["parametrization"] == name) & (frame["optimizer"] == optimizer)]
    rates = np.sort(rows["learning_rate"].unique())
    target = float(optima[(optima["parametrization"] == name) & (optima["optimizer"] == optimizer)]["log2_lr"].mean())
    rate = float(rates[np.argmin(np.abs(np.log2(rates) - target))]) if np.isfinite(target) else float(rates[0])
    at = rows[rows["learning_rate"] == rate]
    slopes = []
    for _, runs in at.groupby("seed"):
        runs = runs.sort_values("width")
        loss = runs["final_train_cost"].to_numpy(dtype=float)
        slopes.append(float(np.polyfit(np.log2(runs["width"].to_numpy(float)), np.log(loss), 1)[0])
                      if np.all(np.isfinite(loss)) and np.all(loss > 0) else math.inf)
    mean = at.groupby("width")["final_train_cost"].mean()
    holds = bool(all(s < 0 for s in slopes) and mean.iloc[-1] < mean.iloc[0])
    return Claim(
        statement=f"Wider is better under μP with {optimizer}: at a fixed learning rate near the optimum, the loss falls with width",
        expected="the training loss decreases as the width grows, at the same learning rate",
        measured=f"at learning rate 2^{math.log2(rate):g}: mean loss per width "
                 + ", ".join(f"{int(w)}: {v:.3g}" for w, v in mean.items())
                 + f"; slope of ln loss per doubling {fmt(slopes, 2)}",
        holds=holds,
        rule="at the grid rate nearest μP's mean optimum: the least-squares slope of ln(loss) against log₂(width) "
             "< 0 in every seed, and the widest width's mean loss below the narrowest's",
    )


# --- figures ------------------------------------------------------------------------------------
def transfer_plot(frame: Mapping[str, Sequence[Any]], optima: Mapping[str, Sequence[Any]]) -> Figure:
    """``plots.transfer_figure`` from the plain-data columns that ``Reproduction.drawings`` keeps."""
    import pandas as pd

    from ..plots import transfer_figure

    return transfer_figure(pd.DataFrame(dict(frame)), pd.DataFrame(dict(optima)))


def _columns(table: pd.DataFrame) -> dict[str, list[Any]]:
    """A table as plain columns; an infinite loss (a diverged run) as None, which reads back as NaN."""
    return {c: [None if isinstance(v, float) and not math.isfinite(v) else v for v in table[c].tolist()] for c in table.columns}


# --- the experiment ---------------------------------------------------------------------------------
@entry_point
def reproduce(quick: bool = False, seeds: SeedsLike = None) -> Reproduction:
    import pandas as pd

    s = run_settings(quick, seeds, QUICK, FULL)
    frames = [transfer.train_grid(PARAMETRIZATIONS, optimizer, s["widths"], rates, s["seeds"], depth=s["depth"],
                                  dataset="digits", iterations=s["iterations"], batch_size=s["batch_size"])
              for optimizer, rates in RATES.items()]
    frame = pd.concat(frames, ignore_index=True)
    optima = transfer.optima(frame)
    shifts = transfer.shifts(optima)
    claims = [shift_claim(optima, shifts, name, optimizer) for optimizer in RATES for name in ("mup", "sp")]
    claims += [wider_claim(frame, optima, optimizer) for optimizer in RATES]
    settings = {**s, "parametrizations": list(PARAMETRIZATIONS), "base_width": s["widths"][0], "dataset": "digits",
                "activation": "relu", "init": "he_normal", "learning_rates": {k: [math.log2(r) for r in v] for k, v in RATES.items()},
                "minibatch order": "one per learning rate and width (TrainOptions.seed 0); seeds differ in their initial weights"}
    return Reproduction(
        name=NAME, title=TITLE, citation=CITATION, settings=settings, claims=claims,
        numbers={"optima": _columns(optima), "shifts": _columns(shifts), "runs": _columns(frame)},
        drawings={"transfer": drawing(transfer_plot, frame=_columns(frame), optima=_columns(optima))},
    )
