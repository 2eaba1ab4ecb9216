"""--out is never anything but ours (issue 15): refused before any analysis, inputs byte-identical, atomic swap.

SYNTHETIC panel (tests/validation/conftest.py). Each refusal is one stderr line, exit 2, naming the culprit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from .conftest import BASE_STUDY, sha256_tree, synthetic_panel


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A user's folder: panel, study file and an unrelated document; the cwd is that folder."""
    root = tmp_path / "project"
    root.mkdir()
    synthetic_panel(seed=3).to_csv(root / "panel.csv", index=False)
    (root / "s.toml").write_text(BASE_STUDY, encoding="utf-8")
    (root / "thesis_draft.docx").write_bytes(b"my thesis, not pilotdid's")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def no_analysis(monkeypatch):
    """Make any analysis an error: a refusal must come before the study runs."""
    import pilotdid.study.runner as runner

    def refuse(*args, **kwargs):
        raise AssertionError("the study ran before --out was checked")

    monkeypatch.setattr(runner, "run_study", refuse)


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("out", [".", "..", "", "<project>", "thesis_draft.docx", "<tmp>", "panel.csv/result", "s.toml"])
def test_run_refuses_a_folder_that_is_not_ours_and_touches_nothing(project, no_analysis, run_cli, out) -> None:
    out = out.replace("<project>", str(project)).replace("<tmp>", str(project.parent))
    before = sha256_tree(project.parent)
    code, _, err = run_cli("run", "s.toml", "--out", out, "--quiet")
    assert code == 2, err
    assert _one_line(err).startswith("pilotdid: error: --out")
    assert sha256_tree(project.parent) == before
    assert sorted(p.name for p in project.iterdir()) == ["panel.csv", "s.toml", "thesis_draft.docx"]


def test_run_refuses_a_users_folder_naming_the_foreign_file(project, no_analysis, run_cli) -> None:
    mine = project / "drafts"
    mine.mkdir()
    (mine / "thesis_draft.docx").write_bytes(b"keep me")
    code, _, err = run_cli("run", "s.toml", "--out", "drafts", "--quiet")
    assert code == 2 and "'thesis_draft.docx'" in _one_line(err)
    assert (mine / "thesis_draft.docx").read_bytes() == b"keep me"


def test_run_refuses_an_out_that_lies_above_the_panel(tmp_path, no_analysis, run_cli, monkeypatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    synthetic_panel(seed=3).to_csv(data / "panel.csv", index=False)
    (tmp_path / "s.toml").write_text(BASE_STUDY.replace('"panel.csv"', '"data/panel.csv"'), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    before = sha256_tree(tmp_path)
    for out in ("data", str(data)):
        code, _, err = run_cli("run", "s.toml", "--out", out, "--quiet")
        assert code == 2 and "panel.csv" in _one_line(err)
    assert sha256_tree(tmp_path) == before


def test_a_previous_output_is_replaced_atomically_and_stale_temp_folders_go(project, run_cli) -> None:
    out = project / "result"
    code, _, err = run_cli("run", "s.toml", "--out", "result", "--quiet")
    assert code == 0, err
    # a run killed while writing leaves a temp folder of a process that no longer exists
    stale = project / ".result.result.tmp-999999999-dead"
    stale.mkdir()
    (stale / "results.json").write_text("{}")
    code, _, err = run_cli("run", "s.toml", "--out", "result", "--quiet")
    assert code == 0, err
    assert (out / "results.json").exists() and not stale.exists()
    assert not [p for p in project.iterdir() if p.name.startswith(".")]
    # an earlier output with a file the user added is not ours to replace any more
    (out / "notes_of_mine.txt").write_text("keep")
    code, _, err = run_cli("run", "s.toml", "--out", "result", "--quiet")
    assert code == 2 and "'notes_of_mine.txt'" in _one_line(err)
    assert (out / "notes_of_mine.txt").read_text() == "keep"


def test_folder_mode_follows_the_umask(project, run_cli) -> None:
    old = os.umask(0o022)
    try:
        code, _, err = run_cli("run", "s.toml", "--out", "result", "--quiet")
    finally:
        os.umask(old)
    assert code == 0, err
    assert stat.S_IMODE((project / "result").stat().st_mode) == 0o755
    assert stat.S_IMODE((project / "result" / "tables").stat().st_mode) == 0o755


def test_a_manifest_of_another_command_is_not_ours(project, no_analysis, run_cli) -> None:
    other = project / "idx"
    other.mkdir()
    (other / "manifest.json").write_text('{"pilotdid_output": "index"}')
    code, _, err = run_cli("run", "s.toml", "--out", "idx", "--quiet")
    assert code == 2 and "manifest.json of another kind" in _one_line(err)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_out_is_refused_before_the_run(project, no_analysis, run_cli) -> None:
    locked = project / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        code, _, err = run_cli("run", "s.toml", "--out", "locked/result", "--quiet")
    finally:
        locked.chmod(0o755)
    assert code == 2 and "cannot write" in _one_line(err)


def test_index_refuses_the_folder_of_its_panel(project, run_cli) -> None:
    before = sha256_tree(project)
    code, _, err = run_cli("index", "cbec_resilience", "--panel", str(project / "panel.csv"), "--out", str(project))
    assert code == 2 and "panel.csv" in _one_line(err)
    assert sha256_tree(project) == before


def test_data_build_refuses_the_raw_folder(tmp_path, run_cli) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "source.xlsx").write_bytes(b"raw data")
    before = sha256_tree(tmp_path)
    for out in (raw, tmp_path, raw / "inside"):
        code, _, err = run_cli("data", "build", "--raw", str(raw), "--out", str(out))
        assert code == 2 and "raw" in _one_line(err)
    assert sha256_tree(tmp_path) == before


def test_results_are_the_same_bytes_in_any_folder(tmp_path, run_cli) -> None:
    """results.json and tables name inputs relative to the study file: a moved project gives the same bytes."""
    trees = []
    for name in ("first", "second/deeper"):
        folder = tmp_path / name
        folder.mkdir(parents=True)
        synthetic_panel(seed=3).to_csv(folder / "panel.csv", index=False)
        (folder / "s.toml").write_text(BASE_STUDY, encoding="utf-8")
        code, _, err = run_cli("run", str(folder / "s.toml"), "--out", str(folder / "out"), "--quiet")
        assert code == 0, err
        trees.append({k: v for k, v in sha256_tree(folder / "out").items() if k == "results.json" or k.startswith("tables/")})
    assert trees[0] == trees[1]


def test_registry_map_never_replaces_a_users_file(tmp_path, run_cli) -> None:
    (tmp_path / "thesis.pdf").write_bytes(b"%PDF-1.7 my thesis")
    (tmp_path / "thesis.png").write_bytes(b"not a map")
    before = sha256_tree(tmp_path)
    code, _, err = run_cli("registry", "map", "broadband", "--out", str(tmp_path / "thesis"))
    assert code == 2 and "thesis.png" in _one_line(err)
    assert sha256_tree(tmp_path) == before
    code, _, err = run_cli("registry", "map", "broadband", "--out", "")
    assert code == 2 and "--out" in _one_line(err)
    # an earlier map is replaced, and nothing temporary is left
    for _ in range(2):
        code, _, err = run_cli("registry", "map", "broadband", "--out", str(tmp_path / "bb"))
        assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bb.pdf", "bb.png", "thesis.pdf", "thesis.png"]


def test_an_earlier_output_lists_what_it_wrote(project, run_cli) -> None:
    """A file an earlier version wrote (listed in its manifest's "outputs") is its own, not a foreign file."""
    import json

    code, _, err = run_cli("run", "s.toml", "--out", "result", "--quiet")
    assert code == 0, err
    manifest_path = project / "result" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert "results.json" in manifest["outputs"] and "manifest.json" in manifest["outputs"]
    manifest["outputs"].append("written_by_an_older_version.txt")
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    (project / "result" / "written_by_an_older_version.txt").write_text("old")
    code, _, err = run_cli("run", "s.toml", "--out", "result", "--quiet")
    assert code == 0, err
    assert not (project / "result" / "written_by_an_older_version.txt").exists()
