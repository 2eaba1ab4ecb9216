"""Shared test fixtures. Warnings are errors (pyproject); synthetic panels here are labelled as such."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; each xdist worker then builds its own copy (correct, only slower)
    fcntl = None

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

# ---- expensive end-to-end outputs, computed once per test run --------------------------------------------------------
def shared_output(tmp_path_factory, name: str, build) -> Path:
    """A folder `build(folder)` fills once per test run, shared by every module and every xdist worker.

    Under pytest-xdist each worker has its own session, so a session fixture alone would run a 1-minute replication
    once per worker; here the first worker to ask builds it under a file lock in the run's common temporary folder
    (the parent of the workers' base folders) and the others wait and reuse it. A ``.complete`` marker is written
    last, so a failed build is retried (and fails again) in the next worker rather than handing it half a folder.
    Callers must treat the folder as read-only; a test that changes an output copies it first.
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER") and fcntl is not None:
        base = base.parent
    folder = base / "shared" / name
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f"{name}.lock", "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        complete = folder.parent / f"{name}.complete"
        if not complete.exists():
            if folder.exists():
                shutil.rmtree(folder)
            build(folder)
            complete.touch()
    return folder


def _replicate(*extra: str):
    def build(out: Path) -> None:
        from pilotdid.cli import main

        assert main(["replicate", "--out", str(out), "--draws", "49", "--quiet", *extra]) == 0
    return build


@pytest.fixture(scope="session")
def replication(tmp_path_factory) -> Path:
    """`pilotdid replicate` (English, real data) with 49 placebo draws, run once per test run. Read-only."""
    return shared_output(tmp_path_factory, "replication_en", _replicate())


@pytest.fixture(scope="session")
def replication_zh(tmp_path_factory) -> Path:
    """`pilotdid replicate --lang zh` with 49 placebo draws, run once per test run. Read-only."""
    return shared_output(tmp_path_factory, "replication_zh", _replicate("--lang", "zh"))


@pytest.fixture(scope="session")
def lowcarbon_run(tmp_path_factory) -> Path:
    """`pilotdid run examples/lowcarbon/study.toml` (REAL data shipped with the example) with 49 placebo draws, run
    once per test run. Read-only."""
    study = REPO / "examples" / "lowcarbon" / "study.toml"
    if not (study.parent / "sample.xlsx").exists():
        pytest.skip("examples/lowcarbon/sample.xlsx missing")

    def build(out: Path) -> None:
        from pilotdid.cli import main

        assert main(["run", str(study), "--out", str(out), "--draws", "49", "--quiet"]) == 0
    return shared_output(tmp_path_factory, "lowcarbon", build)
