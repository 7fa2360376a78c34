"""Framework conformance: every registered initializer × N-D shapes × layouts, each law checked
against formulas written out here, independently of initializers.py.

A case is a kernel in initlab's (and torch's) layout (out, in, *k), written in one of several
layouts: torch's own, Keras's and JAX's (*k, in, out) through ``in_axis=-2, out_axis=-1``, and
with batch axes (JAX's ``batch_axis``, each batch element an independent kernel). A drawn array is
brought back to (batch, out, in, *k) here by ``np.moveaxis`` (not the library's transposition) and
checked against its law: variance and mean within 5 standard errors, bounds, Kolmogorov–Smirnov
p-values (scipy.stats), orthogonality and the Haar law of orthogonal draws, the dirac and
delta-orthogonal structure (centres k // 2 and (k − 1) // 2), sparse zero counts per column, and
the dtypes (the result's dtype, equal to the float64 draw rounded, truncation bounds passed by at
most half an ulp). The far tails of the truncated normal ([5, 6] and [−40, −39] std) are drawn
against scipy.stats.truncnorm. Each case draws about SAMPLE weights; every case has its own seed.
"""
import inspect
import math
import zlib

import numpy as np
import pytest
from scipy import stats

from initlab.initializers import INITIALIZERS, get_initializer

SAMPLE = 50_000  # weights per case: the variance's standard error is 0.6% for a normal law
KS_P = 1e-5  # a few hundred KS and χ² tests here: p > 1e-5 fails a correct law with probability < 1% over the file
TRUNCATED_STD = stats.truncnorm(-2, 2).std()  # 0.8796…, computed here, not read from the library

# --- the laws, written out: (kind, parameters as a function of fan_in, fan_out) ---------------------
# normal: std; uniform: bound b of U(−b, b); truncated: (untruncated std, lower, upper) in std units;
# constant: value; identity, orthogonal, delta: gain or scale; dirac: (gain, groups); sparse: (sparsity, std).
LAWS = {
    "variance_scaling": ("normal", lambda fi, fo: math.sqrt(1 / fi)),
    "zeros": ("constant", lambda fi, fo: 0.0),
    "ones": ("constant", lambda fi, fo: 1.0),
    "constant": ("constant", lambda fi, fo: 0.0),
    "normal": ("normal", lambda fi, fo: 0.01),
    "uniform": ("uniform", lambda fi, fo: 0.05),
    "truncated_normal": ("truncated", lambda fi, fo: (0.01, -2.0, 2.0)),
    "random_normal": ("normal", lambda fi, fo: 0.05),  # Keras's RandomNormal(mean=0, stddev=0.05)
    "random_uniform": ("uniform", lambda fi, fo: 0.05),  # Keras's RandomUniform(−0.05, 0.05)
    "trunc_normal": ("truncated", lambda fi, fo: (1.0, -2.0, 2.0)),  # torch's: std 1, absolute ±2
    "random": ("normal", lambda fi, fo: 10.0),
    "he": ("normal", lambda fi, fo: math.sqrt(2 / fi)),
    "he_normal": ("normal", lambda fi, fo: math.sqrt(2 / fi)),
    "kaiming_normal": ("normal", lambda fi, fo: math.sqrt(2 / fi)),
    "he_uniform": ("uniform", lambda fi, fo: math.sqrt(6 / fi)),
    "kaiming_uniform": ("uniform", lambda fi, fo: math.sqrt(6 / fi)),
    "xavier_normal": ("normal", lambda fi, fo: math.sqrt(2 / (fi + fo))),
    "glorot_normal": ("normal", lambda fi, fo: math.sqrt(2 / (fi + fo))),
    "xavier_uniform": ("uniform", lambda fi, fo: math.sqrt(6 / (fi + fo))),
    "glorot_uniform": ("uniform", lambda fi, fo: math.sqrt(6 / (fi + fo))),
    "lecun_normal": ("normal", lambda fi, fo: math.sqrt(1 / fi)),
    "lecun_uniform": ("uniform", lambda fi, fo: math.sqrt(3 / fi)),
    "mean_field": ("normal", lambda fi, fo: math.sqrt(2 / fi)),
    "orthogonal": ("orthogonal", lambda fi, fo: 1.0),
    "lsuv": ("orthogonal", lambda fi, fo: 1.0),  # its base draw (the refinement needs a network)
    "identity": ("identity", lambda fi, fo: 1.0),
    "eye": ("identity", lambda fi, fo: 1.0),
    "dirac": ("dirac", lambda fi, fo: (1.0, 1)),
    "delta_orthogonal": ("delta", lambda fi, fo: 1.0),
    "sparse": ("sparse", lambda fi, fo: (0.1, 0.01)),
    "torch_default": ("uniform", lambda fi, fo: 1 / math.sqrt(fi)),
    "keras_default": ("uniform", lambda fi, fo: math.sqrt(6 / (fi + fo))),
    "sklearn_default": ("uniform", lambda fi, fo: math.sqrt(6 / (fi + fo))),
}

# Where each law is defined, as torch, Keras and JAX define it (kernels in initlab's layout (out, in, *k)).
NO_AXES = {"torch_default", "keras_default", "sklearn_default", "lsuv"}  # the frameworks' dense-layer defaults
MATRIX_ONLY = {"identity", "eye", "sparse", "sklearn_default"}
FANLESS = {"zeros", "ones", "constant", "normal", "uniform", "truncated_normal", "random_normal", "random_uniform",
           "trunc_normal", "random"}  # laws without a fan: any shape, no axes


def defined(name, kernel):
    """Whether `name` is defined on `kernel` (out, in, *k): the frameworks' rules, written out."""
    law = LAWS[name][0]
    if name in MATRIX_ONLY:
        return len(kernel) == 2
    if law in ("dirac", "delta"):
        return 3 <= len(kernel) <= 5 and (law == "dirac" or kernel[1] <= kernel[0])
    return True


# --- kernels and layouts -------------------------------------------------------------------------
KERNELS = [(120, 80), (40, 16, 4), (48, 16, 4, 3), (8, 4, 2, 3, 4)]  # 2-D to 5-D, even sizes for the centres
BATCH = (2, 3)  # the sizes of the batch axes, in the order they appear

# A layout as a string of axes: o (out), i (in), k (the spatial axes, in order), b (a batch axis).
# "keras": Keras's and JAX's (*k, in, out); the others exercise batch axes, also between spatial ones.
LAYOUT_AXES = {
    "torch": "oik",
    "keras": "kio",
    "keras_batched": "bkio",
    "mixed": "bkibo",  # (B1, *k, in, B2, out)
}


def write_in_layout(kernel, layout):
    """(shape, factory options, axes order) of `kernel` (out, in, *k) written in `layout`."""
    out, inp, spatial = kernel[0], kernel[1], kernel[2:]
    shape, tags, batch = [], [], iter(BATCH)
    for letter in LAYOUT_AXES[layout]:
        if letter == "k":
            shape += spatial
            tags += [f"k{j}" for j in range(len(spatial))]
        else:
            shape.append(next(batch) if letter == "b" else {"o": out, "i": inp}[letter])
            tags.append(letter if letter != "b" else f"b{sum(t.startswith('b') for t in tags)}")
    if layout == "torch":
        options = {}
    elif layout == "keras":
        options = {"in_axis": -2, "out_axis": -1}
    else:
        options = {"in_axis": tags.index("i"), "out_axis": tags.index("o"),
                   "batch_axis": tuple(j for j, t in enumerate(tags) if t.startswith("b"))}
    return tuple(shape), options, tags


def to_torch(W, tags):
    """The array `W` whose axes are `tags`, as (batch, out, in, *k): np.moveaxis, batch axes merged."""
    batch = [j for j, t in enumerate(tags) if t.startswith("b")]
    front = [*batch, tags.index("o"), tags.index("i")]
    moved = np.moveaxis(W, front, range(len(front)))  # the other (spatial) axes keep their order
    return moved.reshape(-1, *moved.shape[len(batch):])


def seed_of(*parts):
    return zlib.crc32(repr(parts).encode())


def draw_case(name, kernel, layout, options=None, sample=SAMPLE):
    """Enough draws of `name` in `layout` for `sample` weights, as kernels (D, out, in, *k)."""
    shape, axes, tags = write_in_layout(kernel, layout)
    init = get_initializer(name, **(options or {}), **axes)
    rng = np.random.default_rng(seed_of(name, kernel, layout, options))
    draws = -(-sample // math.prod(shape))
    arrays = [init(shape, rng) for _ in range(draws)]
    assert all(W.shape == shape and W.dtype == np.float64 for W in arrays)
    return np.concatenate([to_torch(W, tags) for W in arrays]), arrays, tags


def fans_of(kernel):
    """(fan_in, fan_out) as torch, Keras and JAX count them: in·k and out·k."""
    k = math.prod(kernel[2:])
    return kernel[1] * k, kernel[0] * k


# --- the checks ----------------------------------------------------------------------------------
def check_moments_and_ks(W, dist):
    """Mean and variance within 5 standard errors of the law's (the variance's relative standard
    error √((κ + 2)/n), κ the excess kurtosis), and KS p > KS_P."""
    W = np.ravel(W)
    kurtosis = float(dist.stats(moments="k"))
    assert W.var() == pytest.approx(dist.var(), rel=5 * math.sqrt((kurtosis + 2) / W.size))
    assert abs(W.mean() - dist.mean()) < 5 * dist.std() / math.sqrt(W.size)
    assert stats.kstest(W, dist.cdf).pvalue > KS_P


def check_normal(W, std):
    check_moments_and_ks(W, stats.norm(0, std))
    # a plain normal, not a truncated one of the same variance: the mass beyond 2/0.8796 std is there
    beyond = 2 / TRUNCATED_STD
    p = 2 * stats.norm.sf(beyond)
    assert abs(np.mean(np.abs(W) > beyond * std) - p) < 5 * math.sqrt(p * (1 - p) / W.size)


def check_uniform(W, bound):
    assert -bound <= W.min() and W.max() <= bound
    assert np.abs(W).max() > bound * (1 - 20 / W.size)  # the law reaches its bounds
    check_moments_and_ks(W, stats.uniform(-bound, 2 * bound))


def check_truncated(W, std, lower, upper):
    assert lower * std <= W.min() and W.max() <= upper * std
    check_moments_and_ks(W, stats.truncnorm(lower, upper, scale=std))


def orthonormal(M, gain):
    """Rows of M orthonormal (× gain²) when it is wide or square, else its columns."""
    gram = M @ M.T if M.shape[0] <= M.shape[1] else M.T @ M
    np.testing.assert_allclose(gram, gain**2 * np.eye(len(gram)), atol=1e-10)


def check_orthogonal(kernels, gain, arrays, tags):
    for K in kernels:  # torch's flattening: the (out, in·k) matrix
        orthonormal(K.reshape(K.shape[0], -1), gain)
    if tags[-1] == "o" and not any(t.startswith("b") for t in tags):  # Keras's and JAX's: (prod of the others, out)
        for A in arrays:
            orthonormal(A.reshape(-1, A.shape[-1]), gain)


def expected_dirac(kernel, gain, groups):
    """torch's dirac_, written out with loops: W[g·(out/groups) + d, d, k_1//2, …] = gain."""
    W = np.zeros(kernel)
    per_group = kernel[0] // groups
    for g in range(groups):
        for d in range(min(per_group, kernel[1])):
            W[(g * per_group + d, d, *(k // 2 for k in kernel[2:]))] = gain
    return W


def check_delta(kernels, scale):
    centre = tuple((k - 1) // 2 for k in kernels.shape[3:])  # JAX's centre
    for K in kernels:
        middle = K[(slice(None), slice(None), *centre)]
        np.testing.assert_allclose(middle.T @ middle, scale**2 * np.eye(K.shape[1]), atol=1e-10)
        rest = K.copy()
        rest[(slice(None), slice(None), *centre)] = 0
        assert np.all(rest == 0)


def check_sparse(kernels, sparsity, std):
    out, inp = kernels.shape[1:]
    zeros = kernels == 0
    assert np.all(zeros.sum(axis=1) == math.ceil(sparsity * out))  # torch: ceil(sparsity · rows) per column
    check_normal(kernels[~zeros], std)
    # the zero rows uniformly random: over C columns (of every draw) a row's zero count is Binomial(C, q),
    # q = zeros/rows, the counts summing to C·q·rows; Σ (count − Cq)² / (Cq(1 − q)) · (R − 1)/R is ≈ χ²(R − 1)
    q, columns = math.ceil(sparsity * out) / out, kernels.shape[0] * inp
    if 0 < q < 1:
        counts = zeros.sum(axis=(0, 2))
        statistic = np.sum((counts - columns * q) ** 2) / (columns * q * (1 - q)) * (out - 1) / out
        assert stats.chi2.sf(statistic, out - 1) > KS_P


def test_every_entry_has_a_law():
    assert set(LAWS) == set(INITIALIZERS)


def test_the_entries_with_axes_are_the_fan_based_ones():
    with_axes = {n for n, f in INITIALIZERS.items() if "in_axis" in inspect.signature(f).parameters}
    assert with_axes == set(INITIALIZERS) - FANLESS - NO_AXES
    assert all(get_initializer(name).defined_on((5,)) for name in FANLESS)  # a 1-D shape: no fan needed


CASES = [(name, kernel, layout) for name in sorted(INITIALIZERS) for kernel in KERNELS for layout in LAYOUT_AXES
         if defined(name, kernel) and (layout == "torch" or "in_axis" in inspect.signature(INITIALIZERS[name]).parameters)]


@pytest.mark.parametrize("name, kernel, layout", CASES, ids=[f"{n}-{'x'.join(map(str, k))}-{la}" for n, k, la in CASES])
def test_each_law_in_each_layout(name, kernel, layout):
    law, param_of = LAWS[name]
    p = param_of(*fans_of(kernel))
    kernels, arrays, tags = draw_case(name, kernel, layout)
    assert kernels.shape[1:] == kernel
    if law == "normal":
        check_normal(kernels, p)
    elif law == "uniform":
        check_uniform(kernels, p)
    elif law == "truncated":
        check_truncated(kernels, *p)
    elif law == "constant":
        assert np.all(kernels == p)
    elif law == "identity":
        assert all(np.array_equal(K, p * np.eye(*kernel)) for K in kernels)
    elif law == "orthogonal":
        check_orthogonal(kernels, p, arrays, tags)
    elif law == "dirac":
        assert all(np.array_equal(K, expected_dirac(kernel, *p)) for K in kernels)
    elif law == "delta":
        check_delta(kernels, p)
    else:
        check_sparse(kernels, *p)


def test_every_entry_is_refused_where_its_law_is_undefined():
    """The cases left out above are errors that name 'shape', and the schemes declare them."""
    for name in sorted(INITIALIZERS):
        for kernel in [*KERNELS, (4, 6, 3), (2, 3, 1, 1, 1, 1)]:
            if not defined(name, kernel):
                with pytest.raises(ValueError, match="The 'shape' parameter must be"):
                    get_initializer(name)(kernel, 0)
            assert get_initializer(name).defined_on(kernel) == defined(name, kernel)


# --- options the table's defaults do not reach --------------------------------------------------
@pytest.mark.parametrize("kernel", KERNELS[1:], ids=str)
@pytest.mark.parametrize("groups, gain", [(2, 1.0), (4, 0.5), (8, 2.0)])
def test_dirac_groups_and_gain(kernel, groups, gain):
    kernels, _, _ = draw_case("dirac", kernel, "keras_batched", {"groups": groups, "gain": gain}, sample=1)
    assert all(np.array_equal(K, expected_dirac(kernel, gain, groups)) for K in kernels)


def test_dirac_and_delta_centres_differ_on_even_sizes():
    dirac = get_initializer("dirac")((3, 3, 4, 5), 0)
    delta = get_initializer("delta_orthogonal")((3, 3, 4, 5), 0)
    assert np.array_equal(np.nonzero(dirac)[2:], [[2] * 3, [2] * 3])  # torch: 4 // 2, 5 // 2
    assert set(np.nonzero(delta)[2]) == {1} and set(np.nonzero(delta)[3]) == {2}  # JAX: (4 − 1) // 2, (5 − 1) // 2


@pytest.mark.parametrize("kernel", [(6, 6, 3), (9, 4, 2, 2), (5, 2, 1, 2, 3)], ids=str)
@pytest.mark.parametrize("layout", ["torch", "keras", "mixed"])
def test_delta_orthogonal_scale(kernel, layout):
    kernels, _, _ = draw_case("delta_orthogonal", kernel, layout, {"scale": 1.7}, sample=1)
    check_delta(kernels, 1.7)


def beta_law(m):
    """The law of one coordinate of a uniform point on the sphere in R^m: (x + 1)/2 ~ Beta((m−1)/2, (m−1)/2)."""
    return stats.beta((m - 1) / 2, (m - 1) / 2, loc=-1, scale=2)


@pytest.mark.parametrize("name, kernel", [
    ("orthogonal", (6, 40)), ("orthogonal", (40, 6)), ("orthogonal", (8, 4, 3, 3)), ("orthogonal", (64, 2, 3)),
    ("delta_orthogonal", (12, 5, 3)), ("delta_orthogonal", (7, 7, 2, 2)),
], ids=str)
@pytest.mark.parametrize("layout", ["torch", "keras"])
def test_orthogonal_draws_are_haar(name, kernel, layout):
    """Haar (uniform) law: in a wide (out, n) matrix each row is uniform on the sphere of R^n, in a
    tall one each column on that of R^out, so W[0, 0] has the law beta_law(max(out, n)) (for a delta
    kernel, its centre's (out, in) matrix). Without the sign correction from diag(R), numpy's QR gives
    W[0, 0] < 0 every time."""
    shape, axes, tags = write_in_layout(kernel, layout)
    init, rng = get_initializer(name, **axes), np.random.default_rng(seed_of("haar", name, kernel, layout))
    kernels = np.concatenate([to_torch(init(shape, rng), tags) for _ in range(1500)])
    if name == "orthogonal":
        corner, m = kernels.reshape(len(kernels), kernel[0], -1)[:, 0, 0], max(kernel[0], math.prod(kernel[1:]))
    else:
        corner, m = kernels[(slice(None), 0, 0, *((k - 1) // 2 for k in kernel[2:]))], kernel[0]
    assert stats.kstest(corner, beta_law(m).cdf).pvalue > KS_P


@pytest.mark.parametrize("sparsity, std, kernel", [(0.0, 0.01, (50, 40)), (0.25, 1.0, (200, 30)), (0.9, 0.1, (31, 400)),
                                                   (0.3, 0.05, (10, 3000))], ids=str)
@pytest.mark.parametrize("layout", ["torch", "keras", "mixed"])
def test_sparse_zero_counts(sparsity, std, kernel, layout):
    kernels, _, _ = draw_case("sparse", kernel, layout, {"sparsity": sparsity, "std": std})
    check_sparse(kernels, sparsity, std)


@pytest.mark.parametrize("name, options, law", [
    ("variance_scaling", {"scale": 3.0, "mode": "fan_out", "distribution": "uniform"}, ("uniform", lambda fi, fo: math.sqrt(9 / fo))),
    ("variance_scaling", {"mode": "fan_avg", "distribution": "truncated_normal"},
     ("truncated", lambda fi, fo: (math.sqrt(2 / (fi + fo)) / TRUNCATED_STD, -2, 2))),
    ("variance_scaling", {"scale": 2.0, "mode": "fan_geo_avg", "distribution": "untruncated_normal"},
     ("normal", lambda fi, fo: math.sqrt(2 / math.sqrt(fi * fo)))),
    ("he_normal", {"mode": "fan_out", "nonlinearity": "tanh"}, ("normal", lambda fi, fo: 5 / 3 / math.sqrt(fo))),
    ("kaiming_uniform", {"a": math.sqrt(5)}, ("uniform", lambda fi, fo: 1 / math.sqrt(fi))),  # torch's nn.Linear and conv
    ("xavier_normal", {"gain": 0.5}, ("normal", lambda fi, fo: 0.5 * math.sqrt(2 / (fi + fo)))),
    ("glorot_uniform", {"gain": 2.0}, ("uniform", lambda fi, fo: 2 * math.sqrt(6 / (fi + fo)))),
    ("mean_field", {"sigma_w2": 1.3}, ("normal", lambda fi, fo: math.sqrt(1.3 / fi))),
    ("orthogonal", {"gain": 0.3}, ("orthogonal", lambda fi, fo: 0.3)),
])
@pytest.mark.parametrize("kernel", KERNELS[1:3], ids=str)
@pytest.mark.parametrize("layout", ["keras", "mixed"])
def test_options_in_other_layouts(name, options, law, kernel, layout):
    kind, param_of = law
    p = param_of(*fans_of(kernel))
    kernels, arrays, tags = draw_case(name, kernel, layout, options)
    {"normal": check_normal, "uniform": check_uniform, "truncated": lambda W, q: check_truncated(W, *q),
     "orthogonal": lambda W, q: check_orthogonal(W, q, arrays, tags)}[kind](kernels, p)


def test_the_keras_orthogonal_example():
    """orthogonal(in_axis=-2, out_axis=-1) on Keras's (3, 3, 32, 64): its (kh·kw·in, out) matrix,
    Keras's flattening, has orthonormal columns."""
    W = get_initializer("orthogonal", in_axis=-2, out_axis=-1)((3, 3, 32, 64), np.random.default_rng(0))
    M = W.reshape(288, 64)
    np.testing.assert_allclose(M.T @ M, np.eye(64), atol=1e-10)


def test_the_keras_he_normal_example():
    """he_normal(in_axis=-2, out_axis=-1) on (3, 3, 32, 64) draws N(0, 2/288)."""
    W = get_initializer("he_normal", in_axis=-2, out_axis=-1)((3, 3, 32, 64), np.random.default_rng(1))
    Ws = np.concatenate([W.ravel(), *(get_initializer("he_normal", in_axis=-2, out_axis=-1)(
        (3, 3, 32, 64), np.random.default_rng(s)).ravel() for s in (2, 3))])
    check_normal(Ws, math.sqrt(2 / 288))


# --- the truncated normal's far tails ----------------------------------------------------------------
@pytest.mark.parametrize("name, options, law", [
    ("truncated_normal", {"std": 1.0, "a": 5.0, "b": 6.0}, (0.0, 1.0, 5.0, 6.0)),
    ("truncated_normal", {"std": 1.0, "a": -40.0, "b": -39.0}, (0.0, 1.0, -40.0, -39.0)),
    ("truncated_normal", {"mean": 3.0, "std": 0.5, "a": 5.0, "b": 6.0}, (3.0, 0.5, 5.0, 6.0)),
    ("trunc_normal", {"mean": 3.0, "std": 0.5, "a": 5.5, "b": 6.0}, (3.0, 0.5, 5.0, 6.0)),  # absolute: 5.5 = 3 + 5·0.5
    ("trunc_normal", {"mean": 0.0, "std": 2.0, "a": -80.0, "b": -78.0}, (0.0, 2.0, -40.0, -39.0)),
    ("trunc_normal", {"std": 0.01}, (0.0, 0.01, -200.0, 200.0)),  # torch's ±2 with std 0.01: no cut at all
])
def test_truncated_normal_far_tails(name, options, law):
    mean, std, a, b = law
    W = get_initializer(name, **options)((250, 200), np.random.default_rng(seed_of(name, options)))
    assert mean + a * std <= W.min() and W.max() <= mean + b * std  # every draw inside the cut
    dist = stats.truncnorm(a, b, loc=mean, scale=std)
    assert stats.kstest(W.ravel(), dist.cdf).pvalue > KS_P
    assert abs(W.mean() - dist.mean()) < 5 * dist.std() / math.sqrt(W.size)
    assert np.unique(W).size > 0.99 * W.size  # spread over the interval, not piled on its end


# --- dtypes ----------------------------------------------------------------------------------------
DTYPES = ["float32", "float16", "bfloat16"]


def dtype_of(name):
    if name == "bfloat16":
        return np.dtype(pytest.importorskip("ml_dtypes").bfloat16)
    return np.dtype(name)


def a_shape_for(name):
    return (6, 4, 3) if LAWS[name][0] in ("dirac", "delta") else (6, 4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(set(INITIALIZERS) - {"lsuv"}))
def test_a_dtype_rounds_the_float64_draw(name, dtype):
    """Drawn in float64 and rounded once: the same seed gives the float64 draw, rounded, in `dtype`."""
    dt = dtype_of(dtype)  # bfloat16: skipped without ml_dtypes
    W = get_initializer(name, dtype=dtype)(a_shape_for(name), np.random.default_rng(4))
    reference = get_initializer(name)(a_shape_for(name), np.random.default_rng(4))
    assert W.dtype == dt and reference.dtype == np.float64
    np.testing.assert_array_equal(W, reference.astype(dt))


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_dtype_in_another_layout(dtype):
    dt, options = dtype_of(dtype), {"in_axis": -2, "out_axis": -1, "batch_axis": 0}
    W = get_initializer("orthogonal", dtype=dtype, **options)((2, 3, 8, 16), np.random.default_rng(6))
    reference = get_initializer("orthogonal", **options)((2, 3, 8, 16), np.random.default_rng(6))
    assert W.dtype == dt
    np.testing.assert_array_equal(W, reference.astype(dt))


def half_ulp(x, dtype):
    """Half the spacing of `dtype` at |x| (its binade's: eps · 2^⌊log2 |x|⌋ / 2)."""
    finfo = pytest.importorskip("ml_dtypes").finfo(dtype) if dtype.name == "bfloat16" else np.finfo(dtype)
    return float(finfo.eps) * 2.0 ** math.floor(math.log2(abs(x))) / 2


@pytest.mark.parametrize("dtype", ["float64", *DTYPES])
@pytest.mark.parametrize("name, options, cut", [
    ("truncated_normal", {"std": 0.01, "a": 1.9, "b": 2.0}, (0.019, 0.02)),
    ("trunc_normal", {"std": 1.0, "a": -0.3, "b": 0.1}, (-0.3, 0.1)),
    ("variance_scaling", {"scale": 1.0, "distribution": "truncated_normal"}, (-2 * math.sqrt(1 / 300) / TRUNCATED_STD,
                                                                            2 * math.sqrt(1 / 300) / TRUNCATED_STD)),
])
def test_rounding_passes_a_cut_by_at_most_half_an_ulp(name, options, cut, dtype):
    """The cut is exact in float64; rounding to a narrower dtype can pass it, by at most half an ulp."""
    dt = dtype_of(dtype)
    W = get_initializer(name, dtype=dtype, **options)((400, 300), np.random.default_rng(8)).astype(np.float64)
    low, high = cut
    slack_low, slack_high = (0.0, 0.0) if dtype == "float64" else (half_ulp(low, dt), half_ulp(high, dt))
    assert low - slack_low <= W.min() and W.max() <= high + slack_high
