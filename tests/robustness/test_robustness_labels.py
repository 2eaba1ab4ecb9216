"""The robustness table names fixed effects and extra terms by the study's labels (SYNTHETIC panel).

Guards the table's label resolution after its layout moved to report/robustness_tables.py: a study label of a
fixed-effect column or of the concurrent-policy column reaches the rows ("Region FE", its published row)."""

from __future__ import annotations

import numpy as np
import pandas as pd

import pilotdid as pdid


def test_fixed_effect_and_concurrent_policy_rows_use_study_labels(tmp_path):
    rng = np.random.default_rng(11)
    rows = []
    for u in range(40):
        g = [0, 2014, 2016, 2018][u % 4]
        for year in range(2010, 2020):
            rows.append({"region": f"R{u:02d}", "year": year, "g": g, "x": rng.normal(),
                         "other_policy": float(u % 5 == 0 and year >= 2015),
                         "y": 0.2 * (g > 0 and year >= g) + rng.normal(scale=0.3)})
    pd.DataFrame(rows).to_csv(tmp_path / "p.csv", index=False)
    published = tmp_path / "published.toml"
    published.write_text('[[robustness]]\ncolumn = "concurrent_policy"\nterm = "other_policy"\ncoef = 0.5\n',
                         encoding="utf-8")
    study = {"study": {"name": "s", "seed": 1, "published": "published.toml",
                       "labels": {"region": "Region", "other_policy": {"en": "Other pilot", "zh": "其他试点"}}},
             "data": {"panel": "p.csv", "unit": "region", "time": "year"},
             "treatment": {"first_treat": "g"},
             "model": {"outcome": "y", "controls": ["x"]},
             "analyses": {"robustness": {"concurrent_column": "other_policy", "winsorize": [1]}}}
    # a unit column named like a registry city attribute ("region") is not taken for a city id: the capitals
    # check says why it did not run instead of failing
    run = pdid.run_study(study, base_dir=tmp_path)
    assert any("Check without municipalities and provincial capitals not run" in n
               for n in run.run.outputs["robustness"].notes)
    table = run.tables["robustness"]
    stubs = list(table.body.iloc[:, 0])
    assert "Region FE" in stubs and "region FE" not in stubs
    assert "Other pilot" in stubs and "Other pilot — paper (published)" in stubs
