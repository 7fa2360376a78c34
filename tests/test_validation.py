import numpy as np
import pytest

from initlab._validation import (
    InitlabError, check_data, check_float, check_int, check_layer_sizes, check_random_state,
    check_writable_dir, lookup,
)


@pytest.mark.parametrize("value", [-1, 0, float("nan"), float("inf"), "0.1", None, True])
def test_check_float_rejects_and_names_parameter(value):
    with pytest.raises(InitlabError, match=r"The 'learning_rate' parameter must be a finite float > 0\. Got .* instead\."):
        check_float("learning_rate", value, low=0.0)


def test_check_float_message_shape():
    with pytest.raises(InitlabError) as e:
        check_float("learning_rate", -1, low=0.0)
    assert str(e.value) == "The 'learning_rate' parameter must be a finite float > 0. Got -1 instead."


@pytest.mark.parametrize("value", [-1, 1.5, "3", True])
def test_check_int(value):
    with pytest.raises(InitlabError, match="'iterations' parameter must be an int >= 0"):
        check_int("iterations", value, low=0)
    assert check_int("iterations", np.int64(3), low=0) == 3


@pytest.mark.parametrize("sizes", [[2], [], [2, 0, 1], [2, -3, 1], [2, 1.5, 1], "21", 5, [2, True]])
def test_layer_sizes(sizes):
    with pytest.raises(InitlabError, match="'sizes' parameter must be a sequence of at least two positive ints"):
        check_layer_sizes("sizes", sizes)


def test_lookup_lists_names_and_suggests():
    with pytest.raises(InitlabError) as e:
        lookup("initializer", {"he_normal": 1, "he_uniform": 2}, "he_unifrom")
    msg = str(e.value)
    assert msg.startswith("Unknown initializer 'he_unifrom'. Expected one of: he_normal, he_uniform.")
    assert "Did you mean 'he_uniform'?" in msg


def test_random_state():
    a = check_random_state(3).standard_normal(4)
    np.random.seed(3)
    assert np.array_equal(a, np.random.randn(4))  # the notebook's stream
    g = np.random.default_rng(0)
    assert check_random_state(g) is g
    with pytest.raises(InitlabError, match="'seed'"):
        check_random_state(-1)
    with pytest.raises(InitlabError, match="'seed'"):
        check_random_state("3")


def test_check_data_errors():
    X, Y = np.zeros((2, 4)), np.array([[0, 1, 0, 1]])
    with pytest.raises(InitlabError, match="same number of examples.*Got 4 and 3"):
        check_data(X, Y[:, :3])
    with pytest.raises(InitlabError, match=r"'Y' parameter must be labels 0 or 1\. Got labels \[2\.0\] instead"):
        check_data(X, np.array([[0, 1, 2, 1]]))
    bad = X.copy()
    bad[0, 1] = np.nan
    with pytest.raises(InitlabError, match="'X' parameter must be finite"):
        check_data(bad, Y)
    bad[0, 1] = np.inf
    with pytest.raises(InitlabError, match="'X' parameter must be finite"):
        check_data(bad, Y)
    with pytest.raises(InitlabError, match="'X' parameter must be an array with 3 rows"):
        check_data(X, Y, n_features=3)
    with pytest.raises(InitlabError, match="'X' parameter must be a 2-D array"):
        check_data(np.zeros(4), Y)
    with pytest.raises(InitlabError, match="'Y' parameter must be an array of shape \\(1, m\\)"):
        check_data(X, np.zeros((2, 4)))
    with pytest.raises(InitlabError, match="'X' parameter must be a numeric array"):
        check_data([["a", "b"]], Y[:, :2])


def test_writable_dir(tmp_path):
    assert check_writable_dir("out", tmp_path / "new") == str(tmp_path / "new")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InitlabError, match="The 'out' parameter must be a folder that can be written"):
        check_writable_dir("out", blocker / "sub")


def test_writable_dir_probe_touches_no_existing_file(tmp_path):
    # a symlink at the old probe's name used to have its target truncated to 0 bytes
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".initlab-write-test").symlink_to(target)
    check_writable_dir("out", out)
    assert target.read_text() == "keep me"
    assert sorted(p.name for p in out.iterdir()) == [".initlab-write-test"]  # the probe left nothing behind


def test_check_int_with_both_bounds():
    import pytest

    from initlab._validation import InitlabError, check_int

    assert check_int("n", 3, low=0, high=4) == 3
    for bad in (-1, 4):
        with pytest.raises(InitlabError, match=r"The 'n' parameter must be an int in \[0, 4\). Got"):
            check_int("n", bad, low=0, high=4)


def test_a_network_too_large_to_allocate_is_one_clear_error():
    """width = 10**9 (a sweep's --set typo) asked numpy for 32 GB; now the sizes are refused."""
    import pytest

    from initlab._validation import InitlabError
    from initlab.network import Network

    with pytest.raises(InitlabError, match=r"The 'sizes' parameter must be layer sizes with at most 1,073,741,824 weights .* 4,000,000,001 parameters \(32.0 GB\)"):
        Network((2, 10**9, 1))
    assert Network((2, 4096, 4096, 1)).n_params == 2 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 + 1


@pytest.mark.parametrize("text, value", [("2", 2), ("-0.5", -0.5), ("1e-3", 0.001), ("True", True), ("None", None),
                                         ("'fan_out'", "fan_out"), ("fan_out", "fan_out"), (" relu ", "relu")])
def test_parse_literal(text, value):
    from initlab._validation import parse_literal

    assert parse_literal(text) == value and type(parse_literal(text)) is type(value)
