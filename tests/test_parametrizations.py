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
    """The abc-symmetry: the same training with m/k, k·s, k²·c (SGD) or k·c and k·ε (Adam)."""
    return LayerRule(rule.init * k, rule.multiplier / k, rule.lr * (k if adam else k * k), rule.bias_lr,
                     rule.eps * (k if adam else 1.0))


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
