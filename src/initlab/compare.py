"""The course notebook's experiment, generalized: one network per initializer, same data.

>>> c = compare_initializers(["zeros", "he"], iterations=1000)
>>> [r.name for r in c.results], c.results[0].train_accuracy
(['zeros', 'he'], 0.5)
"""
from __future__ import annotations

import json
import os
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np

from . import _html
from ._atomic import replacing
from ._validation import (Checked, Constraint, InitlabError, Interval, Nullable, _fail, check_layer_sizes, check_writable_dir, finite_or_none,
                          validate)
from .data import DATASETS, Dataset, get_dataset, read
from .diagnostics import saturated_outputs, symmetric_layers
from .engines import NOTEBOOK, for_notebook
from .engines.common import Divergence
from .initializers import check_specs
from .network import Network
from .training import Run, TrainOptions, train_many

if TYPE_CHECKING:
    import pandas as pd

NOTEBOOK_INITS = ("zeros", "random", "he")
NOTEBOOK_HIDDEN = (10, 5)


@dataclass
class InitResult:
    """One initializer's run, its accuracies and the reading of its starting point."""

    name: str
    run: Run
    train_accuracy: float
    test_accuracy: float
    symmetric_layers: list[int]  # hidden layers whose units are all identical at the start
    saturated_fraction: float  # training examples whose output is saturated at the start
    snapshots: list[tuple[int, np.ndarray]] = field(default_factory=list, repr=False)  # (iteration, params copy), for animations

    @property
    def comment(self) -> str:
        """The notebook's "Problem/Comment" column, derived from the numbers. The first rule that
        holds names what happened: a divergence; nothing trained; a cost that rose over training
        (the learning rate, whatever the start); then the start's reading (identical units,
        saturated outputs); then the accuracy, "learns slowly" only when the cost fell."""
        run = self.run
        if run.diverged:
            return str(run.divergence)
        if run.steps == 0:
            return "nothing trained (0 iterations)"
        first, last = (float(run.costs[0]), float(run.costs[-1])) if run.costs.size >= 2 else (None, None)
        if first is not None and last is not None and last > first * (1 + 1e-9) and first > 0:
            return (f"cost rose ×{_factor(last / first)} ({_cost(first)} → {_cost(last)}): "
                    "learning rate too large")
        if self.symmetric_layers:
            return f"fails to break symmetry (layer {self.symmetric_layers[0]}: all units identical)"
        if self.saturated_fraction >= 0.5:
            return f"too large weights: {self.saturated_fraction:.0%} of outputs saturated at start"
        if self.train_accuracy >= 0.9:
            return "breaks symmetry without saturating: trains well"
        if first is not None and last is not None and last < first:
            return "breaks symmetry without saturating, but learns slowly"
        if first is not None:
            assert last is not None  # first and last are recorded together
            return f"cost did not fall ({_cost(first)} → {_cost(last)})"
        steps = f"{run.steps} iteration{'s' if run.steps != 1 else ''}"
        return f"trained {steps}, one recorded cost: too few to judge ({self.train_accuracy:.0%} train accuracy)"


def _cost(x: float) -> str:
    """A cost as the comments show it: 2 significant digits below 100, whole numbers from 100."""
    return f"{x:.0f}" if 100 <= abs(x) < 1e6 else f"{x:.2g}"


def _factor(x: float) -> str:
    """A ratio to 2 significant digits, without an exponent below a million: 172.1 -> '170'."""
    rounded = float(f"{x:.2g}")
    return f"{rounded:.0f}" if 100 <= rounded < 1e6 else f"{rounded:.2g}"


@dataclass
class Comparison:
    dataset: Dataset
    network: Network
    options: TrainOptions
    seed: int
    results: list[InitResult]  # in the order asked

    def table(self) -> list[dict[str, Any]]:
        """Rows of the notebook's conclusions table: model, train and test accuracy, comment."""
        depth = self.network.n_layers
        return [
            {
                "model": f"{depth}-layer NN with {r.name} initialization",
                "train accuracy": r.train_accuracy,
                "test accuracy": r.test_accuracy,
                "comment": r.comment,
            }
            for r in self.results
        ]

    def describe(self) -> str:
        """One line saying what was trained on what: "moons data (300 training and 100 test examples,
        2 features); layers [2, 10, 5, 1], hidden activation tanh, sigmoid output"."""
        data, network = self.dataset, self.network
        names = list(dict.fromkeys(network.activation_names))
        hidden = f"hidden activation {names[0]}" if len(names) == 1 else f"hidden activations {', '.join(network.activation_names)}"
        return (f"{data.name} data ({data.X_train.shape[1]} training and {data.X_test.shape[1]} test examples, "
                f"{data.n_features} feature{'s' if data.n_features != 1 else ''}); layers {_sizes_text(network, ', ', '[]')}, "
                f"{hidden}, sigmoid output" + ("" if network.dtype == "float64" else f", {network.dtype}")
                + ("" if network.residual is None else f"; residual blocks: {network.residual}"))

    def to_frame(self) -> pd.DataFrame:
        """The conclusions table as a pandas DataFrame (one row per initializer)."""
        import pandas as pd

        return pd.DataFrame(self.table(), index=pd.Index([r.name for r in self.results], name="init"))

    def _repr_html_(self):
        return _html.notebook(self.report_section())

    def report_section(self, source: str | None = None, animation: bytes | None = None) -> str:
        """Settings, conclusions table, cost curves, one decision boundary per initializer (2-D data)
        and, given GIF bytes, the training animation."""
        from . import plots  # matplotlib costs ~0.3 s at start-up: imported when a figure is drawn

        c, s = self, self.options
        names = [r.name for r in c.results]
        colors = plots.init_colors(names)  # as the figures colour them: two configurations of one scheme differ
        settings = [
            ("results file", source),
            ("dataset", f"{c.dataset.name} ({c.dataset.X_train.shape[1]} training points)" if c.dataset.X_train.size else c.dataset.name),
            ("layers", _sizes_text(c.network)),
            ("hidden activation", ", ".join(dict.fromkeys(c.network.activation_names)) or "none"),
            ("loss", str(c.network.loss)),
            ("float type", c.network.dtype),
            *([] if c.network.residual is None else [("residual blocks", f"{len(c.network.blocks)}, {c.network.residual}")]),
            ("learning rate", s.learning_rate),
            ("iterations", s.iterations),
            ("cost recorded every", f"{s.record_every} iterations"),
            ("seed", c.seed),
            ("engine", ", ".join(dict.fromkeys(r.run.engine for r in c.results if r.run.engine)) or None),
            ("initializers", ", ".join(names)),
        ]
        header = ["initialization", "model", "train accuracy", "test accuracy", "final cost", "comment"]
        rows = [
            [_html.swatch(r.name, colors[r.name]), row["model"], row["train accuracy"], row["test accuracy"], _last_cost(r.run), row["comment"]]
            for r, row in zip(c.results, c.table())
        ]
        body = [
            "<h3>Run settings</h3>", _html.settings_html(settings),
            "<h3>Conclusions</h3>", _html.table_html(header, rows, percent=("train accuracy", "test accuracy"), raw=("initialization",)),
            "<h3>Cost curves</h3>",
            _html.figure_html(plots.cost_curves(c), "Training cost against iteration for " + ", ".join(names),
                              "Training cost (log scale) recorded before each update; one colour per initializer in every figure."),
        ]
        if c.dataset.n_features == 2 and c.dataset.X_train.size:
            panels = [_html.figure_html(plots.decision_boundary_panel(r, c.dataset, colors[r.name]), f"Decision boundary after training from {r.name}")
                      for r in c.results]
            body += ["<h3>Decision boundaries</h3>", '<div class="panels">', *panels, "</div>",
                     '<p class="note">Predicted class over the plane after training (light red: 0, light blue: 1), '
                     "training points on top.</p>"]
        if animation:
            body += ["<h3>Decision boundaries during training</h3>",
                     _html.image_html(animation, "Animation of the decision boundaries during training", None, "image/gif")]
        return _html.section(f"Comparison on {c.dataset.name}: {', '.join(names)}", "".join(body), "comparison")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: settings; per initializer costs, accuracies, comment and final
        parameters; and the training points when they are 2-D (so a report redraws the boundaries)."""
        data = self.dataset
        return {
            "settings": {
                "dataset": self.dataset.name,
                "layers": list(self.network.sizes),
                "activation": [a.to_json() for a in self.network.activation],
                "loss": self.network.loss.to_json(),
                "learning_rate": self.options.learning_rate,
                "iterations": self.options.iterations,
                "record_every": self.options.record_every,
                "seed": self.seed,
                "dtype": self.network.dtype,
                **({} if self.network.residual is None else {"residual": self.network.residual.to_json()}),
                "engine": ", ".join(dict.fromkeys(r.run.engine for r in self.results)),
            },
            "data": {
                "classes": [c if isinstance(c, (int, float, str)) else str(c) for c in data.classes],
                "X_train": data.X_train.tolist(),
                "Y_train": data.Y_train.tolist(),
            } if data.n_features == 2 else None,
            "runs": [
                {
                    "init": r.name,
                    "train_accuracy": r.train_accuracy,
                    "test_accuracy": r.test_accuracy,
                    "comment": r.comment,
                    "diverged_at": r.run.divergence.iteration if r.run.divergence is not None else None,  # run.diverged
                    "divergence": r.run.divergence.what if r.run.divergence is not None else None,
                    "steps": r.run.steps,
                    "cost_iterations": r.run.iterations.tolist(),
                    "costs": r.run.costs.tolist(),
                    "final_train_cost": finite_or_none(r.run.cost(self.dataset.X_train, self.dataset.Y_train)),
                    "saturated_fraction_at_start": r.saturated_fraction,
                    "symmetric_layers_at_start": r.symmetric_layers,
                    "final_params": [finite_or_none(p) for p in r.run.params],
                }
                for r in self.results
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], name: str | os.PathLike[str] = "results.json") -> Comparison:
        """The comparison that ``to_dict`` (a results.json) describes, enough to redraw its tables
        and figures: runs hold their cost history and final parameters (not the initial ones)."""
        try:
            settings = data["settings"]
            network = Network(tuple(settings["layers"]), tuple(settings["activation"]), settings["loss"],
                              dtype=settings.get("dtype", "float64"),  # (files written before dtypes: float64)
                              residual=settings.get("residual"))
            options = TrainOptions(settings["learning_rate"], settings["iterations"], settings["record_every"])
            points = data.get("data")
            n = network.sizes[0]
            X = np.asarray(points["X_train"], dtype=float) if points else np.empty((n, 0))
            Y = np.asarray(points["Y_train"], dtype=float) if points else np.empty((1, 0))
            classes = tuple(points["classes"]) if points else (0, 1)
            dataset = Dataset(str(settings["dataset"]), X, Y, np.empty((n, 0)), np.empty((1, 0)), classes)
            results = []
            for r in data["runs"]:
                params = np.array([np.nan if p is None else p for p in r["final_params"]], dtype=float)
                divergence = None if r.get("diverged_at") is None else Divergence(r["diverged_at"], r.get("divergence") or "")
                if params.shape != (network.n_params,):
                    raise ValueError(f"{r['init']}: {params.size} final parameters for layers {list(network.sizes)}")
                run = Run(network, options, None, params, np.asarray(r["cost_iterations"], dtype=np.int64),  # no initial ones in the file
                          np.array([np.nan if c is None else c for c in r["costs"]], dtype=float),
                          divergence, r.get("steps", 0), settings.get("engine", ""))
                results.append(InitResult(str(r["init"]), run, r["train_accuracy"], r["test_accuracy"],
                                          list(r["symmetric_layers_at_start"]), r["saturated_fraction_at_start"]))
            return cls(dataset, network, options, int(settings["seed"]), results)
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, InitlabError):
                raise
            raise InitlabError(
                f"The file {str(name)!r} is not a results.json written by this initlab's compare "
                f"({type(exc).__name__}: {exc}). Run `initlab compare` again to rewrite it."
            ) from None


def _last_cost(run: Run) -> float | None:
    costs = np.asarray(run.costs, dtype=float)
    return float(costs[-1]) if costs.size else None


def read_results(path: str | os.PathLike[str]) -> tuple[Comparison, dict[str, bytes]]:
    """(comparison, extras) from a results.json that ``save`` wrote: extras holds the bytes of the
    training.gif written with it, when it is still beside it."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InitlabError(f"The file {path!r} is not a readable results.json ({exc}).") from None
    if not isinstance(data, dict) or "settings" not in data or "runs" not in data:
        raise InitlabError(f"The file {path!r} is not a results.json written by initlab compare (no 'settings' and 'runs').")
    extras: dict[str, bytes] = {}
    animation = data.get("animation")  # written by compare --animate, beside results.json
    gif = os.path.join(os.path.dirname(path), os.path.basename(str(animation))) if animation else None
    if gif and gif.endswith(".gif") and os.path.isfile(gif):
        with open(gif, "rb") as f:
            extras["animation"] = f.read()
    return Comparison.from_dict(data, path), extras


def _sizes_text(network: Network, sep: str = " → ", brackets: str = "") -> str:
    """The layer sizes as text ("2 → 10 → 5 → 1"); a residual network's blocks once, with their count
    ("2 → 16 → (16 → 16) × 8 → 1")."""
    sizes = [str(n) for n in network.sizes]
    if network.blocks:
        first, last = network.blocks[0].first, network.blocks[0].last
        branch = sep.join(sizes[first + 1:last + 2])
        sizes = [sizes[0], sizes[1], f"({branch}) × {len(network.blocks)}", sizes[-1]]
    text = sep.join(sizes)
    return f"{brackets[:1]}{text}{brackets[1:]}"


CONSTRAINTS: dict[str, Constraint] = {  # compare_initializers' own parameters (the network's and the training's: Network, TrainOptions)
    "dataset": Checked(lambda name, value: check_two_classes(as_dataset(value), name)),
    "inits": Checked(check_specs),
    "layers": Nullable(Checked(check_layer_sizes)),
    "seed": Interval(Integral, 0),
    "snapshots": Interval(Integral, 0),
    "callback": Nullable(Checked(lambda name, value: value if callable(value) else _fail(name, "a function f(init, iteration, cost) or None", value))),
}


def compare_initializers(
    inits: str | Iterable[str] = NOTEBOOK_INITS,
    *,
    layers: Sequence[int] | None = None,
    learning_rate: float = 0.01,
    iterations: int = 15000,
    record_every: int = 100,
    seed: int = 3,
    dataset: str | Dataset = "circles",
    activation: Any = "relu",
    callback: Optional[Callable[[str, int, float], None]] = None,
    engine: str = "auto",
    snapshots: int = 0,
    dtype: str = "float64",
    residual: Any = None,
) -> Comparison:
    """Train the same network from each initializer in `inits` and collect the results.

    Defaults are the notebook's: circles data, layers [2, 10, 5, 1], ReLU then sigmoid,
    learning rate 0.01, 15000 iterations, and every initializer drawing from ``RandomState(3)``.
    `dataset`: a name of ``initlab.data.DATASETS`` or a ``Dataset`` (``data.read`` of a file); it
    must have two classes, as the one sigmoid output unit does (``check_two_classes``).
    `layers` are all the layer sizes, input and output included (None: the notebook's hidden
    sizes around the dataset's input width). `activation`: the hidden layers' activation, a name
    of ``initlab.activations.ACTIVATIONS`` (or one name per hidden layer); the exact engine
    trains ReLU only, so with another one auto trains with the compiled (or numpy) engine.
    All the networks train as one batch (the compiled engine runs them on all cores);
    `callback(init, iteration, cost)` reports progress, in the order of iteration for each
    initializer (initializers may interleave).
    `engine`: auto, numpy or numba (see ``train``). `snapshots` > 0 keeps about that many copies
    of each run's parameters over training (every k-th recorded iteration, and the final ones),
    for ``plots.training_animation``. `dtype`: the networks' float type, "float64" (the notebook's)
    or "float32" (initial weights drawn in float64 and rounded once; trained by the compiled or
    numpy engine: the exact engine computes in float64). `residual`: None, or a branch scheme
    (``initlab.branches``): `layers` are then a residual network's (a stem, blocks of the scheme's
    depth, a head: ``residual_network(...).sizes``), each initializer drawing its weights and the scheme
    starting its blocks; the exact engine trains plain networks only.
    """
    given = validate(CONSTRAINTS, dict(dataset=dataset, inits=inits, layers=layers, seed=seed, snapshots=snapshots, callback=callback))
    data, specs, layers, seed, snapshots, callback = given.values()  # the table's order
    inits = [label for label, _, _ in specs]  # (label, name, options): "random(scale=0.01)" configures one
    sizes = (data.n_features, *NOTEBOOK_HIDDEN, 1) if layers is None else tuple(layers)  # layers: check_layer_sizes' tuple
    if sizes[0] != data.n_features or sizes[-1] != 1:
        raise InitlabError(f"The 'layers' parameter must start with the data's {data.n_features} input features and "
                           f"end with 1 output unit. Got {list(sizes)} instead.", param="layers")
    network = Network(sizes, activation=activation, dtype=dtype, residual=residual)
    options = TrainOptions(learning_rate, iterations, record_every)
    initial = np.stack([network.init(name, rng=seed, X=data.X_train, **options) for _, name, options in specs])  # (B, P)
    kept: list[list[tuple[int, np.ndarray]]] = [[] for _ in inits]
    records = -(-options.iterations // options.record_every)  # recorded iterations: 0, k, 2k, … < iterations
    keep_every = options.record_every * max(1, math.ceil(records / max(snapshots - 1, 1)))

    def progress(b, i, cost, current):
        if snapshots and i % keep_every == 0:
            kept[b].append((i, np.array(current, copy=True)))
        if callback is not None:
            callback(inits[b], i, cost)

    watch = progress if snapshots or callback is not None else None  # no callback: the engine need not report
    chosen = for_notebook(engine, network, options)  # auto: the exact engine, the notebook's digits on any CPU
    runs = train_many(network, initial, data.X_train, data.Y_train, options, watch, engine=chosen)  # one batch
    for run in runs if chosen != engine else ():
        run.engine_reason = NOTEBOOK  # not "asked for": auto chose it here
    results = [_result(name, run, data, snaps) for name, run, snaps in zip(inits, runs, kept)]
    return Comparison(data, network, options, seed, results)


def as_dataset(dataset: str | Dataset) -> Dataset:
    """`dataset` as a ``Dataset``: a name of ``initlab.data.DATASETS`` is loaded (an unknown name is
    the registry's error, with the closest name), a ``Dataset`` is returned as is."""
    if isinstance(dataset, Dataset):
        return dataset
    if not isinstance(dataset, str):
        _fail("dataset", "a name of initlab.data.DATASETS or a Dataset (initlab.data.read of a file)", dataset)
    return get_dataset(dataset)


def dataset_from(dataset: str | None = None, data: str | os.PathLike[str] | None = None,
                 target: str | None = None) -> Dataset:
    """The dataset `compare` trains on, as the command line names it: `dataset` a registered name
    (``--dataset``), or `data` a user's .csv or .npz file (``--data``) read by ``data.read`` with
    its label column `target` (``--target``; None: read's default, ``target``); neither: the
    notebook's circles. Both, or a `target` without a file, are errors, as is a dataset without
    two classes (``check_two_classes``). Everything is read and checked here, before training."""
    if dataset is not None and data is not None:
        raise InitlabError(f"The 'dataset' and 'data' options cannot be used together: 'dataset' names a registered "
                           f"dataset, 'data' reads your file. Got dataset {dataset!r} and data {str(data)!r}.")
    if data is None:
        if target is not None:
            raise InitlabError(f"The 'target' option names the label column of a 'data' file. Got target {target!r} "
                               "without a data file.")
        return check_two_classes(as_dataset("circles" if dataset is None else dataset))
    return check_two_classes(read(data) if target is None else read(data, target=target), "data")


def check_two_classes(data: Dataset, param: str = "dataset") -> Dataset:
    """`data` when it has two classes (labels one row, as binary cross-entropy takes them), else an
    error naming `param`, the dataset and its classes, and the registered datasets that have two
    (`param` "data": the dataset was read from the user's file)."""
    if data.n_outputs == 1:
        return data
    classes = ", ".join(map(str, data.classes[:10])) + (", …" if len(data.classes) > 10 else "")
    why = "compare trains one sigmoid output unit with binary cross-entropy, the notebook's network"
    got = f"Got {data.name!r} with {len(data.classes)} classes ({classes}) instead."
    if param == "data":
        raise InitlabError(f"The 'data' parameter must be a file whose label column has two values: {why}. {got}")
    binary = [name for name in DATASETS if get_dataset(name).n_outputs == 1]  # only on this error path: loads each
    raise InitlabError(f"The '{param}' parameter must have two classes: {why}. {got} Two-class datasets: "
                       f"{', '.join(binary)}, or a file whose label column has two values.")


def check_animation(data: Dataset) -> Dataset:
    """`data` when a decision-boundary animation can be drawn over it (2 features), else the error
    ``plots.training_animation`` would raise after training, raised before it."""
    if data.n_features != 2:
        raise InitlabError(f"A decision-boundary animation needs 2-D data. Got {data.n_features} features ({data.name}).")
    return data


def _result(name: str, run: Run, data: Dataset, kept: list[tuple[int, np.ndarray]]) -> InitResult:
    """An InitResult: the run's accuracies, the reading of its start, its snapshots (and the end)."""
    if kept and kept[-1][0] != run.steps:
        kept.append((run.steps, run.params.copy()))
    assert run.initial_params is not None  # a run just trained (only one read from a file has none)
    return InitResult(
        name=name,
        run=run,
        train_accuracy=run.accuracy(data.X_train, data.Y_train),
        test_accuracy=run.accuracy(data.X_test, data.Y_test),
        symmetric_layers=symmetric_layers(run.network, run.initial_params),
        saturated_fraction=saturated_outputs(run.network, run.initial_params, data.X_train),
        snapshots=kept,
    )


def save(comparison: Comparison, out: str | os.PathLike[str] = "initlab-out", animate: bool = False) -> dict[str, str]:
    """Write results.json, costs.png and decision_boundaries.png into `out` (and training.gif,
    the decision boundaries over training, when `animate`); return their paths."""
    from . import plots  # matplotlib is imported only when figures are drawn

    out = check_writable_dir("out", out)
    paths = {
        "json": os.path.join(out, "results.json"),
        "costs": os.path.join(out, "costs.png"),
        "boundaries": os.path.join(out, "decision_boundaries.png"),
    }
    data = comparison.to_dict()
    if animate:
        data["animation"] = "training.gif"  # the report embeds it from beside this file
    with replacing(paths["json"]) as part, open(part, "w") as f:
        json.dump(data, f, indent=2)
    plots.save(plots.cost_curves(comparison), paths["costs"])
    if comparison.dataset.n_features == 2:
        plots.save(plots.decision_boundaries(comparison), paths["boundaries"])
    else:
        del paths["boundaries"]  # a decision boundary is drawn over a plane: 2-D data only
    if animate:
        paths["animation"] = plots.training_animation(comparison, os.path.join(out, "training.gif"))
    return paths
