"""Plain-text output: aligned tables (``text_table``; the conclusions table, ``format_table``) and
the course notebook's cost lines, whole (``cost_lines``) or streamed while training goes
(``CostPrinter``). What the ``initlab`` command prints; usable from a script or a notebook.

>>> print(text_table(["name", "n"], [["he", "3"], ["zeros", "12"]]))
name   n
-----  --
he     3
zeros  12
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .compare import Comparison


class CostPrinter:
    """The notebook's cost lines while training goes, one initializer after the other.

    The initializers train together as one batch: the engines report iteration i of every network,
    then i + k, … (interleaved). A line is printed as soon as the order allows: the first
    initializer's lines stream live; each later one's are kept until the previous initializer's
    last line is out, then follow at once. ``finish`` prints what is left from the runs themselves
    (a run that diverged stops early; its lines were waiting for nothing more), so the printout
    is exactly ``cost_lines``. A repeated name (``--init he,he``) does not say which network
    reported, so those networks' lines come from ``finish``, in their place."""

    def __init__(self, names: Iterable[str], iterations: int, record_every: int = 100, every: int = 1000,
                 write: Callable[[str], Any] = print) -> None:
        self.names, self.every, self.write = list(names), every, write
        recorded = range(0, max(int(iterations), 0), record_every)
        self.expected = sum(1 for i in recorded if i % every == 0)  # lines per initializer
        self.waiting: list[list[str]] = [[] for _ in self.names]  # lines known, not yet printed
        self.printed = [0] * len(self.names)
        self.current = 0  # the initializer whose lines are printed now

    def add(self, name: str, i: int, cost: float) -> None:
        if i % self.every or self.names.count(name) != 1:
            return
        b = self.names.index(name)
        self.waiting[b].append(f"[{name}] Cost after iteration {i}: {cost}")
        self._flush()

    def _flush(self) -> None:
        while self.current < len(self.names):
            b = self.current
            for line in self.waiting[b]:
                self.write(line)
            self.printed[b] += len(self.waiting[b])
            self.waiting[b] = []
            if self.printed[b] < self.expected:
                return
            self.current += 1

    def finish(self, comparison: Comparison) -> None:
        for b in range(self.current, len(self.names)):
            run = comparison.results[b].run
            known = [(i, cost) for i, cost in zip(run.iterations, run.costs) if i % self.every == 0]
            for i, cost in known[self.printed[b]:]:
                self.write(f"[{self.names[b]}] Cost after iteration {i}: {cost}")
            self.printed[b], self.waiting[b] = len(known), []
        self.current = len(self.names)


def cost_lines(comparison: Comparison, every: int = 1000) -> str:
    """The notebook's printout, one initializer after the other: "[he] Cost after iteration 1000: …"."""
    return "\n".join(
        f"[{r.name}] Cost after iteration {i}: {cost}"
        for r in comparison.results
        for i, cost in zip(r.run.iterations, r.run.costs)
        if i % every == 0
    )


def format_table(rows: Iterable[Mapping[str, Any]]) -> str:
    """The conclusions table as aligned text."""
    header = ["model", "train accuracy", "test accuracy", "comment"]
    cells = [[r["model"], f"{r['train accuracy']:.2%}", f"{r['test accuracy']:.2%}", r["comment"]] for r in rows]
    return text_table(header, cells)


def text_table(header: Sequence[str], cells: Sequence[Sequence[str]]) -> str:
    """Rows of strings as aligned text under a header and a rule."""
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(c) for c in cells])
