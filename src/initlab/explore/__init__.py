"""``initlab explore``: move a slider, watch initialization at work, in the browser or in Jupyter.

Three views (Panel on Bokeh; every script served by the app itself, no CDN):

- **Train**: the notebook's experiment live (``session.TrainSession``: initializers side by side,
  play, pause, step, reset to the same weights);
- **Signal**: per-layer signal propagation beside the mean-field prediction, histograms, the phase
  diagram (``signal.signal_view``: ``initlab probe``'s numbers);
- **Sweep**: a heatmap of a sweep database's seed statistics (``sweeps.SweepTable``).

``app(sweeps=[…])`` is the page as a Panel object (a notebook cell shows it); ``serve()`` serves it
on 127.0.0.1 (``initlab explore``). Needs the optional extra: ``pip install 'initlab[explore]'``.
The numbers' modules (``session``, ``signal``, ``sweeps``) need no Panel.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._validation import InitlabError

if TYPE_CHECKING:
    import panel as pn

    from .session import TrainSettings
    from .signal import SignalSettings

EXTRA = "pip install 'initlab[explore]'"


def _need_panel() -> None:
    try:
        import panel  # noqa: F401
    except ImportError:
        raise InitlabError(f"initlab explore needs Panel, an optional extra: {EXTRA}") from None


def app(sweeps: Sequence[str | os.PathLike[str]] = (), train: TrainSettings | None = None,
        signal: SignalSettings | None = None) -> pn.Tabs:
    """The explorer's page (``explore.page.build_page``): in a notebook, a cell that shows it."""
    _need_panel()
    from . import page
    from .session import TrainSettings
    from .signal import SignalSettings

    return page.build_page(sweeps, train or TrainSettings(), signal or SignalSettings())


def serve(address: str = "127.0.0.1", port: int = 0, open_browser: bool = False,
          sweeps: Sequence[str | os.PathLike[str]] = (), **options: Any) -> None:
    """Serve the explorer until Ctrl-C (``explore.server.serve``)."""
    _need_panel()
    from . import server

    server.serve(address, port, open_browser, sweeps, **options)
