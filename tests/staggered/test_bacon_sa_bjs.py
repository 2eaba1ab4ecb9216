"""Bacon decomposition, Sun-Abraham, imputation and a small Monte Carlo on SYNTHETIC panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.staggered import bjs, cs, sa, twfe
from pilotdid.estimation.staggered.bacon import FORBIDDEN, bacon_decomposition
from pilotdid.estimation.staggered.panel import pyfixest_quiet
from pilotdid.estimation.staggered.simulate import simulate_staggered_panel

KW = dict(outcome="y", unit="unit", time="year", first_treat="first_treat")


def _pyfixest_twfe(df: pd.DataFrame) -> float:
    import pyfixest as pf
    d = df.assign(D=((df.first_treat > 0) & (df.year >= df.first_treat)).astype(float))
    with pyfixest_quiet():
        return float(pf.feols("y ~ D | unit + year", data=d).coef()["D"])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), never=st.sampled_from([0.0, 0.2, 0.5]), n_always=st.integers(0, 4))
def test_bacon_weights_sum_to_one_and_reproduce_twfe(seed, never, n_always):
    df, _ = simulate_staggered_panel(n_units=60, periods=(2011, 2018), cohorts=(2013, 2015, 2016),
                                     never_share=never, n_covariates=0, seed=seed)
    if n_always:
        df.loc[df.unit < n_always, "first_treat"] = 2011
    res = bacon_decomposition(df, **KW)
    assert res.comparisons["weight"].sum() == pytest.approx(1.0, abs=1e-10)
    assert (res.comparisons["weight"] >= 0).all()
    weighted = float((res.comparisons.weight * res.comparisons.estimate).sum())
    assert weighted == pytest.approx(res.twfe, abs=1e-10)
    assert res.twfe == pytest.approx(_pyfixest_twfe(df), abs=1e-10)


def test_bacon_types_and_forbidden_share():
    df, _ = simulate_staggered_panel(n_units=100, seed=4)
    res = bacon_decomposition(df, **KW)
    assert set(res.comparisons["type"]) == {"treated vs never treated", "earlier vs later treated",
                                            "later vs earlier treated"}
    forb = res.comparisons[res.comparisons.type.isin(FORBIDDEN)]
    assert res.forbidden_weight == pytest.approx(forb.weight.sum())
    assert 0 < res.forbidden_weight < 1
    assert res.by_type["weight"].sum() == pytest.approx(1.0)


def test_bacon_refuses_unbalanced_panel():
    df, _ = simulate_staggered_panel(n_units=30, seed=1)
    with pytest.raises(PilotdidInputError, match="unbalanced panel"):
        bacon_decomposition(df.drop(index=[3, 50]), **KW)


def test_sun_abraham_equals_cs_dynamic_never_treated_universal_base():
    df, _ = simulate_staggered_panel(n_units=120, seed=5, n_covariates=0)
    res = sa.sun_abraham(df, **KW)
    agg = cs.aggregate(cs.att_gt(df, **KW, base_period="universal"), "dynamic")
    np.testing.assert_allclose(res.table["coef"].to_numpy(), agg.detail["att"].to_numpy(), atol=1e-10)
    simple = cs.aggregate(cs.att_gt(df, **KW, base_period="universal"), "simple")
    assert res.att == pytest.approx(simple.att, abs=1e-10)
    assert res.vcov.shape == (len(res.table) - 1,) * 2


def test_sun_abraham_without_never_treated_uses_last_cohort():
    df, _ = simulate_staggered_panel(n_units=80, never_share=0.0, seed=6)
    res = sa.sun_abraham(df, **KW)
    assert any("last cohort" in n for n in res.notes)
    assert np.isfinite(res.att)


def test_imputation_points_equal_hand_imputation():
    """Points equal the BJS imputation estimate computed directly: mean of Y - Y0_hat over treated cells,
    Y0_hat from unit and year dummies fitted by lstsq on untreated cells (exact, unlike iterative demeaning)."""
    df, _ = simulate_staggered_panel(n_units=80, seed=7, n_covariates=0)
    res = bjs.imputation(df, **KW)
    dummies = np.column_stack([pd.get_dummies(df.unit).to_numpy(float), pd.get_dummies(df.year).to_numpy(float)])
    untreated = (df.did == 0).to_numpy()
    theta = np.linalg.lstsq(dummies[untreated], df.y.to_numpy()[untreated], rcond=None)[0]
    treated = df[~untreated]
    tau = treated["y"].to_numpy() - dummies[~untreated] @ theta
    assert res.att == pytest.approx(tau.mean(), abs=1e-10)
    rel = (treated.year - treated.first_treat).to_numpy()
    by_e = pd.Series(tau).groupby(rel).mean()
    post = res.table.set_index("rel_time").loc[by_e.index, "coef"]
    np.testing.assert_allclose(post.to_numpy(), by_e.to_numpy(), atol=1e-10)


def _one_draw(seed: int) -> dict[str, float]:
    df, true_att = simulate_staggered_panel(n_units=150, seed=seed, n_covariates=0)
    out = {"true": true_att}
    out["cs"] = cs.aggregate(cs.att_gt(df, **KW), "simple").att
    out["sa"] = sa.sun_abraham(df, **KW).att
    out["bjs"] = bjs.imputation(df, **KW).att
    out["twfe"] = twfe.twfe_event_study(df, **KW).att
    return out


def _monte_carlo(draws: int) -> pd.DataFrame:
    return pd.DataFrame([_one_draw(1000 + s) for s in range(draws)])


def _check(mc: pd.DataFrame) -> None:
    bias = {k: float((mc[k] - mc["true"]).mean()) for k in ("cs", "sa", "bjs", "twfe")}
    scale = float(mc["true"].mean())
    for k in ("cs", "sa", "bjs"):
        assert abs(bias[k]) < 0.05 * scale, (k, bias)
    assert abs(bias["twfe"]) > 0.2 * scale, bias


def test_monte_carlo_small_robust_estimators_recover_att_twfe_does_not():
    """SYNTHETIC dynamic, cohort-varying effects: 4 draws (the slow test runs 100)."""
    _check(_monte_carlo(4))


@pytest.mark.slow
def test_monte_carlo_large():
    _check(_monte_carlo(100))
