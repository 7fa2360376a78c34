"""The engine grid: width × depth × models, initlab's engines (auto, numpy, numba) against the
notebook-style loop and a plain numpy-BLAS loop, as flop rates against this machine's matmul peak.

Usage: python bench/engine_grid.py [--quick] [--repeats N] [--json FILE] [--figure FILE]
Prints a markdown report (bench/README.md, "The engine grid") and, with --json, every measurement
(what engines/cost.py's constants were fitted to).

Each cell trains `models` networks of `depth` hidden layers of `width` units (ReLU; the circles'
2 inputs and 1 output) on 300 examples by full-batch gradient descent, for as many iterations as
make about WORK flops (at least MIN_ITERATIONS), and reports the median over `repeats` of the time per
model-iteration. The two loops train one model at a time whatever the count, so they are timed on
one model and their per-model time stands for every count. Cells over MAX_WORK flops per
iteration (6 · weights · m · models) are left out: at 2 cores they would take minutes each.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

from initlab.engines import calibrate, cost, numba_engine, ready  # noqa: E402
from initlab.network import Network  # noqa: E402
from initlab.training import TrainOptions, train_many  # noqa: E402

M = 300
WORK = 6e8  # flops timed per measurement
MAX_WORK = 2e9  # flops per iteration (all models) beyond which a cell is left out
MIN_ITERATIONS = 20  # so that per-model costs outside the loop (a Run, its final point) do not dominate
WIDTHS, DEPTHS, MODELS = (8, 32, 128, 512, 1024), (2, 8, 32, 64), (1, 10, 100, 1000)
QUICK = dict(widths=(8, 64, 512), depths=(2, 16), models=(1, 16))
NAMED = [("64 wide, 50 layers, tanh", 64, 50, "tanh"), ("64 wide, 30 layers, relu", 64, 30, "relu"),
         ("256 wide, 4 layers, sigmoid", 256, 4, "sigmoid")]  # the sizes the issue measured


def data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2, M))
    return X, (X[:1] * X[1:] > 0).astype(float)


def matmul_peak(n=1024, repeats=5):
    """flop/s of one (n, n) @ (n, n) product on all of numpy's BLAS threads, and on one."""
    from threadpoolctl import threadpool_limits

    a = np.random.default_rng(0).standard_normal((n, n))
    rates = []
    for limit in (None, 1):
        with threadpool_limits(limits=limit, user_api="blas"):
            a @ a
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                a @ a
                times.append(time.perf_counter() - start)
        rates.append(2 * n**3 / min(times))
    return rates[0], rates[1]


# --- the two loops initlab is measured against --------------------------------------------------
def notebook_loop(X, Y, params, lr, iterations):
    """The course's L-layer loop as written there: a dict of parameters, np.dot, a fresh dict of
    gradients every step, the cost every iteration."""
    L = len(params) // 2
    m = X.shape[1]
    for _ in range(iterations):
        caches, A = [], X
        for l in range(1, L + 1):
            Z = np.dot(params[f"W{l}"], A) + params[f"b{l}"]
            caches.append((A, Z))
            A = np.maximum(0, Z) if l < L else 1 / (1 + np.exp(-Z))
        with np.errstate(divide="ignore", invalid="ignore"):
            _ = 1.0 / m * np.nansum(-np.log(A) * Y - np.log(1 - A) * (1 - Y))
        grads, dZ = {}, 1.0 / m * (A - Y)
        for l in range(L, 0, -1):
            A_prev, Z = caches[l - 1]
            grads[f"dW{l}"], grads[f"db{l}"] = np.dot(dZ, A_prev.T), np.sum(dZ, axis=1, keepdims=True)
            if l > 1:
                dZ = np.multiply(np.dot(params[f"W{l}"].T, dZ), np.int64(caches[l - 2][1] > 0))
        for l in range(1, L + 1):
            params[f"W{l}"] = params[f"W{l}"] - lr * grads[f"dW{l}"]
            params[f"b{l}"] = params[f"b{l}"] - lr * grads[f"db{l}"]
    return params


def blas_loop(X, Y, Ws, bs, lr, iterations):
    """A plain numpy loop as a careful programmer writes it: buffers allocated once, products into
    them (np.dot(out=)), updates in place, BLAS on all its threads."""
    m, L = X.shape[1], len(Ws)
    A = [X] + [np.empty((W.shape[0], m)) for W in Ws]
    G = [np.empty_like(W) for W in Ws]
    D = [np.empty((W.shape[0], m)) for W in Ws]
    for _ in range(iterations):
        for l, (W, b) in enumerate(zip(Ws, bs)):
            np.dot(W, A[l], out=A[l + 1])
            A[l + 1] += b
            if l < L - 1:
                np.maximum(A[l + 1], 0, out=A[l + 1])
        np.negative(A[L], out=D[L - 1])
        np.exp(D[L - 1], out=D[L - 1])
        D[L - 1] += 1
        np.reciprocal(D[L - 1], out=D[L - 1])
        D[L - 1] -= Y
        D[L - 1] *= 1.0 / m
        for l in range(L - 1, -1, -1):
            np.dot(D[l], A[l].T, out=G[l])
            if l > 0:
                np.dot(Ws[l].T, D[l], out=D[l - 1])
                D[l - 1] *= A[l] > 0
            bs[l] -= lr * D[l].sum(axis=1, keepdims=True)
            Ws[l] -= lr * G[l]


# --- measuring --------------------------------------------------------------------------------
def flops_per_iteration(net):
    """6 flops per weight and example: the forward product (2), dZ and dW in the backward pass (4)."""
    return 6 * sum(a * b for a, b in zip(net.sizes[:-1], net.sizes[1:])) * M


PAUSE = 0.25  # seconds before each timed call: the BLAS threads of the call before fall asleep


def median_seconds(fns, repeats):
    """{name: median seconds of fns[name]()}, the functions taking turns in each repeat (a machine
    whose load drifts slows all of them alike), each called once untimed first (the compiled
    engine's first call). Each timed call starts after PAUSE: OpenBLAS's threads spin ~0.1 s after
    a product before they sleep, and numpy's BLAS and scipy's (the compiled engine's, on wide
    layers) are two libraries with two pools: a run of one right after the other shares the cores
    with the other's spinning threads (a 384 × 3 network measured 1.46× slower that way, bench/README.md)."""
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            time.sleep(PAUSE)
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def cpu():
    """The CPU's model name and LLVM's name for it (what the compiled engine's code is built for)."""
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            fields = {key.strip(): value for key, value in (line.split(":", 1) for line in f if ":" in line)}
        name = f"{fields['model name'].strip()} (family {fields['cpu family'].strip()}, model {fields['model'].strip()})"
    except (OSError, KeyError):
        pass
    import llvmlite.binding as llvm

    return f"{name}, LLVM {llvm.get_host_cpu_name()}"


def cell(width, depth, models, repeats, activation="relu", loops=True):
    """Seconds per model-iteration of each way of training this cell, and the flops of one."""
    X, Y = data()
    net = Network((2,) + (width,) * depth + (1,), activation=activation)
    flops = flops_per_iteration(net)
    iterations = max(MIN_ITERATIONS, int(WORK / (flops * models)))
    params = np.stack([net.init("he_normal", rng=np.random.default_rng(b)) for b in range(models)])
    options = TrainOptions(1e-4, iterations, iterations)
    out = {"width": width, "depth": depth, "models": models, "activation": activation, "iterations": iterations,
           "flops": flops, "auto": cost.choose(net, options, M, models, numba_engine.threads())[0]}
    engines = {engine: (lambda engine=engine: train_many(net, params, X, Y, options, engine=engine)) for engine in ("numpy", "numba")}
    for engine, seconds in median_seconds(engines, repeats).items():
        out[engine] = seconds / (iterations * models)
    out["auto_seconds"] = out[out["auto"]]  # auto runs what it chose: that engine's time
    if loops and activation == "relu":
        one = max(2, int(WORK / flops))
        Ws = [W.copy() for W, _ in net.unpack(params[0])]
        bs = [b.copy() for _, b in net.unpack(params[0])]
        nb = {f"{k}{l + 1}": v.copy() for l, (W, b) in enumerate(zip(Ws, bs)) for k, v in (("W", W), ("b", b))}
        baselines = {"notebook": lambda: notebook_loop(X, Y, dict(nb), 1e-4, one),
                     "blas": lambda: blas_loop(X, Y, [W.copy() for W in Ws], [b.copy() for b in bs], 1e-4, one)}
        out.update({name: seconds / one for name, seconds in median_seconds(baselines, repeats).items()})
    return out


def grid(widths, depths, models, repeats, progress=print):
    rows = []
    for w in widths:
        for d in depths:
            for b in models:
                net = Network((2,) + (w,) * d + (1,))
                if flops_per_iteration(net) * b > MAX_WORK:
                    continue
                rows.append(cell(w, d, b, repeats, loops=(b == models[0])))
                progress(rows[-1])
    return rows


# --- the report -----------------------------------------------------------------------------------
def _rate(row, key):
    return row["flops"] / row[key] / 1e9


def table(rows, peak):
    lines = ["| width | depth | models | auto picks | auto GF/s | numpy GF/s | numba GF/s | numba / numpy time | auto / best | notebook GF/s | BLAS loop GF/s |",
             "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    loops = {(r["width"], r["depth"]): r for r in rows if "notebook" in r}
    for r in rows:
        base = loops.get((r["width"], r["depth"]), {})
        best = min(r["numpy"], r["numba"])
        nb = f"{_rate(base, 'notebook'):.2f}" if base else "–"
        bl = f"{_rate(base, 'blas'):.2f}" if base else "–"
        lines.append(f"| {r['width']} | {r['depth']} | {r['models']} | {r['auto']} | {_rate(r, 'auto_seconds'):.2f} | "
                     f"{_rate(r, 'numpy'):.2f} | {_rate(r, 'numba'):.2f} | {r['numba'] / r['numpy']:.2f} | "
                     f"{r['auto_seconds'] / best:.2f} | {nb} | {bl} |")
    worst = max(rows, key=lambda r: r["auto_seconds"] / min(r["numpy"], r["numba"]))
    summary = (f"matmul peak (1024², numpy's BLAS): {peak[0] / 1e9:.1f} GF/s on all cores, {peak[1] / 1e9:.1f} on one. "
               f"auto's worst cell: {worst['auto_seconds'] / min(worst['numpy'], worst['numba']):.2f}× the faster engine "
               f"(width {worst['width']}, depth {worst['depth']}, {worst['models']} models).")
    return "\n".join(lines) + "\n\n" + summary


def figure(rows, peak, path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 3.6))
    counts = sorted({r["models"] for r in rows})
    axes = fig.subplots(1, len(counts), sharey=True, squeeze=False)[0]
    for ax, b in zip(axes, counts):
        for depth, marker in zip(sorted({r["depth"] for r in rows}), "osd^v"):
            cells = sorted((r for r in rows if r["models"] == b and r["depth"] == depth), key=lambda r: r["width"])
            if not cells:
                continue
            w = [r["width"] for r in cells]
            ax.plot(w, [_rate(r, "numpy") for r in cells], marker=marker, color="tab:blue", alpha=0.8, label=f"numpy, depth {depth}")
            ax.plot(w, [_rate(r, "numba") for r in cells], marker=marker, color="tab:orange", alpha=0.8, label=f"numba, depth {depth}")
        ax.axhline(peak[0] / 1e9, color="grey", ls="--", lw=1)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(f"{b} model{'s' if b > 1 else ''}")
        ax.set_xlabel("width")
    axes[0].set_ylabel("GF/s (all models together)")
    axes[0].legend(fontsize=6, loc="lower right")  # the first panel has every depth
    fig.suptitle("Training flop rate by engine (dashed: the machine's matmul peak)")
    fig.savefig(path, dpi=110, bbox_inches="tight")


def report(repeats=3, quick=False, json_path=None, figure_path=None):
    ready("numba")
    peak = matmul_peak()
    machine, processor = calibrate.measured(), cpu()
    sizes = QUICK if quick else dict(widths=WIDTHS, depths=DEPTHS, models=MODELS)
    rows = grid(sizes["widths"], sizes["depths"], sizes["models"], repeats, progress=lambda r: None)
    named = [dict(cell(w, d, 1, repeats, activation, loops=False), name=name) for name, w, d, activation in NAMED]
    if json_path:
        with open(json_path, "w") as f:
            json.dump({"peak": peak, "cpu": processor, "machine": machine._asdict(), "rows": rows, "named": named}, f, indent=1)
    if figure_path:
        figure(rows, peak, figure_path)
    head = (f"{datetime.date.today()} · {processor} · {os.cpu_count()} cores · numpy {np.__version__} · "
            f"`python bench/engine_grid.py{' --quick' if quick else ''}` (median of {repeats}, the engines taking turns; "
            f"time per model-iteration) · {machine.describe()} (engines.calibrate)")
    named_lines = ["| network (1 model) | auto picks | numba / numpy time | auto / best |", "|---|---|---:|---:|"]
    for r in named:
        named_lines.append(f"| {r['name']} | {r['auto']} | {r['numba'] / r['numpy']:.2f} | "
                           f"{r['auto_seconds'] / min(r['numpy'], r['numba']):.2f} |")
    return "\n\n".join([head, table(rows, peak), "\n".join(named_lines)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json")
    parser.add_argument("--figure", default=None)
    args = parser.parse_args(argv)
    print(report(args.repeats, args.quick, args.json, args.figure))


if __name__ == "__main__":
    main()
