"""LSUV (Mishkin & Matas 2015): after refinement every layer's pre-activation has unit variance on X."""
import numpy as np
import pytest

from initlab import Network
from initlab._validation import InitlabError
from initlab.initializers import get_initializer, lsuv

NET = Network((20, 50, 50, 50, 1), activation="relu")
X = np.random.default_rng(0).standard_normal((20, 256)) * 3.0 + 1.0


def preactivation_variances(net, params, X):
    return [float(np.var(Z)) for _, Z in net.forward(params, X)[1]]


@pytest.mark.parametrize("options", [{}, {"base": "he_uniform"}, {"base": "torch_default"}, {"base": "normal", "tol": 0.01}])
def test_every_layer_has_unit_variance(options):
    params = NET.init("lsuv", rng=0, X=X, **options)
    tol = options.get("tol", 0.1)
    variances = preactivation_variances(NET, params, X)
    assert len(variances) == 4
    for var in variances:  # hidden layers and the output layer
        assert abs(var - 1.0) < tol


def test_torch_default_base_keeps_its_biases_and_iterates():
    """With non-zero biases one rescaling is not exact: the loop reaches the tolerance anyway."""
    base = NET.init("torch_default", rng=1)
    params = NET.init("lsuv", rng=1, X=X, base="torch_default", tol=1e-6, max_iter=50)
    for (W0, b0), (W, b) in zip(NET.unpack(base), NET.unpack(params)):
        np.testing.assert_array_equal(b, b0)
        ratio = W / W0
        np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-12)  # one factor per layer
    assert all(abs(v - 1.0) < 1e-6 for v in preactivation_variances(NET, params, X))


def test_only_rescales_the_base_draw():
    base = NET.init("orthogonal", rng=3)
    params = NET.init("lsuv", rng=3, X=X)
    for (W0, b0), (W, b) in zip(NET.unpack(base), NET.unpack(params)):
        np.testing.assert_allclose(W / W0, (W / W0).flat[0], rtol=1e-12)
        assert np.all(b == 0) and np.all(b0 == 0)


def test_max_iter_caps_the_rescalings():
    params = NET.init("lsuv", rng=0, X=X, base="torch_default", tol=1e-12, max_iter=1)
    variances = preactivation_variances(NET, params, X)
    assert abs(variances[0] - 1.0) > 1e-12  # one rescaling only: the bias keeps it off 1
    assert abs(variances[0] - 1.0) < 0.2


def test_deterministic():
    a = NET.init("lsuv", rng=5, X=X)
    np.testing.assert_array_equal(a, NET.init("lsuv", rng=5, X=X))
    assert not np.array_equal(a, NET.init("lsuv", rng=6, X=X))


def test_refine_does_not_modify_its_input():
    init = lsuv()
    params = NET.init("orthogonal", rng=0)
    before = params.copy()
    init.refine(NET, params, X)
    np.testing.assert_array_equal(params, before)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: NET.init("lsuv", rng=0), "The initializer 'lsuv' needs data: pass a batch X of shape \\(20, m\\)"),
        (lambda: NET.init("lsuv", rng=0, X=X[:19]), "The 'X' parameter must be an array with 20 rows .* Got shape \\(19, 256\\) instead."),
        (lambda: get_initializer("lsuv", tol=-1), "The 'tol' parameter must be a finite float > 0. Got -1 instead."),
        (lambda: get_initializer("lsuv", tol=float("nan")), "The 'tol' parameter must be a finite float > 0. Got nan"),
        (lambda: get_initializer("lsuv", max_iter=0), "The 'max_iter' parameter must be an int >= 1. Got 0 instead."),
        (lambda: get_initializer("lsuv", max_iter=2.5), "The 'max_iter' parameter must be an int >= 1. Got 2.5"),
        (lambda: get_initializer("lsuv", base="orthogonl"), "Unknown initializer 'orthogonl'. .*Did you mean 'orthogonal'"),
        (lambda: get_initializer("lsuv", base="lsuv"), "The 'base' parameter must be a data-independent initializer. Got 'lsuv'"),
        (lambda: NET.init("lsuv", rng=0, X=X, base="zeros"), "The 'base' parameter must be an initializer whose layer-1 pre-activations vary on X \\(variance 0\\). Got 'zeros'"),
        (lambda: get_initializer("lsuv", gain=2), "The initializer 'lsuv' does not take options \\['gain'\\]. Allowed: tol, max_iter, base."),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(InitlabError, match=match):
        call()
