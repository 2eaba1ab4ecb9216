"""Event study: our binned coding fitted by pilotdid equals pyfixest's i(rel, ref=-1) (SYNTHETIC data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pilotdid.estimation.fixest import feols as quiet_feols
import pytest

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.event_study import dummy_name, event_time_dummies, fit_event_study, wald_test

CONTROLS = ["x1", "x2"]


def _pyfixest_i(panel: pd.DataFrame, window=(-4, 4), base=-1):
    _, rel = event_time_dummies(panel, "year", "first_treat", window, base)
    frame = panel.copy()
    frame["rel"] = rel.fillna(base).astype(int)  # never treated at the reference level: all dummies zero
    return quiet_feols(f"y ~ i(rel, ref={base}) + x1 + x2 | unit + year", frame, vcov={"CRV1": "unit"})


@pytest.mark.parametrize("window", [(-4, 4), (-3, 2)])
def test_event_study_matches_pyfixest_i(panel, window):
    ours = fit_event_study(panel, outcome="y", unit="unit", time="year", first_treat="first_treat",
                           controls=CONTROLS, window=window, vcov="fixest")  # pyfixest's CRV1 small-sample count
    ref = _pyfixest_i(panel, window)
    est = ours.coefs.loc[~ours.coefs["is_base"]]
    for r in est.itertuples():
        name = f"rel::{r.rel_time}"
        assert r.coef == pytest.approx(ref.coef()[name], abs=1e-10)
        assert r.se == pytest.approx(ref.se()[name], rel=1e-8)
    base = ours.coefs.loc[ours.coefs["is_base"]]
    assert base["rel_time"].tolist() == [-1] and base["coef"].tolist() == [0.0]
    assert ours.coefs["rel_time"].tolist() == list(range(window[0], window[1] + 1))


def test_event_study_with_lsdv_preset_through_fit_twfe(panel):
    ours = fit_event_study(panel, outcome="y", unit="unit", time="year", first_treat="first_treat",
                           controls=CONTROLS, vcov="lsdv")
    ref = _pyfixest_i(panel)
    est = ours.coefs.loc[~ours.coefs["is_base"]].set_index("rel_time")
    for k, coef in est["coef"].items():
        assert coef == pytest.approx(ref.coef()[f"rel::{k}"], abs=1e-10)


def test_endpoints_are_binned(panel):
    dummies, rel = event_time_dummies(panel, "year", "first_treat", (-2, 1), -1)
    raw = panel["year"] - panel["first_treat"]
    treated = panel["first_treat"] > 0
    assert (dummies[dummy_name(-2)][treated] == (raw[treated] <= -2)).all()
    assert (dummies[dummy_name(1)][treated] == (raw[treated] >= 1)).all()
    assert dummy_name(-1) not in dummies.columns
    assert (dummies.loc[~treated].to_numpy() == 0).all()
    # every treated row outside the base is in exactly one dummy
    assert (dummies.loc[treated].sum(axis=1) == (rel[treated] != -1)).all()


def test_pretrend_wald_equals_pyfixest(panel):
    ours = fit_event_study(panel, outcome="y", unit="unit", time="year", first_treat="first_treat", controls=CONTROLS,
                           vcov="fixest")
    ref = _pyfixest_i(panel)
    names = ["rel::-4", "rel::-3", "rel::-2"]
    b = ref.coef()[names].to_numpy()
    idx = [list(ref._coefnames).index(n) for n in names]
    v = np.asarray(ref._vcov)[np.ix_(idx, idx)]
    chi2 = float(b @ np.linalg.solve(v, b))
    assert ours.pretrend["q"] == 3
    assert ours.pretrend["chi2"] == pytest.approx(chi2, rel=1e-8)
    assert ours.pretrend["F"] == pytest.approx(chi2 / 3, rel=1e-8)
    assert 0 <= ours.pretrend["p_F"] <= 1


def test_wald_no_terms():
    out = wald_test(pd.Series(dtype=float), pd.DataFrame(), [], 10)
    assert out["q"] == 0 and out["F"] is None


@pytest.mark.parametrize("window,base", [((0, 4), -1), ((-4, 4), 0), ((-4, 4), -5)])
def test_bad_window_is_input_error(panel, window, base):
    with pytest.raises(PilotdidInputError):
        event_time_dummies(panel, "year", "first_treat", window, base)


def test_rows_schema(panel):
    ours = fit_event_study(panel, outcome="y", unit="unit", time="year", first_treat="first_treat", controls=CONTROLS)
    rows = ours.rows()
    assert [r["rel_time"] for r in rows] == list(range(-4, 5))
    base = next(r for r in rows if r["rel_time"] == -1)
    assert base["coef"] == 0.0 and base["se"] is None
    for r in rows:
        assert {"estimator", "rel_time", "coef", "se", "ci_low", "ci_high"} <= set(r)


def test_event_study_takes_any_fit_of_the_one_shape(panel):
    """The fit callback has fit_twfe's shape; a recorder of that shape sees the regression the event study runs."""
    from pilotdid.estimation.twfe import fit_twfe

    calls = []

    def recorder(data, outcome, regressors, fixed_effects, cluster, vcov="lsdv", weights=None):
        calls.append((outcome, list(regressors), list(fixed_effects), cluster, vcov, weights))
        return fit_twfe(data, outcome, regressors, fixed_effects, cluster, vcov=vcov, weights=weights)

    plain = fit_event_study(panel, outcome="y", unit="unit", time="year", first_treat="first_treat", controls=CONTROLS,
                            vcov="reghdfe")
    recorded = fit_event_study(panel, outcome="y", unit="unit", time="year", first_treat="first_treat",
                               controls=CONTROLS, vcov="reghdfe", fit=recorder)
    assert calls == [("y", [dummy_name(k) for k in (-4, -3, -2, 0, 1, 2, 3, 4)] + CONTROLS, ["unit", "year"], "unit",
                      "reghdfe", None)]
    pd.testing.assert_frame_equal(plain.coefs, recorded.coefs)
