# rheostat developer commands. Every target does its own set-up: a fresh clone needs only
# Python 3.11+ and make.
PYTHON ?= python3
# The suite mostly waits (real servers, processes, bakes of a second): four workers on two cores
# take it from about 19 to about 10 minutes. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 4
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install demo test lint fmt typecheck unit test-pg bench cov check clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: install  ## the product tour on a fresh .demo/ database, then the dashboard (DEMO_ARGS=--no-serve)
	$(BIN)/rheostat demo $(DEMO_ARGS)

lint: install  ## ruff, import contracts and mypy --strict
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/lint-imports
	$(BIN)/mypy

fmt: install
	$(BIN)/ruff format src tests benchmarks tools
	$(BIN)/ruff check --fix src tests benchmarks tools

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) tests -m "not slow"

test: lint  ## the whole suite, lint included (the browser tests need /usr/bin/chromium)
	sh tools/ensure_chromium.sh
	$(BIN)/pytest -n $(PYTEST_WORKERS) --durations=25 tests

test-pg: install  ## only the PostgreSQL tests (set RHEOSTAT_TEST_POSTGRES_URL to use a running server)
	$(BIN)/pytest -n $(PYTEST_WORKERS) tests -m postgres

cov: install
	$(BIN)/pytest tests --cov=rheostat --cov-report=term-missing

bench:  ## speed against the peers, measured side by side
	test -x .bench-venv/bin/python || $(PYTHON) -m venv .bench-venv
	stamp=.bench-venv/.installed-$$(cat benchmarks/requirements-peers.txt pyproject.toml | cksum | cut -d' ' -f1); \
	if [ ! -f $$stamp ]; then \
	  .bench-venv/bin/python -m pip install --quiet --upgrade pip && \
	  .bench-venv/bin/python -m pip install --quiet -e . -r benchmarks/requirements-peers.txt && \
	  rm -f .bench-venv/.installed-* && touch $$stamp; \
	fi
	.bench-venv/bin/python benchmarks/run.py $(BENCH_ARGS)

check: test

clean:
	rm -rf $(VENV) .bench-venv .mypy_cache .ruff_cache .pytest_cache
