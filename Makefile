# likegraph: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test test-sqlite test-postgres lint graphiql clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

graphiql:
	@if command -v npm >/dev/null 2>&1; then \
		$(BIN)/python -m api.graphiql_assets; \
	else \
		echo "npm not found: GraphiQL assets not installed; the API still works."; \
	fi

run: $(STAMP) graphiql
	$(BIN)/likegraph migrate
	$(BIN)/likegraph demo --if-empty
	$(BIN)/likegraph serve

test-sqlite: $(STAMP)
	LIKEGRAPH_TEST_ENGINE=sqlite $(BIN)/pytest -q

test-postgres: $(STAMP)
	LIKEGRAPH_TEST_ENGINE=postgres $(BIN)/pytest -q

test: $(STAMP) lint test-sqlite test-postgres

lint: $(STAMP)
	$(BIN)/ruff check api auth models tests
	$(BIN)/ruff format --check api auth models tests

clean:
	rm -rf $(VENV) api/static/graphiql node_modules
