"""Datasets: ``DATASETS`` maps a name to a loader returning a ``Dataset``.

Examples are columns, as in the course notebook: ``X`` has shape (n_features, m) and ``Y``
shape (1, m). Loaders take explicit seeds and never touch numpy's global random state.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import make_circles

from ._validation import check_float, check_int, check_random_state, lookup


@dataclass(frozen=True)
class Dataset:
    name: str
    X_train: np.ndarray  # (n_features, m_train)
    Y_train: np.ndarray  # (1, m_train)
    X_test: np.ndarray  # (n_features, m_test)
    Y_test: np.ndarray  # (1, m_test)

    @property
    def n_features(self):
        return self.X_train.shape[0]


def circles(n_train=300, n_test=100, noise=0.05, train_seed=1, test_seed=2):
    """Two noisy concentric circles (scikit-learn's ``make_circles``, factor 0.8).

    With the defaults this is the course notebook's ``load_dataset()`` bit for bit: the notebook
    calls ``np.random.seed(1)`` then ``make_circles(300, noise=.05)`` for training and seed 2 with
    100 points for testing; a ``RandomState(seed)`` passed as ``random_state`` draws the same
    numbers without touching the global state.

    >>> d = circles()
    >>> d.X_train.shape, d.Y_test.shape
    ((2, 300), (1, 100))
    """
    n_train = check_int("n_train", n_train, low=2)
    n_test = check_int("n_test", n_test, low=2)
    noise = check_float("noise", noise, low=0.0, low_inclusive=True)
    X, Y = make_circles(n_samples=n_train, noise=noise, random_state=check_random_state(train_seed))
    Xt, Yt = make_circles(n_samples=n_test, noise=noise, random_state=check_random_state(test_seed))
    return Dataset("circles", X.T, Y.reshape(1, -1), Xt.T, Yt.reshape(1, -1))


DATASETS = {"circles": circles}


def load(name="circles", **options) -> Dataset:
    """The registered dataset called `name`, built with `options`."""
    return lookup("dataset", DATASETS, name)(**options)
