"""Indicator systems as data: which panel columns make up a composite index, in which dimension, with which sign.

An indicator system is a small TOML file (see ../shared/docs/interface.md)::

    unit = "city"
    time = "year"
    [[indicator]]
    name = "gdp_per_capita"      # a column of the panel (or give panel_variable)
    dimension = "resistance"
    sign = "+"                   # "+" benefit, "-" cost

Optional keys, top level: ``name``, ``title``, ``source``, ``description``.
Optional keys per indicator: ``label``, ``label_zh``, ``panel_variable`` (the panel column when it differs from
``name``), ``published_weight`` (a weight printed in a paper, shown beside ours, never used in computing),
``status`` = ``"available"`` (default) | ``"unavailable"`` (skipped, listed in the notes) | ``"proxy"`` (used, but
the panel column only stands in for the published indicator; ``proxy_note`` must say how). A fourth status,
``"excluded"``, is set only by :meth:`IndicatorSystem.exclude` (left out on purpose, e.g. for coverage).

The systems the package ships live in ``pilotdid/measures/systems/`` and load by their stem
(``load_indicator_system("cbec_resilience")``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from pilotdid.errors import PilotdidInputError

SYSTEMS_DIR = Path(__file__).with_name("systems")
STATUSES = ("available", "unavailable", "proxy")
_SIGNS = {"+": "+", "-": "-", "\u2212": "-"}  # the Unicode minus appears in spreadsheets and papers
_TOP_KEYS = {"unit", "time", "indicator", "name", "title", "source", "description"}
_INDICATOR_KEYS = {
    "name", "dimension", "sign", "label", "label_zh", "panel_variable", "published_weight", "status", "proxy_note",
}


@dataclass(frozen=True)
class Indicator:
    """One indicator of a system. ``column`` is the panel column it reads (None when unavailable)."""

    name: str
    dimension: str
    sign: str
    label: str | None = None
    label_zh: str | None = None
    panel_variable: str | None = None
    published_weight: float | None = None
    status: str = "available"
    proxy_note: str | None = None

    @property
    def column(self) -> str | None:
        if not self.used:
            return None
        return self.panel_variable or self.name

    @property
    def used(self) -> bool:
        return self.status in ("available", "proxy")

    @property
    def display(self) -> str:
        return self.label or self.name


@dataclass
class IndicatorSystem:
    """An ordered list of indicators plus the panel's unit and time column names."""

    unit: str
    time: str
    indicators: list[Indicator]
    name: str = "index"
    title: str | None = None
    source: str | None = None
    description: str | None = None
    path: str | None = None

    @property
    def used(self) -> list[Indicator]:
        """Indicators that enter the index (status available or proxy)."""
        return [ind for ind in self.indicators if ind.used]

    @property
    def unavailable(self) -> list[Indicator]:
        """Indicators not used: unavailable in the data or excluded."""
        return [ind for ind in self.indicators if not ind.used]

    @property
    def dimensions(self) -> list[str]:
        """Dimension names in first-appearance order."""
        return list(dict.fromkeys(ind.dimension for ind in self.indicators))

    def exclude(self, names: list[str] | tuple[str, ...], reason: str) -> IndicatorSystem:
        """A copy in which ``names`` get status ``"excluded"`` (not used), with ``reason`` as their note (e.g. poor
        coverage in the chosen years). Unknown names are an error."""
        unknown = [n for n in names if n not in {ind.name for ind in self.indicators}]
        if unknown:
            raise PilotdidInputError(f"unknown indicator '{unknown[0]}'", where=self.path or self.name,
                                     fix=f"use one of: {', '.join(ind.name for ind in self.indicators)}")
        indicators = [
            replace(ind, status="excluded", proxy_note=reason) if ind.name in names else ind for ind in self.indicators
        ]
        if not any(ind.used for ind in indicators):
            raise PilotdidInputError("excluding these leaves no indicator", where=self.path or self.name, fix="exclude fewer")
        return replace(self, indicators=indicators)

    def get(self, name: str) -> Indicator:
        for ind in self.indicators:
            if ind.name == name:
                return ind
        raise KeyError(name)


def builtin_systems() -> list[str]:
    """Stems of the indicator systems shipped with the package."""
    return sorted(p.stem for p in SYSTEMS_DIR.glob("*.toml"))


def load_indicator_system(source: str | Path) -> IndicatorSystem:
    """Read and validate an indicator system from a TOML file or a builtin name (e.g. ``"cbec_resilience"``).

    Every problem raises :class:`PilotdidInputError` naming the file, the indicator and the key.
    """
    path = _resolve(source)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PilotdidInputError(f"not valid TOML ({exc})", where=str(path), fix="fix the TOML syntax") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PilotdidInputError(f"cannot read the file ({type(exc).__name__})", where=str(path), fix="check the path and encoding (UTF-8)") from None
    return system_from_dict(raw, where=str(path), stem=path.stem)


def system_from_dict(raw: dict, *, where: str = "indicator system", stem: str = "index") -> IndicatorSystem:
    """Validate an already-parsed indicator system (the body of the TOML file)."""
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise PilotdidInputError(
            f"unknown top-level key '{unknown[0]}'", where=where, fix=f"use only: {', '.join(sorted(_TOP_KEYS))}"
        )
    for key in ("unit", "time"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise PilotdidInputError(f"key '{key}' is missing or not a non-empty string", where=where,
                                     fix=f'add e.g. {key} = "{"city" if key == "unit" else "year"}" (the panel column)')
    entries = raw.get("indicator")
    if not isinstance(entries, list) or not entries:
        raise PilotdidInputError("no [[indicator]] tables", where=where, fix="add one [[indicator]] table per indicator")
    indicators: list[Indicator] = []
    seen: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        indicators.append(_indicator(entry, position, where))
        name = indicators[-1].name
        if name in seen:
            raise PilotdidInputError(f"indicator '{name}' appears twice", where=f"{where}: [[indicator]] #{position}",
                                     fix="give each indicator a unique name")
        seen.add(name)
    columns = [ind.column for ind in indicators if ind.used]
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise PilotdidInputError(f"panel column '{duplicated[0]}' is used by two indicators", where=where,
                                 fix="an indicator may enter an index once; remove the duplicate")
    if not any(ind.used for ind in indicators):
        raise PilotdidInputError("every indicator is unavailable", where=where, fix="at least one indicator must be available")
    return IndicatorSystem(
        unit=raw["unit"].strip(), time=raw["time"].strip(), indicators=indicators, name=str(raw.get("name", stem)),
        title=raw.get("title"), source=raw.get("source"), description=raw.get("description"),
        path=where,
    )


def _resolve(source: str | Path) -> Path:
    path = Path(source)
    if path.suffix.lower() == ".toml" or path.exists() or len(path.parts) > 1:
        if not path.exists():
            raise PilotdidInputError("indicator system file not found", where=str(path),
                                     fix=f"check the path, or use a builtin system: {', '.join(builtin_systems())}")
        if path.is_dir():
            raise PilotdidInputError("indicator system path is a folder", where=str(path), fix="give the .toml file")
        return path
    builtin = SYSTEMS_DIR / f"{source}.toml"
    if not builtin.exists():
        raise PilotdidInputError(f"unknown indicator system '{source}'", where="indicator system",
                                 fix=f"give a .toml file or one of: {', '.join(builtin_systems())}")
    return builtin


def _indicator(entry: object, position: int, where: str) -> Indicator:
    label = f"{where}: [[indicator]] #{position}"
    if not isinstance(entry, dict):
        raise PilotdidInputError("is not a table", where=label, fix="write each indicator as a [[indicator]] table")
    name = entry.get("name")
    if isinstance(name, str) and name.strip():
        label = f"{where}: indicator '{name.strip()}'"
    unknown = sorted(set(entry) - _INDICATOR_KEYS)
    if unknown:
        raise PilotdidInputError(f"unknown key '{unknown[0]}'", where=label, fix=f"use only: {', '.join(sorted(_INDICATOR_KEYS))}")
    for key in ("name", "dimension", "sign"):
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise PilotdidInputError(f"key '{key}' is missing or not a non-empty string", where=label,
                                     fix='every indicator needs name, dimension and sign ("+" or "-")')
    sign = _SIGNS.get(entry["sign"].strip())
    if sign is None:
        raise PilotdidInputError(f"key 'sign' is {entry['sign']!r}", where=label, fix='use "+" (benefit) or "-" (cost)')
    status = entry.get("status", "available")
    if status not in STATUSES:
        raise PilotdidInputError(f"key 'status' is {status!r}", where=label, fix=f"use one of: {', '.join(STATUSES)}")
    for key in ("label", "label_zh", "panel_variable", "proxy_note"):
        if key in entry and not isinstance(entry[key], str):
            raise PilotdidInputError(f"key '{key}' must be a string", where=label, fix="quote the value")
    if status == "proxy" and not entry.get("proxy_note", "").strip():
        raise PilotdidInputError("a proxy indicator needs 'proxy_note'", where=label,
                                 fix="say in proxy_note what the panel column stands in for and how it differs")
    weight = entry.get("published_weight")
    if weight is not None:
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0.0 <= float(weight) <= 1.0:
            raise PilotdidInputError(f"key 'published_weight' is {weight!r}", where=label, fix="give a number between 0 and 1")
        weight = float(weight)
    return Indicator(
        name=entry["name"].strip(), dimension=entry["dimension"].strip(), sign=sign,
        label=entry.get("label"), label_zh=entry.get("label_zh"),
        panel_variable=(entry.get("panel_variable") or None), published_weight=weight, status=status,
        proxy_note=entry.get("proxy_note"),
    )
