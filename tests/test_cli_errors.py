"""The CLI's failures, each as a real process meets it: bad options that used to hang, a Dask port
that never answers, a full disk, a corrupt database, a closed pipe, Ctrl-C. Every one ends in one
line on stderr (no traceback) and a documented exit code: 2 bad input, 3 a bad environment, 130
interrupted, 141 stdout closed; a bug alone shows its traceback."""
import errno
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from initlab import cli


def initlab(*args, cwd, timeout=60, **options):
    options.setdefault("stdout", subprocess.PIPE)
    return subprocess.run([sys.executable, "-m", "initlab", *args], cwd=cwd, stderr=subprocess.PIPE, text=True,
                          timeout=timeout, **options)


def one_line(done, code):
    assert done.returncode in (code if isinstance(code, tuple) else (code,)), done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    return done.stderr


# 1. --workers


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_workers_below_one_is_refused_before_anything_starts(tmp_path, workers):
    start = time.monotonic()
    done = initlab("sweep", "--dask", "local", "--workers", workers, "--set", "iterations=10", cwd=tmp_path)
    assert f"initlab: error: The 'workers' parameter must be an int >= 1. Got {workers} instead." in one_line(done, 2)
    assert time.monotonic() - start < 30 and not (tmp_path / "initlab-out").exists()


# 2. Dask addresses


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts every connection and never sends a byte; it closes
    itself (and its connections) on exit, or after `lifetime` seconds at the latest."""

    def __init__(self, lifetime=60):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.address = "tcp://127.0.0.1:%d" % self.socket.getsockname()[1]
        self.accepted = []
        self.deadline = time.monotonic() + lifetime
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while time.monotonic() < self.deadline:
            try:
                self.accepted.append(self.socket.accept()[0])
            except socket.timeout:
                continue
            except OSError:
                break
        self.close()

    def close(self):
        self.deadline = 0
        for conn in [self.socket, *self.accepted]:
            conn.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.close()
        self.thread.join(5)


def test_a_port_that_never_speaks_dask_fails_within_seconds(tmp_path):
    pytest.importorskip("dask.distributed")
    with SilentServer() as server:
        start = time.monotonic()
        done = initlab("sweep", "--dask", server.address, "--set", "iterations=10", cwd=tmp_path, timeout=60)
        elapsed = time.monotonic() - start
        assert server.accepted  # the port did accept: this is the handshake, not the connect
    line = one_line(done, 2)
    assert f"Could not reach the Dask scheduler at '{server.address}' within 5 s" in line
    assert elapsed < 20  # 5 s of timeout, the rest is the interpreter and dask starting


@pytest.mark.parametrize("address", ["notanaddress", "tls://", "inproc://", "tcp://", "tcp://host", "tcp://host:0",
                                     "tcp://host:99999", "udp://127.0.0.1:8786", "tcp://a b:8786"])
def test_malformed_dask_address_is_one_line(tmp_path, address):
    done = initlab("sweep", "--dask", address, "--set", "iterations=10", cwd=tmp_path)
    assert (f"initlab: error: The 'dask' parameter must be 'local' or a Dask scheduler address tcp://HOST:PORT "
            f"(or tls://HOST:PORT). Got {address!r} instead.") in one_line(done, 2)
    assert not (tmp_path / "initlab-out").exists()


# 3. the environment


def test_corrupt_database_is_one_line_naming_it(tmp_path):
    args = ["--set", "init=he_normal,xavier_normal", "--set", "iterations=10", "--engine", "numpy", "--out", "o"]
    assert initlab("sweep", *args, cwd=tmp_path).returncode == 0
    db = tmp_path / "o" / "sweep.db"
    with open(db, "r+b") as f:  # the header page stays, every page after it is garbage
        f.seek(4096)
        f.write(b"\xff" * (db.stat().st_size - 4096))
    for command in (["report", "o/sweep.db", "--out", "r.html"], ["sweep", *args]):
        line = one_line(initlab(*command, cwd=tmp_path), 3)
        assert line.startswith("initlab: error: the database cannot be read or written (sqlite: ")
        assert "malformed" in line and line.rstrip().endswith("o/sweep.db")


def test_database_under_a_regular_file_is_one_line(tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")
    line = one_line(initlab("sweep", "--set", "iterations=10", "--db", "taken/sub.db", cwd=tmp_path), (2, 3))
    assert line.startswith("initlab: error: ") and "taken/sub.db" in line  # the store's check (2) or sqlite's (3)


def test_a_full_disk_is_one_line_naming_the_file(tmp_path):
    """/dev/full answers every write with ENOSPC, as a full disk does."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    (tmp_path / "full.html").symlink_to("/dev/full")
    done = initlab("datasets", "--report", "full.html", cwd=tmp_path)
    assert one_line(done, 3) == "initlab: error: No space left on device: full.html\n"


@pytest.mark.parametrize("command", [["datasets"], ["compare", "--iterations", "10", "--quiet", "--engine", "numpy"]])
def test_a_closed_pipe_ends_quietly_with_141(tmp_path, command):
    """`initlab ... | head -1` where head has already gone: the reader end is closed before the
    command writes a byte."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = initlab(*command, cwd=tmp_path, stdout=writer)
    finally:
        os.close(writer)
    assert done.returncode == 141 and done.stderr == ""


def test_a_pipe_into_head(tmp_path):
    done = subprocess.run(f"{sys.executable} -m initlab datasets | head -1", shell=True, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("name") and len(done.stdout.splitlines()) == 1
    assert done.stderr == ""


@pytest.mark.parametrize("error, line", [
    (OSError(errno.ENOSPC, "No space left on device", "o/seeds.png"), "No space left on device: o/seeds.png"),
    (OSError(errno.EROFS, "Read-only file system"), "Read-only file system: the/db.db"),
    (PermissionError(errno.EACCES, "Permission denied", "a", None, "b"), "Permission denied: a -> b"),
    (TimeoutError(), "TimeoutError: the/db.db"),
    (TimeoutError("no answer"), "TimeoutError: no answer: the/db.db"),
    (MemoryError(), "out of memory (MemoryError): shrink the grid, the network or the data"),
    (sqlite3.DatabaseError("database disk image is malformed"),
     "the database cannot be read or written (sqlite: database disk image is malformed): the/db.db"),
])
def test_environment_errors_are_one_line_with_exit_3(monkeypatch, capsys, error, line):
    def handler(args):
        args.databases = args.writing = "the/db.db"
        args.databases = [args.databases]
        raise error

    monkeypatch.setattr(cli, "_datasets", handler)
    assert cli.main(["datasets"]) == 3
    assert capsys.readouterr().err == f"initlab: error: {line}\n"


def test_a_bug_still_shows_its_traceback(monkeypatch):
    def handler(args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "_datasets", handler)
    with pytest.raises(ZeroDivisionError):
        cli.main(["datasets"])


# 4. Ctrl-C


def interrupted(tmp_path, args, ready):
    """Start `initlab ARGS`, wait until `ready()` (the command is past its start-up, training),
    send it a real SIGINT, return the finished process."""
    process = subprocess.Popen([sys.executable, "-m", "initlab", *args], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not ready() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def test_ctrl_c_during_a_sweep_says_what_is_kept(tmp_path):
    args = ["sweep", "--set", "init=he_normal,xavier_normal", "--set", "depth=1,2,3", "--set", "width=64",
            "--set", "iterations=200000", "--engine", "numpy", "--out", "o"]
    done = interrupted(tmp_path, args, lambda: (tmp_path / "o" / "sweep.db").exists())
    line = one_line(done, 130)
    assert line.startswith("initlab: interrupted: finished chunks are stored in o/sweep.db; run the same command again to resume")


def test_ctrl_c_during_compare(tmp_path):
    args = ["compare", "--iterations", "100000000", "--engine", "numpy", "--quiet", "--out", "o"]
    done = interrupted(tmp_path, args, lambda: (tmp_path / "o").exists())
    assert one_line(done, 130) == "initlab: interrupted: nothing was written\n"
    assert not os.listdir(tmp_path / "o")


# 5. options checked before any training


def test_export_format_is_checked_before_training(tmp_path):
    done = initlab("sweep", "--set", "iterations=10", "--engine", "numpy", "--export", "x.xlsx", cwd=tmp_path)
    assert "The 'export' parameter must be a .csv or .parquet path. Got 'x.xlsx' instead." in one_line(done, 2)
    assert not (tmp_path / "initlab-out").exists()


@pytest.mark.parametrize("command", [
    ["sweep", "--set", "iterations=10", "--engine", "numpy", "--out", "o"],
    ["compare", "--iterations", "10", "--engine", "numpy", "--quiet", "--out", "o"],
    ["probe", "--depth", "2", "--width", "8", "--seeds", "2", "--out", "o"],
])
@pytest.mark.parametrize("report", ["taken/r.html", "/proc/initlab/r.html", "folder.html"])
def test_unwritable_report_is_refused_before_training(tmp_path, command, report):
    (tmp_path / "taken").write_text("a file, not a folder")
    (tmp_path / "folder.html").mkdir()
    done = initlab(*command, "--report", report, cwd=tmp_path)
    assert "The 'report' parameter must be a file that can be written (" in one_line(done, 2)
    assert f"Got {report!r} instead." in done.stderr
    assert not (tmp_path / "o").exists() or not os.listdir(tmp_path / "o")  # nothing trained, nothing written


def test_unwritable_export_is_refused_before_training(tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")
    done = initlab("sweep", "--set", "iterations=10", "--engine", "numpy", "--export", "taken/r.csv", cwd=tmp_path)
    assert "The 'export' parameter must be a file that can be written (Not a directory). Got 'taken/r.csv'" in one_line(done, 2)
    assert not (tmp_path / "initlab-out").exists()


def test_a_dead_scheduler_is_one_line_saying_what_is_kept(tmp_path, scheduler):
    """A sweep on a scheduler (with its worker) in another process, killed with SIGKILL mid-sweep."""
    scheduler, address = scheduler
    try:
        sweep = subprocess.Popen([sys.executable, "-m", "initlab", "sweep", "--dask", address, "--set", "width=64",
                                  "--set", "init=he_normal,xavier_normal", "--set", "iterations=300000",
                                  "--engine", "numpy", "--out", "o"],
                                 cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not (tmp_path / "o" / "sweep.db").exists() and time.monotonic() < deadline and sweep.poll() is None:
            time.sleep(0.05)
        time.sleep(1)
        scheduler.kill()
        out, err = sweep.communicate(timeout=60)
    finally:
        for process in (scheduler, locals().get("sweep")):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)
    line = one_line(subprocess.CompletedProcess([], sweep.returncode, out, err), 3)
    assert line.startswith(f"initlab: error: lost the Dask scheduler at '{address}' (FutureCancelledError: ")
    assert line.rstrip().endswith("finished chunks are stored in o/sweep.db; run the same command again to resume")


def test_ctrl_c_in_a_terminal_during_a_sweep_on_a_local_cluster(tmp_path):
    """A terminal's Ctrl-C reaches the whole process group: the CLI and the LocalCluster's worker
    processes. One line still, no worker's or nanny's log about the chunk cancelled."""
    pytest.importorskip("dask.distributed")
    args = ["sweep", "--dask", "local", "--workers", "1", "--set", "width=64", "--set", "iterations=300000",
            "--engine", "numpy", "--out", "o"]
    process = subprocess.Popen([sys.executable, "-m", "initlab", *args], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "o" / "sweep.db").exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        time.sleep(2)  # the chunk is on the worker
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    line = one_line(subprocess.CompletedProcess(args, process.returncode, out, err), 130)
    assert line == "initlab: interrupted: finished chunks are stored in o/sweep.db; run the same command again to resume\n"


def test_a_second_ctrl_c_during_the_first_ones_clean_up(monkeypatch, capsys):
    def handler(args):
        try:
            raise KeyboardInterrupt
        finally:
            raise KeyboardInterrupt  # pressed again while closing

    class Interrupting:  # formatting the interrupted line itself meets the second Ctrl-C
        def __format__(self, spec):
            raise KeyboardInterrupt

    property_that_interrupts = Interrupting()
    monkeypatch.setattr(cli, "_datasets", handler)
    monkeypatch.setattr(sys, "argv", ["initlab", "datasets"])
    assert cli.console_script() == 130 and capsys.readouterr().err == "initlab: interrupted: nothing was written\n"

    def interrupted_twice(args):
        args.interrupted = property_that_interrupts
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_datasets", interrupted_twice)
    assert cli.console_script() == 130 and capsys.readouterr().err == "initlab: interrupted\n"


@pytest.mark.parametrize("command, taken", [
    (["compare", "--iterations", "10", "--quiet", "--engine", "numpy"], "costs.png"),
    (["sweep", "--set", "iterations=10", "--engine", "numpy"], "seeds.png"),
])
def test_a_figure_that_cannot_be_written_after_training_is_one_line(tmp_path, command, taken):
    """The output folder is writable, but the figure's own path is a folder: the OSError of the
    write itself, after the training, named with its path."""
    (tmp_path / "o" / taken).mkdir(parents=True)
    done = initlab(*command, "--out", "o", cwd=tmp_path)
    assert one_line(done, 3) == f"initlab: error: Is a directory: o/{taken}\n"


# compare's data and activation options, probe's mean-field variances: one line, exit 2, before any training


def _three_classes(path):
    path.write_text("a,b,target\n" + "".join(f"{i % 7},{i % 5},{'xyz'[i % 3]}\n" for i in range(60)))
    return path.name


@pytest.mark.parametrize("args, line", [
    (["--dataset", "moon"], "Unknown dataset 'moon'. Expected one of: blobs, circles, digits, gaussian_quantiles, "
                            "moons, spirals, xor. Did you mean 'moons'?"),
    (["--data", "missing.csv"], "The 'data' parameter must be an existing .csv or .npz file. Got 'missing.csv' instead."),
    (["--data", "three.csv", "--dataset", "moons"], "The 'dataset' and 'data' options cannot be used together"),
    (["--target", "label"], "The 'target' option names the label column of a 'data' file. Got target 'label' without"),
    (["--data", "three.csv"], "The 'data' parameter must be a file whose label column has two values: compare trains "
                              "one sigmoid output unit with binary cross-entropy, the notebook's network. Got "
                              "'three.csv' with 3 classes (x, y, z) instead."),
    (["--data", "three.csv", "--target", "kind"], "The 'target' parameter must name a column of 'three.csv'. Got 'kind'"),
    (["--activation", "tahn"], "Unknown activation 'tahn'. Expected one of: elu, gelu, leaky_relu, linear, relu, selu, "
                               "sigmoid, silu, softplus, swish, tanh. Did you mean 'tanh'?"),
])
def test_compare_data_and_activation_errors_are_one_line_before_training(tmp_path, args, line):
    _three_classes(tmp_path / "three.csv")
    done = initlab("compare", *args, cwd=tmp_path)
    assert one_line(done, 2).startswith(f"initlab: error: {line}")
    assert done.stdout == "" and not (tmp_path / "initlab-out").exists()  # nothing trained, no folder made


def test_an_animation_of_data_without_a_plane_is_refused_before_training(tmp_path):
    (tmp_path / "five.csv").write_text("a,b,c,target\n" + "".join(f"{i % 7},{i % 5},{i % 3},{i % 2}\n" for i in range(60)))
    done = initlab("compare", "--data", "five.csv", "--animate", cwd=tmp_path)
    assert one_line(done, 2) == "initlab: error: A decision-boundary animation needs 2-D data. Got 3 features (five.csv).\n"
    assert done.stdout == ""


@pytest.mark.parametrize("args, line", [
    (["--sigma-w2", "-1"], "The 'sigma_w2' parameter must be a finite float > 0. Got -1 instead."),
    (["--sigma-w2", "1.5,0"], "The 'sigma_w2' parameter must be a finite float > 0. Got 0 instead."),
    (["--sigma-w2", "inf"], "The 'sigma_w2' parameter must be a finite float > 0. Got inf instead."),
    (["--sigma-w2", "two"], "The 'sigma_w2' parameter must be a finite float > 0. Got 'two' instead."),
    (["--sigma-w2", ","], "The 'sigma_w2' parameter must be at least one finite float > 0, such as 1.5,2. Got no value instead."),
    (["--sigma-w2", "2", "--sigma-b2", "-0.1"], "The 'sigma_b2' parameter must be a finite float >= 0. Got -0.1 instead."),
    (["--sigma-w2", "2", "--sigma-b2", "nan"], "The 'sigma_b2' parameter must be a finite float >= 0. Got nan instead."),
    (["--sigma-b2", "0.05"], "The 'sigma_b2' option is the bias variance of the --sigma-w2 entries: give --sigma-w2 too, "
                             "such as --sigma-w2 2 --sigma-b2 0.05. Got --sigma-b2 alone."),
])
def test_probe_mean_field_errors_are_one_line(tmp_path, args, line):
    done = initlab("probe", "--depth", "2", "--width", "8", *args, cwd=tmp_path)
    assert one_line(done, 2) == f"initlab: error: {line}\n" and done.stdout == ""
