"""The study adapters (event_study, placebo, robustness) on a SYNTHETIC StudyContext."""

from __future__ import annotations

import numpy as np
import pytest

from pilotdid.errors import PilotdidInputError
from pilotdid.study.analyses import event_study, placebo, robustness
from pilotdid.study.results import ESTIMATE_KEYS, EVENT_STUDY_KEYS, PLACEBO_KEYS

from .conftest import make_context

PUBLISHED = {"robustness": [
    {"column": "psm_nearest", "term": "DID", "coef": 0.010, "t": 3.171, "nobs": 677},
    {"column": "concurrent_policy", "term": "bb", "coef": 0.001, "t": 0.593},
    {"column": "lagged", "term": "L.DID", "coef": 0.019, "t": 4.845, "nobs": 2232},
]}


@pytest.fixture(scope="module")
def ctx(small_panel):
    frame = small_panel.copy()
    frame["bb"] = ((frame["unit"] % 5 == 0) & (frame["year"] >= 2015)).astype(float)
    return make_context(frame, controls=["x1", "x2"], published=PUBLISHED)


def test_event_study_adapter(ctx):
    out = event_study.run(ctx, {"window": [-3, 3]})
    rows = out.results["event_study"]
    assert [r["rel_time"] for r in rows] == list(range(-3, 4))
    assert all(set(EVENT_STUDY_KEYS) <= set(r) for r in rows)
    assert out.results["event_study_pretrend"]["q"] == 2
    assert "event_study" in out.figures
    with pytest.raises(PilotdidInputError):
        event_study.run(ctx, {"windw": [-3, 3]})
    with pytest.raises(PilotdidInputError):
        event_study.run(ctx, {"window": [-3]})


def test_placebo_adapter(ctx):
    out = placebo.run(ctx, {"draws": 50, "seed": 3, "in_time": [1]})
    entry = out.results["placebo"]
    assert set(PLACEBO_KEYS) <= set(entry) and entry["draws"] == 50 and entry["seed"] == 3
    # the actual estimate equals the lsdv baseline fit
    from pilotdid.estimation.twfe import fit_twfe

    base = fit_twfe(ctx.panel, "y", ["_did", "x1", "x2"], ["unit", "year"], "unit", vcov="lsdv").term("_did")
    assert entry["actual"] == pytest.approx(base["coef"], abs=1e-10)
    assert entry["actual_se"] == pytest.approx(base["se"], rel=1e-9)
    assert out.estimates and all(set(ESTIMATE_KEYS) <= set(r) for r in out.estimates)
    assert "placebo" in out.figures
    with pytest.raises(PilotdidInputError):
        placebo.run(ctx, {"draws": 0})
    with pytest.raises(PilotdidInputError):
        placebo.run(ctx, {"kind": "rows"})


def test_placebo_adapter_same_seed_same_result(ctx):
    a = placebo.run(ctx, {"draws": 30, "seed": 1, "in_time": False}).results["placebo"]
    b = placebo.run(ctx, {"draws": 30, "seed": 1, "in_time": False, "block_size": 7}).results["placebo"]
    assert a["mean"] == pytest.approx(b["mean"], abs=1e-14) and a["p_two_sided"] == b["p_two_sided"]


def test_robustness_adapter(ctx):
    out = robustness.run(ctx, {"concurrent_column": "bb", "capital_column": "is_capital", "drop_periods": [2019]})
    table = out.tables["robustness"]
    assert table.body.shape[1] == 7  # label column + the paper's six columns
    text = table.to_frame().to_string()
    assert "paper (published)" in text and "677" in text and "0.019" in text and "0.001" in text
    cols = {r["column"] for r in out.estimates}
    assert {"psm_nearest", "psm_radius", "psm_kernel", "concurrent_policy", "lagged", "winsorised",
            "winsorised_5", "no_capitals", "drop_periods", "psm_nearest_weighted"} <= cols
    lag = next(r for r in out.estimates if r["column"] == "lagged" and r["term"] == "L.did")
    assert lag["nobs"] == len(ctx.panel) - ctx.panel["unit"].nunique()
    assert all(set(ESTIMATE_KEYS) <= set(r) for r in out.estimates)
    psm = next(r for r in out.estimates if r["column"] == "psm_nearest" and r["term"] == "did")
    assert psm["nobs"] == out.results["robustness"]["psm"]["psm_nearest"]["n_matched"]
    assert np.isfinite(psm["coef"])
    assert "winsorising_counts" in out.tables and "robustness_referee" in out.tables


def test_robustness_without_registry_or_columns_says_why(ctx):
    out = robustness.run(ctx, {"concurrent_policy": "no_such_policy"})
    text = " ".join(out.tables["robustness"].notes)
    assert "(4)" in text or "concurrent" in text.lower()
    with pytest.raises(PilotdidInputError):
        robustness.run(ctx, {"psm_pooling": "weekly"})


@pytest.mark.parametrize("weighting", ["matched_rows", "weights"])
def test_psm_did_both_weightings_in_table5(small_panel, weighting):
    """Issue 17: the DID beside the paper is the unweighted regression on the matched rows by default
    (reghdfe ... if _weight != .), the weighted one in the row below; N before and after singleton removal."""
    from pilotdid.design.psm import psm_match
    from pilotdid.estimation.twfe import fit_twfe

    frame = small_panel.assign(bb=((small_panel["unit"] % 5 == 0) & (small_panel["year"] >= 2015)).astype(float))
    lone = frame.loc[frame.first_treat > 0, "unit"].iloc[0]  # one treated city-year left: a singleton for reghdfe
    frame = frame[(frame.unit != lone) | (frame.year == frame.year.max())]
    ctx = make_context(frame, controls=["x1", "x2"], vcov="reghdfe", published=PUBLISHED)
    opts = {"concurrent_column": "bb", "capital_column": "is_capital", "drop_periods": [2019]}
    if weighting != "matched_rows":
        opts["psm_weighting"] = weighting
    out = robustness.run(ctx, opts)
    match = psm_match(ctx.panel.assign(did=ctx.panel["_did"]), treat="_did", covariates=["x1", "x2"],
                      pooling="pooled", time="year", seed=ctx.seed, method="nearest", k=3, replacement=True,
                      caliper=None)
    sample = ctx.panel.loc[match.matched].assign(did=lambda d: d["_did"], w=match.weight[match.matched])
    rows = fit_twfe(sample, "y", ["did", "x1", "x2"], ["unit", "year"], "unit", vcov="reghdfe")
    weighted = fit_twfe(sample, "y", ["did", "x1", "x2"], ["unit", "year"], "unit", vcov="reghdfe", weights="w")
    main, other = (rows, weighted) if weighting == "matched_rows" else (weighted, rows)
    est = {(r["column"], r["term"]): r for r in out.estimates}
    assert est[("psm_nearest", "did")]["coef"] == pytest.approx(main.term("did")["coef"], abs=1e-12)
    suffix = "_weighted" if weighting == "matched_rows" else "_unweighted"
    assert est[(f"psm_nearest{suffix}", "did")]["coef"] == pytest.approx(other.term("did")["coef"], abs=1e-12)
    psm = out.results["robustness"]["psm"]["psm_nearest"]
    assert psm["weighting"] == weighting
    assert psm["matched_rows"]["t"] == pytest.approx(rows.term("did")["t"], rel=1e-10)
    assert psm["weights"]["t"] == pytest.approx(weighted.term("did")["t"], rel=1e-10)
    body = out.tables["robustness"].body
    labels = list(body.iloc[:, 0])
    alt = "weighted by psmatch2's _weight" if weighting == "matched_rows" else "unweighted on matched rows"
    assert any(alt in lab for lab in labels)
    assert rows.singletons_dropped == 1 and psm["singletons_dropped"] == 1
    n_rows = body.set_index(body.columns[0])
    assert int(n_rows.loc["N before singleton removal (PSM: matched rows)"].iloc[0]) == psm["n_matched"]
    assert int(n_rows.loc["N after singleton removal (regression)"].iloc[0]) == psm["n_matched"] - 1 == main.nobs
    notes = " ".join(out.tables["robustness"].notes)
    assert f'psm_weighting = "{weighting}"' in notes and 'default "matched_rows"' in notes
    reading = out.results["robustness"]["psm_weighting"]["reading"]
    assert "unweighted on matched rows vs weighted" in reading and reading in out.notes
    with pytest.raises(PilotdidInputError, match="psm_weighting"):
        robustness.run(ctx, {"psm_weighting": "frequency"})


def test_no_concurrent_policy_note_is_in_the_report_language(ctx):
    # before, a zh study without a concurrent policy got this note in English
    from dataclasses import replace

    for lang, expected in (("en", "No concurrent policy named"), ("zh", "未指定同期政策")):
        out = robustness.run(replace(ctx, lang=lang), {"capital_column": "is_capital"})
        notes = [n for n in out.notes + out.tables["robustness"].notes if expected in n]
        assert notes, lang


def test_psm_reading_note_is_in_the_report_language(ctx):
    # before, the PSM-DID reading (unweighted vs weighted conventions) was English in every zh report
    from dataclasses import replace

    options = {"concurrent_column": "bb", "capital_column": "is_capital"}
    en = robustness.run(ctx, options)
    reading = en.results["robustness"]["psm_weighting"]["reading"]
    assert reading.startswith("PSM-DID, unweighted on matched rows vs weighted") and reading in en.notes
    zh = robustness.run(replace(ctx, lang="zh"), options)
    assert zh.results["robustness"]["psm_weighting"]["reading"] == reading  # results.json stays English
    [note] = [n for n in zh.notes if n.startswith("PSM-DID，")]
    assert "表“robustness”与原文并列" in note  # the table cited in Chinese ([template.ref])
    for english in ("unweighted", "nearest", "convention", "Significant", "Table"):
        assert english not in note, english
