"""Every engine against the numpy reference, from one table of records written by hand.

RECORDS says, for every entry of the activation, loss, optimizer and branch-scheme registries and every compiled
engine, whether that engine compiles a run using it or refuses it (and the reason it gives). The
table is not computed from the code under test: an entry that stops compiling fails its record,
a new registry entry without a record fails ``test_every_registry_entry_has_a_record``, and each
engine is named explicitly (``INITLAB_ENGINE`` only stands in for "auto", so it changes nothing
here). A compiled record is trained by the engine and by numpy and must match. The engines' own
behaviour (the notebook's digits, divergence messages, chunks, the saturated corner) is tested in
test_numba_engine.py and test_exact_engine.py.
"""
import re

import numpy as np
import pytest

pytest.importorskip("numba")

from initlab._validation import InitlabError  # noqa: E402
from initlab.activations import ACTIVATIONS  # noqa: E402
from initlab.branches import BRANCHES  # noqa: E402
from initlab.data import circles  # noqa: E402
from initlab.engines import ENGINES, get_engine  # noqa: E402
from initlab.losses import LOSSES  # noqa: E402
from initlab.network import Network, residual_network  # noqa: E402
from initlab.optim import OPTIMIZERS  # noqa: E402
from initlab.training import TrainOptions, train, train_many  # noqa: E402

DATA = circles()
COMPILED = "compiled"
NOT_RELU = "its hidden layers must all be ReLU (the course's network)"
NOT_BCE = "it needs one sigmoid output with binary cross-entropy (the course's loss)"
NOT_GD = "it trains by full-batch gradient descent only (the course's)"
NOT_PLAIN = "it trains plain networks only (the course's), no residual blocks"

# (registry, key) -> {engine: "compiled" or the reason its `supports` gives}. Each record varies one
# entry around the course's network (ReLU hidden layers, sigmoid + binary cross-entropy, plain gd).
RECORDS = {
    ("activation", "linear"): {"numba": COMPILED, "exact": NOT_RELU},
    ("activation", "relu"): {"numba": COMPILED, "exact": COMPILED},
    ("activation", "leaky_relu"): {"numba": COMPILED, "exact": NOT_RELU},
    ("activation", "elu"): {"numba": COMPILED, "exact": NOT_RELU},
    ("activation", "selu"): {"numba": COMPILED, "exact": NOT_RELU},
    ("activation", "gelu"): {"numba": COMPILED, "exact": NOT_RELU},
    ("activation", "tanh"): {"numba": COMPILED, "exact": NOT_RELU},
    ("activation", "sigmoid"): {"numba": COMPILED, "exact": NOT_RELU},
    ("activation", "softplus"): {"numba": COMPILED, "exact": NOT_RELU},
    ("activation", "swish"): {"numba": COMPILED, "exact": NOT_RELU},
    ("activation", "silu"): {"numba": COMPILED, "exact": NOT_RELU},
    ("loss", "binary_cross_entropy"): {"numba": COMPILED, "exact": COMPILED},
    ("loss", "bce"): {"numba": COMPILED, "exact": COMPILED},
    ("loss", "cross_entropy"): {"numba": COMPILED, "exact": NOT_BCE},
    ("loss", "mean_squared_error"): {"numba": COMPILED, "exact": NOT_BCE},
    ("loss", "mse"): {"numba": COMPILED, "exact": NOT_BCE},
    ("optimizer", "gd"): {"numba": COMPILED, "exact": COMPILED},
    ("optimizer", "sgd"): {"numba": COMPILED, "exact": COMPILED},
    ("optimizer", "momentum"): {"numba": COMPILED, "exact": NOT_GD},
    ("optimizer", "adam"): {"numba": COMPILED, "exact": NOT_GD},
    ("branch", "standard"): {"numba": COMPILED, "exact": NOT_PLAIN},
    ("branch", "fixup"): {"numba": COMPILED, "exact": NOT_PLAIN},
    ("branch", "skipinit"): {"numba": COMPILED, "exact": NOT_PLAIN},
    ("branch", "rezero"): {"numba": COMPILED, "exact": NOT_PLAIN},
    ("branch", "depth_mup"): {"numba": COMPILED, "exact": NOT_PLAIN},
    ("branch", "completep"): {"numba": COMPILED, "exact": NOT_PLAIN},
}
REGISTRIES = {"activation": ACTIVATIONS, "loss": LOSSES, "optimizer": OPTIMIZERS, "branch": BRANCHES}
COMPILED_ENGINES = sorted(set(ENGINES) - {"numpy"})

# How far a compiled engine may differ from numpy, set by its order of operations:
# - numba sums over examples in SIMD partial sums (their number depends on the vector width) where
#   BLAS sums in its own order: each sum of m terms differs by up to ~m·u relative (3e-14 at
#   m = 300), which a stable run of a few hundred steps carries to well under 1e-10 on any CPU;
# - exact keeps numpy's pairwise sums but not BLAS's blocking of the products: 1e-11 (as
#   test_exact_engine.py's stable run). A wrong formula misses either by far more.
RTOL = {"numba": 1e-10, "exact": 1e-11}


def case(registry, key):
    """(network, options, X, Y) of the run that the record (registry, key) describes."""
    X, Y, activation, loss, optimizer = DATA.X_train, DATA.Y_train, "relu", "binary_cross_entropy", "gd"
    if registry == "activation":
        activation = key
    elif registry == "loss":
        loss = key
        if LOSSES[key] is LOSSES["cross_entropy"]:
            Y = np.vstack([Y, 1 - Y])  # one-hot, two classes
        elif LOSSES[key] is LOSSES["mean_squared_error"]:
            Y = np.vstack([np.sin(X[0]), np.cos(X[1])])
    elif registry == "optimizer":
        optimizer = key
    if registry == "branch":  # 3 blocks (2 → 8, 8 → 6 → 8 ×3, 8 → 1)
        network = residual_network(2, 8, 3, Y.shape[0], residual=key, hidden=6)
    else:
        network = Network((2, 8, 6, Y.shape[0]), activation=activation, loss=loss)
    return network, TrainOptions(0.02, 300, 50, optimizer=optimizer), X, Y


def test_every_registry_entry_has_a_record():
    for registry, entries in REGISTRIES.items():
        missing = sorted(set(entries) - {k for r, k in RECORDS if r == registry})
        assert not missing, f"add a record for {registry} {', '.join(map(repr, missing))} to RECORDS (compiled or refused, for {', '.join(COMPILED_ENGINES)})"
    stale = sorted(k for k in RECORDS if k[1] not in REGISTRIES[k[0]])
    assert not stale, f"RECORDS has entries no registry holds: {stale}"
    for key, record in RECORDS.items():
        assert sorted(record) == COMPILED_ENGINES, f"add a record for {key} under every compiled engine: {COMPILED_ENGINES}"


@pytest.mark.parametrize("engine", COMPILED_ENGINES)
@pytest.mark.parametrize("registry, key", sorted(RECORDS), ids=lambda v: v)
def test_the_record_holds(registry, key, engine):
    expected = RECORDS[registry, key][engine]
    network, options, X, Y = case(registry, key)
    module = get_engine(engine)
    assert module.supports(network, options) == (None if expected == COMPILED else expected)
    params = np.stack([network.init("he", rng=3), network.init("xavier_normal", rng=4, bias=0.1)])
    if expected != COMPILED:
        with pytest.raises(InitlabError, match=re.escape(f"The '{engine}' engine does not support this run: {expected}.")):
            train_many(network, params, X, Y, options, engine=engine)
        return
    reference = train_many(network, params, X, Y, options, engine="numpy")
    compiled = train_many(network, params, X, Y, options, engine=engine)
    for r, c in zip(reference, compiled, strict=True):
        assert (r.engine, c.engine) == ("numpy", engine)
        assert c.iterations.tolist() == r.iterations.tolist() and c.steps == r.steps == options.iterations
        assert not r.diverged and not c.diverged
        np.testing.assert_allclose(c.costs, r.costs, rtol=RTOL[engine], atol=0)
        np.testing.assert_allclose(c.params, r.params, rtol=RTOL[engine], atol=RTOL[engine] * np.max(np.abs(r.params)))


# --- what every engine promises: a batch is its rows trained alone; callbacks in order ------------
NET = Network((2, 10, 5, 1))  # the course's network: every engine trains it


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_a_batch_equals_single_runs(engine):
    params = np.stack([NET.init("he", rng=3), NET.init("xavier_normal", rng=1), NET.init("zeros")])
    original = params.copy()
    options = TrainOptions(0.01, 200, 50)
    batch = train_many(NET, params, DATA.X_train, DATA.Y_train, options, engine=engine)
    np.testing.assert_array_equal(params, original)  # the caller's parameters are not touched
    for row, run in zip(params, batch, strict=True):
        alone = train(NET, row, DATA.X_train, DATA.Y_train, options, engine=engine)
        assert alone.engine == run.engine == engine
        np.testing.assert_array_equal(alone.params, run.params)
        np.testing.assert_array_equal(alone.costs, run.costs)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_callback_reports_in_order(engine):
    seen = []
    run = train(NET, NET.init("he", rng=3), DATA.X_train, DATA.Y_train, TrainOptions(0.01, 1000, 100),
                lambda i, cost, p: seen.append((i, cost)), engine=engine)
    assert [i for i, _ in seen] == list(range(0, 1000, 100))
    np.testing.assert_array_equal([c for _, c in seen], run.costs)


# --- the numpy engine ---------------------------------------------------------------------------
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
