"""A compiled engine is loaded once per process; a first compile is announced before it starts,
wherever training starts it (train, compare, the course's model, the estimators, sweeps)."""
import io
import os
import subprocess
import sys

import pytest

from initlab import engines


@pytest.fixture
def fresh(monkeypatch):
    """As if no compiled engine had been loaded in this process yet."""
    monkeypatch.setattr(engines, "_READY", set())


def _stub(monkeypatch, name, warm_up):
    module = engines.get_engine(name)
    monkeypatch.setattr(module, "warm_up", warm_up)
    return module


@pytest.mark.parametrize("name", ["exact", "numba"])
def test_a_cold_cache_is_announced_before_the_compile_starts(monkeypatch, fresh, name):
    out = io.StringIO()
    seen_when_compiling = []
    _stub(monkeypatch, name, lambda: seen_when_compiling.append(out.getvalue()))
    monkeypatch.setattr(engines, "_cache_is_cold", lambda module: True)
    engines.ready(name, out)
    assert "compiling the" in seen_when_compiling[0] and name in seen_when_compiling[0]
    engines.ready(name, out)  # once per process
    assert len(seen_when_compiling) == 1


def test_a_warm_cache_says_nothing(monkeypatch, fresh):
    engines.get_engine("exact").warm_up()  # compiled and in the disk cache now, if it was not before
    out = io.StringIO()
    engines.ready("exact", out)
    assert engines._cache_is_cold(engines.get_engine("exact")) is False
    assert out.getvalue() == ""


def test_an_unreadable_cache_announces_a_load_that_takes_over_2_s(monkeypatch, fresh):
    import time

    out = io.StringIO()
    monkeypatch.setattr(engines, "_cache_is_cold", lambda module: None)
    _stub(monkeypatch, "numba", lambda: time.sleep(0.05))
    engines.ready("numba", out)
    assert out.getvalue() == ""
    _stub(monkeypatch, "exact", lambda: time.sleep(2.4))
    engines.ready("exact", out)
    assert "compiling the exact training engine" in out.getvalue()


def test_numpy_loads_nothing(monkeypatch, fresh):
    _stub(monkeypatch, "numba", lambda: pytest.fail("numpy must not load the compiled engine"))
    engines.ready("numpy")


def test_the_courses_first_model_call_announces_its_compile(tmp_path):
    """A machine that never compiled the engines (an empty numba cache): the course's model()
    says so on stderr, then prints the notebook's costs."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    code = ("from initlab.course import load_dataset, model\n"
            "X, Y, _, _ = load_dataset()\n"
            "model(X, Y, num_iterations=1000, initialization='he')\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "compiling the exact training engine, once for this machine" in done.stderr
    assert done.stdout.startswith("Cost after iteration 0: 0.8830537463419761")
