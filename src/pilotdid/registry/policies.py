"""Policy lists: which places a pilot policy designated, in which batch, when, and how sure we are.

Every policy is a :class:`Policy`: one row per *registry entry* (an entity as the official document
names it) in :attr:`Policy.entries`, with its batch, approval date, the prefecture(s) it maps to, what
kind of unit it is, and the ``verification_status`` / ``sources`` it rests on (kept on every row, see
``lists/SOURCES.md``). Turning entries into a panel's treatment is :mod:`pilotdid.registry.treatment`.

Entry kinds (column ``unit_kind``):

``prefecture``
    a prefecture-level unit (municipality, prefecture-level city, autonomous prefecture, 地区); it is
    its own treatment unit.
``cluster``
    a named group of prefectures (长株潭城市群 -> 长沙, 株洲, 湘潭); every member is treated (a coding
    convention the list documents).
``county``
    a sub-prefecture zone (county-level city, county, district, 雄安新区) with a parent prefecture;
    how it reaches a prefecture panel is the *county rule* (:mod:`pilotdid.registry.rules`).
``province``
    a provincial pilot (low-carbon 2010/2012): not a prefecture entry in the official variant; the
    ``lowcarbon:province_expanded`` variant codes every prefecture of the province instead.
``no_prefecture``
    an entity with no prefecture-level parent (XPCC cities, province-administered 济源/琼中): a
    documented non-prefecture entry that no prefecture panel can contain.

Policies shipped: ``cbec`` (Cross-border E-commerce Comprehensive Pilot Zones, batches 1-7),
``broadband`` (Broadband China demonstration cities 2014-2016; the 2015 batch is incomplete),
``lowcarbon`` (low-carbon city pilots; variants ``official``, ``province_expanded``,
``sample_list``), ``hsr`` (high-speed-rail opening year, one research dataset). A user's own list:
:func:`load_policy_csv`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.registry._files import read_list_csv, read_list_excel

# --------------------------------------------------------------------------------------------------
# Verification statuses
# --------------------------------------------------------------------------------------------------

#: The four status families of lists/SOURCES.md, strongest first. A row's status may carry a
#: qualifier after the family name (``verified_2plus_membership (type: 1 source)``,
#: ``unverified_unconfirmed_DO_NOT_USE``); :func:`status_family` maps it to its family.
STATUS_FAMILIES = ("verified_2plus", "verified_1+structural", "verified_1", "unverified")
STATUS_MEANING = {
    "verified_2plus": "two or more independent public sources name the entry",
    "verified_1+structural": "one source names it, and a separate count or coverage statement implies it",
    "verified_1": "exactly one public source names it",
    "unverified": "no public source found that names it - never used as treatment without allow_unverified",
}

#: Unit kinds of an entry (see the module docstring).
UNIT_KINDS = ("prefecture", "cluster", "county", "province", "no_prefecture")

ENTRY_COLUMNS = [
    "policy", "batch", "entity_name", "province", "entity_type", "unit_kind", "prefectures",
    "approval_date", "approval_year", "approval_month", "approval_day", "document", "date_basis",
    "verification_status", "status_family", "n_public_sources", "sources", "note", "source_file", "source_line",
]

#: Official batch sizes, where a document or ministry count states them (lists/SOURCES.md).
OFFICIAL_BATCH_SIZES: dict[str, dict[int, int]] = {
    "cbec": {1: 1, 2: 12, 3: 22, 4: 24, 5: 46, 6: 27, 7: 33},
    "broadband": {2014: 39, 2015: 39, 2016: 39},
    "lowcarbon:official": {1: 13, 2: 29, 3: 45},
}

LOWCARBON_VARIANTS = ("official", "province_expanded", "sample_list")
DEFAULT_LOWCARBON_VARIANT = "official"


def status_family(status: object) -> str | None:
    """The family (one of :data:`STATUS_FAMILIES`) of a status text, or None when it is not one."""
    text = str(status).strip() if status is not None and status == status else ""
    if text.startswith("unverified"):
        return "unverified"
    if text.startswith("verified_2plus"):
        return "verified_2plus"
    if text.startswith("verified_1+structural"):
        return "verified_1+structural"
    if text.startswith("verified_1"):
        return "verified_1"
    return None


# --------------------------------------------------------------------------------------------------
# The Policy object
# --------------------------------------------------------------------------------------------------


@dataclass
class Policy:
    """A policy list: its entries, batches and the caveats every output using it must show.

    Attributes
    ----------
    name:
        Registry name (``cbec``, ``lowcarbon:sample_list``, or the file stem of a user CSV).
    title:
        Human-readable name.
    entries:
        One row per registry entry, columns :data:`ENTRY_COLUMNS`.
    caveats:
        Sentences that any table, figure or estimate using this list must print (incomplete batches,
        coding conventions, weak sources).
    batch_label:
        What a batch number means (``"batch"`` for numbered batches, ``"year"`` when batches are named
        by their year, as for broadband and hsr).
    """

    name: str
    title: str
    entries: pd.DataFrame
    caveats: list[str] = field(default_factory=list)
    batch_label: str = "batch"
    source_files: list[str] = field(default_factory=list)
    description: str = ""

    @property
    def batch_numbers(self) -> list[int]:
        return sorted(int(b) for b in self.entries["batch"].unique())

    def select(self, batches=None) -> pd.DataFrame:
        """Entries of the chosen batches (``None`` = all; ``"1-5"``, ``[1, 2]``, ``3`` ...)."""
        chosen = parse_batches(batches, self.batch_numbers, where=f"policy {self.name}")
        return self.entries.loc[self.entries["batch"].isin(chosen)].reset_index(drop=True)

    def batch_table(self) -> pd.DataFrame:
        """Per batch: year(s), document, date, rows in the list, the official size and whether they agree."""
        official = OFFICIAL_BATCH_SIZES.get(self.name, {})
        rows = []
        for batch, group in self.entries.groupby("batch", sort=True):
            years = sorted(int(y) for y in group["approval_year"].unique())
            n_official = official.get(int(batch))
            rows.append(
                {
                    "batch": int(batch),
                    "year": years[0] if len(years) == 1 else "-".join(str(y) for y in (years[0], years[-1])),
                    "document": "; ".join(sorted({str(d) for d in group["document"].dropna().unique()})) or None,
                    "approval_date": "; ".join(sorted({str(d) for d in group["approval_date"].dropna().unique()})) or None,
                    "n_entries": int(len(group)),
                    "n_official": n_official,
                    "complete": None if n_official is None else bool(len(group) == n_official),
                    "n_unverified": int((group["status_family"] == "unverified").sum()),
                }
            )
        return pd.DataFrame(rows)

    def status_counts(self, batches=None) -> pd.DataFrame:
        """Entries per verification-status family (for the chosen batches)."""
        sel = self.select(batches)
        counts = sel["status_family"].value_counts()
        return pd.DataFrame(
            {"status": list(STATUS_FAMILIES), "n_entries": [int(counts.get(s, 0)) for s in STATUS_FAMILIES]}
        )


# --------------------------------------------------------------------------------------------------
# Parsing helpers
# --------------------------------------------------------------------------------------------------

_DATE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")
_BATCH_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")


def parse_date_text(text: object) -> tuple[int | None, int | None, int | None]:
    """(year, month, day) from the leading ``YYYY[-MM[-DD]]`` of a date text; parts not given are None.

    The registry's dates carry qualifiers after the date (``2020-04 (day unverified; ...)``); only
    the leading part counts. ``2012-11/12`` gives month 11 (the notice is from November or December).
    """
    if text is None or text != text:
        return None, None, None
    match = _DATE.match(str(text))
    if not match:
        return None, None, None
    year, month, day = (int(g) if g else None for g in match.groups())
    if month is not None and not 1 <= month <= 12:
        return year, None, None
    if day is not None and not 1 <= day <= 31:
        day = None
    return year, month, day


def parse_batches(spec, available: list[int], where: str = "batches") -> list[int]:
    """Batch numbers from ``None`` (all), an int, ``"1-5"``, ``"1,3,5"``, ``"1-3,5"`` or a list of those."""
    if spec is None:
        return list(available)
    items = spec if isinstance(spec, (list, tuple, set)) else [spec]
    chosen: list[int] = []
    for item in items:
        if isinstance(item, (bool, np.bool_)):
            raise PilotdidInputError(f"batch {item!r} is not a number", where=where, fix="give batches as 1-5 or [1, 2, 3]")
        if isinstance(item, (int, np.integer)):
            chosen.append(int(item))
            continue
        for part in str(item).split(","):
            match = _BATCH_RANGE.match(part)
            if not match:
                raise PilotdidInputError(
                    f"cannot read batches {str(spec)!r}", where=where, fix="give batches as 1-5, 1,3,5 or a list [1, 2, 3]"
                )
            lo = int(match.group(1))
            hi = int(match.group(2)) if match.group(2) else lo
            if hi < lo:
                raise PilotdidInputError(f"batch range {part.strip()!r} runs backwards", where=where, fix=f"write {hi}-{lo}")
            chosen.extend(range(lo, hi + 1))
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        raise PilotdidInputError(
            f"batch(es) {unknown} not in the list (it has {available})", where=where,
            fix=f"choose among {available[0]}-{available[-1]}" if available else "the list has no batches",
        )
    return sorted(set(chosen))


def _clean(value: object) -> str:
    if value is None or value != value:
        return ""
    return " ".join(str(value).split())


def _parent_names(crosswalk: str) -> list[str]:
    """Prefecture names of a crosswalk cell: ``保定市 (雄县、容城县、安新县)`` -> [保定市]; ``长沙市;株洲市`` -> both."""
    names = []
    for part in crosswalk.split(";"):
        name = re.split(r"\s*[（(]", part.strip())[0].strip()
        if name:
            names.append(name)
    return names


def _unit_kind(counts: str, crosswalk: str, entity_type: str, entity_name: str) -> str | None:
    """The entry's unit kind from the registry's columns; None when ``counts`` is not understood."""
    counts_l = counts.lower()
    type_l = entity_type.lower()
    if type_l.startswith("province (") or "省级试点" in entity_type:
        return "province"
    if crosswalk.lstrip("(（").lower().startswith("none") or crosswalk.startswith(("(none", "（none")):
        return "no_prefecture"
    if "xpcc" in type_l and not crosswalk:
        return "no_prefecture"
    if counts_l.startswith("yes"):
        return "cluster" if len(_parent_names(crosswalk)) > 1 else "prefecture"
    if counts_l.startswith(("no", "ambiguous")):
        return "county" if _parent_names(crosswalk) else "no_prefecture"
    if counts_l:
        return None
    # no counts column: decide from the entity type
    if any(k in type_l for k in ("county", "district", "县", "市辖区", "new area", "新区")):
        return "county" if _parent_names(crosswalk) and _parent_names(crosswalk) != [entity_name] else "no_prefecture"
    return "cluster" if len(_parent_names(crosswalk)) > 1 else "prefecture"


# Column names accepted for a policy CSV -> the registry's names (cbec_pilot_zones.csv is the model).
_COLUMN_ALIASES = {
    "entity_name": "city_name",
    "year": "approval_year",
    "notice_year": "approval_year",
    "announcement_date": "approval_date",
    "notice_date": "approval_date",
    "announcement_doc": "approval_doc",
    "notice_doc": "approval_doc",
    "date_basis": "approval_date_basis",
    "entity_type": "admin_level",
    "parent_prefecture": "prefecture_crosswalk",
}
REQUIRED_CSV_COLUMNS = ("batch", "city_name", "approval_year", "verification_status", "sources")
OPTIONAL_CSV_COLUMNS = (
    "province", "admin_level", "prefecture_crosswalk", "counts_as_prefecture_treatment", "approval_doc",
    "approval_date", "approval_date_basis", "source_doc_title", "n_public_sources", "note",
)


def entries_from_table(table: pd.DataFrame, policy: str, source: str, *, batch_from_year: bool = False) -> pd.DataFrame:
    """Validate a registry-format table and normalise it to :data:`ENTRY_COLUMNS`.

    ``table`` holds strings as read from the CSV (row i is file line i + 2). Any bad cell raises
    :class:`PilotdidInputError` naming the file, line and column.
    """
    df = table.rename(columns={k: v for k, v in _COLUMN_ALIASES.items() if k in table.columns and v not in table.columns})
    if batch_from_year and "batch" not in df.columns and "approval_year" in df.columns:
        df = df.assign(batch=df["approval_year"])
    missing = [c for c in REQUIRED_CSV_COLUMNS if c not in df.columns]
    if missing:
        raise PilotdidInputError(
            f"policy list lacks column(s) {missing}", where=source,
            fix=f"a policy CSV needs {list(REQUIRED_CSV_COLUMNS)} (optional: {list(OPTIONAL_CSV_COLUMNS)})",
        )
    if df.empty:
        raise PilotdidInputError("policy list has no rows", where=source, fix="add one row per designated place")
    rows = []
    for i, rec in enumerate(df.to_dict("records")):
        line = i + 2
        at = f"{source}, line {line}"

        def bad(column: str, message: str, fix: str) -> PilotdidInputError:
            return PilotdidInputError(message, where=f"{at}, column {column}", fix=fix)

        name = _clean(rec.get("city_name"))
        if not name:
            raise bad("city_name", "the place name is empty", "name the designated city (e.g. 杭州市)")
        batch_text = _clean(rec.get("batch"))
        try:
            batch = int(float(batch_text))
            if float(batch_text) != batch or batch < 0:
                raise ValueError
        except ValueError:
            raise bad("batch", f"batch {batch_text!r} is not a whole number", "number the batches 1, 2, 3 ... (or give the year)") from None
        year_text = _clean(rec.get("approval_year"))
        try:
            year = int(float(year_text))
            if float(year_text) != year or not 1900 <= year <= 2100:
                raise ValueError
        except ValueError:
            raise bad("approval_year", f"approval year {year_text!r} is not a year", "give a four-digit year such as 2018") from None
        date_text = _clean(rec.get("approval_date"))
        d_year, d_month, d_day = parse_date_text(date_text) if date_text else (None, None, None)
        if date_text and d_year is None:
            raise bad("approval_date", f"cannot read the date {date_text!r}", "write it as YYYY-MM-DD or YYYY-MM (qualifiers may follow)")
        if d_year is not None and d_year != year:
            raise bad(
                "approval_date", f"date {date_text!r} is in {d_year} but approval_year is {year}",
                "make approval_year the year of approval_date",
            )
        status = _clean(rec.get("verification_status"))
        family = status_family(status)
        if family is None:
            raise bad(
                "verification_status", f"unknown status {status!r}",
                f"use one of {list(STATUS_FAMILIES)} (see SOURCES.md for their meaning)",
            )
        sources = _clean(rec.get("sources"))
        if not sources and family != "unverified":
            raise bad("sources", "a verified entry names no source", "list the public source(s), or mark the row unverified")
        n_sources_text = _clean(rec.get("n_public_sources"))
        if n_sources_text:
            try:
                n_sources = int(float(n_sources_text))
            except ValueError:
                raise bad("n_public_sources", f"{n_sources_text!r} is not a count", "give a whole number of sources") from None
        else:
            n_sources = None
        crosswalk = _clean(rec.get("prefecture_crosswalk")) or name
        counts = _clean(rec.get("counts_as_prefecture_treatment"))
        entity_type = _clean(rec.get("admin_level"))
        kind = _unit_kind(counts, crosswalk, entity_type, name)
        if kind is None:
            raise bad(
                "counts_as_prefecture_treatment", f"cannot read {counts!r}",
                "start it with yes (a prefecture-level unit), no (a county-level zone with a parent in prefecture_crosswalk) or leave it empty",
            )
        parents = [] if kind in ("province", "no_prefecture") else _parent_names(crosswalk)
        rows.append(
            {
                "policy": policy,
                "batch": batch,
                "entity_name": name,
                "province": _clean(rec.get("province")) or None,
                "entity_type": entity_type or None,
                "unit_kind": kind,
                "prefectures": ";".join(parents),
                "approval_date": date_text or None,
                "approval_year": year,
                "approval_month": d_month,
                "approval_day": d_day,
                "document": _clean(rec.get("approval_doc")) or None,
                "date_basis": _clean(rec.get("approval_date_basis")) or None,
                "verification_status": status,
                "status_family": family,
                "n_public_sources": n_sources,
                "sources": sources or None,
                "note": _clean(rec.get("note")) or None,
                "source_file": source,
                "source_line": line,
            }
        )
    entries = pd.DataFrame(rows, columns=ENTRY_COLUMNS)
    for col in ("approval_month", "approval_day", "n_public_sources"):
        entries[col] = entries[col].astype("Int64")
    for col in ("batch", "approval_year", "source_line"):
        entries[col] = entries[col].astype(int)
    dup = entries.duplicated(["batch", "entity_name"], keep=False)
    if dup.any():
        first = entries.loc[dup].iloc[0]
        raise PilotdidInputError(
            f"{first.entity_name} is listed twice in batch {first.batch}", where=f"{source}, line {first.source_line}",
            fix="keep one row per place and batch",
        )
    return entries


# --------------------------------------------------------------------------------------------------
# Shipped policies
# --------------------------------------------------------------------------------------------------


def _cbec() -> Policy:
    file = "cbec_pilot_zones.csv"
    entries = entries_from_table(read_list_csv(file), "cbec", file)
    caveats = [
        "CBEC zones (跨境电子商务综合试验区): batches 1-7 from the State Council replies 国函〔2015〕44号 ... 国函〔2022〕126号; "
        "batch 5 (2020-04) and batch 6 (2022-01) approval days are not confirmed.",
        "Batch 4 was signed on 2019-12-15 and batch 7 on 2022-11-14: effectively year-end approvals "
        "(rule next_year_if_after or a lag moves them to the next year).",
        "Eight entries are not prefecture-level units (义乌, 珲春, 绥芬河, 满洲里, 延吉, 同江, 阿拉山口, 雄安新区); "
        "they reach a prefecture panel only through the county rule.",
    ]
    n_unverified = int((entries["status_family"] == "unverified").sum())
    if n_unverified:
        caveats.append(
            f"{n_unverified} batch-7 entries are unverified (no public source names them): refused as treatment unless allow_unverified."
        )
    return Policy(
        "cbec", "Cross-border E-commerce Comprehensive Pilot Zones (跨境电子商务综合试验区)", entries, caveats,
        batch_label="batch", source_files=[file],
        description="State Council approvals, batches 1-7 (2015-2022); an 8th batch (2025) is not in the list.",
    )


def _broadband() -> Policy:
    file = "broadband_china_demo_cities.csv"
    entries = entries_from_table(read_list_csv(file), "broadband", file, batch_from_year=True)
    n2015 = int((entries["batch"] == 2015).sum())
    caveats = [
        f"Broadband China (宽带中国) 2015 batch is INCOMPLETE: only {n2015} of the 39 official 2015 entities are confirmed; "
        "the other 2015 cities are coded untreated (a 28-name unconfirmed candidate list ships as a checklist, not as data).",
        "Entries that are not single prefectures: 长株潭城市群 (coded 长沙/株洲/湘潭), 昆山 (county-level, in 苏州), "
        "九龙坡区 and 北碚区 (Chongqing districts; the county rule decides whether 重庆 counts), 阿拉尔 (XPCC, no prefecture).",
    ]
    return Policy(
        "broadband", "Broadband China demonstration cities (“宽带中国”示范城市)", entries, caveats,
        batch_label="year", source_files=[file, "broadband_china_2015_UNVERIFIED_candidates.csv"],
        description="MIIT/NDRC lists 2014, 2015 (10 of 39 confirmed), 2016; batches are named by year.",
    )


def _lowcarbon_official() -> Policy:
    file = "lowcarbon_pilots_official.csv"
    entries = entries_from_table(read_list_csv(file), "lowcarbon:official", file)
    n_prov = int((entries["unit_kind"] == "province").sum())
    caveats = [
        f"Low-carbon pilots as officially named: {n_prov} provincial pilots (广东, 辽宁, 湖北, 陕西, 云南 in 2010; 海南 in 2012) "
        "are NOT expanded to their prefectures in this variant (use lowcarbon:province_expanded for that coding).",
        "The 2012 and 2017 notice dates are not confirmed to the day; batch 3 (2017) rests mostly on one low-reliability source.",
    ]
    return Policy(
        "lowcarbon:official", "Low-carbon city pilots (低碳省区和低碳城市试点), official entities", entries, caveats,
        source_files=[file], description="NDRC notices 2010 (batch 1), 2012 (batch 2), 2017 (batch 3): 87 entities.",
    )


def _lowcarbon_province_expanded() -> Policy:
    official = _lowcarbon_official().entries
    file = "lowcarbon_pilots_prefecture_expanded.csv"
    expanded = read_list_csv(file)
    batch_of_year = {int(y): int(b) for b, y in official.groupby("batch")["approval_year"].first().items()}
    first_of_batch = official.groupby("batch").first()
    by_name = {r.entity_name: r for r in official.itertuples()}
    rows, skipped = [], []
    for i, rec in enumerate(expanded.to_dict("records")):
        line = i + 2
        name = _clean(rec["prefecture"])
        year_text = _clean(rec.get("first_year_incl_province_rule"))
        if not year_text:
            skipped.append(f"{name} ({_clean(rec.get('sub_unit_designations'))})")
            continue
        year = int(year_text)
        named_text = _clean(rec.get("first_year_named_as_city"))
        basis = _clean(rec.get("basis"))
        # The entry that gives the earliest year is the one the coding rests on: the province, else the city.
        province_entry = by_name.get(_clean(rec["province"]))
        city_entry = by_name.get(name)
        if province_entry is not None and int(province_entry.approval_year) == year:
            origin = province_entry
        elif city_entry is not None:
            origin = city_entry
        else:
            raise PilotdidInputError(
                f"{name}: year {year} matches neither its province nor a named entry", where=f"{file}, line {line}",
                fix="check the shipped lists (internal inconsistency)",
            )
        batch = batch_of_year[year]
        ref = first_of_batch.loc[batch]
        rows.append(
            {
                "policy": "lowcarbon:province_expanded",
                "batch": batch,
                "entity_name": name,
                "province": _clean(rec["province"]),
                "entity_type": "prefecture (province-expanded coding)" if origin is province_entry else origin.entity_type,
                "unit_kind": "prefecture",
                "prefectures": name,
                "approval_date": ref["approval_date"],
                "approval_year": year,
                "approval_month": ref["approval_month"],
                "approval_day": ref["approval_day"],
                "document": ref["document"],
                "date_basis": f"coding convention: {basis}" + (f"; named as a city in {named_text}" if named_text else ""),
                "verification_status": origin.verification_status,
                "status_family": origin.status_family,
                "n_public_sources": origin.n_public_sources,
                "sources": origin.sources,
                "note": _clean(rec.get("coding_note")) or None,
                "source_file": file,
                "source_line": line,
            }
        )
    entries = pd.DataFrame(rows, columns=ENTRY_COLUMNS)
    for col in ("approval_month", "approval_day", "n_public_sources"):
        entries[col] = entries[col].astype("Int64")
    caveats = [
        "Province-expanded coding (a convention, not an official list): every prefecture of a pilot province counts as "
        "treated from the province's year (广东, 辽宁, 湖北, 陕西, 云南 2010; 海南 2012).",
        f"{len(skipped)} prefectures where only a county or district was designated are not treated in this coding: "
        + ", ".join(skipped) + ".",
    ]
    return Policy(
        "lowcarbon:province_expanded", "Low-carbon city pilots, province-expanded prefecture coding", entries, caveats,
        source_files=[file, "lowcarbon_pilots_official.csv"],
        description=f"{len(entries)} prefecture units; verification status is that of the entry giving the year.",
    )


_SAMPLE_BATCH = {"第一批": 1, "第二批": 2, "第三批": 3}


def lowcarbon_sample_list() -> pd.DataFrame:
    """The 92-city treatment list shipped with the low-carbon regression sample (city_name, pilot_year, batch)."""
    raw = read_list_excel("gp_lowcarbon_pilot_list.xlsx")
    out = raw.rename(columns=str.strip).copy()
    out["city_name"] = out["city_name"].map(_clean)
    out["pilot_year"] = out["pilot_year"].astype(int)
    out["batch"] = out["batch"].map(_clean)
    return out


def compare_lowcarbon_sample_list() -> pd.DataFrame:
    """Compare the sample's list with the official coding, city by city (reproduces lowcarbon_sample_list_comparison.csv).

    Status per city (the official side is the province-expanded coding, with the year a city was
    named in its own right kept apart):

    * ``agree``: the sample's year is the earliest official year including the provincial rule;
    * ``batch2_coded_2013``: covered from batch 2 (named, or via 海南 province), but the sample uses 2013
      (the first full year) for the 2012 notice;
    * ``batch2_year_but_province_earlier``: the sample uses 2013 for a city named in batch 2 whose 2010
      pilot province already covered it;
    * ``named_year_but_province_earlier``: the sample's year is the year the city was named, but an
      earlier provincial pilot covers it;
    * ``missing``: an officially treated prefecture unit absent from the sample list;
    * ``false_positive``: a sample city that no official list treats; ``other``: anything else.
    """
    sample = lowcarbon_sample_list()
    expanded = read_list_csv("lowcarbon_pilots_prefecture_expanded.csv")
    expanded = expanded.loc[expanded["first_year_incl_province_rule"].notna()].copy()
    expanded["incl"] = expanded["first_year_incl_province_rule"].astype(int)
    expanded["named"] = pd.to_numeric(expanded["first_year_named_as_city"], errors="coerce").astype("Int64")
    official = expanded.set_index("prefecture")
    rows = []
    for rec in sample.itertuples():
        name = rec.city_name
        year = int(rec.pilot_year)
        if name not in official.index:
            status = "false_positive"
            incl = named = None
        else:
            incl = int(official.at[name, "incl"])
            named_val = official.at[name, "named"]
            named = None if pd.isna(named_val) else int(named_val)
            if year == incl:
                status = "agree"
            elif year == 2013 and incl == 2012:
                status = "batch2_coded_2013"
            elif year == 2013 and named == 2012 and incl < 2012:
                status = "batch2_year_but_province_earlier"
            elif named is not None and year == named and incl < named:
                status = "named_year_but_province_earlier"
            else:
                status = "other"
        rows.append((name, year, rec.batch, named, incl, status))
    in_sample = set(sample["city_name"])
    for name, rec in official.iterrows():
        if name not in in_sample:
            named = None if pd.isna(rec["named"]) else int(rec["named"])
            rows.append((name, None, None, named, int(rec["incl"]), "missing"))
    out = pd.DataFrame(
        rows,
        columns=["city_name", "sample_list_year", "sample_list_batch", "official_first_year_named",
                 "official_first_year_incl_province", "status"],
    )
    for col in ("sample_list_year", "official_first_year_named", "official_first_year_incl_province"):
        out[col] = out[col].astype("Int64")
    return out


def _lowcarbon_sample_list() -> Policy:
    sample = lowcarbon_sample_list()
    comparison = compare_lowcarbon_sample_list().set_index("city_name")
    expanded = _lowcarbon_province_expanded().entries.set_index("entity_name")
    rows = []
    for i, rec in enumerate(sample.itertuples()):
        name = rec.city_name
        batch = _SAMPLE_BATCH.get(rec.batch)
        if batch is None:
            raise PilotdidInputError(
                f"unknown batch label {rec.batch!r}", where=f"gp_lowcarbon_pilot_list.xlsx, row {i + 2}, column batch",
                fix="expected 第一批/第二批/第三批",
            )
        official = expanded.loc[name] if name in expanded.index else None
        status_cmp = comparison.at[name, "status"] if name in comparison.index else "false_positive"
        rows.append(
            {
                "policy": "lowcarbon:sample_list",
                "batch": batch,
                "entity_name": name,
                "province": None if official is None else official["province"],
                "entity_type": "prefecture (as coded by the sample)",
                "unit_kind": "prefecture",
                "prefectures": name,
                "approval_date": None,
                "approval_year": int(rec.pilot_year),
                "approval_month": None,
                "approval_day": None,
                "document": None,
                "date_basis": "year as coded in the regression sample's list (no month)",
                # membership rests on the official entry; the year is the sample's own coding (see note)
                "verification_status": "unverified" if official is None else official["verification_status"],
                "status_family": "unverified" if official is None else official["status_family"],
                "n_public_sources": None if official is None else official["n_public_sources"],
                "sources": "biechouwo-coder/G-P gp_lowcarbon_pilot_list.xlsx"
                + ("" if official is None else f" | membership: {official['sources']}"),
                "note": f"compared with the official coding: {status_cmp}",
                "source_file": "gp_lowcarbon_pilot_list.xlsx",
                "source_line": i + 2,
            }
        )
    entries = pd.DataFrame(rows, columns=ENTRY_COLUMNS)
    for col in ("approval_month", "approval_day", "n_public_sources"):
        entries[col] = entries[col].astype("Int64")
    counts = compare_lowcarbon_sample_list()["status"].value_counts()
    caveats = [
        "The list shipped with a published low-carbon regression sample (biechouwo-coder/G-P), not an official list: "
        f"{counts.get('agree', 0)} cities agree with the official year (provincial rule included); "
        f"{counts.get('batch2_coded_2013', 0)} batch-2 cities are coded 2013 instead of the 2012 notice year; "
        f"{counts.get('batch2_year_but_province_earlier', 0) + counts.get('named_year_but_province_earlier', 0)} "
        "use the year the city was named although an earlier provincial pilot covered it; "
        f"{counts.get('missing', 0)} officially treated prefecture units are absent (some sit in its control group); "
        f"{counts.get('false_positive', 0)} cities are not in any official list.",
        "No approval months: rule next_year_if_after cannot be used with this variant.",
    ]
    return Policy(
        "lowcarbon:sample_list", "Low-carbon city pilots as coded by a published regression sample", entries, caveats,
        source_files=["gp_lowcarbon_pilot_list.xlsx", "lowcarbon_sample_list_comparison.csv"],
        description="92 cities, years as coded there; compare_lowcarbon_sample_list() lists every difference.",
    )


def _hsr() -> Policy:
    file = "crh_final_data_hsr.csv"
    raw = read_list_csv(file)
    # Province-qualified romanisations (Suzhou_Jiangsu) are mapped by a reviewed table, not by guessing.
    overrides = read_list_csv("hsr_name_overrides.csv").set_index("source_name")
    rows = []
    for i, rec in enumerate(raw.to_dict("records")):
        line = i + 2
        dummy = _clean(rec.get("chr_dummy"))
        year_text = _clean(rec.get("year_chr"))
        if dummy not in ("0", "1"):
            raise PilotdidInputError(f"chr_dummy {dummy!r} is not 0/1", where=f"{file}, line {line}", fix="internal data error")
        if (dummy == "1") != bool(year_text):
            raise PilotdidInputError(
                "chr_dummy and year_chr disagree", where=f"{file}, line {line}", fix="internal data error"
            )
        if dummy == "0":
            continue
        year = int(float(year_text))
        name = _clean(rec["city_name"])
        override = overrides.loc[name] if name in overrides.index else None
        rows.append(
            {
                "policy": "hsr",
                "batch": year,
                "entity_name": name,
                "province": None if override is None else override["province"],
                "entity_type": "prefecture-level city (pinyin name in the source)",
                "unit_kind": "prefecture",
                "prefectures": name if override is None else override["city_name"],
                "approval_date": str(year),
                "approval_year": year,
                "approval_month": None,
                "approval_day": None,
                "document": None,
                "date_basis": "year of the first high-speed-rail service (year_chr) in the source dataset",
                "verification_status": "verified_1",
                "status_family": "verified_1",
                "n_public_sources": 1,
                "sources": "gordonjgz/spatial-differentiated-effects-CRH final_data_hsr.csv (research dataset; "
                "opening years not checked against railway announcements)",
                "note": None if override is None else f"name mapped by hsr_name_overrides.csv: {override['reason']}",
                "source_file": file,
                "source_line": line,
            }
        )
    entries = pd.DataFrame(rows, columns=ENTRY_COLUMNS)
    for col in ("approval_month", "approval_day", "n_public_sources"):
        entries[col] = entries[col].astype("Int64")
    n_zero = int((raw["chr_dummy"] == "0").sum())
    caveats = [
        "High-speed rail: opening years 2009-2016 from one research dataset (285 cities, pinyin names mapped to city ids "
        "by the resolver, province-qualified ones such as Suzhou_Jiangsu by a reviewed table; fuzzy matches are listed). Cities opening after 2016 are coded untreated: "
        f"{n_zero} cities of that dataset have no opening by 2016 - not never-treated.",
        "Opening years have no month: rule next_year_if_after cannot be used with this policy.",
    ]
    return Policy(
        "hsr", "High-speed-rail opening (高铁开通)", entries, caveats, batch_label="year",
        source_files=[file, "hsr_name_overrides.csv"],
        description="First HSR service by city, 2009-2016; batches are named by year.",
    )


_LOADERS = {
    "cbec": _cbec,
    "broadband": _broadband,
    "lowcarbon:official": _lowcarbon_official,
    "lowcarbon:province_expanded": _lowcarbon_province_expanded,
    "lowcarbon:sample_list": _lowcarbon_sample_list,
    "hsr": _hsr,
}
_CACHE: dict[str, Policy] = {}


def policy_names() -> list[str]:
    """Every loadable name (``lowcarbon`` alone means ``lowcarbon:official``)."""
    return list(_LOADERS)


def canonical_name(name: str, variant: str | None = None) -> str:
    """``lowcarbon`` + variant -> ``lowcarbon:<variant>``; checks the name exists."""
    text = str(name).strip().lower()
    if variant is not None:
        if ":" in text:
            raise PilotdidInputError(
                f"policy {name!r} already names a variant", where="policy", fix="give the variant once"
            )
        text = f"{text}:{variant}"
    if text == "lowcarbon":
        text = f"lowcarbon:{DEFAULT_LOWCARBON_VARIANT}"
    if text not in _LOADERS:
        raise PilotdidInputError(
            f"unknown policy {name!r}" + (f" (variant {variant!r})" if variant else ""), where="registry",
            fix=f"choose one of {policy_names()} (`pilotdid registry list`), or load your own CSV with load_policy_csv",
        )
    return text


def load_policy(name: str, variant: str | None = None) -> Policy:
    """A shipped policy by name: ``cbec``, ``broadband``, ``lowcarbon`` (variant ``official`` by default;
    also ``province_expanded``, ``sample_list``, or the form ``lowcarbon:sample_list``), ``hsr``.

    A path to a CSV file (ending in .csv) is read with :func:`load_policy_csv`.
    """
    if isinstance(name, Path) or str(name).lower().endswith(".csv"):
        return load_policy_csv(name)
    key = canonical_name(name, variant)
    if key not in _CACHE:
        _CACHE[key] = _LOADERS[key]()
    policy = _CACHE[key]
    # callers may edit what they get; hand out a copy of the entries
    return Policy(
        policy.name, policy.title, policy.entries.copy(), list(policy.caveats), policy.batch_label,
        list(policy.source_files), policy.description,
    )


def load_policy_csv(path: str | Path, name: str | None = None, caveats: list[str] | None = None) -> Policy:
    """A user's own policy list in the registry's CSV format.

    Required columns: ``batch, city_name, approval_year, verification_status, sources``; optional:
    ``province, admin_level, prefecture_crosswalk, counts_as_prefecture_treatment, approval_doc,
    approval_date (YYYY-MM-DD or YYYY-MM), approval_date_basis, n_public_sources, note`` (the columns
    of the shipped ``cbec_pilot_zones.csv``). A bad cell raises :class:`PilotdidInputError` naming
    the file, line and column.
    """
    path = Path(path)
    if not path.is_file():
        raise PilotdidInputError(f"policy list {path} does not exist", where=str(path), fix="check the path")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise PilotdidInputError(f"cannot read it as a UTF-8 CSV ({exc})".splitlines()[0], where=str(path), fix="save the list as UTF-8 CSV") from None
    table.columns = [str(c).strip() for c in table.columns]
    policy_name = name or path.stem
    entries = entries_from_table(table, policy_name, path.name)
    notes = list(caveats or [])
    n_unverified = int((entries["status_family"] == "unverified").sum())
    if n_unverified:
        notes.append(f"{n_unverified} entries are unverified: refused as treatment unless allow_unverified.")
    return Policy(policy_name, f"user list {path.name}", entries, notes, source_files=[str(path)])


def list_policies() -> pd.DataFrame:
    """One row per shipped policy (and low-carbon variant): name, title, batches, entries, statuses, caveats."""
    rows = []
    for key in _LOADERS:
        policy = load_policy(key)
        e = policy.entries
        fam = e["status_family"].value_counts()
        years = sorted(e["approval_year"].unique())
        rows.append(
            {
                "name": key,
                "title": policy.title,
                "batches": ", ".join(
                    f"{b}" if policy.batch_label == "year" else f"{b} ({int(g['approval_year'].min())})"
                    for b, g in e.groupby("batch")
                ),
                "years": f"{years[0]}-{years[-1]}",
                "n_entries": int(len(e)),
                "n_prefecture_entries": int(e["unit_kind"].isin(["prefecture", "cluster"]).sum()),
                "n_sub_prefecture": int((e["unit_kind"] == "county").sum()),
                "n_non_prefecture": int(e["unit_kind"].isin(["province", "no_prefecture"]).sum()),
                **{f"n_{s}": int(fam.get(s, 0)) for s in STATUS_FAMILIES},
                "n_caveats": len(policy.caveats),
                "files": ", ".join(policy.source_files),
            }
        )
    return pd.DataFrame(rows)
