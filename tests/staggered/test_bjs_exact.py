"""The imputation estimator (BJS) on our own numerics, checked against its closed form with dense dummies.

SYNTHETIC panels only. The closed form is computed here from scratch with numpy ``lstsq`` on unit and
period dummy matrices (fine at this size); our estimator never builds them. Reference formulas:
point estimates and BJS variance: Borusyak, Jaravel & Spiess (2024, ReStud) eqs. (5)-(8) and
Theorem 3 with tau-bar by cohort x event time (as R ``didimputation``); Gardner's two-stage GMM
variance as pyfixest ``did2s`` (``_did2s_vcov``) computes it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilotdid.estimation.staggered import bjs
from pilotdid.estimation.staggered.panel import pyfixest_quiet

KW = dict(outcome="y", unit="unit", time="year", first_treat="first_treat")


def _panel(seed: int, n_units: int = 40, drop: int = 25, clusters: int = 9) -> pd.DataFrame:
    """An unbalanced staggered panel with time-varying covariates and clusters that are not the units."""
    rng = np.random.default_rng(seed)
    years = np.arange(2010, 2020)
    unit = np.repeat(np.arange(n_units), len(years))
    year = np.tile(years, n_units)
    cohort_of_unit = rng.choice([0, 2013, 2015, 2017, 2022], size=n_units)
    g = cohort_of_unit[unit]
    x1 = rng.normal(size=len(unit)) + 0.1 * (year - 2010)
    x2 = rng.normal(size=len(unit)) * (unit % 3)
    d = (g > 0) & (year >= g)
    effect = np.where(d, 0.5 + 0.2 * (year - g) + rng.normal(scale=0.3, size=len(unit)), 0.0)
    y = rng.normal(size=n_units)[unit] + 0.3 * (year - 2010) + 0.4 * x1 - 0.2 * x2 + effect + rng.normal(size=len(unit))
    df = pd.DataFrame({"unit": unit, "year": year, "first_treat": g, "y": y, "x1": x1, "x2": x2,
                       "region": unit % clusters})
    gone = rng.choice(len(df), size=drop, replace=False)
    return df.drop(index=gone).reset_index(drop=True)


def _closed_form(df: pd.DataFrame, covariates: list[str], cluster: str):
    """Dense-dummy imputation: (att, att Gardner se, att BJS se, event table with coef, se, bjs_se)."""
    g = df.first_treat.to_numpy(float)
    t = df.year.to_numpy(float)
    treated = (g > 0) & (t >= g)
    units = pd.get_dummies(df.unit).to_numpy(float)
    years = pd.get_dummies(df.year).to_numpy(float)[:, 1:]  # one period dropped: full rank
    x1 = np.column_stack([df[covariates].to_numpy(float), units, years])  # X1 on all rows
    x10 = x1 * (~treated)[:, None]
    y = df.y.to_numpy(float)
    theta = np.linalg.lstsq(x1[~treated], y[~treated], rcond=None)[0]
    resid = y - x1 @ theta  # u1: stage-1 residual (untreated), Y - Y0_hat (treated)
    rel = np.where(g > 0, t - g, np.nan)
    rel_times = np.unique(rel[g > 0])
    x2_event = np.column_stack([(rel == e).astype(float) for e in rel_times])
    clusters = df[cluster].to_numpy()
    cell = pd.Series(list(zip(g, rel)))
    tau_bar = pd.Series(resid).groupby(cell).transform("mean").to_numpy()

    def gardner(x2):
        b = np.linalg.lstsq(x2, resid, rcond=None)[0]
        u2 = resid - x2 @ b
        gamma = np.linalg.solve(x10.T @ x10, x1.T @ x2).T  # X2'X1 (X10'X10)^-1
        bread = np.linalg.inv(x2.T @ x2)
        vcov = np.zeros((x2.shape[1],) * 2)
        for c in np.unique(clusters):
            r = clusters == c
            score = bread @ (x2[r].T @ u2[r] - gamma @ (x10[r].T @ resid[r]))
            vcov += np.outer(score, score)
        return b, vcov

    def bjs_se(w):
        """sqrt(sum_c (sum_i v_i eps_i)^2), v = w on treated, -X10 (X10'X10)^-1 X1' w on untreated."""
        v = np.where(treated, w, -(x10 @ np.linalg.solve(x10.T @ x10, x1.T @ (w * treated))))
        eps = np.where(treated, resid - tau_bar, resid)
        return np.sqrt(sum(np.sum(v[clusters == c] * eps[clusters == c]) ** 2 for c in np.unique(clusters)))

    coef, vcov = gardner(x2_event)
    att, att_v = gardner(treated[:, None].astype(float))
    table = pd.DataFrame({"rel_time": rel_times.astype(int), "coef": coef, "se": np.sqrt(np.diag(vcov)),
                          "bjs_se": [bjs_se((rel == e) / np.sum(rel == e)) if e >= 0 else np.nan for e in rel_times]})
    return float(att[0]), float(np.sqrt(att_v[0, 0])), bjs_se(treated / treated.sum()), table, vcov


@pytest.mark.parametrize(("seed", "covariates", "cluster"), [(1, [], "unit"), (2, ["x1", "x2"], "unit"),
                                                             (3, ["x1"], "region"), (4, ["x1", "x2"], "region")])
def test_imputation_is_exact_against_the_dense_closed_form(seed, covariates, cluster):
    df = _panel(seed)
    res = bjs.imputation(df, **KW, covariates=covariates, cluster=cluster)
    att, att_se, att_bjs_se, table, vcov = _closed_form(df, covariates, cluster)
    assert res.att == pytest.approx(att, abs=1e-10)
    assert res.se == pytest.approx(att_se, abs=1e-10)
    conservative = res.alternative_se[bjs.BJS_CONSERVATIVE]
    assert conservative["se"] == pytest.approx(att_bjs_se, abs=1e-10)
    np.testing.assert_array_equal(res.table.rel_time.to_numpy(), table.rel_time.to_numpy())
    np.testing.assert_allclose(res.table.coef.to_numpy(), table.coef.to_numpy(), atol=1e-10, rtol=0)
    np.testing.assert_allclose(res.table.se.to_numpy(), table.se.to_numpy(), atol=1e-10, rtol=0)
    np.testing.assert_allclose(res.vcov, vcov, atol=1e-10, rtol=0)
    np.testing.assert_allclose(conservative["table"].se.to_numpy(), table.bjs_se.to_numpy(), atol=1e-10, rtol=0)
    assert 0 < conservative["se"]


def test_imputation_matches_pyfixest_did2s_to_its_demeaning_tolerance():
    import pyfixest as pf

    df = _panel(5, drop=0)
    res = bjs.imputation(df, **KW, covariates=["x1"])
    d = df.assign(D=((df.first_treat > 0) & (df.year >= df.first_treat)).astype(float))
    with pyfixest_quiet():
        ref = pf.did2s(d, yname="y", first_stage="~ x1 | unit + year", second_stage="~ D", treatment="D",
                       cluster="unit").tidy()
    assert res.att == pytest.approx(float(ref.loc["D", "Estimate"]), abs=1e-6)
    assert res.se == pytest.approx(float(ref.loc["D", "Std. Error"]), abs=1e-6)


def test_treated_rows_without_an_untreated_period_or_unit_are_counted_and_left_out():
    df = _panel(6, drop=0)
    df.loc[df.unit == 0, "first_treat"] = 2010  # always treated: no untreated row to learn its unit effect
    res = bjs.imputation(df, **KW)
    assert any("10 treated observation(s) left out" in n for n in res.notes)
    kept = df[df.unit != 0]
    assert res.att == pytest.approx(bjs.imputation(kept, **KW).att, abs=1e-12)


def _weighted_closed_form(df: pd.DataFrame, covariates: list[str], cluster: str, weights: str):
    """Dense weighted imputation: WLS stage 1 on dummies, weighted means, weighted Gardner GMM and BJS variances."""
    w = df[weights].to_numpy(float)
    g = df.first_treat.to_numpy(float)
    t = df.year.to_numpy(float)
    treated = (g > 0) & (t >= g)
    x1 = np.column_stack([df[covariates].to_numpy(float), pd.get_dummies(df.unit).to_numpy(float),
                          pd.get_dummies(df.year).to_numpy(float)[:, 1:]])
    x10 = x1 * (~treated)[:, None]
    y = df.y.to_numpy(float)
    sw = np.sqrt(w)
    theta = np.linalg.lstsq(x1[~treated] * sw[~treated, None], y[~treated] * sw[~treated], rcond=None)[0]
    resid = y - x1 @ theta
    rel = np.where(g > 0, t - g, np.nan)
    rel_times = np.unique(rel[g > 0])
    clusters = df[cluster].to_numpy()
    cell = pd.Series(list(zip(g, rel)))
    tau_bar = (pd.Series(w * resid).groupby(cell).transform("sum") / pd.Series(w).groupby(cell).transform("sum")).to_numpy()
    x10_w_x10 = x10.T @ (w[:, None] * x10)

    def gardner(x2):
        b = np.linalg.solve(x2.T @ (w[:, None] * x2), x2.T @ (w * resid))
        u2 = resid - x2 @ b
        gamma = np.linalg.solve(x10_w_x10, x1.T @ (w[:, None] * x2)).T  # X2'W X1 (X10'W X10)^-1
        bread = np.linalg.inv(x2.T @ (w[:, None] * x2))
        vcov = np.zeros((x2.shape[1],) * 2)
        for c in np.unique(clusters):
            r = clusters == c
            score = bread @ (x2[r].T @ (w[r] * u2[r]) - gamma @ (x10[r].T @ (w[r] * resid[r])))
            vcov += np.outer(score, score)
        return b, vcov

    def bjs_se(v_treated):
        """v = v_treated on treated rows, -W0 X10 (X10'W X10)^-1 X1' v_treated on untreated rows."""
        v = np.where(treated, v_treated, -w * (x10 @ np.linalg.solve(x10_w_x10, x1.T @ (v_treated * treated))))
        eps = np.where(treated, resid - tau_bar, resid)
        return np.sqrt(sum(np.sum(v[clusters == c] * eps[clusters == c]) ** 2 for c in np.unique(clusters)))

    coef, vcov = gardner(np.column_stack([(rel == e).astype(float) for e in rel_times]))
    att, att_v = gardner(treated[:, None].astype(float))
    bjs_event = [bjs_se(w * (rel == e) / np.sum(w * (rel == e))) if e >= 0 else np.nan for e in rel_times]
    return (float(att[0]), float(np.sqrt(att_v[0, 0])), bjs_se(w * treated / np.sum(w * treated)), coef,
            np.sqrt(np.diag(vcov)), np.array(bjs_event))


@pytest.mark.parametrize(("seed", "covariates", "cluster"), [(11, [], "unit"), (12, ["x1", "x2"], "region")])
def test_weighted_imputation_is_exact_against_the_dense_weighted_closed_form(seed, covariates, cluster):
    df = _panel(seed)
    df["pop"] = np.random.default_rng(seed).uniform(0.2, 4.0, len(df))  # varies by row (Stata aw)
    res = bjs.imputation(df, **KW, covariates=covariates, cluster=cluster, weights="pop")
    att, att_se, att_bjs, coef, se, bjs_event = _weighted_closed_form(df, covariates, cluster, "pop")
    assert res.att == pytest.approx(att, abs=1e-10)
    assert res.se == pytest.approx(att_se, abs=1e-10)
    conservative = res.alternative_se[bjs.BJS_CONSERVATIVE]
    assert conservative["se"] == pytest.approx(att_bjs, abs=1e-10)
    np.testing.assert_allclose(res.table.coef.to_numpy(), coef, atol=1e-10, rtol=0)
    np.testing.assert_allclose(res.table.se.to_numpy(), se, atol=1e-10, rtol=0)
    np.testing.assert_allclose(conservative["table"].se.to_numpy(), bjs_event, atol=1e-10, rtol=0)
    unweighted = bjs.imputation(df, **KW, covariates=covariates, cluster=cluster)
    assert abs(res.att - unweighted.att) > 1e-4  # the weights matter
    same = bjs.imputation(df.assign(pop=2.0), **KW, covariates=covariates, cluster=cluster, weights="pop")
    assert same.att == pytest.approx(unweighted.att, abs=1e-12)
    assert same.se == pytest.approx(unweighted.se, abs=1e-12)
