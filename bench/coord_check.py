"""The coord check at its default settings (``initlab coordcheck``: SP and μP, widths 2^6 … 2^10,
4 steps, 3 seeds): wall-clock seconds, medians over repeats, and the share spent training
(``train_many``, timed by wrapping the function the check calls). Issue "Parametrizations": under
30 s on 2 cores. Run by ``bench/run.py --only coordcheck``, or alone:
``python bench/coord_check.py [--repeats N] [--engine auto|numpy|numba]``."""
from __future__ import annotations

import argparse
import statistics
import time

from _timing import time_inside
from initlab import coordcheck


def timed_check(engine: str) -> tuple[float, float]:
    """(total seconds, seconds inside train_many) of one default coord check."""
    with time_inside(coordcheck, "train_many") as spent:
        start = time.perf_counter()
        coordcheck.coord_check(engine=engine)
        return time.perf_counter() - start, spent[0]


def report(repeats: int = 3, engines: tuple[str, ...] = ("numpy", "numba")) -> str:
    lines = ["### The coord check, default settings (SP and μP, widths 64 … 1024, 4 steps, 3 seeds)", "",
             "| engine | median (s) | min–max (s) | share in training |", "|---|---:|---:|---:|"]
    for engine in engines:
        timed_check(engine)  # warm-up (a first compile, imports)
        runs = [timed_check(engine) for _ in range(repeats)]
        totals = [t for t, _ in runs]
        share = statistics.median(s / t for t, s in runs)
        lines.append(f"| {engine} | {statistics.median(totals):.2f} | {min(totals):.2f}–{max(totals):.2f} | {share:.0%} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engine", action="append", default=None)
    args = parser.parse_args()
    print(report(args.repeats, tuple(args.engine or ("numpy", "numba"))))
