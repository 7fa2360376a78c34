"""Contract tests over every registered initializer (shape, dtype, determinism, distribution)."""
import numpy as np
import pytest
from scipy import stats

from initlab._validation import InitlabError
from initlab.initializers import INITIALIZERS, get_initializer, variance_scaling

# The law each registered name must draw from, written independently of the implementation:
# (distribution, std as a function of (fan_in, fan_out)).
EXPECTED = {
    "zeros": ("constant", lambda fi, fo: 0.0),
    "random": ("normal", lambda fi, fo: 10.0),
    "he": ("normal", lambda fi, fo: np.sqrt(2 / fi)),
    "he_normal": ("normal", lambda fi, fo: np.sqrt(2 / fi)),
    "he_uniform": ("uniform", lambda fi, fo: np.sqrt(2 / fi)),
    "xavier_normal": ("normal", lambda fi, fo: np.sqrt(2 / (fi + fo))),
    "xavier_uniform": ("uniform", lambda fi, fo: np.sqrt(2 / (fi + fo))),
    "glorot_normal": ("normal", lambda fi, fo: np.sqrt(2 / (fi + fo))),
    "glorot_uniform": ("uniform", lambda fi, fo: np.sqrt(2 / (fi + fo))),
    "lecun_normal": ("normal", lambda fi, fo: np.sqrt(1 / fi)),
    "lecun_uniform": ("uniform", lambda fi, fo: np.sqrt(1 / fi)),
}
SHAPE = (300, 200)  # (fan_out, fan_in): 60 000 draws


def test_every_entry_has_an_expectation():
    assert set(EXPECTED) == set(INITIALIZERS)


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_shape_dtype(name):
    for shape in [(1, 1), (5, 3), (3, 5)]:
        W = get_initializer(name)(shape, np.random.default_rng(0))
        assert W.shape == shape and W.dtype == np.float64


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
@pytest.mark.parametrize("make_rng", [np.random.default_rng, np.random.RandomState])
def test_deterministic(name, make_rng):
    init = get_initializer(name)
    a, b, c = init((7, 4), make_rng(1)), init((7, 4), make_rng(1)), init((7, 4), make_rng(2))
    np.testing.assert_array_equal(a, b)
    assert EXPECTED[name][0] == "constant" or not np.array_equal(a, c)


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_distribution(name):
    law, std_of = EXPECTED[name]
    fan_out, fan_in = SHAPE
    std = std_of(fan_in, fan_out)
    W = get_initializer(name)(SHAPE, np.random.default_rng(12345)).ravel()
    if law == "constant":
        assert np.all(W == 0.0)
        return
    # variance within 3% (the sample variance of 60 000 draws has a relative sd < 1%)
    assert W.var() == pytest.approx(std**2, rel=0.03)
    assert abs(W.mean()) < 4 * std / np.sqrt(W.size)
    dist = stats.norm(0, std) if law == "normal" else stats.uniform(-std * np.sqrt(3), 2 * std * np.sqrt(3))
    assert stats.kstest(W, dist.cdf).pvalue > 1e-3


def test_notebook_name_he_is_he_normal():
    a = get_initializer("he")((4, 2), np.random.RandomState(3))
    b = get_initializer("he_normal")((4, 2), np.random.RandomState(3))
    np.testing.assert_array_equal(a, b)


def test_variance_scaling_modes():
    rng = np.random.default_rng(0)
    for mode, n in [("fan_in", 400), ("fan_out", 500), ("fan_avg", 450)]:
        W = variance_scaling(3.0, mode, "uniform")((500, 400), rng)
        assert W.var() == pytest.approx(3.0 / n, rel=0.03)
        assert np.abs(W).max() <= np.sqrt(9.0 / n)


def test_random_scale_option():
    W = get_initializer("random", scale=0.5)((3, 2), np.random.RandomState(3))
    np.testing.assert_array_equal(W, np.random.RandomState(3).randn(3, 2) * 0.5)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: get_initializer("he_unifrom"), "Unknown initializer 'he_unifrom'. Expected one of: .*he_uniform"),
        (lambda: variance_scaling(-1.0), "The 'scale' parameter must be a finite float > 0. Got -1.0"),
        (lambda: variance_scaling(float("nan")), "The 'scale' parameter must be a finite float"),
        (lambda: variance_scaling(1.0, "fan_sum"), "The 'mode' parameter must be one of fan_in, fan_out, fan_avg"),
        (lambda: variance_scaling(1.0, "fan_in", "cauchy"), "The 'distribution' parameter must be one of normal, uniform"),
        (lambda: get_initializer("random", scale=-10), "The 'scale' parameter must be a finite float >= 0"),
        (lambda: get_initializer("he_normal", scale=2), "The initializer 'he_normal' does not take options \\['scale'\\]"),
        (lambda: get_initializer("he_normal")((5,), np.random.default_rng()), "The 'shape' parameter must be a 2-D shape"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(InitlabError, match=match):
        call()
