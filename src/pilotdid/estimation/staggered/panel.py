"""Shared input handling for the staggered estimators: a long panel to unit-by-period matrices.

Conventions (named, because R/Stata packages differ):
- ``first_treat`` is the first treated *period value* (a year); 0 (or missing) = never treated.
- Units whose first treated period is at or before the first period of the panel are "always
  treated": no pre-period exists for them, so the 2x2 estimators cannot use them. They are dropped
  and counted (``dropped_always_treated``), as R ``did`` does.
- Treatment is absorbing (staggered adoption).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError


@dataclass
class WidePanel:
    """A balanced panel as matrices: rows are units, columns are periods (sorted)."""

    units: np.ndarray
    times: np.ndarray
    outcome: np.ndarray  # (n_units, n_times)
    cohort: np.ndarray  # (n_units,) first treated period, 0 = never treated
    covariates: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (n_units, n_times)
    cluster: np.ndarray | None = None  # (n_units,) cluster codes, None = unit
    dropped_always_treated: int = 0
    notes: list[str] = field(default_factory=list)


def check_columns(panel: pd.DataFrame, columns: list[str], where: str) -> None:
    missing = [c for c in columns if c not in panel.columns]
    if missing:
        raise PilotdidInputError(f"column(s) {missing} not in the panel", where=where,
                                 fix=f"use one of {list(panel.columns)[:12]}")


def to_wide(
    panel: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    first_treat: str,
    covariates: list[str] | None = None,
    cluster: str | None = None,
    where: str = "staggered",
    drop_always_treated: bool = True,
) -> WidePanel:
    """Reshape a long panel to matrices; refuse unbalanced panels and missing values with a clear message."""
    covariates = list(covariates or [])
    cols = [outcome, unit, time, first_treat, *covariates] + ([cluster] if cluster and cluster != unit else [])
    check_columns(panel, cols, where)
    df = panel[list(dict.fromkeys(cols))]
    if df[[unit, time]].duplicated().any():
        n_dup = int(df[[unit, time]].duplicated().sum())
        raise PilotdidInputError(f"{n_dup} duplicated ({unit}, {time}) rows", where=where,
                                 fix="keep one row per unit and period")
    values = [outcome, *covariates]
    n_missing = df[values].isna().sum()
    if n_missing.any():
        bad = {k: int(v) for k, v in n_missing.items() if v}
        raise PilotdidInputError(f"missing values in {bad}", where=where,
                                 fix="fill or drop them before the staggered estimators (they need a balanced panel)")
    units = np.sort(df[unit].unique())
    times = np.sort(df[time].unique())
    if len(df) != len(units) * len(times):
        raise PilotdidInputError(
            f"unbalanced panel: {len(df)} rows for {len(units)} units x {len(times)} periods "
            f"({len(units) * len(times) - len(df)} unit-periods missing)",
            where=where, fix="balance the panel (keep units observed in every period) before this analysis")
    ordered = df.sort_values([unit, time])
    shape = (len(units), len(times))
    y = ordered[outcome].to_numpy(dtype=float).reshape(shape)
    ft = ordered[first_treat].to_numpy().reshape(shape)
    ft = np.where(pd.isna(ft), 0, ft).astype(float)
    if not np.all(ft == ft[:, :1]):
        raise PilotdidInputError(f"column {first_treat} varies within a unit", where=where,
                                 fix="first-treatment period must be constant per unit")
    cohort = ft[:, 0]
    covs = {c: ordered[c].to_numpy(dtype=float).reshape(shape) for c in covariates}
    cl = None
    if cluster and cluster != unit:
        cl_vals = ordered[cluster].to_numpy().reshape(shape)[:, 0]
        cl = pd.factorize(cl_vals)[0]
    notes: list[str] = []
    dropped = 0
    if drop_always_treated:
        always = (cohort > 0) & (cohort <= times[0])
        dropped = int(always.sum())
        if dropped:
            notes.append(f"{dropped} unit(s) treated in or before the first period ({times[0]}) were dropped: "
                         "no pre-treatment period exists for them.")
            keep = ~always
            units, y, cohort = units[keep], y[keep], cohort[keep]
            covs = {k: v[keep] for k, v in covs.items()}
            cl = None if cl is None else cl[keep]
    # A cohort after the last period is never treated inside the window.
    late = cohort > times[-1]
    if late.any():
        notes.append(f"{int(late.sum())} unit(s) first treated after the last period are counted as never treated.")
        cohort = np.where(late, 0.0, cohort)
    return WidePanel(units=units, times=times, outcome=y, cohort=cohort, covariates=covs, cluster=cl,
                     dropped_always_treated=dropped, notes=notes)


#: pyfixest 0.60 calls pandas with ``inplace=`` which pandas 3.1 deprecates (Pandas4Warning). That
#: warning is pyfixest's to fix and says nothing about the user's data; it alone is silenced, only
#: around pyfixest calls.
PANDAS_INPLACE_MESSAGE = r"The inplace keyword in (DataFrame|Series)\."


def pyfixest_quiet():
    """Context manager silencing only pyfixest's pandas-3 ``inplace`` deprecation warning."""
    import contextlib
    import warnings

    @contextlib.contextmanager
    def _ctx():
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=PANDAS_INPLACE_MESSAGE)
            yield

    return _ctx()
