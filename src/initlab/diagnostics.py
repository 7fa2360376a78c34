"""Per-layer signal diagnostics, with the mean-field theory's prediction beside each measurement.

:func:`probe` runs one forward and one backward pass and measures, per layer l = 1..L:

================  =====================================================================
pre_mean/pre_var  mean and variance of the pre-activations Z_l (over units and examples)
act_mean/act_ms   mean and mean square of the activations A_l = φ(Z_l)
dead              fraction of units that never activate on the batch (ReLU family)
saturated         fraction of activations beyond 0.99 of their range (tanh, sigmoid)
grad_var          variance of the back-propagated gradient δ_l = dCost/dZ_l
weight_grad_norm  Frobenius norm of dCost/dW_l
sv_max/sv_min     largest and smallest singular value of W_l; sv_spread = their ratio
pred_pre_var      the theory's q_l (length map, from the weights' realized variance)
pred_act_ms       the theory's E[φ(√q_l z)²]
pred_grad_var     the theory's backward recursion for Var(δ_l)
================  =====================================================================

Without targets the backward pass starts from unit Gaussian noise at the output, the usual
probe of gradient propagation; with targets it starts from the loss gradient.
:func:`verdicts` reads the table and says what is wrong and what to try, from the numbers.

>>> import numpy as np
>>> from initlab.network import Network
>>> net = Network((100,) + (100,) * 20 + (1,), activation="relu")
>>> X = np.random.default_rng(0).standard_normal((100, 200))
>>> p = probe(net, net.init("lecun_normal", rng=0), X)
>>> print(p.verdicts[0])
activations vanish: mean square falls by ×1e-06 over 20 hidden layers
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import InitlabError, check_X, check_int, check_names, check_random_state, finite_or_none
from .activations import gaussian_expectation
from .initializers import INITIALIZERS
from .network import Network

VANISH, EXPLODE = 1e-2, 1e2  # a signal ratio beyond these over the network is a verdict
MOSTLY = 0.5  # a layer with this fraction of dead or saturated units is reported
SATURATED_AT = 0.99  # fraction of the activation's range beyond which a unit counts as saturated


@dataclass
class Probe:
    """One probe: the per-layer table and the verdicts read from it."""

    table: object  # pandas DataFrame, one row per layer
    verdicts: list

    def to_frame(self):
        return self.table.copy()

    def _repr_html_(self):
        from .report import fragment

        return fragment(self)

    def plot(self):
        from .plots import signal_figure

        return signal_figure({"": self.table})


def probe(network: Network, params, X, Y=None, rng=0) -> Probe:
    """Measure the forward and backward signal of `network` at `params` on the batch X (n_0, m)."""
    params = network.check_params(params, batched=False)
    if not np.isfinite(params).all():  # else the theory's recursion would blame its own 'q'
        raise InitlabError(f"The 'params' parameter must be finite (no NaN or inf). Got an array with "
                           f"{int((~np.isfinite(params)).sum())} non-finite values of {params.size} instead.")
    X = check_X(X, network.sizes[0])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        ZL, cache = network.forward(params, X)
        if Y is None:
            dZ = check_random_state(rng).standard_normal(ZL.shape)
        else:
            X, Y = network.check_data(X, Y)
            dZ = network.loss_fn.gradient(ZL, Y)
        back = network.backward_from(params, cache, dZ)
        table = _frame(_rows(network, params, X, cache, back))
    return Probe(table, verdicts(table, network))


def _frame(rows):
    import pandas as pd  # imported when used: pandas costs 0.3 s at start-up

    return pd.DataFrame(rows)


def _concat(frames):
    import pandas as pd

    return pd.concat(frames, ignore_index=True)


def _rows(network, params, X, cache, back):
    layers, grads = network.unpack(params), network.unpack(back.grad)
    acts = list(network.hidden_activations) + [None]
    q_pred, act_pred = _forward_prediction(network, layers, X)
    g_pred = _backward_prediction(network, layers, q_pred, float(np.var(back.dZ[-1])))
    rows = []
    for l, ((W, b), (gW, _), act) in enumerate(zip(layers, grads, acts)):
        Z = cache[l][1]
        A = act.fn(Z) if act is not None else network.loss_fn.output(Z)
        sv = np.linalg.svd(W, compute_uv=False)
        rows.append({
            "layer": l + 1,
            "units": W.shape[0],
            "activation": act.name if act is not None else f"output ({network.loss})",
            "pre_mean": float(Z.mean()),
            "pre_var": float(Z.var()),
            "act_mean": float(A.mean()),
            "act_ms": float(np.mean(A**2)),
            "dead": _dead_fraction(act, Z),
            "saturated": _saturated_fraction(act, A),
            "grad_var": float(np.var(back.dZ[l])),
            "weight_grad_norm": float(np.linalg.norm(gW)),
            "sv_max": float(sv.max()),
            "sv_min": float(sv.min()),
            "sv_spread": float(sv.max() / sv.min()) if sv.min() > 0 else float("inf"),
            "pred_pre_var": q_pred[l],
            "pred_act_ms": act_pred[l],
            "pred_grad_var": g_pred[l],
        })
    return rows


def _dead_fraction(act, Z):
    """Units whose pre-activation is ≤ 0 on every example: they pass no signal and get no gradient."""
    if act is None or act.family != "relu":
        return float("nan")
    return float(np.mean(np.all(Z <= 0, axis=-1)))


def _saturated_fraction(act, A):
    if act is None or act.bounds is None:
        return float("nan")
    low, high = act.bounds
    position = 2 * (A - low) / (high - low) - 1  # −1 … +1 across the range
    return float(np.mean(np.abs(position) > SATURATED_AT))


def _sigma2(W, b):
    """The weights' realized σ_w² = fan_in·E[w²] and σ_b² = E[b²] (the mean-field parameters)."""
    return W.shape[-1] * float(np.mean(W**2)), float(np.mean(b**2))


def _forward_prediction(network, layers, X):
    """q_l = σ_w,l²·E[φ_{l−1}(√q_{l−1} z)²] + σ_b,l², starting from the input's mean square."""
    from .theory import length_map

    q_pred, act_pred = [], []
    incoming_ms = float(np.mean(X**2))
    acts = list(network.hidden_activations)
    for l, (W, b) in enumerate(layers):
        sw2, sb2 = _sigma2(W, b)
        q = sw2 * incoming_ms + sb2 if l == 0 else length_map(q_pred[-1], sw2, sb2, acts[l - 1])
        q_pred.append(q)
        if l < len(acts):
            incoming_ms = gaussian_expectation(lambda z: acts[l].fn(z) ** 2, q)
            act_pred.append(incoming_ms)
        else:
            act_pred.append(float("nan"))  # the output activation is not a mean-field layer
    return q_pred, act_pred


def _backward_prediction(network, layers, q_pred, top_var):
    """Var(δ_l) = Var(δ_{l+1})·σ_w,l+1²·(n_{l+1}/n_l)·E[φ′(√q_l z)²], from the output's measured variance."""
    acts = list(network.hidden_activations)
    g = [float("nan")] * len(layers)
    g[-1] = top_var
    for l in range(len(layers) - 2, -1, -1):
        W_next, b_next = layers[l + 1]
        sw2, _ = _sigma2(W_next, b_next)
        fan_ratio = W_next.shape[0] / W_next.shape[1]
        slope2 = gaussian_expectation(lambda z: acts[l].derivative(z) ** 2, q_pred[l])
        g[l] = g[l + 1] * sw2 * fan_ratio * slope2
    return g


# --- verdicts -----------------------------------------------------------------------------
def verdicts(table, network: Network) -> list:
    """What a person can act on, read off the table: vanishing or exploding signals, dead or
    saturated layers, and which initializer to try."""
    hidden = table.iloc[:-1]  # the output layer's width and loss make it no part of the signal's path
    found = []
    if len(hidden) >= 2:
        found += [_forward_verdict(hidden), _backward_verdict(hidden)]
    found += [f"layer {r.layer}: {r.dead:.0%} of units dead (never active on the batch)"
              for r in hidden.itertuples() if r.dead >= MOSTLY]
    found += [f"layer {r.layer}: {r.saturated:.0%} of activations saturated"
              for r in hidden.itertuples() if r.saturated >= MOSTLY]
    if any(not v.startswith(("forward signal preserved", "gradients preserved")) for v in found):
        found.append(_suggestion(network))
    return found


def _forward_verdict(hidden):
    ratio = hidden.act_ms.iloc[-1] / hidden.act_ms.iloc[0]
    n = len(hidden)
    if not ratio > VANISH:
        return f"activations vanish: mean square falls by ×{ratio:.0e} over {n} hidden layers"
    if ratio > EXPLODE:
        return f"activations explode: mean square grows by ×{ratio:.0e} over {n} hidden layers"
    return f"forward signal preserved: mean square changes by ×{ratio:.2g} over {n} hidden layers"


def _backward_verdict(layers):
    """Gradient variance at each layer relative to the topmost one in `layers`."""
    ratios = layers.grad_var.to_numpy() / layers.grad_var.iloc[-1]
    top = int(layers.layer.iloc[-1])
    weak = np.flatnonzero(~(ratios > VANISH))
    if weak.size:
        from_layer = int(layers.layer.iloc[weak.max()])
        return f"gradients vanish from layer {from_layer} down: ×{ratios[0]:.0e} at layer 1 relative to layer {top}"
    if ratios[0] > EXPLODE:
        return f"gradients explode toward the input: ×{ratios[0]:.0e} at layer 1 relative to layer {top}"
    return f"gradients preserved: ×{ratios[0]:.2g} at layer 1 relative to layer {top}"


def _suggestion(network):
    families = {a.family for a in network.hidden_activations}
    names = {a.name for a in network.hidden_activations}
    if "relu" in families:
        return "try he_normal (Var(w) = 2/fan_in keeps a ReLU network's signal, He et al. 2015)"
    if names == {"selu"}:
        return "try lecun_normal (Var(w) = 1/fan_in, the self-normalizing setting of Klambauer et al. 2017)"
    return "try xavier_normal or orthogonal (Glorot & Bengio 2010; Saxe et al. 2013)"


def summary(network, params, X, rng=0, noise=None):
    """A small per-hidden-layer record for a run store (no pandas, no SVD): activation mean
    square, gradient variance (from output noise) and dead fraction, as plain lists.

    The output noise is ``standard_normal((n_L, m))`` from `rng`; a sweep draws it once per chunk
    and passes it as `noise` (the same numbers: drawing it for every run cost a third of this)."""
    params = network.check_params(params, batched=False)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        ZL, cache = network.forward(params, X)
        if noise is None:
            noise = check_random_state(rng).standard_normal(ZL.shape)
        back = network.backward_from(params, cache, noise, weights=False)
        acts = network.hidden_activations
        out = {
            "act_ms": [float(np.mean(cache[l + 1][0] ** 2)) for l in range(len(acts))],  # A_l: layer l+1's input
            "grad_var": [float(np.var(back.dZ[l])) for l in range(len(acts))],
            "dead": [_dead_fraction(a, cache[l][1]) for l, a in enumerate(acts)],
        }
    return {k: [finite_or_none(v) for v in values] for k, values in out.items()}


# --- starting-point readings used by the comparison ------------------------------------------
def symmetric_layers(network, params):
    """Hidden layers (1-based) whose units all have identical incoming weights and biases.

    Such units compute the same function and receive the same gradient, so gradient descent
    keeps them identical forever: the layer behaves as a single unit.
    """
    layers = network.unpack(network.check_params(params))[:-1]
    return [
        l
        for l, (W, b) in enumerate(layers, start=1)
        if W.shape[0] > 1 and np.all(W == W[0]) and np.all(b == b[0])
    ]


def saturated_outputs(network, params, X, logit=float(np.log(99.0))):
    """Fraction of examples whose output sigmoid is beyond [0.01, 0.99] (|logit| > log 99)."""
    with np.errstate(over="ignore", invalid="ignore"):
        ZL, _ = network.forward(network.check_params(params), X)
    return float(np.mean(np.abs(ZL) > logit))


# --- several initializers and seeds ----------------------------------------------------------
@dataclass
class SignalStudy:
    """Probes of one architecture from several initializers, each over several seeds."""

    network: Network
    table: object  # pandas DataFrame: one row per init, seed and layer
    verdicts: dict  # init -> verdicts read from the seed-averaged table

    def to_frame(self):
        return self.table.copy()

    def _repr_html_(self):
        from .report import fragment

        return fragment(self)

    def plot(self):
        from .plots import signal_figure

        return signal_figure(dict(tuple(self.table.groupby("init", sort=False))))

    def save(self, out="initlab-out"):
        """Write signal.csv (every probe) and signal.png (the figure) into `out`; return the paths."""
        import os

        from ._validation import check_writable_dir
        from .plots import save

        out = check_writable_dir("out", out)
        paths = {"csv": os.path.join(out, "signal.csv"), "figure": os.path.join(out, "signal.png")}
        self.table.to_csv(paths["csv"], index=False)
        save(self.plot(), paths["figure"])
        return paths


def deep_network(depth, width, activation="relu") -> Network:
    """`depth` hidden layers of `width` units on a `width`-wide input, one sigmoid output."""
    depth, width = check_int("depth", depth, low=1), check_int("width", width, low=1)
    return Network((width,) * (depth + 1) + (1,), activation=activation)


def signal_propagation(network: Network, inits, seeds=5, batch=256) -> SignalStudy:
    """Probe `network` from each initializer in `inits` with `seeds` seeds (0, 1, …).

    Seed s draws the input batch X ~ N(0, 1), shape (n_0, batch), and then the weights from
    ``default_rng(s)``, so every initializer sees the same inputs.
    """
    seeds, batch = check_int("seeds", seeds, low=1), check_int("batch", batch, low=2)
    frames, found = [], {}
    for name in check_names("inits", inits, "initializer", INITIALIZERS):
        tables = []
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            X = rng.standard_normal((network.sizes[0], batch))
            tables.append(probe(network, network.init(name, rng=rng, X=X), X, rng=rng).table.assign(init=name, seed=seed))
        mean = _concat(tables).groupby("layer", sort=True).mean(numeric_only=True).reset_index()
        found[name] = verdicts(mean, network)
        frames += tables
    return SignalStudy(network, _concat(frames), found)


# --- during training -------------------------------------------------------------------------
def record(network, params, X, Y, options, every=None, probe_X=None):
    """Train and probe every `every` iterations (default: options.record_every).

    Returns (run, history): history has one row per layer and probe, with an ``iteration``
    column, so a plot shows a layer dying or saturating over time.
    """
    from dataclasses import replace

    from .train import train

    if every is not None:
        options = replace(options, record_every=every)
    batch = X if probe_X is None else probe_X
    frames = []

    def on_record(i, cost, current):
        frames.append(probe(network, current, batch).table.assign(iteration=i, cost=cost))

    run = train(network, params, X, Y, options, on_record)
    history = _concat(frames) if frames else _frame([])
    return run, history
