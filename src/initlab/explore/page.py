"""The explorer's page: the train, signal and sweep views as tabs, one fresh set per browser
session (each has its own training run). In a notebook, ``app()`` is the same page in a cell."""
from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import panel as pn

from .session import TrainSettings
from .signal import SignalSettings
from .signal_view import SignalPanel
from .sweep_view import SweepPanel
from .train_view import TrainPanel

TITLE = "initlab explore"


def build_page(sweeps: Sequence[str | os.PathLike[str]] = (), train: TrainSettings = TrainSettings(),
        signal: SignalSettings = SignalSettings()) -> pn.Tabs:
    """The explorer (every view) as a Panel object: in a notebook it shows itself (every script inline, no CDN),
    in a server it is one session's page. `sweeps`: the sweep databases the sweep view may open
    (only these). `train`, `signal`: the views' starting settings."""
    if _in_notebook():
        pn.extension(inline=True)  # Bokeh's and Panel's scripts in the notebook itself, not from a CDN
    return pn.Tabs(TrainPanel(train).layout, SignalPanel(signal).layout, SweepPanel(sweeps).layout,
                   name="initlab-explore", dynamic=False)


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    ip = shell.get_ipython() if shell is not None else None
    return ip is not None and hasattr(ip, "kernel")
