"""Callaway-Sant'Anna: our numpy implementation against stored `csdid` 0.4.3 reference values.

The reference (fixtures/cs_reference.csv) was produced once by fixtures/make_cs_reference.py in a
separate venv from the SYNTHETIC panel fixtures/cs_panel.csv; see that script's docstring.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.staggered import cs
from pilotdid.estimation.staggered.simulate import simulate_staggered_panel

FIX = Path(__file__).parent / "fixtures"
CONFIGS = {
    "never_varying_nocov": ("never_treated", "varying", "dr", None),
    "notyet_varying_nocov": ("not_yet_treated", "varying", "dr", None),
    "never_universal_nocov": ("never_treated", "universal", "dr", None),
    "notyet_universal_nocov": ("not_yet_treated", "universal", "dr", None),
    "never_varying_dr": ("never_treated", "varying", "dr", ["x1", "x2"]),
    "never_varying_ipw": ("never_treated", "varying", "ipw", ["x1", "x2"]),
    "never_varying_reg": ("never_treated", "varying", "reg", ["x1", "x2"]),
    "notyet_varying_dr": ("not_yet_treated", "varying", "dr", ["x1", "x2"]),
}


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pd.read_csv(FIX / "cs_panel.csv")


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(FIX / "cs_reference.csv")


def _fit(panel, name):
    cg, bp, method, covs = CONFIGS[name]
    return cs.att_gt(panel, outcome="y", unit="unit", time="year", first_treat="first_treat",
                     covariates=covs, control_group=cg, base_period=bp, est_method=method)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_att_gt_matches_csdid(panel, reference, name):
    res = _fit(panel, name)
    tol = 1e-6 if CONFIGS[name][3] is None else 1e-4
    ref = reference[(reference.config == name) & (reference.kind == "att_gt")].set_index("label")
    ours = res.att_gt.assign(label=lambda d: d.group.astype(str) + ":" + d.time.astype(str)).set_index("label")
    assert sorted(ours.index) == sorted(ref.index)
    np.testing.assert_allclose(ours.loc[ref.index, "att"], ref["att"], atol=tol, rtol=0)
    se_ref = ref["se"].to_numpy()
    se_ours = ours.loc[ref.index, "se"].to_numpy()
    finite = np.isfinite(se_ref)
    np.testing.assert_allclose(se_ours[finite], se_ref[finite], atol=tol, rtol=0)


@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("typ", ["simple", "group", "calendar", "dynamic"])
def test_aggregations_match_csdid(panel, reference, name, typ):
    res = _fit(panel, name)
    tol = 1e-6 if CONFIGS[name][3] is None else 1e-4
    agg = cs.aggregate(res, typ)
    ref = reference[(reference.config == name) & (reference.kind == typ)]
    overall = ref[ref.label == "overall"].iloc[0]
    assert agg.att == pytest.approx(overall.att, abs=tol)
    assert agg.se == pytest.approx(overall.se, abs=tol)
    if typ != "simple":
        det = ref[ref.label != "overall"].assign(k=lambda d: d.label.astype(int)).set_index("k")
        ours = agg.detail.set_index(agg.detail.columns[0])
        np.testing.assert_allclose(ours.loc[det.index, "att"], det["att"], atol=tol)
        se_ref = det["se"].to_numpy()
        finite = np.isfinite(se_ref)
        np.testing.assert_allclose(ours.loc[det.index, "se"].to_numpy()[finite], se_ref[finite], atol=tol)


def test_bootstrap_reproducible_and_close_to_analytic(panel):
    res = _fit(panel, "never_varying_nocov")
    b1 = cs.bootstrap(res, draws=2000, seed=7)
    b2 = cs.bootstrap(res, draws=2000, seed=7)
    pd.testing.assert_frame_equal(b1.att_gt, b2.att_gt)
    ratio = b1.att_gt["se"] / res.att_gt["se"]
    assert ratio.between(0.8, 1.2).all()
    # uniform band critical value exceeds the pointwise 1.96
    assert b1.bootstrap["crit"] > 1.96
    mam = cs.bootstrap(res, draws=2000, seed=7, weights="mammen")
    assert (mam.att_gt["se"] / res.att_gt["se"]).between(0.8, 1.2).all()


def test_aggregate_bootstrap_gives_uniform_bands(panel):
    res = _fit(panel, "never_varying_nocov")
    agg = cs.aggregate(res, "dynamic", bootstrap_draws=999, seed=3)
    assert agg.crit > 1.96
    width = agg.detail.ci_high - agg.detail.ci_low
    assert np.allclose(width, 2 * agg.crit * agg.detail.se)


def test_cluster_coarser_than_unit_widens_or_equals(panel):
    df = panel.assign(region=panel["unit"] // 10)
    base = cs.att_gt(df, outcome="y", unit="unit", time="year", first_treat="first_treat")
    clus = cs.att_gt(df, outcome="y", unit="unit", time="year", first_treat="first_treat", cluster="region")
    np.testing.assert_allclose(base.att_gt["att"], clus.att_gt["att"])
    assert not np.allclose(base.att_gt["se"], clus.att_gt["se"])


def test_dynamic_balance_and_window(panel):
    res = _fit(panel, "never_varying_nocov")
    agg = cs.aggregate(res, "dynamic", min_e=-2, max_e=2)
    assert agg.detail["event_time"].tolist() == [-2, -1, 0, 1, 2]
    bal = cs.aggregate(res, "dynamic", balance_e=2)
    assert bal.detail["event_time"].max() == 2


def test_unbalanced_panel_refused(panel):
    with pytest.raises(PilotdidInputError, match="unbalanced"):
        cs.att_gt(panel.iloc[1:], outcome="y", unit="unit", time="year", first_treat="first_treat")


def test_bad_options_refused(panel):
    with pytest.raises(PilotdidInputError, match="control_group"):
        cs.att_gt(panel, outcome="y", unit="unit", time="year", first_treat="first_treat", control_group="all")


def test_recovers_true_att_on_synthetic_panel():
    df, true_att = simulate_staggered_panel(n_units=400, seed=11)
    res = cs.att_gt(df, outcome="y", unit="unit", time="year", first_treat="first_treat")
    agg = cs.aggregate(res, "simple")
    assert abs(agg.att - true_att) < 4 * agg.se


def test_separation_refused_or_fallback_noted():
    """A one-unit cohort (SYNTHETIC) has no propensity-score MLE: refuse by default, or fall back and say so."""
    df, _ = simulate_staggered_panel(n_units=120, n_covariates=3, seed=31)
    one = df.loc[df.first_treat == 2015, "unit"].unique()[1:]
    df.loc[df.unit.isin(one), "first_treat"] = 0
    df.loc[df.first_treat == 2015, "x1"] = 50.0  # outside the controls' covariate hull: perfect separation
    kw = dict(outcome="y", unit="unit", time="year", first_treat="first_treat", covariates=["x1", "x2", "x3"])
    with pytest.raises(PilotdidInputError, match="propensity score"):
        cs.att_gt(df, **kw)
    res = cs.att_gt(df, **kw, ps_fallback="reg")
    assert any("outcome regression instead of dr" in n and "g=2015" in n for n in res.notes)
    reg = cs.att_gt(df, **kw, est_method="reg")
    rows = res.att_gt.group == 2015
    np.testing.assert_allclose(res.att_gt.loc[rows, "att"], reg.att_gt.loc[rows, "att"], atol=1e-12)


# ------------------------------------------------------------------ clustered multiplier bootstrap (issue 17)

def test_cluster_bootstrap_matches_csdid_on_cbec_provinces():
    """REAL data: the CBEC sample clustered by province (29 clusters of 1-16 cities) against csdid 0.4.3,
    whose mboot sums the influence function within clusters as R did >= 2.5.0 (fixtures/
    make_cbec_cluster_reference.py). Averaging within clusters (R did < 2.5) gave 0.0358 for the simple ATT.

    The bootstrap SE is R's IQR-based sigma: with 29 very unequal clusters the cluster sums are far from
    normal, so it exceeds the analytic SE by up to 35% in some cells — csdid's own ratio, which ours tracks."""
    df = pd.read_csv(FIX / "cbec_cs_panel.csv")
    ref = pd.read_csv(FIX / "cbec_cluster_reference.csv")
    res = cs.att_gt(df, outcome="resi", unit="city_id", time="year", first_treat="first_treat",
                    base_period="universal", cluster="province")
    boot = cs.bootstrap(res, draws=9999, seed=1).att_gt
    cells = ref[ref.kind == "att_gt"].set_index("label")
    label = boot.group.astype(str) + ":" + boot.time.astype(str)
    ours = boot.assign(analytic=res.att_gt.se.to_numpy()).set_index(label)
    estimated = cells.se_analytic.notna()
    np.testing.assert_allclose(ours.loc[cells.index, "att"], cells.att, atol=1e-10)
    np.testing.assert_allclose(ours.loc[cells.index[estimated], "analytic"], cells.se_analytic[estimated], rtol=1e-8)
    checked = ours.loc[cells.index[estimated]]
    checked = checked[checked.n_treated >= 5]
    assert len(checked) == 32
    ref_boot = cells.loc[checked.index, "se_bootstrap"]
    np.testing.assert_allclose(checked.se, ref_boot, rtol=0.10)
    # ours/analytic tracks csdid's bootstrap/analytic (the old cluster-mean bootstrap ranged 0.63-10.5)
    np.testing.assert_allclose(checked.se / checked.analytic, ref_boot / checked.analytic, atol=0.10)
    simple = ref[ref.kind == "simple"].iloc[0]
    agg = cs.aggregate(res, "simple", bootstrap_draws=9999, seed=1)
    assert agg.att == pytest.approx(simple.att, abs=1e-10)
    assert cs.aggregate(res, "simple").se == pytest.approx(simple.se_analytic, rel=1e-8)
    assert agg.se == pytest.approx(simple.se_bootstrap, rel=0.10)


def test_cluster_bootstrap_equals_analytic_with_unequal_clusters_and_a_singleton():
    """SYNTHETIC: 400 units in 52 clusters of 1 to 25 units (one singleton). Cluster sums make the bootstrap
    variance equal the analytic clustered one; cluster means scaled by 1/sqrt(G) (R did < 2.5) do not."""
    df, _ = simulate_staggered_panel(n_units=400, seed=17, n_covariates=0)
    sizes = np.r_[1, [2] * 20, [5] * 20, [25] * 10, 9]  # 52 clusters of 1 to 25 units
    assert sizes.sum() == 400
    units = np.sort(df.unit.unique())
    cluster_of = dict(zip(units, np.repeat(np.arange(len(sizes)), sizes)))
    df["cl"] = df.unit.map(cluster_of)
    res = cs.att_gt(df, outcome="y", unit="unit", time="year", first_treat="first_treat", cluster="cl")
    boot = cs.bootstrap(res, draws=9999, seed=3)
    ratio = boot.att_gt.se / res.att_gt.se
    assert ratio.dropna().between(0.9, 1.1).all()
    for typ in ("simple", "dynamic"):
        a = cs.aggregate(res, typ)
        b = cs.aggregate(res, typ, bootstrap_draws=9999, seed=3)
        assert b.se == pytest.approx(a.se, rel=0.1)


def test_bootstrap_draws_do_not_depend_on_block_size(panel):
    """Multipliers are generated in blocks (999 x 100k units was a 763 MB matrix); each draw has its own
    stream and the products are taken in fixed-shape chunks, so the block size never changes a number."""
    res = _fit(panel, "never_varying_nocov")
    inf = res.influence
    whole = cs.multiplier_bootstrap(inf, draws=501, seed=9)
    for block_bytes in (1, 8 * inf.shape[0] * cs.DRAW_CHUNK * 3, 10**9):
        se, crit = cs.multiplier_bootstrap(inf, draws=501, seed=9, block_bytes=block_bytes)
        np.testing.assert_array_equal(se, whole[0])
        assert crit == whole[1]
    np.testing.assert_array_equal(cs.multiplier_draws(50, 10, 4)[3:7], cs.multiplier_draws(50, 4, 4, start=3))


# ------------------------------------------------------ universal base with time-varying covariates (issue 17)

TV_CONFIGS = {"never_universal_reg": ("never_treated", "reg"), "never_universal_dr": ("never_treated", "dr"),
              "never_universal_ipw": ("never_treated", "ipw"), "notyet_universal_dr": ("not_yet_treated", "dr")}


@pytest.mark.parametrize("name", list(TV_CONFIGS))
def test_universal_base_time_varying_covariates_match_csdid(name):
    """SYNTHETIC time-varying covariates (fixtures/make_cs_tv_reference.py): pre-period cells t < g-1 take
    the covariates at t, the earlier period (R did 2.5.1 ``earlier_idx <- min(t + tfac, pret)``, csdid)."""
    df = pd.read_csv(FIX / "cs_tv_panel.csv")
    ref = pd.read_csv(FIX / "cs_tv_reference.csv")
    ref = ref[ref.config == name]
    cg, method = TV_CONFIGS[name]
    res = cs.att_gt(df, outcome="y", unit="unit", time="year", first_treat="first_treat", covariates=["x1", "x2"],
                    control_group=cg, est_method=method, base_period="universal")
    cells = ref[ref.kind == "att_gt"].set_index("label")
    ours = res.att_gt.set_index(res.att_gt.group.astype(str) + ":" + res.att_gt.time.astype(str))
    assert sorted(ours.index) == sorted(cells.index)
    np.testing.assert_allclose(ours.loc[cells.index, "att"], cells.att, atol=1e-10, rtol=0)
    finite = cells.se.notna()
    np.testing.assert_allclose(ours.loc[cells.index[finite], "se"], cells.se[finite], atol=1e-10, rtol=0)
    dyn = ref[ref.kind == "dynamic"].assign(e=lambda d: d.label.astype(int)).set_index("e")
    agg = cs.aggregate(res, "dynamic").detail.set_index("event_time")
    np.testing.assert_allclose(agg.loc[dyn.index, "att"], dyn.att, atol=1e-10, rtol=0)
    # the named alternative conditions every cell on g-1: pre-period cells move, post-period cells do not
    base = cs.att_gt(df, outcome="y", unit="unit", time="year", first_treat="first_treat", covariates=["x1", "x2"],
                     control_group=cg, est_method=method, base_period="universal", covariate_period="base").att_gt
    early = (res.att_gt.time < res.att_gt.group - 1).to_numpy()
    np.testing.assert_allclose(base.att[~early], res.att_gt.att[~early], atol=1e-12)
    assert np.abs(base.att[early] - res.att_gt.att[early]).max() > 1e-3


# ------------------------------------------------- ps_fallback, units per event time, thin event times (issue 17)

def _separated_panel():
    """SYNTHETIC: a one-unit cohort outside the controls' covariate hull (perfect separation)."""
    df, _ = simulate_staggered_panel(n_units=120, n_covariates=3, seed=31)
    one = df.loc[df.first_treat == 2015, "unit"].unique()[1:]
    df.loc[df.unit.isin(one), "first_treat"] = 0
    df.loc[df.first_treat == 2015, "x1"] = 50.0
    return df, dict(outcome="y", unit="unit", time="year", first_treat="first_treat", covariates=["x1", "x2", "x3"])


def test_ps_fallback_none_leaves_cells_na_and_aggregates_say_so():
    """R did / csdid: a cell without a propensity score is NA; the aggregate leaves it out and names it."""
    df, kw = _separated_panel()
    none = cs.att_gt(df, **kw, ps_fallback="none")
    reg = cs.att_gt(df, **kw, ps_fallback="reg")
    hit = (none.att_gt.group == 2015) & (none.att_gt.time != none.att_gt.base)
    assert none.att_gt.loc[hit, ["att", "se"]].isna().all().all()
    assert none.fallback_cells == reg.fallback_cells and len(none.fallback_cells) == int(hit.sum())
    # the separation test that failed is named with its threshold, not "does not exist"
    assert any("left NA" in n and "failed: score >= 0.999" in n and "0.999" in n for n in none.notes)
    np.testing.assert_allclose(none.att_gt.loc[~hit, "att"], reg.att_gt.loc[~hit, "att"], atol=1e-12)
    # "none" is "reg" with those cells masked: one estimation serves both conventions
    masked = cs.without_cells(reg, reg.fallback_cells)
    pd.testing.assert_frame_equal(masked.att_gt, none.att_gt)
    for typ in ("simple", "group", "calendar", "dynamic"):
        a = cs.aggregate(none, typ)
        assert a.lacking_cells and any("lacks" in n for n in a.notes)
        assert np.isfinite(a.att) and np.isfinite(a.se)
    # the simple aggregate equals a fit without the separated cohort
    without = cs.att_gt(df[df.first_treat != 2015], **kw)
    assert cs.aggregate(none, "simple").att == pytest.approx(cs.aggregate(without, "simple").att, abs=1e-12)
    with pytest.raises(PilotdidInputError, match="ps_fallback"):
        cs.att_gt(df, **kw, ps_fallback="drop")


def test_dynamic_units_per_event_time_thin_warning_and_balance_e(panel):
    res = _fit(panel, "never_varying_nocov")
    sizes = panel.groupby("unit").first_treat.first().value_counts()
    dyn = cs.aggregate(res, "dynamic")
    det = dyn.detail.set_index("event_time")
    # varying base: cells for t = 2013..2019; event time e rests on the cohorts g with 2013 <= g + e <= 2019
    expected = {e: int(sum(sizes[g] for g in (2015, 2016, 2017, 2018) if 2013 <= g + e <= 2019)) for e in det.index}
    assert det.n_units.to_dict() == expected
    assert not any("fewer than" in n for n in dyn.notes)
    thin = cs.aggregate(res, "dynamic", min_units_e=int(sizes[2015]) + 1)
    assert any(f"e = {2019 - 2015} ({int(sizes[2015])} treated units)" in n for n in thin.notes)
    # balance_e = 3 (R did's): only cohorts observed at e = 0..3 (2015, 2016), the same units at every post e
    bal = cs.aggregate(res, "dynamic", balance_e=3).detail
    post = bal[bal.event_time >= 0]
    assert post.event_time.tolist() == [0, 1, 2, 3]
    assert (post.n_units == sizes[2015] + sizes[2016]).all() and (bal.n_cohorts <= 2).all()


def test_ps_fallback_none_equals_csdid_on_cbec_with_covariates():
    """REAL data (fixtures/make_cbec_cluster_reference.py): doubly robust with the four controls. csdid 0.4.3, as
    R did 2.5.1, leaves NA every cell whose propensity logit fails the overlap guard (max fitted score >= 0.999):
    20 cells here (cohorts 2015 and 2016 entirely, four of 2018); the simple aggregate averages the rest."""
    df = pd.read_csv(FIX / "cbec_cs_panel.csv")
    ref = pd.read_csv(FIX / "cbec_dr_reference.csv")
    res = cs.att_gt(df, outcome="resi", unit="city_id", time="year", first_treat="first_treat",
                    covariates=["agg", "invest", "tec", "market"], base_period="universal", ps_fallback="none")
    cells = ref[ref.kind == "att_gt"].set_index("label")
    ours = res.att_gt.set_index(res.att_gt.group.astype(str) + ":" + res.att_gt.time.astype(str))
    assert sorted(ours.index) == sorted(cells.index)
    na = cells.att.isna()
    assert na.sum() == 20 and ours.loc[cells.index[na], "att"].isna().all()
    assert sorted(res.fallback_cells) == sorted(cells.index[na])
    np.testing.assert_allclose(ours.loc[cells.index[~na], "att"], cells.att[~na], atol=1e-10, rtol=0)
    has_se = cells.se.notna()
    np.testing.assert_allclose(ours.loc[cells.index[has_se], "se"], cells.se[has_se], atol=1e-10, rtol=0)
    simple = ref[ref.kind == "simple"].iloc[0]
    agg = cs.aggregate(res, "simple")
    assert agg.att == pytest.approx(simple.att, abs=1e-10) and agg.se == pytest.approx(simple.se, abs=1e-10)
    assert len(agg.lacking_cells) == 14  # post-treatment cells of the NA cells
