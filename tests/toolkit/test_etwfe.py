"""ETWFE against R etwfe's stored mpdta results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilotdid.estimation.staggered.etwfe import etwfe

FIX = Path(__file__).parent / "fixtures"

# R etwfe 0.6.2, inst/tinytest/test_emfx.R ("Known outputs": m3 |> emfx(...) |> dput()), model
# etwfe(lemp ~ lpop, tvar = year, gvar = first.treat, data = mpdta, vcov = ~countyreal); the event study is also
# printed in the package README (-0.0332 (0.0134), -0.0573 (0.0171), -0.1379 (0.0308), -0.1095 (0.0323)).
NOTYET = {
    "simple": ([0], [-0.0506270331228907], [0.0124972546529842]),
    "calendar": ([2004, 2005, 2006, 2007],
                 [-0.0212480022225509, -0.0818499992698648, -0.0442655912990223, -0.0524323095862384],
                 [0.0217240109737018, 0.0273693827216135, 0.0173733625406716, 0.015015825012757]),
    "group": ([2004, 2006, 2007], [-0.0876269608795944, -0.0212783329358987, -0.0459545277368072],
              [0.0230474099815232, 0.0185912208081438, 0.0179714452432232]),
    "event": ([0, 1, 2, 3], [-0.0332122037837542, -0.0573456479257483, -0.137870386660852, -0.10953945536511],
              [0.0133659635774059, 0.0171496442892364, 0.0307883597041053, 0.0323152785480507]),
}
# the same with cgroup = "never", emfx(type = "event", window = c(2, 3)): event -2 .. 3 (-1 is the reference)
NEVER_EVENT = ([-2, 0, 1, 2, 3],
               [0.0234649547538384, -0.0211467366918433, -0.0533558653415615, -0.141080104628566, -0.107544274673025],
               [0.0145314904277398, 0.0113935648352396, 0.0157744281621729, 0.0322891808795742, 0.0329231688783015])


@pytest.fixture(scope="module")
def mpdta():
    return pd.read_csv(FIX / "mpdta.csv")


def _fit(mpdta, control_group):
    return etwfe(mpdta, outcome="lemp", unit="countyreal", time="year", first_treat="first.treat",
                 covariates=["lpop"], control_group=control_group)


@pytest.mark.parametrize("kind", list(NOTYET))
def test_etwfe_not_yet_treated_matches_r_etwfe(mpdta, kind):
    res = _fit(mpdta, "notyet").aggregates[kind]
    keys, att, se = NOTYET[kind]
    assert res["key"].tolist() == keys
    np.testing.assert_allclose(res["att"], att, rtol=1e-7)
    np.testing.assert_allclose(res["se"], se, rtol=1e-6)


def test_etwfe_never_treated_event_study_matches_r_etwfe(mpdta):
    res = _fit(mpdta, "never")
    ev = res.aggregates["event"].set_index("key").loc[NEVER_EVENT[0]]
    np.testing.assert_allclose(ev["att"], NEVER_EVENT[1], rtol=1e-7)
    np.testing.assert_allclose(ev["se"], NEVER_EVENT[2], rtol=1e-6)
    es = res.event_study()
    assert es.table.loc[es.table.rel_time == -1, "coef"].item() == 0.0


def test_etwfe_without_covariates_equals_the_cell_means_identity(mpdta):
    # without covariates and not-yet controls, ETWFE's simple ATT is the treated-observation average of the cell
    # coefficients -- and on a balanced panel equals the imputation estimator (Wooldridge 2021, Borusyak et al.)
    from pilotdid.estimation.staggered.bjs import imputation

    res = etwfe(mpdta, outcome="lemp", unit="countyreal", time="year", first_treat="first.treat")
    bjs = imputation(mpdta, outcome="lemp", unit="countyreal", time="year", first_treat="first.treat")
    assert res.aggregates["simple"].att.item() == pytest.approx(bjs.att, rel=1e-8)
