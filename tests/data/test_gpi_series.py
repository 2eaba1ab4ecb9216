"""The GPI workbook's city series in the shipped panel (real data: data/raw/wd_prefectural_gpi_2006_2018.xlsx)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pilotdid.data import get_resolver, load_city_panel, load_fill_mask, load_provenance
from pilotdid.data.readers.sources import GPI_SERIES, read_gpi
from pilotdid.data.readers.yearbook import read_all_yearbooks

RAW = Path(__file__).resolve().parents[2] / "data" / "raw"


@pytest.fixture(scope="module")
def gpi():
    return read_gpi(RAW)


def test_unemployed_equals_yearbook_tables(gpi):
    """SOURCES.md: the GPI registered-unemployed counts equal the raw yearbook tables in ~98.5% of city-years."""
    resolver = get_resolver()
    yb = read_all_yearbooks(RAW).tidy
    yb = yb[(yb.variable == "registered_unemployed") & (yb.scope == "city")]
    yb = yb.assign(city_id=[getattr(resolver.resolve(n, y), "city_id", None) for n, y in zip(yb.city, yb.year)])
    g = gpi[gpi.year.between(2011, 2016)]
    g = g.assign(city_id=[getattr(resolver.resolve(n, y), "city_id", None) for n, y in zip(g.source_name, g.year)])
    both = yb.merge(g, on=["city_id", "year"]).dropna(subset=["value", "registered_unemployed_gpi"])
    assert len(both) > 1600
    same = np.isclose(both.value, both.registered_unemployed_gpi, rtol=0, atol=0.00051)
    assert 0.97 <= same.mean() <= 0.995, same.mean()


def test_rows_follow_the_prefecture_list(gpi):
    # the data sheets carry English names only; joining by position must put 苏州 in Jiangsu and 泰州 in Jiangsu
    # while 宿州/台州 keep their own provinces (the English names repeat)
    suzhou = gpi[(gpi.source_name_en == "Suzhou") & (gpi.year == 2015)]
    assert sorted(zip(suzhou.source_name, suzhou.province)) == [("宿州", "安徽"), ("苏州", "江苏")]
    assert "三沙" not in set(gpi.source_name)
    assert gpi.loc[gpi.year == 2018, "smoke_dust"].isna().all()
    assert gpi.loc[gpi.year == 2017, "smoke_dust"].notna().sum() == 286


def test_province_scaled_sheets_are_not_read():
    assert set(GPI_SERIES) == {"pub. exps. on education-local", "unemployment ", "cost of air pollution"}


def test_shipped_panel_carries_the_new_series():
    panel = load_city_panel()
    mask = load_fill_mask()
    by_year = panel.groupby("year")[["education_expenditure", "smoke_dust", "registered_unemployed",
                                    "unemployment_rate"]].count()
    assert by_year.loc[2011:2018, "education_expenditure"].min() >= 285
    assert by_year.loc[2019:, "education_expenditure"].max() == 0
    assert by_year.loc[2011:2017, "smoke_dust"].min() >= 285 and by_year.loc[2018, "smoke_dust"] == 0
    assert by_year.loc[2017:2018, "unemployment_rate"].min() >= 280
    # the 2017-2018 rates hold employment at 2016: flagged in the fill mask, never shown as plain real values
    ext = panel.year.isin([2017, 2018]) & panel.unemployment_rate.notna()
    assert mask.loc[ext.to_numpy(), "unemployment_rate"].all()
    # Beijing is not in the GPI workbook (municipality); Shijiazhuang 2018 education = 197.1155 亿元 as printed
    row = panel[(panel.city_name == "石家庄市") & (panel.year == 2018)]
    assert float(row.education_expenditure.iloc[0]) == pytest.approx(197.1155)
    assert panel.loc[(panel.city_name == "北京市"), "education_expenditure"].isna().all()
    prov = load_provenance().set_index("variable")
    for var in ("education_expenditure", "smoke_dust", "registered_unemployed"):
        assert "wd_prefectural_gpi" in prov.source_file[var]
    rate = panel.unemployment_rate.dropna()
    assert ((rate >= 0) & (rate < 1)).all()
