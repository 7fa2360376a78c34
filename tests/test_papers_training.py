"""The training-based paper reproductions: he2015-depth, edge-of-chaos, lsuv2015.

Each experiment runs at its quick settings once per module; the numbers checked against a formula
come from the formula (recomputed here with an independent quadrature where the theory module is
involved), with a tolerance from the measured spread; and every verdict is shown able to fail, by a
measuring function called with a setting that breaks its claim.
"""
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from initlab.papers import EXPERIMENTS, common, edge_of_chaos, experiment, he2015_depth, lsuv2015

from paper_checks import check_plain_data  # noqa: E402

NODES, WEIGHTS = np.polynomial.hermite_e.hermegauss(101)  # E[f(z)], z ~ N(0, 1) ≈ Σ w f(x) / √(2π)
WEIGHTS = WEIGHTS / math.sqrt(2 * math.pi)


def gauss(f):
    return float(np.sum(WEIGHTS * f(NODES)))


def tanh_q_star(sigma_w2, sigma_b2, q=1.0):
    """q* = σ_w² E[tanh(√q z)²] + σ_b², by plain iteration (independent of initlab.theory)."""
    for _ in range(5000):
        q = sigma_w2 * gauss(lambda z: np.tanh(math.sqrt(q) * z) ** 2) + sigma_b2
    return q


def tanh_chi1(sigma_w2, sigma_b2):
    q = tanh_q_star(sigma_w2, sigma_b2)
    return sigma_w2 * gauss(lambda z: np.cosh(math.sqrt(q) * z) ** -4)


def check_reproduction(r, module):
    assert r.name == module.NAME and r.title == module.TITLE and r.citation == module.CITATION
    assert module.NAME in EXPERIMENTS and experiment(module.NAME) is module
    assert r.claims and all(isinstance(c, common.Claim) for c in r.claims)
    for c in r.claims:
        assert c.statement and c.expected and c.measured and c.rule
        assert "seeds" in c.measured  # the spread over seeds is reported
    lines = r.lines()
    assert len(lines) == 1 + 4 * len(r.claims) and all("verdict:" in line for line in lines[4::4])
    assert r.figures and all(isinstance(f, Figure) for f in r.figures.values())
    check_plain_data(r)
    for fig in r.figures.values():
        for ax in fig.axes:
            if ax.get_label() != "<colorbar>":
                assert ax.get_xlabel() and ax.get_ylabel()


# --- he2015-depth --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def he():
    return he2015_depth.reproduce(quick=True)


def test_he2015_depth_quick_holds(he):
    check_reproduction(he, he2015_depth)
    assert [c.holds for c in he.claims] == [True, True, True], he.lines()
    assert he.holds


def test_he2015_depth_variance_against_eq10(he):
    # He et al. eq. 10: each ReLU layer multiplies the variance by ½·n·Var[w] (2/n → 1, Xavier 1/n → ½)
    profile = he.numbers["variance"]
    width, depth = he.settings["width"], he.settings["deep"]
    for name, var_w in (("he_normal", 2.0 / width), ("xavier_normal", 2.0 / (width + width))):
        theory = 0.5 * width * var_w
        assert profile[name]["theory"] == pytest.approx(theory, rel=1e-12)
        factors = profile[name]["factor"]
        sd = np.std(factors, ddof=1)
        assert abs(np.mean(factors) - theory) <= max(0.10 * theory, 3 * sd / math.sqrt(len(factors)))
        q = np.asarray(profile[name]["q"])
        assert q.shape == (len(he.settings["seeds"]), depth - 1)


def test_he2015_depth_training_numbers(he):
    deep, moderate = he.numbers["deep"], he.numbers["moderate"]
    assert deep["depth"] == 30 and moderate["depth"] == 12
    half = math.log(10) / 2
    for seed in range(len(he.settings["seeds"])):
        assert deep["he_normal"]["final_loss"][seed] < half
        assert deep["xavier_normal"]["final_loss"][seed] >= 0.95 * deep["xavier_normal"]["initial_loss"][seed]
        # Xavier starts at the chance-level loss: its logits are ~2^-15 of He's at init
        assert deep["xavier_normal"]["initial_loss"][seed] == pytest.approx(math.log(10), abs=1e-3)
        assert moderate["he_normal"]["first_below"][seed] < moderate["xavier_normal"]["first_below"][seed]
    assert deep["iterations"][-1] == he.settings["iterations"]


def test_he2015_depth_verdicts_can_fail(he):
    # the moderate-depth rule on the 30-layer runs: Xavier never trains there
    assert not he2015_depth.moderate_claim(he.numbers["deep"]).holds
    # the deep rule on a 4-layer net: Xavier trains, so it does not stall
    shallow = he2015_depth.train_depth(4, seeds=[0], width=16, iterations=150, learning_rate=0.01, record_every=50)
    claim = common.deep_claim(shallow, "he_normal", "xavier_normal", he2015_depth.LABELS, "Fig. 3")
    assert not claim.holds and claim.verdict == "the claim does not hold on this run"


def test_first_below_and_seed_list():
    assert common.first_below([0, 10, 20], [3.0, 1.0, 0.5], 1.1) == 10
    assert common.first_below([0, 10], [3.0, 2.0], 1.1) is None
    assert common.seed_list(None, 3) == [0, 1, 2]
    assert common.seed_list(2, 5) == [0, 1]
    assert common.seed_list((4, 7), 5) == [4, 7]


# --- lsuv2015 ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lsuv():
    return lsuv2015.reproduce(quick=True)


def test_lsuv_quick_holds(lsuv):
    check_reproduction(lsuv, lsuv2015)
    assert [c.holds for c in lsuv.claims] == [True, True], lsuv.lines()


def test_lsuv_every_layer_unit_variance(lsuv):
    v = np.asarray(lsuv.numbers["variance"]["lsuv"]["variance"])
    assert v.shape == (len(lsuv.settings["seeds"]), lsuv.settings["depth"])
    assert np.all(np.abs(v - 1) < lsuv2015.TOL)  # Algorithm 1's stopping rule, every layer, every seed
    held = np.asarray(lsuv.numbers["variance"]["lsuv"]["held_out"])
    assert held.shape == v.shape and np.all(np.isfinite(held))


def test_lsuv_orthogonal_halves_per_layer(lsuv):
    # an orthogonal matrix keeps the norm and ReLU keeps half the second moment: ×½ per layer
    theory = np.asarray(lsuv.numbers["variance"]["orthogonal_theory"])
    depth = lsuv.settings["depth"]
    assert theory == pytest.approx(0.5 ** np.arange(depth), rel=1e-12)
    v = np.asarray(lsuv.numbers["variance"]["orthogonal"]["variance"])
    factor = (v[:, -1] / v[:, 0]) ** (1 / (depth - 1))  # per seed
    assert abs(factor.mean() - 0.5) <= max(0.05, 3 * factor.std(ddof=1) / math.sqrt(len(factor)))


def test_lsuv_verdicts_can_fail(lsuv):
    ortho = lsuv.numbers["variance"]["orthogonal"]["variance"]
    assert not lsuv2015.variance_claim(ortho, label="orthogonal").holds
    swapped = common.deep_claim(lsuv.numbers["training"], trains="orthogonal", stalls="lsuv",
                                labels=lsuv2015.LABELS, what="§3")
    assert not swapped.holds


def test_lsuv_batch_is_seeded():
    X = np.arange(20.0).reshape(2, 10)
    assert np.array_equal(lsuv2015.lsuv_batch(X, 3, 4), lsuv2015.lsuv_batch(X, 3, 4))
    assert lsuv2015.lsuv_batch(X, 3, 4).shape == (2, 4)


# --- edge-of-chaos -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def eoc():
    return edge_of_chaos.reproduce(quick=True)


def test_edge_of_chaos_quick_holds(eoc):
    check_reproduction(eoc, edge_of_chaos)
    assert [c.holds for c in eoc.claims] == [True, True, True, True], eoc.lines()


def test_edge_of_chaos_against_the_length_map(eoc):
    p = eoc.numbers["propagation"]
    for s, q, chis, q_theory, chi_theory in zip(p["sigma_w2"], p["q_star"], np.exp(p["log_chi1"]), p["q_theory"],
                                                p["chi1_theory"]):
        q_ref, chi_ref = tanh_q_star(s, 0.05), tanh_chi1(s, 0.05)
        assert q_theory == pytest.approx(q_ref, rel=1e-6)
        assert chi_theory == pytest.approx(chi_ref, rel=1e-6)
        se_q, se_c = np.std(q, ddof=1) / math.sqrt(len(q)), np.std(chis, ddof=1) / math.sqrt(len(chis))
        assert abs(np.mean(q) - q_ref) <= max(0.05 * q_ref, 3 * se_q)
        assert abs(np.mean(chis) - chi_ref) <= max(0.05 * chi_ref, 3 * se_c)


def test_edge_of_chaos_transition(eoc):
    p = eoc.numbers["propagation"]
    # χ₁(σ_w²) = 1 solved here by bisection on the independent quadrature
    lo, hi = 1.0, 3.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if tanh_chi1(mid, 0.05) < 1 else (lo, mid)
    assert p["critical_theory"] == pytest.approx(lo, abs=1e-4)
    crossings = p["crossing"]
    assert None not in crossings
    se = np.std(crossings, ddof=1) / math.sqrt(len(crossings))
    assert abs(np.mean(crossings) - lo) <= max(0.05 * lo, 3 * se)


def test_edge_of_chaos_trainability_numbers(eoc):
    t = eoc.numbers["trainability"]
    from initlab.theory import mean_field

    for s, bound in zip(t["sigma_w2"], t["six_xi_c"]):
        assert bound == pytest.approx(6 * mean_field(s, 0.05, "tanh").xi_c)
    # in the ordered phase (c* = 1) ξ_c = −1/log χ₁, χ₁ from the independent quadrature
    s = t["sigma_w2"][0]
    assert s < 1.5 and t["six_xi_c"][0] == pytest.approx(-6 / math.log(tanh_chi1(s, 0.05)), rel=1e-4)
    assert t["predicted"] == [[d < b for b in t["six_xi_c"]] for d in t["depths"]]
    acc = np.asarray(t["accuracy"])
    assert acc.shape == (len(t["seeds"]), len(t["depths"]), len(t["sigma_w2"]))
    assert np.all(t["agreement"]) and min(t["agreement"]) >= edge_of_chaos.AGREEMENT


def test_edge_of_chaos_verdicts_can_fail():
    # q*: one layer from inputs of variance 25 is nowhere near the fixed point
    far = edge_of_chaos.propagation(sigma_w2=(1.0,), seeds=(0, 1), width=64, depth=2, burn_in=1, examples=8,
                                    input_scale=5.0)
    assert not edge_of_chaos.q_star_claim(far).holds
    # the transition: a grid entirely in the chaotic phase has no sign change
    chaotic = edge_of_chaos.propagation(sigma_w2=(2.5, 3.0), seeds=(0, 1), width=64, depth=20, burn_in=5, examples=8)
    assert chaotic["crossing"] == [None, None]
    assert not edge_of_chaos.transition_claim(chaotic).holds
    # χ₁ measured on relu nets is not tanh's χ₁
    relu = edge_of_chaos.propagation(sigma_w2=(1.5,), seeds=(0, 1), width=64, depth=20, burn_in=5, examples=8,
                                     activation="relu")
    relu["chi1_theory"] = [tanh_chi1(1.5, 0.05)]
    assert not edge_of_chaos.chi1_claim(relu).holds
    # trainability: one training step trains nothing, though L < 6 ξ_c predicts it trains
    untrained = edge_of_chaos.trainability(depths=(4,), sigma_w2=(2.0,), seeds=(0,), width=16, iterations=1)
    assert untrained["predicted"] == [[True]] and untrained["trained"] == [[[False]]]
    assert not edge_of_chaos.trainability_claim(untrained).holds


def test_reproduction_saves_figures(eoc, tmp_path):
    paths = eoc.save(str(tmp_path))
    assert set(paths) == set(eoc.figures)
    assert all((tmp_path / f"edge-of-chaos-{k}.png").stat().st_size > 0 for k in paths)


# --- the package's shape --------------------------------------------------------------------------
def test_no_paper_module_imports_another():
    """What experiments share lives in papers/common.py; a paper module imports no other paper module."""
    import ast
    import pathlib

    import initlab.papers

    folder = pathlib.Path(initlab.papers.__file__).parent
    papers = {p.stem for p in folder.glob("*.py")} - {"__init__", "common"}
    for path in sorted(folder.glob("*.py")):
        if path.stem not in papers:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else [(node.module or "").split(".")[0]] + [a.name for a in node.names if not node.module]
                inside = node.level == 1 or (node.module or "").startswith("initlab.papers")
                assert not (inside and set(n.split(".")[-1] for n in names) & papers), f"{path.name} imports {ast.unparse(node)}"
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("initlab.papers.") for a in node.names), f"{path.name}: {ast.unparse(node)}"


# --- yang2022 -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def yang():
    from initlab.papers import yang2022

    return yang2022.reproduce(quick=True)


def _tables(r):
    import pandas as pd

    return pd.DataFrame(r.numbers["runs"]), pd.DataFrame(r.numbers["optima"]), pd.DataFrame(r.numbers["shifts"])


def test_yang2022_quick_is_a_reproduction_and_adam_transfers_under_mup_only(yang):
    from initlab.papers import yang2022

    check_reproduction(yang, yang2022)
    claims = {c.statement: c for c in yang.claims}
    assert claims["Under μP with adam, the learning-rate optimum stays put as the width grows"].holds
    assert claims["Under SP with adam, the learning-rate optimum moves as the width grows"].holds
    assert len(claims) == 6


def test_yang2022_verdicts_follow_their_rules_from_the_numbers(yang):
    """Each verdict recomputed from the stored shifts by the rule as stated, independently of the module."""
    from initlab.papers import yang2022

    _, _, shifts = _tables(yang)
    for row in shifts.itertuples():
        label = "SP" if row.parametrization == "sp" else "μP"
        verb = "moves" if row.parametrization == "sp" else "stays put"
        claim = next(c for c in yang.claims if c.statement == f"Under {label} with {row.optimizer}, the learning-rate optimum {verb} as the width grows")
        ok = abs(row.slope) <= yang2022.STABLE if row.parametrization == "mup" else row.slope < -yang2022.STABLE
        assert claim.holds == (ok and not row.at_edge)
        assert f"slope {row.slope:+.2f}" in claim.measured


def test_yang2022_runs_are_the_grid_and_mup_is_sp_at_the_base_width(yang):
    runs, optima, _ = _tables(yang)
    s = yang.settings
    assert len(runs) == len(s["widths"]) * len(s["seeds"]) * 2 * sum(len(v) for v in s["learning_rates"].values())
    base = runs[runs.width == s["base_width"]].pivot_table(index=["optimizer", "learning_rate", "seed"],
                                                           columns="parametrization", values="final_train_cost")
    np.testing.assert_allclose(base["mup"], base["sp"], rtol=1e-12)
    assert len(optima) == len(s["widths"]) * 2 * 2 and (optima.seeds == len(s["seeds"])).all()


def test_yang2022_verdicts_can_fail(yang):
    """The rules say the opposite on tables built to contradict them."""
    from initlab.papers import yang2022

    runs, optima, shifts = _tables(yang)
    flipped = shifts.assign(slope=np.where(shifts.parametrization == "sp", 0.0, -1.0), at_edge=False)
    for name in ("sp", "mup"):
        assert not yang2022.shift_claim(optima, flipped, name, "adam").holds
    edge = shifts.assign(slope=np.where(shifts.parametrization == "sp", -1.0, 0.0), at_edge=True)
    assert not any(yang2022.shift_claim(optima, edge, name, "adam").holds for name in ("sp", "mup"))
    assert all(yang2022.shift_claim(optima, edge.assign(at_edge=False), name, "adam").holds for name in ("sp", "mup"))
    narrower_is_better = runs.assign(final_train_cost=runs.final_train_cost.fillna(np.inf) * 0 + runs.width.astype(float))
    assert not yang2022.wider_claim(narrower_is_better, optima, "adam").holds
    assert yang2022.wider_claim(narrower_is_better.assign(final_train_cost=1.0 / runs.width), optima, "adam").holds


# --- fixup2019 ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fixup():
    from initlab.papers import fixup2019

    return fixup2019.reproduce(quick=True)


def test_fixup2019_quick_holds_and_is_a_reproduction(fixup):
    from initlab.papers import fixup2019

    check_reproduction(fixup, fixup2019)
    assert fixup.holds, "\n".join(fixup.lines())
    t = fixup.numbers["trainability"]
    assert t["growth"] == pytest.approx(2.0 ** t["blocks"], rel=1e-9)  # He ReLU branches at α = 1: ×2 per block
    assert all(loss == math.log(10) or abs(loss - math.log(10)) < 1e-12 for loss in t["fixup"]["initial_loss"])  # the head is 0


def test_fixup2019_verdicts_follow_the_numbers_and_can_fail(fixup):
    from initlab.papers import fixup2019

    t, d = fixup.numbers["trainability"], fixup.numbers["transfer"]
    calm = fixup2019.trainability(2, 8, [0, 1], 40, schemes={"standard": "standard(order=post)", "fixup": "fixup"})
    assert not fixup2019.explodes_claim(calm).holds  # two blocks do not explode
    wild = fixup2019.trainability(4, 8, [0, 1], 30, learning_rate=20.0, schemes={"standard": "standard(order=post)",
                                                                                 "rezero": "rezero"})
    assert not fixup2019.trains_claim(wild).holds  # a learning rate of 20 trains nothing
    as_if_standard = dict(d, depth_mup=d["standard"])
    assert not fixup2019.transfer_claim(as_if_standard).holds
    no_shift = dict(d, standard=d["depth_mup"])
    assert not fixup2019.transfer_claim(no_shift).holds
    assert fixup2019.transfer_claim(d).holds == fixup.claims[2].holds
