"""Datasets: ``DATASETS`` maps a name to a loader returning a ``Dataset``.

Examples are columns, as in the course notebook: ``X`` has shape (n_features, m) and ``Y``
shape (1, m). Loaders take explicit seeds and never touch numpy's global random state.
"""
from __future__ import annotations

from dataclasses import dataclass

from importlib import resources

import numpy as np

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

    @property
    def n_outputs(self):
        return self.Y_train.shape[0]


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
    if (n_train, n_test, noise, train_seed, test_seed) == (300, 100, 0.05, 1, 2):
        return _embedded("circles")  # the notebook's data, stored: no scikit-learn import needed
    from sklearn.datasets import make_circles

    X, Y = make_circles(n_samples=n_train, noise=noise, random_state=check_random_state(train_seed))
    Xt, Yt = make_circles(n_samples=n_test, noise=noise, random_state=check_random_state(test_seed))
    return Dataset("circles", X.T, Y.reshape(1, -1), Xt.T, Yt.reshape(1, -1))


def digits(test_fraction=0.25, seed=0):
    """scikit-learn's bundled 8×8 handwritten digits: 1797 images, 64 features, 10 classes.

    Features are standardized with the training set's mean and standard deviation (constant
    pixels left at 0); Y is one-hot, shape (10, m), for the ``cross_entropy`` loss. The split is
    stratified and drawn from `seed`.

    >>> d = digits()
    >>> d.X_train.shape, d.Y_train.shape
    ((64, 1347), (10, 1347))
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    test_fraction = check_float("test_fraction", test_fraction, low=0.0, high=0.9)
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=test_fraction, random_state=check_int("seed", seed, low=0), stratify=y
    )
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)
    std[std == 0] = 1.0
    return Dataset("digits", ((X_tr - mean) / std).T, one_hot(y_tr, 10), ((X_te - mean) / std).T, one_hot(y_te, 10))


def one_hot(labels, n_classes):
    """Integer labels (m,) in [0, n_classes) as one-hot columns (n_classes, m)."""
    labels = np.asarray(labels, dtype=np.int64)
    return np.eye(n_classes)[:, labels]


def _embedded(name):
    """A dataset stored in the package (initlab/_data/NAME.npz), read without pickle."""
    with resources.files("initlab").joinpath(f"_data/{name}.npz").open("rb") as f, np.load(f, allow_pickle=False) as z:
        return Dataset(name, z["X_train"], z["Y_train"], z["X_test"], z["Y_test"])


DATASETS = {"circles": circles, "digits": digits}


def load(name="circles", **options) -> Dataset:
    """The registered dataset called `name`, built with `options`."""
    return lookup("dataset", DATASETS, name)(**options)
