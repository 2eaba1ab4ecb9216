"""Reader for the raw China City Statistical Yearbook tables ``crh_csy_raw_table_<edition>.xlsx``.

Quirks handled (each has a test in tests/data/test_yearbook.py):

* Edition N reports data for year N-1 (the 2012 edition's Beijing year-end registered population 1277.9
  万人 is the official 2011 figure); the tidy output carries both ``edition`` and ``year``.
* Two header rows: a bilingual label (merged over its 全市 / 市辖区 pair, so forward-filled) and the
  scope row; cells carry ``_x000D_`` escapes and line breaks; names carry leading spaces.
* Columns are matched by Chinese keyword, never by position (the tertiary sectors change order in the
  2015 edition; 2012 labels the tertiary block 第二产业 by mistake).
* 2016 labels its 2nd column pair 建成区面积 although it holds 年平均人口: a 建成区面积 pair with a 全市
  column (built-up area is a 市辖区-only item) inside the population block is relabelled, and the
  relabelling is reported as a correction.
* 城镇私营和个体从业人员 and 城镇登记失业人员数 are in 万人 although the header says (人) (Beijing 2011
  unemployed = 8.13, i.e. 81,336 persons): the unit is set to 万人 and reported as a correction.
* The 城市合计 total row (absent in 2017) is dropped and counted; province rows (if any) too.
* Values stored as text ('1345.20') are parsed; other text raises PilotdidInputError.
* Plain errors in values go through :data:`VALUE_CORRECTIONS` only, and each applied one is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pilotdid.data.names import clean_cell_text, normalise_chinese
from pilotdid.data.readers.common import read_sheet, require_file, to_number
from pilotdid.errors import PilotdidInputError

YEARBOOK_EDITIONS = (2012, 2013, 2014, 2015, 2016, 2017)
YEARBOOK_FILE = "crh_csy_raw_table_{edition}.xlsx"

# variable -> (keywords any of which identifies the column, unit). Order matters: first match wins.
YEARBOOK_VARIABLES: list[tuple[str, tuple[str, ...], str]] = [
    ("registered_population", ("年末总人口", "年末户籍人口"), "万人"),
    ("average_population", ("年平均人口",), "万人"),
    ("unit_employment", ("单位从业人员", "从业人员期末人数"), "万人"),
    ("private_employment", ("私营和个体",), "万人"),
    ("registered_unemployed", ("登记失业",), "万人"),
    ("emp_agriculture", ("农、林", "农林"), "万人"),
    ("emp_mining", ("采矿",), "万人"),
    ("emp_manufacturing", ("制造",), "万人"),
    ("emp_utilities", ("电力",), "万人"),
    ("emp_construction", ("建筑",), "万人"),
    ("emp_transport", ("交通运输",), "万人"),
    ("emp_it", ("信息传输",), "万人"),
    ("emp_trade", ("批发",), "万人"),
    ("emp_hospitality", ("住宿",), "万人"),
    ("emp_finance", ("金融",), "万人"),
    ("emp_real_estate", ("房地产",), "万人"),
    ("emp_leasing", ("租赁",), "万人"),
    ("emp_research", ("科学研究",), "万人"),
    ("emp_environment", ("水利",), "万人"),
    ("emp_household_services", ("居民服务",), "万人"),
    ("emp_education", ("教育",), "万人"),
    ("emp_health", ("卫生",), "万人"),
    ("emp_culture", ("文化",), "万人"),
    ("emp_public_admin", ("公共管理",), "万人"),
    ("land_area", ("土地面积",), "km2"),
    ("built_up_area", ("建成区",), "km2"),
]
PRIMARY_SECTORS = ("emp_agriculture",)
SECONDARY_SECTORS = ("emp_mining", "emp_manufacturing", "emp_utilities", "emp_construction")
TERTIARY_SECTORS = (
    "emp_transport", "emp_it", "emp_trade", "emp_hospitality", "emp_finance", "emp_real_estate",
    "emp_leasing", "emp_research", "emp_environment", "emp_household_services", "emp_education",
    "emp_health", "emp_culture", "emp_public_admin",
)
# Headers saying (人) whose numbers are in 万人 (see module docstring).
_UNIT_IS_WAN_DESPITE_HEADER = ("private_employment", "registered_unemployed")

SCOPES = {"全市": "city", "市辖区": "districts"}

# Plain errors in the source, corrected on purpose. (edition, Chinese city name, variable, scope):
# (wrong value as printed, corrected value, reason). Applied only when the printed value matches.
VALUE_CORRECTIONS: dict[tuple[int, str, str, str], tuple[float, float, str]] = {
    (2012, "北京市", "land_area", "city"): (
        1641.0, 16411.0,
        "digit dropped: every other edition and gp_popdensity give 16411 (16410.54 km2 officially)",
    ),
}

# Cells whose text is not a number, fixed on purpose. (edition, Excel row, Excel column): (text as printed,
# value used or None for missing, reason). A non-numeric cell not listed here raises PilotdidInputError.
_TWO_LINES = "two numbers stacked in one cell (rows merged in the source); which is the city's is unknown -> missing"
_COMMA = "comma typed for the decimal point"
CELL_CORRECTIONS: dict[tuple[int, int, int], tuple[str, float | None, str]] = {
    (2012, 66, 19): ("0.81\n0.14", None, _TWO_LINES),
    (2012, 66, 20): ("0.52\n0.10", None, _TWO_LINES),
    (2012, 66, 21): ("1.62\n0.77", None, _TWO_LINES),
    (2012, 66, 22): ("1.04\n0.61", None, _TWO_LINES),
    (2012, 66, 23): ("1.23\n0.23", None, _TWO_LINES),
    (2012, 66, 24): ("0.39\n0.18", None, _TWO_LINES),
    (2012, 77, 18): ("14,70", 14.70, _COMMA),
    (2012, 152, 49): ("5,97", 5.97, _COMMA),
    (2012, 199, 50): ("1,26", 1.26, _COMMA),
    (2013, 20, 5): ("335,2", 335.2, _COMMA),
    (2013, 91, 44): (",1.57", 1.57, "stray leading comma"),
    (2013, 179, 31): ("1.36,", 1.36, "stray trailing comma"),
    (2013, 207, 58): ("4,35", 4.35, _COMMA),
    (2013, 229, 13): ("0.0.20", None, "two decimal points; 0.0 or 0.20 cannot be told apart -> missing"),
    (2013, 261, 5): ("85,4", 85.4, _COMMA),
    (2014, 37, 24): ("10.13.", 10.13, "stray trailing point"),
    (2017, 12, 24): ("=H13/10000", None, "a formula stored as text, no value -> missing"),
}

TIDY_COLUMNS = [
    "city", "city_en", "edition", "year", "variable", "scope", "value", "unit", "source_file", "source_column",
]


@dataclass
class YearbookTable:
    """A yearbook table in long form plus the bookkeeping of what was dropped or corrected."""

    tidy: pd.DataFrame
    corrections: pd.DataFrame  # edition, city, variable, scope, source_column, old, new, reason
    dropped_rows: pd.DataFrame  # source_file, row, name, reason
    unused_columns: pd.DataFrame  # source_file, source_column, reason


def _header_text(value: object) -> str:
    return re.sub(r"\s+", " ", clean_cell_text(value))


def _variable_of(label: str) -> tuple[str, str] | None:
    chinese = re.sub(r"[^\u4e00-\u9fff、]", "", label)
    for variable, keywords, unit in YEARBOOK_VARIABLES:
        if any(k in chinese for k in keywords):
            return variable, unit
    return None


def _scope_of(text: str) -> str | None:
    compact = re.sub(r"\s+", "", text)
    for key, scope in SCOPES.items():
        if compact.startswith(key):
            return scope
    return None


def read_yearbook(raw_dir: Path, edition: int) -> YearbookTable:
    """Read one edition's Sheet1 into the tidy long table (see module docstring for the quirks)."""
    name = YEARBOOK_FILE.format(edition=edition)
    path = require_file(raw_dir, name)
    raw = read_sheet(path, 0, header=None)
    corrections: list[tuple] = []
    where = f"{name} Sheet1"
    if raw.shape[0] < 4 or raw.shape[1] < 4:
        raise PilotdidInputError("table has fewer than 4 rows or columns", where=where, fix="restore the original file")
    if normalise_chinese(raw.iat[0, 0]) != "城市":
        raise PilotdidInputError(
            f"cell A1 is {clean_cell_text(raw.iat[0, 0])!r}, expected the header 城市", where=where,
            fix="restore the original file",
        )
    raw = raw.copy()
    for (ed, row_no, col_no), (printed, value, reason) in CELL_CORRECTIONS.items():
        if ed != edition or row_no > raw.shape[0] or col_no > raw.shape[1]:
            continue
        cell = raw.iat[row_no - 1, col_no - 1]
        if isinstance(cell, str) and clean_cell_text(cell) == printed:
            raw.iat[row_no - 1, col_no - 1] = value
            corrections.append((edition, normalise_chinese(raw.iat[row_no - 1, 0]), f"cell R{row_no}C{col_no}", "",
                                f"row {row_no}, column {col_no}", printed.replace("\n", " / "), value, reason))
    labels = [_header_text(v) for v in raw.iloc[0]]
    scopes = [_header_text(v) for v in raw.iloc[1]]
    # A label is merged over its 全市/市辖区 pair: a blank label inherits from the left only when it is
    # the 市辖区 half of such a pair (2015 has an unlabelled density pair that must not inherit).
    filled: list[str] = []
    for pos, label in enumerate(labels):
        inherits = (not label and pos > 0 and _scope_of(scopes[pos]) == "districts"
                    and _scope_of(scopes[pos - 1]) == "city" and bool(labels[pos - 1]))
        filled.append(labels[pos - 1] if inherits else label)

    unused, columns = [], []
    for pos in range(2, raw.shape[1]):
        scope = _scope_of(scopes[pos])
        found = _variable_of(filled[pos]) if filled[pos] else None
        if found is None or scope is None:
            unused.append((name, f"col {pos + 1}: {filled[pos][:40]} / {scopes[pos][:12]}",
                           "not a panel input" if found is None else "no 全市/市辖区 scope"))
            continue
        variable, unit = found
        columns.append([pos, variable, unit, scope, f"{filled[pos]} | {scopes[pos]}"])

    # 2016: a 建成区面积 pair with a 全市 column sitting where 年平均人口 belongs -> relabel.
    present = {c[1] for c in columns}
    for col in columns:
        if col[1] == "built_up_area" and col[3] == "city" and "average_population" not in present:
            pair = [c for c in columns if c[0] in (col[0], col[0] + 1) and c[1] == "built_up_area"]
            for c in pair:
                c[1], c[2] = "average_population", "万人"
                corrections.append((edition, "(all cities)", "average_population", c[3], c[4], None, None,
                                    "header says 建成区面积 but the column holds 年平均人口 (values track year-end population; "
                                    "built-up area is a 市辖区-only item)"))
            break
    for col in columns:
        if col[1] in _UNIT_IS_WAN_DESPITE_HEADER and "(人)" in col[4].replace(" ", "").replace("（", "(").replace("）", ")"):
            corrections.append((edition, "(all cities)", col[1], col[3], col[4], None, None,
                                "header unit (人) is wrong: values are 万人 (Beijing 2011 unemployed 8.13)"))

    body = raw.iloc[2:]
    names = body.iloc[:, 0].map(normalise_chinese)
    english = body.iloc[:, 1].map(clean_cell_text)
    dropped = []
    keep = []
    used_positions = [c[0] for c in columns]
    for idx, city in names.items():
        row_no = int(idx) + 1
        if not city:
            cells = body.loc[idx].iloc[used_positions]
            nonzero = [c for c in cells.dropna() if not (isinstance(c, (int, float)) and c == 0)]
            if nonzero:
                raise PilotdidInputError(f"row {row_no} has values but no city name", where=where,
                                         fix="fill the city name or delete the row")
            if body.loc[idx].iloc[2:].notna().any():
                dropped.append((name, row_no, "", "no city name; only zero cells (leftover formula row)"))
            continue
        if city == "城市合计":
            dropped.append((name, row_no, city, "total row (城市合计)"))
            continue
        if city.endswith("省") or city.endswith("自治区"):
            dropped.append((name, row_no, city, "province heading row"))
            continue
        keep.append(idx)
    seen = names.loc[keep]
    if seen.duplicated().any():
        dup = seen[seen.duplicated()].iloc[0]
        raise PilotdidInputError(f"city {dup!r} appears twice", where=where,
                                 fix="keep one row per city in the source file")

    pieces = []
    for pos, variable, unit, scope, source_column in columns:
        values = to_number(body.loc[keep].iloc[:, pos], where=f"{where} column {pos + 1}", row_offset=1)
        piece = pd.DataFrame({
            "city": names.loc[keep].to_numpy(),
            "city_en": english.loc[keep].to_numpy(),
            "variable": variable, "scope": scope, "value": values.to_numpy(), "unit": unit,
            "source_column": source_column,
        })
        pieces.append(piece)
    tidy = pd.concat(pieces, ignore_index=True)
    tidy.insert(2, "edition", edition)
    tidy.insert(3, "year", edition - 1)
    tidy["source_file"] = name
    if tidy.duplicated(["city", "variable", "scope"]).any():
        first = tidy[tidy.duplicated(["city", "variable", "scope"])].iloc[0]
        raise PilotdidInputError(
            f"two columns map to {first.variable} ({first.scope})", where=where,
            fix="restore the original file (column headers were changed)",
        )
    for (ed, city, variable, scope), (wrong, right, reason) in VALUE_CORRECTIONS.items():
        if ed != edition:
            continue
        hit = (tidy.city == city) & (tidy.variable == variable) & (tidy.scope == scope) & (tidy.value == wrong)
        if hit.any():
            tidy.loc[hit, "value"] = right
            corrections.append((edition, city, variable, scope, tidy.loc[hit, "source_column"].iloc[0], wrong, right, reason))
    tidy = tidy.dropna(subset=["value"]).reset_index(drop=True)[TIDY_COLUMNS]
    return YearbookTable(
        tidy=tidy,
        corrections=pd.DataFrame(corrections, columns=["edition", "city", "variable", "scope", "source_column",
                                                       "old_value", "new_value", "reason"]),
        dropped_rows=pd.DataFrame(dropped, columns=["source_file", "row", "name", "reason"]),
        unused_columns=pd.DataFrame(unused, columns=["source_file", "source_column", "reason"]),
    )


def read_all_yearbooks(raw_dir: Path) -> YearbookTable:
    """All six editions stacked (2011-2016 data)."""
    tables = [read_yearbook(raw_dir, e) for e in YEARBOOK_EDITIONS]
    return YearbookTable(
        tidy=pd.concat([t.tidy for t in tables], ignore_index=True),
        corrections=pd.concat([t.corrections for t in tables], ignore_index=True),
        dropped_rows=pd.concat([t.dropped_rows for t in tables], ignore_index=True),
        unused_columns=pd.concat([t.unused_columns for t in tables], ignore_index=True),
    )
