"""The course notebook's API ("Initialization", Improving Deep Neural Networks).

``from initlab.course import *`` and the notebook's code cells run unchanged: same signatures,
shapes, dict keys ("W1", "b1", …), printed lines and returned values.

- The initializers, ``forward_propagation``, ``backward_propagation``, ``compute_loss``,
  ``update_parameters``, ``predict`` and ``predict_dec`` compute with the course helper's own
  numpy expressions (``init_utils``), directly on the dict: the same numbers bit for bit, for
  any number of layers, at the helper's speed or better. Before computing, each checks the
  shapes with a few comparisons; a student's mistake (a transposed ``W2``, a missing ``b3``,
  an ``X`` with the wrong rows) is an :class:`~initlab.InitlabError` naming the key, the shape
  passed and the shape needed.
- ``model`` trains on initlab's core (the same network, from the same initial weights).
- :func:`check` grades a student's own function against these, case by case (``course_check``).

Differences from the notebook, all deliberate:

- ``model`` trains on the exact engine (the notebook's digits on every CPU) and prints the course's
  cost, except where that is ``inf`` (an output rounded to exactly 0 or 1: the random run's
  iteration 0), where it prints the true cost from the logits (≈1773.6); ``compute_loss`` is kept as
  the course wrote it (it is the course's function, ``inf`` included, without the warning).
- Nothing touches numpy's global random state: the initializers draw from ``RandomState(3)`` and
  ``load_dataset`` from ``RandomState(1)`` and ``RandomState(2)``, the same numbers the
  notebook's ``np.random.seed`` calls give.
- ``load_dataset`` does not draw the scatter plot, and ``model`` plots its cost curve only when
  asked (``plot=True``).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from . import activations
from ._validation import InitlabError, check_layer_sizes
from .data import circles
from .network import Network
from .engines import NOTEBOOK, for_notebook
from .training import TrainOptions, train

__all__ = [
    "load_dataset", "initialize_parameters_zeros", "initialize_parameters_random",
    "initialize_parameters_he", "forward_propagation", "backward_propagation", "compute_loss",
    "update_parameters", "predict", "predict_dec", "plot_decision_boundary", "sigmoid", "relu",
    "model", "check",
]

NOTEBOOK_SEED = 3  # every initializer of the notebook calls np.random.seed(3)


class _Report(Protocol):
    """What :func:`check` returns, ``course_check.CheckResult`` (a later module: this one may not import it)."""

    @property
    def exercise(self) -> str: ...

    @property
    def cases(self) -> list[Any]: ...

    @property
    def passed(self) -> bool: ...

    @property
    def verdict(self) -> str: ...

sigmoid = activations.sigmoid  # 1 / (1 + np.exp(-x)), the course's
relu = activations.relu  # np.maximum(0, x), the course's


# --- conversions between the course's dicts and the core's flat vector (for model) ---------
def _network(layers_dims: Sequence[int]) -> Network:
    return Network(tuple(layers_dims))


def _as_dict(network: Network, flat: np.ndarray) -> dict[str, np.ndarray]:
    parameters: dict[str, np.ndarray] = {}
    for l, (W, b) in enumerate(network.unpack(flat), start=1):
        parameters[f"W{l}"] = W.copy()
        parameters[f"b{l}"] = b.copy()
    return parameters


# --- shape checks: a few comparisons when all is well, a message naming the key otherwise ---
class _Mismatch(Exception):
    """Raised inside a fast check: something is off, find out what (slowly) and say it."""


def _shape_of(value: Any) -> tuple[int, ...] | str:
    return value.shape if isinstance(value, np.ndarray) else type(value).__name__


_KEYS = [(f"W{l}", f"b{l}", f"dW{l}", f"db{l}") for l in range(65)]  # (W_l, b_l, dW_l, db_l), l < 65


def _n_layers(parameters: Any, X: Any = None) -> int:
    """The number of layers L of `parameters` (W1, b1, …, WL, bL), after checking that each
    W_l is (n_l, n_{l-1}) and each b_l is (n_l, 1), with n_0 the rows of X when given."""
    try:
        L = len(parameters) >> 1
        if X is not None:
            if X.ndim != 2:
                raise _Mismatch
            n = X.shape[0]
        else:
            n = parameters["W1"].shape[1]
        for l in range(1, L + 1):
            keys = _KEYS[l]
            s = parameters[keys[0]].shape
            if len(s) != 2 or s[1] != n or parameters[keys[1]].shape != (s[0], 1):
                raise _Mismatch
            n = s[0]
        if L < 1 or 2 * L != len(parameters):
            raise _Mismatch
    except (_Mismatch, KeyError, AttributeError, TypeError, IndexError):
        return _diagnose_parameters(parameters, X)
    return L


def _layer_keys(L: int) -> list[tuple[str, str, str, str]]:
    return _KEYS[:L + 1] if L < len(_KEYS) else [(f"W{l}", f"b{l}", f"dW{l}", f"db{l}") for l in range(L + 1)]


def _diagnose_parameters(parameters: Any, X: Any) -> int:
    """Raise the InitlabError that says what is wrong with `parameters` (and X); return L when
    nothing is (a dict with extra keys besides W1, b1, …)."""
    if not isinstance(parameters, Mapping):
        raise InitlabError("'parameters' must be a dict of numpy arrays {'W1': …, 'b1': …, 'W2': …, …}. "
                           f"Got {type(parameters).__name__} instead.")
    if X is not None and (not isinstance(X, np.ndarray) or X.ndim != 2):
        raise InitlabError("X must be a 2-D numpy array of shape (n_x, m), one column per example. "
                           f"Got {'shape ' + str(X.shape) if isinstance(X, np.ndarray) else type(X).__name__} instead.")
    layers: dict[int, dict[str, Any]] = {}
    for key in parameters:
        found = re.fullmatch(r"([Wb])([1-9][0-9]*)", key) if isinstance(key, str) else None
        if found:
            layers.setdefault(int(found[2]), {})[found[1]] = parameters[key]
    given = ", ".join(map(str, parameters)) or "none"
    if not layers:
        raise InitlabError(f"parameters has no 'W1': expected the keys W1, b1, W2, b2, …, WL, bL. Keys given: {given}.")
    L = max(layers)
    for l in range(1, L + 1):
        for kind in "Wb":
            value = layers.get(l, {}).get(kind)
            if value is None:
                raise InitlabError(f"parameters has no '{kind}{l}': {_needed(layers, l, kind, X)}. Keys given: {given}.")
            if not isinstance(value, np.ndarray):
                try:
                    shape = f" of shape {np.shape(value)}" if isinstance(value, (list, tuple)) else ""
                except ValueError:  # a ragged list
                    shape = ""
                raise InitlabError(f"parameters['{kind}{l}'] is a {type(value).__name__}{shape}; "
                                   f"{_needed(layers, l, kind, X)}, a numpy array.")
    n_prev = _input_width(layers, X)
    for l in range(1, L + 1):
        W, b = layers[l]["W"], layers[l]["b"]
        if W.ndim != 2 or W.shape[1] != n_prev:
            need = (_units(layers, l, n_prev), n_prev)
            if l == 1 and X is not None and W.shape != need[::-1]:
                n_in = W.shape[-1]
                start = (f"X has shape {X.shape} but parameters['W1'] has shape {W.shape}: layer 1 takes {n_in} input "
                         f"features, so X needs {n_in} rows, shape ({n_in}, m) with one column per example")
                if X.shape[1] == n_in:
                    raise InitlabError(f"{start}. Did you pass X transposed?")
                raise InitlabError(f"{start} (or W1 of shape (n_1, n_0) = {(W.shape[0], X.shape[0])} for this X).")
            hint = " Did you transpose it?" if W.shape == need[::-1] else ""
            raise InitlabError(f"parameters['W{l}'] has shape {W.shape}; layer {l} needs {need} = (n_{l}, n_{l - 1}) "
                               f"{_after(layers, l, X)}.{hint}")
        n = W.shape[0]
        if b.shape != (n, 1):
            hint = (" Did you transpose it?" if b.shape == (1, n) else
                    " It must be a column: np.zeros((n, 1)), not np.zeros(n)." if b.shape == (n,) else "")
            raise InitlabError(f"parameters['b{l}'] has shape {b.shape}; layer {l} needs {(n, 1)} = (n_{l}, 1) "
                               f"to match W{l} {W.shape}.{hint}")
        n_prev = n
    return L


def _input_width(layers: Mapping[int, Mapping[str, Any]], X: np.ndarray | None) -> int:
    """n_0: X's rows, else W1's columns (its rows when W1 is transposed against b1)."""
    if X is not None:
        return X.shape[0]
    W, b = layers[1]["W"], layers[1]["b"]
    if W.ndim != 2:
        return W.shape[-1] if W.ndim else 1
    if b.ndim == 2 and b.shape[1] == 1 and W.shape[0] != b.shape[0] and W.shape[1] == b.shape[0]:
        return W.shape[0]
    return W.shape[1]


def _units(layers: Mapping[int, Mapping[str, Any]], l: int, n_prev: int) -> int | str:
    """n_l as the other arrays tell it when W_l does not fit: W_l's columns if it is transposed,
    else b_l's rows, else W_{l+1}'s columns, else W_l's rows."""
    W, b, after = layers[l].get("W"), layers[l].get("b"), layers.get(l + 1, {}).get("W")
    if isinstance(W, np.ndarray) and W.ndim == 2 and W.shape[0] == n_prev:
        return W.shape[1]
    if isinstance(b, np.ndarray) and b.ndim in (1, 2) and (b.ndim == 1 or b.shape[1] == 1):
        return b.shape[0]
    if isinstance(after, np.ndarray) and after.ndim == 2:
        return after.shape[1]
    return W.shape[0] if isinstance(W, np.ndarray) and W.ndim else "n_l"


def _after(layers: Mapping[int, Mapping[str, Any]], l: int, X: np.ndarray | None) -> str:
    if l > 1:
        return f"to follow W{l - 1} {layers[l - 1]['W'].shape}"
    if X is not None:
        return f"for X of shape {X.shape}"
    return f"to match b1 {_shape_of(layers[1].get('b'))}"


def _needed(layers: Mapping[int, Mapping[str, Any]], l: int, kind: str, X: np.ndarray | None) -> str:
    """"layer 3 needs b3 of shape (1, 1) = (n_3, 1)" from what the other arrays say."""
    W = layers.get(l, {}).get("W")
    if kind == "b":
        n = W.shape[0] if isinstance(W, np.ndarray) and W.ndim == 2 else "n"
        return f"layer {l} needs b{l} of shape {(n, 1)} = (n_{l}, 1)"
    if l == 1:
        n_prev = X.shape[0] if X is not None else "n_0"
    else:
        before = layers.get(l - 1, {}).get("W")
        n_prev = before.shape[0] if isinstance(before, np.ndarray) and before.ndim == 2 else f"n_{l - 1}"
    b = layers.get(l, {}).get("b")
    n = b.shape[0] if isinstance(b, np.ndarray) and b.ndim >= 1 else f"n_{l}"
    return f"layer {l} needs W{l} of shape ({n}, {n_prev}) = (n_{l}, n_{l - 1})"


def _check_cache(X: Any, Y: Any, cache: Any) -> int:
    """L for a cache (z1, a1, W1, b1, …, zL, aL, WL, bL) that fits X and Y."""
    try:
        L = len(cache) // 4
        aL = cache[4 * L - 3]
        if (4 * L != len(cache) or X.ndim != 2 or X.shape[0] != cache[2].shape[1]
                or X.shape[1] != aL.shape[1] or Y.shape != aL.shape):
            raise _Mismatch
    except (_Mismatch, AttributeError, TypeError, IndexError):
        _diagnose_cache(X, Y, cache)
    return L


def _diagnose_cache(X: Any, Y: Any, cache: Any) -> None:
    form = "the tuple forward_propagation returned: (z1, a1, W1, b1, …, zL, aL, WL, bL), 4 entries per layer"
    if not isinstance(cache, (tuple, list)):
        raise InitlabError(f"cache must be {form}. Got {type(cache).__name__} instead.")
    if not cache or len(cache) % 4 or not all(isinstance(c, np.ndarray) for c in cache):
        arrays = all(isinstance(c, np.ndarray) for c in cache)
        hint = (" Pass the cache, the second value forward_propagation returns: a3, cache = forward_propagation(X, parameters)."
                if len(cache) == 2 and isinstance(cache[1], (tuple, list)) else "")
        raise InitlabError(f"cache must be {form}. Got a {type(cache).__name__} of {len(cache)} entries"
                           f"{'' if arrays else ' (not all numpy arrays)'} instead.{hint}")
    L = len(cache) // 4
    W1, aL = cache[2], cache[4 * L - 3]
    if not isinstance(X, np.ndarray) or X.ndim != 2:
        raise InitlabError("X must be a 2-D numpy array of shape (n_x, m), one column per example. "
                           f"Got {_shape_of(X) if not isinstance(X, np.ndarray) else 'shape ' + str(X.shape)} instead.")
    if W1.ndim != 2 or X.shape[0] != W1.shape[1]:
        raise InitlabError(f"X has shape {X.shape} but the cache's W1 has shape {W1.shape}: X needs {W1.shape[-1]} rows. "
                           "Pass the X you gave forward_propagation.")
    if aL.ndim != 2 or X.shape[1] != aL.shape[1]:
        raise InitlabError(f"X has shape {X.shape} but the cache's a{L} has shape {aL.shape}: they need the same number "
                           "of columns (examples). Pass the X you gave forward_propagation.")
    if not isinstance(Y, np.ndarray) or Y.shape != aL.shape:
        shown = Y.shape if isinstance(Y, np.ndarray) else type(Y).__name__
        hint = " Did you transpose it?" if isinstance(Y, np.ndarray) and Y.shape == aL.shape[::-1] else ""
        raise InitlabError(f"Y has shape {shown}; it must have the shape of the output a{L}, {aL.shape}: the labels "
                           f"as a row, one column per example.{hint}")


def _check_grads(parameters: Mapping[str, np.ndarray], grads: Any, keys: Sequence[tuple[str, str, str, str]]) -> None:
    try:
        for W, b, dW, db in keys[1:]:
            if grads[dW].shape != parameters[W].shape or grads[db].shape != parameters[b].shape:
                raise _Mismatch
    except (_Mismatch, KeyError, AttributeError, TypeError):
        L = len(keys) - 1
        if not isinstance(grads, Mapping):
            raise InitlabError(f"grads must be the dict backward_propagation returned (dW1, db1, …). "
                               f"Got {type(grads).__name__} instead.") from None
        for l in range(1, L + 1):
            for kind in "Wb":
                key, value = f"d{kind}{l}", grads.get(f"d{kind}{l}")
                need = parameters[f"{kind}{l}"].shape
                if value is None:
                    raise InitlabError(f"grads has no '{key}': update_parameters needs dW_l and db_l for every layer "
                                       f"l = 1 … {L} of parameters, {key} of shape {need}.") from None
                if _shape_of(value) != need:
                    hint = " Did you transpose it?" if _shape_of(value) == need[::-1] else ""
                    raise InitlabError(f"grads['{key}'] has shape {_shape_of(value)}; it must have the shape of "
                                       f"parameters['{kind}{l}'], {need}.{hint}") from None


# --- the notebook's functions --------------------------------------------------------------
def load_dataset() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """train_X (2, 300), train_Y (1, 300), test_X (2, 100), test_Y (1, 100): the circles.

    >>> train_X, train_Y, test_X, test_Y = load_dataset()
    >>> train_X.shape, test_Y.shape
    ((2, 300), (1, 100))
    """
    d = circles()
    return d.X_train, d.Y_train, d.X_test, d.Y_test


def _layers_dims(layers_dims: Sequence[int] | np.ndarray) -> tuple[int, ...]:
    """layers_dims as a tuple of ints: a list (tuple, 1-D array) of at least 2 positive ints."""
    try:
        return check_layer_sizes("layers_dims", layers_dims.tolist() if isinstance(layers_dims, np.ndarray) else layers_dims)
    except InitlabError:
        raise InitlabError("The 'layers_dims' parameter must be a list of at least two positive ints: the input's size, "
                           f"then each layer's units, e.g. [2, 10, 5, 1]. Got {layers_dims!r} instead.") from None


def initialize_parameters_zeros(layers_dims: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
    """W_l = np.zeros((layers_dims[l], layers_dims[l-1])), b_l = np.zeros((layers_dims[l], 1)),
    for l = 1 … len(layers_dims) − 1; any depth and widths.

    >>> p = initialize_parameters_zeros([3, 2, 1])
    >>> {k: v.shape for k, v in p.items()}
    {'W1': (2, 3), 'b1': (2, 1), 'W2': (1, 2), 'b2': (1, 1)}
    """
    dims = _layers_dims(layers_dims)
    parameters: dict[str, np.ndarray] = {}
    for l in range(1, len(dims)):
        parameters[f"W{l}"] = np.zeros((dims[l], dims[l - 1]))
        parameters[f"b{l}"] = np.zeros((dims[l], 1))
    return parameters


def initialize_parameters_random(layers_dims: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
    """W_l = randn(layers_dims[l], layers_dims[l-1]) * 10, drawn in layer order from
    ``RandomState(3)`` (the notebook's ``np.random.seed(3)`` stream, global state untouched);
    b_l zeros (layers_dims[l], 1).

    >>> initialize_parameters_random([3, 2, 1])["W2"]
    array([[-0.82741481, -6.27000677]])
    """
    dims = _layers_dims(layers_dims)
    rng = np.random.RandomState(NOTEBOOK_SEED)
    parameters: dict[str, np.ndarray] = {}
    for l in range(1, len(dims)):
        parameters[f"W{l}"] = rng.randn(dims[l], dims[l - 1]) * 10
        parameters[f"b{l}"] = np.zeros((dims[l], 1))
    return parameters


def initialize_parameters_he(layers_dims: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
    """W_l = randn(layers_dims[l], layers_dims[l-1]) * sqrt(2 / layers_dims[l-1]), drawn in layer
    order from ``RandomState(3)`` (global state untouched); b_l zeros (layers_dims[l], 1).

    >>> initialize_parameters_he([2, 4, 1])["W2"]
    array([[-0.03098412, -0.33744411, -0.92904268,  0.62552248]])
    """
    dims = _layers_dims(layers_dims)
    rng = np.random.RandomState(NOTEBOOK_SEED)
    parameters: dict[str, np.ndarray] = {}
    for l in range(1, len(dims)):
        parameters[f"W{l}"] = rng.randn(dims[l], dims[l - 1]) * np.sqrt(2 / dims[l - 1])
        parameters[f"b{l}"] = np.zeros((dims[l], 1))
    return parameters


def forward_propagation(X: np.ndarray,
                        parameters: Mapping[str, np.ndarray]) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """LINEAR -> RELU -> … -> LINEAR -> SIGMOID, for L = len(parameters) // 2 layers:
    z_l = np.dot(W_l, a_{l-1}) + b_l (a_0 = X), a_l = relu(z_l), and a_L = sigmoid(z_L).

    Returns (a_L, cache), the course's cache tuple (z1, a1, W1, b1, …, zL, aL, WL, bL).

    >>> X = np.array([[1.0, -1.0], [2.0, 0.5]])
    >>> p = {"W1": np.array([[1.0, 0.0], [0.0, -1.0]]), "b1": np.zeros((2, 1)),
    ...      "W2": np.array([[1.0, 1.0]]), "b2": np.zeros((1, 1))}
    >>> a2, cache = forward_propagation(X, p)
    >>> a2, len(cache)
    (array([[0.73105858, 0.5       ]]), 8)
    """
    try:  # the shape checks ride along the computation: a few comparisons per layer
        L = len(parameters) >> 1
        if X.ndim != 2 or 2 * L != len(parameters):
            raise _Mismatch
        n = X.shape[0]
        a = X
        cache: list[np.ndarray] = []
        for l in range(1, L + 1):
            keys = _KEYS[l]
            W = parameters[keys[0]]
            b = parameters[keys[1]]
            s = W.shape
            if len(s) != 2 or s[1] != n or b.shape != (s[0], 1):
                raise _Mismatch
            n = s[0]
            z = np.dot(W, a) + b
            a = np.maximum(0, z) if l < L else 1 / (1 + np.exp(-z))
            cache += (z, a, W, b)
        if L < 1:
            raise _Mismatch
    except (_Mismatch, KeyError, AttributeError, TypeError, IndexError):
        return _forward(X, parameters, _diagnose_parameters(parameters, X))
    return a, tuple(cache)


def _forward(X: np.ndarray, parameters: Mapping[str, np.ndarray], L: int) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """forward_propagation once the parameters are known to fit (the slow path: extra keys, or
    more than 64 layers)."""
    a = X
    cache: list[np.ndarray] = []
    for l in range(1, L + 1):
        W, b = parameters[f"W{l}"], parameters[f"b{l}"]
        z = np.dot(W, a) + b
        a = np.maximum(0, z) if l < L else 1 / (1 + np.exp(-z))
        cache += (z, a, W, b)
    return a, tuple(cache)


def backward_propagation(X: np.ndarray, Y: np.ndarray, cache: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """The course's gradients, for L = len(cache) // 4 layers (m = X.shape[1]):
    dz_L = 1./m * (a_L − Y); for l = L … 1: dW_l = np.dot(dz_l, a_{l-1}.T) (a_0 = X),
    db_l = np.sum(dz_l, axis=1, keepdims=True), da_{l-1} = np.dot(W_l.T, dz_l) and
    dz_{l-1} = da_{l-1} · [a_{l-1} > 0] (the course writes the mask ``np.int64(a > 0)``;
    the products are the same).

    Returns a dict with the course's keys, in its order: dz3, dW3, db3, da2, dz2, … db1.

    >>> X, Y = np.array([[1.0, -1.0], [2.0, 0.5]]), np.array([[1.0, 0.0]])
    >>> p = initialize_parameters_he([2, 3, 1])
    >>> grads = backward_propagation(X, Y, forward_propagation(X, p)[1])
    >>> list(grads)
    ['dz2', 'dW2', 'db2', 'da1', 'dz1', 'dW1', 'db1']
    """
    L = _check_cache(X, Y, cache)
    m = X.shape[1]
    gradients: dict[str, np.ndarray] = {}
    dz = 1. / m * (cache[4 * L - 3] - Y)
    for l in range(L, 0, -1):
        a_prev = cache[4 * l - 7] if l > 1 else X
        gradients[f"dz{l}"] = dz
        gradients[f"dW{l}"] = np.dot(dz, a_prev.T)
        gradients[f"db{l}"] = np.add.reduce(dz, axis=1, keepdims=True)  # = np.sum(…), without its Python layer
        if l > 1:
            da = np.dot(cache[4 * l - 2].T, dz)
            gradients[f"da{l - 1}"] = da
            dz = np.multiply(da, a_prev > 0)  # the bool mask casts to 1.0/0.0, as np.int64(a > 0) does
    return gradients


def compute_loss(a3: np.ndarray, Y: np.ndarray) -> float:
    """The course's cross-entropy from probabilities, m = Y.shape[1]:
    1./m * np.nansum(−log(a3)·Y + −log(1 − a3)·(1 − Y)); ``inf`` when an output is exactly 0 or 1
    (without numpy's divide-by-zero warning).

    >>> float(compute_loss(np.array([[0.5, 0.5]]), np.array([[1, 0]])))
    0.6931471805599453
    """
    if getattr(a3, "shape", None) != getattr(Y, "shape", None) or len(Y.shape) != 2:
        raise InitlabError(f"compute_loss needs a3 and Y of the same shape (1, m), one column per example. "
                           f"Got a3 of shape {_shape_of(a3)} and Y of shape {_shape_of(Y)}.")
    m = Y.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        logprobs = np.multiply(-np.log(a3), Y) + np.multiply(-np.log(1 - a3), 1 - Y)
    total = np.add.reduce(logprobs, axis=None)  # np.nansum's own sum when there is no NaN …
    if total != total:
        total = np.nansum(logprobs)  # … and np.nansum itself when there is
    return 1. / m * total


def update_parameters(parameters: dict[str, np.ndarray], grads: Mapping[str, np.ndarray],
                      learning_rate: float) -> dict[str, np.ndarray]:
    """One gradient-descent step, for every layer l: W_l = W_l − learning_rate · dW_l and
    b_l = b_l − learning_rate · db_l. Stores new arrays in `parameters` and returns it.

    >>> p = {"W1": np.ones((1, 2)), "b1": np.zeros((1, 1))}
    >>> update_parameters(p, {"dW1": np.ones((1, 2)), "db1": np.ones((1, 1))}, 0.5)
    {'W1': array([[0.5, 0.5]]), 'b1': array([[-0.5]])}
    """
    keys = _layer_keys(_n_layers(parameters))
    _check_grads(parameters, grads, keys)
    for W, b, dW, db in keys[1:]:
        parameters[W] = parameters[W] - learning_rate * grads[dW]
        parameters[b] = parameters[b] - learning_rate * grads[db]
    return parameters


def predict(X: np.ndarray, y: np.ndarray, parameters: Mapping[str, np.ndarray]) -> np.ndarray:
    """The course's predictions p (1, m) of ints: p[0, i] = 1 if a_L[0, i] > 0.5 else 0; prints
    "Accuracy: " + str(np.mean(p[0, :] == y[0, :])).

    >>> X, y = np.array([[1.0, -1.0]]), np.array([[1, 1]])
    >>> predict(X, y, {"W1": np.array([[2.0]]), "b1": np.zeros((1, 1))})
    Accuracy: 0.5
    array([[1, 0]])
    """
    m = X.shape[1] if isinstance(X, np.ndarray) and X.ndim == 2 else None
    with np.errstate(over="ignore"):
        a, _ = forward_propagation(X, parameters)
    if not isinstance(y, np.ndarray) or y.ndim != 2 or y.shape[1] != m:
        raise InitlabError(f"y has shape {_shape_of(y)}; predict needs the labels as one row of shape (1, m) = (1, {m}), "
                           "one column per example of X.")
    p = (a[0:1, :] > 0.5).astype(int)
    print("Accuracy: " + str(np.mean((p[0, :] == y[0, :]))))
    return p


def predict_dec(parameters: Mapping[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """The course's boolean predictions ``a_L > 0.5``, for plotting decision boundaries.

    >>> predict_dec({"W1": np.array([[2.0]]), "b1": np.zeros((1, 1))}, np.array([[1.0, -1.0]]))
    array([[ True, False]])
    """
    with np.errstate(over="ignore"):
        a, _ = forward_propagation(X, parameters)
    return a > 0.5


def plot_decision_boundary(model: Callable[[np.ndarray], np.ndarray], X: np.ndarray, y: np.ndarray) -> None:
    """The course's plot: `model` maps points (k, 2) to labels; draws on the current axes.

    The region spans the data ±1 with step 0.01, as in the course; the notebook then limits the
    axes to ±1.5 before calling this. Returns None, as the course's does (it ends with
    ``plt.show()``; here the figure shows at the end of a notebook cell, or call ``plt.show()``
    in a script).
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


def model(X: np.ndarray, Y: np.ndarray, learning_rate: float = 0.01, num_iterations: int = 15000,
          print_cost: bool = True, initialization: str = "he", plot: bool = False) -> dict[str, np.ndarray]:
    """The notebook's 3-layer network [n_x, 10, 5, 1] trained by gradient descent.

    Prints "Cost after iteration i: …" every 1000 iterations when `print_cost`; returns the
    learnt parameters as the course's dict. `initialization`: "zeros", "random", "he" or any
    name in ``initlab.INITIALIZERS`` (all drawing from seed 3).
    """
    network = _network([X.shape[0], 10, 5, 1])
    params = network.init(initialization, rng=np.random.RandomState(NOTEBOOK_SEED))
    printer = (lambda i, cost, _params: print(f"Cost after iteration {i}: {cost}")) if print_cost else None
    options = TrainOptions(learning_rate, num_iterations, 1000)
    engine = for_notebook("auto", network, options)  # the exact engine: the notebook's digits on any CPU
    run = train(network, params, X, Y, options, printer, engine=engine)
    if engine != "auto":
        run.engine_reason = NOTEBOOK  # auto chose it, on the notebook's path
    if run.diverged:
        print(f"Training stopped: {run.divergence}")
    if plot:
        import matplotlib.pyplot as plt

        plt.figure()
        plt.plot(run.costs)
        plt.ylabel("cost")
        plt.xlabel("iterations (per hundreds)")  # the notebook's label (the points are 1000 apart)
        plt.title("Learning rate =" + str(learning_rate))
    return _as_dict(network, run.params)


def check(fn: Callable[..., Any], exercise: str | None = None, *, quiet: bool = False) -> _Report:
    """Grade a student's own version of one of the notebook's functions (`fn`, named by its
    ``__name__`` or by `exercise`) on several cases; prints a report and returns a
    ``CheckResult`` (``.passed``). See :func:`initlab.course_check.check`."""
    from .course_check import check as grade  # the grader imports this module's functions

    return grade(fn, exercise, quiet=quiet)
