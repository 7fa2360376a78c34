"""The reference engine: the network's vectorized numpy forward and backward, one model at a time.

Readable rather than fast; every other engine is tested against it.
"""
from __future__ import annotations

import numpy as np

from .._blas import for_widths as blas_threads_for
from ..optim import build_optimizer
from ..network import Network
from ..options import TrainOptions
from .common import Callback, Divergence, Reached, Trace, epoch_orders, minibatch, nonfinite_what

NAME = "numpy"


def supports(network: Network, options: TrainOptions) -> str | None:
    """The reference supports everything: no reason to refuse."""
    return None


def train_batch(network: Network, params: np.ndarray, X: np.ndarray, Y: np.ndarray, options: TrainOptions,
                callback: Callback | None = None, orders: np.ndarray | None = None) -> list[Trace]:
    """Train each row of `params` (B, P); `callback(b, i, cost, params)` at recorded iterations.
    `orders`: the minibatch orders (common.epoch_orders; None: drawn from options.seed)."""
    if orders is None:
        orders = epoch_orders(X.shape[1], options.batch_size, options.seed, options.iterations)
    with blas_threads_for(network.sizes):  # small products: one BLAS thread (bench/README.md)
        return _train_each(network, params, X, Y, options, orders, callback)


def _train_each(network, params, X, Y, options, orders, callback):
    traces = []
    for b, initial in enumerate(params):
        report = None if callback is None else (lambda i, cost, current, b=b: callback(b, i, cost, current))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # reported as a Divergence
            traces.append(_descend(network, initial, X, Y, options, orders, report))
    return traces


def _descend(network, initial, X, Y, options, orders, callback):
    optimizer = build_optimizer(options.optimizer_spec)
    state = optimizer.init(initial)
    plain = not network.has_rate_factors  # else per-parameter learning rates and ε (a parametrization's, a branch scheme's)
    lr = options.learning_rate if plain else (options.learning_rate * network.lr_scale).astype(network.dtype)
    eps_scale = 1.0 if plain else network.eps_scale.astype(network.dtype)  # (a float64 array would promote float32's arithmetic)
    target, on = options.target_loss, options.target_on
    current, iterations, costs, divergence, reached, steps = initial, [], [], None, None, 0
    for i in range(options.iterations):
        index = minibatch(orders, i, options.batch_size)
        Xb, Yb = (X, Y) if index is None else (X[:, index], Y[:, index])
        ZL, cache = network.forward(current, Xb)
        on_all = target is not None and (on == "train" or index is None)  # the target checked on all the data
        cost = None  # the cost on all the training data, when this iteration needs it
        if i % options.record_every == 0 or on_all:
            cost = float(network.loss_fn.value(ZL, Y) if index is None else network.cost(current, X, Y))
        if i % options.record_every == 0:
            iterations.append(i)
            costs.append(cost)
            if callback is not None:
                callback(i, cost, current)
            if not np.isfinite(cost):
                divergence = Divergence(i, f"the cost is {cost}")
                break
        if target is not None:
            checked = cost if on_all else float(network.loss_fn.value(ZL, Yb))
            if checked <= target:  # (a nan cost never reaches it)
                reached = Reached(i, checked, target, "train" if on_all else "batch")
                break
        updated = optimizer.step(current, network.backward(current, cache, Yb).grad, state, i + 1, lr, eps_scale)
        if not np.isfinite(updated).all():
            divergence = Divergence(i, nonfinite_what(updated))
            break
        current, steps = updated, steps + 1
    return Trace(current, np.array(iterations, dtype=np.int64), np.array(costs), divergence, steps, reached)
