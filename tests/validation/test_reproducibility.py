"""Reproducibility: the same study and seed give byte-identical results.json and tables across runs and ``--jobs``.

A SYNTHETIC study with baseline, event_study, placebo (99 draws) and staggered (CS bootstrap 99 draws) is run twice
through the CLI (``--jobs 1`` and ``--jobs 2``); then the manifest's contents are checked, and ``pilotdid verify`` -- a
third, fresh run compared byte for byte -- must report the untouched folder identical (exit 0) and a tampered table
as different (exit 1).
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path

import pytest

from .conftest import BASE_STUDY, sha256_tree, synthetic_panel

STUDY = BASE_STUDY + """
[analyses.event_study]
window = [-3, 3]

[analyses.placebo]
draws = 99
in_time = [1]

[analyses.staggered]
estimators = ["cs", "sa", "bjs"]
draws = 99
"""


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Run the study with --jobs 1 and --jobs 2; returns (input folder, [out folders])."""
    from pilotdid.cli import main

    root = tmp_path_factory.mktemp("repro")
    synthetic_panel(seed=7).to_csv(root / "panel.csv", index=False)
    (root / "study.toml").write_text(STUDY, encoding="utf-8")
    outs = []
    for k, jobs in enumerate(("1", "2")):
        out = root / f"out{k}"
        code = main(["run", str(root / "study.toml"), "--out", str(out), "--quiet", "--jobs", jobs])
        assert code == 0
        outs.append(out)
    return root, outs


def _compared_files(out: Path) -> dict[str, str]:
    tree = sha256_tree(out)
    return {k: v for k, v in tree.items() if k == "results.json" or k.startswith("tables/")}


def test_results_and_tables_are_byte_identical_across_runs_and_jobs(two_runs) -> None:
    _, outs = two_runs
    first = _compared_files(outs[0])
    assert "results.json" in first and sum(k.startswith("tables/") for k in first) >= 5
    assert _compared_files(outs[1]) == first, "--jobs 2 differs from --jobs 1"


def test_results_hold_every_analysis(two_runs) -> None:
    _, outs = two_runs
    doc = json.loads((outs[0] / "results.json").read_text(encoding="utf-8"))
    assert doc["placebo"] is not None and doc["placebo"]["draws"] == 99
    assert {r["estimator"] for r in doc["aggregates"]} >= {"cs", "sa", "bjs", "twfe"}
    assert any(r["estimator"] == "twfe" for r in doc["event_study"])
    assert any(r["table"] == "baseline" for r in doc["estimates"])


def test_manifest_records_inputs_versions_platform_seed_and_study(two_runs) -> None:
    root, outs = two_runs
    manifest = json.loads((outs[0] / "manifest.json").read_text(encoding="utf-8"))
    inputs = manifest["inputs_sha256"]
    for name in ("panel.csv", "study.toml"):
        assert inputs[name] == hashlib.sha256((root / name).read_bytes()).hexdigest()
    assert manifest["seed"] == 20240601
    assert manifest["study_text"] == STUDY
    assert manifest["study_file"] == str((root / "study.toml").resolve())
    assert manifest["platform"] == platform.platform()
    assert manifest["python"] == platform.python_version()
    for pkg in ("pilotdid", "numpy", "pandas", "scipy", "pyfixest"):
        assert manifest["versions"][pkg]
    assert manifest["overrides"]["jobs"] == 1
    # what produced the numbers besides the inputs: no time or path in it, so both runs write the same bytes
    other = json.loads((outs[1] / "manifest.json").read_text(encoding="utf-8"))
    for key in ("code_sha256", "numerical_versions", "versions", "inputs_sha256", "study_text"):
        assert json.dumps(other[key]) == json.dumps(manifest[key]), key
    assert len(manifest["code_sha256"]) == 64 and manifest["numerical_versions"]["numpy"]


def test_verify_is_identical_on_an_untouched_folder_and_catches_a_tampered_table(two_runs, run_cli) -> None:
    _, outs = two_runs
    code, stdout, err = run_cli("verify", str(outs[0]))  # a fresh --jobs 1 run, compared byte for byte
    assert code == 0, stdout + err
    assert "identical" in stdout
    table = sorted((outs[1] / "tables").glob("*.csv"))[0]
    table.write_bytes(table.read_bytes().replace(b"0", b"1", 1))
    code, stdout, _ = run_cli("verify", str(outs[1]))
    assert code == 1
    assert f"differs tables/{table.name}" in " ".join(stdout.split())
    # inputs, code and dependencies all match, so verify names the cause: pilotdid failed to reproduce itself
    assert "inputs: match" in stdout and "code: match" in stdout and "numerical dependencies: match" in stdout
    assert "a reproducibility bug in pilotdid" in " ".join(stdout.split())
