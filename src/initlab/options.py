"""How to train: ``TrainOptions`` (learning rate, iterations, recording, optimizer, batches, seed).

Plain settings that the engines read and ``initlab.train`` takes (``initlab.training`` re-exports them), so they live
below both; the optimizer they name is checked against ``optim.OPTIMIZERS`` when they are built.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import ClassVar, Optional

from ._spec import Spec
from ._validation import Checked, Constraint, InitlabError, Interval, Nullable, Registered, _fail, validate
from .optim import OPTIMIZERS, get_optimizer

MAX_RECORDED = 10**8  # cost-history entries (float64) a call may hold: 800 MB
MAX_SEED = 2**63  # seeds are stored as SQLite INTEGERs and JSON numbers; default_rng takes any int >= 0


def _size(n_bytes):
    """Bytes as a readable size: '800 MB', '8 PB'."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if n_bytes < 1000 or unit == "PB":
            return f"{n_bytes:.3g} {unit}"
        n_bytes /= 1000


def _check_history(iterations, record_every, n_runs=1):
    """The cost histories of `n_runs` runs (ceil(iterations / record_every) float64 each) must fit."""
    n_recorded = -(-iterations // record_every)
    if n_runs * n_recorded > MAX_RECORDED:
        runs = f" for each of {n_runs} runs" if n_runs > 1 else ""
        raise InitlabError(
            f"The 'iterations' and 'record_every' parameters must record at most {MAX_RECORDED:,} costs in all "
            f"(ceil(iterations / record_every) per run). Got iterations={iterations}, record_every={record_every}: "
            f"{n_recorded:,} costs{runs}, {_size(8 * n_runs * n_recorded)} of memory, instead. "
            "Raise record_every or lower iterations."
        )


def _keyword_options(name, value):
    """A dict of keyword options (string keys), copied."""
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        _fail(name, "a dict of keyword options", value)
    return dict(value)


@dataclass(frozen=True)
class TrainOptions:
    """How to train.

    `iterations` counts updates. `batch_size` None is full-batch; otherwise each epoch visits the
    examples in a fresh random order (from `seed`) in batches of that size (the last may be
    smaller). The cost is recorded on the whole training set every `record_every` iterations,
    before that iteration's update (as the notebook prints it).
    """

    learning_rate: float = 0.01
    iterations: int = 15000
    record_every: int = 1000
    optimizer: str = "gd"
    optimizer_options: dict = field(default_factory=dict)
    batch_size: Optional[int] = None
    seed: int = 0  # order of the minibatches: an int in [0, 2**63)

    _constraints: ClassVar[dict[str, Constraint]] = {
        "learning_rate": Interval(Real, 0.0, closed="neither"),
        "iterations": Interval(Integral, 0),
        "record_every": Interval(Integral, 1),
        "optimizer": Registered("optimizer", OPTIMIZERS),
        "optimizer_options": Checked(_keyword_options),
        "batch_size": Nullable(Interval(Integral, 1)),
        "seed": Interval(Integral, 0, MAX_SEED, text="an int in [0, 2**63)"),
    }

    def __post_init__(self):
        for name, value in validate(self._constraints, vars(self)).items():
            object.__setattr__(self, name, value)
        _check_history(self.iterations, self.record_every)
        get_optimizer(self.optimizer, **self.optimizer_options)  # the options, checked by the rule itself

    @property
    def optimizer_spec(self) -> Spec:
        """The optimizer and its options as a spec (what the engines build the update rule from)."""
        return Spec.make(self.optimizer, self.optimizer_options, param="optimizer_options")
