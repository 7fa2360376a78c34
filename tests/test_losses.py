"""Contract tests over every registered loss, and the binary cross-entropy's notebook semantics."""
import numpy as np
import pytest

from initlab._validation import InitlabError, check_data
from initlab.losses import LOSSES, get_loss, softmax

BCE = LOSSES["binary_cross_entropy"]


def sample(loss, k=3, m=7, seed=1):
    """Logits and valid targets for `loss`."""
    rng = np.random.default_rng(seed)
    if loss.targets == "binary":
        return rng.normal(0, 2, (1, m)), rng.integers(0, 2, (1, m)).astype(float)
    if loss.targets == "one_hot":
        return rng.normal(0, 2, (k, m)), np.eye(k)[:, rng.integers(0, k, m)]
    return rng.normal(0, 2, (k, m)), rng.normal(0, 1, (k, m))


def naive_bce(Z, Y):
    A = 1 / (1 + np.exp(-Z))
    return np.mean(-Y * np.log(A) - (1 - Y) * np.log(1 - A))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gradient_matches_finite_differences(name):
    loss = LOSSES[name]
    Z, Y = sample(loss)
    h, numeric = 1e-6, np.zeros_like(Z)
    for idx in np.ndindex(Z.shape):
        E = np.zeros_like(Z)
        E[idx] = h
        numeric[idx] = (loss.value(Z + E, Y) - loss.value(Z - E, Y)) / (2 * h)
    np.testing.assert_allclose(loss.gradient(Z, Y), numeric, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_batched_values(name):
    loss = LOSSES[name]
    Z, Y = sample(loss, m=9)
    stack = np.stack([Z, 2 * Z, -Z, Z + 1])
    np.testing.assert_allclose(loss.value(stack, Y), [loss.value(z, Y) for z in stack], rtol=1e-14)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_targets_validate(name):
    loss = LOSSES[name]
    Z, Y = sample(loss)
    check_data(np.zeros((2, Y.shape[1])), Y, 2, loss.targets, Y.shape[0])


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_saturated_outputs_give_finite_costs(name):
    loss = LOSSES[name]
    Z, Y = sample(loss)
    assert np.isfinite(loss.value(800 * np.sign(Z) * (1 - 2 * (Y if loss.targets != "real" else 0)), Y))


def test_bce_matches_naive_formula_where_that_is_accurate():
    rng = np.random.default_rng(0)
    Z, Y = rng.normal(0, 3, (1, 500)), rng.integers(0, 2, (1, 500)).astype(float)
    assert BCE.value(Z, Y) == pytest.approx(naive_bce(Z, Y), rel=1e-12)


def test_bce_saturated_output_gives_large_finite_cost():
    Z, Y = np.array([[800.0, -800.0]]), np.array([[0.0, 1.0]])
    with np.errstate(divide="ignore", over="ignore"):
        assert np.isinf(naive_bce(Z, Y))
    assert BCE.value(Z, Y) == pytest.approx(800.0)


def test_bce_gradient_equals_the_notebooks():
    rng = np.random.default_rng(2)
    Z, Y = rng.normal(0, 2, (1, 300)), rng.integers(0, 2, (1, 300))
    a3 = 1 / (1 + np.exp(-Z))
    np.testing.assert_array_equal(BCE.gradient(Z, Y), 1.0 / 300 * (a3 - Y))


def test_cross_entropy_against_direct_formula():
    Z, Y = sample(LOSSES["cross_entropy"], k=4, m=50)
    P = np.exp(Z) / np.exp(Z).sum(axis=0)
    assert LOSSES["cross_entropy"].value(Z, Y) == pytest.approx(-np.mean(np.sum(Y * np.log(P), axis=0)), rel=1e-12)
    np.testing.assert_allclose(softmax(Z).sum(axis=0), 1.0, rtol=1e-15)
    labels = LOSSES["cross_entropy"].predict(Z)
    np.testing.assert_array_equal(labels[0], np.argmax(Z, axis=0))


def test_mse_against_direct_formula():
    Z, Y = sample(LOSSES["mean_squared_error"], k=2, m=40)
    assert LOSSES["mse"].value(Z, Y) == pytest.approx(0.5 * np.sum((Z - Y) ** 2) / 40, rel=1e-12)


def test_bad_targets():
    with pytest.raises(InitlabError, match="'Y' parameter must be one-hot columns"):
        check_data(np.zeros((2, 2)), np.array([[1.0, 1.0], [1.0, 0.0]]), 2, "one_hot", 2)
    with pytest.raises(InitlabError, match=r"'Y' parameter must be an array of shape \(3, m\)"):
        check_data(np.zeros((2, 2)), np.zeros((2, 2)), 2, "one_hot", 3)


def test_unknown_loss():
    with pytest.raises(InitlabError, match="Unknown loss 'hinge'. Expected one of: bce, binary_cross_entropy, cross_entropy"):
        get_loss("hinge")
