"""Sample restrictions for robustness checks, each returning what it dropped.

Every helper returns a :class:`SampleCut`: the subset and the counts of dropped rows and units,
so the report can say exactly what changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError

#: a specification-curve sample that drops periods: drop_YYYY or drop_YYYY_YYYY (first and last period dropped)
DROP_PERIODS_SAMPLE = re.compile(r"^drop_(\d{4})(?:_(\d{4}))?$")


@dataclass
class SampleCut:
    frame: pd.DataFrame
    description: str
    dropped_rows: int
    dropped_units: int
    dropped_treated_units: int | None = None

    def note(self) -> str:
        extra = (f", {self.dropped_treated_units} of them treated" if self.dropped_treated_units is not None else "")
        return (f"{self.description}: {self.dropped_rows} rows of {self.dropped_units} unit(s) dropped{extra}; "
                f"{len(self.frame)} rows remain")


def _treated_units(frame: pd.DataFrame, unit: str, first_treat: str | None) -> set:
    if not first_treat or first_treat not in frame.columns:
        return set()
    return set(frame.loc[pd.to_numeric(frame[first_treat], errors="coerce").fillna(0) > 0, unit])


def drop_flagged_units(
    data: pd.DataFrame, unit: str, flag: str | pd.Series, *, description: str, first_treat: str | None = None,
) -> SampleCut:
    """Drop every unit whose boolean ``flag`` (a column name or a Series aligned with ``data``) is
    true in any row (e.g. municipalities and provincial capitals)."""
    if isinstance(flag, str):
        if flag not in data.columns:
            raise PilotdidInputError(f"column {flag!r} not in the panel", where=description,
                                     fix="add a boolean column marking the units to drop")
        flag = data[flag]
    flag = flag.reindex(data.index)
    if flag.isna().any():
        raise PilotdidInputError(f"flag has {int(flag.isna().sum())} missing value(s)", where=description,
                                 fix="mark every unit true or false")
    flagged_units = set(data.loc[flag.astype(bool).to_numpy(), unit])
    drop = data[unit].isin(flagged_units).to_numpy()
    treated = _treated_units(data, unit, first_treat)
    return SampleCut(frame=data.loc[~drop], description=description, dropped_rows=int(drop.sum()),
                     dropped_units=len(flagged_units),
                     dropped_treated_units=len(flagged_units & treated) if first_treat else None)


def drop_periods(
    data: pd.DataFrame, time: str, periods: Iterable, *, unit: str | None = None, description: str | None = None,
) -> SampleCut:
    """Drop the rows of the given periods (e.g. 2020–2021, the COVID years)."""
    periods = list(periods)
    drop = data[time].isin(periods).to_numpy()
    gone_units = 0
    if unit is not None:
        gone_units = int(np.setdiff1d(data[unit].unique(), data.loc[~drop, unit].unique()).size)
    return SampleCut(frame=data.loc[~drop], description=description or f"periods {periods} dropped",
                     dropped_rows=int(drop.sum()), dropped_units=gone_units)
