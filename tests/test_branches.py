"""The branch schemes (initlab.branches) and the residual networks they start (initlab.network).

SCHEMES is written by hand from each paper's rule (the module's table): an entry that changes its
start fails its record, and a new registry entry without a record fails the first test. Gradients are
checked against central finite differences at perturbed parameters (so that a zero α or a zero layer
hides no term), in both orders, for every scheme.
"""
import json
import math
import pickle
import re

import numpy as np
import pytest

from initlab._validation import InitlabError
from initlab.branches import BRANCHES, get_branch
from initlab.network import Network, residual_network
from initlab.options import TrainOptions
from initlab.training import train
from test_network import numeric_gradient

K = 16  # blocks, in the records
# name -> (order, depth, learnable, α_k at K, branch layer scales at K (m = 2), zero head, lr factor SGD, lr factor Adam, ε factor Adam)
SCHEMES = {
    "standard": ("pre", 2, False, 1.0, (1.0, 1.0), False, 1.0, 1.0, 1.0),
    "fixup": ("post", 2, True, 1.0, (0.25, 0.0), True, 1.0, 1.0, 1.0),  # K^(−1/(2·2−2)) = 1/4, the last layer 0
    "skipinit": ("pre", 2, True, 0.0, (1.0, 1.0), False, 1.0, 1.0, 1.0),
    "rezero": ("pre", 2, True, 0.0, (1.0, 1.0), False, 1.0, 1.0, 1.0),
    "depth_mup": ("pre", 2, False, 0.25, (1.0, 1.0), False, 1.0, 0.25, 0.25),  # 1/√16; SGD K^0, Adam K^(−1/2)
    "completep": ("pre", 2, False, 1 / 16, (1.0, 1.0), False, 16.0, 1.0, 1 / 16),  # 1/K; SGD K^1, Adam K^0, ε K^(−1)
}


def test_every_scheme_has_a_record():
    assert sorted(SCHEMES) == sorted(BRANCHES)


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_the_record_holds(name):
    order, depth, learnable, alpha, scales, zero_head, lr_sgd, lr_adam, eps_adam = SCHEMES[name]
    scheme = get_branch(name)
    assert (scheme.order, scheme.depth, scheme.learnable, scheme.zero_head) == (order, depth, learnable, zero_head)
    assert scheme.initial_alpha(K) == pytest.approx(alpha, rel=1e-15)
    assert tuple(scheme.layer_scale(j, K) for j in range(2)) == pytest.approx(scales, rel=1e-15)
    options = {"optimizer": "adam"} if name in ("depth_mup", "completep") else {}
    assert scheme.lr_factor(K) == pytest.approx(lr_sgd, rel=1e-15)
    adam = get_branch(name, **options)
    assert (adam.lr_factor(K), adam.eps_factor(K)) == pytest.approx((lr_adam, eps_adam), rel=1e-15)


def test_only_fixup_has_scalar_biases_and_they_sit_before_the_multipliers():
    assert [name for name in sorted(BRANCHES) if get_branch(name).scalar_biases] == ["fixup"]
    assert not get_branch("fixup(scalar_biases=False)").scalar_biases
    net, bare = residual_network(2, 6, 3, residual="fixup", hidden=4), residual_network(2, 6, 3, residual="fixup(scalar_biases=False)", hidden=4)
    assert net.n_params == bare.n_params + 3 * 2 and [b.shift for b in net.blocks] == [bare.blocks[0].alpha + 2 * k for k in range(3)]
    params = net.init("he_normal", rng=0)
    assert all(not net.shifts(params, b).any() for b in net.blocks) and net.alphas(params).tolist() == [1.0] * 3
    np.testing.assert_array_equal(params[:bare.blocks[0].alpha], bare.init("he_normal", rng=0)[:bare.blocks[0].alpha])


def test_a_scalar_bias_shifts_its_layers_input():
    """z = W(a + β) + b: β added to every unit of the branch layer's input, so the network with β equals the
    one without whose bias b_l is b_l + β·W_l·1 (and nothing else)."""
    net = residual_network(2, 5, 2, residual="fixup", activation="tanh")
    rng = np.random.default_rng(0)
    params = net.init("he_normal", rng=0) + 0.3 * rng.standard_normal(net.n_params)
    bare = residual_network(2, 5, 2, residual="fixup(scalar_biases=False)", activation="tanh")
    folded = np.concatenate([params[:bare.blocks[0].alpha], net.alphas(params)])
    for block in net.blocks:
        for j, l in enumerate(range(block.first, block.last + 1)):
            W, b = bare.unpack(folded)[l]
            b += net.shifts(params, block)[j] * W.sum(axis=1, keepdims=True)
    X = rng.standard_normal((2, 6))
    np.testing.assert_allclose(net.forward(params, X)[0], bare.forward(folded, X)[0], rtol=1e-12)


def test_fixups_scale_follows_the_branch_depth():
    assert get_branch("fixup(depth=3)").layer_scale(0, 81) == pytest.approx(81 ** -0.25)  # L^(−1/(2m−2)), m = 3
    assert [get_branch("fixup(depth=3)").layer_scale(j, 81) for j in (1, 2)][1] == 0.0


@pytest.mark.parametrize("text, message", [
    ("rezro", "Did you mean 'rezero'?"),
    ("standard(order=middle)", "The 'order' parameter must be one of"),
    ("standard(depth=0)", "The 'depth' parameter must be an int"),
    ("fixup(depth=1)", "The 'depth' parameter must be an int >= 2 for fixup"),
    ("standard(alpha=nan)", "(option 'alpha'). Got nan instead"),
    ("standard(alpha=big)", "The 'alpha' parameter must be a finite float. Got 'big' instead"),
    ("depth_mup(optimizer=lion)", "The 'optimizer' parameter must be one of"),
    ("rezero(alpha=0.1)", "does not take options ['alpha']"),
])
def test_bad_schemes_say_what_is_allowed(text, message):
    with pytest.raises(InitlabError, match=re.escape(message)):
        Network((2, 8, 8, 8, 1), residual=text)


def test_sizes_must_make_whole_blocks_and_a_width_change_gets_a_projection():
    with pytest.raises(InitlabError, match=r"2 \+ K·2 layers. Got 5 layers"):
        Network((2, 8, 8, 8, 8, 1), residual="standard")
    assert Network((2, 8, 4, 8, 4, 8, 1), residual="standard").sizes == residual_network(2, 8, 2, hidden=4).sizes
    net = Network((2, 8, 4, 8, 4, 6, 1), residual="standard")  # block 2 ends at 6: P_2 (6, 8) on its skip path
    plain = Network(net.sizes)
    assert [b.proj_shape for b in net.blocks] == [(0, 0), (6, 8)] and net.blocks[1].proj == plain.n_params
    assert net.n_params == plain.n_params + 48 + 2 and net.alphas(np.arange(net.n_params)).tolist() == [plain.n_params + 48,
                                                                                                        plain.n_params + 49]
    params = net.init("he_normal", rng=0)  # P drawn after the layers, by the same initializer (He: variance 2/8)
    np.testing.assert_array_equal(params[:plain.n_params], plain.init("he_normal", rng=0))
    stream = np.random.RandomState(0)  # an int seed: the notebook's stream, randn per W (the biases draw nothing)
    for W, _ in plain.unpack(np.zeros(plain.n_params)):
        stream.randn(*W.shape)
    np.testing.assert_allclose(net.projection(params, net.blocks[1]), stream.randn(6, 8) * np.sqrt(2 / 8), rtol=1e-12)


def test_a_residual_network_is_plain_data():
    net = residual_network(3, 8, 4, 2, residual="skipinit(alpha=0.1, order=post)", loss="cross_entropy", activation="tanh")
    data = json.loads(json.dumps(net.to_json()))
    assert data["residual"] == net.residual.to_json() and get_branch(net.residual).order == "post"
    assert Network.from_json(data) == net and hash(Network.from_json(data)) == hash(net)
    assert pickle.loads(pickle.dumps(net)) == net
    assert "residual" not in Network((2, 10, 5, 1)).to_json()  # a plain network writes what it always wrote
    assert net != residual_network(3, 8, 4, 2, residual="skipinit(alpha=0.2, order=post)", loss="cross_entropy", activation="tanh")


def test_the_layout_appends_one_multiplier_per_block():
    net = residual_network(2, 6, 3, residual="rezero", hidden=4)
    plain = Network(net.sizes)
    assert net.n_params == plain.n_params + 3
    assert [b.alpha for b in net.blocks] == [plain.n_params, plain.n_params + 1, plain.n_params + 2]
    assert [(b.first, b.last) for b in net.blocks] == [(1, 2), (3, 4), (5, 6)]
    params = net.init("he_normal", rng=0)
    np.testing.assert_array_equal(net.alphas(params), 0.0)
    np.testing.assert_array_equal(params[:plain.n_params], plain.init("he_normal", rng=0))  # the same draws


# --- gradients -------------------------------------------------------------------------------------
SCHEME_TEXTS = ["standard", "fixup", "skipinit(alpha=0.3)", "rezero", "depth_mup", "completep",
                "standard(alpha=0.7, learnable=True, depth=1)", "standard(depth=3)"]


@pytest.mark.parametrize("order", ["pre", "post"])
@pytest.mark.parametrize("scheme", SCHEME_TEXTS)
@pytest.mark.parametrize("activation", ["tanh", "gelu", ("relu", "elu", "softplus", "leaky_relu(slope=0.2)", "swish", "tanh", "relu")])
def test_gradients_match_finite_differences(order, scheme, activation):
    spec = get_branch(scheme, order=order)
    net = residual_network(3, 5, 2, 2, residual=spec, hidden=4, loss="cross_entropy",
                           activation=activation if isinstance(activation, str) else activation[:1 + 2 * spec.depth])
    rng = np.random.default_rng(1)
    params = net.init("he_normal", rng=2) + 0.3 * rng.standard_normal(net.n_params)  # every α, every layer non-zero
    X = rng.standard_normal((3, 7))
    Y = np.eye(2)[:, rng.integers(0, 2, 7)]
    grad = net.backward(params, net.forward(params, X)[1], Y).grad
    np.testing.assert_allclose(grad, numeric_gradient(net, params, X, Y), rtol=0, atol=1e-8 * np.max(np.abs(grad)))


@pytest.mark.parametrize("order", ["pre", "post"])
@pytest.mark.parametrize("scheme", ["standard", "skipinit(alpha=0.3)", "fixup", "standard(depth=1, learnable=True)"])
def test_gradients_through_projections(order, scheme):
    spec = get_branch(scheme, order=order)
    sizes = (3, 4, 5, 6, 6, 6, 4, 3, 2) if spec.depth == 2 else (3, 4, 6, 6, 3, 2)  # 4 → 6 and 6 → 3: projected
    net = Network(sizes, residual=spec, activation="tanh", loss="cross_entropy")
    assert [b.projected for b in net.blocks] == [True, False, True]
    rng = np.random.default_rng(1)
    params = net.init("he_normal", rng=2) + 0.3 * rng.standard_normal(net.n_params)
    X = rng.standard_normal((3, 7))
    Y = np.eye(2)[:, rng.integers(0, 2, 7)]
    grad = net.backward(params, net.forward(params, X)[1], Y).grad
    np.testing.assert_allclose(grad, numeric_gradient(net, params, X, Y), rtol=0, atol=1e-8 * np.max(np.abs(grad)))


@pytest.mark.parametrize("options", [{"parametrization": "mup(base_width=2)"}, {"bias": False}, {"loss": "mean_squared_error"}])
def test_gradients_with_multipliers_without_biases_and_for_regression(options):
    net = residual_network(2, 6, 3, 1, residual="standard(order=post)", activation="tanh", **options)
    rng = np.random.default_rng(4)
    params = net.init("he_normal", rng=0) + 0.2 * rng.standard_normal(net.n_params)
    X, Y = rng.standard_normal((2, 9)), rng.standard_normal((1, 9))
    if net.loss_fn.targets == "binary":
        Y = (Y > 0).astype(float)
    grad = net.backward(params, net.forward(params, X)[1], Y).grad
    np.testing.assert_allclose(grad, numeric_gradient(net, params, X, Y), rtol=0, atol=1e-8 * np.max(np.abs(grad)))


def test_a_batch_of_parameter_vectors_gives_each_ones_gradient():
    net = residual_network(2, 4, 2, residual="skipinit(alpha=0.5, order=post)", activation="tanh")
    rng = np.random.default_rng(0)
    stack = rng.standard_normal((3, net.n_params))
    X, Y = rng.standard_normal((2, 5)), (rng.random((1, 5)) > 0.5).astype(float)
    batched = net.backward(stack, net.forward(stack, X)[1], Y).grad
    for row, grad in zip(stack, batched):
        np.testing.assert_allclose(grad, net.backward(row, net.forward(row, X)[1], Y).grad, rtol=1e-13, atol=1e-15)


# --- what each scheme starts as --------------------------------------------------------------------
@pytest.mark.parametrize("order, activation, phi", [("pre", "tanh", np.tanh), ("post", "relu", lambda z: np.maximum(z, 0))])
def test_rezero_starts_as_the_stem_and_the_head(order, activation, phi):
    """α = 0: pre, every block passes h on; post, every block applies φ again (φ(φ(z)) = φ(z) for ReLU only)."""
    net = residual_network(2, 8, 5, residual=f"rezero(order={order})", activation=activation)
    params = net.init("he_normal", rng=1)
    (W0, b0), (Wh, bh) = net.unpack(params)[0], net.unpack(params)[-1]
    X = np.random.default_rng(0).standard_normal((2, 6))
    np.testing.assert_allclose(net.forward(params, X)[0], Wh @ phi(W0 @ X + b0) + bh, rtol=1e-14)


def test_post_order_applies_phi_after_every_block():
    net = residual_network(2, 8, 2, residual="rezero(order=post)", activation="tanh")
    params = net.init("he_normal", rng=1)
    (W0, b0), (Wh, bh) = net.unpack(params)[0], net.unpack(params)[-1]
    X = np.random.default_rng(0).standard_normal((2, 6))
    np.testing.assert_allclose(net.forward(params, X)[0], Wh @ np.tanh(np.tanh(np.tanh(W0 @ X + b0))) + bh, rtol=1e-14)


def test_fixup_zeros_the_head_and_each_branchs_last_layer_and_scales_the_rest():
    net = residual_network(2, 64, 16, residual="fixup")
    params = net.init("he_normal", rng=0)
    layers = net.unpack(params)
    assert not layers[-1][0].any() and all(not layers[b.last][0].any() for b in net.blocks)
    firsts = np.concatenate([layers[b.first][0].ravel() for b in net.blocks])  # He: variance 2/64, then × 16^(−1/2)
    assert np.var(firsts) == pytest.approx(2 / 64 / 16, rel=0.03)  # 65536 draws: the variance within ~1.1% (1 sd)
    np.testing.assert_array_equal(net.alphas(params), 1.0)
    X = np.random.default_rng(0).standard_normal((2, 4))
    np.testing.assert_array_equal(net.forward(params, X)[0], 0.0)  # the head is 0 and its bias 0


def test_lsuv_is_refused_on_a_residual_network():
    with pytest.raises(InitlabError, match="would undo the branch scheme 'fixup'"):
        residual_network(2, 8, 2, residual="fixup").init("lsuv", rng=0, X=np.ones((2, 4)))


def test_learning_rate_factors():
    net = residual_network(2, 4, 4, residual="completep", hidden=3)
    plain = Network(net.sizes)
    lr = net.lr_scale
    stem, head = net.slots[0], net.slots[-1]
    assert np.all(lr[stem.w_start:stem.b_end] == 1.0) and np.all(lr[head.w_start:head.b_end] == 1.0)
    inside = lr[net.slots[1].w_start:net.slots[-2].b_end]
    assert inside.size == plain.n_params - (stem.b_end - stem.w_start) - (head.b_end - head.w_start) and np.all(inside == 4.0)
    np.testing.assert_array_equal(net.alphas(lr), 0.0)  # fixed: never trained
    np.testing.assert_array_equal(residual_network(2, 4, 4, residual="rezero").alphas(residual_network(2, 4, 4, residual="rezero").lr_scale), 1.0)
    adam = residual_network(2, 4, 4, residual="depth_mup(optimizer=adam)")
    assert adam.lr_scale[adam.slots[1].w_start] == 0.5 and adam.eps_scale[adam.slots[1].w_start] == 0.5


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_a_fixed_multiplier_stays_and_a_learnable_one_moves(optimizer):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((2, 32)), (rng.random((1, 32)) > 0.5).astype(float)
    options = TrainOptions(0.01, 30, 10, optimizer=optimizer)
    fixed = residual_network(2, 6, 3, residual="depth_mup")
    start = fixed.init("he_normal", rng=0)
    np.testing.assert_allclose(fixed.alphas(start), 1 / math.sqrt(3), rtol=1e-15)
    run = train(fixed, start, X, Y, options, engine="numpy")
    np.testing.assert_array_equal(fixed.alphas(run.params), fixed.alphas(start))
    assert np.any(run.params != start)
    learnable = residual_network(2, 6, 3, residual="rezero")
    run = train(learnable, learnable.init("he_normal", rng=0), X, Y, options, engine="numpy")
    assert np.all(learnable.alphas(run.params) != 0.0)
