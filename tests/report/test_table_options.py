"""esttab/modelsummary-like table options: stat, digits, stars, keep/drop/order, indicate, FE rows, statistic rows,
several outcomes side by side, short/full notes (SYNTHETIC data)."""

from __future__ import annotations

import numpy as np
import pytest

from pilotdid.design.synthetic import synthetic_staggered_panel
from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.twfe import fit_twfe
from pilotdid.report.numbers import PublishedNumber, fmt_fixed
from pilotdid.report.regression_table import check_table_options, regression_table, stata_command, table_kwargs


@pytest.fixture(scope="module")
def panel():
    frame = synthetic_staggered_panel(n_units=60, n_years=6, n_controls=2, effect=0.4, seed=11, cohorts=(2014, 2015))
    frame = frame.rename(columns={"unit": "city"})
    frame["province"] = frame["city"] % 12
    frame["y2"] = frame["y"] * 0.5 + np.random.default_rng(1).normal(size=len(frame))
    return frame


@pytest.fixture(scope="module")
def fits(panel):
    return [fit_twfe(panel, "y", ["did"], ["city", "year"], "city", vcov="reghdfe"),
            fit_twfe(panel, "y", ["did", "x1", "x2"], ["city", "year"], "city", vcov="reghdfe")]


def _cells(table, label):
    rows = table.body[table.body.iloc[:, 0] == label]
    assert len(rows) == 1, (label, table.body.iloc[:, 0].tolist())
    index = table.body.index.get_loc(rows.index[0])
    return table.body.iloc[index, 1:].tolist(), table.body.iloc[index + 1, 1:].tolist()


@pytest.mark.parametrize("stat", ["t", "se", "p", "ci"])
def test_statistic_beneath_the_coefficient(fits, stat):
    table = regression_table(fits, name="t", title="t", stat=stat, digits=4)
    row = fits[1].term("did")
    _, below = _cells(table, "DID")
    expected = (f"[{row['ci_low']:.4f}, {row['ci_high']:.4f}]" if stat == "ci" else f"({row[stat]:.4f})")
    assert below[1] == expected


def test_star_thresholds_and_no_stars(fits):
    p = fits[1].term("did")["p"]
    custom = regression_table(fits, name="t", title="t", star_levels=(0.2, 0.001))
    coef, _ = _cells(custom, "DID")
    assert coef[1].count("*") == (p < 0.2) + (p < 0.001)
    assert "* p<0.2, ** p<0.001." in custom.notes
    bare = regression_table(fits, name="t", title="t", star_levels=())
    assert "*" not in "".join(bare.body.iloc[:, 1:].to_numpy().ravel())
    assert "No significance stars." in bare.notes


def test_keep_drop_order_and_indicate(fits):
    kept = regression_table(fits, name="t", title="t", keep=["x2", "did"], show_constant=False)
    assert [v for v in kept.body.iloc[:, 0] if v in ("DID", "x1", "x2")] == ["x2", "DID"]
    dropped = regression_table(fits, name="t", title="t", drop=["x1"], order=["x2"], show_constant=False)
    assert [v for v in dropped.body.iloc[:, 0] if v in ("DID", "x1", "x2")] == ["x2", "DID"]
    # keep without _cons, or drop = ["_cons"], leaves the constant out as esttab does (it was always printed)
    for kw in ({"keep": ["did"]}, {"drop": ["_cons"]}):
        assert "Constant" not in regression_table(fits, name="t", title="t", **kw).body.iloc[:, 0].tolist(), kw
    assert "Constant" in regression_table(fits, name="t", title="t", keep=["did", "_cons"]).body.iloc[:, 0].tolist()
    zh = regression_table(fits, name="t", title="t", lang="zh", **table_kwargs({"indicate": True}, controls=["x1", "x2"],
                                                                              lang="zh"))
    assert "x1" not in zh.body.iloc[:, 0].tolist()
    indicate = zh.body[zh.body.iloc[:, 0] == "控制变量"].iloc[0, 1:].tolist()
    assert indicate == ["否", "是"]
    en = regression_table(fits, name="t", title="t", indicate={"Controls": ["x1", "x2"]})
    assert en.body[en.body.iloc[:, 0] == "Controls"].iloc[0, 1:].tolist() == ["No", "Yes"]


def test_fixed_effect_rows_and_statistic_rows(fits):
    table = regression_table(fits, name="t", title="t", lang="zh", stats=["nobs", "n_clusters", "r2_within"])
    labels = table.body.iloc[:, 0].tolist()
    assert "城市固定效应" in labels and "年份固定效应" in labels  # built-in names, not city固定效应
    assert labels[-3:] == ["样本量", "聚类数", "组内R²"]
    assert table.body.iloc[-2, 1:].tolist() == ["60", "60"]
    without = regression_table(fits, name="t", title="t", show_fe=False)
    assert not {"City FE", "Year FE"} & set(without.body.iloc[:, 0])
    assert {"City FE", "Year FE"} <= set(regression_table(fits, name="t", title="t").body.iloc[:, 0])


def test_several_outcomes_side_by_side(panel, fits):
    other = [fit_twfe(panel, "y2", ["did", "x1", "x2"], ["city", "year"], "city", vcov="reghdfe")]
    table = regression_table([*fits, *other], name="t", title="t", column_groups=[("y", 2), ("y2", 1)])
    assert table.column_groups == [("", 1), ("y", 2), ("y2", 1)]


def test_short_note_is_one_line_in_chinese(fits):
    table = regression_table(fits, name="t", title="t", lang="zh", notes_mode="short")
    assert table.notes == ["注：括号内为t值；标准误聚类到城市层面；*、**、***分别表示在10%、5%、1%水平上显著。"]
    en = regression_table(fits, name="t", title="t", notes_mode="short", stat="se")
    assert en.notes == ["Note: standard errors in parentheses; standard errors clustered at the city level; "
                        "*, **, *** denote significance at the 10%, 5% and 1% levels."]


def test_one_convention_note_per_table_computed_per_column(panel, fits):
    same = regression_table(fits, name="t", title="t")
    assert sum("Standard errors clustered" in n for n in same.notes) == 1
    assert any("(1) " in n and "(2) " in n and "Small-sample factor" in n for n in same.notes)
    by_province = fit_twfe(panel, "y", ["did", "x1", "x2"], ["city", "year"], "province", vcov="reghdfe")
    mixed = regression_table([fits[1], by_province], name="t", title="t")
    sentences = [n for n in mixed.notes if "Standard errors clustered" in n]
    assert len(sentences) == 2
    assert sentences[0].startswith("column (1): ") and "(60 clusters)" in sentences[0] and "59 df" in sentences[0]
    assert sentences[1].startswith("column (2): ") and "(12 clusters)" in sentences[1] and "11 df" in sentences[1]
    short = regression_table([fits[1], by_province], name="t", title="t", lang="zh", notes_mode="short")
    assert "标准误聚类到城市层面（第(1)列）、标准误聚类到省份层面（第(2)列）" in short.notes[0]


def test_the_se_command_is_the_real_one_with_the_study_names(panel):
    fit = fit_twfe(panel, "y", ["did", "x1"], ["city", "year"], "province", vcov="reghdfe")
    assert stata_command(fit) == "reghdfe y did x1, absorb(city year) vce(cluster province)"
    lsdv = fit_twfe(panel, "y", ["did"], ["city", "year"], "province", vcov="lsdv")
    assert stata_command(lsdv) == "reg y did i.city i.year, vce(cluster province)"
    table = regression_table([fit], name="t", title="t")
    assert any("vce(cluster province)" in n for n in table.notes)
    assert not any("vce(cluster city)" in n for n in table.notes)


def test_published_values_keep_their_decimals_and_no_negative_zero(fits):
    published = [None, {"did": {"coef": PublishedNumber("-0.230"), "t": PublishedNumber("-2.740")},
                        "nobs": 2480, "adj_r2": PublishedNumber("0.550")}]
    table = regression_table(fits, name="t", title="t", published=published)
    pub = table.body[table.body.iloc[:, 0].str.strip() == "published"]
    assert pub.iloc[0, 2] == "-0.230"
    assert table.body.iloc[table.body.index.get_loc(pub.index[0]) + 1, 2] == "(-2.740)"
    assert "0.550" in table.body.iloc[:, 2].tolist()
    assert fmt_fixed(-0.00004, 4) == "0.0000" and fmt_fixed(-0.00006, 4) == "-0.0001"


def test_table_options_in_the_study_file_are_checked():
    ok = check_table_options({"stat": "se", "stars": False, "notes": "short", "indicate": True}, "[tables]")
    assert ok["stars"] == [] and ok["stat"] == "se"
    for bad, key in (({"stat": "z"}, "stat"), ({"stars": [5]}, "stars"), ({"notes": "long"}, "notes"),
                     ({"stats": ["aic"]}, "stats"), ({"digits": -1}, "digits"), ({"color": 1}, "color")):
        with pytest.raises(PilotdidInputError, match=key):
            check_table_options(bad, "[tables]")


def test_tables_section_of_a_study_file_lays_out_table_4(tmp_path, panel):
    from pilotdid.study.runner import run_study
    from pilotdid.study.spec import load_study

    panel.to_csv(tmp_path / "panel.csv", index=False)
    (tmp_path / "study.toml").write_text("""
[study]
name = "synthetic_tables"
lang = "zh"
[data]
panel = "panel.csv"
unit = "city"
time = "year"
[treatment]
first_treat = "first_treat"
[model]
outcome = "y"
controls = ["x1", "x2"]
fixed_effects = ["city", "year"]
cluster = "city"
vcov = "reghdfe"
[tables]
stat = "se"
notes = "short"
indicate = true
stars = [0.1, 0.05]
[analyses.baseline]
stepwise = true
""", encoding="utf-8")
    table = run_study(load_study(tmp_path / "study.toml")).outputs["baseline"].tables["baseline"]
    assert table.notes == ["注：括号内为标准误；标准误聚类到城市层面；*、**分别表示在10%、5%水平上显著。"]
    labels = table.body.iloc[:, 0].tolist()
    assert "x1" not in labels and "控制变量" in labels
    assert table.body[table.body.iloc[:, 0] == "控制变量"].iloc[0, 1:].tolist() == ["否", "是", "是"]
    bad = (tmp_path / "study.toml").read_text(encoding="utf-8").replace('stat = "se"', 'stat = "z"')
    (tmp_path / "bad.toml").write_text(bad, encoding="utf-8")
    with pytest.raises(PilotdidInputError, match="stat must be one of"):
        load_study(tmp_path / "bad.toml")
