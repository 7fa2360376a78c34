"""The exact engine: the notebook's printed digits, the same on every CPU (CI runs this file a
second time with NUMBA_CPU_NAME=generic: no FMA instructions, other vector widths)."""
import numpy as np
import pytest

from initlab import engines
from initlab.compare import compare_initializers
from initlab.data import circles
from initlab.engines import exact_engine
from initlab.network import Network
from initlab.training import TrainOptions, train, train_many
from notebook_values import ACCURACY, COSTS

DATA = circles()


@pytest.fixture(scope="module")
def notebook_runs():
    """The notebook's three runs at its settings, through compare (engine auto)."""
    return {r.name: r for r in compare_initializers(["zeros", "random", "he"], record_every=1000).results}


def test_compare_uses_the_exact_engine_for_the_notebook(notebook_runs):
    assert {r.run.engine for r in notebook_runs.values()} == {"exact"}


@pytest.mark.parametrize("name", ["zeros", "random"])
def test_chaotic_and_flat_runs_print_the_notebooks_very_digits(notebook_runs, name):
    """The random run is chaotic (one last bit in W1 moves its costs by 1%): only the notebook's
    exact arithmetic gives its digits. Iteration 0 of the random run is the true cost (the
    notebook prints inf there), from iteration 1000 on every value is the printed one."""
    costs = notebook_runs[name].run.costs
    start = 1 if name == "random" else 0
    assert costs.tolist()[start:] == COSTS[name][start:]
    assert np.isfinite(costs[0])


def test_he_run_is_within_1e_12_and_accuracies_are_exact(notebook_runs):
    np.testing.assert_allclose(notebook_runs["he"].run.costs, COSTS["he"], rtol=1e-12, atol=0)
    for name, r in notebook_runs.items():
        assert (r.train_accuracy, r.test_accuracy) == ACCURACY[name]


def test_a_batch_gives_each_run_as_if_trained_alone():
    network = Network((2, 6, 3, 1))
    options = TrainOptions(0.05, 300, 50)
    P = np.stack([network.init(n, rng=1) for n in ("he", "random", "xavier_normal")])
    batch = train_many(network, P, DATA.X_train, DATA.Y_train, options, engine="exact")
    for p, run in zip(P, batch):
        alone = train(network, p, DATA.X_train, DATA.Y_train, options, engine="exact")
        np.testing.assert_array_equal(run.params, alone.params)
        np.testing.assert_array_equal(run.costs, alone.costs)


def test_callback_sees_each_recorded_cost_with_the_parameters_before_the_update():
    network = Network((2, 4, 1))
    options = TrainOptions(0.1, 30, 10)
    p = network.init("he", rng=0)
    seen = []
    run = train(network, p, DATA.X_train, DATA.Y_train, options, lambda i, c, q: seen.append((i, c, q.copy())), engine="exact")
    assert [i for i, _, _ in seen] == [0, 10, 20]
    assert [c for _, c, _ in seen] == run.costs.tolist()
    np.testing.assert_array_equal(seen[0][2], p)
    np.testing.assert_allclose(seen[1][1], network.cost(seen[1][2], DATA.X_train, DATA.Y_train), rtol=1e-13)


def test_close_to_the_reference_engine_on_a_stable_run():
    network = Network((2, 7, 5, 3, 1))
    options = TrainOptions(0.05, 500, 100)
    p = network.init("he", rng=2)
    exact = train(network, p, DATA.X_train, DATA.Y_train, options, engine="exact")
    ref = train(network, p, DATA.X_train, DATA.Y_train, options, engine="numpy")
    np.testing.assert_allclose(exact.params, ref.params, rtol=1e-11, atol=1e-13)


def test_divergence_is_reported_where_it_happens():
    network = Network((2, 10, 5, 1))
    run = train(network, network.init("he", rng=3), DATA.X_train, DATA.Y_train, TrainOptions(1e300, 50, 1), engine="exact")
    ref = train(network, network.init("he", rng=3), DATA.X_train, DATA.Y_train, TrainOptions(1e300, 50, 1), engine="numpy")
    assert run.diverged and ref.diverged
    assert run.divergence.iteration == ref.divergence.iteration
    assert np.isfinite(run.params).all()


@pytest.mark.parametrize("network, options, says", [
    (Network((2, 4, 1), "tanh"), TrainOptions(), "ReLU"),
    (Network((2, 4, 3), loss="cross_entropy"), TrainOptions(), "sigmoid output"),
    (Network((2, 4, 1)), TrainOptions(optimizer="adam"), "full-batch gradient descent"),
    (Network((2, 4, 1)), TrainOptions(batch_size=32), "full-batch gradient descent"),
])
def test_runs_outside_the_notebooks_family_are_refused_by_name(network, options, says):
    assert says in exact_engine.supports(network, options)
    with pytest.raises(engines.InitlabError, match="The 'exact' engine does not support this run"):
        train(network, network.init("he", rng=0), DATA.X_train, np.eye(3)[:, DATA.Y_train[0].astype(int)] if network.sizes[-1] == 3 else DATA.Y_train, options, engine="exact")
    assert engines.for_notebook("auto", network, options) == "auto"  # auto then picks as usual


def test_for_notebook_respects_an_explicit_choice(monkeypatch):
    network, options = Network((2, 10, 5, 1)), TrainOptions()
    assert engines.for_notebook("auto", network, options) == "exact"
    assert engines.for_notebook("numba", network, options) == "numba"
    monkeypatch.setenv("INITLAB_ENGINE", "numpy")
    assert engines.for_notebook("auto", network, options) == "auto"


# --- the independent reference: numpy on OpenBLAS's Haswell kernels and the C library's exp ------
# The notebook's arithmetic is numpy's np.dot on those kernels (the random run matches it to the
# last printed digit only there). A child process pins them (the variables must be set before numpy
# loads) and compares every product of the course's loop, and the training itself, bit for bit.
_REFERENCE_CHILD = r'''
import json, sys
import numpy as np
from initlab.engines import exact_engine as E
from initlab.engines.exact_math import pairwise_sum
from initlab.network import Network
from initlab.training import TrainOptions, train
from initlab.data import circles

rng = np.random.default_rng(0)
out = {}
def count(name, mine, ref):
    out[name] = out.get(name, 0) + int(np.count_nonzero(mine != ref))
for trial in range(5):
    for (M, K, N) in [(10, 2, 300), (5, 10, 300), (10, 5, 300), (7, 13, 50), (3, 700, 12), (9, 300, 11), (5, 300, 10), (10, 300, 2)]:
        A, B = rng.normal(size=(M, K)), rng.normal(size=(K, N))
        C = np.empty((M, N)); E._gemm(A, B, C, np.empty((4, max(N, K))))
        count(f"gemm {M}x{K} @ {K}x{N}", C, np.dot(A, B))
        At = rng.normal(size=(K, M))  # A given transposed, as W.T in the backward pass
        E._gemm(At.T, B, C, np.empty((4, max(N, K)))); count(f"gemm ({K}x{M}).T @ {K}x{N}", C, np.dot(At.T, B))
        Bt = rng.normal(size=(N, K))  # B transposed, as A.T in the weight gradients
        E._gemm_nt(A, Bt, C); count(f"gemm {M}x{K} @ ({N}x{K}).T", C, np.dot(A, Bt.T))
    for (K, N) in [(5, 300), (5, 100), (13, 40), (8, 7), (3, 6)]:
        w, B = rng.normal(size=(1, K)), rng.normal(size=(K, N))
        y = np.empty(N); E._gemv_n(w[0], B, y); count(f"gemv 1x{K} @ {K}x{N}", y, np.dot(w, B)[0])
    for (M, K) in [(5, 300), (4, 100), (9, 64), (5, 21)]:
        d, A = rng.normal(size=(1, K)), rng.normal(size=(M, K))
        y = np.empty(M); E._gemv_t(d[0], A, y); count(f"gemv 1x{K} @ ({M}x{K}).T", y, np.dot(d, A.T)[0])
    for n in (1, 7, 8, 100, 128, 129, 300, 1000):
        a = rng.normal(size=n); count(f"pairwise {n}", np.array(pairwise_sum(a, 0, n, np.empty((192, 3), dtype=np.int64), np.empty(64))), np.sum(a))

# the course's loop itself (init_utils' expressions), from the notebook's random (x10) start
d = circles(); X, Y = d.X_train, d.Y_train
net = Network((2, 10, 5, 1)); p0 = net.init("random", rng=np.random.RandomState(3))
W = [w.copy() for w, _ in net.unpack(p0.copy())]; b = [bb.copy() for _, bb in net.unpack(p0.copy())]
steps = int(sys.argv[1])
for i in range(steps):
    z1 = np.dot(W[0], X) + b[0]; a1 = np.maximum(0, z1)
    z2 = np.dot(W[1], a1) + b[1]; a2 = np.maximum(0, z2)
    z3 = np.dot(W[2], a2) + b[2]; a3 = 1 / (1 + np.exp(-z3))
    dz3 = 1.0 / 300 * (a3 - Y)
    dW3, db3 = np.dot(dz3, a2.T), np.sum(dz3, axis=1, keepdims=True)
    dz2 = np.multiply(np.dot(W[2].T, dz3), np.int64(a2 > 0))
    dW2, db2 = np.dot(dz2, a1.T), np.sum(dz2, axis=1, keepdims=True)
    dz1 = np.multiply(np.dot(W[1].T, dz2), np.int64(a1 > 0))
    dW1, db1 = np.dot(dz1, X.T), np.sum(dz1, axis=1, keepdims=True)
    for l, (gW, gb) in enumerate(((dW1, db1), (dW2, db2), (dW3, db3))):
        W[l] = W[l] - 0.01 * gW
        b[l] = b[l] - 0.01 * gb
run = train(net, p0, X, Y, TrainOptions(0.01, steps, steps), engine="exact")
mine = net.unpack(run.params)
out["training"] = sum(int(np.count_nonzero(mine[l][0] != W[l]) + np.count_nonzero(mine[l][1] != b[l])) for l in range(3))
print(json.dumps(out))
'''


def _haswell_environment():
    """The environment that pins numpy to the notebook's arithmetic, or None where it cannot."""
    import os

    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    if not (__cpu_features__.get("AVX2") and __cpu_features__.get("FMA3")):
        return None  # OpenBLAS's Haswell kernels need AVX2 and FMA
    avx512 = [f for f in __cpu_dispatch__ if "512" in f or "V4" in f]  # numpy's own exp/log there
    return {**os.environ, "OPENBLAS_CORETYPE": "Haswell", "NPY_DISABLE_CPU_FEATURES": " ".join(avx512)}


def test_every_product_and_the_training_equal_numpy_on_the_notebooks_kernels():
    import json
    import subprocess
    import sys

    env = _haswell_environment()
    if env is None:
        pytest.skip("this CPU has no AVX2/FMA: OpenBLAS's Haswell kernels (the reference) cannot run")
    child = subprocess.run([sys.executable, "-c", _REFERENCE_CHILD, "1500"], env=env, capture_output=True, text=True, timeout=600)
    assert child.returncode == 0, child.stderr[-2000:]
    mismatches = json.loads(child.stdout.strip().splitlines()[-1])
    assert len(mismatches) > 30 and {k: v for k, v in mismatches.items() if v} == {}


def test_a_nan_cost_is_recorded_where_the_run_stops():
    """Weights that are nan make the first recorded cost nan: the run stops there and says so, as
    the reference does (the engines directly: train() refuses non-finite weights before)."""
    from initlab.engines import numpy_engine

    network = Network((2, 4, 1))
    p = network.init("he", rng=0)
    p[3] = np.nan
    for engine in (exact_engine, numpy_engine):
        trace, = engine.train_batch(network, p[None, :], DATA.X_train, DATA.Y_train, TrainOptions(0.1, 50, 10))
        assert trace.divergence.iteration == 0 and str(trace.divergence) == "diverged at iteration 0: the cost is nan"
        assert trace.costs.size == 1 and np.isnan(trace.costs[0]) and trace.steps == 0


def test_zero_iterations_train_nothing():
    network = Network((2, 4, 1))
    p = network.init("he", rng=0)
    run = train(network, p, DATA.X_train, DATA.Y_train, TrainOptions(0.1, 0, 10), engine="exact")
    assert run.steps == 0 and run.costs.size == 0 and not run.diverged
    np.testing.assert_array_equal(run.params, p)
