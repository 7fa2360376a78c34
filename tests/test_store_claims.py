"""Claims: concurrent processes of one sweep on one database share its grid, every run trained once."""
import json
import socket
import subprocess
import sys
import time

from initlab import sweep
from initlab.store import CLAIM_TIMEOUT, Store, new_owner

from test_sweep import KILL_SPEC


def test_a_claimed_run_is_not_claimed_again_until_stored_or_stale(tmp_path):
    db = tmp_path / "c.db"
    a, b = new_owner(), new_owner()
    with Store(db) as store:
        assert store.claim(["r1", "r2"], a) == ["r1", "r2"]
        assert store.claim(["r1", "r2", "r3"], b) == ["r3"]  # r1, r2: a is alive (this process)
        assert store.claim(["r1"], a) == ["r1"]  # an owner may renew its own claim
        store.add([{"id": "r1", "config": {}, "status": "done"}])  # storing drops the claim
        assert set(store.claims()) == {"r2", "r3"}
        assert store.claim(["r1"], b) == []  # stored: nothing to claim
        store.release(a)
        assert store.claim(["r2"], b) == ["r2"]  # released: back in the pool

        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()
        here, now = socket.gethostname(), time.time()
        with store.connection:
            store.connection.executemany(
                "INSERT INTO claims (run, owner, host, pid, heartbeat) VALUES (?, ?, ?, ?, ?)",
                [
                    ("dead", f"{here}:{gone.pid}:x", here, gone.pid, now),  # this host, process gone
                    ("far-live", "elsewhere:1:y", "elsewhere", 1, now),  # another host, fresh heartbeat
                    ("far-stale", "elsewhere:1:z", "elsewhere", 1, now - CLAIM_TIMEOUT - 1),  # silent too long
                ],
            )
        assert store.claim(["dead", "far-live", "far-stale"], b) == ["dead", "far-stale"]
        assert store.claims()["dead"][0] == b


WORKER = """
import json, os, sys, time
from initlab import sweep

spec_path, db, tag = sys.argv[1:]
train_chunk = sweep.train_chunk
trained = []

def logging_train_chunk(runs, engine):
    trained.extend(r["id"] for r in runs)
    return train_chunk(runs, engine)

sweep.train_chunk = logging_train_chunk
open(tag + ".ready", "w").close()
while not os.path.exists(os.path.join(os.path.dirname(tag), "go")):
    time.sleep(0.005)
outcome = sweep.run_sweep(sweep.read_spec(spec_path), db, engine="numpy")
print(json.dumps({"trained": trained, "ran": outcome.ran, "by_others": outcome.by_others,
                  "stored_before": outcome.stored_before}))
"""


def test_two_processes_on_one_database_train_every_run_exactly_once(tmp_path):
    spec_path = tmp_path / "kill.toml"
    spec_path.write_text(KILL_SPEC)
    (tmp_path / "worker.py").write_text(WORKER)
    db = str(tmp_path / "shared.db")
    tags = [str(tmp_path / name) for name in ("p1", "p2")]
    processes = [subprocess.Popen([sys.executable, str(tmp_path / "worker.py"), str(spec_path), db, tag],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for tag in tags]
    deadline = time.time() + 120
    while not all((tmp_path / f"{name}.ready").exists() for name in ("p1", "p2")) and time.time() < deadline:
        time.sleep(0.01)
    (tmp_path / "go").touch()  # both start their sweeps together
    reports = []
    for p in processes:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    first, second = (set(r["trained"]) for r in reports)
    assert first and second, "both processes worked on the grid"
    assert not first & second, "no run trained twice"
    assert len(first) + len(second) == 24 and [r["ran"] for r in reports] == [len(first), len(second)]
    # each saw the other's runs: stored before it began, or meanwhile
    assert [r["stored_before"] + r["by_others"] for r in reports] == [len(second), len(first)]
    shared = sweep.read_frame(db).set_index("id").sort_index()
    sweep.run_sweep(sweep.read_spec(spec_path), tmp_path / "whole.db", engine="numpy")
    whole = sweep.read_frame(tmp_path / "whole.db").set_index("id").sort_index()
    assert list(shared.index) == list(whole.index) and set(shared.index) == first | second
    for column in ("final_train_cost", "test_accuracy", "costs"):
        assert shared[column].tolist() == whole[column].tolist()
    with Store(db, readonly=True) as store:
        assert store.claims() == {}


def test_a_killed_process_s_claims_are_taken_over_by_the_other(tmp_path):
    """SIGKILL one of two processes mid-sweep and leave it unreaped (a zombie, as under a parent that
    has not waited yet): the survivor takes over the dead one's claimed chunk and finishes the grid."""
    import signal

    from test_sweep import stored

    spec_path = tmp_path / "kill.toml"
    spec_path.write_text(KILL_SPEC)
    (tmp_path / "worker.py").write_text(WORKER)
    db = str(tmp_path / "shared.db")
    processes = [subprocess.Popen([sys.executable, str(tmp_path / "worker.py"), str(spec_path), db, str(tmp_path / name)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("p1", "p2")]
    deadline = time.time() + 120
    while not all((tmp_path / f"{name}.ready").exists() for name in ("p1", "p2")) and time.time() < deadline:
        time.sleep(0.01)
    (tmp_path / "go").touch()
    while stored(db) < 4 and time.time() < deadline:
        time.sleep(0.02)
    victim, survivor = processes
    victim.send_signal(signal.SIGKILL)  # not waited for until the survivor is done
    partial = stored(db)
    out, err = survivor.communicate(timeout=300)
    assert survivor.returncode == 0, err
    victim.wait()
    assert 4 <= partial < 24, "the kill must land mid-sweep"
    shared = sweep.read_frame(db).set_index("id").sort_index()
    sweep.run_sweep(sweep.read_spec(spec_path), tmp_path / "whole.db", engine="numpy")
    whole = sweep.read_frame(tmp_path / "whole.db").set_index("id").sort_index()
    assert list(shared.index) == list(whole.index)
    for column in ("final_train_cost", "test_accuracy", "costs"):
        assert shared[column].tolist() == whole[column].tolist()
    with Store(db, readonly=True) as store:
        assert store.claims() == {}


def test_a_new_database_is_never_seen_half_made(tmp_path, monkeypatch):
    """A second process starting the same sweep may look at the file while the first creates it: at
    every statement of the creation, another connection sees either nothing yet or the whole schema
    (tables and version), never a runs table without its version (which it would refuse as another
    initlab version's). Each statement is probed from a second connection as it starts."""
    import sqlite3

    from initlab import store as store_module

    db = tmp_path / "new.db"
    seen = []
    connect = sqlite3.connect

    def probe(_statement):
        with connect(db, timeout=5) as other:
            tables = {r[0] for r in other.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            seen.append((frozenset(tables), other.execute("PRAGMA user_version").fetchone()[0]))
        other.close()

    def traced(*args, **kwargs):
        connection = connect(*args, **kwargs)
        connection.set_trace_callback(probe)
        return connection

    monkeypatch.setattr(store_module.sqlite3, "connect", traced)
    with Store(db):
        pass
    monkeypatch.undo()
    assert len(seen) >= 4, "the creation's statements were probed"
    assert set(seen) <= {(frozenset(), 0), (frozenset({"runs", "claims"}), 1)}, seen
    assert seen[-1] == (frozenset({"runs", "claims"}), 1)
