"""Stacked DID with Wing-Freedman-Hollingsworth weights: the authors' published example (ACA Medicaid expansion and
uninsurance, their tutorial's printed Stata/R output) and their aggregate ATT computed by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.staggered.stacked import stacked_did

PANEL = Path(__file__).parents[1] / "staggered" / "fixtures" / "cs_panel.csv"  # SYNTHETIC, balanced
ACS = Path(__file__).parent / "fixtures" / "acs1860_unins_2008_2021.csv"  # REAL, see fixtures/SOURCES.md

# Wing, Freedman & Hollingsworth, "Getting Started With Stacked DID" (GitHub hollina/stacked-did-weights,
# stacked-example-r-and-stata.html, commit 18a5e11), kappa_pre = 3, kappa_post = 2, clustered by state:
# sub-experiments (treated, clean controls) and the mean control weight of each, as printed (R and Stata)
WFH_SUB_EXPERIMENTS = {2014: (28, 18, 2.8888889), 2015: (3, 18, 0.3095238), 2016: (2, 18, 0.2063492),
                       2019: (2, 11, 0.3376623)}
# `esttab weight_stack, keep(1.treat#1*) se` after `reghdfe unins i.treat##i._I* [aw = stack_weight],
# cluster(statefip) absorb(treat event_time)`: event time -> (coefficient, SE) as printed
WFH_EVENT_STUDY = {-3: (-0.00102, 0.00368), -2: (-0.00303, 0.00299), 0: (-0.0163, 0.00393), 1: (-0.0239, 0.00645),
                   2: (-0.0255, 0.00707)}
# `lincom` of the three post coefficients / 3: coefficient, SE and the t(50) 95% CI as printed
WFH_AVERAGE = (-0.0218778, 0.0056281, -0.0331822, -0.0105733)
# the tutorial's text verifying the average: (-.01627 + -0.023864 + -.025500)/3
WFH_POST_COEFS = {0: -0.01627, 1: -0.023864, 2: -0.025500}


@pytest.fixture(scope="module")
def panel():
    return pd.read_csv(PANEL)


def _by_hand(panel, window):
    """WFH's trimmed aggregate ATT from cell means: sum_a (N^D_a / N^D) x the sub-experiment's 2x2 DIDs."""
    lo, hi = window
    y = panel.pivot(index="unit", columns="year", values="y")
    g = panel.groupby("unit")["first_treat"].first().fillna(0)
    t0, t1 = y.columns.min(), y.columns.max()
    subs = [a for a in sorted(g[g > 0].unique()) if a + lo >= t0 and a + hi <= t1]
    n_d = {a: int((g == a).sum()) for a in subs}
    total = sum(n_d.values())
    event, static = {}, 0.0
    for a in subs:
        tr = y.loc[g == a]
        co = y.loc[(g == 0) | (g > a + hi)]
        base = a - 1
        for e in range(lo, hi + 1):
            if e == -1:
                continue
            did = (tr[a + e] - tr[base]).mean() - (co[a + e] - co[base]).mean()
            event[e] = event.get(e, 0.0) + n_d[a] / total * did
        pre = [a + e for e in range(lo, 0)]
        post = [a + e for e in range(0, hi + 1)]
        did = (tr[post].mean(axis=1) - tr[pre].mean(axis=1)).mean() - (co[post].mean(axis=1) - co[pre].mean(axis=1)).mean()
        static += n_d[a] / total * did
    return event, static, subs


@pytest.mark.parametrize("window", [(-3, 2), (-2, 1)])
def test_weighted_stack_equals_the_trimmed_aggregate_att(panel, window):
    res = stacked_did(panel, outcome="y", unit="unit", time="year", first_treat="first_treat", window=window)
    event, static, subs = _by_hand(panel, window)
    assert res.sub_experiments.cohort.tolist() == [int(a) for a in subs]
    tab = res.event_study.table.set_index("rel_time")
    for e, value in event.items():
        assert tab.loc[e, "coef"] == pytest.approx(value, rel=1e-9, abs=1e-12)
    assert res.static_att == pytest.approx(static, rel=1e-9)
    assert tab.loc[-1, "coef"] == 0.0
    # the control weights equalise the treated share across sub-experiments
    info = res.sub_experiments
    share = info.treated_units / (info.treated_units + info.control_weight * info.control_units)
    np.testing.assert_allclose(share, share.iloc[0])


def test_stacked_refuses_a_window_no_cohort_fits(panel):
    with pytest.raises(PilotdidInputError, match="event window"):
        stacked_did(panel, outcome="y", unit="unit", time="year", first_treat="first_treat", window=(-20, 2))


def test_one_treated_cluster_reports_no_se(panel):
    """A stack whose treated units lie in one cluster has no usable clustered SE: NaN and a note, not a tiny SE."""
    first = panel.groupby("unit")["first_treat"].first().fillna(0)
    cohort = sorted(first[first > 0].unique())[0]
    one_unit = first[first == cohort].index[0]
    keep = first[(first == 0) | (first.index == one_unit)].index
    sub = panel[panel["unit"].isin(keep)]
    res = stacked_did(sub, outcome="y", unit="unit", time="year", first_treat="first_treat", window=(-2, 1))
    assert np.isfinite(res.static_att) and np.isnan(res.static_se) and np.isnan(res.event_study.se)
    assert res.event_study.table["se"].isna().all()
    assert any("1 cluster of unit" in note for note in res.notes)
    both = stacked_did(panel, outcome="y", unit="unit", time="year", first_treat="first_treat", window=(-2, 1))
    assert np.isfinite(both.static_se) and not any("cluster of unit" in note for note in both.notes)


@pytest.fixture(scope="module")
def acs():
    return pd.read_csv(ACS)


def _half_unit(printed: float) -> float:
    """Half a unit of the last printed significant digit (3 significant digits in esttab's output)."""
    return 0.5 * 10.0 ** (np.floor(np.log10(abs(printed))) - 2)


def test_wfh_published_example_sub_experiments_and_weights(acs):
    res = stacked_did(acs, outcome="unins", unit="statefip", time="year", first_treat="adopt_year", window=(-3, 2),
                      fixed_effects="wfh")
    info = res.sub_experiments.set_index("cohort")
    assert list(info.index) == list(WFH_SUB_EXPERIMENTS)  # 2020, 2021 left out: window past 2021
    for cohort, (n_treated, n_control, weight) in WFH_SUB_EXPERIMENTS.items():
        assert info.loc[cohort, "treated_units"] == n_treated
        assert info.loc[cohort, "control_units"] == n_control
        assert info.loc[cohort, "control_weight"] == pytest.approx(weight, abs=5e-8)
    assert any("2020, 2021 left out" in note for note in res.notes)


def test_wfh_published_example_event_study_and_average(acs):
    """Reproduces the printed Stata output to every printed digit (the R fixest output agrees with it)."""
    res = stacked_did(acs, outcome="unins", unit="statefip", time="year", first_treat="adopt_year", window=(-3, 2),
                      fixed_effects="wfh")
    tab = res.event_study.table.set_index("rel_time")
    for e, (coef, se) in WFH_EVENT_STUDY.items():
        assert abs(tab.loc[e, "coef"] - coef) <= _half_unit(coef), (e, tab.loc[e, "coef"])
        assert abs(tab.loc[e, "se"] - se) <= _half_unit(se), (e, tab.loc[e, "se"])
    for e, coef in WFH_POST_COEFS.items():
        assert tab.loc[e, "coef"] == pytest.approx(coef, abs=5e-7)
    att, se, lo, hi = WFH_AVERAGE
    assert res.event_study.att == pytest.approx(att, abs=5e-8)
    assert res.event_study.se == pytest.approx(se, abs=5e-8)
    assert res.clusters == 51  # every state is treated or a clean control somewhere: lincom's t has 50 df
    t = stats.t.ppf(0.975, res.clusters - 1)
    assert res.event_study.att - t * res.event_study.se == pytest.approx(lo, abs=5e-8)
    assert res.event_study.att + t * res.event_study.se == pytest.approx(hi, abs=5e-8)


def test_wfh_example_fixed_effect_layouts_agree_on_coefficients_not_on_ses(acs):
    """Balanced panel, no covariates: unit x sub-experiment and event time x sub-experiment FE give WFH's
    coefficients exactly; the SEs differ (other residuals), so the layout is a named convention."""
    kw = dict(outcome="unins", unit="statefip", time="year", first_treat="adopt_year", window=(-3, 2))
    wfh = stacked_did(acs, **kw, fixed_effects="wfh")
    sub = stacked_did(acs, **kw)
    assert sub.fixed_effects == "sub_experiment" and wfh.fixed_effects == "wfh"
    np.testing.assert_allclose(sub.event_study.table.coef, wfh.event_study.table.coef, rtol=1e-9, atol=1e-12)
    assert sub.static_att == pytest.approx(wfh.static_att, rel=1e-9)
    assert not np.allclose(sub.event_study.table.se.dropna(), wfh.event_study.table.se.dropna(), rtol=1e-3)
    with pytest.raises(PilotdidInputError, match="fixed_effects"):
        stacked_did(acs, **kw, fixed_effects="unit")
