"""The ``initlab`` command: argument parsing only; every command is one library call.

Every default and every list of known names comes from the library (the signature of the call a
command makes, a registry); start-up tuning is in ``initlab._startup``, text output in
``initlab.text``.

Exit codes (README "The command line"): 0 done; 2 bad input (one line, no traceback); 3 a bad
environment (a full disk, an unwritable path, a corrupt database, a lost Dask cluster: one line,
no traceback); 130 interrupted (Ctrl-C: one line saying what was kept); 141 stdout closed early
(``initlab compare | head -1``: quietly, as a process killed by SIGPIPE). Any other exception is
a bug in initlab: Python prints its traceback and exits with code 1.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import inspect
import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from . import _startup
from . import blocks, compare, coordcheck, diagnostics, engines, executors, explore, jacobian, papers, report, sweep
from .activations import ACTIVATIONS, get_activation
from .branches import BRANCHES
from .data import DATASETS, read
from ._validation import InitlabError, check_int, check_writable_dir, parse_ints, parse_literal
from .initializers import (INITIALIZERS, layout_fans, layout_notes, mean_field_specs, scheme_variances, split_specs,
                           undefined_schemes)
from .network import NETWORK_DTYPES, residual_network
from .parametrizations import PARAMETRIZATIONS
from .text import CostPrinter, cost_lines, format_table, text_table  # noqa: F401 (cost_lines: initlab.cli's before initlab.text)

if TYPE_CHECKING:
    from tqdm import tqdm


WHOLE = "each file is written whole or not at all"  # initlab._atomic: what an interrupted write leaves


def _defaults(function: Callable[..., Any]) -> dict[str, Any]:
    """`function`'s parameters that have a default, with it: a command's defaults are those of the
    library call it makes, read from its signature, never repeated here."""
    return {name: p.default for name, p in inspect.signature(function).parameters.items()
            if p.default is not inspect.Parameter.empty}


# Read once, at import (a test may replace a library function; the options stay the library's).
COMPARE = _defaults(compare.compare_initializers)  # --init, --iterations, --learning-rate, --seed, --dataset, --activation, --engine
PROBE_NETWORK = _defaults(diagnostics.deep_network)  # probe's --activation
PROBE = _defaults(diagnostics.signal_propagation)  # --seeds, --batch
BLOCKS = _defaults(blocks.study_blocks)  # probe --blocks: --branch, the initializer
RESIDUAL_WIDTH = 16  # compare --blocks's default --width
SWEEP = _defaults(sweep.run_sweep)  # --engine, --max-runs
DASK = _defaults(executors.Dask)  # --workers
REPORT = _defaults(report.write_report)  # report's --out (path) and --title
REPRODUCE = _defaults(papers.reproduce)  # --seeds
COORD = _defaults(coordcheck.coord_check)  # coordcheck's options
EXPLORE = _defaults(explore.serve)  # --address, --port (initlab.explore imports Panel only when it serves)
OUT = _defaults(compare.save)["out"]  # every command's output folder (also SignalStudy.save's)

PROBE_DEPTH, PROBE_WIDTH = PROBE_NETWORK["depth"], PROBE_NETWORK["width"]  # probe's --depth, --width
PROBE_INITS = PROBE["inits"]  # probe's default --init


def _known(names: Iterable[str]) -> str:
    """The end of an option's help: the names a library registry knows (the library checks the
    value: one line naming them and the closest, so argparse's own choices= check is not used)."""
    return "Known: " + ", ".join(names)


def _int_list(text: str) -> list[int]:
    try:
        return parse_ints("sizes", text)
    except InitlabError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 2,10,5,1, got {text!r}") from None


def _value_list(text: str) -> list[int | float | bool | str | None]:
    """--sigma-w2 1.5,2,2.5: values as parse_literal reads them (checked by the library: one line)."""
    return [parse_literal(part) for part in text.split(",") if part.strip()]


def _name_list(text: str) -> list[str]:
    """--init zeros,random(scale=0.01),he: names or configured entries, commas inside parentheses kept."""
    return split_specs(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="initlab", description="Study how weight initialization shapes training.")
    sub = parser.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser(
        "compare",
        help="train the course notebook's network from several initializations and compare them",
        description="Train one network per initializer on the same data (the course notebook's "
        "experiment), print costs and the conclusions table, write figures and JSON.",
    )
    cmp.add_argument(
        "--init", type=_name_list, action="extend", default=None, metavar="NAMES",
        help="initializers, comma-separated or repeated, each a name or name(key=value, …) such as "
        f"random(scale=0.01) (default: {','.join(COMPARE['inits'])}). " + _known(INITIALIZERS),
    )
    cmp.add_argument("--iterations", type=int, default=COMPARE["iterations"],
                     help=f"gradient-descent steps (default {COMPARE['iterations']})")
    cmp.add_argument("--learning-rate", type=float, default=COMPARE["learning_rate"],
                     help=f"step size (default {COMPARE['learning_rate']})")
    hidden = ",".join(map(str, compare.NOTEBOOK_HIDDEN))
    cmp.add_argument(
        "--layers", type=_int_list, default=COMPARE["layers"], metavar="SIZES",
        help=f"all layer sizes, input and output included (default: the data's features,{hidden},1; "
             f"2,{hidden},1 on circles)",
    )
    cmp.add_argument("--seed", type=int, default=COMPARE["seed"],
                     help=f"seed of every initializer's draws (default {COMPARE['seed']}, the notebook's)")
    cmp.add_argument("--dataset", default=None, metavar="NAME",  # None: the notebook's run, which prints its table alone
                     help=f"a registered two-class dataset (default {COMPARE['dataset']}, the notebook's). " + _known(DATASETS))
    cmp.add_argument("--data", default=None, metavar="FILE",
                     help="train on your own .csv (a header row, numeric features, a two-valued label column) or .npz "
                          "(arrays X and y) instead of --dataset")
    cmp.add_argument("--target", default=None, metavar="COLUMN",
                     help=f"the label column of the --data CSV (default {_defaults(read)['target']!r})")
    cmp.add_argument("--activation", default=None, metavar="NAME",  # None: as --dataset
                     help=f"hidden activation (default {COMPARE['activation']}, the notebook's). " + _known(ACTIVATIONS))
    cmp.add_argument("--blocks", type=int, default=None, metavar="K",
                     help="train residual networks instead: a stem, K blocks of two --width layers and a head "
                          "(--layers is then left out)")
    cmp.add_argument("--width", type=int, default=None, metavar="N",
                     help=f"the residual networks' width (with --blocks; default {RESIDUAL_WIDTH})")
    cmp.add_argument("--branch", default=None, metavar="SCHEME",
                     help="the residual blocks' branch scheme, a name or name(key=value, …) such as fixup or "
                          "standard(alpha=0.5, order=post) (with --blocks; default standard). " + _known(BRANCHES))
    _dtype_option(cmp, COMPARE["dtype"], "the networks' float type")
    _out_option(cmp)
    cmp.add_argument("--quiet", action="store_true", help="no progress bars and no cost lines")
    _engine_option(cmp, COMPARE["engine"])
    cmp.add_argument("--animate", action="store_true",
                     help="also write training.gif: the decision boundaries over training (about 30 frames)")
    _report_option(cmp)
    cmp.set_defaults(handler=_compare)

    prb = sub.add_parser(
        "probe",
        help="measure signal propagation through a deep network against the mean-field theory",
        description="Probe a deep random network from several initializers: per-layer activation and "
        "gradient scale, measured over seeds against the theory's prediction; print verdicts.",
    )
    prb.add_argument("--depth", type=int, default=PROBE_DEPTH, help=f"hidden layers (default {PROBE_DEPTH})")
    prb.add_argument("--width", type=int, default=PROBE_WIDTH,
                     help=f"units per hidden layer and input width (default {PROBE_WIDTH})")
    prb.add_argument("--activation", default=PROBE_NETWORK["activation"],
                     help=f"hidden activation (default {PROBE_NETWORK['activation']}). " + _known(ACTIVATIONS))
    prb.add_argument("--init", type=_name_list, action="extend", default=None, metavar="NAMES",
                     help="initializers, comma-separated or repeated, each a name or name(key=value, …) "
                          f"such as normal(std=0.01) (default: {','.join(PROBE_INITS)})")
    prb.add_argument("--sigma-w2", type=_value_list, action="extend", default=None, metavar="V[,V…]",
                     help="also probe mean_field(sigma_w2=V): W ~ N(0, V/fan_in), the theory's σ_w², one entry per "
                          "value (comma-separated or repeated); without --init, only these are probed")
    prb.add_argument("--sigma-b2", type=parse_literal, default=_defaults(mean_field_specs)["sigma_b2"], metavar="B",
                     help="the bias variance σ_b² of the --sigma-w2 entries: b ~ N(0, B) "
                          f"(default {_defaults(INITIALIZERS['mean_field'])['sigma_b2']:g}, zero biases)")
    prb.add_argument("--seeds", type=int, default=PROBE["seeds"], help=f"seeds per initializer (default {PROBE['seeds']})")
    prb.add_argument("--batch", type=int, default=PROBE["batch"],
                     help=f"examples in the Gaussian input batch (default {PROBE['batch']})")
    prb.add_argument("--blocks", type=int, default=None, metavar="K",
                     help="probe residual networks instead: a stem, K blocks of two --width layers and a head, one per "
                          "--branch scheme; per block, the stream's mean square, channel mean and variance and the branch's "
                          "variance against the wide-network prediction (writes blocks.csv and blocks.png)")
    prb.add_argument("--branch", type=_name_list, action="extend", default=None, metavar="SCHEMES",
                     help=f"the branch schemes of --blocks, comma-separated or repeated (default: {','.join(BLOCKS['schemes'])}), "
                          "each a name or name(key=value, …) such as standard(alpha=0.5, order=post). " + _known(BRANCHES))
    _out_option(prb)
    _report_option(prb)
    prb.set_defaults(handler=_probe)

    crd = sub.add_parser(
        "coordcheck",
        help="the coord check: does each layer's change during training grow with width? (SP vs muP)",
        description="Train networks of several widths for a few steps, several seeds; record each layer's mean "
        "absolute activation and its change since step 0; fit the log-log slope over width and say, per "
        "parametrization, whether a layer grows with width. Writes coord_check.csv and coord_check.png.",
    )
    crd.add_argument("--parametrization", default=COORD["parametrization"], metavar="SPECS",
                     help=f"parametrizations, comma-separated, each a name or name(key=value, …) such as "
                          f"mup(base_width=64, optimizer=adam) (default {COORD['parametrization']!r}). " + _known(PARAMETRIZATIONS))
    crd.add_argument("--optimizer", default=COORD["optimizer"], help=f"gd, sgd, momentum or adam (default {COORD['optimizer']})")
    crd.add_argument("--widths", type=_int_list, default=list(COORD["widths"]), metavar="N,N,…",
                     help=f"hidden widths (default {','.join(map(str, COORD['widths']))})")
    crd.add_argument("--steps", type=int, default=COORD["steps"], help=f"training steps (default {COORD['steps']})")
    crd.add_argument("--seeds", type=int, default=len(COORD["seeds"]), help=f"seeds 0 … N−1 (default {len(COORD['seeds'])})")
    crd.add_argument("--learning-rate", type=float, default=COORD["learning_rate"],
                     help="step size (default 0.1 for gd, sgd and momentum, 0.01 for adam)")
    crd.add_argument("--depth", type=int, default=COORD["depth"], help=f"hidden layers (default {COORD['depth']})")
    crd.add_argument("--dataset", default=COORD["dataset"], help=f"the data (default {COORD['dataset']}). " + _known(DATASETS))
    crd.add_argument("--examples", type=int, default=COORD["examples"],
                     help=f"training examples used, full batch (default {COORD['examples']})")
    _engine_option(crd, COORD["engine"])
    _out_option(crd)
    _report_option(crd)
    crd.set_defaults(handler=_coordcheck)

    swp = sub.add_parser(
        "sweep",
        help="train a grid of configurations (TOML spec and/or --set), resumable, into SQLite",
        description="Train every run of a grid, store each finished chunk in SQLite, skip stored runs on "
        "rerun. Axes: " + ", ".join(sweep.AXES) + ".",
    )
    swp.add_argument("spec", nargs="?", help="TOML spec file (optional when --set gives the axes)")
    swp.add_argument("--set", action="append", metavar="AXIS=V1,V2", help="an axis on the command line (repeatable; replaces the file's)")
    swp.add_argument("--db", help="SQLite database (default OUT/NAME.db)")
    _out_option(swp, "output folder for the database and figures")
    _engine_option(swp, SWEEP["engine"])
    _dtype_option(swp, None, "every run's float type (the dtype axis: --set dtype=float32,float64 sweeps both)")
    swp.add_argument("--max-runs", type=int, default=SWEEP["max_runs"], help="refuse a grid larger than this")
    swp.add_argument("--dask", metavar="ADDRESS", help="run on Dask: tcp://host:8786, or 'local' for a LocalCluster")
    swp.add_argument("--workers", type=int, default=DASK["workers"],
                     help=f"workers of --dask local (default {DASK['workers']})")
    swp.add_argument("--export", metavar="FILE", help="also write every stored run to FILE (.csv or .parquet)")
    _report_option(swp)
    swp.set_defaults(handler=_sweep)

    rep = sub.add_parser(
        "report",
        help="one self-contained HTML page from result files (results.json, signal.csv, sweep .db)",
        description="Write one HTML file (figures embedded, no script, nothing fetched) from files the other "
        "commands wrote: results.json (compare), signal.csv (probe), a sweep's .db.",
    )
    rep.add_argument("results", nargs="+", metavar="RESULTS", help="results.json, signal.csv or .db files")
    rep.add_argument("--out", default=REPORT["path"], help=f"the HTML file to write (default {REPORT['path']})")
    rep.add_argument("--title", default=REPORT["title"], help=f"the page's title (default {REPORT['title']!r})")
    rep.add_argument("--datasets", action="store_true", help="add the dataset catalogue with thumbnails")
    rep.set_defaults(handler=_report)

    exp = sub.add_parser(
        "explore",
        help="an interactive explorer in the browser: train live, signal propagation, sweep heatmaps",
        description="Serve the explorer (needs the optional extra: pip install 'initlab[explore]'): the notebook's "
        "experiment trained live, per-layer signal propagation beside the mean-field theory, a sweep database's "
        "heatmaps. On 127.0.0.1 only, unless --address says otherwise; every script is served locally.",
    )
    exp.add_argument("--address", default=EXPLORE["address"],
                     help=f"the address to serve on (default {EXPLORE['address']}, this machine only; another "
                          "address lets anyone on the network use it)")
    exp.add_argument("--port", type=int, default=EXPLORE["port"], help="the port (default: a free one)")
    exp.add_argument("--open", action="store_true", help="open the page in a browser")
    exp.add_argument("--sweep", action="append", default=[], metavar="FILE.db",
                     help="a sweep database the sweep view may open (repeatable; no other file is read)")
    exp.set_defaults(handler=_explore)

    dts = sub.add_parser("datasets", help="list the registered datasets", description="List the registered "
                         "datasets (features, classes, train/test sizes); --report adds thumbnails in HTML.")
    dts.add_argument("--report", metavar="FILE", help="also write an HTML page with a thumbnail of each dataset")
    dts.set_defaults(handler=_datasets)

    fns = sub.add_parser("fans", help="a kernel shape's fans, and each initializer's variance for it",
                         description="Print fan_in, fan_out and the receptive field of a weight shape read in a "
                         "framework's layout, each registered initializer's variance for it (measured on at least 100,000 drawn "
                         "weights) "
                         "and where the frameworks' conventions read it differently.")
    fns.add_argument("shape", metavar="SHAPE", help="comma-separated sizes, e.g. 64,32,3,3")
    fns.add_argument("--layout", default="torch", help="torch: (out, in, *k), initlab's; keras or jax: (*k, in, out) "
                     "(default torch)")
    fns.set_defaults(handler=_fans)

    rpr = sub.add_parser(
        "reproduce",
        help="reproduce a classic initialization paper's result, small, with a verdict per claim",
        description="Run a small, faithful version of a paper's experiment and print each claim, what this "
        "run measured (spread over seeds) and whether the claim holds. Experiments: " + ", ".join(papers.EXPERIMENTS),
    )
    rpr.add_argument("name", nargs="?", help="the experiment (see --list)")
    rpr.add_argument("--list", action="store_true", help="list the experiments")
    rpr.add_argument("--quick", action="store_true", help="the test suite's small settings (seconds)")
    rpr.add_argument("--seeds", type=int, default=REPRODUCE["seeds"], help="number of seeds (default: the experiment's)")
    _out_option(rpr, "output folder for the figures")
    _report_option(rpr)
    rpr.set_defaults(handler=_reproduce)
    return parser


def _out_option(parser: argparse.ArgumentParser, what: str = "output folder") -> None:
    parser.add_argument("--out", default=OUT, help=f"{what} (default {OUT}/)")


def _dtype_option(parser: argparse.ArgumentParser, default: str | None, what: str) -> None:
    shown = f" (default {default})" if default else ""
    parser.add_argument("--dtype", default=default, help=f"{what}{shown}: " + ", ".join(NETWORK_DTYPES))


def _engine_option(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("--engine", default=default, help=f"the training engine (default {default}). " + _known(engines.CHOICES))


def _reproduce(args: argparse.Namespace) -> None:
    if args.list or not args.name:
        for name in papers.EXPERIMENTS:
            module = papers.experiment(name)
            print(f"{name:<16} {module.TITLE} — {module.CITATION}")
        return
    check_writable_dir("out", args.out)
    if args.report is not None:
        _check_file_target("report", _report_path(args))
    result = papers.reproduce(args.name, quick=args.quick, seeds=args.seeds)
    print("\n".join(result.lines()))
    args.writing = args.out
    args.interrupted = f"the experiment finished but not all its files were written to {args.out} ({WHOLE}): run the command again"
    paths = result.save(args.out)
    if args.report is not None:
        args.writing = _report_path(args)
        paths["report"] = report.write_report([result], _report_path(args), result.title)
    print("wrote " + ", ".join(paths.values()))


def _report_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report", nargs="?", const="", default=None, metavar="FILE",
                        help=f"also write a self-contained HTML report (default file OUT/{REPORT['path']})")


def _report_path(args: argparse.Namespace) -> str:
    return args.report or os.path.join(args.out, REPORT["path"])


def _report(args: argparse.Namespace) -> None:
    _check_file_target("out", args.out)
    args.databases = [r for r in args.results if not r.endswith((".json", ".csv"))]
    results = [*args.results, *([report.catalog()] if args.datasets else [])]
    args.writing = args.out
    args.interrupted = f"{args.out} was not written (a file is written whole or not at all): run the command again"
    print("wrote " + report.write_report(results, args.out, args.title))


def _explore(args: argparse.Namespace) -> None:
    args.databases = list(args.sweep)
    for db in args.sweep:
        sweep.read_frame(db)  # a missing or corrupt database fails now, not in the page
    args.interrupted = "the explorer stopped (it writes no file)"
    explore.serve(args.address, args.port, args.open, args.sweep)


def _datasets(args: argparse.Namespace) -> None:
    if args.report is not None:
        _check_file_target("report", args.report)
    catalog = report.catalog()
    rows = catalog.rows()
    print(text_table(list(rows[0]), [[str(v) for v in r.values()] for r in rows]))
    if args.report is not None:
        args.writing = args.report
        args.interrupted = f"{args.report} was not written (a file is written whole or not at all): run the command again"
        print("wrote " + report.write_report([catalog], args.report, "initlab datasets"))


def _fans(args: argparse.Namespace) -> None:
    try:
        shape = tuple(int(part) for part in args.shape.split(","))
    except ValueError:
        raise InitlabError(f"The 'shape' parameter must be comma-separated ints, e.g. 64,32,3,3. Got {args.shape!r} instead.") from None
    fan_in, fan_out, field = layout_fans(shape, args.layout)
    rows = scheme_variances(shape, args.layout)
    print(f"shape {shape} in {args.layout}'s layout: fan_in {fan_in}, fan_out {fan_out}, receptive field {field}")
    print(text_table(["scheme", "variance (measured)", "× fan_in"],
                     [[r["scheme"], f"{r['variance']:.4g}", f"{r['variance × fan_in']:.3g}"] for r in rows]))
    for note in layout_notes(shape, args.layout):
        print(f"note: {note}")
    for name, requirement in undefined_schemes(shape, args.layout):
        print(f"not drawn: {name}, defined on {requirement}")


EXPORT_FORMATS = (".csv", ".parquet")


def _check_export(path: str) -> None:
    """--export FILE: a format sweep.export writes (parquet only with a parquet engine installed)
    and a file that can be written, checked before any training."""
    if not path.endswith(EXPORT_FORMATS):
        raise InitlabError(f"The 'export' parameter must be a .csv or .parquet path. Got {path!r} instead.")
    if path.endswith(".parquet") and not any(importlib.util.find_spec(m) for m in ("pyarrow", "fastparquet")):
        raise InitlabError(f"Writing parquet ({path!r}) needs pyarrow: pip install pyarrow, or export to .csv.")
    _check_file_target("export", path)


def _check_file_target(name: str, path: str | os.PathLike[str]) -> str:
    """`path` can be written as a file: not a folder, in a folder that exists (created if needed)
    and takes a new file. The probe is a fresh temporary file (O_EXCL: no symlink followed)."""
    path = os.fspath(path)
    try:
        if os.path.isdir(path):
            raise IsADirectoryError(21, "Is a directory")
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise NotADirectoryError(20, "Not a directory")
        os.makedirs(folder, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".initlab-write-test-", dir=folder)
        os.close(fd)
        os.remove(probe)
    except OSError as exc:
        raise InitlabError(f"The '{name}' parameter must be a file that can be written ({exc.strerror}). "
                           f"Got {path!r} instead.") from None
    return path


def _sweep(args: argparse.Namespace) -> None:
    check_int("workers", args.workers, low=1)
    if args.dask:
        executors.check_address(args.dask, "dask")
    if args.export:
        _check_export(args.export)
    overrides = sweep.parse_overrides(args.set)
    if args.dtype is not None:
        if "dtype" in overrides:
            raise InitlabError(f"The 'dtype' option and --set dtype=… both set the dtype axis: give one. "
                               f"Got --dtype {args.dtype} and --set dtype={','.join(map(str, overrides['dtype']))}.")
        overrides["dtype"] = [args.dtype]
    spec = sweep.read_spec(args.spec, overrides)
    out = check_writable_dir("out", args.out)
    db = args.db or os.path.join(out, f"{spec.name}.db")
    args.databases = [db]
    args.writing = db
    if args.report is not None:
        _check_file_target("report", _report_path(args))
    executor = executors.Dask(args.dask, args.workers) if args.dask else None
    if executor is None:
        _startup.compiled_engine_ready(args.engine)  # compiled (once) before the progress bar starts
    bar = _progress_bar(desc=spec.name, unit="run")

    def progress(n, pending):
        bar.total = pending
        bar.update(n)

    args.interrupted = f"finished chunks are stored in {db}; run the same command again to resume"
    try:
        outcome = sweep.run_sweep(spec, db, args.engine, executor, args.max_runs, None if bar is None else progress)
    finally:
        if bar is not None:
            bar.close()
        if executor is not None:
            executor.close()
    others = f", {outcome.by_others} by other processes on the same database" if outcome.by_others else ""
    print(f"{outcome.total} runs in the grid: {outcome.stored_before} already stored, {outcome.ran} trained now "
          f"({outcome.diverged} diverged){others}; results in {db}")
    args.interrupted = f"every run is stored in {db}; not all the figures, export or report were written ({WHOLE}): run the same command again"
    args.writing = out
    paths = sweep.save_figures(db, out)
    if args.export:
        args.writing = args.export
        paths["export"] = sweep.export(db, args.export)
    if args.report is not None:
        args.writing = _report_path(args)
        paths["report"] = report.write_report([db], _report_path(args), f"initlab sweep {spec.name}")
    if paths:
        print("wrote " + ", ".join(paths.values()))


def _coordcheck(args: argparse.Namespace) -> None:
    check_writable_dir("out", args.out)
    check_int("seeds", args.seeds, low=1)
    if args.report is not None:
        _check_file_target("report", _report_path(args))
    check = coordcheck.coord_check(args.parametrization, args.optimizer, args.widths, args.steps, range(args.seeds),
                                   args.learning_rate, args.depth, args.dataset, args.examples, engine=args.engine)
    for name, verdict in check.verdicts().items():
        print(f"{name}: {verdict}")
    args.writing = args.out
    args.interrupted = f"the coord check finished but not all its files were written to {args.out} ({WHOLE}): run it again"
    paths = check.save(args.out)
    if args.report is not None:
        args.writing = _report_path(args)
        paths["report"] = report.write_report([check], _report_path(args), "initlab coord check")
    print("wrote " + ", ".join(paths.values()))


def _probe(args: argparse.Namespace) -> None:
    check_writable_dir("out", args.out)
    if args.blocks is not None or args.branch is not None:
        return _probe_blocks(args)
    if args.report is not None:
        _check_file_target("report", _report_path(args))
    network = diagnostics.deep_network(args.depth, args.width, args.activation)
    inits = _probed_inits(args)
    study = diagnostics.signal_propagation(network, inits, args.seeds, args.batch)
    spectra = jacobian.study_spectra(network, inits, args.batch)
    for name, found in study.verdicts.items():
        print(f"{name}:")
        for line in [*found, spectra[name].summary()]:
            print(f"  - {line}")
    args.writing = args.out
    args.interrupted = f"the probe finished but not all its files were written to {args.out} ({WHOLE}): run the command again"
    paths = study.save(args.out)
    if args.report is not None:
        args.writing = _report_path(args)
        paths["report"] = report.write_report([paths["csv"]], _report_path(args), "initlab probe")
    print("wrote " + ", ".join(paths.values()))


def _probe_blocks(args: argparse.Namespace) -> None:
    """probe --blocks: residual networks, one per --branch scheme, block by block."""
    if args.sigma_w2 is not None:
        raise InitlabError("The 'sigma_w2' option does not apply to --blocks (its branches are drawn by --init). "
                           "Got --sigma-w2 with --blocks.")
    if args.report is not None:
        _check_file_target("report", _report_path(args))
    inits = _init_names(args, [BLOCKS["init"]])
    if len(inits) != 1:
        raise InitlabError(f"The 'init' option must name one initializer with --blocks (the branches' draws). Got {inits} instead.")
    study = blocks.study_blocks(_names_or_default(args.branch, BLOCKS["schemes"], "branch"),
                                BLOCKS["blocks"] if args.blocks is None else args.blocks, args.width, args.activation, inits[0],
                                args.seeds, args.batch)
    for scheme, rows in study.table.groupby("scheme", sort=False):
        print(f"{scheme}:\n  - {study.verdicts[str(scheme)]}\n  - {study.spectra[str(scheme)].summary()}")
        shown = rows.iloc[sorted({0, len(rows) // 4, len(rows) // 2, len(rows) - 1})]
        columns = ["block", "mean_square", "pred_mean_square", "channel_var", "pred_channel_var", "branch_var"]
        cells = [[f"{int(r.block)}", *(f"{getattr(r, c):.4g}" for c in columns[1:])] for r in shown.itertuples()]
        print("\n".join("    " + line for line in text_table(columns, cells).splitlines()))
    args.writing = args.out
    args.interrupted = f"the probe finished but not all its files were written to {args.out} ({WHOLE}): run the command again"
    paths = study.save(args.out)
    if args.report is not None:
        args.writing = _report_path(args)
        paths["report"] = report.write_report([study], _report_path(args), "initlab probe --blocks")  # (with its Jacobians)
    print("wrote " + ", ".join(paths.values()))


def _names_or_default(given: list[str] | None, default: Iterable[str], option: str, what: str = "entry") -> list[str]:
    """An option's names (--init, --branch), `default` when it is not given; an empty one ('' or ',':
    no name after splitting) is an error naming `what` it takes, not the defaults run silently."""
    if given is None:
        return list(default)
    if not given:
        raise InitlabError(f"The '{option}' option must name at least one {what}. Got no name instead.")
    return given


def _compare(args: argparse.Namespace) -> None:
    with _startup.collector_paused():
        _compare_paused(args)


def _progress_bar(**options: Any) -> tqdm | None:
    """A tqdm progress bar on stderr when stderr is a terminal, else None (and tqdm, 0.04 s of
    start-up, is not imported)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(file=sys.stderr, **options)


def _init_names(args: argparse.Namespace, default: Iterable[str]) -> list[str]:
    """The initializers --init names, `default` when it is not given (an empty --init is an error)."""
    return _names_or_default(args.init, default, "init", "initializer, such as --init zeros,he")


def _probed_inits(args: argparse.Namespace) -> list[str]:
    """--init's entries, then one mean_field entry per --sigma-w2 value (at --sigma-b2); with
    --sigma-w2 and no --init only those, with neither the defaults he_normal, xavier_normal."""
    if args.sigma_w2 is None:
        if args.sigma_b2 is not None:
            raise InitlabError(f"The 'sigma_b2' option is the bias variance of the --sigma-w2 entries: give --sigma-w2 "
                               f"too, such as --sigma-w2 2 --sigma-b2 {args.sigma_b2}. Got --sigma-b2 alone.")
        return _init_names(args, PROBE_INITS)
    return _init_names(args, []) + mean_field_specs(args.sigma_w2, args.sigma_b2)


def _residual_layers(args: argparse.Namespace, dataset: Any) -> tuple[list[int] | None, str | None]:
    """compare's (layers, residual): --layers as given, or with --blocks a residual network's sizes and scheme."""
    if args.blocks is None:
        for option in ("width", "branch"):
            if getattr(args, option) is not None:
                raise InitlabError(f"The '{option}' option shapes residual networks: give --blocks K too. Got --{option} alone.")
        return args.layers, None
    if args.layers != COMPARE["layers"]:
        raise InitlabError("The 'layers' option and --blocks both give the network: --blocks K --width N builds it "
                           f"(a stem, K blocks, a head). Got --layers {','.join(map(str, args.layers))} with --blocks.")
    network = residual_network(dataset.n_features, RESIDUAL_WIDTH if args.width is None else args.width, args.blocks,
                               residual=args.branch or "standard")
    return list(network.sizes), str(network.residual)


def _compare_paused(args: argparse.Namespace) -> None:
    inits = _init_names(args, COMPARE["inits"])
    dataset = compare.dataset_from(args.dataset, args.data, args.target)  # read and checked before training
    layers, residual = _residual_layers(args, dataset)
    if args.activation is not None:
        get_activation(args.activation)  # an unknown name before the out folder is made
    if args.animate:
        compare.check_animation(dataset)
    check_writable_dir("out", args.out)  # fail before training, not after
    if args.report is not None:
        _check_file_target("report", _report_path(args))
    # the notebook's engine (exact) trains ReLU hidden layers only: with another activation auto means numba
    _startup.figures_ready_while_training(args.engine, notebook=(args.activation or COMPARE["activation"]) == "relu"
                                          and residual is None)
    bar = None if args.quiet else _progress_bar(total=len(inits) * args.iterations, unit="it",
                                                desc=f"training {len(inits)} networks")
    lines = None if args.quiet else CostPrinter(inits, args.iterations, COMPARE["record_every"], write=_writer(bar))
    done: dict[str, int] = {}

    def progress(name, i, cost):
        if bar is not None:
            bar.update(i - done.get(name, 0))
            done[name] = i
        if lines is not None:
            lines.add(name, i, cost)

    with bar or contextlib.nullcontext():
        comparison = compare.compare_initializers(
            inits, layers=layers, residual=residual, learning_rate=args.learning_rate, iterations=args.iterations,
            seed=args.seed, callback=None if bar is None and lines is None else progress, engine=args.engine,
            snapshots=30 if args.animate else 0, dataset=dataset, dtype=args.dtype,
            **({} if args.activation is None else {"activation": args.activation}),
        )
        if bar is not None:
            bar.update(bar.total - bar.n)
        if lines is not None:
            lines.finish(comparison)  # what the callback could not print yet, from the runs themselves
    args.interrupted = f"the training finished but not all its files were written to {args.out} ({WHOLE}): run the command again"
    if (args.dataset, args.data, args.activation, args.dtype, residual) != (None, None, None, "float64", None):  # the notebook's run prints its table alone
        print(comparison.describe())
    print(format_table(comparison.table()))
    for r in comparison.results:
        if r.run.diverged:
            print(f"warning: {r.name} {r.run.divergence}")
    args.writing = args.out
    paths = compare.save(comparison, args.out, animate=args.animate)
    if args.report is not None:
        args.writing = _report_path(args)
        paths["report"] = report.write_report([paths["json"]], _report_path(args), "initlab compare")
    print("wrote " + ", ".join(paths.values()))


def _writer(bar: tqdm | None) -> Callable[[str], None]:
    """Write one line to stdout now: above the progress bar (tqdm clears and redraws it), or
    flushed, so that a pipe's reader sees each line as it comes."""
    if bar is not None:
        return lambda line: bar.write(line, file=sys.stdout)
    return lambda line: print(line, flush=True)


def _check_report_file(args: argparse.Namespace) -> None:
    """--report FILE must name an .html file, checked before any work: in `initlab sweep --report
    spec.toml` argparse gives the spec to --report, and the report would overwrite it."""
    name = getattr(args, "report", None)
    if name and not name.lower().endswith((".html", ".htm")):
        raise InitlabError(f"The 'report' option must name an .html file. Got {name!r}: put a spec or results file "
                           "before --report, or write --report=FILE.html.")


def _environment_error(exc: BaseException, args: argparse.Namespace) -> str | None:
    """The one line for an error of the environment, not of initlab's code: "<what>: <path or
    detail>"; None for any other exception (a bug: its traceback is shown)."""
    if isinstance(exc, executors.ClusterError):
        return f"{exc}; {args.interrupted}"
    if isinstance(exc, sqlite3.DatabaseError):
        where = ", ".join(getattr(args, "databases", [])) or "the database"
        return f"the database cannot be read or written (sqlite: {exc}): {where}"
    if isinstance(exc, MemoryError):
        return f"out of memory (MemoryError{': ' + str(exc) if str(exc) else ''}): shrink the grid, the network or the data"
    if isinstance(exc, OSError):
        what = exc.strerror or (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        paths = [p for p in (exc.filename, exc.filename2) if p is not None] or [getattr(args, "writing", None)]
        paths = [p for p in paths if p is not None]
        return f"{what}: {' -> '.join(map(os.fsdecode, paths))}" if paths else what
    return None


def _stdout_closed() -> int:
    """stdout's reader has gone (``| head``): no more output, and no second BrokenPipeError when
    Python flushes stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141  # 128 + SIGPIPE, what a shell reports for a process killed by a closed pipe


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.interrupted = "nothing was written"
    try:
        _check_report_file(args)
        args.handler(args)
    except InitlabError as exc:
        print(f"initlab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"initlab: interrupted: {args.interrupted}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _stdout_closed()
    except Exception as exc:
        line = _environment_error(exc, args)
        if line is None:
            raise  # a bug: its traceback
        print(f"initlab: error: {line}", file=sys.stderr)
        return 3
    return 0


def console_script() -> int:
    """The console entry point (``initlab``, ``python -m initlab``): main(), then an exit that
    skips the collector's final passes (``_startup.skip_final_collection``)."""
    try:
        code = main()
    except KeyboardInterrupt:  # a second Ctrl-C while the first one's clean-up or message ran
        print("initlab: interrupted", file=sys.stderr)
        code = 130
    try:
        sys.stdout.flush()  # a closed pipe shows here when the output fitted in stdout's buffer
    except BrokenPipeError:
        code = _stdout_closed()
    _startup.skip_final_collection()
    return code


if __name__ == "__main__":
    sys.exit(console_script())
