"""Specs: a registry entry's key and its options, as plain data.

Everything built from a registry (an activation, a loss, an optimizer, an initializer) is named by a
``Spec``: a key and a sorted tuple of (option, value) pairs whose values are JSON scalars (int,
float, bool, None, str). A spec is hashable, picklable and JSON-round-trippable; the objects are
built from it by their registry (``activations.build_activation(spec)`` and the like), and never
recovered from a display name. Its text form, ``key(option=value, …)``, is what the CLI and sweep
files take and what tables print.

>>> spec = Spec.make("leaky_relu", {"slope": 0.2})
>>> str(spec), spec.kwargs
('leaky_relu(slope=0.2)', {'slope': 0.2})
>>> Spec.parse("leaky_relu(slope=0.2)") == spec == Spec.from_json(spec.to_json())
True
>>> Spec.from_json("relu").to_json()
'relu'
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Union

from ._validation import _fail, parse_literal

Scalar = Union[int, float, bool, str, None]


@dataclass(frozen=True, eq=False)
class Spec:
    """A registry key and its options (sorted (name, value) pairs of JSON scalars).

    A spec equals another with the same key and options, and a string that is its text form
    (``Spec("relu") == "relu"``: code that compared names keeps working); it hashes as that text.
    """

    key: str
    options: tuple[tuple[str, Scalar], ...] = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Spec):
            return (self.key, self.options) == (other.key, other.options)
        return isinstance(other, str) and other == str(self)

    def __hash__(self) -> int:
        return hash(str(self))

    @classmethod
    def make(cls, key: str, options: Mapping[str, Scalar] | None = None, *, param: str = "spec") -> Spec:
        """The spec of `key` with `options`; `param` is the parameter an error names."""
        if not isinstance(key, str) or not key.strip():
            _fail(param, "a registry name (a non-empty string)", key)
        options = dict(options or {})
        for name, value in options.items():
            if not _is_scalar(value):
                _fail(param, f"options that are numbers, booleans, None or strings (option '{name}')", value)
        return cls(key.strip(), tuple(sorted(options.items())))

    @classmethod
    def of_call(cls, key: str, factory: Callable[..., Any], **options: Scalar) -> Spec:
        """The canonical spec of ``factory(**options)`` registered as `key`: the options equal to
        the factory's defaults are left out, so ``leaky_relu(slope=0.01)`` is ``leaky_relu``."""
        defaults = _defaults(factory)
        return cls.make(key, {k: v for k, v in options.items() if not _same(defaults.get(k, _MISSING), v)})

    @property
    def kwargs(self) -> dict[str, Scalar]:
        """The options as keyword arguments for the registry's factory."""
        return dict(self.options)

    def resolved(self, factory: Callable[..., Any]) -> dict[str, Any]:
        """Every option of ``factory`` (the registry entry of this key): its defaults, updated
        with this spec's options."""
        return {**_defaults(factory), **self.kwargs}

    def __str__(self) -> str:
        if not self.options:
            return self.key
        return f"{self.key}({', '.join(f'{k}={_text(v)}' for k, v in self.options)})"

    # --- JSON: a bare key, or {"name": key, "options": {…}} --------------------------------
    def to_json(self) -> str | dict[str, Any]:
        return self.key if not self.options else {"name": self.key, "options": self.kwargs}

    @classmethod
    def from_json(cls, value: Any, param: str = "spec") -> Spec:
        if isinstance(value, str):
            return cls.make(value, param=param)
        if isinstance(value, Mapping) and set(value) <= {"name", "options"} and "name" in value:
            return cls.make(value["name"], value.get("options") or {}, param=param)
        _fail(param, 'a name or {"name": …, "options": {…}}', value)

    # --- text: "key" or "key(option=value, …)" ------------------------------------------------
    @classmethod
    def parse(cls, text: str | Spec, param: str = "spec", kind: str = "registry") -> Spec:
        """``"name"`` or ``"name(key=value, …)"``; values are ints, floats, True, False, None or
        (quoted or bare) strings. Only the grammar is checked here: the registry checks the rest."""
        if isinstance(text, Spec):
            return text
        if not isinstance(text, str):
            _fail(param, f"a{'n' if kind[0] in 'aeiou' else ''} {kind} name, or name(key=value, …)", text)
        name, paren, rest = text.strip().partition("(")
        options: dict[str, Scalar] = {}
        if paren:
            if not rest.endswith(")"):
                _fail(param, "name(key=value, …) with the closing parenthesis", text)
            for item in split_top_level(rest[:-1]):
                key, eq, value = item.partition("=")
                if not eq or not key.strip().isidentifier():
                    _fail(param, "name(key=value, …), each option key=value", text)
                options[key.strip()] = parse_literal(value.strip())
        return cls.make(name, options, param=param)


class BuiltFromSpec:
    """Equality, hashing and pickling through ``spec``, for the objects a registry builds from one
    (``Activation``, ``Loss``, ``Optimizer``): a pickle holds the spec and ``from_spec`` rebuilds
    the object from the registry on the other side. A subclass has a ``spec`` (a field or a property)."""

    @classmethod
    def from_spec(cls, spec: Spec) -> Any:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and other.spec == self.spec  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self.spec)  # type: ignore[attr-defined]

    def __reduce__(self) -> tuple[Any, tuple[Spec]]:
        return self.from_spec, (self.spec,)  # type: ignore[attr-defined]


def _defaults(factory: Callable[..., Any]) -> dict[str, Any]:
    """The default of each of `factory`'s parameters that has one."""
    return {name: p.default for name, p in inspect.signature(factory).parameters.items() if p.default is not inspect.Parameter.empty}


_MISSING = object()


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str)) and not (isinstance(value, float) and not math.isfinite(value))


def _same(default: Any, value: Any) -> bool:
    """Equal and of the same kind (True is not 1 here, 1 is 1.0)."""
    return default is not _MISSING and isinstance(default, bool) == isinstance(value, bool) and default == value


def _text(value: Scalar) -> str:
    """A value as ``parse_literal`` reads it back: strings bare unless they would read as something else."""
    if isinstance(value, str) and (parse_literal(value) != value or not value or any(c in value for c in ",()=")):
        return repr(value)
    return str(value)


def split_top_level(text: str) -> list[str]:
    """Comma-separated parts, commas inside parentheses kept: "zeros,random(scale=0.01),he"."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]

