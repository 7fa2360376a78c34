"""HTML building blocks for report sections: escaping, tables, settings, embedded figures.

Every result type renders its own ``<section>`` with these (``Run.report_section``,
``Comparison.report_section``, ``Probe.report_section``, …) and its notebook repr is
:func:`notebook` of that section; ``initlab.report`` assembles sections into pages. Every text
that comes from the user is escaped.

>>> "<script" in table_html(["name"], [["<script>alert(1)</script>"]])
False
"""
from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

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


def _e(value: object) -> str:
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


def table_html(header: Sequence[str], rows: Iterable[Iterable[Any]], percent: Collection[str] = (), raw: Collection[str] = (),
               limit: int | None = MAX_ROWS, css_class: str = "") -> str:
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


def settings_html(pairs: Iterable[tuple[object, object]]) -> str:
    """A two-column table of (setting, value), both escaped."""
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(_fmt(v))}</td></tr>" for k, v in pairs if v is not None)
    return f'<table class="settings"><tbody>{rows}</tbody></table>'


def swatch(name: object, color: str | None = None) -> str:
    """A small square in initializer `name`'s colour (the colour its lines have in every figure), or
    in `color`: the one it has in its section's figures (``plots.init_colors``)."""
    from .plots import init_color  # plots imports matplotlib: ~0.3 s at start-up, paid when a page is built

    return f'<span class="swatch" style="background:{color or init_color(name)}"></span>{_e(name)}'


def png(fig: Figure, dpi: float = FIGURE_DPI) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def image_html(data: bytes, alt: str, caption: str | None = None, mime: str = "image/png") -> str:
    """An <img> with the image embedded as a data URI (nothing to fetch), alt text escaped."""
    encoded = base64.b64encode(data).decode("ascii")
    caption = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="data:{mime};base64,{encoded}" alt="{_e(alt)}">{caption}</figure>'


def figure_html(fig: Figure, alt: str, caption: str | None = None) -> str:
    return image_html(png(fig), alt, caption)


def section(title: str, body: str, kind: str) -> str:
    return f'<section class="{kind}"><h2>{_e(title)}</h2>{body}</section>'


def verdicts_html(found: Iterable[str]) -> str:
    if not found:
        return '<p class="note">Nothing to report.</p>'
    return '<ul class="verdicts">' + "".join(f"<li>{_e(v)}</li>" for v in found) + "</ul>"


def shown(source: str | os.PathLike[str] | None, folder: str | None = None) -> str | None:
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


def notebook(section_html: str) -> str:
    """A section with its style, for a notebook's ``_repr_html_``."""
    return f'<div class="initlab-report"><style>{CSS}</style>{section_html}</div>'
escape = _e
