"""The explorer's budget: what one request may ask of the server, whatever the page's controls allow.

A slider stops at its end, but a hand-made websocket message can send any value, and the server runs
every session on one event loop: a request that asked for a billion seeds would stall every page. Each
limit here is checked before any work starts, with the library's message shape naming the parameter.
(The library itself takes any size; these are the explorer's.)
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .._validation import InitlabError

# the train view
MAX_MODELS = 8  # initializers side by side at most
MAX_HIDDEN = 64  # hidden layers at most (each costs a pass's fixed overhead, whatever its width)
MAX_PARAMS = 2**22  # the largest network a session trains (4.2M parameters, 34 MB each in float64)
MAX_ADVANCE_WORK = 2**31  # iterations × models × parameters × examples in one frame: ~1 s at most

# the signal view
MAX_DEPTH, MAX_WIDTH, MAX_SEEDS, MAX_BATCH = 200, 1024, 10, 512  # its controls' ends
MAX_WEIGHTS = 2**24  # the largest network it probes (16.8M weights, 134 MB in float64)
MAX_WORK = 2**31  # seeds × batch × weights at most: ~1 s of probing on 2 cores

# both: initializer options whose cost grows with their value (LSUV's passes over the batch)
OPTION_LIMITS: dict[tuple[str, str], float] = {("lsuv", "max_iter"): 100}


def check_option_limits(specs: Iterable[tuple[str, str, Mapping[str, Any]]]) -> None:
    """Each (label, name, options) of ``check_specs`` within OPTION_LIMITS."""
    for label, name, options in specs:
        for (key, option), most in OPTION_LIMITS.items():
            value = options.get(option)
            if key == name and isinstance(value, (int, float)) and value > most:
                raise InitlabError(f"The '{option}' option of {name} must be at most {most:g} in the explorer. "
                                   f"Got {value!r} in {label!r} instead.", param=option)
