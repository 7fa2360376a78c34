"""Contract tests over every registered activation."""
import math

import numpy as np
import pytest

from initlab._validation import InitlabError
from initlab.activations import ACTIVATIONS, gaussian_expectation, get_activation

TORCH_GAINS = {"linear": 1.0, "sigmoid": 1.0, "tanh": 5 / 3, "relu": math.sqrt(2), "selu": 0.75,
               "leaky_relu": math.sqrt(2 / (1 + 0.01**2))}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_shape_dtype(name):
    act = get_activation(name)
    Z = np.linspace(-3, 3, 12).reshape(3, 4)
    for f in (act.fn, act.derivative):
        out = f(Z)
        assert out.shape == Z.shape and out.dtype == np.float64


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_matches_finite_differences(name):
    act = get_activation(name)
    z = np.random.default_rng(0).uniform(-4, 4, 400)
    z = z[np.abs(z) > 1e-3]  # away from the kinks of the relu family
    h = 1e-6
    numeric = (act.fn(z + h) - act.fn(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_finite_far_out(name):
    act = get_activation(name)
    Z = np.array([-800.0, -50.0, 50.0, 800.0])
    with np.errstate(over="ignore"):  # the notebook's sigmoid overflows exp(800) to reach its limit 0
        assert np.isfinite(act.fn(Z)).all()
        assert np.isfinite(act.derivative(Z)).all()


@pytest.mark.parametrize("name", sorted(TORCH_GAINS))
def test_gains_follow_torch_table(name):
    assert get_activation(name).gain == pytest.approx(TORCH_GAINS[name], rel=1e-12)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_numeric_gain_preserves_mean_square(name):
    act = get_activation(name)
    # independent Monte Carlo estimate of E[φ(z)²] with a fixed seed, 2M draws (relative error < 0.5%)
    z = np.random.default_rng(7).standard_normal(2_000_000)
    assert act.numeric_gain**2 * np.mean(act.fn(z) ** 2) == pytest.approx(1.0, rel=5e-3)


@pytest.mark.parametrize("name", ["linear", "relu"])
def test_numeric_gain_equals_torch_where_exact(name):
    assert get_activation(name).numeric_gain == pytest.approx(get_activation(name).gain, rel=1e-9)


def test_gaussian_expectation():
    assert gaussian_expectation(lambda z: z**4) == pytest.approx(3.0, rel=1e-12)
    assert gaussian_expectation(np.tanh) == pytest.approx(0.0, abs=1e-15)


def test_options():
    leaky = get_activation("leaky_relu", slope=0.2)
    np.testing.assert_allclose(leaky.fn(np.array([-1.0, 2.0])), [-0.2, 2.0])
    assert leaky.gain == pytest.approx(math.sqrt(2 / 1.04))
    assert get_activation("elu", alpha=2.0).fn(np.array([-1e9]))[0] == pytest.approx(-2.0)
    assert get_activation("silu").name == "swish"


def test_notebook_functions():
    assert get_activation("sigmoid").fn(np.array(0.0)) == 0.5
    np.testing.assert_array_equal(get_activation("relu").fn(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: get_activation("rleu"), "Unknown activation 'rleu'. Expected one of: elu, gelu, leaky_relu, linear, relu"),
        (lambda: get_activation("leaky_relu", slope=-0.1), "The 'slope' parameter must be a finite float >= 0. Got -0.1"),
        (lambda: get_activation("elu", alpha=float("nan")), "The 'alpha' parameter must be a finite float > 0"),
        (lambda: get_activation("relu", slope=0.1), "The activation 'relu' does not take options \\['slope'\\]"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(InitlabError, match=match):
        call()
