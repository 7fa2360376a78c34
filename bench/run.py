"""Benchmarks: `make bench`. Each reports medians over repeats and a ratio against the notebook-style
numpy loop (bench/notebook_baseline.py) measured in the same run. Never run as a test.

Usage: python bench/run.py [--repeats N] [--quick] [--only NAME ...]
Prints a markdown report (paste it into bench/README.md) and writes bench/scaling.png (with --quick,
a scaling.png in a temporary folder, so the committed figure stays the full run's).
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import notebook_baseline  # noqa: E402

from initlab.data import circles  # noqa: E402
from initlab.network import Network  # noqa: E402
from initlab.training import TrainOptions, train, train_many  # noqa: E402

DATA = circles()
NET = Network((2, 10, 5, 1))


def timed(fn, repeats, warmup=1):
    """Median, min and max wall-clock seconds of `repeats` calls after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def baseline_run(iterations=15000):
    return notebook_baseline.train(DATA.X_train, DATA.Y_train, notebook_baseline.he_init([2, 10, 5, 1]), 0.01, iterations)


def engine_run(engine, iterations=15000):
    return train(NET, NET.init("he", rng=3), DATA.X_train, DATA.Y_train, TrainOptions(0.01, iterations, 1000), engine=engine)


def table(rows, base):
    lines = ["| case | median (s) | min–max (s) | speed-up vs baseline |", "|---|---:|---:|---:|"]
    for name, (median, lo, hi) in rows.items():
        lines.append(f"| {name} | {median:.4f} | {lo:.4f}–{hi:.4f} | {base / median:.1f}× |")
    return "\n".join(lines)


def interleaved(cases, repeats):
    """Median, min and max seconds of each case in `cases` (name → function), the cases taking
    turns in every round (after one warm-up round), so that a slow spell of this shared machine
    falls on all of them alike rather than on one."""
    for fn in cases.values():
        fn()
    times = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(t), min(t), max(t)) for name, t in times.items()}


def bench_one_run(repeats):
    """1. One 15000-iteration run of the notebook's He network."""
    _, base_costs = baseline_run()
    for engine in ("numpy", "numba", "exact"):  # same numbers first: a benchmark of different computations means nothing
        np.testing.assert_allclose(engine_run(engine).costs, base_costs, rtol=1e-12)
    rows = interleaved({
        "notebook-style numpy loop (baseline)": baseline_run,
        "initlab, numpy engine": lambda: engine_run("numpy"),
        "initlab, numba engine (warm)": lambda: engine_run("numba"),
        "initlab, exact engine (warm; the notebook's digits on any CPU)": lambda: engine_run("exact"),
    }, repeats)
    base = rows["notebook-style numpy loop (baseline)"][0]
    return "### 1. One 15000-iteration run, He init, [2, 10, 5, 1] on circles\n\n" + table(rows, base), base


def stack(n, seed=0, network=NET):
    """n initial parameter vectors of the notebook's network (`network`: in its dtype, the float64
    draws rounded): He, Xavier and LeCun in turn, seeds seed … seed + n − 1."""
    inits = ["he_normal", "xavier_normal", "lecun_normal"]
    return np.stack([network.init(inits[k % 3], rng=np.random.default_rng(seed + k)) for k in range(n)])


def bench_thousand(repeats, base, n=1000):
    """2. A sweep of 1000 networks (different seeds and inits) with the compiled engine, all cores."""
    params = stack(n)
    opts = TrainOptions(0.01, 15000, 1000)
    median, lo, hi = timed(lambda: train_many(NET, params, DATA.X_train, DATA.Y_train, opts, engine="numba"), repeats, warmup=0)
    per_model = median / n
    return (f"### 2. {n} networks × 15000 iterations, compiled engine, {os.cpu_count()} cores\n\n"
            f"| case | total median (s) | min–max (s) | per model (ms) | per-model throughput vs baseline |\n|---|---:|---:|---:|---:|\n"
            f"| baseline, one model at a time (measured once per model above, extrapolated ×{n}) | {base * n:.1f} | | {base * 1000:.1f} | 1.0× |\n"
            f"| initlab train_many, numba, one thread per core over models | {median:.2f} | {lo:.2f}–{hi:.2f} | {per_model * 1000:.2f} | {base / per_model:.1f}× |")


PHASES = """
import sys, time
t = [time.perf_counter()]
import initlab.cli
t.append(time.perf_counter())
from initlab import engines
engines.ready("exact")
t.append(time.perf_counter())
from initlab import compare
c = compare.compare_initializers()
t.append(time.perf_counter())
from initlab import plots
t.append(time.perf_counter())
compare.save(c, sys.argv[1])
t.append(time.perf_counter())
print(*(b - a for a, b in zip(t, t[1:])))
"""
PHASE_NAMES = ("import initlab and its command line (numpy, argparse)", "import numba, load the exact engine's cached kernels",
               "train the 3 networks (exact engine, one batch, 2 threads)", "import matplotlib", "write results.json and the two figures")


def bench_compare_process(repeats, base=None):
    """3. The whole `initlab compare` process with defaults (output captured), warm compile cache;
    then where its time goes, stage by stage in one process."""
    folder = tempfile.mkdtemp()
    command = [sys.executable, "-m", "initlab", "compare", "--out", folder]
    subprocess.run(command, check=True, capture_output=True)  # warms the cache
    median, lo, hi = timed(lambda: subprocess.run(command, check=True, capture_output=True), repeats, warmup=0)
    stages = [[float(x) for x in subprocess.run([sys.executable, "-c", PHASES, folder], check=True, capture_output=True,
                                                text=True).stdout.split()] for _ in range(repeats)]
    lines = ["### 3. `initlab compare` (defaults: 3 inits × 15000 iterations, figures and JSON), whole process\n",
             "| case | median (s) | min–max (s) |", "|---|---:|---:|",
             f"| python -m initlab compare | {median:.2f} | {lo:.2f}–{hi:.2f} |"]
    if base is not None:
        lines.append(f"| baseline: the notebook-style loop's 3 trainings alone (3 × benchmark 1) | {3 * base:.2f} | |")
    lines += ["", "Where the time goes (the stages one after the other in one process, medians; interpreter start and "
              "exit not included; the command itself imports matplotlib while the networks train):", "",
              "| stage | median (s) |", "|---|---:|"]
    lines += [f"| {name} | {statistics.median(s[k] for s in stages):.3f} |" for k, name in enumerate(PHASE_NAMES)]
    return "\n".join(lines)


def bench_scaling(repeats, iterations, folder=HERE):
    """4. How cost grows with the number of models, depth and width (compiled engine)."""
    rows, series = [], {}
    opts = TrainOptions(0.01, iterations, iterations)
    for n in (1, 10, 100, 1000):
        params = stack(n)
        t = timed(lambda: train_many(NET, params, DATA.X_train, DATA.Y_train, opts, engine="numba"), repeats)[0]
        rows.append(("models", n, "[2, 10, 5, 1]", t, t / n))
        series.setdefault("models", []).append((n, t / n))
    for depth in (3, 5, 10, 20, 50):
        net = Network((2,) + (10,) * (depth - 1) + (1,))
        params = np.stack([net.init("he_normal", rng=s) for s in range(8)])
        t = timed(lambda: train_many(net, params, DATA.X_train, DATA.Y_train, opts, engine="numba"), repeats)[0]
        rows.append(("depth", depth, f"{depth} layers of 10", t, t / 8))
        series.setdefault("depth", []).append((depth, t / 8))
    for width in (10, 32, 64, 128, 256):
        net = Network((2, width, width, 1))
        params = np.stack([net.init("he_normal", rng=s) for s in range(8)])
        t = timed(lambda: train_many(net, params, DATA.X_train, DATA.Y_train, opts, engine="numba"), repeats)[0]
        rows.append(("width", width, f"[2, {width}, {width}, 1]", t, t / 8))
        series.setdefault("width", []).append((width, t / 8))
    figure = _scaling_figure(series, iterations, folder)
    lines = [f"### 4. Scaling ({iterations} iterations per model, compiled engine; depth and width: batches of 8 models)\n",
             "| axis | value | network | batch time (s) | per model (ms) |", "|---|---:|---|---:|---:|"]
    lines += [f"| {axis} | {value} | {arch} | {t:.3f} | {per * 1000:.2f} |" for axis, value, arch, t, per in rows]
    return "\n".join(lines) + ("\n\n![Scaling](scaling.png)" if os.path.dirname(figure) == HERE else f"\n\nFigure: {figure}")


def _scaling_figure(series, iterations, folder):
    """Time per model against each axis (log–log), each with the growth the flop count predicts
    (per model: constant in the number of models, ∝ layers, ∝ width²) drawn through the last point."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    labels = {"models": "models trained together", "depth": "layers (10 units each)", "width": "hidden width (2 layers)"}
    power = {"models": 0, "depth": 1, "width": 2}
    fig = Figure(figsize=(12, 3.8), layout="constrained")
    for ax, (axis, points) in zip(fig.subplots(1, 3), series.items()):
        x, y = (np.array(v, dtype=float) for v in zip(*points))
        ax.loglog(x, y * 1000, "o-", label="measured")
        ax.loglog(x, y[-1] * 1000 * (x / x[-1]) ** power[axis], "--", color="gray",
                  label="flop count" + ("" if power[axis] == 0 else f" (∝ {axis}{'²' if power[axis] == 2 else ''})"))
        if power[axis] == 0:  # within one decade: a linear scale from 0 reads better
            ax.set_yscale("linear")
            ax.set_ylim(0, 1.1 * y.max() * 1000)
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(labels[axis])
        ax.set_ylabel(f"ms per model ({iterations} iterations)")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle("Compiled engine: time per model (circles data, 300 examples, 2 cores)")
    path = os.path.join(folder, "scaling.png")
    fig.savefig(path, dpi=100)
    return path


def compile_times():
    """Cold compile vs warm cache load of each compiled engine, each in a fresh process: wall-clock
    seconds, and the process's CPU seconds (on a shared machine the wall clock also counts the
    other processes' turns; the compile runs on one thread)."""
    lines = []
    for name in ("numba", "exact"):
        code = (f"import time; t=time.perf_counter(); c=time.process_time(); from initlab.engines import {name}_engine as e; "
                "e.warm_up(); print(time.perf_counter()-t, time.process_time()-c)")
        env = {**os.environ, "NUMBA_CACHE_DIR": tempfile.mkdtemp()}
        cold, cold_cpu = (float(x) for x in subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                                           check=True).stdout.split())
        warm, _ = (float(x) for x in subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                                    check=True).stdout.split())
        lines.append(f"Compile time of the {name} engine, paid once: {cold:.1f} s cold (empty cache; {cold_cpu:.1f} s of CPU); "
                     f"{warm:.2f} s to load the cached kernels in a fresh process.")
    return "\n\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and a 100-model sweep")
    parser.add_argument("--only", nargs="*", default=["one", "thousand", "compare", "scaling", "course", "sweep", "blas", "coordcheck", "transfer", "compile", "grid", "wide", "float32", "residual", "explore"])
    args = parser.parse_args(argv)
    repeats = 2 if args.quick else args.repeats
    print(f"{datetime.date.today()} · {platform.machine()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
          f"numpy {np.__version__} · `python bench/run.py{' --quick' if args.quick else ''}`\n")
    base = None
    if "one" in args.only or "thousand" in args.only:
        text, base = bench_one_run(repeats)
        print(text + "\n")
    if "thousand" in args.only:
        print(bench_thousand(min(repeats, 3), base, 100 if args.quick else 1000) + "\n")
    if "compare" in args.only:
        print(bench_compare_process(repeats, base) + "\n")
    if "scaling" in args.only:
        folder = tempfile.mkdtemp() if args.quick else HERE  # a quick run leaves bench/scaling.png alone
        print(bench_scaling(min(repeats, 3), 300 if args.quick else 1000, folder) + "\n")
    if "course" in args.only:  # the notebook's loop on initlab.course vs on the course's helper (course_loop.py)
        import course_loop

        print(course_loop.report(max(repeats, 3), 500 if args.quick else 2000) + "\n")
    if "sweep" in args.only:  # where a 10,000-run sweep's time goes (sweep_overhead.py)
        import sweep_overhead

        print(sweep_overhead.report(1000 if args.quick else 10000) + "\n")
    if "blas" in args.only:  # small matrices on one BLAS thread, before and after (blas_threads.py)
        import blas_threads

        print(blas_threads.report(3, args.quick) + "\n")
    if "coordcheck" in args.only:  # the coord check's defaults and the share spent training (coord_check.py)
        import coord_check

        print(coord_check.report(2 if args.quick else 3) + "\n")
    if "transfer" in args.only:  # the quick muTransfer reproduction and the share spent training (mutransfer.py)
        import mutransfer

        print(mutransfer.report(2 if args.quick else 3) + "\n")
    if "compile" in args.only:
        print(compile_times())
    if "grid" in args.only:  # width × depth × models, each engine and auto (engine_grid.py)
        import engine_grid

        folder = tempfile.mkdtemp() if args.quick else HERE  # a quick run leaves bench/engine_grid.png alone
        print(engine_grid.report(min(repeats, 3), args.quick, figure_path=os.path.join(folder, "engine_grid.png")) + "\n")
    if "wide" in args.only:  # one wide model: numpy, the compiled engine on its kernels and on BLAS (wide_model.py)
        import wide_model

        wide_model.main(["--repeats", str(3 if args.quick else 7)])
    if "float32" in args.only:  # the 1000-network sweep in float32 against float64 (float32.py)
        import float32

        float32.main(["--repeats", str(2 if args.quick else 3)] + (["--models", "100"] if args.quick else []))
    if "residual" in args.only:  # 64 residual blocks of width 64 against plain MLPs of that width (residual.py)
        import residual

        residual.main(["--repeats", str(2 if args.quick else 5)] + (["--blocks", "16"] if args.quick else []))
    if "explore" in args.only:  # initlab explore: the signal view's latency, the train view's frame rate (explore.py)
        try:
            import explore
        except ImportError as exc:  # Panel is the explore extra, not make bench's
            print(f"### initlab explore\n\nSkipped: {exc} (pip install -e '.[explore]').\n")
        else:
            explore.main(["--repeats", str(5 if args.quick else 15)])


if __name__ == "__main__":
    main()
