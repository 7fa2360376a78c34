"""The course notebook reproduced through initlab.course, checked against its printed values, and
each course function against the course's own code (init_utils and the notebook's solutions, written
out below), bit for bit."""
import re

import numpy as np
import pytest

import initlab.course as course
from initlab import InitlabError
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


def test_model_random_prints_the_notebooks_digits(capsys):
    """The chaotic run, digit for digit from iteration 1000 on (model trains on the exact engine)."""
    out = run_notebook_cell("random", capsys)
    costs = printed_costs(out)
    assert np.isfinite(costs[0]) and costs[0] > 100  # the notebook printed inf here
    assert costs[1:] == COSTS["random"][1:]
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


# --- the course's own code, written out: the references --------------------------------------
# The notebook's solutions to exercises 1-3, drawing from their own RandomState(3) (the stream
# np.random.seed(3) drives) so that the tests never touch numpy's global random state.
def ref_zeros(layers_dims):
    parameters = {}
    for l in range(1, len(layers_dims)):
        parameters['W' + str(l)] = np.zeros((layers_dims[l], layers_dims[l - 1]))
        parameters['b' + str(l)] = np.zeros((layers_dims[l], 1))
    return parameters


def ref_random(layers_dims):
    rng = np.random.RandomState(3)
    parameters = {}
    for l in range(1, len(layers_dims)):
        parameters['W' + str(l)] = rng.randn(layers_dims[l], layers_dims[l - 1]) * 10
        parameters['b' + str(l)] = np.zeros((layers_dims[l], 1))
    return parameters


def ref_he(layers_dims):
    rng = np.random.RandomState(3)
    parameters = {}
    for l in range(1, len(layers_dims)):
        parameters['W' + str(l)] = rng.randn(layers_dims[l], layers_dims[l - 1]) * np.sqrt(2 / layers_dims[l - 1])
        parameters['b' + str(l)] = np.zeros((layers_dims[l], 1))
    return parameters


# init_utils, the course helper the notebook imports (3 layers, verbatim but for np.int, gone from numpy)
def ref_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def ref_relu(x):
    return np.maximum(0, x)


def ref_forward(X, parameters):
    W1, b1, W2, b2, W3, b3 = (parameters[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    z1 = np.dot(W1, X) + b1
    a1 = ref_relu(z1)
    z2 = np.dot(W2, a1) + b2
    a2 = ref_relu(z2)
    z3 = np.dot(W3, a2) + b3
    a3 = ref_sigmoid(z3)
    return a3, (z1, a1, W1, b1, z2, a2, W2, b2, z3, a3, W3, b3)


def ref_backward(X, Y, cache):
    m = X.shape[1]
    (z1, a1, W1, b1, z2, a2, W2, b2, z3, a3, W3, b3) = cache
    dz3 = 1. / m * (a3 - Y)
    dW3 = np.dot(dz3, a2.T)
    db3 = np.sum(dz3, axis=1, keepdims=True)
    da2 = np.dot(W3.T, dz3)
    dz2 = np.multiply(da2, np.int64(a2 > 0))
    dW2 = np.dot(dz2, a1.T)
    db2 = np.sum(dz2, axis=1, keepdims=True)
    da1 = np.dot(W2.T, dz2)
    dz1 = np.multiply(da1, np.int64(a1 > 0))
    dW1 = np.dot(dz1, X.T)
    db1 = np.sum(dz1, axis=1, keepdims=True)
    return {"dz3": dz3, "dW3": dW3, "db3": db3, "da2": da2, "dz2": dz2, "dW2": dW2, "db2": db2,
            "da1": da1, "dz1": dz1, "dW1": dW1, "db1": db1}


def ref_update(parameters, grads, learning_rate):
    L = len(parameters) // 2
    for k in range(L):
        parameters["W" + str(k + 1)] = parameters["W" + str(k + 1)] - learning_rate * grads["dW" + str(k + 1)]
        parameters["b" + str(k + 1)] = parameters["b" + str(k + 1)] - learning_rate * grads["db" + str(k + 1)]
    return parameters


def ref_loss(a3, Y):
    m = Y.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        logprobs = np.multiply(-np.log(a3), Y) + np.multiply(-np.log(1 - a3), 1 - Y)
    return 1. / m * np.nansum(logprobs)


def ref_predict(X, y, parameters, forward=ref_forward):
    m = X.shape[1]
    p = np.zeros((1, m), dtype=int)  # the course: dtype=np.int, which was Python's int
    a3, caches = forward(X, parameters)
    for i in range(0, a3.shape[1]):
        if a3[0, i] > 0.5:
            p[0, i] = 1
        else:
            p[0, i] = 0
    print("Accuracy: " + str(np.mean((p[0, :] == y[0, :]))))
    return p


def ref_predict_dec(parameters, X, forward=ref_forward):
    a3, cache = forward(X, parameters)
    return a3 > 0.5


# the same formulas for L layers, as the course's generic helpers write them
def ref_forward_L(X, parameters):
    L = len(parameters) // 2
    a, cache = X, []
    for l in range(1, L + 1):
        W, b = parameters["W" + str(l)], parameters["b" + str(l)]
        z = np.dot(W, a) + b
        a = ref_relu(z) if l < L else ref_sigmoid(z)
        cache += [z, a, W, b]
    return a, tuple(cache)


def ref_backward_L(X, Y, cache):
    m, L = X.shape[1], len(cache) // 4
    grads = {}
    dz = 1. / m * (cache[4 * L - 3] - Y)
    for l in range(L, 0, -1):
        a_prev = X if l == 1 else cache[4 * (l - 2) + 1]
        grads["dz" + str(l)] = dz
        grads["dW" + str(l)] = np.dot(dz, a_prev.T)
        grads["db" + str(l)] = np.sum(dz, axis=1, keepdims=True)
        if l > 1:
            da = np.dot(cache[4 * (l - 1) + 2].T, dz)
            grads["da" + str(l - 1)] = da
            dz = np.multiply(da, np.int64(a_prev > 0))
    return grads


def assert_bits(actual, expected):
    """Equal bit for bit: same type of array, shape, dtype and bytes (signed zeros, NaNs included)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype, (actual.shape, actual.dtype, expected.shape, expected.dtype)
    np.testing.assert_array_equal(actual, expected)
    assert actual.tobytes() == expected.tobytes()


def assert_same_dict(actual, expected):
    assert list(actual) == list(expected)
    for key in expected:
        assert_bits(actual[key], expected[key])


SHAPES = [[3, 2, 1], [2, 4, 1], [5, 7, 3], [4, 3, 2, 5], [2, 10, 5, 1], [1, 1], [7, 1, 1, 1, 4], [3, 20, 20, 20, 20, 2]]


# --- 1. initializers: any layers_dims ------------------------------------------------------------
@pytest.mark.parametrize("dims", SHAPES)
@pytest.mark.parametrize("name, reference", [("zeros", ref_zeros), ("random", ref_random), ("he", ref_he)])
def test_initializers_are_the_courses_for_any_layers_dims(name, reference, dims):
    state = np.random.get_state()
    parameters = getattr(course, f"initialize_parameters_{name}")(dims)
    assert_same_dict(parameters, reference(dims))
    after = np.random.get_state()  # numpy's global random state is untouched
    assert after[0] == state[0] and np.array_equal(after[1], state[1]) and after[2:] == state[2:]


def test_initializers_take_tuples_and_arrays_of_ints():
    assert_same_dict(course.initialize_parameters_he((2, 4, 1)), ref_he([2, 4, 1]))
    assert_same_dict(course.initialize_parameters_he(np.array([2, 4, 1])), ref_he([2, 4, 1]))


@pytest.mark.parametrize("bad", [[3], [], [2, 0, 1], [2, -4, 1], [2.5, 1], [True, 1], "abc", 3, None, [[2, 1]]])
@pytest.mark.parametrize("name", ["zeros", "random", "he"])
def test_initializers_reject_bad_layers_dims(name, bad):
    with pytest.raises(InitlabError) as error:
        getattr(course, f"initialize_parameters_{name}")(bad)
    message = str(error.value)
    assert "'layers_dims'" in message and repr(bad) in message and "at least two positive ints" in message
    assert "sizes" not in message


# --- 2. the helper's functions, bit for bit --------------------------------------------------
def trained(parameters, X, Y, steps, learning_rate=0.01):
    """`steps` iterations of the course's loop on the reference helper: weights with varied signs."""
    for _ in range(steps):
        a3, cache = ref_forward_L(X, parameters)
        parameters = ref_update(parameters, ref_backward_L(X, Y, cache), learning_rate)
    return parameters


def notebook_cases():
    X, Y = DATA[0], DATA[1]
    dims = [2, 10, 5, 1]
    return [("zeros", X, Y, ref_zeros(dims)), ("random", X, Y, ref_random(dims)), ("he", X, Y, ref_he(dims)),
            ("he, 200 steps", X, Y, trained(ref_he(dims), X, Y, 200, 0.05)),
            ("test set, random, 50 steps", DATA[2], DATA[3], trained(ref_random(dims), DATA[2], DATA[3], 50))]


def deeper_cases():
    rng = np.random.RandomState(7)
    cases = []
    for dims in ([2, 8, 6, 4, 3, 1], [3, 5, 4, 2], [4, 3, 2, 5], [2, 1], [6, 16, 16, 16, 16, 16, 16, 1]):
        X = rng.randn(dims[0], 40)
        Y = (rng.rand(dims[-1], 40) > 0.5).astype(float)
        cases.append((str(dims), X, Y, trained(ref_he(dims), X, Y, 20, 0.1)))
    return cases


@pytest.mark.parametrize("label, X, Y, parameters", notebook_cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_the_helpers_functions_bit_for_bit_on_the_notebooks_network(label, X, Y, parameters, capsys):
    a3, cache = course.forward_propagation(X, parameters)
    a3_ref, cache_ref = ref_forward(X, parameters)
    assert_bits(a3, a3_ref)
    assert isinstance(cache, tuple) and len(cache) == 12
    for mine, theirs in zip(cache, cache_ref):
        assert_bits(mine, theirs)
    grads = course.backward_propagation(X, Y, cache)
    assert_same_dict(grads, ref_backward(X, Y, cache_ref))
    assert_bits(course.compute_loss(a3, Y), ref_loss(a3_ref, Y))
    p_in, p_ref_in = dict(parameters), dict(parameters)
    out = course.update_parameters(p_in, grads, 0.01)
    assert out is p_in  # the course stores the new arrays in the dict it was given
    assert_same_dict(out, ref_update(p_ref_in, ref_backward(X, Y, cache_ref), 0.01))
    p = course.predict(X, Y, parameters)
    printed = capsys.readouterr().out
    assert_bits(p, ref_predict(X, Y, parameters))
    assert printed == capsys.readouterr().out and printed.startswith("Accuracy: ")
    assert_bits(course.predict_dec(parameters, X), ref_predict_dec(parameters, X))


@pytest.mark.parametrize("label, X, Y, parameters", deeper_cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_any_number_of_layers_bit_for_bit(label, X, Y, parameters, capsys):
    a, cache = course.forward_propagation(X, parameters)
    a_ref, cache_ref = ref_forward_L(X, parameters)
    assert_bits(a, a_ref)
    assert len(cache) == len(cache_ref) == 2 * len(parameters)
    for mine, theirs in zip(cache, cache_ref):
        assert_bits(mine, theirs)
    grads = course.backward_propagation(X, Y, cache)
    assert_same_dict(grads, ref_backward_L(X, Y, cache_ref))
    if Y.shape[0] == 1:
        assert_bits(course.compute_loss(a, Y), ref_loss(a_ref, Y))
    assert_same_dict(course.update_parameters(dict(parameters), grads, 0.1), ref_update(dict(parameters), grads, 0.1))
    assert_bits(course.predict(X, Y[:1], parameters), ref_predict(X, Y[:1], parameters, ref_forward_L))
    out = capsys.readouterr().out.splitlines()
    assert out[0] == out[1]
    assert_bits(course.predict_dec(parameters, X), ref_predict_dec(parameters, X, ref_forward_L))


def test_compute_loss_bit_for_bit_with_infinities_and_nans():
    rng = np.random.RandomState(5)
    for _ in range(50):
        a3 = rng.rand(1, rng.randint(1, 400))
        Y = (rng.rand(*a3.shape) > 0.5).astype(float)
        a3[rng.rand(*a3.shape) < 0.05] = 0.0  # log(0): inf where y = 1, 0·inf = NaN where y = 0
        a3[rng.rand(*a3.shape) < 0.05] = 1.0
        assert_bits(course.compute_loss(a3, Y), ref_loss(a3, Y))
    assert_bits(course.compute_loss(np.full((1, 3), np.nan), np.ones((1, 3))), ref_loss(np.full((1, 3), np.nan), np.ones((1, 3))))


def test_the_notebooks_loop_on_initlab_course_is_the_loop_on_the_helper():
    """MODEL_CELL, the notebook's own loop, run on both sets of functions: every iteration's cost
    and the final weights agree bit for bit (the random run is chaotic: a last-bit slip would grow)."""
    class NoPlot:
        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    helper = {"initialize_parameters_zeros": ref_zeros, "initialize_parameters_random": ref_random,
              "initialize_parameters_he": ref_he, "forward_propagation": ref_forward,
              "backward_propagation": ref_backward, "compute_loss": ref_loss, "update_parameters": ref_update}
    initlab = {name: getattr(course, name) for name in helper}
    for initialization in ("zeros", "random", "he"):
        runs = []
        for functions in (helper, initlab):
            costs = []

            def recording(a3, Y, loss=functions["compute_loss"], costs=costs):
                costs.append(loss(a3, Y))
                return costs[-1]

            namespace = {"np": np, "plt": NoPlot(), **functions, "compute_loss": recording}
            exec(MODEL_CELL, namespace)
            parameters = namespace["model"](DATA[0], DATA[1], num_iterations=150, print_cost=False,
                                            initialization=initialization)
            runs.append((costs, parameters))
        (costs_ref, params_ref), (costs, params) = runs
        assert len(costs) == 150
        assert_bits(costs, costs_ref)
        assert_same_dict(params, params_ref)


# --- 4. a student's mistakes: the key, the shape passed, the shape needed ---------------------
HE = course.initialize_parameters_he([2, 10, 5, 1])


def changed(**keys):
    parameters = dict(HE)
    for key, value in keys.items():
        if value is None:
            del parameters[key]
        else:
            parameters[key] = value
    return parameters


X_TRAIN, Y_TRAIN = DATA[0], DATA[1]
MISTAKES = {
    "no b3": (changed(b3=None), X_TRAIN, ["'b3'", "(1, 1)", "W3"]),
    "no W2": (changed(W2=None), X_TRAIN, ["'W2'", "(5, 10)"]),
    "W2 transposed": (changed(W2=HE["W2"].T), X_TRAIN, ["parameters['W2'] has shape (10, 5)", "needs (5, 10)", "W1 (10, 2)", "transpose"]),
    "W1 transposed": (changed(W1=HE["W1"].T), X_TRAIN, ["parameters['W1'] has shape (2, 10)", "needs (10, 2)", "(2, 300)", "transpose"]),
    "W3 transposed": (changed(W3=HE["W3"].T), X_TRAIN, ["parameters['W3'] has shape (5, 1)", "needs (1, 5)", "transpose"]),
    "W2 wrong rows": (changed(W2=np.zeros((4, 10))), X_TRAIN, ["b2", "(5, 1)", "(4, 1)", "W2 (4, 10)"]),
    "b2 flat": (changed(b2=np.zeros(5)), X_TRAIN, ["parameters['b2'] has shape (5,)", "(5, 1)", "column"]),
    "b2 a row": (changed(b2=np.zeros((1, 5))), X_TRAIN, ["parameters['b2'] has shape (1, 5)", "(5, 1)", "transpose"]),
    "b1 wrong length": (changed(b1=np.zeros((3, 1))), X_TRAIN, ["parameters['b1'] has shape (3, 1)", "(10, 1)"]),
    "X with 3 rows": (HE, np.vstack([X_TRAIN, X_TRAIN[:1]]), ["X has shape (3, 300)", "parameters['W1'] has shape (10, 2)", "2 rows"]),
    "X transposed": (HE, X_TRAIN.T, ["X has shape (300, 2)", "parameters['W1'] has shape (10, 2)", "transposed"]),
    "X one example flat": (HE, X_TRAIN[:, 0], ["X", "shape (2,)", "2-D"]),
    "W1 a list": (changed(W1=HE["W1"].tolist()), X_TRAIN, ["parameters['W1'] is a list", "(10, 2)", "numpy array"]),
}


@pytest.mark.parametrize("function, mistake", [
    (function, mistake) for function in ("forward_propagation", "predict", "predict_dec", "update_parameters")
    for mistake in MISTAKES if function != "update_parameters" or not mistake.startswith("X ")  # it takes no X
])
def test_a_students_mistake_names_the_key_and_the_shapes(function, mistake):
    parameters, X, phrases = MISTAKES[mistake]
    if function == "update_parameters":
        phrases = [p for p in phrases if "300" not in p]  # no X here: W1 is judged against b1
        grads = {f"d{k}": v for k, v in HE.items()}
        call = lambda: course.update_parameters(dict(parameters), grads, 0.01)  # noqa: E731
    else:
        call = {"forward_propagation": lambda: course.forward_propagation(X, parameters),
                "predict": lambda: course.predict(X, Y_TRAIN, parameters),
                "predict_dec": lambda: course.predict_dec(parameters, X)}[function]
    with pytest.raises(InitlabError) as error:
        call()
    for phrase in phrases:
        assert phrase in str(error.value), (phrase, str(error.value))
    assert "sizes" not in str(error.value)


def test_w1_transposed_without_x_is_judged_against_b1():
    with pytest.raises(InitlabError, match=re.escape("parameters['W1'] has shape (2, 10); layer 1 needs (10, 2) = (n_1, n_0)")):
        course.update_parameters(changed(W1=HE["W1"].T), {f"d{k}": v for k, v in HE.items()}, 0.01)


def test_the_message_of_the_brief():
    with pytest.raises(InitlabError) as error:
        course.forward_propagation(X_TRAIN, changed(W2=HE["W2"].T))
    assert str(error.value) == ("parameters['W2'] has shape (10, 5); layer 2 needs (5, 10) = (n_2, n_1) to follow "
                                "W1 (10, 2). Did you transpose it?")


def test_backward_mistakes():
    a3, cache = course.forward_propagation(X_TRAIN, HE)
    cases = [
        ((X_TRAIN, Y_TRAIN.T, cache), ["Y has shape (300, 1)", "(1, 300)", "transpose"]),
        ((X_TRAIN, Y_TRAIN[0], cache), ["Y has shape (300,)", "(1, 300)"]),
        ((X_TRAIN.T, Y_TRAIN, cache), ["X has shape (300, 2)", "W1 has shape (10, 2)"]),
        ((X_TRAIN[:, :100], Y_TRAIN, cache), ["X has shape (2, 100)", "a3 has shape (1, 300)"]),
        ((X_TRAIN, Y_TRAIN, cache[:-1]), ["cache", "11 entries", "4 entries per layer"]),
        ((X_TRAIN, Y_TRAIN, (a3, cache)), ["cache", "2 entries", "a3, cache = forward_propagation"]),
        ((X_TRAIN, Y_TRAIN, None), ["cache", "NoneType"]),
    ]
    for args, phrases in cases:
        with pytest.raises(InitlabError) as error:
            course.backward_propagation(*args)
        for phrase in phrases:
            assert phrase in str(error.value), (phrase, str(error.value))


def test_update_parameters_mistakes_in_grads():
    grads = course.backward_propagation(X_TRAIN, Y_TRAIN, course.forward_propagation(X_TRAIN, HE)[1])
    cases = [
        ({k: v for k, v in grads.items() if k != "db2"}, ["grads has no 'db2'", "(5, 1)"]),
        ({**grads, "dW2": grads["dW2"].T}, ["grads['dW2'] has shape (10, 5)", "parameters['W2']", "(5, 10)", "transpose"]),
        ({**grads, "db3": np.zeros(1)}, ["grads['db3'] has shape (1,)", "(1, 1)"]),
        ([1, 2], ["grads", "list"]),
    ]
    for g, phrases in cases:
        parameters = dict(HE)
        with pytest.raises(InitlabError) as error:
            course.update_parameters(parameters, g, 0.01)
        for phrase in phrases:
            assert phrase in str(error.value), (phrase, str(error.value))
        assert_same_dict(parameters, HE)  # nothing was updated


def test_other_mistakes():
    with pytest.raises(InitlabError, match=r"y has shape \(300,\).*\(1, 300\)"):
        course.predict(X_TRAIN, Y_TRAIN[0], HE)
    with pytest.raises(InitlabError, match=r"a3 of shape \(1, 300\) and Y of shape \(300, 1\)"):
        course.compute_loss(course.forward_propagation(X_TRAIN, HE)[0], Y_TRAIN.T)
    with pytest.raises(InitlabError, match="'parameters' must be a dict"):
        course.forward_propagation(X_TRAIN, [HE["W1"]])
    with pytest.raises(InitlabError, match=r"parameters has no 'W1'.*Keys given: w1"):
        course.forward_propagation(X_TRAIN, {"w1": HE["W1"]})
    with pytest.raises(InitlabError, match=r"parameters has no 'b4'"):
        course.forward_propagation(X_TRAIN, changed(W4=np.zeros((1, 1))))


def test_extra_keys_beside_the_parameters_are_tolerated():
    a3, _ = course.forward_propagation(X_TRAIN, changed(note=np.zeros(3)))
    assert_bits(a3, ref_forward(X_TRAIN, HE)[0])


# --- 5. plots ---------------------------------------------------------------------------------
def test_plot_decision_boundary_returns_none_and_draws():
    import matplotlib.pyplot as plt

    plt.figure()
    axes = plt.gca()
    axes.set_xlim([-1.5, 1.5])
    assert course.plot_decision_boundary(lambda x: course.predict_dec(HE, x.T), X_TRAIN, Y_TRAIN) is None
    assert axes.collections and axes.get_xlim() == (-1.5, 1.5)
    plt.close("all")


def test_model_cost_plot_has_the_notebooks_labels(capsys):
    import matplotlib.pyplot as plt

    course.model(X_TRAIN, Y_TRAIN, num_iterations=2001, print_cost=False, plot=True)
    ax = plt.gca()
    assert (ax.get_ylabel(), ax.get_xlabel(), ax.get_title()) == ("cost", "iterations (per hundreds)", "Learning rate =0.01")
    assert len(ax.lines[0].get_ydata()) == 3  # one point per 1000 iterations, as the notebook's costs list
    plt.close("all")


# --- 6. check(): exercise mode ----------------------------------------------------------------
def notebook_zeros_2025(layers_dims):  # the 2025 notebook's solution, layers_dims[1] and all
    parameters = {}
    L = len(layers_dims)
    for l in range(1, L):
        parameters['W' + str(l)] = np.zeros((layers_dims[1], layers_dims[l - 1]))
        parameters['b' + str(l)] = np.zeros((layers_dims[1], 1))
    return parameters


def student_he(layers_dims, seed=3, scale=None, transpose=False, skip_b=False):
    np.random.seed(seed)  # as the notebook tells the student: the global state
    parameters = {}
    for l in range(1, len(layers_dims)):
        shape = (layers_dims[l - 1], layers_dims[l]) if transpose else (layers_dims[l], layers_dims[l - 1])
        parameters['W' + str(l)] = np.random.randn(*shape) * (np.sqrt(2 / layers_dims[l - 1]) if scale is None else scale)
        if not skip_b:
            parameters['b' + str(l)] = np.zeros((layers_dims[l], 1))
    return parameters


def named(fn, name):
    fn.__name__ = name
    return fn


def global_state_is(state):
    after = np.random.get_state()
    return after[0] == state[0] and np.array_equal(after[1], state[1]) and after[2:] == state[2:]


@pytest.mark.parametrize("fn, exercise", [
    (ref_zeros, "initialize_parameters_zeros"), (ref_random, "initialize_parameters_random"),
    (ref_he, "initialize_parameters_he"), (student_he, "initialize_parameters_he"),
    (ref_forward, "forward_propagation"), (ref_backward, "backward_propagation"), (ref_loss, "compute_loss"),
    (ref_update, "update_parameters"), (ref_predict, "predict"), (ref_predict_dec, "predict_dec"),
])
def test_check_passes_the_courses_own_functions(fn, exercise, capsys):
    result = course.check(fn, exercise)
    out = capsys.readouterr().out
    assert result.passed and all(case.passed for case in result.cases) and len(result.cases) >= 2
    assert out.strip().endswith(f"{exercise}: PASS ({len(result.cases)} of {len(result.cases)} cases)")
    assert "FAIL" not in out and "PASS" in repr(result)


def test_check_dispatches_on_the_functions_name(capsys):
    initialize_parameters_he = named(lambda dims: ref_he(dims), "initialize_parameters_he")
    assert course.check(initialize_parameters_he).exercise == "initialize_parameters_he"
    assert course.check(course.forward_propagation).passed
    capsys.readouterr()


@pytest.mark.parametrize("fn, exercise, reason", [
    (notebook_zeros_2025, "initialize_parameters_zeros", "W2 has shape (2, 2), expected (1, 2)"),
    (student_he, "initialize_parameters_random", "× the expected values: check the scale factor"),  # He for random
    (lambda d: student_he(d, scale=1), "initialize_parameters_random", "yours are 0.1 × the expected values: check the scale factor"),
    (lambda d: student_he(d, scale=1), "initialize_parameters_he", "× the expected values: check the scale factor"),
    (lambda d: student_he(d, seed=1), "initialize_parameters_he", "the random draws differ"),
    (lambda d: student_he(d, transpose=True), "initialize_parameters_he", "W1 has shape (3, 2), expected (2, 3) (transposed?)"),
    (lambda d: student_he(d, skip_b=True), "initialize_parameters_he", "no 'b1' in yours"),
    (lambda d: 1 / 0, "initialize_parameters_he", "raised ZeroDivisionError: division by zero"),
    (lambda d: None, "initialize_parameters_zeros", "returned None, expected a dict"),
    (lambda d: {**ref_zeros(d), "W0": np.zeros(1)}, "initialize_parameters_zeros", "unexpected key 'W0'"),
    (lambda d: {k: v + 1 for k, v in ref_zeros(d).items()}, "initialize_parameters_zeros", "expected all zeros"),
])
def test_check_fails_a_buggy_initializer_with_the_reason(fn, exercise, reason, capsys):
    result = course.check(fn, exercise)
    out = capsys.readouterr().out
    assert not result.passed and not result.cases[0].passed
    assert reason in result.cases[0].reason, result.cases[0].reason
    last = out.strip().splitlines()[-1]
    assert last.startswith(f"{exercise}: FAIL: ") and reason in last
    assert "FAIL" in repr(result) and str(result) == out.rstrip("\n")
    assert "Traceback" not in out


def test_check_fails_the_2025_zeros_solution_on_every_shape(capsys):
    result = course.check(notebook_zeros_2025, "initialize_parameters_zeros", quiet=True)
    assert capsys.readouterr().out == ""  # quiet
    assert [c.label for c in result.cases][0] == "layers_dims = [3, 2, 1]"
    assert result.cases[0].reason == "W2 has shape (2, 2), expected (1, 2)"
    assert not any(c.passed for c in result.cases)  # every shape whose layers are not all layers_dims[1] wide
    assert result.verdict.startswith("FAIL: W2 has shape (2, 2), expected (1, 2)")


def test_check_does_not_hand_out_the_solution(capsys):
    course.check(lambda d: student_he(d, scale=1), "initialize_parameters_he")
    out = capsys.readouterr().out
    expected = ref_he([2, 10, 5, 1])
    # the first differing entry is shown (6 digits), none of the other expected values
    shown = [v for v in np.concatenate([expected[k].ravel() for k in ("W1", "W2", "W3")]) if f"{v:.6g}" in out]
    assert len(shown) <= 5  # at most the first entry of each case
    assert "[[" not in out and "array(" not in out


def test_check_keeps_numpys_global_random_state(capsys):
    np.random.seed(123)
    np.random.rand(5)
    state = np.random.get_state()
    course.check(student_he, "initialize_parameters_he")  # the student's function calls np.random.seed(3)
    course.check(lambda d: 1 / 0, "initialize_parameters_he")
    assert global_state_is(state)
    capsys.readouterr()


def test_check_of_the_other_exercises_finds_the_mistake(capsys):
    def backward_without_m(X, Y, cache):
        grads = ref_backward(X, Y, cache)
        return {k: v * X.shape[1] for k, v in grads.items()}

    def predict_with_np_int(X, y, parameters):  # the course's own, on numpy >= 1.24
        return np.zeros((1, X.shape[1]), dtype=np.int)

    def forward_with_relu_out(X, parameters):
        a3, cache = ref_forward(X, parameters)
        return np.maximum(0, cache[8]), cache

    def update_forgetting_b(parameters, grads, learning_rate):
        for l in range(1, len(parameters) // 2 + 1):
            parameters[f"W{l}"] = parameters[f"W{l}"] - learning_rate * grads[f"dW{l}"]
        return parameters

    cases = [
        (backward_without_m, "backward_propagation", "dz3 differs (max |yours - expected|"),
        (predict_with_np_int, "predict", "raised AttributeError: module 'numpy' has no attribute 'int'"),
        (forward_with_relu_out, "forward_propagation", "a3 differs (max |yours - expected|"),
        (update_forgetting_b, "update_parameters", "b1 differs (max |yours - expected|"),
        (lambda a3, Y: ref_loss(a3, Y) * 2, "compute_loss", "yours are 2 × the expected values"),
        (lambda parameters, X: ref_predict_dec(parameters, X).astype(float) * 0, "predict_dec", "predictions differs"),
        (lambda X, parameters: ref_forward(X, parameters)[1], "forward_propagation", "the result has 12 entries, expected a tuple of 2"),
    ]
    for fn, exercise, reason in cases:
        result = course.check(fn, exercise, quiet=True)
        assert not result.passed
        assert reason in result.cases[0].reason, (exercise, result.cases[0].reason)
    capsys.readouterr()


def test_check_rejects_what_it_cannot_check():
    with pytest.raises(InitlabError, match="Did you mean 'initialize_parameters_he'"):
        course.check(ref_he, "initialize_parameters_hee")
    with pytest.raises(InitlabError, match=r"check\(fn, \"initialize_parameters_he\"\)"):
        course.check(lambda d: d)
    with pytest.raises(InitlabError, match="'fn' parameter must be a function"):
        course.check("initialize_parameters_he")


def test_more_layers_than_the_key_table():
    dims = [2] + [3] * 69 + [1]
    parameters = ref_he(dims)
    a, cache = course.forward_propagation(X_TRAIN, parameters)
    a_ref, cache_ref = ref_forward_L(X_TRAIN, parameters)
    assert_bits(a, a_ref)
    grads = course.backward_propagation(X_TRAIN, Y_TRAIN, cache)
    assert_same_dict(grads, ref_backward_L(X_TRAIN, Y_TRAIN, cache_ref))
    assert_same_dict(course.update_parameters(dict(parameters), grads, 0.1), ref_update(dict(parameters), grads, 0.1))
