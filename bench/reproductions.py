"""The full-settings paper reproductions (`initlab reproduce NAME`), timed before and after a change.

Usage: python bench/reproductions.py BEFORE_SRC [--names NAME ...] [--repeats N]
BEFORE_SRC is the src/ folder of another checkout (e.g. `git worktree add /tmp/before <commit>`);
each reproduction runs in a fresh process on each side, the two sides taking turns, after one
warm-up process per side (the compiled engines' disk caches). Prints a markdown table of wall
seconds (median over repeats) and each side's verdicts, which must agree.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
AFTER_SRC = os.path.join(HERE, "..", "src")
SCRIPT = ("import json, sys; from initlab import papers; r = papers.reproduce(sys.argv[1]); "
          "print(json.dumps([[c.statement, c.holds] for c in r.claims]))")


def run(src, name):
    env = dict(os.environ, PYTHONPATH=os.path.abspath(src))
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", SCRIPT, name], env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("--names", nargs="*")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    sys.path.insert(0, AFTER_SRC)
    from initlab import papers

    names = args.names or list(papers.EXPERIMENTS)
    for src in (args.before, AFTER_SRC):  # warm-up: load (or compile) each side's engines once
        subprocess.run([sys.executable, "-c", "from initlab.engines import ready; ready('numba'); ready('exact')"],
                       env=dict(os.environ, PYTHONPATH=os.path.abspath(src)), check=True, capture_output=True)
    print("| reproduction (full settings) | before (s) | after (s) | after / before | verdicts agree |")
    print("|---|---:|---:|---:|---|")
    for name in names:
        times = {"before": [], "after": []}
        verdicts = {}
        for _ in range(args.repeats):
            for side, src in (("before", args.before), ("after", AFTER_SRC)):
                seconds, verdicts[side] = run(src, name)
                times[side].append(seconds)
        b, a = statistics.median(times["before"]), statistics.median(times["after"])
        print(f"| {name} | {b:.1f} | {a:.1f} | {a / b:.2f} | {'yes' if verdicts['before'] == verdicts['after'] else 'NO'} |", flush=True)


if __name__ == "__main__":
    main()
