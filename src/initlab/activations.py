"""Activation functions: ``ACTIVATIONS`` maps a name to a factory of ``Activation``s.

An ``Activation`` holds the function φ, its derivative φ′ (both of the pre-activation ``Z``, any
shape, elementwise) and its gain: the factor by which the weights' standard deviation is multiplied
to keep a layer's output scale (torch.nn.init.calculate_gain's table where torch defines one — 1 for
linear and sigmoid, 5/3 for tanh, √2 for relu, √(2/(1+s²)) for leaky_relu, 3/4 for selu — and
otherwise the numeric gain 1/√E[φ(z)²], z ~ N(0, 1), by Gaussian quadrature).

Factories take the activation's options (``leaky_relu(slope=0.2)``); ``get_activation(name)``
builds one with the defaults.

>>> import numpy as np
>>> get_activation("relu").fn(np.array([-1.0, 2.0]))
array([0., 2.])
>>> round(get_activation("leaky_relu", slope=0.2).gain, 4)
1.3868
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from ._spec import BuiltFromSpec, Spec
from ._validation import build, check_float, lookup

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_HALF_WIDTH, _NODES_PER_SIDE = 12.0, 150  # P(|z| > 12) ≈ 4e-33


def _gaussian_rule():
    """Nodes x and weights w with Σ w·f(x) ≈ E[f(z)], z ~ N(0, 1), for f smooth on each side of 0.

    Gauss–Hermite quadrature converges slowly when f or f′ jumps at 0 (the ReLU family's φ′:
    201 Hermite nodes give E[1{z > 0}] = 0.456, not 0.5, which put a ×3 error into the backward
    prediction of a 12-layer ReLU net). So the line is split at 0 and each half, cut at ±12,
    gets 150-point Gauss–Legendre with the normal density folded into the weights: exact to
    ~1e-15 for smooth, kinked and step functions alike.
    """
    t, v = np.polynomial.legendre.leggauss(_NODES_PER_SIDE)
    x = _HALF_WIDTH / 2 * (t + 1)  # (0, 12)
    w = _HALF_WIDTH / 2 * v * np.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
    return np.concatenate([-x[::-1], x]), np.concatenate([w[::-1], w])


GAUSS_NODES, GAUSS_WEIGHTS = _gaussian_rule()  # public: theory builds its 2-D rule from them


def gaussian_expectation(f: Callable[[np.ndarray], np.ndarray], q: float = 1.0) -> float:
    """E[f(√q · z)] for z ~ N(0, 1), by quadrature split at 0 (see ``_gaussian_rule``).

    >>> round(gaussian_expectation(lambda z: z**2, q=2.0), 12)
    2.0
    >>> round(gaussian_expectation(lambda z: (z > 0) * 1.0), 12)
    0.5
    """
    return float(np.sum(GAUSS_WEIGHTS * f(math.sqrt(q) * GAUSS_NODES)))


@dataclass(frozen=True, eq=False)
class Activation(BuiltFromSpec):
    """φ and φ′ built from a spec: equality, hashing, pickling and JSON go through ``spec``
    (an ``Activation`` pickles as its spec and is rebuilt from the registry)."""

    spec: Spec
    fn: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    derivative: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    torch_gain: float | None = None  # torch.nn.init.calculate_gain's value, where torch has one
    family: str = "smooth"  # "relu" (units can die: φ′ = 0 on a half-line), "saturating", "smooth"
    bounds: tuple[float, float] | None = None  # (low, high) of a saturating activation's range

    def __post_init__(self) -> None:
        if not isinstance(self.spec, Spec):  # a registered factory may give its key alone
            object.__setattr__(self, "spec", Spec.make(self.spec, param="spec"))

    @property
    def name(self) -> str:
        """The text form of the spec: ``relu``, ``leaky_relu(slope=0.2)``."""
        return str(self.spec)

    @classmethod
    def from_spec(cls, spec: Spec) -> Activation:
        return build_activation(spec)

    @property
    def gain(self) -> float:
        """torch's gain where it defines one, else the numeric gain."""
        return self.torch_gain if self.torch_gain is not None else self.numeric_gain

    @property
    def numeric_gain(self) -> float:
        """1/√E[φ(z)²], z ~ N(0, 1): the weight-std factor that keeps the mean square at 1."""
        return 1.0 / math.sqrt(gaussian_expectation(lambda z: self.fn(z) ** 2))


# --- the notebook's two, written as the course writes them (so their digits match) --------
def sigmoid(Z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z))."""
    return 1 / (1 + np.exp(-Z))


def relu(Z: np.ndarray) -> np.ndarray:
    """max(0, z)."""
    return np.maximum(0, Z)


# --- factories --------------------------------------------------------------------------------
def linear_activation() -> Activation:
    """φ(z) = z (no non-linearity)."""
    return Activation(Spec("linear"), _identity, np.ones_like, 1.0)


def relu_activation() -> Activation:
    """φ(z) = max(0, z) (Nair & Hinton 2010). Gain √2 (He et al. 2015)."""
    return Activation(Spec("relu"), relu, _step, math.sqrt(2.0), "relu")


def leaky_relu(slope: float = 0.01) -> Activation:
    """φ(z) = z for z > 0, slope·z otherwise (Maas et al. 2013). Gain √(2/(1+slope²))."""
    s = check_float("slope", slope, low=0.0, low_inclusive=True)
    return Activation(
        Spec.of_call("leaky_relu", leaky_relu, slope=s),
        lambda Z: np.where(Z > 0, Z, s * Z),
        lambda Z: np.where(Z > 0, 1.0, s).astype(np.result_type(Z, np.float32), copy=False),  # in Z's float type
        math.sqrt(2.0 / (1 + s**2)),
        "relu",
    )


def elu(alpha: float = 1.0) -> Activation:
    """φ(z) = z for z > 0, α(e^z − 1) otherwise (Clevert et al. 2016)."""
    a = check_float("alpha", alpha, low=0.0)
    return Activation(
        Spec.of_call("elu", elu, alpha=a),
        lambda Z: np.where(Z > 0, Z, a * np.expm1(np.minimum(Z, 0))),
        lambda Z: np.where(Z > 0, 1.0, a * np.exp(np.minimum(Z, 0))),
    )


def selu() -> Activation:
    """φ(z) = λ·(z if z > 0 else α(e^z − 1)), λ ≈ 1.0507, α ≈ 1.6733 (Klambauer et al. 2017). Gain 3/4 (torch)."""
    return Activation(
        Spec("selu"),
        lambda Z: SELU_SCALE * np.where(Z > 0, Z, SELU_ALPHA * np.expm1(np.minimum(Z, 0))),
        lambda Z: SELU_SCALE * np.where(Z > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(Z, 0))),
        0.75,
    )


def gelu() -> Activation:
    """φ(z) = z·Φ(z), Φ the standard normal CDF, exact (erf) form (Hendrycks & Gimpel 2016)."""
    from scipy.special import erf, ndtr  # imported when used: scipy.special costs 0.2 s at start-up

    return Activation(
        Spec("gelu"),
        lambda Z: 0.5 * Z * (1 + erf(Z / math.sqrt(2))),
        lambda Z: ndtr(Z) + Z * np.exp(-0.5 * Z**2) / math.sqrt(2 * math.pi),
    )


def tanh() -> Activation:
    """φ(z) = tanh z. Gain 5/3 (torch)."""
    return Activation(Spec("tanh"), np.tanh, lambda Z: 1 - np.tanh(Z) ** 2, 5.0 / 3.0, "saturating", (-1.0, 1.0))


def sigmoid_activation() -> Activation:
    """φ(z) = 1/(1 + e^(−z)). Gain 1 (torch's convention)."""

    def derivative(Z):
        S = sigmoid(Z)
        return S * (1 - S)

    return Activation(Spec("sigmoid"), sigmoid, derivative, 1.0, "saturating", (0.0, 1.0))


def softplus() -> Activation:
    """φ(z) = log(1 + e^z), computed without overflow; φ′ = σ(z)."""
    return Activation(Spec("softplus"), lambda Z: np.logaddexp(0, Z), lambda Z: 0.5 * (1 + np.tanh(0.5 * Z)))


def swish() -> Activation:
    """φ(z) = z·σ(z) (Ramachandran et al. 2017; SiLU, Elfwing et al. 2018); φ′ = σ(z)(1 + z(1 − σ(z)))."""

    def fn(Z):
        return Z * _stable_sigmoid(Z)

    def derivative(Z):
        S = _stable_sigmoid(Z)
        return S * (1 + Z * (1 - S))

    return Activation(Spec("swish"), fn, derivative)


def _stable_sigmoid(Z):
    return 0.5 * (1 + np.tanh(0.5 * Z))


def _identity(Z):
    return Z


def _step(Z):
    return (Z > 0).astype(np.result_type(Z, np.float32))  # 1.0 or 0.0 in Z's float type (float32 stays float32)


ACTIVATIONS: dict[str, Callable[..., Activation]] = {
    "linear": linear_activation,
    "relu": relu_activation,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "selu": selu,
    "gelu": gelu,
    "tanh": tanh,
    "sigmoid": sigmoid_activation,
    "softplus": softplus,
    "swish": swish,
    "silu": swish,
}


def build_activation(spec: Spec) -> Activation:
    """The activation a spec names, built by its registry factory (unknown keys and options: errors
    that list the valid ones)."""
    return build("activation", ACTIVATIONS, spec.key, spec.kwargs)


def activation_spec(value: object) -> Spec:
    """The canonical spec of an activation given as a name, a text spec (``leaky_relu(slope=0.2)``),
    a ``Spec`` or an ``Activation`` (taken by its spec): the factory's own, with defaults left out
    and aliases resolved; checked against the registry."""
    return get_activation(value).spec


def get_activation(name: object, **options: object) -> Activation:
    """The activation `name` (a name, text spec or ``Spec``) built with `options`; an ``Activation``
    is returned as is.

    >>> get_activation("leaky_relu(slope=0.2)") == get_activation("leaky_relu", slope=0.2)
    True
    """
    if isinstance(name, Activation):
        if not options:
            return name
        name = name.spec
    if not isinstance(name, (str, Spec)):
        lookup("activation", ACTIVATIONS, name)  # raises: "Unknown activation 3. Expected one of: …"
    assert isinstance(name, (str, Spec))
    spec = Spec.parse(name, param="activation", kind="activation")
    return build("activation", ACTIVATIONS, spec.key, {**spec.kwargs, **options})
