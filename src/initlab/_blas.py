"""BLAS threads for small-matrix work.

Products of a few hundred rows gain nothing from a second BLAS thread, and on a 2-core machine
OpenBLAS's spinning threads fight whatever else runs: a 30-layer width-256 probe took 9–16 s with two
threads and 3.3 s with one, the papers' full runs ~4× the CPU time (bench/README.md).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

SMALL = 256  # layer widths up to this are small-matrix work


def one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """A context in which BLAS runs on one thread (a no-op where threadpoolctl, a scikit-learn
    dependency, is missing)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def for_widths(widths: Iterable[int]) -> contextlib.AbstractContextManager[Any]:
    """``one_blas_thread()`` when every width is small (≤ SMALL), else a context that changes nothing."""
    return one_blas_thread() if max(widths) <= SMALL else contextlib.nullcontext()


def threads() -> int:
    """How many threads BLAS runs products on here and now (under any limit in force, e.g.
    ``one_blas_thread``): the fewest over the loaded BLAS libraries; 1 where threadpoolctl is missing.
    (~1 ms: threadpoolctl looks the libraries up.)"""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return 1
    counts = [int(lib.get("num_threads") or 1) for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return max(1, min(counts)) if counts else 1
