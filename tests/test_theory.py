"""Mean-field theory against independent references: closed forms (relu, linear, leaky relu,
arc-cosine kernel), Monte Carlo with fixed seeds (tolerances from the sample size) and a wide
simulated network."""
import dataclasses
import math

import numpy as np
import pytest

from initlab._validation import InitlabError
from initlab.activations import get_activation
from initlab.theory import (
    MeanField, chaos_phase, chi1, chi_c, chi_q, correlation_fixed_point, correlation_map, critical_sigma_w2, depth_scale,
    fixed_point, length_map, mean_field, mean_square, mean_square_trajectory, variance_trajectory,
)

N_MC = 1_000_000
GRID = [(0.3, 1.0, 0.0), (1.0, 2.0, 0.1), (2.5, 0.7, 0.5), (10.0, 1.9, 0.05)]  # (q, σ_w², σ_b²)


def mc_mean(x):
    """Sample mean and the half-width of a 5-standard-error band around it."""
    return float(np.mean(x)), 5.0 * float(np.std(x)) / math.sqrt(x.size)


@pytest.fixture(scope="module")
def z():
    return np.random.default_rng(20240611).standard_normal((2, N_MC))


# --- closed forms --------------------------------------------------------------------------------------
@pytest.mark.parametrize("q, sw, sb", GRID)
def test_length_map_closed_forms(q, sw, sb):
    assert length_map(q, sw, sb, "relu") == pytest.approx(sw * q / 2 + sb, rel=1e-13)
    assert length_map(q, sw, sb, "linear") == pytest.approx(sw * q + sb, rel=1e-13)
    leaky = get_activation("leaky_relu", slope=0.2)  # an Activation object, options included
    assert length_map(q, sw, sb, leaky) == pytest.approx(sw * q * (1 + 0.2**2) / 2 + sb, rel=1e-13)
    assert mean_square(q, "relu") == pytest.approx(q / 2, rel=1e-13)


@pytest.mark.parametrize("q, sw, sb", GRID + [(0.0, 1.5, 0.0)])
def test_chi1_closed_forms(q, sw, sb):
    # relu′ jumps at 0: still exactly σ_w²/2 at any q, even q = 0 where every node sits on the jump
    assert chi1(sw, sb, "relu", q=q) == pytest.approx(sw / 2, rel=1e-13)
    assert chi1(sw, sb, "linear", q=q) == pytest.approx(sw, rel=1e-13)
    leaky = get_activation("leaky_relu", slope=0.2)
    assert chi1(sw, sb, leaky, q=q) == pytest.approx(sw * (1 + 0.2**2) / 2, rel=1e-13)
    assert chi_q(sw, sb, "relu", q=q) == pytest.approx(sw / 2, rel=1e-8)  # the relu length map is linear


def test_variance_trajectory_relu_closed_form():
    sw, sb, q0, depth = 1.6, 0.2, 3.0, 12
    expected = [q0]
    for _ in range(depth):
        expected.append(sw * expected[-1] / 2 + sb)
    traj = variance_trajectory(q0, depth, sw, sb, "relu")
    assert traj.shape == (depth + 1,)
    np.testing.assert_allclose(traj, expected, rtol=1e-12)
    np.testing.assert_allclose(mean_square_trajectory(q0, depth, sw, sb, "relu"), np.array(expected) / 2, rtol=1e-12)
    assert variance_trajectory(q0, 0, sw, sb, "relu").tolist() == [q0]


def test_variance_trajectory_overflow_stays_inf():
    traj = variance_trajectory(1.0, 3000, 4.0, 0.0, "relu")  # doubles each layer: past 1e308 near 1024
    assert traj[1000] == pytest.approx(2.0**1000) and np.isinf(traj[-1])


@pytest.mark.parametrize("sw, sb, expected", [(1.0, 0.1, 0.2), (1.5, 0.3, 1.2), (0.4, 1.0, 1.25)])
def test_fixed_point_closed_forms(sw, sb, expected):
    assert fixed_point(sw, sb, "relu") == pytest.approx(expected, rel=1e-10)  # σ_b²/(1 − σ_w²/2)
    assert fixed_point(sw / 2, sb, "linear") == pytest.approx(expected, rel=1e-10)  # σ_b²/(1 − σ_w²)


@pytest.mark.parametrize("sw, name", [(1.0, "relu"), (1.99, "relu"), (0.5, "tanh"), (0.999, "tanh"), (1.0, "tanh"),
                                      (0.9, "linear")])
def test_fixed_point_collapses_to_zero(sw, name):
    assert fixed_point(sw, 0.0, name) == 0.0


def test_fixed_point_just_past_the_tanh_edge():
    # σ_b² = 0, σ_w² = 1 + ε: q* ≈ ε/2 (tanh² ≈ x² − 2x⁴/3), however slowly q^l crawls there
    for eps in (1e-2, 1e-4, 1e-6):
        assert fixed_point(1 + eps, 0.0, "tanh") == pytest.approx(eps / 2, rel=3 * eps)


@pytest.mark.parametrize("sw, sb, name", [(3.0, 0.0, "relu"), (2.01, 0.1, "relu"), (2.0, 0.1, "relu"),
                                          (1.0, 0.1, "linear"), (2.5, 0.0, "elu")])
def test_fixed_point_without_finite_limit_raises(sw, sb, name):
    with pytest.raises(InitlabError, match="no finite fixed point"):
        fixed_point(sw, sb, name)


# --- Monte Carlo for tanh -------------------------------------------------------------------------------
@pytest.mark.parametrize("q, sw, sb", GRID)
def test_tanh_length_map_and_chi1_match_monte_carlo(z, q, sw, sb):
    u = math.sqrt(q) * z[0]
    m, band = mc_mean(np.tanh(u) ** 2)
    assert length_map(q, sw, sb, "tanh") == pytest.approx(sw * m + sb, abs=sw * band)
    m, band = mc_mean(np.cosh(u) ** -4)  # tanh′ = sech²
    assert chi1(sw, sb, "tanh", q=q) == pytest.approx(sw * m, abs=sw * band)
    # χ_q = σ_w² E[φ″φ + φ′²] with the closed-form tanh″ = −2 tanh sech²: the finite-difference slope
    m, band = mc_mean(-2 * np.tanh(u) ** 2 / np.cosh(u) ** 2 + np.cosh(u) ** -4)
    assert chi_q(sw, sb, "tanh", q=q) == pytest.approx(sw * m, abs=sw * band)


def mc_fixed_point(z, sw, sb, layers=80):
    q = 1.0
    for _ in range(layers):
        q = sw * float(np.mean(np.tanh(math.sqrt(q) * z) ** 2)) + sb
    return q


@pytest.mark.parametrize("sw, sb", [(1.5, 0.05), (3.0, 0.1), (1.2, 0.0)])
def test_tanh_fixed_point_matches_monte_carlo(z, sw, sb):
    q = fixed_point(sw, sb, "tanh")
    assert length_map(q, sw, sb, "tanh") == pytest.approx(q, rel=1e-10)
    _, band = mc_mean(np.tanh(math.sqrt(q) * z[0]) ** 2)
    slope = chi_q(sw, sb, "tanh")  # an error δ in the map moves the fixed point by δ/(1 − slope)
    assert q == pytest.approx(mc_fixed_point(z[0], sw, sb), abs=sw * band / (1 - slope))
    assert variance_trajectory(5.0, 300, sw, sb, "tanh")[-1] == pytest.approx(q, rel=1e-8)  # and attracts


# --- the correlation map --------------------------------------------------------------------------------
@pytest.mark.parametrize("c", [-0.7, 0.0, 0.4, 0.95, 1.0])
def test_correlation_map_linear_and_relu_closed_forms(c):
    sw, sb = 0.5, 0.3
    q = fixed_point(sw, sb, "linear")
    assert correlation_map(c, sw, sb, "linear") == pytest.approx((sw * q * c + sb) / q, rel=1e-12)
    # relu: the arc-cosine kernel E[relu(u₁)relu(u₂)] = q (sin θ + (π − θ) cos θ)/(2π), c = cos θ
    # (Cho & Saul 2009); its kink u₂ = 0 is oblique to the 2-D grid, so only approximated
    sw, sb = 1.5, 0.2
    q = fixed_point(sw, sb, "relu")
    theta = math.acos(c)
    expected = (sw * q * (math.sin(theta) + (math.pi - theta) * c) / (2 * math.pi) + sb) / q
    assert correlation_map(c, sw, sb, "relu") == pytest.approx(expected, abs=3e-3)


@pytest.mark.parametrize("c", [0.0, 0.3, 0.8])
def test_tanh_correlation_map_matches_monte_carlo(z, c):
    sw, sb = 2.5, 0.05
    q = fixed_point(sw, sb, "tanh")
    u1, u2 = math.sqrt(q) * z[0], math.sqrt(q) * (c * z[0] + math.sqrt(1 - c * c) * z[1])
    m, band = mc_mean(np.tanh(u1) * np.tanh(u2))
    assert correlation_map(c, sw, sb, "tanh") == pytest.approx((sw * m + sb) / q, abs=sw * band / q)
    m, band = mc_mean(np.cosh(u1) ** -2 * np.cosh(u2) ** -2)
    assert chi_c(sw, sb, "tanh", c=c) == pytest.approx(sw * m, abs=sw * band)


def test_correlation_map_at_another_q_stays_a_correlation():
    assert correlation_map(1.0, 2.5, 0.05, "tanh", q=0.3) == pytest.approx(1.0, rel=1e-12)
    assert correlation_map(0.5, 1.0, 0.0, "linear", q=2.0) == pytest.approx(0.5, rel=1e-12)


def test_correlation_fixed_point_by_phase():
    assert correlation_fixed_point(1.2, 0.05, "tanh") == 1.0  # ordered: inputs merge
    assert correlation_fixed_point(1.5, 0.0, "relu") == 1.0
    assert correlation_fixed_point(2.0, 0.0, "tanh") == pytest.approx(0.0, abs=1e-9)  # odd φ, no bias
    for sw in (1.8, 2.5, 4.0):  # chaotic: a stable c* < 1
        c = correlation_fixed_point(sw, 0.05, "tanh")
        assert 0.0 < c < 1.0
        assert correlation_map(c, sw, 0.05, "tanh") == pytest.approx(c, abs=1e-10)
        assert chi_c(sw, 0.05, "tanh") < 1.0 < chi1(sw, 0.05, "tanh")


def test_chi_c_at_one_is_chi1():
    for sw, sb, name in [(1.2, 0.05, "tanh"), (1.5, 0.0, "relu"), (0.7, 0.3, "selu")]:
        assert chi_c(sw, sb, name, c=1.0) == chi1(sw, sb, name)
        assert chi_c(sw, sb, name) == chi1(sw, sb, name)  # ordered: c* = 1


# --- the edge of chaos ----------------------------------------------------------------------------------
@pytest.mark.parametrize("sb, name, expected", [(0.0, "relu", 2.0), (0.3, "relu", 2.0), (0.0, "linear", 1.0),
                                                (0.0, "tanh", 1.0), (0.0, "leaky_relu", 2 / (1 + 0.01**2))])
def test_critical_sigma_w2_known_values(sb, name, expected):
    assert critical_sigma_w2(sb, name) == pytest.approx(expected, rel=1e-9)


def test_critical_tanh_has_collapsed_variance():
    assert fixed_point(critical_sigma_w2(0.0, "tanh"), 0.0, "tanh") == 0.0


def test_critical_tanh_with_bias_checked_by_monte_carlo(z):
    sb = 0.05
    sw = critical_sigma_w2(sb, "tanh")
    assert sw == pytest.approx(1.76, abs=0.01)  # Poole et al. 2016 Fig. 2, Schoenholz et al. 2017
    # independent: q* by iterating a Monte Carlo length map, then χ₁ by Monte Carlo at that q*
    q = mc_fixed_point(z[0], sw, sb)
    m, band = mc_mean(np.cosh(math.sqrt(q) * z[0]) ** -4)
    _, band_q = mc_mean(np.tanh(math.sqrt(q) * z[0]) ** 2)
    # χ₁ moves by |dχ₁/dq| ≈ 1.3 per unit of q; q* carries the length map's error over 1 − χ_q ≈ 0.5
    assert sw * m == pytest.approx(1.0, abs=sw * band + 1.5 * sw * band_q / 0.5)
    below, at, above = mean_field(0.95 * sw, sb, "tanh"), mean_field(sw, sb, "tanh"), mean_field(1.05 * sw, sb, "tanh")
    assert (below.phase, at.phase, above.phase) == ("ordered", "critical", "chaotic")
    assert at.xi_c > 1e6 and below.xi_c < 100 and above.xi_c < 100  # ξ_c diverges at the edge
    assert math.isfinite(at.xi_q) and at.xi_q < 5  # ξ_q does not (Schoenholz et al. 2017)


def test_critical_sigma_w2_grows_with_bias():
    values = [critical_sigma_w2(sb, "tanh") for sb in (0.0, 0.05, 0.5, 2.0)]
    assert values == sorted(values) and len(set(values)) == 4


def test_critical_sigma_w2_reports_a_jump():
    # gelu, σ_b² = 0, from q0 = 1: q^l collapses (χ₁ ≈ 0.59) or explodes, never χ₁ = 1
    with pytest.raises(InitlabError, match="no edge of chaos"):
        critical_sigma_w2(0.0, "gelu")


# --- a simulated wide network ---------------------------------------------------------------------------
@pytest.mark.parametrize("sw, sb, q0", [(1.5, 0.05, 3.0), (3.0, 0.1, 0.2)])  # ordered, chaotic
def test_wide_tanh_network_follows_variance_trajectory(sw, sb, q0):
    width, depth, inputs, nets = 1000, 10, 20, 8
    act = get_activation("tanh")
    rng = np.random.default_rng(7)
    measured, activations = np.zeros(depth + 1), np.zeros(depth + 1)
    for _ in range(nets):
        H = math.sqrt(q0) * rng.standard_normal((width, inputs))
        for l in range(depth + 1):
            if l:
                W = rng.standard_normal((width, width), dtype=np.float32) * math.sqrt(sw / width)
                H = W @ act.fn(H) + rng.standard_normal((width, 1)) * math.sqrt(sb)
            measured[l] += np.mean(H**2) / nets
            activations[l] += np.mean(act.fn(H) ** 2) / nets
    # a mean of width × nets squares has relative sd ≈ √(2/(width·nets)) (the inputs do not count:
    # in the ordered phase they become one); allow 3 of them
    rtol = 3 * math.sqrt(2 / (width * nets))
    np.testing.assert_allclose(measured, variance_trajectory(q0, depth, sw, sb, "tanh"), rtol=rtol)
    np.testing.assert_allclose(activations, mean_square_trajectory(q0, depth, sw, sb, "tanh"), rtol=rtol)


# --- summary and depth scales ---------------------------------------------------------------------------
def test_mean_field_summary():
    mf = mean_field(1.0, 0.1, "relu")
    assert isinstance(mf, MeanField) and mf.activation == "relu" and mf.phase == "ordered"
    assert mf.q_star == pytest.approx(0.2) and mf.chi1 == pytest.approx(0.5) and mf.c_star == 1.0
    assert mf.xi_q == pytest.approx(1 / math.log(2), rel=1e-8) and mf.xi_c == pytest.approx(1 / math.log(2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        mf.q_star = 1.0
    assert mean_field(2.0, 0.0, "relu").phase == "critical"


def test_depth_scale():
    assert depth_scale(math.exp(-0.25)) == pytest.approx(4.0)
    assert depth_scale(1.0) == math.inf and depth_scale(1.3) == math.inf and depth_scale(0.0) == 0.0


def test_depth_scale_of_length_map_measures_convergence():
    # q^l − q* shrinks by χ_q per layer: compare with the trajectory itself
    sw, sb = 3.0, 0.1
    q_star, traj = fixed_point(sw, sb, "tanh"), variance_trajectory(5.0, 30, sw, sb, "tanh")
    ratio = (traj[21] - q_star) / (traj[20] - q_star)
    assert ratio == pytest.approx(chi_q(sw, sb, "tanh"), rel=1e-4)


# --- bad input ------------------------------------------------------------------------------------------
def test_unknown_activation_lists_valid_names():
    with pytest.raises(InitlabError, match=r"Unknown activation 'tahn'\. Expected one of: .*relu.*tanh.*Did you mean 'tanh'"):
        length_map(1.0, 1.0, 0.0, "tahn")
    with pytest.raises(InitlabError, match="Unknown activation"):
        critical_sigma_w2(0.0, 3)


def test_sigma_w2_message_shape():
    with pytest.raises(InitlabError) as e:
        fixed_point(-1, 0.0, "tanh")
    assert str(e.value) == "The 'sigma_w2' parameter must be a finite float > 0. Got -1 instead."


@pytest.mark.parametrize("call, name", [
    (lambda: length_map(1.0, 0.0, 0.0, "tanh"), "sigma_w2"),
    (lambda: length_map(1.0, float("inf"), 0.0, "tanh"), "sigma_w2"),
    (lambda: chi1(1.0, -0.1, "tanh"), "sigma_b2"),
    (lambda: variance_trajectory(1.0, 3, 1.0, float("nan"), "tanh"), "sigma_b2"),
    (lambda: critical_sigma_w2(-1.0, "tanh"), "sigma_b2"),
    (lambda: length_map(-0.5, 1.0, 0.0, "tanh"), "q"),
    (lambda: length_map(float("inf"), 1.0, 0.0, "tanh"), "q"),
    (lambda: chi1(1.0, 0.0, "tanh", q=float("nan")), "q"),
    (lambda: mean_square(-1.0, "relu"), "q"),
    (lambda: variance_trajectory(-1.0, 3, 1.0, 0.0, "tanh"), "q0"),
    (lambda: fixed_point(1.0, 0.0, "tanh", q0=0.0), "q0"),
    (lambda: variance_trajectory(1.0, -1, 1.0, 0.0, "tanh"), "depth"),
    (lambda: variance_trajectory(1.0, 2.5, 1.0, 0.0, "tanh"), "depth"),
    (lambda: fixed_point(1.0, 0.0, "tanh", max_iter=0), "max_iter"),
    (lambda: correlation_map(1.5, 2.0, 0.05, "tanh"), "c"),
    (lambda: chi_c(2.0, 0.05, "tanh", c=float("nan")), "c"),
])
def test_bad_numbers_name_the_parameter(call, name):
    with pytest.raises(InitlabError, match=rf"The '{name}' parameter must be"):
        call()


def test_correlation_map_needs_a_nonzero_variance():
    with pytest.raises(InitlabError, match="undefined at q = 0"):
        correlation_map(0.5, 0.5, 0.0, "tanh")  # q* = 0 there


@pytest.mark.parametrize("activation", ["relu", "tanh", "selu", "linear"])
@pytest.mark.parametrize("sigma_b2", [0.0, 0.1])
def test_chaos_phase_agrees_with_the_critical_line(activation, sigma_b2):
    """A point just left of critical_sigma_w2's edge is ordered, just right of it chaotic (relu's right
    side has no fixed point: chaos_phase reads χ₁ at q = ∞ there, as the edge's solver does)."""
    edge = critical_sigma_w2(sigma_b2, activation)
    below, chi_below = chaos_phase(edge * 0.95, sigma_b2, activation)
    above, chi_above = chaos_phase(edge * 1.05, sigma_b2, activation)
    assert (below, above) == ("ordered", "chaotic") and chi_below < 1 < chi_above
    if sigma_b2 == 0.0:
        assert chaos_phase(edge * 0.95, 0.0, activation)[1] == pytest.approx(chi1(edge * 0.95, 0.0, activation), rel=1e-9)
