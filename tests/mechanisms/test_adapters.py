"""The study adapters: Table 6 / Table 7 structure, results rows, forest plot, option errors (SYNTHETIC panels)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from pilotdid.errors import PilotdidInputError
from pilotdid.report.export import write_table
from pilotdid.study.context import FIRST_TREAT, TREAT, ModelSpec, StudyContext
from pilotdid.study.results import ESTIMATE_KEYS

from .conftest import grouped_panel

PUBLISHED = {
    "mechanism": [{"column": "Dig", "term": "DID", "coef": 0.006, "t": 4.077}],
    "heterogeneity": [
        {"column": "large", "term": "DID", "coef": 0.013, "t": 5.373, "nobs": 930},
        {"column": "small_medium", "term": "DID", "coef": -0.001, "t": -0.35, "nobs": 1550},
    ],
}


@pytest.fixture
def ctx():
    df = grouped_panel(90, 8, seed=2, effect_first=1.0, effect_second=0.0)
    rng = np.random.default_rng(1)
    df["dig"] = 0.4 * df["did"] + rng.normal(0, 1, len(df))
    df["lab"] = np.where(df["year"] <= 2017, 0.2 * df["did"] + rng.normal(0, 1, len(df)), np.nan)
    df["coastal"] = (df["unit"] % 2 == 0)
    df = df.rename(columns={"did": TREAT, "first_treat": FIRST_TREAT})
    df.attrs["synthetic"] = True
    return StudyContext(
        study_name="synthetic", panel=df, unit="unit", time="year",
        model=ModelSpec(outcome="y", controls=["x1", "x2"], fixed_effects=["unit", "year"], cluster="unit", vcov="lsdv"),
        treatment_name="did", seed=5, extras={"published": PUBLISHED},
    )


def test_mechanism_table_and_rows(ctx, tmp_path):
    from pilotdid.study.analyses.mechanism import run

    out = run(ctx, {"mediators": [{"name": "Dig", "column": "dig", "label": "Digital"},
                                  {"name": "Lab", "column": "lab", "note": "2012-2017 only"}],
                    "three_step": True, "boot_draws": 49})
    did_rows = [r for r in out.estimates if r["term"] == "did"]
    assert [r["column"] for r in did_rows] == ["Dig", "Lab"]
    assert all(r["table"] == "mechanism" and set(ESTIMATE_KEYS) <= set(r) for r in out.estimates)
    assert did_rows[0]["nobs"] == 720 and did_rows[1]["nobs"] == 90 * 6
    assert did_rows[1]["years"] == [2012, 2017]
    table = out.tables["mechanism"]
    assert list(table.body.columns) == ["Variable", "Dig", "Lab"]
    labels = list(table.body.iloc[:, 0])
    for needed in ("DID", "N", "Years", "  published", "Unit FE", "Year FE"):
        assert needed in labels
    years = table.body.loc[table.body.iloc[:, 0] == "Years"].iloc[0].tolist()
    assert years[1:] == ["2012-2019", "2012-2017"]
    n_row = table.body.loc[table.body.iloc[:, 0] == "N"].iloc[0].tolist()
    assert n_row[1:] == ["720", "540"]
    published = table.body.loc[table.body.iloc[:, 0] == "  published"].iloc[0].tolist()
    assert published[1:] == ["0.006", ""]
    assert labels.index("  published") == labels.index("DID") + 2  # under our coefficient and its t
    assert any("2012-2017 only" in n for n in table.notes)
    assert any("exists for year 2012-2017 only" in n for n in table.notes)
    three = out.results["mechanism_three_step"]
    assert [s["mediator"] for s in three] == ["Dig", "Lab"] and "Baron–Kenny" in three[0]["label"]
    assert "mechanism_three_step" in out.tables
    write_table(table, tmp_path)
    assert (tmp_path / "mechanism.csv").exists()


@pytest.mark.parametrize("published, paper_wording", [(PUBLISHED, True), ({}, False)])
def test_three_step_caveat_names_a_paper_only_when_there_is_one(ctx, published, paper_wording):
    # before, a study without published.toml was told about "the paper's main mechanism evidence"
    from dataclasses import replace

    from pilotdid.study.analyses.mechanism import run

    out = run(replace(ctx, extras={"published": published}),
              {"mediators": [{"name": "Dig", "column": "dig"}], "three_step": True, "boot_draws": 9})
    notes = " ".join(out.tables["mechanism_three_step"].notes)
    assert ("the paper's main mechanism evidence" in notes) is paper_wording
    assert "main mechanism evidence" in notes and "mediator regression" in notes


def test_heterogeneity_table_rows_and_forest(ctx, tmp_path):
    from pilotdid.study.analyses.heterogeneity import run

    out = run(ctx, {"splits": [{"name": "size", "column": "big", "labels": ["large", "small_medium"]},
                               {"name": "coast", "column": "coastal", "labels": ["coastal", "inland"]}],
                    "draws": 49, "seed": 3})
    rows = [r for r in out.estimates if r["term"] == "did"]
    assert [r["column"] for r in rows] == ["large", "small_medium", "coastal", "inland"]
    assert all(r["nobs"] > 0 for r in rows)
    assert rows[0]["nobs"] + rows[1]["nobs"] == len(ctx.panel)
    diffs = [r for r in out.estimates if r["term"] == "did_difference"]
    assert [d["column"] for d in diffs] == ["large-small_medium", "coastal-inland"]
    assert diffs[0]["coef"] == pytest.approx(rows[0]["coef"] - rows[1]["coef"], abs=1e-8)
    tests = out.results["heterogeneity_tests"]
    assert all(0 < t["p_permutation"] <= 1 and 0 <= t["p_interacted"] <= 1 for t in tests)
    assert tests[0]["permutation_draws"] == 49
    table = out.tables["heterogeneity"]
    # the split's title names the units as the study does ([study] unit_noun; this context has none: "unit")
    assert table.column_groups == [("", 1), ("Unit size", 2), ("coast", 2)]
    labels = list(table.body.iloc[:, 0])
    for needed in ("DID", "N", "  published", "Difference (first − second)", "  p, fully interacted model",
                   "  p, permutation within cohorts (difference)", "  p, permutation within cohorts (studentised)",
                   "  p, permutation across all units (difference)", "  p, permutation across all units (studentised)",
                   "  Treated share (first / second)"):
        assert needed in labels
    n_row = table.body.loc[table.body.iloc[:, 0] == "N"].iloc[0].tolist()[1:]
    assert [int(x) for x in n_row] == [r["nobs"] for r in rows]
    pub_n = table.body.loc[table.body.iloc[:, 0] == "N — published"].iloc[0].tolist()[1:]
    assert pub_n == ["930", "1550", "", ""]
    assert isinstance(out.figures["heterogeneity_forest"], Figure)
    write_table(table, tmp_path)
    assert (tmp_path / "heterogeneity.md").exists()


def test_heterogeneity_cohort_strata_and_no_permutation(ctx):
    """Issue 17: stratified (within adoption cohorts) and unstratified permutation p side by side, the
    stratified one the default, with the sentence on which is valid when treatment shares differ."""
    from pilotdid.study.analyses.heterogeneity import run

    split = [{"name": "size", "column": "big", "labels": ["large", "small_medium"]}]
    default = run(ctx, {"splits": split, "draws": 19}).results["heterogeneity_tests"][0]
    assert default["permutation_strata"] == "cohort"
    assert default["p_permutation"] == default["p_permutation_cohort"]
    assert default["p_permutation_t"] == default["p_permutation_t_cohort"]
    other = run(ctx, {"splits": split, "draws": 19, "strata": "none"})
    flipped = other.results["heterogeneity_tests"][0]
    assert flipped["permutation_strata"] == "none" and flipped["p_permutation"] == flipped["p_permutation_all"]
    for key in ("p_permutation_cohort", "p_permutation_all", "p_permutation_t_cohort", "p_permutation_t_all"):
        assert default[key] == flipped[key]
    assert "exchangeable" in default["strata_validity"]
    assert any("valid comparison" in n for n in other.tables["heterogeneity"].notes)
    assert 0 < default["treated_share_first"] <= 1
    out0 = run(ctx, {"splits": split, "draws": 0})
    assert out0.results["heterogeneity_tests"][0]["p_permutation"] is None
    assert "  p, permutation within cohorts (difference)" not in list(out0.tables["heterogeneity"].body.iloc[:, 0])


@pytest.mark.parametrize("module,options,needle", [
    ("heterogeneity", {"splits": [{"name": "s", "column": "nope", "labels": ["a", "b"]}], "draws": 0}, "nope"),
    ("heterogeneity", {"splits": [{"name": "s", "column": "big", "labels": ["a", "b"]}], "drawz": 3}, "unknown option"),
    ("heterogeneity", {"splits": [{"name": "s", "column": "big", "labels": ["a", "b"]}], "draws": -1}, "draws"),
    ("heterogeneity", {"splits": [{"name": "s", "column": "big", "labels": ["a", "b"]},
                                  {"name": "t", "column": "coastal", "labels": ["a", "c"]}], "draws": 0}, "repeat"),
    ("heterogeneity", {"splits": [], "draws": 0}, "non-empty"),
    ("mechanism", {"mediators": [{"name": "Q", "column": "nope"}]}, "nope"),
    ("mechanism", {"mediators": [{"name": "Q", "column": "dig"}], "three_step": "yes"}, "three_step"),
    ("mechanism", {}, "no mediators"),
])
def test_bad_options_are_one_line_input_errors(ctx, module, options, needle):
    import importlib

    run = importlib.import_module(f"pilotdid.study.analyses.{module}").run
    with pytest.raises(PilotdidInputError) as exc:
        run(ctx, options)
    assert needle in str(exc.value) and "\n" not in str(exc.value)


def test_forest_plot_marks_published_values():
    from pilotdid.report.figures.forest import forest_plot

    rows = [{"column": "a", "label": "A", "group": "G", "coef": 0.1, "ci_low": 0.0, "ci_high": 0.2, "nobs": 10},
            {"column": "b", "label": "B", "group": "G", "coef": -0.1, "ci_low": -0.3, "ci_high": 0.1}]
    fig = forest_plot(rows, published={"a": 0.05}, difference_notes={"G": "p = 0.2"})
    ax = fig.axes[0]
    hollow = [ln for ln in ax.lines if ln.get_markerfacecolor() == "none"]
    assert len(hollow) == 1 and hollow[0].get_xdata()[0] == 0.05
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A  (N = 10)", "B"]


def test_chinese_labels(ctx):
    from pilotdid.study.analyses.heterogeneity import run

    ctx.lang = "zh"
    out = run(ctx, {"splits": [{"name": "size", "column": "big", "labels": ["large", "small_medium"]}], "draws": 9})
    labels = list(out.tables["heterogeneity"].body.iloc[:, 0])
    assert "控制变量" in labels and "组间差异（前者 − 后者）" in labels and "样本量" in labels
