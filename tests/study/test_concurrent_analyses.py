"""Analyses split over two processes (study/runner.py): the same bytes as one after the other.

Synthetic panels only (tests/study/conftest.py)."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pilotdid import parallel
from pilotdid.report.output import write_output
from pilotdid.study import runner
from pilotdid.study.runner import run_study
from pilotdid.study.spec import load_study

ANALYSES = """
[analyses.baseline]
[analyses.event_study]
window = [-3, 3]
[analyses.placebo]
draws = 60
[analyses.staggered]
estimators = ["cs"]
draws = 49
"""
#: baseline and placebo pretend to be heavy, so they go to the second process (staggered stays here: it reads
#: the event study)
HEAVY = {"baseline": 2.0, "placebo": 2.0, "staggered": 2.0}


def _files(folder: Path) -> dict[str, bytes]:
    skip = {"manifest.json", "report.html", "report.docx"}  # run times
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in skip}


#: run in a fresh interpreter: in this test process earlier tests have fitted models, so pyfixest's thread pool
#: runs and the runner (rightly) does not fork
FRESH_RUN = """
import sys
from pilotdid.study import runner
from pilotdid.study.spec import load_study
from pilotdid.report.output import write_output
runner.COST_HINTS = {heavy!r}
if {broken!r}:
    import pilotdid.study.analyses.placebo as placebo
    def broken(ctx, options):
        raise ValueError("no draws today")
    placebo.run = broken
messages = []
try:
    run = runner.run_study(load_study(sys.argv[1]), log=messages.append)
    write_output(run, sys.argv[2])
except Exception as exc:
    print("ERROR", type(exc).__name__, exc)
print("\\n".join(messages))
"""


def _fresh_run(study: Path, out: Path, broken: bool = False) -> str:
    env = dict(os.environ, PYTHONPATH=str(Path(runner.__file__).parents[2]), PYTHONHASHSEED="0")
    code = FRESH_RUN.format(heavy=HEAVY, broken=broken)
    done = subprocess.run([sys.executable, "-c", code, str(study), str(out)], env=env, capture_output=True, text=True,
                          check=True)
    return done.stdout


needs_fork = pytest.mark.skipif(not parallel.fork_usable(), reason="no fork here, or a single CPU")


@needs_fork
def test_a_study_split_over_two_processes_writes_the_serial_bytes(tmp_path, panel_csv, minimal_study, study_file,
                                                                   monkeypatch):
    study = study_file(minimal_study + ANALYSES)
    log = _fresh_run(study, tmp_path / "split")
    assert "running baseline, placebo in a second process" in log and "ERROR" not in log

    monkeypatch.setattr(parallel, "fork_usable", lambda: False)
    messages: list[str] = []
    serial = run_study(load_study(study), log=messages.append)
    assert not any("second process" in m for m in messages)
    assert list(serial.outputs) == list(serial.timings) == list(serial.context.outputs) == list(serial.spec.analyses)
    write_output(serial, tmp_path / "serial")
    assert _files(tmp_path / "split") == _files(tmp_path / "serial")


@needs_fork
def test_a_failing_analysis_of_the_second_process_raises_its_own_error_here(tmp_path, panel_csv, minimal_study,
                                                                             study_file):
    log = _fresh_run(study_file(minimal_study + ANALYSES), tmp_path / "out", broken=True)
    assert "running baseline, placebo in a second process" in log
    assert "ERROR AnalysisError analysis [analyses.placebo] failed: ValueError: no draws today" in log
    assert not (tmp_path / "out").exists()


def test_no_second_process_once_a_fit_may_have_started_pyfixests_thread_pool(panel_csv, minimal_study, study_file,
                                                                             monkeypatch):
    from pilotdid.estimation import fixest

    monkeypatch.setattr(runner, "COST_HINTS", HEAVY)
    monkeypatch.setattr(fixest, "fork_safe_for_fits", lambda: False)
    messages: list[str] = []
    run = run_study(load_study(study_file(minimal_study + ANALYSES)), log=messages.append)
    assert not any("second process" in m for m in messages) and list(run.outputs) == list(run.spec.analyses)


def test_a_forked_fit_after_a_fit_would_hang_so_it_is_not_safe(make_panel):
    from pilotdid.estimation import fixest
    from pilotdid.estimation.twfe import fit_twfe

    fit_twfe(make_panel(), "y", ["did", "x1"], ["unit", "year"], "unit", "reghdfe")
    assert not fixest.fork_safe_for_fits()


class _Module:
    def __init__(self, reads=()):
        if reads:
            self.READS_OUTPUTS = reads


def test_the_split_keeps_readers_with_what_they_read_and_cached_pairs_together(monkeypatch):
    names = ["treatment_map", "index_systems", "baseline", "event_study", "heterogeneity", "staggered", "multiverse",
             "paper_comparison"]
    modules = {n: _Module() for n in names}
    modules["staggered"] = _Module(("event_study",))
    modules["paper_comparison"] = _Module(("*",))
    jobs = [(n, {}) for n in names]
    share = runner._second_process_share(jobs, modules)
    assert share and not share & {"staggered", "event_study", "paper_comparison"}
    assert ("index_systems" in share) == ("multiverse" in share)
    monkeypatch.setattr(runner, "COST_HINTS", {})  # nothing heavy: no second process
    assert runner._second_process_share(jobs, modules) == set()


def test_every_analysis_reading_earlier_outputs_declares_it():
    folder = Path(runner.__file__).parent / "analyses"
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        reads = re.search(r"ctx\.outputs", path.read_text(encoding="utf-8"))
        module = importlib.import_module(f"pilotdid.study.analyses.{path.stem}")
        assert bool(reads) == hasattr(module, "READS_OUTPUTS"), path.name
