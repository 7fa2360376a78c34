"""PARAMETRIZATIONS against an independent statement of the papers' rules: Tensor Programs V's
Table 3 in its absolute form (variances and learning rates as functions of fan_in and fan_out),
divided by its value on the base network; the abc-symmetry between μP's two readouts; NTK's
invariants; the registry's spec manners and errors."""
import json
import math
import pickle

import pytest

from initlab._spec import Spec
from initlab._validation import InitlabError
from initlab.parametrizations import PARAMETRIZATIONS, LayerRule, get_parametrization

# Tensor Programs V, Table 3 (μP), absolute: (initial variance, SGD learning rate, Adam learning rate)
# of the weights, per role, as functions of the layer's (fan_in, fan_out); biases: (SGD, Adam) rates.
TABLE3 = {
    "input": lambda fi, fo: (1 / fi, fo, 1.0),
    "hidden": lambda fi, fo: (1 / fi, 1.0, 1 / fi),
    "output": lambda fi, fo: (1 / fi ** 2, 1 / fi, 1 / fi),
}
TABLE3_BIAS = lambda fi, fo: (fo, 1.0)  # noqa: E731  (biases are input-like: fan_in 1)

NETWORKS = [(2, 256, 1), (2, 256, 256, 1), (3, 512, 128, 256, 4), (2, 32, 32, 32, 1), (5, 64, 64, 2)]
BASE = 64


def _roles(sizes):
    n = len(sizes) - 1
    return ["input"] + ["hidden"] * (n - 2) + ["output"]


def _base_sizes(sizes):
    return (sizes[0], *(BASE for _ in sizes[1:-1]), sizes[-1])


def _table3_relative(sizes, adam):
    """(s, c, bias c) per layer: Table 3 on `sizes` over Table 3 on the base network (hidden widths BASE)."""
    base = _base_sizes(sizes)
    out = []
    for l, role in enumerate(_roles(sizes)):
        var, sgd, ada = TABLE3[role](sizes[l], sizes[l + 1])
        var0, sgd0, ada0 = TABLE3[role](base[l], base[l + 1])
        b_sgd, b_ada = TABLE3_BIAS(sizes[l], sizes[l + 1])
        b_sgd0, b_ada0 = TABLE3_BIAS(base[l], base[l + 1])
        # the initializer already draws with variance ∝ 1/fan_in (SP): s² is what Table 3 adds to it
        s = math.sqrt((var / var0) / (base[l] / sizes[l]))
        out.append((s, (ada / ada0) if adam else (sgd / sgd0), (b_ada / b_ada0) if adam else (b_sgd / b_sgd0)))
    return out


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("sizes", NETWORKS, ids=str)
def test_mup_is_table_3_relative_to_the_base_width(sizes, optimizer):
    rules = get_parametrization("mup", base_width=BASE, optimizer=optimizer).rules(sizes)
    want = _table3_relative(sizes, optimizer == "adam")
    assert len(rules) == len(sizes) - 1
    for rule, (s, c, bias_c) in zip(rules, want):
        assert (rule.init, rule.multiplier, rule.lr, rule.bias_lr, rule.eps) == pytest.approx((s, 1.0, c, bias_c, 1.0), rel=1e-12)


def _moved(rule, k, adam):
    """The abc-symmetry: θ → k·θ with m → m/k gives the same W = m·θ and a gradient of θ k times
    smaller; the same steps on W then need c → k²·c under SGD, and c → k·c with ε → ε/k under Adam
    (Adam's step is c·m̂/(√v̂ + ε), and m̂, √v̂ shrink by k with the gradient)."""
    return LayerRule(rule.init * k, rule.multiplier / k, rule.lr * (k if adam else k * k), rule.bias_lr,
                     rule.eps / (k if adam else 1.0))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("sizes", NETWORKS, ids=str)
def test_the_readout_multiplier_is_the_same_training_by_the_abc_symmetry(sizes, optimizer):
    adam = optimizer == "adam"
    by_init = get_parametrization("mup", base_width=BASE, optimizer=optimizer).rules(sizes)
    by_multiplier = get_parametrization("mup", base_width=BASE, optimizer=optimizer, readout="multiplier").rules(sizes)
    r_in = (sizes[-2] / BASE) if len(sizes) > 2 else 1.0
    assert by_multiplier[:-1] == by_init[:-1]  # only the output layer moves
    got, want = by_multiplier[-1], _moved(by_init[-1], r_in, adam)
    assert got.multiplier == pytest.approx(1 / r_in) and got.init == pytest.approx(math.sqrt(r_in))
    for field in ("init", "multiplier", "lr", "bias_lr", "eps"):
        assert getattr(got, field) == pytest.approx(getattr(want, field), rel=1e-12), field


def test_the_symmetry_check_can_fail():
    """μP without its readout factor (SP's output layer) is no move of μP's output layer."""
    sizes = (2, 256, 1)
    mup_out = get_parametrization("mup", base_width=BASE).rules(sizes)[-1]
    wrong = get_parametrization("sp").rules(sizes)[-1]
    assert all(_moved(mup_out, k, False) != wrong for k in (0.25, 0.5, 1.0, 2.0, 4.0))


@pytest.mark.parametrize("sizes", NETWORKS, ids=str)
def test_ntk_computes_sps_function_at_init_and_slows_sgd_by_the_fan_in(sizes):
    rules = get_parametrization("ntk", base_width=BASE).rules(sizes)
    for l, rule in enumerate(rules):
        r_in = sizes[l] / BASE if l > 0 else 1.0
        assert rule.init * rule.multiplier == pytest.approx(1.0)  # W = m·s·(SP's draw)
        assert rule.multiplier ** 2 * rule.lr == pytest.approx(1 / r_in)  # SGD's step on W: m²·η
        assert rule.bias_lr == 1.0


@pytest.mark.parametrize("name", sorted(PARAMETRIZATIONS))
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_every_parametrization_is_sp_at_the_base_width(name, optimizer):
    options = {"optimizer": optimizer} if name == "mup" else {}
    rules = get_parametrization(name, base_width=BASE, **options).rules((3, BASE, BASE, 2))
    assert rules == (LayerRule(),) * 3


def test_zero_readout_starts_the_output_at_zero_in_both_readouts():
    for readout in ("init", "multiplier"):
        rules = get_parametrization("mup", base_width=BASE, readout=readout, zero_readout=True).rules((2, 256, 256, 1))
        assert rules[-1].init == 0.0 and rules[0].init == rules[1].init == 1.0


def test_sp_is_all_ones_at_any_width():
    assert get_parametrization("sp").rules((2, 4096, 3, 1)) == (LayerRule(),) * 3


# --- the registry: specs are data ----------------------------------------------------------------
ENTRIES = [("sp", {}), ("ntk", {"base_width": 16}), ("mup", {}), ("mup", {"optimizer": "adam", "readout": "multiplier"}),
           ("mup", {"base_width": 128, "zero_readout": True})]


@pytest.mark.parametrize("name, options", ENTRIES, ids=str)
def test_a_parametrization_is_its_spec(name, options):
    p = get_parametrization(name, **options)
    assert p.spec == Spec.make(name, options)  # defaults left out: Spec.of_call
    assert pickle.loads(pickle.dumps(p)) == p and hash(pickle.loads(pickle.dumps(p))) == hash(p)
    assert get_parametrization(Spec.from_json(json.loads(json.dumps(p.spec.to_json())))) == p
    assert get_parametrization(str(p.spec)) == p  # the text form: "mup(optimizer='adam', …)"


def test_options_add_to_a_given_parametrization():
    p = get_parametrization("mup", base_width=32)
    assert get_parametrization(p) == p
    assert get_parametrization(p, optimizer="adam") == get_parametrization("mup(base_width=32, optimizer=adam)")


def test_defaults_are_left_out_of_the_spec():
    assert get_parametrization("mup", base_width=64, optimizer="sgd").spec == Spec("mup")
    assert str(get_parametrization("mup(optimizer=adam)").spec) == "mup(optimizer=adam)"


def test_the_registry_lists_the_three_parametrizations():
    assert set(PARAMETRIZATIONS) == {"sp", "ntk", "mup"}


@pytest.mark.parametrize("call, message", [
    (lambda: get_parametrization("mu_p"), "Unknown parametrization 'mu_p'"),
    (lambda: get_parametrization("mup", base_width=0), "The 'base_width' parameter must be an int >= 1. Got 0 instead."),
    (lambda: get_parametrization("mup", base_width=2.5), "The 'base_width' parameter must be an int >= 1. Got 2.5 instead."),
    (lambda: get_parametrization("mup", optimizer="rmsprop"), "The 'optimizer' parameter must be one of sgd, adam. Got 'rmsprop' instead."),
    (lambda: get_parametrization("mup", readout="output"), "The 'readout' parameter must be one of init, multiplier."),
    (lambda: get_parametrization("sp", optimizer="adam"), "The parametrization 'sp' does not take options ['optimizer']"),
    (lambda: get_parametrization("mup").rules((2, 0, 1)), "The 'sizes' parameter"),
])
def test_bad_input_names_the_parameter(call, message):
    with pytest.raises(InitlabError) as info:
        call()
    assert message in str(info.value)


# --- applied: the network's forward, backward and init, and training on the numpy engine ---------
import numpy as np  # noqa: E402

from initlab.data import circles  # noqa: E402
from initlab.network import Network  # noqa: E402
from initlab.parametrizations import mup  # noqa: E402
from initlab.training import TrainOptions, train  # noqa: E402

SIZES = (2, 128, 128, 1)  # r = 4 against base width 32
BASE_32 = {"base_width": 32}
DATA = circles()


def _net(parametrization):
    return Network(SIZES, parametrization=parametrization)


def test_the_forward_pass_multiplies_each_layers_product():
    """Z_l = m_l·(W_l A) + b_l, written out in numpy beside the network's forward."""
    net = _net(Spec.make("ntk", BASE_32))
    params = net.init("he_normal", rng=0)
    A, X = DATA.X_train, DATA.X_train
    for l, ((W, b), rule) in enumerate(zip(net.unpack(params), net.rules)):
        Z = rule.multiplier * (W @ A) + b
        A = np.maximum(Z, 0.0)
    np.testing.assert_allclose(net.forward(params, X)[0], Z, rtol=1e-13)
    assert [rule.multiplier for rule in net.rules] == [1.0, 0.5, 0.5]


@pytest.mark.parametrize("parametrization", ["ntk(base_width=32)", "mup(base_width=32, readout=multiplier)"])
def test_the_gradient_with_multipliers_matches_finite_differences(parametrization):
    net = Network((2, 8, 8, 1), parametrization=parametrization.replace("32", "2"))  # r = 4 on 8 units
    params = net.init("he_normal", rng=1, bias=0.1)  # (zero biases put an example whose layer is all off on ReLU's kink)
    X, Y = DATA.X_train[:, :40], DATA.Y_train[:, :40]
    grad = net.backward(params, net.forward(params, X)[1], Y).grad
    h = 1e-6
    numeric = np.array([(net.cost(params + h * e, X, Y) - net.cost(params - h * e, X, Y)) / (2 * h) for e in np.eye(net.n_params)])
    assert any(rule.multiplier != 1.0 for rule in net.rules)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_init_scales_the_draw_and_keeps_the_random_stream():
    sp_params = Network(SIZES).init("he_normal", rng=3)
    mu = _net(Spec.make("mup", BASE_32))
    params = mu.init("he_normal", rng=3)
    (W1, _), (W2, _), (W3, _) = mu.unpack(params)
    (S1, _), (S2, _), (S3, _) = Network(SIZES).unpack(sp_params)
    np.testing.assert_array_equal(W1, S1)
    np.testing.assert_array_equal(W2, S2)
    np.testing.assert_allclose(W3, S3 * 0.5, rtol=1e-15)  # output: 1/√r_in
    zero = _net(Spec.make("mup", {**BASE_32, "zero_readout": True})).init("he_normal", rng=3)
    assert not zero[mu.slots[-1].w_start:mu.slots[-1].b_start].any()


def test_the_learning_rates_follow_the_rules_in_the_flat_layout():
    net = _net(Spec.make("mup", BASE_32))
    for slot, rule in zip(net.slots, net.rules):
        assert set(net.lr_scale[slot.w_start:slot.b_start]) == {rule.lr}
        assert set(net.lr_scale[slot.b_start:slot.b_end]) == {rule.bias_lr}
    assert [rule.lr for rule in net.rules] == [4.0, 1.0, 0.25]


def test_a_parametrized_network_is_plain_data():
    net = _net("mup(base_width=32, optimizer=adam)")
    assert Network.from_json(json.loads(json.dumps(net.to_json()))) == net
    assert pickle.loads(pickle.dumps(net)) == net and hash(pickle.loads(pickle.dumps(net))) == hash(net)
    assert net.to_json()["parametrization"] == {"name": "mup", "options": {"base_width": 32, "optimizer": "adam"}}
    assert Network(SIZES, parametrization="sp(base_width=8)") == Network(SIZES)  # SP is SP at every width
    assert "parametrization" not in Network(SIZES).to_json()  # files written before stay as they were
    with pytest.raises(InitlabError, match="Unknown parametrization 'mu'"):
        Network(SIZES, parametrization="mu")


def _costs(parametrization, optimizer="gd", **options):
    net = _net(parametrization)
    params = net.init("he_normal", rng=5)
    run = train(net, params, DATA.X_train, DATA.Y_train, TrainOptions(0.02, 60, 1, optimizer, options), engine="numpy")
    return run.costs


@pytest.mark.parametrize("optimizer, options", [("gd", {}), ("momentum", {}), ("adam", {"eps": 1e-3})])
def test_the_two_readouts_train_alike_by_the_abc_symmetry(optimizer, options):
    family = "adam" if optimizer == "adam" else "sgd"
    by_init = _costs(Spec.make("mup", {**BASE_32, "optimizer": family}), optimizer, **options)
    by_multiplier = _costs(Spec.make("mup", {**BASE_32, "optimizer": family, "readout": "multiplier"}), optimizer, **options)
    assert by_init[-1] < by_init[0]  # it trains
    np.testing.assert_allclose(by_multiplier, by_init, rtol=1e-10)


def test_under_adam_the_symmetry_needs_eps_scaled(monkeypatch):
    """The documented difference: the readout multiplier with Adam's ε left as it is (as the mup
    package does) trains differently once ε is not small against √v̂ (here ε = 1e-3)."""
    def unscaled(base_width: int = 64):
        p = mup(base_width=base_width, optimizer="adam", readout="multiplier")
        rule = p.layer_rule
        return type(p)(Spec.of_call("unscaled", unscaled, base_width=base_width),
                       lambda role, r_in, r_out: LayerRule(**{**vars(rule(role, r_in, r_out)), "eps": 1.0}), base_width)

    monkeypatch.setitem(PARAMETRIZATIONS, "unscaled", unscaled)
    scaled = _costs(Spec.make("mup", {**BASE_32, "optimizer": "adam"}), "adam", eps=1e-3)
    left = _costs(Spec.make("unscaled", BASE_32), "adam", eps=1e-3)
    assert np.max(np.abs(left - scaled) / scaled) > 1e-6


def test_sgd_under_mup_without_its_readout_factor_trains_differently():
    """The symmetry test can fail: SP in place of μP gives another trajectory."""
    mu = _costs(Spec.make("mup", BASE_32))
    sp_costs = _costs(None)
    assert np.max(np.abs(mu - sp_costs) / sp_costs) > 1e-3


@pytest.mark.parametrize("parametrization, optimizer", [
    ("ntk(base_width=32)", "gd"), ("mup(base_width=32)", "momentum"), ("mup(base_width=32, readout=multiplier)", "gd"),
    ("mup(base_width=32, optimizer=adam, readout=multiplier)", "adam"), ("mup(base_width=32, zero_readout=True)", "gd"),
])
def test_the_compiled_engine_trains_a_parametrization_as_the_reference(parametrization, optimizer):
    pytest.importorskip("numba")
    from initlab.training import train_many

    net = _net(parametrization)
    params = np.stack([net.init("he_normal", rng=k) for k in (5, 6)])
    options = TrainOptions(0.02, 200, 10, optimizer, {"eps": 1e-3} if optimizer == "adam" else {})
    reference, compiled = (train_many(net, params, DATA.X_train, DATA.Y_train, options, engine=e) for e in ("numpy", "numba"))
    for r, c in zip(reference, compiled):
        assert c.engine == "numba" and r.engine == "numpy"
        # the compiled engine multiplies W by m before its sums, the reference after (and sums in
        # SIMD partial sums): rounding apart, ~1e-15 per step; 1e-10 bounds it (as tests/test_numba_engine.py)
        np.testing.assert_allclose(c.costs, r.costs, rtol=1e-10)
        np.testing.assert_allclose(c.params, r.params, rtol=1e-10, atol=1e-10 * np.max(np.abs(r.params)))


def test_auto_trains_a_parametrization_compiled_and_the_exact_engine_refuses_it():
    from initlab.engines import select

    net = _net(Spec.make("mup", BASE_32))
    pytest.importorskip("numba")
    assert select("auto", net, TrainOptions()).NAME == "numba"
    with pytest.raises(InitlabError, match="standard parametrization only"):
        select("exact", net, TrainOptions())


def test_what_assumes_the_standard_parametrization_refuses_another():
    """The probe sets the theory's predictions beside its measurements: refused. The summary only
    measures (a sweep's diagnostics): it reads the multiplied network."""
    from initlab.diagnostics import probe, summary

    net = _net(Spec.make("ntk", BASE_32))
    params = net.init("he_normal", rng=0)
    with pytest.raises(InitlabError, match=r"The 'network' parameter must use the standard parametrization here"):
        probe(net, params, DATA.X_train)
    _, cache = net.forward(params, DATA.X_train)
    assert summary(net, params, DATA.X_train)["act_ms"][0] == pytest.approx(float(np.mean(cache[1][0] ** 2)))
    with pytest.raises(InitlabError, match="would undo the parametrization 'ntk"):
        net.init("lsuv", rng=0, X=DATA.X_train)
    assert probe(Network(SIZES), Network(SIZES).init("he_normal", rng=0), DATA.X_train) is not None  # SP: as before
