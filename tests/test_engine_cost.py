"""What "auto" picks (engines.cost, engines.choose) and what a train() call costs besides training:
the estimate's choices on the sizes the benchmark grid measured, the reasons a Run records, and a
network's compiled layout built once."""
import numpy as np
import pytest

from initlab import Network, TrainOptions, train
from initlab.activations import ACTIVATIONS
from initlab.engines import choose, cost, numba_engine
from initlab.training import train_many

from test_numba_engine import cube  # noqa: F401 (a fixture: a user's activation, not compiled)

X = np.random.default_rng(0).standard_normal((2, 300))
Y = (X[:1] * X[1:] > 0).astype(float)


def deep(width, depth, activation="relu"):
    return Network((2,) + (width,) * depth + (1,), activation=activation)


# The choices bench/engine_grid.py measured on the 2-core Zen 5 VM the constants were fitted on
# (bench/README.md, "The engine grid"; numba / numpy time in the comments): where one engine was more
# than 10% faster, auto must pick it. This guards the constants against drift, at the fitted machine's
# rates (cost.REFERENCE: no calibration), 2 threads for the compiled engine and 2 for BLAS, whatever
# machine runs the test.
@pytest.mark.parametrize("network, models, faster", [
    (Network((2, 10, 5, 1)), 1, "numba"),  # the notebook's network: numba 16-19x faster
    (deep(8, 64), 1, "numba"),  # 0.07
    (deep(32, 8), 1, "numba"),  # 0.35
    (deep(32, 2), 100, "numba"),  # 0.14
    (deep(128, 8), 1, "numba"),  # 0.54
    (deep(128, 2), 10, "numba"),  # 0.56
    (deep(64, 30), 1, "numba"),  # 0.48
    (deep(256, 4, "sigmoid"), 1, "numba"),  # 0.72
])
def test_auto_picks_the_engine_the_grid_measured_faster(network, models, faster):
    options = TrainOptions(iterations=1000)
    assert cost.choose(network, options, 300, models, threads=2, blas_threads=2, machine=cost.REFERENCE)[0] == faster


@pytest.mark.parametrize("width", [512, 1024])
def test_one_wide_model_multiplies_on_blas_threads_in_both_engines(width):
    """One model of layers wider than _blas.SMALL: the compiled engine's products are BLAS's, on its
    threads, as numpy's are (measured 0.85-1.09x numpy's time, bench/README.md): the estimates agree
    to 10%; with BLAS on one thread the compiled engine is back on its kernels, on one core."""
    net, options = deep(width, 2), TrainOptions(iterations=100)
    one = cost.estimate(net, options, 300, 1, threads=2, blas_threads=2).seconds
    assert one["numba"] == pytest.approx(one["numpy"], rel=0.1)
    kernels = cost.estimate(net, options, 300, 1, threads=2, blas_threads=1).seconds  # BLAS limited to one thread
    assert kernels["numba"] > 1.5 * one["numba"]


# On the 2-core Zen 4 VM the constants were first fitted on, the compiled kernels ran at about 0.55 of
# this machine's rate (~30 GF/s against 55) and one BLAS thread a little faster (33-44 GF/s at width
# 128-256 in numpy's engine, against ~33 here): there a 128-wide network trained faster on numpy
# (numba / numpy 1.35 at depth 8, 1.46 at 256 × 4 sigmoid) and the small ones still on numba.
ZEN4 = cost.Machine(kernels=0.55 * cost.REFERENCE.kernels, blas=1.15 * cost.REFERENCE.blas)


@pytest.mark.parametrize("network, models, faster", [
    (Network((2, 10, 5, 1)), 1, "numba"), (deep(8, 64), 1, "numba"), (deep(32, 8), 1, "numba"), (deep(128, 2), 10, "numba"),
    (deep(128, 8), 1, "numpy"), (deep(256, 4, "sigmoid"), 1, "numpy"),
])
def test_measured_rates_move_the_choice(network, models, faster):
    assert cost.choose(network, TrainOptions(iterations=1000), 300, models, threads=2, blas_threads=2, machine=ZEN4)[0] == faster


def test_choose_measures_this_machine_only_when_the_fitted_estimate_is_close(monkeypatch):
    from initlab.engines import calibrate

    calls = []
    monkeypatch.setattr(calibrate, "measured", lambda: calls.append(1) or ZEN4)
    clear = cost.choose(Network((2, 10, 5, 1)), TrainOptions(iterations=15000), 300, 1, threads=2)
    assert clear[0] == "numba" and not calls and "measured" not in clear[1]
    short = cost.choose(deep(128, 8), TrainOptions(iterations=2), 300, 1, threads=2)  # a wrong pick costs less than measuring
    assert short[0] == "numba" and not calls
    pick, why = cost.choose(deep(128, 8), TrainOptions(iterations=1000), 300, 1, threads=2)
    assert calls and pick == "numpy" and why.endswith(ZEN4.describe() + ")")


def test_the_measured_rates_are_positive_and_measured_once():
    from initlab.engines import calibrate

    machine = calibrate.measured()
    assert all(np.isfinite(rate) and 1e8 < rate < 1e13 for rate in machine)  # flop/s of a CPU core: 0.1 GF/s .. 10 TF/s
    assert calibrate.measured() is machine


def test_a_blas_limit_in_force_counts():
    """numpy's wide products run on the BLAS threads a limit leaves (the papers run on one)."""
    from initlab._blas import one_blas_thread, threads

    net, options = deep(512, 2), TrainOptions(iterations=10)
    with one_blas_thread():
        assert threads() == 1
        limited = cost.choose(net, options, 300, 3, threads=2)[1]
    assert "BLAS on 1" in limited
    two = cost.estimate(net, options, 300, 3, threads=2, blas_threads=2).seconds["numpy"]
    one = cost.estimate(net, options, 300, 3, threads=2, blas_threads=1).seconds["numpy"]
    assert one > 1.5 * two  # the wide layers' products on one thread instead of two
    assert "BLAS" not in cost.choose(deep(64, 2), options, 300, 1, threads=2)[1]  # narrow: numpy runs one thread anyway


def test_the_estimate_moves_the_right_way():
    options = TrainOptions(iterations=100)
    ratio = lambda net, b=1, t=2: (lambda s: s["numba"] / s["numpy"])(cost.estimate(net, options, 300, b, t).seconds)  # noqa: E731
    widths = [ratio(deep(w, 4)) for w in (8, 32, 128, 512, 1024)]
    assert widths == sorted(widths)  # wider layers favour numpy's BLAS
    models = [ratio(deep(64, 4), b) for b in (1, 2, 10)]
    assert models[0] > models[1] == models[2]  # more models favour the compiled engine, up to the threads
    assert ratio(deep(64, 4), 10, 1) == pytest.approx(models[0], rel=1e-12)  # on one thread models gain nothing
    assert ratio(deep(512, 2), 1, 1) < ratio(deep(512, 2), 1, 2)  # numpy's BLAS threads on wide layers
    small = cost.estimate(deep(256, 2), TrainOptions(iterations=10, batch_size=30), 300, 1, 2).seconds["numpy"]
    assert small < cost.estimate(deep(256, 2), TrainOptions(iterations=10), 300, 1, 2).seconds["numpy"]


def test_every_costed_activation_is_registered():
    for constants in cost.CONSTANTS.values():
        assert set(constants.activation) <= set(ACTIVATIONS)
    assert set(cost.NUMPY.activation) == set(cost.NUMBA.activation)


# --- choose: what decided, in words ------------------------------------------------------------
def test_choose_says_why(monkeypatch):
    monkeypatch.delenv("INITLAB_ENGINE", raising=False)
    net, options = deep(16, 2), TrainOptions()
    module, why = choose("numpy", net, options, 300, 1)
    assert module.NAME == "numpy" and why == "asked for"
    module, why = choose("auto", net, options, 300, 1)
    assert module.NAME == "numba" and why.startswith("auto: estimated ") and "on the numpy engine (1 model, " in why
    monkeypatch.setenv("INITLAB_ENGINE", "numpy")
    assert choose("auto", deep(16, 2), options, 300, 1) == (choose("numpy", net, options)[0], "INITLAB_ENGINE")


def test_without_numba_auto_says_so(monkeypatch):
    import initlab.engines as engines
    from initlab._validation import InitlabError

    real = engines.get_engine

    def missing(name):
        if name != "numpy":
            raise InitlabError(f"The '{name}' engine is not available here")
        return real(name)

    monkeypatch.delenv("INITLAB_ENGINE", raising=False)
    monkeypatch.setattr(engines, "get_engine", missing)
    module, why = choose("auto", deep(16, 2), TrainOptions(), 300, 1)
    assert module.NAME == "numpy" and why == "auto: numba is not installed"


def test_the_notebook_paths_say_auto_chose_the_exact_engine(monkeypatch):
    from initlab.compare import compare_initializers
    from initlab.engines import NOTEBOOK

    monkeypatch.delenv("INITLAB_ENGINE", raising=False)
    auto = compare_initializers(("he",), iterations=20, record_every=10)
    assert auto.results[0].run.engine == "exact" and auto.results[0].run.engine_reason == NOTEBOOK
    asked = compare_initializers(("he",), iterations=20, record_every=10, engine="exact")
    assert asked.results[0].run.engine_reason == "asked for"


def test_auto_trains_a_wide_model_on_numpy_and_the_run_says_why(monkeypatch):
    monkeypatch.delenv("INITLAB_ENGINE", raising=False)
    net = deep(1024, 1)
    run = train(net, net.init("he_normal", rng=0), X, Y, TrainOptions(1e-3, 2, 1))
    assert run.engine == "numpy" and run.engine_reason.startswith("auto: estimated ")
    assert "against" in run.engine_reason and "on the numba engine" in run.engine_reason
    assert "auto: estimated" in run.report_section()
    small = Network((2, 10, 5, 1))
    runs = train_many(small, np.stack([small.init("he", rng=s) for s in range(3)]), X, Y, TrainOptions(0.01, 5, 1))
    assert {r.engine for r in runs} == {"numba"} and "(3 models, " in runs[0].engine_reason


def test_auto_falls_back_to_numpy_for_what_is_not_compiled(monkeypatch, cube):
    monkeypatch.delenv("INITLAB_ENGINE", raising=False)
    net = Network((2, 4, 1), activation="cube")
    module, why = choose("auto", net, TrainOptions(), 300, 1)
    assert module.NAME == "numpy" and why == "auto: the numba engine does not support this run (activation 'cube' is not compiled)"


# --- validation once -------------------------------------------------------------------------------
def test_a_networks_compiled_layout_is_built_once(monkeypatch):
    net = deep(8, 3, "leaky_relu")
    calls = []
    inner = numba_engine._activation_code
    monkeypatch.setattr(numba_engine, "_activation_code", lambda spec: calls.append(spec) or inner(spec))
    numba_engine._layout_of.cache_clear()
    params = net.init("he_normal", rng=1)
    first = train(net, params, X, Y, TrainOptions(0.01, 3, 1), engine="numba")
    assert len(calls) == 3  # once per hidden layer, for the first call
    again = train(net, params, X, Y, TrainOptions(0.01, 3, 1), engine="numba")
    assert len(calls) == 3 and np.array_equal(first.params, again.params)
    assert numba_engine._layout(net) is numba_engine._layout(Network(net.sizes, activation="leaky_relu"))  # equal specs, one entry
