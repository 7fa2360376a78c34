"""The μTransfer reproduction (``initlab reproduce yang2022 --quick``, and the full settings with
``--full``): wall-clock seconds, medians over repeats, and the share spent training (``train_many``,
timed by wrapping the function ``transfer.train_grid`` calls). Issue "Parametrizations": the quick
one under 2 minutes on 2 cores. Run by ``bench/run.py --only transfer``, or alone:
``python bench/mutransfer.py [--repeats N] [--full]``."""
from __future__ import annotations

import argparse
import statistics
import time

from _timing import time_inside
from initlab import transfer
from initlab.papers import yang2022


def timed_reproduction(quick: bool) -> tuple[float, float]:
    """(total seconds, seconds inside train_many) of one yang2022 reproduction."""
    with time_inside(transfer, "train_many") as spent:
        start = time.perf_counter()
        yang2022.reproduce(quick=quick)
        return time.perf_counter() - start, spent[0]


def report(repeats: int = 3, settings: tuple[str, ...] = ("quick",)) -> str:
    lines = ["### The μTransfer reproduction (`initlab reproduce yang2022`)", "",
             "| settings | median (s) | min–max (s) | share in training |", "|---|---:|---:|---:|"]
    for name in settings:
        quick = name == "quick"
        timed_reproduction(True)  # warm-up: a first compile, imports, the digits data
        runs = [timed_reproduction(quick) for _ in range(repeats)]
        totals = [t for t, _ in runs]
        share = statistics.median(s / t for t, s in runs)
        lines.append(f"| {name} | {statistics.median(totals):.1f} | {min(totals):.1f}–{max(totals):.1f} | {share:.0%} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="time the full settings too")
    args = parser.parse_args()
    print(report(args.repeats, ("quick", "full") if args.full else ("quick",)))
