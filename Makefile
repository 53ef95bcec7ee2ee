# Every target builds (once) and reuses a virtual environment in .venv: a fresh machine needs
# only Python 3.10+ and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 9000
# make demo's port: make serve allows the origins http://localhost:3000 and http://127.0.0.1:3000
# (for another port, give make serve CORS_ALLOWED_ORIGINS=http://127.0.0.1:<port>).
DEMO_PORT ?= 3000
FUNCTION ?= lookup
EVENT ?= events/lookup.json
# FC's runtime: s.yaml deploys python$(PYTHON_VERSION) and make build builds for it. Both read
# FC_RUNTIME from the environment (FC_RUNTIME=python3.12 make build && s deploy); PYTHON_VERSION=3.12
# alone builds for 3.12 too, and a build refuses an FC_RUNTIME that says otherwise.
ifneq ($(FC_RUNTIME),)
PYTHON_VERSION ?= $(patsubst python%,%,$(FC_RUNTIME))
endif
PYTHON_VERSION ?= 3.10
# The runtimes the tests build and run the packages for (make pythons checks that both are here).
RUNTIME_VERSIONS := 3.10 3.12
# The interpreter that builds, when python3.X is neither on PATH nor in pyenv: TARGET_PYTHON=/path/to/python3.X
TARGET_PYTHON ?=
SOURCES := functions shared local

.PHONY: help serve demo test test-fast lint typecheck pytest invoke check-deploy build lock lock-check pythons bench bench-load clean

help:
	@echo "make serve    the lookup function on http://127.0.0.1:$(PORT), on the built-in fake CAMS"
	@echo "make serve REDIS=1   the same, with a real redis-server as the shared store (Tair in production)"
	@echo "make serve TRIGGER_AUTH_TYPE=jwt   the same, behind FC's own JWT check, as s deploy sets the trigger up with it"
	@echo "make demo     the frontend example (examples/frontend) on http://127.0.0.1:$(DEMO_PORT); run make serve beside it, in another shell"
	@echo "make test     ruff, mypy --strict, and pytest with coverage"
	@echo "make test-fast  the tests that start no process or server of their own, in seconds"
	@echo "make invoke   FUNCTION=lookup EVENT=events/lookup.json: one invocation with an event file"
	@echo "make check-deploy  what this shell's environment lacks for s deploy (AUTH_JWKS, TRIGGER_AUTH_TYPE, ...)"
	@echo "make build    check-deploy, then each function's code package in build/, for FC's python$(PYTHON_VERSION), with its bytecode"
	@echo "make build SKIP_DEPLOY_CHECK=1   the packages alone, for a build that is not deployed"
	@echo "make lock     regenerate locks/python3.X.txt from pyproject.toml (make lock-check: are they current?)"
	@echo "make pythons  fail unless python$(subst $() , and python,$(RUNTIME_VERSIONS)) are here (the artifact tests run them)"
	@echo "make bench    import time, warm latency and the deployed cold start, handler against the bare SDK"
	@echo "make bench-load  FC instances as processes, 50 then 100 lookups/s against the fake CAMS (about 3 min; BENCH_LOAD_ARGS=--quick)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "Python 3.10 or newer is required"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

serve: $(STAMP)
	$(BIN)/python -m local serve --port $(PORT) $(if $(REDIS),--redis)

# A static page, no build step: http.server on loopback, an origin make serve allows.
demo: $(STAMP)
	@echo "the frontend example: http://127.0.0.1:$(DEMO_PORT)/?api=http://127.0.0.1:$(PORT) (the function: make serve PORT=$(PORT))"
	$(BIN)/python -m http.server $(DEMO_PORT) --bind 127.0.0.1 --directory examples/frontend

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

# The fast set, in seconds: no test that starts processes or servers of its own, or reaches a registry.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not network" $(PYTEST_ARGS)

invoke: $(STAMP)
	$(BIN)/python -m local invoke $(FUNCTION) --event-file $(EVENT)

# Never a value in its output: it names variables and rules. s.yaml's pre-deploy action runs it too.
check-deploy: $(STAMP)
	@$(BIN)/python -m local check-deploy

# A build is for a deployment: one that the environment would break is not built.
build: $(STAMP) $(if $(SKIP_DEPLOY_CHECK),,check-deploy)
	$(BIN)/python -m local build --python-version $(PYTHON_VERSION) $(if $(TARGET_PYTHON),--python $(TARGET_PYTHON))

lock: $(STAMP)
	$(BIN)/python -m local build --lock

lock-check: $(STAMP)
	$(BIN)/python -m local build --check-lock

pythons: $(STAMP)
	@for version in $(RUNTIME_VERSIONS); do $(BIN)/python -m local build --which-python --python-version $$version || exit 1; done

bench: $(STAMP)
	$(BIN)/python bench/bench.py
	$(BIN)/python bench/coldstart.py

# FC instances as processes, an open-loop load of lookups, the fake CAMS at 10 calls/s, a real Redis.
bench-load: $(STAMP)
	$(BIN)/python bench/load.py $(BENCH_LOAD_ARGS)

clean:
	rm -rf $(VENV) build .coverage .pytest_cache .mypy_cache .ruff_cache .hypothesis
