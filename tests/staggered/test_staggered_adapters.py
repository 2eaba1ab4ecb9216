"""The study adapters on a SYNTHETIC panel: outputs follow the results.json schema."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.staggered.simulate import simulate_staggered_panel
from pilotdid.study.context import FIRST_TREAT, TREAT, ModelSpec, StudyContext
from pilotdid.study.results import AGGREGATE_KEYS, EVENT_STUDY_KEYS


@pytest.fixture(scope="module")
def ctx() -> StudyContext:
    df, _ = simulate_staggered_panel(n_units=80, n_covariates=2, seed=21)
    rng = np.random.default_rng(22)
    df["x1"] += rng.normal(scale=0.3, size=len(df))  # time-varying controls, as real ones are
    df["x2"] += rng.normal(scale=0.3, size=len(df))
    df[TREAT] = df["did"]
    df[FIRST_TREAT] = df["first_treat"]
    df.loc[df.index[5], "y"] = np.nan  # one missing outcome: the unit must be dropped and counted
    model = ModelSpec(outcome="y", controls=["x1", "x2"], fixed_effects=["unit", "year"], cluster="unit")
    return StudyContext(study_name="synthetic", panel=df, unit="unit", time="year", model=model, treatment_name="did")


def test_staggered_adapter(ctx):
    from pilotdid.study.analyses import staggered
    out = staggered.run(ctx, {"draws": 199, "covariates": "none"})
    es = out.results["event_study"]
    assert {r["estimator"] for r in es} == {"cs", "sa", "bjs", "twfe"}
    assert all(tuple(r)[:len(EVENT_STUDY_KEYS)] == EVENT_STUDY_KEYS for r in es)
    aggs = out.results["aggregates"]
    assert all(tuple(r)[:len(AGGREGATE_KEYS)] == AGGREGATE_KEYS for r in aggs)
    assert {(r["estimator"], r["type"]) for r in aggs} >= {("cs", "simple"), ("sa", "simple"), ("bjs", "simple"),
                                                          ("twfe", "static"), ("cs", "dynamic")}
    assert 0 < out.results["bacon"]["forbidden_weight"] < 1
    assert any("1 of 80 units dropped" in n for n in out.notes)
    assert set(out.figures) == {"staggered_estimator_comparison", "staggered_bacon"}
    assert "staggered_overall_att" in out.tables
    assert sum("guards against" in n for n in out.notes) == 4


def test_staggered_adapter_with_covariates_and_options(ctx):
    from pilotdid.study.analyses import staggered
    out = staggered.run(ctx, {"estimators": ["cs"], "control_group": "not_yet_treated", "est_method": "reg",
                              "base_period": "varying", "draws": 0})
    assert {r["estimator"] for r in out.results["event_study"]} == {"cs", "twfe"}
    with pytest.raises(PilotdidInputError, match="control_group"):
        staggered.run(ctx, {"control_group": "everyone"})
    with pytest.raises(PilotdidInputError, match="unknown option"):
        staggered.run(ctx, {"estimator": ["cs"]})


@pytest.mark.parametrize("method", ["RM", "SD"])
def test_honest_adapter(ctx, method):
    from pilotdid.study.analyses import honest
    opts = {"method": method, "covariates": "none"}
    if method == "SD":
        opts["grid"] = [0.0, 0.01, 0.02]
    out = honest.run(ctx, opts)
    h = out.results["honest"]
    assert h["original_ci"][0] < h["estimate"] < h["original_ci"][1]
    assert len(h["grid"]) == (5 if method == "RM" else 3)
    assert f"honest_{method.lower()}" in out.figures


def test_honest_uses_the_study_seed(ctx, monkeypatch):
    """Every analysis's seed defaults to the study seed ([study] seed, --seed); honest used 0."""
    import dataclasses

    from pilotdid.inference import honest as honest_inference
    from pilotdid.study.analyses import honest

    seen = []
    real = honest_inference.event_study_sensitivity
    monkeypatch.setattr(honest_inference, "event_study_sensitivity",
                        lambda *a, **k: seen.append(k["seed"]) or real(*a, **k))
    honest.run(dataclasses.replace(ctx, seed=987), {"covariates": "none"})
    honest.run(ctx, {"covariates": "none", "seed": 5})
    assert seen == [987, 5]


def test_wild_bootstrap_adapter(ctx):
    from pilotdid.study.analyses import wild_bootstrap
    out = wild_bootstrap.run(ctx, {"reps": 499, "weights": "webb"})
    wb = out.results["wild_bootstrap"]
    assert 0 <= wb["p_wcr"] <= 1 and wb["ci_low"] < wb["coef"] < wb["ci_high"]
    # the t beside the bootstrap p is the study's analytic t (same SE preset, same small-sample factor)
    from pilotdid.estimation.twfe import fit_twfe
    m = ctx.model
    fit = fit_twfe(ctx.panel, m.outcome, [TREAT, *m.controls], m.fixed_effects, m.cluster or ctx.unit, vcov=m.vcov)
    assert wb["t"] == pytest.approx(float(fit.term(TREAT)["t"]), rel=1e-9)
    assert math.isfinite(wb["coef"]) and wb["treated_clusters"] > 0


def test_staggered_cs_conventions_named_and_units_reported(ctx):
    """Issue 17: ps_fallback named in every CS table note (default "none"), units behind each CS event time in
    results.json and the event-study table, thin event times flagged, balance_e offered."""
    from pilotdid.study.analyses import staggered
    out = staggered.run(ctx, {"estimators": ["cs"], "draws": 0, "min_units_e": 1000})
    for name in ("staggered_cs_att_gt", "staggered_event_study", "staggered_overall_att"):
        assert any('ps_fallback = "dr"' not in n and "ps_fallback" in n and 'default "none"' in n
                   for n in out.tables[name].notes), name
    units = {r["rel_time"]: r["n_units"] for r in out.results["cs_event_time_units"]}
    cs_rows = {r["rel_time"]: r for r in out.results["event_study"] if r["estimator"] == "cs"}
    assert all(cs_rows[e]["n_units"] == u for e, u in units.items())
    shown = out.tables["staggered_event_study"].body.set_index("Event time")["CS treated units"]
    assert all(shown[e] == str(u) for e, u in units.items() if e in shown.index)
    assert any("rest on fewer than 1000 treated units" in n for n in out.notes)
    bal = staggered.run(ctx, {"estimators": ["cs"], "draws": 0, "balance_e": 1, "ps_fallback": "reg",
                              "covariate_period": "base"})
    assert max(r["rel_time"] for r in bal.results["cs_event_time_units"]) == 1
    with pytest.raises(PilotdidInputError, match="ps_fallback"):
        staggered.run(ctx, {"estimators": ["cs"], "ps_fallback": "error"})
    with pytest.raises(PilotdidInputError, match="balance_e"):
        staggered.run(ctx, {"estimators": ["cs"], "balance_e": -1})
