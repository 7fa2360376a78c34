import math

import numpy as np
import pytest

from initlab._validation import InitlabError
from initlab.activations import ACTIVATIONS, get_activation


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_shape_dtype(name):
    act = ACTIVATIONS[name]
    Z = np.linspace(-3, 3, 12).reshape(3, 4)
    for f in (act.fn, act.derivative):
        out = f(Z)
        assert out.shape == Z.shape and out.dtype == np.float64


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_matches_finite_differences(name):
    act = ACTIVATIONS[name]
    z = np.random.default_rng(0).uniform(-3, 3, 200)
    z = z[np.abs(z) > 1e-3]  # away from relu's kink
    h = 1e-6
    numeric = (act.fn(z + h) - act.fn(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z), numeric, rtol=1e-6, atol=1e-8)


def test_gains_follow_torch_table():
    assert ACTIVATIONS["linear"].gain == 1.0
    assert ACTIVATIONS["sigmoid"].gain == 1.0
    assert ACTIVATIONS["tanh"].gain == pytest.approx(5 / 3)
    assert ACTIVATIONS["relu"].gain == pytest.approx(math.sqrt(2))


@pytest.mark.parametrize("name", ["linear", "relu"])
def test_gain_preserves_mean_square(name):
    # gain² · E[φ(z)²] = 1 for z ~ N(0, 1), by Gauss–Hermite quadrature (exact for these).
    x, w = np.polynomial.hermite_e.hermegauss(101)
    mean_square = np.sum(w * ACTIVATIONS[name].fn(x) ** 2) / np.sqrt(2 * np.pi)
    assert ACTIVATIONS[name].gain ** 2 * mean_square == pytest.approx(1.0, rel=1e-3)


def test_notebook_functions():
    assert ACTIVATIONS["sigmoid"].fn(np.array(0.0)) == 0.5
    np.testing.assert_array_equal(ACTIVATIONS["relu"].fn(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])


def test_unknown_activation():
    with pytest.raises(InitlabError, match="Unknown activation 'rleu'. Expected one of: linear, relu, sigmoid, tanh"):
        get_activation("rleu")
