"""Training engines: ``ENGINES`` maps a name to a module with ``supports`` and ``train_batch``.

``numpy`` is the reference (always there); ``numba`` is the compiled engine, used by "auto" when
numba is installed and it supports the network and options. The environment variable
``INITLAB_ENGINE`` (numpy or numba) overrides what "auto" picks.
"""
from __future__ import annotations

import importlib
import os

from .._validation import InitlabError, check_choice

ENGINES = {"numpy": "initlab.engines.numpy_engine", "numba": "initlab.engines.numba_engine"}
CHOICES = ("auto", *ENGINES)


def load(name):
    """The engine module called `name`; an error if it cannot be imported (numba not installed)."""
    try:
        return importlib.import_module(ENGINES[name])
    except ImportError as exc:
        raise InitlabError(f"The '{name}' engine is not available here ({exc}). Install initlab[fast] or use engine='numpy'.") from None


def _asked(engine):
    """`engine` (auto, numpy or numba) with ``INITLAB_ENGINE`` standing in for auto when set."""
    check_choice("engine", engine, CHOICES)
    if engine == "auto":
        engine = check_choice("INITLAB_ENGINE", os.environ.get("INITLAB_ENGINE", "auto"), CHOICES)
    return engine


def preferred(engine):
    """The engine that `engine` names before a network is looked at: numpy when asked for, or
    under auto when numba cannot be imported; numba otherwise (an error if numba was asked for
    and is missing)."""
    engine = _asked(engine)
    if engine == "numpy":
        return "numpy"
    try:
        load("numba")
    except InitlabError:
        if engine == "numba":
            raise
        return "numpy"
    return "numba"


def select(engine, network, options):
    """The engine module to train `network` with `options`: `engine` is auto, numpy or numba."""
    asked = _asked(engine)  # auto, numpy or numba, the environment read once
    if preferred(asked) == "numpy":
        return load("numpy")
    compiled = load("numba")
    reason = compiled.supports(network, options)
    if reason is None:
        return compiled
    if asked == "numba":
        raise InitlabError(f"The 'numba' engine does not support this run: {reason}. Use engine='numpy' or 'auto'.")
    return load("numpy")
