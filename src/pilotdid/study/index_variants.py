"""The study's outcome index under another indicator set or window (``[index.alternatives.NAME]``), and the
coverage of an indicator system's published indicators in a panel.

An alternative is the study's ``[index]`` with some keys replaced::

    [index.alternatives.nine]
    label = "9 of 17 indicators (adds education expenditure and smoke/dust), 2012-2017"
    exclude = ["unemployment_rate", "trade_dependence", "urban_disposable_income"]   # replaces [index] exclude
    years = [2012, 2017]                                                             # inside [data] years

Its index is rebuilt on the study's panel restricted to ``years`` (weights re-estimated there), then aligned with
the study's sample: rows outside the window, rows where the index is missing and units without every period of
the window (when ``[data] balance = true``) get no value, and each count is reported. The study's own index stays
the main one; alternatives are shown beside it (``[analyses.index_systems]``) and can be varied in the
specification curve (``[analyses.multiverse] index_system``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError

STUDY = "study"
ALTERNATIVE_KEYS = {"label", "exclude", "exclude_reason", "years", "system"}


@dataclass
class IndexVariant:
    """An index variant aligned with ``ctx.panel`` (NaN where the row is not in the variant's sample)."""

    name: str
    label: str
    values: pd.Series
    years: tuple[int, int]
    indicators: list[str]
    published_share: float | None
    notes: list[str] = field(default_factory=list)


def alternatives(spec) -> dict[str, dict[str, Any]]:
    """The study file's ``[index.alternatives]``, validated (empty when there is none)."""
    index = getattr(spec, "index", None) or {}
    alts = index.get("alternatives", {}) or {}
    where = f"{spec.path or 'study file'} [index.alternatives]"
    if not isinstance(alts, dict):
        raise PilotdidInputError("[index] alternatives must be a table of named tables", where=where,
                                 fix="write [index.alternatives.NAME] with label, exclude, years")
    for name, alt in alts.items():
        if name == STUDY or not isinstance(alt, dict):
            raise PilotdidInputError(f"alternative {name!r} must be a table and not be called {STUDY!r}", where=where,
                                     fix="write [index.alternatives.NAME] with label, exclude, years")
        unknown = sorted(set(alt) - ALTERNATIVE_KEYS)
        if unknown:
            raise PilotdidInputError(f"unknown key {unknown[0]!r} in alternative {name!r}", where=where,
                                     fix=f"use only: {', '.join(sorted(ALTERNATIVE_KEYS))}")
        years = alt.get("years")
        if years is not None and (not isinstance(years, list) or len(years) != 2
                                  or not all(isinstance(y, int) and not isinstance(y, bool) for y in years)
                                  or years[0] > years[1]):
            raise PilotdidInputError(f"years of alternative {name!r} must be [first, last], got {years!r}", where=where,
                                     fix="write years = [2012, 2017]")
    return alts


def study_system(spec, columns, *, system_ref: str | None = None, exclude: list[str] | None = None,
                 exclude_reason: str | None = None):
    """The study's indicator system after ``exclude`` (default: ``[index] exclude``) and, with ``[index] absent =
    "exclude"``, after leaving out every used indicator whose panel column is missing (reason named)."""
    from pilotdid.measures.system import load_indicator_system

    own = spec.index
    ref = system_ref or own["system"]
    system = load_indicator_system(spec.resolve(ref) if ref.endswith(".toml") else ref)
    exclude = own.get("exclude", []) if exclude is None else exclude
    if exclude:
        system = system.exclude(exclude, reason=exclude_reason or own.get("exclude_reason", "excluded by the study file"))
    if own.get("absent", "error") == "exclude":
        # the panel decides: an indicator the system marks unavailable (in the public data) or proxied is used as
        # itself when the panel carries a column of its own name (e.g. a yearbook file's patents granted)
        from dataclasses import replace

        columns = set(columns)
        excluded_on_purpose = set(exclude)
        system = replace(system, indicators=[
            replace(ind, status="available", panel_variable=None, proxy_note=None)
            if ind.status in ("unavailable", "proxy") and ind.name in columns and ind.name not in excluded_on_purpose
            else ind
            for ind in system.indicators])
        missing = [ind.name for ind in system.indicators if ind.used and ind.column not in columns]
        if missing and len(missing) == sum(ind.used for ind in system.indicators):
            raise PilotdidInputError(
                f"the panel has none of the {system.name} indicators ({', '.join(missing)})", where="[index]",
                fix="add at least one indicator column (pilotdid data headers lists the yearbook names it reads)")
        if missing:
            system = system.exclude(missing, reason="not in the panel file")
    return system


def _raw_panel(ctx) -> pd.DataFrame:
    from pilotdid.study.load import read_panel

    cache = ctx.extras.setdefault("_index_variants", {})
    if "raw" not in cache:
        spec = ctx.extras["spec"]
        raw = ctx.extras.get("raw_panel")
        if raw is None:
            raw = read_panel(spec.resolve(spec.data["panel"]), spec.data.get("sheet"), text_columns=[spec.data["unit"]])
        raw = raw.copy()
        raw[ctx.time] = pd.to_numeric(raw[ctx.time], errors="coerce")
        cache["raw"] = raw
    return cache["raw"]


def variant_index(ctx, name: str, *, years: tuple[int, int] | None = None, method: str | None = None,
                  pooling: str | None = None) -> IndexVariant:
    """The study's index (``name = "study"``) or one of its alternatives, rebuilt on ``years`` (default: the
    alternative's years, else the study's) with ``method``/``pooling`` (default: the study's) and aligned with
    ``ctx.panel``. Cached per (name, years, method, pooling)."""
    from pilotdid.measures import build_index

    spec = ctx.extras["spec"]
    own = spec.index
    alts = alternatives(spec)
    if name != STUDY and name not in alts:
        raise PilotdidInputError(f"unknown index system {name!r}", where="[index.alternatives]",
                                 fix=f"use one of: {', '.join([STUDY, *alts])}")
    alt = alts.get(name, {})
    study_years = tuple(spec.data.get("years") or (int(ctx.panel[ctx.time].min()), int(ctx.panel[ctx.time].max())))
    window = tuple(years or alt.get("years") or study_years)
    cache = ctx.extras.setdefault("_index_variants", {})
    method = method or own["method"]
    pooling = pooling or own["pooling"]
    key = ("variant", name, window, method, pooling)
    if key in cache:
        return cache[key]
    column = ctx.extras.get("index_column") or own["column"]
    notes: list[str] = []
    system = study_system(spec, _raw_panel(ctx).columns, system_ref=alt.get("system"), exclude=alt.get("exclude"),
                          exclude_reason=alt.get("exclude_reason"))
    if name == STUDY and window == study_years and (method, pooling) == (own["method"], own["pooling"]):
        values = ctx.panel[column].astype(float)
    else:
        raw = _raw_panel(ctx)
        raw = raw.loc[raw[ctx.time].between(*window)].copy()
        raw[ctx.time] = raw[ctx.time].astype(int)
        opts = {k: own[k] for k in ("shift", "drop_constant", "missing") if k in own}
        result = build_index(raw, system, method=method, pooling=pooling, unit=ctx.unit, time=ctx.time, **opts)
        lookup = pd.Series(np.asarray(result.index, dtype=float),
                           index=pd.MultiIndex.from_arrays([raw[ctx.unit], raw[ctx.time]]))
        keys = pd.MultiIndex.from_arrays([ctx.panel[ctx.unit], ctx.panel[ctx.time]])
        values = pd.Series(lookup.reindex(keys).to_numpy(), index=ctx.panel.index)
        outside = ~ctx.panel[ctx.time].between(*window)
        values[outside] = np.nan
        missing = int((values.isna() & ~outside).sum())
        if missing:
            notes.append(f"{missing} sample rows inside {window[0]}-{window[1]} have no value of this index (an indicator missing).")
        if spec.data.get("balance", False):
            periods = ctx.panel.loc[~outside, ctx.time].nunique()
            have = values.notna().groupby(ctx.panel[ctx.unit]).sum()
            short = have.index[have < periods]
            if len(short):
                notes.append(f"{len(short)} units without this index in every year of {window[0]}-{window[1]} left out (balanced panel).")
                values[ctx.panel[ctx.unit].isin(short)] = np.nan
    used = [ind for ind in system.indicators if ind.used]
    published = [ind.published_weight for ind in system.indicators if ind.published_weight is not None]
    share = (sum(ind.published_weight or 0.0 for ind in used) / sum(published)) if published else None
    from pilotdid.i18n import msg

    label = alt.get("label") or (msg("table.index_systems.study_label", getattr(ctx, "lang", "en"), n=len(used))
                                 if name == STUDY else name)
    variant = IndexVariant(name=name, label=label, values=values, years=(int(window[0]), int(window[1])),
                           indicators=[ind.name for ind in used], published_share=share, notes=notes)
    cache[key] = variant
    return variant


#: the coverage table's columns of running text (dimension, indicator, why it is or is not in the index): the
#: Table's ``wrap_columns``
COVERAGE_TEXT_COLUMNS = (0, 1, 7)


def indicator_coverage(raw: pd.DataFrame, system, used_system, *, unit: str, time: str,
                       window: tuple[int, int] | None, lang: str = "en",
                       unit_noun: str | dict = "unit") -> tuple[pd.DataFrame, list[str]]:
    """One row per indicator of ``system`` (the full published list): published weight, the panel column,
    whether the panel has it and for which years, cities per year in the study window, whether this run's index
    uses it, and the share of the published weight. ``used_system`` is the system after the study's exclusions.
    The units are named as the study names them (``[study] unit_noun``)."""
    from pilotdid.i18n import messages, unit_words

    words = unit_words(unit_noun, lang)
    m = {**messages("table.indicator_coverage", lang)}
    m["cities"], m["note"] = m["cities"].format(**words), m["note"].format(**words)
    rows = []
    total = sum(ind.published_weight or 0.0 for ind in system.indicators)
    used_names = {ind.name for ind in used_system.indicators if ind.used}
    used_by_name = {ind.name: ind for ind in used_system.indicators}
    for ind in system.indicators:
        used_ind = used_by_name.get(ind.name)
        column = (used_ind.column if used_ind is not None and used_ind.used else None) or ind.panel_variable or ind.name
        present = column in raw.columns and pd.to_numeric(raw[column], errors="coerce").notna().any()
        years_text, cities_text = "\u2014", "\u2014"
        if present:
            values = pd.to_numeric(raw[column], errors="coerce")
            per_year = values.notna().groupby(raw[time]).sum()
            per_year = per_year[per_year > 0]
            yrs = [int(y) for y in per_year.index]
            years_text = _year_ranges(yrs)
            if window is not None:
                inside = per_year[(per_year.index >= window[0]) & (per_year.index <= window[1])]
                cities_text = (f"{int(inside.min())}\u2013{int(inside.max())}" if len(inside) and inside.min() != inside.max()
                               else (str(int(inside.max())) if len(inside) else "0"))
        status = used_system.get(ind.name).status if ind.name in {i.name for i in used_system.indicators} else ind.status
        in_index = ind.name in used_names
        if in_index:
            use = m["proxy"] if status == "proxy" else m["yes"]
        elif not present:
            use = m["not_in_data"]
        else:
            reason = used_system.get(ind.name).proxy_note or status
            use = m["excluded_because"].format(reason=messages("phrase", lang).get(reason, reason))
        label = (ind.label_zh if lang == "zh" else None) or ind.label or ind.name
        rows.append({
            m["dimension"]: ind.dimension.replace("_", " & "),
            m["indicator"]: label,
            m["paper_weight"]: ind.published_weight,
            m["variable"]: column,
            m["in_data"]: m["yes"] if present else m["no"],
            m["years"]: years_text,
            m["cities"]: cities_text,
            m["in_index"]: use,
            m["share"]: (ind.published_weight or 0.0) / total if total and in_index else 0.0,
        })
    table = pd.DataFrame(rows)
    have = sum(w for w, present in zip(table[m["paper_weight"]].fillna(0.0), table[m["in_data"]] == m["yes"])
               if present) / total if total else float("nan")
    notes = [
        m["summary"].format(present=int((table[m["in_data"]] == m["yes"]).sum()), total=len(table), have=have,
                            used=len(used_names), used_share=float(table[m["share"]].sum())),
        m["note"],
    ]
    return table, notes


def _year_ranges(years: list[int]) -> str:
    if not years:
        return "\u2014"
    parts, start, prev = [], years[0], years[0]
    for y in years[1:] + [None]:
        if y is not None and y == prev + 1:
            prev = y
            continue
        parts.append(f"{start}\u2013{prev}" if prev != start else str(start))
        if y is not None:
            start = prev = y
    return ", ".join(parts)
