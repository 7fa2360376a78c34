"""The run store: one SQLite database per sweep, written one chunk of runs per transaction.

WAL mode and one transaction per chunk mean that a process killed at any moment (Ctrl-C or
SIGKILL) loses at most the chunk in flight: a row is either wholly there or not at all. Rows are
keyed by the run's id, so resuming a sweep skips what is stored.

A file that is not initlab's is never changed: before anything is written, the store checks,
read-only, that the file is new (missing or empty) or an initlab database (``user_version`` 1, a
``runs`` table of initlab's columns, no tables but initlab's). Reading (``readonly=True``) opens
the file with SQLite's ``mode=ro`` and needs no write access; a writer puts the file back into
rollback-journal mode when it closes last, so a finished database is one self-contained file.

>>> import tempfile, os
>>> with Store(os.path.join(tempfile.mkdtemp(), "runs.db")) as store:
...     store.add([{"id": "a1", "config": {"init": "he_normal"}, "status": "done"}])
...     sorted(store.ids())
['a1']
"""
from __future__ import annotations

import json
import os
import pathlib
import sqlite3

from ._validation import InitlabError

SCHEMA_VERSION = 1
COLUMNS = {  # name -> SQL type; every row of a sweep has these
    "id": "TEXT PRIMARY KEY",
    "config": "TEXT NOT NULL",  # the run's configuration, canonical JSON
    "status": "TEXT NOT NULL",  # done | diverged
    "seed": "INTEGER",
    "final_train_cost": "REAL",
    "final_test_cost": "REAL",
    "train_accuracy": "REAL",
    "test_accuracy": "REAL",
    "diverged_at": "INTEGER",
    "divergence": "TEXT",
    "cost_iterations": "TEXT",  # JSON list
    "costs": "TEXT",  # JSON list (null for non-finite)
    "diagnostics": "TEXT",  # JSON: per-layer summary at initialization
    "engine": "TEXT",
    "version": "TEXT",
    "seconds": "REAL",
}
JSON_COLUMNS = ("config", "cost_iterations", "costs", "diagnostics")
TABLES = ("runs",)  # every table an initlab database may hold (besides SQLite's own sqlite_*)
SQLITE_MAGIC = b"SQLite format 3\x00"


class Store:
    """A sweep's SQLite database; use as a context manager.

    `readonly`: open an existing database for reading only (SQLite ``mode=ro``): nothing is
    written, no ``-wal``/``-shm`` file is created, the file may lie on read-only storage. Else the
    file is created if missing (its folder must exist) and opened for writing.
    """

    def __init__(self, path, readonly=False):
        self.path = os.fspath(path)
        self.readonly = bool(readonly)
        self.connection = None
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise InitlabError(f"The 'db' parameter must be a file in an existing folder. Got {self.path!r} instead.")
        if os.path.isdir(self.path):
            raise InitlabError(f"The 'db' parameter must be a database file. Got {self.path!r} (it is a folder).")
        if self.readonly and not os.path.exists(self.path):
            raise InitlabError(
                f"The 'db' parameter must be an existing initlab sweep database. Got {self.path!r} (no such file)."
            )
        try:
            if self.readonly:
                self.connection = _connect_readonly(self.path, inspecting=False)
                self._check(self.connection)
            else:
                self._open_for_writing()
        except sqlite3.DatabaseError as exc:
            if self.connection is not None:
                self.connection.close()
            raise self._foreign(str(exc)) from None
        except BaseException:
            if self.connection is not None:
                self.connection.close()
            raise

    def _foreign(self, reason):
        return InitlabError(
            f"The 'db' parameter must be an initlab sweep database or a new file: {self.path!r} is not an initlab "
            f"database ({reason}). It was left unchanged; give another file."
        )

    def _check(self, connection):
        """Raise unless the database behind `connection` is initlab's; read-only queries only."""
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        tables = {t for t in tables if not t.startswith("sqlite_")}
        if "runs" not in tables:
            held = f"its tables: {', '.join(sorted(tables))}" if tables else "it holds no tables"
            raise self._foreign(f"no initlab runs table; {held}")
        columns = {r[1] for r in connection.execute("PRAGMA table_info(runs)")}
        if columns != set(COLUMNS):
            raise self._foreign(f"its runs table has the columns {', '.join(sorted(columns))}, not initlab's")
        others = tables - set(TABLES)
        if others:
            raise self._foreign(f"it holds tables initlab does not write: {', '.join(sorted(others))}")
        if version != SCHEMA_VERSION:
            raise InitlabError(
                f"The database {self.path!r} was written by an incompatible initlab version (schema {version}, "
                f"this initlab reads schema {SCHEMA_VERSION}). Use a new --db file."
            )

    def _open_for_writing(self):
        new = not os.path.exists(self.path) or os.path.getsize(self.path) == 0
        if not new:  # check, read-only, before anything is written
            inspecting = _connect_readonly(self.path, inspecting=True)
            try:
                self._check(inspecting)
            finally:
                inspecting.close()
        self.connection = c = sqlite3.connect(self.path, timeout=30)
        columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
        with c:  # tables and version in one transaction, before WAL mode: a new file is all or nothing
            c.execute(f"CREATE TABLE IF NOT EXISTS runs ({columns})")
            c.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=NORMAL")

    def ids(self):
        """The ids of every stored run."""
        return {row[0] for row in self.connection.execute("SELECT id FROM runs")}

    def add(self, rows):
        """Store `rows` (dicts with COLUMNS keys) in one transaction: all of them or none. A row whose
        id is stored already is skipped (the stored one wins)."""
        names = list(COLUMNS)
        values = [[_encode(name, row.get(name)) for name in names] for row in rows]
        marks = ", ".join("?" * len(names))
        with self.connection:
            self.connection.executemany(
                f"INSERT INTO runs ({', '.join(names)}) VALUES ({marks}) ON CONFLICT(id) DO NOTHING", values
            )

    def rows(self):
        """Every stored run as a dict, JSON columns decoded."""
        cursor = self.connection.execute(f"SELECT {', '.join(COLUMNS)} FROM runs ORDER BY rowid")
        return [{name: _decode(name, value) for name, value in zip(COLUMNS, row)} for row in cursor]

    def close(self):
        """Close; the last writer to close puts the file back into rollback-journal mode (one file,
        readable read-only without -wal/-shm). With another connection open it stays in WAL mode."""
        if self.connection is None:
            return
        try:
            if not self.readonly:
                self.connection.execute("PRAGMA busy_timeout=0")
                try:
                    self.connection.execute("PRAGMA journal_mode=DELETE")
                except sqlite3.OperationalError:  # another connection is open: it closes the file later
                    pass
        finally:
            self.connection.close()
            self.connection = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _encode(name, value):
    return json.dumps(value, sort_keys=True) if name in JSON_COLUMNS and value is not None else value


def _decode(name, value):
    return json.loads(value) if name in JSON_COLUMNS and value is not None else value


def _is_wal(path):
    """Whether the database file's header says WAL mode (bytes 18 and 19 are 2)."""
    with open(path, "rb") as f:
        header = f.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise sqlite3.DatabaseError("not an SQLite file")
    return header[18] == 2 and header[19] == 2


def _connect_readonly(path, inspecting):
    """A read-only connection (``mode=ro``). A WAL-mode file whose -wal file is absent (closed
    cleanly, perhaps on read-only storage) is opened ``immutable=1``, as SQLite documents, since
    ``mode=ro`` would create -wal and -shm files beside it; so is one without its -shm while
    `inspecting` (checking whose file it is)."""
    try:
        wal = _is_wal(path)
    except OSError as exc:
        raise InitlabError(f"The 'db' parameter must be a readable database file. Got {path!r} ({exc.strerror}).") from None
    uri = pathlib.Path(os.path.abspath(path)).as_uri() + "?mode=ro"
    if wal and (not os.path.exists(path + "-wal") or (inspecting and not os.path.exists(path + "-shm"))):
        uri += "&immutable=1"
    return sqlite3.connect(uri, uri=True, timeout=30)
