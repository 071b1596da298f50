# capplan: two commands do all the set-up on a fresh machine.
#   make run    creates .venv, installs capplan, runs `capplan run surge` against the built-in demo
#   make test   creates .venv with the dev extras (and Debian's chromium for browser tests), runs ruff, mypy
#               and the whole pytest suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test install dev chromium lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

dev: $(VENV)/.installed-dev chromium

# Debian's chromium for the Playwright browser tests (Playwright's own browser download does not work here).
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null \
	  || { echo "error: could not install chromium with apt-get (browser tests need /usr/bin/chromium)"; exit 1; }; }

run: install
	$(BIN)/capplan run surge

test: dev
	$(BIN)/ruff check capacity loadtests tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: dev
	$(BIN)/ruff check capacity loadtests tests benchmarks
	$(BIN)/mypy

bench: dev
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
