"""The course notebook's API ("Initialization", Improving Deep Neural Networks), over initlab's core.

``from initlab.course import *`` and the notebook's code cells run unchanged: same signatures,
shapes, dict keys ("W1", "b1", …), printed lines and returned values. Each function converts
between the course's dict of arrays and the core's flat parameter vector; none re-implements
the math. Differences, all deliberate:

- ``model`` computes its printed cost stably from the logits, so the random run prints a large
  finite cost at iteration 0 where the notebook prints ``inf``; ``compute_loss`` is kept as the
  course wrote it (it is the course's function, ``inf`` included).
- Nothing touches numpy's global random state: the initializers draw from ``RandomState(3)`` and
  ``load_dataset`` from ``RandomState(1)`` and ``RandomState(2)``, the same numbers the
  notebook's ``np.random.seed`` calls give.
- ``load_dataset`` does not draw the scatter plot, and ``model`` plots its cost curve only when
  asked (``plot=True``).
"""
from __future__ import annotations

import numpy as np

from . import activations
from .data import circles
from .network import Network
from .train import TrainOptions, train

__all__ = [
    "load_dataset", "initialize_parameters_zeros", "initialize_parameters_random",
    "initialize_parameters_he", "forward_propagation", "backward_propagation", "compute_loss",
    "update_parameters", "predict", "predict_dec", "plot_decision_boundary", "sigmoid", "relu",
    "model",
]

NOTEBOOK_SEED = 3  # every initializer of the notebook calls np.random.seed(3)

sigmoid = activations.sigmoid
relu = activations.relu


# --- conversions between the course's dicts and the core's flat vector ---------------------
def _network(layers_dims):
    return Network(tuple(layers_dims))


def _network_of(parameters):
    L = len(parameters) // 2
    sizes = [parameters["W1"].shape[1]] + [parameters[f"W{l}"].shape[0] for l in range(1, L + 1)]
    return Network(tuple(sizes))


def _flatten(network, parameters):
    flat = np.empty(network.n_params)
    for l, (W, b) in enumerate(network.unpack(flat), start=1):
        W[...] = parameters[f"W{l}"]
        b[...] = parameters[f"b{l}"]
    return flat


def _as_dict(network, flat):
    parameters = {}
    for l, (W, b) in enumerate(network.unpack(flat), start=1):
        parameters[f"W{l}"] = W.copy()
        parameters[f"b{l}"] = b.copy()
    return parameters


def _initialize(layers_dims, name):
    network = _network(layers_dims)
    return _as_dict(network, network.init(name, rng=np.random.RandomState(NOTEBOOK_SEED)))


# --- the notebook's functions --------------------------------------------------------------
def load_dataset():
    """train_X (2, 300), train_Y (1, 300), test_X (2, 100), test_Y (1, 100): the circles."""
    d = circles()
    return d.X_train, d.Y_train, d.X_test, d.Y_test


def initialize_parameters_zeros(layers_dims):
    """W_l zeros (layers_dims[l], layers_dims[l-1]), b_l zeros (layers_dims[l], 1)."""
    return _initialize(layers_dims, "zeros")


def initialize_parameters_random(layers_dims):
    """W_l = randn(layers_dims[l], layers_dims[l-1]) * 10 from seed 3, b_l zeros."""
    return _initialize(layers_dims, "random")


def initialize_parameters_he(layers_dims):
    """W_l = randn(layers_dims[l], layers_dims[l-1]) * sqrt(2 / layers_dims[l-1]) from seed 3."""
    return _initialize(layers_dims, "he")


def forward_propagation(X, parameters):
    """LINEAR -> RELU -> … -> LINEAR -> SIGMOID. Returns (a_L, cache) with the course's cache
    tuple (z1, a1, W1, b1, z2, a2, W2, b2, …, zL, aL, WL, bL)."""
    network = _network_of(parameters)
    flat = _flatten(network, parameters)
    ZL, core_cache = network.forward(flat, X)
    AL = network.loss_fn.output(ZL)
    cache = []
    for l, (W, b) in enumerate(network.unpack(flat), start=1):
        Z = core_cache[l - 1][1]
        A = core_cache[l][0] if l < network.n_layers else AL
        cache += [Z, A, W, b]
    return AL, tuple(cache)


def backward_propagation(X, Y, cache):
    """Gradients dict with the course's keys: dz_l, dW_l, db_l and da_l for the hidden layers."""
    L = len(cache) // 4
    parameters = {f"{k}{l}": cache[4 * (l - 1) + i] for l in range(1, L + 1) for i, k in ((2, "W"), (3, "b"))}
    network = _network_of(parameters)
    flat = _flatten(network, parameters)
    A_prev = [X] + [cache[4 * (l - 1) + 1] for l in range(1, L)]
    core_cache = [(A_prev[l - 1], cache[4 * (l - 1)]) for l in range(1, L + 1)]
    back = network.backward(flat, core_cache, Y)
    gradients = {}
    for l, (gW, gb) in enumerate(network.unpack(back.grad), start=1):
        gradients[f"dz{l}"] = back.dZ[l - 1]
        gradients[f"dW{l}"] = gW
        gradients[f"db{l}"] = gb
        if l < L:
            gradients[f"da{l}"] = back.dA[l - 1]
    return gradients


def compute_loss(a3, Y):
    """The course's cross-entropy from probabilities: ``inf`` when an output is exactly 0 or 1."""
    m = Y.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        logprobs = np.multiply(-np.log(a3), Y) + np.multiply(-np.log(1 - a3), 1 - Y)
    return 1.0 / m * np.nansum(logprobs)


def update_parameters(parameters, grads, learning_rate):
    """One gradient-descent step: W_l ← W_l − α·dW_l, b_l ← b_l − α·db_l."""
    L = len(parameters) // 2
    for l in range(1, L + 1):
        parameters[f"W{l}"] = parameters[f"W{l}"] - learning_rate * grads[f"dW{l}"]
        parameters[f"b{l}"] = parameters[f"b{l}"] - learning_rate * grads[f"db{l}"]
    return parameters


def predict(X, y, parameters):
    """Predictions (1, m) of 0/1 (output > 0.5); prints "Accuracy: …" as the course does."""
    network = _network_of(parameters)
    p = network.predict(_flatten(network, parameters), X)
    print("Accuracy: " + str(np.mean((p[0, :] == y[0, :]))))
    return p


def predict_dec(parameters, X):
    """Boolean predictions (output > 0.5), for plotting decision boundaries."""
    network = _network_of(parameters)
    return network.predict_proba(_flatten(network, parameters), X) > 0.5


def plot_decision_boundary(model, X, y):
    """The course's plot: `model` maps points (k, 2) to labels; draws on the current axes.

    The region spans the data ±1 with step 0.01, as in the course; the notebook then limits the
    axes to ±1.5 before calling this. Returns the axes (call ``plt.show()`` in a script).
    """
    import matplotlib.pyplot as plt

    from .plots import decision_boundary

    ax = plt.gca()
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    keep_x, keep_y = not ax.get_autoscalex_on(), not ax.get_autoscaley_on()
    limits = (min(X[0].min(), X[1].min()) - 1, max(X[0].max(), X[1].max()) + 1)
    decision_boundary(ax, lambda P: model(P.T), X, y, limits=limits)
    if keep_x:  # the notebook sets its limits before calling: keep them
        ax.set_xlim(*xlim)
    if keep_y:
        ax.set_ylim(*ylim)
    return ax


def model(X, Y, learning_rate=0.01, num_iterations=15000, print_cost=True, initialization="he", plot=False):
    """The notebook's 3-layer network [n_x, 10, 5, 1] trained by gradient descent.

    Prints "Cost after iteration i: …" every 1000 iterations when `print_cost`; returns the
    learnt parameters as the course's dict. `initialization`: "zeros", "random", "he" or any
    name in ``initlab.INITIALIZERS`` (all drawing from seed 3).
    """
    network = _network([X.shape[0], 10, 5, 1])
    params = network.init(initialization, rng=np.random.RandomState(NOTEBOOK_SEED))
    printer = (lambda i, cost, _params: print(f"Cost after iteration {i}: {cost}")) if print_cost else None
    run = train(network, params, X, Y, TrainOptions(learning_rate, num_iterations, 1000), printer)
    if run.diverged:
        print(f"Training stopped: {run.divergence}")
    if plot:
        import matplotlib.pyplot as plt

        plt.figure()
        plt.plot(run.costs)
        plt.ylabel("cost")
        plt.xlabel("iterations (per thousands)")
        plt.title("Learning rate =" + str(learning_rate))
    return _as_dict(network, run.params)
