"""Losses computed from the output layer's logits: ``LOSSES`` maps a name to a ``Loss``.

A loss owns the output activation it pairs with, so that its value is computed stably from the
logits ``Z`` (shape (…, n_out, m)) and its gradient with respect to ``Z`` is the simple
``(output(Z) − Y) / m`` in all three cases. It also says what targets it takes and how a
prediction is read off the logits.

=====================  ==============  ==========================  =========================
name                   output          targets Y                   prediction
=====================  ==============  ==========================  =========================
binary_cross_entropy   sigmoid         (1, m) of 0/1               1 where σ(z) > 0.5
cross_entropy          softmax         (k, m) one-hot columns      argmax over the k units
mean_squared_error     linear          (n_out, m) real             the output itself
=====================  ==============  ==========================  =========================

>>> import numpy as np
>>> float(LOSSES["binary_cross_entropy"].value(np.array([[0.0]]), np.array([[1.0]])))
0.6931471805599453
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ._spec import BuiltFromSpec, Spec
from ._validation import InitlabError, lookup
from .activations import sigmoid


@dataclass(frozen=True, eq=False)
class Loss(BuiltFromSpec):
    """A loss and its output activation; equality, hashing and pickling go through ``spec``
    (losses take no options: the spec is the key)."""

    name: str
    output: Callable  # logits (…, n_out, m) -> predictions (probabilities or values)
    value: Callable  # (Z, Y) -> mean loss (one per network for a stack)
    gradient: Callable  # (Z, Y) -> dLoss/dZ
    targets: str  # "binary", "one_hot" or "real": what Y must be
    predict: Optional[Callable] = None  # logits -> class labels (…, 1, m); None for regression
    target_labels: Optional[Callable] = None  # targets Y -> class labels (1, m)

    @property
    def spec(self) -> Spec:
        return Spec(self.name)

    @classmethod
    def from_spec(cls, spec: Spec) -> Loss:
        return build_loss(spec)


def _mean_over_examples(per_entry):
    """Sum over output units and examples, divided by the number of examples."""
    return per_entry.sum(axis=(-2, -1)) * (1.0 / per_entry.shape[-1])


# --- binary cross-entropy (sigmoid output) -----------------------------------------------------
def _bce_value(Z, Y):
    """−y·log σ(z) − (1−y)·log(1−σ(z)) = max(z, 0) − z·y + log(1 + e^(−|z|)), averaged over examples.

    Never log(0): a saturated wrong output costs |z| (large, finite), not the notebook's ``inf``.
    """
    return _mean_over_examples(np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z))))


def _bce_gradient(Z, Y):
    """(σ(Z) − Y) / m, computed as the course notebook does (same digits)."""
    return 1.0 / Z.shape[-1] * (sigmoid(Z) - Y)


def _binary_predict(Z):
    """1 where σ(z) > 0.5, as the course's ``predict`` (not z > 0: they differ for |z| < 1e-16)."""
    return (sigmoid(Z) > 0.5).astype(np.int64)


# --- softmax cross-entropy -------------------------------------------------------------------
def softmax(Z: np.ndarray) -> np.ndarray:
    """exp(z_k − max z) / Σ_j exp(z_j − max z) over the units axis (−2)."""
    E = np.exp(Z - Z.max(axis=-2, keepdims=True))
    return E / E.sum(axis=-2, keepdims=True)


def _log_softmax(Z):
    shifted = Z - Z.max(axis=-2, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-2, keepdims=True))


def _ce_value(Z, Y):
    """−Σ_k y_k log softmax(z)_k, averaged over examples, by log-sum-exp (never log 0)."""
    return _mean_over_examples(-Y * _log_softmax(Z))


def _ce_gradient(Z, Y):
    return (softmax(Z) - Y) * (1.0 / Z.shape[-1])


def _argmax_labels(Z):
    return np.argmax(Z, axis=-2)[..., None, :]


# --- mean squared error (linear output) ------------------------------------------------------
def _mse_value(Z, Y):
    """½·Σ_units (z − y)², averaged over examples (scikit-learn's squared loss for one output)."""
    return 0.5 * _mean_over_examples((Z - Y) ** 2)


def _mse_gradient(Z, Y):
    return (Z - Y) * (1.0 / Z.shape[-1])


def _identity(Z):
    return Z


LOSSES: dict[str, Loss] = {
    "binary_cross_entropy": Loss(
        "binary_cross_entropy", sigmoid, _bce_value, _bce_gradient, "binary", _binary_predict, _identity
    ),
    "cross_entropy": Loss("cross_entropy", softmax, _ce_value, _ce_gradient, "one_hot", _argmax_labels, _argmax_labels),
    "mean_squared_error": Loss("mean_squared_error", _identity, _mse_value, _mse_gradient, "real"),
}
LOSSES["bce"] = LOSSES["binary_cross_entropy"]
LOSSES["mse"] = LOSSES["mean_squared_error"]


def build_loss(spec: Spec) -> Loss:
    """The loss a spec names (losses take no options)."""
    if spec.options:
        raise InitlabError(f"The loss '{spec.key}' does not take options {sorted(spec.kwargs)}. Allowed: none.")
    return lookup("loss", LOSSES, spec.key)


def get_loss(name: object) -> Loss:
    """The registered loss `name` (a name or ``Spec``; an error lists the valid names); a ``Loss``
    is returned as is."""
    if isinstance(name, Loss):
        return name
    return build_loss(name) if isinstance(name, Spec) else lookup("loss", LOSSES, name)
