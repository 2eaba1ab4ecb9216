"""`pilotdid verify` tells a code change from a dependency change from a data change (SYNTHETIC panel).

The manifest records a fingerprint of pilotdid's source (pilotdid.provenance.code_fingerprint) and the numerical
stack's versions; verify compares both with the current installation, one line each. A code or dependency change is
simulated by patching what verify sees as "now"; the fingerprint itself is tested on a temporary copy of the source.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

import pilotdid.study.verify as verify_module
from pilotdid.provenance import PACKAGE_ROOT, code_files, code_fingerprint, numerical_versions


@pytest.fixture
def finished_run(tmp_path, panel_csv, minimal_study, study_file, run_cli):
    out = tmp_path / "out"
    code, _, err = run_cli("run", str(study_file(minimal_study)), "--out", str(out), "--quiet")
    assert code == 0, err
    return out


def _lines(stdout: str) -> dict[str, str]:
    """The provenance lines keyed by their head ("inputs", "code", ...)."""
    return {head: rest for head, _, rest in (line.partition(": ") for line in stdout.splitlines()) if rest}


def _copy_source(tmp_path):
    copy = tmp_path / "pilotdid_copy"
    for path in code_files():
        target = copy / path.relative_to(PACKAGE_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return copy


def test_fingerprint_covers_the_bytes_and_names_of_the_source_files(tmp_path) -> None:
    copy = _copy_source(tmp_path)
    assert code_fingerprint(copy) == code_fingerprint()  # a copy elsewhere: same code, same fingerprint
    (copy / "__pycache__").mkdir(exist_ok=True)
    (copy / "__pycache__" / "stale.py").write_bytes(b"x = 1\n")
    (copy / "notes.txt").write_text("not code", encoding="utf-8")
    assert code_fingerprint(copy) == code_fingerprint()  # caches and non-code files are not code
    module = copy / "estimation" / "within.py"
    original = module.read_bytes()
    module.write_bytes(original.replace(b"\n", b"\r\n"))
    assert code_fingerprint(copy) == code_fingerprint()  # a Windows checkout (autocrlf) of the same code
    module.write_bytes(original + b"\n")  # one byte more
    changed = code_fingerprint(copy)
    assert changed != code_fingerprint()
    module.write_bytes(original)
    module.rename(module.with_name("within_renamed.py"))
    assert code_fingerprint(copy) not in (code_fingerprint(), changed)  # a renamed module is a code change too


def test_fingerprint_and_versions_are_the_same_in_another_process() -> None:
    script = "import json; from pilotdid.provenance import *; print(json.dumps([code_fingerprint(), numerical_versions()]))"
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           env=dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT.parent), PYTHONHASHSEED="123"))
    assert json.loads(other.stdout) == [code_fingerprint(), numerical_versions()]


def test_manifest_records_code_and_numerical_stack_and_verify_says_all_match(finished_run, run_cli) -> None:
    manifest = json.loads((finished_run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["code_sha256"] == code_fingerprint()
    assert manifest["numerical_versions"] == numerical_versions()
    assert {"numpy", "scipy", "pandas", "pyfixest", "statsmodels", "blas (numpy)", "blas kernel", "python"} <= manifest["numerical_versions"].keys()
    code, stdout, _ = run_cli("verify", str(finished_run))
    assert code == 0, stdout
    lines = _lines(stdout)
    assert lines["inputs"].startswith("match (2 files")
    assert lines["code"] == f"match (pilotdid {manifest['versions']['pilotdid']}, source fingerprint {code_fingerprint()[:12]})"
    assert lines["numerical dependencies"] == "match"
    assert "files compared" in lines["identical"]


def test_verify_reports_a_code_change_under_the_same_version(finished_run, run_cli, monkeypatch) -> None:
    edited = code_fingerprint().replace(code_fingerprint()[0], "x", 1)  # what a source edit would give
    monkeypatch.setattr(verify_module, "code_fingerprint", lambda: edited)
    code, stdout, _ = run_cli("verify", str(finished_run))
    lines = _lines(stdout)
    assert lines["code"].startswith(f"CHANGED (pilotdid {json.loads((finished_run / 'manifest.json').read_text())['versions']['pilotdid']}, "
                                    f"source fingerprint {code_fingerprint()[:12]} -> {edited[:12]})")
    assert "a difference can come from it" in lines["code"]
    assert lines["inputs"].startswith("match") and lines["numerical dependencies"] == "match"
    assert code == 0  # the outputs reproduced all the same: the code change is reported, not failed


def test_verify_reports_a_dependency_change_and_names_it_as_the_cause(finished_run, run_cli, monkeypatch) -> None:
    recorded = numerical_versions()
    moved = dict(recorded, numpy="0.0.1", **{"blas (numpy)": "other-blas 9"})
    monkeypatch.setattr(verify_module, "numerical_versions", lambda: moved)
    results = finished_run / "results.json"
    results.write_bytes(results.read_bytes().replace(b"0", b"1", 1))  # a number moved
    code, stdout, _ = run_cli("verify", str(finished_run))
    assert code == 1
    lines = _lines(stdout)
    assert lines["numerical dependencies"].startswith(
        f"CHANGED (numpy {recorded['numpy']} -> 0.0.1, blas (numpy) {recorded['blas (numpy)']} -> other-blas 9)")
    assert lines["code"].startswith("match") and lines["inputs"].startswith("match")
    assert lines["differs"].endswith("the difference can come from numerical dependencies")


def test_verify_reports_changed_data_without_blaming_code_or_dependencies(finished_run, panel_csv, run_cli) -> None:
    panel_csv.write_bytes(panel_csv.read_bytes() + b"\n")
    code, stdout, _ = run_cli("verify", str(finished_run))
    assert code == 1
    lines = _lines(stdout)
    assert lines["inputs"].startswith("CHANGED (1 of 2 files") and "from the data" in lines["inputs"]
    assert lines["code"].startswith("match") and lines["numerical dependencies"] == "match"
    assert lines["input changed"] == "panel.csv"


def test_verify_of_an_older_manifest_says_the_code_was_not_recorded(finished_run, run_cli) -> None:
    path = finished_run / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["code_sha256"], manifest["numerical_versions"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    code, stdout, _ = run_cli("verify", str(finished_run))
    assert code == 0, stdout
    lines = _lines(stdout)
    assert lines["code"].startswith("not recorded")
    assert lines["numerical dependencies"] == "match (from the manifest's versions and python; BLAS not recorded)"
