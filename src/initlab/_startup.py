"""Start-up tuning of the ``initlab`` command: what makes a few-second command not spend half its
time importing, collecting garbage and exiting (bench/README.md, target 3, has the numbers).

Nothing here changes what a command computes or prints; each piece only moves or skips work:
the collector paused while a command runs and frozen at exit, the compiled engine loaded (or
compiled, announced) before training starts, the figure code imported on a second thread while
the compiled kernels train.
"""
from __future__ import annotations

import contextlib
import gc
import importlib
import threading
from collections.abc import Iterator

from . import engines


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block. A few-second command that imports numba,
    scipy and matplotlib (about 170 000 objects) otherwise runs full collector passes over them
    (about 0.05 s of `initlab compare`, bench/README.md); it makes little cyclic garbage meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def compiled_engine_ready(engine: str, notebook: bool = False) -> bool:
    """True when `engine` resolves to a compiled one, which is then loaded (or, the first time on
    this machine, compiled, announced on stderr: ``engines.ready``). `notebook`: the command
    reproduces the notebook, so auto means the exact engine (``engines.for_notebook``)."""
    name = engines.preferred(engine, notebook)
    if name == "numpy":
        return False
    engines.ready(name)
    return True


def figures_ready_while_training(engine: str, notebook: bool = False) -> None:
    """With the compiled engine: load it first, then import the figure code on a second thread.
    The kernels release the GIL, so that import runs beside the training instead of after it
    (0.1–0.25 s of `initlab compare`, bench/README.md)."""
    if compiled_engine_ready(engine, notebook):
        threading.Thread(target=import_quietly, args=("initlab.plots",), daemon=True).start()


def import_quietly(name: str) -> None:
    """Import module `name` now; if that fails, nothing: the import where it is used reports it."""
    try:
        importlib.import_module(name)
    except Exception:
        pass


def skip_final_collection() -> None:
    """Called by the console entry just before it returns its exit code: the interpreter's exit
    then skips the collector's final passes over numba's, scipy's and matplotlib's objects
    (0.25–0.5 s of every command's time, bench/README.md). Objects are still released and atexit
    handlers run; only garbage cycles left at exit are not finalized one by one."""
    gc.freeze()
