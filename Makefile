# likegraph: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test test-sqlite test-postgres test-deep lint graphiql node-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# GraphiQL's pinned browser bundles (graphiql/package-lock.json) into api/static/graphiql/.
# Optional for `make run`: without npm, or if the install fails, the API still works.
graphiql: $(STAMP)
	@if command -v npm >/dev/null 2>&1; then \
		$(BIN)/python -m api.graphiql_assets \
			|| echo "GraphiQL assets not installed (see above); the API still works."; \
	else \
		echo "npm not found: GraphiQL assets not installed; the API still works."; \
	fi

# npm packages the test suite needs, from committed lock files: graphql-http's audit
# (tests/test_http_audit.py) and GraphiQL's assets (tests/test_graphiql.py).
# Required for tests: without npm this fails, it does not skip.
node-deps: $(STAMP) tests/audit/node_modules/.package-lock.json
	$(BIN)/python -m api.graphiql_assets

tests/audit/node_modules/.package-lock.json: tests/audit/package.json tests/audit/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is required by the test suite" >&2; exit 1; }
	cd tests/audit && npm ci --no-audit --no-fund --loglevel=error

# `make run PORT=8001 WORKERS=2` serves on another port, with more worker processes.
PORT ?= 8000
WORKERS ?= 1

run: $(STAMP) graphiql
	$(BIN)/likegraph migrate
	$(BIN)/likegraph demo --if-empty
	$(BIN)/likegraph serve --port $(PORT) --workers $(WORKERS)

test-sqlite: $(STAMP) node-deps
	LIKEGRAPH_TEST_ENGINE=sqlite $(BIN)/pytest -q

test-postgres: $(STAMP) node-deps
	LIKEGRAPH_TEST_ENGINE=postgres $(BIN)/pytest -q

test: $(STAMP) lint test-sqlite test-postgres

# The privacy state machine (tests/test_stateful.py) at length: LIKEGRAPH_DEEP_EXAMPLES
# sequences of up to 60 steps (default 5000, hours), on LIKEGRAPH_TEST_ENGINE (sqlite).
test-deep: $(STAMP)
	LIKEGRAPH_DEEP=1 $(BIN)/pytest tests/test_stateful.py -q -s

lint: $(STAMP)
	$(BIN)/ruff check api auth models tests bench
	$(BIN)/ruff format --check api auth models tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) api/static/graphiql graphiql/node_modules tests/audit/node_modules
