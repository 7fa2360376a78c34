import sqlite3

import pytest

from initlab._validation import InitlabError
from initlab.store import SCHEMA_VERSION, Store


def test_add_is_idempotent_and_rows_round_trip(tmp_path):
    db = tmp_path / "runs.db"
    row = {"id": "x", "config": {"depth": 2, "init": "he_normal"}, "status": "done", "costs": [0.5, None], "test_accuracy": 0.9}
    with Store(db) as store:
        store.add([row])
        store.add([{**row, "test_accuracy": 0.1}])  # the stored row wins
        (got,) = store.rows()
        assert store.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # while writing
    assert got["config"] == row["config"] and got["costs"] == [0.5, None] and got["test_accuracy"] == 0.9
    # closed: back to a rollback journal, one file (readable read-only without -wal/-shm)
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.db"]


def test_a_failing_chunk_stores_nothing(tmp_path):
    with Store(tmp_path / "runs.db") as store:
        with pytest.raises(sqlite3.IntegrityError):
            store.add([{"id": "a", "config": {}, "status": "done"}, {"id": "b", "config": {}, "status": None}])
        assert store.ids() == set()  # the whole transaction rolled back


def test_incompatible_version(tmp_path):
    db = tmp_path / "old.db"
    with Store(db):
        pass
    c = sqlite3.connect(db)
    c.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    c.close()
    with pytest.raises(InitlabError, match=r"written by an incompatible initlab version \(schema 2, this initlab reads schema 1\)"):
        Store(db)


def test_not_a_database(tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("hello, not sqlite" * 100)
    with pytest.raises(InitlabError, match="notes.db' is not an initlab database"):
        Store(bad)
    with pytest.raises(InitlabError, match="must be a file in an existing folder"):
        Store(tmp_path / "missing" / "x.db")
