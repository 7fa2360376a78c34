import json

import numpy as np
import pytest

from initlab._validation import InitlabError
from initlab.compare import compare_initializers, save
from initlab.diagnostics import saturated_outputs, symmetric_layers
from initlab.network import Network
from notebook_values import ACCURACY, COSTS


def test_default_comparison_is_the_notebooks():
    c = compare_initializers(record_every=1000)
    assert [r.name for r in c.results] == ["zeros", "random", "he"]
    for r in c.results:
        assert (r.train_accuracy, r.test_accuracy) == ACCURACY[r.name]
    he = c.results[2].run
    np.testing.assert_allclose(he.costs, COSTS["he"], rtol=1e-12)
    comments = [row["comment"] for row in c.table()]
    assert comments[0].startswith("fails to break symmetry")
    assert comments[1].startswith("too large weights")
    assert comments[2] == "breaks symmetry without saturating: trains well"
    assert c.table()[2]["model"] == "3-layer NN with he initialization"


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_one_batch_gives_each_run_as_if_trained_alone(engine):
    """compare trains every initializer in one batch: each result equals a run trained alone from
    the same initial weights, and the callback reports each initializer's iterations in order."""
    from initlab.data import circles
    from initlab.training import TrainOptions, train

    seen = {}
    c = compare_initializers(["he", "zeros", "lecun_normal"], iterations=400, record_every=50, engine=engine,
                callback=lambda name, i, cost: seen.setdefault(name, []).append(i))
    assert seen == {name: list(range(0, 400, 50)) for name in ("he", "zeros", "lecun_normal")}
    d = circles()
    for r in c.results:
        alone = train(c.network, c.network.init(r.name, rng=3), d.X_train, d.Y_train, c.options, engine=engine)
        np.testing.assert_array_equal(r.run.costs, alone.costs)
        np.testing.assert_array_equal(r.run.params, alone.params)
        assert r.run.engine == engine


def test_start_readings():
    net = Network((2, 3, 1))
    assert symmetric_layers(net, net.init("zeros")) == [1]
    assert symmetric_layers(net, net.init("he_normal", rng=0)) == []
    X = np.array([[1.0, -1.0], [0.5, 0.5]])
    params = np.zeros(net.n_params)
    params[-1] = 10.0  # output bias 10: every output saturated
    assert saturated_outputs(net, params, X) == 1.0
    assert saturated_outputs(net, np.zeros(net.n_params), X) == 0.0


def test_save_writes_json_and_figures(tmp_path):
    c = compare_initializers(["he", "lecun_normal"], iterations=300)
    paths = save(c, tmp_path / "out")
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["settings"]["layers"] == [2, 10, 5, 1] and data["settings"]["iterations"] == 300
    assert [r["init"] for r in data["runs"]] == ["he", "lecun_normal"]
    assert data["runs"][0]["costs"][0] == pytest.approx(COSTS["he"][0], rel=1e-12)
    for key in ("costs", "boundaries"):
        assert open(paths[key], "rb").read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"inits": ["he", "xavier"]}, "Unknown initializer 'xavier'. Expected one of: .*xavier_normal"),
        ({"inits": []}, "The 'inits' parameter must name at least one initializer"),
        ({"layers": [3, 10, 1]}, r"The 'layers' parameter must start with the data's 2 input features .* Got \[3, 10, 1\]"),
        ({"layers": [2, 10, 2]}, "end with 1 output unit"),
        ({"layers": [2]}, "The 'layers' parameter must be a sequence of at least two positive ints"),
        ({"learning_rate": -1}, "The 'learning_rate' parameter must be a finite float > 0. Got -1 instead."),
        ({"iterations": -5}, "The 'iterations' parameter must be an int >= 0. Got -5 instead."),
        ({"seed": -1}, "The 'seed' parameter must be an int >= 0"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(InitlabError, match=match):
        compare_initializers(**kwargs)


def test_snapshots_and_data_without_a_plane(tmp_path):
    """Snapshots keep copies every k-th recorded iteration and the end; data with more than two
    features has no decision-boundary figure (nor points in results.json), and the report says so."""
    from initlab import report
    from initlab.data import from_arrays

    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 5))
    five = from_arrays("five.csv", X, (X[:, 0] + X[:, 1] > 0).astype(int))
    c = compare_initializers(["he", "lecun_normal"], layers=[5, 4, 1], iterations=90, record_every=10, dataset=five,
                engine="numpy", snapshots=4)
    assert [i for i, _ in c.results[0].snapshots] == [0, 30, 60, 90]
    paths = save(c, tmp_path)
    assert "boundaries" not in paths and not (tmp_path / "decision_boundaries.png").exists()
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["data"] is None and len(data["runs"][0]["final_params"]) == 5 * 4 + 4 + 4 + 1
    page = open(report.write_report([paths["json"]], tmp_path / "r.html")).read()
    assert "<h3>Cost curves</h3>" in page and "Decision boundaries" not in page and page.count("<img") == 1
    with pytest.raises(InitlabError, match="needs 2-D data"):
        save(c, tmp_path, animate=True)


@pytest.mark.parametrize(
    "init, kwargs, expected",
    [
        ("zeros", {"iterations": 300}, "fails to break symmetry (layer 1: all units identical)"),
        ("random", {"iterations": 300}, "too large weights: 100% of outputs saturated at start"),
        ("he", {"iterations": 300}, "breaks symmetry without saturating, but learns slowly"),
        ("he", {}, "breaks symmetry without saturating: trains well"),  # the notebook's 15000 iterations
        ("he", {"iterations": 0}, "nothing trained (0 iterations)"),
        ("zeros", {"iterations": 0}, "nothing trained (0 iterations)"),
        ("he", {"iterations": 2000, "learning_rate": 1e3}, "cost rose ×170 (0.88 → 152): learning rate too large"),
        ("zeros", {"iterations": 2000, "learning_rate": 1e3}, "cost rose ×110 (0.69 → 74): learning rate too large"),
        ("random", {"iterations": 50, "learning_rate": 1e300},
         "diverged at iteration 1: the parameters contain nan (28 of 91) after the update"),
    ],
)
def test_comment_names_what_happened(init, kwargs, expected):
    """Each rule of the comment, on a real run, with its exact words: 'learns slowly' only when the
    cost fell, never for a run that trained nothing or whose cost rose."""
    (result,) = compare_initializers([init], **kwargs).results
    assert result.comment == expected


def test_comment_rules_on_made_up_runs():
    """The rules no real default run reaches: a cost that stayed put, a single recorded cost."""
    from types import SimpleNamespace

    from initlab.compare import InitResult

    def comment(costs, accuracy=0.5, steps=100):
        run = SimpleNamespace(diverged=False, divergence=None, steps=steps, costs=np.array(costs, dtype=float))
        return InitResult("x", run, accuracy, accuracy, [], 0.0).comment

    assert comment([0.7, 0.7]) == "cost did not fall (0.7 → 0.7)"
    assert comment([0.7, 0.6]) == "breaks symmetry without saturating, but learns slowly"
    assert comment([0.7, 0.6], accuracy=0.95) == "breaks symmetry without saturating: trains well"
    assert comment([0.5, 2000.0], accuracy=0.95) == "cost rose ×4000 (0.5 → 2000): learning rate too large"
    assert comment([0.7], steps=1) == "trained 1 iteration, one recorded cost: too few to judge (50% train accuracy)"
    assert comment([], steps=0) == "nothing trained (0 iterations)"


def test_an_initializer_with_options_is_one_entry_with_its_label():
    """The course's four-way lesson in one call: zeros, tiny ×0.01, large ×10, He."""
    from initlab.network import Network

    c = compare_initializers(["zeros", "random(scale=0.01)", "random", "he"], iterations=10, record_every=5)
    assert [r.name for r in c.results] == ["zeros", "random(scale=0.01)", "random", "he"]
    tiny = Network((2, 10, 5, 1)).init("random", rng=3, scale=0.01)
    np.testing.assert_array_equal(c.results[1].run.initial_params, tiny)
    np.testing.assert_allclose(c.results[1].run.initial_params, c.results[2].run.initial_params / 1000)  # ×0.01 vs ×10
    assert c.table()[1]["model"] == "3-layer NN with random(scale=0.01) initialization"


# --- another dataset, another activation, the user's file ---------------------------------------------
def test_another_dataset_and_activation_train_that_network_on_that_data():
    """compare(dataset=, activation=) trains the network it names on the data it names: each run
    equals a numpy training of Network(…, activation) on that dataset from the same start."""
    from initlab.data import moons
    from initlab.training import train

    c = compare_initializers(["he", "zeros"], dataset="moons", activation="tanh", iterations=300, engine="numpy")
    assert c.network.activation == ("tanh", "tanh") and c.dataset.name == "moons"
    d = moons()
    tanh_net = Network((2, 10, 5, 1), activation="tanh")
    alone = train(tanh_net, tanh_net.init("he", rng=3), d.X_train, d.Y_train, c.options, engine="numpy")
    np.testing.assert_array_equal(c.results[0].run.params, alone.params)
    relu_net = Network((2, 10, 5, 1))
    relu = train(relu_net, relu_net.init("he", rng=3), d.X_train, d.Y_train, c.options, engine="numpy")
    assert not np.allclose(relu.params, alone.params)  # the activation made a difference
    assert c.describe() == ("moons data (300 training and 100 test examples, 2 features); layers [2, 10, 5, 1], "
                            "hidden activation tanh, sigmoid output")
    assert c.to_dict()["settings"]["activation"] == ["tanh", "tanh"] and c.to_dict()["settings"]["dataset"] == "moons"


def test_auto_leaves_the_exact_engine_for_an_activation_it_does_not_train(monkeypatch):
    """The exact engine (the notebook's digits) trains ReLU hidden layers only: under auto a tanh
    network trains with another engine, and the ReLU one, on any dataset, still with the exact one."""
    pytest.importorskip("numba")
    monkeypatch.delenv("INITLAB_ENGINE", raising=False)
    assert compare_initializers(["he"], activation="tanh", iterations=20).results[0].run.engine == "numba"
    assert compare_initializers(["he"], dataset="xor", iterations=20).results[0].run.engine == "exact"
    with pytest.raises(InitlabError, match="The 'exact' engine does not support this run: its hidden layers must all be ReLU"):
        compare_initializers(["he"], activation="tanh", iterations=20, engine="exact")


def test_a_dataset_must_have_two_classes():
    from initlab.data import get_dataset

    with pytest.raises(InitlabError, match=r"^The 'dataset' parameter must have two classes: compare trains one sigmoid "
                       r"output unit .* Got 'blobs' with 4 classes \(0, 1, 2, 3\) instead. Two-class datasets: "
                       r"circles, moons, spirals, xor, gaussian_quantiles, or a file"):
        compare_initializers(["he"], dataset="blobs", iterations=5)
    with pytest.raises(InitlabError, match="Got 'digits' with 10 classes"):
        compare_initializers(["he"], dataset="digits", iterations=5)
    two = compare_initializers(["he"], dataset=get_dataset("blobs", centers=2), iterations=5)  # the rule is the classes, not the name
    assert two.network.sizes == (2, 10, 5, 1)
    with pytest.raises(InitlabError, match="Unknown dataset 'moon'. Expected one of: .* Did you mean 'moons'"):
        compare_initializers(["he"], dataset="moon")
    with pytest.raises(InitlabError, match="The 'dataset' parameter must be a name of initlab.data.DATASETS or a Dataset"):
        compare_initializers(["he"], dataset=None)
    with pytest.raises(InitlabError, match="Unknown activation 'rleu'.*Did you mean 'relu'"):
        compare_initializers(["he"], activation="rleu")


def _csv(path, n_features, labels, n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features))
    with open(path, "w") as f:
        f.write(",".join(f"x{j}" for j in range(n_features)) + ",label\n")
        for i, row in enumerate(X):
            f.write(",".join(map(str, row)) + f",{labels(row, i)}\n")
    return path


def test_dataset_from_reads_a_file_or_a_name_and_refuses_both(tmp_path):
    from initlab.compare import dataset_from

    path = _csv(tmp_path / "pts.csv", 3, lambda row, i: "yes" if row[0] > 0 else "no")
    d = dataset_from(data=path, target="label")
    assert d.name == "pts.csv" and d.n_features == 3 and d.classes == ("no", "yes") and d.n_outputs == 1
    assert dataset_from().name == "circles" and dataset_from("xor").name == "xor"
    cases = [
        (dict(dataset="moons", data=path), r"^The 'dataset' and 'data' options cannot be used together"),
        (dict(target="label"), r"^The 'target' option names the label column of a 'data' file. Got target 'label'"),
        (dict(data=tmp_path / "missing.csv"), r"^The 'data' parameter must be an existing .csv or .npz file"),
        (dict(data=path), r"^The 'target' parameter must name a column of .*pts.csv'. Got 'target'; columns: x0, x1, x2, label"),
    ]
    for kwargs, match in cases:
        with pytest.raises(InitlabError, match=match):
            dataset_from(**kwargs)
    three = _csv(tmp_path / "three.csv", 2, lambda row, i: "abc"[i % 3])
    with pytest.raises(InitlabError, match=r"^The 'data' parameter must be a file whose label column has two values: "
                       r".* Got 'three.csv' with 3 classes \(a, b, c\) instead.$"):
        dataset_from(data=three, target="label")


def test_a_file_with_more_than_two_features_trains_and_saves_without_a_plane(tmp_path):
    from initlab.compare import dataset_from

    path = _csv(tmp_path / "pts.csv", 4, lambda row, i: int(row[0] + row[1] > 0), n=200)
    c = compare_initializers(["zeros", "he"], dataset=dataset_from(data=path, target="label"), iterations=1500, engine="numpy")
    assert c.network.sizes == (4, 10, 5, 1)
    assert c.results[1].train_accuracy > 0.9 > c.results[0].train_accuracy
    paths = save(c, tmp_path / "out")
    assert set(paths) == {"json", "costs"}
    data = json.loads(open(paths["json"]).read())
    assert data["settings"]["dataset"] == "pts.csv" and data["settings"]["layers"] == [4, 10, 5, 1] and data["data"] is None


def test_residual_networks_compare_and_read_back(tmp_path):
    """compare(residual=) trains the residual network its layers and scheme name, each run as alone;
    Fixup's and ReZero's zero layers are not read as a failure to break symmetry (the skip path tells
    their units apart), a zero network still is; results.json keeps the scheme."""
    from initlab.compare import read_results
    from initlab.data import circles
    from initlab.network import residual_network
    from initlab.training import train

    net = residual_network(2, 8, 3, residual="fixup")
    c = compare_initializers(["he", "zeros"], layers=net.sizes, residual="fixup", iterations=200, engine="numpy")
    assert c.network == net and c.describe().endswith("layers [2, 8, (8, 8) × 3, 1], hidden activation relu, sigmoid output; "
                                                      "residual blocks: fixup")
    d = circles()
    alone = train(net, net.init("he", rng=3), d.X_train, d.Y_train, c.options, engine="numpy")
    np.testing.assert_array_equal(c.results[0].run.params, alone.params)
    assert symmetric_layers(net, net.init("he", rng=3)) == [] and "fails to break symmetry" not in c.results[0].comment
    assert symmetric_layers(net, net.init("zeros")) == [2, 4, 6]  # each branch's first layer: all units identical
    save(c, tmp_path)
    back, _ = read_results(tmp_path / "results.json")
    assert back.network == net and back.network.residual == "fixup"
    assert "residual" not in compare_initializers(["he"], iterations=10, engine="numpy").to_dict()["settings"]
