"""Time spent inside one function of a module while a benchmark runs (the benchmarks' "share in training")."""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from types import ModuleType


@contextlib.contextmanager
def time_inside(module: ModuleType, name: str) -> Iterator[list[float]]:
    """Wrap ``module.name`` for the block; the list yielded holds the seconds spent inside it."""
    inner = getattr(module, name)
    spent = [0.0]

    def timing(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    setattr(module, name, timing)
    try:
        yield spent
    finally:
        setattr(module, name, inner)
