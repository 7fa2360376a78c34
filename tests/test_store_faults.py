"""Fault injection: real signals (SIGKILL, SIGINT, SIGTERM) at random moments of a sweep, resumed
each time; the database stays intact, no run is lost or stored twice, and the result equals an
uninterrupted sweep's."""
import random
import signal
import sqlite3
import subprocess
import sys
import time

from initlab import sweep
from initlab.store import Store

from test_sweep import KILL_SPEC, stored


def test_signals_at_random_moments_then_resume_equals_uninterrupted(tmp_path):
    spec_path = tmp_path / "kill.toml"
    spec_path.write_text(KILL_SPEC)
    command = [sys.executable, "-m", "initlab", "sweep", str(spec_path), "--engine", "numpy", "--out", str(tmp_path / "k")]
    db = str(tmp_path / "k" / "kill.db")
    rng = random.Random(12)
    counts = []
    for sig in (signal.SIGKILL, signal.SIGINT, signal.SIGTERM, signal.SIGKILL, signal.SIGKILL, signal.SIGINT):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        before = stored(db)
        deadline = time.time() + 60
        while stored(db) == before and time.time() < deadline and process.poll() is None:
            time.sleep(0.02)  # the process is training: at least one chunk stored
        time.sleep(rng.uniform(0, 0.4))  # then a random moment: mid-chunk, mid-commit, between chunks
        process.send_signal(sig)
        _, err = process.communicate(timeout=60)
        if sig == signal.SIGINT and process.returncode != 0:
            assert process.returncode == 130 and "run the same command again to resume" in err
        counts.append(stored(db))
        c = sqlite3.connect(db)
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        c.close()
    assert counts == sorted(counts) and counts[0] > 0, counts  # nothing stored is ever lost
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    resumed = sweep.read_frame(db).set_index("id").sort_index()
    assert len(resumed) == 24 and resumed.index.is_unique
    sweep.run_sweep(sweep.read_spec(spec_path), tmp_path / "whole.db", engine="numpy")
    whole = sweep.read_frame(tmp_path / "whole.db").set_index("id").sort_index()
    assert list(resumed.index) == list(whole.index)
    for column in ("final_train_cost", "test_accuracy", "costs", "diverged_at"):
        assert resumed[column].tolist() == whole[column].tolist()
    with Store(db, readonly=True) as store:
        assert store.claims() == {}  # the interrupted processes' claims were released or taken over
