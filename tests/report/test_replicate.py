"""End to end on the real data: `pilotdid replicate` with few draws, then the report is checked.

One run is shared by the report tests (tests/report/conftest.py; it takes ~30 s); the full 1,000-draw run is what `make replicate` does.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest


ANALYSES = (
    "treatment_map", "descriptives", "index_weights", "index_systems", "baseline", "vcov_presets", "event_study", "placebo", "robustness",
    "mechanism", "heterogeneity", "staggered", "pretrends", "honest", "wild_bootstrap", "multiverse", "paper_comparison",
)


def test_every_analysis_of_the_study_ran(replication):
    manifest = json.loads((replication / "manifest.json").read_text())
    assert set(manifest["analysis_seconds"]) == set(ANALYSES)
    assert manifest["overrides"]["draws"] == 49
    assert manifest["inputs_sha256"], "input hashes recorded"


def test_results_json_has_the_contract_sections(replication):
    doc = json.loads((replication / "results.json").read_text())
    tables = {r["table"] for r in doc["estimates"]}
    assert {"descriptives", "baseline", "vcov_presets", "robustness", "mechanism", "heterogeneity"} <= tables
    base = [r for r in doc["estimates"] if r["table"] == "baseline" and r["term"] == "did"]
    assert len(base) == 5 and all(r["nobs"] == doc["data"]["nobs"] for r in base)
    assert all(r["nobs"] for r in doc["estimates"] if r["table"] in ("mechanism", "heterogeneity") and r["term"] == "did")
    assert doc["placebo"]["draws"] == 49
    assert {r["estimator"] for r in doc["event_study"]} >= {"twfe", "cs", "sa", "bjs"}
    assert {a["estimator"] for a in doc["aggregates"]} >= {"cs", "sa", "bjs"}
    for row in doc["estimates"]:
        assert set(("table", "column", "term", "coef", "se", "t", "p", "nobs", "vcov")) <= set(row)


def test_every_published_number_is_paired_or_explained(replication):
    doc = json.loads((replication / "results.json").read_text())
    comparison = doc["paper_comparison"]
    assert comparison["published"] == 28
    for row in comparison["rows"]:
        assert row["coef"] is not None or row["note"], row


def test_report_html_is_self_contained_with_every_section(replication):
    html = (replication / "report.html").read_text(encoding="utf-8")
    for name in ANALYSES:
        assert f'id="{name}"' in html, name
    assert "http://" not in html and "https://" not in html, "no network references"
    n_png = len(list((replication / "figures").glob("*.png")))
    assert html.count("data:image/png;base64,") == n_png > 10
    assert "How these data differ from the paper" in html


def test_report_docx_has_the_tables(replication):
    from docx import Document

    doc = Document(replication / "report.docx")
    n_tables = len(list((replication / "tables").glob("*.docx")))
    assert len(doc.tables) == n_tables > 10
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "The paper beside pilotdid" in headings


@pytest.mark.browser
def test_report_renders_in_headless_chromium(replication, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("headless Chromium is not installed (.ci/run installs Debian's chromium when it can)")
    flags = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
        "--virtual-time-budget=5000",
    ]
    url = (replication / "report.html").as_uri()
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", dom.stdout)
    assert body, "no body in the rendered DOM"
    loaded = re.search(r'data-figures-loaded="(\d+)"', body.group(1))
    broken = re.search(r'data-figures-broken="(\d+)"', body.group(1))
    n_png = len(list((replication / "figures").glob("*.png")))
    assert loaded and int(loaded.group(1)) == n_png, body.group(1)
    assert broken and int(broken.group(1)) == 0
    console_errors = [line for line in dom.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line.upper()]
    assert not console_errors, console_errors
    shot = tmp_path / "report.png"
    subprocess.run([*flags, "--window-size=1280,2000", f"--screenshot={shot}", url], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 50_000


def test_headline_under_the_7_and_9_indicator_indices(replication):
    """Issue 21: the shipped index uses 9 of 17 indicators where years allow; both headlines are shown."""
    doc = json.loads((replication / "results.json").read_text())
    rows = {(r["name"], tuple(r["years"])): r for r in doc["index_systems"]}
    main_row = rows[("study", (2012, 2020))]
    assert main_row["main"] and len(main_row["indicators"]) == 7
    nine = rows[("nine", (2012, 2017))]
    assert len(nine["indicators"]) == 9 and {"education_expenditure", "smoke_dust"} <= set(nine["indicators"])
    assert nine["published_weight_share"] == pytest.approx(0.2221, abs=5e-4)
    assert ("study", (2012, 2017)) in rows  # the same window with 7 indicators separates window from indicators
    base = [r for r in doc["estimates"] if r["table"] == "baseline" and r["term"] == "did"][-1]
    assert main_row["coef"] == pytest.approx(base["coef"], rel=1e-9)
    grid = doc["multiverse"]["grid"]
    assert grid["index_system"] == ["study", "nine"]
    specs = doc["multiverse"]["specifications"]
    assert {s["index_system"] for s in specs} == {"study", "nine"}
    # the 9-indicator index ends in 2017: drop_2020 would repeat its full-sample specifications, so it is not run
    assert not [s for s in specs if s["index_system"] == "nine" and s["sample"] == "drop_2020"]
    assert {s["estimator"] for s in specs} == {"twfe"}  # CBEC's curve leaves the robust estimators out (study.toml)
    assert doc["multiverse"]["summary"]["n_specs"] == len(specs) == 288 + 192
    nine_study_spec = [s for s in specs if s["index_system"] == "nine" and s["index_method"] == "entropy"
                       and s["pooling"] == "pooled" and s["sample"] == "full" and s["winsorize"] == 0
                       and s["treatment_rule"] == "approval_year" and s["vcov"] == "reghdfe"]
    assert len(nine_study_spec) == 1 and nine_study_spec[0]["coef"] == pytest.approx(nine["coef"], rel=1e-6)


def test_data_section_shows_the_17_indicator_coverage(replication):
    html = (replication / "report.html").read_text(encoding="utf-8")
    data = html[html.index('<section id="data">'):html.index("</section>", html.index('<section id="data">'))]
    assert "17 index indicators in these data" in data
    assert "Patents granted" in data and "Government education expenditure" in data
    doc = json.loads((replication / "results.json").read_text())
    coverage = doc["index_weights"]["indicator_coverage"]
    assert len(coverage) == 17
    by_var = {r["Panel variable"]: r for r in coverage}
    assert by_var["patents_granted"]["In the data"] == "no"
    assert by_var["education_expenditure"]["In the data"] == "yes"
    assert by_var["education_expenditure"]["Years with data"] == "2011\u20132018"
    assert by_var["smoke_dust"]["Years with data"] == "2011\u20132017"
    assert by_var["smoke_dust"]["In this run's index"].startswith("no:")
    assert sum(r["Share of paper weight"] for r in coverage) == pytest.approx(0.2149, abs=5e-4)
    assert (replication / "tables" / "indicator_coverage.csv").exists()


def test_output_folder_carries_the_cross_check_scripts(replication):
    import pandas as pd

    header = pd.read_csv(replication / "analysis_panel.csv", nrows=1).columns.tolist()
    assert header == ["city_id", "year", "resi", "agg", "invest", "tec", "market", "did", "first_treat"]
    do = (replication / "replicate.do").read_text(encoding="utf-8")
    assert "reghdfe resi did agg invest tec market, absorb(city_id year) vce(cluster city_id)" in do
    assert "csdid resi agg invest tec market, ivar(city_id) time(year) gvar(first_treat)" in do
    r_code = (replication / "replicate.R").read_text(encoding="utf-8")
    assert "feols(resi ~ did + agg + invest + tec + market | city_id + year" in r_code
    if shutil.which("Rscript"):
        done = subprocess.run(["Rscript", "-e", f"invisible(parse(file = '{replication / 'replicate.R'}'))"],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
