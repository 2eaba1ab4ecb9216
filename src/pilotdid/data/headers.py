"""City-yearbook column headers: parse a header into (indicator core, scope, unit, year) and recognise it from the
shipped dictionary (``dictionary/yearbook_headers.toml``).

Pure functions, no I/O besides reading the dictionary. A header such as ``地区生产总值_当年价格_全市_万元``,
``人均地区生产总值_全市(元)``, ``年末金融机构各项贷款余额万元`` (Stata drops brackets), ``地区生产总值 (当年价格) (亿元)``
or ``专利授权数_2015`` reduces to a core name (``地区生产总值``), a scope (``city`` for 全市, ``districts`` for 市辖区,
None), a unit (``万元``) and a year (for wide-by-year headers). The dictionary's listed headers reduce the same way,
so each listed header also covers its layout variants.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from pilotdid.errors import PilotdidInputError

SCOPES = {"全市": "city", "市辖区": "districts"}
SCOPE_LABEL = {"city": "全市", "districts": "市辖区"}

# unit text -> (dimension, factor to the dimension's base). Longest first when glued on (Stata headers).
UNITS: dict[str, tuple[str, float]] = {
    "元": ("cny", 1.0), "千元": ("cny", 1e3), "万元": ("cny", 1e4), "百万元": ("cny", 1e6), "亿元": ("cny", 1e8),
    "元人民币": ("cny", 1.0), "万元人民币": ("cny", 1e4), "亿元人民币": ("cny", 1e8),
    "美元": ("usd", 1.0), "千美元": ("usd", 1e3), "万美元": ("usd", 1e4), "百万美元": ("usd", 1e6), "亿美元": ("usd", 1e8),
    "人": ("persons", 1.0), "千人": ("persons", 1e3), "万人": ("persons", 1e4),
    "张": ("count", 1.0), "床": ("count", 1.0), "个": ("count", 1.0), "件": ("count", 1.0), "项": ("count", 1.0),
    "吨": ("mass", 1.0), "万吨": ("mass", 1e4), "千克": ("mass", 1e-3), "公斤": ("mass", 1e-3),
    "平方公里": ("area", 1.0), "km2": ("area", 1.0), "公顷": ("area", 0.01),
    "%": ("share", 0.01), "百分比": ("share", 0.01), "百分比%": ("share", 0.01), "fraction": ("share", 1.0),
    "元人": ("income", 1.0), "元/人": ("income", 1.0),
    "户": ("households", 1.0), "万户": ("households", 1e4),
}
# the dimension each dictionary kind accepts, and the unit assumed when a header states none (None: refuse)
KIND_DIMENSIONS = {
    "money": ("cny", "usd"), "money_usd": ("usd", "cny"), "persons": ("persons",), "count": ("count",),
    "mass": ("mass",), "area": ("area",), "share": ("share",), "income": ("cny", "income"),
}
KIND_DEFAULT_UNIT = {"count": "canonical", "income": "canonical", "share": "by_magnitude"}
# words that qualify a yearbook item without changing it
QUALIFIERS = ("当年价格", "当年价", "现价", "按当年价格计算")
_YEAR = re.compile(r"^(19[5-9]\d|20\d\d)年?$")
_PUNCT = re.compile(r"[\s_、，,·/\\\-（）()\[\]【】:：'\"“”]+")


@dataclass(frozen=True)
class ParsedHeader:
    text: str           # the header as given
    core: str           # the item name without scope, unit, qualifiers and punctuation
    scopes: tuple[str, ...]
    unit: str | None
    year: int | None


def _clean(text: object) -> str:
    s = unicodedata.normalize("NFKC", str(text))
    s = re.sub(r"_x000[dD]_", "", s)
    return s.strip()


def _compact(text: str) -> str:
    return _PUNCT.sub("", text).lower()


def parse_header(header: object) -> ParsedHeader:
    """Split a header into core name, scopes, unit and year (see module docstring)."""
    text = _clean(header)
    work = text
    unit = None
    year = None
    # bracketed parts: a unit, a qualifier, a scope, or part of the name (烟(粉)尘)
    for inner in re.findall(r"\(([^()]*)\)", work):
        token = inner.strip()
        if token in UNITS:
            unit = unit or token
            work = work.replace(f"({inner})", "_", 1)
        elif token in QUALIFIERS:
            work = work.replace(f"({inner})", "_", 1)
        elif token in SCOPES:
            work = work.replace(f"({inner})", f"_{token}_", 1)
        else:
            work = work.replace(f"({inner})", inner, 1)
    pieces = [p for p in re.split(r"[_\s]+", work) if p]
    core_parts: list[str] = []
    scopes: list[str] = []
    for piece in pieces:
        if piece in UNITS and unit is None and core_parts:
            unit = piece
        elif piece in QUALIFIERS:
            continue
        elif piece in SCOPES:
            scopes.append(SCOPES[piece])
        elif _YEAR.match(piece):
            year = int(piece[:4])
        else:
            core_parts.append(piece)
    core = "".join(core_parts)
    # a scope glued inside the name (Stata: 年末总人口全市万人; merged cells: ...市辖区...全市)
    for word, scope in SCOPES.items():
        if word in core and len(core) > len(word):
            # 全市 inside a longer name counts only at the end or before a unit (全市场 is not a scope)
            if core.endswith(word) or any(core.endswith(word + u) for u in UNITS) or word == "市辖区":
                scopes.append(scope)
                core = core.replace(word, "")
    for q in QUALIFIERS:
        core = core.replace(q, "")
    year_prefix = re.match(r"^(19[5-9]\d|20\d\d)年(.+)$", core)
    if year_prefix and year is None:
        year, core = int(year_prefix.group(1)), year_prefix.group(2)
    return ParsedHeader(text=text, core=_compact(core), scopes=tuple(dict.fromkeys(scopes)), unit=unit, year=year)


@dataclass
class IndicatorEntry:
    id: str
    en: str
    zh: str
    unit: str
    kind: str
    headers: list[tuple[str, str]]          # (header as seen, source keys)
    cores: set[str] = field(default_factory=set)


@dataclass
class HeaderDictionary:
    indicators: dict[str, IndicatorEntry]
    sources: dict[str, str]
    by_core: dict[str, set[str]]            # core -> indicator ids

    def variants(self) -> dict[str, int]:
        """Number of header forms listed per indicator (for the closing note / docs)."""
        return {i: len(e.headers) for i, e in self.indicators.items()}


@lru_cache(maxsize=1)
def load_dictionary() -> HeaderDictionary:
    """The shipped header dictionary, each listed header reduced to its core."""
    text = resources.files("pilotdid.data").joinpath("dictionary/yearbook_headers.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    indicators: dict[str, IndicatorEntry] = {}
    by_core: dict[str, set[str]] = {}
    for item in raw["indicator"]:
        entry = IndicatorEntry(id=item["id"], en=item["en"], zh=item["zh"], unit=item["unit"], kind=item["kind"],
                               headers=[(h, s) for h, s in item.get("headers", [])])
        names = [entry.zh, entry.en, entry.id] + [h for h, _ in entry.headers]
        for name in names:
            parsed = parse_header(name)
            core = parsed.core
            if parsed.unit is None:  # a listed Stata-style header with its unit glued on: register the bare name
                for u in sorted(UNITS, key=len, reverse=True):
                    if core.endswith(u.lower()) and len(core) - len(u) >= 2:
                        core = core[: -len(u)]
                        break
            if core:
                entry.cores.add(core)
        indicators[entry.id] = entry
        for core in entry.cores:
            by_core.setdefault(core, set()).add(entry.id)
    return HeaderDictionary(indicators=indicators, sources=dict(raw.get("sources", {})), by_core=by_core)


@dataclass
class Recognised:
    """A header recognised as one indicator (``ids`` has one element), as several (ambiguous), or none."""

    header: ParsedHeader
    ids: tuple[str, ...]
    unit: str | None
    matched_core: str | None


def recognise(header: object, dictionary: HeaderDictionary | None = None) -> Recognised:
    """The dictionary indicators a header names. A unit glued to the end of the name (Stata's import drops the
    brackets: ``年末金融机构各项贷款余额万元``) is split off when the rest is a known core. A header naming two
    indicators (merged cells: ``…贷款余额市辖区城乡居民储蓄年末余额全市``) returns both ids (ambiguous)."""
    d = dictionary or load_dictionary()
    parsed = parse_header(header)
    core, unit = parsed.core, parsed.unit
    ids = d.by_core.get(core)
    if not ids and unit is None:
        for u in sorted(UNITS, key=len, reverse=True):
            if core.endswith(u.lower()) and core[: -len(u)] in d.by_core:
                core, unit = core[: -len(u)], u
                ids = d.by_core[core]
                break
    if ids:
        return Recognised(parsed, tuple(sorted(ids)), unit, core)
    # no exact match: does the header contain two or more known names? (longest first, non-overlapping)
    found: list[str] = []
    rest = core
    for known in sorted(d.by_core, key=len, reverse=True):
        if len(known) >= 4 and known in rest:
            found.extend(sorted(d.by_core[known]))
            rest = rest.replace(known, "|")
    found = list(dict.fromkeys(found))
    if len(found) >= 2:
        return Recognised(parsed, tuple(found), unit, None)
    return Recognised(parsed, (), unit, None)


def conversion_factor(unit: str, canonical: str) -> tuple[float, str | None]:
    """Multiplier from ``unit`` to ``canonical`` within one dimension, and the currency conversion still needed
    ("usd->cny" or "cny->usd", applied per year by the caller) or None."""
    dim_in, f_in = UNITS[unit]
    dim_out, f_out = UNITS[canonical]
    if dim_in == dim_out or {dim_in, dim_out} <= {"cny", "income"}:
        return f_in / f_out, None
    if (dim_in, dim_out) == ("usd", "cny"):
        return f_in / f_out, "usd->cny"
    if (dim_in, dim_out) == ("cny", "usd"):
        return f_in / f_out, "cny->usd"
    raise PilotdidInputError(f"unit {unit} cannot be converted to {canonical}", where="header",
                             fix=f"give the column in a {dim_out} unit")
