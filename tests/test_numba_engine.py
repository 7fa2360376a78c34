"""The compiled engine (numba) against the numpy reference: same costs, weights, steps and divergence.

Relative 1e-10 on runs that do not amplify rounding (He on circles and friends; see assert_same). The first run in
a fresh cache compiles the kernel (~20 s of CPU); later runs load it from numba's disk cache.
"""
import time

import numpy as np
import pytest

pytest.importorskip("numba")

from initlab._validation import InitlabError  # noqa: E402
from initlab.activations import Activation, get_activation  # noqa: E402
from initlab.data import circles  # noqa: E402
from initlab.engines import numba_engine, select  # noqa: E402
from initlab.network import Network, residual_network  # noqa: E402
from initlab.training import TrainOptions, train, train_many  # noqa: E402
from engine_checks import reported  # noqa: E402
from notebook_values import COSTS  # noqa: E402

DATA = circles()
NET = Network((2, 10, 5, 1))


def both(network, params, X, Y, options):
    """The numpy engine's runs and the numba engine's, from the same (B, P) parameters."""
    params = np.atleast_2d(params)
    return [train_many(network, params, X, Y, options, engine=engine) for engine in ("numpy", "numba")]


def assert_same(reference, compiled, rtol=1e-10):
    # The compiled engine sums over examples in SIMD partial sums (their number depends on the
    # vector width) where BLAS sums in its own order: each sum of m terms differs by up to ~m·u
    # relative (3e-14 at m = 300), and a stable 15000-step run carries that to 1e-12 on some CPUs
    # (seen 1.25e-12 on AVX2). 1e-10 bounds it on any CPU; a wrong formula misses by far more.
    assert len(reference) == len(compiled)
    for r, c in zip(reference, compiled):
        assert (r.engine, c.engine) == ("numpy", "numba")
        assert c.iterations.tolist() == r.iterations.tolist()
        assert c.steps == r.steps
        assert reported(c.divergence) == reported(r.divergence)
        np.testing.assert_allclose(c.costs, r.costs, rtol=rtol, atol=0)
        np.testing.assert_allclose(c.params, r.params, rtol=rtol, atol=rtol * np.max(np.abs(r.params)))


def blobs(m=90, seed=0):
    """Three Gaussian blobs in the plane, one-hot labels (3, m)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, m)
    X = (np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])[labels] + rng.normal(0, 0.7, (m, 2))).T
    return X, np.eye(3)[labels].T


# --- the notebook's run ------------------------------------------------------------------------
def test_the_notebooks_he_run():
    options = TrainOptions(0.01, 15000, 1000)
    reference, compiled = both(NET, NET.init("he", rng=3), DATA.X_train, DATA.Y_train, options)
    np.testing.assert_allclose(compiled[0].costs, COSTS["he"], rtol=1e-11, atol=0)  # see assert_same
    assert_same(reference, compiled)
    assert compiled[0].steps == 15000 and not compiled[0].diverged


def test_auto_picks_the_compiled_engine():
    run = train(NET, NET.init("he", rng=3), DATA.X_train, DATA.Y_train, TrainOptions(0.01, 10, 5))
    assert run.engine == "numba"


# --- every activation, loss and optimizer ------------------------------------------------------
ACTIVATIONS = [
    "linear", "relu", "leaky_relu", get_activation("leaky_relu", slope=0.2), get_activation("leaky_relu", slope=0.0),
    "elu", get_activation("elu", alpha=0.37), "selu", "tanh", "sigmoid", "softplus", "swish", "silu", "gelu",
]


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda a: getattr(a, "name", a))
def test_every_activation(activation):
    net = Network((2, 8, 6, 1), activation=activation if isinstance(activation, str) else (activation, activation))
    assert numba_engine.supports(net, TrainOptions()) is None
    params = np.stack([net.init("he", rng=3), net.init("xavier_normal", rng=4, bias=0.1)])
    assert_same(*both(net, params, DATA.X_train, DATA.Y_train, TrainOptions(0.05, 300, 50)))


def test_mixed_activations_in_a_deep_wide_network():
    net = Network((2, 40, 33, 17, 7, 1), activation=("tanh", "leaky_relu", "elu", "relu"))  # passes of 8, 5, 2, 1
    assert_same(*both(net, net.init("he", rng=4), DATA.X_train, DATA.Y_train, TrainOptions(0.01, 200, 20)))


def test_no_hidden_layer():
    net = Network((2, 1))
    assert_same(*both(net, net.init("xavier_normal", rng=2), DATA.X_train, DATA.Y_train, TrainOptions(0.1, 200, 20)))


def test_cross_entropy():
    X, Y = blobs()
    for net in (Network((2, 7, 3), loss="cross_entropy"), Network((2, 9, 5, 3), activation="tanh", loss="cross_entropy")):
        params = np.stack([net.init("he", rng=1), net.init("xavier_normal", rng=2)])
        assert_same(*both(net, params, X, Y, TrainOptions(0.1, 400, 40, optimizer="momentum")))


def test_mean_squared_error():
    x = np.linspace(-2, 2, 50)[None, :]
    Y = np.vstack([np.sin(2 * x[0]) + 0.1 * x[0], np.cos(x[0])])
    tanh, relu = Network((1, 12, 2), activation="tanh", loss="mse"), Network((1, 6, 2), loss="mean_squared_error")
    assert_same(*both(tanh, tanh.init("he", rng=2), x, Y, TrainOptions(0.05, 400, 40, optimizer="momentum")))
    assert_same(*both(relu, relu.init("he", rng=2), x, Y, TrainOptions(0.05, 400, 40, optimizer="adam")))


@pytest.mark.parametrize(
    "optimizer, settings",
    [("gd", {}), ("sgd", {}), ("momentum", {}), ("momentum", {"beta": 0.5}), ("adam", {}),
     ("adam", {"beta1": 0.8, "beta2": 0.99, "eps": 1e-6})],
)
def test_every_optimizer(optimizer, settings):
    params = np.stack([NET.init("he", rng=3), NET.init("lecun_normal", rng=5)])
    options = TrainOptions(0.01, 400, 40, optimizer=optimizer, optimizer_options=settings)
    assert_same(*both(NET, params, DATA.X_train, DATA.Y_train, options))


@pytest.mark.parametrize("batch_size, every", [(64, 7), (7, 10), (300, 5), (1000, 5)])
def test_minibatches(batch_size, every):
    """The cost is recorded on the whole training set; the last batch of an epoch is smaller."""
    options = TrainOptions(0.05, 230, every, batch_size=batch_size, seed=5, optimizer="adam")
    assert_same(*both(NET, NET.init("he", rng=3), DATA.X_train, DATA.Y_train, options))


def test_examples_in_several_chunks(monkeypatch):
    monkeypatch.setattr(numba_engine, "CHUNK", 128)  # 300 examples in 3 passes, gradients added up
    for batch_size in (None, 250):
        options = TrainOptions(0.05, 200, 20, batch_size=batch_size)
        assert_same(*both(NET, NET.init("he", rng=3), DATA.X_train, DATA.Y_train, options))


# --- residual networks: the stream slots, α_k and the skip path's gradient -------------------------
# Adam's runs are short: past ~50 steps these nets reach losses where Adam's normalized steps amplify the
# sums' last bits (seen: 1e-15 at step 20, 1e-11 at 40, 1e-7 at 80, 1e-4 at 200; plain gd stays at 1e-14).
RESIDUAL_CASES = [  # (scheme, activation, hidden width, options): both orders, fused (ReLU) and not, every optimizer
    ("standard", "relu", 9, TrainOptions(0.02, 200, 20)),
    ("standard(order=post)", "relu", 12, TrainOptions(0.02, 200, 20, optimizer="momentum")),
    ("skipinit(alpha=0.2)", "tanh", 12, TrainOptions(0.01, 40, 4, optimizer="adam")),
    ("skipinit(alpha=0.2, order=post)", "tanh", 7, TrainOptions(0.05, 200, 20)),
    ("fixup", "leaky_relu(slope=0.1)", 12, TrainOptions(0.005, 40, 4, optimizer="adam")),
    ("rezero(order=post)", "elu", 12, TrainOptions(0.05, 50, 7, batch_size=64, seed=5, optimizer="adam")),
    ("depth_mup", "gelu", 5, TrainOptions(0.05, 200, 20, optimizer="momentum")),
    ("completep(depth=1, order=post)", "relu", 12, TrainOptions(0.01, 200, 20)),
    ("standard(depth=3, alpha=0.5, learnable=True)", "swish", 6, TrainOptions(0.02, 200, 20)),
]


@pytest.mark.parametrize("scheme, activation, hidden, options", RESIDUAL_CASES, ids=lambda c: c if isinstance(c, str) else None)
def test_residual_networks(scheme, activation, hidden, options):
    net = residual_network(2, 12, 4, residual=scheme, activation=activation, hidden=hidden)
    params = np.stack([net.init("he", rng=3), net.init("xavier_normal", rng=4, bias=0.1)])
    reference, compiled = both(net, params, DATA.X_train, DATA.Y_train, options)
    assert_same(reference, compiled)
    assert not np.array_equal(net.alphas(compiled[0].params), net.alphas(params[0])) == net.branch.learnable


@pytest.mark.parametrize("scheme", ["standard(learnable=True)", "skipinit(alpha=0.3, order=post)", "fixup(depth=3)"])
def test_residual_networks_with_projections(scheme):
    """Blocks that change the stream's width: P_k·base in the forward pass, P_kᵀ·G and dP_k in the backward."""
    depth = 3 if "depth=3" in scheme else 2
    branch = {2: [(6, 10), (10, 10), (7, 5)], 3: [(6, 6, 10), (10, 10, 10), (7, 7, 5)]}[depth]
    sizes = (2, 8, *[n for b in branch for n in b], 1)  # 8 → 10 and 10 → 5: projected
    net = Network(sizes, residual=scheme, activation="tanh" if "post" in scheme else "relu")
    assert sum(b.projected for b in net.blocks) == 2
    params = np.stack([net.init("he", rng=3), net.init("xavier_normal", rng=4, bias=0.1)])
    for options in (TrainOptions(0.02, 150, 15), TrainOptions(0.01, 40, 4, optimizer="adam", batch_size=100, seed=1)):
        assert_same(*both(net, params, DATA.X_train, DATA.Y_train, options))


@pytest.mark.parametrize("scheme", ["fixup", "fixup(order=pre, depth=3)"])
def test_fixups_scalar_biases_away_from_their_start(scheme):
    """Every parameter perturbed (Fixup's zeros would hide the shifts' terms): β folded into the bias for the
    sums (b + β·W·1), its gradient m·Σ_o (W·1)_o·Σ_e D[o, e], and W's extra β·Σ_e D[o, e]."""
    depth = 3 if "depth=3" in scheme else 2
    net = Network((2, 8, *([7] * (depth - 1) + [10]) * 3, 1), residual=scheme, activation="tanh")  # 8 → 10: projected
    rng = np.random.default_rng(0)
    params = np.stack([net.init("he", rng=s) + 0.3 * rng.standard_normal(net.n_params) for s in range(2)])
    reference, compiled = both(net, params, DATA.X_train, DATA.Y_train, TrainOptions(0.02, 100, 10))
    assert_same(reference, compiled)
    moved = [net.shifts(compiled[0].params, b) - net.shifts(params[0], b) for b in net.blocks]
    assert all(np.abs(m).min() > 0 for m in moved)
    bias_free = Network(net.sizes, residual=scheme, bias=False)
    assert numba_engine.supports(bias_free, TrainOptions()) == (
        "scalar biases on layers without a bias vector are not compiled (their shift is folded into the bias)")


def test_a_residual_network_in_several_chunks_with_cross_entropy(monkeypatch):
    monkeypatch.setattr(numba_engine, "CHUNK", 32)  # 90 examples in 3 passes: every gradient, dα too, added up
    X, Y = blobs()
    for scheme in ("standard(learnable=True)", "skipinit(alpha=0.3, order=post)"):
        net = residual_network(2, 10, 3, 3, residual=scheme, activation="tanh", loss="cross_entropy")
        assert_same(*both(net, net.init("he", rng=3), X, Y, TrainOptions(0.02, 40, 4, optimizer="adam")))
        net = Network((2, 10, 10, 6, 6, 6, 3), residual=scheme, activation="tanh", loss="cross_entropy")  # a projection
        assert_same(*both(net, net.init("he", rng=3), X, Y, TrainOptions(0.02, 40, 4, optimizer="adam")))


def test_a_diverging_residual_network_is_reported_as_the_reference():
    net = residual_network(2, 8, 6, residual="standard")
    params = np.stack([net.init("random", scale=30.0, rng=3), net.init("he", rng=3)])
    reference, compiled = both(net, params, DATA.X_train, DATA.Y_train, TrainOptions(1.0, 60, 3))
    assert compiled[0].diverged and not compiled[1].diverged
    assert_same(reference, compiled)


# --- batches, divergence, the saturated output ---------------------------------------------------
def test_a_batch_equals_single_runs():
    params = np.stack([NET.init("he", rng=3), NET.init("xavier_normal", rng=1), NET.init("lecun_normal", rng=7),
                       NET.init("he", rng=8), NET.init("xavier_uniform", rng=9)])
    original = params.copy()
    options = TrainOptions(0.01, 500, 50)
    reference, compiled = both(NET, params, DATA.X_train, DATA.Y_train, options)
    assert_same(reference, compiled)
    np.testing.assert_array_equal(params, original)  # the caller's parameters are not touched
    for row, run in zip(params, compiled):
        alone = train(NET, row, DATA.X_train, DATA.Y_train, options, engine="numba")
        np.testing.assert_array_equal(alone.params, run.params)
        np.testing.assert_array_equal(alone.costs, run.costs)


@pytest.mark.parametrize("every", [1, 3])
def test_divergence_same_iteration_and_message(every):
    params = np.stack([NET.init("random", scale=1e3, rng=3), NET.init("he", rng=3), NET.init("random", scale=1e3, rng=4)])
    reference, compiled = both(NET, params, DATA.X_train, DATA.Y_train, TrainOptions(1e300, 50, every))
    assert all(run.diverged for run in compiled)
    assert_same(reference, compiled)
    assert all(np.isfinite(run.params).all() for run in compiled)  # the last finite parameters are kept


def test_a_non_finite_cost_stops_a_model_and_not_the_others():
    huge = np.full(NET.n_params, 1e200)  # finite parameters, logits that overflow
    params = np.stack([NET.init("he", rng=3), huge])
    reference, compiled = both(NET, params, DATA.X_train, DATA.Y_train, TrainOptions(0.01, 20, 1))
    assert_same(reference, compiled)
    assert compiled[1].divergence.iteration == 0 and compiled[1].steps == 0
    assert "the cost is" in str(compiled[1].divergence)
    assert not compiled[0].diverged and compiled[0].steps == 20


@pytest.mark.parametrize("b3", [0.0, 40.0, -800.0])
def test_the_saturated_output_corner(b3):
    """Samples whose last hidden layer is all zero have the logit b_3 exactly: σ(b_3) must be the
    reference's, including σ = 1 and σ = 0 (e^z = inf) at saturation. (A small step: with 0.05,
    b_3 = −800 reaches ReLU kinks that make the run chaotic after ~90 iterations.)"""
    params = NET.init("he", rng=3)
    W1, b1, W2, b2, W3, b3_ = [a for pair in NET.unpack(params) for a in pair]
    b2[...] = -1.5
    b3_[...] = b3
    A2 = np.maximum(0, W2 @ np.maximum(0, W1 @ DATA.X_train + b1) + b2)
    assert 0 < np.sum(~A2.any(axis=0)) < DATA.X_train.shape[1]  # some samples, not all, are in the corner
    assert_same(*both(NET, params, DATA.X_train, DATA.Y_train, TrainOptions(0.01, 100, 10)))


def test_exp_is_numpys_to_one_ulp():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-40, 40, 20000), rng.uniform(-745, 710, 20000),
                        [0.0, -0.0, 1e-300, -1e-300, 709.78, 709.79, -745.1, -745.2, -1000.0, -2000.0, 1e10, -1e10]])
    got = np.array([numba_engine._exp(v) for v in x])
    with np.errstate(over="ignore"):
        want = np.exp(x)
    finite = np.isfinite(want) & (want != 0)
    assert np.all(np.abs(got[finite] - want[finite]) <= np.spacing(want[finite]))
    np.testing.assert_array_equal(got[~finite], want[~finite])
    assert numba_engine._exp(0.0) == 1.0 and numba_engine._exp(np.inf) == np.inf and numba_engine._exp(-np.inf) == 0.0
    assert np.isnan(numba_engine._exp(np.nan))


def test_tanh_is_within_four_ulp():
    """The branch-free tanh (vectorizable) against tanh in x86's 80-bit long double (libm's tanhl:
    a reference that does not depend on which SIMD tanh numpy picked for this CPU): a few ulp
    everywhere (2.4 measured; 2.6 built without FMA), including the tiny arguments where
    1 − 2/(e^2x + 1) would cancel, and the exact special values."""
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.standard_normal(4000) * scale for scale in (1e-300, 1e-12, 1e-4, 0.05, 0.3, 1.0, 4.0, 12.0)]
                       + [np.linspace(-25.0, 25.0, 4001), [1e-320, -1e-320, 19.0, 19.1, 20.0, 1e300, -1e300]])
    got = np.array([numba_engine._tanh(v) for v in x])
    want = np.tanh(x.astype(np.longdouble))
    assert np.max(np.abs(got.astype(np.longdouble) - want) / np.spacing(np.abs(want).astype(np.float64))) <= 4.0
    specials = [0.0, -0.0, np.inf, -np.inf]
    assert [numba_engine._tanh(v) for v in specials] == [0.0, -0.0, 1.0, -1.0]
    assert str(numba_engine._tanh(-0.0)) == "-0.0" and np.isnan(numba_engine._tanh(np.nan))


# --- the BLAS path (one wide model: its products on BLAS's threads) --------------------------------
@pytest.fixture
def blas_wider_than(monkeypatch):
    """Make layers wider than `n` on both sides take the BLAS path, whatever the models and BLAS
    threads (a small network then runs it: the test's subject is the arithmetic, not the rule)."""
    def narrow(n):
        monkeypatch.setattr(numba_engine, "SMALL", n)
        monkeypatch.setattr(numba_engine, "threads", lambda: 1)
        monkeypatch.setattr(numba_engine, "blas_threads", lambda: 2)
    return narrow


def blas_layers(network, n_models=1):
    return numba_engine._with_blas(numba_engine._layout(network).layers, n_models)[:, numba_engine.GEMM].tolist()


BLAS_CASES = [  # (network, options, params' initializer): activations, losses, optimizers, no biases, μP's multipliers
    (Network((2, 40, 33, 17, 7, 1), activation=("tanh", "leaky_relu", "elu", "relu")), TrainOptions(0.01, 200, 20), "he"),
    (Network((2, 24, 24, 1), activation="sigmoid"), TrainOptions(0.1, 150, 10, optimizer="adam"), "xavier_normal"),
    (Network((2, 24, 24, 1), activation=("gelu", "leaky_relu(slope=0.2)"), bias=False), TrainOptions(0.05, 150, 10, optimizer="momentum"), "he"),
    (Network((2, 32, 32, 1), parametrization="mup(base_width=8)"), TrainOptions(0.01, 150, 10, optimizer="adam"), "he"),
    (Network((2, 32, 32, 16, 1), parametrization="ntk(base_width=8)"), TrainOptions(0.05, 150, 10), "he"),  # multipliers 1/2, 1/2, 1/√2
    (Network((2, 24, 24, 1), activation="swish"), TrainOptions(0.05, 230, 7, batch_size=64, seed=5), "he"),
    (residual_network(2, 16, 3, hidden=24, residual="skipinit(alpha=0.5, order=post)"), TrainOptions(0.02, 150, 10), "he"),
    (residual_network(2, 16, 3, hidden=12, residual="standard(learnable=True)", activation="tanh"),
     TrainOptions(0.01, 40, 4, optimizer="adam"), "he"),
]


@pytest.mark.parametrize("network, options, init", BLAS_CASES, ids=lambda c: getattr(c, "activation", None) and str(c.sizes))
def test_the_blas_path_equals_the_reference(blas_wider_than, network, options, init):
    blas_wider_than(9)
    assert any(blas_layers(network)) and not all(blas_layers(network))  # BLAS's layers and the kernels', in one run
    params = np.stack([network.init(init, rng=3), network.init(init, rng=4)])
    assert_same(*both(network, params, DATA.X_train, DATA.Y_train, options))


def test_the_blas_path_in_several_chunks_and_every_layer(blas_wider_than, monkeypatch):
    blas_wider_than(0)  # the (2 → n) and (n → 1) products too
    monkeypatch.setattr(numba_engine, "CHUNK", 128)  # gradients added up over 3 passes (beta = 1)
    net = Network((2, 16, 12, 1))
    assert all(blas_layers(net))
    for batch_size in (None, 250):
        assert_same(*both(net, net.init("he", rng=3), DATA.X_train, DATA.Y_train, TrainOptions(0.05, 200, 20, batch_size=batch_size)))


def test_the_blas_path_reports_divergence_as_the_reference(blas_wider_than):
    blas_wider_than(0)
    params = np.stack([NET.init("random", scale=1e3, rng=3), NET.init("he", rng=3)])
    reference, compiled = both(NET, params, DATA.X_train, DATA.Y_train, TrainOptions(1e300, 50, 3))
    assert all(run.diverged for run in compiled)
    assert_same(reference, compiled)


def test_which_layers_take_blas(monkeypatch):
    """Only layers wider than _blas.SMALL on both sides, one model at a time, BLAS on several threads."""
    net = Network((2, 300, 300, 257, 1))
    monkeypatch.setattr(numba_engine, "blas_threads", lambda: 2)
    assert blas_layers(net) == [0, 1, 1, 0]
    assert blas_layers(Network((2, 256, 256, 1))) == [0, 0, 0]
    monkeypatch.setattr(numba_engine, "threads", lambda: 2)
    assert blas_layers(net, n_models=2) == [0, 0, 0, 0]  # models on both cores: each on the kernels
    monkeypatch.setattr(numba_engine, "blas_threads", lambda: 1)
    assert blas_layers(net) == [0, 0, 0, 0]  # BLAS on one thread (a limit in force): the kernels


def test_gemm_with_offsets_and_transposes():
    """_gemm.gemm against numpy on blocks inside larger arrays, each op(A)·op(B), beta 0 and 1."""
    from numba import njit

    from initlab.engines._gemm import gemm

    @njit
    def product(ta, tb, m, n, k, alpha, a, a0, lda, b, b0, ldb, beta, c, c0, ldc):
        return gemm(ta, tb, m, n, k, alpha, a, a0, lda, b, b0, ldb, beta, c, c0, ldc)

    rng = np.random.default_rng(0)
    m, n, k, ld = 5, 3, 4, 7

    def block(flat, start, rows, cols):  # the column-major (rows, cols) block at `start`, leading dimension ld
        return np.lib.stride_tricks.as_strided(flat[start:], (rows, cols), (8, 8 * ld))

    for ta in (0, 1):
        for tb in (0, 1):
            for beta in (0.0, 1.0):
                a, b, c = (rng.standard_normal(80) for _ in range(3))
                A = block(a, 3, *((m, k) if not ta else (k, m)))
                B = block(b, 2, *((k, n) if not tb else (n, k)))
                want = 0.5 * (A.T if ta else A) @ (B.T if tb else B) + beta * block(c, 4, m, n)
                before = c.copy()
                assert product(ta, tb, m, n, k, 0.5, a, 3, ld, b, 2, ld, beta, c, 4, ld) == 0
                np.testing.assert_allclose(block(c, 4, m, n), want, rtol=1e-13, atol=1e-14)
                outside = np.ones(80, bool)
                outside[[4 + i + j * ld for i in range(m) for j in range(n)]] = False
                np.testing.assert_array_equal(c[outside], before[outside])  # nothing else written


# --- what the engine refuses, callbacks, odds and ends -------------------------------------------
@pytest.fixture
def cube(monkeypatch):
    """A user's activation, registered as the registry's docs say: a factory under a new key."""
    from initlab.activations import ACTIVATIONS

    def factory():
        return Activation("cube", lambda Z: Z**3, lambda Z: 3 * Z**2)

    monkeypatch.setitem(ACTIVATIONS, "cube", factory)
    return "cube"


def test_supports_refuses_what_is_not_compiled(cube):
    net = Network((2, 4, 1), activation=(cube,))
    reason = numba_engine.supports(net, TrainOptions())
    assert reason is not None and "'cube'" in reason
    with pytest.raises(InitlabError, match="'numba' engine does not support this run: activation 'cube'"):
        select("numba", net, TrainOptions())
    assert select("auto", net, TrainOptions()).NAME == "numpy"
    run = train(net, net.init("he", rng=0), DATA.X_train, DATA.Y_train, TrainOptions(0.01, 5, 1))
    assert run.engine == "numpy"
    for name in ("relu", "gelu", "silu", "leaky_relu(slope=0.2)", "elu(alpha=0.5)"):
        assert numba_engine.supports(Network((2, 4, 1), activation=name), TrainOptions(optimizer="adam")) is None


def test_the_kernel_reads_its_codes_from_the_spec():
    """One lookup of the spec's key; the option is the spec's exact value (not a rounded name)."""
    from initlab._spec import Spec

    assert numba_engine._activation_code(Spec.make("leaky_relu", {"slope": 0.123456789012})) == (numba_engine.LEAKY_RELU, 0.123456789012)
    assert numba_engine._activation_code(Spec("leaky_relu")) == (numba_engine.LEAKY_RELU, 0.01)  # the factory's default
    assert numba_engine._activation_code(Spec("elu")) == (numba_engine.ELU, 1.0)
    assert numba_engine._activation_code(Spec("swish")) == (numba_engine.SWISH, 0.0)
    assert numba_engine._activation_code(Spec("cube")) == (None, 0.0)
    # an Activation object is taken by its spec: the network's callables come from the registry
    impostor = Activation("relu", lambda Z: 2 * np.maximum(0, Z), lambda Z: 2.0 * (Z > 0))
    net = Network((2, 4, 1), activation=impostor)
    assert net.hidden_activations[0].fn(np.array([3.0]))[0] == 3.0 and numba_engine.supports(net, TrainOptions()) is None


def test_the_environment_variable_stands_in_for_auto(monkeypatch, cube):
    from initlab.engines import preferred

    unsupported = Network((2, 4, 1), activation=(cube,))
    assert preferred("auto") == "numba" and preferred("numpy") == "numpy"
    monkeypatch.setenv("INITLAB_ENGINE", "numpy")
    assert preferred("auto") == "numpy" and select("auto", NET, TrainOptions()).NAME == "numpy"
    assert select("numba", NET, TrainOptions()).NAME == "numba"  # an explicit choice wins
    monkeypatch.setenv("INITLAB_ENGINE", "numba")  # as if engine="numba": an unsupported run is an error
    with pytest.raises(InitlabError, match="'numba' engine does not support this run"):
        select("auto", unsupported, TrainOptions())
    monkeypatch.setenv("INITLAB_ENGINE", "fortran")
    with pytest.raises(InitlabError, match="The 'INITLAB_ENGINE' parameter must be one of auto, numpy, numba, exact. Got 'fortran'"):
        preferred("auto")


def test_callback_order_and_values():
    """callback(b, i, cost, params) at every recorded iteration, in the order of i then b; the
    parameters are those before the update of i; a diverged model gets no more calls."""
    params = np.stack([NET.init("he", rng=3), NET.init("random", scale=1e3, rng=3), NET.init("xavier_normal", rng=2)])
    options = TrainOptions(1e-2, 12, 5)
    calls = {"numpy": [], "numba": []}
    runs = {}
    for engine, seen in calls.items():
        def record(b, i, cost, current, seen=seen):
            seen.append((b, i, cost, np.array(current)))
        runs[engine] = train_many(NET, params, DATA.X_train, DATA.Y_train, options, record, engine=engine)
    order = [(b, i) for b, i, _, _ in calls["numba"]]
    assert order == [(0, 0), (1, 0), (2, 0), (0, 5), (1, 5), (2, 5), (0, 10), (1, 10), (2, 10)]
    for b, i, cost, current in calls["numba"]:
        assert cost == runs["numba"][b].costs[i // 5]
        (_, _, cost_ref, current_ref), = [c for c in calls["numpy"] if c[:2] == (b, i)]
        np.testing.assert_allclose(cost, cost_ref, rtol=1e-12)
        np.testing.assert_allclose(current, current_ref, rtol=1e-12, atol=1e-12 * np.abs(current_ref).max())
    assert_same(runs["numpy"], runs["numba"])

    diverging = TrainOptions(1e300, 12, 5)
    seen = []
    runs = train_many(NET, params[:2], DATA.X_train, DATA.Y_train, diverging, lambda b, i, c, p: seen.append((b, i)), engine="numba")
    assert runs[0].diverged and runs[1].diverged
    assert seen == [(b, i) for i in range(0, 12, 5) for b in range(2) if i <= runs[b].divergence.iteration]


def test_zero_iterations_and_warm_up():
    run = train(NET, NET.init("he", rng=3), DATA.X_train, DATA.Y_train, TrainOptions(iterations=0), engine="numba")
    assert run.steps == 0 and run.costs.size == 0 and run.iterations.size == 0 and not run.diverged
    start = time.perf_counter()
    seconds = numba_engine.warm_up()
    assert isinstance(seconds, float) and 0 < seconds <= time.perf_counter() - start  # the time it took
    dtypes = [str(signature[0].dtype) for signature in numba_engine._train_one.signatures]
    assert sorted(dtypes) == sorted(set(dtypes)) and set(dtypes) <= {"float64", "float32"}  # one signature per dtype serves every run


def test_warm_up_compiles_without_importing_above_the_engines():
    """warm_up calls the kernel itself on tiny arrays: the engine imports nothing from initlab.training
    (a layer above the engines), not even inside a function."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(numba_engine))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not any(name and name.split(".")[-1] in ("train", "sweep", "compare") for name in imported), imported
    assert numba_engine.warm_up() > 0


def test_the_vectorizer_option_is_set_for_the_compile_only(monkeypatch):
    """_one_vector_per_step sets LLVM's interleave option to 1 while holding numba's compiler lock
    (no other compile sees it) and sets it back to 0, LLVM's default, even when the compile fails."""
    from numba.core.compiler_lock import global_compiler_lock

    calls = []
    monkeypatch.setattr(numba_engine.llvm, "set_option", lambda name, option: calls.append((option, global_compiler_lock.is_locked())))
    with pytest.raises(RuntimeError, match="a failed compile"):
        with numba_engine._one_vector_per_step():
            calls.append(("inside", global_compiler_lock.is_locked()))
            raise RuntimeError("a failed compile")
    assert calls == [("-force-vector-interleave=1", True), ("inside", True), ("-force-vector-interleave=0", True)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_run_compiles_its_dtype_through_warm_up_and_nothing_after(dtype, monkeypatch):
    """Before its threads start, a run in a dtype this process has not warmed up goes through
    warm_up (the compile with one vector per step); the runs themselves then compile no other
    signature (a thread's first call would compile with LLVM's default choices)."""
    warmed = []
    warm_up = numba_engine.warm_up
    monkeypatch.setattr(numba_engine, "_WARM", set())
    monkeypatch.setattr(numba_engine, "warm_up", lambda d="float64": (warmed.append(d), warm_up(d))[1])
    network = Network((2, 10, 5, 1), dtype=dtype)
    params = np.stack([network.init("he", rng=seed) for seed in range(3)])
    runs = [TrainOptions(iterations=20, record_every=5), TrainOptions(iterations=20, batch_size=64, optimizer="adam"),
            TrainOptions(iterations=20, optimizer="momentum", learning_rate=0.1)]
    train_many(network, params, DATA.X_train, DATA.Y_train, runs[0], engine="numba")
    assert warmed == [dtype]
    before = set(numba_engine._train_one.signatures)
    for options in runs:
        train_many(network, params, DATA.X_train, DATA.Y_train, options, engine="numba")
    train_many(network, params[:1], DATA.X_train, DATA.Y_train, runs[0], lambda b, i, c, p: None, engine="numba")
    assert warmed == [dtype] and set(numba_engine._train_one.signatures) == before
