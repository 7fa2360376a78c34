"""Training engines: ``ENGINES`` maps a name to a module with ``supports`` and ``train_batch``.

``numpy`` is the reference (always there); ``numba`` is the fast compiled engine, used by "auto"
when numba is installed, it supports the network and options and ``cost`` estimates it the faster
for the run's shapes, models and cores (``choose`` says why); ``exact`` is the course
notebook's arithmetic in a fixed operation order (the same digits on every CPU), used by the
paths that reproduce the notebook (``for_notebook``). The environment variable
``INITLAB_ENGINE`` (numpy, numba or exact) overrides what "auto" picks.
"""
from __future__ import annotations

import importlib
import os
import sys
import threading
from types import ModuleType
from typing import TYPE_CHECKING, TextIO

from .._validation import InitlabError, check_choice

if TYPE_CHECKING:
    from ..network import Network
    from .calibrate import Machine
    from ..options import TrainOptions

ENGINES = {
    "numpy": "initlab.engines.numpy_engine",
    "numba": "initlab.engines.numba_engine",
    "exact": "initlab.engines.exact_engine",
}
CHOICES = ("auto", *ENGINES)


def get_engine(name: str) -> ModuleType:
    """The engine module called `name`; an error if it cannot be imported (numba not installed)."""
    try:
        return importlib.import_module(ENGINES[name])
    except ImportError as exc:
        raise InitlabError(f"The '{name}' engine is not available here ({exc}). numba is one of initlab's dependencies: reinstall it (pip install numba) or use engine='numpy'.") from None


def _asked(engine: str) -> str:
    """`engine` (auto, numpy or numba) with ``INITLAB_ENGINE`` standing in for auto when set."""
    check_choice("engine", engine, CHOICES)
    if engine == "auto":
        engine = check_choice("INITLAB_ENGINE", os.environ.get("INITLAB_ENGINE", "auto"), CHOICES)
    return engine


def preferred(engine: str, notebook: bool = False) -> str:
    """The engine that `engine` names before a network is looked at: numpy when asked for, or
    under auto when numba cannot be imported; else the compiled one asked for, or under auto
    numba — the exact engine when `notebook` (a path that reproduces the notebook; see
    ``for_notebook``). An error if a compiled engine was asked for and numba is missing."""
    engine = _asked(engine)
    if engine == "numpy":
        return "numpy"
    compiled = "exact" if engine == "exact" or (engine == "auto" and notebook) else "numba"
    try:
        get_engine(compiled)
    except InitlabError:
        if engine != "auto":
            raise
        return "numpy"
    return compiled


def select(engine: str, network: Network, options: TrainOptions, m: int | None = None, n_models: int = 1) -> ModuleType:
    """The engine module to train `network` with `options`: `engine` is auto, exact, numpy or numba
    (`m` examples and `n_models` models: what auto's estimate reads; see ``choose``)."""
    return choose(engine, network, options, m, n_models)[0]


def choose(engine: str, network: Network, options: TrainOptions, m: int | None = None,
           n_models: int = 1) -> tuple[ModuleType, str]:
    """(engine module, why it was picked). An engine asked for by name (or by ``INITLAB_ENGINE``)
    is used as asked; under auto the compiled engine when it supports the run and ``engines.cost``
    estimates it the faster of the two for these shapes, `n_models` and the cores (when `m` is
    given; else the compiled engine), otherwise numpy."""
    asked = _asked(engine)  # the environment read once
    name = preferred(asked)
    how = "asked for" if engine != "auto" else ("INITLAB_ENGINE" if asked != "auto" else "")
    if name == "numpy":
        return get_engine("numpy"), how or "auto: numba is not installed"
    compiled = get_engine(name)
    reason = compiled.supports(network, options)
    if reason is not None:
        if asked != "auto":
            raise InitlabError(f"The '{name}' engine does not support this run: {reason}. Use engine='numpy' or 'auto'.")
        return get_engine("numpy"), f"auto: the {name} engine does not support this run ({reason})"
    if how:
        return compiled, how
    if m is None:
        return compiled, "auto: the compiled engine (no data to estimate from)"
    from . import cost

    pick, why = cost.choose(network, options, m, n_models, compiled.threads(), measure=_this_machine)  # BLAS's threads looked up there
    return get_engine(pick), f"auto: {why}"


def _this_machine() -> Machine:
    """This machine's measured rates (engines.calibrate), the compiled engine loaded first (its
    probe trains on it; a first compile is announced)."""
    from .calibrate import measured

    ready("numba")
    return measured()


NOTEBOOK = "auto on a path that reproduces the notebook: the exact engine, the notebook's digits on every CPU"


def for_notebook(engine: str, network: Network, options: TrainOptions) -> str:
    """The engine a path that reproduces the notebook uses: under auto (and no ``INITLAB_ENGINE``)
    the exact engine when it supports the run, so the printed digits are the notebook's on every
    CPU; otherwise `engine` as asked."""
    if _asked(engine) != "auto":
        return engine
    try:
        exact = get_engine("exact")
    except InitlabError:
        return engine
    return "exact" if exact.supports(network, options) is None else engine


_READY: set[str] = set()  # compiled engines loaded in this process


def _cache_is_cold(module: ModuleType) -> bool | None:
    """True when the engine's kernel has no compiled copy for this CPU in numba's disk cache (it
    will compile), False when it has one, None when that cannot be told (numba's cache layout)."""
    kernel = module.KERNEL
    try:
        magic = kernel.targetctx.codegen().magic_tuple()
        return not any(key[1] == magic for key in kernel._cache._cache_file._load_index())
    except Exception:
        return None


def ready(name: str, stream: TextIO | None = None) -> None:
    """Load the compiled engine `name` once per process: from numba's disk cache (~0.5 s), or, the
    first time on this machine (or CPU, or numba version), by compiling it (10–20 s), which is
    announced on `stream` (stderr) before it starts — or after 2 s when the cache cannot be read."""
    if name in _READY or name == "numpy":
        return
    module = get_engine(name)
    stream = sys.stderr if stream is None else stream
    note = f"initlab: compiling the {name} training engine, once for this machine (10-20 s; it is cached on disk)..."
    cold = _cache_is_cold(module)
    timer = None
    if cold:
        print(note, file=stream, flush=True)
    elif cold is None:
        timer = threading.Timer(2.0, lambda: print(note, file=stream, flush=True))
        timer.daemon = True
        timer.start()
    try:
        module.warm_up()
    finally:
        if timer is not None:
            timer.cancel()
    _READY.add(name)
