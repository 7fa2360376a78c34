"""Ctrl-C stops a compiled training within a fraction of a second, even a single long model: the
kernels run in segments of ~50 ms on worker threads while the caller's thread waits (common.each)."""
import signal
import subprocess
import sys
import time

import pytest

_CHILD = r"""
import sys, time
import numpy as np
from initlab import engines
from initlab.data import circles
from initlab.network import Network
from initlab.training import TrainOptions, train
engine = sys.argv[1]
engines.ready(engine)
d, net = circles(), Network((2, 10, 5, 1))
print("started", flush=True)
start = time.perf_counter()
try:
    train(net, net.init("he", rng=3), d.X_train, d.Y_train, TrainOptions(0.01, 5_000_000, 5_000_000), engine=engine)
except KeyboardInterrupt:
    print(f"interrupted after {time.perf_counter() - start:.2f} s", flush=True)
    sys.exit(3)
print("finished", flush=True)
"""


@pytest.mark.parametrize("engine", ["numba", "exact"])
def test_ctrl_c_stops_one_long_model_at_once(engine):
    """5 000 000 iterations (20 s on the numba engine, 2 min on the exact one): SIGINT 0.5 s in
    ends the run with KeyboardInterrupt well within 2 s."""
    child = subprocess.Popen([sys.executable, "-c", _CHILD, engine], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "started", child.stderr.read()
        time.sleep(0.5)
        sent = time.perf_counter()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
        waited = time.perf_counter() - sent
    finally:
        child.kill()
    assert child.returncode == 3, (out, err)
    assert out.startswith("interrupted after") and waited < 2.0, (out, waited)


# --- a real Ctrl-C at a real terminal --------------------------------------------------------
class _Terminal:
    """`python -m initlab ARGS` on a pseudo-terminal of its own (stdin, stdout, stderr: a tty, as
    at a shell). `ctrl_c()` types ^C: the terminal driver sends SIGINT to the command's process
    group, as a user's key press does, not a signal sent to one pid."""

    def __init__(self, args, cwd):
        import os
        import pty

        self.output = b""
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: exec at once (no Python code of the test runs here)
            os.chdir(cwd)
            os.execv(sys.executable, [sys.executable, "-m", "initlab", *map(str, args)])

    def read(self, seconds):
        """What the command writes within `seconds` (or until it closes the terminal)."""
        import os
        import select

        end = time.perf_counter() + seconds
        while (left := end - time.perf_counter()) > 0:
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.05))
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # EIO: the command exited and closed the terminal
                    return False
                if not chunk:
                    return False
                self.output += chunk
        return True

    def wait_for(self, done, timeout):
        """Read until done(self) is true; False when the command ended or time ran out first."""
        end = time.perf_counter() + timeout
        while not done(self) and time.perf_counter() < end:
            if not self.read(0.05):
                return done(self)
        return done(self)

    def ctrl_c(self):
        import os

        os.write(self.fd, b"\x03")
        return time.perf_counter()

    def exit_code(self, timeout=60):
        """The command's exit code once it ends (read what it writes meanwhile)."""
        import os

        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            self.read(0.05)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.read(0.2)
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError(f"the command did not end within {timeout} s: {self.text()!r}")

    def text(self):
        return self.output.decode(errors="replace").replace("\r\n", "\n")


def _after_ctrl_c(terminal, code, pressed):
    """The one line a Ctrl-C prints: the exit code 130, no traceback, one 'initlab:' line."""
    text = terminal.text()
    lines = [line.split("\r")[-1] for line in text.split("\n")]  # a progress bar redraws with \r
    said = [line for line in lines if line.startswith("initlab:")]
    assert code == 130, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    assert len(said) == 1 and said[0].startswith("initlab: interrupted: "), text
    return said[0]


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pseudo-terminal")
@pytest.mark.parametrize("engine", ["exact", "numba"])
def test_ctrl_c_at_a_terminal_stops_compare_of_one_long_model(tmp_path, engine):
    """`initlab compare --init he` for 10⁸ iterations (minutes): a ^C typed once its cost lines
    stream ends it within 2 s with one line, exit code 130, and no file written."""
    out = tmp_path / "out"
    terminal = _Terminal(["compare", "--init", "he", "--iterations", 10**8, "--engine", engine, "--out", out], tmp_path)
    assert terminal.wait_for(lambda t: b"Cost after iteration 0:" in t.output, 120), terminal.text()
    pressed = terminal.ctrl_c()
    code = terminal.exit_code()
    assert time.perf_counter() - pressed < 2.0 + 0.25, terminal.text()  # 0.25 s: this loop's own polling
    line = _after_ctrl_c(terminal, code, pressed)
    assert line == "initlab: interrupted: nothing was written"
    assert not out.exists() or not any(out.iterdir())


def _count(db, table):
    import sqlite3

    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error:  # not made yet
        return 0


_LONG_CHUNK_SPEC = """
[sweep]
name = "long"
seeds = 2
chunk_size = 1

[grid]
init = ["he_normal"]
iterations = [20000000]
"""


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pseudo-terminal")
def test_ctrl_c_at_a_terminal_stops_a_sweep_mid_chunk_and_releases_its_claim(tmp_path):
    """A sweep whose chunk is one long run (2·10⁷ iterations, over a minute): ^C while it trains
    stops it within 2 s; the run was not stored, its claim is released (a rerun trains it, no
    process waits for a dead claim), and the line says how to resume."""
    (tmp_path / "long.toml").write_text(_LONG_CHUNK_SPEC)
    db = tmp_path / "out" / "long.db"
    terminal = _Terminal(["sweep", "long.toml", "--engine", "numba", "--out", "out"], tmp_path)
    assert terminal.wait_for(lambda t: _count(db, "claims") >= 1, 120), terminal.text()
    terminal.read(0.5)  # inside the chunk's kernel
    pressed = terminal.ctrl_c()
    code = terminal.exit_code()
    assert time.perf_counter() - pressed < 2.0 + 0.25, terminal.text()
    line = _after_ctrl_c(terminal, code, pressed)
    assert "run the same command again to resume" in line and str(db.name) in line
    assert _count(db, "runs") == 0 and _count(db, "claims") == 0


_MANY_CHUNKS_SPEC = """
[sweep]
name = "many"
seeds = 12
record_every = 100
chunk_size = 2

[grid]
init = ["he_normal", "xavier_normal"]
depth = [2]
width = [16]
learning_rate = [0.05]
iterations = [3000]
"""


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pseudo-terminal")
def test_ctrl_c_at_a_terminal_keeps_a_sweep_s_finished_chunks_and_the_rerun_resumes(tmp_path):
    """^C after some chunks are stored: one line, exit code 130, the database intact with what
    was stored; the same command again trains only the rest and ends with the whole grid."""
    import sqlite3

    (tmp_path / "many.toml").write_text(_MANY_CHUNKS_SPEC)
    db = tmp_path / "out" / "many.db"
    args = ["sweep", "many.toml", "--engine", "numpy", "--out", "out"]
    terminal = _Terminal(args, tmp_path)
    assert terminal.wait_for(lambda t: _count(db, "runs") >= 2, 120), terminal.text()
    pressed = terminal.ctrl_c()
    code = terminal.exit_code()
    _after_ctrl_c(terminal, code, pressed)
    kept = _count(db, "runs")
    assert 2 <= kept < 24, "the ^C must land mid-sweep"
    connection = sqlite3.connect(db)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    connection.close()
    again = subprocess.run([sys.executable, "-m", "initlab", *args], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert _count(db, "runs") == 24
    assert f"24 runs in the grid: {kept} already stored, {24 - kept} trained now" in again.stdout
