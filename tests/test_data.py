import numpy as np
import pytest
import sklearn.datasets

from initlab._validation import InitlabError
from initlab.data import DATASETS, get_dataset


def notebook_load_dataset():
    """The course's init_utils.get_dataset, global seeds and all (minus the scatter plot)."""
    np.random.seed(1)
    train_X, train_Y = sklearn.datasets.make_circles(n_samples=300, noise=0.05)
    np.random.seed(2)
    test_X, test_Y = sklearn.datasets.make_circles(n_samples=100, noise=0.05)
    return train_X.T, train_Y.reshape((1, train_Y.shape[0])), test_X.T, test_Y.reshape((1, test_Y.shape[0]))


def test_circles_bit_identical_to_notebook():
    expected = notebook_load_dataset()
    d = get_dataset("circles")
    for got, want in zip((d.X_train, d.Y_train, d.X_test, d.Y_test), expected):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_circles_leaves_global_state_alone():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    get_dataset("circles")
    assert np.array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_registry_shapes(name):
    d = get_dataset(name)
    assert d.X_train.shape[0] == d.X_test.shape[0] == d.n_features
    assert d.Y_train.shape == (d.n_outputs, d.X_train.shape[1]) and d.Y_test.shape == (d.n_outputs, d.X_test.shape[1])
    assert set(np.unique(d.Y_train)) <= {0, 1} and d.Y_train.shape[0] == d.n_outputs


def test_bad_options():
    with pytest.raises(InitlabError, match="Unknown dataset 'circle'"):
        get_dataset("circle")
    with pytest.raises(InitlabError, match="'noise' parameter must be a finite float >= 0"):
        get_dataset("circles", noise=-0.1)
    with pytest.raises(InitlabError, match="'n_train' parameter must be an int >= 2"):
        get_dataset("circles", n_train=0)


@pytest.mark.parametrize(
    "name, options, match",
    [
        ("moons", {"nois": 0.1}, r"^The dataset 'moons' does not take options \['nois'\]. Allowed: n_train, n_test, noise, seed. Did you mean 'noise'\?$"),
        ("circles", {"train_sed": 1}, r"^The dataset 'circles' does not take options \['train_sed'\]. Allowed: n_train, n_test, noise, train_seed, test_seed. Did you mean 'train_seed'\?$"),
        ("blobs", {"nois": 1, "centres": 3}, r"^The dataset 'blobs' does not take options \['centres', 'nois'\]. Allowed: .*centers. Did you mean 'centers' for 'centres', 'noise' for 'nois'\?$"),
        ("digits", {"colour": 1}, r"^The dataset 'digits' does not take options \['colour'\]. Allowed: test_fraction, seed.$"),
    ],
    ids=["moons", "circles", "blobs-two-unknown", "digits-no-close-name"],
)
def test_unknown_option_names_the_option_the_dataset_and_the_allowed_ones(name, options, match):
    with pytest.raises(InitlabError, match=match):
        get_dataset(name, **options)


def test_digits_standardized_one_hot():
    d = get_dataset("digits")
    assert d.X_train.shape == (64, 1347) and d.Y_test.shape == (10, 450)
    np.testing.assert_array_equal(d.Y_train.sum(axis=0), 1.0)
    used = d.X_train.std(axis=1) > 0
    np.testing.assert_allclose(d.X_train[used].mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(d.X_train[used].std(axis=1), 1, rtol=1e-12)
    np.testing.assert_array_equal(get_dataset("digits").X_test, d.X_test)  # same seed, same split


def test_embedded_circles_equal_a_fresh_generation():
    """The stored notebook data and scikit-learn's generation agree bit for bit (other seeds generate)."""
    stored = get_dataset("circles")
    generated = get_dataset("circles", train_seed=np.random.RandomState(1), test_seed=np.random.RandomState(2))
    for a, b in [(stored.X_train, generated.X_train), (stored.Y_train, generated.Y_train),
                 (stored.X_test, generated.X_test), (stored.Y_test, generated.Y_test)]:
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(get_dataset("circles", train_seed=5).X_train, stored.X_train)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_registry_seeds_sizes_and_noise(name):
    if name in ("circles", "digits"):
        return  # fixed-size notebook data / bundled data: tested above
    a, b, c = get_dataset(name, seed=1), get_dataset(name, seed=1), get_dataset(name, seed=2)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)
    small = get_dataset(name, n_train=50, n_test=20)
    assert small.X_train.shape == (2, 50) and small.X_test.shape == (2, 20)
    assert len(np.unique(a.Y_train.argmax(axis=0) if a.n_outputs > 1 else a.Y_train)) == max(a.n_outputs, 2)


def test_xor_labels_follow_the_signs():
    d = get_dataset("xor", noise=0.0)
    np.testing.assert_array_equal(d.Y_train[0], (d.X_train[0] * d.X_train[1] > 0).astype(int))


def test_read_csv_and_npz(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = np.where(X[:, 0] > 0, "yes", "no")
    import pandas as pd

    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "label": y}).to_csv(tmp_path / "d.csv", index=False)
    from initlab.data import read

    d = read(tmp_path / "d.csv", target="label", seed=3)
    assert d.n_features == 3 and d.classes == ("no", "yes") and d.X_train.shape[1] + d.X_test.shape[1] == 80
    np.testing.assert_allclose(d.X_train.mean(axis=1), 0, atol=1e-12)
    np.savez(tmp_path / "d.npz", X=X, y=(X[:, 1] > 0).astype(int) + 2 * (X[:, 2] > 0))
    three = read(tmp_path / "d.npz")
    assert three.n_outputs == 4 and three.classes == (0, 1, 2, 3)


@pytest.mark.parametrize("content, kwargs, match", [
    ("a,b,target\n1,2,0\n3,,1\n", {}, "missing values in columns: b"),
    ("a,b,target\n1,x,0\n3,y,1\n", {}, "non-numeric feature columns: b"),
    ("a,b,target\n1,2,0\n3,4,0\n", {}, "at least two classes. Got a single class \\[0\\]"),
    ("a,b,label\n1,2,0\n3,4,1\n", {}, "The 'target' parameter must name a column"),
])
def test_read_bad_csv(tmp_path, content, kwargs, match):
    from initlab.data import read

    (tmp_path / "bad.csv").write_text(content)
    with pytest.raises(InitlabError, match=match):
        read(tmp_path / "bad.csv", **kwargs)


def test_read_bad_npz_and_paths(tmp_path):
    from initlab.data import from_arrays, read

    np.savez(tmp_path / "obj.npz", X=np.array([[1, "a"]], dtype=object), y=np.array([0]))
    with pytest.raises(InitlabError, match="cannot be read without pickle"):
        read(tmp_path / "obj.npz")
    np.savez(tmp_path / "w.npz", features=np.zeros((3, 2)))
    with pytest.raises(InitlabError, match="must hold arrays 'X' \\(m, d\\) and 'y'"):
        read(tmp_path / "w.npz")
    with pytest.raises(InitlabError, match="The 'data' parameter must be an existing .csv or .npz file"):
        read(tmp_path / "none.csv")
    with pytest.raises(InitlabError, match="same number of examples"):
        from_arrays("x", np.zeros((5, 2)), np.arange(4))


def test_read_damaged_npz_names_the_file(tmp_path):
    from initlab.data import read

    np.savez(tmp_path / "ok.npz", X=np.zeros((40, 2)), y=np.arange(40) % 2)
    whole = (tmp_path / "ok.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InitlabError, match=r"The file '.*cut\.npz' is not a valid \.npz file: not a zip archive, or truncated"):
        read(tmp_path / "cut.npz")
    (tmp_path / "text.npz").write_text("X,y\n1,0\n")
    with pytest.raises(InitlabError, match=r"'.*text\.npz' is not a valid \.npz file"):
        read(tmp_path / "text.npz")
    damaged = bytearray(whole)  # the central directory intact, a member's bytes wrong
    start = whole.index(b"\x93NUMPY")
    damaged[start : start + 200] = b"\x00" * 200
    (tmp_path / "bad.npz").write_bytes(bytes(damaged))
    with pytest.raises(InitlabError, match=r"'.*bad\.npz'"):
        read(tmp_path / "bad.npz")


@pytest.mark.parametrize("content, match", [
    ("a,target\n1,0\n2,1\n3,0\n", r"every class needs at least 2 examples .* at least 5 examples in all .* Got 3 examples; per class: 0: 2, 1: 1\."),
    ("a,target\n1,0\n2,1\n3,0\n4,1\n", r" with test_fraction=0.25: .* at least 5 examples in all \(at least 2 on each side"),
    ("a,target\n" + "".join(f"{i},{i % 3}\n" for i in range(6)), r"with 3 classes, at least 9 examples in all \(at least 3 on each side of the split\)\. Got 6 examples"),
])
def test_read_tiny_csv_says_how_many_rows_are_needed(tmp_path, content, match):
    from initlab.data import read

    (tmp_path / "tiny.csv").write_text(content)
    with pytest.raises(InitlabError, match=r"The dataset 'tiny\.csv' is too small for a stratified split.*" + match):
        read(tmp_path / "tiny.csv")


def test_read_smallest_splittable_csv(tmp_path):
    from initlab.data import read

    (tmp_path / "five.csv").write_text("a,target\n1,0\n2,1\n3,0\n4,1\n5,1\n")
    d = read(tmp_path / "five.csv")
    assert d.X_train.shape == (1, 3) and d.X_test.shape == (1, 2)


@pytest.mark.parametrize("content, match", [
    ("target\n0\n1\n0\n1\n0\n1\n0\n1\n", r"has no feature columns: only the target column 'target'"),
    ("", r"is empty"),
    ("a,target\n1,0\n2,\n3,0\n4,1\n", r"missing values in columns: target"),
])
def test_read_csv_without_features_or_rows(tmp_path, content, match):
    from initlab.data import read

    (tmp_path / "d.csv").write_text(content)
    with pytest.raises(InitlabError, match=match):
        read(tmp_path / "d.csv")


def test_read_npz_without_features(tmp_path):
    from initlab.data import read

    np.savez(tmp_path / "none.npz", X=np.zeros((40, 0)), y=np.arange(40) % 2)
    with pytest.raises(InitlabError, match=r"The dataset 'none\.npz' has no features: X has shape \(40, 0\)"):
        read(tmp_path / "none.npz")


def test_read_wide_csv(tmp_path):
    """3,000 feature columns, the target in the middle; the checks name the right columns."""
    from initlab.data import read

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3000))
    y = (X[:, 0] > 0).astype(int)
    names = [f"f{j}" for j in range(3000)]
    header = names[:1500] + ["target"] + names[1500:]
    rows = [[f"{v!r}" for v in r[:1500].tolist()] + [str(t)] + [f"{v!r}" for v in r[1500:].tolist()] for r, t in zip(X, y)]
    text = ",".join(header) + "\n" + "".join(",".join(r) + "\n" for r in rows)
    (tmp_path / "wide.csv").write_text(text)
    d = read(tmp_path / "wide.csv", seed=0)
    assert d.n_features == 3000 and d.X_train.shape[1] + d.X_test.shape[1] == 60
    # the features in file order, the target excluded, every value exact: the same as the arrays
    np.savez(tmp_path / "wide.npz", X=X, y=y)
    same = read(tmp_path / "wide.npz", seed=0)
    np.testing.assert_array_equal(d.X_train, same.X_train)
    np.testing.assert_array_equal(d.Y_test, same.Y_test)
    rows[7][2500] = "x"
    rows[3][2000] = ""
    (tmp_path / "text.csv").write_text(",".join(header) + "\n" + "".join(",".join(r) + "\n" for r in rows))
    with pytest.raises(InitlabError, match=r"non-numeric feature columns: f2499\. Encode"):
        read(tmp_path / "text.csv")
    rows[7][2500] = "1.0"
    (tmp_path / "gap.csv").write_text(",".join(header) + "\n" + "".join(",".join(r) + "\n" for r in rows))
    with pytest.raises(InitlabError, match=r"missing values in columns: f1999\.$"):
        read(tmp_path / "gap.csv")


NOISY = sorted(n for n, f in DATASETS.items() if "noise" in __import__("inspect").signature(f).parameters)


def test_every_noisy_dataset_is_listed():
    assert NOISY == ["blobs", "circles", "gaussian_quantiles", "moons", "spirals", "xor"]


@pytest.mark.parametrize("name", NOISY)
@pytest.mark.parametrize("noise", [-0.1, float("nan"), float("inf"), "0.1", None, True])
def test_noise_is_validated_for_every_dataset(name, noise):
    with pytest.raises(InitlabError, match=r"^The 'noise' parameter must be a finite float >= 0.* Got .* instead\.$"):
        get_dataset(name, noise=noise)


def test_gaussian_quantiles_noise_is_a_fraction_of_at_most_one_half():
    # noise=2.0 used to flip every label: the classes swapped, silently
    for noise in (0.51, 1.0, 2.0):
        with pytest.raises(InitlabError, match=r"^The 'noise' parameter must be a finite float >= 0 and <= 0\.5\. Got .* instead\.$"):
            get_dataset("gaussian_quantiles", noise=noise)
    clean, flipped = get_dataset("gaussian_quantiles"), get_dataset("gaussian_quantiles", noise=0.5)
    share = np.mean(clean.Y_train != flipped.Y_train)
    assert 0.35 < share < 0.65  # coin flips: the largest noise allowed


@pytest.mark.parametrize("name", ["blobs", "circles", "moons"])  # spirals and xor scale noise by 0.1: no overflow
def test_std_noise_that_overflows_is_an_error(name):
    with pytest.raises(InitlabError, match=rf"The 'noise' parameter of the dataset '{name}' is too large"):
        get_dataset(name, noise=1e308)
    assert np.isfinite(get_dataset(name, noise=5.0).X_train).all()  # large but finite noise is an experiment
