"""Where sweep chunks run: in this process (``Local``), or on a Dask cluster (``Dask``).

An executor's ``map(fn, chunks, *args)`` yields ``fn(chunk, *args)`` for every chunk as each one
finishes; the caller (``sweep.run_sweep``) alone writes results, so workers never touch the database.
"""
from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from ._validation import InitlabError, check_int

if TYPE_CHECKING:
    from dask.distributed import Client, LocalCluster

T = TypeVar("T")

SCHEMES = ("tcp", "tls")
_HOST_PORT = re.compile(r"^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+)):([0-9]{1,5})$")


def check_address(address: object, name: str = "address") -> str:
    """`address` if it is "local" or a scheduler address ``tcp://HOST:PORT`` (``tls://``, or a bare
    ``HOST:PORT`` for tcp), else an error naming `name`; nothing is contacted."""
    requirement = "'local' or a Dask scheduler address tcp://HOST:PORT (or tls://HOST:PORT)"
    if address == "local":
        return address
    if isinstance(address, str):
        scheme, sep, rest = address.partition("://")
        if not sep:
            scheme, rest = "tcp", address
        match = _HOST_PORT.match(rest)
        if scheme in SCHEMES and match and 1 <= int(match.group(3)) <= 65535:
            return address
    raise InitlabError(f"The '{name}' parameter must be {requirement}. Got {address!r} instead.")


def _one_line(exc):
    return " ".join(str(exc).split())


class ClusterError(OSError):
    """The Dask cluster went away (scheduler dead, connection closed, workers lost) while a sweep
    ran on it: an environment error, not bad input (the CLI prints it as one line, exit 3)."""


async def _identity(address, timeout):
    """The scheduler's identity reply: proves that something at `address` speaks Dask."""
    from distributed.core import rpc
    from distributed.security import Security

    connection = Security().get_connection_args("client")
    if address.startswith("tls://") and connection.get("ssl_context") is None:
        raise InitlabError(f"The scheduler address {address!r} is tls:// but Dask has no TLS configuration "
                           "(distributed.comm.tls.* in the Dask config). Configure TLS or use tcp://.")
    remote = rpc(address, timeout=timeout, connection_args=connection)
    try:
        return await remote.identity()
    finally:
        await remote.close_rpc()


def _handshake(address, timeout):
    """Connect to `address` and wait for the scheduler's answer, `timeout` seconds in all: a port
    that accepts TCP but never speaks Dask would otherwise hang ``Client`` well past its timeout."""
    asyncio.run(asyncio.wait_for(_identity(address, timeout), timeout))


class Local:
    """Chunks one after the other in this process (the compiled engine uses every core per chunk)."""

    def map(self, fn: Callable[..., T], chunks: Iterable[Any], *args: Any) -> Iterator[T]:
        for chunk in chunks:
            yield fn(chunk, *args)

    def close(self) -> None:
        pass


class Dask:
    """Chunks shipped to a Dask cluster (``pip install initlab[dask]``).

    `address`: ``tcp://host:8786`` for a running scheduler, or "local" to start a
    ``LocalCluster`` of `workers` processes here. A chunk whose worker dies is retried
    (`retries` times) on another; an unreachable scheduler is an error after `timeout` seconds.
    """

    def __init__(self, address: str = "local", workers: int = 2, timeout: float = 5, retries: int = 2) -> None:
        self.cluster: LocalCluster | None = None
        self.client: Client | None = None
        address = check_address(address)
        workers = check_int("workers", workers, low=1)
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:
            raise InitlabError(f"Sweeps on Dask need dask.distributed ({exc}): pip install 'initlab[dask]'.") from None
        self.address = address
        self.retries = retries
        try:
            if address == "local":
                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                            silence_logs=logging.ERROR)  # no warnings when a chunk is cancelled
                self.client = Client(self.cluster, timeout=timeout)
            else:
                _handshake(address, timeout)
                self.client = Client(address, timeout=timeout)
        except (InitlabError, KeyboardInterrupt):  # Ctrl-C while the LocalCluster starts: no process left behind
            self.close()
            raise
        except (OSError, TimeoutError, ValueError) as exc:
            self.close()
            raise InitlabError(
                f"Could not reach the Dask scheduler at {address!r} within {timeout} s ({type(exc).__name__}: "
                f"{str(exc) or 'no answer from a Dask scheduler'}). Check the address, or use --dask local."
            ) from None

    def map(self, fn: Callable[..., T], chunks: Iterable[Any], *args: Any) -> Iterator[T]:
        """``fn(chunk, *args)`` of every chunk as each finishes. A scheduler that dies, a closed
        connection or a chunk whose workers died more than `retries` times: ``ClusterError``."""
        from concurrent.futures import CancelledError

        from dask.distributed import as_completed
        from distributed.comm import CommClosedError
        from distributed.scheduler import KilledWorker

        assert self.client is not None
        futures = [self.client.submit(fn, chunk, *args, retries=self.retries, pure=False) for chunk in chunks]
        try:
            for future in as_completed(futures):
                yield future.result()
        except KilledWorker as exc:
            raise ClusterError(f"a chunk's Dask workers died {self.retries + 1} times at {self.address!r} "
                               f"({_one_line(exc)})") from None
        except (CancelledError, CommClosedError) as exc:
            self.lost = True
            raise ClusterError(f"lost the Dask scheduler at {self.address!r} ({type(exc).__name__}: "
                               f"{_one_line(exc) or 'connection closed'})") from None
        finally:
            if not getattr(self, "lost", False):
                for future in futures:
                    future.cancel()

    def close(self) -> None:
        """Close the client (and the LocalCluster). Closing after a lost scheduler or during an
        exception (Ctrl-C) logs nothing (the client's cancelled reconnection, the workers stopped
        mid-chunk): the caller says what happened in one line."""
        failing = getattr(self, "lost", False) or sys.exc_info()[0] is not None
        quiet = [logging.getLogger(n) for n in ("distributed", "distributed.client", "distributed.nanny")] if failing else []
        levels = [logger.level for logger in quiet]
        for logger in quiet:
            logger.setLevel(logging.CRITICAL + 1)
        try:
            client, cluster = getattr(self, "client", None), getattr(self, "cluster", None)
            if client is not None:
                client.close()
            if cluster is not None:
                cluster.close()
        finally:
            for logger, level in zip(quiet, levels):
                logger.setLevel(level)

    def __enter__(self) -> Dask:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
