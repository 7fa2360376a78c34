"""The coord check: what it measures (against a forward pass written out here), the slopes and
verdict rule on synthetic power laws, SP growing and μP staying put, a μP with its readout factor
missing caught, the CSV, and errors that name the parameter."""
import numpy as np
import pandas as pd
import pytest

from initlab._spec import Spec
from initlab._validation import InitlabError
from initlab.coordcheck import GROWS, SHRINKS, coord_check, fit_slopes
from initlab.data import circles
from initlab.network import Network
from initlab.parametrizations import PARAMETRIZATIONS, LayerRule, Parametrization, mup

SMALL = dict(widths=(64, 128, 256, 512), steps=1, seeds=(0, 1), examples=128, engine="numpy")  # step 1: SP's clearest growth


def test_what_it_measures_is_each_layers_mean_absolute_value_and_change():
    check = coord_check("sp", optimizer="sgd", learning_rate=0.1, **SMALL)
    frame = check.frame
    assert list(frame.columns) == ["parametrization", "optimizer", "width", "step", "layer", "seed", "mean_abs", "mean_abs_change"]
    assert len(frame) == 4 * 2 * 3 * 2  # widths × steps 0..1 × (two hidden layers and the output) × seeds
    assert (frame[frame["step"] == 0]["mean_abs_change"] == 0).all()
    data = circles()
    X = data.X_train[:, :128]
    net = Network((2, 128, 128, 1))
    (W1, b1), (W2, b2), (W3, b3) = net.unpack(net.init("he_normal", rng=1))
    A1 = np.maximum(W1 @ X + b1, 0.0)  # each layer's output at step 0, seed 1
    A2 = np.maximum(W2 @ A1 + b2, 0.0)
    Z3 = W3 @ A2 + b3  # the logits, not σ(Z3)
    at = frame[(frame.width == 128) & (frame.step == 0) & (frame.seed == 1)].set_index("layer")["mean_abs"]
    assert at.to_dict() == pytest.approx({"layer 1": np.mean(np.abs(A1)), "layer 2": np.mean(np.abs(A2)),
                                          "output": np.mean(np.abs(Z3))}, rel=1e-12)
    # step 1: after one gradient-descent step of the numpy reference, written out for the logits
    grad = net.backward(net.init("he_normal", rng=1), net.forward(net.init("he_normal", rng=1), X)[1], data.Y_train[:, :128]).grad
    after = net.forward(net.init("he_normal", rng=1) - 0.1 * grad, X)[0]
    row = frame[(frame.width == 128) & (frame.step == 1) & (frame.seed == 1) & (frame.layer == "output")]
    assert row["mean_abs_change"].item() == pytest.approx(np.mean(np.abs(after - Z3)), rel=1e-9)


def _power_law(exponent, noise=0.0):
    rows = []
    for seed in (0, 1, 2):
        rng = np.random.default_rng(seed)
        for width in (64, 128, 256, 512):
            value = width ** exponent * np.exp(noise * rng.standard_normal())
            rows.append(("p", "sgd", width, 1, "output", seed, value, value))
    return pd.DataFrame(rows, columns=["parametrization", "optimizer", "width", "step", "layer", "seed", "mean_abs",
                                       "mean_abs_change"])


@pytest.mark.parametrize("exponent, verdict", [(1.0, "grows"), (GROWS + 0.05, "grows"), (GROWS - 0.05, "stable"), (0.0, "stable"),
                                               (SHRINKS + 0.05, "stable"), (SHRINKS - 0.05, "shrinks"), (-1.0, "shrinks")])
def test_the_slope_and_the_rule_on_known_power_laws(exponent, verdict):
    slopes = fit_slopes(_power_law(exponent))
    row = slopes[slopes.quantity == "mean_abs_change"].iloc[0]
    assert row["slope"] == pytest.approx(exponent, abs=1e-12) and row["slope_std"] == pytest.approx(0, abs=1e-12)
    assert row["verdict"] == verdict


def test_the_spread_over_seeds_is_reported():
    row = fit_slopes(_power_law(0.5, noise=0.1)).iloc[0]
    assert 0.0 < row["slope_std"] < 0.3


@pytest.mark.parametrize("optimizer, lr", [("sgd", 0.1), ("adam", 0.01)])
def test_sp_grows_with_width_and_mup_stays_put(optimizer, lr):
    family = "adam" if optimizer == "adam" else "sgd"
    check = coord_check(f"sp, mup(base_width=32, optimizer={family})", optimizer=optimizer, learning_rate=lr, **SMALL)
    last = check.slopes[(check.slopes.step == 1) & (check.slopes.quantity == "mean_abs_change")]
    sp_out = last[(last.parametrization == "sp") & (last.layer == "output")]
    assert sp_out["verdict"].item() == "grows" and sp_out["slope"].item() > 0.5
    mu = last[last.parametrization != "sp"]
    assert (mu["verdict"] == "stable").all(), mu
    one = coord_check(f"mup(base_width=32, optimizer={family})", optimizer=optimizer, learning_rate=lr, **SMALL)
    assert one.verdict().startswith("stable")
    sp_alone = coord_check("sp", optimizer=optimizer, learning_rate=lr, **SMALL).verdict()
    assert sp_alone.startswith("not stable at step 1: grows with width: ") and "output (slope +" in sp_alone
    assert list(check.verdicts())[0] == "sp" and check.verdicts()["sp"] == sp_alone
    assert check.verdict().startswith(f"sp: {sp_alone}; mup")


def test_a_mup_without_its_readout_factor_is_caught(monkeypatch):
    """The deliberate mistake of the mup tracker: μP's hidden rules with SP's output layer."""
    def no_readout(base_width: int = 64) -> Parametrization:
        right = mup(base_width=base_width)
        return Parametrization(Spec.of_call("no_readout", no_readout, base_width=base_width),
                               lambda role, r_in, r_out: LayerRule() if role == "output" else right.layer_rule(role, r_in, r_out),
                               base_width)

    monkeypatch.setitem(PARAMETRIZATIONS, "no_readout", no_readout)
    check = coord_check("no_readout(base_width=32)", optimizer="sgd", learning_rate=0.1, **SMALL)
    assert check.verdict().startswith("not stable at step 1: grows with width: ") and "output (slope +" in check.verdict()


def test_mup_follows_the_optimizer_trained_with_unless_it_names_one():
    check = coord_check("sp, mup(base_width=32)", optimizer="adam", learning_rate=0.01, **SMALL)
    assert list(check.verdicts()) == ["sp", "mup(base_width=32, optimizer=adam)"]
    with pytest.raises(InitlabError, match=r"μP rules are for sgd, but the network trains with adam"):
        coord_check("mup(base_width=32, optimizer=sgd)", optimizer="adam", **SMALL)


def test_a_change_that_is_zero_has_no_slope_and_no_verdict():
    """A zero readout's first step leaves the hidden layers as they were (their gradient is 0)."""
    check = coord_check("mup(base_width=32, zero_readout=True)", optimizer="sgd", learning_rate=0.1, **SMALL)
    assert check.verdict().startswith("undefined at step 1: no slope for layer 1, layer 2")


def test_save_writes_the_csv(tmp_path):
    check = coord_check("mup(base_width=32)", optimizer="sgd", learning_rate=0.1, **SMALL)
    paths = check.save(tmp_path / "out")
    assert paths["csv"].endswith("coord_check.csv") and paths["figure"].endswith("coord_check.png")
    pd.testing.assert_frame_equal(pd.read_csv(paths["csv"]), check.frame, check_dtype=False)
    with open(paths["figure"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_a_diverging_run_says_where():
    with pytest.raises(InitlabError, match="diverged"):
        coord_check("sp", optimizer="sgd", learning_rate=1e300, **{**SMALL, "steps": 2})


@pytest.mark.parametrize("options, message", [
    ({"widths": (64,)}, "The 'widths' parameter must be two or more different ints >= 1. Got (64,) instead."),
    ({"widths": (64, 64)}, "The 'widths' parameter must be two or more different ints >= 1"),
    ({"widths": (64, 0)}, "The 'widths' parameter"),
    ({"seeds": ()}, "The 'seeds' parameter must be one or more ints >= 0. Got () instead."),
    ({"seeds": (1.5,)}, "The 'seeds' parameter"),
    ({"optimizer": "rmsprop"}, "The 'optimizer' parameter must be one of gd, sgd, momentum, adam. Got 'rmsprop' instead."),
    ({"steps": 0}, "The 'steps' parameter must be an int >= 1. Got 0 instead."),
    ({"learning_rate": -1}, "The 'learning_rate' parameter must be a finite float > 0. Got -1 instead."),
    ({"parametrization": "mu"}, "Unknown parametrization 'mu'"),
])
def test_bad_input_names_the_parameter(options, message):
    with pytest.raises(InitlabError) as info:
        coord_check(**{"parametrization": "sp", **SMALL, **options})
    assert message in str(info.value)
