import json

import numpy as np
import pandas as pd
import pytest

from pilotdid.errors import PilotdidInputError
from pilotdid.report.output import write_output
from pilotdid.study.context import FIRST_TREAT, TREAT
from pilotdid.study.runner import run_study
from pilotdid.study.spec import load_study



def test_runner_builds_treatment_columns_from_a_01_column(tmp_path, panel_csv, minimal_study, make_panel, study_file):
    run = run_study(load_study(study_file(minimal_study)))
    panel = run.context.panel
    assert set(panel[TREAT].unique()) == {0.0, 1.0}
    assert sorted(panel.groupby("unit")[FIRST_TREAT].first().unique()) == [0, 2014, 2016]
    assert run.data_summary["cohorts"] == {"2014": 7, "2016": 8}
    assert run.context.treatment_name == "did"


def test_first_treat_form_matches_column_form(tmp_path, panel_csv, minimal_study, make_panel, study_file):
    a = run_study(load_study(study_file(minimal_study))).context.panel
    text = minimal_study.replace('column = "did"', 'first_treat = "first_year"')
    b = run_study(load_study(study_file(text, "b.toml"))).context.panel
    np.testing.assert_array_equal(a[TREAT].to_numpy(), b[TREAT].to_numpy())
    assert run_study(load_study(study_file(text, "b.toml"))).context.treatment_name == "did"


def test_years_window_and_listwise_missing_are_counted(tmp_path, minimal_study, make_panel, study_file):
    df = make_panel()
    df.loc[3, "x1"] = np.nan
    df.to_csv(tmp_path / "panel.csv", index=False)
    text = minimal_study.replace('time = "year"', 'time = "year"\nyears = [2011, 2018]\nbalance = true')
    run = run_study(load_study(study_file(text)))
    assert run.data_summary["rows_outside_years"] == 60
    assert run.data_summary["rows_missing_model_variables"] == 1
    assert run.data_summary["units_dropped_unbalanced"] == ["u00"]
    assert run.data_summary["nobs"] == 29 * 8
    assert any("listwise" in n for n in run.context.notes)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda df: pd.concat([df, df.iloc[[5]]]), "duplicate (unit, year) key"),
        (lambda df: df.assign(x1=df["x1"].astype(object).where(df.index != 7, "abc")), "non-numeric cell 'abc' at data row 8"),
        (lambda df: df.assign(did=df["did"].where(df.index != 4, 2)), "must be 0/1"),
        (lambda df: df.drop(columns=["x1"]), "column 'x1' (from [model] controls) is not in the panel"),
        (lambda df: df.assign(did=0), "no unit is ever treated"),
        (lambda df: df.assign(did=1), "no control group"),
    ],
)
def test_bad_panels_are_one_line_errors(tmp_path, mutate, message, minimal_study, make_panel, study_file):
    mutate(make_panel()).to_csv(tmp_path / "panel.csv", index=False)
    with pytest.raises(PilotdidInputError) as info:
        run_study(load_study(study_file(minimal_study)))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_first_treat_varying_within_unit_is_refused(tmp_path, minimal_study, make_panel, study_file):
    df = make_panel()
    df.loc[0, "first_year"] = 2015
    df.to_csv(tmp_path / "panel.csv", index=False)
    text = minimal_study.replace('column = "did"', 'first_treat = "first_year"')
    with pytest.raises(PilotdidInputError, match="varies within unit 'u00'"):
        run_study(load_study(study_file(text)))


def test_output_is_written_atomically_and_reproducibly(tmp_path, panel_csv, minimal_study, make_panel, study_file):
    spec = load_study(study_file(minimal_study))
    out = tmp_path / "out"
    write_output(run_study(spec), out)
    first = (out / "results.json").read_bytes()
    doc = json.loads(first)
    assert doc["study"] == "synthetic"
    assert doc["placebo"] is None and doc["estimates"] == [] and doc["event_study"] == []
    manifest = json.loads((out / "manifest.json").read_text())
    assert panel_csv.name in manifest["inputs_sha256"]  # relative to the study file
    assert manifest["seed"] == 12345
    assert (out / "report.html").exists()
    write_output(run_study(spec), out)
    assert (out / "results.json").read_bytes() == first
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_figures_are_written_in_the_chosen_formats_only(tmp_path, panel_csv, minimal_study, study_file):
    from pilotdid.report.figures.style import new_figure
    from pilotdid.study.context import AnalysisOutput
    from pilotdid.study.runner import Overrides

    text = minimal_study + '\n[figures]\nformats = ["png", "svg"]\n'
    run = run_study(load_study(study_file(text)))
    fig, ax = new_figure()
    ax.plot([0, 1], [0, 1])
    run.outputs["extra"] = AnalysisOutput(figures={"line": fig})
    write_output(run, tmp_path / "a")
    assert sorted(p.name for p in (tmp_path / "a" / "figures").iterdir()) == ["line.png", "line.svg"]
    run.overrides = Overrides(figure_formats=("png", "pdf"))
    write_output(run, tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "b" / "figures").iterdir()) == ["line.pdf", "line.png"]
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["overrides"]["figure_formats"] == ["png", "pdf"]


def test_failed_write_leaves_previous_output_untouched(tmp_path, panel_csv, monkeypatch, minimal_study, make_panel, study_file):
    spec = load_study(study_file(minimal_study))
    out = tmp_path / "out"
    write_output(run_study(spec), out)
    before = (out / "results.json").read_bytes()

    import pilotdid.report.output as output

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(output, "manifest_document", boom)
    with pytest.raises(RuntimeError):
        write_output(run_study(spec), out)
    assert (out / "results.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []


def test_cli_run_bad_study_exits_2_and_writes_nothing(tmp_path, panel_csv, run_cli, minimal_study, make_panel, study_file):
    study = study_file(minimal_study.replace('outcome = "y"', 'outcome = "nope"'))
    before = panel_csv.read_bytes()
    code, _, err = run_cli("run", str(study), "--out", str(tmp_path / "out"), "--quiet")
    assert code == 2
    assert "column 'nope' (from [model] outcome)" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    assert panel_csv.read_bytes() == before


def test_verify_reports_identical_then_a_changed_input(tmp_path, panel_csv, minimal_study, make_panel, study_file, run_cli):
    out = tmp_path / "out"
    code, _, _ = run_cli("run", str(study_file(minimal_study)), "--out", str(out), "--quiet")
    assert code == 0
    code, stdout, _ = run_cli("verify", str(out))
    assert code == 0, stdout
    assert "identical" in stdout
    df = make_panel()
    df.loc[0, "y"] += 1.0
    df.to_csv(panel_csv, index=False)
    code, stdout, _ = run_cli("verify", str(out))
    assert code == 1
    assert "input changed" in stdout


def test_treatment_variation_is_rechecked_after_rows_are_left_out(tmp_path, minimal_study, make_panel, study_file):
    df = make_panel()
    treated = df["first_year"] > 0
    df.loc[treated & (df["year"] == 2019), "x1"] = np.nan  # every treated unit loses a year
    df.to_csv(tmp_path / "panel.csv", index=False)
    text = minimal_study.replace('time = "year"', 'time = "year"\nbalance = true')
    with pytest.raises(PilotdidInputError, match="no treated row is left"):
        run_study(load_study(study_file(text)))


def test_infinite_values_in_model_columns_are_refused(tmp_path, minimal_study, make_panel, study_file):
    df = make_panel()
    df.loc[9, "x1"] = np.inf
    df.to_csv(tmp_path / "panel.csv", index=False)
    with pytest.raises(PilotdidInputError, match="column 'x1' has an infinite value at data row 10"):
        run_study(load_study(study_file(minimal_study)))


def test_parquet_dataset_folder_is_a_panel(tmp_path, minimal_study, make_panel, study_file):
    df = make_panel()
    folder = tmp_path / "panel_ds"
    df.to_parquet(folder, partition_cols=["year"])
    run = run_study(load_study(study_file(minimal_study.replace('panel = "panel.csv"', 'panel = "panel_ds"'))))
    assert run.data_summary["nobs"] == len(df)
    assert run.context.panel["year"].dtype.kind == "i"


def test_infinite_first_treatment_year_is_refused(tmp_path, minimal_study, make_panel, study_file):
    df = make_panel()
    df["first_year"] = df["first_year"].astype(float)
    df.loc[df["unit"] == "u00", "first_year"] = np.inf
    df.to_csv(tmp_path / "panel.csv", index=False)
    text = minimal_study.replace('column = "did"', 'first_treat = "first_year"')
    with pytest.raises(PilotdidInputError, match="must hold whole periods, found inf at data row 1"):
        run_study(load_study(study_file(text)))
