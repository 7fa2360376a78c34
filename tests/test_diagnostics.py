import numpy as np
import pandas as pd
import pytest

from initlab._validation import InitlabError
from initlab.data import circles
from initlab.diagnostics import SignalStudy, deep_network, probe, record, signal_propagation
from initlab.network import Network
from initlab.training import TrainOptions

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
    assert lecun.verdicts[0].startswith("activations vanish: mean square ×0.487 per layer (×1.1e-06 over 20 hidden layers")
    assert lecun.verdicts[1].startswith("gradients vanish toward the input: variance ×0.")
    assert lecun.verdicts[-1].startswith("try he_normal")
    he = probe(net, net.init("he_normal", rng=0), X)
    assert he.verdicts[0].startswith("forward signal preserved") and he.verdicts[1].startswith("gradients preserved")
    assert not any(v.startswith("try") for v in he.verdicts)
    big = probe(net, net.init("random", scale=0.3, rng=0), X)  # Var(w) = 0.09 > 2/100
    assert big.verdicts[0].startswith("activations grow: mean square ×")


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
    assert [ax.get_title() for ax in fig.axes] == ["Forward: activations by hidden layer", "Backward: gradients by hidden layer",
                                                    "Forward: correlation of the batch"]
    old = study.table.drop(columns=["corr", "pred_corr"])  # a signal.csv from before the correlations: two panels
    assert len(SignalStudy(net, old, study.verdicts).plot().axes) == 2


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


# --- verdicts: the per-layer factor, the suggestion from the activation (issue 11) --------------
def _verdicts(activation, init, depth=30, width=256, seeds=2):
    """Verdicts of a seed-averaged probe (as `initlab probe` prints them)."""
    net = deep_network(depth, width, activation)
    return signal_propagation(net, [init], seeds=seeds, batch=128).verdicts[init]


@pytest.mark.parametrize(
    "activation, init, forward, backward, suggestion",
    [
        ("relu", "he_normal", "forward signal preserved: mean square ×1", "gradients preserved", None),
        ("relu", "xavier_normal", "activations vanish: mean square ×0.5", "gradients vanish", "try he_normal"),
        ("tanh", "xavier_normal", "activations vanish: mean square ×0.", "gradients vanish", "σ_w² ≈ 1 is already the best weight variance for tanh"),
        ("linear", "xavier_normal", "forward signal preserved: mean square ×", "gradients preserved", None),
        ("linear", "he_normal", "activations grow: mean square ×2 per layer", "gradients grow", "try lecun_normal"),
        ("sigmoid", "xavier_normal", None, "gradients vanish", "no weight variance fixes the mean shift of a sigmoid"),
        ("gelu", "he_normal", None, None, "try variance_scaling(scale=2.35)"),
    ],
)
def test_verdict_table(activation, init, forward, backward, suggestion):
    """Each case's verdict is what the per-layer factor says; a preserved signal suggests nothing."""
    found = _verdicts(activation, init)
    if forward:
        assert found[0].startswith(forward), found
        assert "per layer" in found[0] and "over 30 hidden layers" in found[0]
    if backward:
        assert found[1].startswith(backward) and "per layer" in found[1], found
    tries = [v for v in found if v.startswith(("try", "σ_w²", "no weight variance"))]
    if suggestion is None:
        assert tries == [], found
    else:
        assert len(tries) == 1 and tries[0].startswith(suggestion), found
        assert init not in tries[0], found  # never the scheme just probed


def test_preserved_is_within_a_factor_two_over_the_depth():
    """A ×16–×34 change over the depth is no longer 'preserved': the total must stay within ×2, widened
    only by the finite width's random drift (×4.51 for 30 layers of width 256)."""
    import pandas as pd

    from initlab.diagnostics import verdicts

    net = deep_network(30, 256, "relu")

    def table(ratio):
        ms = ratio ** (np.arange(31) / 29.0)  # 30 hidden layers from 1 to `ratio`, then the output
        return pd.DataFrame({"layer": np.arange(1, 32), "act_ms": ms, "grad_var": np.ones(31),
                             "dead": 0.0, "saturated": np.nan, "sigma_w2": 2.0, "sigma_b2": 0.0,
                             "units": [256] * 30 + [1]})

    assert verdicts(table(1.9), net)[0].startswith("forward signal preserved: mean square ×1.02 per layer (×1.9 over 30")
    assert "within ×4.51, the random drift of 30 layers of width 256" in verdicts(table(1.9), net)[0]
    assert verdicts(table(4), net)[0].startswith("forward signal preserved")
    wide = table(4).assign(units=[10**6] * 30 + [1])  # no drift to allow for: the ×2 bound itself
    assert verdicts(wide, net)[0].startswith("activations grow: mean square ×1.05 per layer (×4 over 30")
    assert verdicts(table(1.9).assign(units=[10**6] * 30 + [1]), net)[0].endswith("within ×2)")
    assert verdicts(table(16), net)[0].startswith("activations grow: mean square ×1.1 per layer (×16 over 30")
    assert verdicts(table(1 / 34), net)[0].startswith("activations vanish: mean square ×0.886 per layer (×0.0294 over 30")
    assert verdicts(table(16), net)[-1].startswith("σ_w² ≈ 2 is already the best weight variance for relu")  # He did not cause it
    assert verdicts(table(1.9), net)[1].startswith("gradients preserved: variance ×1 per layer")


def test_suggestion_follows_the_sigma_b2_used():
    """tanh's critical σ_w² depends on σ_b²: 1 at σ_b² = 0, ≈1.76 at σ_b² = 0.05 (theory.critical_sigma_w2)."""
    import pandas as pd

    from initlab.diagnostics import verdicts

    net = deep_network(10, 8, "tanh")
    t = pd.DataFrame({"layer": np.arange(1, 12), "act_ms": 0.5 ** np.arange(11), "grad_var": np.ones(11),
                      "dead": np.nan, "saturated": 0.0, "sigma_w2": 1.0, "sigma_b2": 0.05})
    assert verdicts(t, net)[-1].startswith("try mean_field(sigma_b2=0.05, sigma_w2=1.76) (W ~ N(0, 1.76/fan_in), "
                                           "b ~ N(0, 0.05))")  # biases too: the named schemes have none
    assert "the edge of chaos of tanh at σ_b² = 0.05" in verdicts(t, net)[-1]
    assert verdicts(t.assign(sigma_b2=0.0), net)[-1].startswith("σ_w² ≈ 1 is already the best weight variance for tanh")
    assert verdicts(t.assign(sigma_b2=0.0, sigma_w2=0.5), net)[-1].startswith("try lecun_normal")


def test_all_zero_weights_are_reported_as_such():
    """probe --init zeros: a verdict, NaN predictions, no error about a sigma_w2 nobody gave."""
    net = deep_network(5, 16, "relu")
    X = np.random.default_rng(0).standard_normal((16, 32))
    p = probe(net, net.init("zeros"), X)
    assert p.verdicts[0] == ("all weights are zero: every unit of a layer computes the same thing; "
                             "nothing propagates")
    assert p.table.pred_pre_var.isna().all() and p.table.pred_act_ms.isna().all()
    assert p.table.pred_grad_var.iloc[:-1].isna().all()
    assert p.verdicts[-1].startswith("try he_normal")
    sig = deep_network(5, 16, "sigmoid")  # its mean square looks "preserved" (0.25 everywhere): it is not
    found = probe(sig, sig.init("zeros"), X).verdicts
    assert found[0].startswith("all weights are zero") and not any("preserved" in v for v in found)
    he = probe(net, net.init("he_normal", rng=0), X)  # the rule can say the opposite
    assert not any("all weights are zero" in v for v in he.verdicts) and he.table.pred_pre_var.notna().all()


def test_a_deep_probe_stays_finite_and_quiet():
    """--depth 3000 printed thousands of warnings and ×nan: no RuntimeWarning, no 'nan', one line per kind."""
    import warnings

    net = deep_network(300, 8, "relu")
    X = np.random.default_rng(0).standard_normal((8, 32))
    for init in ("xavier_normal", "he_normal", "random"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            found = probe(net, net.init(init, rng=0), X).verdicts
        assert not any("nan" in v.lower() for v in found), found
        assert len(found) <= 6, found
        assert sum("units dead" in v for v in found) <= 1
    xavier = probe(net, net.init("xavier_normal", rng=0), X).verdicts
    assert xavier[0].startswith("activations vanish: mean square ×0.") and "beyond the floats" in xavier[0]


def test_runs_of_layers_collapse_to_one_line():
    from initlab.diagnostics import _layers_text

    assert _layers_text([3]) == "layer 3"
    assert _layers_text([12, 13, 14, 15]) == "layers 12–15"
    assert _layers_text([2, 5, 6, 7, 9]) == "layers 2, 5–7, 9"
    assert _layers_text(list(range(1, 40, 2))).endswith(", …")
    net = Network((64, 50, 50, 50, 1), activation="relu")
    params = net.init("he_normal", rng=0)
    (_, b1), (_, b2), (_, b3), _ = net.unpack(params)
    b1[:], b2[:], b3[:] = -100.0, -100.0, -100.0
    found = probe(net, params, X64).verdicts
    assert "layers 1–3: 100% of units dead (never active on the batch)" in found


def test_verdicts_carry_no_apostrophe():
    """The report escapes ' as &#x27;: verdict lines are plain text that reads the same in both."""
    for activation, init in (("relu", "xavier_normal"), ("tanh", "xavier_normal"), ("sigmoid", "he_normal"),
                             ("gelu", "he_normal"), ("selu", "xavier_normal")):
        net = deep_network(8, 32, activation)
        found = probe(net, net.init(init, rng=0), X64[:32]).verdicts
        assert not any("'" in v for v in found), found


def test_probe_runs_blas_on_one_thread(monkeypatch):
    """Two BLAS threads fighting on two cores made a probe 3-5x slower (bench/README.md): inside
    probe and signal_propagation BLAS has one thread, and the setting is restored afterwards."""
    from threadpoolctl import threadpool_info

    def blas_threads():
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    seen = []
    net = deep_network(3, 16)
    forward = Network.forward

    def spying(self, *args, **kwargs):
        seen.append(blas_threads())
        return forward(self, *args, **kwargs)

    before = blas_threads()
    monkeypatch.setattr(Network, "forward", spying)
    probe(net, net.init("he_normal", rng=0), X64[:16])
    signal_propagation(net, ["lsuv"], seeds=1, batch=16)
    assert seen and all(s <= {1} for s in seen), seen
    assert blas_threads() == before


def test_an_activation_without_an_edge_of_chaos_is_told_so():
    """gelu at σ_b² = 0: χ₁ jumps over 1 at its gain² (theory.critical_sigma_w2 raises): the suggestion
    says no variance preserves it, and never repeats He's 2 after He failed."""
    import pandas as pd

    from initlab.diagnostics import verdicts

    net = deep_network(10, 256, "gelu")
    t = pd.DataFrame({"layer": np.arange(1, 12), "act_ms": 0.7 ** np.arange(11), "grad_var": np.ones(11),
                      "dead": np.nan, "saturated": np.nan, "sigma_w2": 2.0, "sigma_b2": 0.0, "units": 256})
    last = verdicts(t, net)[-1]
    assert last.startswith("try variance_scaling(scale=2.35)") and "no variance preserves it" in last
    assert verdicts(t.assign(sigma_w2=2.35), net)[-1].startswith("σ_w² ≈ 2.4 is already the best weight variance for gelu")


def test_some_zero_layers_are_named():
    net = Network((64, 32, 32, 32, 1), activation="tanh")
    params = net.init("xavier_normal", rng=0)
    (_, _), (W2, _), _, _ = net.unpack(params)
    W2[:] = 0.0
    found = probe(net, params, X64).verdicts
    assert found[0].startswith("layer 2: all weights are zero")
    assert not any(v.startswith("all weights are zero") for v in found)


def test_mixed_activations_get_no_one_scheme():
    net = Network((64, 32, 32, 32, 1), activation=("relu", "tanh", "relu"))
    found = probe(net, net.init("xavier_normal", rng=0), X64).verdicts
    assert found[-1].startswith("the layers use different activations (relu, tanh)"), found
    assert not any("xavier" in v for v in found)


def test_a_table_without_the_sigma_columns_still_reads():
    """A signal.csv written before sigma_w2/sigma_b2 existed: the same forward verdict, a suggestion."""
    from initlab.diagnostics import verdicts

    net = deep_network(10, 64, "relu")
    t = probe(net, net.init("xavier_normal", rng=0), X64).table
    old = verdicts(t.drop(columns=["sigma_w2", "sigma_b2"]), net)
    assert old[0] == verdicts(t, net)[0] and old[-1].startswith("try he_normal")


def test_signal_propagation_takes_configured_initializers():
    from initlab.diagnostics import deep_network, signal_propagation

    study = signal_propagation(deep_network(4, 16, "tanh"), ["normal(std=0.01)", "xavier_normal"], seeds=1, batch=32)
    assert list(study.verdicts) == ["normal(std=0.01)", "xavier_normal"]
    assert set(study.table["init"]) == {"normal(std=0.01)", "xavier_normal"}


# --- per-layer histograms ---------------------------------------------------------------------------
def _hidden_signals(net, params, X, rng=0):
    """A_l and δ_l of each hidden layer, computed here without the probe: tanh(W A + b) forward, and
    δ_l = (W_{l+1}ᵀ δ_{l+1})·φ′(Z_l) backward from the probe's output noise (an int seed is the
    legacy RandomState stream, check_random_state's)."""
    layers = net.unpack(params)
    A, Zs, As = X, [], []
    for W, b in layers[:-1]:
        Z = W @ A + b
        A = np.tanh(Z)
        Zs.append(Z)
        As.append(A)
    ZL = layers[-1][0] @ A + layers[-1][1]
    delta = layers[-1][0].T @ np.random.RandomState(rng).standard_normal(ZL.shape) * (1 - np.tanh(Zs[-1]) ** 2)
    deltas = [delta]
    for l in range(len(Zs) - 2, -1, -1):
        delta = layers[l + 1][0].T @ delta * (1 - np.tanh(Zs[l]) ** 2)
        deltas.insert(0, delta)
    return As, deltas


def test_histograms_count_every_value_of_each_hidden_layer():
    net = Network((16,) + (24,) * 4 + (1,), activation="tanh")
    X = np.random.default_rng(3).standard_normal((16, 50))
    params = net.init("xavier_normal", rng=1)
    h = probe(net, params, X).histograms
    assert set(h.kind) == {"activation", "gradient"} and sorted(set(h.layer)) == [1, 2, 3, 4]  # hidden layers only
    per_layer = h.groupby(["kind", "layer"])
    assert (per_layer["count"].sum() == 24 * 50).all() and (per_layer["values"].first() == 24 * 50).all()
    assert (per_layer.size() == 41).all()
    As, deltas = _hidden_signals(net, params, X)
    for kind, arrays in (("activation", As), ("gradient", deltas)):
        std = per_layer["std"].first()[kind].to_numpy()
        np.testing.assert_allclose(std, [np.std(a) for a in arrays], rtol=1e-12)
    assert probe(net, params, X, histograms=False).histograms is None


def test_histograms_match_numpy_on_a_known_array():
    from initlab.diagnostics import histograms

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((8, 100)), 0.01 * rng.standard_normal((8, 100))
    h = histograms([a, b], "activation", bins=41)
    r = np.abs(a).max()  # one symmetric range for both layers, set by the wider one
    for layer, x in ((1, a), (2, b)):
        counts, edges = np.histogram(x, bins=41, range=(-r, r))
        rows = {k: v[h["layer"] == layer] for k, v in h.items()}
        np.testing.assert_array_equal(rows["count"], counts)
        np.testing.assert_array_equal(rows["bin_left"], edges[:-1])
        np.testing.assert_array_equal(rows["bin_right"], edges[1:])
        assert rows["std"][0] == np.std(x) and rows["clipped"][0] == 0
    assert h["count"][h["layer"] == 2][20] == 800  # the narrow layer is one spike in the middle bin (41: 0 is a bin centre)
    relu = histograms([np.abs(a)], "activation", bins=5)
    assert relu["bin_left"][0] == 0.0 and relu["count"].sum() == 800  # no negative value: [0, r]
    tail = np.append(rng.standard_normal(999), 1e6)  # one extreme value sets no range …
    t = histograms([tail], "gradient", bins=41)
    top = 5 * np.std(tail)
    np.testing.assert_array_equal(t["count"], np.histogram(np.clip(tail, -top, top), bins=41, range=(-top, top))[0])
    assert t["clipped"][0] == 1 and t["count"][-1] >= 1 and t["count"].sum() == 1000  # … and is counted in the end bin
    zeros = histograms([np.zeros((3, 4)), np.full((3, 4), np.inf)], "activation", bins=3)
    assert zeros["count"].tolist() == [12, 0, 0, 0, 0, 0] and np.isnan(zeros["std"][3])  # all zero; nothing finite


def test_histograms_show_the_lecture_s_tanh_net():
    """The lecture's 10-layer tanh net: std 0.01 collapses, std 1 saturates, Xavier neither."""
    study = signal_propagation(deep_network(10, 64, "tanh"), ["normal(std=0.01)", "normal(std=1)", "xavier_normal"],
                               seeds=2, batch=128)
    h = study.histograms
    assert set(h.seed) == {0} and list(dict.fromkeys(h.init)) == ["normal(std=0.01)", "normal(std=1)", "xavier_normal"]
    act = h[h.kind == "activation"]

    def std(init, layer):
        return float(act[(act.init == init) & (act.layer == layer)]["std"].iloc[0])

    def beyond(init, layer, edge=0.9):  # fraction of the values in bins wholly beyond |a| > edge
        rows = act[(act.init == init) & (act.layer == layer)]
        outer = (rows.bin_left >= edge) | (rows.bin_right <= -edge)
        return float(rows["count"][outer].sum() / rows["values"].iloc[0])

    assert std("normal(std=0.01)", 10) < 1e-3 * std("normal(std=0.01)", 1)
    small = act[(act.init == "normal(std=0.01)") & (act.layer == 10)]
    assert small["count"].max() == small["values"].iloc[0]  # one spike: every value in the middle bin
    assert all(beyond("normal(std=1)", layer) > 0.5 for layer in range(5, 11))
    assert all(beyond("xavier_normal", layer) < 0.2 for layer in range(5, 11))
    assert std("xavier_normal", 10) > 0.1 * std("xavier_normal", 1)
    fig = study.plot_histograms()
    assert len(fig.axes) == 2 * 3 * 6  # activations and gradients, three initializers, six of the ten layers


def test_study_saves_its_histograms(tmp_path):
    import pandas as pd

    study = signal_propagation(deep_network(4, 16, "tanh"), ["xavier_normal", "normal(std=1)"], seeds=2, batch=32)
    paths = study.save(tmp_path)
    assert list(paths) == ["csv", "figure", "histograms", "histogram_figure"]
    assert paths["histograms"] == str(tmp_path / "histograms.csv") and paths["histogram_figure"] == str(tmp_path / "histograms.png")
    assert (tmp_path / "histograms.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    back = pd.read_csv(tmp_path / "histograms.csv")
    assert len(back) == 2 * 2 * 4 * 41 and back["count"].sum() == 2 * 2 * 4 * 16 * 32
    pd.testing.assert_frame_equal(back, study.histograms.reset_index(drop=True), check_dtype=False)


def test_a_suggestion_with_biases_parses_back_and_reaches_the_edge_of_chaos():
    """The mean_field(…) a tanh probe at σ_b² = 0.05 suggests is a spec the CLI reads, and probing
    it preserves the signal the suggestion was about."""
    from initlab.initializers import parse_spec

    net = deep_network(20, 128, "tanh")
    far = signal_propagation(net, ["mean_field(sigma_w2=3, sigma_b2=0.05)"], seeds=2, batch=128)
    line = next(v for v in far.verdicts["mean_field(sigma_b2=0.05, sigma_w2=3)"] if v.startswith("try "))
    spec = line.removeprefix("try ").split(" (W ~")[0]
    name, options = parse_spec(spec)
    assert name == "mean_field" and abs(options["sigma_w2"] - 1.76) < 0.05 and abs(options["sigma_b2"] - 0.05) < 0.01
    near = signal_propagation(net, [spec], seeds=2, batch=128)
    assert not any(v.startswith("try ") for v in near.verdicts[spec]), near.verdicts


def test_the_mean_correlation_is_the_pairwise_mean_written_out():
    from initlab.diagnostics import mean_correlation

    Z = np.random.default_rng(3).standard_normal((7, 9)) + 0.4
    inner = [Z[:, a] @ Z[:, b] for a in range(9) for b in range(9) if a != b]
    assert mean_correlation(Z) == pytest.approx(np.mean(inner) / np.mean(np.sum(Z**2, axis=0)), rel=1e-12)
    assert np.isnan(mean_correlation(Z[:, :1])) and np.isnan(mean_correlation(np.zeros((3, 4))))


def correlated_inputs(n, m, c0, seed):
    """m inputs of width n whose every pair has correlation ≈ c0: a shared direction and noise."""
    rng = np.random.default_rng(seed)
    return np.sqrt(c0) * rng.standard_normal((n, 1)) + np.sqrt(1 - c0) * rng.standard_normal((n, m))


@pytest.mark.parametrize("sigma_w2, phase", [(0.6, "ordered"), (4.0, "chaotic")])
def test_correlations_collapse_when_ordered_and_decorrelate_when_chaotic(sigma_w2, phase):
    """tanh at σ_b² = 0.05 (the edge of chaos near σ_w² = 1.76): below it the batch's correlation
    climbs to 1 (rank collapse), above it falls to the map's c* < 1; measured within 0.05 of the
    iterated map at width 400 (the pairwise mean's sampling error at 48 examples and the finite
    width's: ~0.02), the map on its way to theory.correlation_fixed_point."""
    from initlab.theory import correlation_fixed_point

    net = deep_network(12, 400, "tanh")
    X = correlated_inputs(400, 48, 0.5, seed=1)
    params = net.init("mean_field", rng=2, sigma_w2=sigma_w2, sigma_b2=0.05)
    t = probe(net, params, X, histograms=False).table.iloc[:-1]  # the hidden layers
    np.testing.assert_allclose(t["corr"], t["pred_corr"], atol=0.05)
    c_star = correlation_fixed_point(sigma_w2, 0.05, "tanh")
    first, last = (abs(t["pred_corr"].iloc[k] - c_star) for k in (0, -1))
    assert last < first / 3  # on its way to c* (12 layers: 1/5 of the way left in the chaotic case)
    if phase == "ordered":
        assert c_star == 1.0 and t["corr"].iloc[-1] > 0.97 > 0.8 > t["corr"].iloc[0]
    else:
        assert c_star < 0.2 and t["corr"].iloc[-1] < 0.3 < 0.4 < t["corr"].iloc[0]


def test_probe_bins_the_kinds_asked_for_pre_activations_too():
    net = Network((16, 16, 16, 1))
    X = np.random.default_rng(0).standard_normal((16, 8))
    params = net.init("he_normal", rng=1)
    asked = probe(net, params, X, histograms=["gradient", "pre-activation"])
    assert list(dict.fromkeys(asked.histograms.kind)) == ["pre-activation", "gradient"]  # HISTOGRAM_KINDS' order
    Z1 = net.forward(params, X)[1][0][1]  # layer 1's pre-activations
    first = asked.histograms[(asked.histograms.kind == "pre-activation") & (asked.histograms.layer == 1)]
    assert first["count"].sum() == Z1.size and first["std"].iloc[0] == np.std(Z1)
    default = probe(net, params, X)
    assert list(dict.fromkeys(default.histograms.kind)) == ["activation", "gradient"]
    pd.testing.assert_frame_equal(asked.table, default.table)  # the kinds change the histograms only
    assert probe(net, params, X, histograms=False).histograms is None
    with pytest.raises(InitlabError, match="histogram kind"):
        probe(net, params, X, histograms=["weights"])
