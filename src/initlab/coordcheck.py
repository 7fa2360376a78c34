"""The coord check (Yang et al. 2022, "Tensor Programs V", its coordinate check; the ``mup`` package's
``get_coord_data``): is a parametrization's training stable as the network widens?

Networks of several widths (2^6 … 2^10 by default) train for a few steps from the same data, for
several seeds. For every layer's output — each hidden activation A_l and the logits Z_L — and
every step t, the check records the mean absolute entry ``mean|x_t|`` and the mean absolute change
since the start ``mean|x_t − x_0|``. Under the standard parametrization with a fixed learning rate
the changes grow with width; under μP they stay put. The verdict is computed, not eyeballed: the
least-squares slope of log₂(value) against log₂(width), per seed, then its mean and spread over
seeds. A layer *grows* when the mean slope exceeds ``GROWS`` (0.25: more than 2^0.25 ≈ 1.19× per
doubling of width) — the blow-up of SP under a fixed learning rate and of a μP with a factor
missing — and *shrinks* below ``SHRINKS`` (−0.5: at least as fast as 1/√width, the kernel regime's
rate); it is *stable* between. What the rule cannot tell at widths up to 2^10: μP's changes settle
towards their limit from above (slopes down to −0.4 measured on circles at widths 64–1024, most
on the output), and NTK's hidden changes under SGD, −0.5 in theory, measured −0.4 there: both read
as stable. The check is for growth.

>>> check = coord_check("mup(base_width=64, optimizer=adam)", optimizer="adam", widths=(64, 128, 256),
...                     steps=2, seeds=(0, 1), learning_rate=0.01, examples=64)
>>> check.verdict()
"stable at step 2: no layer's change grows by more than 2^0.25 per doubling of width"
"""
from __future__ import annotations

import numbers
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _html
from ._spec import Spec
from ._validation import Constraint, InitlabError, Interval, OneOf, validate
from .data import get_dataset
from .network import Network
from .optim import OPTIMIZERS
from .options import TrainOptions
from .parametrizations import for_optimizer, optimizer_family
from .training import train_many

if TYPE_CHECKING:
    import pandas as pd

GROWS = 0.25  # a mean slope of log2(value) against log2(width) above this: grows with width
SHRINKS = -0.5  # below this: shrinks at least as fast as 1/sqrt(width)
QUANTITIES = ("mean_abs", "mean_abs_change")
DEFAULT_WIDTHS = (64, 128, 256, 512, 1024)

_INT1 = Interval(numbers.Integral, 1)


@dataclass
class CoordCheck:
    """The measurements (``frame``: one row per parametrization, optimizer, width, step, layer,
    seed) and the fitted slopes (``slopes``: one row per parametrization, optimizer, step, layer,
    quantity: mean and spread over seeds, and the verdict)."""

    frame: pd.DataFrame
    slopes: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def verdicts(self, quantity: str = "mean_abs_change") -> dict[str, str]:
        """Per parametrization, at the last step: "stable" when no layer grows with width, else the
        layers that grow; the layers that shrink are named either way (see the module's docstring)."""
        step = int(self.slopes["step"].max())
        last = self.slopes[(self.slopes["step"] == step) & (self.slopes["quantity"] == quantity)]
        out = {}
        for name, rows in last.groupby("parametrization", sort=False):
            grows, shrinks = (", ".join(f"{r.layer} (slope {r.slope:+.2f} ± {r.slope_std:.2f})"
                                        for r in rows.itertuples() if r.verdict == kind) for kind in ("grows", "shrinks"))
            undefined = ", ".join(r.layer for r in rows.itertuples() if r.verdict == "undefined")
            if grows:
                line = f"not stable at step {step}: grows with width: {grows}"
            elif undefined:  # a zero change (a zero readout's first step) has no slope: no verdict either
                line = f"undefined at step {step}: no slope for {undefined} (a value is 0 or not finite)"
            else:
                line = f"stable at step {step}: no layer's change grows by more than 2^{GROWS:g} per doubling of width"
            out[str(name)] = line + (f"; shrinks: {shrinks}" if shrinks else "")
        return out

    def verdict(self, quantity: str = "mean_abs_change") -> str:
        """The verdicts in one line, "name: verdict" each (the verdict alone for one parametrization)."""
        found = self.verdicts(quantity)
        return next(iter(found.values())) if len(found) == 1 else "; ".join(f"{k}: {v}" for k, v in found.items())

    def _repr_html_(self) -> str:
        return _html.notebook(self.report_section())

    def report_section(self, source: str | None = None) -> str:
        """The settings, each parametrization's verdict, every layer's fitted slope at the last step
        (mean ± sd over seeds, with its reading), and the figure."""
        from . import plots

        step = int(self.slopes["step"].max())
        last = self.slopes[(self.slopes["step"] == step) & (self.slopes["quantity"] == "mean_abs_change")]
        rows = [[r.parametrization, r.layer, f"{r.slope:+.2f} ± {r.slope_std:.2f}", r.verdict] for r in last.itertuples()]
        body = [_html.settings_html([("results file", source), *self.settings.items()]),
                "<h3>Verdicts</h3>", _html.table_html(["parametrization", "verdict"], [[k, v] for k, v in self.verdicts().items()]),
                f"<h3>Slope of log₂ mean|x_t − x_0| against log₂ width, step {step}</h3>",
                _html.table_html(["parametrization", "layer", "slope (mean ± sd over seeds)", "reading"], rows, limit=None),
                f'<p class="note">Grows: a mean slope above {GROWS:g}; shrinks: below {SHRINKS:g}; stable between.</p>',
                _html.figure_html(plots.coord_check_figure(self.frame), "The coord check: each layer's change against width",
                                  "Mean over seeds (line) and their range (band); flat lines: stable in width.")]
        return _html.section("Coord check", "".join(body), "coordcheck")

    def save(self, out: str | os.PathLike[str]) -> dict[str, str]:
        """``coord_check.csv`` and ``coord_check.png`` (``plots.coord_check_figure``) in the folder
        `out` (created), each written whole or not at all; the paths written."""
        from . import plots
        from ._atomic import replacing

        os.makedirs(out, exist_ok=True)
        csv = os.path.join(out, "coord_check.csv")
        with replacing(csv) as part:
            self.frame.to_csv(part, index=False)
        return {"csv": csv, "figure": str(plots.save(plots.coord_check_figure(self.frame), os.path.join(out, "coord_check.png")))}


def _layer_names(n_layers: int) -> list[str]:
    return [f"layer {l}" for l in range(1, n_layers)] + ["output"]


def _readings(network: Network, params: np.ndarray, X: np.ndarray) -> list[np.ndarray]:
    """Each hidden activation A_l (n_l, m) and the logits Z_L, at `params`."""
    _, cache = network.forward(params, X)
    return [A for A, _ in cache[1:]] + [cache[-1][1]]


def _measure(network: Network, snapshots: Sequence[np.ndarray], X: np.ndarray) -> list[tuple[int, str, float, float]]:
    """(step, layer name, mean|x_t|, mean|x_t − x_0|) for each snapshot t and layer (one forward pass each)."""
    readings = [_readings(network, params, X) for params in snapshots]
    names = _layer_names(network.n_layers)
    return [(t, name, float(np.mean(np.abs(x))), float(np.mean(np.abs(x - x0))))
            for t, now in enumerate(readings) for name, x, x0 in zip(names, now, readings[0])]


def _slope(widths: np.ndarray, values: np.ndarray) -> float:
    """Least-squares slope of log2(values) against log2(widths); nan when a value is 0 or not finite."""
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        return float("nan")
    return float(np.polyfit(np.log2(widths), np.log2(values), 1)[0])


def fit_slopes(frame: pd.DataFrame) -> pd.DataFrame:
    """Per parametrization, optimizer, step, layer and quantity: the slope of log2(value) against
    log2(width) for each seed, their mean and sample standard deviation, and the verdict: grows (mean >
    GROWS), shrinks (mean < SHRINKS), else stable; "undefined" at step 0 for the change, which is 0."""
    import pandas as pd

    keys = ["parametrization", "optimizer", "step", "layer"]
    out = []
    for key, group in frame.groupby(keys, sort=False):
        for quantity in QUANTITIES:
            per_seed = [_slope(g["width"].to_numpy(float), g[quantity].to_numpy(float)) for _, g in group.groupby("seed")]
            slopes = np.array(per_seed)
            mean = float(np.mean(slopes)) if np.all(np.isfinite(slopes)) else float("nan")
            std = float(np.std(slopes, ddof=1 if len(slopes) > 1 else 0)) if np.all(np.isfinite(slopes)) else float("nan")
            verdict = "undefined" if not np.isfinite(mean) else (
                "grows" if mean > GROWS else ("shrinks" if mean < SHRINKS else "stable"))
            out.append((*key, quantity, mean, std, verdict))
    return pd.DataFrame(out, columns=[*keys, "quantity", "slope", "slope_std", "verdict"])


_CONSTRAINTS: dict[str, Constraint] = {
    "optimizer": OneOf(tuple(OPTIMIZERS)),
    "steps": _INT1,
    "depth": _INT1,
    "examples": _INT1,
    "learning_rate": Interval(numbers.Real, 0.0, closed="neither"),
}


def coord_check(parametrization: str | Spec = "sp, mup", optimizer: str = "sgd", widths: Sequence[int] = DEFAULT_WIDTHS,
                steps: int = 4, seeds: Sequence[int] = (0, 1, 2), learning_rate: float | None = None, depth: int = 2,
                dataset: str = "circles", examples: int = 128, init: str = "he_normal",
                engine: str = "numpy") -> CoordCheck:
    """Train networks of `depth` hidden layers of each width in `widths` for `steps` steps on the
    first `examples` training examples of `dataset` (full batch), from `init` under
    `parametrization`, for each seed; measure every layer (see the module's docstring).
    `learning_rate` None: 0.1 for gd, sgd and momentum, 0.01 for adam. A μP spec that names no
    optimizer takes `optimizer`'s family (adam, or sgd for gd, sgd and momentum). `engine` numpy by default:
    a few steps with a reading after each are faster on the reference than on the compiled engine,
    which the readings cut into one call per step (bench/README.md, "The coord check").
    `parametrization` may be one spec or several, comma-separated: "sp, mup"."""
    import pandas as pd

    if learning_rate is None:
        learning_rate = 0.01 if optimizer_family(optimizer) == "adam" else 0.1
    values = validate(_CONSTRAINTS, {"optimizer": optimizer, "steps": steps, "depth": depth, "examples": examples,
                                     "learning_rate": learning_rate})
    widths = _check_widths(widths)
    seeds = _check_seeds(seeds)
    names = _parametrizations(parametrization, optimizer)
    data = get_dataset(dataset)
    X, Y = data.X_train[:, :examples], data.Y_train[:, :examples]
    options = TrainOptions(float(values["learning_rate"]), values["steps"], 1, optimizer)
    rows = []
    for name in names:
        for width in widths:
            network = Network((data.n_features,) + (width,) * depth + (data.n_outputs,), loss=data.loss,
                              parametrization=name)
            params = np.stack([network.init(init, rng=seed) for seed in seeds])
            snapshots: list[list[np.ndarray]] = [[] for _ in seeds]
            runs = train_many(network, params, X, Y, options, lambda b, i, cost, p: snapshots[b].append(p.copy()),
                              engine=engine)
            for b, (seed, run) in enumerate(zip(seeds, runs)):
                if run.diverged:
                    raise InitlabError(f"The coord check's run of width {width}, seed {seed} ({name}) {run.divergence}.")
                rows += [(name, optimizer, width, t, layer, seed, mean_abs, change)
                         for t, layer, mean_abs, change in _measure(network, snapshots[b] + [run.params], X)]
    frame = pd.DataFrame(rows, columns=["parametrization", "optimizer", "width", "step", "layer", "seed", *QUANTITIES])
    settings = {"optimizer": optimizer, "widths": list(widths), "steps": steps, "seeds": list(seeds),
                "learning_rate": learning_rate, "depth": depth, "dataset": dataset, "examples": examples, "init": init}
    return CoordCheck(frame, fit_slopes(frame), settings)


def _parametrizations(value: str | Spec, optimizer: str) -> list[str]:
    """The canonical text of each parametrization in `value`, for training with `optimizer`
    (``parametrizations.for_optimizer``: μP follows the optimizer's family)."""
    from ._spec import split_top_level

    return [str(for_optimizer(text, optimizer)) for text in ([value] if isinstance(value, Spec) else split_top_level(str(value)))]


def _check_widths(widths: Sequence[int]) -> tuple[int, ...]:
    try:
        out = tuple(int(w) for w in widths)
    except (TypeError, ValueError):
        out = ()
    if len(out) < 2 or any(w < 1 for w in out) or len(set(out)) != len(out) or out != tuple(widths):
        raise InitlabError(f"The 'widths' parameter must be two or more different ints >= 1. Got {widths!r} instead.")
    return tuple(sorted(out))


def _check_seeds(seeds: Sequence[int]) -> tuple[int, ...]:
    try:
        out = tuple(int(s) for s in seeds)
    except (TypeError, ValueError):
        out = ()
    if not out or out != tuple(seeds) or any(s < 0 for s in out):
        raise InitlabError(f"The 'seeds' parameter must be one or more ints >= 0. Got {seeds!r} instead.")
    return out
