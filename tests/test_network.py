import numpy as np
import pytest

from initlab._validation import InitlabError
from initlab.activations import ACTIVATIONS
from initlab.network import Network


def numeric_gradient(net, params, X, Y, h=1e-6):
    g = np.zeros_like(params)
    for k in range(params.size):
        e = np.zeros_like(params)
        e[k] = h
        g[k] = (net.cost(params + e, X, Y) - net.cost(params - e, X, Y)) / (2 * h)
    return g


@pytest.fixture
def small_data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(3, 11)), rng.integers(0, 2, (1, 11)).astype(float)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_backward_matches_finite_differences(activation, small_data):
    X, Y = small_data
    net = Network((3, 5, 4, 1), activation=activation)
    params = net.init("xavier_normal", rng=np.random.default_rng(1))
    params[net.slots[0].b_start : net.slots[0].b_end] = 0.1  # non-zero biases are checked too
    ZL, cache = net.forward(params, X)
    analytic = net.backward(params, cache, Y).grad
    np.testing.assert_allclose(analytic, numeric_gradient(net, params, X, Y), rtol=1e-5, atol=1e-9)


def test_mixed_activations_and_depth(small_data):
    X, Y = small_data
    net = Network((3, 4, 4, 3, 2, 1), activation=("tanh", "relu", "sigmoid", "linear"))
    params = net.init("he_uniform", rng=4)
    ZL, cache = net.forward(params, X)
    np.testing.assert_allclose(net.backward(params, cache, Y).grad, numeric_gradient(net, params, X, Y), rtol=1e-5, atol=1e-9)


def test_layout_and_views():
    net = Network((2, 10, 5, 1))
    assert net.n_params == 2 * 10 + 10 + 10 * 5 + 5 + 5 + 1
    params = np.arange(net.n_params, dtype=float)
    (W1, b1), (W2, b2), (W3, b3) = net.unpack(params)
    assert W1.shape == (10, 2) and b1.shape == (10, 1) and W3.shape == (1, 5) and b3.shape == (1, 1)
    W2[0, 0] = -1.0  # a view: writes reach the flat vector
    assert params[30] == -1.0
    assert b3[0, 0] == net.n_params - 1


def test_batched_forward_backward_equal_one_at_a_time(small_data):
    X, Y = small_data
    net = Network((3, 6, 1), activation="tanh")
    stack = np.stack([net.init("he_normal", rng=s) for s in range(4)])  # (B, P)
    ZL, cache = net.forward(stack, X)
    grads = net.backward(stack, cache, Y).grad
    assert ZL.shape == (4, 1, 11) and grads.shape == stack.shape
    for b in range(4):
        z1, c1 = net.forward(stack[b], X)
        np.testing.assert_allclose(ZL[b], z1, rtol=1e-14)
        np.testing.assert_allclose(grads[b], net.backward(stack[b], c1, Y).grad, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(net.cost(stack, X, Y), [net.cost(p, X, Y) for p in stack], rtol=1e-14)


def test_init_draws_layers_in_order_from_one_source():
    net = Network((2, 4, 1))
    params = net.init("he_normal", rng=np.random.RandomState(3))
    rs = np.random.RandomState(3)
    W1 = rs.randn(4, 2) * np.sqrt(2 / 2)
    W2 = rs.randn(1, 4) * np.sqrt(2 / 4)
    (w1, b1), (w2, b2) = net.unpack(params)
    np.testing.assert_array_equal(w1, W1)
    np.testing.assert_array_equal(w2, W2)
    assert not b1.any() and not b2.any()


def test_predict_and_accuracy():
    net = Network((1, 1))
    params = np.array([1.0, 0.0])  # z = x
    X, Y = np.array([[-2.0, 1.0, 3.0]]), np.array([[0, 0, 1]])
    np.testing.assert_array_equal(net.predict(params, X), [[0, 1, 1]])
    assert net.accuracy(params, X, Y) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sizes": (2,)}, "The 'sizes' parameter must be a sequence of at least two positive ints"),
        ({"sizes": (2, 0, 1)}, "The 'sizes' parameter must be a sequence of at least two positive ints"),
        ({"sizes": (2, 3, 1), "activation": "rleu"}, "Unknown activation 'rleu'. Expected one of"),
        ({"sizes": (2, 3, 3, 1), "activation": ("relu",)}, "The 'activation' parameter must be one name or 2 names"),
        ({"sizes": (2, 3, 1), "loss": "hinge"}, "Unknown loss 'hinge'"),
    ],
)
def test_bad_network(kwargs, match):
    with pytest.raises(InitlabError, match=match):
        Network(**kwargs)


def test_bad_params_shape():
    net = Network((2, 3, 1))
    with pytest.raises(InitlabError, match=r"The 'params' parameter must have shape \(13,\) or \(B, 13\).*Got shape \(12,\)"):
        net.check_params(np.zeros(12))
    with pytest.raises(InitlabError, match="Unknown initializer 'hee'"):
        net.init("hee")


@pytest.mark.parametrize("loss, n_out", [("binary_cross_entropy", 1), ("cross_entropy", 3), ("mean_squared_error", 2)])
def test_backward_matches_finite_differences_for_every_loss(loss, n_out):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(3, 9))
    Y = {1: rng.integers(0, 2, (1, 9)).astype(float), 3: np.eye(3)[:, rng.integers(0, 3, 9)], 2: rng.normal(size=(2, 9))}[n_out]
    net = Network((3, 4, n_out), activation="gelu", loss=loss)
    params = net.init("lecun_normal", rng=2, bias=0.05)
    _, cache = net.forward(params, X)
    np.testing.assert_allclose(net.backward(params, cache, Y).grad, numeric_gradient(net, params, X, Y), rtol=1e-5, atol=1e-9)


def test_output_size_must_fit_the_loss():
    with pytest.raises(InitlabError, match="must end with 1 output unit for the loss 'binary_cross_entropy'"):
        Network((2, 3, 2))
    with pytest.raises(InitlabError, match="must end with at least 2 output units .* for the loss 'cross_entropy'"):
        Network((2, 3, 1), loss="cross_entropy")


def test_bias_rules():
    net = Network((2, 3, 1))
    (_, b1), _ = net.unpack(net.init("he_normal", rng=0, bias=0.5))
    assert np.all(b1 == 0.5)
    (_, b1), _ = net.unpack(net.init("he_normal", rng=0, bias=lambda shape, rng: rng.standard_normal(shape)))
    assert b1.shape == (3, 1) and np.all(b1 != 0)
    with pytest.raises(InitlabError, match="The 'bias' parameter must be a finite float"):
        net.init("he_normal", bias=float("nan"))


def test_a_used_network_pickles():
    import pickle

    net = Network((2, 3, 1), activation="tanh")
    net.forward(net.init(rng=0), np.zeros((2, 4)))  # fills the cached registry objects
    copy = pickle.loads(pickle.dumps(net))
    assert copy == net and copy.hidden_activations[0].name == "tanh"


@pytest.mark.parametrize("bias, got", [
    (lambda shape, rng: np.full(shape, np.nan), r"an array with 3 non-finite values"),
    (lambda shape, rng: np.full(shape, np.inf), r"an array with 3 non-finite values"),
    (lambda shape, rng: np.zeros(shape[0]), r"an array of shape \(3,\)"),
    (lambda shape, rng: np.zeros((1, 1)), r"an array of shape \(1, 1\)"),
    (lambda shape, rng: 0.1, r"an array of shape \(\)"),
    (lambda shape, rng: None, r"an array of shape \(\)"),  # np.asarray(None, float) is nan, 0-d
    (lambda shape, rng: "zero", r"a str that is not numeric"),
])
def test_bias_function_must_return_a_finite_column(bias, got):
    net = Network((2, 3, 1))
    with pytest.raises(InitlabError, match=r"^The 'bias' parameter must be a function f\(shape, rng\) returning a finite array "
                                           r"of shape \(3, 1\)\. Got " + got + r" instead\.$"):
        net.init("he_normal", rng=0, bias=bias)


@pytest.mark.parametrize("bias", ["0.1", True, float("inf"), [0.1]])
def test_bias_value_must_be_a_finite_number(bias):
    with pytest.raises(InitlabError, match=r"^The 'bias' parameter must be a finite float, None, an initializer by name .* or a function"):
        Network((2, 3, 1)).init("he_normal", rng=0, bias=bias)


def test_non_numeric_params_are_an_error():
    net = Network((2, 3, 1))
    with pytest.raises(InitlabError, match=r"^The 'params' parameter must be a numeric array of shape \(13,\)"):
        net.check_params(["a"] * 13, batched=False)


def test_backward_without_weights_gives_the_same_signal():
    """backward_from(weights=False) skips the parameter gradients: the same dZ and dA, bit for bit."""
    net = Network((3, 7, 5, 2), activation=("tanh", "relu"), loss="cross_entropy")
    params = net.init("he", rng=1)
    X = np.random.default_rng(0).normal(size=(3, 40))
    ZL, cache = net.forward(params, X)
    dZ = np.random.default_rng(1).normal(size=ZL.shape)
    full, light = net.backward_from(params, cache, dZ), net.backward_from(params, cache, dZ, weights=False)
    assert light.grad is None and full.grad.shape == params.shape
    assert all(np.array_equal(a, b) for a, b in zip(full.dZ, light.dZ)) and len(full.dZ) == 3
    assert all(np.array_equal(a, b) for a, b in zip(full.dA, light.dA)) and len(full.dA) == 2
