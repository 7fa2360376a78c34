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


# --- initlab.lsuv: the rescaling on given weights, and its report ---------------------------------
import initlab  # noqa: E402
from initlab.rescaling import LsuvReport, lsuv as rescale  # noqa: E402


def test_public_function_is_exported_at_the_top_level():
    assert initlab.lsuv is rescale


@pytest.mark.parametrize("base, tol, max_iter", [("orthogonal", 0.1, 10), ("torch_default", 1e-6, 50), ("normal", 0.01, 10),
                                                 ("torch_default", 1e-12, 1)])
def test_public_function_equals_the_initializers_refine(base, tol, max_iter):
    draw = NET.init(base, rng=4)
    params, report = rescale(NET, draw, X, tol=tol, max_iter=max_iter)
    np.testing.assert_array_equal(params, get_initializer("lsuv", tol=tol, max_iter=max_iter, base=base).refine(NET, draw, X))
    np.testing.assert_array_equal(params, NET.init("lsuv", rng=4, X=X, base=base, tol=tol, max_iter=max_iter))
    assert isinstance(report, LsuvReport) and len(report.layers) == NET.n_layers == 4


@pytest.mark.parametrize("base", ["orthogonal", "torch_default"])
def test_report_is_what_was_done(base):
    draw = NET.init(base, rng=2)
    params, report = rescale(NET, draw, X, tol=1e-6, max_iter=50)
    before, reached = preactivation_variances(NET, draw, X), preactivation_variances(NET, params, X)
    assert [r.layer for r in report.layers] == [1, 2, 3, 4]
    assert report.layers[0].variance_before == pytest.approx(before[0], rel=1e-12)  # later layers see rescaled inputs
    for r, var, (W0, b0), (W, b) in zip(report.layers, reached, NET.unpack(draw), NET.unpack(params)):
        assert r.variance == pytest.approx(var, rel=1e-12)
        assert r.converged and abs(r.variance - 1.0) < 1e-6
        ratio = W / W0
        np.testing.assert_allclose(ratio, r.factor, rtol=1e-12)  # one factor per layer, the one reported
        np.testing.assert_array_equal(b, b0)
        assert r.rescalings >= 1
    assert report.converged
    assert base == "orthogonal" or max(r.rescalings for r in report.layers) > 1  # biases: one rescaling is not exact


def test_variance_before_is_measured_with_the_earlier_layers_rescaled():
    draw = NET.init("orthogonal", rng=2)
    params, report = rescale(NET, draw, X)
    partial = draw.copy()
    for l, ((W, _), r) in enumerate(zip(NET.unpack(partial), report.layers)):
        assert r.variance_before == pytest.approx(preactivation_variances(NET, partial, X)[l], rel=1e-12)
        W *= r.factor
    np.testing.assert_allclose(partial, params, rtol=1e-12)


def test_an_already_unit_layer_is_not_rescaled():
    net = Network((3, 1), activation="linear")
    Xs = np.random.default_rng(1).standard_normal((3, 500))
    w = np.array([1.0, 0.0, 0.0]) / np.std(Xs[0])  # Var(Z) = 1 exactly (bias 0)
    params, report = rescale(net, np.append(w, 0.0), Xs)
    assert report.layers[0].rescalings == 0 and report.layers[0].factor == 1.0 and report.converged
    np.testing.assert_array_equal(params, np.append(w, 0.0))


def test_max_iter_one_reports_the_layers_that_did_not_converge():
    draw = NET.init("torch_default", rng=0)
    params, report = rescale(NET, draw, X, tol=1e-9, max_iter=1)
    assert not report.converged
    for r, var in zip(report.layers, preactivation_variances(NET, params, X)):
        assert r.rescalings == 1
        assert r.variance == pytest.approx(var, rel=1e-12)
        assert r.converged == (abs(var - 1.0) < 1e-9)
    assert not report.layers[0].converged  # the first layer's bias keeps one rescaling off 1
    assert "not converged in layer" in str(report)


def test_report_prints_and_frames():
    _, report = rescale(NET, NET.init("torch_default", rng=0), X, tol=1e-9, max_iter=1)
    text = str(report).splitlines()
    assert text[0].startswith("LSUV (tol 1e-09, max_iter 1): not converged in layer")
    assert text[1].split() == ["layer", "var", "before", "var", "reached", "factor", "rescalings", "converged"]
    assert len(text) == 2 + 4 and len({len(line) for line in text[1:]}) == 1  # aligned
    assert [line.split()[-1] for line in text[2:]] == ["yes" if r.converged else "no" for r in report.layers]
    frame = report.to_frame()
    assert list(frame.columns) == ["layer", "variance_before", "variance", "factor", "rescalings", "converged"]
    assert frame["variance"].tolist() == [r.variance for r in report.layers]
    assert frame["converged"].tolist() == [r.converged for r in report.layers]


def test_report_is_frozen():
    _, report = rescale(NET, NET.init("orthogonal", rng=0), X)
    with pytest.raises(AttributeError):
        report.tol = 1.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        report.layers[0].factor = 1.0  # type: ignore[misc]


def test_callers_params_untouched():
    draw = NET.init("torch_default", rng=0)
    before = draw.copy()
    params, _ = rescale(NET, draw, X)
    np.testing.assert_array_equal(draw, before)
    assert not np.shares_memory(params, draw)
    as_list = draw.tolist()
    rescale(NET, as_list, X)
    assert as_list == before.tolist()


PARAMS = NET.init("orthogonal", rng=0)
BAD_X = X.copy()
BAD_X[3, 7] = np.nan


@pytest.mark.parametrize(
    "kwargs, param, match",
    [
        ({"tol": -1}, "tol", "The 'tol' parameter must be a finite float > 0. Got -1 instead."),
        ({"tol": 0.0}, "tol", "The 'tol' parameter must be a finite float > 0. Got 0.0 instead."),
        ({"tol": float("inf")}, "tol", "The 'tol' parameter must be a finite float > 0. Got inf"),
        ({"max_iter": 0}, "max_iter", "The 'max_iter' parameter must be an int >= 1. Got 0 instead."),
        ({"max_iter": 2.0}, "max_iter", "The 'max_iter' parameter must be an int >= 1. Got 2.0 instead."),
        ({"params": PARAMS[:-1]}, "params", f"The 'params' parameter must have shape \\({NET.n_params},\\) for layer sizes "
                                            f"\\[20, 50, 50, 50, 1\\]. Got shape \\({NET.n_params - 1},\\) instead."),
        ({"params": np.stack([PARAMS, PARAMS])}, "params", "The 'params' parameter must have shape"),
        ({"params": np.where(np.arange(PARAMS.size) == 5, np.inf, PARAMS)}, "params",
         "The 'params' parameter must be finite \\(no NaN or inf\\). Got an array with 1 non-finite values instead."),
        ({"params": np.zeros_like(PARAMS)}, "params",
         "The 'params' parameter must be weights whose layer-1 pre-activations vary on X, which rescaling needs. Got variance 0"),
        ({"X": X[:19]}, "X", "The 'X' parameter must be an array with 20 rows .* Got shape \\(19, 256\\) instead."),
        ({"X": BAD_X}, "X", "The 'X' parameter must be finite \\(no NaN or inf\\). Got an array with 1 non-finite values instead."),
        ({"network": "relu"}, "network", "The 'network' parameter must be an initlab Network. Got a str instead."),
        ({"network": (20, 50, 1)}, "network", "The 'network' parameter must be an initlab Network. Got a tuple instead."),
    ],
)
def test_public_function_bad_input(kwargs, param, match):
    call = {"network": NET, "params": PARAMS, "X": X, **kwargs}
    with pytest.raises(InitlabError, match=match) as info:
        rescale(**call)
    assert info.value.param == param


def test_refuses_a_parametrized_network():
    net = Network((4, 8, 1), parametrization="mup")
    with pytest.raises(InitlabError, match="The 'network' parameter must use the standard parametrization: LSUV rescales "
                                           "each layer to unit variance, which would undo the parametrization 'mup") as info:
        rescale(net, net.init("he_normal", rng=0), np.ones((4, 10)))
    assert info.value.param == "network"
