"""What every paper experiment returns: claims, each with the paper's statement, the measured
value with its spread over seeds, and a verdict computed from the numbers.

An experiment module defines ``NAME``, ``TITLE``, ``CITATION`` (paper, section or figure) and
``run(quick=False, seeds=None) -> Reproduction``. ``quick`` settings are for the test suite
(seconds); the full settings are what ``initlab reproduce NAME`` runs (under about two minutes on a
2-core CPU).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .._atomic import replacing


@dataclass(frozen=True)
class Claim:
    """One claim of a paper, checked on this run.

    `expected` is what the paper (or its formula) says, as text; `measured` what this run measured,
    as text with the spread over seeds; `holds` the verdict computed from the numbers by the
    experiment's own rule, stated in `rule`.
    """

    statement: str
    expected: str
    measured: str
    holds: bool
    rule: str

    @property
    def verdict(self):
        return "the claim holds on this run" if self.holds else "the claim does not hold on this run"


@dataclass
class Reproduction:
    """An experiment's result: its claims, the numbers behind them, and figures."""

    name: str
    title: str
    citation: str
    settings: dict
    claims: list
    numbers: dict = field(default_factory=dict)  # plain data (lists, floats) behind the claims
    figures: dict = field(default_factory=dict)  # name -> matplotlib Figure

    @property
    def holds(self):
        return all(c.holds for c in self.claims)

    def lines(self):
        """The printed report: each claim, what was measured, the verdict."""
        out = [f"{self.title} — {self.citation}"]
        for c in self.claims:
            out += [f"  claim:    {c.statement}", f"  paper:    {c.expected}", f"  measured: {c.measured}",
                    f"  verdict:  {c.verdict} ({c.rule})"]
        return out

    def save(self, out):
        """Write every figure as NAME-FIGURE.png into `out`; return the paths."""
        from .._validation import check_writable_dir

        out = check_writable_dir("out", out)
        paths = {}
        for key, fig in self.figures.items():
            paths[key] = os.path.join(out, f"{self.name}-{key}.png")
            with replacing(paths[key]) as part:
                fig.savefig(part, dpi=110)
        return paths


def mean_spread(values):
    """Mean and sample standard deviation of per-seed values (std 0 for a single seed)."""
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def fmt(values, digits=3):
    """"mean ± sd (n seeds)" of per-seed values."""
    mean, sd = mean_spread(values)
    return f"{mean:.{digits}g} ± {sd:.2g} ({len(np.atleast_1d(values))} seeds)"


def within(values, target, rel=0.0, sds=3.0):
    """True when the seeds' mean is within `sds` standard errors (or `rel` relative) of `target`."""
    mean, sd = mean_spread(values)
    n = len(np.atleast_1d(values))
    return bool(abs(mean - target) <= max(sds * sd / np.sqrt(n), rel * abs(target)))


def run_settings(quick, seeds, quick_settings, full_settings):
    """A copy of the quick or the full settings of an experiment, with `seeds` (see seed_list) for their
    default seeds."""
    chosen = dict(quick_settings if quick else full_settings)
    chosen["seeds"] = seed_list(seeds, chosen["seeds"])
    return chosen


def seed_list(seeds, default):
    """`seeds` as a list of ints: None -> range(default), an int n -> range(n), else the ints given."""
    if seeds is None:
        seeds = default
    if isinstance(seeds, (int, np.integer)):
        return list(range(int(seeds)))
    return [int(s) for s in seeds]
