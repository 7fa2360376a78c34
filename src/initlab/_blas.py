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
