"""The signal-propagation reproductions (he2015-variance, glorot2010, saxe2013, hanin2018, pennington2017), quick settings.

Each experiment must return claims that hold on its quick run, numbers that agree with the papers'
formulas (re-stated here independently of the modules, with tolerances from the measured spread),
figures with labelled axes, and verdicts that can fail: a deliberately wrong setting must make the
rule say the claim does not hold.
"""
import json
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from initlab import papers
from initlab.papers import glorot2010, hanin2018, he2015_variance, pennington2017, saxe2013
from initlab.papers.common import Reproduction

from paper_checks import check_plain_data  # noqa: E402

MODULES = {"he2015-variance": he2015_variance, "glorot2010": glorot2010, "saxe2013": saxe2013, "pennington2017": pennington2017,
           "hanin2018": hanin2018}


@pytest.fixture(scope="module")
def runs():
    """Each experiment's quick run, once (through the registry, as the command calls it)."""
    return {name: papers.reproduce(name, quick=True) for name in MODULES}


def close(values, target, rel, sds=4.0):
    """The mean of per-seed `values` within `rel` (relative) or `sds` standard errors of `target`."""
    values = np.asarray(values, dtype=float)
    se = values.std(ddof=1) / math.sqrt(values.size) if values.size > 1 else 0.0
    return abs(values.mean() - target) <= max(rel * abs(target), sds * se)


def tanh_expect(f, q, nodes=121):
    """E[f(√q z)], z ~ N(0, 1), by Gauss–Hermite quadrature (independent of initlab's rule)."""
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    return float(np.sum(w * f(math.sqrt(q) * x)) / math.sqrt(2 * math.pi))


# --- common contract ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(MODULES))
def test_quick_run_holds_with_figures(runs, name, tmp_path):
    r, module = runs[name], MODULES[name]
    assert isinstance(r, Reproduction)
    assert r.name == module.NAME == name and papers.EXPERIMENTS[name] == module.__name__
    assert r.title == module.TITLE and r.citation == module.CITATION and "§" in module.CITATION
    assert r.claims and all(c.holds for c in r.claims), "\n".join(r.lines())
    assert r.holds
    for c in r.claims:
        assert c.statement and c.expected and c.rule
        assert "seeds)" in c.measured or "largest" in c.measured  # the spread over seeds is reported
        assert c.verdict == "the claim holds on this run" and type(c.holds) is bool
    text = "\n".join(r.lines())
    assert "paper:" in text and "measured:" in text and "verdict:" in text
    assert r.figures
    for fig in r.figures.values():
        assert isinstance(fig, Figure)
        axes = [ax for ax in fig.axes if ax.has_data()]
        assert axes and all(ax.get_xlabel() and ax.get_ylabel() for ax in axes)
        assert any(ax.get_legend() is not None for ax in axes)
    check_plain_data(r)
    paths = r.save(tmp_path)
    assert all(open(p, "rb").read(8) == b"\x89PNG\r\n\x1a\n" for p in paths.values())
    assert r.settings["seeds"] == [0, 1]
    json.dumps({"settings": r.settings, "numbers": r.numbers})  # plain data


# --- He et al. 2015 -------------------------------------------------------------------------------------
def test_he_factors_match_the_formula(runs):
    numbers = runs["he2015-variance"].numbers
    a = 0.25  # He's PReLU init
    targets = {  # ½·(1+a²)·n·Var[w], re-stated
        "relu_he": 0.5 * 2.0, "relu_xavier": 0.5 * 1.0,
        "leaky_he": 0.5 * (1 + a * a) * 2.0 / (1 + a * a), "leaky_plain": 0.5 * (1 + a * a) * 2.0,
    }
    for key, target in targets.items():
        assert close(numbers[key]["ratio"], target, 0.04), (key, numbers[key]["ratio"])
    # 1/n: the variance halves at every layer, so log₂ of q_L/q_1 ≈ −(L − 1)
    q = np.asarray(numbers["relu_xavier"]["q"])
    assert np.all(np.abs(np.log2(q[:, -1] / q[:, 0]) + (q.shape[1] - 1)) < 1.5)


def test_he_verdict_can_fail():
    s = he2015_variance.QUICK
    xavier = he2015_variance.study("relu_xavier", s["depth"], s["width"], s["batch"], [0, 1])
    # Var(w) = 1/n judged by the preservation claim (factor 1): it must not hold
    assert not he2015_variance.factor_claim(xavier, "1/n keeps the signal", target=1.0).holds
    assert he2015_variance.factor_claim(xavier, "1/n halves the signal").holds


# --- Glorot & Bengio 2010 -------------------------------------------------------------------------------
def _tanh_targets(sizes, sigma2, input_ms):
    """Per-layer activation-variance ratios (up) and gradient-variance ratios (down) of a tanh net,
    from Glorot's n·Var[W] carried through tanh by the Gaussian length map."""
    hidden = len(sizes) - 2
    q = [sigma2[0] * input_ms]
    for l in range(1, hidden):
        q.append(sigma2[l] * tanh_expect(lambda z: np.tanh(z) ** 2, q[-1]))
    ms = [tanh_expect(lambda z: np.tanh(z) ** 2, v) for v in q]
    slope2 = [tanh_expect(lambda z: (1 - np.tanh(z) ** 2) ** 2, v) for v in q]
    up = [ms[l + 1] / ms[l] for l in range(hidden - 1)]
    down = [sigma2[l + 1] * sizes[l + 2] / sizes[l + 1] * slope2[l] for l in range(hidden - 1)]
    return np.mean(up), np.mean(down)


def test_glorot_ratios_match_the_formula(runs):
    from initlab.data import get_dataset

    r = runs["glorot2010"]
    X = get_dataset("digits").X_train[:, : r.settings["batch"]]
    input_ms = float(np.mean(X**2))
    sizes = (64,) + (r.settings["width"],) * r.settings["depth"] + (10,)
    standard = r.numbers["init"]["standard"]
    normalized = r.numbers["init"]["normalized"]
    # U[±1/√n]: n·Var[W] = n·(1/√n)²/3 = 1/3
    up, down = _tanh_targets(sizes, [1 / 3] * r.settings["depth"], input_ms)
    assert close(standard["act_ratio"], up, 0.06) and close(standard["grad_ratio"], down, 0.06)
    # the deepest step is in tanh's linear regime: ×1/3
    act = np.asarray(standard["act_var"])
    assert np.all(np.abs(act[:, -1] / act[:, -2] - 1 / 3) < 0.08 / 3)
    # normalized: n_in·Var[W] = 2·n_in/(n_in + n_out)
    s2 = [2 * sizes[l] / (sizes[l] + sizes[l + 1]) for l in range(r.settings["depth"])]
    up, down = _tanh_targets(sizes, s2, input_ms)
    assert close(normalized["act_ratio"], up, 0.06) and close(normalized["grad_ratio"], down, 0.06)
    assert min(normalized["act_ratio"]) > 2 * max(standard["act_ratio"])


def test_glorot_saturation_numbers(runs):
    training = runs["glorot2010"].numbers["training"]
    sig = np.asarray(training["sigmoid"]["layer_means"])  # seeds × records × layers
    assert np.all(np.abs(sig[:, 0, :] - 0.5) < 0.05)  # every sigmoid layer starts at σ(0) = ½
    assert np.all(sig[:, -1, -1] < 0.1)  # the top one ends near 0
    assert np.all(np.abs(sig[:, -1, 0] - 0.5) < 0.1)  # the first one stays near ½
    assert all(l[-1] > 0.95 * math.log(10) for l in training["sigmoid"]["loss"])  # stalled at chance
    tanh = np.asarray(training["tanh"]["layer_means"])
    assert np.all(np.abs(tanh[:, :, -1]) < 0.2)
    assert all(l[-1] < math.log(10) / 2 for l in training["tanh"]["loss"])


def test_glorot_verdicts_can_fail(runs):
    numbers = runs["glorot2010"].numbers
    training, init = numbers["training"], numbers["init"]
    assert not glorot2010.saturation_claim(training["tanh"]).holds  # tanh does not saturate near its low end
    assert not glorot2010.no_saturation_claim(training["sigmoid"]).holds  # the sigmoid's top layer does
    assert not glorot2010.balanced_claim(init["standard"]).holds  # U[±1/√n] is not balanced
    assert not glorot2010.ratio_claim(init["normalized"], "act", "×1/3", "eq. 5").holds


# --- Saxe et al. 2013 -----------------------------------------------------------------------------------
def marchenko_pastur_cdf(t):
    """P(λ ≤ t) for the Marchenko–Pastur law of ratio 1: (1/2π)·∫₀ᵗ √((4−x)/x) dx, in closed form."""
    theta = math.asin(math.sqrt(t) / 2)
    return (4 * theta + 2 * math.sin(2 * theta)) / (2 * math.pi)


def test_saxe_spectrum_matches_free_probability(runs):
    spec = runs["saxe2013"].numbers["spectrum"]
    assert max(max(v) for v in spec["orthogonal"]["max_dev"]) < 1e-9
    assert spec["orthogonal"]["small"] == [[0.0] * 2] * len(spec["depths"])
    assert saxe2013.fuss_catalan_cdf(0.01, 1) == pytest.approx(marchenko_pastur_cdf(0.01), abs=1e-6)
    depths, small = spec["depths"], spec["gaussian"]["small"]
    i = depths.index(1)
    p, n = marchenko_pastur_cdf(0.01), spec["n"]
    assert abs(np.mean(small[i]) - p) <= 4 * math.sqrt(p * (1 - p) / (n * len(small[i])))
    means = [np.mean(v) for v in small]
    assert means == sorted(means) and means[-1] > 0.5  # most of the spectrum is lost at depth 16
    # the mean squared singular value of the product stays 1 and E[σ⁴] = L + 1 (Fuss–Catalan) at moderate depth
    j = depths.index(4)
    assert close(spec["gaussian"]["ms"][j], 1.0, 0.15) and close(spec["gaussian"]["m4"][j], 5.0, 0.25)


def test_saxe_learning_times(runs):
    study = runs["saxe2013"].numbers["learning"]
    cap = study["cap"]
    ortho, gauss = study["orthogonal"]["steps"], study["gaussian"]["steps"]
    assert all(s >= 0 for row in ortho for s in row)
    assert np.mean(ortho[-1]) <= 1.5 * np.mean(ortho[-2])
    capped = [[s if s >= 0 else cap for s in row] for row in gauss]
    assert np.mean(capped[-1]) >= 10 * np.mean(capped[0])
    assert all(np.mean(g) > np.mean(o) for g, o in zip(capped[1:], ortho[1:]))


def test_saxe_verdicts_can_fail(runs):
    spec = runs["saxe2013"].numbers["spectrum"]
    as_if_gaussian = dict(spec, gaussian=spec["orthogonal"])  # orthogonal products judged by the Gaussian law
    assert not saxe2013.gaussian_spectrum_claim(as_if_gaussian).holds
    as_if_orthogonal = dict(spec, orthogonal=spec["gaussian"])
    assert not saxe2013.orthogonal_spectrum_claim(as_if_orthogonal).holds
    # orthogonal init in place of the Gaussian one: its learning time does not grow tenfold with depth
    both_orthogonal = saxe2013.learning_study(16, (4, 16, 32), [0], 300,
                                              inits={"orthogonal": "orthogonal", "gaussian": "orthogonal"})
    assert not saxe2013.gaussian_learning_claim(both_orthogonal).holds


# --- Hanin & Rolnick 2018 -------------------------------------------------------------------------------
def test_hanin_numbers_match_the_formulas(runs):
    numbers = runs["hanin2018"].numbers
    fm1 = numbers["fm1"]
    for key, sigma2 in (("1.0", 1.0), ("2.0", 2.0), ("3.0", 3.0)):
        for L in fm1["depths"]:
            values = [m[L - 1] / (sigma2 / 2) ** L for m in fm1[key]["mean"]]  # E[M_L] = (σ²/2)^L·M_0
            assert close(values, 1.0, 0.12), (sigma2, L, values)
    fm2 = numbers["fm2"]
    for ws, v in zip(fm2["widths"], fm2["log_var"]):
        if min(ws) >= 32:  # leading order: Var[log M_L] ≈ 5·Σ 1/n_j
            assert close(v, 5 * sum(1 / n for n in ws), 0.2), (ws, v)
    assert fm2["r2"] > 0.95 and min(fm2["slopes"]) > 0
    # the per-layer term tends to 5/n
    assert 1000 * hanin2018.log_variance_per_layer(1000) == pytest.approx(5.0, abs=0.05)


def test_hanin_verdict_can_fail():
    s = hanin2018.QUICK
    off = hanin2018.fm1_study(s["fm1_width"], s["fm1_depths"], s["draws"], s["inputs"], [0, 1], sigmas=(1.5,))
    assert not hanin2018.preserved_claim(off, sigma_w2=1.5).holds  # 1.5/fan_in does not keep the mean length
    assert hanin2018.exponential_claim(off, sigmas=(1.5,)).holds  # it follows (σ²/2)^L = (3/4)^L instead


# --- Pennington et al. 2017 -----------------------------------------------------------------------------
def test_pennington_spectra_match_free_probability(runs):
    """v of J·Jᵀ (J to a linear last layer: L weight matrices, L − 1 nonlinearities) by the rule that
    relative variances of free factors add, re-stated here: Gaussian W 1, orthogonal W 0, ReLU's D 1
    (μ₁ = μ₂ = ½), tanh's D E[φ′⁴]/E[φ′²]² − 1 at q* (Gauss–Hermite, independent of initlab's rule)."""
    study = runs["pennington2017"].numbers["spectra"]
    _, _, q = pennington2017.critical("tanh")
    mu1 = tanh_expect(lambda x: (1 - np.tanh(x) ** 2) ** 2, q)
    mu2 = tanh_expect(lambda x: (1 - np.tanh(x) ** 2) ** 4, q)
    per_d = mu2 / mu1**2 - 1
    for j, L in enumerate(study["depths"]):
        laws = {"relu_orthogonal": L - 1, "relu_gaussian": 2 * L - 1, "tanh_orthogonal": (L - 1) * per_d,
                "tanh_gaussian": L + (L - 1) * per_d}
        for key, law in laws.items():
            assert close(study[key]["v"][j], law, 0.35 if L > 8 else 0.15), (key, L, study[key]["v"][j], law)
    assert per_d < 0.05  # q* ≈ 0.107: tanh's φ′ is almost constant, orthogonal tanh almost isometric


def test_pennington_verdicts_can_fail(runs):
    """At σ_b² = 0.05 (q* ≈ 0.57) orthogonal tanh is not isometric; ReLU judged by the tanh rule is not
    either; at a learning rate 100 times smaller neither network reaches ln 10 / 2, so no speed-up shows."""
    s = pennington2017.QUICK
    far = pennington2017.spectrum_study(s["width"], s["depths"], [0, 1], s["examples"], sigma_b2=0.05)
    assert pennington2017.relu_claim(far).holds and not pennington2017.tanh_claim(far).holds
    study = runs["pennington2017"].numbers["spectra"]
    as_if_tanh = dict(study, tanh_orthogonal=study["relu_orthogonal"], tanh_gaussian=study["relu_gaussian"])
    assert not pennington2017.tanh_claim(as_if_tanh).holds
    as_if_relu = dict(study, relu_orthogonal=study["tanh_orthogonal"])
    assert not pennington2017.relu_claim(as_if_relu).holds
    slow = pennington2017.training_study(32, (8,), [0, 1], 60, learning_rate=1e-4)
    assert not pennington2017.training_claim(slow).holds
