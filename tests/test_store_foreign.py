"""Databases that are not initlab's are never changed: the store checks, read-only, before it writes."""
import hashlib
import os
import sqlite3

import pytest

from initlab import sweep
from initlab._validation import InitlabError
from initlab.store import Store


def fingerprint(path):
    """The file's bytes (hash) and mtime, and which -wal/-shm/-journal files lie beside it."""
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    beside = sorted(n for n in os.listdir(os.path.dirname(path)) if n.startswith(os.path.basename(path) + "-"))
    return digest, os.stat(path).st_mtime_ns, beside


def foreign_app(path):
    """Another application's database: its own tables, rollback journal."""
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    c.execute("INSERT INTO contacts VALUES ('ada', '123')")
    c.commit()
    c.close()


def foreign_version_1(path):
    """A foreign database that happens to set user_version = 1, without initlab's runs table."""
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE events (at REAL, what TEXT)")
    c.execute("PRAGMA user_version=1")
    c.commit()
    c.close()


def foreign_runs_table(path):
    """user_version = 1 and a table named runs, but not initlab's schema."""
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, distance REAL)")
    c.execute("PRAGMA user_version=1")
    c.commit()
    c.close()


def foreign_empty_version_1(path):
    """A SQLite file with no tables at all and user_version = 1."""
    c = sqlite3.connect(path)
    c.execute("PRAGMA user_version=1")
    c.execute("CREATE TABLE tmp (x)")
    c.execute("DROP TABLE tmp")
    c.commit()
    c.close()


def foreign_wal(path):
    """Another application's database in WAL mode, closed (no -wal/-shm files)."""
    c = sqlite3.connect(path)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("CREATE TABLE notes (body TEXT)")
    c.commit()
    c.close()


FOREIGN = [foreign_app, foreign_version_1, foreign_runs_table, foreign_empty_version_1, foreign_wal]


@pytest.mark.parametrize("make", FOREIGN, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "open_it",
    [
        lambda db: Store(db).close(),
        lambda db: Store(db, readonly=True).close(),
        lambda db: sweep.read_frame(db),
        lambda db: sweep.run_sweep(sweep.make_spec({"grid": {"iterations": [1]}}), db, engine="numpy"),
    ],
    ids=["store", "store-readonly", "load", "run"],
)
def test_a_foreign_database_is_refused_and_left_unchanged(tmp_path, make, open_it):
    db = str(tmp_path / "theirs.db")
    make(db)
    before = fingerprint(db)
    with pytest.raises(InitlabError) as info:
        open_it(db)
    message = str(info.value)
    assert repr(db) in message and "is not an initlab database" in message
    assert fingerprint(db) == before  # same bytes, same mtime, no -wal/-shm/-journal left


def test_a_file_that_is_not_sqlite_is_refused_and_left_unchanged(tmp_path):
    db = str(tmp_path / "notes.db")
    with open(db, "w") as f:
        f.write("hello, not sqlite" * 100)
    before = fingerprint(db)
    for readonly in (False, True):
        with pytest.raises(InitlabError, match=r"'.*notes\.db' is not an initlab database \(not an SQLite file\)"):
            Store(db, readonly=readonly)
    assert fingerprint(db) == before


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(InitlabError, match="is a folder"):
        Store(tmp_path)
