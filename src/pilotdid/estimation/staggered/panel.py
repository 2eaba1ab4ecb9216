"""Shared input handling for the staggered estimators: a long panel to unit-by-period matrices.

Conventions (named, because R/Stata packages differ):
- ``first_treat`` is the first treated *period value* (a year); 0 (or missing) = never treated.
- Units whose first treated period is at or before the first period of the panel are "always
  treated": no pre-period exists for them, so the 2x2 estimators cannot use them. They are dropped
  and counted (``dropped_always_treated``), as R ``did`` does.
- Treatment is absorbing (staggered adoption).
"""

from __future__ import annotations

from collections.abc import Sequence
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
    values = [outcome, *covariates]
    # numpy from here on: this runs once per estimate and pandas indexing dominated its cost
    unit_codes, units = pd.factorize(panel[unit], sort=True)
    time_codes, times = pd.factorize(panel[time], sort=True)
    units, times = np.asarray(units), np.asarray(times)
    value_arr = np.column_stack([panel[c].to_numpy(dtype=float) for c in values])
    bad = np.isnan(value_arr).sum(axis=0)
    if bad.any():
        raise PilotdidInputError(f"missing values in { {c: int(k) for c, k in zip(values, bad) if k} }", where=where,
                                 fix="fill or drop them before the staggered estimators (they need a balanced panel)")
    key = unit_codes.astype(np.int64) * len(times) + time_codes
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    if len(key_sorted) > 1 and np.any(key_sorted[1:] == key_sorted[:-1]):
        n_dup = int(np.sum(key_sorted[1:] == key_sorted[:-1]))
        raise PilotdidInputError(f"{n_dup} duplicated ({unit}, {time}) rows", where=where,
                                 fix="keep one row per unit and period")
    if len(key) != len(units) * len(times):
        raise PilotdidInputError(
            f"unbalanced panel: {len(key)} rows for {len(units)} units x {len(times)} periods "
            f"({len(units) * len(times) - len(key)} unit-periods missing)",
            where=where, fix="balance the panel (keep units observed in every period) before this analysis")
    shape = (len(units), len(times))
    sorted_values = value_arr[order]
    y = sorted_values[:, 0].reshape(shape)
    ft_raw = pd.to_numeric(panel[first_treat], errors="coerce").to_numpy(dtype=float)[order]
    ft = np.where(np.isnan(ft_raw), 0.0, ft_raw).reshape(shape)
    if not np.all(ft == ft[:, :1]):
        raise PilotdidInputError(f"column {first_treat} varies within a unit", where=where,
                                 fix="first-treatment period must be constant per unit")
    cohort = ft[:, 0]
    covs = {c: sorted_values[:, j + 1].reshape(shape) for j, c in enumerate(covariates)}
    cl = None
    if cluster and cluster != unit:
        cl_vals = panel[cluster].to_numpy()[order].reshape(shape)[:, 0]
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


def pyfixest_quiet():
    """The package's one pyfixest-warning silencer (:func:`pilotdid.estimation.fixest.quiet`), imported on use."""
    from pilotdid.estimation.fixest import quiet

    return quiet()


def outcome_list(outcome: str | Sequence[str]) -> list[str]:
    """The outcome column(s) an estimator was given: one name, or a list of names fitted on one design."""
    outcomes = [outcome] if isinstance(outcome, str) else list(outcome)
    if not outcomes or len(set(outcomes)) != len(outcomes):
        raise PilotdidInputError(f"outcome = {outcome!r}", where="staggered",
                                 fix="name one outcome column, or a list of distinct columns")
    return outcomes


def fit_outcome_groups(fitter, panel: pd.DataFrame, outcomes: list[str], covariates: list[str],
                       **kwargs) -> list | None:
    """Several outcomes whose rows differ (a missing value in one and not another): ``fitter`` run once per group of
    outcomes present on the same rows (results in ``outcomes``' order); None when they all share their rows (the
    caller then fits them on one design)."""
    check_columns(panel, [*outcomes, *covariates], "staggered")
    present = panel[covariates].notna().all(axis=1).to_numpy() if covariates else np.ones(len(panel), dtype=bool)
    groups: dict[bytes, list[int]] = {}
    for k, name in enumerate(outcomes):
        groups.setdefault(np.packbits(present & panel[name].notna().to_numpy()).tobytes(), []).append(k)
    if len(groups) == 1:
        return None
    results: list = [None] * len(outcomes)
    for members in groups.values():
        for k, result in zip(members, fitter(panel, outcome=[outcomes[k] for k in members], covariates=covariates,
                                             **kwargs)):
            results[k] = result
    return results


def long_sample(
    panel: pd.DataFrame,
    *,
    outcome: str | Sequence[str],
    unit: str,
    time: str,
    first_treat: str,
    covariates: list[str],
    cluster: str | None,
    where: str,
    weights: str | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """The columns an event-study estimator needs, with rows missing the outcome or a covariate left out.

    Returns the copy and a note counting the rows left out (nothing is dropped silently).
    """
    outcomes = [outcome] if isinstance(outcome, str) else list(outcome)
    columns = list(dict.fromkeys([*outcomes, unit, time, first_treat, *covariates] + ([cluster] if cluster else [])
                                 + ([weights] if weights else [])))
    check_columns(panel, columns, where)
    df = panel[columns].copy()
    missing = df[[*outcomes, *covariates]].isna().any(axis=1)
    notes = []
    if missing.any():
        notes.append(f"{int(missing.sum())} row(s) with a missing outcome or covariate are left out.")
        df = df.loc[~missing]
    return df, notes
