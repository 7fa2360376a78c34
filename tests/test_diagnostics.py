import numpy as np
import pytest

from initlab._validation import InitlabError
from initlab.data import circles
from initlab.diagnostics import deep_network, probe, record, signal_propagation
from initlab.network import Network
from initlab.train import TrainOptions

RNG = np.random.default_rng(0)
X64 = RNG.standard_normal((64, 300))


def test_table_measures_what_it_says():
    net = Network((64, 32, 16, 1), activation="tanh")
    params = net.init("xavier_normal", rng=1, bias=0.1)
    p = probe(net, params, X64)
    t = p.table
    assert list(t.layer) == [1, 2, 3] and list(t.units) == [32, 16, 1]
    (W1, b1), (W2, b2), _ = net.unpack(params)
    Z1 = W1 @ X64 + b1
    Z2 = W2 @ np.tanh(Z1) + b2
    assert t.pre_var[0] == pytest.approx(Z1.var(), rel=1e-12)
    assert t.pre_mean[1] == pytest.approx(Z2.mean(), rel=1e-12)
    assert t.act_ms[1] == pytest.approx(np.mean(np.tanh(Z2) ** 2), rel=1e-12)
    assert t.sv_max[0] == pytest.approx(np.linalg.norm(W1, 2), rel=1e-12)
    assert t.sv_spread[0] == pytest.approx(np.linalg.cond(W1), rel=1e-9)
    assert np.isnan(t.dead[0]) and not np.isnan(t.saturated[0])


def test_dead_and_saturated_units():
    net = Network((64, 50, 50, 1), activation="relu")
    params = net.init("he_normal", rng=0)
    (_, b1), _, _ = net.unpack(params)
    b1[:25] = -100.0  # half of layer 1 can never fire
    t = probe(net, params, X64).table
    assert t.dead[0] == pytest.approx(0.5) and t.dead[1] < 0.1
    assert any("layer 1: 50% of units dead" in v for v in probe(net, params, X64).verdicts)
    tanh = Network((64, 50, 1), activation="tanh")
    p = probe(tanh, tanh.init("random", scale=3.0, rng=0), X64)
    assert p.table.saturated[0] > 0.8 and any("layer 1:" in v and "saturated" in v for v in p.verdicts)


def test_he_keeps_relu_signal_and_theory_agrees():
    net = deep_network(12, 400, "relu")
    X = np.random.default_rng(1).standard_normal((400, 400))
    t = probe(net, net.init("he_normal", rng=1), X).table.iloc[:-1]
    ratio_fwd = t.act_ms / t.pred_act_ms
    ratio_bwd = t.grad_var / t.pred_grad_var
    assert ratio_fwd.between(0.7, 1.4).all(), ratio_fwd.tolist()
    assert ratio_bwd.between(0.6, 1.6).all(), ratio_bwd.tolist()


def test_verdicts_follow_the_numbers():
    net = deep_network(20, 100, "relu")
    X = np.random.default_rng(0).standard_normal((100, 200))
    lecun = probe(net, net.init("lecun_normal", rng=0), X)
    assert lecun.verdicts[0].startswith("activations vanish: mean square falls by ×1e-06 over 20 hidden layers")
    assert lecun.verdicts[1].startswith("gradients vanish from layer")
    assert lecun.verdicts[-1].startswith("try he_normal")
    he = probe(net, net.init("he_normal", rng=0), X)
    assert he.verdicts[0].startswith("forward signal preserved") and he.verdicts[1].startswith("gradients preserved")
    assert not any(v.startswith("try") for v in he.verdicts)
    big = probe(net, net.init("random", scale=0.3, rng=0), X)  # Var(w) = 0.09 > 2/100
    assert big.verdicts[0].startswith("activations explode")


def test_record_during_training():
    d = circles()
    net = Network((2, 10, 5, 1))
    run, history = record(net, net.init("he", rng=3), d.X_train, d.Y_train, TrainOptions(0.01, 300), every=100)
    assert run.steps == 300 and sorted(history.iteration.unique()) == [0, 100, 200]
    assert len(history) == 3 * 3 and {"dead", "act_ms", "cost"} <= set(history.columns)
    from initlab.plots import history_figure

    lines = history_figure(history, "dead").axes[0].get_lines()
    assert len(lines) == 2 and list(lines[0].get_xdata()) == [0, 100, 200]


def test_signal_propagation_over_seeds():
    net = deep_network(5, 32, "tanh")
    study = signal_propagation(net, ["xavier_normal", "orthogonal"], seeds=3, batch=64)
    assert len(study.table) == 2 * 3 * 6 and set(study.table.init) == {"xavier_normal", "orthogonal"}
    assert set(study.verdicts) == {"xavier_normal", "orthogonal"}
    fig = study.plot()
    assert len(fig.axes) == 2


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: deep_network(0, 10), "The 'depth' parameter must be an int >= 1. Got 0 instead."),
        (lambda: deep_network(3, -1), "The 'width' parameter must be an int >= 1"),
        (lambda: deep_network(3, 8, "rleu"), "Unknown activation 'rleu'"),
        (lambda: signal_propagation(deep_network(2, 4), []), "The 'inits' parameter must name at least one initializer"),
        (lambda: signal_propagation(deep_network(2, 4), ["he_nromal"]), "Unknown initializer 'he_nromal'"),
        (lambda: signal_propagation(deep_network(2, 4), "he_normal", seeds=0), "The 'seeds' parameter must be an int >= 1"),
        (lambda: probe(deep_network(2, 4), np.zeros(3), np.zeros((4, 2))), "The 'params' parameter must have shape"),
        (lambda: probe(deep_network(2, 4), deep_network(2, 4).init(rng=0), np.zeros((5, 2))), "The 'X' parameter must be an array with 4 rows"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(InitlabError, match=match):
        call()


def test_probe_of_non_finite_weights_names_them():
    """NaN weights are the weights' fault: the message names 'params', not the theory's 'q'."""
    import pytest

    from initlab import InitlabError
    from initlab.diagnostics import probe
    from initlab.network import Network

    net = Network((10, 20, 20, 1))
    p = net.init("he", rng=0)
    p[3] = np.nan
    with pytest.raises(InitlabError, match=r"The 'params' parameter must be finite .* 1 non-finite values of 661"):
        probe(net, p, np.random.default_rng(0).normal(size=(10, 64)))


def test_summary_with_the_noise_drawn_once_is_the_same():
    """A sweep passes the output noise it drew once per chunk: the same record as drawing it."""
    from initlab._validation import check_random_state
    from initlab.data import circles
    from initlab.diagnostics import summary
    from initlab.network import Network

    d, net = circles(), Network((2, 8, 8, 1))
    p = net.init("he", rng=2)
    noise = check_random_state(0).standard_normal((1, d.X_train.shape[1]))
    assert summary(net, p, d.X_train, noise=noise) == summary(net, p, d.X_train)
    assert summary(net, p, d.X_train, noise=2 * noise) != summary(net, p, d.X_train)
