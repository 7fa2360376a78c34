"""Reading needs no write access: the read path opens the database with SQLite's mode=ro, writes
nothing, creates no -wal/-shm file; a missing database is an error, never a new empty file.

Tests run as root, where chmod does not stop writes: so besides making the files read-only, each
test checks that the read connection refuses writes and that the file's bytes, its mtime and the
folder's listing are unchanged after reading."""
import os
import sqlite3

import pytest

from initlab import sweep
from initlab._validation import InitlabError
from initlab.store import COLUMNS, Store

from test_store_foreign import fingerprint

ROW = {"id": "r1", "config": {"init": "he_normal", "init_options": {}, "depth": 2}, "status": "done",
       "test_accuracy": 0.75, "costs": [0.7, 0.5], "cost_iterations": [0, 10], "diagnostics": {}}


def listing(folder):
    return sorted(os.listdir(folder))


@pytest.fixture
def finished(tmp_path):
    """A finished sweep database, made read-only with its folder."""
    folder = tmp_path / "ro"
    folder.mkdir()
    db = str(folder / "done.db")
    with Store(db) as store:
        store.add([ROW])
    os.chmod(db, 0o444)
    os.chmod(folder, 0o555)
    yield db
    os.chmod(folder, 0o755)
    os.chmod(db, 0o644)


def test_a_finished_sweep_on_read_only_storage_is_read_without_a_write(finished):
    before, names = fingerprint(finished), listing(os.path.dirname(finished))
    with Store(finished, readonly=True) as store:
        assert [r["test_accuracy"] for r in store.rows()] == [0.75] and store.ids() == {"r1"}
        with pytest.raises(sqlite3.OperationalError, match="readonly"):  # the connection is mode=ro
            store.connection.execute("CREATE TABLE x (y)")
    frame = sweep.read_frame(finished)
    assert frame.test_accuracy.tolist() == [0.75] and frame.init_label.tolist() == ["he_normal"]
    assert sweep.results(finished).frame.id.tolist() == ["r1"]
    assert fingerprint(finished) == before and listing(os.path.dirname(finished)) == names


def test_a_wal_mode_database_at_rest_is_read_without_creating_wal_and_shm(tmp_path):
    """A database left in WAL mode (an older initlab's, or one a second connection held open):
    mode=ro alone would create -wal and -shm beside it; the store opens it immutable."""
    db = str(tmp_path / "old.db")
    c = sqlite3.connect(db)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute(f"CREATE TABLE runs ({', '.join(f'{k} {v}' for k, v in COLUMNS.items())})")
    c.execute("INSERT INTO runs (id, config, status) VALUES ('a', '{\"init\": \"he_normal\", \"init_options\": {}}', 'done')")
    c.execute("PRAGMA user_version=1")
    c.commit()
    c.close()
    assert listing(tmp_path) == ["old.db"]
    before = fingerprint(db)
    assert sweep.read_frame(db).id.tolist() == ["a"]
    assert fingerprint(db) == before and listing(tmp_path) == ["old.db"]
    with Store(db) as store:  # still initlab's for writing: a resumed sweep adds to it
        store.add([{**ROW, "id": "b"}])
    assert listing(tmp_path) == ["old.db"] and sweep.read_frame(db).id.tolist() == ["a", "b"]
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_reading_while_a_sweep_writes_sees_its_committed_chunks(tmp_path):
    db = str(tmp_path / "live.db")
    with Store(db) as writer:
        writer.add([ROW])
        assert os.path.exists(db + "-wal")  # WAL mode while writing
        with Store(db, readonly=True) as reader:
            assert reader.ids() == {"r1"}
            writer.add([{**ROW, "id": "r2"}])
            assert reader.ids() == {"r1", "r2"}
    with Store(db, readonly=True) as reader:
        assert reader.ids() == {"r1", "r2"}


def test_rerunning_a_finished_sweep_writes_nothing(tmp_path):
    spec = sweep.make_spec({"sweep": {"name": "fin"}, "grid": {"depth": [1], "width": [3], "iterations": [5]}})
    db = str(tmp_path / "fin.db")
    first = sweep.run_sweep(spec, db, engine="numpy")
    assert first.ran == 1
    before = fingerprint(db)
    again = sweep.run_sweep(spec, db, engine="numpy")
    assert (again.stored_before, again.ran) == (1, 0)
    assert fingerprint(db) == before and listing(tmp_path) == ["fin.db"]


def test_a_missing_database_is_an_error_and_no_file_is_created(tmp_path):
    typo = str(tmp_path / "typo.db")
    for read in (sweep.read_frame, sweep.results, lambda db: Store(db, readonly=True)):
        with pytest.raises(InitlabError, match=r"must be an existing initlab sweep database\. Got '.*typo\.db' \(no such file\)"):
            read(typo)
    with pytest.raises(InitlabError, match=r"Got '.*typo\.db' \(no such file\)"):
        sweep.export(typo, str(tmp_path / "out.csv"))
    assert listing(tmp_path) == []
