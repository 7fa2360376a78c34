"""Sweeps on Dask: a LocalCluster of 2 processes gives the local results; failures are clear."""
import os
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
    sweep.run(spec, tmp_path / "local.db", engine="numpy")
    with Dask("local", workers=2) as executor:
        outcome = sweep.run(spec, tmp_path / "dask.db", engine="numpy", executor=executor)
        assert outcome.ran == 8
        chunk = sweep.chunks(sweep.expand(spec), 3)[0]
        (rows,) = list(executor.map(die_once, [chunk], "numpy", str(tmp_path / "marker")))
        assert [r["id"] for r in rows] == [r["id"] for r in chunk]
    local = sweep.load(tmp_path / "local.db").set_index("id").sort_index()
    remote = sweep.load(tmp_path / "dask.db").set_index("id").sort_index()
    assert local.final_train_cost.tolist() == remote.final_train_cost.tolist()
    assert local.costs.tolist() == remote.costs.tolist()


def test_unreachable_scheduler_fails_fast():
    start = time.time()
    with pytest.raises(InitlabError, match="Could not reach the Dask scheduler at 'tcp://127.0.0.1:9' within 2 s"):
        Dask("tcp://127.0.0.1:9", timeout=2)
    assert time.time() - start < 15
