"""Import a city-yearbook panel a researcher holds (中国城市统计年鉴 from EPS, CNKI, CSMAR, CNRDS, 中经网, ...) into
pilotdid's canonical city panel: one row per city id and year, one column per recognised indicator in its
canonical unit, plus the provenance, coverage, unmatched-name and fuzzy-match tables that `pilotdid data build`
writes.

Layouts: long (city, year, one column per indicator) or wide by year (one column per year, with an indicator
column, or a single indicator named by the sheet/file; or headers such as ``专利授权数_2015``). Formats: csv
(UTF-8 or GB18030), xlsx, dta (Stata variable labels are tried when a name is not recognised).

Rules (each also in the provenance or notes):

* Headers are recognised through :mod:`pilotdid.data.headers`. A column not recognised is kept under its own name
  and listed; a header naming two indicators, or both 全市 and 市辖区, is refused with the choices named; two
  columns for the same indicator and scope are refused.
* Scope: a 全市 (whole-city) column, or one without a scope, becomes the indicator's canonical column; a 市辖区
  (urban-districts) column becomes ``<id>_districts`` (``registered_population_districts`` is also
  ``district_population``, the CBEC study's city-size column).
* Units: converted to the dictionary's canonical unit (万元 -> 亿元 = / 1e4, 人 -> 万人, %, ...). USD amounts use
  the official annual average CNY/USD rate of the data year. A money, population, mass or area column whose header
  states no unit is refused (万元 and 亿元 cannot be told apart from the numbers); a share without a unit is read
  as a percentage when any value exceeds 1.5, else as a fraction (noted).
* Cities: 6-digit codes first, then names (with or without 市, abbreviations, pinyin) through the project's city
  harmonisation, for the row's year (a merged or split city such as 巢湖 after 2011 or 莱芜 from 2019 does not
  resolve and is listed as unmatched with the reason). Fuzzy matches and code/name disagreements are listed for
  review. Unmatched rows are left out and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pilotdid.data.headers import (
    KIND_DEFAULT_UNIT,
    KIND_DIMENSIONS,
    SCOPE_LABEL,
    UNITS,
    HeaderDictionary,
    _compact,
    conversion_factor,
    load_dictionary,
    parse_header,
    recognise,
)
from pilotdid.data.names import clean_cell_text, normalise_chinese
from pilotdid.data.readers.common import to_number
from pilotdid.errors import PilotdidInputError

ID_NAMES = {
    "year": {"年份", "年度", "year", "年", "统计年度", "年度标识", "time", "时间", "数据年份", "统计年份"},
    "name": {"城市", "城市名称", "城市名", "地区", "地级市", "city", "cityname", "市", "地市", "行政区划名称",
             "地区名称", "name", "城市名字", "prefecture", "地级市名称"},
    "code": {"行政区划代码", "城市代码", "地区代码", "城市编码", "code", "citycode", "行政代码", "代码", "id",
             "cityid", "地级市代码", "区划代码", "城市id"},
    "province": {"省份", "省", "province", "省份名称", "所属省份", "省名", "省级"},
    "indicator": {"指标", "指标名称", "indicator", "variable", "变量", "项目", "变量名"},
}
ID_COLUMNS = ["city_id", "city_name", "city_name_en", "province", "city_code", "year"]
DISTRICT_ALIASES = {"registered_population_districts": "district_population"}

# derived variables (the shipped panel's definitions, pilotdid.data.build), computed when their inputs are present
# and the file does not carry them itself
DERIVED = [
    ("tertiary_share", ("va_tertiary", "gdp"), "va_tertiary / gdp", lambda d: d.va_tertiary / d.gdp),
    ("industrial_advancement", ("va_tertiary", "va_secondary"), "va_tertiary / va_secondary",
     lambda d: d.va_tertiary / d.va_secondary),
    ("loan_deposit_ratio", ("loans", "deposits"), "loans / deposits", lambda d: d.loans / d.deposits),
    ("fiscal_self_sufficiency", ("fiscal_revenue", "fiscal_expenditure"), "fiscal_revenue / fiscal_expenditure",
     lambda d: d.fiscal_revenue / d.fiscal_expenditure),
    ("science_share", ("science_expenditure", "fiscal_expenditure"), "science_expenditure / fiscal_expenditure",
     lambda d: d.science_expenditure / d.fiscal_expenditure),
    ("unemployment_rate", ("registered_unemployed", "unit_employment", "private_employment"),
     "registered_unemployed / (unit_employment + private_employment + registered_unemployed)",
     lambda d: d.registered_unemployed / (d.unit_employment + d.private_employment + d.registered_unemployed)),
    ("exports_gdp", ("exports", "gdp"), "exports / gdp", lambda d: d.exports / d.gdp),
    ("trade_dependence", ("trade", "gdp"), "trade / gdp", lambda d: d.trade / d.gdp),
    ("agg", ("gdp", "land_area"), "gdp / land_area (亿元 per km2)", lambda d: d.gdp / d.land_area),
    ("fdi_yuan", ("fdi_usd", "year"), "fdi_usd x CNY/USD annual average / 100 (亿元)",
     lambda d: d.fdi_usd * d.year.map(_rates()) / 100.0),
    ("invest", ("fdi_usd", "gdp"), "fdi_yuan / gdp", lambda d: d.fdi_usd * d.year.map(_rates()) / 100.0 / d.gdp),
    ("tec", ("science_expenditure", "fiscal_expenditure"), "= science_share",
     lambda d: d.science_expenditure / d.fiscal_expenditure),
    ("market", ("fdi_usd",), "ln(fdi_yuan x 1e4), FDI in 万元",
     lambda d: np.log((d.fdi_usd * d.year.map(_rates()) * 100.0).where(d.fdi_usd > 0))),
]


def _rates() -> dict[int, float]:
    from pilotdid.data.build import CNY_PER_USD

    return CNY_PER_USD


@dataclass
class ImportResult:
    panel: pd.DataFrame
    provenance: pd.DataFrame
    coverage: pd.DataFrame
    unmatched: pd.DataFrame
    fuzzy_matches: pd.DataFrame
    unrecognised: pd.DataFrame
    indicators: pd.DataFrame          # every dictionary indicator: present in the file or absent
    layout: str
    notes: list[str] = field(default_factory=list)

    @property
    def present(self) -> list[str]:
        return list(self.indicators.loc[self.indicators.present, "id"])

    @property
    def absent(self) -> list[str]:
        return list(self.indicators.loc[~self.indicators.present, "id"])


# ------------------------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------------------------


def read_table(path: Path, sheet: str | None = None) -> tuple[pd.DataFrame, dict[str, str], str]:
    """The file as a frame (header row = column names), Stata variable labels (name -> label) and the sheet name."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise PilotdidInputError("file not found", where=where, fix="check the path of the yearbook panel")
    suffix = path.suffix.lower()
    labels: dict[str, str] = {}
    sheet_name = path.stem
    if sheet is not None and suffix not in (".xlsx", ".xlsm", ".xls"):
        raise PilotdidInputError("--sheet was given for a file that is not Excel", where=where, fix="remove --sheet")
    try:
        if suffix == ".csv":
            try:
                frame = pd.read_csv(path, encoding="utf-8-sig", dtype=object)
            except UnicodeDecodeError:
                frame = pd.read_csv(path, encoding="gb18030", dtype=object)
        elif suffix in (".xlsx", ".xlsm", ".xls"):
            with pd.ExcelFile(path) as book:
                names = book.sheet_names
                if sheet is None:
                    sheet_name = names[0]
                elif sheet in names:
                    sheet_name = sheet
                else:
                    raise PilotdidInputError(f"sheet {sheet!r} not found (sheets: {', '.join(names)})", where=where,
                                             fix="give one of the sheet names with --sheet")
                frame = pd.read_excel(book, sheet_name=sheet_name, dtype=object)
        elif suffix == ".dta":
            with pd.io.stata.StataReader(path) as reader:
                labels = {k: v for k, v in reader.variable_labels().items() if v}
            frame = pd.read_stata(path, convert_categoricals=False)
            frame = frame.astype(object)
        else:
            raise PilotdidInputError(f"unknown file type {suffix or '(none)'!r}", where=where,
                                     fix="give a .csv, .xlsx or .dta file")
    except PilotdidInputError:
        raise
    except Exception as exc:  # pandas/openpyxl raise many types on damaged files
        raise PilotdidInputError(f"cannot be read ({type(exc).__name__})", where=where,
                                 fix="check that the file is a valid csv/xlsx/dta and not open elsewhere") from None
    frame.columns = [clean_cell_text(c) for c in frame.columns]
    frame.attrs["title_rows"] = 0
    if not any(_role(c) in ("name", "code") for c in frame.columns):
        # exports (EPS, CNKI) often put a title and notes above the header: the header is the first row naming the
        # city column
        for pos in range(min(15, len(frame))):
            cells = [clean_cell_text(v) for v in frame.iloc[pos]]
            if any(_role(c) in ("name", "code") for c in cells if c):
                frame = frame.iloc[pos + 1:].copy()
                frame.columns = [c if c else f"column_{i + 1}" for i, c in enumerate(cells)]
                frame.attrs["title_rows"] = pos + 1
                break
    frame = frame.dropna(how="all")
    if frame.empty:
        raise PilotdidInputError("the table has no rows", where=where, fix="check the file or the --sheet")
    dup = pd.Index(frame.columns)[pd.Index(frame.columns).duplicated()]
    if len(dup):
        raise PilotdidInputError(f"column {dup[0]!r} appears twice", where=where, fix="give every column its own header")
    return frame, labels, sheet_name


def _role(column: str) -> str | None:
    key = _compact(column)
    for role, names in ID_NAMES.items():
        if key in {_compact(n) for n in names}:
            return role
    return None


def to_long(frame: pd.DataFrame, where: str, sheet_name: str) -> tuple[pd.DataFrame, dict[str, str | None], str]:
    """Long form (one row per city and year) whatever the layout; returns the frame, the id columns by role and
    the layout name."""
    roles: dict[str, str | None] = {r: None for r in ID_NAMES}
    for col in frame.columns:
        role = _role(col)
        if role and roles[role] is None:
            roles[role] = col
    if roles["name"] is None and roles["code"] is None:
        raise PilotdidInputError(f"no city column (looked for {', '.join(sorted(ID_NAMES['name']))[:80]}... or a code "
                                 "column such as 行政区划代码)", where=where,
                                 fix="name the city column 城市 (or its 6-digit code column 行政区划代码)")
    ids = [c for c in (roles["name"], roles["code"], roles["province"]) if c]
    if roles["year"] is not None:
        return frame, roles, "long"
    parsed = {c: parse_header(c) for c in frame.columns if c not in ids and c != roles["indicator"]}
    year_only = {c: p.year for c, p in parsed.items() if p.year is not None and not p.core}
    if len(year_only) >= 2:
        value_cols = list(year_only)
        if roles["indicator"] is not None:
            indicator_of = frame[roles["indicator"]].map(clean_cell_text)
        else:
            indicator_of = pd.Series(sheet_name, index=frame.index)
        long = frame[ids].assign(_indicator=indicator_of.to_numpy()).join(frame[value_cols])
        long = long.melt(id_vars=ids + ["_indicator"], var_name="_year_header", value_name="_value")
        long["year"] = long["_year_header"].map(year_only)
        keys = ids + ["year"]
        dup = long.duplicated(keys + ["_indicator"])
        if dup.any():
            first = long[dup].iloc[0]
            raise PilotdidInputError(f"indicator {first['_indicator']!r} appears twice for one city ({first[ids[0]]!r})",
                                     where=where, fix="keep one row per city and indicator")
        wide = long.pivot_table(index=keys, columns="_indicator", values="_value", aggfunc="first", dropna=False)
        wide = wide.reset_index()
        wide.columns.name = None
        roles["year"] = "year"
        return wide, roles, "wide by year" + (" (indicator column)" if roles["indicator"] else f" (sheet {sheet_name!r})")
    with_year = {c: p for c, p in parsed.items() if p.year is not None and p.core}
    if with_year:
        pieces = []
        for year in sorted({p.year for p in with_year.values()}):
            cols = [c for c, p in with_year.items() if p.year == year]
            rename = {c: _without_year(c) for c in cols}
            piece = frame[ids + cols].rename(columns=rename).assign(year=year)
            pieces.append(piece)
        long = pd.concat(pieces, ignore_index=True)
        roles["year"] = "year"
        return long, roles, "wide by year (year in the headers)"
    raise PilotdidInputError("no year column and no year in the headers", where=where,
                             fix="name the year column 年份 (long layout) or use years as column headers (wide layout)")


ALL_SHEETS = ("*", "all")
_STANDARD_ROLES = {"name": "城市", "code": "行政区划代码", "province": "省份", "year": "年份"}


def _all_sheets(path: Path):
    """Every sheet of a workbook (e.g. one indicator per sheet, years as columns), joined on city and year.
    Sheets without a city column (a README, notes) are skipped and named in the notes."""
    if path.suffix.lower() not in (".xlsx", ".xlsm", ".xls"):
        raise PilotdidInputError("--sheet all applies to Excel workbooks", where=str(path), fix="remove --sheet")
    with pd.ExcelFile(path) as book:
        names = list(book.sheet_names)
    pieces, notes, labels, seen = [], [], {}, {}
    for name in names:
        frame, _, _ = read_table(path, name)
        where = f"{path.name} sheet {name}"
        try:
            long, roles, layout = to_long(frame, where, name)
        except PilotdidInputError as exc:
            if "no city column" in str(exc):
                notes.append(f"sheet {name!r} skipped: no city column")
                continue
            raise
        keep_ids = {role: col for role, col in roles.items() if col and role in _STANDARD_ROLES}
        long = long.rename(columns={col: _STANDARD_ROLES[role] for role, col in keep_ids.items()})
        if roles.get("indicator") and roles["indicator"] in long.columns:
            long = long.drop(columns=roles["indicator"])
        values = [c for c in long.columns if c not in _STANDARD_ROLES.values()]
        for col in values:
            if col in seen:
                raise PilotdidInputError(f"column {col!r} is in sheets {seen[col]!r} and {name!r}", where=str(path),
                                         fix="keep each indicator in one sheet, or import one sheet with --sheet")
            seen[col] = name
        # the join keys: the city name when every sheet has one, else the code; and the year
        pieces.append(long)
        notes.append(f"sheet {name!r}: {layout}, {len(values)} columns")
    if not pieces:
        raise PilotdidInputError("no sheet has a city column", where=str(path),
                                 fix="name the city column 城市 (or its code column 行政区划代码)")
    key = ["城市" if all("城市" in p.columns for p in pieces) else "行政区划代码", "年份"]
    if key[0] == "行政区划代码" and not all("行政区划代码" in p.columns for p in pieces):
        raise PilotdidInputError("the sheets share neither a city-name nor a city-code column", where=str(path),
                                 fix="give every sheet the same city column (城市 or 行政区划代码)")
    merged = pieces[0]
    for piece in pieces[1:]:
        for frame_ in (merged, piece):
            if frame_.duplicated(key).any():
                raise PilotdidInputError(f"a sheet repeats a {key[0]} and year", where=str(path),
                                         fix="keep one row per city and year in every sheet")
        extra_ids = [c for c in _STANDARD_ROLES.values() if c in piece.columns and c in merged.columns and c not in key]
        merged = merged.merge(piece.drop(columns=extra_ids), on=key, how="outer")
    roles = {role: (col if col in merged.columns else None) for role, col in _STANDARD_ROLES.items()}
    roles["indicator"] = None
    return merged, roles, f"{len(pieces)} sheets joined on {key[0]} and year", labels, notes


def _without_year(header: str) -> str:
    import re

    text = re.sub(r"(^|[_\s])(19[5-9]\d|20\d\d)年?($|[_\s])", "_", header).strip("_ ")
    return re.sub(r"^(19[5-9]\d|20\d\d)年", "", text)


# ------------------------------------------------------------------------------------------------------------
# The import
# ------------------------------------------------------------------------------------------------------------


def import_yearbook(path: str | Path, sheet: str | None = None, *, resolver=None,
                    dictionary: HeaderDictionary | None = None) -> ImportResult:
    """Read ``path`` and return the canonical panel with its tables (see module docstring)."""
    from pilotdid.data.cities import get_resolver

    path = Path(path)
    d = dictionary or load_dictionary()
    resolver = resolver or get_resolver()
    if sheet in ALL_SHEETS:
        long, roles, layout, labels, notes = _all_sheets(path)
        where = path.name
    else:
        frame, labels, sheet_name = read_table(path, sheet)
        where = f"{path.name}" + (f" sheet {sheet_name}" if path.suffix.lower() in (".xlsx", ".xlsm", ".xls") else "")
        long, roles, layout = to_long(frame, where, sheet_name)
        notes = [f"layout: {layout}"]
        if frame.attrs.get("title_rows"):
            notes.append(f"{frame.attrs['title_rows']} title rows above the header skipped")
    long = long.copy()  # one consolidated block: wide files (hundreds of columns) would otherwise fragment
    id_cols = {c for c in (roles["name"], roles["code"], roles["province"], roles["year"], roles["indicator"]) if c}
    years = to_number(long[roles["year"]], f"{where} column {roles['year']}", row_offset=2)
    values_present = long.drop(columns=[c for c in id_cols if c in long.columns]).notna().any(axis=1)
    footer = years.isna() & ~values_present
    if footer.any():  # source notes under the table (数据来源：…): no year and no value
        notes.append(f"{int(footer.sum())} rows without a year or any value (notes under the table) skipped")
        long, years = long.loc[~footer], years.loc[~footer]
    bad = years.isna() | (years % 1 != 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise PilotdidInputError(f"year missing or not an integer at data row {row + 1}", where=f"{where} column {roles['year']}",
                                 fix="give every row a year such as 2015")
    long = pd.concat([long, pd.DataFrame({"_year": years.astype(int).to_numpy()}, index=long.index)], axis=1)

    # --- columns: recognise, check, convert -----------------------------------------------------------------
    provenance, unrecognised, targets = [], [], {}
    converted: dict[str, pd.Series] = {}
    kept: dict[str, pd.Series] = {}
    for col in [c for c in long.columns if c not in id_cols and not c.startswith("_")]:
        rec = recognise(col, d)
        label_used = None
        if not rec.ids and col in labels:
            rec_label = recognise(labels[col], d)
            if rec_label.ids:
                rec, label_used = rec_label, labels[col]
        if len(rec.ids) > 1:
            names = ", ".join(f"{i} ({d.indicators[i].zh})" for i in rec.ids)
            raise PilotdidInputError(f"column {col!r} names {len(rec.ids)} indicators: {names}", where=where,
                                     fix="split it into one column per indicator or rename it to one of them")
        if not rec.ids:
            kept[col] = long[col]
            unrecognised.append({"column": col, "stata_label": labels.get(col), "kept_as": col,
                                 "non_missing": int(long[col].notna().sum())})
            continue
        if len(rec.header.scopes) > 1:
            raise PilotdidInputError(f"column {col!r} names both scopes 全市 and 市辖区", where=where,
                                     fix="keep one scope per column: 全市 (whole city) or 市辖区 (urban districts)")
        entry = d.indicators[rec.ids[0]]
        scope = rec.header.scopes[0] if rec.header.scopes else None
        target = entry.id + ("_districts" if scope == "districts" else "")
        if target in targets:
            other = targets[target]
            choices = f"{other!r} or {col!r}"
            raise PilotdidInputError(
                f"two columns are {entry.id} ({entry.zh}, {SCOPE_LABEL.get(scope or 'city')}): {choices}", where=where,
                fix=f"keep one of {choices} (a header without 全市/市辖区 is read as 全市)")
        targets[target] = col
        values = to_number(long[col], f"{where} column {col}", row_offset=2)
        unit = rec.unit
        assumption = None
        if unit is None:
            default = KIND_DEFAULT_UNIT.get(entry.kind)
            if default == "canonical":
                unit, assumption = entry.unit, f"no unit in the header: read as {entry.unit}"
            elif default == "by_magnitude":
                big = bool((values.abs() > 1.5).any())
                unit = "%" if big else "fraction"
                assumption = f"no unit in the header: read as {'a percentage' if big else 'a fraction'} (values {'above' if big else 'all within'} 1.5)"
            else:
                raise PilotdidInputError(
                    f"column {col!r} ({entry.zh}) states no unit", where=where,
                    fix=f"write the unit in the header, e.g. {entry.zh}(万元) or {entry.zh}_亿元 (万元 and 亿元 cannot be told apart from the numbers)")
        if UNITS[unit][0] not in KIND_DIMENSIONS[entry.kind]:
            raise PilotdidInputError(f"column {col!r} ({entry.zh}) is in {unit}, which is not a {entry.kind} unit",
                                     where=where, fix=f"give it in {entry.unit} or a unit of the same kind")
        factor, currency = conversion_factor(unit, entry.unit)
        out = values * factor
        rule = f"x {factor:g}" if factor != 1 else "as is"
        if currency:
            rate = long["_year"].map(_rates())
            out = out * rate if currency == "usd->cny" else out / rate
            rule += f", {'x' if currency == 'usd->cny' else '/'} official CNY/USD annual average of the year"
            missing_rate = int((rate.isna() & values.notna()).sum())
            if missing_rate:
                notes.append(f"{col}: {missing_rate} values in years without a CNY/USD rate left missing")
        converted[target] = out
        variants = [h for h, _ in entry.headers if parse_header(h).core == rec.matched_core]
        sources = sorted({s for h, src in entry.headers if h in variants for s in src.split(",")})
        provenance.append({
            "variable": target, "indicator": entry.id, "indicator_zh": entry.zh, "indicator_en": entry.en,
            "scope": SCOPE_LABEL.get(scope, "全市 (no scope in header)") if scope else "全市 (no scope in header)",
            "source_column": col + (f" (Stata label {label_used!r})" if label_used else ""),
            "unit_in_file": unit, "unit": entry.unit, "conversion": rule,
            "assumption": assumption, "dictionary_variants": "; ".join(variants) or entry.zh,
            "variant_sources": ",".join(sources),
        })
    if not converted:
        raise PilotdidInputError("no column is a recognised yearbook indicator", where=where,
                                 fix="check the headers against `pilotdid data headers` or docs/data.md (header dictionary)")

    # --- cities ----------------------------------------------------------------------------------------------
    name_col, code_col = roles["name"], roles["code"]
    names = long[name_col].map(normalise_chinese) if name_col else pd.Series("", index=long.index)
    codes = long[code_col].map(lambda v: clean_cell_text(v).split(".")[0]) if code_col else pd.Series("", index=long.index)
    keys = pd.DataFrame({"name": names, "code": codes, "year": long["_year"]}).drop_duplicates()
    matches: dict[tuple, tuple[str | None, str]] = {}
    fuzzy, unmatched_rows = [], []
    info = resolver.cities.set_index("city_id")
    for name, code, year in keys.itertuples(index=False):
        by_code = resolver.resolve_code(code, year) if code else None
        by_name = resolver.resolve(name, year) if name else None
        match = by_code or by_name
        matches[(name, code, year)] = (match.city_id if match else None, match.method if match else "")
        if by_code and by_name and by_code.city_id != by_name.city_id:
            fuzzy.append({"source_name": name, "source_code": code, "year": year, "method": "code (the name points elsewhere)",
                          "city_id": by_code.city_id, "city_name": info.city_name.get(by_code.city_id),
                          "name_points_to": f"{by_name.city_id} {info.city_name.get(by_name.city_id)}", "score": 1.0})
        elif match is not None and match.method == "fuzzy":
            fuzzy.append({"source_name": name, "source_code": code, "year": year, "method": "fuzzy",
                          "city_id": match.city_id, "city_name": info.city_name.get(match.city_id),
                          "name_points_to": None, "score": match.score})
        elif match is None:
            reason = resolver.why_unmatched(name or code, year)
            if code and not name:
                reason = f"code {code} is no prefecture-level unit valid in {year}"
            unmatched_rows.append({"source_name": name, "source_code": code, "year": year, "reason": reason})
    key_list = list(zip(names, codes, long["_year"]))
    long = pd.concat([long, pd.DataFrame({"city_id": [matches[k][0] for k in key_list],
                                          "_method": [matches[k][1] for k in key_list]}, index=long.index)], axis=1)
    has_values = pd.DataFrame(converted).notna().any(axis=1) if converted else pd.Series(False, index=long.index)
    unmatched = pd.DataFrame(unmatched_rows, columns=["source_name", "source_code", "year", "reason"])
    if len(unmatched):
        grouped = []
        for (name, code, reason), grp in unmatched.groupby(["source_name", "source_code", "reason"], sort=True):
            rows = long[(names == name) & (codes == code) & long["_year"].isin(grp.year)]
            grouped.append({"source_name": name, "source_code": code,
                            "years": f"{grp.year.min()}-{grp.year.max()}", "rows": len(rows),
                            "rows_with_values": int(has_values.loc[rows.index].sum()), "reason": reason})
        unmatched = pd.DataFrame(grouped)
    else:
        unmatched = pd.DataFrame(columns=["source_name", "source_code", "years", "rows", "rows_with_values", "reason"])
    keep = long.city_id.notna()
    if (~keep).any():
        notes.append(f"{int((~keep).sum())} rows whose city did not resolve left out ({int(has_values[~keep].sum())} with values); "
                     "see unmatched.csv")
    dup = long[keep].duplicated(["city_id", "_year"], keep=False)
    if dup.any():
        rows = long[keep][dup].sort_values(["city_id", "_year"]).head(2)
        shown = [f"{n or c} {y}" for n, c, y in zip(names[rows.index], codes[rows.index], rows["_year"])]
        raise PilotdidInputError(f"two rows are the same city and year after harmonisation: {' and '.join(shown)}",
                                 where=where, fix="keep one row per city and year (a city spelled two ways counts twice)")

    # --- the panel ------------------------------------------------------------------------------------------
    order = [i for i in d.indicators]
    value_cols = sorted(converted, key=lambda c: (order.index(c.removesuffix("_districts")), c.endswith("_districts")))
    columns: dict[str, object] = {"city_id": long.city_id, "year": long["_year"]}
    columns.update({col: converted[col].astype(float) for col in value_cols})
    for alias_from, alias_to in DISTRICT_ALIASES.items():
        if alias_from in columns and alias_to not in columns:
            columns[alias_to] = columns[alias_from]
            provenance.append({**next(p for p in provenance if p["variable"] == alias_from), "variable": alias_to,
                               "conversion": f"= {alias_from} (the CBEC study's city-size column)"})
    derived_cols = []
    for name, inputs, formula, fn in DERIVED:
        if name in columns or not all(i in columns for i in inputs):
            continue
        columns[name] = fn(pd.DataFrame({i: columns[i] for i in {*inputs, "year"}})).replace([np.inf, -np.inf], np.nan)
        derived_cols.append(name)
        provenance.append({"variable": name, "indicator": name, "indicator_zh": None, "indicator_en": None,
                           "scope": "全市", "source_column": "derived", "unit_in_file": None, "unit": None,
                           "conversion": formula, "assumption": None, "dictionary_variants": None, "variant_sources": None})
    for col, series in kept.items():
        columns[col] = series.to_numpy()
    panel = pd.DataFrame(columns, index=long.index)  # built at once: no fragmented frame for wide files
    panel = panel[keep.to_numpy()]
    meta = info[["city_name", "city_name_en", "province", "city_code"]]
    panel = panel.join(meta, on="city_id")
    panel = panel[ID_COLUMNS + [c for c in panel.columns if c not in ID_COLUMNS]]
    panel = panel.sort_values(["city_id", "year"], ignore_index=True)
    panel = panel.assign(city_code=panel["city_code"].astype("Int64"))

    coverage_rows = []
    for var in value_cols + [c for c in DISTRICT_ALIASES.values() if c in panel] + derived_cols:
        for year, grp in panel.groupby("year"):
            present = int(grp[var].notna().sum())
            coverage_rows.append({"variable": var, "year": int(year), "cities": len(grp), "real": present,
                                  "missing": len(grp) - present})
    coverage = pd.DataFrame(coverage_rows, columns=["variable", "year", "cities", "real", "missing"])
    present_ids = {c for c in value_cols if not c.endswith("_districts")}
    districts_only = {c.removesuffix("_districts") for c in value_cols if c.endswith("_districts")} - present_ids
    indicators = pd.DataFrame([{
        "id": e.id, "zh": e.zh, "en": e.en, "unit": e.unit,
        "present": e.id in present_ids or e.id in derived_cols,
        "status": "in the file" if e.id in present_ids else ("derived" if e.id in derived_cols else
                                                              ("市辖区 only" if e.id in districts_only else "absent")),
        "column": targets.get(e.id) or targets.get(e.id + "_districts"),
        "years": _span(panel, e.id) if e.id in panel else None,
    } for e in d.indicators.values()])
    notes.append(f"{int(indicators.present.sum())} of {len(d.indicators)} dictionary indicators present "
                 f"({len(present_ids)} in the file, {int((indicators.status == 'derived').sum())} derived); absent: "
                 + ", ".join(indicators.loc[~indicators.present, "id"]))
    if unrecognised:
        notes.append(f"{len(unrecognised)} columns not recognised, kept under their own names: "
                     + ", ".join(u["column"] for u in unrecognised))
    return ImportResult(
        panel=panel, provenance=pd.DataFrame(provenance), coverage=coverage, unmatched=unmatched,
        fuzzy_matches=pd.DataFrame(fuzzy, columns=["source_name", "source_code", "year", "method", "city_id",
                                                   "city_name", "name_points_to", "score"]),
        unrecognised=pd.DataFrame(unrecognised, columns=["column", "stata_label", "kept_as", "non_missing"]),
        indicators=indicators, layout=layout, notes=notes,
    )


def _span(panel: pd.DataFrame, column: str) -> str | None:
    years = sorted(int(y) for y in panel.loc[panel[column].notna(), "year"].unique())
    return f"{years[0]}-{years[-1]}" if years else None


IMPORT_FILES = {
    "panel": "panel.csv", "provenance": "provenance.csv", "coverage": "coverage.csv", "unmatched": "unmatched.csv",
    "fuzzy_matches": "fuzzy_matches.csv", "unrecognised": "unrecognised.csv", "indicators": "indicators.csv",
}
