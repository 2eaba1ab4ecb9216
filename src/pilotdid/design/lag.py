"""Lagged treatment (Stata's ``L.did``) with the sample loss reported.

Time-series semantics, as Stata's ``L.`` operator after ``xtset unit time``: the lag at period t
is the value at period t − k of the same unit; when that period is not in the panel (the first
year, or a gap) the lag is missing and the row drops out of the regression. Every lost row is
counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pilotdid.errors import PilotdidInputError


@dataclass
class LagReport:
    """Rows before/after and why rows were lost."""

    column: str
    lag_column: str
    periods: int
    rows_before: int
    rows_with_lag: int
    rows_lost: int
    units_affected: int

    def note(self) -> str:
        return (f"{self.lag_column}: {self.column} lagged {self.periods} period(s) within unit (Stata L. semantics); "
                f"{self.rows_lost} of {self.rows_before} rows have no lagged value (first period(s) or gaps) and "
                f"drop out, leaving {self.rows_with_lag}")


def lag_column(
    data: pd.DataFrame, unit: str, time: str, column: str, periods: int = 1, name: str | None = None,
) -> tuple[pd.DataFrame, LagReport]:
    """Copy of ``data`` with ``name`` (default ``L{periods}_{column}``) holding the lagged values."""
    for c in (unit, time, column):
        if c not in data.columns:
            raise PilotdidInputError(f"lag: column {c!r} not in the panel", where="lag", fix="check the column names")
    if periods < 1:
        raise PilotdidInputError(f"lag periods must be >= 1, got {periods}", where="lag", fix="e.g. periods = 1")
    name = name or f"L{periods}_{column}"
    if data.duplicated([unit, time]).any():
        raise PilotdidInputError("lag: duplicate (unit, time) rows", where="lag", fix="one row per unit and period")
    source = data[[unit, time, column]].copy()
    source[time] = source[time] + periods
    source = source.rename(columns={column: name})
    out = data.drop(columns=[name], errors="ignore").merge(source, on=[unit, time], how="left", validate="one_to_one")
    out.index = data.index
    lost = out[name].isna() & data[column].notna()
    report = LagReport(column=column, lag_column=name, periods=periods, rows_before=len(data),
                       rows_with_lag=int(out[name].notna().sum()), rows_lost=int(out[name].isna().sum()),
                       units_affected=int(data.loc[lost.to_numpy(), unit].nunique()))
    return out, report
