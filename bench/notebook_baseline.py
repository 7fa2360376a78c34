"""The baseline every benchmark is measured against: the course notebook's training loop.

Written as the notebook's init_utils does it (a dict of parameters, np.dot, the loss computed every
iteration, a fresh dict of gradients each step), for the 3-layer [n_x, 10, 5, 1] network.
"""
import numpy as np


def forward(X, p):
    z1 = np.dot(p["W1"], X) + p["b1"]
    a1 = np.maximum(0, z1)
    z2 = np.dot(p["W2"], a1) + p["b2"]
    a2 = np.maximum(0, z2)
    z3 = np.dot(p["W3"], a2) + p["b3"]
    a3 = 1 / (1 + np.exp(-z3))
    return a3, (z1, a1, z2, a2, z3, a3)


def backward(X, Y, p, cache):
    m = X.shape[1]
    z1, a1, z2, a2, z3, a3 = cache
    dz3 = 1.0 / m * (a3 - Y)
    dW3, db3 = np.dot(dz3, a2.T), np.sum(dz3, axis=1, keepdims=True)
    dz2 = np.multiply(np.dot(p["W3"].T, dz3), np.int64(a2 > 0))
    dW2, db2 = np.dot(dz2, a1.T), np.sum(dz2, axis=1, keepdims=True)
    dz1 = np.multiply(np.dot(p["W2"].T, dz2), np.int64(a1 > 0))
    dW1, db1 = np.dot(dz1, X.T), np.sum(dz1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2, "dW3": dW3, "db3": db3}


def loss(a3, Y):
    m = Y.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        logprobs = np.multiply(-np.log(a3), Y) + np.multiply(-np.log(1 - a3), 1 - Y)
    return 1.0 / m * np.nansum(logprobs)


def he_init(layers_dims, seed=3):
    rng = np.random.RandomState(seed)
    return {
        key: value
        for l in range(1, len(layers_dims))
        for key, value in (
            (f"W{l}", rng.randn(layers_dims[l], layers_dims[l - 1]) * np.sqrt(2 / layers_dims[l - 1])),
            (f"b{l}", np.zeros((layers_dims[l], 1))),
        )
    }


def train(X, Y, parameters, learning_rate=0.01, num_iterations=15000):
    costs = []
    for i in range(num_iterations):
        a3, cache = forward(X, parameters)
        cost = loss(a3, Y)
        grads = backward(X, Y, parameters, cache)
        for l in (1, 2, 3):
            parameters[f"W{l}"] = parameters[f"W{l}"] - learning_rate * grads[f"dW{l}"]
            parameters[f"b{l}"] = parameters[f"b{l}"] - learning_rate * grads[f"db{l}"]
        if i % 1000 == 0:
            costs.append(cost)
    return parameters, costs
