"""The public API is typed: every public function and method of the package (its classes'
methods and properties included) annotates each parameter and its return, and the package ships
``py.typed`` (PEP 561) so that a user's type checker reads the annotations. The bodies are checked
by mypy in ``.ci/run`` (``make typecheck``; settings in pyproject.toml)."""
import functools
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import initlab

# __main__ runs the CLI when imported; the generated kernels are numba code typed by numba
SKIP = {"initlab.__main__", "initlab.engines._kernels_generated"}
MODULES = sorted(m.name for m in pkgutil.walk_packages(initlab.__path__, "initlab.") if m.name not in SKIP)


def _public_callables(module):
    """(name, function) of the module's public functions and its public classes' public methods,
    properties and cached properties (``__init__`` counts as public)."""
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                function = member.fget if isinstance(member, property) else (
                    member.func if isinstance(member, functools.cached_property) else getattr(member, "__func__", member))
                if inspect.isfunction(function) and function.__module__ == module.__name__:  # not typing's Protocol.__init__
                    yield f"{name}.{attr}", function


def _unannotated(function):
    """What of `function`'s signature lacks an annotation: parameter names, and "return"."""
    signature = inspect.signature(function)
    missing = [p.name for p in signature.parameters.values() if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty]
    return missing + (["return"] if signature.return_annotation is inspect.Signature.empty else [])


def _bare(name):
    module = importlib.import_module(name)
    return {f"{name}.{qual}": missing for qual, function in _public_callables(module) if (missing := _unannotated(function))}


@pytest.mark.parametrize("name", MODULES)
def test_every_public_function_is_annotated(name):
    bare = _bare(name)
    assert bare == {}, f"not annotated (parameter names, or return): {bare}"


def test_the_check_can_fail():
    def untyped(a, b: int = 0):
        return a

    def typed(a: int, *rest: str, **options: float) -> int:
        return a

    assert _unannotated(untyped) == ["a", "return"] and _unannotated(typed) == []


def test_py_typed_ships_with_the_package():
    root = Path(initlab.__file__).parent
    assert (root / "py.typed").is_file()
    pyproject = (root.parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"py.typed"' in pyproject  # in [tool.setuptools.package-data], so a wheel carries it
