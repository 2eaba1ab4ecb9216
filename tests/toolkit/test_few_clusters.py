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
    body = run.outputs["event_study"].tables["event_study_coefficients"].body
    assert "Wild bootstrap p [95% CI]" in body.columns


def test_the_threshold_is_configurable(tmp_path):
    run = _run(tmp_path, extra="few_clusters = 8")
    assert run.data_summary["few_clusters"] is False
    assert all("p_wild" not in r for r in run.outputs["baseline"].estimates)
    assert not any("Few clusters" in n for t in run.outputs["baseline"].tables.values() for n in t.notes)
    assert all("p_wild" not in r for r in run.outputs["event_study"].results["event_study"])


TABLES_STUDY = """
[analyses.robustness]
psm_k = 1
[analyses.mechanism]
mediators = [{name = "Med", column = "m1"}]
[analyses.heterogeneity]
draws = 0
splits = [{name = "size", column = "big", labels = ["big", "small"]}]
"""


def test_robustness_mechanism_and_heterogeneity_tables_carry_the_wild_bootstrap_with_12_clusters(tmp_path):
    import numpy as np
    import pandas as pd

    from pilotdid.inference.wild_bootstrap import wild_cluster_bootstrap

    panel = synthetic_staggered_panel(n_units=72, n_years=8, n_controls=1, effect=0.3, seed=4,
                                      cohorts=(2015, 2016, 2017))
    codes = panel["unit"].astype("category").cat.codes
    panel["prov"] = codes % 12
    panel["big"] = codes % 2 == 0
    panel["m1"] = 0.5 * panel["did"] + np.random.default_rng(1).normal(size=len(panel))
    panel.to_csv(tmp_path / "panel.csv", index=False)
    study = STUDY.format(extra="").replace("[analyses.baseline]\nstepwise = true\n[analyses.event_study]\nwindow = [-3, 3]\n",
                                           TABLES_STUDY)
    (tmp_path / "study.toml").write_text(study, encoding="utf-8")
    run = run_study(load_study(tmp_path / "study.toml"))
    assert run.data_summary["clusters"] == 12
    checked = 0
    for name, table_name, columns in (("robustness", "robustness", None), ("mechanism", "mechanism", ["Med"]),
                                      ("heterogeneity", "heterogeneity", ["big", "small"])):
        out = run.outputs[name]
        rows = [r for r in out.estimates if "p_wild" in r]
        assert rows, name
        for r in rows:
            assert 0 < r["p_wild"] <= 1 and r["ci_wild_low"] < r["coef"] < r["ci_wild_high"], (name, r["column"])
            assert r["wild_clusters"] <= 12  # the regression's own sample (a subgroup may have fewer clusters)
            assert r["wild_weights"] == ("webb" if r["wild_clusters"] < 12 else "rademacher")
            assert r["p"] is not None  # the analytic p stays beside it
        if columns:
            assert sorted(r["column"] for r in rows) == sorted(columns)
        body = out.tables[table_name].body
        labels = body.iloc[:, 0].astype(str).tolist()
        assert "Wild bootstrap p" in labels and "Wild bootstrap 95% CI" in labels, name
        assert any(n.startswith("Few clusters: wild cluster restricted bootstrap") for n in out.tables[table_name].notes)
        checked += len(rows)
    assert checked >= 5
    # the mechanism column equals the wild bootstrap run by hand on the mediator regression (12 clusters: Rademacher)
    med = [r for r in run.outputs["mechanism"].estimates if r.get("column") == "Med" and "p_wild" in r][0]
    frame = pd.read_csv(tmp_path / "panel.csv").sort_values(["unit", "year"])
    ref = wild_cluster_bootstrap(frame, outcome="m1", term="did", controls=["x1"], fixed_effects=["unit", "year"],
                                 cluster="prov", reps=9999, weights="rademacher", seed=12345, vcov="reghdfe")
    assert med["wild_clusters"] == 12 and med["wild_weights"] == "rademacher"
    assert med["p_wild"] == pytest.approx(ref.p_value, abs=1e-12)
    assert (med["ci_wild_low"], med["ci_wild_high"]) == pytest.approx((ref.ci_low, ref.ci_high), abs=1e-10)
    big = [r for r in run.outputs["heterogeneity"].estimates if r.get("column") == "big" and "p_wild" in r][0]
    assert big["wild_clusters"] == 6 and big["wild_weights"] == "webb"  # the subgroup's own clusters
