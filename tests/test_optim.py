"""Every registered update rule against its formula written out, and training with each."""
import numpy as np
import pytest

from initlab._validation import InitlabError
from initlab.data import circles, get_dataset
from initlab.network import Network
from initlab.optim import OPTIMIZERS, get_optimizer
from initlab.training import TrainOptions, train


def reference_steps(name, grads, lr, p0):
    """Hand-written updates for a few gradients."""
    p, v, m, s = p0.copy(), np.zeros_like(p0), np.zeros_like(p0), np.zeros_like(p0)
    for t, g in enumerate(grads, start=1):
        if name in ("gd", "sgd"):
            p = p - lr * g
        elif name == "momentum":
            v = 0.9 * v + g
            p = p - lr * v
        else:
            m = 0.9 * m + 0.1 * g
            s = 0.999 * s + 0.001 * g**2
            p = p - lr * (m / (1 - 0.9**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
    return p


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_steps_follow_the_formula(name):
    rng = np.random.default_rng(0)
    p0, grads = rng.normal(size=5), [rng.normal(size=5) for _ in range(4)]
    opt = get_optimizer(name)
    state, p = opt.init(p0), p0
    for t, g in enumerate(grads, start=1):
        p = opt.step(p, g, state, t, 0.1)
    np.testing.assert_allclose(p, reference_steps(name, grads, 0.1, p0), rtol=1e-14)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_training_with_each_lowers_the_cost(name):
    d = circles()
    net = Network((2, 10, 5, 1))
    lr = 0.01 if name == "adam" else 0.1
    run = train(net, net.init("he", rng=3), d.X_train, d.Y_train, TrainOptions(lr, 2000, 100, optimizer=name, batch_size=64))
    assert not run.diverged and run.costs[-1] < 0.7 * run.costs[0]


def test_minibatches_are_deterministic_and_seeded():
    d = circles()
    net = Network((2, 8, 1))
    p = net.init("he_normal", rng=1)
    runs = [train(net, p, d.X_train, d.Y_train, TrainOptions(0.1, 50, 10, batch_size=32, seed=s)) for s in (0, 0, 1)]
    np.testing.assert_array_equal(runs[0].params, runs[1].params)
    assert not np.array_equal(runs[0].params, runs[2].params)
    full = train(net, p, d.X_train, d.Y_train, TrainOptions(0.1, 50, 10, batch_size=300))
    np.testing.assert_array_equal(full.params, train(net, p, d.X_train, d.Y_train, TrainOptions(0.1, 50, 10)).params)


def test_softmax_network_learns_digits():
    d = get_dataset("digits")
    net = Network((64, 32, 10), activation="tanh", loss="cross_entropy")
    run = train(net, net.init("xavier_normal", rng=0), d.X_train, d.Y_train,
                TrainOptions(0.01, 300, 100, optimizer="adam", batch_size=128))
    assert run.accuracy(d.X_test, d.Y_test) > 0.9


def test_regression_network_fits_a_sine():
    x = np.linspace(-3, 3, 200)[None, :]
    net = Network((1, 32, 1), activation="tanh", loss="mean_squared_error")
    run = train(net, net.init("xavier_normal", rng=0), x, np.sin(x), TrainOptions(0.01, 2000, 500, optimizer="adam"))
    assert run.cost(x, np.sin(x)) < 0.01
    with pytest.raises(InitlabError, match="regression loss"):
        run.predict(x)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: get_optimizer("adamw"), "Unknown optimizer 'adamw'. Expected one of: adam, gd, momentum, sgd"),
        (lambda: get_optimizer("momentum", beta=1.0), "The 'beta' parameter must be a finite float >= 0 and < 1"),
        (lambda: get_optimizer("adam", eps=-1), "The 'eps' parameter must be a finite float > 0"),
        (lambda: get_optimizer("gd", beta=0.9), "The optimizer 'gd' does not take options \\['beta'\\]. Allowed: none"),
        (lambda: TrainOptions(batch_size=0), "The 'batch_size' parameter must be an int >= 1"),
        (lambda: TrainOptions(optimizer="adam", optimizer_options={"beta1": 2}), "The 'beta1' parameter"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(InitlabError, match=match):
        call()
