"""The run store: one SQLite database per sweep, written one chunk of runs per transaction.

WAL mode and one transaction per chunk mean that a process killed at any moment (Ctrl-C or
SIGKILL) loses at most the chunk in flight: a row is either wholly there or not at all. Rows are
keyed by the run's id, so resuming a sweep skips what is stored.

>>> import tempfile, os
>>> with Store(os.path.join(tempfile.mkdtemp(), "runs.db")) as store:
...     store.add([{"id": "a1", "config": {"init": "he_normal"}, "status": "done"}])
...     sorted(store.ids())
['a1']
"""
from __future__ import annotations

import json
import os
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


class Store:
    """A sweep's SQLite database; use as a context manager."""

    def __init__(self, path):
        self.path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise InitlabError(f"The 'db' parameter must be a file in an existing folder. Got {self.path!r} instead.")
        try:
            self.connection = sqlite3.connect(self.path, timeout=30)
            self._prepare()
        except sqlite3.DatabaseError as exc:
            raise InitlabError(f"The 'db' parameter must be an initlab SQLite database. Got {self.path!r} ({exc}).") from None

    def _prepare(self):
        c = self.connection
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=NORMAL")
        version = c.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and version != SCHEMA_VERSION:
            raise InitlabError(
                f"The database {self.path!r} was written by an incompatible initlab version (schema {version}, "
                f"this initlab reads schema {SCHEMA_VERSION}). Use a new --db file."
            )
        columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
        with c:
            c.execute(f"CREATE TABLE IF NOT EXISTS runs ({columns})")
            c.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

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
        self.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _encode(name, value):
    return json.dumps(value, sort_keys=True) if name in JSON_COLUMNS and value is not None else value


def _decode(name, value):
    return json.loads(value) if name in JSON_COLUMNS and value is not None else value
