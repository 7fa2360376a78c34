"""float32 networks: the parameters, data and arithmetic in float32, in the numpy engine (the
reference) and the compiled one, and how far a float32 run ends from its float64 twin.

Tolerances: two float32 engines differ by rounding order (FMAs, SIMD partial sums) — each sum of m
terms by up to ~m·2^-24 relative (2e-5 at m = 300) — and a stable run carries that along without
growing it much: the notebook's 15000-iteration He run measured 1.2e-5 apart (numba vs numpy, both
float32; max |Δ| over the parameters). float32 against float64 on that run: 1.2e-4 on the
parameters, 2.1e-6 on the final cost. The bounds below are 10× those, on any CPU.
"""
import json
import pickle

import numpy as np
import pytest

from initlab import engines
from initlab._validation import InitlabError
from initlab.activations import ACTIVATIONS
from initlab.compare import Comparison, compare_initializers
from initlab.data import circles
from initlab.losses import LOSSES
from initlab.network import NETWORK_DTYPES, Network, residual_network
from initlab.training import TrainOptions, train, train_many

numba_engine = pytest.importorskip("initlab.engines.numba_engine")

DATA = circles()
NET32 = Network((2, 10, 5, 1), dtype="float32")
NET64 = Network((2, 10, 5, 1))


def both(network, params, X, Y, options):
    """The numpy engine's float32 runs and the compiled engine's, from the same (B, P) parameters."""
    return [train_many(network, np.atleast_2d(params), X, Y, options, engine=engine) for engine in ("numpy", "numba")]


def assert_close(reference, compiled, rtol=2e-4):
    """Same iterations, steps and divergence; costs and parameters within float32's rounding, carried
    over a few hundred iterations (see the module's docstring)."""
    for r, c in zip(reference, compiled):
        assert r.params.dtype == c.params.dtype == np.float32
        assert c.iterations.tolist() == r.iterations.tolist() and c.steps == r.steps
        assert (c.divergence is None) == (r.divergence is None)
        np.testing.assert_allclose(c.costs, r.costs, rtol=rtol, atol=rtol * 1e-2)
        np.testing.assert_allclose(c.params, r.params, rtol=0, atol=rtol * np.max(np.abs(r.params)))


# --- the network -----------------------------------------------------------------------------------
def test_the_dtype_is_checked_and_kept_in_the_spec():
    with pytest.raises(InitlabError, match=r"The 'dtype' parameter must be one of float64, float32. Got 'float16' instead"):
        Network((2, 3, 1), dtype="float16")
    assert NET64.to_json() == {"sizes": [2, 10, 5, 1], "activation": ["relu", "relu"], "loss": "binary_cross_entropy"}  # as before dtypes
    assert NET32.to_json()["dtype"] == "float32"
    assert Network.from_json(json.loads(json.dumps(NET32.to_json()))) == NET32 != NET64
    assert pickle.loads(pickle.dumps(NET32)) == NET32 and hash(NET32) != hash(NET64)
    old = Network.__new__(Network)  # the state a network pickled before dtypes carries: no dtype
    old.__setstate__({k: v for k, v in NET64.__getstate__().items() if k != "dtype"})
    assert old == NET64 and old.dtype == "float64"


def test_initial_weights_are_float64_draws_rounded_once():
    for scheme in ("he", "xavier_normal", "torch_default", "random"):
        want = NET64.init(scheme, rng=3).astype(np.float32)
        got = NET32.init(scheme, rng=3)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want)
    X = DATA.X_train[:, :100]
    assert NET32.init("lsuv", rng=0, X=X).dtype == np.float32  # a data-dependent scheme keeps the network's type


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_forward_and_backward_stay_in_float32(activation):
    """No float64 array or constant promotes the arithmetic (a table over every activation)."""
    net = Network((2, 6, 4, 1), activation=activation, dtype="float32")
    params = net.init("he", rng=1)
    X, Y = net.check_data(DATA.X_train[:, :40], DATA.Y_train[:, :40])
    assert X.dtype == Y.dtype == np.float32
    ZL, cache = net.forward(params, X)
    back = net.backward(params, cache, Y)
    assert ZL.dtype == np.float32 and all(Z.dtype == A.dtype == np.float32 for A, Z in cache)
    assert back.grad.dtype == np.float32 and all(d.dtype == np.float32 for d in back.dZ + back.dA)
    net64 = Network((2, 6, 4, 1), activation=activation)
    params64 = params.astype(np.float64)  # the same weights: the gradients agree to float32's precision
    grad64 = net64.backward(params64, net64.forward(params64, X.astype(np.float64))[1], Y.astype(np.float64)).grad
    np.testing.assert_allclose(back.grad, grad64, rtol=0, atol=1e-5 * np.max(np.abs(grad64)))


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_every_loss_stays_in_float32(loss):
    outputs = 1 if LOSSES[loss].targets == "binary" else 3
    net = Network((2, 5, outputs), loss=loss, dtype="float32")
    X = DATA.X_train[:, :30]
    Y = DATA.Y_train[:, :30] if outputs == 1 else np.eye(3)[np.arange(30) % 3].T
    X, Y = net.check_data(X, Y)
    params = net.init("he", rng=2)
    assert net.backward(params, net.forward(params, X)[1], Y).grad.dtype == np.float32
    assert np.isfinite(float(net.cost(params, X, Y)))


# --- the two engines, float32 against float32 ------------------------------------------------------
CASES = [  # (network, options, initializer): activations, losses, optimizers, minibatches, no biases, parametrizations
    (NET32, TrainOptions(0.01, 400, 40), "he"),
    (Network((2, 8, 6, 1), activation="tanh", dtype="float32"), TrainOptions(0.05, 300, 30), "xavier_normal"),
    (Network((2, 8, 6, 1), activation="sigmoid", dtype="float32"), TrainOptions(0.01, 300, 30, optimizer="adam"), "xavier_normal"),
    (Network((2, 12, 6, 1), activation=("gelu", "leaky_relu(slope=0.2)"), bias=False, dtype="float32"),
     TrainOptions(0.05, 300, 30, optimizer="momentum"), "he"),
    (Network((2, 9, 5, 3), activation="elu", loss="cross_entropy", dtype="float32"), TrainOptions(0.1, 300, 30), "he"),
    (Network((2, 16, 16, 1), parametrization="mup(base_width=8)", dtype="float32"), TrainOptions(0.01, 200, 20, optimizer="adam"), "he"),
    (Network((2, 16, 16, 1), activation="swish", dtype="float32"), TrainOptions(0.05, 230, 7, batch_size=64, seed=5), "he"),
    (residual_network(2, 8, 4, residual="standard(learnable=True)", dtype="float32"), TrainOptions(0.02, 200, 20), "he"),
    (residual_network(2, 8, 4, residual="skipinit(alpha=0.3, order=post)", activation="tanh", dtype="float32"),
     TrainOptions(0.01, 200, 20, optimizer="momentum"), "he"),
]


def _targets(network):
    if network.sizes[-1] == 1:
        return DATA.Y_train
    return np.eye(3)[(DATA.X_train[0] > 0).astype(int) + (DATA.X_train[1] > 0)].T  # three classes by quadrant


@pytest.mark.parametrize("network, options, init", CASES, ids=lambda c: getattr(c, "activation", None) and str(c.sizes))
def test_the_compiled_engine_in_float32_equals_the_reference(network, options, init):
    assert numba_engine.supports(network, options) is None
    params = np.stack([network.init(init, rng=3), network.init(init, rng=4)])
    assert_close(*both(network, params, DATA.X_train, _targets(network), options))


def test_the_blas_path_in_float32(monkeypatch):
    """Layers that take BLAS multiply by sgemm (a small network forced onto that path)."""
    monkeypatch.setattr(numba_engine, "SMALL", 0)
    monkeypatch.setattr(numba_engine, "threads", lambda: 1)
    monkeypatch.setattr(numba_engine, "blas_threads", lambda: 2)
    net = Network((2, 16, 12, 1), activation=("relu", "tanh"), dtype="float32")
    assert all(numba_engine._with_blas(numba_engine._layout(net).layers, 1)[:, numba_engine.GEMM])
    monkeypatch.setattr(numba_engine, "CHUNK", 128)  # gradients added up over 3 passes
    assert_close(*both(net, net.init("he", rng=3), DATA.X_train, DATA.Y_train, TrainOptions(0.05, 200, 20)))


def test_divergence_is_reported_in_float32():
    params = np.stack([NET32.init("random", scale=1e3, rng=3), NET32.init("he", rng=3)])
    reference, compiled = both(NET32, params, DATA.X_train, DATA.Y_train, TrainOptions(1e30, 50, 3))
    for r, c in zip(reference, compiled):
        assert r.diverged and c.diverged and c.divergence.iteration == r.divergence.iteration


def test_exp32_within_two_ulp():
    """The float32 e^x (branch-free, the float32 sigmoid's) against float64's exp rounded to float32."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-20, 20, 20000), rng.uniform(-104, 89, 20000), np.linspace(-1, 1, 2001),
                        [0.0, -0.0, 1e-30, 88.7, 88.72, 88.73, 89.0, -87.3, -100.0, -103.9, -104.0, -110.0, 1e10, -1e10]]).astype(np.float32)
    got = np.array([numba_engine._exp32(v) for v in x], dtype=np.float32)
    with np.errstate(over="ignore"):
        want = np.exp(x.astype(np.float64)).astype(np.float32)
    normal = np.isfinite(want) & (want >= np.finfo(np.float32).tiny)
    ulps = np.abs(got[normal].astype(np.float64) - want[normal]) / np.spacing(want[normal]).astype(np.float64)
    assert ulps.max() <= 2.0
    small = np.isfinite(want) & ~normal  # subnormal results: within one subnormal step of them
    assert np.all(np.abs(got[small].astype(np.float64) - want[small]) <= 2 * np.finfo(np.float32).smallest_subnormal)
    np.testing.assert_array_equal(got[~np.isfinite(want)], want[~np.isfinite(want)])
    assert numba_engine._exp32(np.float32(np.inf)) == np.inf and numba_engine._exp32(np.float32(-np.inf)) == 0.0
    assert np.isnan(numba_engine._exp32(np.float32(np.nan)))


# --- float32 against float64 ---------------------------------------------------------------------
def test_the_notebooks_run_in_float32_stays_near_float64():
    """The stated distance (README, "float32"): the notebook's He run, 15000 iterations, float32 against
    float64 on the compiled engine — every recorded cost within 2e-5 of float64's, every parameter within
    1.2e-3, the same training and test accuracy."""
    options = TrainOptions(0.01, 15000, 1000)
    run32 = train(NET32, NET32.init("he", rng=3), DATA.X_train, DATA.Y_train, options, engine="numba")
    run64 = train(NET64, NET64.init("he", rng=3), DATA.X_train, DATA.Y_train, options, engine="numba")
    assert run32.params.dtype == np.float32 and run32.steps == 15000
    assert np.max(np.abs(run32.costs - run64.costs)) <= 2e-5
    assert np.max(np.abs(run32.params - run64.params)) <= 1.2e-3
    for X, Y in ((DATA.X_train, DATA.Y_train), (DATA.X_test, DATA.Y_test)):
        assert float(run32.accuracy(X, Y)) == float(run64.accuracy(X, Y))


def test_auto_trains_float32_with_the_compiled_engine_and_the_exact_one_refuses():
    options = TrainOptions(0.01, 10, 5)
    assert engines.get_engine("exact").supports(NET32, options) == "it computes in float64 only (the course's digits)"
    run = train(NET32, NET32.init("he", rng=3), DATA.X_train, DATA.Y_train, options)
    assert run.engine == "numba" and run.params.dtype == np.float32
    assert set(NETWORK_DTYPES) == {"float64", "float32"}


def test_compare_in_float32():
    c = compare_initializers(["zeros", "he"], iterations=300, record_every=100, dtype="float32")
    assert c.network.dtype == "float32" and all(r.run.engine == "numba" for r in c.results)
    assert "float32" in c.describe()
    back = Comparison.from_dict(json.loads(json.dumps(c.to_dict())))
    assert back.network.dtype == "float32"
    np.testing.assert_array_equal(back.results[1].run.params, c.results[1].run.params)


# --- sweeps and the command line -------------------------------------------------------------------
from test_sweep import BEFORE_AXES, BEFORE_IDS  # noqa: E402  (a spec and the ids its runs had before the newer axes)


def test_a_float64_run_keeps_its_id_and_a_float32_one_is_another_run():
    from initlab import sweep

    both_types = sweep.make_spec({**BEFORE_AXES, "grid": {**BEFORE_AXES["grid"], "dtype": ["float64", "float32"]}})
    runs = sweep.expand(both_types)
    assert [(r["id"], r["seed"]) for r in runs if r["dtype"] == "float64"] == BEFORE_IDS
    assert len(runs) == 4 and len({r["id"] for r in runs}) == 4
    assert len(sweep.chunks(runs, 50)) == 2  # a batch shares its dtype
    with pytest.raises(InitlabError, match=r"The 'dtype' parameter must be one of float64, float32\. Got 'float16' instead"):
        sweep.make_spec({**BEFORE_AXES, "grid": {**BEFORE_AXES["grid"], "dtype": ["float16"]}})


def test_a_float32_sweep_trains_and_stores_float32_runs(tmp_path):
    """The stored float32 run is the run trained alone in float32 (its seed comes from its id, as on
    every axis: not the float64 run's), and not the same run trained in float64."""
    from initlab import sweep

    spec = sweep.make_spec({"sweep": {"seeds": 1, "record_every": 50},
                            "grid": {"depth": [1], "width": [8], "iterations": [200], "dtype": ["float64", "float32"]}})
    sweep.run_sweep(spec, tmp_path / "s.db", engine="numba")
    frame = sweep.read_frame(tmp_path / "s.db").set_index("dtype")
    assert set(frame.index) == {"float64", "float32"}
    run = next(r for r in sweep.expand(spec) if r["dtype"] == "float32")
    alone = {}
    for dtype in ("float32", "float64"):
        net = Network((2, 8, 1), dtype=dtype)
        trained = train(net, sweep._initial_params(net, run, DATA.X_train), DATA.X_train, DATA.Y_train, sweep._options(run),
                        engine="numba")
        alone[dtype] = float(trained.cost(DATA.X_train, DATA.Y_train))
    stored = frame.loc["float32", "final_train_cost"]
    assert stored == pytest.approx(alone["float32"], rel=1e-6)
    assert 0 < abs(stored - alone["float64"]) < 1e-4  # trained in float32: near float64's, not equal


def test_the_command_line_takes_dtype(tmp_path, capsys):
    from initlab.cli import main

    assert main(["compare", "--init", "he", "--iterations", "200", "--dtype", "float32", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "float32" in out and json.loads((tmp_path / "results.json").read_text())["settings"]["dtype"] == "float32"
    assert main(["compare", "--dtype", "float16", "--out", str(tmp_path), "--quiet"]) == 2
    assert "The 'dtype' parameter must be one of float64, float32. Got 'float16' instead." in capsys.readouterr().err
    assert main(["sweep", "--set", "depth=1", "--set", "iterations=20", "--dtype", "float32", "--out", str(tmp_path / "s")]) == 0
    assert main(["sweep", "--set", "depth=1", "--set", "dtype=float64", "--dtype", "float32", "--out", str(tmp_path / "t")]) == 2
    assert "both set the dtype axis" in capsys.readouterr().err
