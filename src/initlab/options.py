"""How to train: ``TrainOptions`` (learning rate, iterations, recording, optimizer, batches, seed, stopping rule).

Plain settings that the engines read and ``initlab.train`` takes (``initlab.training`` re-exports them), so they live
below both; the optimizer they name is checked against ``optim.OPTIMIZERS`` when they are built.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import ClassVar, Optional

from ._spec import Spec
from ._validation import Checked, Constraint, Flag, InitlabError, Interval, Nullable, OneOf, Registered, _fail, validate
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


def batches_per_epoch(m: int, batch_size: Optional[int]) -> int:
    """Minibatches in one pass over m examples (1 for full-batch training)."""
    return 1 if batch_size is None or batch_size >= m else -(-m // batch_size)


def _keyword_options(name, value):
    """A dict of keyword options (string keys), copied."""
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        _fail(name, "a dict of keyword options", value)
    return dict(value)


@dataclass(frozen=True)
class TrainOptions:
    """How to train.

    `iterations` counts updates. `batch_size` None is full-batch; otherwise each epoch visits the
    examples in a fresh random order (from `seed`, or from the generator given to ``train``) in
    batches of that size (the last may be smaller). The cost is recorded on the whole training set
    every `record_every` iterations — or epochs, when `record_unit` is "epochs" (one epoch: one
    pass over the data, ceil(m / batch_size) updates) — before that iteration's update (as the
    notebook prints it); ``Run.history`` adds the point after the last update, and training
    accuracy (with `record_accuracy`) and the held-out data's cost and accuracy when given.

    Stopping rule: with `target_loss`, training stops before the update of the first iteration
    whose cost is ≤ `target_loss` (``Run.reached`` says where), the cost checked at every
    iteration on `target_on`: "train", the whole training set (for minibatches an extra forward
    pass over all the data per update), or "batch", the minibatch the update is about to use (the
    same thing in full-batch training).

    >>> TrainOptions(target_loss=0.1, batch_size=32, target_on="batch").target_on
    'batch'
    """

    learning_rate: float = 0.01
    iterations: int = 15000
    record_every: int = 1000
    optimizer: str = "gd"
    optimizer_options: dict = field(default_factory=dict)
    batch_size: Optional[int] = None
    seed: int = 0  # order of the minibatches: an int in [0, 2**63)
    target_loss: Optional[float] = None  # stop once the cost is <= this (None: run every iteration)
    target_on: str = "train"  # where the target is checked: "train" (all the training data) or "batch"
    record_unit: str = "iterations"  # record_every counts "iterations" or "epochs"
    record_accuracy: bool = False  # also record the accuracy (training, and held-out data when given)

    _constraints: ClassVar[dict[str, Constraint]] = {
        "learning_rate": Interval(Real, 0.0, closed="neither"),
        "iterations": Interval(Integral, 0),
        "record_every": Interval(Integral, 1),
        "optimizer": Registered("optimizer", OPTIMIZERS),
        "optimizer_options": Checked(_keyword_options),
        "batch_size": Nullable(Interval(Integral, 1)),
        "seed": Interval(Integral, 0, MAX_SEED, text="an int in [0, 2**63)"),
        "target_loss": Nullable(Interval(Real)),
        "target_on": OneOf(("train", "batch")),
        "record_unit": OneOf(("iterations", "epochs")),
        "record_accuracy": Flag(),
    }

    def __post_init__(self):
        for name, value in validate(self._constraints, vars(self)).items():
            object.__setattr__(self, name, value)
        _check_history(self.iterations, self.record_every)
        get_optimizer(self.optimizer, **self.optimizer_options)  # the options, checked by the rule itself

    def every(self, m: int) -> int:
        """Iterations between two recorded costs when training on m examples (record_every, or
        record_every epochs of ceil(m / batch_size) updates)."""
        return self.record_every * (1 if self.record_unit == "iterations" else batches_per_epoch(m, self.batch_size))

    @property
    def optimizer_spec(self) -> Spec:
        """The optimizer and its options as a spec (what the engines build the update rule from)."""
        return Spec.make(self.optimizer, self.optimizer_options, param="optimizer_options")
