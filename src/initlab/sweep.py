"""Sweeps: a grid of runs declared in TOML, trained in batches, stored in SQLite, resumable.

A spec names the axes of the grid and the sweep's settings::

    [sweep]
    name = "scale-vs-depth"
    master_seed = 0          # every run's seed derives from it and the run's id
    seeds = 3                # replicates of every grid point
    record_every = 100       # cost history resolution
    record_unit = "iterations"  # what record_every counts: "iterations" or "epochs"
    record_accuracy = false  # also store each run's history (accuracy, test-split cost and accuracy)

    [grid]                   # every axis a list (a single value is a list of one)
    init = ["he_normal", "xavier_normal", { name = "random", scale = 0.5 }]
    weight_scale = [0.5, 1.0, 2.0]     # multiplies the initial weights (not the biases)
    depth = [2, 4, 8]                  # hidden layers
    width = [16]
    activation = ["relu"]
    dataset = ["circles"]
    learning_rate = [0.05]
    optimizer = ["gd"]
    iterations = [2000]
    parametrization = ["sp", "mup"]    # initlab.parametrizations; mup follows the optimizer's family
    base_width = [16]                  # the hidden width at which every parametrization is the standard one
    target_loss = ["none", 0.3]        # stop once the cost is <= this ("none": train every iteration)
    target_on = ["train"]              # where the target is checked: "train" (all the data) or "batch"
    dtype = ["float64", "float32"]     # the networks' parameters, data and arithmetic

Every run is a plain dict (its configuration); its id is a hash of that dict's canonical JSON and its
seed a hash of the master seed and the id, so a run's result does not depend on which other runs
share the sweep, in which order they ran, or on which machine. A setting or axis added since
(``DEFAULT_ONLY``) enters the hash only away from its default, so a run that leaves it there keeps
the id and seed it had before.
"""
from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from . import _html
from ._atomic import replacing
from ._spec import Spec
from ._validation import (Checked, Constraint, Flag, InitlabError, Interval, OneOf, Registered, _fail, check_choice, check_int,
                          check_layer_sizes, check_random_state, check_writable_dir, finite_or_none, lookup, parse_literal,
                          validate)
from ._version import __version__
from .activations import activation_spec
from .data import DATASETS, get_dataset
from .diagnostics import summary
from .engines import CHOICES
from .executors import Dask, Local
from .initializers import format_spec, get_initializer, parse_spec, split_specs
from .branches import BRANCHES, get_branch
from .network import NETWORK_DTYPES, Network, residual_network
from .optim import OPTIMIZERS
from .parametrizations import for_training, get_parametrization
from .store import Heartbeat, Store, new_owner
from .training import TrainOptions, train_many
from .transfer import optima

if TYPE_CHECKING:
    import pandas as pd

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

SWEEP_KEYS = {"name": "sweep", "master_seed": 0, "seeds": 1, "record_every": 100, "batch_seed": 0, "chunk_size": 50,
              "record_unit": "iterations", "record_accuracy": False}
AXES = {  # axis -> default value
    "init": "he_normal",
    "weight_scale": 1.0,
    "bias": 0.0,
    "depth": 2,
    "width": 10,
    "activation": "relu",
    "dataset": "circles",
    "learning_rate": 0.01,
    "optimizer": "gd",
    "iterations": 1000,
    "batch_size": 0,  # 0: full batch
    "parametrization": "sp",
    "base_width": 64,  # the parametrizations' base hidden width (no effect under sp)
    "target_loss": None,  # no target: train every iteration (written "none" in a spec: TOML has no null)
    "target_on": "train",  # where the target is checked (no effect without a target)
    "dtype": "float64",  # the networks' float type (network.NETWORK_DTYPES)
    "blocks": 0,  # residual blocks (0: a plain MLP of `depth` hidden layers; else a stem, K blocks and a head)
    "branch": "standard",  # the residual blocks' branch scheme (initlab.branches; no effect without blocks)
    "branch_multiplier": None,  # every α_k at the start, for a scheme that takes one (standard, skipinit); none: its own
}
NO_TARGET = "none"  # the spelling of target_loss None in a spec and on the command line
MAX_RUNS = 1_000_000  # one sweep's grid is built in memory (about 1 KB a run): beyond, split the spec
PER_RUN = ("init", "init_options", "weight_scale", "bias", "replicate")  # may differ inside one batch


# --- the spec ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: its settings and, per axis, the values to cross."""

    name: str
    master_seed: int
    seeds: int
    record_every: int
    batch_seed: int
    chunk_size: int
    grid: dict = field(default_factory=dict)  # axis -> tuple of values
    record_unit: str = "iterations"  # what record_every counts: "iterations" or "epochs"
    record_accuracy: bool = False  # store each run's history (accuracy; test split's cost and accuracy)

    @property
    def n_runs(self) -> int:
        """The grid's size (axis lengths times seeds), computed without building the grid."""
        return math.prod(len(v) for v in self.grid.values()) * self.seeds


def read_spec(path: str | os.PathLike[str] | None = None, overrides: dict[str, Any] | None = None) -> SweepSpec:
    """Parse and validate a TOML spec file, axes in `overrides` replacing the file's; with no
    file, the spec is the defaults and `overrides` alone. A spec must name at least one grid axis
    (in the file's [grid] or in `overrides`): an empty file is an error, not one default run."""
    if path is None:
        return make_spec({}, overrides)
    if not isinstance(path, (str, os.PathLike)):  # open(5) would read, then close, file descriptor 5
        raise InitlabError(f"The 'spec' parameter must be a path (str or os.PathLike). Got {path!r} instead.")
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise InitlabError(f"The 'spec' parameter must be a readable TOML file. Got {str(path)!r} ({exc.strerror}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise InitlabError(f"The spec {str(path)!r} is not valid TOML: {exc}.") from None
    except UnicodeDecodeError as exc:
        raise InitlabError(f"The spec {str(path)!r} is not valid TOML: it is not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
    return make_spec(data, overrides)


def make_spec(data: dict, overrides: dict | None = None) -> SweepSpec:
    """A ``SweepSpec`` from the parsed TOML (tables ``sweep`` and ``grid``), axes in `overrides` replacing
    the file's (the command line's ``--set axis=v1,v2``)."""
    unknown = set(data) - {"sweep", "grid"}
    if unknown:
        raise InitlabError(f"Unknown table {sorted(unknown)[0]!r} in the spec. Expected: sweep, grid.")
    settings = {**SWEEP_KEYS, **_known("sweep", data.get("sweep", {}), SWEEP_KEYS)}
    grid = {**_known("grid", data.get("grid", {}), AXES), **(overrides or {})}
    _known("grid", grid, AXES)
    if not grid:  # an empty file (or no file and no --set) would silently train one default run
        raise InitlabError(
            "The spec defines no grid axis: give at least one, in a [grid] table (e.g. [grid] depth = [2, 4]) "
            "or on the command line with --set AXIS=V1,V2 (e.g. --set depth=2,4). Axes: " + ", ".join(AXES) + "."
        )
    axes = {axis: _axis(axis, grid.get(axis, AXES[axis])) for axis in AXES}
    m = max(get_branch(b).depth for b in axes["branch"])  # the deepest branch: residual networks of 1 + K·m hidden layers
    layers = {*axes["depth"], *(1 + m * k for k in axes["blocks"] if k)}
    for depth in layers:  # a network too large to allocate fails now, not after some chunks
        for width in axes["width"]:
            check_layer_sizes("sizes", (1,) + (width,) * depth + (1,))  # a lower bound of any dataset's
    return SweepSpec(**validate(SETTING_CONSTRAINTS, settings), grid=axes)


NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")


def check_name(name: object) -> str:
    """The sweep's name, which becomes its database's file name (OUT/NAME.db): letters, digits,
    '-', '_' and '.', not starting with '.' (so not '..' nor a hidden file), 1 to 100 characters."""
    if not isinstance(name, str) or NAME.fullmatch(name) is None:
        raise InitlabError(
            "The 'name' parameter must be a file name of letters, digits, '-', '_' and '.' (1 to 100 characters, "
            f"not starting with '.'; no path separators), as it names the database OUT/NAME.db. Got {name!r} instead."
        )
    return name


def _known(table, entries, allowed):
    if not isinstance(entries, dict):
        raise InitlabError(f"The spec's [{table}] must be a table. Got {entries!r} instead.")
    for key in entries:
        if key not in allowed:
            lookup(f"key in [{table}]", allowed, key)
    return entries


def _axis(axis, values):
    values = values if isinstance(values, list) else [values]
    if not values:
        raise InitlabError(f"The grid axis '{axis}' is empty: give it at least one value.")
    return tuple(_value(axis, v) for v in values)


def _init_value(axis, v):
    """An initializer: a name or a table { name = "random", scale = 0.5 }, as canonical JSON."""
    if isinstance(v, str):
        v = {"name": v}
    if not isinstance(v, dict) or "name" not in v:
        raise InitlabError(
            f"The grid axis 'init' takes names or tables such as {{ name = \"random\", scale = 0.5 }}. Got {v!r} instead.", param=axis
        )
    get_initializer(v["name"], **{k: x for k, x in v.items() if k != "name"})
    return json.dumps(v, sort_keys=True)


def _activation_value(axis, v):
    """A name or a text spec, "leaky_relu(slope=0.2)", kept as written (run ids read it)."""
    activation_spec(v)
    return v


def _parametrization_value(axis, v):
    """A name or a text spec, "mup(readout=multiplier)", kept as written (μP's optimizer, when left
    out, follows each run's optimizer); its base width is the 'base_width' axis."""
    spec = Spec.parse(v, axis, "parametrization")
    get_parametrization(spec)
    if "base_width" in spec.kwargs:
        raise InitlabError(f"The grid axis '{axis}' takes the base width from the axis 'base_width': write "
                           f"{Spec.make(spec.key, {k: x for k, x in spec.kwargs.items() if k != 'base_width'})} and "
                           f"base_width = [{spec.kwargs['base_width']}]. Got {v!r} instead.", param=axis)
    return str(spec)


def _target_value(axis, v):
    """A target loss (a finite float) or "none" (None: no target)."""
    return _float_or_none(axis, v, "no target")


def _float_or_none(axis, v, meaning):
    """A finite float, or "none" (None: `meaning`)."""
    if v is None or (isinstance(v, str) and v.strip().lower() == NO_TARGET):
        return None
    if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v):
        _fail(axis, f'a finite float or "{NO_TARGET}" ({meaning})', v)
    return float(v)


def _branch_value(axis, v):
    """A branch scheme by name or text spec, in canonical form ("standard(alpha=0.5)")."""
    return str(get_branch(Spec.parse(v, axis, "branch scheme")).spec)


POSITIVE, COUNT = Interval(Real, 0.0, closed="neither"), Interval(Integral, 0)
AXIS_CONSTRAINTS: dict[str, Constraint] = {  # axis -> what each of its values must be (and its canonical form)
    "init": Checked(_init_value),
    "weight_scale": POSITIVE,
    "bias": Interval(Real),
    "depth": Interval(Integral, 1),
    "width": Interval(Integral, 1),
    "activation": Checked(_activation_value),
    "dataset": Registered("dataset", DATASETS),
    "learning_rate": POSITIVE,
    "optimizer": Registered("optimizer", OPTIMIZERS),
    "iterations": COUNT,
    "batch_size": COUNT,  # 0: full batch
    "parametrization": Checked(_parametrization_value),
    "base_width": Interval(Integral, 1),
    "target_loss": Checked(_target_value),
    "target_on": OneOf(("train", "batch")),
    "dtype": OneOf(NETWORK_DTYPES),
    "blocks": COUNT,
    "branch": Checked(_branch_value),
    "branch_multiplier": Checked(lambda axis, v: _float_or_none(axis, v, "the scheme's own")),
}
SETTING_CONSTRAINTS: dict[str, Constraint] = {  # the [sweep] table's keys
    "name": Checked(lambda name, value: check_name(value)),
    "master_seed": COUNT,
    "seeds": Interval(Integral, 1),
    "record_every": Interval(Integral, 1),
    "batch_seed": Interval(Integral, 0, 2**63),
    "chunk_size": Interval(Integral, 1),
    "record_unit": OneOf(("iterations", "epochs")),
    "record_accuracy": Flag("true or false"),  # as TOML spells them
}


def _value(axis, v):
    """One validated axis value, in canonical form."""
    return AXIS_CONSTRAINTS[axis].check(axis, v)


# --- runs -------------------------------------------------------------------------------------
def expand(spec: SweepSpec) -> list:
    """Every run of the grid as a configuration dict with its ``id`` and ``seed``, once each: the
    standard parametrization's runs, the same at every base width, are kept at the first."""
    check_size(spec)
    runs: dict[str, dict[str, Any]] = {}
    for values in itertools.product(*spec.grid.values(), range(spec.seeds)):
        config = dict(zip(list(spec.grid) + ["replicate"], values))
        init = json.loads(config.pop("init"))
        config.update(init=init.pop("name"), init_options=init, record_every=spec.record_every, batch_seed=spec.batch_seed,
                      record_unit=spec.record_unit, record_accuracy=spec.record_accuracy)
        _parametrization(config)  # a μP naming another optimizer than the run's fails now, before any training
        _residual(config)  # a multiplier for a scheme that takes none fails now too
        run = with_identity(config, spec.master_seed)
        runs.setdefault(run["id"], run)
    return list(runs.values())


def _parametrization(config: Mapping[str, Any]) -> str | None:
    """The parametrization a run trains under (None: the standard one), its base width included."""
    spec = for_training(config.get("parametrization", "sp"), config["optimizer"], config.get("base_width", AXES["base_width"]))
    return None if spec is None else str(spec)


def _residual(config: dict[str, Any]) -> str | None:
    """The run's branch scheme (None: a plain network), its multiplier included; a plain run's branch
    keys are set to their defaults, and a residual run's depth to its hidden layers (1 + K·m), so that
    runs that build the same network are one run."""
    if not config.get("blocks", 0):
        config.update({key: AXES[key] for key in ("branch", "branch_multiplier") if key in config})
        return None
    scheme = get_branch(config.get("branch", AXES["branch"]))
    alpha = config.get("branch_multiplier")
    if alpha is not None:
        if "alpha" not in inspect.signature(BRANCHES[scheme.spec.key]).parameters:
            takes = ", ".join(name for name, f in BRANCHES.items() if "alpha" in inspect.signature(f).parameters)
            raise InitlabError(f"The grid axis 'branch_multiplier' sets α_k of a scheme that takes one ({takes}); the scheme "
                               f"'{scheme.spec}' sets its own. Got branch_multiplier={alpha:g} instead.", param="branch_multiplier")
        scheme = get_branch(scheme, alpha=alpha)
    config["depth"] = 1 + config["blocks"] * scheme.depth
    return str(scheme.spec)


SP_ONLY = ("parametrization", "base_width")  # left out of a standard-parametrization run's identity
DEFAULT_ONLY = {"target_loss": None, "target_on": "train", "record_unit": "iterations", "record_accuracy": False,
                "dtype": "float64", "blocks": 0, "branch": "standard", "branch_multiplier": None}
"""Keys added since (grid axes and [sweep] settings): hashed only away from these defaults (and target_on
only with a target), so a run that leaves them there keeps the id and seed it had before them."""


def check_size(spec: SweepSpec, max_runs: int | None = None) -> int:
    """Refuse, before building it, a grid of more than `max_runs` (the command line's --max-runs)
    or more than MAX_RUNS runs."""
    n = spec.n_runs
    if max_runs is not None and n > check_int("max_runs", max_runs, low=1):
        raise InitlabError(f"The sweep has {n} runs, more than --max-runs {max_runs}. Shrink the grid or raise the limit.")
    if n > MAX_RUNS:
        raise InitlabError(
            f"The sweep has {n} runs, more than the {MAX_RUNS:,} one sweep may hold (its grid is built in memory). "
            "Shrink the grid or split it into several specs."
        )
    return n


def with_identity(config: Mapping[str, Any], master_seed: int) -> dict[str, Any]:
    """`config` plus its ``id`` (hash of the canonical JSON) and ``seed`` (from master seed and id).
    A run under the standard parametrization hashes without ``SP_ONLY`` (its base width changes
    nothing): its id and seed are those it had before sweeps had these axes; so does a run whose
    ``DEFAULT_ONLY`` keys are at their defaults (target_on counts only with a target)."""
    standard = config.get("parametrization", "sp") == "sp"
    untargeted = config.get("target_loss") is None
    hashed = {k: v for k, v in config.items()
              if not (standard and k in SP_ONLY)
              and not (k in DEFAULT_ONLY and (config[k] == DEFAULT_ONLY[k] or (k == "target_on" and untargeted)))}
    canonical = json.dumps(hashed, sort_keys=True, separators=(",", ":"))
    run_id = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    seed = int.from_bytes(hashlib.sha256(f"{master_seed}/{run_id}".encode()).digest()[:4], "little")
    return {**config, "id": run_id, "seed": seed}


def chunks(runs: Iterable[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """Runs grouped by everything a batch must share, cut into lists of at most `size`."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        key = json.dumps({k: v for k, v in run.items() if k not in PER_RUN + ("id", "seed")}, sort_keys=True)
        groups.setdefault(key, []).append(run)
    return [group[i : i + size] for group in groups.values() for i in range(0, len(group), size)]


# --- training a chunk (the unit of work an executor ships) --------------------------------------
def train_chunk(runs: Sequence[Mapping[str, Any]], engine: str = "auto") -> list[dict[str, Any]]:
    """Train `runs` (one chunk: same architecture, data and options) as one batch; return rows."""

    first = runs[0]
    data = get_dataset(first["dataset"])
    network = _network(first, data)
    options = _options(first)
    params = np.stack([_initial_params(network, run, data.X_train) for run in runs])
    start = time.perf_counter()
    validation = (data.X_test, data.Y_test) if options.record_accuracy else None
    trained = train_many(network, params, data.X_train, data.Y_train, options, engine=engine, validation=validation)
    seconds = (time.perf_counter() - start) / len(runs)
    noise = check_random_state(0).standard_normal((network.sizes[-1], data.X_train.shape[1]))  # summary's, drawn once
    return [_row(run, r, _scores(network, r.params, data), summary(network, p0, data.X_train, noise=noise), seconds, __version__)
            for run, r, p0 in zip(runs, trained, params)]


def _network(run: Mapping[str, Any], data: Any) -> Network:
    """The network a run trains: `depth` hidden layers of `width`, or `blocks` residual blocks of `width`."""
    options = dict(activation=run["activation"], loss=data.loss, parametrization=_parametrization(run),
                   dtype=run.get("dtype", AXES["dtype"]))
    scheme = _residual(dict(run))
    if scheme is not None:
        return residual_network(data.n_features, run["width"], run["blocks"], data.n_outputs, residual=scheme, **options)
    return Network((data.n_features,) + (run["width"],) * run["depth"] + (data.n_outputs,), **options)


TRAIN_OPTIONS = frozenset(f.name for f in fields(TrainOptions))  # (dtype is the network's)


def _options(run: Mapping[str, Any]) -> TrainOptions:
    """The ``TrainOptions`` a run trains with (a chunk's runs share them: ``chunks`` groups by them)."""
    return TrainOptions(run["learning_rate"], run["iterations"], run["record_every"], run["optimizer"],
                        batch_size=run["batch_size"] or None, seed=run["batch_seed"],
                        **{key: run.get(key, default) for key, default in DEFAULT_ONLY.items()
                           if key in TRAIN_OPTIONS})  # (older runs: the defaults)


def _scores(network, params, data):
    """(train cost, test cost, train accuracy, test accuracy) of one run's final parameters, from
    one forward pass per data set (the same numbers as ``Run.cost`` and ``Run.accuracy``, which
    take one pass each). Runs are evaluated one at a time: a batched pass rounds some sums
    differently, and a run's row must not depend on the other runs in its chunk."""
    loss = network.loss_fn
    out = []
    with np.errstate(over="ignore", invalid="ignore"):
        for X, Y in ((data.X_train, data.Y_train), (data.X_test, data.Y_test)):
            ZL = network.forward(params, X)[0]
            out.append((float(loss.value(ZL, Y)), float(np.mean(loss.predict(ZL) == loss.target_labels(np.asarray(Y)), axis=(-2, -1)))))
    (train_cost, train_accuracy), (test_cost, test_accuracy) = out
    return train_cost, test_cost, train_accuracy, test_accuracy


def _initial_params(network, run, X):
    params = network.init(run["init"], rng=np.random.default_rng(run["seed"]), bias=run["bias"], X=X, **run["init_options"])
    for W, _ in network.unpack(params):
        W *= run["weight_scale"]
    return params


def _row(run, trained, scores, diagnostics, seconds, version):
    train_cost, test_cost, train_accuracy, test_accuracy = (float(v) for v in scores)
    return {
        "id": run["id"],
        "config": {k: v for k, v in run.items() if k not in ("id", "seed")},
        "status": "diverged" if trained.diverged else "done",
        "seed": run["seed"],
        "final_train_cost": finite_or_none(train_cost),
        "final_test_cost": finite_or_none(test_cost),
        "train_accuracy": train_accuracy,
        "test_accuracy": test_accuracy,
        "diverged_at": trained.divergence.iteration if trained.diverged else None,
        "divergence": str(trained.divergence) if trained.diverged else None,
        "cost_iterations": trained.iterations.tolist(),
        "costs": [finite_or_none(c) for c in trained.costs],
        "diagnostics": diagnostics,
        "engine": trained.engine,
        "version": version,
        "seconds": seconds,
        "reached_at": trained.reached.iteration if trained.reached is not None else None,
        "history": _history(trained) if run.get("record_accuracy") else None,
    }


def _history(trained):
    """``Run.history`` as JSON: {column: list}, non-finite values as null (as the costs column)."""
    return {name: [finite_or_none(v) if isinstance(v, float) else v for v in np.asarray(values).tolist()]
            for name, values in trained.history.items()}


# --- running a sweep ------------------------------------------------------------------------------
@dataclass
class Outcome:
    total: int  # runs in the grid
    stored_before: int  # already in the database (skipped)
    ran: int  # trained now, by this call
    diverged: int  # of those, how many diverged
    by_others: int = 0  # stored meanwhile by other processes working through the same database


POLL = 0.5  # s between looks at the database while every pending run is claimed by another live process


def run_sweep(spec: SweepSpec, db: str | os.PathLike[str], engine: str = "auto", executor: Local | Dask | None = None,
              max_runs: int | None = None, progress: Callable[[int, int], object] | None = None) -> Outcome:
    """Train every run of `spec` not yet in the database `db`, a chunk at a time.

    Each finished chunk is stored in one transaction, so an interrupted sweep loses at most the
    chunks in flight and the same call resumes it. `executor`: None (this process) or an
    ``executors`` object with ``map(fn, chunks)`` yielding results as they finish.
    `progress(n, pending)` is called once with n = 0 before training, then after each stored
    chunk with its number of runs (`pending`: the runs not stored when this call began; runs that
    other processes store meanwhile are reported too, so the counts add up to `pending`).

    Several processes (on one host or several sharing the file) may run the same sweep on one
    database: each claims a chunk's runs in the transaction that picks them (``Store.claim``),
    trains only what it claimed, and when every pending run is claimed by a live process waits for
    those runs to be stored, or for their claims to go stale (owner gone, or no heartbeat for
    ``store.CLAIM_TIMEOUT`` s) and takes them over. A Dask executor takes its chunks all at once
    (it submits them together); the local one a chunk at a time.
    """
    check_choice("engine", engine, CHOICES)
    check_size(spec, max_runs)  # before the grid is built: seeds = 10**9 is refused at once
    runs = expand(spec)
    executor = executor or Local()
    if os.path.isfile(os.fspath(db)) and os.path.getsize(os.fspath(db)) > 0:
        with Store(db, readonly=True) as store:  # a finished sweep is rerun without a write
            stored = store.ids()
        if all(r["id"] in stored for r in runs):
            if progress is not None:
                progress(0, 0)
            return Outcome(len(runs), len(runs), 0, 0)
    with Store(db) as store:
        stored = store.ids()
        pending = [r for r in runs if r["id"] not in stored]
        n_pending = len(pending)
        ran = diverged = by_others = 0
        if progress is not None:
            progress(0, n_pending)
        owner = new_owner()

        def claimed(queue: Iterable[list[dict[str, Any]]], took: list[int]) -> Iterator[list[dict[str, Any]]]:
            for chunk in queue:
                mine = set(store.claim([r["id"] for r in chunk], owner))
                if mine:
                    took.append(len(mine))
                    yield [r for r in chunk if r["id"] in mine]

        try:
            with Heartbeat(db, owner):
                while pending:
                    took: list[int] = []
                    for rows in executor.map(train_chunk, claimed(chunks(pending, spec.chunk_size), took), engine):
                        store.add(rows)  # with their claims' removal, in one transaction
                        ran += len(rows)
                        diverged += sum(r["status"] == "diverged" for r in rows)
                        if progress is not None:
                            progress(len(rows), n_pending)
                    stored = store.ids()
                    left = [r for r in pending if r["id"] not in stored]
                    others = len(pending) - len(left) - sum(took)
                    if others > 0:
                        by_others += others
                        if progress is not None:
                            progress(others, n_pending)
                    pending = left
                    if pending and not took:
                        time.sleep(POLL)  # all claimed by live processes: wait for them, or for stale claims
        finally:
            store.release(owner)  # what this call claimed and did not store goes back to the pool
    return Outcome(len(runs), len(runs) - n_pending, ran, diverged, by_others)


# --- reading results --------------------------------------------------------------------------------
def read_frame(db: str | os.PathLike[str]) -> pd.DataFrame:
    """Every stored run as a pandas DataFrame: one column per config axis, then the results."""
    import pandas as pd  # imported when used: pandas costs 0.3 s at start-up

    with Store(db, readonly=True) as store:  # reading needs no write access
        rows = store.rows()
    records = [{**r["config"], **{k: v for k, v in r.items() if k != "config"}} for r in rows]
    frame = pd.DataFrame.from_records(records)
    if len(frame):  # runs stored before sweeps had these axes: the standard parametrization's values
        for axis in SP_ONLY:
            frame[axis] = frame[axis].fillna(AXES[axis]) if axis in frame else AXES[axis]
        frame["base_width"] = frame["base_width"].astype(int)
        for key, default in DEFAULT_ONLY.items():  # runs stored before these axes and settings: their defaults
            if key in ("target_loss", "branch_multiplier"):  # a float, NaN for none
                frame[key] = frame[key].astype(float) if key in frame else np.nan
            else:
                frame[key] = frame[key].where(frame[key].notna(), default) if key in frame else default
        frame["reached_at"] = frame["reached_at"].astype(float)  # NaN: no target, or not reached (or stored before)
    if "init" in frame:
        frame.insert(0, "init_label", [_init_label(r["config"]) for r in rows])
    return frame


@dataclass
class Results:
    """A sweep's stored runs (:func:`results`): ``to_frame()`` is :func:`load`'s DataFrame; in a
    notebook it shows itself as the report's sweep section (settings, heatmap, seed statistics)."""

    frame: pd.DataFrame  # as read_frame(db) returns it
    source: str = ""

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def _repr_html_(self):
        return _html.notebook(self.report_section(_html.shown(self.source or None)))

    def report_section(self, source: str | None = None, metric: str = "test_accuracy") -> str:
        """Settings (varying and fixed axes), the heatmap over the first two varying axes, and the
        seed statistics (table and figure)."""
        return _sweep_section(self, source, metric)


def _sweep_section(results, source=None, metric="test_accuracy") -> str:
    """A sweep's stored runs: settings (varying and fixed axes), the heatmap over the first two
    varying axes, and the seed statistics (table and figure)."""
    from . import plots  # matplotlib costs ~0.3 s at start-up: imported when a figure is drawn

    frame = _labelled(results.frame)
    source = source or _html.shown(results.source)  # never the store's absolute path
    title = f"Sweep {os.path.basename(str(source or ''))}".strip()
    if not len(frame):
        return _html.section(title, '<p class="note">No runs stored yet.</p>', "sweep")
    axes = varying_axes(frame)
    fixed = [a for a in ["init_label"] + [x for x in AXES if x != "init"] if a in frame and a not in axes]
    settings = [
        ("results file", source or None),
        ("runs stored", len(frame)),
        ("diverged", int((frame["status"] == "diverged").sum()) if "status" in frame else None),
        ("replicates (seeds)", int(frame["replicate"].nunique()) if "replicate" in frame else None),
    ]
    settings += [(f"varying: {plots._axis_label(a)}", ", ".join(map(str, sorted(frame[a].astype(str).unique())))) for a in axes]
    settings += [(plots._axis_label(a), str(frame[a].iloc[0])) for a in fixed]
    stats = seed_statistics(frame, metric)
    config = [c for c in stats.columns if c not in STAT_COLUMNS]
    header = [plots._axis_label(c) for c in config] + ["mean", "95% low", "95% high", "seeds", "diverged"]
    rows = [[*(row[c] for c in config), row["mean"], row["low"], row["high"], int(row["count"]), _diverged_cell(row)]
            for _, row in stats.sort_values("mean", ascending=False).iterrows()]
    notes = []
    if stats["too_few_seeds"].any():
        notes.append(f"{int(stats['too_few_seeds'].sum())} of {len(stats)} configurations have fewer than 3 seeds: "
                     "no interval (–), their mean is one or two runs.")
    if (stats["diverged"] > 0).any():
        notes.append(f"⚠ {int((stats['diverged'] > 0).sum())} of {len(stats)} configurations have diverged runs "
                     f"({int(stats['diverged'].sum())} runs): their mean includes what the diverged runs scored.")
    body = ["<h3>Run settings</h3>", _html.settings_html(settings)]
    if len(axes) >= 2:
        averaged = plots.averaged_axes(frame, axes[0], axes[1], axes)
        body += ["<h3>Heatmap</h3>", _html.figure_html(plots.heatmap(frame, axes[0], axes[1], metric, axes),
                 f"Mean {metric} over {axes[0]} and {axes[1]}", f"Mean over {averaged}.")]
    if transfer_axes(axes):
        body += ["<h3>Learning rate against width</h3>", _html.figure_html(
            _transfer_figure(frame), "Final training loss against learning rate per width, with each width's optimum",
            "Each width's optimum per replicate (the best rate, refined by a parabola through the log losses), mean ± sd; "
            "the last panel: the optimum against width (flat: the learning rate transfers).")]
    best = stats.sort_values("mean", ascending=False).head(_html.MAX_ROWS)
    body += [f"<h3>Seed statistics: {_html.escape(plots._axis_label(metric))}</h3>",
             _html.table_html(header, rows, percent=("mean", "95% low", "95% high") if "accuracy" in metric else ()),
             "".join(f'<p class="note">{_html.escape(n)}</p>' for n in notes),
             _html.figure_html(plots.seed_figure(best.reset_index(drop=True), metric), f"Mean and 95% interval of {metric} per configuration",
                               "Student-t 95% interval over replicates, clipped to the metric's range (none below 3 seeds); "
                               "best configurations first"
                               + (f" (the best {_html.MAX_ROWS} of {len(stats)})." if len(stats) > _html.MAX_ROWS else "."))]
    return _html.section(title, "".join(body), "sweep")



def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with target_loss as labels ("none", "0.3"), for tables and figures: grouping and
    pivoting drop NaN keys, and with them the runs without a target."""
    if "target_loss" not in frame:
        return frame
    return frame.assign(target_loss=[NO_TARGET if _missing(v) else f"{v:g}" for v in frame["target_loss"]])


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def transfer_axes(axes: Sequence[str]) -> bool:
    """Whether a grid whose varying axes are `axes` is a μTransfer measurement: width and learning
    rate vary, and nothing else but the parametrization and the optimizer (whose optima are kept apart)."""
    return {"width", "learning_rate"} <= set(axes) <= {"width", "learning_rate", "parametrization", "optimizer"}


def _transfer_figure(frame):
    """``plots.transfer_figure`` of a sweep's runs: the final training loss, each width's optimum over replicates."""
    from . import plots

    frame = frame.assign(final_train_cost=frame["final_train_cost"].astype(float))  # a diverged run's None: NaN, the worst
    return plots.transfer_figure(frame, optima(frame, seed="replicate"), seed="replicate")


def _diverged_cell(row):
    """A seed-statistics row's diverged runs: "⚠ 2" when some diverged, else 0."""
    diverged = int(row["diverged"])
    return f"⚠ {diverged}" if diverged else 0


def results(db: str | os.PathLike[str]) -> Results:
    """The runs stored in the sweep database `db`, as a ``Results``."""
    return Results(read_frame(db), os.fspath(db))  # a missing file: load's error, and no file is created


def _init_label(config):
    return format_spec(config["init"], config["init_options"])


def varying_axes(frame: pd.DataFrame) -> list[str]:
    """The grid axes that take more than one value in `frame` (init as its label)."""
    candidates = ["init_label"] + [a for a in AXES if a != "init"]
    return [a for a in candidates if a in frame and frame[a].astype(str).nunique(dropna=False) > 1]


METRICS = ("test_accuracy", "train_accuracy", "final_test_cost", "final_train_cost", "seconds", "reached_at")
RANGES = {"test_accuracy": (0.0, 1.0), "train_accuracy": (0.0, 1.0), "final_test_cost": (0.0, np.inf),
          "final_train_cost": (0.0, np.inf), "seconds": (0.0, np.inf), "reached_at": (0.0, np.inf)}  # the values each metric can take
MIN_SEEDS = 3  # below, no interval is given (too_few_seeds): with 2 values a t interval has 1 degree of freedom
STAT_COLUMNS = ("mean", "std", "count", "low", "high", "too_few_seeds", "diverged")  # seed_statistics' own columns


def seed_statistics(frame: pd.DataFrame, metric: str = "test_accuracy", by: Sequence[str] | None = None) -> pd.DataFrame:
    """Per configuration (the groups of `by`, default the varying axes): the mean of `metric` over
    its replicates, its standard deviation, ``count`` (finite values), a 95% interval ``low`` to
    ``high``, ``too_few_seeds`` and ``diverged`` (how many of its runs diverged).

    The interval is Student's t on the replicates, clipped to the values the metric can take
    (``RANGES``: accuracies in [0, 1], costs and seconds >= 0)::

        low, high = max(a, m - t(0.975, n - 1) · s / √n),  min(b, m + t(0.975, n - 1) · s / √n)

    with m the mean, s the sample standard deviation and n the count. Why this one: t is exact for
    normal replicates and close for others (a test draws 400 sweeps of 10 Beta(8, 2) seeds and
    finds the true mean inside ~95% of the time); clipping never moves a bound past the true mean,
    which lies in [a, b] too, so the coverage is unchanged while the printed interval stays
    possible (no accuracy of 283%). A logit-scale interval would break on accuracies of exactly 1
    (common), and a bootstrap percentile interval under-covers at 3 to 10 seeds.

    With fewer than ``MIN_SEEDS`` (3) finite values, ``low`` and ``high`` are NaN and
    ``too_few_seeds`` is True: a t interval with one degree of freedom is ±12.7 standard errors
    (two accuracies of 0.5 and 1.0 give −123% to 283%), which says nothing. A diverged run's
    metric is kept (its accuracy is what it scored; its cost, missing, is not counted), and
    ``diverged`` says how many there were."""
    from scipy import stats  # scipy.stats costs ~0.2 s at start-up: imported when used

    check_choice("metric", metric, METRICS)
    if len(frame) == 0:
        raise InitlabError("The 'frame' parameter must hold stored runs. Got an empty frame (no run is stored yet).")
    by = by or varying_axes(frame) or ["init_label"]
    values = frame.assign(**{metric: frame[metric].astype(float),
                             "_diverged": (frame["status"] == "diverged") if "status" in frame else False})
    grouped = values.groupby(by, sort=True, dropna=False)  # a NaN key (target_loss: no target) is a configuration too
    table = grouped[metric].agg(["mean", "std", "count"]).reset_index()
    n = table["count"].to_numpy(dtype=float)
    too_few = n < MIN_SEEDS
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * table["std"].fillna(0).to_numpy() / np.sqrt(n)
    low, high = RANGES[metric]
    mean = table["mean"].to_numpy(dtype=float)
    return table.assign(low=np.where(too_few, np.nan, np.clip(mean - half, low, high)),
                        high=np.where(too_few, np.nan, np.clip(mean + half, low, high)),
                        too_few_seeds=too_few,
                        diverged=grouped["_diverged"].sum().to_numpy().astype(int))


PathT = TypeVar("PathT", bound="str | os.PathLike[str]")  # export returns the path given


def export(db: str | os.PathLike[str], path: PathT) -> PathT:
    """Write the stored runs to `path` (.csv or .parquet); return the path."""
    if not str(path).endswith((".csv", ".parquet")):
        raise InitlabError(f"The 'export' parameter must be a .csv or .parquet path. Got {str(path)!r} instead.")
    frame = read_frame(db)
    flat = frame.assign(**{c: frame[c].map(json.dumps) for c in ("init_options", "cost_iterations", "costs", "diagnostics", "history")
                           if c in frame})
    try:
        with replacing(path) as part:
            _write_table(flat, part)
    except OSError as exc:  # a missing or unwritable folder, a full disk: one line, not a traceback
        raise InitlabError(
            f"The 'export' parameter must be a writable .csv or .parquet path. Got {str(path)!r} ({exc.strerror or exc})."
        ) from None
    return path


def _write_table(frame, path):
    """`frame` as CSV or Parquet, by `path`'s extension."""
    if str(path).endswith(".csv"):
        frame.to_csv(path, index=False)
        return
    try:
        frame.to_parquet(path, index=False)
    except ImportError as exc:
        raise InitlabError(f"Writing parquet needs pyarrow ({exc}). Install it or export to .csv.") from None


def save_figures(db: str | os.PathLike[str], out: str | os.PathLike[str], metric: str = "test_accuracy") -> dict[str, str]:
    """Write heatmap.png (the metric over the first two varying axes), seeds.png (mean and 95%
    interval per configuration) and, for a grid of width × learning rate (× parametrization,
    optimizer: ``transfer_axes``), transfer.png (``plots.transfer_figure``) into `out`; return their paths."""
    from . import plots  # matplotlib costs ~0.3 s at start-up: imported when a figure is drawn

    check_choice("metric", metric, METRICS)
    out = check_writable_dir("out", out)
    frame = _labelled(read_frame(db))
    paths: dict[str, str] = {}
    axes = varying_axes(frame)
    if len(axes) >= 2:
        paths["heatmap"] = plots.save(plots.heatmap(frame, axes[0], axes[1], metric, axes), os.path.join(out, "heatmap.png"))
    if transfer_axes(axes):
        paths["transfer"] = plots.save(_transfer_figure(frame), os.path.join(out, "transfer.png"))
    if len(frame):
        paths["seeds"] = plots.save(plots.seed_figure(seed_statistics(frame, metric), metric), os.path.join(out, "seeds.png"))
    return paths


def parse_overrides(assignments: Iterable[str] | None) -> dict[str, list[Any]]:
    """Command-line axes: ["depth=2,4,8", "init=he_normal,random(scale=0.5)"] -> {axis: [values]}."""
    grid: dict[str, list[Any]] = {}
    for text in assignments or []:
        axis, sep, values = text.partition("=")
        if not sep or not values:
            raise InitlabError(f"The 'set' parameter must look like axis=v1,v2 (e.g. depth=2,4,8). Got {text!r} instead.")
        axis = axis.strip()
        parts = split_specs(values)  # commas inside parentheses kept: init=random(scale=0.5),he
        grid[axis] = [_init_table(v) for v in parts] if axis == "init" else [parse_literal(v) for v in parts]
    return grid


def _init_table(text):
    """--set init=random(scale=0.5): the grid's table form {name = "random", scale = 0.5} (the
    label a sweep prints parses back to the same run)."""
    name, options = parse_spec(text)
    return {"name": name, **options} if options else name


