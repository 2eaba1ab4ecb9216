"""replicate.do / replicate.R: generated from the study with its real names, valid R, Stata commands of its preset."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from pilotdid.report.crosscheck import r_script, stata_script

DESIGN = {
    "name": "toy", "unit": "county code", "time": "yr", "outcome": "gdp_growth", "controls": ["open", "fdi"],
    "fixed_effects": ["county code", "yr"], "cluster": "prov", "vcov": "lsdv", "treat": "pilot",
    "first_treat": "first_treat", "window": (-3, 2), "base": -1, "cs_control": "not_yet_treated", "cs_method": "reg",
    "cs_base": "varying", "cs_draws": 0, "cs_covariates": True, "cs_window": (-3, 2), "psm_k": 2, "seed": 7,
    "has_event_study": True, "has_cs": True, "has_psm": True, "event_study_table": "figure1_event_study",
}


def _parse_r(path):
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript not installed (CI installs r-base-core)")
    done = subprocess.run(["Rscript", "-e", f"invisible(parse(file = '{path}'))"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_stata_script_uses_the_preset_command_and_the_study_names():
    do = stata_script(DESIGN, "test")
    assert "regress gdp_growth pilot open fdi i.county code i.yr, vce(cluster prov)" in do  # lsdv = reg + dummies
    assert "csdid gdp_growth open fdi, ivar(county code) time(yr) gvar(first_treat) method(reg) notyet" in do
    assert "long2" not in do and "wboot" not in do  # varying base period, analytic SEs
    assert "generate byte ev_m3 = (rel_time <= -3)" in do and "ev_m1" not in do and "(rel_time >= 2)" in do
    assert "psmatch2 pilot open fdi, logit neighbor(2) common" in do
    assert "(pilotdid table 'figure1_event_study')" in do  # the study's name of the event-study table
    assert do.count("{") == do.count("}")


def test_r_script_quotes_non_syntactic_names_and_follows_the_preset(tmp_path):
    r = r_script(DESIGN, "test")
    assert "feols(gdp_growth ~ pilot + open + fdi | `county code` + yr" in r
    assert 'ssc = ssc(fixef.K = "full")' in r  # lsdv counts every dummy
    assert 'control_group = "notyettreated"' in r and 'base_period = "varying"' in r and "bstrap = FALSE" in r
    assert "i(rel_time, ref = c(-1, -1000))" in r
    path = tmp_path / "replicate.R"
    path.write_text(r, encoding="utf-8")
    _parse_r(path)


def test_replication_folder_carries_scripts_naming_its_real_columns(tmp_path):
    """The CBEC study as run: every column the scripts name is a column of analysis_panel.csv."""
    import pandas as pd

    from pilotdid.report.crosscheck import analysis_panel, _design

    class Run:  # the parts of a StudyRun the generator reads
        pass

    from pilotdid.study.context import FIRST_TREAT, TREAT, ModelSpec, StudyContext
    from pilotdid.study.spec import parse_study

    panel = pd.DataFrame({"city": ["a", "a", "b", "b"], "year": [1, 2, 1, 2], "y": [1.0, 2.0, 1.5, 1.7],
                          "x1": [0.1, 0.2, 0.3, 0.4], TREAT: [0.0, 1.0, 0.0, 0.0], FIRST_TREAT: [2, 2, 0, 0]})
    run = Run()
    run.context = StudyContext(study_name="s", panel=panel, unit="city", time="year",
                               model=ModelSpec(outcome="y", controls=["x1"], fixed_effects=["city", "year"],
                                               cluster="city", vcov="reghdfe"), treatment_name="did")
    run.spec = parse_study('[study]\nname = "s"\n[data]\npanel = "p.csv"\nunit = "city"\ntime = "year"\n'
                           '[treatment]\nfirst_treat = "g"\n[model]\noutcome = "y"\ncontrols = ["x1"]\n'
                           '[analyses.baseline]\n[analyses.event_study]\n[analyses.staggered]\n')
    design = _design(run)
    frame = analysis_panel(run, design)
    assert list(frame.columns) == ["city", "year", "y", "x1", "did", "first_treat"]
    assert frame["did"].tolist() == [0, 1, 0, 0] and frame["first_treat"].tolist() == [2, 2, 0, 0]
    do, r = stata_script(design, "t"), r_script(design, "t")
    assert "reghdfe y did x1, absorb(city year) vce(cluster city)" in do
    for script in (do, r):
        named = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", script))
        assert {"city", "year", "y", "x1", "did", "first_treat"} <= named
    path = tmp_path / "replicate.R"
    path.write_text(r, encoding="utf-8")
    _parse_r(path)


def test_scripts_of_a_weighted_study_weight_every_command(tmp_path):
    # [model] weights: the cross-check must reproduce the weighted numbers, so every command carries the weights
    d = {**DESIGN, "weights": "pop", "vcov": "reghdfe", "has_psm": False}
    do = stata_script(d, "test")
    assert "reghdfe gdp_growth pilot open fdi [aweight = pop], absorb(county code yr) vce(cluster prov)" in do
    assert "csdid gdp_growth open fdi [iweight = pop], ivar(county code)" in do
    assert do.count("[aweight = pop]") == 3  # two baseline columns and the event study
    r = r_script(d, "test")
    assert r.count("weights = ~pop") == 2 and 'weightsname = "pop"' in r
    path = tmp_path / "replicate.R"
    path.write_text(r, encoding="utf-8")
    _parse_r(path)
    assert "aweight" not in stata_script(DESIGN, "test").split("psmatch2")[0]  # unweighted studies unchanged
