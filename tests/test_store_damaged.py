"""A damaged initlab database (corrupt pages, a row that is not JSON) is one clear error, not a traceback."""
import sqlite3

import pytest

from initlab import sweep
from initlab._validation import InitlabError
from initlab.store import Store

ROW = {"config": {"init": "he_normal", "init_options": {}}, "status": "done", "costs": [0.5] * 200}


def test_corrupt_pages(tmp_path):
    db = str(tmp_path / "bad.db")
    with Store(db) as store:
        store.add([{**ROW, "id": f"r{i}"} for i in range(300)])
    with open(db, "r+b") as f:
        f.seek(4096 * 3)
        f.write(b"\xa5" * 4096 * 4)
    with pytest.raises(InitlabError, match=r"The database '.*bad\.db' is damaged \(database disk image is malformed\)"):
        sweep.load(db)


def test_a_row_that_is_not_json(tmp_path):
    db = str(tmp_path / "json.db")
    with Store(db) as store:
        store.add([{**ROW, "id": "good"}])
    c = sqlite3.connect(db)
    c.execute("INSERT INTO runs (id, config, status) VALUES ('broken', '{\"init\": ', 'done')")
    c.commit()
    c.close()
    with pytest.raises(InitlabError, match=r"The database '.*json\.db' is damaged: run 'broken' has a 'config' that is not JSON"):
        sweep.load(db)


def test_a_full_disk_is_one_clear_error_and_keeps_what_was_stored(tmp_path):
    db = str(tmp_path / "full.db")
    with Store(db) as store:
        store.add([{**ROW, "id": "first"}])
        pages = store.connection.execute("PRAGMA page_count").fetchone()[0]
        store.connection.execute(f"PRAGMA max_page_count={pages}")  # the file may not grow: SQLITE_FULL
        with pytest.raises(InitlabError, match=r"Could not store 300 runs in '.*full\.db' \(database or disk is full\); "
                                               r"the runs stored before are kept"):
            store.add([{**ROW, "id": f"r{i}"} for i in range(300)])
        assert store.ids() == {"first"}
