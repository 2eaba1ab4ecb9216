"""Staggered placebo: every draw equals a pyfixest refit; seeding; null uniformity (SYNTHETIC data)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pilotdid.design.synthetic import synthetic_staggered_panel
from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.fixest import feols as quiet_feols
from pilotdid.inference.placebo import (
    RNG_CHUNK, FixedEffectPartialler, PlaceboDesign, draw_adoption_years, in_time_placebo, staggered_placebo,
)

CONTROLS = ["x1", "x2", "x3", "x4", "x5"]


def _refit(panel: pd.DataFrame, adoption: np.ndarray, controls, ssc=None, **kw) -> tuple[float, float]:
    frame = panel.copy()
    codes = pd.factorize(frame["unit"], sort=True)[0]
    g = adoption[codes]
    frame["pd"] = ((g > 0) & (frame["year"].to_numpy() >= g)).astype(float)
    fml = "y ~ pd" + "".join(f" + {c}" for c in controls) + " | unit + year"
    fit = quiet_feols(fml, frame, vcov={"CRV1": "unit"}, ssc=pf.ssc(**(ssc or {})), **kw)
    return float(fit.coef()["pd"]), float(fit.se()["pd"])


@pytest.mark.parametrize("kind", ["permute_cohorts", "random_years"])
def test_draws_equal_pyfixest_refits(panel, kind):
    res = staggered_placebo(panel, outcome="y", unit="unit", time="year", first_treat="first_treat",
                            controls=CONTROLS, kind=kind, draws=300, seed=4, keep_adoption=True)
    for d in (0, 1, 117, 299):
        coef, se = _refit(panel, res.adoption_years[d], CONTROLS)
        assert abs(coef - res.coefs[d]) < 1e-10
        assert se == pytest.approx(res.ses[d], rel=1e-9)
    actual = quiet_feols("y ~ did + x1 + x2 + x3 + x4 + x5 | unit + year", panel, vcov={"CRV1": "unit"})
    assert abs(res.actual_coef - actual.coef()["did"]) < 1e-10
    assert res.actual_se == pytest.approx(actual.se()["did"], rel=1e-9)


@pytest.mark.parametrize("ssc", [{"k_fixef": "full"}, {"k_fixef": "none", "G_adj": False}, {"k_adj": False}])
def test_unbalanced_panel_and_ssc_variants(ssc):
    panel = synthetic_staggered_panel(n_units=50, n_years=7, cohorts=(2014, 2016), seed=3, drop_share=0.15,
                                      n_controls=2)
    res = staggered_placebo(panel, outcome="y", unit="unit", time="year", first_treat="first_treat",
                            controls=["x1", "x2"], draws=20, seed=1, keep_adoption=True, ssc=ssc)
    for d in (0, 19):
        coef, se = _refit(panel, res.adoption_years[d], ["x1", "x2"], ssc=ssc,
                          demeaner=pf.MapDemeaner(fixef_tol=1e-14))
        assert abs(coef - res.coefs[d]) < 1e-10
        assert se == pytest.approx(res.ses[d], rel=1e-8)


def test_no_controls_one_fixed_effect(small_panel):
    res = staggered_placebo(small_panel, outcome="y", unit="unit", time="year", first_treat="first_treat",
                            fixed_effects=["unit"], draws=10, seed=2, keep_adoption=True)
    frame = small_panel.copy()
    g = res.adoption_years[3][frame["unit"].to_numpy()]
    frame["pd"] = ((g > 0) & (frame["year"] >= g)).astype(float)
    fit = quiet_feols("y ~ pd | unit", frame, vcov={"CRV1": "unit"})
    assert abs(fit.coef()["pd"] - res.coefs[3]) < 1e-10
    assert fit.se()["pd"] == pytest.approx(res.ses[3], rel=1e-9)


def test_block_size_does_not_change_results(panel):
    design = PlaceboDesign.prepare(panel, outcome="y", unit="unit", time="year", first_treat="first_treat",
                                   controls=CONTROLS)
    ref = design.run(draws=250, seed=9, block_size=250)
    for block in (1, 37, RNG_CHUNK, 128):
        other = design.run(draws=250, seed=9, block_size=block)
        np.testing.assert_allclose(other.coefs, ref.coefs, rtol=0, atol=1e-12)
        np.testing.assert_allclose(other.ses, ref.ses, rtol=1e-12)
    assert not np.allclose(design.run(draws=250, seed=10).coefs, ref.coefs)


def test_permute_cohorts_keeps_cohort_sizes_and_random_years_keeps_count():
    g = np.array([0, 0, 0, 2015, 2015, 2018, 2020, 0, 0, 2016], dtype=float)
    years = np.arange(2013, 2022, dtype=float)
    perm = draw_adoption_years(g, "permute_cohorts", 0, 150, seed=1, candidate_years=years)
    for row in perm:
        assert sorted(row) == sorted(g)
    rnd = draw_adoption_years(g, "random_years", 0, 150, seed=1, candidate_years=years)
    assert ((rnd > 0).sum(axis=1) == 5).all()
    assert np.isin(rnd[rnd > 0], years).all()
    # a slice equals the same draws taken from a longer run
    np.testing.assert_array_equal(draw_adoption_years(g, "random_years", 130, 150, 1, years), rnd[130:150])


@settings(max_examples=25, deadline=None)
@given(n_units=st.integers(3, 12), n_years=st.integers(2, 6), seed=st.integers(0, 10_000))
def test_balanced_closed_form_equals_alternating_projections(n_units, n_years, seed):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_years)
    year = np.tile(np.arange(n_years), n_units)
    order = rng.permutation(unit.size)  # row order must not matter
    x = rng.normal(size=(unit.size, 3))
    exact = FixedEffectPartialler([unit[order], year[order]])
    assert exact.balanced_two_way
    iterative = FixedEffectPartialler([unit[order], year[order]])
    iterative.balanced_two_way = False
    np.testing.assert_allclose(exact.demean(x[order]), iterative.demean(x[order]), atol=1e-11)


def test_p_values_follow_the_named_rule(panel):
    res = staggered_placebo(panel, outcome="y", unit="unit", time="year", first_treat="first_treat",
                            controls=CONTROLS, draws=200, seed=5)
    extreme = int((np.abs(res.coefs) >= abs(res.actual_coef)).sum())
    assert res.p_values["p_two_sided"] == pytest.approx((1 + extreme) / 201)
    assert res.p_values["p_two_sided_share"] == pytest.approx(extreme / 200)
    out = res.to_results()
    for key in ("draws", "seed", "actual", "mean", "sd", "p_two_sided"):
        assert key in out
    assert out["sd"] == pytest.approx(np.std(res.coefs, ddof=1))


def _null_p_values(n_datasets: int, draws: int, seed: int) -> np.ndarray:
    """SYNTHETIC null simulation: no effect, the actual assignment a random cohort permutation."""
    rng = np.random.default_rng(seed)
    base = synthetic_staggered_panel(n_units=24, n_years=6, first_year=2014, cohorts=(2016, 2017, 2018),
                                     treated_share=0.5, n_controls=1, seed=seed)
    unit = base["unit"].to_numpy()
    year = base["year"].to_numpy()
    cohorts = base.groupby("unit")["first_treat"].first().to_numpy()
    pvals = []
    for i in range(n_datasets):
        frame = base.copy()
        g = rng.permutation(cohorts)[unit]
        frame["first_treat"] = g
        frame["y"] = rng.normal(size=len(frame)) + rng.normal(size=24)[unit]
        res = staggered_placebo(frame, outcome="y", unit="unit", time="year", first_treat="first_treat",
                                controls=["x1"], draws=draws, seed=10_000 + i)
        pvals.append(res.p_values["p_two_sided"])
    assert (year.size == 144)
    return np.asarray(pvals)


def test_placebo_p_value_is_uniform_under_the_null():
    p = _null_p_values(200, 99, seed=3)
    # plus-one p-values on 99 draws take values k/100; KS against U(0,1) with a generous threshold
    assert stats.kstest(p, "uniform").pvalue > 0.001
    assert 0.01 <= np.mean(p <= 0.1) <= 0.2


@pytest.mark.slow
def test_placebo_p_value_is_uniform_under_the_null_large():
    p = _null_p_values(1000, 199, seed=4)
    assert stats.kstest(p, "uniform").pvalue > 0.01
    assert abs(np.mean(p <= 0.05) - 0.05) < 0.02


def test_in_time_placebo_uses_pre_treatment_rows_only(panel):
    out = in_time_placebo(panel, outcome="y", unit="unit", time="year", first_treat="first_treat", shifts=(1, 2),
                          controls=["x1"])
    pre_rows = int(((panel["first_treat"] == 0) | (panel["year"] < panel["first_treat"])).sum())
    assert (out["nobs"] == pre_rows).all()
    assert out.loc[out["shift"] == 2, "fake_treated_obs"].item() > out.loc[out["shift"] == 1, "fake_treated_obs"].item()
    # the k = 1 fake treatment is exactly the rows one period before adoption
    one_before = int(((panel["first_treat"] > 0) & (panel["year"] == panel["first_treat"] - 1)).sum())
    assert out.loc[out["shift"] == 1, "fake_treated_obs"].item() == one_before


def test_bad_inputs(panel):
    with pytest.raises(PilotdidInputError):
        staggered_placebo(panel, outcome="y", unit="unit", time="year", first_treat="first_treat", kind="rows")
    with pytest.raises(PilotdidInputError):
        staggered_placebo(panel, outcome="nope", unit="unit", time="year", first_treat="first_treat")
    bad = panel.copy()
    bad.loc[bad.index[0], "first_treat"] = 2019
    bad.loc[bad.index[1], "first_treat"] = 2020
    with pytest.raises(PilotdidInputError):
        staggered_placebo(bad, outcome="y", unit="unit", time="year", first_treat="first_treat")


def test_row_order_and_labels_do_not_matter(small_panel):
    kw = dict(outcome="y", unit="unit", time="year", first_treat="first_treat", controls=["x1", "x2"], draws=40,
              seed=8)
    ref = staggered_placebo(small_panel, **kw)
    shuffled = small_panel.sample(frac=1.0, random_state=1)
    other = staggered_placebo(shuffled, **kw)
    np.testing.assert_allclose(other.coefs, ref.coefs, atol=1e-12)
    np.testing.assert_allclose(other.ses, ref.ses, rtol=1e-10)


def test_fixed_effect_order_does_not_matter(small_panel):
    kw = dict(outcome="y", unit="unit", time="year", first_treat="first_treat", controls=["x1"], draws=30, seed=2)
    a = staggered_placebo(small_panel, fixed_effects=["unit", "year"], **kw)
    b = staggered_placebo(small_panel, fixed_effects=["year", "unit"], **kw)
    np.testing.assert_allclose(a.coefs, b.coefs, atol=1e-12)
    np.testing.assert_allclose(a.ses, b.ses, rtol=1e-10)


def test_design_names_the_first_unit_whose_adoption_varies_and_finds_nesting(panel):
    bad = panel.copy()
    units = sorted(bad["unit"].unique())
    for u in (units[7], units[3]):  # two offending units: the message names the first in sorted order
        row = bad.index[bad["unit"] == u][2]
        bad.loc[row, "first_treat"] = bad.loc[row, "first_treat"] + 1
    with pytest.raises(PilotdidInputError, match=re.escape(f"varies within unit {units[3]!r}")):
        PlaceboDesign.prepare(bad, outcome="y", unit="unit", time="year", first_treat="first_treat")
    design = PlaceboDesign.prepare(panel, outcome="y", unit="unit", time="year", first_treat="first_treat")
    assert design.fe_nested == [True, False]  # units lie in one cluster (the unit); years span all clusters
    first = panel.groupby("unit")["first_treat"].first().sort_index().to_numpy(float)
    np.testing.assert_array_equal(design.unit_first_treat, first)
    by_year = PlaceboDesign.prepare(panel, outcome="y", unit="unit", time="year", first_treat="first_treat",
                                    cluster="year")
    assert by_year.fe_nested == [False, True]
