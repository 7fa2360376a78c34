"""Datasets: ``DATASETS`` maps a name to a loader returning a ``Dataset``.

Examples are columns, as in the course notebook: ``X`` has shape (n_features, m). Two classes
give ``Y`` of shape (1, m) with 0/1 labels (binary cross-entropy); more give one-hot columns
(k, m) (softmax cross-entropy). Loaders take explicit seeds and never touch numpy's global random
state. :func:`read` loads a user's CSV or ``.npz`` file, without pickle.

>>> sorted(DATASETS)
['blobs', 'circles', 'digits', 'gaussian_quantiles', 'moons', 'spirals', 'xor']
"""
from __future__ import annotations

import csv
import os
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from . import _html
from ._validation import InitlabError, SeedLike, _fail, build, check_float, check_int, check_names, check_random_state

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Dataset:
    name: str
    X_train: np.ndarray  # (n_features, m_train)
    Y_train: np.ndarray  # (1, m_train)
    X_test: np.ndarray  # (n_features, m_test)
    Y_test: np.ndarray  # (1, m_test)
    classes: tuple = field(default=(0, 1))  # the original label of each class index

    @property
    def n_features(self) -> int:
        return self.X_train.shape[0]

    @property
    def n_outputs(self) -> int:
        return self.Y_train.shape[0]

    @property
    def loss(self) -> str:
        """The loss its targets take: binary cross-entropy for 0/1 labels, cross-entropy for one-hot."""
        return "binary_cross_entropy" if self.n_outputs == 1 else "cross_entropy"


def circles(n_train: int = 300, n_test: int = 100, noise: float = 0.05, train_seed: SeedLike = 1,
            test_seed: SeedLike = 2) -> Dataset:
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
    if not (np.isfinite(X).all() and np.isfinite(Xt).all()):
        raise InitlabError("The 'noise' parameter of the dataset 'circles' is too large: the points overflow to inf.")
    return Dataset("circles", X.T, Y.reshape(1, -1), Xt.T, Yt.reshape(1, -1))


def digits(test_fraction: float = 0.25, seed: int = 0) -> Dataset:
    """scikit-learn's bundled 8×8 handwritten digits: 1797 images, 64 features, 10 classes.

    Features are standardized with the training set's mean and standard deviation (constant
    pixels left at 0); Y is one-hot, shape (10, m), for the ``cross_entropy`` loss. The split is
    stratified and drawn from `seed`.

    >>> d = digits()
    >>> d.X_train.shape, d.Y_train.shape
    ((64, 1347), (10, 1347))
    """
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return from_arrays("digits", X, y, test_fraction=test_fraction, seed=seed)


def one_hot(labels: ArrayLike, n_classes: int) -> np.ndarray:
    """Integer labels (m,) in [0, n_classes) as one-hot columns (n_classes, m)."""
    labels = np.asarray(labels, dtype=np.int64)
    return np.eye(n_classes)[:, labels]


def _embedded(name: str) -> Dataset:
    """A dataset stored in the package (initlab/_data/NAME.npz), read without pickle."""
    with resources.files("initlab").joinpath(f"_data/{name}.npz").open("rb") as f, np.load(f, allow_pickle=False) as z:
        return Dataset(name, z["X_train"], z["Y_train"], z["X_test"], z["Y_test"])


# --- synthetic 2-D problems ------------------------------------------------------------------------
def _split(name: str, X: np.ndarray, labels: np.ndarray, n_train: int, seed: SeedLike,
           classes: Iterable[Any] | None = None) -> Dataset:
    """Dataset from points X (m, d) and integer labels (m,): the first n_train for training."""
    if not np.isfinite(X).all():  # a noise std near the float range overflows
        raise InitlabError(f"The 'noise' parameter of the dataset '{name}' is too large: the points overflow to inf.")
    k = int(labels.max()) + 1
    Y = labels.reshape(1, -1) if k <= 2 else one_hot(labels, k)
    Y = Y.astype(np.int64)
    classes = tuple(range(max(k, 2))) if classes is None else tuple(classes)
    return Dataset(name, X[:n_train].T.copy(), Y[:, :n_train], X[n_train:].T.copy(), Y[:, n_train:], classes)


def _sizes(n_train: int, n_test: int, noise: float, noise_max: float | None = None) -> tuple[int, int, float]:
    """The sizes and `noise`: a standard deviation (any finite value >= 0) or, with `noise_max`, a
    fraction in [0, noise_max]."""
    return (check_int("n_train", n_train, low=2), check_int("n_test", n_test, low=2),
            check_float("noise", noise, low=0.0, low_inclusive=True, high=noise_max))


def moons(n_train: int = 300, n_test: int = 100, noise: float = 0.2, seed: SeedLike = 0) -> Dataset:
    """Two interleaving half circles (scikit-learn's ``make_moons``).

    >>> moons().X_train.shape
    (2, 300)
    """
    from sklearn.datasets import make_moons

    n_train, n_test, noise = _sizes(n_train, n_test, noise)
    X, y = make_moons(n_train + n_test, noise=noise, random_state=check_random_state(seed))
    return _split("moons", X, y, n_train, seed)


def spirals(n_train: int = 300, n_test: int = 100, noise: float = 0.2, seed: SeedLike = 0,
            turns: float = 1.5) -> Dataset:
    """Two interleaved Archimedean spirals, r ∝ θ over `turns` turns, Gaussian noise of std `noise`.

    >>> spirals().Y_train.shape
    (1, 300)
    """
    n_train, n_test, noise = _sizes(n_train, n_test, noise)
    turns = check_float("turns", turns, low=0.0)
    rng = check_random_state(seed)
    m = n_train + n_test
    labels = rng.permutation(np.arange(m) % 2)
    theta = np.sqrt(rng.uniform(0, 1, m)) * turns * 2 * np.pi
    r = theta / (turns * 2 * np.pi) * 1.4
    angle = theta + np.pi * labels
    X = np.column_stack([r * np.cos(angle), r * np.sin(angle)]) + rng.normal(0, noise * 0.1, (m, 2))
    return _split("spirals", X, labels, n_train, seed)


def xor(n_train: int = 300, n_test: int = 100, noise: float = 0.2, seed: SeedLike = 0) -> Dataset:
    """Points uniform in [−1, 1]², label 1 where x₁·x₂ > 0 (the XOR of the signs), plus noise.

    >>> xor().X_test.shape
    (2, 100)
    """
    n_train, n_test, noise = _sizes(n_train, n_test, noise)
    rng = check_random_state(seed)
    X = rng.uniform(-1, 1, (n_train + n_test, 2))
    labels = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return _split("xor", X + rng.normal(0, noise * 0.1, X.shape), labels, n_train, seed)


def gaussian_quantiles(n_train: int = 300, n_test: int = 100, noise: float = 0.0, seed: SeedLike = 0) -> Dataset:
    """An isotropic Gaussian cut by a sphere into two equal classes (``make_gaussian_quantiles``);
    `noise` flips that fraction of the labels, in [0, 0.5]: at 0.5 the labels are coin flips, and
    above it they would be mostly inverted (noise=1 swaps the classes), so larger values are errors.

    >>> gaussian_quantiles().Y_test.shape
    (1, 100)
    """
    from sklearn.datasets import make_gaussian_quantiles

    n_train, n_test, noise = _sizes(n_train, n_test, noise, noise_max=0.5)
    rng = check_random_state(seed)
    X, y = make_gaussian_quantiles(n_samples=n_train + n_test, n_features=2, n_classes=2, random_state=rng)
    flip = rng.uniform(size=y.size) < noise
    return _split("gaussian_quantiles", X, np.where(flip, 1 - y, y), n_train, seed)


def blobs(n_train: int = 300, n_test: int = 100, noise: float = 1.0, seed: SeedLike = 0, centers: int = 4) -> Dataset:
    """`centers` Gaussian blobs of std `noise` in 2-D, one class each (``make_blobs``): multi-class.

    >>> blobs().Y_train.shape
    (4, 300)
    """
    from sklearn.datasets import make_blobs

    n_train, n_test, noise = _sizes(n_train, n_test, noise)
    centers = check_int("centers", centers, low=2)
    X, y = make_blobs(n_train + n_test, n_features=2, centers=centers, cluster_std=max(noise, 1e-6),
                      center_box=(-6, 6), random_state=check_random_state(seed))
    return _split("blobs", X / 6.0, y, n_train, seed)


# --- user files -------------------------------------------------------------------------------------
def read(path: str | os.PathLike[str], target: str = "target", test_fraction: float = 0.25, seed: int = 0) -> Dataset:
    """A user's dataset from a CSV file (a header row; `target` names the label column, every other
    column is a numeric feature) or an ``.npz`` file (arrays ``X`` (m, d) and ``y`` (m,)), read
    without pickle. Labels may be any values; features are standardized with the training split's
    statistics; the split is stratified and drawn from `seed`. A file too small for a stratified
    split (a class with one example, or fewer than one example per class on either side) is an
    error saying how many examples it needs, not an unstratified split: that could leave a class
    out of the training set. A damaged or truncated file, or one without a feature column, is an
    error naming the file.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        _fail("data", "an existing .csv or .npz file", path)
    X, y = _read_npz(path) if path.endswith(".npz") else _read_csv(path, target)
    return from_arrays(os.path.basename(path), X, y, test_fraction, seed)


def _read_csv(path: str, target: str) -> tuple[np.ndarray, np.ndarray]:
    """Features (m, d) and labels (m,) of a CSV file. Checks are whole-frame operations (no loop
    that builds a pandas object per column), so a file of 10,000 columns reads in about the time
    pandas takes to parse it."""
    import pandas as pd

    try:  # the header alone (pandas' own header read builds an empty column per name: slow when wide)
        with open(path, newline="", encoding="utf-8-sig") as f:
            columns = next(csv.reader(f), [])
    except (ValueError, UnicodeDecodeError, csv.Error) as exc:
        raise InitlabError(f"The file {path!r} is not a readable CSV file ({exc}).") from None
    if not columns:
        raise InitlabError(f"The file {path!r} is empty: a CSV dataset needs a header row and one row per example.")
    if target not in columns:
        shown = ", ".join(map(str, columns[:20])) + (f", … ({len(columns)} columns)" if len(columns) > 20 else "")
        raise InitlabError(f"The 'target' parameter must name a column of {path!r}. Got {target!r}; columns: {shown}.")
    if len(columns) == 1:
        raise InitlabError(f"The file {path!r} has no feature columns: only the target column {target!r}. "
                           "A dataset needs at least one numeric feature column besides the target.")
    try:  # the target as the index, the frame the features alone (no per-column copy to drop it)
        frame = pd.read_csv(path, index_col=target)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InitlabError(f"The file {path!r} is not a readable CSV file ({exc}).") from None
    labels = frame.index
    text = [c for c, dtype in zip(frame.columns, frame.dtypes) if dtype.kind not in "biuf"]
    if text:
        raise InitlabError(f"The file {path!r} has non-numeric feature columns: {_some(text)}. Encode or drop them.")
    X = frame.to_numpy(dtype=np.float64)  # one array: a numeric column's missing values are NaN in it
    missing = np.isnan(X).any(axis=0)
    if missing.any() or labels.isna().any():
        names = [target] * bool(labels.isna().any()) + list(frame.columns[missing])
        raise InitlabError(f"The file {path!r} has missing values in columns: {_some(names)}.")
    return X, labels.to_numpy()


def _some(names: Iterable[Any], n: int = 20) -> str:
    """The first `n` names, comma-separated, and how many there are in all when more."""
    names = list(map(str, names))
    return ", ".join(names[:n]) + (f", … ({len(names)} in all)" if len(names) > n else "")


def _read_npz(path: str) -> tuple[np.ndarray, np.ndarray]:
    if not zipfile.is_zipfile(path):
        raise InitlabError(f"The file {path!r} is not a valid .npz file: not a zip archive, or truncated.")
    try:
        with np.load(path, allow_pickle=False) as z:
            if "X" not in z or "y" not in z:
                raise InitlabError(f"The file {path!r} must hold arrays 'X' (m, d) and 'y' (m,). Got: {', '.join(z.files)}.")
            return z["X"], z["y"]
    except InitlabError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:  # a damaged archive or member
        raise InitlabError(f"The file {path!r} is not a valid .npz file: it is damaged or truncated ({exc}).") from None
    except ValueError as exc:  # object arrays would need pickle; a member that is not an array
        raise InitlabError(f"The file {path!r} cannot be read without pickle ({exc}).") from None


def from_arrays(name: str, X: ArrayLike, y: ArrayLike, test_fraction: float = 0.25, seed: int = 0) -> Dataset:
    """A Dataset from X (m, d) and labels y (m,) of any values: stratified split, standardized."""
    from sklearn.model_selection import train_test_split

    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        _fail("X", "a numeric array", f"an array of dtype {X.dtype}", described=True)
    X, y = X.astype(np.float64), np.asarray(y).ravel()
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise InitlabError(f"The features and labels must have the same number of examples. Got X of shape {X.shape} and {y.shape[0]} labels.")
    if not np.isfinite(X).all():
        _fail("X", "finite (no NaN or inf)", f"{int((~np.isfinite(X)).sum())} non-finite values", described=True)
    if X.shape[1] == 0:
        raise InitlabError(f"The dataset {name!r} has no features: X has shape {X.shape}. It needs at least one feature column.")
    classes, labels = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise InitlabError(f"The labels must have at least two classes. Got a single class {classes.tolist()!r}.")
    test_fraction = check_float("test_fraction", test_fraction, low=0.0, high=0.9)
    _check_stratifiable(name, classes, np.bincount(labels), test_fraction)
    X_tr, X_te, y_tr, y_te = train_test_split(X, labels, test_size=test_fraction, random_state=check_int("seed", seed, low=0), stratify=labels)
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)
    std[std == 0] = 1.0
    ordered = np.concatenate([(X_tr - mean) / std, (X_te - mean) / std])
    return _split(name, ordered, np.concatenate([y_tr, y_te]), len(y_tr), seed, classes=classes.tolist())


def _check_stratifiable(name: str, classes: np.ndarray, counts: np.ndarray, test_fraction: float) -> None:
    """The stratified split needs every class twice (once on each side) and, with k classes, at
    least k examples on each side: the test side has ceil(test_fraction · m) examples. No
    unstratified fallback: a split that may leave a class out of the training set would train a
    network that never saw it."""
    m, k = int(counts.sum()), len(classes)
    n_test = int(np.ceil(test_fraction * m))
    if counts.min() >= 2 and k <= n_test <= m - k:
        return
    needed = 2 * k
    while not (k <= int(np.ceil(test_fraction * needed)) <= needed - k):
        needed += 1
    per_class = ", ".join(f"{c!r}: {n}" for c, n in zip(classes.tolist()[:20], counts.tolist()[:20]))
    raise InitlabError(
        f"The dataset {name!r} is too small for a stratified split with test_fraction={test_fraction:g}: every "
        f"class needs at least 2 examples (rows) and, with {k} classes, at least {needed} examples in all "
        f"(at least {k} on each side of the split). Got {m} examples; per class: {per_class}."
    )


DATASETS: dict[str, Callable[..., Dataset]] = {
    "circles": circles,
    "moons": moons,
    "spirals": spirals,
    "xor": xor,
    "gaussian_quantiles": gaussian_quantiles,
    "blobs": blobs,
    "digits": digits,
}


def get_dataset(name: str = "circles", **options: Any) -> Dataset:
    """The registered dataset called `name`, built with `options` (an option the loader does not
    take is an error naming the options it does take)."""
    return build("dataset", DATASETS, name, options)


# --- the dataset catalogue ---------------------------------------------------------------------
@dataclass
class Catalog:
    """The registered datasets, loaded with their defaults: a table, and thumbnails in a report."""

    datasets: list[Dataset]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"name": d.name, "features": d.n_features, "classes": len(d.classes), "train": d.X_train.shape[1], "test": d.X_test.shape[1]}
            for d in self.datasets
        ]

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd  # imported when used: pandas costs 0.3 s at start-up

        return pd.DataFrame(self.rows()).set_index("name")

    def _repr_html_(self):
        return _html.notebook(self.report_section())

    def report_section(self, source: str | None = None) -> str:
        """The report's dataset table with one thumbnail per dataset."""
        return _datasets_section(self)


def catalog(names: str | Iterable[str] | None = None) -> Catalog:
    """Every dataset of ``DATASETS`` (or those in `names`), built with its default options."""
    names = list(DATASETS) if names is None else check_names("names", names, "dataset", DATASETS)
    return Catalog([get_dataset(name) for name in names])


def _datasets_section(cat: Catalog) -> str:
    from . import plots  # matplotlib costs ~0.3 s at start-up: imported when a figure is drawn

    header = ["name", "features", "classes", "train", "test", "thumbnail"]
    rows = [[r["name"], r["features"], r["classes"], r["train"], r["test"],
             _html.figure_html(plots.dataset_thumbnail(d), f"Thumbnail of the {d.name} dataset")]
            for r, d in zip(cat.rows(), cat.datasets)]
    body = _html.table_html(header, rows, raw=("thumbnail",), limit=None) + (
        '<p class="note">2-D data: training points coloured by class; image data: the first training images.</p>')
    return _html.section("Datasets", body, "datasets")
