"""Update rules on the flat parameter vector: ``OPTIMIZERS`` maps a name to an ``Optimizer``.

Each rule keeps its state in a dict of arrays shaped like the parameters and returns the updated
parameters as a new array (the caller checks it is finite before keeping it):

- ``gd``: θ ← θ − α·g (full-batch gradient descent, or minibatch SGD with a batch size);
- ``momentum``: v ← β·v + g, θ ← θ − α·v (heavy ball, as torch.optim.SGD; Polyak 1964);
- ``adam``: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − α·m̂/(√v̂ + ε) with the bias
  corrections m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ) (Kingma & Ba 2015, Algorithm 1).

>>> import numpy as np
>>> opt = get_optimizer("momentum")
>>> state = opt.init(np.zeros(2))
>>> opt.step(np.zeros(2), np.ones(2), state, 1, 0.1)
array([-0.1, -0.1])
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Real
from typing import Callable

import numpy as np

from ._spec import BuiltFromSpec, Spec
from ._validation import Interval, build


@dataclass(frozen=True, eq=False)
class Optimizer(BuiltFromSpec):
    """An update rule built from a spec; equality, hashing and pickling go through ``spec``."""

    spec: Spec
    init: Callable  # params -> state dict
    step: Callable  # (params, grad, state, t, learning_rate, eps_scale=1.0) -> new params; t counts from 1;
    # learning_rate and eps_scale (Adam's ε factor) are numbers or per-parameter arrays (a parametrization's)
    settings: dict  # every option, defaults included (what the compiled engine reads)

    @property
    def name(self) -> str:
        return self.spec.key

    @classmethod
    def from_spec(cls, spec: Spec) -> Optimizer:
        return build_optimizer(spec)


COEFFICIENT = Interval(Real, 0.0, 1.0, closed="left")  # a decay coefficient: [0, 1)
POSITIVE = Interval(Real, 0.0, closed="neither")


def gd() -> Optimizer:
    """Plain (stochastic) gradient descent: the course notebook's update, digit for digit."""

    def step(params, grad, state, t, lr, eps_scale=1.0):
        return params - lr * grad

    return Optimizer(Spec("gd"), _no_state, step, {})


def momentum(beta: float = 0.9) -> Optimizer:
    """Heavy-ball momentum with coefficient `beta` in [0, 1)."""
    beta = COEFFICIENT.check("beta", beta)

    def step(params, grad, state, t, lr, eps_scale=1.0):
        v = state["velocity"]
        v *= beta
        v += grad
        return params - lr * v

    def init(params):
        return {"velocity": np.zeros_like(params)}

    return Optimizer(Spec.of_call("momentum", momentum, beta=beta), init, step, {"beta": beta})


def adam(beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """Adam with the paper's defaults."""
    beta1, beta2 = COEFFICIENT.check("beta1", beta1), COEFFICIENT.check("beta2", beta2)
    eps = POSITIVE.check("eps", eps)

    def step(params, grad, state, t, lr, eps_scale=1.0):
        m, v = state["m"], state["v"]
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        return params - lr * m_hat / (np.sqrt(v_hat) + eps * eps_scale)

    def init(params):
        return {"m": np.zeros_like(params), "v": np.zeros_like(params)}

    settings = {"beta1": beta1, "beta2": beta2, "eps": eps}
    return Optimizer(Spec.of_call("adam", adam, **settings), init, step, settings)


def _no_state(params):
    return {}


OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {"gd": gd, "sgd": gd, "momentum": momentum, "adam": adam}


def build_optimizer(spec: Spec) -> Optimizer:
    """The update rule a spec names, built by its registry factory."""
    return build("optimizer", OPTIMIZERS, spec.key, spec.kwargs)


def get_optimizer(name: str, **options: float) -> Optimizer:
    """The update rule called `name`, built with `options` (e.g. ``beta=0.95``)."""
    return build("optimizer", OPTIMIZERS, name, options)
