"""``[study] outputs``: the study file names and titles the tables and figures the analyses write (SYNTHETIC panel).

The analyses write generic names (``robustness``, ``event_study``, ...); a paper's numbering (the CBEC study's
``table5_robustness``, ``figure1_event_study``) lives in its study file. A name no analysis writes is refused before
the panel is read.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pilotdid as pdid
from pilotdid.errors import PilotdidInputError
from pilotdid.study.options import ANALYSIS_OPTIONS, ANALYSIS_OUTPUTS, output_names
from pilotdid.study.spec import load_study, parse_study

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = """
[study]
name = "s"
{outputs}
[data]
panel = "{panel}"
unit = "unit"
time = "year"
[treatment]
first_treat = "g"
[model]
outcome = "y"
[analyses.baseline]
"""


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for u in range(30):
        g = [0, 2014, 2016][u % 3]
        for year in range(2010, 2020):
            rows.append({"unit": u, "year": year, "g": g, "x": rng.normal(),
                         "y": 0.2 * (g > 0 and year >= g) + rng.normal(scale=0.3)})
    return pd.DataFrame(rows)


def test_every_analysis_declares_its_outputs():
    assert set(ANALYSIS_OUTPUTS) == set(ANALYSIS_OPTIONS)
    assert len(output_names()) == sum(len(set(v)) for v in ANALYSIS_OUTPUTS.values())  # no name in two analyses


def test_the_cbec_study_maps_the_papers_numbering():
    spec = load_study(ROOT / "src" / "pilotdid" / "studies" / "cbec" / "study.toml")
    assert spec.outputs["robustness"] == {"name": "table5_robustness", "ref": "Table 5",
                                          "title": {"en": "Table 5: robustness checks", "zh": "表5：稳健性检验"}}
    assert spec.outputs["event_study"]["name"] == "figure1_event_study"


def test_names_titles_captions_and_refs_applied(tmp_path):
    _panel().to_csv(tmp_path / "p.csv", index=False)
    study = {"study": {"name": "s", "seed": 1, "outputs": {
                 "event_study": {"name": "fig2_es", "title": "Figure 2: the event study"},
                 "placebo_summary": {"name": "tab9_placebo", "title": {"en": "Table 9: placebo", "zh": "表9：安慰剂"}},
                 "robustness": {"ref": "Table 3"}}},
             "data": {"panel": "p.csv", "unit": "unit", "time": "year"},
             "treatment": {"first_treat": "g"},
             "model": {"outcome": "y", "controls": ["x"]},
             "analyses": {"event_study": {"window": [-3, 3]}, "placebo": {"draws": 9, "in_time": False},
                          "robustness": {"winsorize": [1]}}}
    res = pdid.run_study(study, base_dir=tmp_path)
    assert set(res.figures) >= {"fig2_es", "placebo"} and "event_study" not in res.figures
    assert res.tables["tab9_placebo"].title == "Table 9: placebo" and res.tables["tab9_placebo"].origin == "placebo_summary"
    assert "event_study_coefficients" in res.tables  # not mapped: the generic name
    from pilotdid.report.html import figure_title

    assert figure_title("fig2_es", res.figures["fig2_es"]) == "Figure 2: the event study"
    assert figure_title("placebo", res.figures["placebo"]) == "Placebo test: distribution of placebo coefficients and t statistics"
    reading = res.to_dict()["robustness"]["psm_weighting"]["reading"]
    assert reading.endswith("Table 3 shows the unweighted regression beside the paper (psm_weighting).")
    out = res.write(tmp_path / "out")
    assert (out / "tables" / "tab9_placebo.csv").exists() and (out / "figures" / "fig2_es.png").exists()
    assert 'id="tab9_placebo"' in (out / "report.html").read_text(encoding="utf-8")
    zh = pdid.run_study({**study, "study": {**study["study"], "lang": "zh"}}, base_dir=tmp_path)
    assert zh.tables["tab9_placebo"].title == "表9：安慰剂"
    # without a mapping the refs are generic
    plain = pdid.run_study({**study, "study": {"name": "s", "seed": 1}}, base_dir=tmp_path)
    assert "Table 'robustness' shows" in plain.to_dict()["robustness"]["psm_weighting"]["reading"]


@pytest.mark.parametrize("outputs, words", [
    ("outputs = { robustnes = { name = \"t5\" } }", "unknown output 'robustnes'"),
    ("outputs = { robustness = { file = \"t5\" } }", "unknown key(s) file"),
    ("outputs = { robustness = { name = \"tables/t5\" } }", "file name without folder"),
    ("outputs = { robustness = { name = \"baseline\" } }", "would both be written as 'baseline'"),
    ("outputs = { robustness = { title = { zh = \"x\" } } }", "title must be a string or"),
    ("outputs = { robustness = \"t5\" }", "must be a table"),
])
def test_bad_mapping_refused(outputs, words):
    with pytest.raises(PilotdidInputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse_study(MINIMAL.format(outputs=outputs, panel="p.csv"))


def test_unknown_output_refused_before_the_panel_is_read(tmp_path):
    study = tmp_path / "study.toml"
    # the panel does not exist: reading it would be a different error
    study.write_text(MINIMAL.format(outputs='outputs = { figure1_event_study = { name = "f1" } }', panel="absent.csv"),
                     encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pilotdid", "run", str(study), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown output 'figure1_event_study'" in lines[0] and "did you mean 'event_study'?" in lines[0]
    assert not (tmp_path / "out").exists()
