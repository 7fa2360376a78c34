"""The experimenter's training API (issue 18): bias-free layers, a bias law by name, a target-loss
stopping rule, per-epoch recording with the final point and accuracy curves, minibatch orders from a
caller's Generator. Each against an independent statement (a step by hand, a finite difference, a
run without the feature) and, where an engine computes it, on both engines."""
import pickle

import numpy as np
import pytest
from scipy import stats

from initlab import Network, TrainOptions, train
from initlab._validation import InitlabError
from initlab.engines import for_notebook, get_engine
from initlab.initializers import get_initializer
from initlab.training import train_many

from test_network import numeric_gradient

ENGINES = ("numpy", "numba")
DATA_RNG = np.random.default_rng(11)
X = DATA_RNG.standard_normal((3, 40))
Y_BIN = (X[0] * X[1] + 0.3 * X[2] > 0).astype(float)[None, :]
Y_REAL = np.stack([X[0] - 0.5 * X[2], X[1] * 0.25])  # (2, 40): a linear target


# --- bias-free layers ------------------------------------------------------------------------------
def test_bias_free_layout_has_no_biases():
    net = Network((3, 4, 2, 1), bias=(False, True, False))
    assert net.n_params == 4 * 3 + 2 * 4 + 2 + 1 * 2
    assert [s.has_bias for s in net.slots] == [False, True, False]
    assert Network((3, 4, 1), bias=False).n_params == 16 and Network((3, 4, 1)).n_params == 21
    (W1, b1), (W2, b2), (W3, b3) = net.unpack(np.arange(net.n_params, dtype=float))
    assert W2.ravel().tolist() == list(range(12, 20)) and b2.ravel().tolist() == [20.0, 21.0]
    assert not b1.any() and b1.shape == (4, 1) and not b1.flags.writeable  # no bias: read-only zeros
    with pytest.raises(ValueError):
        b1[...] = 1.0


def test_bias_free_network_is_plain_data():
    net = Network((3, 4, 1), bias=(True, False))
    assert Network.from_json(net.to_json()) == net and pickle.loads(pickle.dumps(net)) == net
    assert net.to_json()["bias"] == [True, False]
    assert "bias" not in Network((3, 4, 1)).to_json()  # what every earlier network wrote: stored ids stay
    assert net != Network((3, 4, 1)) and hash(net) != hash(Network((3, 4, 1)))


@pytest.mark.parametrize("bias", [1, "no", (True,), (True, False, True), None])
def test_bias_flags_are_checked(bias):
    with pytest.raises(InitlabError, match=r"^The 'bias' parameter must be True, False or 2 bools"):
        Network((3, 4, 1), bias=bias)


def test_bias_free_forward_is_the_products_alone():
    net = Network((3, 5, 2), activation="tanh", loss="mean_squared_error", bias=False)
    params = net.init("he_normal", rng=0)
    (W1, _), (W2, _) = net.unpack(params)
    np.testing.assert_array_equal(net.forward(params, X)[0], W2 @ np.tanh(W1 @ X))


@pytest.mark.parametrize("bias", [False, (False, True, False), (True, False, True)])
def test_bias_free_gradient_matches_finite_differences(bias):
    net = Network((3, 5, 4, 1), activation=("tanh", "elu"), bias=bias)
    params = net.init("xavier_normal", rng=2, bias=0.1)
    ZL, cache = net.forward(params, X)
    np.testing.assert_allclose(net.backward(params, cache, Y_BIN).grad, numeric_gradient(net, params, X, Y_BIN),
                               rtol=1e-5, atol=1e-9)


def _deep_linear_gradient(W1, W2, X, Y):
    """0.5·mean‖W2 W1 X − Y‖² (summed over outputs): the gradients written out by hand."""
    m = X.shape[1]
    H = W1 @ X
    D = (W2 @ H - Y) / m  # dCost/dZ_2
    return (W2.T @ D) @ X.T, D @ H.T


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_a_bias_free_step_by_hand(engine, optimizer):
    """One update of a deep linear network without biases (Saxe et al.'s setting), stated by hand:
    gd and momentum's first step are p − lr·g, Adam's first is p − lr·g/(|g| + ε) (bias-corrected)."""
    net = Network((3, 6, 2), activation="linear", loss="mean_squared_error", bias=False)
    params = net.init("orthogonal", rng=5)
    (W1, _), (W2, _) = net.unpack(params)
    g1, g2 = _deep_linear_gradient(W1, W2, X, Y_REAL)
    g = np.concatenate([g1.ravel(), g2.ravel()])
    lr = 0.05
    expected = params - lr * (g / (np.abs(g) + 1e-8) if optimizer == "adam" else g)
    run = train(net, params, X, Y_REAL, TrainOptions(lr, 1, 1, optimizer), engine=engine)
    assert run.params.shape == (30,)  # W_1 (6, 3), W_2 (2, 6)
    np.testing.assert_allclose(run.params, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("options", [
    TrainOptions(0.05, 300, 50, "adam", batch_size=8, seed=3),
    TrainOptions(0.2, 300, 50, "momentum"),
])
def test_bias_free_engines_agree(options):
    net = Network((3, 8, 8, 1), activation=("tanh", "relu"), bias=(False, True, False), parametrization="mup")
    params = net.init("he_normal", rng=1, bias=0.05)
    a, b = (train(net, params, X, Y_BIN, options, engine=e) for e in ENGINES)
    np.testing.assert_allclose(b.params, a.params, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(b.costs, a.costs, rtol=1e-12)


def test_the_exact_engine_leaves_bias_free_networks_to_the_others():
    net, options = Network((2, 10, 5, 1), bias=False), TrainOptions(iterations=10)
    assert "bias" in get_engine("exact").supports(net, options)
    assert for_notebook("auto", net, options) == "auto"
    with pytest.raises(InitlabError, match="every layer must have a bias"):
        train(net, net.init("he", rng=3), X[:2], Y_BIN, options, engine="exact")


def test_bias_free_layers_draw_nothing():
    """The stream is W_1, b_1, W_2, … over the layers that have biases."""
    net = Network((3, 4, 2), loss="mean_squared_error", bias=(False, True))
    got = net.init("he_normal", rng=np.random.default_rng(9), bias="normal(std=0.2)")
    rng = np.random.default_rng(9)
    he, normal = get_initializer("he_normal"), get_initializer("normal", std=0.2)
    W1, W2 = he((4, 3), rng), he((2, 4), rng)
    np.testing.assert_array_equal(got, np.concatenate([W1.ravel(), W2.ravel(), normal((2, 1), rng).ravel()]))


# --- a bias law by name ----------------------------------------------------------------------------
def test_bias_law_by_name_draws_its_distribution():
    net = Network((2, 4000, 1))
    b = net.unpack(net.init("he_normal", rng=4, bias="normal(std=0.2)"))[0][1].ravel()
    assert stats.kstest(b / 0.2, "norm").pvalue > 1e-3
    assert abs(b.var() / 0.04 - 1) < 5 * np.sqrt(2 / b.size)
    uniform = net.unpack(net.init("he_normal", rng=4, bias="uniform(low=-0.5, high=0.5)"))[0][1]
    assert -0.5 <= uniform.min() and uniform.max() < 0.5 and stats.kstest(uniform.ravel() + 0.5, "uniform").pvalue > 1e-3
    constant = Network((2, 3, 1)).init("he_normal", rng=4, bias="constant(value=0.1)")
    assert constant[6:9].tolist() == [0.1, 0.1, 0.1]


@pytest.mark.parametrize("bias, says", [("lsuv", "a data-independent initializer"), ("0.1", "Unknown initializer"),
                                        ("normal(sd=1)", "Did you mean 'std'")])
def test_bias_law_errors_name_the_bias(bias, says):
    with pytest.raises(InitlabError, match=r"^The 'bias' parameter must be .*" + says):
        Network((2, 3, 1)).init("he_normal", rng=0, bias=bias)


# --- a target loss ---------------------------------------------------------------------------------
def _first_below(costs, target):
    hits = np.flatnonzero(np.asarray(costs) <= target)
    return int(hits[0]) if hits.size else None


@pytest.mark.parametrize("engine", ENGINES)
def test_target_on_the_training_set_stops_where_the_costs_first_reach_it(engine):
    net = Network((3, 8, 1), activation="tanh")
    params = net.init("xavier_normal", rng=0)
    free = train(net, params, X, Y_BIN, TrainOptions(0.5, 400, 1), engine="numpy")  # every cost, no target
    target = float(np.quantile(free.costs, 0.4))
    k = _first_below(free.costs, target)
    assert 0 < k < 399 and free.costs[k - 1] - target > 1e-9  # far from a tie
    run = train(net, params, X, Y_BIN, TrainOptions(0.5, 400, 100, target_loss=target), engine=engine)
    assert run.reached.iteration == k and run.steps == k and run.reached.on == "train"
    assert run.reached.cost == pytest.approx(free.costs[k], rel=1e-12) and run.reached.cost <= target
    assert run.status == f"reached the target loss {target:g} at iteration {k} (cost {run.reached.cost:.6g} on the training set)"
    stopped_there = train(net, params, X, Y_BIN, TrainOptions(0.5, k, 100), engine="numpy")
    np.testing.assert_allclose(run.params, stopped_there.params, rtol=1e-12)
    assert run.iterations.tolist() == [i for i in range(0, k + 1, 100)]  # the costs recorded up to the stop


@pytest.mark.parametrize("engine", ENGINES)
def test_target_on_the_minibatch(engine):
    """The batch's own cost before its update, stated from the batch the order gives."""
    net = Network((3, 8, 1), activation="relu")
    params = net.init("he_normal", rng=1)
    options = TrainOptions(0.3, 200, 1000, batch_size=8, seed=4)
    orders = np.stack([np.random.default_rng(4).permutation(40) for _ in range(40)][:1])  # epoch 0 by hand
    rng = np.random.default_rng(4)
    orders = np.stack([rng.permutation(40) for _ in range(40)])  # 5 batches an epoch, 40 epochs

    def batch_cost(i):
        before = train(net, params, X, Y_BIN, TrainOptions(0.3, i, 1000, batch_size=8, seed=4), engine="numpy").params
        idx = orders[i // 5, (i % 5) * 8:(i % 5 + 1) * 8]
        return float(net.cost(before, X[:, idx], Y_BIN[:, idx]))

    costs = [batch_cost(i) for i in range(60)]
    target = float(np.quantile(costs, 0.15))
    k = _first_below(costs, target)
    assert k > 0 and min(costs[:k]) - target > 1e-9
    run = train(net, params, X, Y_BIN, TrainOptions(0.3, 200, 1000, batch_size=8, seed=4, target_loss=target,
                                                     target_on="batch"), engine=engine)
    assert (run.reached.iteration, run.steps, run.reached.on) == (k, k, "batch")
    assert run.reached.cost == pytest.approx(costs[k], rel=1e-12)
    assert "on the minibatch" in run.status


@pytest.mark.parametrize("engine", ENGINES)
def test_target_never_reached_or_reached_at_once(engine):
    net = Network((3, 8, 1))
    params = net.init("he_normal", rng=2)
    never = train(net, params, X, Y_BIN, TrainOptions(0.1, 50, 10, target_loss=-1.0), engine=engine)
    assert never.reached is None and never.status == "finished" and never.steps == 50
    at_once = train(net, params, X, Y_BIN, TrainOptions(0.1, 50, 10, target_loss=1e9, batch_size=8, target_on="batch"),
                    engine=engine)
    assert at_once.reached.iteration == 0 and at_once.steps == 0
    np.testing.assert_array_equal(at_once.params, params)


def test_a_divergence_is_not_a_target_reached():
    net = Network((3, 8, 1))
    run = train(net, net.init("he_normal", rng=2) * 1e3, X, Y_BIN, TrainOptions(1e300, 20, 1, target_loss=1e-3))
    assert run.diverged and run.reached is None and run.status.startswith("diverged at iteration")


# --- recording: epochs, the final point, accuracy and held-out data ---------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_record_every_epoch(engine):
    net = Network((3, 8, 1))
    run = train(net, net.init("he_normal", rng=3), X, Y_BIN,
                TrainOptions(0.1, 47, 2, batch_size=16, record_unit="epochs"), engine=engine)  # 3 batches an epoch
    assert run.iterations.tolist() == [0, 6, 12, 18, 24, 30, 36, 42]
    assert run.history["iteration"].tolist() == [0, 6, 12, 18, 24, 30, 36, 42, 47]
    np.testing.assert_allclose(run.history["epoch"], np.array([0, 6, 12, 18, 24, 30, 36, 42, 47]) / 3)


@pytest.mark.parametrize("engine", ENGINES)
def test_history_has_the_final_point_and_the_accuracies(engine):
    net = Network((3, 8, 1), activation="tanh")
    params = net.init("xavier_normal", rng=4)
    Xv, Yv = X[:, ::-1] * 0.9, Y_BIN[:, ::-1]
    options = TrainOptions(0.5, 45, 20, record_accuracy=True)
    run = train(net, params, X, Y_BIN, options, engine=engine, validation=(Xv, Yv))
    h = run.history
    assert h["iteration"].tolist() == [0, 20, 40, 45] and sorted(h) == ["accuracy", "cost", "epoch", "iteration",
                                                                      "val_accuracy", "val_cost"]
    for point, i in enumerate(h["iteration"]):
        at = train(net, params, X, Y_BIN, TrainOptions(0.5, int(i), 20), engine="numpy").params  # the state after i updates
        assert h["cost"][point] == pytest.approx(float(net.cost(at, X, Y_BIN)), rel=1e-12)
        assert h["accuracy"][point] == float(np.mean(net.predict(at, X) == Y_BIN))
        assert h["val_cost"][point] == pytest.approx(float(net.cost(at, Xv, Yv)), rel=1e-12)
        assert h["val_accuracy"][point] == float(np.mean(net.predict(at, Xv) == Yv))
    frame = run.to_frame()
    assert list(frame.columns) == ["iteration", "epoch", "cost", "accuracy", "val_cost", "val_accuracy"] and len(frame) == 4
    assert "Learning curves of run" in run.report_section()  # the report draws what was recorded
    assert "Learning curves" not in train(net, params, X, Y_BIN, TrainOptions(0.5, 45, 20), engine=engine).report_section()


def test_history_does_not_repeat_a_final_point_already_recorded():
    net = Network((3, 8, 1))
    params = net.init("he_normal", rng=4)
    run = train(net, params, X, Y_BIN, TrainOptions(0.1, 40, 20, target_loss=1e9))  # stops before the first update
    assert run.history["iteration"].tolist() == [0] and run.history["cost"].tolist() == run.costs.tolist()
    plain = train(net, params, X, Y_BIN, TrainOptions(0.1, 40, 20))
    assert sorted(plain.history) == ["cost", "epoch", "iteration"] and plain.history["iteration"].tolist() == [0, 20, 40]


def test_recording_errors():
    net = Network((3, 8, 2), loss="mean_squared_error")
    with pytest.raises(InitlabError, match="^The 'record_accuracy' option needs a loss that predicts classes"):
        train(net, net.init("he", rng=0), X, Y_REAL, TrainOptions(iterations=2, record_accuracy=True))
    with pytest.raises(InitlabError, match=r"^The 'validation' parameter must be a pair \(X, Y\)"):
        train(net, net.init("he", rng=0), X, Y_REAL, TrainOptions(iterations=2), validation=X)
    with pytest.raises(InitlabError, match="^In the 'validation' data: The 'X' parameter"):
        train(net, net.init("he", rng=0), X, Y_REAL, TrainOptions(iterations=2), validation=(X[:2], Y_REAL))


# --- minibatch orders from the caller's generator ----------------------------------------------------
def test_a_generator_gives_the_minibatch_order_draw_for_draw():
    net = Network((3, 8, 1))
    options = TrainOptions(0.1, 23, 5, batch_size=16, seed=0)  # 3 batches an epoch: 8 epochs drawn
    seeded = train(net, net.init("he", rng=0), X, Y_BIN, TrainOptions(0.1, 23, 5, batch_size=16, seed=77))
    rng = np.random.default_rng(77)
    given = train(net, net.init("he", rng=0), X, Y_BIN, options, rng=rng)
    np.testing.assert_array_equal(given.params, seeded.params)  # default_rng(77) is the stream seed=77 names
    replay = np.random.default_rng(77)
    for _ in range(8):
        replay.permutation(40)
    assert rng.random() == replay.random()  # exactly 8 permutations were drawn from it
    other = train(net, net.init("he", rng=0), X, Y_BIN, options, rng=np.random.default_rng(78))
    assert not np.array_equal(other.params, given.params)


def test_one_generator_for_the_weights_and_the_order():
    def experiment(seed, engine):
        rng = np.random.default_rng(seed)
        net = Network((3, 8, 1))
        return train(net, net.init("he", rng=rng), X, Y_BIN, TrainOptions(0.1, 30, 10, "adam", batch_size=8), rng=rng,
                     engine=engine)

    a, b = experiment(5, "numpy"), experiment(5, "numpy")
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_allclose(experiment(5, "numba").params, a.params, rtol=1e-11, atol=1e-14)
    assert not np.array_equal(experiment(6, "numpy").params, a.params)


def test_a_randomstate_works_and_an_int_does_not():
    net = Network((3, 8, 1))
    options = TrainOptions(0.1, 12, 5, batch_size=16)
    a = train(net, net.init("he", rng=0), X, Y_BIN, options, rng=np.random.RandomState(3))
    b = train(net, net.init("he", rng=0), X, Y_BIN, options, rng=np.random.RandomState(3))
    np.testing.assert_array_equal(a.params, b.params)
    with pytest.raises(InitlabError, match=r"^The 'rng' parameter must be a numpy Generator, a RandomState or None"):
        train(net, net.init("he", rng=0), X, Y_BIN, options, rng=3)


def test_train_many_shares_one_order():
    net = Network((3, 8, 1))
    P = np.stack([net.init("he", rng=s) for s in range(3)])
    runs = train_many(net, P, X, Y_BIN, TrainOptions(0.1, 12, 5, batch_size=16), rng=np.random.default_rng(1))
    for p, run in zip(P, runs):
        alone = train(net, p, X, Y_BIN, TrainOptions(0.1, 12, 5, batch_size=16), rng=np.random.default_rng(1))
        np.testing.assert_array_equal(run.params, alone.params)
