"""regression_table / descriptives_table structure and exports (SYNTHETIC panel)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from pilotdid.estimation.twfe import fit_twfe
from pilotdid.report.export import write_table
from pilotdid.report.regression_table import descriptives_table, published_columns, regression_table, stars

FES = ["unit", "year"]


@pytest.fixture
def fits(panel):
    return [
        fit_twfe(panel, "y", ["did"], FES, "unit"),
        fit_twfe(panel, "y", ["did", "x1", "x2"], FES, "unit"),
    ]


def test_stars_thresholds():
    assert stars(0.009) == "***" and stars(0.01) == "**" and stars(0.049) == "**"
    assert stars(0.05) == "*" and stars(0.099) == "*" and stars(0.10) == "" and stars(None) == ""


def test_regression_table_layout(fits):
    t = regression_table(fits, name="t4", title="Baseline", terms=["did", "x1", "x2"], stat="t",
                         labels={"did": {"en": "DID", "zh": "双重差分"}, "x1": "Agg"})
    body = t.body
    assert list(body.columns) == ["Variable", "(1)", "(2)"]
    first = list(body["Variable"])
    assert first[:6] == ["DID", "", "Agg", "", "x2", ""]
    did = fits[1].term("did")
    assert body.iloc[0, 2] == f"{did['coef']:.3f}{stars(did['p'])}"
    assert body.iloc[1, 2] == f"({did['t']:.3f})"
    assert body.iloc[2, 1] == "" and body.iloc[3, 1] == ""  # x1 not in column (1)
    assert "Constant" in first and "Unit FE" in first and "Year FE" in first and "N" in first
    assert body.loc[body["Variable"] == "N"].iloc[0, 1:].tolist() == [str(fits[0].nobs), str(fits[1].nobs)]
    assert any("Adj. R²" in v for v in first)
    assert any("lsdv" in n for n in t.notes) and any("K = " in n for n in t.notes)  # SE convention named, once
    assert any("t-statistics" in n for n in t.notes)


def test_regression_table_se_zh_and_published(fits):
    published = published_columns(
        [{"column": "1", "term": "did", "coef": 0.029, "t": 7.508, "p": 0.0001, "nobs": 2480, "adj_r2": 0.44},
         {"column": "2", "term": "did", "coef": 0.016, "t": 4.614}],
        ["1", "2"],
    )
    t = regression_table(fits, name="t4", title="基准回归", terms=["did"], stat="se", lang="zh",
                         labels={"did": {"en": "DID", "zh": "双重差分"}}, published=published, show_constant=False)
    v = list(t.body["变量"])
    assert v[0] == "双重差分" and v[2].strip() == "原文"
    assert t.body.iloc[2, 1] == "0.029***" and t.body.iloc[2, 2] == "0.016"  # no p published for (2): no stars
    assert v[3] == "单位固定效应"  # no SE published → no parenthesis row beneath
    assert "常数项" not in v
    assert any("原文" in n for n in t.notes) and any("标准误" in n for n in t.notes)
    assert "样本量 — 原文" in v


def test_fe_rows_explicit(fits):
    t = regression_table(fits, name="t", title="t", fe_rows={"City FE": "unit", "Province FE": "No"},
                         extra_rows={"Controls": ["No", "Yes"]})
    rows = t.body.set_index("Variable")
    assert rows.loc["City FE"].tolist() == ["Yes", "Yes"]
    assert rows.loc["Province FE"].tolist() == ["No", "No"]
    assert rows.loc["Controls"].tolist() == ["No", "Yes"]


def test_bad_stat(fits):
    with pytest.raises(ValueError):
        regression_table(fits, name="t", title="t", stat="z")


def test_descriptives_table(panel):
    t = descriptives_table(panel, ["y", "did"], {"y": "Resi"}, published={"y": {"n": 99, "mean": 0.097, "sd": 0.051}})
    assert list(t.body.columns) == ["Variable", "N", "Mean", "SD", "Min", "Max"]
    assert t.body.iloc[0].tolist()[:3] == ["Resi", str(len(panel)), f"{panel['y'].mean():.3f}"]
    assert t.body.iloc[0, 3] == f"{panel['y'].std(ddof=1):.3f}"
    assert t.body.iloc[1].tolist() == ["  published", "99", "0.097", "0.051", "", ""]
    assert t.body.iloc[2, 0] == "DID"  # the built-in name, not the raw column


def test_exports_and_docx_opens(fits, tmp_path):
    import docx

    t = regression_table(fits, name="baseline", title="Baseline", lang="zh",
                         labels={"did": {"zh": "双重差分"}}, column_group="韧性")
    paths = write_table(t, tmp_path)
    assert {p.suffix for p in paths} == {".csv", ".md", ".tex", ".xlsx", ".docx", ".html"}
    document = docx.Document(str(tmp_path / "baseline.docx"))
    table = document.tables[0]
    assert len(table.rows) == len(t.body) + 2  # group header + header + body
    assert "双重差分" in [c.text for c in table.columns[0].cells]
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) not installed: PDF conversion not tested")
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(tmp_path / "baseline.docx")],
                   check=True, capture_output=True, timeout=120)
    assert (tmp_path / "baseline.pdf").stat().st_size > 1000
