"""The few-clusters guard on a SYNTHETIC study clustered by 10 'provinces'."""

from __future__ import annotations

import pytest

from pilotdid.design.synthetic import synthetic_staggered_panel
from pilotdid.study.runner import run_study
from pilotdid.study.spec import load_study

STUDY = """
[study]
name = "few_clusters"
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
cluster = "prov"
vcov = "reghdfe"
{extra}
[analyses.baseline]
stepwise = true
[analyses.event_study]
window = [-3, 3]
"""


def _run(tmp_path, extra=""):
    panel = synthetic_staggered_panel(n_units=60, n_years=8, n_controls=1, effect=0.3, seed=3,
                                      cohorts=(2015, 2016, 2017))
    panel["prov"] = panel["unit"].astype("category").cat.codes % 10
    panel.to_csv(tmp_path / "panel.csv", index=False)
    (tmp_path / "study.toml").write_text(STUDY.format(extra=extra), encoding="utf-8")
    return run_study(load_study(tmp_path / "study.toml"))


def test_below_the_threshold_every_clustered_table_says_so_and_the_baseline_has_wild_inference(tmp_path):
    run = _run(tmp_path)
    assert run.data_summary["clusters"] == 10 and run.data_summary["few_clusters"] is True
    rows = [r for r in run.outputs["baseline"].estimates if r["term"] == "did"]
    assert len(rows) == 2
    for r in rows:
        assert 0 < r["p_wild"] <= 1 and r["ci_wild_low"] < r["coef"] < r["ci_wild_high"]
        assert r["wild_weights"] == "webb"  # fewer than 12 clusters
    for name in ("baseline", "event_study"):
        for table in run.outputs[name].tables.values():
            assert any(n.startswith("Few clusters: 10 clusters of prov") for n in table.notes), name
    assert any("wild cluster restricted bootstrap of the did coefficient" in n
               for n in run.outputs["baseline"].tables["baseline"].notes)
    es_rows = [r for r in run.outputs["event_study"].results["event_study"] if not r["is_base"]]
    assert all(0 < r["p_wild"] <= 1 and r["ci_wild_low"] < r["ci_wild_high"] for r in es_rows)
    body = run.outputs["event_study"].tables["figure1_event_study_coefficients"].body
    assert "Wild bootstrap p [95% CI]" in body.columns


def test_the_threshold_is_configurable(tmp_path):
    run = _run(tmp_path, extra="few_clusters = 8")
    assert run.data_summary["few_clusters"] is False
    assert all("p_wild" not in r for r in run.outputs["baseline"].estimates)
    assert not any("Few clusters" in n for t in run.outputs["baseline"].tables.values() for n in t.notes)
    assert all("p_wild" not in r for r in run.outputs["event_study"].results["event_study"])
