"""Where sweep chunks run: in this process (``Local``), or on a Dask cluster (``Dask``).

An executor's ``map(fn, chunks, *args)`` yields ``fn(chunk, *args)`` for every chunk as each one
finishes; the caller (``sweep.run``) alone writes results, so workers never touch the database.
"""
from __future__ import annotations

from ._validation import InitlabError


class Local:
    """Chunks one after the other in this process (the compiled engine uses every core per chunk)."""

    def map(self, fn, chunks, *args):
        for chunk in chunks:
            yield fn(chunk, *args)

    def close(self):
        pass


class Dask:
    """Chunks shipped to a Dask cluster (``pip install initlab[dask]``).

    `address`: ``tcp://host:8786`` for a running scheduler, or "local" to start a
    ``LocalCluster`` of `workers` processes here. A chunk whose worker dies is retried
    (`retries` times) on another; an unreachable scheduler is an error after `timeout` seconds.
    """

    def __init__(self, address="local", workers=2, timeout=5, retries=2):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:
            raise InitlabError(f"Sweeps on Dask need dask.distributed ({exc}): pip install 'initlab[dask]'.") from None
        self.retries = retries
        self.cluster = None
        try:
            if address == "local":
                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
                self.client = Client(self.cluster, timeout=timeout)
            else:
                self.client = Client(address, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            self.close()
            raise InitlabError(
                f"Could not reach the Dask scheduler at {address!r} within {timeout} s ({type(exc).__name__}). "
                "Check the address, or use --dask local."
            ) from None

    def map(self, fn, chunks, *args):
        from dask.distributed import as_completed

        futures = [self.client.submit(fn, chunk, *args, retries=self.retries, pure=False) for chunk in chunks]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()

    def close(self):
        if getattr(self, "client", None) is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
