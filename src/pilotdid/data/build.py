"""Build the city-year panel (2011-2021) from the raw files. Deterministic; no printing, no writing.

Vintage and source choices (also in the provenance table and docs/data.md):

* gdp: gp_gdp_296cities_base2000 (revised after the 2018 economic census: one consistent vintage across
  2011-2021, no 2018/2019 level break). Used for gdp, agg, exports_gdp/open_exports, invest.
* tertiary_share, industrial_advancement: gp_city_industry_structure (first-published GDP and value added;
  numerator and denominator from the same vintage).
* fiscal_expenditure = exp(GOV)/100 x first-published GDP (gp_city_industry_structure): Anintony computed
  GOV on first-published GDP (Tianjin 2016: 3,690 vs official 3,699 亿元; the revised GDP would give 2,374).
* Employment-based variables: the yearbook tables (data years 2011-2016), 全市 scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pilotdid.data.cities import CityResolver, build_city_tables
from pilotdid.data.readers import sources as S
from pilotdid.data.readers.common import require_file
from pilotdid.data.readers.yearbook import SECONDARY_SECTORS, PRIMARY_SECTORS, TERTIARY_SECTORS, read_all_yearbooks
from pilotdid.errors import PilotdidInputError

YEARS = tuple(range(2011, 2022))
ID_COLUMNS = ["city_id", "city_name", "city_name_en", "province", "city_code", "year"]

# Official annual average CNY per USD. 2012-2021 from SOURCES.md; 2011 (6.4588) from the NBS 2011
# Statistical Communiqué, added because the panel starts in 2011.
CNY_PER_USD = {2011: 6.4588, 2012: 6.3125, 2013: 6.1932, 2014: 6.1428, 2015: 6.2284, 2016: 6.6423,
               2017: 6.7518, 2018: 6.6174, 2019: 6.8985, 2020: 6.8976, 2021: 6.4515}

# (variable, unit, source file, source column, transformation) for every panel variable, in panel order.
PROVENANCE = [
    ("gdp", "亿元 (current prices)", S.FILES["gdp_revised"], "名义GDP", "as is; vintage revised after the 2018 economic census"),
    ("gdp_per_capita", "yuan", S.FILES["anintony"], "GDP", "exp(exp(GDP))"),
    ("population", "万人 (resident)", S.FILES["popdensity"], "常住人口（万人）", "raw column (not the vendor's interpolated one)"),
    ("land_area", "km2", S.FILES["popdensity"], "行政区域土地面积(平方公里)", "as is"),
    ("tertiary_share", "fraction", S.FILES["industry"], "第三产业增加值 / gdp（亿元人民币）", "ratio; first-published vintage"),
    ("industrial_advancement", "ratio", S.FILES["industry"], "第三产业增加值 / 第二产业增加值", "ratio; first-published vintage"),
    ("deposits", "亿元", S.FILES["findev"], "年末金融机构存款余额(万元)", "/ 1e4"),
    ("loans", "亿元", S.FILES["findev"], "年末金融机构各项贷款余额(万元)", "/ 1e4"),
    ("loan_deposit_ratio", "ratio", S.FILES["findev"], "loans / deposits", "ratio"),
    ("fiscal_revenue", "亿元", S.FILES["norahchen"], "x8", "as is (general budget revenue)"),
    ("fiscal_expenditure", "亿元", f"{S.FILES['anintony']} + {S.FILES['industry']}", "GOV x gdp（亿元人民币）",
     "exp(GOV)/100 x first-published GDP"),
    ("fiscal_self_sufficiency", "ratio", "derived", "fiscal_revenue / fiscal_expenditure", "ratio"),
    ("science_expenditure", "亿元", S.FILES["norahchen"], "x4", "as is"),
    ("science_share", "fraction", S.FILES["anintony"], "ST", "exp(ST)/100/100 (exp(ST)/100 is the percentage)"),
    ("urban_disposable_income", "yuan", S.FILES["norahchen"], "x6", "as is"),
    ("exports", "亿元", S.FILES["norahchen"], "x5", "as is (exports only)"),
    ("exports_gdp", "fraction", "derived", "exports / gdp", "ratio; exports only, not total trade"),
    ("fdi_usd", "million USD", S.FILES["fdi"], "外商直接投资 (百万美元)", "as is"),
    ("fdi_yuan", "亿元", "derived", "fdi_usd x CNY/USD annual average / 100", "official annual average rates"),
    ("urbanisation_rate", "fraction", S.FILES["anintony"], "UL", "exp(UL)/100"),
    ("unemployment_rate", "fraction", f"crh_csy_raw_table_<year+1>.xlsx; 2017-2018 + {S.FILES['gpi']}",
     "城镇登记失业人员 / (单位从业人员 + 私营和个体从业人员 + 登记失业人员), 全市",
     "ratio; yearbook edition N = data year N-1. 2017-2018: the GPI workbook's registered unemployed over "
     "(the city's 2016 employment, held constant, + that year's unemployed); those cells are flagged in the fill mask"),
    ("registered_unemployed", "万人", f"crh_csy_raw_table_<year+1>.xlsx (2011-2016); {S.FILES['gpi']} (2017-2018)",
     "城镇登记失业人员数, 全市 / sheet 'unemployment ' (10k person)",
     "as is; the two sources agree exactly in ~98% of the 2011-2016 city-years (tests/data)"),
    ("education_expenditure", "亿元", S.FILES["gpi"], "sheet 'pub. exps. on education-local'",
     "as is (local general budget expenditure on education, current prices); 2006-2018 in the source"),
    ("smoke_dust", "吨", S.FILES["gpi"], "sheet 'cost of air pollution', block 'emission of dust (ton)'",
     "as is; 2018 set missing (partly a copy of SO2 in the source); definition changes in 2011 (烟(粉)尘) and "
     "2016 (颗粒物): level breaks"),
    ("tertiary_employment_share", "fraction", "crh_csy_raw_table_<year+1>.xlsx", "14 tertiary sectors / all 19 sectors, 全市",
     "ratio; sector-sum denominator; missing sectors count as 0"),
    ("it_employment_share", "fraction", "crh_csy_raw_table_<year+1>.xlsx", "信息传输、计算机服务和软件业 / all 19 sectors, 全市", "ratio"),
    ("district_population", "万人", "crh_csy_raw_table_<year+1>.xlsx", "年末总人口 / 年末户籍人口, 市辖区",
     "as is; registered (户籍) year-end population of the urban districts, the closest public concept to the 2014 "
     "size standard's 城区常住人口; yearbook edition N = data year N-1"),
    ("digital_finance_index", "index (PKU DFIIC)", S.FILES["anintony"], "FI", "exp(FI)"),
    ("green_invention_apps", "count", S.FILES["anintony"], "TE", "exp(TE) rounded (applications, not grants)"),
    ("agg", "亿元 per km2", "derived", "gdp / land_area", "ratio"),
    ("open_exports", "fraction", "derived", "exports / gdp", "the paper's Open, exports only"),
    ("invest", "fraction", "derived", "fdi_yuan / gdp", "ratio"),
    ("tec", "fraction", "derived", "= science_share", "science expenditure / general budget expenditure"),
    ("market", "ln(万元)", "derived", "ln(fdi_yuan x 1e4)", "ln of FDI in 万元 (yuan); unit chosen to match the paper's Table 3"),
]
VARIABLES = [p[0] for p in PROVENANCE]

# Base variables (interpolated) and how each derived variable is computed from them.
BASE = ["gdp", "gdp_per_capita", "population", "land_area", "va_tertiary", "va_secondary", "gdp_first",
        "deposits", "loans", "fiscal_revenue", "expenditure_gdp", "science_expenditure", "science_share",
        "urban_disposable_income", "exports", "fdi_usd", "urbanisation_rate", "unemployment_rate",
        "registered_unemployed", "employed_2016_basis", "education_expenditure", "smoke_dust",
        "tertiary_employment_share", "it_employment_share", "district_population", "digital_finance_index",
        "green_invention_apps"]
DERIVED = {
    "tertiary_share": (("va_tertiary", "gdp_first"), lambda d: d.va_tertiary / d.gdp_first),
    "industrial_advancement": (("va_tertiary", "va_secondary"), lambda d: d.va_tertiary / d.va_secondary),
    "loan_deposit_ratio": (("loans", "deposits"), lambda d: d.loans / d.deposits),
    "fiscal_expenditure": (("expenditure_gdp", "gdp_first"), lambda d: d.expenditure_gdp * d.gdp_first),
    "fiscal_self_sufficiency": (("fiscal_revenue", "expenditure_gdp", "gdp_first"),
                                lambda d: d.fiscal_revenue / (d.expenditure_gdp * d.gdp_first)),
    "exports_gdp": (("exports", "gdp"), lambda d: d.exports / d.gdp),
    "fdi_yuan": (("fdi_usd",), lambda d: d.fdi_usd * d.year.map(CNY_PER_USD) / 100.0),
    "agg": (("gdp", "land_area"), lambda d: d.gdp / d.land_area),
    "open_exports": (("exports", "gdp"), lambda d: d.exports / d.gdp),
    "invest": (("fdi_usd", "gdp"), lambda d: d.fdi_usd * d.year.map(CNY_PER_USD) / 100.0 / d.gdp),
    "tec": (("science_share",), lambda d: d.science_share),
    "market": (("fdi_usd",), lambda d: np.log((d.fdi_usd * d.year.map(CNY_PER_USD) * 100.0).where(d.fdi_usd > 0))),
}

# Yearbook values ruled out on purpose (plain source errors), each reported in the corrections table.
YEARBOOK_RULES = {
    ("齐齐哈尔市", 2015, "registered_unemployed"): "40.31 (= the unit-employment figure 40.74 while private employment is 0): columns shifted in the source -> missing",
}


@dataclass
class PanelBuild:
    """Everything a build produces. All frames are deterministic functions of the raw files."""

    panel: pd.DataFrame
    fill_mask: pd.DataFrame
    provenance: pd.DataFrame
    coverage: pd.DataFrame
    unmatched: pd.DataFrame
    fuzzy_matches: pd.DataFrame
    corrections: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    cities: pd.DataFrame | None = None
    city_aliases: pd.DataFrame | None = None
    census: pd.DataFrame | None = None


def _harmonise(frame: pd.DataFrame, source: str, resolver: CityResolver, value_cols: list[str],
               unmatched: list, fuzzy: list, code_col: str | None = None) -> pd.DataFrame:
    """Attach city_id to a source's rows in the panel years; collect unmatched and fuzzy rows.

    ``code_col`` (a 6-digit code, or for the yearbook the English name of the same row) is tried when
    the name does not resolve."""
    frame = frame[frame.year.between(YEARS[0], YEARS[-1])].copy()
    keys = frame[["source_name", "year"] + ([code_col] if code_col else [])].drop_duplicates()
    ids, methods, scores, via_fallback = {}, {}, {}, set()
    for row in keys.itertuples(index=False):
        name, year = row[0], row[1]
        match = resolver.resolve(name, year)
        if match is None and code_col and not pd.isna(row[2]):
            fallback = row[2]
            if isinstance(fallback, str) and not fallback.isdigit():
                match = resolver.resolve(fallback, year)
                if match is not None:
                    via_fallback.add(name)
            else:
                match = resolver.resolve_code(fallback, year)
        key = (name, year) + ((row[2],) if code_col else ())
        if match is not None:
            ids[key], methods[key], scores[key] = match.city_id, match.method, match.score
    key_cols = ["source_name", "year"] + ([code_col] if code_col else [])
    keys_series = list(frame[key_cols].itertuples(index=False, name=None))
    frame["city_id"] = [ids.get(k) for k in keys_series]
    frame["match_method"] = [methods.get(k) for k in keys_series]
    has_values = frame[value_cols].notna().any(axis=1)
    miss = frame[frame.city_id.isna()]
    for name, grp in miss.groupby("source_name", sort=True):
        year = int(grp.year.min())
        unmatched.append({
            "source": source, "source_name": name, "years": f"{grp.year.min()}-{grp.year.max()}",
            "rows": len(grp), "rows_with_values": int(has_values.loc[grp.index].sum()),
            "reason": resolver.why_unmatched(name, year),
        })
    fz = frame[(frame.match_method == "fuzzy") | frame.source_name.isin(via_fallback)]
    for name, grp in fz.groupby("source_name", sort=True):
        cid = grp.city_id.iloc[0]
        key = (name, int(grp.year.iloc[0])) + ((grp[code_col].iloc[0],) if code_col else ())
        method = "english_name_of_row" if name in via_fallback else "fuzzy"
        fuzzy.append({"source": source, "source_name": name, "method": method, "city_id": cid,
                      "city_name": resolver.cities.set_index("city_id").city_name.get(cid),
                      "score": scores.get(key), "rows": len(grp)})
    frame = frame[frame.city_id.notna()]
    dup = frame.duplicated(["city_id", "year"], keep=False)
    if dup.any():
        first = frame[dup].sort_values(["city_id", "year"]).iloc[0]
        names = sorted(frame.loc[dup & (frame.city_id == first.city_id) & (frame.year == first.year), "source_name"])
        raise PilotdidInputError(
            f"duplicate (city, year) key {first.city_id} {first.year} from rows named {names}",
            where=source, fix="keep one row per city and year in the source (a city spelled two ways counts twice)",
        )
    return frame[["city_id", "year"] + value_cols]


def _yearbook_variables(yb, corrections: list) -> pd.DataFrame:
    tidy = yb.tidy[yb.tidy.scope == "city"]
    english = tidy.groupby(["city", "year"]).city_en.first()
    wide = tidy.pivot_table(index=["city", "year"], columns="variable", values="value", aggfunc="first")
    for (city, year, variable), reason in YEARBOOK_RULES.items():
        if (city, year) in wide.index and not pd.isna(wide.loc[(city, year), variable]):
            corrections.append({"source": f"crh_csy_raw_table_{year + 1}.xlsx", "city": city, "year": year,
                                "item": variable, "old_value": wide.loc[(city, year), variable],
                                "new_value": np.nan, "reason": reason})
            wide.loc[(city, year), variable] = np.nan
    sectors = list(PRIMARY_SECTORS + SECONDARY_SECTORS + TERTIARY_SECTORS)
    sec = wide.reindex(columns=sectors)
    total = sec.fillna(0).sum(axis=1)
    # a sector above the city's whole unit employment is a slipped decimal point: shares left missing
    implausible = sec.gt(wide["unit_employment"], axis=0).any(axis=1)
    for (city, year) in wide.index[implausible]:
        bad = [s for s in sectors if sec.loc[(city, year), s] > wide.loc[(city, year), "unit_employment"]]
        corrections.append({"source": f"crh_csy_raw_table_{year + 1}.xlsx", "city": city, "year": year,
                            "item": ",".join(bad), "old_value": float(sec.loc[(city, year), bad[0]]),
                            "new_value": np.nan,
                            "reason": "sector employment exceeds total unit employment (decimal slip): employment shares left missing"})
    out = pd.DataFrame(index=wide.index)
    out["unemployment_rate"] = wide.registered_unemployed / (
        wide.unit_employment + wide.private_employment + wide.registered_unemployed)
    out["registered_unemployed"] = wide.registered_unemployed
    out["employed_2016_basis"] = wide.unit_employment + wide.private_employment
    ok = ~implausible & (total > 0)
    out["tertiary_employment_share"] = (sec[list(TERTIARY_SECTORS)].fillna(0).sum(axis=1) / total).where(ok)
    out["it_employment_share"] = (sec["emp_it"] / total).where(ok)
    districts = yb.tidy[(yb.tidy.scope == "districts") & (yb.tidy.variable == "registered_population")]
    out["district_population"] = districts.groupby(["city", "year"]).value.first().reindex(out.index)
    out["city_en"] = english.reindex(out.index)
    out = out.reset_index().rename(columns={"city": "source_name"})
    out["source_row"] = 0
    return out


UNEMPLOYMENT_EXTENSION_YEARS = (2017, 2018)


def _extend_unemployment(wide: pd.DataFrame) -> pd.DataFrame:
    """registered_unemployed and unemployment_rate for 2017-2018 from the GPI workbook.

    The yearbook tables stop in 2016 and no public file has city employment after it (the GPI workbook's
    employment sheet is extrapolated from 2014), so the rate's employment part is each city's 2016 value held
    constant: rate = U_t / (E_2016 + U_t). Those cells are flagged in the fill mask (``_rate_extended``)."""
    wide = wide.copy()
    ext = wide.year.isin(UNEMPLOYMENT_EXTENSION_YEARS)
    wide.loc[ext, "registered_unemployed"] = wide.loc[ext, "unemployed_gpi"]
    basis = wide.loc[wide.year == 2016].set_index("city_id").employed_2016_basis
    employed = wide.city_id.map(basis)
    rate = wide.unemployed_gpi / (employed + wide.unemployed_gpi)
    extended = ext & rate.notna() & wide.unemployment_rate.isna()
    wide.loc[extended, "unemployment_rate"] = rate[extended]
    wide["_rate_extended"] = extended
    return wide


def interpolate_interior(wide: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Linear interpolation in year within each city, interior gaps only (never extrapolated).

    ``wide`` must be sorted by city_id, year. Returns (filled frame, boolean mask of the filled cells).
    """
    filled = wide.copy()
    mask = pd.DataFrame(False, index=wide.index, columns=columns)
    year = wide["year"].astype("float64")
    city = wide["city_id"]
    for col in columns:
        values = wide[col].astype("float64")
        known_year = year.where(values.notna())
        prev_year = known_year.groupby(city).ffill()
        next_year = known_year.groupby(city).bfill()
        prev_value = values.groupby(city).ffill()
        next_value = values.groupby(city).bfill()
        inside = values.isna() & prev_year.notna() & next_year.notna()
        weight = (year - prev_year) / (next_year - prev_year)
        filled.loc[inside, col] = (prev_value + (next_value - prev_value) * weight)[inside]
        mask[col] = inside
    return filled, mask


def build_panel(raw_dir: Path) -> PanelBuild:
    """Read every raw file in ``raw_dir`` and assemble the 2011-2021 city panel (see module docstring)."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise PilotdidInputError("raw-data folder not found", where=str(raw_dir),
                                 fix="pass --raw DIR pointing at the repository's data/raw")
    for name in S.FILES.values():  # a missing file is named before a minute of reading the others
        require_file(raw_dir, name)
    crosswalk = S.read_crosswalk(raw_dir)
    census = S.read_census(raw_dir)
    yearbook = read_all_yearbooks(raw_dir)
    industry = S.read_industry(raw_dir)
    findev = S.read_findev(raw_dir)
    popdensity = S.read_popdensity(raw_dir)
    fdi = S.read_fdi(raw_dir)
    gdp_rev = S.read_gdp_revised(raw_dir)
    anintony = S.read_anintony(raw_dir)
    norah = S.read_norahchen(raw_dir)
    gpi = S.read_gpi(raw_dir)

    yb_names = (yearbook.tidy[["city", "city_en", "edition"]].drop_duplicates()
                .rename(columns={"city": "name_zh", "city_en": "name_en"}))
    pairs = pd.concat([
        d.assign(source=s)[["source_name", "source_code", "province", "source"]]
        for s, d in [(S.FILES["industry"], industry), (S.FILES["findev"], findev), (S.FILES["popdensity"], popdensity)]
    ]).dropna(subset=["source_code"]).drop_duplicates(["source_name", "source_code", "source"])
    pairs = pairs.rename(columns={"source_name": "name", "source_code": "code"})
    cities, aliases, _code_review = build_city_tables(crosswalk, census, yb_names, pairs)
    resolver = CityResolver(cities, aliases)

    unmatched: list = []
    fuzzy: list = []
    corrections: list = [
        {"source": r.source_column and f"crh_csy_raw_table_{r.edition}.xlsx", "city": r.city, "year": r.edition - 1,
         "item": f"{r.variable} ({r.scope})" if r.scope else r.variable, "old_value": r.old_value,
         "new_value": r.new_value, "reason": r.reason}
        for r in yearbook.corrections.itertuples()
    ]
    notes: list[str] = []
    yb_vars = _yearbook_variables(yearbook, corrections)

    pieces = [
        _harmonise(gdp_rev, S.FILES["gdp_revised"], resolver, ["gdp"], unmatched, fuzzy),
        _harmonise(industry, S.FILES["industry"], resolver, ["gdp_first", "va_secondary", "va_tertiary"],
                   unmatched, fuzzy, code_col="source_code"),
        _harmonise(findev, S.FILES["findev"], resolver, ["deposits", "loans"], unmatched, fuzzy, code_col="source_code"),
        _harmonise(popdensity, S.FILES["popdensity"], resolver, ["population", "land_area"], unmatched, fuzzy,
                   code_col="source_code"),
        _harmonise(fdi, S.FILES["fdi"], resolver, ["fdi_usd"], unmatched, fuzzy),
        _harmonise(anintony, S.FILES["anintony"], resolver,
                   ["gdp_per_capita", "urbanisation_rate", "expenditure_gdp", "science_share",
                    "digital_finance_index", "green_invention_apps"], unmatched, fuzzy),
        _harmonise(norah, S.FILES["norahchen"], resolver,
                   ["fiscal_revenue", "science_expenditure", "exports", "urban_disposable_income"], unmatched, fuzzy),
        _harmonise(yb_vars, "crh_csy_raw_table_2012..2017.xlsx", resolver,
                   ["unemployment_rate", "registered_unemployed", "employed_2016_basis", "tertiary_employment_share",
                    "it_employment_share", "district_population"],
                   unmatched, fuzzy, code_col="city_en"),
        _harmonise(gpi.rename(columns={"registered_unemployed_gpi": "unemployed_gpi"}), S.FILES["gpi"], resolver,
                   ["education_expenditure", "smoke_dust", "unemployed_gpi"], unmatched, fuzzy),
    ]
    # the panel's units: every id found with at least one value, on the years it is valid
    found = sorted(set().union(*[set(p.loc[p.drop(columns=["city_id", "year"]).notna().any(axis=1), "city_id"])
                                 for p in pieces]))
    info = cities.set_index("city_id")
    rows = [(cid, y) for cid in found for y in YEARS if info.valid_from[cid] <= y <= info.valid_to[cid]]
    wide = pd.DataFrame(rows, columns=["city_id", "year"])
    for piece in pieces:
        wide = wide.merge(piece, on=["city_id", "year"], how="left")
    wide = wide.sort_values(["city_id", "year"], ignore_index=True)
    for col in BASE:
        if col not in wide:
            wide[col] = np.nan

    wide = _extend_unemployment(wide)
    filled, base_mask = interpolate_interior(wide, BASE)
    base_mask["unemployment_rate"] |= wide["_rate_extended"]
    panel = filled[["city_id", "year"]].copy()
    mask = filled[["city_id", "year"]].copy()
    for var in VARIABLES:
        if var in DERIVED:
            inputs, fn = DERIVED[var]
            panel[var] = fn(filled)
            mask[var] = base_mask[list(inputs)].any(axis=1) & panel[var].notna()
        else:
            panel[var] = filled[var]
            mask[var] = base_mask[var]
    meta = cities.set_index("city_id")[["city_name", "city_name_en", "province", "city_code"]]
    panel = panel.join(meta, on="city_id")[ID_COLUMNS + VARIABLES]
    panel = panel.replace([np.inf, -np.inf], np.nan)
    mask = mask[["city_id", "year"] + VARIABLES]

    coverage = coverage_table(panel, mask)
    provenance = pd.DataFrame(PROVENANCE, columns=["variable", "unit", "source_file", "source_column", "transformation"])
    unmatched_df = pd.DataFrame(unmatched, columns=["source", "source_name", "years", "rows", "rows_with_values", "reason"])
    fuzzy_df = pd.DataFrame(fuzzy, columns=["source", "source_name", "method", "city_id", "city_name", "score", "rows"])
    corrections_df = pd.DataFrame(corrections, columns=["source", "city", "year", "item", "old_value", "new_value", "reason"])

    for name, frame in [("gp_city_industry_structure", industry), ("gp_popdensity", popdensity),
                        ("gp_gdp_296cities", gdp_rev)]:
        if frame.attrs.get("blank_rows"):
            notes.append(f"{name}: {frame.attrs['blank_rows']} blank/footer rows (vendor watermark) skipped")
    dropped = yearbook.dropped_rows.groupby("reason").size()
    for reason, n in dropped.items():
        notes.append(f"yearbook tables: {n} rows dropped ({reason})")
    notes.append("莱芜 (CNUR-000146) is a panel unit for 2011-2018 only; 济南 from 2019 includes it (level break).")
    notes.append("巢湖 (CNUR-000110) was split in 2011 and has no panel rows.")
    notes.append("Yearbook edition N reports year N-1: employment variables cover 2011-2016.")
    notes.append(f"{S.FILES['gpi']}: {gpi.attrs['dropped']['三沙 (all zeros)']} rows of 三沙 (all zeros) dropped; "
                 f"{gpi.attrs['dust_2018_set_missing']} smoke/dust values of 2018 set missing (partly a copy of SO2).")
    notes.append("unemployment_rate 2017-2018: GPI registered unemployed over (2016 employment held constant + "
                 "unemployed); flagged in the fill mask.")

    census_out = census_table(census, resolver)
    return PanelBuild(panel=panel, fill_mask=mask, provenance=provenance, coverage=coverage,
                      unmatched=unmatched_df, fuzzy_matches=fuzzy_df, corrections=corrections_df, notes=notes,
                      cities=cities, city_aliases=aliases, census=census_out)


def coverage_table(panel: pd.DataFrame, mask: pd.DataFrame) -> pd.DataFrame:
    """Long table: variable, year, cities (rows), real (non-missing, not filled), filled, missing."""
    rows = []
    for var in VARIABLES:
        for year, idx in panel.groupby("year").groups.items():
            present = panel.loc[idx, var].notna()
            filled = mask.loc[idx, var].astype(bool)
            rows.append((var, int(year), len(idx), int((present & ~filled).sum()), int(filled.sum()),
                         int((~present).sum())))
    return pd.DataFrame(rows, columns=["variable", "year", "cities", "real", "filled", "missing"])


def census_table(census: pd.DataFrame, resolver: CityResolver) -> pd.DataFrame:
    """The census rows that resolve to a city id (city-level attributes, incl. the WKT boundary)."""
    out = census.copy()
    ids = [resolver.resolve(n) for n in out.city]
    out.insert(0, "city_id", [m.city_id if m else None for m in ids])
    out = out[out.city_id.notna()].rename(columns={"city": "census_name"})
    return out.sort_values("city_id", ignore_index=True)


def render_coverage_markdown(coverage: pd.DataFrame) -> str:
    """Variables x years, each cell 'real' or 'real+filled' cities; the lead pastes it into the README."""
    years = sorted(coverage.year.unique())
    lines = ["| variable | " + " | ".join(str(y) for y in years) + " |",
             "|---|" + "---:|" * len(years)]
    for var in VARIABLES:
        sub = coverage[coverage.variable == var].set_index("year")
        cells = []
        for y in years:
            real, filled = int(sub.real[y]), int(sub.filled[y])
            cells.append(f"{real}+{filled}" if filled else (str(real) if real else "–"))
        lines.append(f"| {var} | " + " | ".join(cells) + " |")
    n = int(coverage.groupby("year").cities.first().max())
    lines.append("")
    lines.append(f"Cells: cities with a real value (+ cells filled by interior linear interpolation); "
                 f"up to {n} cities per year; – = no source covers it.")
    return "\n".join(lines)
