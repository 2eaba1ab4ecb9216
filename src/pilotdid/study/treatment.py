"""Turn a study's ``[treatment]`` table into the runner's two treatment columns.

Three forms (exactly one per study):

* ``column``: a 0/1 column already in the panel. The first period with a 1 is the unit's adoption
  period; a unit whose 1s switch back to 0 makes the design non-absorbing, which TWFE tolerates
  but staggered estimators do not (they refuse, naming the unit).
* ``first_treat``: the period a unit is first treated; empty or 0 means never treated. It must be
  constant within a unit. Adoption before the panel's first period means "always treated" in the
  window; adoption after its last period means "not yet treated in the window" — both are counted
  in the notes, because neither is "never treated".
* ``registry``: a registry policy (``pilotdid.registry``) with batches, a treatment-year rule and a
  county-level-zone rule; the registry reports what it matched.

Either way the panel gets :data:`FIRST_TREAT` (int, 0 = never treated within the panel) and
:data:`TREAT` (0/1 float: ``time >= first_treat``, or the user's own column for ``column =``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.i18n import msg
from pilotdid.study.context import FIRST_TREAT, TREAT
from pilotdid.study.load import refuse_full_width_numbers


@dataclass
class TreatmentSetup:
    panel: pd.DataFrame
    treatment_name: str
    absorbing: bool
    notes: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    dropped_units: list = field(default_factory=list)
    registry_assignment: object | None = None


def _plain(value):
    """A numpy scalar as the Python value it holds, so messages read -1, not np.int64(-1)."""
    return value.item() if isinstance(value, np.generic) else value


def setup_treatment(panel: pd.DataFrame, spec_treatment: dict, unit: str, time: str, where: str) -> TreatmentSetup:
    form = next(f for f in ("column", "first_treat", "registry") if f in spec_treatment)
    if form == "column":
        return _from_column(panel, spec_treatment["column"], unit, time, where)
    if form == "first_treat":
        return _from_first_treat(panel, spec_treatment["first_treat"], unit, time, where, spec_treatment.get("name", "did"))
    return _from_registry(panel, spec_treatment, unit, time, where)


def _from_column(panel: pd.DataFrame, column: str, unit: str, time: str, where: str) -> TreatmentSetup:
    values = pd.to_numeric(panel[column], errors="coerce")
    bad = ~values.isin([0, 1]) & panel[column].notna()
    if bad.any():
        refuse_full_width_numbers(panel[column], bad, column, where)
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise PilotdidInputError(
            f"treatment column '{column}' must be 0/1, found {_plain(panel[column].iloc[row])!r} at data row {row + 1}",
            where=where, fix="code the treatment as 0 (untreated) and 1 (treated), or use first_treat = for adoption years",
        )
    if values.isna().any():
        n = int(values.isna().sum())
        raise PilotdidInputError(
            f"treatment column '{column}' is empty in {n} rows", where=where, fix="fill the treatment for every row (0 or 1)"
        )
    out = panel.copy()
    out[TREAT] = values.astype(float)
    treated_times = out.loc[out[TREAT] == 1].groupby(unit, sort=False)[time].min()
    out[FIRST_TREAT] = out[unit].map(treated_times).fillna(0).astype(int)
    # absorbing: once treated, stays treated
    expected = ((out[time] >= out[FIRST_TREAT]) & (out[FIRST_TREAT] > 0)).astype(float)
    switching = out.loc[expected != out[TREAT], unit].unique()
    notes = [msg("template.note.treatment_column", "en", c=column)]
    if len(switching):
        notes.append(
            f"{len(switching)} unit(s) switch treatment off again (e.g. {switching[0]}): the design is not absorbing; "
            "TWFE uses the column as given, staggered estimators refuse."
        )
    setup = TreatmentSetup(out, column, absorbing=len(switching) == 0, notes=notes)
    _check_variation(setup, unit, where)
    return setup


def _from_first_treat(panel: pd.DataFrame, column: str, unit: str, time: str, where: str, name: str) -> TreatmentSetup:
    raw = panel[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if bad.any():
        refuse_full_width_numbers(raw, bad, column, where)
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise PilotdidInputError(
            f"first-treatment column '{column}' has a non-numeric value {_plain(raw.iloc[row])!r} at data row {row + 1}",
            where=where, fix="give the first treated period as a number, or leave it empty / 0 for never treated",
        )
    values = values.fillna(0)
    # round(inf) == inf, so infinity needs its own test
    not_whole = (values < 0) | ~np.isfinite(values) | (values != np.round(values))
    if not_whole.any():
        row = int(np.flatnonzero(not_whole.to_numpy())[0])
        raise PilotdidInputError(
            f"first-treatment column '{column}' must hold whole periods, found {_plain(raw.iloc[row])!r} at data row {row + 1}",
            where=where, fix="use the period (e.g. the year) of first treatment, or 0 for never treated",
        )
    per_unit = values.groupby(panel[unit]).nunique()
    if (per_unit > 1).any():
        u = per_unit.index[per_unit > 1][0]
        raise PilotdidInputError(
            f"first-treatment column '{column}' varies within unit {u!r}", where=where,
            fix="the adoption period is a property of the unit: give it the same value in every row of the unit",
        )
    out = panel.copy()
    out[FIRST_TREAT] = values.astype(int)
    first, last = out[time].min(), out[time].max()
    unit_first = out.groupby(unit)[FIRST_TREAT].first()
    before = unit_first[(unit_first > 0) & (unit_first <= first)]
    after = unit_first[unit_first > last]
    notes = [msg("template.note.treatment_first_treat", "en", c=column)]
    if len(before):
        notes.append(msg("template.note.adopt_before_panel", "en", n=len(before), first=first))
    if len(after):
        notes.append(msg("template.note.adopt_after_panel", "en", n=len(after), last=last))
        out.loc[out[unit].isin(after.index), FIRST_TREAT] = 0
    out[TREAT] = ((out[time] >= out[FIRST_TREAT]) & (out[FIRST_TREAT] > 0)).astype(float)
    setup = TreatmentSetup(out, name, absorbing=True, notes=notes)
    _check_variation(setup, unit, where)
    return setup


def _from_registry(panel: pd.DataFrame, spec: dict, unit: str, time: str, where: str) -> TreatmentSetup:
    from pilotdid.registry.treatment import assign_treatment

    options = {
        k: spec[k]
        for k in ("batches", "rule", "cutoff_month", "lag", "county_rule", "allow_unverified", "allow_unmatched")
        if k in spec
    }
    assignment = assign_treatment(panel, unit, time, spec["registry"], **options)
    out = panel.copy()
    dropped = list(getattr(assignment, "dropped_units", []) or [])
    if dropped:
        out = out.loc[~out[unit].isin(dropped)].copy()
    first = assignment.first_treat
    out[FIRST_TREAT] = out[unit].map(first).fillna(0).astype(int)
    out[TREAT] = ((out[time] >= out[FIRST_TREAT]) & (out[FIRST_TREAT] > 0)).astype(float)
    notes = list(getattr(assignment, "notes", []))
    tables = {}
    for attr in ("treated_by_batch", "not_found", "treated_after_window", "verification"):
        value = getattr(assignment, attr, None)
        if isinstance(value, pd.DataFrame):
            tables[attr] = value
    setup = TreatmentSetup(
        out, spec.get("name", "did"), absorbing=True, notes=notes, tables=tables, dropped_units=dropped,
        registry_assignment=assignment,
    )
    _check_variation(setup, unit, where)
    return setup


def _check_variation(setup: TreatmentSetup, unit: str, where: str) -> None:
    treat = setup.panel[TREAT]
    if treat.sum() == 0:
        raise PilotdidInputError("no unit is ever treated in the sample", where=where, fix="check the treatment column / years / registry batches")
    never = setup.panel.groupby(unit)[TREAT].max()
    if (never == 1).all() and (setup.panel.groupby(unit)[TREAT].min() == 1).all():
        raise PilotdidInputError(
            "every unit is treated in every period: there is no control group", where=where,
            fix="the sample needs untreated units or untreated periods",
        )
