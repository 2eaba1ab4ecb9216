"""Synthetic DID's two replicate cohort-weight conventions (bootstrap and jackknife SEs of the cohort average):
``resampled`` (Stata sdid: each replicate re-weights the cohorts by its own treated unit-periods) and ``fixed``
(the sample's cohort weights: the SE conditional on cohort sizes). Both come from the same replicates, the study
file chooses the headline, and the table, results.json and the API show both. SYNTHETIC panels only.

Stata sdid's staggered jackknife (sdid.ado 2.0.5, the leave-one-out loop of its Mata ``synthdid``) weights each
replicate's cohorts by the left-in treated units x post periods (``tau_wt_aux = yNtr*Npost``): the ``resampled``
convention, checked formula for formula in tests/toolkit/test_sdid.py (no printed Stata staggered jackknife or
bootstrap output with its data was available to compare numbers with)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from pilotdid.estimation.staggered import sdid
from pilotdid.i18n import LATIN_WORDS_ALLOWED_IN_ZH
from pilotdid.report.localise import localise_table
from pilotdid.report.staggered_tables import sdid_table
from pilotdid.study.context import FIRST_TREAT, TREAT, ModelSpec, StudyContext

KW = dict(outcome="y", unit="unit", time="year", first_treat="first_treat")
YEARS = range(2010, 2018)


def heterogeneous_panel() -> pd.DataFrame:
    """A deterministic panel (no random draws): 6 never-treated units, a 2013 cohort of 3 units with effect 0
    and a 2015 cohort of 3 units with effect 10; outcomes are unit + year effects plus a fixed wiggle."""
    rows = []
    units = [("n", 0)] * 6 + [("a", 2013)] * 3 + [("b", 2015)] * 3
    for i, (kind, first) in enumerate(units):
        for t in YEARS:
            effect = 10.0 if kind == "b" and t >= first else 0.0
            wiggle = np.sin(1.7 * i + 0.9 * (t - 2010)) * 0.5
            rows.append({"unit": f"{kind}{i}", "year": t, "first_treat": first,
                         "y": 2.0 * i + 0.3 * (t - 2010) + wiggle + effect})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return heterogeneous_panel()


@pytest.mark.parametrize("se_method", ["jackknife", "bootstrap"])
def test_one_cohort_gives_the_same_se_under_both_conventions(panel, se_method):
    res = sdid.staggered_sdid(panel, **KW, cohorts=[2015], se_method=se_method, replications=30, seed=4)
    both = res.se_by_cohort_weights
    assert set(both) == {"resampled", "fixed"} and np.isfinite(both["fixed"])
    assert both["resampled"] == pytest.approx(both["fixed"], rel=1e-12)
    assert res.se == both["resampled"]
    table = sdid_table(res, se_method="jackknife")
    assert "se" in table.body.columns and not any(c.startswith("se_cohort_weights") for c in table.body.columns)
    assert len(table.body) == 1 and any(n.startswith("One cohort:") for n in table.notes)


def test_heterogeneous_cohort_effects_make_the_resampled_jackknife_larger(panel):
    """Leaving out a treated unit moves weight between cohorts whose effects differ by 10 under the resampled
    convention only; the fixed convention sees just the cohort's own estimate move. Deterministic: the jackknife
    has no draws and the panel none."""
    res = sdid.staggered_sdid(panel, **KW, se_method="jackknife")
    fixed = sdid.staggered_sdid(panel, **KW, se_method="jackknife", replicate_cohort_weights="fixed")
    both = res.se_by_cohort_weights
    assert res.se == both["resampled"] and fixed.se == both["fixed"]
    assert fixed.se_by_cohort_weights == both  # the same replicates, whichever is the headline
    assert both["resampled"] > 2 * both["fixed"] > 0
    # the resampled jackknife by hand: leaving out treated unit i of cohort a gives the cohort average with a's
    # weight (N1_a - 1) x T1_a; the never-treated leave-outs are the fixed convention's (cohort weights unchanged)
    c = res.cohorts
    T1 = c.post_periods.to_numpy(float)
    sizes = c.treated_units.to_numpy(float)
    est = c.estimate.to_numpy(float)
    shift = []
    for a in range(len(c)):
        remaining = sizes.copy()
        remaining[a] -= 1
        shift.append((remaining * T1) @ est / (remaining * T1).sum() - (sizes * T1) @ est / (sizes * T1).sum())
    # with an effect of 10 in one cohort only, the weight shift alone moves the average by about 1
    assert max(abs(s) for s in shift) > 0.5


def test_bootstrap_both_conventions_from_the_same_draws(panel):
    kw = dict(**KW, se_method="bootstrap", replications=40, seed=11)
    res = sdid.staggered_sdid(panel, **kw)
    fixed = sdid.staggered_sdid(panel, **kw, replicate_cohort_weights="fixed")
    assert res.se_by_cohort_weights == fixed.se_by_cohort_weights
    assert fixed.se == res.se_by_cohort_weights["fixed"] and res.se == res.se_by_cohort_weights["resampled"]
    assert res.se_by_cohort_weights["resampled"] > res.se_by_cohort_weights["fixed"] > 0  # seeded: deterministic
    np.testing.assert_array_equal(res.cohorts.se, fixed.cohorts.se)  # a cohort's own SE has no cohort weights


def test_placebo_has_one_convention(panel):
    res = sdid.staggered_sdid(panel, **KW, cohorts=[2013], replications=20, seed=1)  # 3 treated < 6 never treated
    assert res.se_by_cohort_weights == {} and res.other_cohort_weights is None
    record = res.record()
    assert record["se_method"] == "placebo"
    assert record["cohort_weights"] is None and record["se_cohort_weights_resampled"] is None
    assert record["se_cohort_weights_fixed"] is None
    table = sdid_table(res, se_method="placebo")
    assert list(table.body.columns) == list(res.cohorts.columns)
    assert sum("one cohort-weight convention" in n for n in table.notes) == 1


def test_api_result_tidies_prints_and_serialises_both(panel):
    res = sdid.staggered_sdid(panel, **KW, se_method="jackknife", replicate_cohort_weights="fixed")
    tidy = res.tidy()
    averages = tidy[tidy.kind == "average"]
    assert list(averages.term) == ["average", "average (resampled)"]
    assert list(averages.cohort_weights) == ["fixed", "resampled"]
    assert list(averages.se) == [res.se_by_cohort_weights["fixed"], res.se_by_cohort_weights["resampled"]]
    text = res.summary()
    assert "cohort weights fixed" in text and "se of the average, cohort weights resampled" in text
    record = res.to_dict()["sdid"]
    assert record["se"] == record["se_cohort_weights_fixed"] and record["cohort_weights"] == "fixed"
    assert record["se_cohort_weights_resampled"] == res.se_by_cohort_weights["resampled"]
    # the keys the staggered analysis wrote before, unchanged and first
    assert list(record)[:4] == ["att", "se", "replications", "cohorts"]


def _context(panel: pd.DataFrame) -> StudyContext:
    df = panel.copy()
    df[FIRST_TREAT] = df["first_treat"]
    df[TREAT] = ((df.first_treat > 0) & (df.year >= df.first_treat)).astype(int)
    model = ModelSpec(outcome="y", controls=[], fixed_effects=["unit", "year"], cluster="unit")
    return StudyContext(study_name="synthetic", panel=df, unit="unit", time="year", model=model, treatment_name="did")


@pytest.mark.parametrize("headline", ["resampled", "fixed"])
def test_study_option_chooses_the_headline_and_the_table_shows_both(panel, headline):
    from pilotdid.study.analyses import staggered

    out = staggered.run(_context(panel), {"estimators": ["sdid"], "sdid_se": "jackknife",
                                          "sdid_cohort_weights": headline})
    record = out.results["sdid"]
    other = {"resampled": "fixed", "fixed": "resampled"}[headline]
    assert record["cohort_weights"] == headline and record["se_method"] == "jackknife"
    assert record["se"] == record[f"se_cohort_weights_{headline}"] != record[f"se_cohort_weights_{other}"]
    row = [a for a in out.results["aggregates"] if a["estimator"] == "sdid"][0]
    assert row["se"] == record["se"]
    assert ("re-weights the cohorts" if headline == "resampled" else "keeps the sample's cohort weights") in row["se_method"]
    table = out.tables["staggered_sdid"]
    columns = [c for c in table.body.columns if c.startswith("se_cohort_weights")]
    assert columns == [f"se_cohort_weights_{headline}", f"se_cohort_weights_{other}"]  # the headline first
    average = table.body.iloc[-1]
    assert average["cohort"] == "Average" and average["estimate"] == pytest.approx(record["att"])
    assert average[columns[0]] == record["se"] and average[columns[1]] == record[f"se_cohort_weights_{other}"]
    text = table.to_frame()
    assert list(text.iloc[-1][["pre_periods", "post_periods"]]) == ["", ""]
    assert list(text.iloc[0][["cohort", "treated_units"]]) == ["2013", "3"]  # counts print as counts
    assert any(n.startswith("SE of the average under both replicate cohort-weight conventions") and
               f"{headline} (the headline" in n for n in table.notes)


def test_default_is_resampled_and_every_new_sentence_has_chinese(panel):
    from pilotdid.report.labels import humanise_table
    from pilotdid.study.analyses import staggered

    # the bootstrap's third note counts its draws missing a cohort (2 of the 20 here)
    for options, expected in (({"sdid_se": "jackknife"}, 2), ({"sdid_se": "bootstrap", "sdid_replications": 20}, 3),
                              ({"sdid_cohorts": [2013], "sdid_replications": 20}, 2),
                              ({"sdid_cohorts": [2015], "sdid_se": "jackknife"}, 2)):
        out = staggered.run(_context(panel), {"estimators": ["sdid"], **options})
        if options.get("sdid_se", "placebo") != "placebo":
            assert out.results["sdid"]["cohort_weights"] == "resampled"
        table = humanise_table(out.tables["staggered_sdid"], "zh")
        localise_table(table, "zh")
        assert len(table.notes) == expected
        assert table.to_frame().iloc[0, 2] in {"3", "5"}  # pre-periods print as counts in zh too
        for text in [*table.notes, *table.body.columns, *table.body.iloc[:, 0].astype(str)]:
            words = re.findall(r"[A-Za-z][A-Za-z0-9'._-]*", text.replace("œ", "oe"))
            assert not [w for w in words if w.strip("._-") not in LATIN_WORDS_ALLOWED_IN_ZH and len(w) > 1], text


def test_an_undefined_jackknife_shows_no_empty_columns(panel):
    one = panel[(panel.first_treat != 2013) | (panel.unit == "a6")]  # the 2013 cohort down to one unit
    res = sdid.staggered_sdid(one, **KW, se_method="jackknife")
    assert np.isnan(res.se) and all(np.isnan(v) for v in res.se_by_cohort_weights.values())
    assert res.record()["se_cohort_weights_fixed"] is None and res.record()["cohort_weights"] == "resampled"
    table = sdid_table(res, se_method="jackknife")
    assert list(table.body.columns) == list(res.cohorts.columns) and len(table.notes) == 1
