"""initlab.jacobian: J(x) against central finite differences of the logits, the exact spectra of
linear networks, and the free-probability prediction of the moments against measured spectra.

Tolerances. Finite differences: step 1e-6 on float64 logits of size O(1), truncation ~1e-12 and
rounding ~1e-10/1e-6 = 1e-10, so 1e-7 relative (a wrong factor or transpose misses by O(1)). The
moments at width N = 300 and depth 4: the relative variance's finite-width correction is O(L/N)
(measured 1–3 % over seeds 0–3 at depth 8), so 10 %; the mean squared singular value of a ReLU
network fluctuates from one draw to the next by exp(O(L/N)) (measured 0.95–1.28 of the
prediction over four draws at depth 8), so 30 % there and 5 % for linear and tanh networks.
"""
import numpy as np
import pytest

from initlab import jacobian
from initlab._validation import InitlabError
from initlab.network import Network

SQUARE = dict(loss="mean_squared_error")  # n_L = n_0: a loss that takes several outputs


def logits(network, params, x):
    return network.forward(params, x[:, None])[0][:, 0]


def finite_differences(network, params, x, h=1e-6):
    """(n_L, n_0): central differences of the logits at x, one input coordinate at a time."""
    columns = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        columns.append((logits(network, params, x + e) - logits(network, params, x - e)) / (2 * h))
    return np.stack(columns, axis=1)


@pytest.mark.parametrize("network, init", [
    (Network((3, 5, 4, 2), activation="tanh", loss="cross_entropy"), "xavier_normal"),
    (Network((4, 6, 6, 4), activation="sigmoid", bias=False, **SQUARE), "he_normal"),
    (Network((2, 7, 3, 1), activation=["leaky_relu(slope=0.1)", "elu"]), "he_normal"),
    (Network((3, 8, 8, 1), activation="gelu", parametrization="mup"), "he_normal"),  # forward multipliers m_l
    (Network((5, 9, 2), activation="swish", **SQUARE, dtype="float32"), "lecun_normal"),
], ids=["tanh-ce", "sigmoid-nobias", "mixed", "mup", "float32"])
def test_the_jacobian_is_the_derivative_of_the_logits(network, init):
    params = network.init(init, rng=1, bias="normal(std=0.3)" if network.bias[0] else None).astype(np.float64)
    X = np.random.default_rng(2).standard_normal((network.sizes[0], 3))
    J = jacobian.input_jacobian(network, params, X)
    assert J.shape == (3, network.sizes[-1], network.sizes[0]) and J.dtype == np.float64
    net64 = Network(network.sizes, network.activation, network.loss, network.parametrization, network.bias)
    for e in range(3):
        reference = finite_differences(net64, params, X[:, e])
        np.testing.assert_allclose(J[e], reference, rtol=1e-7, atol=1e-7 * np.abs(reference).max())


def test_a_linear_network_without_bias_is_its_matrix_product():
    net = Network((4, 6, 5, 4), activation="linear", bias=False, **SQUARE)
    params = net.init("he_normal", rng=0)
    (W1, _), (W2, _), (W3, _) = net.unpack(params)
    J = jacobian.input_jacobian(net, params, np.ones((4, 2)))
    np.testing.assert_allclose(J, np.broadcast_to(W3 @ W2 @ W1, (2, 4, 4)), rtol=1e-13)


def test_orthogonal_linear_layers_are_an_exact_isometry_scaled_by_the_gains():
    gain, L = 1.3, 6
    net = Network((40,) * (L + 1), activation="linear", **SQUARE)
    s = jacobian.spectrum(net, net.init("orthogonal", rng=0, gain=gain), np.random.default_rng(0).standard_normal((40, 3)))
    np.testing.assert_allclose(s.singular_values, gain**L, rtol=1e-12)  # every singular value of every example
    assert s.relative_variance == pytest.approx(0, abs=1e-24)  # σ equal to ~1e-15: squared deviations ~1e-30
    assert s.predicted_mean_squared == pytest.approx(gain ** (2 * L), rel=1e-12)
    # the weights' terms are ~1e-30; each φ′ = 1 term is the quadrature's μ₂/μ₁² − 1 (its weights sum to 1 within ~1e-14)
    assert s.predicted_relative_variance == pytest.approx(0, abs=1e-12)


# (activation, initializer and options, inputs' scale, predicted relative variance at depth L = 4 in the
# wide limit: L weight matrices (1 each if Gaussian, 0 if orthogonal) + L − 1 derivatives (ReLU: 1
# each; tanh near q = 0: ≈ 0), written out here independently of the module's quadrature)
L, N = 4, 300
CASES = {
    "linear-gaussian": ("linear", "normal", {"std": 1 / np.sqrt(N)}, 1.0, L),
    "relu-gaussian": ("relu", "he_normal", {}, 1.0, 2 * L - 1),
    "relu-orthogonal": ("relu", "orthogonal", {"gain": np.sqrt(2)}, 1.0, L - 1),
    "tanh-gaussian": ("tanh", "xavier_normal", {}, 0.1, L),
    "tanh-orthogonal": ("tanh", "orthogonal", {}, 0.1, 0.0),
}


@pytest.mark.parametrize("case", CASES)
def test_the_prediction_matches_wide_networks(case):
    act, init, options, scale, wide_limit = CASES[case]
    net = Network((N,) * (L + 1), activation=act, **SQUARE)
    params = net.init(init, rng=0, bias=0.0, **options)
    s = jacobian.spectrum(net, params, scale * np.random.default_rng(1).standard_normal((N, 16)))
    assert s.singular_values.shape == (16, N)
    assert s.predicted_relative_variance == pytest.approx(wide_limit, rel=0.05, abs=0.02)  # the formula, at width 300
    assert s.relative_variance == pytest.approx(s.predicted_relative_variance, rel=0.10, abs=0.02)  # the measurement
    assert s.mean_squared == pytest.approx(s.predicted_mean_squared, rel=0.30 if act == "relu" else 0.05)


def test_relu_cannot_be_isometric_and_tanh_can():
    """Pennington et al.'s contrast, read off the measured spectra: orthogonal weights help tanh near
    q = 0 to a near-isometry, but a ReLU network's spread stays of the order of its depth."""
    spread = {}
    for case in ("relu-orthogonal", "tanh-orthogonal", "tanh-gaussian"):
        act, init, options, scale, _ = CASES[case]
        net = Network((N,) * (L + 1), activation=act, **SQUARE)
        spread[case] = jacobian.spectrum(net, net.init(init, rng=0, bias=0.0, **options),
                                         scale * np.random.default_rng(1).standard_normal((N, 4))).relative_variance
    assert spread["tanh-orthogonal"] < 0.05 < 1 < spread["relu-orthogonal"] < spread["tanh-gaussian"] + 1


def test_the_relative_variance_is_not_predicted_for_rectangular_layers():
    net = Network((3, 20, 20, 1), activation="relu")
    s = jacobian.spectrum(net, net.init("he_normal", rng=0), np.random.default_rng(0).standard_normal((3, 5)))
    assert s.singular_values.shape == (5, 1) and np.isfinite(s.predicted_mean_squared)
    assert np.isnan(s.predicted_relative_variance)
    assert "predicted" in s.summary() and s.summary().count("predicted") == 1  # the mean's, not the variance's


def test_no_prediction_from_all_zero_weights():
    net = Network((5, 5, 5), activation="tanh", **SQUARE)
    s = jacobian.spectrum(net, net.init("zeros"), np.ones((5, 2)))
    assert s.sv_max == 0 and np.isnan(s.predicted_mean_squared) and np.isnan(s.relative_variance)
    assert "predicted" not in s.summary() and s.summary().endswith("every singular value is 0 (nothing propagates from the input)")


def test_the_histogram_holds_every_singular_value():
    net = Network((30,) * 4, activation="relu", **SQUARE)
    s = jacobian.spectrum(net, net.init("he_normal", rng=0), np.random.default_rng(0).standard_normal((30, 4)))
    counts, edges = s.histogram(bins=12)
    assert counts.sum() == 4 * 30 and edges[0] == 0 and edges[-1] == pytest.approx(s.sv_max) and len(counts) == 12
    with pytest.raises(InitlabError, match="'bins' parameter"):
        s.histogram(bins=0)


@pytest.mark.parametrize("params, X, message", [
    (np.zeros(3), np.ones((2, 1)), "'params' parameter must have shape"),
    (np.full(Network((2, 3, 1)).n_params, np.nan), np.ones((2, 1)), "'params' parameter must be finite"),
    (None, np.ones((3, 1)), "'X' parameter must be an array with 2 rows"),
])
def test_bad_input_names_the_parameter(params, X, message):
    net = Network((2, 3, 1))
    params = net.init("he_normal", rng=0) if params is None else params
    with pytest.raises(InitlabError, match=message):
        jacobian.spectrum(net, params, X)


def test_upto_differentiates_a_hidden_layers_pre_activation():
    net = Network((4, 4, 4, 4, 1), activation="tanh")
    params = net.init("xavier_normal", rng=3, bias="normal(std=0.2)")
    X = np.random.default_rng(4).standard_normal((4, 2))
    hidden = Network((4, 4, 4), activation="tanh", **SQUARE)  # the first two layers alone
    first_two = params[:hidden.n_params]  # W_1, b_1, W_2, b_2 lead the flat layout
    for e in range(2):
        reference = finite_differences(hidden, first_two, X[:, e])
        np.testing.assert_allclose(jacobian.input_jacobian(net, params, X, upto=2)[e], reference, rtol=1e-7, atol=1e-9)
    s = jacobian.spectrum(net, params, X, upto=3)  # square: 4 → 4 → 4 → 4
    assert s.singular_values.shape == (2, 4) and np.isfinite(s.predicted_relative_variance)
    assert np.isnan(jacobian.spectrum(net, params, X).predicted_relative_variance)  # the logits: 4 → 1
    with pytest.raises(InitlabError, match="'upto' parameter"):
        jacobian.spectrum(net, params, X, upto=5)


def test_a_probe_studys_spectra_are_its_seed_0_draws():
    """study_spectra reads the weights and inputs signal_propagation's seed 0 probes (seed_draw is
    that draw: its probe table is the study's seed-0 table), of the last hidden layer."""
    from initlab import diagnostics

    net = diagnostics.deep_network(depth=3, width=24, activation="tanh")
    study = diagnostics.signal_propagation(net, ["orthogonal", "normal(std=0.3)"], seeds=2, batch=20)
    spectra = jacobian.study_spectra(net, ["orthogonal", "normal(std=0.3)"], batch=20, examples=5)
    assert list(spectra) == ["orthogonal", "normal(std=0.3)"]
    for label, name, options in [("orthogonal", "orthogonal", {}), ("normal(std=0.3)", "normal", {"std": 0.3})]:
        X, params, rng = diagnostics.seed_draw(net, name, options, 0, 20)
        seed0 = study.table[(study.table["init"] == label) & (study.table["seed"] == 0)].reset_index(drop=True)
        probed = diagnostics.probe(net, params, X, rng=rng).table
        np.testing.assert_allclose(seed0["grad_var"], probed["grad_var"], rtol=1e-12)
        expected = jacobian.spectrum(net, params, X[:, :5], upto=3)
        np.testing.assert_array_equal(spectra[label].singular_values, expected.singular_values)
        assert spectra[label].layer == 3 and np.isfinite(spectra[label].predicted_relative_variance)  # 24 → 24 → 24 → 24


# --- residual networks ------------------------------------------------------------------------------
@pytest.mark.parametrize("scheme", ["skipinit(alpha=0.4)", "standard(order=post)", "fixup(depth=3)"])
def test_a_residual_networks_jacobian_is_the_finite_differences_one(scheme):
    from initlab.network import residual_network

    net = residual_network(3, 4, 2, 2, residual=scheme, activation="tanh", loss="cross_entropy", hidden=5)
    rng = np.random.default_rng(1)
    params = net.init("he_normal", rng=1) + 0.2 * rng.standard_normal(net.n_params)
    X = rng.standard_normal((3, 5))
    J = jacobian.input_jacobian(net, params, X)
    for e in range(X.shape[1]):
        np.testing.assert_allclose(J[e], finite_differences(net, params, X[:, e]), atol=1e-8)
    with pytest.raises(InitlabError, match="The 'upto' parameter must be None \\(the logits\\) for a residual network"):
        jacobian.input_jacobian(net, params, X, upto=2)


@pytest.mark.parametrize("scheme, activation, rtol", [("standard(alpha=0.5)", "tanh", 0.05), ("depth_mup", "relu", 0.2)])
def test_a_residual_networks_mean_squared_singular_value_is_near_the_free_prediction(scheme, activation, rtol):
    """Seen at width 256, three draws: tanh 1.0000×, ReLU 1.10× (the blocks' φ′ share the stream's coordinates)."""
    from initlab.network import residual_network

    net = residual_network(256, 256, 8, residual=scheme, activation=activation)
    X = np.random.default_rng(0).standard_normal((256, 32))
    pairs = [(s.mean_squared, s.predicted_mean_squared) for s in (jacobian.spectrum(net, net.init("he_normal", rng=k), X) for k in range(3))]
    measured, predicted = np.mean(pairs, axis=0)
    assert measured == pytest.approx(predicted, rel=rtol)
    post = residual_network(16, 16, 2, residual="standard(order=post)")
    assert np.isnan(jacobian.spectrum(post, post.init("he_normal", rng=0), X[:16]).predicted_mean_squared)
