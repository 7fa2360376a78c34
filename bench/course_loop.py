"""The notebook's training loop on initlab.course's functions against the same loop on the course's
own helper (init_utils), per iteration, in one process.

The loop is the notebook's model() cell verbatim (tests/notebook_values.py: MODEL_CELL), run once
with ``from initlab.course import *`` and once with the helper's functions below (init_utils as the
course ships it, written out: the 3-layer forward and backward, compute_loss, update_parameters,
and the notebook's He initializer). Both runs must compute the same costs and weights, bit for bit,
before anything is timed. The two cases take turns in every round (after a warm-up round), so a
slow spell of this shared machine falls on both; the report gives medians, min–max and the ratio.

Usage: python bench/course_loop.py [--repeats N] [--iterations N]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from notebook_values import MODEL_CELL  # noqa: E402  (the notebook's model() cell)

import initlab.course  # noqa: E402


# --- the course's helper, init_utils, as the notebook imports it ------------------------------
def sigmoid(x):
    s = 1 / (1 + np.exp(-x))
    return s


def relu(x):
    s = np.maximum(0, x)
    return s


def forward_propagation(X, parameters):
    W1 = parameters["W1"]
    b1 = parameters["b1"]
    W2 = parameters["W2"]
    b2 = parameters["b2"]
    W3 = parameters["W3"]
    b3 = parameters["b3"]
    z1 = np.dot(W1, X) + b1
    a1 = relu(z1)
    z2 = np.dot(W2, a1) + b2
    a2 = relu(z2)
    z3 = np.dot(W3, a2) + b3
    a3 = sigmoid(z3)
    cache = (z1, a1, W1, b1, z2, a2, W2, b2, z3, a3, W3, b3)
    return a3, cache


def backward_propagation(X, Y, cache):
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
    gradients = {"dz3": dz3, "dW3": dW3, "db3": db3,
                 "da2": da2, "dz2": dz2, "dW2": dW2, "db2": db2,
                 "da1": da1, "dz1": dz1, "dW1": dW1, "db1": db1}
    return gradients


def update_parameters(parameters, grads, learning_rate):
    L = len(parameters) // 2
    for k in range(L):
        parameters["W" + str(k + 1)] = parameters["W" + str(k + 1)] - learning_rate * grads["dW" + str(k + 1)]
        parameters["b" + str(k + 1)] = parameters["b" + str(k + 1)] - learning_rate * grads["db" + str(k + 1)]
    return parameters


def compute_loss(a3, Y):
    m = Y.shape[1]
    logprobs = np.multiply(-np.log(a3), Y) + np.multiply(-np.log(1 - a3), 1 - Y)
    loss = 1. / m * np.nansum(logprobs)
    return loss


def initialize_parameters_he(layers_dims):  # the notebook's solution (np.random.seed(3))
    np.random.seed(3)
    parameters = {}
    L = len(layers_dims) - 1
    for l in range(1, L + 1):
        parameters['W' + str(l)] = np.random.randn(layers_dims[l], layers_dims[l - 1]) * np.sqrt(2 / layers_dims[l - 1])
        parameters['b' + str(l)] = np.zeros((layers_dims[l], 1))
    return parameters


class _NoPlot:
    """Stands in for pyplot in the cell: its closing plt.plot / plt.show are not what is timed."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def notebook_model(functions):
    """The notebook's model() with `functions` (a namespace: the course helper's or initlab.course's)."""
    namespace = {"np": np, "plt": _NoPlot(), **functions}
    exec(MODEL_CELL, namespace)
    return namespace["model"]


HELPER = {name: globals()[name] for name in ("forward_propagation", "backward_propagation", "compute_loss",
                                             "update_parameters", "initialize_parameters_he", "sigmoid", "relu")}
COURSE = {name: getattr(initlab.course, name) for name in initlab.course.__all__}


def machine():
    """One line: platform, CPU model, cores, Python, numpy and its BLAS."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas['name']} {blas.get('version', '')}".strip()
    except Exception:  # older numpy: no dict mode
        blas = "BLAS unknown"
    return (f"{platform.platform()} · {cpu} · {os.cpu_count()} cores · Python {platform.python_version()} · "
            f"numpy {np.__version__} ({blas})")


def same_numbers(iterations=300):
    """Both loops give the same costs (printed every 1000 iterations, so compare the loss of each
    step) and the same final weights, bit for bit."""
    X, Y = initlab.course.load_dataset()[:2]
    runs = []
    for functions in (HELPER, COURSE):
        costs = []
        loss = functions["compute_loss"]

        def recording(a3, Y, loss=loss, costs=costs):
            costs.append(loss(a3, Y))
            return costs[-1]

        model = notebook_model({**functions, "compute_loss": recording})
        parameters = model(X, Y, num_iterations=iterations, print_cost=False)
        runs.append((np.array(costs), parameters))
    (c0, p0), (c1, p1) = runs
    assert c0.tobytes() == c1.tobytes(), "the two loops' costs differ"
    assert all(p0[k].tobytes() == p1[k].tobytes() for k in p0), "the two loops' weights differ"


def per_iteration(repeats=7, iterations=2000):
    """Median, min and max seconds per iteration of the notebook's loop, helper vs initlab.course,
    the two taking turns in every round after a warm-up round."""
    X, Y = initlab.course.load_dataset()[:2]
    models = {"course helper (init_utils)": notebook_model(HELPER), "initlab.course": notebook_model(COURSE)}
    for model in models.values():
        model(X, Y, num_iterations=iterations // 4, print_cost=False)
    times = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            start = time.perf_counter()
            model(X, Y, num_iterations=iterations, print_cost=False)
            times[name].append((time.perf_counter() - start) / iterations)
    return {name: (statistics.median(t), min(t), max(t)) for name, t in times.items()}


def per_call(repeats=7, calls=2000):
    """Median microseconds per call of each of the loop's four functions, helper vs initlab.course
    (interleaved rounds), on the notebook's data and He weights."""
    X, Y = initlab.course.load_dataset()[:2]
    parameters = initlab.course.initialize_parameters_he([2, 10, 5, 1])
    a3, cache = forward_propagation(X, parameters)
    grads = backward_propagation(X, Y, cache)
    calls_of = {
        "forward_propagation": lambda f: f["forward_propagation"](X, parameters),
        "compute_loss": lambda f: f["compute_loss"](a3, Y),
        "backward_propagation": lambda f: f["backward_propagation"](X, Y, cache),
        "update_parameters": lambda f: f["update_parameters"](dict(parameters), grads, 0.01),
    }
    result = {}
    for name, call in calls_of.items():
        times = {"helper": [], "course": []}
        for _ in range(repeats + 1):
            for side, functions in (("helper", HELPER), ("course", COURSE)):
                start = time.perf_counter()
                for _ in range(calls):
                    call(functions)
                times[side].append((time.perf_counter() - start) / calls * 1e6)
        result[name] = tuple(statistics.median(times[side][1:]) for side in ("helper", "course"))
    return result


def report(repeats=7, iterations=2000):
    """The markdown section for bench/README.md."""
    same_numbers()
    rows = per_iteration(repeats, iterations)
    base = rows["course helper (init_utils)"][0]
    lines = [f"### The notebook's loop on initlab.course ([2, 10, 5, 1], 300 examples, {iterations} iterations × {repeats} rounds)\n",
             machine() + "\n",
             "| functions | median per iteration (µs) | min–max (µs) | speed vs the helper |", "|---|---:|---:|---:|"]
    for name, (median, lo, hi) in rows.items():
        lines.append(f"| {name} | {median * 1e6:.1f} | {lo * 1e6:.1f}–{hi * 1e6:.1f} | {base / median:.2f}× |")
    lines += ["", "Per call (median µs; same data and weights):", "",
              "| function | course helper | initlab.course | ratio |", "|---|---:|---:|---:|"]
    for name, (helper, course) in per_call(repeats).items():
        lines.append(f"| {name} | {helper:.1f} | {course:.1f} | {helper / course:.2f}× |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args(argv)
    print(report(args.repeats, args.iterations))


if __name__ == "__main__":
    main()
