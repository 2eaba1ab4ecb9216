"""The verdict's sentences about the new estimators follow from the numbers (hand-made results documents)."""

from __future__ import annotations

from pilotdid.report.verdict import build_verdict

PUBLISHED = {"baseline": [{"column": "1", "term": "did", "coef": 0.05}]}


def _doc(**extra):
    return {"estimates": [{"table": "baseline", "column": "1", "term": "did", "coef": 0.04, "se": 0.01, "p": 0.0001,
                           "ci_low": 0.02, "ci_high": 0.06}], **extra}


def _sentences(doc, lang="en"):
    return build_verdict(doc, PUBLISHED, treatment="did", lang=lang)["sentences"]


def test_robust_estimators_agreeing_and_disagreeing():
    agg = [{"estimator": "cs", "type": "simple", "att": 0.03, "se": 0.01},
           {"estimator": "twfe", "type": "static", "att": -1.0, "se": 0.01},  # TWFE is the headline, not a check
           {"estimator": "dcdh", "type": "average_total_effect", "att": 0.03, "se": 0.01}]
    assert any("all 2 overall effects have the paper's sign" in s for s in _sentences(_doc(aggregates=agg)))
    agg.append({"estimator": "sdid", "type": "cohorts 2015/2016", "att": 0.01, "se": 0.02})
    text = " ".join(_sentences(_doc(aggregates=agg)))
    assert "1 of 3 overall effects do not agree" in text and "Synthetic DID 0.0100" in text  # estimator names through the label resolver


def test_diagnostics_speak_only_when_they_change_the_reading():
    quiet = _doc(twowayfeweights={"n_negative": 0, "treated_cells": 10, "sum_negative": 0.0, "sigma_fe": 0.1},
                 dcdh={"p_joint_placebo": 0.4},
                 pretrends={"mean_after_pretest_post": 0.001, "observed_post_mean": 0.02, "power": 0.8})
    base = len(_sentences(_doc()))
    assert len(_sentences(quiet)) == base
    loud = _doc(twowayfeweights={"n_negative": 11, "treated_cells": 197, "sum_negative": -0.0303, "sigma_fe": 0.0142},
                dcdh={"p_joint_placebo": 0.002},
                pretrends={"mean_after_pretest_post": 0.015, "observed_post_mean": 0.02, "power": 0.8})
    text = " ".join(_sentences(loud))
    assert "11 of 197 treated cells carry negative weights (sum -0.030)" in text
    assert "placebos are jointly significant (p = 0.002)" in text
    assert "miss 20% of the time would by itself produce 0.0150 of the 0.0200" in text
    assert len(_sentences(loud, "zh")) == base + 3
