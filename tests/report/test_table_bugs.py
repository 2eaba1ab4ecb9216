"""Regression tests for the table bugs of issue 18 (each failed before its fix).

The map section's one-year-panel notes are covered by tests/registry/test_cli_and_map.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pandas as pd
import pytest
from scipy import stats

from pilotdid.design.synthetic import synthetic_staggered_panel
from pilotdid.report.export import to_markdown
from pilotdid.report.table import Table


def test_markdown_escapes_a_pipe_inside_a_cell():
    """vcov_presets.md quoted R's `feols(y ~ x | city + year)`: the bare '|' split the row into an extra column."""
    table = Table("vcov", "presets", pd.DataFrame({"preset": ["fixest"], "mirrors": ["feols(y ~ x | city + year)"]}))
    rows = [line for line in to_markdown(table).splitlines() if line.startswith("|")]
    unescaped = [len(re.findall(r"(?<!\\)\|", line)) for line in rows]
    assert len(set(unescaped)) == 1 and unescaped[0] == 3, rows
    assert "feols(y ~ x \\| city + year)" in rows[-1]


def test_staggered_twfe_confidence_intervals_use_t_with_g_minus_1_df():
    """The staggered table's TWFE CIs used the normal critical value; the baseline uses t(G−1)."""
    from pilotdid.estimation.staggered.twfe import twfe_event_study

    panel = synthetic_staggered_panel(n_units=30, n_years=6, n_controls=1, effect=0.5, seed=3, cohorts=(2014, 2015))
    result = twfe_event_study(panel, outcome="y", unit="unit", time="year", first_treat="first_treat")
    crit = stats.t.ppf(0.975, panel["unit"].nunique() - 1)
    assert result.ci_low == pytest.approx(result.att - crit * result.se, rel=1e-12)
    assert result.ci_high == pytest.approx(result.att + crit * result.se, rel=1e-12)
    assert "t(G−1) = t(29)" in result.se_method
    rows = result.table.dropna(subset=["se"])
    assert ((rows.ci_high - rows.coef) / rows.se).round(10).eq(round(crit, 10)).all()


def test_twfe_end_points_of_the_estimator_table_are_marked_binned(replication):
    """The staggered table printed TWFE's binned ≤−4 coefficient in the −4 row as if it were event time −4."""
    body = pd.read_csv(replication / "tables" / "staggered_event_study.csv", dtype=str).fillna("")
    first, last = body.iloc[0], body.iloc[-1]
    assert first["TWFE"].endswith("†") and last["TWFE"].endswith("†")
    assert not any(cell.endswith("†") for cell in body["TWFE"].iloc[1:-1])
    assert not body["Callaway–Sant'Anna"].str.contains("†").any()
    md = (replication / "tables" / "staggered_event_study.md").read_text(encoding="utf-8")
    assert "binned coefficient: -4 means -4 or earlier (≤-4)" in md


def test_staggered_tables_show_no_raw_field_names(replication):
    for stem in ("staggered_event_study", "staggered_overall_att"):
        header = pd.read_csv(replication / "tables" / f"{stem}.csv", nrows=0).columns
        raw = {"att", "se", "ci_low", "ci_high", "se_method", "estimator", "type", "event time", "rel_time"}
        assert not raw & set(header), (stem, list(header))


@pytest.mark.browser
@pytest.mark.parametrize("width", [1400, 1920])
def test_treated_by_batch_table_is_not_clipped(replication, tmp_path, width):
    """At 1400 and 1920 px the 'Treated by batch' table was wider than its box: the city column was cut off."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("headless Chromium is not installed (.ci/run installs Debian's chromium when it can)")
    html = (replication / "report.html").read_text(encoding="utf-8")
    assert 'id="treatment_treated_by_batch"' in html and "n_first_treated_here" not in html
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={tmp_path / 'p'}",
         f"--window-size={width},1000", "--virtual-time-budget=5000", "--dump-dom", (replication / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120)
    body = re.search(r"<body([^>]*)>", dom.stdout).group(1)
    overflowing = re.search(r'data-tables-overflowing="([^"]*)"', body)
    assert overflowing is not None, body
    assert "treatment_treated_by_batch" not in overflowing.group(1).split()


#: Raw result-field and panel names that must never head a column or label a row a reader sees.
RAW_NAMES = {"att", "se", "ci_low", "ci_high", "p_wcr", "n_first_treated_here", "lb", "ub", "did", "agg", "invest",
             "tec", "market", "term", "treated_units", "control_units", "treated_clusters", "n_changed", "lower_pct",
             "se_method", "estimator", "Mbar", "rel_time", "n_registry", "treat_year", "value"}


def test_no_raw_field_names_in_any_table(replication):
    """Headers and row labels of every table the replication writes, and the report's own tables."""
    for csv in sorted((replication / "tables").glob("*.csv")):
        frame = pd.read_csv(csv, dtype=str).fillna("")
        leaked = RAW_NAMES & {str(c).strip() for c in frame.columns}
        leaked |= RAW_NAMES & {v.strip() for v in frame.iloc[:, 0]} if len(frame.columns) else set()
        assert not leaked, (csv.name, leaked)
    html = (replication / "report.html").read_text(encoding="utf-8")
    for name in ("n_first_treated_here", "p_wcr", "ci_low", "<th>att</th>", "<th>lb</th>", "<td>agg</td>"):
        assert name not in html, name


def test_psm_balance_rows_use_the_labels_of_table_4(replication):
    baseline = pd.read_csv(replication / "tables" / "baseline.csv", dtype=str).fillna("")
    balance = pd.read_csv(replication / "tables" / "psm_balance_nearest.csv", dtype=str).fillna("")
    rows = {v for v in balance.iloc[:, 0] if v}
    assert rows and rows <= set(baseline.iloc[:, 0]), rows


def test_no_negative_zero_in_any_table(replication):
    for path in sorted((replication / "tables").glob("*.md")):
        assert not re.search(r"(?<![\w.])[-−]0(?:\.0+)?(?![\d.])", path.read_text(encoding="utf-8")), path.name


def test_twowayfeweights_table_prints_counts_as_counts():
    """The TWFE-weights table printed its cell counts as floats ('186.0000') beside the 4-decimal weights."""
    from pilotdid.estimation.staggered.dcdh import twfe_weights
    from pilotdid.report.staggered_tables import twowayfeweights_table

    panel = synthetic_staggered_panel(n_units=30, n_years=6, n_controls=1, effect=0.5, seed=3, cohorts=(2014, 2015))
    tw = twfe_weights(panel, outcome="y", unit="unit", time="year", treatment="did")
    cells = dict(twowayfeweights_table(tw, covariates=[]).text_rows())
    assert cells["treated (g,t) cells"] == str(tw.treated_cells)
    assert cells["positive weights: number"] == str(tw.n_positive)
    assert cells["negative weights: number"] == str(tw.n_negative)
    assert cells["positive weights: sum"] == f"{tw.sum_positive:.4f}"
