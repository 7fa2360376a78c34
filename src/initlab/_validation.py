"""Argument checks with one message shape.

Every public function validates its inputs here, so a user reads
"The 'learning_rate' parameter must be a finite float > 0. Got -1 instead."
rather than a traceback from deep inside numpy.
"""
from __future__ import annotations

import difflib
import inspect
import numbers
import os
import tempfile
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol, TypeVar, Union

import numpy as np
from numpy.typing import ArrayLike

T = TypeVar("T")
# what check_random_state takes: a seed, a numpy random source, or None; and what it gives
RandomSource = Union[np.random.Generator, np.random.RandomState]
SeedLike = Union[int, np.integer, np.random.Generator, np.random.RandomState, None]


class InitlabError(ValueError):
    """A bad input, with a message meant for the user (the CLI prints it, exit code 2).

    `param`: the parameter the message names, when it names one (``validate`` reads it to decide
    whether an error from a nested check still needs the outer parameter's name)."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


def _fail(name: str, requirement: str, value: Any, described: bool = False) -> NoReturn:
    """Raise the one message shape; `described`: `value` is already a description, not a value."""
    shown = value if described else repr(value)
    raise InitlabError(f"The '{name}' parameter must be {requirement}. Got {shown} instead.", param=name)


# --- declarative constraints -------------------------------------------------------------------
# A constraint has ``check(name, value) -> value`` (converted: float, int, the registry's key) and
# raises the one message shape naming `name`. Tables of them, ``{parameter: constraint}``, say what
# a class or function takes (``TrainOptions._constraints``, ``compare.CONSTRAINTS``, the estimators',
# the sweep axes'); ``validate`` checks a whole table. In the spirit of scikit-learn's
# ``_parameter_constraints``, written for initlab's messages.
class Constraint(Protocol):
    def check(self, name: str, value: Any) -> Any: ...


_CLOSED = ("left", "right", "both", "neither")


@dataclass(frozen=True)
class Interval:
    """A finite float (`type` Real) or an int (`type` Integral, never a bool) between `low` and
    `high` (None: unbounded), the ends included as `closed` says: "left", "right", "both" or
    "neither". `text` replaces the generated requirement ("an int in [0, 2**63)").

    >>> Interval(numbers.Real, 0.0, 1.0, closed="left").check("beta", 0.5)
    0.5
    >>> Interval(numbers.Integral, 1).requirement
    'an int >= 1'
    """

    type: type
    low: float | None = None
    high: float | None = None
    closed: str = "left"
    text: str | None = None

    def __post_init__(self) -> None:
        if self.closed not in _CLOSED:
            raise ValueError(f"closed must be one of {_CLOSED}, not {self.closed!r}")

    @property
    def integral(self) -> bool:
        return self.type is numbers.Integral

    @property
    def requirement(self) -> str:
        if self.text is not None:
            return self.text
        low_in, high_in = self.closed in ("left", "both"), self.closed in ("right", "both")
        if self.integral:
            if self.low is not None and self.high is not None:
                return f"an int in {'[' if low_in else '('}{self.low}, {self.high}{']' if high_in else ')'}"
            low = f" {'>=' if low_in else '>'} {self.low}" if self.low is not None else ""
            high = f" {'<=' if high_in else '<'} {self.high}" if self.high is not None else ""
            return "an int" + low + high
        bounds = []
        if self.low is not None:
            bounds.append(f"{'>=' if low_in else '>'} {self.low:g}")
        if self.high is not None:
            bounds.append(f"{'<=' if high_in else '<'} {self.high:g}")
        return "a finite float" + (" " + " and ".join(bounds) if bounds else "")

    def check(self, name: str, value: Any) -> Any:
        # Any: isinstance against the numbers ABCs would narrow `value` to a type mypy gives no arithmetic
        kind: Any = numbers.Integral if self.integral else numbers.Real
        if isinstance(value, bool) or not isinstance(value, kind) or (not self.integral and not np.isfinite(value)):
            _fail(name, self.requirement, value)
        low_in, high_in = self.closed in ("left", "both"), self.closed in ("right", "both")
        if self.low is not None and (value < self.low or (value == self.low and not low_in)):
            _fail(name, self.requirement, value)
        if self.high is not None and (value > self.high or (value == self.high and not high_in)):
            _fail(name, self.requirement, value)
        return int(value) if self.integral else float(value)


@dataclass(frozen=True)
class OneOf:
    """One of a few fixed values (strings, usually)."""

    choices: tuple

    def check(self, name: str, value: Any) -> Any:
        if not isinstance(value, Hashable) or value not in self.choices:
            _fail(name, "one of " + ", ".join(map(str, self.choices)), value)
        return value


@dataclass(frozen=True)
class Flag:
    """True or False, not 0 and 1; `text` spells them in the error (TOML writes true and false)."""

    text: str = "True or False"

    def check(self, name: str, value: Any) -> Any:
        if not isinstance(value, bool):
            _fail(name, self.text, value)
        return value


@dataclass(frozen=True)
class Registered:
    """A key of a registry (`kind` names it in the error, which lists the valid keys)."""

    kind: str
    registry: Mapping = field(repr=False, hash=False, compare=False)

    def check(self, name: str, value: Any) -> Any:
        lookup(self.kind, self.registry, value)
        return value


@dataclass(frozen=True)
class Nullable:
    """None, or what `inner` accepts."""

    inner: Constraint

    def check(self, name: str, value: Any) -> Any:
        return None if value is None else self.inner.check(name, value)


@dataclass(frozen=True)
class Checked:
    """A check function ``f(name, value) -> value`` as a constraint (layer sizes, writable folders)."""

    function: Callable[[str, Any], Any]

    def check(self, name: str, value: Any) -> Any:
        return self.function(name, value)


def validate(constraints: Mapping[str, Constraint], values: Mapping[str, Any], *, wrap: bool = False) -> dict[str, Any]:
    """Every value of `values` named in `constraints`, checked and converted, in the table's order.

    `wrap`: an error that does not name its parameter (a registry's "Unknown activation 'x'") is
    given the parameter's name first, "The 'activation' parameter is invalid. Unknown …", as a
    scikit-learn estimator's parameters are reported."""
    return {name: checked(name, constraint.check, name, values[name]) if wrap else constraint.check(name, values[name])
            for name, constraint in constraints.items() if name in values}


def checked(param: str, check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``check(*args, **kwargs)``; an ``InitlabError`` that names another parameter or none (a
    nested option's, a registry's) is re-raised naming `param` first."""
    try:
        return check(*args, **kwargs)
    except InitlabError as exc:
        if exc.param == param:
            raise
        raise InitlabError(f"The '{param}' parameter is invalid. {exc}", param=param) from None


def check_float(name: str, value: Any, *, low: float | None = None, low_inclusive: bool = False,
                high: float | None = None) -> float:
    """A finite real number, optionally bounded below (strictly by default) or above (inclusive)."""
    closed = "both" if low_inclusive else "right"
    return Interval(numbers.Real, low, high, closed).check(name, value)


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """An integer (numpy integers too, never bool), optionally >= low and < high."""
    return Interval(numbers.Integral, low, high, "left").check(name, value)


MAX_PARAMS = 2**30  # 8.6 GB as float64: a network larger than that is a typo, not an experiment here


def check_layer_sizes(name: str, sizes: Any) -> tuple[int, ...]:
    """At least two positive integers: input width, hidden widths..., output width; at most
    MAX_PARAMS weights and biases in all (``width = 10**9`` is one clear line, not a MemoryError)."""
    requirement = "a sequence of at least two positive ints"
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) < 2:
        _fail(name, requirement, sizes)
    if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
        _fail(name, requirement, sizes)
    sizes = tuple(int(s) for s in sizes)
    n_params = sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    if n_params > MAX_PARAMS:
        _fail(name, f"layer sizes with at most {MAX_PARAMS:,} weights and biases in all ({8 * MAX_PARAMS / 1e9:.1f} GB as float64)",
              f"{list(sizes)}, {n_params:,} parameters ({8 * n_params / 1e9:,.1f} GB)", described=True)
    return sizes


def check_choice(name: str, value: Any, choices: Iterable[T]) -> T:
    """One of a few fixed strings."""
    return OneOf(tuple(choices)).check(name, value)


def lookup(kind: str, registry: Mapping[str, T], name: Any) -> T:
    """The registry entry for `name`, or an error listing every valid name."""
    if isinstance(name, str) and name in registry:
        return registry[name]
    valid = ", ".join(sorted(registry))
    hint = ""
    if isinstance(name, str):
        close = difflib.get_close_matches(name, list(registry), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
    raise InitlabError(f"Unknown {kind} {name!r}. Expected one of: {valid}.{hint}")


def check_names(name: str, values: Any, kind: str, registry: Mapping[str, Any]) -> list[str]:
    """A non-empty list of registry names (one string is a list of one)."""
    if isinstance(values, str):
        values = [values]
    elif not isinstance(values, Iterable):
        _fail(name, f"one {kind} name or a list of them", values)
    values = list(values)
    if not values:
        raise InitlabError(f"The '{name}' parameter must name at least one {kind}. Got [] instead.")
    for value in values:
        lookup(kind, registry, value)
    return values


def build(kind: str, registry: Mapping[str, Callable[..., T]], name: Any, options: Mapping[str, Any]) -> T:
    """``registry[name](**options)``, with an error naming the options the entry takes."""
    factory = lookup(kind, registry, name)
    try:
        inspect.signature(factory).bind(**options)
    except TypeError:
        params = list(inspect.signature(factory).parameters)
        allowed = ", ".join(params) or "none"
        raise InitlabError(
            f"The {kind} '{name}' does not take options {sorted(options)}. Allowed: {allowed}.{_did_you_mean(options, params)}"
        ) from None
    return factory(**options)


def _did_you_mean(given, valid):
    """" Did you mean 'noise'?" for the unknown names in `given` that are close to a `valid` one."""
    pairs = [(g, close[0]) for g in sorted(given) if g not in valid and (close := difflib.get_close_matches(g, valid, n=1))]
    if len(pairs) == 1:
        return f" Did you mean '{pairs[0][1]}'?"
    return " Did you mean " + ", ".join(f"'{v}' for '{g}'" for g, v in pairs) + "?" if pairs else ""


def check_random_state(seed: SeedLike, name: str = "seed") -> RandomSource:
    """A numpy random source from a seed; `name` is the parameter an error names.

    int -> ``np.random.RandomState(seed)`` (the legacy MT19937 stream the course notebook
    draws from with ``np.random.seed``); a ``Generator`` or ``RandomState`` is used as is;
    None -> a fresh, unseeded ``Generator``. Global state is never touched.
    """
    if isinstance(seed, (np.random.Generator, np.random.RandomState)):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        _fail(name, "an int in [0, 2**32), a numpy Generator or RandomState, or None", seed)
    return np.random.RandomState(int(seed))


def check_X(X: ArrayLike, n_features: int | None = None, name: str = "X") -> np.ndarray:
    """A finite float64 array of shape (n_features, m), examples as columns."""
    X = _as_2d_float(name, X)
    if n_features is not None and X.shape[0] != n_features:
        _fail(name, f"an array with {n_features} rows (one per input feature)", f"shape {X.shape}", described=True)
    return X


def check_data(X: ArrayLike, Y: ArrayLike, n_features: int | None = None, targets: str = "binary", n_outputs: int = 1,
               name_x: str = "X", name_y: str = "Y") -> tuple[np.ndarray, np.ndarray]:
    """X of shape (n_features, m) and targets Y of shape (n_outputs, m), all finite.

    `targets`: "binary" (0/1 labels, one row), "one_hot" (each column one-hot over n_outputs
    classes) or "real". Returns float64 arrays, so that the core never sees ints or lists.
    """
    X = check_X(X, n_features, name_x)
    Y = _as_2d_float(name_y, Y)
    if Y.shape[0] != n_outputs:
        _fail(name_y, f"an array of shape ({n_outputs}, m) (examples are columns)", f"shape {Y.shape}", described=True)
    if X.shape[1] != Y.shape[1]:
        raise InitlabError(
            f"The '{name_x}' and '{name_y}' parameters must have the same number of examples "
            f"(columns). Got {X.shape[1]} and {Y.shape[1]} instead."
        )
    if targets in ("binary", "one_hot"):
        bad = np.unique(Y[(Y != 0) & (Y != 1)])
        if bad.size:
            _fail(name_y, "labels 0 or 1", f"labels {bad[:5].tolist()}", described=True)
    if targets == "one_hot" and not np.all(Y.sum(axis=0) == 1):
        _fail(name_y, "one-hot columns (exactly one 1 per example)", "columns with several or no 1s", described=True)
    return X, Y


def _as_2d_float(name: str, a: ArrayLike) -> np.ndarray:
    try:
        a = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        _fail(name, "a numeric array", f"a {type(a).__name__} that is not numeric", described=True)
    if a.ndim != 2 or a.shape[1] == 0:
        _fail(name, "a 2-D array with at least one example (column)", f"shape {a.shape}", described=True)
    if not np.isfinite(a).all():
        n_bad = int((~np.isfinite(a)).sum())
        _fail(name, "finite (no NaN or inf)", f"an array with {n_bad} non-finite values", described=True)
    return a


def check_writable_dir(name: str, path: str | os.PathLike[str]) -> str:
    """Create `path` if needed and check that a file can be written in it.

    The probe is a fresh file (``mkstemp``: O_CREAT | O_EXCL under a random name, so it follows no
    link and never opens an existing file), removed at once: nothing already in `path` is touched.
    """
    path = os.fspath(path)
    try:
        os.makedirs(path, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".initlab-write-")
        os.close(fd)
        os.remove(probe)
    except OSError as exc:
        _fail(name, f"a folder that can be written ({exc.strerror})", path)
    return path


def finite_or_none(x: float | np.floating) -> float | None:
    """A float for JSON and SQLite, which have no NaN or inf: a non-finite number becomes None."""
    return float(x) if np.isfinite(x) else None


def parse_ints(name: str, text: str, example: str = "2,10,5,1") -> list[int]:
    """Comma-separated integers ("10, 5" → [10, 5]; "" → []); anything else is an error naming `name`.

    >>> parse_ints("hidden", " 10, 5 ")
    [10, 5]
    """
    try:
        return [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise InitlabError(f"The '{name}' parameter must be comma-separated integers such as {example}. "
                           f"Got {text!r} instead.", param=name) from None


def parse_literal(text: str) -> int | float | bool | str | None:
    """A value written on a command line or in a label: an int, a float, True, False, None, a
    quoted string (quotes removed) or else the text itself ("fan_out")."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    named = {"True": True, "False": False, "None": None}
    if text in named:
        return named[text]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
