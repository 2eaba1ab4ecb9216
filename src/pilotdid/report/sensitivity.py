"""Tables and summary lines of the parallel-trends sensitivity analyses (HonestDiD, pre-trend power), built from
their result objects (:class:`pilotdid.inference.honest.HonestResult`,
:class:`pilotdid.inference.pretrends.PretrendsPower`); the analyses only choose the inputs and name the source."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pilotdid.report.table import Table


def honest_table(res, *, method: str, target: str, src_text: str, window: tuple[int, int]) -> tuple[Table, str]:
    """The robust-set table of a HonestDiD result and its one-line summary for the report's notes."""
    est, lo, hi = res.original
    mname = "Mbar" if res.restriction == "relative_magnitudes" else "M"
    body = pd.concat([pd.DataFrame([{"M": "original", "lb": lo, "ub": hi, "method": "conventional"}]),
                      res.table.assign(M=res.table.M.map(lambda v: f"{v:g}"))[["M", "lb", "ub", "method"]]])
    bd_text = "none (even the smallest value's set includes 0)" if res.breakdown is None else f"{res.breakdown:.3g}"
    table = Table(name=f"honest_{method.lower()}", title=f"HonestDiD sensitivity ({res.method}) of the "
                  f"{'adoption-year' if target == 'first' else 'average post-period'} effect",
                  body=body.rename(columns={"M": mname}), float_digits=4,
                  notes=[f"Source: {src_text}; {res.num_pre} pre and {res.num_post} post coefficients "
                         f"(window {list(window)}).",
                         f"Point estimate {est:.4f}; breakdown {mname} (largest value whose robust set excludes 0): "
                         f"{bd_text}."])
    return table, f"HonestDiD {res.method}: breakdown {mname} = {bd_text}."


def pretrends_table(analysis, *, src_text: str) -> tuple[Table, str]:
    """The power table of a pre-trend power analysis and its one-line summary for the report's notes."""
    res, slopes, power = analysis.result, analysis.slopes, analysis.power
    body = res.table.assign(bias=lambda d: np.where(d.t >= 0, d.mean_after_pretest - d.delta, np.nan),
                            t=lambda d: d.t.round().astype(int))  # event times print as -4, not -4.0000
    table = Table(
        name="pretrends_power", title=f"Power of the pre-trend test against a linear trend ({power:.0%} power)",
        body=body.rename(columns={"t": "event time", "betahat": "estimate", "delta": "hypothesised trend",
                                  "mean_after_pretest": "expected if pre-test passes"}), float_digits=4,
        notes=[f"Source: {src_text}; pre-test: any of the {analysis.num_pre} pre-period coefficients with |t| > 1.96.",
               "Slope of a linear violation detected with probability 50%: "
               f"{slopes[0.5]:.4f}; 80%: {slopes[0.8]:.4f} (per year, outcome units).",
               f"Against the {power:.0%}-power trend: Bayes factor {res.bayes_factor:.3f} (P(pass | trend) / "
               f"P(pass | parallel trends)), likelihood ratio {res.likelihood_ratio:.3f}; the trend alone would "
               f"produce post-period estimates averaging {analysis.mean_after_pretest_post:.4f} among "
               f"studies passing the pre-test (observed average {analysis.observed_post_mean:.4f}).",
               "Roth (2022, AER: Insights), as R pretrends (power by the multivariate normal box probability)."])
    summary = (f"Pre-trend power: a linear pre-trend of slope {slopes[0.5]:.4f} per year would go undetected half "
               f"the time (80% power: {slopes[0.8]:.4f}); such an undetected {power:.0%}-power trend would "
               f"account for {analysis.mean_after_pretest_post:.4f} of the post-period estimates "
               f"(observed average {analysis.observed_post_mean:.4f}).")
    return table, summary
