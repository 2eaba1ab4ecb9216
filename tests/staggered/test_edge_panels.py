"""Panels a new user brings that the fixtures did not have: a unit treated before the panel starts, an event time
whose rows all lack the outcome, zero analytic weights. REAL data: R did's mpdta (tests/toolkit/fixtures)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pilotdid as pdid
from pilotdid.estimation.event_study import fit_event_study
from pilotdid.estimation.staggered.dcdh import twfe_weights
from pilotdid.estimation.staggered.twfe import twfe_event_study

KW = dict(outcome="lemp", unit="countyreal", time="year", first_treat="first.treat")


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(Path(__file__).parents[1] / "toolkit" / "fixtures" / "mpdta.csv")


def test_a_unit_treated_before_the_panel_leaves_the_dynamic_twfe_with_a_note(mpdta):
    # its event-time dummies add up to its unit effect: the fit refused "_es_p8 perfectly collinear" (exit 2 with an
    # internal column name) although the unit carries no information on the dynamics
    always = mpdta.assign(**{"first.treat": mpdta["first.treat"].where(mpdta["countyreal"] != 8001, 1999)})
    es = twfe_event_study(always, **KW)
    assert any("1 unit(s) treated from the first period 2003 on (no pre-period) left out" in n for n in es.notes)
    without = twfe_event_study(mpdta[mpdta["countyreal"] != 8001], **KW)
    pd.testing.assert_frame_equal(es.table, without.table)


def test_an_event_time_whose_rows_all_miss_the_outcome_is_dropped_with_a_note(mpdta):
    # +3 is observed only for the 2004 cohort in 2007; with those outcomes missing its dummy reached the regression
    # as an all-zero column ("regressor '_es_p3' is constant")
    gap = mpdta.assign(lemp=mpdta["lemp"].where(~((mpdta["first.treat"] == 2004) & (mpdta["year"] == 2007))))
    es = fit_event_study(gap, **KW, window=(-3, 3))
    assert "event study: no treated observation in relative period(s) +3; dropped" in es.notes
    assert list(es.coefs["rel_time"]) == [-3, -2, -1, 0, 1, 2]


def test_zero_weight_rows_leave_the_weighted_twfe_counted(mpdta):
    # pyfixest refuses a zero weight ("must have only non-negative values"): the row is left out, as fixest does
    w = mpdta.assign(did=((mpdta["first.treat"] > 0) & (mpdta["year"] >= mpdta["first.treat"])).astype(float),
                     pop=np.exp(mpdta["lpop"]))
    w.loc[w["countyreal"] == 8001, "pop"] = 0.0
    fit = pdid.twfe(w, "lemp ~ did | countyreal + year", cluster="countyreal", weights="pop")
    kept = pdid.twfe(w[w["pop"] > 0], "lemp ~ did | countyreal + year", cluster="countyreal", weights="pop")
    assert fit.term("did") == kept.term("did")
    assert "5 of 2500 rows with zero weight left out" in fit.notes
    with pytest.raises(pdid.PilotdidInputError, match="every row with complete model variables has weight 0"):
        pdid.twfe(w.assign(pop=0.0), "lemp ~ did | countyreal + year", cluster="countyreal", weights="pop")
    # twowayfeweights: a zero-weight unit made the weighted demeaning 0/0 (LinAlgError); it is outside the fit
    tw = twfe_weights(w, outcome="lemp", unit="countyreal", time="year", treatment="did", weight="pop")
    assert tw.beta == pytest.approx(fit.term("did")["coef"], rel=1e-9)
