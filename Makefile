# pgconsole: `make demo` runs the app against a demo server; `make test` runs every check.
# Both set everything up on a fresh machine: a virtualenv, the packages, PostgreSQL's binaries.

# PYTHON=python3.13 picks another interpreter (a pyenv build when the plain command is not on PATH);
# each version other than the default gets a virtualenv of its own, .venv-3.13.
PYTHON ?= python3
PYTHON_BIN := $(shell scripts/find-python $(PYTHON))
PYTHON_VERSION := $(shell $(PYTHON_BIN) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(PYTHON_VERSION))
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Extra pip arguments for the install (test-lowest and test-newest set them).
PIP_INSTALL_ARGS ?=
# pytest-xdist workers for `make pytest`. Most of a test's time is spent waiting for the server and
# for screens to settle, so two workers on two cores halve the suite's wall time (400 s to 205 s).
# PYTEST_WORKERS=0 runs everything in one process.
PYTEST_WORKERS ?= 2

.PHONY: demo test check lint types pytest setup postgres benchmark benchmark-activity \
	benchmark-diagnostics benchmark-recording benchmark-fleet benchmark-console \
	benchmark-peers bench-venv test-lowest test-newest clean

demo: setup
	$(BIN)/pgconsole --demo

test: check

check: setup lint types pytest

lint: setup
	$(BIN)/ruff check pgconsole tests benchmarks scripts
	$(BIN)/ruff format --check pgconsole tests benchmarks scripts
	$(BIN)/lint-imports --no-cache

types: setup
	$(BIN)/mypy --strict pgconsole tests

pytest: setup
	$(BIN)/pytest -n $(PYTEST_WORKERS)

setup: $(STAMP) postgres

$(STAMP): pyproject.toml
	@[ -n "$(PYTHON_BIN)" ] || { echo "no Python '$(PYTHON)' found" >&2; exit 1; }
	@$(PYTHON_BIN) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "pgconsole needs Python 3.11 or newer (found: $$($(PYTHON_BIN) --version))" >&2; exit 1; }
	$(PYTHON_BIN) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' $(PIP_INSTALL_ARGS)
	touch $(STAMP)

postgres:
	@scripts/ensure-postgres

# The whole suite on the lowest versions pyproject.toml allows for each runtime dependency.
test-lowest:
	@mkdir -p .venv-lowest
	scripts/lowest-constraints pyproject.toml > .venv-lowest/constraints.txt
	$(MAKE) test VENV=.venv-lowest PIP_INSTALL_ARGS="-c .venv-lowest/constraints.txt"

# The whole suite on the newest versions pyproject.toml allows, installed afresh each time.
test-newest:
	rm -f .venv-newest/.installed
	$(MAKE) test VENV=.venv-newest PIP_INSTALL_ARGS="--upgrade --upgrade-strategy eager"

clean:
	rm -rf .venv .venv-* .pytest_cache .mypy_cache .ruff_cache

# The peers the benchmarks drive beside pgconsole (pgcli, harlequin + harlequin-postgres,
# pg_activity), in a virtualenv of their own: never the app's. tmux drives every tool.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
# QUICK=1: the short runs for development (benchmarks.peers --quick: scale 10, one repetition).
BENCH_QUICK := $(if $(QUICK),--quick,)

bench-venv: $(BENCH_STAMP)

$(BENCH_STAMP): benchmarks/peers-requirements.txt
	@[ -n "$(PYTHON_BIN)" ] || { echo "no Python '$(PYTHON)' found" >&2; exit 1; }
	@command -v tmux >/dev/null 2>&1 || apt-get install -y -q tmux >/dev/null || \
		{ apt-get update -q >/dev/null && apt-get install -y -q tmux >/dev/null; } || \
		{ echo "the benchmarks need tmux (apt-get install tmux)" >&2; exit 1; }
	$(PYTHON_BIN) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -r benchmarks/peers-requirements.txt
	touch $(BENCH_STAMP)

# Each prints one table beside the peers (one server, one run), then its own detailed run.
benchmark: setup bench-venv
	$(BIN)/python -m benchmarks.peers $(BENCH_QUICK) --only launch,table
	$(BIN)/python -m benchmarks.browse $(BENCH_QUICK)

benchmark-activity: setup bench-venv
	$(BIN)/python -m benchmarks.peers $(BENCH_QUICK) --only activity
	$(BIN)/python -m benchmarks.activity $(BENCH_QUICK)

# The diagnostics' reads under 50 pgbench clients beside raw asyncpg (no peer has them).
benchmark-diagnostics: setup
	$(BIN)/python -m benchmarks.diagnostics $(BENCH_QUICK)

# The flight recorder against issue 19's targets: 10 min recorded under 50 pgbench clients and
# 150 idle sessions, a synthetic day made from it, seeks, the rewind buffer (QUICK=1: 1 min, 2 h).
benchmark-recording: setup
	$(BIN)/python -m benchmarks.recording $(BENCH_QUICK)

# The fleet view against its issue's targets: 3 servers x 10 databases and 5 dead addresses on
# 127.0.0.1, headless and in tmux; then launch -> first page of 10M rows direct and through a
# throwaway sshd (--ssh). Needs tmux and sshd (QUICK=1: 3 repetitions, 1M rows).
benchmark-fleet: setup
	$(BIN)/python -m benchmarks.fleet $(BENCH_QUICK)

benchmark-console: setup bench-venv
	$(BIN)/python -m benchmarks.peers $(BENCH_QUICK) --only console
	$(BIN)/python -m benchmarks.console $(BENCH_QUICK)

# Every line of the peers' table in one run on one server: the README's table.
benchmark-peers: setup bench-venv
	$(BIN)/python -m benchmarks.peers $(BENCH_QUICK)
