# pgconsole: `make demo` runs the app against a demo server; `make test` runs every check.
# Both set everything up on a fresh machine: a virtualenv, the packages, PostgreSQL's binaries.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint types pytest setup postgres benchmark benchmark-activity benchmark-console clean

demo: setup
	$(BIN)/pgconsole --demo

test: check

check: setup lint types pytest

lint: setup
	$(BIN)/ruff check pgconsole tests benchmarks scripts
	$(BIN)/ruff format --check pgconsole tests benchmarks scripts

types: setup
	$(BIN)/mypy --strict pgconsole tests

pytest: setup
	$(BIN)/pytest

setup: $(STAMP) postgres

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "pgconsole needs Python 3.11 or newer (found: $$($(PYTHON) --version))" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

postgres:
	@scripts/ensure-postgres

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

benchmark: setup
	$(BIN)/python -m benchmarks.browse

benchmark-activity: setup
	$(BIN)/python -m benchmarks.activity

benchmark-console: setup
	$(BIN)/python -m benchmarks.console
