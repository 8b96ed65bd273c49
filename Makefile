# The two quick-start targets: `make demo` and `make test`. Both install what they need into .venv.
# Every path starts from this Makefile's own folder, so `make -C CHECKOUT demo` and
# `make -f CHECKOUT/Makefile test` work from any folder.
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
PYTHON ?= python3
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
# The public data folder: the checkout's sibling `shared` unless given (`make demo SHARED=…`).
SHARED ?= $(abspath $(ROOT)/../shared)

.PHONY: install demo test lint typecheck pytest bench bench-env clean

$(BIN)/computekyc: $(ROOT)/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '$(ROOT)[dev]'
	touch $@

install: $(BIN)/computekyc

demo: install
	cd '$(ROOT)' && SHARED='$(SHARED)' PATH='$(BIN)':"$$PATH" bash scripts/demo.sh

lint: install
	cd '$(ROOT)' && $(BIN)/ruff check src tests benchmarks
	cd '$(ROOT)' && $(BIN)/ruff format --check src tests benchmarks

typecheck: install
	cd '$(ROOT)' && $(BIN)/mypy

pytest: install
	cd '$(ROOT)' && COMPUTEKYC_SHARED='$(SHARED)' $(BIN)/pytest -q -n 2 --dist loadgroup

test: lint typecheck pytest

# Benchmark-only tools (OpenSanctions' nomenklatura for the logic-v2 baseline) live in their own
# venv so that they never become runtime dependencies.
bench-env: $(VENV)-bench/bin/python

$(VENV)-bench/bin/python: $(ROOT)/benchmarks/requirements-bench.txt
	$(PYTHON) -m venv $(VENV)-bench
	$(VENV)-bench/bin/pip install --quiet -r '$(ROOT)/benchmarks/requirements-bench.txt'
	touch $@

bench: install bench-env
	cd '$(ROOT)' && for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	cd '$(ROOT)' && rm -rf .venv .venv-bench .demo .pytest_cache .mypy_cache .ruff_cache
