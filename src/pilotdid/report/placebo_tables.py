"""The placebo tables: the summary of the staggered placebo draws and the in-time placebo."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pilotdid.report.table import Table


def placebo_summary_table(result, *, draws: int, kind: str, seed: int, notes: list[str]) -> Table:
    """``result`` (:class:`pilotdid.inference.placebo.PlaceboResult`) as a two-column summary: the actual estimate,
    the draws' mean, SD and quantiles, and the plus-one p-values; ``notes`` (the conventions; the list itself, which
    the analysis also reports) under it."""
    pv = result.p_values
    summary = pd.DataFrame([
        ["Actual estimate (coef)", f"{result.actual_coef:.4f}"],
        ["Actual t", f"{result.actual_t:.3f}"],
        ["Placebo draws", f"{draws} ({kind}, seed {seed})"],
        ["Mean of placebo coefficients", f"{result.mean:.4f}"],
        ["SD of placebo coefficients", f"{result.sd:.4f}"],
        ["2.5% / 97.5% quantiles", f"{np.quantile(result.coefs, 0.025):.4f} / {np.quantile(result.coefs, 0.975):.4f}"],
        ["p two-sided (coef, plus-one)", f"{pv['p_two_sided']:.4f}"],
        ["share |placebo| >= |actual| (coef)", f"{pv['p_two_sided_share']:.4f}"],
        ["p one-sided (coef, plus-one)", f"{pv['p_one_sided']:.4f}"],
        ["p two-sided (t, plus-one)", f"{pv['p_two_sided_t']:.4f}"],
    ], columns=["Statistic", "Value"])
    return Table(name="placebo_summary", title="Placebo test: summary", body=summary, notes=notes)


def in_time_table(in_time: pd.DataFrame, *, vcov: str) -> Table:
    """The in-time placebo (one row per shift: adoption moved k periods earlier, pre-treatment rows only)."""
    body = pd.DataFrame({
        "Pretend adoption earlier by": [f"{int(s)} period(s)" for s in in_time["shift"]],
        "Coefficient": [f"{c:.4f}" for c in in_time["coef"]],
        "t": [f"{t:.3f}" for t in in_time["t"]],
        "p": [f"{p:.3f}" for p in in_time["p"]],
        "N (pre-treatment rows)": in_time["nobs"].astype(int),
        "Fake-treated rows": in_time["fake_treated_obs"].astype(int),
    })
    return Table(
        name="placebo_in_time", title="In-time placebo: adoption moved earlier, pre-treatment periods only",
        body=body, notes=["Sample: all periods of never-treated units and the periods before actual adoption of "
                          "treated units; fake treatment = 1 from (adoption year − k) on. Same controls, fixed "
                          f"effects and SE preset '{vcov}' as the baseline."])
