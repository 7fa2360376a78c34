"""The Makefile's two commands install what each needs, and the extras the project names exist."""
import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")

# --- the Makefile --------------------------------------------------------------------------------
# The real Makefile runs in a scratch folder whose .venv holds stand-ins for python and initlab that
# only log their arguments: what each target installs, and when, is read from the log.
FAKE = '#!/bin/sh\necho "$(basename "$0") $*" >> "$(dirname "$0")/../../log"\n'


@pytest.fixture
def project(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("python", "initlab"):
        (bin_dir / name).write_text(FAKE)
        (bin_dir / name).chmod(stat.S_IRWXU)
    os.utime(tmp_path / "pyproject.toml", (1_000_000_000, 1_000_000_000))
    return tmp_path


def make(project, target):
    """Run `make target` in `project`; return the commands the stand-ins were called with."""
    log = project / "log"
    log.write_text("")
    subprocess.run([MAKE, "-s", "-f", str(ROOT / "Makefile"), "-C", str(project), target], check=True, capture_output=True)
    return log.read_text().splitlines()


def installs(commands):
    """What each pip install in `commands` installed ('.' or '.[test]')."""
    return [c.split()[-1] for c in commands if " -m pip install " in f" {c} "]


needs_make = pytest.mark.skipif(MAKE is None, reason="make is not installed")


@needs_make
def test_make_run_installs_only_the_package(project):
    commands = make(project, "run")
    assert installs(commands) == ["."]
    assert commands[-1] == "initlab compare"
    assert installs(make(project, "run")) == []  # installed once
    assert installs(make(project, "bench")) == []  # bench needs nothing more than run
    assert not (project / ".venv" / ".installed-test").exists()


@needs_make
def test_make_test_adds_the_test_extras(project):
    assert installs(make(project, "run")) == ["."]
    commands = make(project, "test")
    assert installs(commands) == [".[test]"]
    assert commands[-1] == "python -m pytest"
    assert installs(make(project, "test")) == []
    assert installs(make(project, "run")) == []  # '.[test]' holds the package


@needs_make
def test_make_test_first_then_run_installs_nothing_more(project):
    assert installs(make(project, "test")) == [".[test]"]
    assert installs(make(project, "run")) == []


@needs_make
@pytest.mark.parametrize("target, expected", [("run", ["."]), ("test", [".[test]"]), ("bench", ["."])])
def test_a_changed_pyproject_reinstalls(project, target, expected):
    make(project, "test")
    for stamp in (project / ".venv").glob(".installed-*"):  # installed before pyproject.toml last changed
        os.utime(stamp, (999_999_990, 999_999_990))
    assert installs(make(project, target)) == expected
    assert installs(make(project, target)) == []


@needs_make
def test_make_bench_on_a_fresh_venv_installs_only_the_package(project):
    commands = make(project, "bench")
    assert installs(commands) == ["."] and commands[-1] == "python bench/run.py"


# --- extras --------------------------------------------------------------------------------------
EXTRAS = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
MENTION = re.compile(r"initlab\[([A-Za-z0-9_.,-]+)\]")


def _mentions():
    """{file: extras it names} over the package, tests, benchmarks and the READMEs."""
    files = [ROOT / "README.md", ROOT / "Makefile", *sorted((ROOT / "bench").glob("*.md"))]
    for folder in ("src/initlab", "bench"):
        files += sorted(p for p in (ROOT / folder).rglob("*.py") if "egg-info" not in str(p))
    found = {}
    for path in files:
        names = {n for m in MENTION.findall(path.read_text(encoding="utf-8")) for n in m.split(",")}
        if names:
            found[str(path.relative_to(ROOT))] = names
    return found


KNOWN_BAD = {}  # path -> why it names a missing extra (none now: engines/__init__.py's initlab[fast] is gone)


@pytest.mark.parametrize(
    "path, names",
    [pytest.param(p, n, marks=pytest.mark.xfail(reason=KNOWN_BAD[p])) if p in KNOWN_BAD else (p, n) for p, n in sorted(_mentions().items())],
)
def test_named_extras_exist(path, names):
    assert names <= EXTRAS, f"{path} names extras {sorted(names - EXTRAS)} that pyproject.toml does not declare ({sorted(EXTRAS)})"
