"""Shared test fixtures. Warnings are errors (pyproject); synthetic panels here are labelled as such."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]

# Property tests never flake in CI: the "ci" profile draws the same examples on every machine (derandomize) and keeps
# no example database, so a run cannot fail on an example another run happened to find. It is the default (also for
# `make test`); `make fuzz` selects "fuzz": fresh randomness and ten times the examples, to find new failing cases
# (fix the generator or the code, then pin the case with @example).
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("fuzz", derandomize=False, database=None, deadline=None, max_examples=1000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def run_cli(capsys):
    """Run the CLI in-process: returns (exit_code, stdout, stderr)."""
    from pilotdid.cli import main

    def _run(*args: str):
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return _run
