"""Sweeps on Dask: a LocalCluster of 2 processes gives the local results; failures are clear."""
import os
import threading
import time

import pytest

pytest.importorskip("dask.distributed")

from initlab import sweep  # noqa: E402
from initlab._validation import InitlabError  # noqa: E402
from initlab.executors import Dask  # noqa: E402

SPEC = {"sweep": {"name": "d", "seeds": 2, "record_every": 50, "chunk_size": 3},
        "grid": {"init": ["he_normal", "lecun_normal"], "depth": [1, 2], "width": [5], "learning_rate": [0.05], "iterations": [150]}}


def die_once(chunk, engine, marker):
    """Kill this worker process the first time any chunk runs; later attempts train normally."""
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return sweep.train_chunk(chunk, engine)


def test_local_cluster_equals_local_run_and_survives_a_dead_worker(tmp_path):
    spec = sweep.make_spec(SPEC)
    sweep.run_sweep(spec, tmp_path / "local.db", engine="numpy")
    with Dask("local", workers=2) as executor:
        outcome = sweep.run_sweep(spec, tmp_path / "dask.db", engine="numpy", executor=executor)
        assert outcome.ran == 8
        chunk = sweep.chunks(sweep.expand(spec), 3)[0]
        (rows,) = list(executor.map(die_once, [chunk], "numpy", str(tmp_path / "marker")))
        assert [r["id"] for r in rows] == [r["id"] for r in chunk]
    local = sweep.read_frame(tmp_path / "local.db").set_index("id").sort_index()
    remote = sweep.read_frame(tmp_path / "dask.db").set_index("id").sort_index()
    assert local.final_train_cost.tolist() == remote.final_train_cost.tolist()
    assert local.costs.tolist() == remote.costs.tolist()


def test_unreachable_scheduler_fails_fast():
    start = time.time()
    with pytest.raises(InitlabError, match="Could not reach the Dask scheduler at 'tcp://127.0.0.1:9' within 2 s"):
        Dask("tcp://127.0.0.1:9", timeout=2)
    assert time.time() - start < 15


def test_a_port_that_accepts_tcp_but_never_speaks_dask_fails_within_the_timeout():
    from test_cli_errors import SilentServer

    with SilentServer() as server:
        raised = []

        def connect():  # on a thread, so that a hang fails this test instead of hanging the suite
            try:
                Dask(server.address, timeout=2)
            except Exception as exc:
                raised.append(exc)

        attempt = threading.Thread(target=connect, daemon=True)
        attempt.start()
        attempt.join(10)
        assert server.accepted and not attempt.is_alive(), "Dask() still waiting after 10 s"
    assert len(raised) == 1 and isinstance(raised[0], InitlabError)
    assert f"Could not reach the Dask scheduler at '{server.address}' within 2 s" in str(raised[0])


@pytest.mark.parametrize("address", ["notanaddress", "tls://", "inproc://", "tcp://", "tcp://h:0", "ws:/h:1", None, 8786])
def test_malformed_addresses_are_refused_before_connecting(address):
    with pytest.raises(InitlabError, match=r"The 'address' parameter must be 'local' or a Dask scheduler address"):
        Dask(address)


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "tls://scheduler.example:8786", "10.0.0.1:8786",
                                     "tcp://[::1]:8786", "local"])
def test_well_formed_addresses(address):
    from initlab.executors import check_address

    assert check_address(address) == address


def test_tls_without_tls_configuration_is_one_clear_error():
    with pytest.raises(InitlabError, match="is tls:// but Dask has no TLS configuration"):
        Dask("tls://127.0.0.1:9", timeout=2)


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_workers_is_checked_before_a_cluster_starts(workers):
    start = time.monotonic()
    with pytest.raises(InitlabError, match="The 'workers' parameter must be an int >= 1"):
        Dask("local", workers=workers)
    assert time.monotonic() - start < 5


def test_a_dead_scheduler_is_a_cluster_error_without_a_logged_traceback(capfd, scheduler):
    """A scheduler (with its one worker) in another process, killed with SIGKILL while a chunk runs."""
    import signal

    from initlab.executors import ClusterError

    scheduler, address = scheduler
    try:
        executor = Dask(address, timeout=5)
        results = executor.map(time.sleep, [60])  # time.sleep(60) on the worker
        killer = threading.Timer(2, scheduler.send_signal, [signal.SIGKILL])
        killer.start()
        start = time.monotonic()
        with pytest.raises(ClusterError, match=f"lost the Dask scheduler at '{address}'"):
            next(results)  # submits, then waits: the scheduler dies meanwhile
        assert time.monotonic() - start >= 1.5
        executor.close()
        killer.join()
        assert time.monotonic() - start < 30
    finally:
        scheduler.kill()
    assert "Traceback" not in capfd.readouterr().err


def test_ctrl_c_while_connecting_closes_the_local_cluster(monkeypatch):
    import dask.distributed

    started = []

    class Cluster(dask.distributed.LocalCluster):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(dask.distributed, "LocalCluster", Cluster)
    monkeypatch.setattr(dask.distributed, "Client", interrupted)
    with pytest.raises(KeyboardInterrupt):
        Dask("local", workers=1)
    assert len(started) == 1 and started[0].status.name == "closed"
