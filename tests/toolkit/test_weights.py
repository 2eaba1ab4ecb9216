"""[model] weights (analytic weights, Stata aw) on a SYNTHETIC study: the regression by hand, equal weights
change nothing, bad weights and analyses that cannot use them are refused naming the row or the analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilotdid.design.synthetic import synthetic_staggered_panel
from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.twfe import fit_twfe
from pilotdid.study.runner import run_study
from pilotdid.study.spec import load_study


@pytest.fixture(scope="module")
def panel():
    p = synthetic_staggered_panel(n_units=40, n_years=6, n_controls=1, effect=0.3, seed=5, cohorts=(2015, 2016))
    rng = np.random.default_rng(6)
    units = p["unit"].unique()
    p["pop"] = p["unit"].map(dict(zip(units, rng.uniform(0.5, 3.0, len(units)))))
    return p


def test_weighted_twfe_equals_wls_with_dummies_by_hand(panel):
    # lsdv preset = Stata `reg y did x1 i.unit i.year [aw=pop], vce(cluster unit)`: WLS on every dummy, CRV1 with
    # q = (N-1)/(N-K) * G/(G-1); aw weights are rescaled to sum to N, which changes neither b nor V.
    res = fit_twfe(panel, "y", ["did", "x1"], ["unit", "year"], "unit", vcov="lsdv", weights="pop")
    X = pd.concat([panel[["did", "x1"]], pd.get_dummies(panel["unit"], drop_first=True, dtype=float),
                   pd.get_dummies(panel["year"], drop_first=True, dtype=float)], axis=1)
    X.insert(0, "const", 1.0)
    X = X.to_numpy(float)
    y = panel["y"].to_numpy(float)
    w = panel["pop"].to_numpy(float)
    w = w * len(w) / w.sum()
    XtWX = X.T @ (w[:, None] * X)
    b = np.linalg.solve(XtWX, X.T @ (w * y))
    e = y - X @ b
    groups = pd.factorize(panel["unit"])[0]
    scores = np.zeros((groups.max() + 1, X.shape[1]))
    np.add.at(scores, groups, (w * e)[:, None] * X)
    n, k, g = len(y), X.shape[1], groups.max() + 1
    bread = np.linalg.inv(XtWX)
    V = bread @ scores.T @ scores @ bread * (n - 1) / (n - k) * g / (g - 1)
    row = res.term("did")
    assert row["coef"] == pytest.approx(b[1], rel=1e-9)
    assert row["se"] == pytest.approx(np.sqrt(V[1, 1]), rel=1e-7)


STUDY = """
[study]
name = "weighted"
[data]
panel = "panel.csv"
unit = "unit"
time = "year"
[treatment]
first_treat = "first_treat"
[model]
outcome = "y"
controls = ["x1"]
fixed_effects = ["unit", "year"]
cluster = "unit"
vcov = "reghdfe"
{weights}
[analyses.baseline]
[analyses.event_study]
window = [-3, 2]
[analyses.staggered]
estimators = {estimators}
stacked_window = [-2, 1]
{extra}
"""


def _run(tmp_path, panel, weights='weights = "pop"', estimators='["cs", "sa", "bjs", "etwfe", "stacked", "twowayfeweights", "dcdh"]', extra=""):
    panel.to_csv(tmp_path / "panel.csv", index=False)
    (tmp_path / "study.toml").write_text(STUDY.format(weights=weights, estimators=estimators, extra=extra),
                                         encoding="utf-8")
    return run_study(load_study(tmp_path / "study.toml"))


def _numbers(run):
    base = [r["coef"] for r in run.outputs["baseline"].estimates if r["term"] == "did"]
    es = [r["coef"] for r in run.outputs["event_study"].results["event_study"] if r["se"] is not None]
    agg = [a["att"] for a in run.outputs["staggered"].results["aggregates"]]
    return np.array(base + es + agg + [run.outputs["staggered"].results["twowayfeweights"]["beta"]])


def test_equal_weights_change_nothing_and_unequal_ones_do(tmp_path, panel):
    plain = _numbers(_run(tmp_path, panel, weights=""))
    ones = _numbers(_run(tmp_path, panel.assign(pop=2.5)))
    np.testing.assert_allclose(ones, plain, rtol=1e-8, atol=1e-12)
    weighted = _numbers(_run(tmp_path, panel))
    assert np.all(np.abs(weighted - plain) > 1e-6)


@pytest.mark.parametrize("bad, message", [(-1.0, "negative at data row 4"), (np.nan, "missing or not a number at data row 4"),
                                          # a zero weight reached pyfixest ("must have only non-negative values"): exit 1
                                          (0.0, "is 0 at data row 4 \\(1 such rows\\): the estimators treat a zero weight")])
def test_bad_weights_are_refused_with_the_row(tmp_path, panel, bad, message):
    broken = panel.copy()
    broken.loc[3, "pop"] = bad
    with pytest.raises(PilotdidInputError, match=message):
        _run(tmp_path, broken)


def test_analyses_and_estimators_without_weights_are_refused(tmp_path, panel):
    with pytest.raises(PilotdidInputError, match="estimator.*bacon.*do not take regression weights"):
        _run(tmp_path, panel, estimators='["bacon", "etwfe"]')
    with pytest.raises(PilotdidInputError, match="analysis robustness does not take regression weights"):
        _run(tmp_path, panel, extra="[analyses.robustness]")



@pytest.mark.parametrize("estimators, extra, said", [
    ('["bacon"]', "", "bacon: Goodman-Bacon's decomposition is derived for unweighted OLS.*twowayfeweights"),
    ('["sdid"]', "", "sdid: synthetic DID chooses its own unit and time weights"),
    ('["sa"]', "[analyses.matching]", "analysis matching does not take regression weights: matching weights are"),
])
def test_weights_refusals_say_why_before_the_panel_is_read(tmp_path, estimators, extra, said):
    # no panel file is written: the refusal comes from the study file alone
    (tmp_path / "study.toml").write_text(STUDY.format(weights='weights = "pop"', estimators=estimators, extra=extra),
                                         encoding="utf-8")
    with pytest.raises(PilotdidInputError, match=said) as caught:
        run_study(load_study(tmp_path / "study.toml"))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("source", ["twfe", "cs"])
def test_honest_and_pretrends_read_the_weighted_event_study(tmp_path, panel, source):
    # HonestDiD and pre-trend power take an event-study vector and its covariance: under [model] weights they read
    # the weighted event study (TWFE: WLS, CRV1; CS: R did's weightsname), exactly as that estimator returns it
    from pilotdid.estimation.staggered import cs
    from pilotdid.estimation.staggered.twfe import twfe_event_study
    from pilotdid.inference import honest, pretrends

    run = _run(tmp_path, panel, estimators='["sa"]',
               extra=f'[analyses.honest]\nsource = "{source}"\nwindow = [-3, 2]\n'
                     f'[analyses.pretrends]\nsource = "{source}"\nwindow = [-3, 2]')
    data = panel.rename(columns={"first_treat": "_first_treat"})
    if source == "twfe":
        es = twfe_event_study(data, outcome="y", unit="unit", time="year", first_treat="_first_treat",
                              covariates=["x1"], cluster="unit", weights="pop")
    else:
        es = cs.event_study(data, outcome="y", unit="unit", time="year", first_treat="_first_treat", cluster=None,
                            covariates=["x1"], control_group="never_treated", est_method="dr",
                            base_period="universal", anticipation=0, draws=0, weights="rademacher", seed=0,
                            sample_weights="pop")[2]
    expected = honest.event_study_sensitivity(es, (-3, 2))
    got = run.outputs["honest"].results["honest"]
    assert got["estimate"] == pytest.approx(expected.original[0], rel=1e-9)
    assert got["original_ci"] == pytest.approx(list(expected.original[1:]), rel=1e-9)
    power = pretrends.event_study_power(es, (-3, 2), 0.8)
    assert run.outputs["pretrends"].results["pretrends"]["observed_post_mean"] == pytest.approx(
        power.observed_post_mean, rel=1e-9)
    assert run.outputs["pretrends"].results["pretrends"]["slope_for_power"]["0.8"] == pytest.approx(
        power.slopes[0.8], rel=1e-9)
    unweighted = _run(tmp_path, panel, weights="", estimators='["sa"]',
                      extra=f'[analyses.honest]\nsource = "{source}"\nwindow = [-3, 2]')
    assert abs(unweighted.outputs["honest"].results["honest"]["estimate"] - got["estimate"]) > 1e-6
    table_notes = " ".join(n for t in run.outputs["honest"].tables.values() for n in t.notes)
    assert "weighted by pop" in table_notes + " ".join(run.outputs["honest"].notes)


def test_weighted_placebo_analysis_centres_on_the_weighted_baseline(tmp_path, panel):
    run = _run(tmp_path, panel, estimators='["sa"]', extra="[analyses.placebo]\ndraws = 19\nin_time = [1]")
    placebo = run.outputs["placebo"].results["placebo"]
    base = [r for r in run.outputs["baseline"].estimates if r["term"] == "did"][-1]
    assert placebo["actual"] == pytest.approx(base["coef"], rel=1e-8)
    assert placebo["actual_se"] == pytest.approx(base["se"], rel=1e-6)
    assert any("weighted by pop" in n for n in run.outputs["placebo"].notes)


def test_weighted_sun_abraham_equals_the_replicated_panel(panel):
    # analytic weights w (integers here) give the coefficients of OLS on the data with each row repeated w times,
    # and the IW cohort shares of the repeated rows
    from pilotdid.estimation.staggered.sa import sun_abraham

    p = panel.assign(w=(panel["unit"].astype("category").cat.codes % 3 + 1).astype(float))
    weighted = sun_abraham(p, outcome="y", unit="unit", time="year", first_treat="first_treat", weights="w")
    repeated = p.loc[p.index.repeat(p["w"].astype(int))].reset_index(drop=True)
    plain = sun_abraham(repeated, outcome="y", unit="unit", time="year", first_treat="first_treat")
    np.testing.assert_allclose(weighted.table.coef, plain.table.coef, rtol=1e-9, atol=1e-12)
    assert weighted.att == pytest.approx(plain.att, rel=1e-9)


def test_api_weights_reach_the_event_study_and_honest(panel):
    # pdid.event_study takes [model] weights' analytic weights; pdid.honest reads whichever event study it is given
    import pilotdid as pdid

    kw = dict(outcome="y", unit="unit", time="year", first_treat="first_treat", controls=["x1"], window=(-3, 2))
    plain = pdid.event_study(panel, **kw).table.set_index("rel_time")["coef"]
    equal = pdid.event_study(panel.assign(pop=2.5), weights="pop", **kw).table.set_index("rel_time")["coef"]
    weighted = pdid.event_study(panel, weights="pop", **kw).table.set_index("rel_time")["coef"]
    np.testing.assert_allclose(equal, plain, rtol=1e-8, atol=1e-12)
    assert np.abs(weighted - plain).max() > 1e-6
    sa = pdid.sun_abraham(panel, outcome="y", unit="unit", time="year", first_treat="first_treat", weights="pop")
    h = pdid.honest(sa, window=(-3, 2))
    assert h.original[0] == pytest.approx(float(sa.table.set_index("rel_time").loc[0, "coef"]), rel=1e-12)


def _clustered_panel(seed=11):
    """SYNTHETIC: 40 units in 8 clusters (units nested), 6 years, staggered treatment, integer unit weights 1-3."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(40):
        g = [2016, 2018, 0][u % 3]
        a = rng.normal()
        for t in range(2014, 2020):
            d = float(g and t >= g)
            rows.append({"unit": u, "cl": u // 5, "year": t, "did": d, "x1": rng.normal(),
                         "y": a + 0.1 * (t - 2014) + 0.3 * d * (1 + u % 4) + rng.normal(), "w": 1 + u % 3})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("fixed_effects", [["unit", "year"], []])
def test_weighted_wild_bootstrap_equals_the_replicated_rows(fixed_effects):
    # analytic weights w (integers here): the weighted WCR is the unweighted WCR of the data with each row repeated
    # w times in its cluster (same coefficient, scores, restricted residuals; the CRV1 small-sample factor, which
    # differs, cancels in the bootstrap t-ratio), so p and CI agree; every sign vector is enumerated (2^8 < reps)
    from pilotdid.inference.wild_bootstrap import wild_cluster_bootstrap

    p = _clustered_panel()
    kw = dict(outcome="y", term="did", controls=["x1"], fixed_effects=fixed_effects, cluster="cl", reps=999,
              weights="rademacher", seed=1)
    weighted = wild_cluster_bootstrap(p, analytic_weights="w", **kw)
    repeated = wild_cluster_bootstrap(p.loc[p.index.repeat(p["w"])].reset_index(drop=True), **kw)
    assert weighted.full_enumeration and repeated.full_enumeration
    assert weighted.coef == pytest.approx(repeated.coef, rel=1e-10)
    assert weighted.p_value == repeated.p_value
    se = abs(weighted.coef / weighted.t_stat)
    assert weighted.ci_low == pytest.approx(repeated.ci_low, abs=1e-5 * se)
    assert weighted.ci_high == pytest.approx(repeated.ci_high, abs=1e-5 * se)
    # the coefficient is the weighted regression's, and equal weights give the unweighted bootstrap
    if fixed_effects:
        wls = fit_twfe(p, "y", ["did", "x1"], fixed_effects, "cl", weights="w").term("did")["coef"]
    else:
        root = np.sqrt(p["w"].to_numpy(float))
        X = np.column_stack([p["did"], p["x1"], np.ones(len(p))]) * root[:, None]
        wls = np.linalg.lstsq(X, p["y"].to_numpy(float) * root, rcond=None)[0][0]
    assert weighted.coef == pytest.approx(wls, rel=1e-9)
    plain = wild_cluster_bootstrap(p, **kw)
    equal = wild_cluster_bootstrap(p.assign(w=2.5), analytic_weights="w", **kw)
    assert equal.p_value == plain.p_value and equal.coef == pytest.approx(plain.coef, rel=1e-10)
    assert equal.ci_low == pytest.approx(plain.ci_low, abs=1e-5 * se)


def test_weighted_study_bootstraps_the_weighted_regressions(tmp_path, panel):
    # below [model] few_clusters the baseline, the event study and the wild_bootstrap analysis bootstrap the weighted
    # regressions (before, the baseline's bootstrap silently ignored the weights)
    run = _run(tmp_path, panel, weights='weights = "pop"\nfew_clusters = 50', estimators='["sa"]',
               extra="[analyses.wild_bootstrap]\nreps = 999")
    base = [r for r in run.outputs["baseline"].estimates if r["term"] == "did"][-1]
    wild = run.outputs["wild_bootstrap"].results["wild_bootstrap"]
    assert wild["coef"] == pytest.approx(base["coef"], rel=1e-9)
    assert wild["t"] == pytest.approx(base["t"], rel=1e-6)
    assert base["p_wild"] is not None and base["ci_wild_low"] < base["coef"] < base["ci_wild_high"]
    assert any("weighted by pop" in n for n in run.outputs["baseline"].notes)
    es = [r for r in run.outputs["event_study"].results["event_study"] if r["se"] is not None]
    assert es and all(r.get("p_wild") is not None for r in es)


def test_weighted_mechanism_regressions(tmp_path, panel):
    # the mediator regressions are the baseline's regression with the mediator as outcome, weighted alike (and their
    # few-clusters bootstrap too); the three-step model's unweighted unit bootstrap is refused before the panel is read
    data = panel.assign(med=panel["y"] * 0.5 + np.random.default_rng(9).normal(size=len(panel)))
    mediators = '[analyses.mechanism]\nmediators = [{name = "Med", column = "med"}]'
    run = _run(tmp_path, data, weights='weights = "pop"\nfew_clusters = 50', estimators='["sa"]', extra=mediators)
    row = [r for r in run.outputs["mechanism"].estimates if r["term"] == "did"][0]
    wls = fit_twfe(data, "med", ["did", "x1"], ["unit", "year"], "unit", vcov="reghdfe", weights="pop").term("did")
    assert row["coef"] == pytest.approx(wls["coef"], rel=1e-9) and row["se"] == pytest.approx(wls["se"], rel=1e-9)
    assert row["p_wild"] is not None
    plain = fit_twfe(data, "med", ["did", "x1"], ["unit", "year"], "unit", vcov="reghdfe").term("did")["coef"]
    assert abs(plain - row["coef"]) > 1e-6
    (tmp_path / "study.toml").write_text(STUDY.format(weights='weights = "pop"', estimators='["sa"]',
                                                      extra=mediators + "\nthree_step = true").replace(
        'panel = "panel.csv"', 'panel = "absent.csv"'), encoding="utf-8")
    with pytest.raises(PilotdidInputError, match="three-step mediation model does not take regression weights"):
        run_study(load_study(tmp_path / "study.toml"))


def test_weighted_heterogeneity_analysis(tmp_path, panel):
    # subgroup columns, the interacted difference and the permutation draws are all WLS under [model] weights
    units = panel["unit"].unique()
    data = panel.assign(big=panel["unit"].isin(units[::3]).astype(int))
    split = ('[analyses.heterogeneity]\nsplits = [{name = "size", column = "big", labels = ["big", "small"]}]\n'
             'draws = 19')
    run = _run(tmp_path, data, weights='weights = "pop"\nfew_clusters = 50', estimators='["sa"]', extra=split)
    rows = {r["column"]: r for r in run.outputs["heterogeneity"].estimates if r["term"] == "did"}
    for label, part in (("big", data[data["big"] == 1]), ("small", data[data["big"] == 0])):
        wls = fit_twfe(part, "y", ["did", "x1"], ["unit", "year"], "unit", vcov="reghdfe", weights="pop").term("did")
        assert rows[label]["coef"] == pytest.approx(wls["coef"], rel=1e-9)
        assert rows[label]["se"] == pytest.approx(wls["se"], rel=1e-9)
        assert rows[label]["p_wild"] is not None
    test = run.outputs["heterogeneity"].results["heterogeneity_tests"][0]
    assert test["permutation_draws"] == 19


def test_every_table_of_a_weighted_study_names_the_weighting(tmp_path, panel):
    run = _run(tmp_path, panel, estimators='["sa", "dcdh"]', extra="[analyses.descriptives]")
    for name, out in run.outputs.items():
        for table in out.tables.values():
            text = " ".join(table.notes)
            assert ("Weighted by pop" in text) or ("Unweighted; [model] weights (pop)" in text), (name, table.name)
    assert "did_multiplegt_dyn's weight" in " ".join(next(iter(run.outputs["staggered"].tables.values())).notes)
    plain = _run(tmp_path, panel, weights="", estimators='["sa"]')
    assert not any("Weighted by" in n for out in plain.outputs.values() for t in out.tables.values() for n in t.notes)


def test_index_systems_headline_is_weighted(panel):
    # the index-system comparison refits the baseline regression on each index variant, weighted alike
    from types import SimpleNamespace

    from pilotdid.study.analyses.index_systems import headline
    from pilotdid.study.context import FIRST_TREAT, TREAT

    data = panel.assign(**{FIRST_TREAT: panel["first_treat"].fillna(0)})
    model = SimpleNamespace(controls=["x1"], fixed_effects=["unit", "year"], cluster="unit", weights="pop")
    ctx = SimpleNamespace(model=model, panel=data, time="year", unit="unit")
    got = headline(ctx, data["y"], "reghdfe")
    frame = data.assign(**{TREAT: ((data[FIRST_TREAT] > 0) & (data[FIRST_TREAT] <= data["year"])).astype(float)})
    wls = fit_twfe(frame, "y", [TREAT, "x1"], ["unit", "year"], "unit", vcov="reghdfe", weights="pop").term(TREAT)
    assert got["coef"] == pytest.approx(wls["coef"], rel=1e-9) and got["se"] == pytest.approx(wls["se"], rel=1e-9)
    model.weights = None
    assert abs(headline(ctx, data["y"], "reghdfe")["coef"] - got["coef"]) > 1e-6


def test_weighted_multiverse_rows_are_the_weighted_estimates(tmp_path, panel):
    # the specification curve under [model] weights: its TWFE row is the weighted baseline, its SA row the weighted
    # Sun-Abraham aggregate
    from pilotdid.estimation.staggered.sa import sun_abraham

    extra = ('[analyses.multiverse]\nestimator = ["twfe", "sa"]\nvcov = ["reghdfe"]\ncontrols = ["study"]\n'
             'placebo_draws = 9')
    run = _run(tmp_path, panel, estimators='["sa"]', extra=extra)
    rows = {r["estimator"]: r for r in run.outputs["multiverse"].results["multiverse"]["specifications"]}
    base = [r for r in run.outputs["baseline"].estimates if r["term"] == "did"][-1]
    assert rows["twfe"]["coef"] == pytest.approx(base["coef"], rel=1e-9)
    assert rows["twfe"]["se"] == pytest.approx(base["se"], rel=1e-7)
    sa = sun_abraham(panel, outcome="y", unit="unit", time="year", first_treat="first_treat", covariates=["x1"],
                     cluster="unit", weights="pop")
    assert rows["sa"]["coef"] == pytest.approx(sa.att, rel=1e-9) and rows["sa"]["se"] == pytest.approx(sa.se, rel=1e-9)


def test_cli_weights_refusal_is_one_stderr_line_exit_2(tmp_path, run_cli):
    # no panel file exists: the refusal comes from the study file, names the estimator, the option and why
    (tmp_path / "study.toml").write_text(STUDY.format(weights='weights = "pop"', estimators='["sdid", "sa"]', extra=""),
                                         encoding="utf-8")
    code, out, err = run_cli("run", str(tmp_path / "study.toml"), "--out", str(tmp_path / "out"))
    assert code == 2 and err.count("\n") == 1
    assert "[analyses.staggered] estimators" in err and "[model] weights" in err and "sdid" in err
    assert "chooses its own unit and time weights" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_report_says_the_weights_sentence_once_per_section_and_each_table_file_keeps_it(tmp_path, panel, run_cli):
    # before, report.html and report.docx printed the same weights sentence under every table: 6 times in the
    # staggered section, 12 times in a report of 5 weighted sections
    import re

    import docx

    panel.to_csv(tmp_path / "panel.csv", index=False)
    (tmp_path / "study.toml").write_text(STUDY.format(weights='weights = "pop"', estimators='["sa", "stacked", "dcdh"]',
                                                      extra="[analyses.placebo]\ndraws = 9\n"), encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = run_cli("run", str(tmp_path / "study.toml"), "--out", str(out), "--quiet")
    assert code == 0, err
    sentence = "Weighted by pop (analytic weights, Stata aw)"
    files = sorted((out / "tables").glob("*.md"))
    assert len(files) >= 6 and all(sentence in f.read_text(encoding="utf-8") for f in files)  # each self-contained
    page = (out / "report.html").read_text(encoding="utf-8")
    sections = dict(re.findall(r'<section id="(\w+)">(.*?)</section>', page, flags=re.S))
    said = {name: body.count(sentence) for name, body in sections.items()}
    assert said == {"data": 0, "baseline": 1, "event_study": 1, "staggered": 1, "placebo": 1, "cross_check": 0}
    assert sections["staggered"].count("<table") >= 3
    head, _, tables = sections["staggered"].partition("<table")
    assert sentence in head and sentence not in tables  # at the top of the section, not under a table
    document = docx.Document(str(out / "report.docx"))
    assert sum(p.text.count(sentence) for p in document.paragraphs) == 4
    assert not any(sentence in cell.text for t in document.tables for row in t.rows for cell in row.cells)
    # and no other sentence twice in a section either: before, an analysis's notes were printed at the section's top
    # and again under its table, and a note several tables carry under each (CBEC report.html: 41 sentences, 45
    # extra copies; e.g. the CS NA-cell note 4 times in the staggered section)
    import html
    from collections import Counter

    for name, body in sections.items():
        said_here = [html.unescape(re.sub(r"<[^>]+>", "", p)).strip()
                     for p in re.findall(r'<p class="note">(.*?)</p>', body, flags=re.S)]
        for foot in re.findall(r"<tfoot>(.*?)</tfoot>", body, flags=re.S):
            said_here += [html.unescape(re.sub(r"<[^>]+>", "", n)).strip() for n in foot.split("<br>")]
        assert [n for n, k in Counter(said_here).items() if k > 1] == [], name
