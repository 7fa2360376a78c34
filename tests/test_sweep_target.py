"""Sweeps with a target loss (the target_loss and target_on axes), per-epoch recording and stored
histories (the record_unit and record_accuracy settings), and databases from before these columns."""
import hashlib
import json
import math
import sqlite3

import numpy as np
import pytest

from initlab import sweep
from initlab._validation import InitlabError
from initlab.network import Network
from initlab.store import ADDED, COLUMNS, Store
from initlab.training import TrainOptions, train

from test_store_foreign import fingerprint
from test_sweep import BEFORE_AXES, BEFORE_IDS

QUICK = {"sweep": {"seeds": 2, "record_every": 20},
         "grid": {"depth": [2], "width": [16], "learning_rate": [0.3], "iterations": [400], "target_loss": ["none", 0.3]}}


def _alone(run, validation=False):
    """The run trained by hand, outside any sweep: its network, initial parameters and options."""
    data = sweep.get_dataset(run["dataset"])
    network = Network((data.n_features,) + (run["width"],) * run["depth"] + (data.n_outputs,), activation=run["activation"])
    p0 = sweep._initial_params(network, run, data.X_train)
    options = TrainOptions(run["learning_rate"], run["iterations"], run["record_every"], batch_size=run["batch_size"] or None,
                           seed=run["batch_seed"], target_loss=run["target_loss"], target_on=run["target_on"],
                           record_unit=run["record_unit"], record_accuracy=run["record_accuracy"])
    held_out = (data.X_test, data.Y_test) if validation else None
    return train(network, p0, data.X_train, data.Y_train, options, engine="numpy", validation=held_out)


# --- ids: a run at the defaults hashes as before ----------------------------------------------------
# The ids and seeds of this grid's 32 runs at initlab cbfefeb (before the target axes and the record
# settings), as a digest of [(id, seed), ...] in expand's order.
MIXED = {"sweep": {"seeds": 2, "record_every": 50},
         "grid": {"depth": [1, 2], "width": [6], "iterations": [200], "learning_rate": [0.05], "batch_size": [0, 32],
                  "optimizer": ["gd", "adam"], "parametrization": ["sp", "mup"], "base_width": [4]}}
MIXED_DIGEST, MIXED_FIRST = "de02ba24245d577d", ("1605574ab601933d", 2605384518)


def _digest(runs):
    return hashlib.sha256(json.dumps([(r["id"], r["seed"]) for r in runs]).encode()).hexdigest()[:16]


@pytest.mark.parametrize("grid, settings", [
    ({}, {}),
    ({"target_loss": ["none"]}, {}),
    ({"target_loss": [None], "target_on": ["train", "batch"]}, {}),  # target_on without a target: one run, kept once
    ({}, {"record_unit": "iterations", "record_accuracy": False}),
])
def test_runs_at_the_defaults_keep_the_ids_and_seeds_they_had_before(grid, settings):
    runs = sweep.expand(sweep.make_spec({"sweep": {**MIXED["sweep"], **settings}, "grid": {**MIXED["grid"], **grid}}))
    assert len(runs) == 32 and (runs[0]["id"], runs[0]["seed"]) == MIXED_FIRST and _digest(runs) == MIXED_DIGEST
    assert {(r["target_loss"], r["target_on"], r["record_unit"], r["record_accuracy"]) for r in runs} == {(None, "train", "iterations", False)}
    before = sweep.expand(sweep.make_spec({"sweep": {**BEFORE_AXES["sweep"], **settings}, "grid": {**BEFORE_AXES["grid"], **grid}}))
    assert [(r["id"], r["seed"]) for r in before] == BEFORE_IDS


def test_a_target_or_a_record_setting_away_from_its_default_is_another_run():
    base = {r["id"] for r in sweep.expand(sweep.make_spec(BEFORE_AXES))}
    ids = [base]
    for grid, settings in [({"target_loss": [0.3]}, {}), ({"target_loss": [0.3], "target_on": ["batch"]}, {}),
                           ({}, {"record_unit": "epochs"}), ({}, {"record_accuracy": True})]:
        spec = sweep.make_spec({"sweep": {**BEFORE_AXES["sweep"], **settings}, "grid": {**BEFORE_AXES["grid"], **grid}})
        ids.append({r["id"] for r in sweep.expand(spec)})
    assert all(len(i) == 2 for i in ids) and len(set().union(*ids)) == 2 * len(ids)
    # an int target is the same run as the float
    as_int = sweep.make_spec({**BEFORE_AXES, "grid": {**BEFORE_AXES["grid"], "target_loss": [1]}})
    as_float = sweep.make_spec({**BEFORE_AXES, "grid": {**BEFORE_AXES["grid"], "target_loss": [1.0]}})
    assert [r["id"] for r in sweep.expand(as_int)] == [r["id"] for r in sweep.expand(as_float)]


def test_a_batch_shares_its_target():
    spec = sweep.make_spec({"sweep": {"seeds": 3}, "grid": {"depth": [1], "target_loss": ["none", 0.3, 0.5],
                                                            "target_on": ["train", "batch"], "batch_size": [32]}})
    runs = sweep.expand(spec)
    assert len(runs) == 3 * (1 + 2 + 2)
    chunks = sweep.chunks(runs, 50)
    assert len(chunks) == 5 and all(len({(r["target_loss"], r["target_on"]) for r in c}) == 1 for c in chunks)
    assert {sweep._options(c[0]).target_loss for c in chunks} == {None, 0.3, 0.5}


# --- validation ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("data, match", [
    ({"grid": {"target_loss": ["abc"]}}, r"The 'target_loss' parameter must be a finite float or \"none\" \(no target\)\. Got 'abc' instead"),
    ({"grid": {"target_loss": [float("nan")]}}, r"The 'target_loss' parameter must be a finite float or \"none\""),
    ({"grid": {"target_loss": [True]}}, r"The 'target_loss' parameter must be a finite float or \"none\""),
    ({"grid": {"target_on": ["all"]}}, r"The 'target_on' parameter must be one of train, batch\. Got 'all' instead"),
    ({"sweep": {"record_unit": "epoch"}, "grid": {"depth": [1]}}, r"The 'record_unit' parameter must be one of iterations, epochs\. Got 'epoch'"),
    ({"sweep": {"record_accuracy": 1}, "grid": {"depth": [1]}}, r"The 'record_accuracy' parameter must be true or false\. Got 1 instead"),
    ({"sweep": {"record_acuracy": True}, "grid": {"depth": [1]}}, r"Unknown key in \[sweep\] 'record_acuracy'. Expected one of: .*record_accuracy"),
])
def test_bad_target_and_record_values(data, match):
    with pytest.raises(InitlabError, match=match):
        sweep.make_spec(data)


def test_the_command_line_spells_no_target_none():
    grid = sweep.parse_overrides(["target_loss=0.1,none,None", "target_on=batch"])
    assert grid == {"target_loss": [0.1, "none", None], "target_on": ["batch"]}
    spec = sweep.make_spec({"grid": grid})
    assert spec.grid["target_loss"] == (0.1, None, None) and spec.grid["target_on"] == ("batch",)
    assert len(sweep.expand(spec)) == 2  # "none" and None: one run
    toml = sweep.make_spec(sweep.tomllib.loads('[grid]\ntarget_loss = ["none", 0.3]\n'))
    assert toml.grid["target_loss"] == (None, 0.3)


# --- training and storing ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quick_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("target") / "q.db"
    spec = sweep.make_spec(QUICK)
    sweep.run_sweep(spec, db, engine="numpy")
    return db, sweep.expand(spec)


def test_a_stored_reached_at_is_where_the_run_alone_reaches_its_target(quick_db):
    db, runs = quick_db
    frame = sweep.read_frame(db).set_index("id")
    data = sweep.get_dataset("circles")
    assert len(frame) == 4 and frame["reached_at"].dtype == float
    for run in runs:
        row, alone = frame.loc[run["id"]], _alone(run)
        if run["target_loss"] is None:
            assert alone.reached is None and math.isnan(row["reached_at"]) and math.isnan(row["target_loss"])
        else:
            assert alone.reached is not None and row["reached_at"] == alone.reached.iteration < run["iterations"]
            assert row["target_loss"] == 0.3 and row["final_train_cost"] == alone.cost(data.X_train, data.Y_train)
        assert row["cost_iterations"] == alone.iterations.tolist() and row["history"] is None
    with sqlite3.connect(db) as c:  # NULL in the file, not a JSON null
        assert c.execute("SELECT COUNT(*) FROM runs WHERE reached_at IS NULL AND history IS NULL").fetchone()[0] == 2


def test_target_on_the_minibatch_trains_as_the_run_alone(tmp_path):
    spec = sweep.make_spec({"grid": {**QUICK["grid"], "target_loss": [0.3], "target_on": ["batch"], "batch_size": [64]},
                            "sweep": {"record_every": 20}})
    sweep.run_sweep(spec, tmp_path / "b.db", engine="numpy")
    (run,), row = sweep.expand(spec), sweep.read_frame(tmp_path / "b.db").iloc[0]
    alone = _alone(run)
    assert alone.reached.on == "batch" and row["reached_at"] == alone.reached.iteration and row["target_on"] == "batch"


def test_the_report_and_statistics_keep_the_runs_without_a_target(quick_db, tmp_path):
    db, _ = quick_db
    frame = sweep.read_frame(db)
    assert sweep.varying_axes(frame) == ["target_loss"]
    stats = sweep.seed_statistics(frame, "final_train_cost")
    assert len(stats) == 2 and (stats["count"] == 2).all()  # the NaN (no target) group is kept
    reached = sweep.seed_statistics(frame, "reached_at").set_index("target_loss")["count"]
    assert reached.loc[0.3] == 2 and reached.isna().sum() == 0 and reached.sum() == 2
    section = sweep.results(db).report_section()
    assert "0.3, none" in section and "<td>none</td>" in section  # no target: a label, not a NaN
    assert set(sweep.save_figures(db, tmp_path / "f")) == {"seeds"}


def test_record_accuracy_stores_the_runs_history(tmp_path):
    spec = sweep.make_spec({"sweep": {"seeds": 2, "record_every": 2, "record_unit": "epochs", "record_accuracy": True},
                            "grid": {"depth": [1], "width": [8], "learning_rate": [0.2], "iterations": [45], "batch_size": [100]}})
    sweep.run_sweep(spec, tmp_path / "h.db", engine="numpy")
    frame = sweep.read_frame(tmp_path / "h.db").set_index("id")
    per_epoch = -(-sweep.get_dataset("circles").X_train.shape[1] // 100)
    for run in sweep.expand(spec):
        row, alone = frame.loc[run["id"]], _alone(run, validation=True)
        history = row["history"]
        assert set(history) == {"iteration", "epoch", "cost", "accuracy", "val_cost", "val_accuracy"}
        for name, values in alone.history.items():
            assert history[name] == pytest.approx(values.tolist(), rel=1e-12), name
        assert history["accuracy"] == alone.history["accuracy"].tolist()
        assert history["iteration"][-1] == 45 and row["cost_iterations"] == list(range(0, 45, 2 * per_epoch))
        assert history["accuracy"][-1] == row["train_accuracy"] and history["val_accuracy"][-1] == row["test_accuracy"]
        assert (row["record_unit"], row["record_accuracy"]) == ("epochs", True)
    assert "history" in sweep.export(tmp_path / "h.db", tmp_path / "h.csv").read_text().splitlines()[0]


def test_a_nonfinite_history_value_is_stored_as_null():
    class Trained:
        history = {"iteration": np.array([0, 5]), "cost": np.array([0.5, np.inf]), "accuracy": np.array([0.5, np.nan])}

    assert sweep._history(Trained) == {"iteration": [0, 5], "cost": [0.5, None], "accuracy": [0.5, None]}


# --- a database written before these columns --------------------------------------------------------
OLD_COLUMNS = {k: v for k, v in COLUMNS.items() if k not in ADDED}


def _old_database(tmp_path, quick_db, extra=""):
    """The quick sweep's rows in the previous layout (runs without ADDED, user_version 1), as the
    previous initlab left it: rollback journal, claims table; `extra`: one more column (foreign)."""
    source, _ = quick_db
    db = str(tmp_path / "old.db")
    c = sqlite3.connect(db)
    c.execute(f"CREATE TABLE runs ({', '.join(f'{k} {v}' for k, v in OLD_COLUMNS.items())}{extra})")
    c.execute("CREATE TABLE claims (run TEXT PRIMARY KEY, owner TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, "
              "heartbeat REAL NOT NULL)")
    c.execute("PRAGMA user_version=1")
    c.execute(f"ATTACH DATABASE '{source}' AS new")
    names = ", ".join(OLD_COLUMNS)
    c.execute(f"INSERT INTO runs ({names}) SELECT {names} FROM new.runs WHERE reached_at IS NULL ORDER BY rowid")
    c.commit()
    c.execute("DETACH DATABASE new")
    c.close()
    return db


def test_an_old_database_is_read_without_a_change(tmp_path, quick_db):
    db = _old_database(tmp_path, quick_db)
    before = fingerprint(db)
    with Store(db, readonly=True) as store:
        rows = store.rows()
        assert set(rows[0]) == set(COLUMNS) and all(r["reached_at"] is None and r["history"] is None for r in rows)
    frame = sweep.read_frame(db)
    assert len(frame) == 2 and frame["reached_at"].isna().all() and frame["target_loss"].isna().all()
    assert list(frame["target_on"]) == ["train", "train"] and not frame["record_accuracy"].any()
    sweep.results(db).report_section()
    assert fingerprint(db) == before
    with sqlite3.connect(db) as c:
        assert {r[1] for r in c.execute("PRAGMA table_info(runs)")} == set(OLD_COLUMNS)


def test_an_old_database_gains_the_columns_when_a_sweep_resumes_it(tmp_path, quick_db):
    db = _old_database(tmp_path, quick_db)
    old = sweep.read_frame(db).set_index("id")
    outcome = sweep.run_sweep(sweep.make_spec(QUICK), db, engine="numpy")
    assert (outcome.stored_before, outcome.ran) == (2, 2)  # the untargeted runs are found by their ids
    with sqlite3.connect(db) as c:
        assert [r[1] for r in c.execute("PRAGMA table_info(runs)")] == list(COLUMNS)
        assert c.execute("PRAGMA user_version").fetchone()[0] == 1
    frame = sweep.read_frame(db).set_index("id")
    assert len(frame) == 4 and frame.loc[old.index, "final_train_cost"].tolist() == old["final_train_cost"].tolist()
    assert frame["reached_at"].notna().sum() == 2
    with Store(db) as store:  # opening again changes nothing more
        assert len(store.rows()) == 4


def test_a_runs_table_with_a_column_initlab_never_wrote_is_still_foreign(tmp_path, quick_db):
    db = _old_database(tmp_path, quick_db, extra=", distance REAL")
    before = fingerprint(db)
    for readonly in (False, True):
        with pytest.raises(InitlabError, match="is not an initlab database .*not initlab's"):
            Store(db, readonly=readonly)
    assert fingerprint(db) == before
