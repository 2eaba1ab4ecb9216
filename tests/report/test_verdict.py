"""The verdict's wording follows from the numbers (SYNTHETIC studies: confirming, sign-only, contradicting)."""

from __future__ import annotations

import json

import pytest

from pilotdid.design.synthetic import synthetic_staggered_panel
from pilotdid.report.output import write_output
from pilotdid.report.verdict import VERDICT_TEXT, build_verdict, classify
from pilotdid.study.runner import run_study
from pilotdid.study.spec import load_study

STUDY = """
[study]
name = "synthetic_verdict"
published = "published.toml"
labels = {{ did = "Pilot" }}
[data]
panel = "panel.csv"
unit = "unit"
time = "year"
[treatment]
first_treat = "first_treat"
[model]
outcome = "y"
controls = ["x1", "x2"]
fixed_effects = ["unit", "year"]
cluster = "unit"
vcov = "reghdfe"
[analyses.baseline]
[analyses.event_study]
window = [-3, 3]
[analyses.robustness]
psm_k = 1
{extra}
"""

PUBLISHED = """
[[baseline]]
column = "1"
term = "did"
coef = {coef}
t = 5.000
"""


def _run(tmp_path, *, effect: float, published: str, extra: str = ""):
    panel = synthetic_staggered_panel(n_units=120, n_years=8, n_controls=2, effect=effect, seed=7,
                                      cohorts=(2015, 2016, 2017))
    panel.to_csv(tmp_path / "panel.csv", index=False)
    (tmp_path / "published.toml").write_text(PUBLISHED.format(coef=published), encoding="utf-8")
    (tmp_path / "study.toml").write_text(STUDY.format(extra=extra), encoding="utf-8")
    run = run_study(load_study(tmp_path / "study.toml"))
    out = write_output(run, tmp_path / "out")
    return json.loads((out / "results.json").read_text(encoding="utf-8")), out


def _ours(doc):
    return next(r for r in doc["estimates"] if r["table"] == "baseline" and r["term"] == "did")


@pytest.mark.parametrize(
    ("effect", "published", "expected"),
    [
        (0.8, "0.80", "confirmed"),        # the true effect: our CI covers the paper's value
        (0.8, "3.000", "sign_only"),       # same sign, significant, paper far outside our CI
        (-0.8, "0.800", "not_confirmed"),  # our estimate has the opposite sign
    ],
)
def test_wording_follows_from_the_numbers(tmp_path, effect, published, expected):
    doc, out = _run(tmp_path, effect=effect, published=published)
    verdict = doc["verdict"]
    ours = _ours(doc)
    paper = float(published)
    # the rule, recomputed here from the numbers results.json holds
    same_sign = (ours["coef"] > 0) == (paper > 0)
    inside = ours["ci_low"] <= paper <= ours["ci_high"]
    rule = ("not_confirmed" if not (same_sign and ours["p"] < 0.05) else "confirmed" if inside else "sign_only")
    assert rule == expected == verdict["status"]
    head = verdict["headlines"][0]
    assert head["paper_in_ci"] is inside and head["same_sign"] is same_sign
    # the paper's value as printed (trailing zeros kept) and our study label, not the raw field name
    assert f"paper {published}," in head["sentence"] and "Pilot" in head["sentence"]
    assert VERDICT_TEXT["en"][f"status.{expected}"] in head["sentence"]
    # the pre-trend test and the robustness checks are judged against the paper's sign
    assert verdict["pretrend"] is not None and verdict["checks"] >= 6
    for check in verdict["overturning"]:
        assert not ((check["coef"] > 0) == (paper > 0) and check["p"] < 0.05)
    # the report opens with it, and says it in words
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.index('id="verdict"') < html.index('id="baseline"')
    assert VERDICT_TEXT["en"][f"status.{expected}"] in html


def test_no_published_file_means_no_verdict(tmp_path):
    panel = synthetic_staggered_panel(n_units=40, n_years=6, n_controls=2, effect=0.5, seed=1, cohorts=(2014, 2015))
    panel.to_csv(tmp_path / "panel.csv", index=False)
    (tmp_path / "study.toml").write_text(
        STUDY.format(extra="").replace('published = "published.toml"\n', "")
        .replace("[analyses.event_study]\nwindow = [-3, 3]\n[analyses.robustness]\npsm_k = 1\n", ""),
        encoding="utf-8",
    )
    out = write_output(run_study(load_study(tmp_path / "study.toml")), tmp_path / "out")
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["verdict"] is None


@pytest.mark.parametrize(
    ("coef", "p", "lo", "hi", "paper", "status"),
    [
        (0.01, 0.01, 0.005, 0.015, 0.012, "confirmed"),
        (0.01, 0.01, 0.005, 0.015, 0.016, "sign_only"),
        (0.01, 0.01, 0.005, 0.015, 0.015, "confirmed"),   # a bound counts as inside
        (0.01, 0.05, -0.0001, 0.02, 0.012, "not_confirmed"),  # p = alpha is not significant
        (-0.01, 0.001, -0.02, -0.005, 0.012, "not_confirmed"),
        (None, None, None, None, 0.012, "not_confirmed"),
    ],
)
def test_classification_rules_at_their_boundaries(coef, p, lo, hi, paper, status):
    assert classify(coef, p, lo, hi, paper)[0] == status


def test_zh_wording_and_declared_headlines():
    doc = {
        "estimates": [{"table": "baseline", "column": "2", "term": "did", "coef": 0.02, "p": 0.001, "ci_low": 0.01,
                       "ci_high": 0.03, "se": 0.005}],
        "event_study_pretrend": {"q": 3, "F": 0.5, "p_F": 0.68, "df_denominator": 99},
    }
    published = {"verdict": {"headline": [{"table": "baseline", "column": "6"}]},
                 "baseline": [{"column": "6", "term": "did", "coef": 0.016}]}
    verdict = build_verdict(doc, published, treatment="did", column_maps={"baseline": {"2": "6"}}, lang="zh")
    assert verdict["status"] == "confirmed"
    assert "得到证实" in verdict["sentences"][0] and "联合不显著" in verdict["sentences"][1]
    assert verdict["pretrend"]["passes"] is True


@pytest.mark.parametrize(
    ("coef", "p", "lo", "hi", "status"),
    [
        (0.017, 0.55, -0.04, 0.07, "confirmed"),       # an insignificant paper estimate reproduced (examples/lowcarbon)
        (0.017, 0.55, 0.02, 0.07, "sign_only"),
        (0.030, 0.001, 0.02, 0.04, "not_confirmed"),   # significant where the paper found nothing
    ],
)
def test_an_insignificant_published_estimate_is_confirmed_by_insignificance(coef, p, lo, hi, status):
    doc = {"estimates": [{"table": "baseline", "column": "1", "term": "did", "coef": coef, "p": p, "ci_low": lo,
                          "ci_high": hi}]}
    doc["estimates"].append({"table": "robustness", "column": "lagged", "term": "did", "coef": 0.01, "p": 0.01})
    published = {"baseline": [{"column": "1", "term": "did", "coef": 0.017066, "t": 0.5929, "p": 0.5539}]}
    verdict = build_verdict(doc, published, treatment="did")
    assert verdict["status"] == status and verdict["headlines"][0]["paper_significant"] is False
    assert [c["check"] for c in verdict["overturning"]] == ["lagged"]  # significant where the paper is not
