"""Specs (initlab._spec) and the plain-data objects built from them: every registry entry of
activations, losses and optimizers, and networks, are hashable, picklable and JSON-round-trippable,
and equal exactly when their specs are."""
import json
import pickle

import numpy as np
import pytest

from initlab._spec import Spec, split_top_level
from initlab._validation import InitlabError
from initlab.activations import ACTIVATIONS, activation_spec, build_activation, get_activation
from initlab.losses import LOSSES, build_loss, get_loss
from initlab.network import Network
from initlab.optim import OPTIMIZERS, build_optimizer, get_optimizer
from initlab.options import TrainOptions

# non-default options for the entries that take them (every other entry takes none)
ACTIVATION_OPTIONS = {"leaky_relu": {"slope": 0.2}, "elu": {"alpha": 0.5}}
OPTIMIZER_OPTIONS = {"momentum": {"beta": 0.5}, "adam": {"beta1": 0.8, "beta2": 0.99, "eps": 1e-6}}


def _round_trips(obj):
    """Pickled and through JSON (its spec), the object comes back equal, with an equal hash."""
    back = pickle.loads(pickle.dumps(obj))
    assert back == obj and hash(back) == hash(obj)
    text = json.dumps(obj.spec.to_json())
    assert Spec.from_json(json.loads(text)) == obj.spec
    assert Spec.parse(str(obj.spec)) == obj.spec  # the text form reads back
    return back


@pytest.mark.parametrize("key", sorted(ACTIVATIONS))
def test_every_activation_is_plain_data(key):
    options = ACTIVATION_OPTIONS.get(key, {})
    act = get_activation(key, **options)
    back = _round_trips(act)
    z = np.linspace(-3, 3, 13)
    np.testing.assert_array_equal(back.fn(z), act.fn(z))  # rebuilt from the registry, same function
    np.testing.assert_array_equal(back.derivative(z), act.derivative(z))
    assert build_activation(act.spec) == act and activation_spec(str(act.spec)) == act.spec
    if options:
        assert act != get_activation(key) and act.spec.kwargs == options
        assert get_activation(f"{key}({', '.join(f'{k}={v}' for k, v in options.items())})") == act


def test_canonical_specs():
    """Defaults are left out and aliases resolve, so equal activations have equal specs."""
    assert get_activation("leaky_relu", slope=0.01).spec == Spec("leaky_relu") == activation_spec("leaky_relu(slope=0.01)")
    assert activation_spec("silu") == Spec("swish")
    assert activation_spec("elu(alpha=1)") == Spec("elu")
    assert get_activation("leaky_relu", slope=0) != get_activation("leaky_relu")  # 0 is not the default 0.01
    assert get_optimizer("adam", beta1=0.9).spec == Spec("adam") and get_optimizer("sgd").spec == Spec("gd")


@pytest.mark.parametrize("key", sorted(LOSSES))
def test_every_loss_is_plain_data(key):
    loss = get_loss(key)
    _round_trips(loss)
    assert build_loss(loss.spec) is LOSSES[key] or build_loss(loss.spec) == LOSSES[key]


@pytest.mark.parametrize("key", sorted(OPTIMIZERS))
def test_every_optimizer_is_plain_data(key):
    opt = get_optimizer(key, **OPTIMIZER_OPTIONS.get(key, {}))
    back = _round_trips(opt)
    assert back.settings == opt.settings and build_optimizer(opt.spec) == opt
    options = TrainOptions(optimizer=key, optimizer_options=OPTIMIZER_OPTIONS.get(key, {}))
    assert build_optimizer(options.optimizer_spec) == opt


def test_network_is_plain_data():
    net = Network((2, 8, 6, 3), activation=("leaky_relu(slope=0.2)", get_activation("elu", alpha=0.5)), loss="cross_entropy")
    assert net.activation == (Spec.make("leaky_relu", {"slope": 0.2}), Spec.make("elu", {"alpha": 0.5}))
    assert net.loss == Spec("cross_entropy") and net.activation_names == ("leaky_relu(slope=0.2)", "elu(alpha=0.5)")
    assert {net: 1}[Network((2, 8, 6, 3), ("leaky_relu(slope=0.2)", "elu(alpha=0.5)"), "cross_entropy")] == 1
    back = pickle.loads(pickle.dumps(net))
    assert back == net and hash(back) == hash(net)
    data = json.loads(json.dumps(net.to_json()))
    assert data == {"sizes": [2, 8, 6, 3], "loss": "cross_entropy",
                    "activation": [{"name": "leaky_relu", "options": {"slope": 0.2}}, {"name": "elu", "options": {"alpha": 0.5}}]}
    assert Network.from_json(data) == net
    params = net.init("he_normal", rng=0)
    X = np.random.default_rng(1).normal(size=(2, 7))
    np.testing.assert_array_equal(back.forward(params, X)[0], net.forward(params, X)[0])
    # the notebook's network reads as before: bare names in JSON, aliases resolved
    assert Network((2, 10, 5, 1)).to_json() == {"sizes": [2, 10, 5, 1], "activation": ["relu", "relu"], "loss": "binary_cross_entropy"}
    assert Network((2, 3, 1), loss="bce") == Network((2, 3, 1))


@pytest.mark.parametrize("text, spec", [
    ("relu", Spec("relu")),
    (" leaky_relu ( slope = 0.2 ) ", Spec.make("leaky_relu", {"slope": 0.2})),
    ("variance_scaling(scale=2, mode=fan_out, distribution='normal')",
     Spec.make("variance_scaling", {"scale": 2, "mode": "fan_out", "distribution": "normal"})),
    ("x(flag=True, none=None, s='1')", Spec.make("x", {"flag": True, "none": None, "s": "1"})),
])
def test_text_form_round_trips(text, spec):
    assert Spec.parse(text) == spec and Spec.parse(str(spec)) == spec


def test_a_string_that_reads_as_a_number_is_quoted():
    assert str(Spec.make("x", {"s": "1"})) == "x(s='1')" and str(Spec.make("x", {"s": "fan_in"})) == "x(s=fan_in)"


@pytest.mark.parametrize("call, match", [
    (lambda: Spec.parse("relu(slope"), "must be name\\(key=value, …\\) with the closing parenthesis"),
    (lambda: Spec.parse("relu(0.2)", param="activation"), "The 'activation' parameter must be name\\(key=value, …\\), each option key=value"),
    (lambda: Spec.parse(3, param="activation", kind="activation"), "The 'activation' parameter must be an activation name, or name\\(key=value, …\\). Got 3"),
    (lambda: Spec.make("x", {"a": [1, 2]}), "options that are numbers, booleans, None or strings \\(option 'a'\\). Got \\[1, 2\\]"),
    (lambda: Spec.from_json({"key": "relu"}, param="activation"), "The 'activation' parameter must be a name or"),
    (lambda: Network.from_json({"sizes": [2, 1]}), "The 'network' parameter must be a mapping with the keys"),
    (lambda: Network((2, 3, 1), activation="leaky_relu(slop=0.2)"), "does not take options \\['slop'\\]. Allowed: slope. Did you mean 'slope'"),
    (lambda: build_loss(Spec.make("mse", {"a": 1})), "The loss 'mse' does not take options \\['a'\\]"),
])
def test_bad_specs(call, match):
    with pytest.raises(InitlabError, match=match):
        call()


def test_split_top_level_keeps_commas_inside_parentheses():
    assert split_top_level("zeros, random(scale=0.01, x=2) ,he,") == ["zeros", "random(scale=0.01, x=2)", "he"]
