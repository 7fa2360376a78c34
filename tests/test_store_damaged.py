"""A damaged initlab database or a full disk: SQLite's error (the environment's: the CLI prints it as
one line, exit code 3, tests/test_cli_errors.py), never a half-written chunk; a file that is not
SQLite at all is bad input (InitlabError, tests/test_store_foreign.py)."""
import sqlite3

import pytest

from initlab import sweep
from initlab.store import Store

ROW = {"config": {"init": "he_normal", "init_options": {}}, "status": "done", "costs": [0.5] * 200}


def test_corrupt_pages_are_sqlite_s_error(tmp_path):
    db = str(tmp_path / "bad.db")
    with Store(db) as store:
        store.add([{**ROW, "id": f"r{i}"} for i in range(300)])
    with open(db, "r+b") as f:
        f.seek(4096 * 3)
        f.write(b"\xa5" * 4096 * 4)
    with pytest.raises(sqlite3.DatabaseError, match="malformed"):
        sweep.read_frame(db)


def test_a_row_that_is_not_json_is_a_damaged_database_error(tmp_path):
    db = str(tmp_path / "json.db")
    with Store(db) as store:
        store.add([{**ROW, "id": "good"}])
    c = sqlite3.connect(db)
    c.execute("INSERT INTO runs (id, config, status) VALUES ('broken', '{\"init\": ', 'done')")
    c.commit()
    c.close()
    with pytest.raises(sqlite3.DatabaseError, match=r"the database '.*json\.db' is damaged: run 'broken' has a 'config' that is not JSON"):
        sweep.read_frame(db)


def test_a_full_disk_stores_nothing_of_the_chunk_and_keeps_what_was_stored(tmp_path):
    db = str(tmp_path / "full.db")
    with Store(db) as store:
        store.add([{**ROW, "id": "first"}])
        pages = store.connection.execute("PRAGMA page_count").fetchone()[0]
        store.connection.execute(f"PRAGMA max_page_count={pages}")  # the file may not grow: SQLITE_FULL
        with pytest.raises(sqlite3.OperationalError, match="database or disk is full"):
            store.add([{**ROW, "id": f"r{i}"} for i in range(300)])
        assert store.ids() == {"first"}
