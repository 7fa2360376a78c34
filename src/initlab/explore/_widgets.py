"""What every view of the explorer shares: the box that shows the library's validation errors in
the page, the guard that sends them there, escaped text blocks and the push to a notebook.

A control's value reaches a view's callback from the browser (or from a hand-made websocket
message): the callback hands it to the library, whose checks raise ``InitlabError`` with the one
message shape ("The 'depth' parameter must be an int >= 1. Got -5 instead."). ``guarded`` catches
those (and the ``ValueError``/``TypeError`` a widget raises for a value of the wrong type) and shows
the message, escaped, in the view's error box; the view keeps its last good state. Every text a
user typed, or a file held, is escaped before it is put into HTML (here, or by ``initlab._html``'s
blocks, the report's).
"""
from __future__ import annotations

import functools
import html
from collections.abc import Callable
from typing import Any

import panel as pn

ERROR_STYLE = {"color": "#8a1c1c", "background": "#fdecea", "border": "1px solid #f5c2c0", "border-radius": "4px",
               "padding": "0 0.8em"}


class ErrorBox:
    """An HTML pane that shows one error message (escaped), or nothing."""

    def __init__(self, name: str) -> None:
        self.name = name  # also the message's CSS class: a page (or a test) finds each view's box
        self.pane = pn.pane.HTML("", name=name, visible=False, styles=ERROR_STYLE, sizing_mode="stretch_width")
        self.message = ""

    def show(self, message: str) -> None:
        self.message = message
        self.pane.object = f'<p class="initlab-error {self.name}">{html.escape(message)}</p>'
        self.pane.visible = True

    def clear(self) -> None:
        self.message = ""
        self.pane.object = ""
        self.pane.visible = False


def guarded(errors: ErrorBox, refresh: Callable[[], Any]) -> Callable[..., None]:
    """`refresh()` as a widget callback (its event ignored): a bad value's message goes to `errors`,
    a good run clears it."""

    @functools.wraps(refresh)
    def callback(*_event: Any) -> None:
        try:
            refresh()
        except (ValueError, TypeError) as exc:  # InitlabError is a ValueError: the library's message
            errors.show(str(exc))
        else:
            errors.clear()

    return callback


PROMPT = ["value", "value_throttled"]  # a control's changes that reach the server at once


def prompt(widget: pn.widgets.Widget) -> pn.widgets.Widget:
    """`widget` with its value changes handled as they arrive: Panel waits 50 ms for more changes before
    it handles a browser event (``Syncable._debounce``) unless the property is one of the widget's
    ``_priority_changes``; a released slider or a chosen option is final, so the signal view answers at
    once. (A private Panel attribute: if it goes, the views are 50 ms slower, not wrong.)"""
    for target in (widget, getattr(widget, "_slider", None)):  # DiscreteSlider's events come from its inner slider
        if target is not None:
            target._priority_changes = PROMPT
    return widget


def push(*panes: pn.viewable.Viewable) -> None:
    """Send changed Bokeh models to a notebook's page (in a served app the server sends them itself)."""
    pn.io.push_notebook(*panes)


def spec_text(name: str, options: str) -> str:
    """An initializer spec from a name and typed options (``gain=1.5, mode=fan_out``)."""
    options = options.strip()
    return f"{name}({options})" if options else name
