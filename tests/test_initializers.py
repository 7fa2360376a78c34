"""Contract tests over every registered initializer (shape, dtype, determinism, distribution)."""
import functools

import numpy as np
import pytest
from scipy import stats

from initlab._validation import InitlabError
from initlab import Network
from initlab.activations import get_activation
from initlab.initializers import (
    INITIALIZERS,
    LAYOUTS,
    calculate_gain,
    fans,
    layout_fans,
    layout_notes,
    scheme_variances,
    get_initializer,
    he_normal,
    he_uniform,
    orthogonal,
    sklearn_default,
    torch_default,
    truncated_normal,
    variance_scaling,
)

# The law each registered name must draw from with its default options, written independently
# of the implementation: (law, parameter as a function of (fan_in, fan_out)), where the parameter
# is the std for "normal" and "uniform", the untruncated normal's std for "truncated_normal" (cut
# at ±2 of it), the value for "constant" and the gain for "orthogonal" and "identity".
EXPECTED = {
    "zeros": ("constant", lambda fi, fo: 0.0),
    "ones": ("constant", lambda fi, fo: 1.0),
    "constant": ("constant", lambda fi, fo: 0.0),
    "normal": ("normal", lambda fi, fo: 0.01),
    "uniform": ("uniform", lambda fi, fo: 0.05 / np.sqrt(3)),
    "truncated_normal": ("truncated_normal", lambda fi, fo: 0.01),
    "random_normal": ("normal", lambda fi, fo: 0.05),  # Keras's RandomNormal
    "random_uniform": ("uniform", lambda fi, fo: 0.05 / np.sqrt(3)),  # Keras's RandomUniform, ±0.05
    "trunc_normal": ("truncated_normal", lambda fi, fo: 1.0),  # torch's: std 1 cut at −2, 2 (absolute, = ±2 std here)
    "variance_scaling": ("normal", lambda fi, fo: np.sqrt(1 / fi)),
    "random": ("normal", lambda fi, fo: 10.0),
    "he": ("normal", lambda fi, fo: np.sqrt(2 / fi)),
    "he_normal": ("normal", lambda fi, fo: np.sqrt(2 / fi)),
    "he_uniform": ("uniform", lambda fi, fo: np.sqrt(2 / fi)),
    "kaiming_normal": ("normal", lambda fi, fo: np.sqrt(2 / fi)),
    "kaiming_uniform": ("uniform", lambda fi, fo: np.sqrt(2 / fi)),
    "xavier_normal": ("normal", lambda fi, fo: np.sqrt(2 / (fi + fo))),
    "xavier_uniform": ("uniform", lambda fi, fo: np.sqrt(2 / (fi + fo))),
    "glorot_normal": ("normal", lambda fi, fo: np.sqrt(2 / (fi + fo))),
    "glorot_uniform": ("uniform", lambda fi, fo: np.sqrt(2 / (fi + fo))),
    "lecun_normal": ("normal", lambda fi, fo: np.sqrt(1 / fi)),
    "lecun_uniform": ("uniform", lambda fi, fo: np.sqrt(1 / fi)),
    "mean_field": ("normal", lambda fi, fo: np.sqrt(2 / fi)),  # σ_w² = 2 (its biases: test_mean_field_*)
    "orthogonal": ("orthogonal", lambda fi, fo: 1.0),
    "lsuv": ("orthogonal", lambda fi, fo: 1.0),  # its base draw; the rescaling is in test_lsuv.py
    "identity": ("identity", lambda fi, fo: 1.0),
    "eye": ("identity", lambda fi, fo: 1.0),
    "dirac": ("dirac", lambda fi, fo: 1.0),  # the gain; kernels only (test_conformance.py has their structure)
    "delta_orthogonal": ("delta_orthogonal", lambda fi, fo: 1.0),  # the scale; kernels only
    "sparse": ("sparse", lambda fi, fo: 0.01),  # the non-zeros' std; 10% zeros per column
    "torch_default": ("uniform", lambda fi, fo: 1 / np.sqrt(3 * fi)),  # U(±1/√fan_in)
    "keras_default": ("uniform", lambda fi, fo: np.sqrt(2 / (fi + fo))),
    "sklearn_default": ("uniform", lambda fi, fo: np.sqrt(2 / (fi + fo))),  # U(±√(6/(fi+fo)))
}
DETERMINISTIC_LAWS = {"constant", "identity", "dirac"}
SHAPE = (300, 200)  # (fan_out, fan_in): 60 000 draws
KERNEL_ONLY = {"dirac", "delta_orthogonal"}  # defined on 3-D to 5-D kernels only


def shape_for(name, shape):
    """`shape`, with a kernel axis of size 3 for the schemes defined on kernels only."""
    return (*shape, 3) if name in KERNEL_ONLY else shape


def scipy_law(law, p, loc=0.0):
    """The exact law as a scipy distribution (p: std, or the untruncated std for truncated_normal)."""
    if law == "normal":
        return stats.norm(loc, p)
    if law == "uniform":
        return stats.uniform(loc - p * np.sqrt(3), 2 * p * np.sqrt(3))
    return stats.truncnorm(-2, 2, loc=loc, scale=p)


def check_law(W, dist):
    """Sample mean and variance within 5 standard errors of the law's, and KS p > 1e-3.

    The variance's relative standard error is √((κ + 2)/n), κ the excess kurtosis: 0.6% for a
    normal with n = 60 000.
    """
    W = np.ravel(W)
    kurtosis = float(dist.stats(moments="k"))
    assert W.var() == pytest.approx(dist.var(), rel=5 * np.sqrt((kurtosis + 2) / W.size))
    assert abs(W.mean() - dist.mean()) < 5 * dist.std() / np.sqrt(W.size)
    assert stats.kstest(W, dist.cdf).pvalue > 1e-3


def test_every_entry_has_an_expectation():
    assert set(EXPECTED) == set(INITIALIZERS)


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_shape_dtype(name):
    shapes = [(1, 1), (5, 3), (3, 5)] if name != "delta_orthogonal" else [(1, 1), (5, 3), (5, 5)]  # in <= out
    for shape in map(functools.partial(shape_for, name), shapes):
        W = get_initializer(name)(shape, np.random.default_rng(0))
        assert W.shape == shape and W.dtype == np.float64


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
@pytest.mark.parametrize("make_rng", [np.random.default_rng, np.random.RandomState])
def test_deterministic(name, make_rng):
    init, shape = get_initializer(name), shape_for(name, (7, 4))
    a, b, c = init(shape, make_rng(1)), init(shape, make_rng(1)), init(shape, make_rng(2))
    np.testing.assert_array_equal(a, b)
    assert EXPECTED[name][0] in DETERMINISTIC_LAWS or not np.array_equal(a, c)


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_distribution(name):
    law, param_of = EXPECTED[name]
    fan_out, fan_in = SHAPE
    p = param_of(fan_in, fan_out)
    W = get_initializer(name)(shape_for(name, SHAPE), np.random.default_rng(12345))
    if law == "constant":
        assert np.all(W == p)
    elif law == "identity":
        np.testing.assert_array_equal(W, p * np.eye(fan_out, fan_in))
    elif law == "orthogonal":  # tall: orthonormal columns
        np.testing.assert_allclose(W.T @ W, p**2 * np.eye(fan_in), atol=1e-10)
    elif law == "dirac":  # centre 3 // 2 = 1: the identity's first 200 rows
        np.testing.assert_array_equal(W[:, :, 1], p * np.eye(fan_out, fan_in))
        assert np.all(W[:, :, [0, 2]] == 0)
    elif law == "delta_orthogonal":  # centre (3 − 1) // 2 = 1: orthonormal columns
        np.testing.assert_allclose(W[:, :, 1].T @ W[:, :, 1], p**2 * np.eye(fan_in), atol=1e-10)
        assert np.all(W[:, :, [0, 2]] == 0)
    elif law == "sparse":  # ⌈0.1·300⌉ = 30 zeros in each column, the others N(0, 0.01²)
        assert np.all((W == 0).sum(axis=0) == 30)
        check_law(W[W != 0], scipy_law("normal", p))
    else:
        check_law(W, scipy_law(law, p))


# --- N-D kernels: receptive-field fans (torch's layout (out, in, *k)) ----------------------------
MATRIX_ONLY = {"identity", "eye", "sklearn_default", "sparse"}
KERNELS = [(64, 32, 3, 3), (40, 8, 5), (7, 3, 2, 2, 2)]  # conv2d, conv1d, conv3d: 18 432, 1 600 and 168 weights


def receptive_fans(shape):
    """(fan_in, fan_out) counted as the frameworks do, written out here: in·k and out·k."""
    k = int(np.prod(shape[2:]))
    return shape[1] * k, shape[0] * k


@pytest.mark.parametrize("shape", KERNELS, ids=str)
@pytest.mark.parametrize("name", sorted(set(INITIALIZERS) - MATRIX_ONLY))
def test_every_scheme_draws_its_law_on_an_nd_kernel(name, shape):
    law, param_of = EXPECTED[name]
    fan_in, fan_out = receptive_fans(shape)
    p = param_of(fan_in, fan_out)
    init = get_initializer(name)
    draws = -(-20000 // int(np.prod(shape)))  # kernels pooled to ≥ 20 000 weights
    rng = np.random.default_rng(7)
    W = np.stack([init(shape, rng) for _ in range(draws)])
    assert W.shape == (draws, *shape) and W.dtype == np.float64
    if law == "constant":
        assert np.all(W == p)
    elif law == "orthogonal":  # torch's rule: the (out, in·k) matrix, rows or columns orthonormal
        for K in W.reshape(draws, shape[0], -1):
            gram = K @ K.T if shape[0] <= K.shape[1] else K.T @ K
            np.testing.assert_allclose(gram, p**2 * np.eye(len(gram)), atol=1e-10)
    elif law in ("dirac", "delta_orthogonal"):  # zeros but at the centre: torch's k // 2, JAX's (k − 1) // 2
        centre = tuple(k // 2 if law == "dirac" else (k - 1) // 2 for k in shape[2:])
        middle = W[(slice(None), slice(None), slice(None), *centre)]
        assert np.abs(W).sum() == pytest.approx(np.abs(middle).sum(), rel=1e-12)
        expected = np.eye(*shape[:2]) if law == "dirac" else np.eye(shape[1])
        for M in middle:
            np.testing.assert_allclose(M if law == "dirac" else M.T @ M, p * expected, atol=1e-10)
    else:
        check_law(W, scipy_law(law, p))


def test_the_nd_rules_leave_matrices_as_they_were():
    """A 2-D shape is a kernel with receptive field 1: the same numbers as before N-D shapes."""
    rng = lambda: np.random.RandomState(3)  # noqa: E731
    np.testing.assert_array_equal(he_normal()((10, 2), rng()), rng().randn(10, 2) * np.sqrt(2 / 2))
    W4 = he_normal()((4, 3, 1, 1), rng())
    np.testing.assert_array_equal(W4.reshape(4, 3), he_normal()((4, 3), rng()))  # 1×1 kernel: a matrix's fans


@pytest.mark.parametrize("shape, layout, expected", [
    ((64, 32, 3, 3), {}, (288, 576, 9)),
    ((3, 3, 32, 64), LAYOUTS["keras"], (288, 576, 9)),
    ((3, 3, 32, 64), LAYOUTS["jax"], (288, 576, 9)),
    ((5, 2), {}, (2, 5, 1)),
    ((5, 2), LAYOUTS["keras"], (5, 2, 1)),  # Keras's Dense kernel is (in, out)
    ((8, 3, 3, 32, 64), dict(in_axis=-2, out_axis=-1, batch_axis=0), (288, 576, 9)),
    ((8, 3, 3, 32, 64), dict(in_axis=-2, out_axis=-1, batch_axis=(0, 1)), (96, 192, 3)),
    ((0, 4, 3), {}, (12, 0, 3)),
])
def test_fans(shape, layout, expected):
    assert fans(shape, **layout) == expected
    assert tuple(fans(shape, **layout)) == expected


@pytest.mark.parametrize("call, match", [
    (lambda: fans((5,)), "The 'shape' parameter must be at least 2-D \\(a fan is undefined for a 1-D or 0-D shape\\). Got \\(5,\\)"),
    (lambda: fans(()), "at least 2-D .* Got \\(\\)"),
    (lambda: fans((3, -1)), "The 'shape' parameter must be a sequence of ints >= 0. Got \\(3, -1\\)"),
    (lambda: fans((3, 4), in_axis=2), "The 'in_axis' parameter must be an int axis in \\[-2, 1\\] for a 2-D shape. Got 2"),
    (lambda: fans((3, 4), in_axis=0), "The 'out_axis' parameter must be axes distinct from each other"),
    (lambda: fans((3, 4, 5), batch_axis=1), "The 'batch_axis' parameter must be axes distinct"),
    (lambda: fans((3, 4, 5), batch_axis=1.5), "The 'batch_axis' parameter must be an int axis or a sequence of int axes. Got 1.5"),
    (lambda: fans((3, 4, 5), batch_axis=(2, "x")), "The 'batch_axis\\[1\\]' parameter must be an int axis"),
    (lambda: get_initializer("identity")((4, 3, 3), RNG), "The 'shape' parameter must be a 2-D shape \\(fan_out, fan_in\\) of positive ints. Got \\(4, 3, 3\\)"),
    (lambda: get_initializer("sklearn_default")((4, 3, 3), RNG), "The 'shape' parameter must be a 2-D shape"),
    (lambda: get_initializer("he_normal")((4, 0, 3), RNG), "The 'shape' parameter must be a shape \\(fan_out, fan_in, \\*receptive field\\) of positive ints, at least 2-D. Got \\(4, 0, 3\\)"),
    (lambda: scheme_variances((3, 4), seed="x"), "The 'seed' parameter must be an int >= 0. Got 'x'"),
    (lambda: layout_fans((3, 4), "mxnet"), "The 'layout' parameter must be one of torch, keras, jax. Got 'mxnet'"),
])
def test_bad_shapes_and_axes(call, match):
    with pytest.raises(InitlabError, match=match):
        call()


@pytest.mark.parametrize("name", ["zeros", "ones", "constant", "normal", "uniform", "truncated_normal", "random"])
@pytest.mark.parametrize("shape", [(5,), (), (0, 3), (2, 0, 4)], ids=str)
def test_the_laws_without_a_fan_take_any_shape(name, shape):
    """As torch and Keras: a 1-D, 0-D or 0-size shape is drawn (no fan is needed)."""
    W = get_initializer(name)(shape, np.random.default_rng(0))
    assert W.shape == shape and W.dtype == np.float64


def test_mean_fields_bias_has_one_entry_per_output_channel():
    init = get_initializer("mean_field", sigma_w2=2.0, sigma_b2=0.5)
    assert init.bias((16, 8, 3, 3), np.random.default_rng(0)).shape == (16, 1)
    assert get_initializer("torch_default").bias((16, 8, 3, 3), np.random.default_rng(0)).shape == (16, 1)


def test_scheme_variances_read_the_fans_of_the_layout():
    torch_rows = {r["scheme"]: r for r in scheme_variances((64, 32, 3, 3))}
    keras_rows = {r["scheme"]: r for r in scheme_variances((3, 3, 32, 64), "keras")}
    assert set(torch_rows) == set(keras_rows) and "lsuv" not in torch_rows and "identity" not in torch_rows
    assert "he" not in torch_rows and "kaiming_normal" not in torch_rows  # an alias once, under its first name
    for name, law_of in (("he_normal", lambda fi, fo: 2 / fi), ("xavier_uniform", lambda fi, fo: 2 / (fi + fo)),
                         ("lecun_normal", lambda fi, fo: 1 / fi), ("torch_default", lambda fi, fo: 1 / (3 * fi))):
        for rows in (torch_rows, keras_rows):
            assert rows[name]["variance"] == pytest.approx(law_of(288, 576), rel=0.03)  # ≥ 100 000 weights: ±0.5%
    assert "identity" in {r["scheme"] for r in scheme_variances((5, 5))}


def test_layout_notes_say_where_the_frameworks_read_a_shape_differently():
    notes = layout_notes((64, 1, 3, 3))
    assert any("keras's and jax's layout this shape has fan_in 192, fan_out 192" in n for n in notes)
    assert any("transposed convolution" in n for n in notes) and any("depthwise" in n for n in notes)
    assert layout_notes((4, 4)) == []  # a square matrix reads the same in every layout
    assert not any("depthwise" in n for n in layout_notes((64, 32, 3, 3)))


def test_notebook_name_he_is_he_normal():
    a = get_initializer("he")((4, 2), np.random.RandomState(3))
    b = get_initializer("he_normal")((4, 2), np.random.RandomState(3))
    np.testing.assert_array_equal(a, b)


def test_variance_scaling_modes():
    rng = np.random.default_rng(0)
    for mode, n in [("fan_in", 400), ("fan_out", 500), ("fan_avg", 450), ("fan_geo_avg", np.sqrt(400 * 500))]:
        W = variance_scaling(3.0, mode, "uniform")((500, 400), rng)
        assert W.var() == pytest.approx(3.0 / n, rel=0.03)
        assert np.abs(W).max() <= np.sqrt(9.0 / n)


@pytest.mark.parametrize("distribution", ["normal", "uniform", "truncated_normal"])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg", "fan_geo_avg"])
def test_variance_scaling_laws(mode, distribution):
    fan_out, fan_in = shape = (2000, 30)  # unequal fans: n is 30, 2000, 1015 or 244.9
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2, "fan_geo_avg": np.sqrt(fan_in * fan_out)}[mode]
    W = variance_scaling(2.5, mode, distribution)(shape, np.random.default_rng(7))
    std = np.sqrt(2.5 / n)
    # truncated: the untruncated std is divided by the std of N(0,1) cut to ±2, so the variance stays 2.5/n
    cut_std = stats.truncnorm(-2, 2).std()
    assert cut_std == pytest.approx(0.87962566103423978, abs=1e-15)
    dist = scipy_law(distribution, std / cut_std if distribution == "truncated_normal" else std)
    assert dist.var() == pytest.approx(2.5 / n, rel=1e-12)
    check_law(W, dist)


def test_truncated_normal_never_exceeds_two_std():
    W = variance_scaling(1.0, "fan_in", "truncated_normal")((1000, 100), np.random.RandomState(0))
    assert np.abs(W).max() <= 2 * np.sqrt(1 / 100) / 0.87962566103423978


@pytest.mark.parametrize(
    "mean, std, a, b",
    [
        (1.0, 2.0, -1.0, 3.0),
        (0.0, 0.01, -2.0, 2.0),
        (-3.0, 1.0, -8.0, -5.0),
        (0.0, 0.5, 8.0, 9.0),  # far in the upper tail, where 1 − ndtr(8) is below float64's resolution
        (0.0, 1.0, -2.0, 2.0),
        (0.0, 1.0, 3.0, 5.0),
        (0.0, 1.0, 40.0, 41.0),  # beyond ~38 std, where ndtr underflows to 0
        (0.0, 1.0, -50.0, -45.0),
        (2.0, 0.1, -60.0, -10.0),
        (0.0, 1.0, -0.5, 50.0),
    ],
)
def test_truncated_normal_cutoffs_count_stds(mean, std, a, b):
    W = truncated_normal(mean, std, a, b)(SHAPE, np.random.default_rng(3))
    assert mean + a * std <= W.min() and W.max() <= mean + b * std
    check_law(W, stats.truncnorm(a, b, loc=mean, scale=std))


@pytest.mark.parametrize("a, b", [(40.0, 41.0), (-41.0, -40.0), (-50.0, -45.0), (100.0, 100.5)])
def test_truncated_normal_far_cut_spreads_inside_the_interval(a, b):
    """Far out, the draws pile up next to the cut nearest the mean, as the law does: not all on one end."""
    W = truncated_normal(0.0, 1.0, a, b)((100, 100), np.random.default_rng(7))
    near = min(abs(a), abs(b))
    assert a <= W.min() and W.max() <= b
    assert np.unique(W).size == W.size  # spread, not a constant
    assert np.abs(np.abs(W) - near).mean() == pytest.approx(1 / near, rel=0.05)  # the exponential tail's mean excess


def test_normal_and_uniform_options():
    rng = np.random.default_rng(5)
    check_law(get_initializer("normal", mean=3.0, std=2.0)(SHAPE, rng), stats.norm(3.0, 2.0))
    check_law(get_initializer("uniform", low=-1.0, high=3.0)(SHAPE, rng), stats.uniform(-1.0, 4.0))
    assert np.all(get_initializer("constant", value=-2.5)((3, 4), rng) == -2.5)


def test_aliases_are_the_same_factories():
    for alias, name in [("he", "he_normal"), ("kaiming_normal", "he_normal"), ("kaiming_uniform", "he_uniform"),
                        ("glorot_normal", "xavier_normal"), ("glorot_uniform", "xavier_uniform"), ("eye", "identity")]:
        assert INITIALIZERS[alias] is INITIALIZERS[name]


@pytest.mark.parametrize("fan_out, fan_in", [(1, 1), (10, 2), (5, 1), (3, 7), (13, 17), (400, 300)])
def test_he_defaults_bit_exact(fan_out, fan_in):
    """The notebook's formula, draw for draw: randn * sqrt(2 / fan_in), and U(±sqrt(6 / fan_in))."""
    W = he_normal()((fan_out, fan_in), np.random.RandomState(3))
    np.testing.assert_array_equal(W, np.random.RandomState(3).randn(fan_out, fan_in) * np.sqrt(2 / fan_in))
    W = he_uniform()((fan_out, fan_in), np.random.RandomState(3))
    limit = np.sqrt(6 / fan_in)
    np.testing.assert_array_equal(W, np.random.RandomState(3).uniform(-limit, limit, (fan_out, fan_in)))


@pytest.mark.parametrize(
    "options, variance",
    [
        ({}, lambda fi, fo: 2 / fi),
        ({"a": 0.2}, lambda fi, fo: 2 / (1.04 * fi)),
        ({"a": np.sqrt(5)}, lambda fi, fo: 1 / (3 * fi)),  # torch nn.Linear's weights
        ({"mode": "fan_out"}, lambda fi, fo: 2 / fo),
        ({"nonlinearity": "relu", "a": 5.0}, lambda fi, fo: 2 / fi),  # a is read for leaky_relu only, as torch
        ({"nonlinearity": "tanh", "mode": "fan_out"}, lambda fi, fo: (5 / 3) ** 2 / fo),
        ({"nonlinearity": "linear"}, lambda fi, fo: 1 / fi),
        ({"nonlinearity": "selu"}, lambda fi, fo: 0.75**2 / fi),
    ],
)
@pytest.mark.parametrize("name, law", [("kaiming_normal", "normal"), ("kaiming_uniform", "uniform")])
def test_kaiming_options(name, law, options, variance):
    fan_out, fan_in = SHAPE
    W = get_initializer(name, **options)(SHAPE, np.random.default_rng(11))
    check_law(W, scipy_law(law, np.sqrt(variance(fan_in, fan_out))))


@pytest.mark.parametrize("name, law", [("xavier_normal", "normal"), ("glorot_uniform", "uniform")])
def test_xavier_gain(name, law):
    fan_out, fan_in = SHAPE
    W = get_initializer(name, gain=5 / 3)(SHAPE, np.random.default_rng(2))
    check_law(W, scipy_law(law, 5 / 3 * np.sqrt(2 / (fan_in + fan_out))))


def test_random_scale_option():
    W = get_initializer("random", scale=0.5)((3, 2), np.random.RandomState(3))
    np.testing.assert_array_equal(W, np.random.RandomState(3).randn(3, 2) * 0.5)


# --- orthogonal and identity --------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (4, 4), (3, 5), (5, 3), (50, 200), (200, 50)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal(shape, gain):
    W = orthogonal(gain)(shape, np.random.RandomState(0))
    fan_out, fan_in = shape
    if fan_out <= fan_in:  # wide or square: orthonormal rows
        np.testing.assert_allclose(W @ W.T, gain**2 * np.eye(fan_out), atol=1e-10)
    else:  # tall: orthonormal columns
        np.testing.assert_allclose(W.T @ W, gain**2 * np.eye(fan_in), atol=1e-10)


def test_orthogonal_sign_correction():
    """With diag(R) made positive, one column is exactly the normalized Gaussian vector, both signs."""
    for seed in range(5):
        a = np.random.default_rng(seed).standard_normal((6, 1))
        np.testing.assert_allclose(orthogonal()((6, 1), np.random.default_rng(seed)), a / np.linalg.norm(a), atol=1e-14)
    first = [orthogonal()((6, 1), np.random.default_rng(s))[0, 0] for s in range(200)]
    assert 60 < sum(x > 0 for x in first) < 140


@pytest.mark.parametrize("name", ["identity", "eye"])
def test_identity_exact(name):
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(get_initializer(name)((3, 3), rng), np.eye(3))
    np.testing.assert_array_equal(get_initializer(name, gain=2.0)((2, 3), rng), [[2, 0, 0], [0, 2, 0]])
    np.testing.assert_array_equal(get_initializer(name, gain=0.5)((3, 2), rng), [[0.5, 0], [0, 0.5], [0, 0]])


# --- the frameworks' defaults, biases included -----------------------------------------------------
def test_torch_default_bias_law():
    init = torch_default()
    b = init.bias((60_000, 300), np.random.default_rng(4))
    assert b.shape == (60_000, 1)
    check_law(b, stats.uniform(-1 / np.sqrt(300), 2 / np.sqrt(300)))


def test_torch_default_in_a_network():
    net = Network((300, 200, 1))
    params = net.init("torch_default", rng=0)
    for W, b in net.unpack(params):
        bound = 1 / np.sqrt(W.shape[1])
        assert np.abs(W).max() <= bound and np.abs(b).max() <= bound
        assert np.abs(W).max() > 0.95 * bound and np.abs(b).max() > 0.9 * bound
    (W1, b1), _ = net.unpack(params)
    check_law(W1, stats.uniform(-1 / np.sqrt(300), 2 / np.sqrt(300)))
    assert stats.kstest(b1.ravel(), stats.uniform(-1 / np.sqrt(300), 2 / np.sqrt(300)).cdf).pvalue > 1e-3


def test_keras_default_zero_bias():
    net = Network((300, 200, 1))
    params = net.init("keras_default", rng=0)
    (W1, b1), (W2, b2) = net.unpack(params)
    assert np.all(b1 == 0) and np.all(b2 == 0)
    check_law(W1, scipy_law("uniform", np.sqrt(2 / 500)))


@pytest.mark.parametrize("activation, factor", [("relu", 6), ("tanh", 6), ("sigmoid", 2), ("logistic", 2), ("identity", 6)])
def test_sklearn_default_weights_and_biases(activation, factor):
    init = sklearn_default(activation)
    bound = np.sqrt(factor / 500)
    W = init(SHAPE, np.random.default_rng(8))
    b = init.bias((60_000, 20), np.random.default_rng(9))  # 60 000 biases of a layer with fans 20 -> 60 000
    check_law(W, stats.uniform(-bound, 2 * bound))
    check_law(b, stats.uniform(-np.sqrt(factor / 60_020), 2 * np.sqrt(factor / 60_020)))
    net = Network((300, 200, 1), activation="sigmoid" if factor == 2 else "relu")
    params = net.init("sklearn_default", rng=0, activation=activation)
    (W1, b1), _ = net.unpack(params)
    assert np.abs(b1).max() <= bound and np.abs(b1).max() > 0.9 * bound and np.abs(W1).max() <= bound


def test_sklearn_default_matches_scikit_learn():
    """Same RandomState, same numbers as MLPClassifier's own initialization (a private method)."""
    from sklearn.neural_network import MLPClassifier

    mlp = MLPClassifier(activation="logistic")
    if not hasattr(mlp, "_init_coef"):
        pytest.skip("this scikit-learn has no MLP._init_coef")
    mlp._random_state = np.random.RandomState(0)
    coef, intercept = mlp._init_coef(3, 4, np.float64)
    init, rng = sklearn_default("logistic"), np.random.RandomState(0)
    np.testing.assert_array_equal(init((4, 3), rng), coef.T)
    np.testing.assert_array_equal(init.bias((4, 3), rng).ravel(), intercept)


# --- gains -------------------------------------------------------------------------------------------
TORCH_GAINS = {  # torch.nn.init.calculate_gain, written out
    ("linear", None): 1.0,
    ("conv1d", None): 1.0,
    ("conv2d", None): 1.0,
    ("conv3d", None): 1.0,
    ("conv_transpose1d", None): 1.0,
    ("conv_transpose2d", None): 1.0,
    ("conv_transpose3d", None): 1.0,
    ("sigmoid", None): 1.0,
    ("tanh", None): 5.0 / 3,
    ("relu", None): 1.4142135623730951,
    ("leaky_relu", None): 1.4141428569978354,  # √(2/(1 + 0.01²))
    ("leaky_relu", 0.2): 1.3867504905630728,  # √(2/1.04)
    ("leaky_relu", 0): 1.4142135623730951,
    ("selu", None): 0.75,
}


@pytest.mark.parametrize("nonlinearity, param", sorted(TORCH_GAINS, key=str))
def test_calculate_gain_torch_table(nonlinearity, param):
    assert calculate_gain(nonlinearity, param) == pytest.approx(TORCH_GAINS[nonlinearity, param], rel=1e-15)


@pytest.mark.parametrize("name", ["elu", "gelu", "softplus", "swish", "silu"])
def test_calculate_gain_numeric_for_other_activations(name):
    assert calculate_gain(name) == get_activation(name).numeric_gain
    assert 0.5 < calculate_gain(name) < 3


# --- bad input -----------------------------------------------------------------------------------------
RNG = np.random.default_rng()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: get_initializer("he_unifrom"), "Unknown initializer 'he_unifrom'. Expected one of: .*he_uniform"),
        (lambda: get_initializer("xavier"), "Unknown initializer 'xavier'. Expected one of: .*eye.*lsuv.*torch_default"),
        (lambda: variance_scaling(-1.0), "The 'scale' parameter must be a finite float >= 0. Got -1.0 instead."),
        (lambda: variance_scaling(float("nan")), "The 'scale' parameter must be a finite float >= 0. Got nan"),
        (lambda: variance_scaling(float("inf")), "The 'scale' parameter must be a finite float >= 0. Got inf"),
        (lambda: variance_scaling(1.0, "fan_sum"), "The 'mode' parameter must be one of fan_in, fan_out, fan_avg, fan_geo_avg. Got 'fan_sum'"),
        (lambda: variance_scaling(1.0, "fan_in", "cauchy"), "The 'distribution' parameter must be one of normal, uniform, truncated_normal, untruncated_normal. Got 'cauchy'"),
        (lambda: get_initializer("random", scale=-10), "The 'scale' parameter must be a finite float >= 0. Got -10"),
        (lambda: get_initializer("he_normal", scale=2), "The initializer 'he_normal' does not take options \\['scale'\\]. Allowed: a, mode, nonlinearity, in_axis, out_axis, batch_axis, dtype."),
        (lambda: get_initializer("zeros", value=1), "The initializer 'zeros' does not take options \\['value'\\]. Allowed: dtype."),
        (lambda: get_initializer("kaiming_normal", mode="fan_avg"), "The 'mode' parameter must be one of fan_in, fan_out. Got 'fan_avg'"),
        (lambda: get_initializer("kaiming_uniform", a=-0.1), "The 'a' parameter must be a finite float >= 0. Got -0.1"),
        (lambda: get_initializer("he_normal", nonlinearity="relu6"), "Unknown nonlinearity 'relu6'. Expected one of: .*conv2d.*tanh"),
        (lambda: get_initializer("xavier_normal", gain=-1), "The 'gain' parameter must be a finite float >= 0. Got -1 instead."),
        (lambda: get_initializer("glorot_uniform", gain=float("inf")), "The 'gain' parameter must be a finite float >= 0. Got inf"),
        (lambda: get_initializer("orthogonal", gain=float("nan")), "The 'gain' parameter must be a finite float >= 0. Got nan"),
        (lambda: get_initializer("eye", gain=-2), "The 'gain' parameter must be a finite float >= 0. Got -2"),
        (lambda: get_initializer("dirac", gain=-1), "The 'gain' parameter must be a finite float >= 0. Got -1"),
        (lambda: get_initializer("delta_orthogonal", scale=-0.5), "The 'scale' parameter must be a finite float >= 0. Got -0.5"),
        (lambda: get_initializer("normal", std=-0.01), "The 'std' parameter must be a finite float > 0. Got -0.01"),
        (lambda: get_initializer("normal", std=0), "The 'std' parameter must be a finite float > 0. Got 0"),
        (lambda: get_initializer("normal", mean=float("inf")), "The 'mean' parameter must be a finite float. Got inf"),
        (lambda: get_initializer("truncated_normal", std=float("nan")), "The 'std' parameter must be a finite float > 0. Got nan"),
        (lambda: get_initializer("truncated_normal", a=2, b=1), "The 'b' parameter must be a finite float > 2. Got 1"),
        (lambda: get_initializer("uniform", low=1, high=1), "The 'high' parameter must be a finite float > 1. Got 1"),
        (lambda: get_initializer("constant", value=float("nan")), "The 'value' parameter must be a finite float. Got nan"),
        (lambda: get_initializer("sklearn_default", activation="softmax"), "Unknown activation 'softmax'. Expected one of: .*relu"),
        (lambda: calculate_gain("relu6"), "Unknown nonlinearity 'relu6'. Expected one of: conv1d, .*leaky_relu.*selu"),
        (lambda: calculate_gain("leaky_relu", -0.1), "The 'param' parameter must be a finite float >= 0. Got -0.1"),
        (lambda: calculate_gain("leaky_relu", "0.1"), "The 'param' parameter must be a finite float >= 0. Got '0.1'"),
        (lambda: get_initializer("he_normal")((5,), RNG), "The 'shape' parameter must be a shape \\(fan_out, fan_in, \\*receptive field\\) of positive ints, at least 2-D. Got \\(5,\\) instead."),
        (lambda: get_initializer("orthogonal")((5,), RNG), "The 'shape' parameter must be a shape .* at least 2-D. Got \\(5,\\)"),
        (lambda: get_initializer("identity")((4,), RNG), "The 'shape' parameter must be a 2-D shape .* Got \\(4,\\)"),
        (lambda: get_initializer("variance_scaling", mode="fan_out")((0, 3), RNG), "The 'shape' parameter .* positive ints, at least 2-D. Got \\(0, 3\\)"),
        (lambda: get_initializer("zeros")((2.5, 3), RNG), "The 'shape' parameter must be a shape: a sequence of ints >= 0. Got \\(2.5, 3\\)"),
        (lambda: get_initializer("sklearn_default")(7, RNG), "The 'shape' parameter .* Got 7 instead."),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(InitlabError, match=match):
        call()


def _draw_functions(name):
    """An initializer's init function, and its own bias rule where it has one."""
    init = get_initializer(name)
    return [init] + ([init.bias] if init.bias is not None else [])


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_rng_takes_a_seed_or_none(name):
    """Every init function (and bias rule) takes what check_random_state takes, as the rest of initlab."""
    shape = shape_for(name, (7, 4))
    for draw in _draw_functions(name):
        np.testing.assert_array_equal(draw(shape, 3), draw(shape, np.random.RandomState(3)))  # a seed is RandomState(seed)
        got = draw(shape, None)  # a fresh generator
        assert got.shape in (shape, (7, 1)) and np.isfinite(got).all()


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
@pytest.mark.parametrize("rng", ["abc", -1, 2.5, True, [1, 2]])
def test_rng_bad_value_names_rng(name, rng):
    message = r"^The 'rng' parameter must be an int in \[0, 2\*\*32\), a numpy Generator or RandomState, or None. Got .* instead.$"
    for draw in _draw_functions(name):
        with pytest.raises(InitlabError, match=message):
            draw((7, 4), rng)


@pytest.mark.parametrize("text, spec", [
    ("he", ("he", {})),
    ("  random(scale=0.01) ", ("random", {"scale": 0.01})),
    ("truncated_normal(std=0.02, a=-2, b=2)", ("truncated_normal", {"std": 0.02, "a": -2, "b": 2})),
    ("variance_scaling(scale=2, mode=fan_out, distribution='uniform')",
     ("variance_scaling", {"scale": 2, "mode": "fan_out", "distribution": "uniform"})),
])
def test_a_configured_entry_reads_as_text_and_its_label_reads_back(text, spec):
    from initlab.initializers import format_spec, parse_spec

    assert parse_spec(text) == spec
    assert parse_spec(format_spec(*spec)) == spec  # the label a sweep or compare prints parses back


@pytest.mark.parametrize("text, match", [
    ("he_unifrom", "Unknown initializer 'he_unifrom'.*Did you mean 'he_uniform'"),
    ("random(scal=1)", "does not take options \\['scal'\\].*Did you mean 'scale'"),
    ("random(scale=0.01", "closing parenthesis"),
    ("random(0.01)", "each option key=value"),
    (5, "The 'init' parameter must be an initializer name"),
])
def test_bad_configured_entries_say_what_is_wrong(text, match):
    from initlab.initializers import parse_spec

    with pytest.raises(InitlabError, match=match):
        parse_spec(text)


def test_specs_split_at_top_level_commas_only():
    from initlab.initializers import split_specs

    assert split_specs("zeros, random(scale=0.01),truncated_normal(std=0.02, a=-2),he,") == [
        "zeros", "random(scale=0.01)", "truncated_normal(std=0.02, a=-2)", "he"]


# --- the mean-field parametrization: W ~ N(0, σ_w²/fan_in), b ~ N(0, σ_b²) ---------------------------------
@pytest.mark.parametrize("sigma_w2, sigma_b2", [(1.5, 0.05), (2.5, 1.0), (0.3, 0.0)])
def test_mean_field_weights_and_biases(sigma_w2, sigma_b2):
    init = get_initializer("mean_field", sigma_w2=sigma_w2, sigma_b2=sigma_b2)
    check_law(init(SHAPE, np.random.default_rng(21)), stats.norm(0, np.sqrt(sigma_w2 / SHAPE[1])))
    b = init.bias((60_000, 20), np.random.default_rng(22))  # 60 000 biases: their law is N(0, σ_b²), whatever the fans
    assert b.shape == (60_000, 1)
    if sigma_b2 == 0:
        assert np.all(b == 0)
    else:
        check_law(b, stats.norm(0, np.sqrt(sigma_b2)))


def test_mean_field_in_a_network_draws_each_layer_with_its_fan_in():
    net = Network((300, 200, 400, 1))
    params = net.init("mean_field", rng=5, sigma_w2=1.5, sigma_b2=0.05)
    (W1, b1), (W2, b2), _ = net.unpack(params)
    check_law(W1, stats.norm(0, np.sqrt(1.5 / 300)))
    check_law(W2, stats.norm(0, np.sqrt(1.5 / 200)))
    both = np.concatenate([b1.ravel(), b2.ravel()])  # 600 biases: a looser check than the 60 000 above
    assert stats.kstest(both, stats.norm(0, np.sqrt(0.05)).cdf).pvalue > 1e-3
    assert both.var() == pytest.approx(0.05, rel=5 * np.sqrt(2 / both.size))


def test_mean_field_defaults_are_he_normal_and_unit_variance_is_lecun():
    net = Network((2, 10, 5, 1))
    np.testing.assert_array_equal(net.init("mean_field", rng=3), net.init("he_normal", rng=3))  # zero biases, no draw
    np.testing.assert_array_equal(net.init("mean_field", rng=3, sigma_w2=1), net.init("lecun_normal", rng=3))
    assert not np.array_equal(net.init("mean_field", rng=3, sigma_b2=0.1), net.init("he_normal", rng=3))


@pytest.mark.parametrize("options, match", [
    ({"sigma_w2": -1}, r"^The 'sigma_w2' parameter must be a finite float > 0. Got -1 instead.$"),
    ({"sigma_w2": 0}, r"^The 'sigma_w2' parameter must be a finite float > 0. Got 0 instead.$"),
    ({"sigma_w2": float("inf")}, r"^The 'sigma_w2' parameter must be a finite float > 0. Got inf instead.$"),
    ({"sigma_w2": "2"}, r"^The 'sigma_w2' parameter must be a finite float > 0. Got '2' instead.$"),
    ({"sigma_b2": -0.1}, r"^The 'sigma_b2' parameter must be a finite float >= 0. Got -0.1 instead.$"),
    ({"sigma_b2": float("nan")}, r"^The 'sigma_b2' parameter must be a finite float >= 0. Got nan instead.$"),
    ({"sigma_w": 2}, r"does not take options \['sigma_w'\]. Allowed: sigma_w2, sigma_b2, in_axis, out_axis, batch_axis, dtype. "
                                r"Did you mean 'sigma_w2'\?"),
])
def test_mean_field_bad_options(options, match):
    with pytest.raises(InitlabError, match=match):
        get_initializer("mean_field", **options)


# --- the Scheme record --------------------------------------------------------------------------
WITH_BIAS = {"torch_default", "sklearn_default", "mean_field"}  # schemes that draw their own biases
WITH_REFINE = {"lsuv"}  # data-dependent schemes


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_every_entry_builds_a_frozen_scheme_that_says_what_it_has(name):
    import dataclasses

    from initlab.initializers import Scheme, get_initializer

    scheme = get_initializer(name)
    assert isinstance(scheme, Scheme) and callable(scheme.draw)
    assert (scheme.bias is not None) == (name in WITH_BIAS), "add the entry to WITH_BIAS" if scheme.bias else ""
    assert (scheme.refine is not None) == (name in WITH_REFINE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        scheme.bias = lambda w_shape, rng: np.zeros((w_shape[0], 1))  # configured by options, never patched


def test_a_plain_function_registered_as_an_initializer_is_a_scheme_without_bias(monkeypatch):
    from initlab.initializers import Scheme, as_scheme

    monkeypatch.setitem(INITIALIZERS, "halves", lambda: (lambda shape, rng: np.full(shape, 0.5)))
    net = Network((2, 3, 1))
    params = net.init("halves", rng=0)
    (W1, b1), (W2, b2) = net.unpack(params)
    assert (W1 == 0.5).all() and (W2 == 0.5).all() and (b1 == 0).all() and (b2 == 0).all()
    assert as_scheme(as_scheme(np.zeros)).draw is np.zeros and isinstance(as_scheme(np.zeros), Scheme)
    with pytest.raises(InitlabError, match="The 'init' parameter must be an initializer"):
        as_scheme(3)


# --- axes, dtypes and the new schemes' options ------------------------------------------------------
AXES_FACTORIES = {"variance_scaling", "he_normal", "he_uniform", "kaiming_normal", "kaiming_uniform", "he", "xavier_normal",
                  "xavier_uniform", "glorot_normal", "glorot_uniform", "lecun_normal", "lecun_uniform", "mean_field",
                  "orthogonal", "identity", "eye", "dirac", "delta_orthogonal", "sparse"}


def test_the_fan_based_factories_take_jaxs_axes_and_every_factory_but_lsuv_a_dtype():
    import inspect

    def takes(name, option):
        return option in inspect.signature(INITIALIZERS[name]).parameters

    assert {n for n in INITIALIZERS if takes(n, "in_axis")} == AXES_FACTORIES
    for name in AXES_FACTORIES:
        defaults = {k: p.default for k, p in inspect.signature(INITIALIZERS[name]).parameters.items()}
        assert (defaults["in_axis"], defaults["out_axis"], defaults["batch_axis"]) == (1, 0, ())  # initlab's layout
    assert {n for n in INITIALIZERS if not takes(n, "dtype")} == {"lsuv"}
    assert all(inspect.signature(INITIALIZERS[n]).parameters["dtype"].default == "float64" for n in INITIALIZERS if n != "lsuv")


@pytest.mark.parametrize("name", sorted(AXES_FACTORIES - {"identity", "eye", "sparse"}))
def test_a_kernel_drawn_in_kerass_layout_is_the_torch_draw_with_its_axes_moved(name):
    """One seed, one law: the draw is made in initlab's layout (out, in, *k) and moved to (*k, in, out)."""
    torch_like = get_initializer(name)((64, 32, 3, 3), np.random.default_rng(5))
    keras_like = get_initializer(name, in_axis=-2, out_axis=-1)((3, 3, 32, 64), np.random.default_rng(5))
    np.testing.assert_array_equal(keras_like, np.transpose(torch_like, (2, 3, 1, 0)))
    explicit = get_initializer(name, in_axis=1, out_axis=0, batch_axis=[])((64, 32, 3, 3), np.random.default_rng(5))
    np.testing.assert_array_equal(explicit, torch_like)  # the defaults spelled out: nothing moves


def test_batch_axes_draw_one_kernel_per_batch_element_in_turn():
    rng = np.random.default_rng(9)
    batched = he_normal(in_axis=-2, out_axis=-1, batch_axis=(0, 2))((2, 3, 3, 4, 5), rng)  # (B1, k, B2, in, out)
    rng = np.random.default_rng(9)
    kernels = [he_normal()((5, 4, 3), rng) for _ in range(6)]  # (out, in, k), fan_in 12 (the batch axes count in neither)
    expected = np.stack(kernels).reshape(2, 3, 5, 4, 3).transpose(0, 4, 1, 3, 2)
    np.testing.assert_array_equal(batched, expected)


def test_untruncated_normal_is_kerass_name_for_the_plain_normal():
    a = variance_scaling(2.0, "fan_in", "untruncated_normal")((30, 20), np.random.default_rng(3))
    np.testing.assert_array_equal(a, variance_scaling(2.0, "fan_in", "normal")((30, 20), np.random.default_rng(3)))


@pytest.mark.parametrize("name, options", [
    ("variance_scaling", {"scale": 0}), ("xavier_normal", {"gain": 0}), ("glorot_uniform", {"gain": 0.0}),
    ("orthogonal", {"gain": 0}), ("identity", {"gain": 0}), ("dirac", {"gain": 0}), ("delta_orthogonal", {"scale": 0}),
])
def test_zero_gains_give_zeros_as_the_frameworks_accept(name, options):
    W = get_initializer(name, **options)(shape_for(name, (6, 4)), np.random.default_rng(0))
    assert W.dtype == np.float64 and np.all(W == 0)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_the_bias_rules_use_the_schemes_dtype(dtype):
    pytest.importorskip("ml_dtypes")
    for name, options in [("torch_default", {}), ("sklearn_default", {}), ("mean_field", {"sigma_b2": 0.1})]:
        init = get_initializer(name, dtype=dtype, **options)
        b = init.bias((6, 4), np.random.default_rng(1))
        assert b.shape == (6, 1) and b.dtype.name == dtype
        reference = get_initializer(name, **options).bias((6, 4), np.random.default_rng(1))
        np.testing.assert_array_equal(b, reference.astype(b.dtype))


def test_a_network_casts_a_float32_draw_into_its_parameters():
    net = Network((4, 3, 1))
    params = net.init("he_normal", rng=3, dtype="float32")
    (W1, _), _ = net.unpack(params)
    np.testing.assert_array_equal(W1, he_normal()((3, 4), np.random.RandomState(3)).astype(np.float32))


def test_bfloat16_without_ml_dtypes_says_what_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ml_dtypes", None)  # import ml_dtypes now raises ImportError
    with pytest.raises(InitlabError, match=r"^The 'dtype' parameter 'bfloat16' needs the package ml_dtypes, which is not "
                                           r"installed: pip install ml_dtypes \(or pip install 'initlab\[bfloat16\]'\).$"):
        get_initializer("he_normal", dtype="bfloat16")
    assert get_initializer("he_normal", dtype="float16")((2, 2), 0).dtype == np.float16  # the others need nothing


def test_schemes_declare_the_kernels_they_are_defined_on():
    assert get_initializer("dirac").defined_on((8, 4, 3, 3)) and not get_initializer("dirac").defined_on((8, 4))
    assert not get_initializer("dirac").defined_on((8, 4, 1, 1, 1, 1))  # 6-D: torch's dirac_ stops at 5-D
    assert not get_initializer("dirac", groups=3).defined_on((8, 4, 3)) and get_initializer("dirac", groups=4).defined_on((8, 4, 3))
    assert get_initializer("delta_orthogonal").defined_on((4, 4, 3)) and not get_initializer("delta_orthogonal").defined_on((4, 5, 3))
    assert get_initializer("sparse").defined_on((5, 4)) and not get_initializer("sparse").defined_on((5, 4, 3))
    assert not get_initializer("he_normal").defined_on((5, 0)) and get_initializer("he_normal").defined_on((5, 4, 3, 3, 3, 3))
    assert get_initializer("normal").defined_on((5,)) and get_initializer("zeros").defined_on(())  # laws without a fan
    from initlab.initializers import undefined_schemes

    assert [name for name, _ in undefined_schemes((5, 4))] == ["dirac", "delta_orthogonal"]
    assert [name for name, _ in undefined_schemes((3, 3, 8, 4), "keras")] == ["identity", "delta_orthogonal", "sparse",
                                                                              "sklearn_default"]  # in 8 > out 4
    rows = {r["scheme"] for r in scheme_variances((3, 3, 8, 4), "keras")}
    assert "dirac" in rows and not rows & {"identity", "delta_orthogonal", "sparse", "sklearn_default"}


def test_initlab_fans_names_the_schemes_it_does_not_draw(capsys):
    from initlab.cli import main

    assert main(["fans", "300,200"]) == 0
    out = capsys.readouterr().out
    assert "\nsparse " in out and "\ndirac " not in out
    assert "not drawn: dirac, defined on a 3-D to 5-D kernel (out, in, *k)" in out
    assert main(["fans", "16,32,5"]) == 0
    out = capsys.readouterr().out
    assert "\ndirac " in out and "not drawn: delta_orthogonal, defined on a 3-D to 5-D kernel (out, in, *k) of positive ints with in <= out" in out


@pytest.mark.parametrize("call, match", [
    (lambda: he_normal(in_axis=1.5), r"^The 'in_axis' parameter must be an int axis. Got 1.5 instead.$"),
    (lambda: he_normal(in_axis=True), r"^The 'in_axis' parameter must be an int axis. Got True instead.$"),
    (lambda: get_initializer("orthogonal", out_axis="-1"), r"^The 'out_axis' parameter must be an int axis. Got '-1' instead.$"),
    (lambda: he_normal(in_axis=0), r"^The 'out_axis' parameter must be an axis other than in_axis \(0\). Got 0 instead.$"),
    (lambda: get_initializer("xavier_uniform", batch_axis=1), r"^The 'batch_axis' parameter must be axes distinct from "
                                                              r"in_axis \(1\), out_axis \(0\) and each other. Got 1 instead.$"),
    (lambda: get_initializer("lecun_normal", batch_axis=(2, 2)), r"^The 'batch_axis' parameter must be axes distinct .* Got \(2, 2\)"),
    (lambda: get_initializer("mean_field", batch_axis=1.0), r"^The 'batch_axis' parameter must be an int axis or a sequence of int axes. Got 1.0"),
    (lambda: get_initializer("dirac", batch_axis=[0, None]), r"^The 'batch_axis\[1\]' parameter must be an int axis. Got None instead.$"),
    (lambda: he_normal(in_axis=5)((3, 4), RNG), r"^The 'in_axis' parameter must be an int axis in \[-2, 1\] for a 2-D shape. Got 5 instead.$"),
    (lambda: he_normal(in_axis=-1, out_axis=1)((3, 4), RNG), r"^The 'out_axis' parameter must be axes distinct from each other for a 2-D shape"),
    (lambda: he_normal(batch_axis=2)((3, 4), RNG), r"^The 'batch_axis\[0\]' parameter must be an int axis in \[-2, 1\] for a 2-D shape. Got 2"),
    (lambda: he_normal(in_axis=-2, out_axis=-1)((3, 0, 4), RNG),
     r"^The 'shape' parameter must be a shape \(fan_out, fan_in, \*receptive field\) of positive ints, at least 2-D, read with "
     r"in_axis=-2, out_axis=-1. Got \(3, 0, 4\) instead.$"),
    (lambda: get_initializer("he_normal", dtype="int8"), r"^The 'dtype' parameter must be one of float64, float32, float16, bfloat16. Got 'int8' instead.$"),
    (lambda: get_initializer("zeros", dtype=np.float32), r"^The 'dtype' parameter must be one of float64, float32, float16, bfloat16. Got <class"),
    (lambda: get_initializer("lsuv", dtype="float32"), r"The initializer 'lsuv' does not take options \['dtype'\]. Allowed: tol, max_iter, base."),
    (lambda: get_initializer("dirac", groups=3)((8, 4, 3), RNG),
     r"^The 'shape' parameter must be a 3-D to 5-D kernel \(out, in, \*k\) of positive ints whose out size is divisible by groups \(3\). "
     r"Got \(8, 4, 3\) instead.$"),
    (lambda: get_initializer("dirac", groups=0), r"^The 'groups' parameter must be an int >= 1. Got 0 instead.$"),
    (lambda: get_initializer("dirac")((8, 4), RNG), r"^The 'shape' parameter must be a 3-D to 5-D kernel .* Got \(8, 4\) instead.$"),
    (lambda: get_initializer("dirac")((8, 4, 1, 1, 1, 1), RNG), r"^The 'shape' parameter must be a 3-D to 5-D kernel"),
    (lambda: get_initializer("dirac", groups=4, in_axis=-2, out_axis=-1)((3, 4, 6), RNG),
     r"3-D to 5-D kernel .*groups \(4\), read with in_axis=-2, out_axis=-1 \(this shape is the kernel \(6, 4, 3\)\). Got \(3, 4, 6\)"),
    (lambda: get_initializer("delta_orthogonal")((4, 5, 3), RNG),
     r"^The 'shape' parameter must be a 3-D to 5-D kernel \(out, in, \*k\) of positive ints with in <= out \(JAX's rule: the "
     r"centre's columns are orthonormal\). Got \(4, 5, 3\) instead.$"),
    (lambda: get_initializer("delta_orthogonal", in_axis=-2, out_axis=-1)((3, 5, 4), RNG), r"with in <= out .*kernel \(4, 5, 3\)"),
    (lambda: get_initializer("sparse", sparsity=1.0), r"^The 'sparsity' parameter must be a finite float >= 0 and < 1. Got 1.0 instead.$"),
    (lambda: get_initializer("sparse", sparsity=-0.1), r"^The 'sparsity' parameter must be a finite float >= 0 and < 1. Got -0.1 instead.$"),
    (lambda: get_initializer("sparse", std=0), r"^The 'std' parameter must be a finite float > 0. Got 0 instead.$"),
    (lambda: get_initializer("sparse")((6, 4, 3), RNG), r"^The 'shape' parameter must be a 2-D shape \(fan_out, fan_in\) of positive ints. Got \(6, 4, 3\)"),
    (lambda: get_initializer("random_normal", stddev=-1), r"^The 'stddev' parameter must be a finite float > 0. Got -1 instead.$"),
    (lambda: get_initializer("random_uniform", minval=1, maxval=0), r"^The 'maxval' parameter must be a finite float > 1. Got 0 instead.$"),
    (lambda: get_initializer("random_uniform", minval=float("nan")), r"^The 'minval' parameter must be a finite float. Got nan instead.$"),
    (lambda: get_initializer("trunc_normal", a=1, b=-1), r"^The 'b' parameter must be a finite float > 1. Got -1 instead.$"),
    (lambda: get_initializer("trunc_normal", std=0), r"^The 'std' parameter must be a finite float > 0. Got 0 instead.$"),
])
def test_bad_axes_dtypes_and_new_options(call, match):
    with pytest.raises(InitlabError, match=match):
        call()
