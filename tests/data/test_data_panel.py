"""Real-data checks of the city panel build (reads data/raw; no synthetic data except the bad-input copies)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilotdid.data import get_resolver, load_city_panel, load_coverage, load_fill_mask
from pilotdid.data.build import build_panel, interpolate_interior
from pilotdid.data.readers.yearbook import read_yearbook
from pilotdid.errors import PilotdidInputError

RAW = Path(__file__).resolve().parents[2] / "data" / "raw"


@pytest.fixture(scope="module")
def built():
    return build_panel(RAW)


def _cell(panel, name, year, var):
    row = panel[(panel.city_name == name) & (panel.year == year)]
    assert len(row) == 1
    return float(row[var].iloc[0])


# ---- official figures --------------------------------------------------------------------------
def test_official_figures(built):
    p = built.panel
    assert _cell(p, "杭州市", 2020, "digital_finance_index") == pytest.approx(334.48, abs=0.01)
    assert _cell(p, "北京市", 2019, "gdp_per_capita") == pytest.approx(164220, rel=1e-3)
    assert _cell(p, "北京市", 2019, "fiscal_self_sufficiency") == pytest.approx(0.785, abs=0.01)


def test_shares_are_fractions(built):
    p = built.panel
    for var in ["tertiary_share", "urbanisation_rate", "science_share", "unemployment_rate",
                "tertiary_employment_share", "it_employment_share"]:
        v = p[var].dropna()
        assert (v >= 0).all() and (v <= 1).all(), var


# ---- shipped = rebuilt -------------------------------------------------------------------------
def test_shipped_panel_equals_rebuild(built):
    shipped = load_city_panel()
    rebuilt = built.panel.reset_index(drop=True)
    pd.testing.assert_frame_equal(shipped.drop(columns="city_code"), rebuilt.drop(columns="city_code"),
                                  check_dtype=False, rtol=1e-12)
    assert (shipped.city_code.astype("int64").to_numpy() == rebuilt.city_code.astype("int64").to_numpy()).all()
    mask = load_fill_mask()
    assert mask.iloc[:, 2:].to_numpy().sum() == built.fill_mask.iloc[:, 2:].to_numpy().sum()
    pd.testing.assert_frame_equal(load_coverage(), built.coverage, check_dtype=False)


def test_one_row_per_city_year(built):
    assert not built.panel.duplicated(["city_id", "year"]).any()
    assert built.panel.year.min() == 2011 and built.panel.year.max() == 2021


# ---- harmonisation -----------------------------------------------------------------------------
@pytest.mark.parametrize("name,year,city,method", [
    ("杭州", None, "杭州市", "suffix"), ("杭州市", None, "杭州市", "exact"),
    ("恩施州", 2015, "恩施土家族苗族自治州", "alias"), ("毫州", 2015, "亳州市", "alias"),
    ("Anqin", None, "安庆市", "alias"), ("Lvliang", None, "吕梁市", "alias"), ("Erdos", None, "鄂尔多斯市", "alias"),
    ("Hangzhuo", None, "杭州市", "fuzzy"), ("Anqinq", None, "安庆市", "fuzzy"), ("Luliang", None, "吕梁市", "pinyin"),
    ("吐鲁番地区", 2012, "吐鲁番市", "suffix"), ("莱芜市", 2018, "莱芜市", "exact"), ("哈密\u200b", 2015, "哈密市", "suffix"),
])
def test_resolver(name, year, city, method):
    r = get_resolver()
    m = r.resolve(name, year)
    assert m is not None
    names = r.cities.set_index("city_id").city_name
    assert names[m.city_id] == city and m.method == method


def test_mergers_and_ambiguity():
    r = get_resolver()
    assert r.resolve("莱芜", 2019) is None and "2018" in r.why_unmatched("莱芜", 2019)
    assert r.resolve("巢湖", 2011) is None
    assert r.resolve("Suzhou") is None and "ambiguous" in r.why_unmatched("Suzhou")
    assert r.resolve_code("469003").city_id == r.resolve("儋州市").city_id


def test_laiwu_rows_stop_in_2018(built):
    laiwu = built.panel[built.panel.city_name == "莱芜市"]
    assert laiwu.year.max() == 2018
    assert "巢湖市" not in set(built.panel.city_name)


def test_every_unmatched_row_is_listed(built):
    listed = set(zip(built.unmatched.source, built.unmatched.source_name))
    assert ("gp_fdi_1996_2023.xlsx", "中国") in listed
    assert set(built.fuzzy_matches.source_name) >= {"四安市", "洒泉市"}


# ---- yearbook quirks ---------------------------------------------------------------------------
def test_yearbook_quirks():
    t12 = read_yearbook(RAW, 2012)
    tidy = t12.tidy
    bj = tidy[(tidy.city == "北京市") & (tidy.scope == "city")].set_index("variable").value
    assert bj["registered_unemployed"] == pytest.approx(8.1336)  # 万人 despite the (人) header
    assert bj["land_area"] == 16411  # corrected from 1641, and reported
    assert ((t12.corrections.city == "北京市") & (t12.corrections.old_value == 1641)).any()
    assert (t12.dropped_rows.reason.str.contains("城市合计")).sum() == 1
    assert set(tidy.scope) == {"city", "districts"}
    assert tidy.year.unique().tolist() == [2011]
    t16 = read_yearbook(RAW, 2016)
    assert "average_population" in set(t16.tidy.variable)
    assert t16.corrections.reason.str.contains("建成区面积").any()
    # sector columns found by keyword although their order changes in 2015
    t15 = read_yearbook(RAW, 2015).tidy
    bj15 = t15[(t15.city == "北京市") & (t15.scope == "city")].set_index("variable").value
    assert bj15["emp_it"] > bj15["emp_hospitality"]


# ---- interpolation bookkeeping ------------------------------------------------------------------
def test_interpolation_interior_only():
    wide = pd.DataFrame({"city_id": ["a"] * 5 + ["b"] * 3, "year": [1, 2, 3, 4, 5, 1, 2, 3],
                         "v": [np.nan, 1.0, np.nan, 3.0, np.nan, 5.0, np.nan, np.nan]})  # synthetic
    filled, mask = interpolate_interior(wide, ["v"])

    assert np.isnan(filled.v.iloc[0]) and filled.v.iloc[2] == 2.0 and np.isnan(filled.v.iloc[4])
    assert mask.v.tolist() == [False, False, True, False, False, False, False, False]


def test_coverage_counts_filled(built):
    cov = built.coverage
    assert (cov.real + cov.filled + cov.missing == cov.cities).all()
    assert cov.filled.sum() == built.fill_mask.iloc[:, 2:].to_numpy().sum()


# ---- bad input ---------------------------------------------------------------------------------
@pytest.fixture
def raw_copy(tmp_path):
    dst = tmp_path / "raw"
    shutil.copytree(RAW, dst)
    return dst


def test_missing_file(raw_copy):
    (raw_copy / "norahchen_city.xlsx").unlink()
    with pytest.raises(PilotdidInputError, match="norahchen_city.xlsx"):
        build_panel(raw_copy)


def test_unreadable_workbook(raw_copy):
    (raw_copy / "gp_fdi_1996_2023.xlsx").write_text("not a workbook")
    with pytest.raises(PilotdidInputError, match="gp_fdi_1996_2023.xlsx"):
        build_panel(raw_copy)


def test_duplicate_key_and_nonnumeric(raw_copy):
    path = raw_copy / "gp_gdp_296cities_base2000.xlsx"
    df = pd.read_excel(path, sheet_name="Sheet1")
    dup = pd.concat([df, df[(df["城市"] == "杭州市") & (df["年份"] == 2015)]], ignore_index=True)
    dup.to_excel(path, sheet_name="Sheet1", index=False)
    with pytest.raises(PilotdidInputError, match="duplicate"):
        build_panel(raw_copy)
    df = df.astype({"名义GDP": object})
    df.loc[5, "名义GDP"] = "abc"
    df.to_excel(path, sheet_name="Sheet1", index=False)
    with pytest.raises(PilotdidInputError, match="non-numeric"):
        build_panel(raw_copy)


def test_missing_sheet(raw_copy):
    path = raw_copy / "gp_popdensity_298_1998_2024.xlsx"
    pd.read_excel(path, sheet_name="面板数据").to_excel(path, sheet_name="other", index=False)
    with pytest.raises(PilotdidInputError, match="面板数据"):
        build_panel(raw_copy)


def test_cli_bad_raw_exits_2(run_cli, tmp_path):
    out = tmp_path / "out"
    code, _, err = run_cli("data", "build", "--out", str(out), "--raw", str(tmp_path / "nope"))
    assert code == 2 and "raw-data folder not found" in err and "Traceback" not in err
    assert not out.exists()


def test_cli_failure_leaves_no_output(run_cli, raw_copy, tmp_path):
    (raw_copy / "crosswalk_aliases.csv").unlink()
    out = tmp_path / "out"
    code, _, err = run_cli("data", "build", "--out", str(out), "--raw", str(raw_copy))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert not out.exists() and not any(p.name.startswith(".pilotdid") for p in tmp_path.iterdir())
