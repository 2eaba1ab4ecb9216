"""Each SE preset against a hand computation on a SYNTHETIC panel (dense numpy OLS with dummies and an
explicit CRV1 sandwich with the preset's correction), plus statsmodels and the published low-carbon LSDV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.twfe import VCOV_PRESETS, fit_twfe, get_preset, vcov_presets_table

from ._hand import lsdv, mean_constant, t_p

XS = ["did", "x1", "x2"]
FES = ["unit", "year"]


def fit(df, preset, **kw):
    return fit_twfe(df, "y", XS, FES, "unit", vcov=preset, **kw)


def test_lsdv_matches_dummy_regression(panel):
    hand = lsdv(panel, "y", XS, FES, "unit")
    res = fit(panel, "lsdv")
    assert res.k_counted == hand["K"] == 1 + 3 + (panel.unit.nunique() - 1) + (panel.year.nunique() - 1)
    se_hand = np.sqrt(np.diag(hand["V"]))
    np.testing.assert_allclose(res.coefs["coef"], hand["beta"][1:4], rtol=1e-8)
    np.testing.assert_allclose(res.coefs["se"], se_hand[1:4], rtol=1e-8)
    # base-levels intercept and its SE
    assert res.constant["coef"] == pytest.approx(hand["beta"][0], rel=1e-9)
    assert res.constant["se"] == pytest.approx(se_hand[0], rel=1e-9)
    t, p = t_p(hand["beta"][1], se_hand[1], hand["G"] - 1)
    assert res.t_df == hand["G"] - 1
    assert res.term("did")["t"] == pytest.approx(t, rel=1e-9)
    assert res.term("did")["p"] == pytest.approx(p, rel=1e-8)
    # overall R² of the dummy regression
    yv = panel["y"].to_numpy()
    assert res.r2 == pytest.approx(1 - hand["e"] @ hand["e"] / ((yv - yv.mean()) ** 2).sum(), rel=1e-9)
    assert res.adj_r2 == pytest.approx(1 - (1 - res.r2) * (hand["N"] - 1) / (hand["N"] - hand["K"]), rel=1e-12)


def test_lsdv_matches_statsmodels(panel):
    X = pd.get_dummies(panel[["unit", "year"]].astype(str), drop_first=True).astype(float)
    X = sm.add_constant(pd.concat([panel[XS], X], axis=1))
    sm_fit = sm.OLS(panel["y"], X).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(panel["unit"])[0]}, use_t=True)
    res = fit(panel, "lsdv")
    np.testing.assert_allclose(res.coefs["se"], sm_fit.bse[XS], rtol=1e-8)
    assert res.constant["se"] == pytest.approx(sm_fit.bse["const"], rel=1e-8)
    np.testing.assert_allclose(res.coefs["p"], sm_fit.pvalues[XS], rtol=1e-7)  # statsmodels: t with G−1 df


def test_areg_same_se_as_lsdv_mean_constant(panel):
    K = 1 + 3 + (panel.unit.nunique() - 1) + (panel.year.nunique() - 1)
    cons, cons_se, b, se = mean_constant(panel, "y", XS, ["unit"], ["year"], "unit", K)
    res = fit(panel, "areg")
    assert res.k_counted == K
    np.testing.assert_allclose(res.coefs["coef"], b, rtol=1e-8)
    np.testing.assert_allclose(res.coefs["se"], se, rtol=1e-8)
    np.testing.assert_allclose(res.coefs["se"], fit(panel, "lsdv").coefs["se"], rtol=1e-12)
    assert res.constant["coef"] == pytest.approx(cons, rel=1e-9)
    assert res.constant["se"] == pytest.approx(cons_se, rel=1e-9)
    # the mean-based constant is ȳ − x̄'b with x̄ including the year-dummy shares
    assert res.constant["coef"] != pytest.approx(fit(panel, "lsdv").constant["coef"], rel=1e-3)


def test_xtreg_fe_unit_effects_not_counted(panel):
    K = 1 + 3 + (panel.year.nunique() - 1)
    cons, cons_se, b, se = mean_constant(panel, "y", XS, ["unit"], ["year"], "unit", K)
    res = fit(panel, "xtreg_fe")
    assert res.k_counted == K
    np.testing.assert_allclose(res.coefs["se"], se, rtol=1e-8)
    assert res.constant["coef"] == pytest.approx(cons, rel=1e-9)
    assert res.constant["se"] == pytest.approx(cons_se, rel=1e-9)
    assert res.constant["coef"] == pytest.approx(fit(panel, "areg").constant["coef"], rel=1e-12)


def test_xtreg_fe_refuses_cluster_not_nesting_panel(panel):
    with pytest.raises(PilotdidInputError, match="nested"):
        fit_twfe(panel, "y", XS, FES, "year", vcov="xtreg_fe")


def test_reghdfe_nested_fe_not_counted_and_singletons_dropped(panel_with_singleton):
    df = panel_with_singleton
    res = fit_twfe(df, "y", XS, FES, "unit", vcov="reghdfe")
    assert res.singletons_dropped == 1 and res.nobs == len(df) - 1
    kept = df[df.unit != "zz"]
    K = 3 + 1 + (kept.year.nunique() - 1)
    assert res.k_counted == K
    cons, cons_se, b, se = mean_constant(kept, "y", XS, ["unit", "year"], [], "unit", K)
    np.testing.assert_allclose(res.coefs["coef"], b, rtol=1e-8)
    np.testing.assert_allclose(res.coefs["se"], se, rtol=1e-8)
    assert res.constant["coef"] == pytest.approx(cons, rel=1e-12)  # closed form on an exact within transformation
    assert res.constant["se"] == pytest.approx(cons_se, rel=1e-12)
    assert res.t_df == kept.unit.nunique() - 1


def test_fixest_keeps_singletons_no_constant(panel_with_singleton):
    df = panel_with_singleton
    res = fit_twfe(df, "y", XS, FES, "unit", vcov="fixest")
    assert res.constant is None and res.singletons_dropped == 0 and res.singleton_rows == 1
    assert res.nobs == len(df)
    hand = lsdv(df, "y", XS, FES, "unit")  # same residuals/bread; only the factor differs
    K = 3 + 1 + (df.year.nunique() - 1)
    q = (hand["N"] - 1) / (hand["N"] - K) * hand["G"] / (hand["G"] - 1)
    np.testing.assert_allclose(res.coefs["se"], np.sqrt(np.diag(hand["V"] / hand["q"] * q))[1:4], rtol=1e-8)
    assert res.t_df == hand["G"] - 1
    with pytest.raises(KeyError):
        res.term("_cons")


@pytest.mark.parametrize("name", list(VCOV_PRESETS))
def test_every_preset_is_a_rescaled_lsdv_sandwich(panel, name):
    """Same point estimates everywhere; SE² ratio to lsdv equals the ratio of small-sample factors."""
    base, res = fit(panel, "lsdv"), fit(panel, name)
    np.testing.assert_allclose(res.coefs["coef"], base.coefs["coef"], rtol=1e-8)
    np.testing.assert_allclose(
        (res.coefs["se"] / base.coefs["se"]) ** 2, res.small_sample_factor / base.small_sample_factor, rtol=1e-9
    )


def test_weights_match_statsmodels_wls(panel):
    df = panel.assign(w=np.random.default_rng(1).uniform(0.5, 2.0, len(panel)))
    X = pd.get_dummies(df[["unit", "year"]].astype(str), drop_first=True).astype(float)
    X = sm.add_constant(pd.concat([df[XS], X], axis=1))
    sm_fit = sm.WLS(df["y"], X, weights=df["w"]).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(df["unit"])[0]}, use_t=True
    )
    res = fit_twfe(df, "y", XS, FES, "unit", vcov="lsdv", weights="w")
    np.testing.assert_allclose(res.coefs["coef"], sm_fit.params[XS], rtol=1e-8)
    np.testing.assert_allclose(res.coefs["se"], sm_fit.bse[XS], rtol=1e-7)
    assert res.constant["coef"] == pytest.approx(sm_fit.params["const"], rel=1e-8)
    assert res.constant["se"] == pytest.approx(sm_fit.bse["const"], rel=1e-7)


def test_unknown_preset_lists_valid_ones(panel):
    with pytest.raises(PilotdidInputError) as err:
        fit(panel, "stata")
    for name in VCOV_PRESETS:
        assert name in str(err.value)
    assert "\n" not in str(err.value)
    assert get_preset("reghdfe").name == "reghdfe"


def test_vcov_presets_table_rows(panel):
    rows, fits = vcov_presets_table(panel, "y", XS, FES, "unit")
    assert list(rows["preset"]) == list(VCOV_PRESETS)
    assert set(fits) == set(VCOV_PRESETS)
    assert rows["coef"].nunique() == 1 or np.ptp(rows["coef"]) < 1e-10
    lsdv_row = rows.set_index("preset").loc["lsdv"]
    assert lsdv_row["se"] == pytest.approx(fits["lsdv"].term("did")["se"])
    assert rows.set_index("preset").loc["fixest", "constant"] is None or pd.isna(rows.set_index("preset").loc["fixest", "constant"])


#: The published regression sample, shipped in the repository (same bytes as the shared real-data copy).
LOWCARBON = __import__("pathlib").Path(__file__).resolve().parents[2] / "examples" / "lowcarbon" / "sample.xlsx"


def test_lowcarbon_published_lsdv():
    """Published (biechouwo-coder/G-P, DID回归结果.xlsx): did 0.017066 (0.028785), t 0.5929, p 0.5539,
    constant 14.748711 (1.682412), N 3623, R² 0.9712."""
    df = pd.read_excel(LOWCARBON)
    ctrl = ["ln_pgdp", "ln_pop_density", "industrial_advanced", "ln_road_area", "financial_development"]
    res = fit_twfe(df, "ln_carbon_intensity", ["did", *ctrl], ["city_name", "year"], "city_name", vcov="lsdv")
    did = res.term("did")
    assert round(did["coef"], 6) == 0.017066 and round(did["se"], 6) == 0.028785
    assert round(did["t"], 4) == 0.5929 and round(did["p"], 4) == 0.5539
    assert round(res.constant["coef"], 6) == 14.748711 and round(res.constant["se"], 6) == 1.682412
    assert res.nobs == 3623 and res.n_clusters == 215 and round(res.r2, 4) == 0.9712


def test_heteroskedasticity_robust_without_cluster(panel):
    X = pd.get_dummies(panel[["unit", "year"]].astype(str), drop_first=True).astype(float)
    X = sm.add_constant(pd.concat([panel[XS], X], axis=1))
    sm_fit = sm.OLS(panel["y"], X).fit(cov_type="HC1", use_t=True)
    res = fit_twfe(panel, "y", XS, FES, None, vcov="lsdv")
    np.testing.assert_allclose(res.coefs["se"], sm_fit.bse[XS], rtol=1e-7)
    assert res.t_df == len(panel) - X.shape[1] and res.n_clusters is None
    assert res.constant["se"] == pytest.approx(sm_fit.bse["const"], rel=1e-7)


def test_reghdfe_cluster_coarser_than_unit(panel):
    """Clusters by province: the unit FE is nested in the clusters (not counted), the year FE is not."""
    hand = lsdv(panel, "y", XS, FES, "province")
    res = fit_twfe(panel, "y", XS, FES, "province", vcov="reghdfe")
    K = 3 + 1 + (panel.year.nunique() - 1)
    G = panel.province.nunique()
    assert res.k_counted == K and res.n_clusters == G and res.t_df == G - 1
    q = (hand["N"] - 1) / (hand["N"] - K) * G / (G - 1)
    np.testing.assert_allclose(res.coefs["se"], np.sqrt(np.diag(hand["V"] / hand["q"] * q))[1:4], rtol=1e-8)
    # lsdv counts everything whatever the clusters
    assert fit_twfe(panel, "y", XS, FES, "province", vcov="lsdv").k_counted == hand["K"]


def test_disconnected_fixed_effects_no_constant(panel):
    """Two groups of units observed in disjoint years: slopes fine, the intercept is not identified."""
    a = panel[panel.unit.isin(["u00", "u01", "u02", "u03", "u04", "u05"]) & (panel.year <= 2012)]
    b = panel[~panel.unit.isin(["u00", "u01", "u02", "u03", "u04", "u05"]) & (panel.year > 2012)]
    df = pd.concat([a, b])
    res = fit_twfe(df, "y", XS, FES, "unit", vcov="lsdv")
    assert res.constant is None and any("not identified" in n for n in res.notes)
    # regress would omit one more dummy: K counts the identified parameters only
    hand = lsdv(df, "y", XS, FES, "unit")
    rank = np.linalg.matrix_rank(hand["X"])
    assert rank == hand["K"] - 1 and res.k_counted == rank
    q = (hand["N"] - 1) / (hand["N"] - rank) * hand["G"] / (hand["G"] - 1)
    np.testing.assert_allclose(res.coefs["se"], np.sqrt(np.diag(hand["V"] / hand["q"] * q))[1:4], rtol=1e-7)
