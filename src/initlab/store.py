"""The run store: one SQLite database per sweep, written one chunk of runs per transaction.

WAL mode and one transaction per chunk mean that a process killed at any moment (Ctrl-C or
SIGKILL) loses at most the chunk in flight: a row is either wholly there or not at all. Rows are
keyed by the run's id, so resuming a sweep skips what is stored.

A file that is not initlab's is never changed: before anything is written, the store checks,
read-only, that the file is new (missing or empty) or an initlab database (``user_version`` 1, a
``runs`` table of initlab's columns, no tables but initlab's). A database of an earlier initlab,
whose runs table lacks columns added since (``ADDED``), is initlab's too: a writer adds them
(``ALTER TABLE runs ADD COLUMN``, NULL in the stored rows), a reader reads them as NULL and
changes nothing. Reading (``readonly=True``) opens
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
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

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
    "reached_at": "INTEGER",  # the iteration at which the run reached its target loss (NULL: none, or not reached)
    "history": "TEXT",  # JSON {column: list} of Run.history (null for non-finite); NULL when not recorded
}
ADDED = ("reached_at", "history")  # columns added since schema 1's first layout: an older database lacks them
JSON_COLUMNS = ("config", "cost_iterations", "costs", "diagnostics", "history")
CLAIM_COLUMNS = {  # a run some sweep process is training now: concurrent processes of one sweep share the grid
    "run": "TEXT PRIMARY KEY",  # the run's id
    "owner": "TEXT NOT NULL",  # host:pid:token of the process (one sweep.run_sweep call) training it
    "host": "TEXT NOT NULL",
    "pid": "INTEGER NOT NULL",
    "heartbeat": "REAL NOT NULL",  # time.time() of the owner's last sign of life
}
TABLES = ("runs", "claims")  # every table an initlab database may hold (besides SQLite's own sqlite_*)
CLAIM_TIMEOUT = 120.0  # s without a heartbeat after which a claim is stale (its owner is taken for dead)
HEARTBEAT = 10.0  # s between a live owner's heartbeats
SQLITE_MAGIC = b"SQLite format 3\x00"


class Store:
    """A sweep's SQLite database; use as a context manager.

    `readonly`: open an existing database for reading only (SQLite ``mode=ro``): nothing is
    written, no ``-wal``/``-shm`` file is created, the file may lie on read-only storage. Else the
    file is created if missing (its folder must exist) and opened for writing.
    """

    def __init__(self, path: str | os.PathLike[str], readonly: bool = False) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise InitlabError(f"The 'db' parameter must be a path (str or os.PathLike). Got {path!r} instead.")
        self.path = os.fspath(path)
        self.readonly = bool(readonly)
        self.connection: sqlite3.Connection | None = None
        self.columns: tuple[str, ...] = tuple(COLUMNS)  # the runs table's columns (an older database's lack some of ADDED)
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
                present = self._check(self.connection)
                self.columns = tuple(name for name in COLUMNS if name in present)
            else:
                self._open_for_writing()
        except sqlite3.DatabaseError as exc:
            if self.connection is not None:
                self.connection.close()
                self.connection = None
            raise self._error(exc) from None
        except BaseException:
            if self.connection is not None:
                self.connection.close()
            raise

    def _error(self, exc):
        """A SQLite error on opening: a file that is not SQLite at all is not initlab's (bad input, an
        InitlabError); any other (damaged pages, locked, unreadable, a full disk) is the environment's
        and stays a sqlite3 error, which the CLI prints as one line with exit code 3."""
        text = str(exc)
        if "not a database" in text or "not an SQLite file" in text:
            return self._foreign("not an SQLite file")
        return exc

    def _foreign(self, reason):
        return InitlabError(
            f"The 'db' parameter must be an initlab sweep database or a new file: {self.path!r} is not an initlab "
            f"database ({reason}). It was left unchanged; give another file."
        )

    def _check(self, connection):
        """Raise unless the database behind `connection` is initlab's; read-only queries only. Return
        its runs table's columns (all of COLUMNS, or an older layout's: COLUMNS less some of ADDED)."""
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        tables = {t for t in tables if not t.startswith("sqlite_")}
        if "runs" not in tables:
            held = f"its tables: {', '.join(sorted(tables))}" if tables else "it holds no tables"
            raise self._foreign(f"no initlab runs table; {held}")
        columns = _columns(connection)
        if not set(COLUMNS) - set(ADDED) <= columns <= set(COLUMNS):
            raise self._foreign(f"its runs table has the columns {', '.join(sorted(columns))}, not initlab's")
        others = tables - set(TABLES)
        if others:
            raise self._foreign(f"it holds tables initlab does not write: {', '.join(sorted(others))}")
        if version != SCHEMA_VERSION:
            raise InitlabError(
                f"The database {self.path!r} was written by an incompatible initlab version (schema {version}, "
                f"this initlab reads schema {SCHEMA_VERSION}). Use a new --db file."
            )
        return columns

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
        claims = ", ".join(f"{name} {kind}" for name, kind in CLAIM_COLUMNS.items())
        # Tables and version in one explicit transaction, before WAL mode: a new file is all or nothing.
        # (sqlite3 opens no transaction for CREATE or PRAGMA by itself: each would commit alone, and a
        # second process starting the same sweep would see a runs table with no version yet.)
        c.execute("BEGIN IMMEDIATE")
        try:
            c.execute(f"CREATE TABLE IF NOT EXISTS runs ({columns})")
            present = _columns(c)  # read inside the write lock: another process may have just added them
            for name in ADDED:  # an older initlab's database: its rows read NULL in the new columns
                if name not in present:
                    c.execute(f"ALTER TABLE runs ADD COLUMN {name} {COLUMNS[name]}")
            c.execute(f"CREATE TABLE IF NOT EXISTS claims ({claims})")
            c.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            c.commit()
        except BaseException:
            c.rollback()
            raise
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=NORMAL")

    def ids(self) -> set[str]:
        """The ids of every stored run."""
        assert self.connection is not None
        return {row[0] for row in self.connection.execute("SELECT id FROM runs")}

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Store `rows` (dicts with COLUMNS keys) in one transaction: all of them or none. A row whose
        id is stored already is skipped (the stored one wins). Their claims go in the same transaction."""
        names = list(COLUMNS)
        values = [[_encode(name, row.get(name)) for name in names] for row in rows]
        marks = ", ".join("?" * len(names))
        assert self.connection is not None
        with self.connection:  # a full disk: sqlite3.OperationalError, the environment's (CLI exit code 3)
            self.connection.executemany(
                f"INSERT INTO runs ({', '.join(names)}) VALUES ({marks}) ON CONFLICT(id) DO NOTHING", values
            )
            self.connection.executemany("DELETE FROM claims WHERE run = ?", [(row["id"],) for row in rows])

    # --- claims: concurrent processes of one sweep share its grid ---------------------------------
    def claim(self, run_ids: Iterable[str], owner: str, timeout: float = CLAIM_TIMEOUT) -> list[str]:
        """Claim for `owner` (:func:`new_owner`) those of `run_ids` that are neither stored nor claimed by
        a live owner, in one transaction that holds the write lock from the first read (BEGIN
        IMMEDIATE), so two processes never claim one run; return the ids claimed. A claim is stale,
        and taken over, when its owner ran on this host and its process is gone, or when its owner
        has sent no heartbeat for `timeout` seconds (another host's, or a reused pid)."""
        c = self.connection
        assert c is not None
        now = time.time()
        c.execute("BEGIN IMMEDIATE")
        try:
            taken: list[str] = []
            for run_id in run_ids:
                if c.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None:
                    continue
                held = c.execute("SELECT owner, host, pid, heartbeat FROM claims WHERE run = ?", (run_id,)).fetchone()
                if held is not None and held[0] != owner and not _stale(held[1], held[2], held[3], now, timeout):
                    continue
                taken.append(run_id)
            host, pid = _owner_parts(owner)
            c.executemany(
                "INSERT INTO claims (run, owner, host, pid, heartbeat) VALUES (?, ?, ?, ?, ?) ON CONFLICT(run) DO UPDATE "
                "SET owner = excluded.owner, host = excluded.host, pid = excluded.pid, heartbeat = excluded.heartbeat",
                [(run_id, owner, host, pid, now) for run_id in taken],
            )
            c.commit()
        except BaseException:
            c.rollback()
            raise
        return taken

    def claims(self) -> dict[str, tuple[str, str, int, float]]:
        """Every claim: {run id: (owner, host, pid, heartbeat)}."""
        assert self.connection is not None
        return {r[0]: tuple(r[1:]) for r in self.connection.execute("SELECT run, owner, host, pid, heartbeat FROM claims")}

    def release(self, owner: str) -> None:
        """Drop `owner`'s claims (its runs go back to the pending pool)."""
        assert self.connection is not None
        with self.connection:
            self.connection.execute("DELETE FROM claims WHERE owner = ?", (owner,))

    def rows(self) -> list[dict[str, Any]]:
        """Every stored run as a dict, JSON columns decoded (a column an older database lacks: None)."""
        assert self.connection is not None
        stored = self.connection.execute(f"SELECT {', '.join(self.columns)} FROM runs ORDER BY rowid").fetchall()
        rows = []
        for row in stored:
            decoded: dict[str, Any] = dict.fromkeys(COLUMNS)
            for name, value in zip(self.columns, row):
                try:
                    decoded[name] = _decode(name, value)
                except (TypeError, ValueError):  # damaged: the environment's error, as SQLite's own are
                    raise sqlite3.DatabaseError(
                        f"the database {self.path!r} is damaged: run {row[0]!r} has a {name!r} that is not JSON "
                        f"({str(value)[:40]!r})"
                    ) from None
            rows.append(decoded)
        return rows

    def close(self) -> None:
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

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def new_owner() -> str:
    """A claim owner's name: host:pid:token (the token tells apart calls in one process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _owner_parts(owner):
    host, pid, _ = owner.rsplit(":", 2)
    return host, int(pid)


def _stale(host, pid, heartbeat, now, timeout):
    return now - heartbeat > timeout or (host == socket.gethostname() and not _alive(pid))


def _alive(pid):
    """Whether process `pid` exists on this host and is not a zombie. On Windows, where
    os.kill(pid, 0) would send Ctrl-C, every process counts as alive: heartbeats alone decide."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class Heartbeat:
    """While open, a thread refreshes `owner`'s claims in the database at `path` every `every`
    seconds (its own connection), so a long chunk's claim never looks stale to other hosts."""

    def __init__(self, path: str | os.PathLike[str], owner: str, every: float = HEARTBEAT) -> None:
        self.path, self.owner, self.every = os.fspath(path), owner, every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="initlab-claims-heartbeat", daemon=True)

    def _beat(self):
        connection = sqlite3.connect(self.path, timeout=30)
        try:
            while not self.stop.wait(self.every):
                try:
                    with connection:
                        connection.execute("UPDATE claims SET heartbeat = ? WHERE owner = ?", (time.time(), self.owner))
                except sqlite3.Error:  # busy or gone: the next beat tries again
                    pass
        finally:
            connection.close()

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def _columns(connection):
    """The names of the runs table's columns."""
    return {r[1] for r in connection.execute("PRAGMA table_info(runs)")}


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
