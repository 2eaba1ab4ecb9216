"""`pilotdid replicate --panel FILE`: the CBEC study on a user's city-yearbook file, end to end on the SYNTHETIC
yearbook fixture (tests/data/fixtures/yearbook_synthetic.xlsx: random numbers, real names and header forms)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pilotdid.cli import main

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "fixtures" / "yearbook_synthetic.xlsx"


@pytest.fixture(scope="module")
def run_on_fixture(tmp_path_factory):
    out = tmp_path_factory.mktemp("panel") / "replication"
    code = main(["replicate", "--panel", str(FIXTURE), "--out", str(out), "--draws", "19", "--quiet"])
    assert code == 0
    return out


def test_runs_the_whole_battery_on_the_file(run_on_fixture):
    manifest = json.loads((run_on_fixture / "manifest.json").read_text())
    ran = set(manifest["analysis_seconds"])
    assert {"baseline", "event_study", "placebo", "robustness", "mechanism", "heterogeneity", "staggered", "honest",
            "wild_bootstrap", "multiverse", "paper_comparison", "index_weights"} <= ran
    assert "index_systems" not in ran  # the public-data alternatives do not apply to a user's file
    assert "yearbook = true" in manifest["study_text"] and 'absent = "exclude"' in manifest["study_text"]
    doc = json.loads((run_on_fixture / "results.json").read_text())
    assert doc["data"]["periods"] == list(range(2012, 2021))
    assert doc["data"]["yearbook_import"]["unmatched_names"] == 2  # 巢湖 and 莱芜 2019-2020


def test_report_shows_the_17_indicator_coverage(run_on_fixture):
    html = (run_on_fixture / "report.html").read_text(encoding="utf-8")
    data = html[html.index('<section id="data">'):html.index("</section>", html.index('<section id="data">'))]
    assert "17 index indicators in these data" in data and "yearbook_synthetic.xlsx" in data
    coverage = pd.read_csv(run_on_fixture / "tables" / "indicator_coverage.csv")
    assert len(coverage) == 17
    assert (coverage["In this run's index"] == "yes").all()  # the fixture holds all 17 (trade/GDP from 进出口总额)
    assert coverage["Share of paper weight"].sum() == pytest.approx(1.0, abs=1e-3)  # csv cells keep 4 decimals
    row = coverage.set_index("Panel variable")
    assert row.loc["trade_dependence", "In the data"] == "yes"
    assert row.loc["patents_granted", "Years with data"] == "2011\u20132020"


def test_text_rewrite_for_a_thin_file(tmp_path):
    """A file without patents or urban-district population: mechanism and the size split are left out, said so."""
    from pilotdid.cli.study_cmd import CBEC_STUDY, builtin_study_path
    from pilotdid.study.spec import load_study
    from pilotdid.study.yearbook import yearbook_study

    raw = pd.read_excel(FIXTURE, sheet_name=0)
    thin = raw.drop(columns=["专利授权数(件)", "年末总人口_市辖区_万人", "医院、卫生院床位数_全市_张"])
    path = tmp_path / "thin.csv"
    thin.to_csv(path, index=False)
    spec = yearbook_study(load_study(builtin_study_path(CBEC_STUDY)), path)
    assert "mechanism" not in spec.analyses
    assert all(s["name"] != "size" for s in spec.analyses["heterogeneity"]["splits"])
    caveat = spec.raw["study"]["caveats"][0]
    assert "city-size split is left out" in caveat and "Mechanisms are left out" in caveat
    assert spec.index["absent"] == "exclude" and "alternatives" not in spec.index


def test_file_without_the_controls_inputs_is_refused(tmp_path, run_cli):
    raw = pd.read_excel(FIXTURE, sheet_name=0)
    path = tmp_path / "nogdp.csv"
    raw.drop(columns=["行政区域土地面积(平方公里)"]).to_csv(path, index=False)
    code, _, err = run_cli("replicate", "--panel", str(path), "--out", str(tmp_path / "o"), "--quiet")
    assert code == 2 and "agg" in err and "land_area (行政区域土地面积)" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "o").exists()



def test_yearbook_study_file_without_any_index_indicator_is_refused(tmp_path, run_cli):
    """[data] yearbook = true in a study file: a panel holding none of the index's indicators is one clear line."""
    raw = pd.read_excel(FIXTURE, sheet_name=0)
    raw[["城市", "年份", "地区生产总值_当年价格_全市_万元", "行政区域土地面积(平方公里)"]].to_csv(tmp_path / "p.csv", index=False)
    (tmp_path / "study.toml").write_text(
        '[study]\nname = "t"\n[data]\npanel = "p.csv"\nyearbook = true\nunit = "city_id"\ntime = "year"\n'
        '[index]\nsystem = "cbec_resilience"\nabsent = "exclude"\ncolumn = "resi"\n'
        '[treatment]\nregistry = "cbec"\n[model]\noutcome = "resi"\ncontrols = ["agg"]\n[analyses.baseline]\n',
        encoding="utf-8")
    code, _, err = run_cli("run", str(tmp_path / "study.toml"), "--out", str(tmp_path / "o"), "--quiet")
    assert code == 2 and "the panel has none of the cbec_resilience indicators" in err, err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "o").exists()
