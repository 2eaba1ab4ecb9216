"""Readers for the non-yearbook raw files. Each returns a frame keyed by the source's own city name/code.

Every reader: checks the file and its columns, parses numbers strictly (non-numeric text is a
PilotdidInputError naming row and column), converts to the panel's units, and keeps the source's raw
name (``source_name``) and row number (``source_row``, 1-based Excel/CSV row) for the unmatched table.
Duplicate keys are checked after harmonisation (in build.py), where two spellings of one city collide.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pilotdid.data.names import clean_cell_text, normalise_chinese
from pilotdid.data.readers.common import read_csv, read_sheet, require_columns, require_file, to_number
from pilotdid.errors import PilotdidInputError

FILES = {
    "crosswalk": "crosswalk_aliases.csv",
    "census": "leiii_census_city_2010_2020_v1.csv",
    "industry": "gp_city_industry_structure_2000_2023.xlsx",
    "findev": "gp_findev_2003_2023.xlsx",
    "fdi": "gp_fdi_1996_2023.xlsx",
    "gdp_revised": "gp_gdp_296cities_base2000.xlsx",
    "popdensity": "gp_popdensity_298_1998_2024.xlsx",
    "anintony": "anintony_fenqu_zongshuju_zhishu.xlsx",
    "norahchen": "norahchen_city.xlsx",
    "gpi": "wd_prefectural_gpi_2006_2018.xlsx",
}


def _years(values: pd.Series, where: str) -> pd.Series:
    years = to_number(values, where)
    bad = years.isna() | (years % 1 != 0)
    if bad.any():
        raise PilotdidInputError(
            f"year missing or not an integer at row {int(bad.idxmax()) + 2}", where=where,
            fix="restore the original file",
        )
    return years.astype("int64")


def _frame(raw: pd.DataFrame, name_col: str, year_col: str, where: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Key columns of a source; rows without a year and without any number (blank rows, footers such as
    a data vendor's watermark) are removed (the kept raw rows are returned with the key frame) and counted in ``out.attrs['blank_rows']``."""
    def _numeric(cell: object) -> bool:
        return isinstance(cell, (int, float, np.integer, np.floating)) and not pd.isna(cell)

    has_number = raw.map(_numeric).any(axis=1)
    blank = raw[year_col].isna() & ~has_number
    n_blank = int(blank.sum())
    raw = raw.loc[~blank]
    out = pd.DataFrame({
        "source_name": raw[name_col].map(normalise_chinese),
        "year": _years(raw[year_col], f"{where} column {year_col}"),
        "source_row": raw.index.to_numpy() + 2,
    }, index=raw.index)
    out.attrs["blank_rows"] = n_blank
    return raw, out


def read_crosswalk(raw_dir: Path) -> pd.DataFrame:
    """crosswalk_aliases.csv: alias -> stable id with validity years."""
    path = require_file(raw_dir, FILES["crosswalk"])
    frame = read_csv(path, dtype={"alias": str, "entity_id": str})
    require_columns(frame, ["alias", "entity_id", "alias_type", "start_year", "end_year"], str(path.name))
    for col in ("start_year", "end_year"):
        frame[col] = _years(frame[col], f"{path.name} column {col}")
    return frame


def read_census(raw_dir: Path) -> pd.DataFrame:
    """The 2010/2020 census by prefecture (leiii, MIT): counts in persons, shares in %; WKT boundary in coord."""
    path = require_file(raw_dir, FILES["census"])
    frame = read_csv(path, dtype={"coord": str})
    require_columns(frame, ["city", "city_code", "province", "popu_2020", "popu_urban_2020", "popu_2010",
                            "popu_urban_2010", "coord"], path.name)
    for col in frame.columns:
        if col not in ("city", "province", "coord"):
            frame[col] = to_number(frame[col], f"{path.name} column {col}")
    frame["city"] = frame["city"].map(normalise_chinese)
    frame["province"] = frame["province"].map(normalise_chinese)
    return frame


def read_industry(raw_dir: Path) -> pd.DataFrame:
    """G-P industry structure: GDP (first-published vintage) and value added by sector, 亿元."""
    path = require_file(raw_dir, FILES["industry"])
    sheet = "面板数据2000-2023"
    raw = read_sheet(path, sheet)
    where = f"{path.name} sheet {sheet}"
    cols = ["年度标识", "城市名称", "城市代码", "省份名称", "gdp（亿元人民币）", "第二产业增加值", "第三产业增加值"]
    require_columns(raw, cols, where)
    raw, out = _frame(raw, "城市名称", "年度标识", where)
    out["source_code"] = to_number(raw["城市代码"], f"{where} column 城市代码")
    out["province"] = raw["省份名称"].map(normalise_chinese)
    out["gdp_first"] = to_number(raw["gdp（亿元人民币）"], f"{where} column gdp（亿元人民币）")
    out["va_secondary"] = to_number(raw["第二产业增加值"], f"{where} column 第二产业增加值")
    out["va_tertiary"] = to_number(raw["第三产业增加值"], f"{where} column 第三产业增加值")
    return out


def read_findev(raw_dir: Path) -> pd.DataFrame:
    """G-P financial development: year-end deposits and loans, converted 万元 -> 亿元."""
    path = require_file(raw_dir, FILES["findev"])
    raw = read_sheet(path, 0)
    where = f"{path.name} Sheet1"
    dep, loan, gdp = "年末金融机构存款余额(万元)", "年末金融机构各项贷款余额(万元)", "地区生产总值(万元)"
    require_columns(raw, ["年份", "城市", "城市代码", "省份", dep, loan, gdp], where)
    raw, out = _frame(raw, "城市", "年份", where)
    out["source_code"] = to_number(raw["城市代码"], f"{where} column 城市代码")
    out["province"] = raw["省份"].map(normalise_chinese)
    out["deposits"] = to_number(raw[dep], f"{where} column {dep}") / 1e4
    out["loans"] = to_number(raw[loan], f"{where} column {loan}") / 1e4
    out["gdp_findev"] = to_number(raw[gdp], f"{where} column {gdp}") / 1e4
    return out


def read_fdi(raw_dir: Path) -> pd.DataFrame:
    """G-P FDI actually used, 百万美元 (= million USD); names without 市."""
    path = require_file(raw_dir, FILES["fdi"])
    raw = read_sheet(path, "Sheet1")
    where = f"{path.name} Sheet1"
    require_columns(raw, ["year", "地级市", "外商直接投资", "单位", "数据来源"], where)
    units = set(raw["单位"].dropna().map(clean_cell_text))
    if units - {"百万美元"}:
        raise PilotdidInputError(f"unexpected unit(s) {sorted(units - {'百万美元'})} in column 单位", where=where,
                                 fix="restore the original file (all values should be 百万美元)")
    raw, out = _frame(raw, "地级市", "year", where)
    out["fdi_usd"] = to_number(raw["外商直接投资"], f"{where} column 外商直接投资")
    out["fdi_reporter"] = raw["数据来源"].map(clean_cell_text)
    return out


def read_gdp_revised(raw_dir: Path) -> pd.DataFrame:
    """G-P 296 cities: nominal GDP in 亿元 as revised after the 2018 economic census."""
    path = require_file(raw_dir, FILES["gdp_revised"])
    raw = read_sheet(path, "Sheet1")
    where = f"{path.name} Sheet1"
    require_columns(raw, ["省份", "城市", "年份", "名义GDP"], where)
    raw, out = _frame(raw, "城市", "年份", where)
    out["province"] = raw["省份"].map(normalise_chinese)
    out["gdp"] = to_number(raw["名义GDP"], f"{where} column 名义GDP")
    return out


def read_popdensity(raw_dir: Path) -> pd.DataFrame:
    """G-P population density: resident population (raw column, 万人) and land area (km²)."""
    path = require_file(raw_dir, FILES["popdensity"])
    sheet = "面板数据"
    raw = read_sheet(path, sheet)
    where = f"{path.name} sheet {sheet}"
    pop, land = "常住人口（万人）", "行政区域土地面积(平方公里)"
    require_columns(raw, ["年份", "城市", "城市代码", "省份", pop, land], where)
    raw, out = _frame(raw, "城市", "年份", where)
    out["source_code"] = to_number(raw["城市代码"], f"{where} column 城市代码")
    out["province"] = raw["省份"].map(normalise_chinese)
    out["population"] = to_number(raw[pop], f"{where} column {pop}")
    out["land_area"] = to_number(raw[land], f"{where} column {land}")
    return out


def read_anintony(raw_dir: Path) -> pd.DataFrame:
    """Anintony indices, stored as logs; decoded to levels (see SOURCES.md).

    digital_finance_index = exp(FI); urbanisation_rate = exp(UL)/100; gdp_per_capita = exp(exp(GDP));
    expenditure_gdp = exp(GOV)/100 (general budget expenditure / GDP); science_share = exp(ST)/100/100
    (exp(ST)/100 is the percentage); green_invention_apps = exp(TE) rounded to the integer count.
    OPEN and PD are not used (unclear units).
    """
    path = require_file(raw_dir, FILES["anintony"])
    raw = read_sheet(path, "Sheet1")
    where = f"{path.name} Sheet1"
    require_columns(raw, ["city", "time", "FI", "UL", "GDP", "GOV", "ST", "TE"], where)
    raw, out = _frame(raw, "city", "time", where)
    num = {c: to_number(raw[c], f"{where} column {c}") for c in ("FI", "UL", "GDP", "GOV", "ST", "TE")}
    out["digital_finance_index"] = np.exp(num["FI"])
    out["urbanisation_rate"] = (np.exp(num["UL"]) / 100.0).round(10)  # exp(log(100))/100 is 1+1e-16
    out["gdp_per_capita"] = np.exp(np.exp(num["GDP"]))
    out["expenditure_gdp"] = np.exp(num["GOV"]) / 100.0
    out["science_share"] = np.exp(num["ST"]) / 100.0 / 100.0
    apps = np.exp(num["TE"])
    out["green_invention_apps"] = apps.round()
    out["green_apps_rounding"] = (apps - apps.round()).abs()
    return out


def read_norahchen(raw_dir: Path) -> pd.DataFrame:
    """NorahChen city file: x3 FDI (亿美元), x4 science expenditure (亿元), x5 exports (亿元),
    x6 urban disposable income (元), x8 general budget revenue (亿元). Names without 市."""
    path = require_file(raw_dir, FILES["norahchen"])
    raw = read_sheet(path, "Sheet1")
    where = f"{path.name} Sheet1"
    require_columns(raw, ["city", "year", "x1", "x3", "x4", "x5", "x6", "x8"], where)
    raw, out = _frame(raw, "city", "year", where)
    out["gdp_per_capita_norah"] = to_number(raw["x1"], f"{where} column x1") * 1e4
    out["fdi_usd_norah"] = to_number(raw["x3"], f"{where} column x3") * 100.0  # 亿美元 -> million USD
    out["science_expenditure"] = to_number(raw["x4"], f"{where} column x4")
    out["exports"] = to_number(raw["x5"], f"{where} column x5")
    out["urban_disposable_income"] = to_number(raw["x6"], f"{where} column x6")
    out["fiscal_revenue"] = to_number(raw["x8"], f"{where} column x8")
    return out


# The GPI workbook's city-level yearbook series (SOURCES.md "Added later"): sheet -> [(block title, variable,
# unit factor to the panel unit)]. Every other sheet is either a GPI result or a province figure scaled to cities
# (per. consum. exps, consumer durables, cost of crime, ...) and is never read. `employment ` is not read either:
# from 2014 on it is a smooth extrapolation.
GPI_SERIES = {
    "pub. exps. on education-local": [("hundred million CNY", "education_expenditure")],
    "unemployment ": [("10k person", "registered_unemployed_gpi")],
    "cost of air pollution": [("emission of sulfur dioxide (ton)", "so2_emissions"),
                              ("emission of dust (ton)", "smoke_dust")],
}
GPI_LIST_SHEET = "list of prefectures included"
# 2018 dust is partly a copy of SO2 (about 30 cities) and Guangzhou 2018 repeats 2017: the whole year is unusable.
GPI_DUST_LAST_YEAR = 2017


def _gpi_blocks(raw: pd.DataFrame, where: str) -> dict[str, tuple[int, list[int]]]:
    """Title row -> (row index, year columns) of each block: a block starts at a row whose first cell is text and
    whose other cells are years."""
    blocks = {}
    for idx in range(len(raw)):
        title = clean_cell_text(raw.iat[idx, 0])
        cells = raw.iloc[idx, 1:]
        if title and cells.notna().all() and all(isinstance(v, (int, float)) and 1990 <= v <= 2030 for v in cells):
            blocks[title] = (idx, [int(v) for v in cells])
    if not blocks:
        raise PilotdidInputError("no block header (a title followed by years) found", where=where,
                                 fix="restore the original file")
    return blocks


def read_gpi(raw_dir: Path) -> pd.DataFrame:
    """xxyyluo/WD prefectural GPI workbook: local education expenditure (亿元), registered urban unemployed
    (万人), industrial SO2 and smoke/dust emissions (吨), 287 cities x 2006-2018, one row per city-year.

    The data sheets carry English names only (which repeat: Suzhou, Taizhou, ...); their rows are in the order of
    the prefecture list sheet, which has the Chinese name and province, so rows are joined by position after
    checking that the English names agree row by row. 三沙 (all zeros) is dropped; 2018 dust is set missing.
    """
    path = require_file(raw_dir, FILES["gpi"])
    listing = read_sheet(path, GPI_LIST_SHEET, header=None)
    where_list = f"{path.name} sheet {GPI_LIST_SHEET}"
    if [clean_cell_text(v) for v in listing.iloc[0, :4]] != ["Prefecture", "地级市", "Province", "省份"]:
        raise PilotdidInputError("header row is not Prefecture | 地级市 | Province | 省份", where=where_list,
                                 fix="restore the original file")
    listing = listing.iloc[1:, :4].dropna(how="all")
    english = [clean_cell_text(v) for v in listing.iloc[:, 0]]
    out = None
    for sheet, series in GPI_SERIES.items():
        raw = read_sheet(path, sheet, header=None)
        where = f"{path.name} sheet {sheet!r}"
        blocks = _gpi_blocks(raw, where)
        for title, variable in series:
            found = [k for k in blocks if k.startswith(title)]
            if len(found) != 1:
                raise PilotdidInputError(f"block {title!r} not found (blocks: {sorted(blocks)})", where=where,
                                         fix="restore the original file")
            start, years = blocks[found[0]]
            body = raw.iloc[start + 1:start + 1 + len(english)]
            names = [clean_cell_text(v) for v in body.iloc[:, 0]]
            if names != english:
                bad = next(i for i, (a, b) in enumerate(zip(names + [""] * len(english), english)) if a != b)
                raise PilotdidInputError(
                    f"row {start + 2 + bad} names {names[bad] if bad < len(names) else '(nothing)'!r}, the prefecture "
                    f"list has {english[bad]!r} there", where=where, fix="restore the original file (rows must follow the prefecture list)")
            values = {y: to_number(body.iloc[:, pos + 1], f"{where} block {title!r} column {y}", row_offset=1)
                      for pos, y in enumerate(years)}
            long = pd.DataFrame({
                "source_name": np.repeat([normalise_chinese(v) for v in listing.iloc[:, 1]], len(years)),
                "province": np.repeat([normalise_chinese(v) for v in listing.iloc[:, 3]], len(years)),
                "source_name_en": np.repeat(english, len(years)),
                "year": np.tile(years, len(english)),
                variable: np.column_stack([values[y].to_numpy() for y in years]).ravel(),
            })
            out = long if out is None else out.merge(long, on=["source_name", "province", "source_name_en", "year"],
                                                     how="outer")
    # 三沙 carries zeros only (no city data): dropped and counted
    sansha = out.source_name.isin(["三沙"])
    out.attrs["dropped"] = {"三沙 (all zeros)": int(sansha.sum())}
    out = out.loc[~sansha].copy()
    late = out.year > GPI_DUST_LAST_YEAR
    out.attrs["dust_2018_set_missing"] = int(out.loc[late, "smoke_dust"].notna().sum())
    out.loc[late, "smoke_dust"] = np.nan
    out["source_row"] = 0
    return out.sort_values(["source_name", "province", "year"], ignore_index=True)
