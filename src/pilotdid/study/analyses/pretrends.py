"""Analysis ``pretrends``: power of the pre-trend test (Roth 2022; R ``pretrends``).

Options (``[analyses.pretrends]``):

- ``source = "twfe"`` (the TWFE event study, reference -1, unbinned, CRV1 covariance: the paper's pre-test) or
  ``"cs"`` (Callaway-Sant'Anna dynamic aggregation, universal base period);
- ``window = [-4, 4]``: event times used (pre: window start .. -2; post: 0 .. window end);
- ``power = 0.8``: the power of the linear violation analysed (the slopes for 50% and 80% are always reported).

Reported: the slope of a linear violation of parallel trends that the pre-test (any pre-period |t| > 1.96)
detects with 50% and 80% probability; for the chosen one, the Bayes factor and likelihood ratio of
``pretrends``, the expected post-period estimates conditional on passing the pre-test, and their bias
(that expectation minus the trend) -- how much of the estimated effect such an undetected trend could produce.
"""

from __future__ import annotations

from typing import Any


from pilotdid.errors import PilotdidInputError
from pilotdid.i18n import msg
from pilotdid.study.analyses._common import (balanced_sample, parse_window, require_absorbing,
                                             sensitivity_event_study, sensitivity_weighting)
from pilotdid.study.context import AnalysisOutput, StudyContext
from pilotdid.study.options import check_analysis_options


def run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    from pilotdid.inference import pretrends as pt
    from pilotdid.report.figures.pretrends import pretrends_figure
    from pilotdid.report.sensitivity import pretrends_table

    name = "pretrends"
    check_analysis_options("pretrends", options)
    require_absorbing(ctx, name)
    source = options.get("source", "twfe")  # declared values, checked above
    window = parse_window(options, name)
    if window[0] > -2:
        raise PilotdidInputError(f"window = {list(window)} has no pre-period coefficient to test (-1 is the reference)",
                                 where=f"[analyses.{name}] window", fix="start the window at -2 or earlier, e.g. [-4, 4]")
    power = options.get("power", 0.8)  # a number (declared); above the test's size and below 1
    if not 0.06 < power < 1:
        raise PilotdidInputError(f"power = {power!r}", where=f"[analyses.{name}] power",
                                 fix="a probability above the test's size, e.g. 0.8")
    covariates = list(ctx.model.controls)
    data, notes = balanced_sample(ctx, [ctx.model.outcome, *covariates])
    es, _ = sensitivity_event_study(ctx, data, source, covariates, seed=ctx.seed)
    if source == "cs":
        src_text = "Callaway-Sant'Anna dynamic aggregation (universal base period, analytic covariance)"
    else:
        src_text = "TWFE event study (reference -1, unbinned, CRV1 covariance)"
    src_text += sensitivity_weighting(ctx)
    analysis = pt.event_study_power(es, window, power)
    res, slopes = analysis.result, analysis.slopes
    table, summary = pretrends_table(analysis, src_text=src_text)
    notes.append(summary)
    notes.append(msg("guard.pretrends", ctx.lang))
    fig = pretrends_figure(res.table, slope=slopes[float(power)], power=float(power), lang=ctx.lang)
    return AnalysisOutput(
        results={"pretrends": {"source": source, "window": list(window),
                               "slope_for_power": {f"{p:g}": s for p, s in slopes.items()},
                               "power": res.power, "bayes_factor": res.bayes_factor,
                               "likelihood_ratio": res.likelihood_ratio,
                               "mean_after_pretest_post": analysis.mean_after_pretest_post,
                               "bias_post": analysis.bias_post.tolist(), "observed_post_mean": analysis.observed_post_mean,
                               "table": res.table.to_dict("records")}},
        tables={table.name: table}, figures={"pretrends_power": fig}, notes=notes)
