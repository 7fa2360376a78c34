"""A figure is readable: ``assert_readable(fig)`` draws it with Agg and checks, on the drawn
layout (display pixels), that

(a) every title, suptitle, axis label, tick label, legend and text lies inside the canvas;
(b) no two of the figure's captions overlap: suptitle (and supxlabel/supylabel), axes titles,
    axis labels, legends, figure texts, and the tick labels of every axis. The tick labels of
    one axis are not compared with each other (a crowded axis is another matter), nor with the
    legend or texts inside their own axes; everything else is: an axis label on a neighbouring
    panel's tick labels, a figure legend on an x label or a suptitle on a title is a collision;
    nor does a caption lie on another axes' area (a title under the upper panel's tick labels);
(c) every data line and scatter has a visible mark: a line of one finite point has a marker,
    a scatter has points of non-zero size, nothing is fully transparent.

On failure the AssertionError lists every problem found, each naming its artists.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgba_array

TOLERANCE = 1.0  # pixels: boxes that touch or overlap by less than this are not a collision


def _text(artist):
    return artist.get_visible() and bool(artist.get_text().strip())


def _in_view(axis, loc):
    low, high = sorted(axis.get_view_interval())
    slack = 1e-9 * max(abs(low), abs(high), 1e-300)
    return low - slack <= loc <= high + slack


def _tick_labels(axis):
    """The tick labels matplotlib draws on `axis`: visible, non-empty, at a tick in the view."""
    labels = []
    for locs, ticks in ((axis.get_majorticklocs(), axis.get_major_ticks()),
                        (axis.get_minorticklocs(), axis.get_minor_ticks())):
        for loc, tick in zip(locs, ticks):
            if tick.get_visible() and _in_view(axis, loc):
                labels += [label for label in (tick.label1, tick.label2) if _text(label)]
    return labels


def _name(artist, what):
    text = artist.get_text() if hasattr(artist, "get_text") else ""
    return f"{what} {text!r}" if text else what


class Caption(NamedTuple):
    name: str  # what it is and says, for the message
    box: object  # its window extent, display pixels
    axes: int | None = None  # the index in fig.axes of the axes it belongs to; None: the figure's
    ticks: str | None = None  # "x" or "y" for a tick label: not compared with its axis' other tick labels
    inside: bool = False  # a legend or text inside its axes: not compared with that axes' ticks or insides


def captions(fig, renderer):
    """Every caption of `fig` that matplotlib draws, as :class:`Caption`."""
    items, seen = [], set()

    def add(artist, name, **where):
        if id(artist) not in seen:
            seen.add(id(artist))
            items.append(Caption(name, artist.get_window_extent(renderer), **where))

    for attr in ("_suptitle", "_supxlabel", "_supylabel"):
        artist = getattr(fig, attr, None)
        if artist is not None and _text(artist):
            add(artist, _name(artist, attr.strip("_")))
    for k, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        where = f"axes {k}"
        for title in (ax.title, ax._left_title, ax._right_title):
            if _text(title):
                add(title, _name(title, f"{where} title"), axes=k)
        if ax.axison:
            for letter, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
                if not axis.get_visible():
                    continue
                if _text(axis.label):
                    add(axis.label, _name(axis.label, f"{where} {letter}label"), axes=k)
                for label in _tick_labels(axis):
                    add(label, _name(label, f"{where} {letter} tick label"), axes=k, ticks=letter)
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            add(legend, f"{where} legend", axes=k, inside=True)
        for text in ax.texts:
            if _text(text):
                add(text, _name(text, f"{where} text"), axes=k, inside=True)
    for legend in fig.legends:
        if legend.get_visible():
            add(legend, "figure legend")
    for text in fig.texts:
        if _text(text):
            add(text, _name(text, "figure text"))
    return items


def _overlap(a, b):
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return width > TOLERANCE and height > TOLERANCE


def _compared(a, b):
    """Whether captions a and b must not overlap: not two tick labels of one axis, and not a
    legend or text inside an axes (heatmap cell values, notes on the data) with that axes' tick
    labels or other insides."""
    if a.axes is None or a.axes != b.axes:
        return True
    if a.ticks and a.ticks == b.ticks:
        return False
    return not ((a.inside and (b.inside or b.ticks)) or (b.inside and a.ticks))


def _has_mark(ax, artist):
    """Whether a data line or scatter of `ax` shows something."""
    if not artist.get_visible() or artist.get_alpha() == 0:
        return False
    if isinstance(artist, PathCollection):
        if len(artist.get_offsets()) == 0:
            return True  # an empty class: nothing to show, nothing hidden
        colors = np.concatenate([to_rgba_array(artist.get_facecolor()), to_rgba_array(artist.get_edgecolor())])
        return bool(np.any(np.asarray(artist.get_sizes()) > 0)) and bool(np.any(colors[:, 3] > 0))
    if isinstance(artist, LineCollection):  # error bars; an empty one (a colorbar's dividers) hides nothing
        return not artist.get_segments() or bool(np.any(np.asarray(artist.get_linewidths()) > 0))
    # a Line2D: its points on the screen (a log axis makes values <= 0 non-finite)
    points = artist.get_transform().transform(np.asarray(artist.get_xydata(), dtype=float))
    finite = np.isfinite(points).all(axis=1)
    if to_rgba_array(artist.get_color())[0, 3] == 0 and to_rgba_array(artist.get_markerfacecolor())[0, 3] == 0:
        return False
    marker = artist.get_marker() not in (None, "None", "none", "", " ") and artist.get_markersize() > 0
    line = artist.get_linestyle() not in ("None", "none", "", " ") and artist.get_linewidth() > 0
    segments = finite[:-1] & finite[1:] & np.any(np.abs(np.diff(points, axis=0)) > 0, axis=1) if len(points) > 1 else []
    return bool((marker and finite.any()) or (line and np.any(segments)))


def problems(fig, draw=True):
    """Every readability problem of `fig`, as sentences (empty: readable). `draw`: draw it first, as
    savefig would; False checks the layout of its last draw (an animation frame already drawn:
    a layout engine may place things differently on a second draw than on the first)."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    if draw:
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    canvas = fig.bbox
    found = []
    items = captions(fig, renderer)
    for c in items:
        box = c.box
        if (box.x0 < canvas.x0 - TOLERANCE or box.y0 < canvas.y0 - TOLERANCE
                or box.x1 > canvas.x1 + TOLERANCE or box.y1 > canvas.y1 + TOLERANCE):
            found.append(f"{c.name} lies outside the canvas: {_box(box)} not in {_box(canvas)}")
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            if _compared(a, b) and _overlap(a.box, b.box):
                found.append(f"{a.name} overlaps {b.name}: {_box(a.box)} and {_box(b.box)}")
    areas = [(k, ax.bbox) for k, ax in enumerate(fig.axes) if ax.get_visible()]
    for c in items:  # a caption on another panel's data (a twin axes on the same area is the same panel)
        own = fig.axes[c.axes].bbox.bounds if c.axes is not None else None
        for k, area in areas:
            if k != c.axes and area.bounds != own and _overlap(c.box, area):
                found.append(f"{c.name} lies on axes {k}: {_box(c.box)} and {_box(area)}")
    for k, ax in enumerate(fig.axes):
        for artist in (*ax.lines, *[c for c in ax.collections if isinstance(c, (PathCollection, LineCollection))]):
            if not _has_mark(ax, artist):
                found.append(f"axes {k}: {type(artist).__name__} {artist.get_label()!r} shows no mark")
    return found


def _box(b):
    return f"[{b.x0:.0f}, {b.x1:.0f}] x [{b.y0:.0f}, {b.y1:.0f}]"


def assert_readable(fig, draw=True):
    """Raise AssertionError listing what in `fig` lies outside the canvas, overlaps, or is invisible."""
    found = problems(fig, draw)
    assert not found, "The figure is not readable:\n  " + "\n  ".join(found)
