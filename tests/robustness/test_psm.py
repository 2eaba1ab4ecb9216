"""PSM matching on small examples worked by hand (scores given), and the full pipeline (SYNTHETIC data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilotdid.design.psm import _match_pool, logit_pscore, psm_match
from pilotdid.errors import PilotdidInputError

# two treated rows (0.30, 0.50), six controls; worked by hand below
P = np.array([0.30, 0.50, 0.28, 0.33, 0.36, 0.45, 0.52, 0.90])
T = np.array([True, True, False, False, False, False, False, False])
RNG = np.random.default_rng(0)


def test_nearest_neighbour_with_replacement_by_hand():
    # 0.30 -> 0.28 (d .02), 0.33 (d .03); 0.50 -> 0.52 (d .02), 0.45 (d .05); k = 2, each match weighs 1/2
    w, s = _match_pool(P, T, "nearest", 2, True, None, 0.06, True, RNG)
    np.testing.assert_allclose(w, [1, 1, 0.5, 0.5, 0, 0.5, 0.5, 0])
    assert s.all()
    assert int((w > 0).sum()) == 6  # N as the paper counts it


def test_nearest_neighbour_reuses_a_control_with_replacement():
    p = np.array([0.30, 0.31, 0.29, 0.60])
    t = np.array([True, True, False, False])
    w, _ = _match_pool(p, t, "nearest", 1, True, None, 0.06, True, RNG)
    np.testing.assert_allclose(w, [1, 1, 2, 0])  # the control serves both treated rows
    w, _ = _match_pool(p, t, "nearest", 1, False, None, 0.06, True, np.random.default_rng(1))
    np.testing.assert_allclose(w, [1, 1, 1, 1])  # without replacement the second treated row takes 0.60


def test_nearest_neighbour_caliper_sets_off_support():
    w, s = _match_pool(P, T, "nearest", 2, True, 0.025, 0.06, True, RNG)
    # 0.30 keeps only 0.28 (0.33 is .03 away); 0.50 keeps only 0.52
    np.testing.assert_allclose(w, [1, 1, 1, 0, 0, 0, 1, 0])
    w, s = _match_pool(P, T, "nearest", 2, True, 0.001, 0.06, True, RNG)
    assert not s[0] and not s[1] and w.sum() == 0


def test_radius_by_hand():
    # caliper .04: 0.30 -> {0.28, 0.33} (1/2 each); 0.50 -> {0.52} (0.45 is .05 away)
    w, s = _match_pool(P, T, "radius", 3, True, 0.04, 0.06, True, RNG)
    np.testing.assert_allclose(w, [1, 1, 0.5, 0.5, 0, 0, 1, 0])


def test_epanechnikov_kernel_by_hand():
    # bandwidth .06; for 0.30: u = -1/3 -> .75(1 - 1/9) = 2/3; 0.33: u = .5 -> .5625; 0.36: u = 1 -> 0
    # for 0.50: 0.45: u = -5/6 -> .75(1 - 25/36) = .2291666; 0.52: u = 1/3 -> 2/3
    w, s = _match_pool(P, T, "kernel", 3, True, None, 0.06, True, RNG)
    a = (2 / 3) / (2 / 3 + 0.5625)
    b = 0.2291666666666667 / (0.2291666666666667 + 2 / 3)
    np.testing.assert_allclose(w, [1, 1, a, 1 - a, 0, b, 1 - b, 0])


def test_common_support_drops_treated_outside_control_range():
    p = np.array([0.95, 0.30, 0.28, 0.90])
    t = np.array([True, True, False, False])
    w, s = _match_pool(p, t, "nearest", 1, True, None, 0.06, True, RNG)
    assert not s[0] and s[1]
    np.testing.assert_allclose(w, [0, 1, 1, 0])
    w, s = _match_pool(p, t, "nearest", 1, True, None, 0.06, False, RNG)
    assert s[0]
    np.testing.assert_allclose(w, [1, 1, 1, 1])


def test_logit_pscore_matches_statsmodels():
    import statsmodels.api as sm

    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 2))
    d = (rng.random(300) < 1 / (1 + np.exp(-(0.5 * x[:, 0] - x[:, 1])))).astype(float)
    frame = pd.DataFrame({"d": d, "a": x[:, 0], "b": x[:, 1]})
    ref = sm.Logit(d, sm.add_constant(x)).fit(disp=0).predict(sm.add_constant(x))
    np.testing.assert_allclose(logit_pscore(frame, "d", ["a", "b"]).to_numpy(), ref, rtol=1e-8)


def test_pipeline_on_panel(panel):
    for method in ("nearest", "radius", "kernel"):
        m = psm_match(panel, treat="did", covariates=["x1", "x2"], method=method)
        s = m.summary()
        assert s["treated_rows"] == int(panel["did"].sum())
        assert m.n_matched == s["treated_on_support"] + s["controls_used"]
        # control weights add up to the number of matched treated rows
        assert m.weight[~m.treated].sum() == pytest.approx((m.treated & m.support & (m.weight > 0)).sum())
        assert list(m.balance["variable"]) == ["x1", "x2"]
    by = psm_match(panel, treat="did", covariates=["x1"], method="nearest", pooling="by_period", time="year")
    assert any("only treated or only control" in n for n in by.notes)  # years before the first cohort


def test_balance_bias_formula(panel):
    m = psm_match(panel, treat="did", covariates=["x1"], method="nearest")
    x = panel["x1"].to_numpy()
    t = panel["did"].to_numpy() > 0
    scale = np.sqrt((x[t].var(ddof=1) + x[~t].var(ddof=1)) / 2)
    assert m.balance["bias_pct_unmatched"].item() == pytest.approx(100 * (x[t].mean() - x[~t].mean()) / scale)
    w = m.weight.to_numpy()
    mc = np.average(x[~t & (w > 0)], weights=w[~t & (w > 0)])
    assert m.balance["mean_control_matched"].item() == pytest.approx(mc)


def test_bad_options(panel):
    with pytest.raises(PilotdidInputError):
        psm_match(panel, treat="did", covariates=["x1"], method="mahalanobis")
    with pytest.raises(PilotdidInputError):
        psm_match(panel, treat="did", covariates=["x1"], pooling="by_period")
    with pytest.raises(PilotdidInputError):
        psm_match(panel, treat="did", covariates=["nope"])
