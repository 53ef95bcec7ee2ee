# Every target builds (once) and reuses a virtual environment in .venv: a fresh machine needs
# only Python 3.10+ and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 9000
FUNCTION ?= lookup
EVENT ?= events/lookup.json
# The deployed runtime is python3.10; the tests build for the interpreter they run on.
PYTHON_VERSION ?= 3.10
SOURCES := functions shared local

.PHONY: help serve test lint typecheck pytest invoke build bench clean

help:
	@echo "make serve    the lookup function on http://127.0.0.1:$(PORT), on the built-in fake CAMS"
	@echo "make test     ruff, mypy --strict, and pytest with coverage"
	@echo "make invoke   FUNCTION=lookup EVENT=events/lookup.json: one invocation with an event file"
	@echo "make build    each function's code package in build/, for FC's python$(PYTHON_VERSION)"
	@echo "make bench    import time and warm latency, handler against the bare SDK"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "Python 3.10 or newer is required"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

serve: $(STAMP)
	$(BIN)/python -m local serve --port $(PORT)

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check $(SOURCES) tests bench
	$(BIN)/ruff format --check $(SOURCES) tests bench

typecheck: $(STAMP)
	$(BIN)/mypy $(SOURCES)

pytest: $(STAMP)
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	$(BIN)/coverage report

invoke: $(STAMP)
	$(BIN)/python -m local invoke $(FUNCTION) --event-file $(EVENT)

build: $(STAMP)
	$(BIN)/python -m local build --python-version $(PYTHON_VERSION)

bench: $(STAMP)
	$(BIN)/python bench/bench.py

clean:
	rm -rf $(VENV) build .coverage .pytest_cache .mypy_cache .ruff_cache .hypothesis
