"""Losses computed from the output layer's logits: ``LOSSES`` maps a name to a ``Loss``.

A loss owns the output activation it pairs with, so that its value can be computed stably
from the logits ``Z`` (shape (n_out, m)) and its gradient with respect to ``Z`` is the simple
``(output(Z) − Y) / m``.

>>> import numpy as np
>>> float(LOSSES["binary_cross_entropy"].value(np.array([[0.0]]), np.array([[1.0]])))
0.6931471805599453
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._validation import lookup
from .activations import sigmoid


@dataclass(frozen=True)
class Loss:
    name: str
    output: Callable[[np.ndarray], np.ndarray]  # logits -> predictions (probabilities)
    value: Callable[[np.ndarray, np.ndarray], float]  # (Z, Y) -> mean loss
    gradient: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (Z, Y) -> dLoss/dZ


def _bce_value(Z, Y):
    """Mean binary cross-entropy of σ(Z) against Y, from the logits.

    −y·log σ(z) − (1−y)·log(1−σ(z)) = max(z, 0) − z·y + log(1 + e^(−|z|)): never log(0), so a
    saturated wrong output costs |z| (large, finite) instead of the notebook's ``inf``.
    Reduces over the last axis (examples) and the output units: a batch of networks with
    logits (B, 1, m) gets B costs.
    """
    per_example = np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z)))
    return per_example.sum(axis=(-2, -1)) * (1.0 / Z.shape[-1])


def _bce_gradient(Z, Y):
    """d(mean BCE)/dZ = (σ(Z) − Y) / m, computed as the course notebook does (same digits)."""
    m = Z.shape[-1]
    return 1.0 / m * (sigmoid(Z) - Y)


LOSSES: dict[str, Loss] = {
    "binary_cross_entropy": Loss("binary_cross_entropy", sigmoid, _bce_value, _bce_gradient),
}
LOSSES["bce"] = LOSSES["binary_cross_entropy"]


def get_loss(name) -> Loss:
    """The registered loss called `name` (an error lists the valid names)."""
    return lookup("loss", LOSSES, name)
