import re

import numpy as np
import pytest

from initlab._validation import InitlabError
from initlab.data import circles
from initlab.network import Network
from initlab.training import TrainOptions, train

DATA = circles()
NET = Network((2, 10, 5, 1))


def test_history_records_cost_before_each_recorded_update():
    params = NET.init("he", rng=3)
    seen = []
    run = train(NET, params, DATA.X_train, DATA.Y_train, TrainOptions(0.01, 250, 100), lambda i, c, p: seen.append((i, c)))
    assert run.iterations.tolist() == [0, 100, 200] and run.steps == 250
    assert run.costs[0] == pytest.approx(NET.cost(params, DATA.X_train, DATA.Y_train), rel=1e-15)
    assert seen == list(zip(run.iterations.tolist(), run.costs.tolist()))
    np.testing.assert_array_equal(run.initial_params, params)  # the caller's vector is untouched
    assert not np.array_equal(run.params, params)


def test_one_step_is_gradient_descent():
    params = NET.init("he", rng=3)
    run = train(NET, params, DATA.X_train, DATA.Y_train, TrainOptions(0.5, 1, 1), engine="numpy")
    _, cache = NET.forward(params, DATA.X_train)
    np.testing.assert_array_equal(run.params, params - 0.5 * NET.backward(params, cache, DATA.Y_train).grad)


def test_zero_iterations():
    run = train(NET, NET.init("he", rng=3), DATA.X_train, DATA.Y_train, TrainOptions(iterations=0))
    assert run.steps == 0 and run.costs.size == 0 and not run.diverged


def test_huge_finite_cost_is_not_divergence():
    run = train(NET, NET.init("random", rng=3), DATA.X_train, DATA.Y_train, TrainOptions(0.01, 10, 1))
    assert run.costs[0] > 100 and np.isfinite(run.costs[0]) and not run.diverged


def test_divergence_stops_and_names_the_iteration():
    run = train(NET, NET.init("random", scale=1e3, rng=3), DATA.X_train, DATA.Y_train, TrainOptions(1e300, 100, 1))
    assert run.diverged and run.steps == run.divergence.iteration < 100
    assert re.match(rf"diverged at iteration {run.divergence.iteration}: the (cost is nan|parameters contain inf)", str(run.divergence))
    assert np.isfinite(run.params).all()  # the last finite parameters are kept


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"learning_rate": 0}, "The 'learning_rate' parameter must be a finite float > 0"),
        ({"learning_rate": float("inf")}, "The 'learning_rate' parameter must be a finite float > 0"),
        ({"learning_rate": -1}, "The 'learning_rate' parameter must be a finite float > 0"),
        ({"iterations": -1}, "The 'iterations' parameter must be an int >= 0"),
        ({"record_every": 0}, "The 'record_every' parameter must be an int >= 1"),
        ({"seed": -1}, r"The 'seed' parameter must be an int in \[0, 2\*\*63\)\. Got -1 instead\."),
        ({"seed": 2**63}, r"The 'seed' parameter must be an int in \[0, 2\*\*63\)"),
        ({"seed": 1.5}, r"The 'seed' parameter must be an int in \[0, 2\*\*63\)"),
        ({"seed": "3"}, r"The 'seed' parameter must be an int in \[0, 2\*\*63\)"),
        ({"seed": None}, r"The 'seed' parameter must be an int in \[0, 2\*\*63\)"),
        ({"seed": True}, r"The 'seed' parameter must be an int in \[0, 2\*\*63\)"),
        ({"iterations": 10**18}, r"The 'iterations' and 'record_every' parameters must record at most 100,000,000 costs.*"
                                 r"1,000,000,000,000,000 costs, 8 PB of memory"),
        ({"iterations": 10**8 + 1, "record_every": 1}, "'iterations' and 'record_every' parameters must record at most"),
    ],
)
def test_bad_options(kwargs, match):
    with pytest.raises(InitlabError, match=match):
        TrainOptions(**kwargs)


def test_bad_data():
    p = NET.init("he", rng=3)
    with pytest.raises(InitlabError, match="same number of examples"):
        train(NET, p, DATA.X_train, DATA.Y_train[:, :10])
    with pytest.raises(InitlabError, match="must have 2 rows|with 2 rows"):
        train(NET, p, DATA.X_train[:1], DATA.Y_train)
    with pytest.raises(InitlabError, match="labels 0 or 1"):
        train(NET, p, DATA.X_train, DATA.Y_train * 2)


def test_seed_accepts_numpy_ints_and_the_largest_value():
    assert TrainOptions(seed=np.int64(7)).seed == 7 and type(TrainOptions(seed=np.int64(7)).seed) is int
    assert TrainOptions(seed=2**63 - 1).seed == 2**63 - 1
    assert TrainOptions(iterations=10**8, record_every=1).iterations == 10**8  # exactly the bound


def test_histories_of_a_batch_are_bounded_before_training():
    from initlab.training import train_many

    params = np.stack([NET.init("he", rng=s) for s in range(2)])
    with pytest.raises(InitlabError, match=r"for each of 2 runs, 1.2 GB of memory"):
        train_many(NET, params, DATA.X_train, DATA.Y_train, TrainOptions(iterations=75_000_000, record_every=1))


def test_minibatch_orders_are_bounded_before_training():
    with pytest.raises(InitlabError, match=r"'iterations' and 'batch_size' parameters must need at most 100,000,000"):
        train(NET, NET.init("he", rng=3), DATA.X_train, DATA.Y_train,
              TrainOptions(iterations=10**9, record_every=10**6, batch_size=1))


def test_network_and_options_are_checked():
    p = NET.init("he", rng=3)
    with pytest.raises(InitlabError, match=r"The 'network' parameter must be an initlab Network\. Got a NoneType instead\."):
        train(None, p, DATA.X_train, DATA.Y_train)
    with pytest.raises(InitlabError, match=r"The 'options' parameter must be a TrainOptions\. Got a NoneType instead\."):
        train(NET, p, DATA.X_train, DATA.Y_train, options=None)
    with pytest.raises(InitlabError, match=r"The 'options' parameter must be a TrainOptions\. Got a dict instead\."):
        train(NET, p, DATA.X_train, DATA.Y_train, {"iterations": 3})
    with pytest.raises(InitlabError, match=r"The 'callback' parameter must be a callable or None"):
        train(NET, p, DATA.X_train, DATA.Y_train, TrainOptions(iterations=3), callback=5)
