"""The package's layering, read from its source: every internal import (at module level or inside
a function, relative or absolute) must point up ``ORDER``, and no imports may form a cycle.

``ORDER`` below is the one source of truth; README.md's "Layout" block lists the same modules in
the same order (a test checks they agree). A package such as ``engines/`` is one rank; its own
modules must not form a cycle among themselves.
A module imports only modules listed above it; ``initlab/__init__.py`` and ``__main__.py`` (the
package's face and ``python -m initlab``) may import anything, and nothing imports them.
Third-party imports (matplotlib, pandas, numba, …) are not arrows here: only initlab's own count.
"""
from __future__ import annotations

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "initlab"
README = ROOT / "README.md"
FACES = {"initlab", "initlab.__main__"}  # may import any module; none may import them

# Arrows that break the order today, each with its reason and who removes it. Keep this short: an
# arrow that is not here fails the test. (importer, imported) as dotted module names.
KNOWN = {
    ("initlab.course", "initlab.course_check"):
        "course.check(fn) is the notebook's door to the grader, which grades against course's own "
        "functions (so it sits above course); course.check imports it when called",
}


def _modules():
    """{dotted name: path} of every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _is_package(name):
    return MODULES.get(name, pathlib.Path()).name == "__init__.py"


def _resolve(module, node):
    """The initlab modules that one import statement of `module` loads (besides its packages'
    __init__, which Python runs on the way and which hold no code of their own but re-exports)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name == "initlab" or a.name.startswith("initlab.")]
    if node.level:
        base = module.split(".") if _is_package(module) else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target != "initlab" and not target.startswith("initlab."):
        return []
    # `from . import plots` loads the submodule initlab.plots; `from .training import Run`, initlab.training
    return [f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target for a in node.names]


def imports():
    """[(importer, imported, 'file:line', inside a function?)] for every internal import."""
    arrows = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            inner, up = False, node
            while up in parents:
                up = parents[up]
                inner = inner or isinstance(up, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            for target in _resolve(module, node):
                if target != module:
                    arrows.append((module, target, where, inner))
    return arrows


ORDER = [  # top to bottom: each module imports only from those above it
    "_validation", "_spec", "_atomic", "_blas", "_version",
    "activations", "initializers", "losses", "parametrizations", "branches",
    "plots", "_html",  # figures and HTML blocks read results by their fields; every result type renders itself with them
    "data", "network", "rescaling", "optim", "options", "engines", "training",
    "theory", "diagnostics", "jacobian", "blocks", "coordcheck", "transfer", "compare", "papers",
    "store", "executors", "sweep",
    "report",
    "explore",  # the interactive explorer (Panel): reads every result type, above the report
    "estimators", "course", "course_check", "text", "_startup", "cli",
]


def layout_order():
    """The README Layout block's module entries under src/initlab/, top to bottom: ["_validation",
    …, "engines", …, "cli"]; a package entry ("engines/") is its name."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"^## Layout\n+```\n(.*?)^```", text, re.S | re.M)
    assert block, "README.md has no '## Layout' section with a ``` block"
    order, inside = [], False
    for line in block.group(1).splitlines():
        if line.startswith("src/initlab/"):
            inside = True
            continue
        if inside and line and not line.startswith(" "):  # tests/, bench/: the package's list is over
            break
        entry = re.match(r"  ([A-Za-z_][\w]*)(\.py|/)(\s|$)", line)
        if inside and entry:
            order.append(entry.group(1))
    return order


def rank(module):
    """Where `module` stands in the order: initlab.engines.common → the rank of engines/."""
    top = module.split(".")[1]
    return ORDER.index(top)


def test_order_lists_every_module_once():
    listed = set(ORDER)
    assert len(listed) == len(ORDER), f"listed twice: {sorted(n for n in listed if ORDER.count(n) > 1)}"
    present = {m.split(".")[1] for m in MODULES if m not in FACES}
    assert present - listed == set(), f"modules missing from ORDER (and README's Layout): {sorted(present - listed)}"
    assert listed - present == set(), f"ORDER lists modules that do not exist: {sorted(listed - present)}"


def test_readme_layout_matches_order():
    assert layout_order() == ORDER, "README.md's Layout list and ORDER in tests/test_layering.py disagree"


def test_known_exceptions_are_still_needed():
    """A known upward arrow that is gone must leave the list: the list only shrinks."""
    found = {(a, b) for a, b, _, _ in imports()}
    stale = [pair for pair in KNOWN if pair not in found]
    assert not stale, f"these known exceptions no longer happen; remove them from KNOWN: {stale}"


def test_no_module_imports_one_below_it():
    upward = []
    for importer, imported, where, inner in imports():
        if imported in FACES:
            upward.append(f"{where}: {importer} imports the package's face {imported} (import from the module that defines the name)")
            continue
        if importer in FACES or (importer, imported) in KNOWN:
            continue
        if rank(imported) > rank(importer):
            upward.append(f"{where}: {importer} imports {imported}{' (inside a function)' if inner else ''}, "
                          f"listed below it in ORDER (and README's Layout)")
    assert not upward, "imports against the layering:\n  " + "\n  ".join(upward)


def test_no_import_cycle():
    """No cycle among modules, counting function-level imports (a lazy import is still a dependency),
    packages' own modules included; only the KNOWN arrows are left out."""
    graph = {m: set() for m in MODULES}
    where = {}
    for importer, imported, line, _ in imports():
        if (importer, imported) in KNOWN or importer in FACES:
            continue
        graph[importer].add(imported)
        where.setdefault((importer, imported), line)
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " → ".join(cycle) + "\n  "
                            + "\n  ".join(f"{where[a, b]}: {a} imports {b}" for a, b in zip(cycle, cycle[1:])))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_the_reader_sees_every_kind_of_import(tmp_path):
    """The parser itself: relative, absolute, `from . import module`, nested in a function or class."""
    source = ("import initlab.training\nfrom . import plots\nfrom .data import get_dataset\n"
              "def f():\n    from .sweep import Results\n")
    tree = ast.parse(source)
    found = [t for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
             for t in _resolve("initlab.report", node)]
    assert set(found) == {"initlab.training", "initlab.plots", "initlab.data", "initlab.sweep"}
