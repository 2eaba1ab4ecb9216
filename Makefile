# Two commands set up everything: `make replicate` and `make test`.
# Each creates .venv (Python >= 3.11) if it is absent and installs the package into it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.pilotdid-installed
PYTEST_ARGS ?= -n 2 -m "not slow"

.PHONY: replicate test test-all fuzz bench bench-full clean-venv

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; assert sys.version_info >= (3, 11), "pilotdid needs Python >= 3.11"'
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

replicate: $(STAMP)
	$(BIN)/pilotdid replicate --out output/replication

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Property tests (hypothesis) with fresh randomness: FUZZ_ROUNDS runs of every @given test, each drawing new
# examples (`make test` draws the same, derandomized examples every time; see tests/conftest.py).
FUZZ_ROUNDS ?= 5
fuzz: $(STAMP)
	@for round in $$(seq $(FUZZ_ROUNDS)); do \
	  echo "fuzz round $$round of $(FUZZ_ROUNDS)"; \
	  HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -p no:cacheprovider $$(grep -rl "@given" tests) || exit 1; \
	done

test-all: $(STAMP)
	$(BIN)/python -m pytest -n 2

# The peers (csdid, differences, wildboottest: the `bench` extra) live in their own venv so that their
# dependencies (numba) never change the project's .venv. A peer that fails makes `make bench` fail.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed-bench

$(BENCH_STAMP): pyproject.toml
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e ".[bench]"
	@touch $(BENCH_STAMP)

# every table in benchmarks/results/ at 2.5k and 56k rows (+ the CBEC panel); bench-full adds the 1M-row cases
bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python benchmarks/run_all.py

bench-full: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python benchmarks/run_all.py --full

clean-venv:
	rm -rf $(VENV)
