"""Multi-period event-study bins: coding, reference bin, and an independent regression with hand-made dummies."""

from __future__ import annotations

import pandas as pd
import pytest

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.event_study import fit_event_study, make_bins


@pytest.fixture(scope="module")
def panel():
    return pd.read_csv(__import__("pathlib").Path(__file__).parents[1] / "staggered" / "fixtures" / "cs_panel.csv")


KW = dict(outcome="y", unit="unit", time="year", first_treat="first_treat")


def test_bin_width_and_explicit_bins():
    assert make_bins((-6, 5), -1, bin_width=2) == ([(-6, -6), (-5, -4), (-3, -2), (-1, -1), (0, 1), (2, 3), (4, 5)],
                                                    (-1, -1))
    bins, ref = make_bins((-4, 4), [-2, -1], bins=[[-4, -3], [-2, -1], [0, 1], [2, 4]])
    assert bins == [(-4, -3), (-2, -1), (0, 1), (2, 4)] and ref == (-2, -1)
    with pytest.raises(PilotdidInputError, match="gap"):
        make_bins((-4, 4), -1, bins=[[-4, -3], [-1, -1], [0, 4]])
    with pytest.raises(PilotdidInputError, match="not one of the bins"):
        make_bins((-4, 4), [-2, -1], bins=[[-4, -2], [-1, -1], [0, 4]])
    with pytest.raises(PilotdidInputError, match="both given"):
        make_bins((-4, 4), -1, bins=[[-4, 4]], bin_width=2)


def test_one_period_bins_are_the_default_event_study(panel):
    plain = fit_event_study(panel, **KW, window=(-3, 3))
    same = fit_event_study(panel, **KW, bins=[[k, k] for k in range(-3, 4)])
    pd.testing.assert_frame_equal(plain.coefs, same.coefs)
    assert plain.pretrend["p_F"] == same.pretrend["p_F"]


def test_binned_coefficients_equal_a_regression_on_hand_made_dummies(panel):
    from pilotdid.estimation.fixest import feols

    bins = [[-5, -3], [-2, -2], [-1, -1], [0, 1], [2, 4]]
    res = fit_event_study(panel, **KW, bins=bins, vcov="fixest")  # pyfixest's CRV1 small-sample count
    rel = (panel["year"] - panel["first_treat"]).where(panel["first_treat"] > 0).clip(-5, 4)
    df = panel.assign(b1=rel.between(-5, -3).astype(float), b2=(rel == -2).astype(float),
                      b4=rel.between(0, 1).astype(float), b5=rel.between(2, 4).astype(float))
    fit = feols("y ~ b1 + b2 + b4 + b5 | unit + year", data=df, vcov={"CRV1": "unit"})
    mine = res.coefs.set_index("rel_time")
    for name, start in (("b1", -5), ("b2", -2), ("b4", 0), ("b5", 2)):
        assert mine.loc[start, "coef"] == pytest.approx(fit.coef()[name], rel=1e-8)
        assert mine.loc[start, "se"] == pytest.approx(fit.se()[name], rel=1e-8)
    assert mine.loc[-1, "is_base"] and mine.loc[-1, "coef"] == 0.0
    assert res.pretrend["q"] == 2  # the two lead bins
    assert "endpoint binning" in res.notes[-1]
    assert res.rows()[0]["bin_low"] == -5 and res.rows()[0]["bin_high"] == -3


def test_event_study_analysis_with_bins(toolkit_ctx):
    from pilotdid.study.analyses import event_study

    out = event_study.run(toolkit_ctx, {"bin_width": 2, "window": [-5, 4]})
    labels = out.tables["event_study_coefficients"].body["Relative period"].tolist()
    assert labels[0].startswith("≤-4") and "0 to +1" in labels
    assert out.results["event_study_pretrend"]["bins"][0] == [-5, -4]


def test_an_empty_period_is_named_as_the_tables_name_it():
    # REAL mpdta (2003-2007): no county is observed 4 years after adoption, so the [4, 4] bin of a width-2 binning
    # over [-4, 4] is empty; the note named it by its internal dummy column ('_es_p4')
    mpdta = pd.read_csv(__import__("pathlib").Path(__file__).parent / "fixtures" / "mpdta.csv")
    es = fit_event_study(mpdta, outcome="lemp", unit="countyreal", time="year", first_treat="first.treat",
                         window=(-4, 4), bin_width=2)
    note = next(n for n in es.notes if "no treated observation" in n)
    assert note == "event study: no treated observation in relative period(s) +4; dropped"
