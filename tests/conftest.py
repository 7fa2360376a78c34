import matplotlib
import pytest

matplotlib.use("Agg")  # no window in tests


@pytest.fixture
def scheduler():
    """A Dask scheduler with one worker in another process, to be killed by the test: yields
    (process, address); the process is ended afterwards whatever happened."""
    import subprocess
    import sys

    pytest.importorskip("dask.distributed")
    process = subprocess.Popen([sys.executable, "-c", (
        "import time\nfrom dask.distributed import LocalCluster\n"
        "c = LocalCluster(n_workers=1, processes=False, threads_per_worker=1, protocol='tcp', dashboard_address=None)\n"
        "print(c.scheduler_address, flush=True)\ntime.sleep(120)\n")], stdout=subprocess.PIPE, text=True)
    try:
        yield process, process.stdout.readline().strip()
    finally:
        process.kill()
        process.wait(10)
