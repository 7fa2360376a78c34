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
from collections.abc import Iterable, Mapping

import numpy as np


class InitlabError(ValueError):
    """A bad input, with a message meant for the user (the CLI prints it, exit code 2)."""


def _fail(name, requirement, value, described=False):
    """Raise the one message shape; `described`: `value` is already a description, not a value."""
    shown = value if described else repr(value)
    raise InitlabError(f"The '{name}' parameter must be {requirement}. Got {shown} instead.")


def check_float(name, value, *, low=None, low_inclusive=False, high=None):
    """A finite real number, optionally bounded below (strictly by default) or above."""
    bounds = []
    if low is not None:
        bounds.append(f"{'>=' if low_inclusive else '>'} {low:g}")
    if high is not None:
        bounds.append(f"<= {high:g}")
    requirement = "a finite float" + (" " + " and ".join(bounds) if bounds else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        _fail(name, requirement, value)
    too_low = low is not None and (value < low or (value == low and not low_inclusive))
    if too_low or (high is not None and value > high):
        _fail(name, requirement, value)
    return float(value)


def check_int(name, value, *, low=None, high=None):
    """An integer (numpy integers too, never bool), optionally >= low and < high."""
    if low is not None and high is not None:
        requirement = f"an int in [{low}, {high})"
    else:
        requirement = "an int" + (f" >= {low}" if low is not None else "") + (f" < {high}" if high is not None else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(name, requirement, value)
    if (low is not None and value < low) or (high is not None and value >= high):
        _fail(name, requirement, value)
    return int(value)


MAX_PARAMS = 2**30  # 8.6 GB as float64: a network larger than that is a typo, not an experiment here


def check_layer_sizes(name, sizes):
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


def check_choice(name, value, choices):
    """One of a few fixed strings."""
    if value not in choices:
        _fail(name, "one of " + ", ".join(choices), value)
    return value


def lookup(kind, registry: Mapping, name):
    """The registry entry for `name`, or an error listing every valid name."""
    if isinstance(name, str) and name in registry:
        return registry[name]
    valid = ", ".join(sorted(registry))
    hint = ""
    if isinstance(name, str):
        close = difflib.get_close_matches(name, list(registry), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
    raise InitlabError(f"Unknown {kind} {name!r}. Expected one of: {valid}.{hint}")


def check_names(name, values, kind, registry: Mapping):
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


def build(kind, registry: Mapping, name, options):
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


def check_random_state(seed, name="seed"):
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


def check_X(X, n_features=None, name="X"):
    """A finite float64 array of shape (n_features, m), examples as columns."""
    X = _as_2d_float(name, X)
    if n_features is not None and X.shape[0] != n_features:
        _fail(name, f"an array with {n_features} rows (one per input feature)", f"shape {X.shape}", described=True)
    return X


def check_data(X, Y, n_features=None, targets="binary", n_outputs=1, name_x="X", name_y="Y"):
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


def _as_2d_float(name, a):
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


def check_writable_dir(name, path):
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


def finite_or_none(x):
    """A float for JSON and SQLite, which have no NaN or inf: a non-finite number becomes None."""
    return float(x) if np.isfinite(x) else None


def parse_literal(text):
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
