"""The analysis adapters with a hand-built StudyContext (SYNTHETIC panel): stepwise columns, schema,
treatment naming, published rows, option errors."""

from __future__ import annotations

import pytest

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.twfe import VCOV_PRESETS, fit_twfe
from pilotdid.study.analyses import baseline, descriptives, vcov_presets
from pilotdid.study.context import FIRST_TREAT, TREAT, ModelSpec, StudyContext
from pilotdid.study.results import ESTIMATE_KEYS


@pytest.fixture
def ctx(panel):
    df = panel.copy()
    df[TREAT] = df["did"]
    df[FIRST_TREAT] = 0
    df = df.drop(columns=["did"])
    return StudyContext(
        study_name="synthetic", panel=df, unit="unit", time="year",
        model=ModelSpec(outcome="y", controls=["x1", "x2"], fixed_effects=["unit", "year"], cluster="unit", vcov="lsdv"),
        treatment_name="policy",
    )


def test_baseline_stepwise_columns(ctx, panel):
    out = baseline.run(ctx, {"stepwise": True})
    cols = {}
    for r in out.estimates:
        assert tuple(r)[: len(ESTIMATE_KEYS)] == ESTIMATE_KEYS and r["table"] == "baseline"
        cols.setdefault(r["column"], []).append(r["term"])
    assert cols == {"1": ["policy", "_cons"], "2": ["policy", "x1", "_cons"], "3": ["policy", "x1", "x2", "_cons"]}
    ref = fit_twfe(panel, "y", ["did", "x1"], ["unit", "year"], "unit")
    row = next(r for r in out.estimates if r["column"] == "2" and r["term"] == "policy")
    assert row["coef"] == pytest.approx(ref.term("did")["coef"], rel=1e-12)
    assert row["se"] == pytest.approx(ref.term("did")["se"], rel=1e-12)
    table = out.tables["baseline"]
    assert list(table.body.columns) == ["Variable", "(1)", "(2)", "(3)"]
    assert table.body.iloc[0, 0] == "policy"
    assert "policy" not in ctx.panel.columns  # the context's panel is untouched


def test_baseline_single_column_with_published(ctx):
    ctx.extras["published"] = {"baseline": [{"column": "1", "term": "policy", "coef": 0.3, "t": 2.5, "p": 0.02}]}
    out = baseline.run(ctx, {"stat": "se", "vcov": "reghdfe"})
    assert {r["column"] for r in out.estimates} == {"1"}
    assert {r["vcov"] for r in out.estimates} == {"reghdfe"}
    assert "published" in " ".join(out.tables["baseline"].body["Variable"])


def test_baseline_bad_options(ctx):
    with pytest.raises(PilotdidInputError, match="unknown option"):
        baseline.run(ctx, {"stepwize": True})
    with pytest.raises(PilotdidInputError, match="stat"):
        baseline.run(ctx, {"stat": "z"})
    with pytest.raises(PilotdidInputError, match="unknown standard-error preset"):
        baseline.run(ctx, {"vcov": "stata"})


def test_descriptives(ctx):
    out = descriptives.run(ctx, {})
    assert [r["term"] for r in out.estimates] == ["y", "policy", "x1", "x2"]
    assert all(r["coef"] is None and r["mean"] is not None for r in out.estimates)
    assert out.tables["descriptives"].body.iloc[1, 0] == "policy"


def test_vcov_presets_rows(ctx):
    ctx.extras["published"] = {"baseline": [
        {"column": "1", "term": "policy", "coef": 0.3, "se": 0.1},
        {"column": "2", "term": "policy", "coef": 0.31, "se": 0.12},
    ]}
    out = vcov_presets.run(ctx, {})
    assert [r["column"] for r in out.estimates] == list(VCOV_PRESETS)
    assert all(r["table"] == "vcov_presets" and r["term"] == "policy" for r in out.estimates)
    assert len({round(r["coef"], 12) for r in out.estimates}) == 1
    body = out.tables["vcov_presets"].body
    assert list(body.iloc[:, 0]) == [*VCOV_PRESETS, "published"]
    assert body.iloc[-1]["SE"] == "0.12"  # the full-model (last) published column
    with pytest.raises(PilotdidInputError):
        vcov_presets.run(ctx, {"presets": ["lsdv", "nope"]})
