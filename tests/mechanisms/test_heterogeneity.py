"""Heterogeneity: the interacted difference, the permutation test, split checks (SYNTHETIC panels)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.heterogeneity import (
    GroupSplit, _GroupDesign, _subgroup_fit, estimate_split, permutation_difference_test, permuted_labels, unit_groups,
)

from .conftest import feols, grouped_panel

SPLIT = GroupSplit(name="size", column="big", labels=("big", "small"))
MODEL = dict(outcome="y", treatment="did", controls=["x1", "x2", "x3"], fixed_effects=["unit", "year"],
             unit="unit", time="year", cluster="unit")


def _separate(df, flag):
    sub = df[df["big"] == flag]
    return feols("y ~ did + x1 + x2 + x3 | unit + year", sub, vcov={"CRV1": "unit"}).coef()["did"]


@pytest.mark.parametrize("drop_share", [0.0, 0.08])
def test_interacted_difference_equals_separate_regressions(drop_share):
    df = grouped_panel(seed=3, effect_first=1.0, effect_second=0.2, drop_share=drop_share)
    res = estimate_split(df, SPLIT, **MODEL, draws=0)
    independent = _separate(df, True) - _separate(df, False)
    assert res.difference == pytest.approx(independent, abs=1e-8)
    assert res.separate_difference == pytest.approx(independent, abs=1e-8)
    assert res.interacted["nobs"] == res.fits["big"].nobs + res.fits["small"].nobs
    assert res.permutation is None


def test_partial_interaction_differs_from_separate_regressions():
    """Theory check: with common (not group-specific) year effects the equality breaks, so the
    equality above is a property of the fully interacted specification, not an accident."""
    df = grouped_panel(seed=3, effect_first=1.0, effect_second=0.2)
    df["did_big"] = df["did"] * df["big"]
    common = feols("y ~ did + did_big + x1 + x2 + x3 | unit + year", df, vcov={"CRV1": "unit"}).coef()["did_big"]
    assert abs(common - (_separate(df, True) - _separate(df, False))) > 1e-4


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), gap=st.floats(-2, 2))
@example(seed=9058, gap=0.5)  # a random third of units held no treated 'big' unit: the generator now prevents it
def test_interacted_equals_separate_property(seed, gap):
    df = grouped_panel(60, 6, seed=seed, effect_first=gap, effect_second=0.0, every_cohort_in_both_groups=True)
    res = estimate_split(df, SPLIT, **MODEL, draws=0)
    assert res.difference == pytest.approx(res.separate_difference, abs=1e-8)


def test_engine_subgroup_fit_matches_pyfixest():
    df = grouped_panel(seed=5)
    codes = lambda c: np.unique(df[c].to_numpy(), return_inverse=True)[1]  # noqa: E731
    design = _GroupDesign(y=df["y"].to_numpy(float), d=df["did"].to_numpy(float),
                          x=df[["x1", "x2", "x3"]].to_numpy(float), unit_codes=codes("unit"),
                          fe_codes=[codes("unit"), codes("year")], cluster_codes=codes("unit"), nobs=len(df),
                          fe_nested=[True, False])
    rows = df["big"].to_numpy()
    b, se = _subgroup_fit(design, rows)
    fit = feols("y ~ did + x1 + x2 + x3 | unit + year", df[df["big"]], vcov={"CRV1": "unit"})
    assert b == pytest.approx(fit.coef()["did"], abs=1e-10)
    assert se == pytest.approx(fit.se()["did"], rel=1e-8)


def test_permutation_rejects_a_real_difference():
    df = grouped_panel(150, 8, seed=11, effect_first=1.5, effect_second=0.0, noise=0.4)
    df["g"] = df["big"].astype(float)
    perm = permutation_difference_test(df, outcome="y", treatment="did", controls=["x1", "x2", "x3"],
                                       fixed_effects=["unit", "year"], unit="unit", group="g", cluster="unit",
                                       draws=199, seed=7)
    assert perm.actual_diff > 1.0
    assert perm.p_diff <= 0.01
    assert perm.p_t <= 0.01
    assert perm.n_failed == 0


def test_permutation_does_not_reject_without_a_difference():
    df = grouped_panel(150, 8, seed=11, effect_first=0.5, effect_second=0.5, noise=0.4)
    df["g"] = df["big"].astype(float)
    perm = permutation_difference_test(df, outcome="y", treatment="did", controls=["x1", "x2", "x3"],
                                       fixed_effects=["unit", "year"], unit="unit", group="g", cluster="unit",
                                       draws=199, seed=7)
    assert perm.p_diff > 0.10
    assert perm.p_t > 0.10


def test_permuted_labels_keep_sizes_strata_and_seed():
    labels = np.array([1, 1, 0, 0, 0, 1, 0, 0, 1, 0], dtype=bool)
    strata = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    draws = permuted_labels(labels, 250, seed=4, strata=strata)
    assert draws.shape == (250, 10)
    assert (draws.sum(axis=1) == labels.sum()).all()
    for s in np.unique(strata):
        assert (draws[:, strata == s].sum(axis=1) == labels[strata == s].sum()).all()
    assert (permuted_labels(labels, 250, seed=4, strata=strata) == draws).all()
    assert not (permuted_labels(labels, 250, seed=5, strata=strata) == draws).all()
    # a draw's value does not depend on how many draws are requested
    assert (permuted_labels(labels, 130, seed=4, strata=strata) == draws[:130]).all()


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_unknown_split_column_is_input_error(panel):
    with pytest.raises(PilotdidInputError) as exc:
        estimate_split(panel, GroupSplit(name="s", column="no_such", labels=("a", "b")), **MODEL, draws=0)
    assert "no_such" in _one_line(exc)


def test_split_leaving_an_empty_group_is_input_error(panel):
    panel = panel.assign(all_big=True)
    with pytest.raises(PilotdidInputError) as exc:
        estimate_split(panel, GroupSplit(name="s", column="all_big", labels=("a", "b")), **MODEL, draws=0)
    assert "empty" in _one_line(exc)


def test_split_leaving_an_all_treated_group_is_input_error(panel):
    always = panel.groupby("unit")["did"].transform("min") > 0
    panel = panel.assign(did=np.where(panel["unit"] < 10, 1.0, panel["did"]))
    panel["flag"] = panel["unit"] < 10
    assert not always.all()
    with pytest.raises(PilotdidInputError) as exc:
        estimate_split(panel, GroupSplit(name="s", column="flag", labels=("a", "b")), **MODEL, draws=0)
    assert "every row" in _one_line(exc)


def test_time_varying_split_needs_at(panel):
    panel = panel.assign(size=panel["x1"] > 0)
    with pytest.raises(PilotdidInputError) as exc:
        unit_groups(panel, "unit", "year", GroupSplit(name="s", column="size", labels=("a", "b")))
    assert 'at = "first"' in _one_line(exc)
    first, notes = unit_groups(panel, "unit", "year", GroupSplit(name="s", column="size", labels=("a", "b"), at="first"))
    expected = panel.sort_values(["unit", "year"]).groupby("unit")["size"].first()
    assert (first == expected).all()


def test_threshold_and_values_splits(panel):
    panel = panel.assign(pop=panel["unit"] * 10.0, kind=np.where(panel["unit"] % 3 == 0, "A", np.where(panel["unit"] % 3 == 1, "B", "C")))
    first, _ = unit_groups(panel, "unit", "year", GroupSplit(name="p", column="pop", labels=("hi", "lo"), threshold=500.0))
    assert first.sum() == (np.arange(120) * 10.0 >= 500).sum()
    first, notes = unit_groups(panel, "unit", "year", GroupSplit(name="k", column="kind", labels=("a", "b"), values=("A", "B")))
    assert len(first) == 80 and first.sum() == 40
    assert "40 unit(s)" in notes[0]
    with pytest.raises(PilotdidInputError):
        unit_groups(panel, "unit", "year", GroupSplit(name="k", column="kind", labels=("a", "b")))


@pytest.mark.parametrize("raw,needle", [
    ({"column": "big", "labels": ["a"]}, "labels"),
    ({"column": "big", "colour": 1}, "unknown key"),
    ({"labels": ["a", "b"]}, "column"),
    ({"column": "big", "at": "middle"}, "at must"),
    ({"column": "big", "values": [1, 2], "threshold": 3}, "not both"),
])
def test_bad_split_options(raw, needle):
    with pytest.raises(PilotdidInputError) as exc:
        GroupSplit.from_options(raw, "[analyses.heterogeneity] splits[0]")
    assert needle in _one_line(exc)


def test_fast_path_equals_alternating_projections():
    df = grouped_panel(80, 7, seed=8, effect_first=1.0, drop_share=0.1)
    df["g"] = df["big"].astype(float)
    kw = dict(outcome="y", treatment="did", controls=["x1", "x2", "x3"], fixed_effects=["unit", "year"], unit="unit",
              group="g", cluster="unit", draws=30, seed=2)
    fast = permutation_difference_test(df, **kw)
    slow = permutation_difference_test(df, fast=False, **kw)
    assert np.allclose(fast.diffs, slow.diffs, atol=1e-9)
    assert np.allclose(fast.ts, slow.ts, atol=1e-7)
    assert fast.actual_diff == pytest.approx(slow.actual_diff, abs=1e-10)


def test_few_treated_units_are_flagged():
    df = grouped_panel(60, 6, seed=4)
    treated_units = df.loc[df["did"] > 0, "unit"].unique()
    never = df.groupby("unit")["did"].max() == 0
    flag_units = set(treated_units[:1]) | set(never.index[never.to_numpy()][:10])
    df["flag"] = df["unit"].isin(flag_units)
    res = estimate_split(df, GroupSplit(name="s", column="flag", labels=("few", "rest")), **MODEL, draws=0)
    assert res.treated_units["few"] == 1
    assert any("only 1 treated unit" in n for n in res.notes)


def test_weighted_permutation_engine_is_weighted_pyfixest():
    # analytic weights: each draw's two fits are pyfixest WLS (coefficient and CRV1 SE), on the fast path and on
    # alternating projections alike; equal weights change nothing
    df = grouped_panel(80, 7, seed=8, effect_first=1.0, drop_share=0.1)
    df["g"] = df["big"].astype(float)
    df["w"] = 0.5 + (df["unit"] % 5) / 2
    kw = dict(outcome="y", treatment="did", controls=["x1", "x2", "x3"], fixed_effects=["unit", "year"], unit="unit",
              group="g", cluster="unit", draws=30, seed=2)
    fast = permutation_difference_test(df, weights="w", **kw)
    slow = permutation_difference_test(df, weights="w", fast=False, **kw)
    assert np.allclose(fast.diffs, slow.diffs, atol=1e-9) and np.allclose(fast.ts, slow.ts, atol=1e-7)
    fits = [feols("y ~ did + x1 + x2 + x3 | unit + year", part, vcov={"CRV1": "unit"}, weights="w")
            for part in (df[df["big"]], df[~df["big"]])]
    b = [f.coef()["did"] for f in fits]
    se = [f.se()["did"] for f in fits]
    assert fast.actual_diff == pytest.approx(b[0] - b[1], abs=1e-10)
    assert fast.actual_t == pytest.approx((b[0] - b[1]) / np.hypot(*se), rel=1e-8)
    plain = permutation_difference_test(df, **kw)
    equal = permutation_difference_test(df.assign(w=3.0), weights="w", **kw)
    assert np.allclose(equal.diffs, plain.diffs, atol=1e-10) and equal.p_diff == plain.p_diff
    assert not np.allclose(fast.diffs, plain.diffs, atol=1e-6)
