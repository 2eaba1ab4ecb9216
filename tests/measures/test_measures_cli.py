"""`pilotdid index` end to end on a SYNTHETIC panel; bad input exits 2 with one line and writes nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilotdid.measures import build_index


@pytest.fixture
def files(tmp_path, panel, system_path):
    path = tmp_path / "panel.csv"
    panel.to_csv(path, index=False)
    return path, system_path


def test_entropy_end_to_end(run_cli, files, tmp_path, panel):
    panel_path, spec = files
    out = tmp_path / "out"
    code, stdout, stderr = run_cli("index", str(spec), "--panel", str(panel_path), "--out", str(out))
    assert code == 0, stderr
    weights = pd.read_csv(out / "weights.csv")
    assert list(weights.columns[:4]) == ["indicator", "dimension", "sign", "weight"]
    assert weights["weight"].sum() == pytest.approx(1.0)
    index = pd.read_csv(out / "index.csv")
    assert list(index.columns) == ["city", "year", "index", "first", "second"]
    expected = build_index(panel, spec)
    np.testing.assert_allclose(index["index"], expected.index, rtol=1e-9)
    assert "shift = 0.0001" in (out / "notes.txt").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp")]


@pytest.mark.parametrize("method", ["critic", "topsis", "equal", "pca"])
def test_other_methods(run_cli, files, tmp_path, method):
    panel_path, spec = files
    out = tmp_path / method
    code, _, stderr = run_cli("index", str(spec), "--panel", str(panel_path), "--method", method, "--out", str(out))
    assert code == 0, stderr
    assert (out / "weights.csv").exists() and (out / "index.csv").exists()
    if method == "pca":
        assert (out / "pca_eigenvalues.csv").exists() and (out / "pca_loadings.csv").exists()


def test_by_year_and_formats(run_cli, files, tmp_path, panel):
    _, spec = files
    dta = tmp_path / "panel.dta"
    panel.to_stata(dta, write_index=False)
    out = tmp_path / "by"
    code, _, stderr = run_cli("index", str(spec), "--panel", str(dta), "--pooling", "by_year", "--out", str(out))
    assert code == 0, stderr
    by_year = pd.read_csv(out / "weights_by_year.csv")
    assert list(by_year.columns) == ["indicator"] + [str(y) for y in sorted(panel["year"].unique())]
    parquet = tmp_path / "panel.parquet"
    panel.to_parquet(parquet)
    code, _, stderr = run_cli("index", str(spec), "--panel", str(parquet), "--out", str(out))  # rerun into the same DIR
    assert code == 0, stderr
    assert not (out / "weights_by_year.csv").exists()  # stale file of the earlier by-year run removed


def test_xlsx_panel(run_cli, files, tmp_path, panel):
    _, spec = files
    xlsx = tmp_path / "panel.xlsx"
    panel.to_excel(xlsx, index=False, sheet_name="data")
    code, _, stderr = run_cli("index", str(spec), "--panel", str(xlsx), "--sheet", "data", "--out", str(tmp_path / "x"))
    assert code == 0, stderr


def test_existing_folder_of_the_users_is_refused_untouched(run_cli, files, tmp_path):
    panel_path, spec = files
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    code, _, err = run_cli("index", str(spec), "--panel", str(panel_path), "--out", str(out))
    assert code == 2 and "'mine.txt'" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"] and (out / "mine.txt").read_text() == "keep"


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--method", "magic"], "unknown index method"),
        (["--pooling", "weekly"], "unknown pooling"),
        (["--panel-override", "missing.csv"], "panel file not found"),
        (["--spec-override", "missing.toml"], "not found"),
        (["--spec-override", "no_such_builtin"], "unknown indicator system"),
        (["--constant"], "zero range"),
        (["--missing"], "missing cells"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(run_cli, files, tmp_path, panel, args, expected):
    panel_path, spec = files
    if args == ["--constant"]:
        panel.assign(c=1.0).to_csv(panel_path, index=False)
        args = []
    if args == ["--missing"]:
        panel.assign(a=panel["a"].where(panel.index != 2)).to_csv(panel_path, index=False)
        args = []
    if args[:1] == ["--panel-override"]:
        panel_path, args = tmp_path / args[1], []
    if args[:1] == ["--spec-override"]:
        spec, args = (tmp_path / args[1]) if args[1].endswith(".toml") else args[1], []
    out = tmp_path / "never"
    code, stdout, stderr = run_cli("index", str(spec), "--panel", str(panel_path), "--out", str(out), *args)
    assert code == 2
    assert expected in stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".never.tmp")]


def test_builtin_system_by_name(run_cli, tmp_path, make_panel):
    from pilotdid.measures import load_indicator_system

    system = load_indicator_system("cbec_resilience")
    frame = make_panel(columns=[ind.column for ind in system.used])
    path = tmp_path / "p.csv"
    frame.to_csv(path, index=False)
    code, _, stderr = run_cli("index", "cbec_resilience", "--panel", str(path), "--out", str(tmp_path / "o"))
    assert code == 0, stderr
    weights = pd.read_csv(tmp_path / "o" / "weights.csv")
    assert len(weights) == 17 and weights["weight"].notna().sum() == 12  # 9 of 17 + 3 with short coverage
    assert weights["published_weight"].notna().all()


def test_exclude_and_years(run_cli, files, tmp_path):
    panel_path, spec = files
    out = tmp_path / "ex"
    code, _, stderr = run_cli("index", str(spec), "--panel", str(panel_path), "--exclude", "b", "--years", "2015-2017",
                              "--out", str(out))
    assert code == 0, stderr
    weights = pd.read_csv(out / "weights.csv").set_index("indicator")
    assert weights.loc["b", "status"] == "excluded" and np.isnan(weights.loc["b", "weight"])
    assert sorted(pd.read_csv(out / "index.csv")["year"].unique()) == [2015, 2016, 2017]
    code, _, stderr = run_cli("index", str(spec), "--panel", str(panel_path), "--years", "2015", "--out", str(out))
    assert code == 2 and "--years" in stderr
