"""The classic initialization papers, reproduced small: ``EXPERIMENTS`` maps a name to its module.

Each module's ``reproduce(quick=False, seeds=None)`` returns a ``Reproduction`` (``papers.common``):
the paper's claims next to what this run measured, with a verdict computed from the numbers.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from .._validation import check_int, lookup

if TYPE_CHECKING:
    from .common import Reproduction

EXPERIMENTS = {
    "he2015-variance": "initlab.papers.he2015_variance",
    "he2015-depth": "initlab.papers.he2015_depth",
    "glorot2010": "initlab.papers.glorot2010",
    "saxe2013": "initlab.papers.saxe2013",
    "edge-of-chaos": "initlab.papers.edge_of_chaos",
    "lsuv2015": "initlab.papers.lsuv2015",
    "hanin2018": "initlab.papers.hanin2018",
    "yang2022": "initlab.papers.yang2022",
    "pennington2017": "initlab.papers.pennington2017",
    "fixup2019": "initlab.papers.fixup2019",
}


def experiment(name: str) -> ModuleType:
    """The module of the experiment called `name` (an error lists the valid names)."""
    return importlib.import_module(lookup("experiment", EXPERIMENTS, name))


def reproduce(name: str, quick: bool = False, seeds: int | None = None) -> Reproduction:
    """Run the experiment `name` and return its ``Reproduction`` (`seeds`: None for its default)."""
    module = experiment(name)
    if seeds is not None:
        seeds = check_int("seeds", seeds, low=2)  # a spread needs two seeds at least
    return module.reproduce(quick=quick, seeds=seeds)
