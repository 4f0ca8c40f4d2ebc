# napo-tracker: `make run` to try it, `make test` to prove it.
PYTHON ?= python3
VENV ?= .venv
PIP := $(VENV)/bin/pip
FLASK := $(VENV)/bin/flask --app napo_tracker
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-test system-deps bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## Install, migrate, load the demo data and serve on http://$(HOST):$(PORT) (SQLite in instance/).
run: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) run --host $(HOST) --port $(PORT)

## Install the system packages the tests need (PostgreSQL, Chromium, poppler), then the whole suite.
test: install-test system-deps
	$(VENV)/bin/pytest $(PYTEST_ARGS)

system-deps:
	./scripts/system-deps.sh

## Benchmarks: figures are recorded in docs/performance.md.
bench: install-test
	$(VENV)/bin/python -m benchmarks.run_all

clean:
	rm -rf $(VENV) tests/artifacts .pytest_cache
