"""Checks shared by every index builder: the panel holds the system's columns, numeric, complete, with range."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.measures.system import Indicator, IndicatorSystem, load_indicator_system

_SHOW = 3  # how many offending (unit, time) cells a message lists
MISSING_RULES = ("error", "drop_rows", "drop_indicators")


@dataclass
class PreparedPanel:
    """The indicator matrix of a panel, checked; columns are indicator names, rows follow the input."""

    values: pd.DataFrame
    indicators: list[Indicator]
    system: IndicatorSystem
    unit: str
    time: str
    keys: pd.DataFrame  # unit and time columns, aligned with values (rows dropped for missing cells excluded)
    notes: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)  # indicator -> why it was dropped


def resolve_system(system: IndicatorSystem | str | Path) -> IndicatorSystem:
    return system if isinstance(system, IndicatorSystem) else load_indicator_system(system)


def prepare(
    panel: pd.DataFrame,
    system: IndicatorSystem,
    *,
    unit: str | None,
    time: str | None,
    by_time: bool,
    drop_constant: bool,
    where: str = "panel",
    fill_mask: pd.DataFrame | None = None,
    missing: str = "error",
) -> PreparedPanel:
    """Select, check and return the indicator matrix; raise PilotdidInputError naming the culprit.

    ``missing``: ``"error"`` (default), ``"drop_rows"`` (rows with a missing cell get no index value; counted in
    the notes) or ``"drop_indicators"`` (indicators with a missing cell are dropped; named in the notes).
    """
    if missing not in MISSING_RULES:
        raise PilotdidInputError(f"unknown missing-value rule '{missing}'", where="missing", fix=f"use one of: {', '.join(MISSING_RULES)}")
    dropped_missing: dict[str, str] = {}
    if not isinstance(panel, pd.DataFrame) or panel.empty:
        raise PilotdidInputError("the panel has no rows", where=where, fix="pass a non-empty panel")
    if not panel.index.is_unique:
        raise PilotdidInputError("the panel's row index has duplicate labels, so results cannot be aligned to rows",
                                 where=where, fix="call panel.reset_index(drop=True) first")
    unit = unit or system.unit
    time = time or system.time
    for key, column in (("unit", unit), ("time", time)):
        if column not in panel.columns:
            raise PilotdidInputError(
                f"the {key} column '{column}' (from the indicator system's '{key}' key) is not in the panel",
                where=where, fix=f"set {key} in {system.path or 'the indicator system'} or pass {key}=... ; "
                f"the panel's columns start: {', '.join(map(str, panel.columns[:12]))}",
            )
    keys = panel[[unit, time]]
    duplicated = keys.duplicated(keep=False)
    if duplicated.any():
        first = keys[duplicated].iloc[0]
        raise PilotdidInputError(
            f"{int(duplicated.sum())} rows share a ({unit}, {time}) key, e.g. ({first[unit]}, {first[time]})",
            where=where, fix="a panel has one row per unit and period; remove the duplicates",
        )

    notes: list[str] = []
    skipped = [ind for ind in system.indicators if ind.status == "unavailable"]
    if skipped:
        published = [ind.published_weight for ind in skipped if ind.published_weight is not None]
        share = f"; their published weights sum to {sum(published):.4f}" if published else ""
        notes.append(
            f"{len(skipped)} of {len(system.indicators)} indicators are unavailable in the data and skipped: "
            + ", ".join(_describe(ind) for ind in skipped) + share + "."
        )
    excluded = [ind for ind in system.indicators if ind.status == "excluded"]
    if excluded:
        published = [ind.published_weight for ind in excluded if ind.published_weight is not None]
        share = f"; their published weights sum to {sum(published):.4f}" if published else ""
        notes.append(
            f"{len(excluded)} of {len(system.indicators)} indicators are excluded on purpose: "
            + ", ".join(f"{_describe(ind)}: {ind.proxy_note}" for ind in excluded) + share + "."
        )
    proxies = [ind for ind in system.used if ind.status == "proxy"]
    for ind in proxies:
        notes.append(f"proxy: {ind.display} is measured by panel column '{ind.column}' ({ind.proxy_note}).")

    used = system.used
    columns: dict[str, pd.Series] = {}
    for ind in used:
        if ind.column not in panel.columns:
            raise PilotdidInputError(
                f"indicator '{ind.name}' needs panel column '{ind.column}', which is not in the panel",
                where=where, fix=f"add the column, set panel_variable, or mark the indicator status = \"unavailable\" in {system.path or 'the system'}",
            )
        columns[ind.name] = _numeric(panel[ind.column], ind, where)
    values = pd.DataFrame(columns, index=panel.index)

    missing_rule = missing
    missing = values.isna()
    if missing.any().any():
        if missing_rule == "drop_indicators":
            counts = missing.sum()
            gone = [name for name in values.columns if counts[name] > 0]
            if len(gone) == len(values.columns):
                raise PilotdidInputError("every available indicator has missing cells", where=where,
                                         fix='fill them upstream or use missing = "drop_rows"')
            values = values.drop(columns=gone)
            used = [ind for ind in used if ind.name not in gone]
            for name in gone:
                dropped_missing[name] = f"{int(counts[name])} missing cells"
            notes.append(
                "WARNING: dropped for missing cells (missing=\"drop_indicators\"): "
                + ", ".join(f"{name} ({int(counts[name])} of {len(values)} cells missing)" for name in gone) + "."
            )
        elif missing_rule == "drop_rows":
            incomplete = missing.any(axis=1).to_numpy()
            per_indicator = missing.sum()
            cells = ", ".join(f"({u}, {t})" for u, t in keys[incomplete].head(_SHOW).itertuples(index=False))
            per_time = keys[incomplete].groupby(time).size()
            notes.append(
                f"WARNING: {int(incomplete.sum())} of {len(values)} {unit}-{time} rows have missing cells and get no index "
                f"value (missing=\"drop_rows\"), e.g. {cells}; missing cells per indicator: "
                + ", ".join(f"{n} {int(c)}" for n, c in per_indicator.items() if c > 0)
                + "; dropped rows per " + time + ": " + ", ".join(f"{k} {int(v)}" for k, v in per_time.items()) + "."
            )
            values = values[~incomplete]
            keys = keys[~incomplete]
            if len(values) < 2:
                raise PilotdidInputError("fewer than two complete rows remain after dropping rows with missing cells",
                                         where=where, fix="fill the panel upstream or drop indicators with poor coverage")
        else:
            name = missing.any().idxmax()
            bad = missing[name].to_numpy()
            cells = ", ".join(f"({u}, {t})" for u, t in keys[bad].head(_SHOW).itertuples(index=False))
            total = int(missing.to_numpy().sum())
            raise PilotdidInputError(
                f"indicator '{name}' (column '{system.get(name).column}') has {int(bad.sum())} missing cells, "
                f"first at ({unit}, {time}) {cells}; {total} missing cells across all indicators",
                where=where, fix="fill them upstream (e.g. interpolation, reported in the panel's fill mask), drop those rows, "
                'or pass missing="drop_rows" / "drop_indicators" to drop them with a note',
            )

    if fill_mask is not None:
        notes.extend(_fill_notes(fill_mask, panel.loc[values.index], used, unit, time))

    dropped: dict[str, str] = dict(dropped_missing)
    groups = [values] if not by_time else [g for _, g in values.groupby(keys[time].to_numpy(), sort=True)]
    for frame in groups:
        if len(frame) < 2:
            period = keys.loc[frame.index[0], time]
            raise PilotdidInputError(
                f"only one observation in {time} {period}", where=where,
                fix="by-year pooling needs at least two units per period; use pooling = \"pooled\"",
            )
    for name in list(values.columns):
        for frame in groups:
            column = frame[name].to_numpy()
            if name in dropped:
                break
            if column.max() - column.min() == 0:
                scope = "over the whole panel" if not by_time else f"in {time} {keys.loc[frame.index[0], time]}"
                if not drop_constant:
                    raise PilotdidInputError(
                        f"indicator '{name}' has zero range {scope} (every value is {column[0]:g}); "
                        "min-max standardisation is undefined",
                        where=where, fix="remove the indicator, or pass drop_constant=True to drop it with a note",
                    )
                dropped[name] = f"zero range {scope}"
                break
    constant = {name: why for name, why in dropped.items() if name not in dropped_missing}
    if constant:
        values = values.drop(columns=list(constant))
        used = [ind for ind in used if ind.name not in constant]
        notes.append(
            "WARNING: dropped for zero range (drop_constant=True): "
            + "; ".join(f"{name} ({why})" for name, why in constant.items()) + "."
        )
        if not used:
            raise PilotdidInputError("every available indicator has zero range", where=where, fix="check the panel")
    return PreparedPanel(values=values, indicators=used, system=system, unit=unit, time=time, keys=keys,
                         notes=notes, dropped=dropped)


def _describe(ind: Indicator) -> str:
    weight = f" (published weight {ind.published_weight:.4f})" if ind.published_weight is not None else ""
    return f"{ind.display}{weight}"


def _numeric(series: pd.Series, ind: Indicator, where: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    if pd.api.types.is_numeric_dtype(series):
        out = series.astype(float)
    else:
        out = pd.to_numeric(series, errors="coerce")
        bad = out.isna() & series.notna() & (series.astype(str).str.strip() != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise PilotdidInputError(
                f"indicator '{ind.name}' (column '{ind.column}') has a non-numeric cell {series.iloc[row]!r} "
                f"at data row {row + 1} ({int(bad.sum())} such cells)",
                where=where, fix="fix or blank those cells",
            )
    infinite = np.isinf(out.to_numpy())
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise PilotdidInputError(
            f"indicator '{ind.name}' (column '{ind.column}') has {int(infinite.sum())} infinite values, first at data row {row + 1}",
            where=where, fix="check the ratio that produced them (division by zero?)",
        )
    return out


def _fill_notes(mask: pd.DataFrame, panel: pd.DataFrame, used: list[Indicator], unit: str, time: str) -> list[str]:
    """Count the cells of the used indicators that were filled upstream (True in the fill mask).

    The mask is either aligned with the panel's index, or carries the unit and time columns to merge on; its
    other columns are panel column names holding True where a value was filled (interpolated).
    """
    if unit in mask.columns and time in mask.columns:
        aligned = panel[[unit, time]].merge(mask, on=[unit, time], how="left", validate="one_to_one")
        aligned.index = panel.index
    else:
        aligned = mask.reindex(panel.index)
    counts = {}
    for ind in used:
        if ind.column in aligned.columns:
            filled = aligned[ind.column].fillna(False).astype(bool)
            if filled.any():
                counts[ind.name] = int(filled.sum())
    if not counts:
        return ["fill mask: no cell of the indicators used was filled upstream."]
    return [
        f"fill mask: {sum(counts.values())} cells of the indicators used were filled upstream (interpolated), of "
        f"{len(panel) * len(used)}: " + ", ".join(f"{name} {n}" for name, n in counts.items()) + "."
    ]
