"""Analysis ``honest``: HonestDiD sensitivity of the event-study effect to violations of parallel trends.

Options (``[analyses.honest]``):

- ``method = "RM"`` (relative magnitudes, C-LF hybrid confidence sets) or ``"SD"`` (smoothness, FLCI);
- ``grid``: values of Mbar (RM; default [0, 0.5, 1, 1.5, 2]) or M (SD; default 0..sd of the first post
  coefficient in 6 steps);
- ``source = "cs"`` (Callaway-Sant'Anna dynamic aggregation, universal base period, as HonestDiD's
  authors recommend for staggered adoption) or ``"twfe"`` (TWFE event study, reference -1);
- ``target = "first"`` (effect in the adoption year) or ``"average"`` (mean of the post-period effects);
- ``window = [-4, 4]``: event times used (pre: window start .. -2; post: 0 .. window end);
- ``control_group``, ``covariates`` (``"controls"``/``"none"``), ``ps_fallback`` (``"none"``/``"reg"``),
  ``covariate_period`` (``"earlier"``/``"base"``): as in ``[analyses.staggered]``.
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
    from pilotdid.inference import honest
    from pilotdid.report.figures.honest import honest_figure
    from pilotdid.report.sensitivity import honest_table

    name = "honest"
    check_analysis_options("honest", options)
    require_absorbing(ctx, name)
    # method, source, target, control_group, covariates, ps_fallback, covariate_period: declared values, checked above
    method = options.get("method", "RM").upper()
    restriction = {"RM": honest.RELATIVE_MAGNITUDES, "SD": honest.SMOOTHNESS}[method]
    source = options.get("source", "cs")
    target = options.get("target", "first")
    control_group = options.get("control_group", "never_treated")
    cov_choice = options.get("covariates", "controls")
    ps_fallback = options.get("ps_fallback", "none")
    covariate_period = options.get("covariate_period", "earlier")
    seed = options.get("seed", ctx.seed)  # the study seed, as every analysis (was 0: the docs promised the study seed)
    window = parse_window(options, name)
    covariates = list(ctx.model.controls) if cov_choice == "controls" else []
    data, notes = balanced_sample(ctx, [ctx.model.outcome, *covariates])
    es, cs_res = sensitivity_event_study(ctx, data, source, covariates, seed=seed, control_group=control_group,
                                         ps_fallback=ps_fallback, covariate_period=covariate_period)
    if cs_res is not None:
        fallback = cs_res.fallback_cells
        cov_at = "the earlier of each cell's two periods" if covariate_period == "earlier" else "the base period"
        lacking = (f"; {len(fallback)} cells without a propensity score: "
                   + ("NA, as R did" if ps_fallback == "none" else "outcome regression")) if fallback else ""
        src_text = ("Callaway-Sant'Anna dynamic aggregation (universal base period, analytic influence-function "
                    f"covariance; ps_fallback = \"{ps_fallback}\", default \"none\"; covariates at {cov_at}{lacking})")
        notes += es.notes
    else:
        src_text = "TWFE event study (reference -1, unbinned, CRV1 covariance)"
    grid = options.get("grid")
    if grid is not None and (not grid or any(g < 0 for g in grid)):  # a list of numbers (declared)
        raise PilotdidInputError(f"grid = {grid!r}", where="[analyses.honest] grid", fix="a list of non-negative numbers")
    src_text += sensitivity_weighting(ctx)
    res = honest.event_study_sensitivity(es, window, restriction=restriction, target=target, grid=grid, seed=seed)
    est, lo, hi = res.original
    table, summary = honest_table(res, method=method, target=target, src_text=src_text, window=window)
    notes.append(summary)
    notes.append(msg("guard.honest", ctx.lang))
    return AnalysisOutput(
        results={"honest": {"restriction": restriction, "method": res.method, "source": source, "target": target,
                            "estimate": est, "original_ci": [lo, hi], "breakdown": res.breakdown,
                            "grid": res.table[["M", "lb", "ub"]].to_dict("records")}},
        tables={table.name: table}, figures={f"honest_{method.lower()}": honest_figure(res, lang=ctx.lang)}, notes=notes)
