# The two quick-start targets: `make demo` and `make test`. Both install what they need into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= ../shared

.PHONY: install demo test lint typecheck pytest bench bench-env clean

$(BIN)/computekyc: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/computekyc

demo: install
	SHARED=$(SHARED) PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -q -n 2 --dist loadgroup

test: lint typecheck pytest

# Benchmark-only tools (OpenSanctions' nomenklatura for the logic-v2 baseline) live in their own
# venv so that they never become runtime dependencies.
bench-env: $(VENV)-bench/bin/python

$(VENV)-bench/bin/python: benchmarks/requirements-bench.txt
	$(PYTHON) -m venv $(VENV)-bench
	$(VENV)-bench/bin/pip install --quiet -r benchmarks/requirements-bench.txt
	touch $@

bench: install bench-env
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) $(VENV)-bench .demo .pytest_cache .mypy_cache .ruff_cache
