"""Sweeps: spec validation, stable ids and seeds, resumability (with a real SIGKILL), export, figures."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from initlab import sweep
from initlab._validation import InitlabError

SPEC = """
[sweep]
name = "t"
seeds = 2
record_every = 50
chunk_size = 4

[grid]
init = ["he_normal", { name = "random", scale = 0.5 }]
weight_scale = [0.5, 1.0]
depth = [1, 2]
width = [6]
learning_rate = [0.05]
iterations = [200]
"""


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(SPEC)
    return path


def test_expand_ids_and_seeds(spec_file):
    spec = sweep.read_spec(spec_file)
    runs = sweep.expand(spec)
    assert len(runs) == spec.n_runs == 2 * 2 * 2 * 2
    assert len({r["id"] for r in runs}) == len(runs) and len({r["seed"] for r in runs}) == len(runs)
    # a run's id and seed depend on its configuration only, not on the rest of the grid
    smaller = sweep.expand(sweep.read_spec(spec_file, {"depth": [2], "weight_scale": [1.0]}))
    by_id = {r["id"]: r for r in runs}
    assert all(by_id[r["id"]]["seed"] == r["seed"] for r in smaller)
    assert {r["init"] for r in runs} == {"he_normal", "random"} and {json.dumps(r["init_options"]) for r in runs} == {"{}", '{"scale": 0.5}'}
    other_master = sweep.expand(sweep.make_spec({"sweep": {"master_seed": 1, "seeds": 2, "record_every": 50, "chunk_size": 4, "name": "t"}, "grid": {
        "init": ["he_normal", {"name": "random", "scale": 0.5}], "weight_scale": [0.5, 1.0], "depth": [1, 2], "width": [6],
        "learning_rate": [0.05], "iterations": [200]}}))
    assert [r["id"] for r in other_master] == [r["id"] for r in runs] and other_master[0]["seed"] != runs[0]["seed"]


def test_chunks_share_what_a_batch_must_share(spec_file):
    chunks = sweep.chunks(sweep.expand(sweep.read_spec(spec_file)), 4)
    assert sum(map(len, chunks)) == 16 and max(map(len, chunks)) <= 4
    for chunk in chunks:
        assert len({(r["depth"], r["width"], r["learning_rate"]) for r in chunk}) == 1


def test_run_resume_and_load(tmp_path, spec_file):
    spec = sweep.read_spec(spec_file)
    db = tmp_path / "r.db"
    calls = []
    first = sweep.run_sweep(spec, db, engine="numpy", progress=lambda n, pending: calls.append((n, pending)))
    assert (first.total, first.stored_before, first.ran) == (16, 0, 16)
    assert calls[0] == (0, 16) and sum(n for n, _ in calls) == 16
    again = sweep.run_sweep(spec, db, engine="numpy")
    assert (again.stored_before, again.ran) == (16, 0)
    frame = sweep.read_frame(db)
    assert len(frame) == 16 and set(frame.status) == {"done"} and frame.test_accuracy.between(0, 1).all()
    assert frame.cost_iterations.iloc[0] == [0, 50, 100, 150] and len(frame.diagnostics.iloc[0]["act_ms"]) == frame.depth.iloc[0]
    assert sweep.varying_axes(frame) == ["init_label", "weight_scale", "depth"]
    stats = sweep.seed_statistics(frame)
    assert len(stats) == 8 and (stats["count"] == 2).all() and stats["too_few_seeds"].all()  # 2 seeds: no interval
    assert stats["low"].isna().all() and (stats["diverged"] == 0).all()


def test_results_do_not_depend_on_chunking_or_neighbours(tmp_path, spec_file):
    spec = sweep.read_spec(spec_file)
    sweep.run_sweep(spec, tmp_path / "a.db", engine="numpy")
    alone = sweep.make_spec({"sweep": {"name": "t", "seeds": 2, "record_every": 50, "chunk_size": 1},
                             "grid": {"init": ["he_normal"], "weight_scale": [1.0], "depth": [2], "width": [6],
                                      "learning_rate": [0.05], "iterations": [200]}})
    sweep.run_sweep(alone, tmp_path / "b.db", engine="numpy")
    a, b = sweep.read_frame(tmp_path / "a.db").set_index("id"), sweep.read_frame(tmp_path / "b.db").set_index("id")
    assert len(b) == 2 and set(b.index) <= set(a.index)
    pd.testing.assert_series_equal(a.loc[b.index, "final_train_cost"], b["final_train_cost"])


def test_divergence_is_stored(tmp_path):
    spec = sweep.make_spec({"grid": {"init": [{"name": "random", "scale": 30.0}], "learning_rate": [1e300], "iterations": [20], "depth": [1]}})
    sweep.run_sweep(spec, tmp_path / "d.db", engine="numpy")
    row = sweep.read_frame(tmp_path / "d.db").iloc[0]
    assert row.status == "diverged" and row.divergence.startswith(f"diverged at iteration {row.diverged_at}")


def test_export_and_figures(tmp_path, spec_file):
    db = tmp_path / "r.db"
    sweep.run_sweep(sweep.read_spec(spec_file), db, engine="numpy")
    csv = sweep.export(db, tmp_path / "r.csv")
    assert len(pd.read_csv(csv)) == 16
    parquet = sweep.export(db, tmp_path / "r.parquet")
    assert len(pd.read_parquet(parquet)) == 16
    paths = sweep.save_figures(db, tmp_path / "fig")
    assert set(paths) == {"heatmap", "seeds"} and all(open(p, "rb").read(4) == b"\x89PNG" for p in paths.values())
    with pytest.raises(InitlabError, match="must be a .csv or .parquet path"):
        sweep.export(db, tmp_path / "r.xlsx")


@pytest.mark.parametrize(
    "data, match",
    [
        ({"grid": {"depht": [2]}}, "Unknown key in \\[grid\\] 'depht'. Expected one of: .*depth"),
        ({"sweep": {"seed": 1}}, "Unknown key in \\[sweep\\] 'seed'. Expected one of: .*master_seed"),
        ({"runs": {}}, "Unknown table 'runs' in the spec"),
        ({"grid": {"depth": []}}, "The grid axis 'depth' is empty"),
        ({"grid": {"init": ["he_nromal"]}}, "Unknown initializer 'he_nromal'"),
        ({"grid": {"init": [{"scale": 2}]}}, "The grid axis 'init' takes names or tables"),
        ({"grid": {"activation": ["rleu"]}}, "Unknown activation 'rleu'"),
        ({"grid": {"dataset": ["mnist"]}}, "Unknown dataset 'mnist'"),
        ({"grid": {"learning_rate": [-1]}}, "The 'learning_rate' parameter must be a finite float > 0"),
        ({"grid": {"depth": [0]}}, "The 'depth' parameter must be an int >= 1"),
        ({"sweep": {"seeds": 0}, "grid": {"depth": [1]}}, "The 'seeds' parameter must be an int >= 1"),
        ({"sweep": {"batch_seed": 2**63}, "grid": {"depth": [1]}}, r"The 'batch_seed' parameter must be an int in \[0, 9223372036854775808\)"),
        ({"grid": {"width": [10**9]}}, "The 'sizes' parameter must be layer sizes with at most"),
    ],
)
def test_bad_specs(data, match):
    with pytest.raises(InitlabError, match=match):
        sweep.make_spec(data)


def test_bad_files_and_limits(tmp_path):
    with pytest.raises(InitlabError, match="must be a readable TOML file"):
        sweep.read_spec(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[grid\ndepth = ")
    with pytest.raises(InitlabError, match="is not valid TOML"):
        sweep.read_spec(broken)
    spec = sweep.make_spec({"grid": {"depth": [1, 2, 3]}})
    with pytest.raises(InitlabError, match="The sweep has 3 runs, more than --max-runs 2"):
        sweep.run_sweep(spec, tmp_path / "x.db", max_runs=2)
    with pytest.raises(InitlabError, match="must look like axis=v1,v2"):
        sweep.parse_overrides(["depth"])
    assert sweep.parse_overrides(["depth=2,4", "init=he_normal"]) == {"depth": [2, 4], "init": ["he_normal"]}


def _frame(values, statuses=None, **axes):
    """A load()-shaped frame: one row per value, the config axes given as equal-length lists."""
    n = len(values)
    return pd.DataFrame({"init_label": axes.pop("init_label", ["he_normal"] * n), **axes, "test_accuracy": values,
                         "final_test_cost": values, "status": statuses or ["done"] * n, "replicate": range(n)})


def test_two_seeds_give_no_interval_outside_the_range_and_are_flagged():
    stats = sweep.seed_statistics(_frame([0.5, 1.0]))
    row = stats.iloc[0]
    assert row["count"] == 2 and row["mean"] == 0.75 and bool(row["too_few_seeds"])
    assert np.isnan(row["low"]) and np.isnan(row["high"])  # was -1.23 to 2.83: a t with 1 degree of freedom
    assert not ((stats["low"] < 0) | (stats["high"] > 1)).any()


def test_intervals_are_clipped_to_the_metrics_range():
    stats = sweep.seed_statistics(_frame([1.0, 1.0, 0.7]))  # m + t·s/√n = 1.27 > 1
    assert not stats["too_few_seeds"].iloc[0] and stats["high"].iloc[0] == 1.0 and 0 <= stats["low"].iloc[0] < 0.9
    costs = sweep.seed_statistics(_frame([0.01, 0.02, 3.0]), "final_test_cost")
    assert costs["low"].iloc[0] == 0.0 and costs["high"].iloc[0] > 1  # a cost is >= 0


def test_the_interval_covers_the_true_mean_95_percent_of_the_time():
    rng = np.random.default_rng(11)
    reps, seeds, true_mean = 400, 10, 0.8  # Beta(8, 2): skewed, in [0, 1], mean 8 / 10
    values = rng.beta(8, 2, reps * seeds)
    stats = sweep.seed_statistics(_frame(list(values), weight_scale=list(np.repeat(np.arange(reps) + 1.0, seeds))))
    assert len(stats) == reps and not stats["too_few_seeds"].any()
    covered = ((stats["low"] <= true_mean) & (true_mean <= stats["high"])).mean()
    assert abs(covered - 0.95) <= 3 * np.sqrt(0.95 * 0.05 / reps), covered  # 3 binomial sd: ±0.033


def test_seed_statistics_count_diverged_runs():
    frame = _frame([0.5, 0.6, 0.7, 0.9, 0.9, 0.9], ["done", "diverged", "diverged", "done", "done", "done"],
                   weight_scale=[1.0, 1.0, 1.0, 2.0, 2.0, 2.0])
    stats = sweep.seed_statistics(frame).set_index("weight_scale")
    assert stats.loc[1.0, "diverged"] == 2 and stats.loc[2.0, "diverged"] == 0


@pytest.mark.parametrize("text", ["", "[sweep]\nname = \"x\"\nseeds = 2\n", "[grid]\n", "[sweep]\n[grid]\n"])
def test_a_spec_without_a_grid_axis_is_an_error_not_one_default_run(tmp_path, text):
    path = tmp_path / "empty.toml"
    path.write_text(text)
    message = r"The spec defines no grid axis: give at least one, in a \[grid\] table .* or on the command line with --set"
    with pytest.raises(InitlabError, match=message):
        sweep.read_spec(path)
    with pytest.raises(InitlabError, match=message):
        sweep.read_spec(None)  # `initlab sweep` with neither a spec nor --set
    with pytest.raises(InitlabError, match=message):
        sweep.read_spec(None, sweep.parse_overrides([]))
    assert sweep.read_spec(path, {"depth": [1, 2]}).grid["depth"] == (1, 2)  # --set gives the axis: fine


KILL_SPEC = """
[sweep]
name = "kill"
seeds = 6
record_every = 100
chunk_size = 2

[grid]
init = ["he_normal", "xavier_normal"]
depth = [1, 2]
width = [8]
learning_rate = [0.05]
iterations = [1500]
"""


def stored(db):
    import sqlite3

    if not os.path.exists(db):
        return 0
    try:
        return sqlite3.connect(db, timeout=5).execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_sigkill_then_resume_equals_uninterrupted(tmp_path):
    spec_path = tmp_path / "kill.toml"
    spec_path.write_text(KILL_SPEC)
    command = [sys.executable, "-m", "initlab", "sweep", str(spec_path), "--engine", "numpy", "--out", str(tmp_path / "k")]
    db = str(tmp_path / "k" / "kill.db")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while stored(db) < 4 and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = stored(db)
    assert 4 <= partial < 24, "the kill must land mid-sweep"
    assert subprocess.run(command, capture_output=True, timeout=300).returncode == 0
    resumed = sweep.read_frame(db).set_index("id").sort_index()
    assert len(resumed) == 24
    sweep.run_sweep(sweep.read_spec(spec_path), tmp_path / "whole.db", engine="numpy")
    whole = sweep.read_frame(tmp_path / "whole.db").set_index("id").sort_index()
    for column in ("final_train_cost", "test_accuracy", "costs"):
        assert resumed[column].tolist() == whole[column].tolist()


@pytest.mark.parametrize("name", ["/abs/path", "../..", "a/b", "", "..", ".hidden", "a\\b", "sp ace", "x" * 101, 5, "ok\n"])
def test_the_sweep_name_is_a_plain_file_name(name):
    """The name becomes the database's path (OUT/NAME.db): nothing that leaves --out or hides a file."""
    with pytest.raises(InitlabError) as info:
        sweep.make_spec({"sweep": {"name": name}, "grid": {"depth": [1]}})
    message = str(info.value)
    assert message.startswith("The 'name' parameter must be a file name of letters, digits, '-', '_' and '.'")
    assert f"Got {name!r} instead." in message


def test_plain_names_are_kept():
    for name in ("scale-vs-depth", "run_2.v1", "A", "x" * 100):
        assert sweep.make_spec({"sweep": {"name": name}, "grid": {"depth": [1]}}).name == name


@pytest.mark.parametrize("seeds", [1_000_000_000, 10**30])
def test_max_runs_is_checked_before_the_grid_is_built(tmp_path, seeds):
    spec = sweep.make_spec({"sweep": {"seeds": seeds}, "grid": {"depth": [1, 2]}})
    assert spec.n_runs == 2 * seeds
    start = time.perf_counter()
    with pytest.raises(InitlabError, match=f"The sweep has {2 * seeds} runs, more than --max-runs 10"):
        sweep.run_sweep(spec, tmp_path / "x.db", max_runs=10)
    # without --max-runs: the grid (built in memory, about 1 KB a run) is capped at sweep.MAX_RUNS
    with pytest.raises(InitlabError, match=f"The sweep has {2 * seeds} runs, more than the {sweep.MAX_RUNS:,} one sweep may hold"):
        sweep.run_sweep(spec, tmp_path / "x.db")
    with pytest.raises(InitlabError, match="more than the 1,000,000 one sweep may hold"):
        sweep.expand(spec)
    assert time.perf_counter() - start < 5, "refused before building the grid"
    assert not (tmp_path / "x.db").exists()
    with pytest.raises(InitlabError, match="The 'max_runs' parameter must be an int >= 1"):
        sweep.run_sweep(spec, tmp_path / "x.db", max_runs=0)


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("small") / "s.db"
    sweep.run_sweep(sweep.make_spec({"sweep": {"seeds": 2}, "grid": {"depth": [1, 2], "width": [3], "iterations": [5]}}), db, engine="numpy")
    return db


# every row ends in a clear InitlabError naming what is wrong (a documented acceptance is tested elsewhere)
API_FUZZ = [
    ("load(None)", lambda db, tmp: sweep.read_frame(None), r"The 'db' parameter must be a path .*Got None instead"),
    ("load(5)", lambda db, tmp: sweep.read_frame(5), r"The 'db' parameter must be a path .*Got 5 instead"),
    ("read_spec(5)", lambda db, tmp: sweep.read_spec(5), r"The 'spec' parameter must be a path .*Got 5 instead"),
    ("read_spec(not utf-8)", lambda db, tmp: (tmp.joinpath("u.toml").write_bytes(b"\xff\xfe[grid]"), sweep.read_spec(tmp / "u.toml")),
     r"The spec '.*u\.toml' is not valid TOML: it is not UTF-8 text"),
    ("export to a missing folder", lambda db, tmp: sweep.export(db, tmp / "nodir" / "x.csv"),
     r"The 'export' parameter must be a writable \.csv or \.parquet path\. Got '.*nodir/x\.csv' \("),
    ("export to a folder", lambda db, tmp: (tmp.joinpath("d.csv").mkdir(), sweep.export(db, tmp / "d.csv")),
     r"The 'export' parameter must be a writable \.csv or \.parquet path\. Got '.*d\.csv' \("),
    ("export .xlsx before reading", lambda db, tmp: sweep.export(tmp / "missing.db", tmp / "x.xlsx"), r"must be a \.csv or \.parquet path"),
    ("seed_statistics(metric=nope)", lambda db, tmp: sweep.seed_statistics(sweep.read_frame(db), "nope"),
     r"The 'metric' parameter must be one of test_accuracy, train_accuracy, .* Got 'nope' instead"),
    ("save_figures(metric=nope)", lambda db, tmp: sweep.save_figures(db, tmp / "f", "nope"), r"The 'metric' parameter must be one of"),
    ("seed_statistics(empty)", lambda db, tmp: sweep.seed_statistics(sweep.read_frame(db).iloc[:0]), r"The 'frame' parameter must hold stored runs"),
]


@pytest.mark.parametrize("call, match", [(c, m) for _, c, m in API_FUZZ], ids=[name for name, _, _ in API_FUZZ])
def test_api_fuzz_table(small_db, tmp_path, call, match):
    with pytest.raises(InitlabError, match=match):
        call(small_db, tmp_path)


def test_a_stored_row_scores_the_run_as_run_cost_and_accuracy_do(spec_file):
    """train_chunk evaluates each run's final parameters from one forward pass per data set: the
    same bits as Run.cost and Run.accuracy (which take a pass each), for every run of a chunk."""
    from initlab.network import Network
    from initlab.training import TrainOptions, train

    runs = sweep.chunks(sweep.expand(sweep.read_spec(spec_file)), 4)[0]
    rows = sweep.train_chunk(runs, engine="numpy")
    data = sweep.get_dataset(runs[0]["dataset"])
    for run, row in zip(runs, rows):
        network = Network((data.n_features,) + (run["width"],) * run["depth"] + (data.n_outputs,), activation=run["activation"])
        p0 = sweep._initial_params(network, run, data.X_train)
        alone = train(network, p0, data.X_train, data.Y_train, TrainOptions(run["learning_rate"], run["iterations"], run["record_every"]), engine="numpy")
        assert row["final_train_cost"] == alone.cost(data.X_train, data.Y_train)
        assert row["final_test_cost"] == alone.cost(data.X_test, data.Y_test)
        assert (row["train_accuracy"], row["test_accuracy"]) == (alone.accuracy(data.X_train, data.Y_train), alone.accuracy(data.X_test, data.Y_test))


def test_set_takes_configured_initializers_and_their_labels_parse_back():
    grid = sweep.parse_overrides(["init=he_normal,random(scale=0.5)", "depth=1,2"])
    assert grid == {"init": ["he_normal", {"name": "random", "scale": 0.5}], "depth": [1, 2]}
    runs = sweep.expand(sweep.make_spec({"sweep": {"name": "t"}, "grid": grid}))
    labels = sorted({sweep._init_label(r) for r in runs})
    assert labels == ["he_normal", "random(scale=0.5)"]
    assert sweep.parse_overrides(["init=" + ",".join(labels)])["init"] == grid["init"]


# --- the parametrization and base_width axes ----------------------------------------------------
# The ids and seeds this spec's two runs had before sweeps had these axes (initlab at 24f4fc0): an
# existing database's standard-parametrization runs stay found, not trained again.
BEFORE_AXES = {"grid": {"depth": [2], "width": [8], "iterations": [5]}, "sweep": {"seeds": 2}}
BEFORE_IDS = [("e9df9ffd710c9339", 16548744), ("8a16c6c283355112", 1768658271)]


@pytest.mark.parametrize("extra", [{}, {"parametrization": ["sp"]}, {"base_width": [16, 32]}])
def test_standard_runs_keep_the_ids_and_seeds_they_had_before_the_axes(extra):
    spec = sweep.make_spec({**BEFORE_AXES, "grid": {**BEFORE_AXES["grid"], **extra}})
    runs = sweep.expand(spec)  # sp at two base widths is one set of runs: kept once
    assert [(r["id"], r["seed"]) for r in runs] == BEFORE_IDS
    assert {(r["parametrization"], r["base_width"]) for r in runs} == {("sp", 16 if extra.get("base_width") else 64)}


def test_other_parametrizations_are_distinct_runs_at_each_base_width():
    spec = sweep.make_spec({**BEFORE_AXES, "grid": {**BEFORE_AXES["grid"], "parametrization": ["sp", "mup", "ntk"],
                                                    "base_width": [4, 8]}})
    runs = sweep.expand(spec)
    assert spec.n_runs == 12 and len(runs) == 2 + 2 * 2 * 2 and len({r["id"] for r in runs}) == len(runs)
    assert [(r["id"], r["seed"]) for r in runs if r["parametrization"] == "sp"] == BEFORE_IDS
    assert {sweep._parametrization(r) for r in runs} == {None, "mup(base_width=4)", "mup(base_width=8)",
                                                       "ntk(base_width=4)", "ntk(base_width=8)"}
    adam = [{**r, "optimizer": "adam"} for r in runs if r["parametrization"] == "mup"]
    assert sweep._parametrization(adam[0]) == "mup(base_width=4, optimizer=adam)"  # μP follows the run's optimizer


@pytest.mark.parametrize("grid, match", [
    ({"parametrization": ["mpu"]}, "Unknown parametrization 'mpu'"),
    ({"parametrization": ["mup(base_width=16)"]}, r"takes the base width from the axis 'base_width': write mup and base_width = \[16\]"),
    ({"parametrization": ["mup(readout=sideways)"]}, "The 'readout' parameter must be one of"),
    ({"base_width": [0]}, "The 'base_width' parameter must be an int >= 1"),
])
def test_bad_parametrization_axes(grid, match):
    with pytest.raises(InitlabError, match=match):
        sweep.make_spec({"grid": grid})


def test_a_mup_for_another_optimizer_fails_before_training(tmp_path):
    spec = sweep.make_spec({"grid": {"parametrization": ["mup(optimizer=adam)"], "optimizer": ["gd"]}})
    with pytest.raises(InitlabError, match="μP rules are for adam, but the network trains with gd"):
        sweep.run_sweep(spec, tmp_path / "p.db", engine="numpy")
    assert not (tmp_path / "p.db").exists()


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_a_parametrized_run_trains_as_its_network_does_alone(tmp_path, engine):
    """A stored μP run's final cost is the cost of training the network it names by hand."""
    from initlab.network import Network
    from initlab.training import TrainOptions, train

    spec = sweep.make_spec({"grid": {"parametrization": ["mup", "sp"], "base_width": [4], "width": [16], "depth": [2],
                                     "optimizer": ["adam"], "learning_rate": [0.02], "iterations": [30]}})
    sweep.run_sweep(spec, tmp_path / "m.db", engine=engine)
    frame = sweep.read_frame(tmp_path / "m.db").set_index("parametrization")
    data = sweep.get_dataset("circles")
    for name, parametrization in [("mup", "mup(base_width=4, optimizer=adam)"), ("sp", None)]:
        run = frame.loc[name]
        network = Network((2, 16, 16, 1), parametrization=parametrization)
        p0 = network.init("he_normal", rng=np.random.default_rng(int(run["seed"])))
        alone = train(network, p0, data.X_train, data.Y_train, TrainOptions(0.02, 30, 100, "adam"), engine="numpy")
        assert run["final_train_cost"] == pytest.approx(alone.cost(data.X_train, data.Y_train), rel=1e-9)
    assert frame.loc["mup", "final_train_cost"] != frame.loc["sp", "final_train_cost"]
    assert sweep.varying_axes(frame.reset_index()) == ["parametrization"]


# --- the residual axes: blocks, branch, branch_multiplier --------------------------------------------
def test_plain_runs_keep_their_ids_and_one_network_is_one_run():
    spec = sweep.make_spec({**BEFORE_AXES, "grid": {**BEFORE_AXES["grid"], "blocks": [0, 3], "branch": ["standard", "skipinit"],
                                                    "branch_multiplier": ["none", 0.5]}})
    runs = sweep.expand(spec)
    plain = [r for r in runs if r["blocks"] == 0]
    assert [(r["id"], r["seed"]) for r in plain] == BEFORE_IDS  # blocks 0 ignores the branch keys: the same two runs
    residual = {(r["branch"], r["branch_multiplier"]) for r in runs if r["blocks"] == 3}
    assert residual == {("standard", None), ("standard", 0.5), ("skipinit", None), ("skipinit", 0.5)}
    assert len(runs) == 2 + 2 * 4 and all(r["depth"] == 7 for r in runs if r["blocks"])  # 1 + 3 blocks × 2 layers


def test_a_multiplier_for_a_scheme_without_one_fails_before_training(tmp_path):
    spec = sweep.make_spec({"grid": {"blocks": [2], "branch": ["fixup"], "branch_multiplier": [0.5]}})
    with pytest.raises(InitlabError, match="'branch_multiplier' sets α_k of a scheme that takes one \\(standard, skipinit\\)"):
        sweep.run_sweep(spec, tmp_path / "r.db", engine="numpy")
    with pytest.raises(InitlabError, match="Did you mean 'rezero'"):
        sweep.make_spec({"grid": {"branch": ["rezro"]}})


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_a_residual_run_trains_as_its_network_does_alone(tmp_path, engine):
    from initlab.network import residual_network
    from initlab.training import TrainOptions, train

    spec = sweep.make_spec({"grid": {"blocks": [3], "branch": ["standard", "skipinit"], "branch_multiplier": [0.5],
                                     "width": [8], "iterations": [40], "learning_rate": [0.05]}})
    sweep.run_sweep(spec, tmp_path / "r.db", engine=engine)
    frame = sweep.read_frame(tmp_path / "r.db").set_index("branch")
    data = sweep.get_dataset("circles")
    for name in ("standard", "skipinit"):
        run = frame.loc[name]
        network = residual_network(2, 8, 3, residual=f"{name}(alpha=0.5)")
        p0 = network.init("he_normal", rng=np.random.default_rng(int(run["seed"])))
        alone = train(network, p0, data.X_train, data.Y_train, TrainOptions(0.05, 40, 100), engine="numpy")
        assert run["final_train_cost"] == pytest.approx(alone.cost(data.X_train, data.Y_train), rel=1e-9)
    assert frame.loc["standard", "final_train_cost"] != frame.loc["skipinit", "final_train_cost"]  # α fixed vs trained


def test_a_database_from_before_the_axes_reads_as_the_standard_parametrization(tmp_path):
    from initlab.store import Store

    spec = sweep.make_spec(BEFORE_AXES)
    sweep.run_sweep(spec, tmp_path / "old.db", engine="numpy")
    with Store(tmp_path / "old.db") as store:  # rewrite the rows as the previous version stored them
        rows = store.rows()
        for row in rows:
            for key in sweep.SP_ONLY:
                row["config"].pop(key)
        with store.connection:
            store.connection.execute("DELETE FROM runs")
        store.add(rows)
    frame = sweep.read_frame(tmp_path / "old.db")
    assert list(frame["parametrization"]) == ["sp", "sp"] and list(frame["base_width"]) == [64, 64]
    assert sweep.run_sweep(spec, tmp_path / "old.db", engine="numpy").ran == 0  # found, not trained again


def test_a_width_by_learning_rate_grid_draws_the_transfer_figure(tmp_path):
    spec = sweep.make_spec({"sweep": {"seeds": 2}, "grid": {
        "parametrization": ["sp", "mup"], "base_width": [4], "width": [4, 8], "learning_rate": [0.01, 0.05, 0.2],
        "optimizer": ["adam"], "iterations": [10]}})
    db = tmp_path / "t.db"
    sweep.run_sweep(spec, db, engine="numpy")
    frame = sweep.read_frame(db)
    assert sweep.transfer_axes(sweep.varying_axes(frame))
    paths = sweep.save_figures(db, tmp_path / "figs")
    assert set(paths) == {"heatmap", "seeds", "transfer"} and os.path.getsize(paths["transfer"]) > 0
    assert "Learning rate against width" in sweep.results(db).report_section()
    assert not sweep.transfer_axes(["width", "learning_rate", "depth"])  # a third axis would be pooled into the optima
    assert not sweep.transfer_axes(["width", "parametrization"])
