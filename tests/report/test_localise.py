"""zh notes that cite a table: the citation is whatever the study calls the table ([study] outputs ref, e.g. the
CBEC paper's "Table 7", else "table 'NAME'"), and the sentence is Chinese either way."""

from __future__ import annotations

import pytest

from pilotdid.estimation.heterogeneity import STRATA_VALIDITY
from pilotdid.i18n import msg
from pilotdid.report.localise import translate


@pytest.mark.parametrize("ref, cited", [("Table 7", "表7"), ("table6b", "表6b"),
                                        ("table 'heterogeneity'", "表“heterogeneity”")])
@pytest.mark.parametrize("key, fields", [("forest_permutation", {"validity": STRATA_VALIDITY}),
                                         ("three_step_reported", {}), ("three_step_caveat", {}),
                                         ("three_step_caveat_no_paper", {})])
def test_a_note_citing_a_table_is_chinese_whatever_the_table_is_called(ref, cited, key, fields):
    # before, these notes were looked up as whole English phrases written with the CBEC numbering: a study without
    # that numbering ("table 'heterogeneity'") got them in English in its zh report
    chinese = translate(msg(f"template.note.{key}", "en", ref=ref, **fields), "zh")
    assert cited in chinese
    for english in ("Forest plot", "table '", "Table ", "referees", "permutation", "mediator"):
        assert english not in chinese


def test_the_cbec_wording_is_unchanged():
    # the CBEC zh report before the notes became templates (phrases keyed on 'Table 7' / 'table6b' / 'Table 6')
    assert translate(msg("template.note.forest_permutation", "en", ref="Table 7", validity=STRATA_VALIDITY), "zh") \
        .startswith("森林图与表7：批次内置换的 p 值与全样本置换的 p 值并列。置换检验要求原假设下分组标签可交换。")
    assert translate(msg("template.note.three_step_reported", "en", ref="table6b"), "zh") == (
        "应审稿人常见要求，另报告经典三步法（Baron–Kenny）及 Sobel 检验与间接效应的自助法置信区间（表6b）。")


WEIGHTED_NOTES = [  # notes of a weighted study (examples/lowcarbon with [model] weights = "w"), as the analyses write them
    "Placebo: 200 draws (permute_cohorts: adoption years shuffled across units, cohort sizes kept), seed 12345; each "
    "draw re-estimates the full model (controls and fixed effects) by Frisch–Waugh–Lovell, weighted by w (analytic "
    "weights: weighted within transformation, WLS); SEs use the 'lsdv' small-sample factor 1.0747.",
    "Source: TWFE event study (reference -1, unbinned, CRV1 covariance); weighted by w (analytic weights): the "
    "weighted event study's coefficients and covariance are used as they are; pre-test: any of the 3 pre-period "
    "coefficients with |t| > 1.96.",
    "Source: Callaway-Sant'Anna dynamic aggregation (universal base period, analytic influence-function covariance; "
    "ps_fallback = \"none\", default \"none\"; covariates at the earlier of each cell's two periods); weighted by w "
    "(analytic weights): the weighted event study's coefficients and covariance are used as they are; 3 pre and 5 "
    "post coefficients (window [-4, 4]).",
    "Wild cluster restricted bootstrap (rademacher, 199 draws, seed 12345), clustered by city_name: p = 0.3518, 95% CI "
    "[-0.0255, 0.0716] by test inversion; the regression weighted by w (analytic weights).",
    "Gardner (2021) two-stage GMM, clustered by city_name (as pyfixest did2s), weighted by w",
    "Cells weighted by w (the authors' weight option: each city-year counts with its weight wherever the estimator "
    "counts cells).",
]


@pytest.mark.parametrize("note", WEIGHTED_NOTES)
def test_a_weighted_studys_notes_are_chinese(note):
    # the weights clause made these notes miss their templates: they stayed English in a weighted study's zh report
    chinese = translate(note, "zh")
    assert "以 w 加权" in chinese
    for english in ("weighted", "analytic", "Source", "Placebo", "draws", "clustered", "Cells"):
        assert english not in chinese


def test_a_note_the_catalogue_does_not_know_stays_as_it_is():
    note = "Something new, weighted by w"
    assert translate(note, "zh") == note


@pytest.mark.parametrize("key, fields", [
    ("balanced_staggered", {"d": 26, "n": 215, "cols": "y, x1", "t": 17}),
    ("treatment_column", {"c": "did"}),
    ("presets_published", {"p": "lsdv, areg"}),
])
def test_the_shipped_examples_notes_are_chinese(key, fields):
    # `pilotdid run examples/lowcarbon/study.toml --lang zh` printed these three notes in English
    chinese = translate(msg(f"template.note.{key}", "en", **fields), "zh")
    assert chinese.endswith("。")
    for english in ("Balanced", "Treatment", "Presets", "period", "units"):
        assert english not in chinese


def test_regression_table_notes_in_chinese():
    # 'Constant: <rule>' and the R² definitions were Chinese labels followed by English rules
    from pilotdid.estimation.twfe import fit_twfe
    from pilotdid.design.synthetic import synthetic_staggered_panel
    from pilotdid.report.regression_table import regression_table

    panel = synthetic_staggered_panel(n_units=20, n_years=5, n_controls=1, effect=0.3, seed=2, cohorts=(2014,))
    fit = fit_twfe(panel, "y", ["did", "x1"], ["unit", "year"], "unit", vcov="lsdv")
    table = regression_table([fit], name="t", title="t", lang="zh", r2_kind=["r2", "r2_within", "adj_r2_within"])
    notes = " ".join(table.notes)
    assert "常数项：基准水平（第一个个体、第一期）的截距。" in notes
    for english in ("intercept", "dummy-variable", "partialling", "within adjusted"):
        assert english not in notes


@pytest.mark.parametrize("note", [
    "Few clusters: 12 clusters of province (< 30); cluster-robust t-tests over-reject with few clusters -- read them "
    "beside the wild cluster bootstrap (the tables' wild bootstrap rows, results.json p_wild / ci_wild_*, and the "
    "wild_bootstrap analysis).",
    "Few clusters (12 < 30): wild cluster restricted bootstrap of the did coefficient (webb weights, 9999 draws, seed "
    "1; CI by test inversion): (1) p = 0.5380, 95% CI [-0.0378, 0.0724].",
    "Few clusters (12 < 30): wild cluster restricted bootstrap of the did coefficient of the regression weighted by pop "
    "(webb weights, 9999 draws, seed 1; CI by test inversion): (1) p = 0.5380, 95% CI [-0.0378, 0.0724].",
    "Few clusters (12 < 30): wild cluster restricted bootstrap p-value and 95% CI (test inversion, webb weights, seed "
    "1, regressions weighted by pop) beside each coefficient.",
])
def test_few_clusters_notes_are_chinese(note):
    # a study with few clusters (e.g. provinces) got these in English in zh
    chinese = translate(note, "zh")
    assert chinese.startswith("聚类数较少")
    for english in ("Few", "clusters", "bootstrap", "weighted", "draws", "seed"):
        assert english not in chinese


@pytest.mark.parametrize("ref, cited", [("table 'heterogeneity' (subgroup columns)", "表“heterogeneity”（分组列）"),
                                        ("Table 6", "表6"), ("the further checks", "补充检验")])
def test_the_wild_bootstrap_note_of_a_table_is_chinese(ref, cited):
    from pilotdid.inference.few_clusters import wild_note

    cells = [(label, {"wild_weights": "webb", "wild_full_enumeration": False, "wild_draws": 9999, "wild_clusters": 12,
                      "p_wild": 0.25, "ci_wild_low": -0.1, "ci_wild_high": 0.2}) for label in ("rich", "poor")]
    chinese = translate(wild_note(ref, "did", cells, 7), "zh")
    assert chinese.startswith(f"聚类数较少：{cited}中 did 系数") and "（poor）12 个聚类，p = 0.2500" in chinese
    for english in ("Few", "clusters", "bootstrap", "draws", "seed", "rows"):
        assert english not in chinese
    assert translate("Wild bootstrap p", "zh") == "野自助法 p 值"  # the rows the note points to


def test_the_stacked_weights_note_is_chinese():
    assert translate(msg("template.note.stacked_weights", "en", w="pop"), "zh") == "堆叠 DID：回归权重 = WFH 权重 × 分析权重 pop。"


@pytest.mark.parametrize("controls", ["agg, invest, tec, market", "ln_pgdp, ln_road_area"])
def test_the_twfe_weights_note_is_chinese_whatever_the_controls(controls):
    # it was one phrase written with the CBEC controls: any other study's note stayed English in zh
    chinese = translate(msg("template.note.twfe_weights_note", "en", controls=controls), "zh")
    assert f"控制变量 {controls.replace(', ', '、')} 的回归" in chinese and "Theorem" not in chinese
    assert "Theorem" not in translate(msg("template.note.twfe_weights_note_plain", "en"), "zh")

