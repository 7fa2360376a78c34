"""Signal propagation through residual blocks at initialization, measured beside the wide-network prediction.

Brock, De & Smith 2021 ("Characterizing signal propagation to close the performance gap in
unnormalized ResNets", ICLR) read a residual network off three numbers per block, on a batch at
initialization (their "signal propagation plots"). Here, for the stream after the stem (k = 0) and after
each block k (pre: h_k; post: the block's output φ(h_{k−1} + α_k F_k)), over its units c and the batch's
examples x:

==================  ==========================================================================
mean_square         E_c E_x h_c(x)²: the stream's second moment
channel_mean_sq     E_c (E_x h_c(x))²: the average squared channel mean
channel_var         E_c Var_x h_c(x): the average channel variance (mean_square − channel_mean_sq)
branch_var          E_c Var_x of block k's contribution α_k·F_k (empty at k = 0)
corr                the batch's mean pairwise correlation of the stream (diagnostics.mean_correlation):
                    → 1 as the examples collapse to one direction (rank collapse), as in a plain
                    ReLU network; the branch scaling sets how fast
pred_*              the same from ``theory.residual_stream`` (pre; post: ``residual_stream_post``): the stream's
                    q_k and mean pairwise correlation c_k, read as mean_square = q_k,
                    channel_mean_sq = q_k (1 + (m − 1) c_k)/m, channel_var = q_k (m − 1)(1 − c_k)/m
                    for a batch of m examples, and pred_corr = c_k; each layer's σ_w² and σ_b² are the
                    drawn weights'
==================  ==========================================================================

A post-activation stream is φ of h plus a Gaussian branch, not Gaussian itself: its prediction is
``theory.residual_stream_post``'s, the wide limit's per-unit chain sampled (2^17 pairs of units, a fixed
seed; the uncentred correlation E[h h′]/E[h²], as φ(s) need not have mean 0). For ReLU branches drawn by He the prediction is (1 + α²)^k·q_0
(theory.residual_stream): ``study_blocks`` shows it growing 2^K at α = 1 and staying near e and 1 under
depth-μP's 1/√K and CompleteP's 1/K.

The prediction is the wide limit's: at finite width the stream grows a little faster than (1 + α²)^K
per draw, by more the deeper and narrower the network (seen, mean of 4 draws at α = 1: +11% at width 512
and 8 blocks, +46% at width 256 and 16 blocks, +1% at width 1024 and 8 blocks); at α = 1/√K and 1/K
the measurement is within 2%.

>>> from initlab.network import residual_network
>>> net = residual_network(1024, 1024, 8, residual="standard")
>>> X = np.random.default_rng(0).standard_normal((1024, 64))
>>> frame = block_signal(net, net.init("he_normal", rng=0), X)
>>> growth = frame.iloc[-1] / frame.iloc[0]   # one draw, against the prediction (1 + 1)^8 = 256
>>> f"{growth.mean_square:.3g} {growth.pred_mean_square:.3g}"
'270 255'
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from . import _html
from ._atomic import replacing
from ._validation import InitlabError, check_int, check_writable_dir, check_X
from .branches import get_branch
from .diagnostics import finite_params, mean_correlation, residual_prediction
from .jacobian import JACOBIAN_EXAMPLES, JacobianSpectrum, spectrum
from .network import Network, ResidualCache, residual_network

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

MEASURED = ["mean_square", "channel_mean_sq", "channel_var", "branch_var", "corr"]
BLOCK_COLUMNS = ["block", *MEASURED, *(f"pred_{name}" for name in MEASURED)]
SCHEMES = ("standard", "depth_mup", "completep", "fixup", "rezero")  # study_blocks's (and initlab probe --blocks's) default
AGREEMENT = 0.1  # the verdict's tolerance: the last block's mean square within 10% of the prediction


def _checked(network: Network) -> None:
    if network.branch is None:
        raise InitlabError("The 'network' parameter must be a residual network (Network(..., residual=...), "
                           "residual_network(...)). Got a plain network instead: initlab probe measures it layer by layer.")


def _channel_stats(H: np.ndarray) -> tuple[float, float, float]:
    """(mean square, mean squared channel mean, mean channel variance) of H (units, examples)."""
    mean = H.mean(axis=-1)  # (units,)
    return float(np.mean(H**2)), float(np.mean(mean**2)), float(np.mean(H.var(axis=-1)))


def block_signal(network: Network, params: ArrayLike, X: ArrayLike) -> pd.DataFrame:
    """One row per stream point k = 0 … K of `network` (a residual network) at `params` on the batch
    X (n_0, m): the module's columns, measured and predicted."""
    import pandas as pd

    _checked(network)
    params = finite_params(network, params).astype(np.float64)
    X = check_X(X, network.sizes[0])
    _, cache = network.forward(params, X)
    assert isinstance(cache, ResidualCache)
    rows = [_measured(network, params, cache, k) for k in range(len(network.blocks) + 1)]
    frame = pd.DataFrame(rows, columns=["block", *MEASURED])
    for name, values in _predicted(network, params, X).items():
        frame[f"pred_{name}"] = values
    return frame[BLOCK_COLUMNS]


def _measured(network: Network, params: np.ndarray, cache: ResidualCache, k: int) -> list[float]:
    assert network.branch is not None
    T = cache.streams[k]  # (width, m)
    if network.branch.order == "post":
        writer = 0 if k == 0 else network.blocks[k - 1].last
        T = network.hidden_activations[writer].fn(T)  # the block's output φ(T)
    branch = float("nan")
    if k > 0:
        block = network.blocks[k - 1]
        branch = _channel_stats(network.alphas(params)[k - 1] * cache[block.last][1])[2]  # α_k·F_k
    return [k, *_channel_stats(T), branch, mean_correlation(T)]


def _predicted(network: Network, params: np.ndarray, X: np.ndarray) -> dict[str, np.ndarray]:
    """diagnostics.residual_prediction (theory.residual_stream, pre; residual_stream_post, post) as the
    module's columns; NaN for mixed activations or one example."""
    K, m = len(network.blocks), X.shape[1]
    stream = residual_prediction(network, params, X) if m > 1 else None
    if stream is None:
        return {name: np.full(K + 1, np.nan) for name in MEASURED}
    mean_sq = stream.q * (1 + (m - 1) * stream.c) / m
    branch_var = np.concatenate([[np.nan], stream.branch_q * (m - 1) * (1 - np.nan_to_num(stream.branch_c)) / m])
    return {"mean_square": stream.q, "channel_mean_sq": mean_sq, "channel_var": stream.q - mean_sq, "branch_var": branch_var,
            "corr": stream.c}


def verdict(frame: pd.DataFrame) -> str:
    """What one scheme's rows say: the stream's growth over the blocks, and whether it is the
    prediction's (the last mean square within AGREEMENT of it)."""
    first, last = frame.iloc[0], frame.iloc[-1]
    K = int(last.block)
    if not first.mean_square > 0:
        return f"the stream is 0 after the stem (all-zero weights there): nothing reaches the {K} blocks"
    growth = last.mean_square / first.mean_square
    text = f"the stream's mean square ×{growth:.3g} over {K} blocks"
    predicted = last.pred_mean_square / first.pred_mean_square if first.pred_mean_square > 0 else float("nan")
    if not np.isfinite(predicted):
        return text + " (no wide-network prediction: mixed activations, or a single example)"
    off = abs(last.mean_square / last.pred_mean_square - 1)
    agrees = "as" if off <= AGREEMENT else "unlike"
    return text + f", {agrees} the wide-network prediction ×{predicted:.3g} ({off:.0%} apart at block {K})"


@dataclass(frozen=True)
class BlockStudy:
    """``block_signal`` for several branch schemes of one residual architecture, each averaged over
    seeds (the predictions too: they read each draw's σ_w²)."""

    table: pd.DataFrame  # one row per scheme and block: "scheme", then BLOCK_COLUMNS
    verdicts: dict[str, str]  # scheme -> verdict
    spectra: dict[str, JacobianSpectrum]  # scheme -> the input-output Jacobian of its seed-0 draw (empty when read back)

    def _repr_html_(self) -> str:
        return _html.notebook(self.report_section())

    def report_section(self, source: str | None = None) -> str:
        """Settings, each scheme's verdict (and Jacobian), the signal propagation plot and the first and
        last blocks' numbers, measured beside predicted."""
        from .plots import init_colors  # matplotlib: imported when a page is built

        schemes = list(dict.fromkeys(self.table["scheme"].astype(str)))
        colors = init_colors(schemes)
        settings = [("results file", source), ("branch schemes", ", ".join(schemes)),
                    ("blocks", int(self.table["block"].max()))]
        verdicts = "".join(f"<h4>{_html.swatch(name, colors.get(name))}</h4>"
                           + _html.verdicts_html([self.verdicts[name]] + ([self.spectra[name].summary()] if name in self.spectra else []))
                           for name in schemes)
        rows = []
        for name, frame in self.table.groupby("scheme", sort=False):
            first, last = frame.iloc[0], frame.iloc[-1]
            rows.append([_html.swatch(name, colors.get(str(name))), float(first.mean_square), float(last.mean_square),
                         float(last.pred_mean_square), float(last.channel_var), float(last.pred_channel_var), float(last["corr"]),
                         float(last.pred_corr)])
        header = ["branch scheme", "E h² after the stem", "E h² last block", "theory", "channel variance, last", "theory",
                  "correlation, last", "theory"]
        body = ["<h3>Settings</h3>", _html.settings_html(settings), "<h3>Verdicts</h3>", verdicts,
                "<h3>Signal propagation plot</h3>",
                _html.figure_html(self.plot(), "The stream's mean square, squared channel mean, channel variance, branch "
                                  "variance and correlation per block, by branch scheme",
                                  "Line: measured (mean over seeds), dashed: the wide-network prediction."),
                _html.table_html(header, rows, raw=("branch scheme",))]
        return _html.section(f"Residual blocks: signal propagation through {settings[2][1]} blocks", "".join(body), "blocks")

    def plot(self) -> Figure:
        from .plots import block_signal_figure  # matplotlib: imported when a figure is drawn

        return block_signal_figure(dict(tuple(self.table.groupby("scheme", sort=False))))

    def save(self, out: str | os.PathLike[str] = "initlab-out") -> dict[str, str]:
        """Write blocks.csv and blocks.png into `out`; return the paths."""
        from .plots import save

        out = check_writable_dir("out", out)
        paths = {"blocks": os.path.join(out, "blocks.csv"), "blocks_figure": os.path.join(out, "blocks.png")}
        with replacing(paths["blocks"]) as part:
            self.table.to_csv(part, index=False)
        save(self.plot(), paths["blocks_figure"])
        return paths


def read_blocks(path: str | os.PathLike[str]) -> BlockStudy:
    """The study whose blocks.csv ``BlockStudy.save`` wrote (verdicts read again from its rows; no Jacobians)."""
    import pandas as pd

    try:
        table = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise InitlabError(f"The file {os.fspath(path)!r} is not a readable CSV file ({exc}).") from None
    missing = {"scheme", *BLOCK_COLUMNS} - set(table.columns)
    if missing or not len(table):
        raise InitlabError(f"The file {os.fspath(path)!r} is not a blocks.csv written by initlab probe --blocks (missing "
                           f"columns: {', '.join(sorted(missing)) or 'none; it has no rows'}).")
    table = table.assign(scheme=table["scheme"].astype(str))
    found = {str(name): verdict(rows.reset_index(drop=True)) for name, rows in table.groupby("scheme", sort=False)}
    return BlockStudy(table[["scheme", *BLOCK_COLUMNS]], found, {})


def is_blocks_csv(path: str | os.PathLike[str]) -> bool:
    """Whether the CSV at `path` has blocks.csv's header (a scheme and block column, then the measured ones)."""
    try:
        with open(path, encoding="utf-8") as f:
            header = f.readline().strip().split(",")
    except (OSError, UnicodeDecodeError):
        return False
    return {"scheme", *BLOCK_COLUMNS} <= set(header)


def study_blocks(schemes: Sequence[str] = SCHEMES, blocks: int = 16, width: int = 256, activation: str = "relu",
                 init: str = "he_normal", seeds: int = 3, batch: int = 64) -> BlockStudy:
    """``block_signal`` of ``residual_network(width, width, blocks)`` under each branch scheme of
    `schemes` (weights by `init`), over `seeds` draws (seed s: inputs X ~ N(0, 1) (width, batch), then
    the weights, from ``default_rng(s)``), averaged; and the input-output Jacobian of each scheme's
    seed-0 draw on its first ``jacobian.JACOBIAN_EXAMPLES`` inputs.

    >>> study = study_blocks(["standard", "completep"], blocks=8, width=128, seeds=1)
    >>> print(study.verdicts["completep"])
    the stream's mean square ×1.12 over 8 blocks, as the wide-network prediction ×1.13 (3% apart at block 8)
    """
    import pandas as pd

    if isinstance(schemes, str) or not schemes:
        raise InitlabError(f"The 'schemes' parameter must be a non-empty list of branch schemes. Got {schemes!r} instead.")
    seeds = check_int("seeds", seeds, low=1)
    batch = check_int("batch", batch, low=2)
    frames, verdicts, spectra = [], {}, {}
    for text in schemes:
        scheme = get_branch(text).spec
        network = residual_network(width, width, blocks, residual=scheme, activation=activation)
        runs = []
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            X = rng.standard_normal((width, batch))
            params = network.init(init, rng=rng)
            runs.append(block_signal(network, params, X))
            if seed == 0:
                spectra[str(scheme)] = spectrum(network, params, X[:, :JACOBIAN_EXAMPLES])
        frame = pd.concat(runs).groupby("block", as_index=False).mean()[BLOCK_COLUMNS]
        verdicts[str(scheme)] = verdict(frame)
        frames.append(frame.assign(scheme=str(scheme)))
    table = pd.concat(frames, ignore_index=True)
    return BlockStudy(table[["scheme", *BLOCK_COLUMNS]], verdicts, spectra)
