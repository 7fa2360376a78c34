"""One self-contained HTML page from results: settings, tables, figures, verdicts.

This module only assembles pages. Each kind of result renders its own ``<section>``
(``report_section``): a comparison (``compare.Comparison``, read back from compare's
results.json by ``compare.read_results``), a signal study or probe (``diagnostics.SignalStudy`` /
``Probe``, read back from probe's signal.csv by ``diagnostics.read_signal``), a sweep
(``sweep.Results`` of its SQLite ``.db``), a training run (``train.Run``), the dataset catalogue
(``data.Catalog``), a paper reproduction (``papers.common.Reproduction``).
The building blocks (tables, escaped text, embedded figures) are in ``initlab._html``, below every
result type, so a result's notebook repr (``_repr_html_``) is its own section and imports nothing above it.

:func:`write_report` assembles sections into one HTML file whose figures are embedded PNG (or GIF) data
URIs and whose style is inline CSS: no script, no network, nothing to fetch when it is opened. A
Content-Security-Policy forbids scripts and remote resources besides. Every text that comes from
the user (run names, dataset and file names, labels, table cells, verdicts) is escaped, so a name
such as ``<script>alert(1)</script>`` shows as text.

>>> "<script" in table_html(["name"], [["<script>alert(1)</script>"]])
False
"""
from __future__ import annotations

import html
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias

from ._atomic import replacing
from ._html import CSP, CSS, _e
from ._html import settings_html, table_html  # noqa: F401 (the blocks' old home: report.table_html, report.settings_html)
from ._html import shown as _shown
from ._validation import InitlabError, check_writable_dir
from ._version import __version__
from .blocks import BlockStudy, is_blocks_csv, read_blocks
from .compare import Comparison, read_results
from .coordcheck import CoordCheck
from .data import Catalog, catalog  # noqa: F401 (report.catalog: the CLI's `initlab datasets --report`)
from .diagnostics import Probe, SignalStudy, read_signal
from .papers.common import Reproduction
from .sweep import Results
from .sweep import results as sweep_results
from .training import Run

KINDS = ("results.json (initlab compare), signal.csv or blocks.csv (initlab probe, probe --blocks) or a sweep's .db "
         "(initlab sweep)")
SHOWN = (BlockStudy, Catalog, CoordCheck, Probe, Reproduction, Results, Run, SignalStudy)  # the kinds that render themselves from (result, source)
_Result: TypeAlias = "BlockStudy | Comparison | Catalog | CoordCheck | Probe | Reproduction | Results | Run | SignalStudy"  # what section() renders


def section(result: _Result, source: str | None = None, extras: Mapping[str, Any] | None = None) -> str:
    """The HTML <section> of one result object (see the module's docstring for the kinds)."""
    if isinstance(result, Comparison):
        return result.report_section(source, (extras or {}).get("animation"))
    if isinstance(result, SHOWN):
        return result.report_section(source)
    raise InitlabError(f"The 'results' parameter must hold initlab results or files ({KINDS}). Got a {type(result).__name__}.")


def fragment(result: _Result, source: str | os.PathLike[str] | None = None) -> str:
    """A result's section with its style, for a notebook's ``_repr_html_``."""
    return f'<div class="initlab-report"><style>{CSS}</style>{section(result, _shown(source))}</div>'


# --- loading result files -----------------------------------------------------------------------------
def read_result(path: str | os.PathLike[str]) -> Comparison | SignalStudy | Probe | BlockStudy | Results:
    """The result a file written by initlab holds: results.json → ``compare.Comparison``,
    signal.csv → ``diagnostics.SignalStudy`` (or ``Probe``), blocks.csv → ``blocks.BlockStudy``,
    a sweep's .db → ``sweep.Results``."""
    return _load(path)[0]


def _load(path):
    """(result, extras): extras holds a comparison's training.gif bytes when compare wrote one with it."""
    path = os.fspath(path)
    name = os.path.basename(path)
    if not name.endswith((".json", ".csv", ".db")):
        raise InitlabError(f"The 'results' parameter must be files initlab wrote: {KINDS}. Got {path!r} instead.")
    if not os.path.isfile(path):
        raise InitlabError(f"The 'results' parameter must be existing files: {KINDS}. Got {path!r} (no such file).")
    if name.endswith(".json"):
        return read_results(path)
    if name.endswith(".csv"):
        return (read_blocks(path) if is_blocks_csv(path) else read_signal(path)), {}
    return sweep_results(path), {}


# --- pages ------------------------------------------------------------------------------------------
def page(sections: Sequence[str], title: str = "initlab report", sources: Sequence[str] = ()) -> str:
    """A complete HTML document: inline CSS, a table of contents, the sections; no script."""
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


def write_report(results: _Result | str | os.PathLike[str] | Iterable[_Result | str | os.PathLike[str]],
                 path: str | os.PathLike[str] = "report.html", title: str = "initlab report") -> str:
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
