"""Input validation for two-way fixed-effects fits.

Every problem a user can cause is a :class:`~pilotdid.errors.PilotdidInputError` with one line
naming the column and the fix. Nothing is dropped silently: rows with a missing value in a model
column are left out *and counted*; singleton fixed-effect groups are counted (and dropped only when
the preset mirrors a command that drops them, i.e. ``reghdfe``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError


@dataclass
class TwfeData:
    """A validated estimation sample (a copy; the caller's frame is never changed)."""

    frame: pd.DataFrame
    outcome: str
    regressors: list[str]
    fixed_effects: list[str]
    cluster: str | None
    weights: str | None
    rows_in: int
    rows_missing: int
    missing_by_column: dict[str, int]
    singleton_rows: int
    singletons_dropped: int
    notes: list[str] = field(default_factory=list)


def count_singletons(frame: pd.DataFrame, fixed_effects: list[str]) -> tuple[int, pd.Series]:
    """Rows that reghdfe would drop: iteratively, rows whose level of some FE occurs once.

    Returns (number of rows, boolean mask of those rows). Iterated because dropping one singleton
    can create another (reghdfe and pyfixest both iterate).
    """
    from pilotdid.estimation.within import drop_singletons

    # the maximal subset with no singleton level is unique, so any removal order (here the placebo engine's) gives it
    codes = [pd.factorize(frame[fe])[0] for fe in fixed_effects]
    keep = drop_singletons(codes) if codes and len(frame) else np.ones(len(frame), dtype=bool)
    mask = pd.Series(~keep, index=frame.index)
    return int(mask.sum()), mask


def validate(
    data: pd.DataFrame,
    outcome: str,
    regressors: list[str],
    fixed_effects: list[str],
    cluster: str | None,
    weights: str | None = None,
    *,
    drop_singletons: bool = False,
    treatment: str | None = None,
) -> TwfeData:
    """Check the columns of a TWFE fit and return the estimation sample.

    ``treatment`` (default: the first regressor) must vary; a regressor or outcome that is missing,
    not numeric or entirely missing raises. Rows with a missing value in any model column are left
    out and counted in the returned object's ``rows_missing``/``notes``.
    """
    if not isinstance(data, pd.DataFrame):
        raise PilotdidInputError("the data must be a pandas DataFrame", fix="load the panel first")
    regressors = list(regressors)
    fixed_effects = list(fixed_effects)
    if not regressors:
        raise PilotdidInputError("no regressors given", where="[model]", fix="name the treatment column")
    if len(set(regressors)) != len(regressors):
        dup = sorted({r for r in regressors if regressors.count(r) > 1})
        raise PilotdidInputError(f"regressor listed twice: {', '.join(dup)}", where="[model] controls", fix="list each once")
    if outcome in regressors:
        raise PilotdidInputError(f"the outcome {outcome!r} is also a regressor", where="[model]", fix="remove it from controls")
    needed = [outcome, *regressors, *fixed_effects] + ([cluster] if cluster else []) + ([weights] if weights else [])
    missing_cols = [c for c in dict.fromkeys(needed) if c not in data.columns]
    if missing_cols:
        raise PilotdidInputError(
            f"column(s) not in the panel: {', '.join(missing_cols)}",
            where="panel",
            fix=f"use existing columns (the panel has: {', '.join(map(str, data.columns[:30]))}"
            + (", ..." if len(data.columns) > 30 else "") + ")",
        )
    for col in [outcome, *regressors] + ([weights] if weights else []):
        if not pd.api.types.is_numeric_dtype(data[col]):
            raise PilotdidInputError(
                f"column {col!r} is not numeric (dtype {data[col].dtype})", where="panel", fix="convert it to numbers"
            )
        if data[col].isna().all():
            raise PilotdidInputError(f"column {col!r} is entirely missing", where="panel", fix="check the data source")
        values = data[col].to_numpy(dtype=float, na_value=np.nan)
        if np.isinf(values).any():
            raise PilotdidInputError(
                f"column {col!r} holds {int(np.isinf(values).sum())} infinite value(s)", where="panel",
                fix="replace them (e.g. a log of 0) before estimating",
            )
    for col in fixed_effects + ([cluster] if cluster else []):
        if data[col].isna().all():
            raise PilotdidInputError(f"column {col!r} is entirely missing", where="panel", fix="check the data source")

    used = list(dict.fromkeys(needed))
    numeric = set([outcome, *regressors] + ([weights] if weights else []))
    # one new frame (a copy) with the model columns as float: built at once, not column by column
    frame = pd.DataFrame({c: data[c].to_numpy(dtype=float, na_value=np.nan) if c in numeric else data[c].array
                          for c in used}, index=data.index, copy=True)
    rows_in = len(frame)
    missing_cells = frame.isna()
    miss = missing_cells.any(axis=1)
    missing_counts = missing_cells.sum()
    missing_by_column = {c: int(missing_counts[c]) for c in used if missing_counts[c]}
    notes: list[str] = []
    if miss.any():
        notes.append(
            f"{int(miss.sum())} of {rows_in} rows left out for a missing value (listwise): "
            + ", ".join(f"{c} {n}" for c, n in missing_by_column.items())
        )
        frame = frame.loc[~miss]
    if weights:
        if (frame[weights] < 0).any():
            raise PilotdidInputError(f"weights column {weights!r} has negative values", where="panel", fix="use non-negative weights")
        zero = (frame[weights] == 0).to_numpy()
        if zero.all():
            raise PilotdidInputError(f"every row with complete model variables has weight 0 in {weights!r}", where="panel",
                                     fix="check the weights column (zero-weight rows are left out of a weighted fit)")
        if zero.any():  # as fixest ("observations removed because of 0-weight") and the placebo engine; counted
            notes.append(f"{int(zero.sum())} of {len(frame)} rows with zero weight left out")
            frame = frame.loc[~zero]
    if frame.empty:
        raise PilotdidInputError("no complete rows left", where="panel", fix="check the coverage of the model columns")

    if _single_value(frame[outcome]):
        # a constant outcome gives coefficients 0 with SE 0 and t = 0/0: nothing to estimate
        raise PilotdidInputError(
            f"the outcome {outcome!r} is constant ({frame[outcome].iloc[0]:g}) in the estimation sample", where="panel",
            fix="check the outcome column (or the index built into it)",
        )
    treatment = treatment or regressors[0]
    if _single_value(frame[treatment]):
        raise PilotdidInputError(
            f"the treatment {treatment!r} takes a single value ({frame[treatment].iloc[0]}) in the estimation sample",
            where="panel", fix="check the treatment assignment: the effect is not identified without variation",
        )
    for col in regressors:
        if _single_value(frame[col]):
            raise PilotdidInputError(
                f"regressor {col!r} is constant in the estimation sample", where="panel", fix="drop it from the model"
            )

    singleton_rows, singleton_mask = count_singletons(frame, fixed_effects) if fixed_effects else (0, None)
    singletons_dropped = 0
    if singleton_rows:
        if drop_singletons:
            frame = frame.loc[~singleton_mask]
            singletons_dropped = singleton_rows
            notes.append(f"{singleton_rows} singleton observation(s) dropped (reghdfe convention) and counted")
        else:
            notes.append(
                f"{singleton_rows} singleton observation(s) kept (they fit exactly and add nothing to the "
                "clustered variance, but count in N; reghdfe would drop them)"
            )
    return TwfeData(
        frame=frame, outcome=outcome, regressors=regressors, fixed_effects=fixed_effects, cluster=cluster,
        weights=weights, rows_in=rows_in, rows_missing=int(miss.sum()), missing_by_column=missing_by_column,
        singleton_rows=singleton_rows, singletons_dropped=singletons_dropped, notes=notes,
    )


def _single_value(column: pd.Series) -> bool:
    """``column.nunique() < 2`` for a column without missing values (no hashing: one comparison pass)."""
    values = column.to_numpy()
    return values.size == 0 or bool((values == values[0]).all())


def is_nested(frame: pd.DataFrame, inner: str, outer: str) -> bool:
    """True when every level of ``inner`` lies within a single level of ``outer``."""
    if inner == outer:
        return True
    return bool((frame.groupby(inner, observed=True)[outer].nunique() <= 1).all())
