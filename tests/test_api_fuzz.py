"""A fuzz table over the public API: every bad call ends in one clear InitlabError that names the
parameter at fault (never a traceback from inside numpy, never a silent NaN, never a hang), and
the odd-but-valid calls are accepted as documented. (The command line's table: test_cli_errors.py;
the sweep's: test_sweep.py.)"""
import numpy as np
import pytest

import initlab
from initlab import InitlabError, Network, TrainOptions, train
from initlab.compare import compare_initializers
from initlab.data import circles, get_dataset
from initlab.diagnostics import probe

NET = Network((2, 4, 1))
D = circles()
P = NET.init("he", rng=0)


def _train(**changes):
    args = dict(network=NET, params=P, X=D.X_train, Y=D.Y_train, options=TrainOptions(0.1, 5, 1))
    args.update(changes)
    return train(args["network"], args["params"], args["X"], args["Y"], args["options"])


BAD = [  # (what, call, the parameter the message must name)
    ("sizes not a sequence", lambda: Network(5), "sizes"),
    ("a zero width", lambda: Network((2, 0, 1)), "sizes"),
    ("a network too large", lambda: Network((2, 10**9, 1)), "sizes"),
    ("unknown activation", lambda: Network((2, 4, 1), "rleu"), "rleu"),  # registry errors name the unknown name
    ("activations of the wrong count", lambda: Network((2, 4, 4, 1), ("relu",)), "activation"),
    ("unknown loss", lambda: Network((2, 4, 1), loss="hinge"), "hinge"),
    ("unknown initializer", lambda: NET.init("he_unifrom"), "he_unifrom"),
    ("a bad seed", lambda: NET.init("he", rng="abc"), "seed"),
    ("a bias that is nan", lambda: NET.init("he", rng=0, bias=float("nan")), "bias"),
    ("a bias function of the wrong shape", lambda: NET.init("he", rng=0, bias=lambda shape, rng: np.zeros(3)), "bias"),
    ("params of the wrong length", lambda: _train(params=P[:-1]), "params"),
    ("params that are text", lambda: _train(params="abc"), "params"),
    ("X of the wrong width", lambda: _train(X=np.zeros((3, 10))), "X"),
    ("X with nan", lambda: _train(X=np.where(np.arange(600).reshape(2, 300) == 7, np.nan, D.X_train)), "X"),
    ("Y of the wrong length", lambda: _train(Y=D.Y_train[:, :10]), "Y"),
    ("no network", lambda: _train(network=None), "network"),
    ("no options", lambda: _train(options=None), "options"),
    ("a negative learning rate", lambda: TrainOptions(-1), "learning_rate"),
    ("an infinite learning rate", lambda: TrainOptions(float("inf")), "learning_rate"),
    ("negative iterations", lambda: TrainOptions(0.1, -1), "iterations"),
    ("iterations beyond any memory", lambda: TrainOptions(0.1, 10**18, 1), "iterations"),
    ("record_every 0", lambda: TrainOptions(0.1, 10, 0), "record_every"),
    ("a batch size of 0", lambda: TrainOptions(batch_size=0), "batch_size"),
    ("a negative minibatch seed", lambda: TrainOptions(seed=-1), "seed"),
    ("unknown optimizer", lambda: TrainOptions(optimizer="sgdd"), "sgdd"),
    ("an unknown optimizer option", lambda: TrainOptions(optimizer="adam", optimizer_options={"beta": 0.9}), "beta"),
    ("unknown engine", lambda: train(NET, P, D.X_train, D.Y_train, TrainOptions(0.1, 5, 1), engine="fortran"), "engine"),
    ("the exact engine on a tanh network", lambda: train(Network((2, 4, 1), "tanh"), Network((2, 4, 1), "tanh").init("he", rng=0), D.X_train, D.Y_train, TrainOptions(0.1, 5, 1), engine="exact"), "exact"),
    ("unknown dataset", lambda: get_dataset("mnist"), "mnist"),
    ("a misspelt dataset option", lambda: get_dataset("moons", nois=0.1), "nois"),
    ("gaussian_quantiles noise beyond 0.5", lambda: get_dataset("gaussian_quantiles", noise=2.0), "noise"),
    ("probe of nan weights", lambda: probe(NET, np.where(np.arange(P.size) == 2, np.nan, P), D.X_train), "params"),
    ("compare with an empty init list", lambda: compare_initializers([], iterations=5), "inits"),
    ("compare with None for the inits", lambda: compare_initializers(None, iterations=5), "inits"),
    ("compare with layers that do not fit the data", lambda: compare_initializers(["he"], layers=(3, 4, 1), iterations=5), "layers"),
    ("compare with a negative seed", lambda: compare_initializers(["he"], seed=-1, iterations=5), "seed"),
    ("a regressor's targets too large to square", lambda: initlab.MLPRegressor(max_iter=5).fit(D.X_train.T, D.X_train[0] * 1e200), "y"),
]


@pytest.mark.parametrize("what, call, parameter", BAD, ids=[b[0] for b in BAD])
def test_bad_calls_name_what_is_wrong(what, call, parameter):
    with pytest.raises(InitlabError) as info:
        call()
    assert f"'{parameter}'" in str(info.value), str(info.value)
    assert "\n" not in str(info.value).strip()  # one line


ACCEPTED = [  # odd but valid, as documented
    ("numpy integers as sizes", lambda: Network((np.int64(2), np.int32(4), 1))),
    ("zero iterations train nothing", lambda: _train(options=TrainOptions(0.1, 0, 1))),
    ("a huge but finite learning rate diverges and says where", lambda: _train(options=TrainOptions(1e300, 50, 1))),
    ("a numpy Generator as rng", lambda: NET.init("he", rng=np.random.default_rng(1))),
    ("None as rng (fresh entropy)", lambda: NET.init("he", rng=None)),
]


@pytest.mark.parametrize("what, call", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_odd_but_valid_calls_are_accepted(what, call):
    result = call()
    if isinstance(result, initlab.Run) and result.options.learning_rate > 1e100:
        assert result.diverged and "diverged at iteration" in str(result.divergence)
