"""examples/quickstart.py runs, and its numbers equal the command line's on the same panel and options.

The panel is the REAL low-carbon-city sample shipped in examples/lowcarbon/. The CLI runs a study file with
the analyses the quickstart reproduces (baseline, event study, Callaway-Sant'Anna without covariates and
analytic SEs, HonestDiD), written to a temporary folder next to the example's panel path.
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "lowcarbon"
QUICKSTART = ROOT / "examples" / "quickstart.py"

STUDY = """
[study]
name = "quickstart_check"
[data]
panel = "{panel}"
sheet = "Sheet1"
unit = "city_name"
time = "year"
[treatment]
column = "did"
[model]
outcome = "ln_carbon_intensity"
controls = ["ln_pgdp", "ln_pop_density", "industrial_advanced", "ln_road_area", "financial_development"]
fixed_effects = ["city_name", "year"]
cluster = "city_name"
vcov = "lsdv"
[analyses.baseline]
[analyses.event_study]
window = [-4, 4]
base = -1
[analyses.staggered]
estimators = ["cs"]
covariates = "none"
draws = 0
control_group = "never_treated"
base_period = "universal"
[analyses.honest]
covariates = "none"
"""


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    if not (EXAMPLE / "sample.xlsx").exists():
        pytest.skip("examples/lowcarbon/sample.xlsx missing")
    tmp = tmp_path_factory.mktemp("quickstart")
    study = tmp / "study.toml"
    study.write_text(STUDY.format(panel=(EXAMPLE / "sample.xlsx").as_posix()), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    subprocess.run([sys.executable, "-m", "pilotdid", "run", str(study), "--out", str(tmp / "out"), "--quiet"],
                   check=True, env=env, capture_output=True, text=True)
    cli = json.loads((tmp / "out" / "results.json").read_text(encoding="utf-8"))
    os.environ["PILOTDID_QUICKSTART_OUT"] = str(tmp)
    try:
        api = runpy.run_path(str(QUICKSTART), run_name="__main__")
    finally:
        os.environ.pop("PILOTDID_QUICKSTART_OUT", None)
    return cli, api, tmp


def test_quickstart_writes_its_outputs(both):
    _, api, tmp = both
    assert (tmp / "twfe.docx").stat().st_size > 1000
    assert (tmp / "event_study.png").stat().st_size > 1000


def test_twfe_equals_cli_baseline(both):
    cli, api, _ = both
    row = next(r for r in cli["estimates"] if r["table"] == "baseline" and r["term"] == "did")
    mine = api["fit"].term("did")
    for key in ("coef", "se", "t", "p", "ci_low", "ci_high"):
        assert mine[key] == pytest.approx(row[key], rel=1e-9, abs=1e-12), key
    assert api["fit"].nobs == row["nobs"] == 3623
    # the published regression (examples/lowcarbon/README.md): coefficient 0.017066, SE 0.028785
    assert round(mine["coef"], 6) == 0.017066 and round(mine["se"], 6) == 0.028785


def test_event_study_equals_cli(both):
    cli, api, _ = both
    rows = {r["rel_time"]: r for r in cli["event_study"] if r["estimator"] == "twfe"}
    tidy = api["es"].tidy()
    assert sorted(rows) == sorted(tidy["rel_time"].astype(int))
    for r in tidy.itertuples():
        assert r.estimate == pytest.approx(rows[int(r.rel_time)]["coef"], rel=1e-9, abs=1e-12)


def test_callaway_santanna_equals_cli(both):
    cli, api, _ = both
    for kind in ("simple", "dynamic"):
        row = next(a for a in cli["aggregates"] if a["estimator"] == "cs" and a["type"] == kind)
        agg = api["simple"] if kind == "simple" else api["dynamic"]
        assert agg.att == pytest.approx(row["att"], rel=1e-9, abs=1e-12)
        assert agg.se == pytest.approx(row["se"], rel=1e-9, abs=1e-12)


def test_honest_equals_cli(both):
    cli, api, _ = both
    h = cli["honest"]
    est, lo, hi = api["sens"].original
    assert est == pytest.approx(h["estimate"], rel=1e-9, abs=1e-12)
    assert [lo, hi] == pytest.approx(h["original_ci"], rel=1e-9, abs=1e-12)
    mine = api["sens"].table
    assert list(mine["M"]) == pytest.approx([g["M"] for g in h["grid"]])
    assert list(mine["lb"]) == pytest.approx([g["lb"] for g in h["grid"]], rel=1e-7, abs=1e-10)
    assert list(mine["ub"]) == pytest.approx([g["ub"] for g in h["grid"]], rel=1e-7, abs=1e-10)
    assert api["sens"].breakdown == h["breakdown"]
