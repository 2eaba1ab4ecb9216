"""No internal errors, hangs or orphans on input (issue 15), and one stderr line for every refusal.

SYNTHETIC panels (tests/validation/conftest.py). Each refusal: exit 2, one stderr line naming the culprit, no
output left, inputs byte-identical; a full disk is exit 1 with one line naming the folder.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import pilotdid

from .conftest import BASE_STUDY, sha256_tree, synthetic_panel

SRC = Path(pilotdid.__file__).resolve().parents[1]


@pytest.fixture
def root(tmp_path) -> Path:
    folder = tmp_path / "inputs"
    folder.mkdir()
    synthetic_panel(seed=2).to_csv(folder / "panel.csv", index=False)
    (folder / "study.toml").write_text(BASE_STUDY, encoding="utf-8")
    return folder


def _run(root: Path, run_cli, *extra: str, quiet: bool = True):
    before = sha256_tree(root)
    out = root.parent / "out"
    code, stdout, err = run_cli("run", str(root / "study.toml"), "--out", str(out), *(["--quiet"] if quiet else []), *extra)
    assert sha256_tree(root) == before
    return code, stdout, err, out


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def _refused(root: Path, run_cli, *culprits: str, extra=(), quiet: bool = True) -> None:
    code, _, err, out = _run(root, run_cli, *extra, quiet=quiet)
    assert code == 2, err
    line = _one_line(err)
    assert line.startswith("pilotdid: error:")
    for culprit in culprits:
        assert culprit in line, line
    assert not out.exists() and not [p for p in root.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("column", ["y", "x1"])
def test_a_value_beyond_1e150_is_refused_with_its_row(root, run_cli, column) -> None:
    panel = synthetic_panel(seed=2)
    panel.loc[4, column] = 1e300
    panel.to_csv(root / "panel.csv", index=False)
    _refused(root, run_cli, f"column '{column}'", "data row 5", "1e+300")


def test_draws_above_the_bound_are_refused(root, run_cli) -> None:
    (root / "study.toml").write_text(BASE_STUDY + "[analyses.placebo]\ndraws = 9\n", encoding="utf-8")
    _refused(root, run_cli, "--draws 1000000000", "1,000,000", extra=("--draws", "1000000000"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_as_the_panel_is_refused_without_blocking(root, run_cli) -> None:
    (root / "panel.csv").unlink()
    os.mkfifo(root / "panel.csv")
    _refused(root, run_cli, "not a regular file")


def test_a_full_disk_is_one_line_naming_the_folder(root, run_cli, monkeypatch) -> None:
    import pilotdid.report.output as output

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output, "write_table", full)
    code, _, err, out = _run(root, run_cli)
    assert code == 1
    line = _one_line(err)
    assert "is full" in line and str(root.parent) in line and "internal error" not in line
    assert not out.exists() and not [p for p in root.parent.iterdir() if p.name.startswith(".")]


def test_an_error_inside_an_analysis_names_the_analysis(root, run_cli, monkeypatch) -> None:
    import pilotdid.study.analyses.baseline as baseline

    def broken(ctx, options):
        raise ValueError("a numerical failure")

    monkeypatch.setattr(baseline, "run", broken)
    code, _, err, out = _run(root, run_cli)
    assert code == 1
    line = _one_line(err)
    assert "[analyses.baseline]" in line and "ValueError: a numerical failure" in line
    assert not out.exists()


def test_a_refusal_is_one_line_without_quiet_too(root, run_cli) -> None:
    panel = synthetic_panel(seed=2)
    panel.loc[7, "unit"] = "u01 "
    panel.to_csv(root / "panel.csv", index=False)
    _refused(root, run_cli, "'u01 '", quiet=False)


@pytest.mark.parametrize("args", [("run",), ("run", "x.toml", "--bogus"), ("nonsense",), ("run", "x.toml", "--draws", "abc")])
def test_usage_errors_are_one_line(run_cli, args) -> None:
    code, _, err = run_cli(*args)
    assert code == 2 and _one_line(err).startswith("pilotdid: error:") and "--help" in err


STAGGERED = """
[analyses.event_study]
window = [-3, 3]
[analyses.placebo]
draws = 9
[analyses.staggered]
estimators = ["cs", "sa", "bjs", "bacon"]
draws = 9
"""
ODD_NAMES = {"unit": "state.name", "year": "class", "y": "经济 韧性", "x1": "1x", "did": "treated now"}


def _numbers(doc: dict) -> list[float]:
    values = [r["coef"] for r in doc["estimates"]] + [r["att"] for r in doc["aggregates"]]
    values += [r["coef"] for r in doc["event_study"]] + [doc["placebo"]["mean"], doc["placebo"]["actual"]]
    return values


def test_any_column_name_works_in_every_analysis(tmp_path, run_cli) -> None:
    docs = []
    for k, names in enumerate(({}, ODD_NAMES)):
        folder = tmp_path / f"case{k}"
        folder.mkdir()
        synthetic_panel(seed=4).rename(columns=names).to_csv(folder / "panel.csv", index=False)
        study = BASE_STUDY + STAGGERED
        for old, new in names.items():
            study = study.replace(f'"{old}"', f'"{new}"')
        (folder / "study.toml").write_text(study, encoding="utf-8")
        code, _, err = run_cli("run", str(folder / "study.toml"), "--out", str(tmp_path / f"out{k}"), "--quiet")
        assert code == 0, err
        docs.append(json.loads((tmp_path / f"out{k}" / "results.json").read_text(encoding="utf-8")))
    plain, odd = (_numbers(d) for d in docs)
    assert len(plain) == len(odd) and len(plain) > 10
    assert np.allclose(plain, odd, rtol=1e-9, atol=1e-12)
    assert {r["estimator"] for r in docs[1]["aggregates"]} >= {"cs", "sa", "bjs"}


WORKER_SCRIPT = textwrap.dedent("""
    import os, sys, time
    from pilotdid.parallel import map_tasks

    def task(path):
        with open(path, "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(600)

    if __name__ == "__main__":
        folder = sys.argv[1]
        map_tasks(task, [os.path.join(folder, f"w{i}") for i in range(2)], jobs=2)
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead: its parent (init here) has not reaped it yet
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_with_their_parent(tmp_path, sig) -> None:
    script = tmp_path / "workers.py"
    script.write_text(WORKER_SCRIPT, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    parent = subprocess.Popen([sys.executable, str(script), str(tmp_path)], env=env)
    try:
        for _ in range(600):  # wait (up to a minute) until both workers have started their task
            if all((tmp_path / f"w{i}").exists() and (tmp_path / f"w{i}").read_text() for i in range(2)):
                break
            time.sleep(0.1)
        pids = [int((tmp_path / f"w{i}").read_text()) for i in range(2)]
        parent.send_signal(sig)
        parent.wait(timeout=60)
        for _ in range(300):
            if not any(_alive(p) for p in pids):
                break
            time.sleep(0.1)
        assert not [p for p in pids if _alive(p)], "worker processes outlived their parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_a_failing_psm_matched_sample_is_named_with_the_real_cause(root, run_cli) -> None:
    (root / "study.toml").write_text(BASE_STUDY.replace("[analyses.baseline]\n", "[analyses.robustness]\nradius_caliper = 0.00001\n"),
                                     encoding="utf-8")
    _refused(root, run_cli, "[analyses.robustness]", "psm_radius", "matched sample", "radius_caliper")


def test_a_continuous_fixed_effect_is_named(root, run_cli) -> None:
    (root / "study.toml").write_text(BASE_STUDY.replace('fixed_effects = ["unit", "year"]', 'fixed_effects = ["unit", "year", "x2"]'),
                                     encoding="utf-8")
    _refused(root, run_cli, "fixed effect 'x2'", "continuous", "controls")


def test_a_negative_seed_names_its_source_and_never_suggests_itself(root, run_cli) -> None:
    (root / "study.toml").write_text(BASE_STUDY + "[analyses.placebo]\ndraws = 9\n", encoding="utf-8")
    code, _, err, _ = _run(root, run_cli, "--seed", "-4")
    assert code == 2 and "--seed" in _one_line(err) and "-4 --" in err and "--seed -4" not in err.split("fix:")[1]
    (root / "study.toml").write_text(BASE_STUDY.replace("seed = 20240601", "seed = -1"), encoding="utf-8")
    _refused(root, run_cli, "[study] seed")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_as_the_study_file_is_refused_without_blocking(tmp_path, run_cli) -> None:
    os.mkfifo(tmp_path / "study.toml")
    code, _, err = run_cli("run", str(tmp_path / "study.toml"), "--out", str(tmp_path / "out"), "--quiet")
    assert code == 2 and "not a regular file" in _one_line(err)


def test_an_unwritable_out_is_refused_before_any_analysis(root, run_cli, monkeypatch) -> None:
    """A read-only place (root ignores permission bits, so the file system's refusal is simulated)."""
    import pilotdid.outdir as outdir
    import pilotdid.study.runner as runner

    def read_only(path, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    def no_analysis(*args, **kwargs):
        raise AssertionError("the study ran before --out was checked")

    monkeypatch.setattr(outdir.os, "mkdir", read_only)
    monkeypatch.setattr(runner, "run_study", no_analysis)
    code, _, err, out = _run(root, run_cli)
    assert code == 2 and "cannot write" in _one_line(err) and "Read-only file system" in err
    assert not out.exists()


def test_library_warnings_stay_off_stderr(root, run_cli, monkeypatch) -> None:
    """A refusal after a library warning is still exactly one stderr line; the warning goes to stdout, once."""
    import warnings

    import pilotdid.study.runner as runner
    from pilotdid.errors import PilotdidInputError

    def warn_then_refuse(*args, **kwargs):
        warnings.warn("a library warning", UserWarning)
        warnings.warn("a library warning", UserWarning)
        raise PilotdidInputError("bad thing", where="somewhere", fix="fix it")

    monkeypatch.setattr(runner, "run_study", warn_then_refuse)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        code, stdout, err, _ = _run(root, run_cli, quiet=False)
    assert code == 2 and _one_line(err) == "pilotdid: error: somewhere: bad thing -- fix: fix it"
    assert stdout.count("pilotdid: warning: UserWarning: a library warning") == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_sigterm_during_a_parallel_run_leaves_no_worker_and_no_output(root) -> None:
    (root / "study.toml").write_text(BASE_STUDY.replace("[analyses.baseline]\n", "[analyses.placebo]\ndraws = 500000\n"),
                                     encoding="utf-8")
    out = root.parent / "out"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    cli = subprocess.Popen([sys.executable, "-m", "pilotdid", "run", str(root / "study.toml"), "--out", str(out), "--quiet",
                            "--jobs", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        workers: list[int] = []
        for _ in range(1200):  # until the placebo's worker processes run (up to two minutes on a loaded machine)
            try:
                workers = [int(p) for p in Path(f"/proc/{cli.pid}/task/{cli.pid}/children").read_text().split()]
            except OSError:
                workers = []
            if workers or cli.poll() is not None:
                break
            time.sleep(0.1)
        assert workers, "the run never started its workers"
        cli.send_signal(signal.SIGTERM)
        _, err = cli.communicate(timeout=120)
        assert cli.returncode == 143, (workers, err)
        assert _one_line(err) == "pilotdid: terminated (SIGTERM); no unfinished output was left behind"
        for _ in range(300):
            if not any(_alive(p) for p in workers):
                break
            time.sleep(0.1)
        assert not [p for p in workers if _alive(p)]
        assert not out.exists() and not [p for p in root.parent.iterdir() if p.name.startswith(".")]
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.communicate()
