"""Winsorising counts, lag sample loss and sample cuts (hand examples, SYNTHETIC panels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilotdid.design.lag import lag_column
from pilotdid.design.samples import drop_flagged_units, drop_periods
from pilotdid.design.winsorize import winsorize
from pilotdid.errors import PilotdidInputError


def test_winsorize_counts_by_hand():
    values = np.arange(1.0, 101.0)  # 1..100; Stata _pctile: p1 = (x1+x2)/2 = 1.5, p99 = (x99+x100)/2 = 99.5
    frame = pd.DataFrame({"a": values, "b": np.r_[values[:-1], np.nan]})
    out, report = winsorize(frame, ["a", "b"], 0.01, 0.99)
    ra = report.set_index("variable").loc["a"]
    assert (ra["lower_cut"], ra["upper_cut"]) == (1.5, 99.5)
    assert (ra["n_low"], ra["n_high"], ra["n_changed"]) == (1, 1, 2)
    assert out["a"].iloc[0] == 1.5 and out["a"].iloc[-1] == 99.5
    assert (out["a"].iloc[1:-1] == values[1:-1]).all()
    rb = report.set_index("variable").loc["b"]
    assert rb["n_nonmissing"] == 99 and np.isnan(out["b"].iloc[-1])
    out5, rep5 = winsorize(frame, ["a"], 0.05, 0.95)
    assert rep5["n_changed"].item() == 10  # 1..5 below 5.5, 96..100 above 95.5


def test_winsorize_rejects_bad_limits():
    with pytest.raises(PilotdidInputError):
        winsorize(pd.DataFrame({"a": [1.0]}), ["a"], 0.9, 0.1)
    with pytest.raises(PilotdidInputError):
        winsorize(pd.DataFrame({"a": [1.0]}), ["zz"])


def test_lag_sample_loss_with_gap():
    frame = pd.DataFrame({
        "unit": [1, 1, 1, 2, 2, 2],
        "year": [2012, 2013, 2014, 2012, 2014, 2015],  # unit 2 misses 2013
        "did": [0, 1, 1, 0, 0, 1],
    })
    out, rep = lag_column(frame, "unit", "year", "did", 1, name="L.did")
    assert out["L.did"].tolist()[:3] == [None, 0, 1] or np.isnan(out["L.did"].iloc[0])
    assert out["L.did"].iloc[1] == 0 and out["L.did"].iloc[2] == 1
    assert np.isnan(out["L.did"].iloc[4])  # 2014 of unit 2: 2013 is missing (Stata L. semantics)
    assert out["L.did"].iloc[5] == 0
    assert (rep.rows_before, rep.rows_with_lag, rep.rows_lost) == (6, 3, 3)
    assert "3 of 6 rows" in rep.note()


def test_lag_on_balanced_panel_loses_one_period_per_unit(panel):
    _, rep = lag_column(panel, "unit", "year", "did")
    assert rep.rows_lost == panel["unit"].nunique()


def test_drop_flagged_and_periods(panel):
    cut = drop_flagged_units(panel, "unit", "is_capital", description="capitals", first_treat="first_treat")
    flagged = set(panel.loc[panel["is_capital"], "unit"])
    assert cut.dropped_units == len(flagged)
    assert cut.dropped_rows == int(panel["unit"].isin(flagged).sum())
    assert not cut.frame["unit"].isin(flagged).any()
    treated_flagged = len(flagged & set(panel.loc[panel["first_treat"] > 0, "unit"]))
    assert cut.dropped_treated_units == treated_flagged
    cut2 = drop_periods(panel, "year", [2020, 2021], unit="unit")
    assert cut2.dropped_rows == int(panel["year"].isin([2020, 2021]).sum())
    assert not cut2.frame["year"].isin([2020, 2021]).any()
    with pytest.raises(PilotdidInputError):
        drop_flagged_units(panel, "unit", "nope", description="x")
