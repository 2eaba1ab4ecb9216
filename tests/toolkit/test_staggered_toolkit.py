"""The new staggered estimators through the study adapter, on a SYNTHETIC panel."""

from __future__ import annotations

import numpy as np
import pytest

from pilotdid.estimation.staggered.simulate import simulate_staggered_panel
from pilotdid.study.context import FIRST_TREAT, TREAT, ModelSpec, StudyContext
from pilotdid.results.schema import AGGREGATE_KEYS, EVENT_STUDY_KEYS


@pytest.fixture(scope="module")
def ctx() -> StudyContext:
    df, _ = simulate_staggered_panel(n_units=80, n_covariates=2, seed=21)
    rng = np.random.default_rng(22)
    df["x1"] += rng.normal(scale=0.3, size=len(df))
    df[TREAT] = df["did"]
    df[FIRST_TREAT] = df["first_treat"]
    model = ModelSpec(outcome="y", controls=["x1"], fixed_effects=["unit", "year"], cluster="unit")
    return StudyContext(study_name="synthetic", panel=df, unit="unit", time="year", model=model, treatment_name="did")


def test_dcdh_and_twowayfeweights_in_the_staggered_analysis(ctx):
    from pilotdid.study.analyses import staggered

    out = staggered.run(ctx, {"estimators": ["dcdh", "twowayfeweights"], "window": [-3, 3]})
    es = [r for r in out.results["event_study"] if r["estimator"] == "dcdh"]
    assert all(tuple(r)[:len(EVENT_STUDY_KEYS)] == EVENT_STUDY_KEYS for r in es)
    assert [r["rel_time"] for r in es] == [-3, -2, -1, 0, 1, 2, 3]  # 4 effects, 2 placebos, the base year
    aggs = {(a["estimator"], a["type"]): a for a in out.results["aggregates"]}
    assert all(tuple(a)[:len(AGGREGATE_KEYS)] == AGGREGATE_KEYS for a in aggs.values())
    dyn = aggs[("dcdh", "average_total_effect")]
    assert dyn["ci_low"] < dyn["att"] < dyn["ci_high"]
    assert 0 <= out.results["dcdh"]["p_joint_placebo"] <= 1
    # the diagnostic decomposes exactly the TWFE coefficient the table reports (same sample and controls)
    tw = out.results["twowayfeweights"]
    assert tw["beta"] == pytest.approx(aggs[("twfe", "static")]["att"], rel=1e-9)
    assert tw["sum_positive"] + tw["sum_negative"] == pytest.approx(1.0)
    assert {"staggered_dcdh", "staggered_twowayfeweights"} <= set(out.tables)
    assert sum("guards against" in n for n in out.notes) == 2


def test_etwfe_in_the_staggered_analysis(ctx):
    from pilotdid.study.analyses import staggered

    out = staggered.run(ctx, {"estimators": ["etwfe", "cs"], "draws": 0, "covariates": "none"})
    rows = {r["rel_time"]: r for r in out.results["event_study"] if r["estimator"] == "etwfe"}
    cs_rows = {r["rel_time"]: r for r in out.results["event_study"] if r["estimator"] == "cs"}
    assert rows[-1]["coef"] == 0.0 and rows[-1]["se"] is None
    # never-treated controls, no covariates, balanced panel: ETWFE's event-time effects are CS's (universal base)
    for e in (0, 1, 2):
        assert rows[e]["coef"] == pytest.approx(cs_rows[e]["coef"], rel=1e-8)
    kinds = {a["type"] for a in out.results["aggregates"] if a["estimator"] == "etwfe"}
    assert kinds == {"simple"}
    assert {"simple", "group", "calendar", "event"} <= set(out.results["etwfe"])
    assert out.results["etwfe"]["control_group"] == "never"


def test_stacked_in_the_staggered_analysis(ctx):
    from pilotdid.errors import PilotdidInputError
    from pilotdid.study.analyses import staggered

    out = staggered.run(ctx, {"estimators": ["stacked"], "stacked_window": [-2, 1]})
    rows = [r for r in out.results["event_study"] if r["estimator"] == "stacked"]
    assert [r["rel_time"] for r in rows] == [-2, -1, 0, 1]
    assert any(a["estimator"] == "stacked" and a["type"] == "static" for a in out.results["aggregates"])
    assert out.results["stacked"]["window"] == [-2, 1]
    wfh = staggered.run(ctx, {"estimators": ["stacked"], "stacked_window": [-2, 1], "stacked_fixed_effects": "wfh"})
    static = [a for a in wfh.results["aggregates"] if a["estimator"] == "stacked"][0]
    assert "treated-group and event-time FE" in static["se_method"]
    with pytest.raises(PilotdidInputError, match="stacked_window"):
        staggered.run(ctx, {"estimators": ["stacked"], "stacked_window": [-1, 2]})


def test_sdid_in_the_staggered_analysis(ctx):
    from pilotdid.errors import PilotdidInputError
    from pilotdid.study.analyses import staggered

    cohorts = sorted(int(c) for c in ctx.panel.loc[ctx.panel[FIRST_TREAT] > 0, FIRST_TREAT].unique())[:1]
    out = staggered.run(ctx, {"estimators": ["sdid"], "sdid_cohorts": cohorts, "sdid_replications": 20})
    row = [a for a in out.results["aggregates"] if a["estimator"] == "sdid"][0]
    assert row["se"] > 0 and row["type"] == f"cohorts {cohorts[0]}"
    assert "staggered_sdid" in out.tables
    jack = staggered.run(ctx, {"estimators": ["sdid"], "sdid_cohorts": cohorts, "sdid_se": "jackknife"})
    jrow = [a for a in jack.results["aggregates"] if a["estimator"] == "sdid"][0]
    assert jrow["att"] == row["att"] and jrow["se_method"].startswith("jackknife")
    with pytest.raises(PilotdidInputError, match="sdid_replications"):
        staggered.run(ctx, {"estimators": ["sdid"], "sdid_replications": 1})


def test_dcdh_runs_on_a_treatment_that_switches_off(tmp_path):
    # wagepan's union membership switches on and off: the staggered analysis runs did_multiplegt_dyn and
    # twowayfeweights (and the static TWFE) and refuses the estimators that need an absorbing treatment
    from pathlib import Path

    import pandas as pd

    from pilotdid.errors import PilotdidInputError
    from pilotdid.study.analyses import staggered

    wp = pd.read_csv(Path(__file__).parent / "fixtures" / "wagepan.csv")
    first = wp[wp.union == 1].groupby("nr")["year"].min()
    wp[TREAT] = wp["union"].astype(float)
    wp[FIRST_TREAT] = wp["nr"].map(first).fillna(0).astype(int)
    model = ModelSpec(outcome="lwage", controls=[], fixed_effects=["nr", "year"], cluster="nr")
    ctx = StudyContext(study_name="wagepan", panel=wp, unit="nr", time="year", model=model, treatment_name="union",
                       extras={"data_summary": {"absorbing": False}})
    out = staggered.run(ctx, {"estimators": ["dcdh", "twowayfeweights"], "window": [-3, 4], "covariates": "none"})
    ref = pd.read_csv(Path(__file__).parent / "fixtures" / "dcdh_reference.csv")
    ref = ref[(ref.case == "wagepan") & (ref.kind == "effect")]
    effects = [r for r in out.results["dcdh"]["effects"] if r["kind"] == "effect"]
    assert [r["coef"] for r in effects] == pytest.approx(ref.coef.tolist(), rel=1e-8)
    assert out.results["twowayfeweights"]["n_negative"] == 147
    assert {(a["estimator"], a["type"]) for a in out.results["aggregates"]} == {
        ("dcdh", "average_total_effect"), ("twfe", "static")}
    with pytest.raises(PilotdidInputError, match="switches off"):
        staggered.run(ctx, {"estimators": ["dcdh", "cs"]})
