"""One stable id per prefecture-level unit, and a resolver from any spelling to that id.

The ids (``CNUR-000001`` ...) come from ``crosswalk_aliases.csv``. Canonical Chinese names (with their
suffix), province and 2020 codes come from the 2010/2020 census file; English names from the China City
Statistical Yearbook tables; further 6-digit codes (older codes such as 儋州 469003, 吐鲁番地区 652100)
from the G-P files. :func:`build_city_tables` derives the tables from the raw files; the package ships
its output (``shipped/cities.csv``, ``shipped/city_aliases.csv``) so users never need the raw files.

Administrative changes inside 2011-2021 (decision, also in docs/data.md):

* 莱芜 (CNUR-000146) merged into 济南 on 2019-01; it keeps its own id, valid 2000-2018. A source row
  for 莱芜 in 2019 or later does not resolve (it is listed as unmatched, "outside validity") rather
  than being added to 济南: 济南 from 2019 on is the enlarged city, as every source reports it.
* 巢湖 (CNUR-000110) was split up in August 2011; valid 2000-2010, so it has no panel rows (the panel
  starts in 2011, and the 2012 yearbook edition already omits it). 合肥, 芜湖 and 马鞍山 are taken in
  their post-2011 boundaries throughout.
* Renamed units (襄樊 -> 襄阳, 哈密地区 -> 哈密市, 那曲地区 -> 那曲市, ...) keep one id across the rename.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from io import StringIO

import pandas as pd
from rapidfuzz import fuzz, process

from pilotdid.data.names import (
    has_chinese,
    latin_key,
    normalise_chinese,
    pinyin_key,
    pinyin_variants,
    short_name,
    strip_admin_suffix,
)
from pilotdid.errors import PilotdidInputError

CITY_COLUMNS = ["city_id", "city_name", "city_name_en", "province", "city_code", "valid_from", "valid_to"]
ALIAS_COLUMNS = ["alias", "city_id", "alias_type", "start_year", "end_year", "source"]
METHODS = ("exact", "alias", "suffix", "pinyin", "fuzzy", "code")

# alias_type -> the method reported when a name matches it
_METHOD_OF_ALIAS_TYPE = {
    "canonical": "exact",
    "suffix_omitted": "suffix",
    "common_abbreviation": "alias",
    "ocr_variant": "alias",
    "manual_alias": "alias",
    "short_name": "alias",
    "source_name": "alias",
    "english": "alias",
}

# Units the crosswalk knows but the 2020 census no longer lists. Their names and codes are looked up in
# the G-P files (which carry 莱芜市 371200 and 巢湖市 341400); 伊犁 (the 伊犁地区 of 2000, abolished 2001)
# appears in no file, so its name is set here.
_NAME_FALLBACK_SUFFIX = {"CNUR-000338": "地区"}

FUZZY_MIN_SCORE = 75.0  # rapidfuzz ratio (0-100) below which a romanised name is left unmatched
FUZZY_MIN_MARGIN = 5.0  # best score must beat the best *other* city by this much


@dataclass(frozen=True)
class CityMatch:
    """The id a name resolved to, how (one of :data:`METHODS`) and a score in [0, 1] (1 unless fuzzy)."""

    city_id: str
    method: str
    score: float


# --------------------------------------------------------------------------------------------------
# Building the tables from raw inputs (no I/O here: callers pass the frames they read)
# --------------------------------------------------------------------------------------------------


def _english_for(city_id: str, pinyin_of_core: str, yearbook_names: list[str], label: str) -> str:
    """English name: the yearbook spelling when it is the pinyin or a conventional exonym, else pinyin."""
    for name in yearbook_names:  # newest edition first
        if latin_key(name) in pinyin_variants(pinyin_of_core):
            return name
    if yearbook_names:
        counts = Counter(yearbook_names)
        best, _ = counts.most_common(1)[0]
        # A spelling far from the pinyin is a conventional name (Hohhot, Urumqi, Lhasa, Ordos); one close
        # to it is a typo (Tianjing) and loses to the pinyin.
        if fuzz.ratio(latin_key(best), pinyin_of_core) < 80:
            return best
    return pinyin_of_core.capitalize() + label


def build_city_tables(
    crosswalk: pd.DataFrame,
    census: pd.DataFrame,
    yearbook_names: pd.DataFrame,
    code_pairs: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Derive (cities, aliases, code_review) from the raw inputs.

    crosswalk: the crosswalk_aliases.csv columns; census: city, city_code, province;
    yearbook_names: name_zh, name_en, edition; code_pairs: name, code, province, source (name-code
    pairs seen in the G-P files). code_review lists every code and the id it was assigned or why not.
    """
    cw = crosswalk.copy()
    cw["alias"] = cw["alias"].map(normalise_chinese)
    validity = cw.groupby("entity_id").agg(valid_from=("start_year", "min"), valid_to=("end_year", "max"))
    # the core (suffix-free) names of each id, newest first
    cores: dict[str, list[str]] = defaultdict(list)
    for row in cw.sort_values(["entity_id", "end_year"], ascending=[True, False]).itertuples():
        core = strip_admin_suffix(row.alias)
        if core not in cores[row.entity_id]:
            cores[row.entity_id].append(core)

    census_by_core: dict[str, tuple[str, str, int]] = {}
    for row in census.itertuples():
        name = normalise_chinese(row.city)
        census_by_core[strip_admin_suffix(name)] = (name, normalise_chinese(row.province), int(row.city_code))
    pairs_by_core: dict[str, tuple[str, str, int]] = {}
    for row in code_pairs.sort_values(["source", "code"]).itertuples():
        name = normalise_chinese(row.name)
        pairs_by_core.setdefault(strip_admin_suffix(name), (name, normalise_chinese(row.province), int(row.code)))

    en_by_zh: dict[str, list[str]] = defaultdict(list)
    for row in yearbook_names.sort_values("edition", ascending=False).itertuples():
        en_by_zh[strip_admin_suffix(normalise_chinese(row.name_zh))].append(str(row.name_en).strip())

    city_rows = []
    for city_id, (valid_from, valid_to) in validity.iterrows():
        id_cores = cores[city_id]
        found = next((census_by_core[c] for c in id_cores if c in census_by_core), None)
        if found is None:
            found = next((pairs_by_core[c] for c in id_cores if c in pairs_by_core), None)
        if found is None:
            core = id_cores[0]
            found = (core + _NAME_FALLBACK_SUFFIX.get(city_id, "市"), "", 0)
        name, province, code = found
        core = strip_admin_suffix(name)
        short = short_name(core)
        if name.endswith("自治州"):
            label = " Prefecture"
        elif name.endswith("地区"):
            label = " Prefecture"
        elif name.endswith("盟"):
            label = " League"
        else:
            label = ""
        english = _english_for(city_id, pinyin_key(short), en_by_zh.get(core, []), label)
        city_rows.append((city_id, name, english, province, code, int(valid_from), int(valid_to)))
    cities = pd.DataFrame(city_rows, columns=CITY_COLUMNS).sort_values("city_id", ignore_index=True)
    if cities["city_name"].duplicated().any():
        dup = cities.loc[cities["city_name"].duplicated(keep=False), "city_name"].tolist()
        raise PilotdidInputError(
            f"two city ids get the same canonical name {dup}", where="crosswalk_aliases.csv",
            fix="give each entity_id distinct aliases",
        )

    alias_rows = []
    id_from = dict(zip(cities.city_id, cities.valid_from))
    id_to = dict(zip(cities.city_id, cities.valid_to))
    for row in cities.itertuples():
        alias_rows.append((row.city_name, row.city_id, "canonical", row.valid_from, row.valid_to, "census/G-P"))
        core = strip_admin_suffix(row.city_name)
        short = short_name(core)
        if short != core:
            alias_rows.append((short, row.city_id, "short_name", row.valid_from, row.valid_to, "generated"))
    for row in cw.itertuples():
        alias_rows.append(
            (row.alias, row.entity_id, row.alias_type, int(row.start_year), int(row.end_year), "crosswalk_aliases.csv")
        )
    core_to_id = {}
    for city_id, id_cores in cores.items():
        for core in id_cores:
            core_to_id.setdefault(core, city_id)
    for core, names in en_by_zh.items():
        if core in core_to_id:
            city_id = core_to_id[core]
            for english in sorted(set(names)):
                alias_rows.append((english, city_id, "english", id_from[city_id], id_to[city_id], "CSY yearbook"))

    # codes: census (2020) first, then G-P name-code pairs resolved through the names built so far
    aliases = pd.DataFrame(alias_rows, columns=ALIAS_COLUMNS)
    resolver = CityResolver(cities, aliases)
    code_rows, review = [], []
    for row in cities.itertuples():
        if row.city_code:
            code_rows.append((str(row.city_code), row.city_id, "code", row.valid_from, row.valid_to, "census 2020"))
    seen = {r[0]: r[1] for r in code_rows}
    for row in code_pairs.sort_values(["source", "code", "name"]).itertuples():
        code = str(int(row.code))
        match = resolver.resolve(normalise_chinese(row.name))
        if match is None or match.method == "fuzzy":
            review.append((code, row.name, row.source, "", "name does not resolve; code not used"))
            continue
        if code in seen and seen[code] != match.city_id:
            review.append((code, row.name, row.source, match.city_id, f"code already used by {seen[code]}; not used"))
            continue
        if code not in seen:
            seen[code] = match.city_id
            code_rows.append((code, match.city_id, "code", id_from[match.city_id], id_to[match.city_id], row.source))
            review.append((code, row.name, row.source, match.city_id, "added"))
    aliases = pd.concat([aliases, pd.DataFrame(code_rows, columns=ALIAS_COLUMNS)], ignore_index=True)
    aliases = aliases.drop_duplicates(["alias", "city_id", "alias_type"]).sort_values(
        ["city_id", "alias_type", "alias", "start_year"], ignore_index=True
    )
    code_review = pd.DataFrame(review, columns=["code", "name", "source", "city_id", "action"])
    return cities, aliases, code_review


# --------------------------------------------------------------------------------------------------
# Resolver
# --------------------------------------------------------------------------------------------------


class CityResolver:
    """Resolve city names (Chinese, pinyin, English) or 6-digit codes to stable city ids.

    Order of attempts: exact canonical name; a listed alias (abbreviation, OCR variant, yearbook English
    name); the name without its administrative suffix; the pinyin of a Chinese name or a romanised name;
    finally a fuzzy match on romanised keys (rapidfuzz ratio >= 75 and 5 points clear of the next
    city), reported with method ``"fuzzy"`` so it can be reviewed. When ``year`` is given only ids valid
    in that year are candidates; a name that matches only ids outside their validity gives ``None``
    (see :meth:`why_unmatched`).
    """

    def __init__(self, cities: pd.DataFrame, aliases: pd.DataFrame):
        self.cities = cities.reset_index(drop=True)
        self._valid = {r.city_id: (int(r.valid_from), int(r.valid_to)) for r in self.cities.itertuples()}
        self._by_text: dict[str, list[tuple[str, str]]] = defaultdict(list)  # normalised text -> (id, type)
        self._by_core: dict[str, set[str]] = defaultdict(set)
        self._by_pinyin: dict[str, set[str]] = defaultdict(set)
        self._by_code: dict[str, str] = {}
        for row in aliases.itertuples():
            if row.alias_type == "code":
                self._by_code.setdefault(str(row.alias), row.city_id)
                continue
            text = str(row.alias)
            if row.alias_type == "english":
                key = latin_key(text)
                self._by_text["latin:" + key].append((row.city_id, row.alias_type))
                self._by_pinyin[key].add(row.city_id)
                continue
            text = normalise_chinese(text)
            self._by_text[text].append((row.city_id, row.alias_type))
            core = strip_admin_suffix(text)
            self._by_core[core].add(row.city_id)
            if row.alias_type in ("canonical", "suffix_omitted", "short_name"):
                for variant in pinyin_variants(pinyin_key(core)):
                    self._by_pinyin[variant].add(row.city_id)
        self._pinyin_choices = sorted(self._by_pinyin)

    # -- helpers ------------------------------------------------------------------------------------
    def _is_valid(self, city_id: str, year: int | None) -> bool:
        if year is None:
            return True
        start, end = self._valid[city_id]
        return start <= int(year) <= end

    def _pick(self, ids, year: int | None) -> str | None:
        """The one id valid in ``year``; with no year, the id valid most recently; None if ambiguous."""
        ids = sorted(set(ids))
        valid = [i for i in ids if self._is_valid(i, year)]
        if len(valid) == 1:
            return valid[0]
        if len(valid) > 1 and year is None:
            latest = max(self._valid[i][1] for i in valid)
            newest = [i for i in valid if self._valid[i][1] == latest]
            return newest[0] if len(newest) == 1 else None
        return None

    # -- public -------------------------------------------------------------------------------------
    def resolve(self, name: object, year: int | None = None) -> CityMatch | None:
        """The city id for a name (any spelling) valid in ``year``, or None when it cannot be resolved."""
        if name is None or (isinstance(name, float) and name != name):
            return None
        text = normalise_chinese(name)
        if not text:
            return None
        if text.isdigit() and len(text) == 6:
            return self.resolve_code(text, year)
        if has_chinese(text):
            return self._resolve_chinese(text, year)
        return self._resolve_latin(str(name), year)

    def _resolve_chinese(self, text: str, year: int | None) -> CityMatch | None:
        entries = self._by_text.get(text, [])
        if entries:
            city_id = self._pick([e[0] for e in entries], year)
            if city_id is not None:
                kinds = [t for i, t in entries if i == city_id]
                kind = "canonical" if "canonical" in kinds else kinds[0]
                return CityMatch(city_id, _METHOD_OF_ALIAS_TYPE.get(kind, "alias"), 1.0)
        core = strip_admin_suffix(text)
        for candidate in (core, short_name(core)):
            ids = self._by_core.get(candidate)
            if ids:
                city_id = self._pick(ids, year)
                if city_id is not None:
                    return CityMatch(city_id, "suffix", 1.0)
                return None
        ids = self._by_pinyin.get(pinyin_key(short_name(core)))
        if ids:
            city_id = self._pick(ids, year)
            return CityMatch(city_id, "pinyin", 1.0) if city_id else None
        return None

    def _resolve_latin(self, raw: str, year: int | None) -> CityMatch | None:
        key = latin_key(raw)
        if not key:
            return None
        entries = self._by_text.get("latin:" + key)
        if entries:
            city_id = self._pick([e[0] for e in entries], year)
            if city_id is not None:
                return CityMatch(city_id, "alias", 1.0)
        ids = self._by_pinyin.get(key)
        if ids:
            city_id = self._pick(ids, year)
            return CityMatch(city_id, "pinyin", 1.0) if city_id else None
        return self._fuzzy(key, year)

    def _fuzzy(self, key: str, year: int | None) -> CityMatch | None:
        hits = process.extract(key, self._pinyin_choices, scorer=fuzz.ratio, limit=12)
        scored: dict[str, float] = {}
        for choice, score, _ in hits:
            for city_id in self._by_pinyin[choice]:
                if self._is_valid(city_id, year):
                    scored[city_id] = max(scored.get(city_id, 0.0), float(score))
        if not scored:
            return None
        ranked = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))
        best_id, best = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        if best >= FUZZY_MIN_SCORE and best - runner_up >= FUZZY_MIN_MARGIN:
            return CityMatch(best_id, "fuzzy", round(best / 100.0, 4))
        return None

    def resolve_code(self, code: object, year: int | None = None) -> CityMatch | None:
        """The city id for a 6-digit administrative code (2020 codes and older codes seen in the sources)."""
        try:
            text = str(int(float(str(code).strip())))
        except (TypeError, ValueError):
            return None
        city_id = self._by_code.get(text)
        if city_id is None or not self._is_valid(city_id, year):
            return None
        return CityMatch(city_id, "code", 1.0)

    def why_unmatched(self, name: object, year: int | None = None) -> str:
        """A short reason why :meth:`resolve` gives None for this name and year."""
        any_year = self.resolve(name, None)
        if any_year is not None and year is not None and not self._is_valid(any_year.city_id, year):
            start, end = self._valid[any_year.city_id]
            return f"{any_year.city_id} exists only {start}-{end} (merged, split or not yet created)"
        text = normalise_chinese(name)
        if has_chinese(text):
            ids = self._by_pinyin.get(pinyin_key(short_name(strip_admin_suffix(text))), set())
            if len(ids) > 1:
                return f"ambiguous: pinyin shared by {sorted(ids)}"
            return "not a prefecture-level unit in the crosswalk (county-level city, province, or unknown name)"
        key = latin_key(name)
        ids = self._by_pinyin.get(key, set())
        if len(ids) > 1:
            return f"ambiguous romanisation shared by {sorted(ids)}"
        return "no romanised name close enough (fuzzy score < 75 or not 5 points clear)"


# --------------------------------------------------------------------------------------------------
# Shipped tables
# --------------------------------------------------------------------------------------------------


def _read_shipped(name: str, **kwargs) -> pd.DataFrame:
    ref = resources.files("pilotdid.data").joinpath("shipped", name)
    if not ref.is_file():
        raise PilotdidInputError(
            f"the shipped table {name} is missing from the installed package",
            where="pilotdid/data/shipped", fix="run `pilotdid data build` or reinstall pilotdid",
        )
    return pd.read_csv(StringIO(ref.read_text(encoding="utf-8")), **kwargs)


def load_city_table() -> pd.DataFrame:
    """One row per prefecture-level id: city_id, city_name, city_name_en, province, city_code (+ validity years)."""
    return _read_shipped("cities.csv", dtype={"city_code": "Int64"})


def load_city_aliases() -> pd.DataFrame:
    """Every known spelling (alias, city_id, alias_type, start_year, end_year, source)."""
    return _read_shipped("city_aliases.csv", dtype={"alias": str})


@lru_cache(maxsize=1)
def get_resolver() -> CityResolver:
    """The resolver over the shipped city tables (built once per process)."""
    return CityResolver(load_city_table(), load_city_aliases())
