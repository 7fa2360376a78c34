# Two commands on a fresh machine: `make run` (the notebook comparison) and `make test`.
# Each creates .venv when missing and installs into it what it needs: `make run` (and `make bench`)
# initlab alone (pip install -e .), `make test` initlab with its test extras (-e '.[test]': pytest,
# dask, pyarrow). A stamp per set of packages; both re-install when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test typecheck bench clean

$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

# '.[test]' includes the base package, so this install also brings the run stamp up to date.
$(TEST_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[test]'
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/initlab compare

test: $(TEST_STAMP)
	$(BIN)/python -m pytest

# mypy over src/initlab with pyproject.toml's settings (mypy comes with the test extras)
typecheck: $(TEST_STAMP)
	$(BIN)/python -m mypy

bench: $(RUN_STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) initlab-out .pytest_cache
