import re

import numpy as np
import pytest

from initlab._validation import InitlabError
from initlab.data import circles
from initlab.network import Network
from initlab.train import TrainOptions, train

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
