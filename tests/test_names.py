"""Names say what they are: no function hides a module of the same name, and no module offers a
bare ``load``, ``write`` or ``run`` whose meaning depends on where it was imported from."""
import importlib
import inspect
import pkgutil

import pytest

import initlab

MODULES = sorted(m.name for m in pkgutil.walk_packages(initlab.__path__, "initlab.") if m.name != "initlab.__main__")  # it runs the CLI
GENERIC = {"load", "write", "run"}  # three different loads (data, engines, report, sweep) were issue 13's item 9


@pytest.mark.parametrize("name", MODULES)
def test_no_attribute_hides_a_submodule(name):
    """``import initlab.training as t`` gives the module; an attribute of the parent package with the
    submodule's name is the submodule itself (``initlab.train``, the function, has no module of its name)."""
    module = importlib.import_module(name)
    parent, _, last = name.rpartition(".")
    assert getattr(importlib.import_module(parent), last, module) is module


@pytest.mark.parametrize("name", MODULES)
def test_public_functions_are_not_named_after_their_module_or_generic(name):
    module = importlib.import_module(name)
    last = name.rpartition(".")[2]
    public = {n for n, f in vars(module).items() if inspect.isfunction(f) and f.__module__ == name and not n.startswith("_")}
    assert last not in public, f"{name}.{last}: call it what it does (compare.compare_initializers, not compare.compare)"
    assert public & GENERIC == set(), f"{name} defines {sorted(public & GENERIC)}: name what is loaded, written or run"


def test_the_training_function_and_module():
    import initlab.training as training

    assert inspect.ismodule(training) and training.train is initlab.train and inspect.isfunction(initlab.train)
    assert training.TrainOptions is initlab.TrainOptions
