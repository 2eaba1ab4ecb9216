"""Specification curve: every row equals a pyfixest refit; grid handling; summary; figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from pilotdid.design.winsorize import winsorize
from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.twfe import fit_twfe
from pilotdid.study.analyses import multiverse
from pilotdid.study.context import TREAT

GRID = {"sample": ["full", "drop_2020", "drop_capitals"], "winsorize": [0, 5], "controls": ["study", "none"],
        "vcov": ["reghdfe", "lsdv"], "placebo_draws": 49, "capital_column": "capital"}


@pytest.fixture
def output(context):
    return multiverse.run(context, dict(GRID))


def test_every_specification_matches_fit_twfe(context, output):
    table = pd.DataFrame(output.results["multiverse"]["specifications"])
    assert len(table) == 3 * 2 * 2 * 2
    panel = context.panel
    for _, row in table.iterrows():
        frame = panel
        if row["sample"] == "drop_2020":
            frame = frame.loc[frame["year"] != 2020]
        elif row["sample"] == "drop_capitals":
            frame = frame.loc[~frame["capital"]]
        controls = ["x1", "x2"] if row["controls"] == "study" else []
        if row["winsorize"]:
            p = row["winsorize"] / 100
            frame, _ = winsorize(frame, ["y", *controls], p, 1 - p)
        fit = fit_twfe(frame, "y", [TREAT, *controls], ["unit", "year"], "unit", vcov=row["vcov"])
        ref = fit.term(TREAT)
        assert row["coef"] == pytest.approx(ref["coef"], rel=1e-9, abs=1e-12)
        assert row["se"] == pytest.approx(ref["se"], rel=1e-8)
        assert row["p"] == pytest.approx(ref["p"], rel=1e-6, abs=1e-12)
        assert row["nobs"] == fit.nobs if hasattr(fit, "nobs") else True


def test_summary_shares_and_ordering(output):
    res = output.results["multiverse"]
    table = pd.DataFrame(res["specifications"])
    summary = res["summary"]
    assert summary["n_specs"] == len(table)
    assert summary["share_positive"] == pytest.approx((table["coef"] > 0).mean())
    assert summary["share_positive_significant"] == pytest.approx(((table["coef"] > 0) & (table["p"] < 0.05)).mean())
    assert summary["median_coef"] == pytest.approx(table["coef"].median())
    assert list(table["rank"]) == list(range(1, len(table) + 1))
    assert (np.diff(table["coef"].to_numpy()) >= 0).all()
    assert table["study_spec"].sum() == 1  # full sample, no winsorising, study controls, reghdfe
    own = table.loc[table["study_spec"]].iloc[0]
    assert (own["sample"], own["winsorize"], own["controls"], own["vcov"]) == ("full", 0, "study", "reghdfe")
    assert set(summary["varied"]) == {"sample", "winsorize", "controls", "vcov"}
    # the synthetic effect (1.0, noise sd about 1.4) is large: most specifications find it
    assert summary["share_positive_significant"] > 0.8
    assert table["placebo_p"].between(1 / 50, 1).all()


def test_placebo_p_is_the_placebo_engines(context, output):
    from pilotdid.inference.placebo import PlaceboDesign

    table = pd.DataFrame(output.results["multiverse"]["specifications"])
    own = table.loc[table["study_spec"]].iloc[0]
    design = PlaceboDesign.prepare(context.panel, outcome="y", unit="unit", time="year", first_treat="_first_treat",
                                   treatment=TREAT, controls=["x1", "x2"])
    assert own["placebo_p"] == design.run(draws=49, seed=context.seed).p_two_sided


def test_outputs_table_and_two_panel_figure(output):
    fig = output.figures["specification_curve"]
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    labels = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert "Sample: drop_capitals" in labels and "SE preset: lsdv" in labels
    by_choice = output.tables["specification_curve_by_choice"].body
    assert list(by_choice["Value"]) == [multiverse._value(v, "en") for v in
                                        ["full", "drop_2020", "drop_capitals", "0", "5", "study", "none", "reghdfe", "lsdv"]]
    assert (by_choice.groupby("Choice")["Specifications"].sum() == 24).all()
    table = pd.DataFrame(output.results["multiverse"]["specifications"])
    row = by_choice.loc[by_choice["Value"] == multiverse._value("drop_2020", "en")].iloc[0]
    sub = table.loc[table["sample"] == "drop_2020"]
    assert row["Median estimate"] == pytest.approx(sub["coef"].median())
    assert row["Share positive & p < 0.05"] == pytest.approx(((sub["coef"] > 0) & (sub["p"] < 0.05)).mean())
    assert "specification_curve_summary" in output.tables


@pytest.mark.parametrize("options, message", [
    ({"estimator": ["twfe", "sdid"]}, "estimator 'sdid'"),
    ({"index_method": ["entropy"]}, "needs an \\[index\\]"),
    ({"treatment_rule": ["approval_year"]}, "needs a registry"),
    ({"sample": ["drop_cities"]}, "unknown sample"),
    ({"winsorize": [60]}, "percentages"),
    ({"vcov": ["stata"]}, "unknown standard-error preset .stata."),
    ({"vcov": ["lsdv", "lsdv"]}, "twice"),
    ({"sample": ["full", "drop_capitals"]}, "drop_capitals is not available"),
    ({"colour": "red"}, "unknown option"),
    ({"winsorize": [0, 1, 5], "vcov": ["lsdv", "reghdfe"], "max_specs": 5}, "max_specs"),
])
def test_bad_options_are_input_errors(context, options, message, monkeypatch):
    import pilotdid.study.analyses.robustness as robustness

    monkeypatch.setattr(robustness, "capital_flag", lambda ctx, options: (None, "no attributes in this test"))
    with pytest.raises(PilotdidInputError, match=message):
        multiverse.run(context, options)


def test_runner_passes_backend_and_study_file_grid(tmp_path):
    """Through a study file (first_treat form) and run_study, with --jobs 2."""
    from pilotdid.study.runner import Overrides, run_study
    from pilotdid.study.spec import load_study

    from .conftest import synthetic_panel

    synthetic_panel(n_units=30).drop(columns=["_did"]).rename(columns={"_first_treat": "adopt"}).to_csv(
        tmp_path / "panel.csv", index=False)
    (tmp_path / "study.toml").write_text(
        '[study]\nname = "synthetic"\nseed = 3\n[data]\npanel = "panel.csv"\nunit = "unit"\ntime = "year"\n'
        '[treatment]\nfirst_treat = "adopt"\n[model]\noutcome = "y"\ncontrols = ["x1", "x2"]\nvcov = "reghdfe"\n'
        '[analyses.multiverse]\nsample = ["full", "drop_2019_2020"]\nvcov = ["reghdfe", "fixest"]\ndraws = 19\n',
        encoding="utf-8")
    spec = load_study(tmp_path / "study.toml")
    serial = run_study(spec).outputs["multiverse"].results["multiverse"]
    two = run_study(spec, Overrides(jobs=2)).outputs["multiverse"].results["multiverse"]
    assert serial["specifications"] == two["specifications"]
    assert two["summary"]["backend"] == "2 local processes"
    assert serial["summary"]["n_specs"] == 4
    assert all(r["placebo_draws"] == 19 for r in serial["specifications"])


def test_a_grid_of_one_specification_writes_every_table(context, tmp_path):
    # [analyses.multiverse] with no choices listed is one specification: before, its one-at-a-time table had no
    # columns and writing its .docx crashed the whole run (ZeroDivisionError in the column widths)
    from pilotdid.report.export import write_table

    output = multiverse.run(context, {"placebo_draws": 9})
    one = output.tables["specification_curve_one_at_a_time"].body
    assert len(one) == 1 and one["Value"].iloc[0].startswith(multiverse._value("reghdfe", "en"))
    assert one["Estimate"].iloc[0] == output.results["multiverse"]["specifications"][0]["coef"]
    for table in output.tables.values():
        write_table(table, tmp_path)
    assert (tmp_path / "specification_curve_one_at_a_time.docx").stat().st_size > 0
    ticks = output.figures["specification_curve"].axes[1].get_xticks()
    assert list(ticks) == [1]  # one tick at the one specification, not 0.25, 0.5, ...
    # singular in English: "1 specification", not "1 specifications" (title and notes)
    assert output.figures["specification_curve"].axes[0].get_title().startswith("Specification curve: 1 specification\n")
    notes = " ".join(output.tables["specification_curve_by_choice"].notes)
    assert "1 specification;" in notes and "of 1 estimate is positive" in notes and "1 specifications" not in notes
