"""`pilotdid data import` on the SYNTHETIC yearbook fixture (tests/data/fixtures/yearbook_synthetic.xlsx, written by
make_yearbook_fixture.py: random numbers, real city names, codes and header forms)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilotdid.data import get_resolver
from pilotdid.data.build import CNY_PER_USD
from pilotdid.data.headers import load_dictionary, parse_header, recognise
from pilotdid.data.importer import import_yearbook

FIXTURE = Path(__file__).with_name("fixtures") / "yearbook_synthetic.xlsx"
SHEET = "城市面板_合成数据"


@pytest.fixture(scope="module")
def raw():
    return pd.read_excel(FIXTURE, sheet_name=SHEET)


@pytest.fixture(scope="module")
def imported():
    return import_yearbook(FIXTURE)


def _id(name):
    return get_resolver().resolve(name).city_id


def _row(panel, name, year):
    hit = panel[(panel.city_id == _id(name)) & (panel.year == year)]
    assert len(hit) == 1, (name, year)
    return hit.iloc[0]


def _raw(raw, name, year):
    hit = raw[(raw["城市"] == name) & (raw["年份"] == year)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_fixture_is_labelled_synthetic():
    readme = pd.read_excel(FIXTURE, sheet_name="README")
    assert "SYNTHETIC" in readme.iloc[0, 0]


@pytest.mark.parametrize("name,year", [("杭州市", 2015), ("宁波", 2012), ("合肥市", 2020), ("莱芜市", 2018)])
def test_every_conversion(imported, raw, name, year):
    p, r = _row(imported.panel, name, year), _raw(raw, name, year)
    rate = CNY_PER_USD[year]
    expected = {
        "gdp": r["地区生产总值_当年价格_全市_万元"] / 1e4,                      # 万元 -> 亿元, 全市
        "gdp_districts": r["地区生产总值_当年价格_市辖区_万元"] / 1e4,          # 市辖区 kept apart
        "gdp_per_capita": r["人均地区生产总值_全市(元)"],                       # 元 as is
        "urban_disposable_income": r["城镇居民人均可支配收入"],                  # no unit: income is 元
        "household_savings": r["城乡居民储蓄年末余额(亿元)"],                   # 亿元 as is
        "registered_unemployed": r["城镇登记失业人员数(人)"] / 1e4,             # 人 -> 万人
        "unit_employment": r["年末单位从业人员数_全市_万人"],
        "trade": r["进出口总额(万美元)"] * 1e4 * rate / 1e8,                    # 万美元 -> 亿元 at the year's rate
        "fiscal_revenue": r["地方一般公共预算收入_全市_万元"] / 1e4,
        "fiscal_expenditure": r["地方财政一般预算内支出(万元)"] / 1e4,
        "retail_sales": r["社会消费品零售总额 (亿元)"],                          # space before the bracket
        "va_secondary": r["第二产业增加值万元"] / 1e4,                          # Stata: unit glued on
        "va_tertiary": r["第三产业增加值(万元)"] / 1e4,
        "loans": r["年末金融机构各项贷款余额(万元)"] / 1e4,
        "deposits": r["年末金融机构存款余额(万元)"] / 1e4,
        "fixed_asset_investment": r["固定资产投资总额_全市_万元"] / 1e4,
        "hospital_beds": r["医院、卫生院床位数_全市_张"],
        "smoke_dust": r["工业烟(粉)尘排放量(吨)"],
        "patents_granted": r["专利授权数(件)"],
        "science_expenditure": r["科学技术支出_全市_万元"] / 1e4,
        "education_expenditure": r["教育支出(万元)"] / 1e4,
        "urbanisation_rate": r["城镇化率"] / 100,                              # % (values above 1.5) -> fraction
        "fdi_usd": r["外商实际投资额_全市_万美元"] / 100,                       # 万美元 -> million USD
        "land_area": r["行政区域土地面积(平方公里)"],
        "district_population": r["年末总人口_市辖区_万人"],
    }
    for column, value in expected.items():
        assert p[column] == pytest.approx(value, rel=1e-12), column
    # derived as in the shipped panel
    assert p["tertiary_share"] == pytest.approx(p["va_tertiary"] / p["gdp"])
    assert p["unemployment_rate"] == pytest.approx(
        p["registered_unemployed"] / (p["unit_employment"] + p["private_employment"] + p["registered_unemployed"]))
    assert p["market"] == pytest.approx(np.log(p["fdi_usd"] * rate * 100))
    assert p["备注"] == "合成数据 SYNTHETIC"  # unrecognised column kept under its own name


def test_every_mapping(imported, raw):
    panel = imported.panel
    # names with and without 市, with and without a code (every 5th row has its code blank): all rows of a city map
    for name in ("杭州市", "宁波", "合肥市", "大连", "郑州"):
        assert (panel.city_id == _id(name)).sum() == 10, name
    assert _row(panel, "宁波", 2015).city_name == "宁波市"
    # 莱芜 merged into 济南 in 2019: its own id 2011-2018, its 2019-2020 rows unmatched (never added to 济南)
    laiwu = panel[panel.city_id == _id("莱芜市")]
    assert sorted(laiwu.year) == list(range(2011, 2019))
    jinan_2019 = _row(panel, "济南市", 2019)
    assert jinan_2019.gdp == pytest.approx(_raw(raw, "济南市", 2019)["地区生产总值_当年价格_全市_万元"] / 1e4)
    um = imported.unmatched.set_index("source_name")
    assert um.loc["莱芜市", "years"] == "2019-2020" and "2000-2018" in um.loc["莱芜市", "reason"]
    # 巢湖 split up in 2011: no panel rows at all
    assert um.loc["巢湖市", "rows"] == 2 and "2000-2010" in um.loc["巢湖市", "reason"]
    assert len(panel) == len(raw) - 4
    assert not panel.duplicated(["city_id", "year"]).any()
    assert panel.city_code.notna().all()


def test_provenance_names_each_variant_and_source(imported):
    prov = imported.provenance.set_index("variable")
    assert prov.loc["va_secondary", "source_column"] == "第二产业增加值万元"
    assert prov.loc["gdp_districts", "scope"] == "市辖区"
    assert prov.loc["trade", "conversion"].startswith("x 0.0001, x official CNY/USD")
    assert "jcdasheng" in prov.loc["hospital_beds", "variant_sources"]
    assert prov.loc["urbanisation_rate", "assumption"].startswith("no unit in the header: read as a percentage")
    assert list(imported.unrecognised.column) == ["备注"]
    assert "education_expenditure" in imported.present and "population" in imported.absent


def test_file_missing_half_the_indicators(tmp_path, raw, run_cli):
    recognised = [c for c in raw.columns if recognise(c).ids]
    dropped = recognised[::2]
    path = tmp_path / "half.csv"
    raw.drop(columns=dropped).to_csv(path, index=False, encoding="utf-8-sig")
    result = import_yearbook(path)
    gone = {recognise(c).ids[0] for c in dropped}
    status = result.indicators.set_index("id").status
    for indicator in gone:
        assert indicator in result.absent, indicator
        assert status[indicator] in ("absent", "市辖区 only"), indicator
    assert len(result.present) >= 10  # the other half (and what derives from it) is there
    code, out, err = run_cli("data", "import", str(path), "--out", str(tmp_path / "o"))
    assert code == 0, err
    absent_line = next(line for line in out.splitlines() if line.startswith("absent ("))
    assert all(indicator in absent_line for indicator in gone)
    assert (tmp_path / "o" / "panel.csv").exists() and (tmp_path / "o" / "indicators.csv").exists()


def test_wide_by_year_layout(tmp_path):
    wide = pd.DataFrame({
        "城市": ["杭州", "宁波市", "杭州", "宁波市"],
        "指标": ["专利授权数(件)", "专利授权数(件)", "年末金融机构各项贷款余额(亿元)", "年末金融机构各项贷款余额(亿元)"],
        "2015年": [100, 50, 10.5, 5.5], "2016年": [110, 55, 11.0, 6.0],
    })
    path = tmp_path / "wide.xlsx"
    wide.to_excel(path, index=False)
    result = import_yearbook(path)
    assert result.layout.startswith("wide by year")
    hz = result.panel[result.panel.city_id == _id("杭州市")].set_index("year")
    assert hz.loc[2016, "patents_granted"] == 110 and hz.loc[2015, "loans"] == 10.5


def test_stata_file_with_labels(tmp_path):
    frame = pd.DataFrame({"city": ["杭州市", "宁波市"], "year": [2015, 2015], "v1": [1.0e6, 2.0e6], "v2": [3.0, 4.0]})
    path = tmp_path / "p.dta"
    frame.to_stata(path, write_index=False, version=118,
                   variable_labels={"v1": "地区生产总值(万元)", "v2": "other thing"})
    result = import_yearbook(path)
    assert result.panel.set_index("city_name").loc["杭州市", "gdp"] == pytest.approx(100.0)
    assert "Stata label" in result.provenance.set_index("variable").loc["gdp", "source_column"]
    assert list(result.unrecognised.column) == ["v2"]


@pytest.mark.parametrize("column,message", [
    ("年末金融机构各项贷款余额市辖区城乡居民储蓄年末余额全市", "names 2 indicators: loans"),
    ("地区生产总值(全市)(市辖区)(万元)", "both scopes"),
    ("地区生产总值", "states no unit"),
    ("地区生产总值(万元)", "two columns are gdp"),
])
def test_ambiguous_or_unitless_columns_refused(tmp_path, run_cli, column, message):
    frame = pd.DataFrame({"城市": ["杭州市"], "年份": [2015], "地区生产总值_全市_亿元": [1.0], column: [2.0]})
    if column == "地区生产总值":
        frame = frame.drop(columns="地区生产总值_全市_亿元")
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    before = path.read_bytes()
    code, _, err = run_cli("data", "import", str(path), "--out", str(tmp_path / "o"))
    assert code == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists() and path.read_bytes() == before


def test_out_refuses_a_folder_that_is_not_ours(tmp_path, run_cli):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("x")
    code, _, err = run_cli("data", "import", str(FIXTURE), "--out", str(mine))
    assert code == 2 and (mine / "thesis.docx").exists()


def test_header_dictionary_variants_and_sources():
    d = load_dictionary()
    counts = d.variants()
    assert sum(counts.values()) >= 100 and min(counts.values()) >= 2
    for entry in d.indicators.values():
        for header, sources in entry.headers:
            assert parse_header(header).core in entry.cores or recognise(header).ids == (entry.id,), header
            for key in sources.split(","):
                assert key in d.sources, (header, key)


# every dictionary indicator written in every header layout seen in CCSY panels is recognised with its scope and unit
_LAYOUTS = {
    "brackets": "{name}({unit})", "full-width": "{name}（{unit}）", "scope_brackets": "{name}_{scope}({unit})",
    "eps": "{name}_{scope}_{unit}", "unit_scope": "{name}_{unit}_{scope}", "stata_glued": "{name}{scope}{unit}",
    "spaced": "{name} ({unit})",
}
_UNIT_OF_KIND = {"money": "万元", "money_usd": "万美元", "persons": "万人", "count": "个", "mass": "吨", "area": "平方公里",
                 "share": "%", "income": "元"}


@pytest.mark.parametrize("layout", sorted(_LAYOUTS))
def test_every_indicator_in_every_layout(layout):
    d = load_dictionary()
    for entry in d.indicators.values():
        unit = _UNIT_OF_KIND[entry.kind]
        for scope_word, scope in (("全市", "city"), ("市辖区", "districts")):
            if "{scope}" not in _LAYOUTS[layout] and scope == "districts":
                continue
            header = _LAYOUTS[layout].format(name=entry.zh, unit=unit, scope=scope_word)
            rec = recognise(header)
            assert rec.ids == (entry.id,), (header, rec.ids)
            assert rec.unit == unit, header
            if "{scope}" in _LAYOUTS[layout]:
                assert rec.header.scopes == (scope,), header


def test_gbk_csv(tmp_path):
    frame = pd.DataFrame({"城市": ["杭州市"], "年份": [2015], "地区生产总值(亿元)": [10050.0]})
    path = tmp_path / "gbk.csv"
    frame.to_csv(path, index=False, encoding="gb18030")
    result = import_yearbook(path)
    assert result.panel.gdp.iloc[0] == 10050.0


def test_title_rows_and_footer_notes_are_skipped(tmp_path):
    """EPS/CNKI exports put a title above the header and the source under the table."""
    rows = [["中国城市统计年鉴 地级市面板", None, None], ["单位：见表头", None, None],
            ["城市", "年份", "地区生产总值(万元)"], ["杭州市", 2015, 1.005e8], ["宁波市", 2015, 8.0e7],
            ["数据来源：EPS数据平台", None, None]]
    path = tmp_path / "eps.xlsx"
    pd.DataFrame(rows).to_excel(path, index=False, header=False)
    result = import_yearbook(path)
    assert len(result.panel) == 2 and result.panel.gdp.max() == pytest.approx(10050.0)
    assert any("2 title rows" in n for n in result.notes) and any("notes under the table" in n for n in result.notes)


def test_stata_118_file_with_chinese_variable_names(tmp_path):
    """Stata 14+ keeps Chinese variable names but no brackets: the unit is glued on (地区生产总值万元)."""
    frame = pd.DataFrame({"城市": ["杭州市", "宁波市"], "年份": [2015, 2015], "地区生产总值万元": [1.0e8, 8.0e7],
                          "年末金融机构各项贷款余额_全市_万元": [2.0e8, 1.0e8]})
    path = tmp_path / "u.dta"
    frame.to_stata(path, write_index=False, version=118)
    panel = import_yearbook(path).panel.set_index("city_name")
    assert panel.loc["杭州市", "gdp"] == pytest.approx(10000.0) and panel.loc["宁波市", "loans"] == pytest.approx(10000.0)


def test_a_file_with_hundreds_of_columns(tmp_path):
    """Full CCSY panels carry 200+ columns: no fragmented-frame warning (warnings are errors here), all kept."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"城市": ["杭州市", "宁波市"] * 5, "年份": np.repeat(np.arange(2011, 2016), 2)})
    extra = pd.DataFrame(rng.random((10, 250)), columns=[f"其他指标{i}_全市_万元" for i in range(250)])
    frame = pd.concat([frame, extra.assign(**{"地区生产总值_全市_万元": 1.0e6})], axis=1)
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    result = import_yearbook(path)
    assert len(result.unrecognised) == 250 and result.panel.shape == (10, 6 + 1 + 250)  # ids, gdp, the kept columns


def test_one_indicator_per_sheet_joined_with_sheet_all(tmp_path, run_cli):
    path = tmp_path / "sheets.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"说明": ["SYNTHETIC test workbook"]}).to_excel(writer, sheet_name="README", index=False)
        pd.DataFrame({"城市": ["杭州", "宁波市"], "2015": [1.0e8, 8.0e7], "2016": [1.1e8, 8.5e7]}).to_excel(
            writer, sheet_name="地区生产总值(万元)", index=False)
        pd.DataFrame({"城市": ["宁波市", "杭州"], "2015": [30, 60], "2016": [31, 61]}).to_excel(
            writer, sheet_name="专利授权数(件)", index=False)
    result = import_yearbook(path, "all")
    hz = result.panel[result.panel.city_name == "杭州市"].set_index("year")
    assert hz.loc[2016, "gdp"] == pytest.approx(11000.0) and hz.loc[2015, "patents_granted"] == 60
    assert any("README" in n and "skipped" in n for n in result.notes)
    code, out, err = run_cli("data", "import", str(path), "--sheet", "all", "--out", str(tmp_path / "o"))
    assert code == 0, err


def test_headers_command(run_cli):
    code, out, _ = run_cli("data", "headers")
    assert code == 0 and "hospital_beds" in out and "31 indicators" in out
    code, out, _ = run_cli("data", "headers", "hospital_beds")
    assert code == 0 and "医院、卫生院床位数_全市_张" in out and "jcdasheng" in out
    code, _, err = run_cli("data", "headers", "nope")
    assert code == 2 and "unknown indicator" in err
