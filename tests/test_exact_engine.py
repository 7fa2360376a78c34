"""The exact engine: the notebook's printed digits, the same on every CPU (CI runs this file a
second time with NUMBA_CPU_NAME=generic: no FMA instructions, other vector widths)."""
import numpy as np
import pytest

from initlab import engines
from initlab.compare import compare
from initlab.data import circles
from initlab.engines import exact_engine
from initlab.network import Network
from initlab.train import TrainOptions, train, train_many
from notebook_values import ACCURACY, COSTS

DATA = circles()


@pytest.fixture(scope="module")
def notebook_runs():
    """The notebook's three runs at its settings, through compare (engine auto)."""
    return {r.name: r for r in compare(["zeros", "random", "he"], record_every=1000).results}


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
