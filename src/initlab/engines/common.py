"""What every engine shares: the trace of one run, divergence, the minibatch order, running models
on threads and the warm-up.

An engine trains B networks of one architecture on the same data with the same options, from a
(B, P) stack of parameter vectors, and returns one ``Trace`` per network. Nothing above the
engines knows which one ran: all follow the same semantics, written once here and in
``numpy_engine`` (the reference).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from collections.abc import Callable, Iterable
from typing import NamedTuple, Optional

import numpy as np

from ..network import Network
from ..options import TrainOptions, batches_per_epoch  # noqa: F401 (batches_per_epoch: the engines import it from here)


@dataclass(frozen=True)
class Divergence:
    """Where a run stopped because its cost or parameters stopped being finite numbers."""

    iteration: int
    what: str  # e.g. "the parameters contain nan (3 of 91) after the update"

    def __str__(self) -> str:
        return f"diverged at iteration {self.iteration}: {self.what}"


@dataclass(frozen=True)
class Reached:
    """Where a run stopped because its cost reached ``TrainOptions.target_loss``: before the update
    of `iteration` (so after `iteration` updates)."""

    iteration: int
    cost: float  # the cost that reached the target
    target: float
    on: str  # "train" (the whole training set) or "batch" (the minibatch about to be used)

    def __str__(self) -> str:
        where = "the training set" if self.on == "train" else "the minibatch"
        return f"reached the target loss {self.target:g} at iteration {self.iteration} (cost {self.cost:.6g} on {where})"


class Trace(NamedTuple):
    """One network's training, as an engine returns it."""

    params: np.ndarray  # (P,) after the last finite update
    iterations: np.ndarray  # recorded iterations
    costs: np.ndarray  # training cost before the update of each recorded iteration
    divergence: Optional[Divergence]
    steps: int  # updates applied
    reached: Optional[Reached] = None  # set when the run stopped at its target loss


# callback(b, i, cost, params_b): model b's cost recorded at iteration i, and its parameters then (P,)
Callback = Callable[[int, int, float, np.ndarray], None]


def epoch_orders(m: int, batch_size: Optional[int], seed: int | np.random.Generator | np.random.RandomState | None,
                 iterations: int) -> Optional[np.ndarray]:
    """The example order of every epoch the run touches, shape (n_epochs, m): epoch e is the e-th
    ``permutation(m)`` of `seed`'s stream (``default_rng(seed)`` for an int; a ``Generator`` or
    ``RandomState`` is drawn from, all epochs up front, n_epochs = ceil(iterations / k) draws even
    if the run stops sooner). Iteration i uses epoch i // k, batch i % k (k = batches_per_epoch),
    i.e. ``order[b·batch_size : (b+1)·batch_size]``; None if full-batch (nothing is drawn)."""
    k = batches_per_epoch(m, batch_size)
    if k == 1:
        return None
    rng = seed if isinstance(seed, (np.random.Generator, np.random.RandomState)) else np.random.default_rng(seed)
    n_epochs = max(1, -(-iterations // k))
    return np.stack([rng.permutation(m) for _ in range(n_epochs)])


def minibatch(orders: Optional[np.ndarray], i: int, batch_size: Optional[int]) -> Optional[np.ndarray]:
    """Example indices of iteration i (None: the full batch)."""
    if orders is None or batch_size is None:  # (orders are None exactly when full-batch)
        return None
    k = batches_per_epoch(orders.shape[1], batch_size)
    e, b = divmod(i, k)
    return orders[e, b * batch_size : (b + 1) * batch_size]


def nonfinite_what(params: np.ndarray) -> str:
    """How a parameter vector stopped being finite, for a Divergence."""
    kind = "nan" if np.isnan(params).any() else "inf"
    return f"the parameters contain {kind} ({int((~np.isfinite(params)).sum())} of {params.size}) after the update"


SEGMENT_FLOPS = 1e8  # about 50 ms of a compiled kernel's work: how often a run looks for Ctrl-C


def segment_length(network: Network, m: int) -> int:
    """Iterations of one compiled call when nothing else bounds it: about SEGMENT_FLOPS of work
    (≈ 6 flops per parameter and example an iteration), so that Ctrl-C stops a run within ~0.1 s."""
    return max(1, int(SEGMENT_FLOPS / (6 * network.n_params * max(m, 1))))


def segments(i0: int, i1: int, length: int) -> list[tuple[int, int]]:
    """[i0, i1) cut into consecutive (start, end) ranges of at most `length` iterations."""
    return [(s, min(s + length, i1)) for s in range(i0, i1, length)]


def each(indices: Iterable[int], work: Callable[[int, threading.Event], None], n_threads: int) -> None:
    """work(i, stop) for each index, on up to `n_threads` worker threads, each taking the next
    index when it is done (the compiled kernels release the GIL); the first exception is raised in
    the caller. The caller's thread only waits, so Ctrl-C reaches it at once: it then sets `stop`
    (a ``threading.Event`` that `work` checks between its segments), waits for the workers to
    finish the segment they are in, and raises KeyboardInterrupt."""
    indices = list(indices)
    if not indices:
        return
    pending = iter(indices)
    lock = threading.Lock()
    errors: list[BaseException] = []
    stop = threading.Event()

    def worker() -> None:
        while not errors and not stop.is_set():
            with lock:
                i = next(pending, None)
            if i is None:
                return
            try:
                work(i, stop)
            except BaseException as exc:  # re-raised below, in the caller's thread
                errors.append(exc)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, min(n_threads, len(indices))))]
    for thread in pool:
        thread.start()
    try:
        for thread in pool:
            thread.join()
    except BaseException:  # Ctrl-C while waiting: let the workers stop at their next segment
        stop.set()
        for thread in pool:
            thread.join()
        raise
    if errors:
        raise errors[0]


def warm_up_engine(train_batch: Callable[..., list[Trace]]) -> float:
    """Compile an engine's kernels, or load them from the disk cache, by training a tiny network
    for two iterations; the seconds spent."""
    start = time.perf_counter()
    network = Network((2, 3, 1))
    X = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0]])
    Y = np.array([[0.0, 1.0, 1.0]])
    train_batch(network, network.init("he", rng=0)[None, :], X, Y, TrainOptions(iterations=2, record_every=1))
    return time.perf_counter() - start
