"""The course notebook reproduced through initlab.course, checked against its printed values."""
import re

import numpy as np
import pytest

import initlab.course as course
from notebook_values import ACCURACY, COSTS, HE_W1, HE_W2, MODEL_CELL, PLOT_CELL, RANDOM_W1, RANDOM_W2

DATA = course.load_dataset()


def printed_costs(text):
    return [float(x) for x in re.findall(r"^Cost after iteration \d+: (\S+)$", text, re.M)]


def printed_accuracies(text):
    return [float(x) for x in re.findall(r"^Accuracy: (\S+)$", text, re.M)]


def run_notebook_cell(initialization, capsys):
    """The notebook's cell: model(), then predict() on the train and test sets."""
    train_X, train_Y, test_X, test_Y = DATA
    parameters = course.model(train_X, train_Y, initialization=initialization)
    print("On the train set:")
    course.predict(train_X, train_Y, parameters)
    print("On the test set:")
    course.predict(test_X, test_Y, parameters)
    return capsys.readouterr().out


def test_initialize_random_prints_the_notebooks_weights():
    p = course.initialize_parameters_random([3, 2, 1])
    np.testing.assert_allclose(p["W1"], RANDOM_W1, atol=5e-9)
    np.testing.assert_allclose(p["W2"], RANDOM_W2, atol=5e-9)
    assert p["b1"].shape == (2, 1) and p["b2"].shape == (1, 1) and not p["b1"].any() and not p["b2"].any()


def test_initialize_he_prints_the_notebooks_weights():
    p = course.initialize_parameters_he([2, 4, 1])
    np.testing.assert_allclose(p["W1"], HE_W1, atol=5e-9)
    np.testing.assert_allclose(p["W2"], HE_W2, atol=5e-9)
    assert p["b1"].shape == (4, 1) and p["b2"].shape == (1, 1) and not p["b1"].any()


def test_initialize_zeros():
    p = course.initialize_parameters_zeros([3, 2, 1])
    assert sorted(p) == ["W1", "W2", "b1", "b2"]
    assert p["W1"].shape == (2, 3) and p["W2"].shape == (1, 2) and not any(v.any() for v in p.values())


@pytest.mark.parametrize("initialization", ["zeros", "he"])
def test_model_reproduces_costs_and_accuracies(initialization, capsys):
    out = run_notebook_cell(initialization, capsys)
    np.testing.assert_allclose(printed_costs(out), COSTS[initialization], rtol=1e-12, atol=0)
    assert printed_accuracies(out) == list(ACCURACY[initialization])


def test_model_random_is_close_and_finite(capsys):
    out = run_notebook_cell("random", capsys)
    costs = printed_costs(out)
    assert np.isfinite(costs[0]) and costs[0] > 100  # the notebook printed inf here
    np.testing.assert_allclose(costs[1:], COSTS["random"][1:], rtol=1e-2)
    assert printed_accuracies(out) == list(ACCURACY["random"])


def test_forward_backward_shapes_and_keys():
    X, Y = DATA[0], DATA[1]
    p = course.initialize_parameters_he([2, 10, 5, 1])
    a3, cache = course.forward_propagation(X, p)
    assert a3.shape == (1, 300) and len(cache) == 12
    z1, a1, W1, b1, z2, a2, W2, b2, z3, a3_, W3, b3 = cache
    np.testing.assert_array_equal(a1, np.maximum(0, W1 @ X + b1))
    np.testing.assert_array_equal(a3_, a3)
    grads = course.backward_propagation(X, Y, cache)
    assert set(grads) == {"dz3", "dW3", "db3", "da2", "dz2", "dW2", "db2", "da1", "dz1", "dW1", "db1"}
    # the notebook's formulas, written out
    dz3 = 1.0 / 300 * (a3 - Y)
    np.testing.assert_array_equal(grads["dz3"], dz3)
    np.testing.assert_array_equal(grads["dW3"], np.dot(dz3, a2.T))
    da2 = np.dot(W3.T, dz3)
    np.testing.assert_array_equal(grads["da2"], da2)
    np.testing.assert_array_equal(grads["dz2"], np.multiply(da2, np.int64(a2 > 0)))


def test_compute_loss_keeps_course_semantics():
    Y = np.array([[1, 0]])
    assert course.compute_loss(np.array([[0.5, 0.5]]), Y) == pytest.approx(np.log(2))
    assert np.isinf(course.compute_loss(np.array([[0.0, 0.5]]), Y))


def test_update_parameters():
    p = {"W1": np.ones((2, 2)), "b1": np.zeros((2, 1))}
    g = {"dW1": np.full((2, 2), 2.0), "db1": np.ones((2, 1))}
    out = course.update_parameters(p, g, 0.5)
    np.testing.assert_array_equal(out["W1"], np.zeros((2, 2)))
    np.testing.assert_array_equal(out["b1"], np.full((2, 1), -0.5))


def test_predict_dec_and_activations():
    p = course.initialize_parameters_he([2, 10, 5, 1])
    dec = course.predict_dec(p, DATA[0])
    assert dec.dtype == bool and dec.shape == (1, 300)
    assert course.sigmoid(0) == 0.5 and course.relu(-3) == 0


def test_notebook_cells_run_unchanged(capsys):
    """The notebook's own model() and plotting cells, executed on initlab.course."""
    import matplotlib.pyplot as plt

    namespace = {"np": np, "plt": plt}
    exec("from initlab.course import *", namespace)
    exec(MODEL_CELL, namespace)
    train_X, train_Y, test_X, test_Y = namespace["load_dataset"]()
    namespace.update(train_X=train_X, train_Y=train_Y)
    namespace["parameters"] = namespace["model"](train_X, train_Y, num_iterations=3000, initialization="he")
    exec(PLOT_CELL, namespace)
    out = capsys.readouterr().out
    # the notebook's loop computes the course's compute_loss: its printed costs are the notebook's
    np.testing.assert_allclose(printed_costs(out), COSTS["he"][:3], rtol=1e-12)
    ax = plt.gca()
    assert ax.get_xlim() == (-1.5, 1.5) and ax.get_title() == "Model with He initialization"
    plt.close("all")
