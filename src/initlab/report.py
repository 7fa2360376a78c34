"""One self-contained HTML page from results: settings, tables, figures, verdicts.

Each kind of result becomes one ``<section>`` (:func:`section`): a comparison (``compare``'s
results.json), a signal study or probe (``probe``'s signal.csv), a sweep (its SQLite ``.db``), a
training run, the dataset catalogue. :func:`write` assembles sections into one HTML file whose
figures are embedded PNG (or GIF) data URIs and whose style is inline CSS: no script, no network,
nothing to fetch when it is opened. A Content-Security-Policy forbids scripts and remote resources
besides. Every text that comes from the user (run names, dataset and file names, labels, table
cells, verdicts) is escaped, so a name such as ``<script>alert(1)</script>`` shows as text.

The notebook representations (``_repr_html_`` of ``Run``, ``Comparison``, ``Probe``,
``SignalStudy`` and ``sweep.Results``) are :func:`fragment`: the same sections.

>>> "<script" in table_html(["name"], [["<script>alert(1)</script>"]])
False
"""
from __future__ import annotations

import base64
import html
import io
import os
import time
from dataclasses import dataclass

import numpy as np

from ._atomic import replacing
from ._validation import InitlabError, check_writable_dir

KINDS = "results.json (initlab compare), signal.csv (initlab probe) or a sweep's .db (initlab sweep)"
FIGURE_DPI = 100  # figures are shown at their pixel size: 100 dpi keeps 10-pt text ≈ 14 px
MAX_ROWS = 40  # longer tables show their first rows and say how many are left out

CSS = """
.initlab-report { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: #1f2328; line-height: 1.45; max-width: 1240px; margin: 0 auto; padding: 0 16px 32px; }
.initlab-report h1 { font-size: 1.7em; margin: 0.6em 0 0.2em; }
.initlab-report h2 { font-size: 1.35em; border-bottom: 2px solid #d0d7de; padding-bottom: 0.2em; margin-top: 1.6em; }
.initlab-report h3 { font-size: 1.1em; margin: 1.2em 0 0.4em; }
.initlab-report .meta { color: #57606a; font-size: 0.9em; }
.initlab-report table { border-collapse: collapse; margin: 0.4em 0 0.8em; font-size: 0.92em; }
.initlab-report th, .initlab-report td { border: 1px solid #d0d7de; padding: 3px 9px; text-align: left; vertical-align: top; }
.initlab-report th { background: #f6f8fa; }
.initlab-report td.num { text-align: right; font-variant-numeric: tabular-nums; }
.initlab-report table.settings th { font-weight: 600; white-space: nowrap; }
.initlab-report .swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px;
  margin-right: 0.4em; vertical-align: -0.1em; }
.initlab-report figure { margin: 0.5em 0 1em; }
.initlab-report figure img { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
.initlab-report figcaption { color: #57606a; font-size: 0.88em; max-width: 760px; }
.initlab-report .panels { display: flex; flex-wrap: wrap; gap: 12px; }
.initlab-report .panels figure { margin: 0; }
.initlab-report ul.verdicts { margin: 0.2em 0 0.8em; }
.initlab-report .note { color: #57606a; font-size: 0.88em; }
.initlab-report nav ul { columns: 2; font-size: 0.92em; }
"""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _e(value) -> str:
    """`value` as HTML text: every <, >, &, ' and " escaped."""
    return html.escape(str(value), quote=True)


# --- building blocks ---------------------------------------------------------------------------------
def _fmt(value, percent=False):
    if value is None:
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return "–" if np.isnan(value) else str(value)
        return f"{value:.2%}" if percent else f"{value:.4g}"
    return str(value)


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def table_html(header, rows, percent=(), raw=(), limit=MAX_ROWS, css_class="") -> str:
    """A table; every header and cell escaped, except the columns named in `raw` (HTML built
    here, e.g. a colour swatch). Columns in `percent` show as percentages; numbers align right."""
    rows = list(rows)
    shown = rows[:limit] if limit else rows
    cls = f' class="{_e(css_class)}"' if css_class else ""
    out = [f"<table{cls}><thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr></thead><tbody>"]
    for row in shown:
        cells = []
        for h, value in zip(header, row):
            if h in raw:
                cells.append(f"<td>{value}</td>")
            elif _is_number(value):
                cells.append(f'<td class="num">{_e(_fmt(value, h in percent))}</td>')
            else:
                cells.append(f"<td>{_e(_fmt(value))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    if len(rows) > len(shown):
        out.append(f'<p class="note">{len(rows) - len(shown)} more rows not shown.</p>')
    return "".join(out)


def settings_html(pairs) -> str:
    """A two-column table of (setting, value), both escaped."""
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(_fmt(v))}</td></tr>" for k, v in pairs if v is not None)
    return f'<table class="settings"><tbody>{rows}</tbody></table>'


def swatch(name, color=None) -> str:
    """A small square in initializer `name`'s colour (the colour its lines have in every figure), or
    in `color`: the one it has in its section's figures (``plots.init_colors``)."""
    from .plots import init_color

    return f'<span class="swatch" style="background:{color or init_color(name)}"></span>{_e(name)}'


def png(fig, dpi=FIGURE_DPI) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def image_html(data: bytes, alt, caption=None, mime="image/png") -> str:
    """An <img> with the image embedded as a data URI (nothing to fetch), alt text escaped."""
    encoded = base64.b64encode(data).decode("ascii")
    caption = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="data:{mime};base64,{encoded}" alt="{_e(alt)}">{caption}</figure>'


def figure_html(fig, alt, caption=None) -> str:
    return image_html(png(fig), alt, caption)


def _section(title, body, kind) -> str:
    return f'<section class="{kind}"><h2>{_e(title)}</h2>{body}</section>'


# --- comparison --------------------------------------------------------------------------------------
def comparison_section(comparison, source=None, animation=None) -> str:
    """Settings, conclusions table, cost curves, one decision boundary per initializer (2-D data)
    and, given GIF bytes, the training animation."""
    from . import plots

    c, s = comparison, comparison.options
    names = [r.name for r in c.results]
    colors = plots.init_colors(names)  # as the figures colour them: two configurations of one scheme differ
    settings = [
        ("results file", source),
        ("dataset", f"{c.dataset.name} ({c.dataset.X_train.shape[1]} training points)" if c.dataset.X_train.size else c.dataset.name),
        ("layers", " → ".join(map(str, c.network.sizes))),
        ("hidden activation", ", ".join(dict.fromkeys(c.network.activation)) or "none"),
        ("loss", c.network.loss),
        ("learning rate", s.learning_rate),
        ("iterations", s.iterations),
        ("cost recorded every", f"{s.record_every} iterations"),
        ("seed", c.seed),
        ("engine", ", ".join(dict.fromkeys(r.run.engine for r in c.results if r.run.engine)) or None),
        ("initializers", ", ".join(names)),
    ]
    header = ["initialization", "model", "train accuracy", "test accuracy", "final cost", "comment"]
    rows = [
        [swatch(r.name, colors[r.name]), row["model"], row["train accuracy"], row["test accuracy"], _last_cost(r.run), row["comment"]]
        for r, row in zip(c.results, c.table())
    ]
    body = [
        "<h3>Run settings</h3>", settings_html(settings),
        "<h3>Conclusions</h3>", table_html(header, rows, percent=("train accuracy", "test accuracy"), raw=("initialization",)),
        "<h3>Cost curves</h3>",
        figure_html(plots.cost_curves(c), "Training cost against iteration for " + ", ".join(names),
                    "Training cost (log scale) recorded before each update; one colour per initializer in every figure."),
    ]
    if c.dataset.n_features == 2 and c.dataset.X_train.size:
        panels = [figure_html(plots.decision_boundary_panel(r, c.dataset, colors[r.name]), f"Decision boundary after training from {r.name}")
                  for r in c.results]
        body += ["<h3>Decision boundaries</h3>", '<div class="panels">', *panels, "</div>",
                 '<p class="note">Predicted class over the plane after training (light red: 0, light blue: 1), '
                 "training points on top.</p>"]
    if animation:
        body += ["<h3>Decision boundaries during training</h3>",
                 image_html(animation, "Animation of the decision boundaries during training", None, "image/gif")]
    return _section(f"Comparison on {c.dataset.name}: {', '.join(names)}", "".join(body), "comparison")


def _last_cost(run):
    costs = np.asarray(run.costs, dtype=float)
    return float(costs[-1]) if costs.size else None


# --- one training run (notebook) --------------------------------------------------------------------
def run_section(run, name="run") -> str:
    """A training run: its settings, the cost table (at most a dozen rows) and the cost curve."""
    from . import plots

    o = run.options
    settings = [
        ("layers", " → ".join(map(str, run.network.sizes))),
        ("hidden activation", ", ".join(dict.fromkeys(run.network.activation)) or "none"),
        ("loss", run.network.loss),
        ("optimizer", o.optimizer + (f" {o.optimizer_options}" if o.optimizer_options else "")),
        ("learning rate", o.learning_rate),
        ("iterations", o.iterations),
        ("batch size", o.batch_size or "full batch"),
        ("updates applied", run.steps),
        ("engine", run.engine),
        ("status", str(run.divergence) if run.diverged else "finished"),
    ]
    iterations, costs = np.asarray(run.iterations), np.asarray(run.costs, dtype=float)
    pick = np.unique(np.linspace(0, len(costs) - 1, min(len(costs), 12)).round().astype(int)) if len(costs) else []
    rows = [[int(iterations[k]), float(costs[k])] for k in pick]
    body = ["<h3>Settings</h3>", settings_html(settings), "<h3>Cost</h3>", table_html(["iteration", "training cost"], rows)]
    if len(costs):
        body.append(figure_html(plots.cost_figure([(name, run)], o.learning_rate, run.network.loss), f"Training cost of {name}"))
    return _section(f"Training run: {name}", "".join(body), "run")


# --- signal propagation -----------------------------------------------------------------------------
PROBE_COLUMNS = ["layer", "units", "activation", "act_ms", "pred_act_ms", "grad_var", "pred_grad_var", "dead", "saturated"]


def probe_section(probe, source=None) -> str:
    """One probe: its verdicts, the per-layer table (measured beside predicted) and figure."""
    table = probe.table
    columns = [c for c in PROBE_COLUMNS if c in table]
    body = [
        "<h3>Verdicts</h3>", _verdicts_html(probe.verdicts),
        "<h3>Per-layer signal</h3>", settings_html([("results file", source)]) if source else "",
        table_html(columns, table[columns].itertuples(index=False)),
        figure_html(probe.plot(), "Activation mean square and gradient variance by layer, measured and predicted",
                    "Measured (solid) against the mean-field prediction (dashed), log scale."),
        _histograms_html(probe),
    ]
    return _section("Signal propagation probe", "".join(body), "probe")


HISTOGRAM_CAPTION = ("Each panel: one hidden layer's values binned (41 bins), bar height the fraction of its values. "
                     "A row shares one x range over all its layers, ±max |value| (at most 5 times the largest layer "
                     "std; values beyond are counted in the end bins), so a collapsed layer is a spike at 0 and a "
                     "saturated tanh layer piles up at ±1; the title states each layer's std.")


def _histograms_html(result) -> str:
    """The per-layer histograms of a probe or study (heading and figure), or nothing when it holds none
    (a signal.csv written without histograms.csv beside it)."""
    if getattr(result, "histograms", None) is None or not len(result.histograms):
        return ""
    one_seed = "seed" in result.histograms  # a study bins its first seed only
    return "<h3>Per-layer histograms</h3>" + figure_html(
        result.plot_histograms(), "Histograms of the activations and gradients of a few hidden layers",
        HISTOGRAM_CAPTION + (" One seed per initializer (seed 0)." if one_seed else ""))


def study_section(study, source=None) -> str:
    """A signal study (several initializers and seeds): settings, verdicts per initializer, the
    measured-against-predicted figure, a first/last hidden layer summary and, when the study holds
    them, the per-layer histograms."""
    table, network = study.table, study.network
    inits = list(dict.fromkeys(table["init"])) if "init" in table else []
    hidden = table[~table["activation"].astype(str).str.startswith("output")]
    n_seeds = int(table["seed"].nunique()) if "seed" in table else 1
    widths = sorted(set(network.sizes[1:-1]))
    settings = [
        ("results file", source),
        ("network", f"{len(network.sizes) - 2} hidden layers of {', '.join(map(str, widths))} units, "
                    f"input width {network.sizes[0]}, {network.sizes[-1]} output unit(s)"),
        ("hidden activation", ", ".join(dict.fromkeys(network.activation))),
        ("initializers", ", ".join(map(str, inits))),
        ("seeds per initializer", n_seeds),
    ]
    from .plots import init_colors

    colors = init_colors(map(str, inits))
    verdicts = "".join(f"<h4>{swatch(name, colors.get(str(name)))}</h4>{_verdicts_html(found)}"
                       for name, found in study.verdicts.items())
    rows = []
    for name in inits:
        mean = hidden[hidden["init"] == name].groupby("layer").mean(numeric_only=True)
        if len(mean):
            first, last = mean.iloc[0], mean.iloc[-1]
            rows.append([swatch(name, colors.get(str(name))), float(first.act_ms), float(last.act_ms), float(last.pred_act_ms),
                         float(first.grad_var), float(last.grad_var), float(first.pred_grad_var)])
    header = ["initialization", "E[a²] layer 1", "E[a²] last layer", "E[a²] last, theory",
              "Var(δ) layer 1", "Var(δ) last layer", "Var(δ) layer 1, theory"]
    body = [
        "<h3>Settings</h3>", settings_html(settings),
        "<h3>Verdicts</h3>", verdicts,
        "<h3>Per-layer signal</h3>",
        figure_html(study.plot(), "Activation mean square and gradient variance per hidden layer, by initializer",
                    "Line: mean over seeds, band: min–max, dashed: the mean-field theory's prediction; log scale."),
        table_html(header, rows, raw=("initialization",)),
        '<p class="note">Means over seeds at the first and last hidden layer.</p>',
        _histograms_html(study),
    ]
    return _section(f"Signal propagation through {len(network.sizes) - 2} hidden layers", "".join(body), "signal")


def _verdicts_html(found) -> str:
    if not found:
        return '<p class="note">Nothing to report.</p>'
    return '<ul class="verdicts">' + "".join(f"<li>{_e(v)}</li>" for v in found) + "</ul>"


# --- sweeps ---------------------------------------------------------------------------------------
def sweep_section(results, source=None, metric="test_accuracy") -> str:
    """A sweep's stored runs: settings (varying and fixed axes), the heatmap over the first two
    varying axes, and the seed statistics (table and figure)."""
    from . import plots
    from .sweep import AXES, STAT_COLUMNS, seed_statistics, varying_axes

    frame = results.frame
    source = source or _shown(results.source)  # never the store's absolute path
    title = f"Sweep {os.path.basename(str(source or ''))}".strip()
    if not len(frame):
        return _section(title, '<p class="note">No runs stored yet.</p>', "sweep")
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
    body = ["<h3>Run settings</h3>", settings_html(settings)]
    if len(axes) >= 2:
        averaged = plots.averaged_axes(frame, axes[0], axes[1])
        body += ["<h3>Heatmap</h3>", figure_html(plots.heatmap(frame, axes[0], axes[1], metric),
                 f"Mean {metric} over {axes[0]} and {axes[1]}", f"Mean over {averaged}.")]
    best = stats.sort_values("mean", ascending=False).head(MAX_ROWS)
    body += [f"<h3>Seed statistics: {_e(plots._axis_label(metric))}</h3>",
             table_html(header, rows, percent=("mean", "95% low", "95% high") if "accuracy" in metric else ()),
             "".join(f'<p class="note">{_e(n)}</p>' for n in notes),
             figure_html(plots.seed_figure(best.reset_index(drop=True), metric), f"Mean and 95% interval of {metric} per configuration",
                         "Student-t 95% interval over replicates, clipped to the metric's range (none below 3 seeds); "
                         "best configurations first"
                         + (f" (the best {MAX_ROWS} of {len(stats)})." if len(stats) > MAX_ROWS else "."))]
    return _section(title, "".join(body), "sweep")


def _diverged_cell(row):
    """A seed-statistics row's diverged runs: "⚠ 2" when some diverged, else 0."""
    diverged = int(row["diverged"])
    return f"⚠ {diverged}" if diverged else 0


# --- datasets ---------------------------------------------------------------------------------------
@dataclass
class Catalog:
    """The registered datasets, loaded with their defaults: a table, and thumbnails in a report."""

    datasets: list  # of data.Dataset

    def rows(self):
        return [
            {"name": d.name, "features": d.n_features, "classes": len(d.classes), "train": d.X_train.shape[1], "test": d.X_test.shape[1]}
            for d in self.datasets
        ]

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.rows()).set_index("name")

    def _repr_html_(self):
        return fragment(self)


def catalog(names=None) -> Catalog:
    """Every dataset of ``DATASETS`` (or those in `names`), built with its default options."""
    from ._validation import check_names
    from .data import DATASETS, load

    names = list(DATASETS) if names is None else check_names("names", names, "dataset", DATASETS)
    return Catalog([load(name) for name in names])


def datasets_section(cat: Catalog) -> str:
    from . import plots

    header = ["name", "features", "classes", "train", "test", "thumbnail"]
    rows = [[r["name"], r["features"], r["classes"], r["train"], r["test"],
             figure_html(plots.dataset_thumbnail(d), f"Thumbnail of the {d.name} dataset")]
            for r, d in zip(cat.rows(), cat.datasets)]
    body = table_html(header, rows, raw=("thumbnail",), limit=None) + (
        '<p class="note">2-D data: training points coloured by class; image data: the first training images.</p>')
    return _section("Datasets", body, "datasets")


# --- loading result files -----------------------------------------------------------------------------
def load(path):
    """The result a file written by initlab holds: results.json → ``compare.Comparison``,
    signal.csv → ``diagnostics.SignalStudy`` (or ``Probe``), a sweep's .db → ``sweep.Results``."""
    return _load(path)[0]


def _shown(source, folder=None):
    """How a page names an input file: its path relative to `folder` (the page's) when it lies
    there or below, else its file name alone. Never an absolute path: a page is shared, and an
    absolute path tells the reader the writer's home directory and folder layout."""
    if not source:
        return None
    source = os.fspath(source)
    if folder is not None:
        try:
            relative = os.path.relpath(os.path.abspath(source), folder)
        except ValueError:  # another drive (Windows)
            relative = os.pardir
        if relative != os.pardir and not relative.startswith(os.pardir + os.sep) and not os.path.isabs(relative):
            return relative
    return os.path.basename(source)


def _load(path):
    """(result, extras): extras holds a comparison's training.gif bytes when compare wrote one with it."""
    path = os.fspath(path)
    name = os.path.basename(path)
    if not name.endswith((".json", ".csv", ".db")):
        raise InitlabError(f"The 'results' parameter must be files initlab wrote: {KINDS}. Got {path!r} instead.")
    if not os.path.isfile(path):
        raise InitlabError(f"The 'results' parameter must be existing files: {KINDS}. Got {path!r} (no such file).")
    if name.endswith(".json"):
        return _load_comparison(path)
    if name.endswith(".csv"):
        return _load_signal(path), {}
    from .sweep import results

    return results(path), {}


def _load_comparison(path):
    import json

    from .compare import Comparison

    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InitlabError(f"The file {path!r} is not a readable results.json ({exc}).") from None
    if not isinstance(data, dict) or "settings" not in data or "runs" not in data:
        raise InitlabError(f"The file {path!r} is not a results.json written by initlab compare (no 'settings' and 'runs').")
    extras = {}
    animation = data.get("animation")  # written by compare --animate, beside results.json
    gif = os.path.join(os.path.dirname(path), os.path.basename(str(animation))) if animation else None
    if gif and gif.endswith(".gif") and os.path.isfile(gif):
        with open(gif, "rb") as f:
            extras["animation"] = f.read()
    return Comparison.from_dict(data, path), extras


SIGNAL_COLUMNS = {"layer", "units", "activation", "act_ms", "grad_var", "pred_act_ms", "pred_grad_var"}


def _load_signal(path):
    """Rebuild the study (or probe) from its CSV; verdicts are read again from the seed means,
    as ``signal_propagation`` reads them."""
    import pandas as pd

    from .diagnostics import Probe, SignalStudy, verdicts
    from .network import Network

    try:
        table = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise InitlabError(f"The file {path!r} is not a readable CSV file ({exc}).") from None
    missing = SIGNAL_COLUMNS - set(table.columns)
    if missing or not len(table):
        raise InitlabError(f"The file {path!r} is not a signal.csv written by initlab probe "
                           f"(missing columns: {', '.join(sorted(missing)) or 'none; it has no rows'}).")
    keys = [k for k in ("init", "seed") if k in table]
    first = table[(table[keys] == table[keys].iloc[0]).all(axis=1)] if keys else table
    first = first.sort_values("layer")
    try:
        output = str(first["activation"].iloc[-1])
        loss = output[output.index("(") + 1 : output.rindex(")")] if "(" in output else "binary_cross_entropy"
        units = tuple(int(u) for u in first["units"])
        network = Network((units[0],) + units, tuple(str(a) for a in first["activation"].iloc[:-1]), loss)
    except (ValueError, InitlabError) as exc:
        raise InitlabError(f"The file {path!r} does not describe an initlab network ({exc}).") from None
    table = table.assign(init=table["init"].astype(str)) if "init" in table else table
    binned = _load_histograms(path, table)
    if "init" not in table:
        return Probe(table, verdicts(table, network), binned)
    found = {}
    for name, rows in table.groupby("init", sort=False):
        found[name] = verdicts(rows.groupby("layer", sort=True).mean(numeric_only=True).reset_index(), network)
    return SignalStudy(network, table, found, binned)


HISTOGRAM_FILE_COLUMNS = {"layer", "kind", "bin_left", "bin_right", "count", "values", "std"}


def _load_histograms(signal_path, table):
    """The histograms.csv that ``SignalStudy.save`` wrote beside `signal_path`, or None when there is
    none (a folder written before initlab drew histograms). One that cannot be read, or that describes
    other initializers or layers than signal.csv (left from another probe), is a one-line error."""
    import pandas as pd

    from .diagnostics import HISTOGRAMS_CSV

    path = os.path.join(os.path.dirname(os.path.abspath(signal_path)), HISTOGRAMS_CSV)
    if not os.path.isfile(path):
        return None
    try:
        frame = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise InitlabError(f"The file {_shown(path)!r} beside {_shown(signal_path)!r} is not a readable CSV file ({exc}).") from None
    missing = HISTOGRAM_FILE_COLUMNS - set(frame.columns)
    if missing:
        raise InitlabError(f"The file {_shown(path)!r} is not a histograms.csv written by initlab probe "
                           f"(missing columns: {', '.join(sorted(missing))}).")
    frame = frame.assign(init=frame["init"].astype(str)) if "init" in frame else frame
    inits_ok = ("init" in frame) == ("init" in table) and ("init" not in frame or set(frame["init"]) <= set(table["init"]))
    if not inits_ok or not set(frame["layer"]) <= set(table["layer"]):
        raise InitlabError(f"The file {_shown(path)!r} describes another probe than {_shown(signal_path)!r} beside it "
                           "(other initializers or layers): run initlab probe again, or remove it.")
    return frame


# --- pages ------------------------------------------------------------------------------------------
def reproduction_section(rep) -> str:
    """A paper reproduction: each claim, the paper's value, this run's, the verdict; its figures."""
    rows = [[c.statement, c.expected, c.measured, "holds" if c.holds else "does not hold", c.rule] for c in rep.claims]
    settings = table_html(["setting", "value"], [[k, str(v)] for k, v in rep.settings.items()], limit=None)
    claims = table_html(["claim", "paper", "measured on this run", "verdict", "rule"], rows, limit=None)
    figures = "".join(figure_html(fig, f"{rep.name}: {key}", key.replace("_", " ")) for key, fig in rep.figures.items())
    body = f"<p>{html.escape(rep.citation)}</p>{settings}{claims}{figures}"
    return _section(f"Reproduction: {rep.title}", body, "reproduction")


def section(result, source=None, extras=None) -> str:
    """The HTML <section> of one result object (see the module's docstring for the kinds)."""
    from .compare import Comparison
    from .diagnostics import Probe, SignalStudy
    from .papers.common import Reproduction
    from .sweep import Results
    from .train import Run

    if isinstance(result, Reproduction):
        return reproduction_section(result)
    if isinstance(result, Comparison):
        return comparison_section(result, source, (extras or {}).get("animation"))
    if isinstance(result, SignalStudy):
        return study_section(result, source)
    if isinstance(result, Probe):
        return probe_section(result, source)
    if isinstance(result, Results):
        return sweep_section(result, source)
    if isinstance(result, Run):
        return run_section(result, source or "run")
    if isinstance(result, Catalog):
        return datasets_section(result)
    raise InitlabError(f"The 'results' parameter must hold initlab results or files ({KINDS}). Got a {type(result).__name__}.")


def fragment(result, source=None) -> str:
    """A result's section with its style, for a notebook's ``_repr_html_``."""
    return f'<div class="initlab-report"><style>{CSS}</style>{section(result, _shown(source))}</div>'


def page(sections, title="initlab report", sources=()) -> str:
    """A complete HTML document: inline CSS, a table of contents, the sections; no script."""
    from . import __version__

    toc = "".join(f'<li><a href="#s{k}">{_e(_heading(s))}</a></li>' for k, s in enumerate(sections, 1))
    body = "".join(s.replace("<section ", f'<section id="s{k}" ', 1) for k, s in enumerate(sections, 1))
    made_from = f" · from {_e(', '.join(sources))}" if sources else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>body {{ margin: 0; background: #fff; }}{CSS}</style></head>\n"
        f'<body><div class="initlab-report"><header><h1>{_e(title)}</h1>'
        f'<p class="meta">initlab {_e(__version__)} · written {_e(time.strftime("%Y-%m-%d %H:%M"))}{made_from}</p></header>'
        + (f"<nav><ul>{toc}</ul></nav>" if len(sections) > 1 else "")
        + f"{body}</div></body></html>\n"
    )


def _heading(section_html):
    start = section_html.find("<h2>") + 4
    return html.unescape(section_html[start : section_html.index("</h2>", start)]) if start >= 4 else "section"


def write(results, path="report.html", title="initlab report"):
    """Write one self-contained HTML page for `results` (result objects, or paths of files initlab
    wrote: results.json, signal.csv, a sweep's .db) to `path`; return the path."""
    if isinstance(results, (str, os.PathLike)) or not hasattr(results, "__iter__"):
        results = [results]
    results = list(results)
    if not results:
        raise InitlabError(f"The 'results' parameter must name at least one result: {KINDS}. Got none.")
    path = os.fspath(path)
    if not path.lower().endswith((".html", ".htm")):  # never write a page over a spec, a CSV, …
        raise InitlabError(f"The 'out' parameter must be a file name ending in .html. Got {path!r}.")
    check_writable_dir("out", os.path.dirname(os.path.abspath(path)))
    if os.path.isdir(path):
        raise InitlabError(f"The 'out' parameter must be a file path such as report.html. Got the folder {path!r}.")
    sections, sources = [], []
    folder = os.path.dirname(os.path.abspath(path))
    for item in results:
        if isinstance(item, (str, os.PathLike)):
            result, extras = _load(item)
            sources.append(os.fspath(item))
            sections.append(section(result, _shown(item, folder), extras))
        else:
            sections.append(section(item))
    document = page(sections, title, [os.path.basename(s) for s in sources])
    with replacing(path) as part, open(part, "w", encoding="utf-8") as f:
        f.write(document)
    return path
