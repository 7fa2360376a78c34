import numpy as np
import pytest

from initlab._validation import InitlabError
from initlab.losses import LOSSES, get_loss

BCE = LOSSES["binary_cross_entropy"]


def naive_bce(Z, Y):
    A = 1 / (1 + np.exp(-Z))
    return np.mean(-Y * np.log(A) - (1 - Y) * np.log(1 - A))


def test_value_matches_naive_formula_where_that_is_accurate():
    rng = np.random.default_rng(0)
    Z, Y = rng.normal(0, 3, (1, 500)), rng.integers(0, 2, (1, 500)).astype(float)
    assert BCE.value(Z, Y) == pytest.approx(naive_bce(Z, Y), rel=1e-12)


def test_saturated_output_gives_large_finite_cost():
    Z, Y = np.array([[800.0, -800.0]]), np.array([[0.0, 1.0]])
    with np.errstate(divide="ignore", over="ignore"):
        assert np.isinf(naive_bce(Z, Y))
    assert BCE.value(Z, Y) == pytest.approx(800.0)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gradient_matches_finite_differences(name):
    loss = LOSSES[name]
    rng = np.random.default_rng(1)
    Z, Y = rng.normal(0, 2, (1, 7)), rng.integers(0, 2, (1, 7)).astype(float)
    h, numeric = 1e-6, np.zeros_like(Z)
    for j in range(Z.shape[1]):
        E = np.zeros_like(Z)
        E[0, j] = h
        numeric[0, j] = (loss.value(Z + E, Y) - loss.value(Z - E, Y)) / (2 * h)
    np.testing.assert_allclose(loss.gradient(Z, Y), numeric, rtol=1e-6, atol=1e-10)


def test_gradient_equals_the_notebooks():
    rng = np.random.default_rng(2)
    Z, Y = rng.normal(0, 2, (1, 300)), rng.integers(0, 2, (1, 300))
    a3 = 1 / (1 + np.exp(-Z))
    np.testing.assert_array_equal(BCE.gradient(Z, Y), 1.0 / 300 * (a3 - Y))


def test_batched_values():
    rng = np.random.default_rng(3)
    Z, Y = rng.normal(size=(4, 1, 9)), rng.integers(0, 2, (1, 9)).astype(float)
    np.testing.assert_allclose(BCE.value(Z, Y), [BCE.value(z, Y) for z in Z], rtol=1e-15)


def test_unknown_loss():
    with pytest.raises(InitlabError, match="Unknown loss 'hinge'. Expected one of: bce, binary_cross_entropy"):
        get_loss("hinge")
