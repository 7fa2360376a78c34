"""The compiled engine against the numpy reference: same costs, weights, steps and divergence."""
import numpy as np
import pytest

pytest.importorskip("numba")

from initlab.activations import ACTIVATIONS  # noqa: E402
from initlab.data import circles  # noqa: E402
from initlab.engines import select  # noqa: E402
from initlab.network import Network  # noqa: E402
from initlab.train import TrainOptions, train, train_many  # noqa: E402
from engine_checks import reported  # noqa: E402
from notebook_values import COSTS  # noqa: E402

DATA = circles()


def both(network, params, X, Y, options):
    return [train_many(network, params, X, Y, options, engine=e) for e in ("numpy", "numba")]


def assert_same(reference, compiled, rtol=1e-10):
    # The compiled engine sums over examples in SIMD partial sums (their number depends on the
    # vector width) where BLAS sums in its own order: each sum of m terms differs by up to ~m·u
    # relative (3e-14 at m = 300), and a stable 15000-step run carries that to 1e-12 on some CPUs
    # (seen 1.25e-12 on AVX2). 1e-10 bounds it on any CPU; a wrong formula misses by far more.
    for r, c in zip(reference, compiled):
        assert c.engine == "numba" and r.engine == "numpy"
        assert r.steps == c.steps and r.iterations.tolist() == c.iterations.tolist()
        np.testing.assert_allclose(c.costs, r.costs, rtol=rtol)
        np.testing.assert_allclose(c.params, r.params, rtol=rtol, atol=1e-14)
        assert (r.divergence is None) == (c.divergence is None)


def test_notebook_he_run_is_the_notebooks():
    net = Network((2, 10, 5, 1))
    run = train(net, net.init("he", rng=3), DATA.X_train, DATA.Y_train, TrainOptions(), engine="numba")
    assert run.engine == "numba"
    np.testing.assert_allclose(run.costs, COSTS["he"], rtol=1e-11)  # sums reordered: see assert_same
    reference = train(net, net.init("he", rng=3), DATA.X_train, DATA.Y_train, TrainOptions(), engine="numpy")
    np.testing.assert_allclose(run.params, reference.params, rtol=1e-10)


SUPPORTED = [a for a in sorted(ACTIVATIONS) if select("auto", Network((2, 3, 1), activation=a), TrainOptions()).NAME == "numba"]


@pytest.mark.parametrize("activation", SUPPORTED)
def test_every_compiled_activation(activation):
    net = Network((2, 8, 6, 1), activation=activation)
    params = np.stack([net.init("xavier_normal", rng=s, bias=0.05) for s in range(3)])
    assert_same(*both(net, params, DATA.X_train, DATA.Y_train, TrainOptions(0.05, 400, 50)))


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_every_optimizer_and_minibatches(optimizer):
    net = Network((2, 8, 1), activation="tanh")
    params = np.stack([net.init("he_normal", rng=s) for s in range(2)])
    for batch_size in (None, 64):
        options = TrainOptions(0.01, 300, 25, optimizer=optimizer, batch_size=batch_size, seed=4)
        assert_same(*both(net, params, DATA.X_train, DATA.Y_train, options))


@pytest.mark.parametrize("loss", ["cross_entropy", "mean_squared_error"])
def test_other_losses(loss):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 120))
    Y = np.eye(3)[:, rng.integers(0, 3, 120)] if loss == "cross_entropy" else np.vstack([np.sin(X[0]), np.cos(X[1])])
    net = Network((4, 10, Y.shape[0]), activation="relu", loss=loss)
    params = np.stack([net.init("he_normal", rng=s) for s in range(2)])
    assert_same(*both(net, params, X, Y, TrainOptions(0.05, 300, 50)))


def test_a_batch_equals_single_runs():
    net = Network((2, 10, 5, 1))
    params = np.stack([net.init("he", rng=3), net.init("xavier_normal", rng=1), net.init("zeros")])
    reference, compiled = both(net, params, DATA.X_train, DATA.Y_train, TrainOptions(0.01, 500, 50))
    assert_same(reference, compiled)
    alone = train(net, params[1], DATA.X_train, DATA.Y_train, TrainOptions(0.01, 500, 50), engine="numba")
    np.testing.assert_array_equal(alone.params, compiled[1].params)


def test_divergence_matches():
    net = Network((2, 10, 5, 1))
    params = np.stack([net.init("random", scale=1e3, rng=3), net.init("he", rng=3)])
    reference, compiled = both(net, params, DATA.X_train, DATA.Y_train, TrainOptions(1e300, 50, 1))
    for r, c in zip(reference, compiled):
        assert r.diverged and c.diverged and reported(c.divergence) == reported(r.divergence) and c.steps == r.steps
        np.testing.assert_allclose(c.params, r.params, rtol=1e-12)


def test_callback_reports_in_order():
    net = Network((2, 10, 5, 1))
    seen = []
    run = train(net, net.init("he", rng=3), DATA.X_train, DATA.Y_train, TrainOptions(0.01, 1000, 100),
                lambda i, cost, p: seen.append((i, cost)), engine="numba")
    assert [i for i, _ in seen] == list(range(0, 1000, 100))
    np.testing.assert_allclose([c for _, c in seen], run.costs, rtol=0)


def test_the_numpy_engine_keeps_blas_on_one_thread_for_small_layers():
    """Small products gain nothing from BLAS threads (a 30-layer width-64 net: 4.1-4.4 s on one
    thread against 8.7-13 s on two, bench/README.md); wide layers keep the machine's threads."""
    from threadpoolctl import threadpool_info

    def blas_threads():
        return max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")

    outside = blas_threads()
    for sizes, expected in (((2, 16, 16, 1), 1), ((2, 300, 1), outside)):
        net = Network(sizes)
        seen = []
        train(net, net.init("he", rng=0), DATA.X_train, DATA.Y_train, TrainOptions(0.01, 2, 1),
              callback=lambda i, cost, p: seen.append(blas_threads()), engine="numpy")
        assert set(seen) == {expected}
    assert blas_threads() == outside  # restored
