"""Exercise mode for the course notebook: ``initlab.course.check(fn)`` grades a student's own function.

The student's function runs on several cases (layer shapes, inputs) beside initlab.course's, which
compute with the course helper's own expressions; each case gets a verdict and, when it fails, the
first result that differs (name, shapes, largest difference) — never the expected arrays, so the
check does not hand out the solution. numpy's global random state is restored around the student's
call (their initializer calls ``np.random.seed(3)``, as the notebook asks).
"""
from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validation import InitlabError, lookup
from .course import (
    backward_propagation, compute_loss, forward_propagation, initialize_parameters_he, initialize_parameters_random,
    initialize_parameters_zeros, load_dataset, predict, predict_dec, update_parameters,
)

RTOL, ATOL = 1e-7, 1e-12  # a check passes what np.isclose(yours, expected, RTOL, ATOL) passes

#: A row of a case's table: the result's name, your shape (or what you returned), the expected shape (or
#: "not expected"), the largest absolute difference (None when the shapes differ).
_Row = tuple[str, Any, Any, float | None]
#: A case of an exercise: its label and the arguments the function is called with.
_CaseArgs = tuple[str, tuple[Any, ...]]


@dataclass
class Case:
    """One case of :func:`check`: what the function was given, a row per result array (name, your
    shape, the expected shape, the largest absolute difference when the shapes agree), and the
    verdict (`reason` says why a case failed)."""

    label: str
    passed: bool
    reason: str = ""
    rows: list[_Row] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else f"FAIL: {self.reason}"

    def __str__(self) -> str:
        if self.passed:
            shapes = ", ".join(f"{name} {_fmt_shape(exp)}" for name, _, exp, _ in self.rows[:8])
            shapes += f", … ({len(self.rows)} arrays)" if len(self.rows) > 8 else ""
            worst = max((d for *_, d in self.rows if d is not None), default=0.0)
            return f"{self.label}: PASS ({shapes}; max |yours - expected| {_fmt_diff(worst)})"
        table = [("", "yours", "expected", "max |yours - expected|")]
        table += [(name, _fmt_shape(yours), _fmt_shape(exp), "-" if d is None else _fmt_diff(d)) for name, yours, exp, d in self.rows]
        widths = [max(len(r[k]) for r in table) for k in range(4)]
        lines = [f"{self.label}: {self.verdict}"]
        lines += ["    " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table] if self.rows else []
        return "\n".join(lines)


@dataclass
class CheckResult:
    """What :func:`check` found: the exercise, its cases, ``passed`` (every case passed) and the
    overall verdict, "PASS" or the first failure ("FAIL: W2 has shape (2, 2), expected (1, 2) …")."""

    exercise: str
    cases: list[Case]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.cases)

    @property
    def verdict(self) -> str:
        if self.passed:
            return f"PASS ({len(self.cases)} of {len(self.cases)} cases)"
        failed = [c for c in self.cases if not c.passed]
        return (f"FAIL: {failed[0].reason} ({failed[0].label}; "
                f"{len(failed)} of {len(self.cases)} cases failed)")

    def __str__(self) -> str:
        lines = [f"check({self.exercise}): {len(self.cases)} cases, each against the course's function"]
        first = True
        for k, case in enumerate(self.cases, start=1):
            # the first failing case with its table, the others on one line each
            text = str(case) if case.passed or first else f"{case.label}: {case.verdict}"
            first = first and case.passed
            lines.append(f"  case {k}, {text}".replace("\n", "\n  "))
        lines.append(f"{self.exercise}: {self.verdict}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        passed = sum(c.passed for c in self.cases)
        return f"<check {self.exercise}: {'PASS' if self.passed else 'FAIL'}, {passed} of {len(self.cases)} cases passed>"


def _fmt_shape(shape: Any) -> str:
    return shape if isinstance(shape, str) else str(tuple(shape)) if shape else "scalar"


def _fmt_diff(d: float) -> str:
    return "0" if d == 0 else f"{d:.3g}"


def _fmt_value(v: float) -> str:
    return f"{v:.6g}" if np.isfinite(v) else str(v)


def _compare(name: Any, yours: Any, expected: Any, rows: list[_Row],
             hint: Callable[[str, np.ndarray, np.ndarray], str]) -> str:
    """Append the comparison rows of `yours` against `expected` (an array, a dict or a tuple of
    arrays, a float or a printed line); return the first failure's reason, "" when none."""
    if isinstance(expected, dict):
        if not isinstance(yours, Mapping):
            rows += [(k, "missing", v.shape, None) for k, v in expected.items()]
            return f"returned {_kind(yours)}, expected a dict with keys {', '.join(expected)}"
        reasons = []
        for key, value in expected.items():
            if key not in yours:
                rows.append((key, "missing", value.shape, None))
                reasons.append(f"no '{key}' in yours")
            else:
                reasons.append(_compare(key, yours[key], value, rows, hint))
        extra = [k for k in yours if k not in expected]
        rows += [(k, _shape_or_kind(yours[k]), "not expected", None) for k in extra]
        reasons.append(f"unexpected key{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))}" if extra else "")
        return next((r for r in reasons if r), "")
    if isinstance(expected, tuple):  # `name` is (what, its entries' names or (what, names) pairs)
        what, items = name
        labels = [n if isinstance(n, str) else n[0] for n in items]
        if not isinstance(yours, (tuple, list)) or len(yours) != len(expected):
            rows += [(n, "missing", _shape_or_kind(e), None) for n, e in zip(labels, expected)]
            got = f"has {len(yours)} entries" if isinstance(yours, (tuple, list)) else f"is {_kind(yours)}"
            return f"{what} {got}, expected a tuple of {len(expected)}: ({', '.join(labels)})"
        reasons = [_compare(n, y, e, rows, hint) for n, y, e in zip(items, yours, expected)]
        return next((r for r in reasons if r), "")
    if isinstance(expected, str):  # a printed line
        ok = yours == expected
        rows.append((name, repr(yours), repr(expected), None))
        return "" if ok else f"printed {yours!r}, expected {expected!r}"
    expected = np.asarray(expected, dtype=float)
    try:
        mine = np.asarray(yours, dtype=float)
    except (TypeError, ValueError):
        rows.append((name, _kind(yours), expected.shape, None))
        return f"{name} is {_kind(yours)}, expected an array of shape {expected.shape}"
    if not isinstance(yours, (np.ndarray, np.generic, float, int)):
        rows.append((name, _kind(yours), expected.shape, None))
        return f"{name} is {_kind(yours)}, expected a numpy array of shape {expected.shape}"
    if mine.shape != expected.shape:
        rows.append((name, mine.shape, expected.shape, None))
        flipped = " (transposed?)" if mine.shape == expected.shape[::-1] else ""
        return f"{name} has shape {mine.shape}, expected {expected.shape}{flipped}"
    same = (mine == expected) | (np.isnan(mine) & np.isnan(expected))
    with np.errstate(invalid="ignore"):
        diff = np.where(same, 0.0, np.abs(mine - expected))
    worst = float(np.nanmax(diff, initial=0.0)) if diff.size else 0.0
    if np.isnan(diff).any():
        worst = float("nan")
    rows.append((name, mine.shape, expected.shape, worst))
    close = same | np.isclose(mine, expected, rtol=RTOL, atol=ATOL)
    if close.all():
        return ""
    where = tuple(int(i) for i in np.argwhere(~close)[0])
    at = f"{name}[{', '.join(map(str, where))}]" if where else name
    return (f"{name} differs (max |yours - expected| {_fmt_diff(worst)}); first at {at}: "
            f"yours {_fmt_value(mine[where])}, expected {_fmt_value(expected[where])}{hint(name, mine, expected)}")


def _kind(value: Any) -> str:
    return f"a {type(value).__name__}" if value is not None else "None"


def _shape_or_kind(value: Any) -> tuple[int, ...] | str:
    return value.shape if isinstance(value, np.ndarray) else type(value).__name__


def _scale_hint(name: str, mine: np.ndarray, expected: np.ndarray) -> str:
    """"; yours are 10 × the expected values: check the scale factor" when they are proportional."""
    if not expected.any():
        return "; expected all zeros"
    k = np.unravel_index(np.argmax(np.abs(expected)), expected.shape)
    ratio = mine[k] / expected[k]
    if np.isfinite(ratio) and ratio != 0 and np.allclose(mine, ratio * expected, rtol=1e-6, atol=ATOL):
        return f"; yours are {ratio:.4g} × the expected values: check the scale factor"
    return ""


def _no_hint(name: str, mine: np.ndarray, expected: np.ndarray) -> str:
    return ""


def _draws_hint(name: str, mine: np.ndarray, expected: np.ndarray) -> str:
    hint = _scale_hint(name, mine, expected)
    if hint or not name.startswith("W"):
        return hint
    return ("; the random draws differ: the expected ones come from np.random.seed(3), then one "
            "np.random.randn(layers_dims[l], layers_dims[l-1]) per layer, l = 1, 2, … in order")


def _cache_names(L: int) -> tuple[str, ...]:
    return tuple(f"{k}{l}" for l in range(1, L + 1) for k in ("z", "a", "W", "b"))


def _notebook_inputs() -> list[tuple[str, np.ndarray, np.ndarray, dict[str, np.ndarray], str]]:
    """The inputs of the forward, backward, loss and prediction cases: (label, X, Y, parameters,
    what the parameters are) for the notebook's network on its data and two other 3-layer
    networks (non-zero biases, two outputs). Drawn from private RandomStates: the global state is
    never touched."""
    train_X, train_Y, _, _ = load_dataset()
    rng = np.random.RandomState(0)
    what = "He parameters of [2, 10, 5, 1]"
    cases = [(f"notebook data train_X (2, 300), {what}", train_X, train_Y, initialize_parameters_he([2, 10, 5, 1]), what)]
    for dims, m in (([3, 4, 2, 1], 7), ([2, 3, 3, 2], 5)):
        X = rng.randn(dims[0], m)
        params: dict[str, np.ndarray] = {}
        for l in range(1, len(dims)):
            params[f"W{l}"] = rng.randn(dims[l], dims[l - 1])
            params[f"b{l}"] = rng.randn(dims[l], 1) * 0.5
        Y = (rng.rand(dims[-1], m) > 0.5).astype(float)
        what = f"random parameters of {dims} with non-zero biases"
        cases.append((f"X {X.shape}, {what}", X, Y, params, what))
    return cases


def _init_cases() -> list[_CaseArgs]:
    return [(f"layers_dims = {dims}", (dims,)) for dims in ([3, 2, 1], [2, 4, 1], [2, 10, 5, 1], [4, 3, 2, 5], [5, 7, 3])]


def _forward_cases() -> list[_CaseArgs]:
    return [(label, (X, params)) for label, X, Y, params, _ in _notebook_inputs()]


def _backward_cases() -> list[_CaseArgs]:
    return [(label, (X, Y, forward_propagation(X, params)[1])) for label, X, Y, params, _ in _notebook_inputs()]


def _loss_cases() -> list[_CaseArgs]:
    return [(f"a3 of {label}", (forward_propagation(X, params)[0], Y)) for label, X, Y, params, _ in _notebook_inputs()]


def _update_cases() -> list[_CaseArgs]:
    cases: list[_CaseArgs] = []
    for (label, X, Y, params, what), lr in zip(_notebook_inputs(), (0.01, 0.5, 1.2)):
        grads = backward_propagation(X, Y, forward_propagation(X, params)[1])
        cases.append((f"{what}, their gradients, learning_rate = {lr}", (params, grads, lr)))
    rng = np.random.RandomState(1)
    params = initialize_parameters_he([4, 3, 2, 5])
    grads = {f"d{k}": rng.randn(*v.shape) for k, v in params.items()}
    cases.append(("He parameters of [4, 3, 2, 5], random gradients, learning_rate = 0.1", (params, grads, 0.1)))
    return cases


def _predict_cases() -> list[_CaseArgs]:
    return [(label, (X, Y, params)) for label, X, Y, params, _ in _notebook_inputs()[:2]]


def _predict_dec_cases() -> list[_CaseArgs]:
    return [(label, (params, X)) for label, X, Y, params, _ in _notebook_inputs()]


def _returned(result: Any, out: str) -> Any:
    return result


def _predict_result(result: Any, out: str) -> tuple[Any, str]:
    return (result, out.strip().splitlines()[-1] if out.strip() else "")


# exercise name → (its cases, how to read a result, the result's name(s), the hint for differing values)
_EXERCISES: dict[str, tuple[Callable[..., Any], Callable[[], list[_CaseArgs]], Callable[[Any, str], Any],
                           Callable[[tuple[Any, ...]], Any] | None, Callable[[str, np.ndarray, np.ndarray], str]]] = {
    "initialize_parameters_zeros": (initialize_parameters_zeros, _init_cases, _returned, None, _scale_hint),
    "initialize_parameters_random": (initialize_parameters_random, _init_cases, _returned, None, _draws_hint),
    "initialize_parameters_he": (initialize_parameters_he, _init_cases, _returned, None, _draws_hint),
    "forward_propagation": (forward_propagation, _forward_cases, _returned,
                            lambda args: ("the result", ("a3", ("cache", _cache_names(len(args[1]) // 2)))), _scale_hint),
    "backward_propagation": (backward_propagation, _backward_cases, _returned, None, _scale_hint),
    "compute_loss": (compute_loss, _loss_cases, _returned, lambda args: "cost", _scale_hint),
    "update_parameters": (update_parameters, _update_cases, _returned, None, _scale_hint),
    "predict": (predict, _predict_cases, _predict_result, lambda args: ("the result", ("p", "printed")), _no_hint),
    "predict_dec": (predict_dec, _predict_dec_cases, _returned, lambda args: "predictions", _no_hint),
}


def _call(fn: Callable[..., Any], args: Sequence[Any]) -> tuple[Any, str, str | None]:
    """fn(*args) with its printing captured and numpy's global random state restored after it:
    (result, printed text, "ExceptionType: first line of the message" or None)."""
    state = np.random.get_state()
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            return fn(*args), printed.getvalue(), None
    except Exception as error:  # a student's function: report it, never a traceback
        message = str(error).strip().splitlines()
        return None, printed.getvalue(), f"{type(error).__name__}" + (f": {message[0]}" if message else "")
    finally:
        np.random.set_state(state)


def _copy(args: Iterable[Any]) -> tuple[Any, ...]:
    return tuple({k: v.copy() for k, v in a.items()} if isinstance(a, dict) else
                 tuple(x.copy() for x in a) if isinstance(a, tuple) else
                 a.copy() if isinstance(a, np.ndarray) else list(a) if isinstance(a, list) else a for a in args)


def check(fn: Callable[..., Any], exercise: str | None = None, *, quiet: bool = False) -> CheckResult:
    """Check a student's own version of one of the notebook's functions against initlab's (the
    course's) on several cases, and print the report.

    `exercise` is the function's name when ``fn.__name__`` is not it: "initialize_parameters_zeros",
    "initialize_parameters_random", "initialize_parameters_he", "forward_propagation",
    "backward_propagation", "compute_loss", "update_parameters", "predict" or "predict_dec". The
    initializers run on layers_dims [3, 2, 1], [2, 4, 1], [2, 10, 5, 1], [4, 3, 2, 5] and [5, 7, 3];
    the other functions on the notebook's 3-layer network and data and on two other 3-layer networks.

    Each case compares your result with the expected one key by key: shapes, the largest absolute
    difference, and for the first mismatch its key and first differing entry (a case passes
    within relative 1e-7); the expected arrays are never printed. A function that raises is
    reported by its exception's message. numpy's global random state is the same after the check
    as before (your ``np.random.seed(3)`` included). Returns a :class:`CheckResult` (``.passed``,
    ``.cases``); ``quiet=True`` does not print.

    >>> def initialize_parameters_zeros(layers_dims):  # the 2025 notebook's, layers_dims[1] and all
    ...     parameters = {}
    ...     for l in range(1, len(layers_dims)):
    ...         parameters['W' + str(l)] = np.zeros((layers_dims[1], layers_dims[l-1]))
    ...         parameters['b' + str(l)] = np.zeros((layers_dims[1], 1))
    ...     return parameters
    >>> result = check(initialize_parameters_zeros, quiet=True)
    >>> result.passed, result.cases[0].reason
    (False, 'W2 has shape (2, 2), expected (1, 2)')
    """
    if not callable(fn):
        raise InitlabError(f"The 'fn' parameter must be a function (your own initialize_parameters_he, …). "
                           f"Got {fn!r} instead.")
    if exercise is None:
        exercise = getattr(fn, "__name__", None)
        if exercise not in _EXERCISES:
            raise InitlabError(f"check() does not know which exercise {exercise!r} is: name it, e.g. "
                               f"check({exercise if str(exercise).isidentifier() else 'fn'}, \"initialize_parameters_he\"). "
                               f"Exercises: {', '.join(_EXERCISES)}.")
    reference, make_cases, read, names, hint = lookup("exercise", _EXERCISES, exercise)
    cases = []
    for label, args in make_cases():
        expected_value, expected_out, _ = _call(reference, _copy(args))
        expected = read(expected_value, expected_out)
        result, out, error = _call(fn, _copy(args))
        name = names(args) if names else exercise
        if error is not None:
            cases.append(Case(label, False, f"raised {error}"))
            continue
        rows: list[_Row] = []
        reason = _compare(name, read(result, out), expected, rows, hint)
        cases.append(Case(label, not reason, reason, rows))
    report = CheckResult(exercise, cases)
    if not quiet:
        print(report)
    return report
