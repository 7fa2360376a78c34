"""Activation functions: ``ACTIVATIONS`` maps a name to (function, derivative, gain).

Each function takes the pre-activation ``Z`` (any shape) and returns an array of that shape.
``derivative(Z)`` is dφ/dZ elementwise. ``gain`` is the factor by which the weights' standard
deviation is multiplied so that the activation's mean square matches the pre-activation's
variance (torch.nn.init.calculate_gain's table): 1 for linear and sigmoid, 5/3 for tanh, √2 for relu.

>>> import numpy as np
>>> ACTIVATIONS["relu"].fn(np.array([-1.0, 2.0]))
array([0., 2.])
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._validation import lookup


@dataclass(frozen=True)
class Activation:
    name: str
    fn: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray], np.ndarray]
    gain: float


def sigmoid(Z):
    """σ(z) = 1 / (1 + e^(−z)), written as in the course notebook (so its digits match)."""
    return 1 / (1 + np.exp(-Z))


def _sigmoid_derivative(Z):
    S = sigmoid(Z)
    return S * (1 - S)


def relu(Z):
    """max(0, z), written as in the course notebook."""
    return np.maximum(0, Z)


def _relu_derivative(Z):
    return (Z > 0).astype(np.float64)


def _tanh_derivative(Z):
    return 1 - np.tanh(Z) ** 2


def _identity(Z):
    return Z


def _ones(Z):
    return np.ones_like(Z)


ACTIVATIONS: dict[str, Activation] = {
    "linear": Activation("linear", _identity, _ones, 1.0),
    "relu": Activation("relu", relu, _relu_derivative, math.sqrt(2.0)),
    "sigmoid": Activation("sigmoid", sigmoid, _sigmoid_derivative, 1.0),
    "tanh": Activation("tanh", np.tanh, _tanh_derivative, 5.0 / 3.0),
}


def get_activation(name) -> Activation:
    """The registered activation called `name` (an error lists the valid names)."""
    return lookup("activation", ACTIVATIONS, name)
