"""Propensity-score matching as its own analysis (issue 20 item 8).

Reference: R Matching's Dehejia-Wahba example on its lalonde data (tests/matching/README.md says where every
number comes from). Synthetic data (labelled) for invariants, the study analysis and the Monte Carlo row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.matching import matching_att

HERE = Path(__file__).parent
DW_COVARIATES = ["age", "age2", "educ", "educ2", "black", "hisp", "married", "nodegr", "re74", "re742", "re75",
                 "re752", "u74", "u75"]


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    d = pd.read_csv(HERE / "lalonde.csv")
    return d.assign(age2=d.age**2, educ2=d.educ**2, re742=d.re74**2, re752=d.re75**2)


def _dw(lalonde, **kw):
    return matching_att(lalonde, outcome="re78", treat="treat", covariates=DW_COVARIATES, **kw)


def test_published_match_example(lalonde):
    """jbryer/psa 03-Matching.md prints summary(Match(Y, Tr, X = glm1$fitted, M = 1)) to these digits."""
    r = _dw(lalonde, variance="homoskedastic")
    assert round(r.att, 1) == 2153.3
    assert round(r.se, 1) == 825.4
    assert round(r.t, 4) == 2.6088
    assert f"{r.p:.5g}" == "0.0090858"
    assert r.n_treated_matched == 185 and r.n_controls_used == 173
    assert int((r.data.weight > 0).sum()) == 185 + 173


@pytest.mark.parametrize("kw, est, se_h, se_r", [
    (dict(k=1), 2153.30601969, 825.398067988, 754.435683696),
    (dict(k=3), 1743.65071744, 802.48332357, 738.63069787),
    (dict(k=1, exact=["black"]), 2245.92450618, 803.726605986, 760.743228632),
])
def test_matches_r_matching_full_precision(lalonde, kw, est, se_h, se_r):
    r = _dw(lalonde, **kw)
    assert r.att == pytest.approx(est, rel=1e-9)
    assert r.se_homoskedastic == pytest.approx(se_h, rel=1e-9)
    assert r.se_robust == pytest.approx(se_r, rel=1e-9)
    assert r.se == r.se_robust  # robust is the default


def test_ate_published_and_full_precision(lalonde):
    """ATE: jbryer/psa prints summary(Match(..., estimand = 'ATE')) as 2013.3 / AI SE 817.76 / t 2.4619; full precision
    from R Matching 4.10-8 (tests/matching/README.md)."""
    r = _dw(lalonde, estimand="ate", variance="homoskedastic")
    assert (round(r.att, 1), round(r.se, 2), round(r.t, 4)) == (2013.3, 817.76, 2.4619)
    assert r.n_target == 445 and r.tidy().loc[0, "term"] == "ATE"
    assert r.att == pytest.approx(2013.28705897, rel=1e-9)
    assert r.se_homoskedastic == pytest.approx(817.762608521, rel=1e-9)
    assert r.se_robust == pytest.approx(815.532164971, rel=1e-9)
    r3 = _dw(lalonde, estimand="ate", k=3)
    assert (r3.att, r3.se_robust) == (pytest.approx(1794.342768, rel=1e-9), pytest.approx(719.817107786, rel=1e-9))
    rx = _dw(lalonde, estimand="ate", exact=["black"])
    assert (rx.att, rx.se_homoskedastic) == (pytest.approx(2297.95737732, rel=1e-9),
                                             pytest.approx(804.569126374, rel=1e-9))


def test_caliper_att_matches_r_matching(lalonde):
    """R's caliper is in SDs of the score, ours in score units; 7 treated dropped in both. (SE: see README.)"""
    probe = _dw(lalonde)
    r = _dw(lalonde, caliper=0.1 * probe.data.pscore.std(ddof=1))
    assert r.att == pytest.approx(2189.72861597, rel=1e-9)
    assert r.n_dropped["treated_unmatched"] == 7 and r.n_treated_matched == 178
    assert any("7 of 185 treated rows unmatched" in n for n in r.notes)
    # R's AIse (Matching R/AI.R) sums over ALL treated (SN = sum(Tr) = 185) and a dropped treated unit keeps
    # YCAUS = 0, so each adds ATT^2 to the treated sum; ours uses the 178 matched treated only. R's printed
    # 799.726663357 is our homoskedastic variance rebuilt under that convention:
    var_r = (r.se_homoskedastic**2 * 178**2 + 7 * r.att**2) / 185**2
    assert np.sqrt(var_r) == pytest.approx(799.726663357, rel=1e-9)
    var_r_robust = (r.se_robust**2 * 178**2 + 7 * r.att**2) / 185**2  # R Var.calc = 2: 741.843099854
    assert np.sqrt(var_r_robust) == pytest.approx(741.843099854, rel=1e-9)


def test_result_protocol(lalonde):
    r = _dw(lalonde)
    tidy = r.tidy()
    assert list(tidy.columns[:8]) == ["term", "estimate", "se", "t", "p", "ci_low", "ci_high", "kind"]
    assert tidy.loc[0, "estimate"] == r.att and tidy.loc[0, "kind"] == "att"
    record = r.to_dict()
    row = record["estimates"][0]
    assert row["coef"] == r.att and row["se"] == r.se and row["vcov"] == "AI2006_robust"
    assert record["matching"]["nearest"]["se_homoskedastic"] == r.se_homoskedastic
    assert "score treated as known" in r.conventions["standard error"]
    assert r.se_estimated_score is not None and "(estimated_score)" in r.conventions["other standard errors"]
    assert "ATT" in r.summary()
    assert {"var_ratio_unmatched", "var_ratio_matched", "bias_pct_matched"} <= set(r.balance.columns)


def _synthetic(n=400, seed=0, effect=1.0):
    """SYNTHETIC cross-section: selection on x, constant effect ``effect``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    z = rng.integers(0, 2, size=n)
    d = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.8 * x - 0.3)))).astype(int)
    y = 1 + 2 * x + 0.5 * z + effect * d + rng.normal(size=n)
    return pd.DataFrame({"x": x, "z": z, "d": d, "y": y})


def test_invariants():
    df = _synthetic()
    base = matching_att(df, outcome="y", treat="d", covariates=["x"])
    shuffled = matching_att(df.sample(frac=1, random_state=3), outcome="y", treat="d", covariates=["x"])
    assert shuffled.att == pytest.approx(base.att, rel=1e-12)
    assert shuffled.se == pytest.approx(base.se, rel=1e-12)
    assert shuffled.se_estimated_score == pytest.approx(base.se_estimated_score, rel=1e-9)
    # shifting the outcome of everyone leaves the ATT and SE unchanged; adding c to treated adds c
    moved = matching_att(df.assign(y=df.y + 5 + 3 * df.d), outcome="y", treat="d", covariates=["x"])
    assert moved.att == pytest.approx(base.att + 3, rel=1e-12)
    assert moved.se == pytest.approx(base.se, rel=1e-9)
    # matching weights: treated rows weigh 1, controls sum to the matched treated count
    w = base.data.weight
    assert (w[base.data.treated & (w > 0)] == 1).all()
    assert w[~base.data.treated].sum() == pytest.approx(base.n_treated_matched)
    # without replacement each control is used at most once
    nr = matching_att(df, outcome="y", treat="d", covariates=["x"], replacement=False)
    assert nr.data.weight[~nr.data.treated].max() <= 1 + 1e-12
    # exact strata: every matched control shares its treated row's stratum
    ex = matching_att(df, outcome="y", treat="d", covariates=["x"], exact=["z"])
    assert ex.n_treated_matched == int(df.d.sum())
    for method in ("radius", "kernel"):
        r = matching_att(df, outcome="y", treat="d", covariates=["x"], method=method)
        assert np.isfinite(r.att) and r.se > 0


def test_psm_did_pieces_unchanged():
    """The PSM-DID's matching (ties broken by row order) is the same function with ties off."""
    from pilotdid.design.psm import _match_pool, match_pool

    df = _synthetic()
    p = 1 / (1 + np.exp(-df.x.to_numpy()))
    t = df.d.to_numpy() == 1
    for method, kw in [("nearest", dict(k=3, replacement=True)), ("nearest", dict(k=1, replacement=False)),
                       ("radius", dict(k=1, replacement=True)), ("kernel", dict(k=1, replacement=True))]:
        w, s = _match_pool(p, t, method, kw["k"], kw["replacement"], 0.01 if method == "radius" else None, 0.06,
                           True, np.random.default_rng(1))
        m = match_pool(p, t, method, kw["k"], kw["replacement"], 0.01 if method == "radius" else None, 0.06,
                       True, np.random.default_rng(1))
        np.testing.assert_array_equal(w, m.weight)
        k = np.zeros_like(w)
        np.add.at(k, m.pairs_control, m.pairs_share)
        np.testing.assert_allclose(k[~t], w[~t], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("frame, kw, text", [
    (lambda d: d.assign(d=d.d.astype(float) * 2), {}, "must be 0/1"),
    (lambda d: d.assign(d=1), {}, "only treated"),
    (lambda d: d, dict(method="optimal"), "unknown matching method"),
    (lambda d: d, dict(covariates=["nope"]), "not in the data"),
    (lambda d: d, dict(caliper=-1.0), "must be positive"),
])
def test_bad_input_named(frame, kw, text):
    args = dict(outcome="y", treat="d", covariates=["x"]) | kw
    with pytest.raises(PilotdidInputError, match=text):
        matching_att(frame(_synthetic(60)), **args)


@pytest.fixture(scope="module")
def cattaneo2() -> pd.DataFrame:
    return pd.read_csv(HERE / "cattaneo2.csv")


@pytest.mark.parametrize("estimand, est, se", [("ate", -229.4492, 25.88746), ("att", -224.5927, 30.55147)])
def test_teffects_psmatch_published_cattaneo2(cattaneo2, estimand, est, se):
    """Stata's printed teffects psmatch output on cattaneo2 (tests/matching/README.md): the estimate and the
    Abadie-Imbens (2016) estimated-score SE, to every printed digit."""
    r = matching_att(cattaneo2, outcome="bweight", treat="mbsmoke",
                     covariates=["mmarried", "mage", "fage", "medu", "prenatal1"], estimand=estimand,
                     variance="estimated_score", variance_neighbors=1, distance_tolerance=0.0)
    assert round(r.att, 4) == est
    assert round(r.se, 5) == se and r.se == r.se_estimated_score
    # the known-score (R Matching / psmatch2) SE is a different number: the adjustment matters here
    assert abs(r.se_robust - se) > 0.01
    terms = r.estimated_score_terms
    assert terms["h"] == 2 and terms["c_V_c"] > 0
    assert r.se**2 == pytest.approx(terms["variance_known_score"] - terms["c_V_c"] + (terms["d_V_d"] or 0.0), rel=1e-12)
    row = r.to_dict()["estimates"][0]
    assert row["vcov"] == "AI2016_estimated_score" and row["se_robust"] == r.se_robust


def test_estimated_score_only_where_defined():
    df = _synthetic()
    given = matching_att(df.assign(ps=1 / (1 + np.exp(-df.x))), outcome="y", treat="d", score="ps")
    assert given.se_estimated_score is None and any("a given score column" in n for n in given.notes)
    for kw, why in ((dict(exact=["z"]), "exact strata"), (dict(caliper=0.05), "a caliper"),
                    (dict(method="kernel"), "kernel matching"), (dict(method="radius"), "radius matching")):
        r = matching_att(df, outcome="y", treat="d", covariates=["x"], **kw)
        assert r.se_estimated_score is None and any(why in n for n in r.notes)
        with pytest.raises(PilotdidInputError, match=f"not defined with {why}"):
            matching_att(df, outcome="y", treat="d", covariates=["x"], variance="estimated_score", **kw)


def test_monte_carlo_coverage_small():
    """SYNTHETIC: 60 draws, n = 400, constant effect 1: unbiased and the robust AI CI (known and estimated score)
    covers about 95%.

    (A small version; 60 draws keep it cheap. Bounds are loose enough for 60 draws: coverage of a correct 95%
    interval falls below 0.85 with probability < 0.001.)
    """
    hits, hits_estimated, estimates = 0, 0, []
    for rep in range(60):
        r = matching_att(_synthetic(seed=100 + rep), outcome="y", treat="d", covariates=["x"])
        lo, hi = r.ci
        hits += lo <= 1.0 <= hi
        hits_estimated += abs(r.att - 1.0) <= 1.959963984540054 * r.se_estimated_score
        estimates.append(r.att)
    assert abs(np.mean(estimates) - 1.0) < 0.1
    assert hits / 60 >= 0.85
    assert hits_estimated / 60 >= 0.85  # the Abadie-Imbens (2016) estimated-score interval too


def test_study_analysis(toolkit_ctx_matching):
    from pilotdid.study.analyses import matching

    out = matching.run(toolkit_ctx_matching, {"period": 2019, "covariate_period": 2012})
    assert {"matching_att", "matching_balance_nearest", "matching_balance_radius",
            "matching_balance_kernel"} <= set(out.tables)
    assert [e["column"] for e in out.estimates] == ["nearest", "radius", "kernel"]
    header = list(out.tables["matching_att"].body.columns)
    assert "SE (AI robust)" in header and "SE (AI homoskedastic)" in header
    assert out.results["matching"]["period"] == 2019
    with pytest.raises(PilotdidInputError, match="period"):
        matching.run(toolkit_ctx_matching, {"period": 1999})
    ate = matching.run(toolkit_ctx_matching, {"estimand": "ate", "methods": ["nearest"]})
    assert ate.estimates[0]["term"] == "ATE" and "ATE" in list(ate.tables["matching_att"].body.columns)
    with pytest.raises(PilotdidInputError, match="no unit is treated"):
        matching.run(toolkit_ctx_matching, {"period": 2011})
    with pytest.raises(PilotdidInputError, match="methods"):
        matching.run(toolkit_ctx_matching, {"methods": ["optimal"]})


def test_study_table_with_every_se_fits_a_portrait_page(toolkit_ctx_matching):
    # the AI 2016 column (11 columns) pushed the table onto its own landscape page in report.docx
    from pilotdid.report.export import _text_width_pt, docx_layout
    from pilotdid.study.analyses import matching

    out = matching.run(toolkit_ctx_matching, {"period": 2019, "methods": ["nearest"], "variance": "estimated_score"})
    table = out.tables["matching_att"]
    assert "SE (AI 2016)" in list(table.body.columns)
    assert any(note.startswith("t, p and the CI use the AI 2016 SE.") for note in table.notes)
    # negative estimates (as on the low-carbon panel, ATT -0.4361) are the widest numbers
    table.body = table.body.apply(lambda c: -c.abs() - 0.1 if c.dtype.kind == "f" else c)
    assert docx_layout(table, _text_width_pt(False), _text_width_pt(True))[1] is False


@pytest.fixture(scope="module")
def toolkit_ctx_matching():
    from pilotdid.estimation.staggered.simulate import simulate_staggered_panel
    from pilotdid.study.context import FIRST_TREAT, TREAT, ModelSpec, StudyContext

    df, _ = simulate_staggered_panel(n_units=120, n_covariates=2, seed=21)
    df[TREAT] = df["did"]
    df[FIRST_TREAT] = df["first_treat"]
    model = ModelSpec(outcome="y", controls=["x1"], fixed_effects=["unit", "year"], cluster="unit")
    return StudyContext(study_name="synthetic", panel=df, unit="unit", time="year", model=model, treatment_name="did")


def test_cli_bad_option_exit_2(tmp_path, run_cli):
    """A wrong matching option is refused before any data is read: exit 2, one stderr line."""
    df = _synthetic(60).assign(unit=lambda f: range(len(f)), year=2020)
    df.to_csv(tmp_path / "panel.csv", index=False)
    (tmp_path / "study.toml").write_text(
        '[study]\nname = "m"\n[data]\npanel = "panel.csv"\nunit = "unit"\ntime = "year"\n'
        '[treatment]\ncolumn = "d"\n[model]\noutcome = "y"\ncontrols = ["x"]\nfixed_effects = ["unit"]\n'
        '[analyses.matching]\nmethods = ["optimal"]\n', encoding="utf-8")
    code, _, err = run_cli("run", str(tmp_path / "study.toml"), "--out", str(tmp_path / "out"), "--quiet")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "matching" in lines[0] and "optimal" in lines[0], err
    assert not (tmp_path / "out").exists()


def _write_matching_study(folder: Path, study: str = "", matching: str = "") -> Path:
    """A SYNTHETIC panel (60 units x 6 years, adoption in 2018 more likely for high x) and a study file running
    only [analyses.matching] on 2020 with covariates of 2015; ``study``/``matching``: extra TOML lines."""
    rng = np.random.default_rng(8)
    rows = []
    for unit in range(60):
        x0 = rng.normal()
        adopt = 2018 if rng.uniform() < 1 / (1 + np.exp(-x0)) else None
        for year in range(2015, 2021):
            did = int(adopt is not None and year >= adopt)
            rows.append({"unit": unit, "year": year, "did": did, "x": x0 + rng.normal(scale=0.2),
                         "y": x0 + 0.1 * (year - 2015) + 0.5 * did + rng.normal(scale=0.3)})
    pd.DataFrame(rows).to_csv(folder / "panel.csv", index=False)
    (folder / "study.toml").write_text(
        f'[study]\nname = "m"\n{study}[data]\npanel = "panel.csv"\nunit = "unit"\ntime = "year"\n'
        '[treatment]\ncolumn = "did"\n[model]\noutcome = "y"\ncontrols = ["x"]\nfixed_effects = ["unit", "year"]\n'
        f'cluster = "unit"\n[analyses.matching]\nperiod = 2020\ncovariate_period = 2015\n{matching}', encoding="utf-8")
    return folder / "study.toml"


def test_study_run_writes_table_and_results_rows(tmp_path, run_cli):
    """SYNTHETIC panel (60 units x 6 years) through `pilotdid run`: results.json rows and the table files."""
    import json

    _write_matching_study(tmp_path)
    out = tmp_path / "out"
    code, _, err = run_cli("run", str(tmp_path / "study.toml"), "--out", str(out), "--quiet")
    assert code == 0, err
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    rows = [r for r in results["estimates"] if r["table"] == "matching"]
    assert [r["column"] for r in rows] == ["nearest", "radius", "kernel"]
    assert all(r["term"] == "ATT" and r["se"] > 0 and r["vcov"] == "AI2006_robust" for r in rows)
    assert results["matching"]["period"] == 2020
    written = {p.stem for p in out.rglob("*") if p.is_file()}
    assert {"matching_att", "matching_balance_nearest"} <= written


def test_study_note_says_how_nearest_matching_was_run(toolkit_ctx_matching):
    # the note said 'with replacement and ties (..., distance.tolerance 1e-5)' whatever the options were
    from pilotdid.study.analyses import matching

    def note(**options):
        out = matching.run(toolkit_ctx_matching, {"period": 2019, "methods": ["nearest"], **options})
        return next(n for n in out.tables["matching_att"].notes if n.startswith("Nearest neighbour"))

    assert "with replacement and ties (R Match ties = TRUE, distance.tolerance 1e-05)" in note()
    assert "distance.tolerance 0)" in note(distance_tolerance=0.0)
    assert "without replacement" in note(replacement=False) and "ties = TRUE" not in note(replacement=False)
    assert "ties = FALSE" in note(ties=False)
    with_caliper = note(k=3, caliper=0.05)
    assert with_caliper.startswith("Nearest neighbour 1:3: with replacement and ties") and "caliper 0.05;" in with_caliper


def test_balance_table_title_and_note_are_chinese_in_zh(toolkit_ctx_matching):
    # before, any study with [analyses.matching] printed the balance tables' title and note in English in zh
    from dataclasses import replace

    from pilotdid.report.localise import localise_table
    from pilotdid.study.analyses import matching

    out = matching.run(replace(toolkit_ctx_matching, lang="zh"), {"period": 2019, "methods": ["nearest"]})
    table = out.tables["matching_balance_nearest"]
    localise_table(table, "zh")
    assert table.title.startswith("匹配前后的平衡性检验（") and "Balance" not in table.title
    assert table.notes[0].startswith("标准化偏差 % = 100·(处理组均值 − 控制组均值)")
    att = out.tables["matching_att"]
    localise_table(att, "zh")
    assert att.title.startswith("倾向得分匹配：") and att.title.endswith("（2019）") and "matching" not in att.title


@pytest.mark.parametrize("nearest, english", [
    ({"k": 1, "replacement": True, "ties": True}, "with replacement and ties (R Match ties = TRUE, distance.tolerance 1e-05)"),
    ({"k": 2, "replacement": True, "ties": False, "caliper": 0.05},
     "with replacement, k controls per treated row (R Match ties = FALSE), caliper 0.05"),
    ({"k": 1, "replacement": False, "ties": False}, "without replacement (psm's seeded random order, no ties)"),
])
def test_nearest_note_same_english_and_chinese_in_zh(nearest, english):
    # before, the nearest-neighbour settings note was English in every zh report
    from pilotdid.study.analyses.matching import nearest_note

    assert nearest_note(nearest, 1e-5) == (f"Nearest neighbour 1:{nearest['k']}: {english}; radius: every control within "
                                           "the caliper; kernel: Epanechnikov weights; caliper/bandwidth in score units.")
    chinese = nearest_note(nearest, 1e-5, "zh")
    assert chinese.startswith(f"最近邻匹配 1:{nearest['k']}：")
    for word in ("replacement", "radius", "caliper", "kernel", "score"):
        assert word not in chinese


def test_att_table_first_note_same_english_and_chinese_in_zh(toolkit_ctx_matching):
    # before, the matching table's design note was English in zh reports
    from dataclasses import replace

    from pilotdid.study.analyses import matching

    options = {"period": 2019, "covariate_period": 2012, "methods": ["nearest"]}
    en = matching.run(toolkit_ctx_matching, dict(options)).tables["matching_att"].notes[0]
    assert en.startswith("Cross-sectional propensity-score matching on period 2019 (")
    assert "; treated = the row's treatment in that period; logit score of the treatment on " in en
    assert en.endswith("(covariates measured in 2012); ATT = mean over matched treated units of Y - (weighted mean of "
                       "their matched controls' Y).")
    zh = matching.run(replace(toolkit_ctx_matching, lang="zh"), dict(options)).tables["matching_att"].notes[0]
    assert zh.startswith("按第 2019 期截面做倾向得分匹配") and "协变量取第 2012 期" in zh
    for word in ("Cross-sectional", "treated", "covariates", "mean"):
        assert word not in zh
    en_se = matching.run(toolkit_ctx_matching, dict(options)).tables["matching_att"].notes[1]
    assert en_se.startswith("t, p and the CI use the AI robust SE. AI robust: Abadie-Imbens (2006) with sigma^2 from ")
    assert "(Stata teffects psmatch's default, vce(robust, nn(" in en_se
    zh_se = matching.run(replace(toolkit_ctx_matching, lang="zh"), dict(options)).tables["matching_att"].notes[1]
    assert zh_se.startswith("t 值、p 值与置信区间使用AI稳健标准误。AI稳健：Abadie–Imbens（2006），σ² 取自")
    for word in ("neighbours", "default", "blank", "robust SE"):
        assert word not in zh_se


def _english_words(text: str, allowed: set[str]) -> list[str]:
    """Latin-letter words of ``text`` that a Chinese report may not hold (as tests/report/test_zh_output.py)."""
    import re

    from pilotdid.i18n import LATIN_WORDS_ALLOWED_IN_ZH

    words = (w.strip("._-'") for w in re.findall(r"(?<![0-9A-Za-z])[A-Za-z][A-Za-z0-9'._-]*", text))
    return [w for w in words if len(w) > 1 and w not in allowed and w not in LATIN_WORDS_ALLOWED_IN_ZH]


#: options that make the estimation write each kind of note (unmatched rows, estimated-score SE not defined for
#: this reason, missing rows, ATE), on the SYNTHETIC panel of toolkit_ctx_matching
NOTE_MAKING_OPTIONS = [{"caliper": 0.001}, {"estimand": "ate", "caliper": 0.002}, {"exact": ["stratum"]},
                       {"common_support": True}, {"replacement": False},
                       {"treatment": "ever", "covariate_period": 2012, "radius": 0.0005, "bandwidth": 0.001}]


@pytest.mark.parametrize("options", NOTE_MAKING_OPTIONS)
def test_summary_and_per_method_notes_are_chinese_in_zh(toolkit_ctx_matching, options):
    # before, a zh study printed the analysis's summary line ("Matching (2019, ...): nearest ATT ...") and every
    # per-method note ("radius: Abadie-Imbens (2016) estimated-score SE not computed ...") in English
    from dataclasses import replace

    from pilotdid.study.analyses import matching

    panel = toolkit_ctx_matching.panel.copy()
    panel["stratum"] = panel["unit"].astype(str).str[-1].isin(list("01234")).astype(int)
    panel.loc[panel.index[:7], "x1"] = np.nan  # 1 row of 2019: "rows with a missing ... left out"
    ctx = replace(toolkit_ctx_matching, panel=panel)
    en = matching.run(ctx, {"period": 2019, **options})
    zh = matching.run(replace(ctx, lang="zh"), {"period": 2019, **options})
    en_notes, zh_notes = en.tables["matching_att"].notes, zh.tables["matching_att"].notes
    assert len(zh_notes) == len(en_notes) > 3  # the same notes, one for one
    per_method = en_notes[3:]
    assert per_method and all(n.split(": ")[0] in ("nearest", "radius", "kernel") for n in per_method)
    for note in [*zh.notes, *zh_notes]:
        assert not _english_words(note, {"x1", "y", "Var.calc", "Match", "ties", "distance.tolerance", "teffects",
                                         "psmatch", "vce", "robust", "nn", "Matching", "Epanechnikov", "ATE"}), note
    assert zh.notes[0].startswith("倾向得分匹配（第 2019 期，处理组为") and zh.notes[0].endswith("。")
    assert "最近邻匹配" in zh.notes[0] and "AI 标准误" in zh.notes[0]
    assert all(n.startswith(("最近邻匹配：", "半径匹配：", "核匹配：")) and n.endswith("。") for n in zh_notes[3:])
    # the English text is the one it always was (results.json keeps it)
    assert en.notes[0].startswith("Matching (2019, ") and " ATT " in en.notes[0] or " ATE " in en.notes[0]
    assert en.results["matching"]["by_method"]["nearest"]["notes"] == [n.split(": ", 1)[1] for n in per_method
                                                                       if n.startswith("nearest: ")]


def test_zh_matching_run_prints_no_english_sentence(tmp_path, run_cli):
    """A zh study with [analyses.matching] through `pilotdid run`: the report's matching section and the table
    files hold no English sentence (SYNTHETIC panel; the caliper leaves treated units unmatched, so every kind
    of per-method note is written)."""
    import html
    import re

    study = _write_matching_study(tmp_path, study='lang = "zh"\n', matching="caliper = 0.001\n")
    out = tmp_path / "out"
    code, _, err = run_cli("run", str(study), "--out", str(out), "--quiet")
    assert code == 0, err
    page = (out / "report.html").read_text(encoding="utf-8")
    section = re.search(r"<h2>倾向得分匹配</h2>(.*?)<h2>", page, flags=re.S)
    assert section, "the matching section has its Chinese heading"
    text = html.unescape(re.sub(r"<[^>]+>", " ", section.group(1)))
    text += " ".join(p.read_text(encoding="utf-8") for p in sorted((out / "tables").glob("matching_*.md")))
    assert "倾向得分匹配（第 2020 期" in text  # the summary line
    assert "最近邻匹配：30 个处理组个体中有" in text  # a per-method note
    allowed = {"x", "y", "Var.calc", "Match", "ties", "distance.tolerance", "teffects", "psmatch", "vce", "robust",
               "nn", "Matching", "Epanechnikov", "V(T)/V(C", "T", "C"}
    assert not _english_words(text, allowed)


@pytest.mark.parametrize("options, says", [
    ({"methods": ["optimal"]}, "[analyses.matching] methods: unknown matching method 'optimal' -- fix: use one of "
                               "['nearest', 'radius', 'kernel']"),
    ({"treatment": "always"}, "[analyses.matching] treatment: treatment = 'always' is not allowed"),
    ({"estimand": "atc"}, "[analyses.matching] estimand: estimand = 'atc' is not allowed -- fix: use one of ['att', 'ate']"),
    ({"variance": "bootstrap"}, "[analyses.matching] variance: variance = 'bootstrap' is not allowed"),
    ({"k": 1.5}, "[analyses.matching] k: k must be an integer, got 1.5"),
    ({"methods": []}, "[analyses.matching] methods: methods is empty"),
])
def test_direct_call_refuses_bad_options_through_the_declarations(toolkit_ctx_matching, options, says):
    """matching.run called directly (the Python API) is refused by the declared option check, as a study file is:
    one line naming the key, the value and the fix."""
    from pilotdid.study.analyses import matching

    with pytest.raises(PilotdidInputError) as err:
        matching.run(toolkit_ctx_matching, options)
    assert str(err.value).startswith(says) and "\n" not in str(err.value) and "fix:" in str(err.value)
