"""Weighted placebo (analytic weights): every draw equals a weighted pyfixest refit (SYNTHETIC panels).

Weighted FWL: outcome, controls and each placebo treatment get the weighted within transformation and are
scaled by sqrt(w); the draws must then equal ``pf.feols(..., weights=w)`` with CRV1 by unit to ~1e-12.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from pilotdid.design.synthetic import synthetic_staggered_panel
from pilotdid.estimation.fixest import feols as quiet_feols
from pilotdid.estimation.within import FixedEffectPartialler
from pilotdid.inference.placebo import staggered_placebo

CONTROLS = ["x1", "x2"]


def _panel(drop_share: float) -> pd.DataFrame:
    p = synthetic_staggered_panel(n_units=45, n_years=7, cohorts=(2014, 2016), seed=8, drop_share=drop_share,
                                  n_controls=2)
    p["pop"] = np.random.default_rng(9).uniform(0.3, 5.0, len(p))  # varies by row, as Stata aw may
    return p


def _refit(panel, adoption, weighted=True):
    frame = panel.copy()
    g = adoption[pd.factorize(frame["unit"], sort=True)[0]]
    frame["pd"] = ((g > 0) & (frame["year"].to_numpy() >= g)).astype(float)
    fit = quiet_feols("y ~ pd + x1 + x2 | unit + year", frame, vcov={"CRV1": "unit"},
                      weights="pop" if weighted else None, demeaner=pf.MapDemeaner(fixef_tol=1e-14))
    return float(fit.coef()["pd"]), float(fit.se()["pd"])


@pytest.mark.parametrize("drop_share", [0.0, 0.15])  # balanced grid (the unweighted shortcut is off) and unbalanced
@pytest.mark.parametrize("kind", ["permute_cohorts", "random_years"])
def test_weighted_draws_equal_weighted_pyfixest_refits(drop_share, kind):
    panel = _panel(drop_share)
    res = staggered_placebo(panel, outcome="y", unit="unit", time="year", first_treat="first_treat",
                            controls=CONTROLS, kind=kind, draws=40, seed=3, keep_adoption=True, weights="pop")
    for d in (0, 17, 39):
        coef, se = _refit(panel, res.adoption_years[d])
        assert abs(coef - res.coefs[d]) < 1e-11
        assert se == pytest.approx(res.ses[d], rel=1e-10)
    actual = quiet_feols("y ~ did + x1 + x2 | unit + year", panel, vcov={"CRV1": "unit"}, weights="pop",
                         demeaner=pf.MapDemeaner(fixef_tol=1e-14))
    assert abs(res.actual_coef - actual.coef()["did"]) < 1e-11
    assert res.actual_se == pytest.approx(actual.se()["did"], rel=1e-10)
    plain = staggered_placebo(panel, outcome="y", unit="unit", time="year", first_treat="first_treat",
                              controls=CONTROLS, kind=kind, draws=40, seed=3)
    assert np.max(np.abs(plain.coefs - res.coefs)) > 1e-4  # the weights matter, same draws


def test_weighted_within_transformation_is_the_weighted_projection():
    rng = np.random.default_rng(2)
    unit = np.repeat(np.arange(12), 5)
    year = np.tile(np.arange(5), 12)
    keep = rng.random(60) > 0.2
    unit, year = unit[keep], year[keep]
    w = rng.uniform(0.5, 3.0, len(unit))
    x = rng.normal(size=(len(unit), 2))
    D = np.column_stack([pd.get_dummies(unit).to_numpy(float), pd.get_dummies(year).to_numpy(float)[:, 1:]])
    fitted = D @ np.linalg.lstsq(D * np.sqrt(w)[:, None], x * np.sqrt(w)[:, None], rcond=None)[0]
    for codes in ([unit, year], [unit, year, unit % 3]):
        ours = FixedEffectPartialler(codes, weights=w).demean(x)
        if len(codes) == 2:
            np.testing.assert_allclose(ours, x - fitted, atol=1e-12)
        else:  # the third factor is nested in the unit one: same projection, by alternating projections
            np.testing.assert_allclose(ours, x - fitted, atol=1e-10)


def test_api_placebo_takes_weights():
    import pilotdid as pdid

    panel = _panel(0.0)
    res = pdid.placebo(panel, outcome="y", unit="unit", time="year", first_treat="first_treat", controls=CONTROLS,
                       cluster="unit", vcov="fixest", draws=5, seed=1, weights="pop")
    actual = quiet_feols("y ~ did + x1 + x2 | unit + year", panel, vcov={"CRV1": "unit"}, weights="pop",
                         demeaner=pf.MapDemeaner(fixef_tol=1e-14))
    assert abs(res.actual_coef - actual.coef()["did"]) < 1e-10
