"""Analysis ``placebo``: staggered placebo draws (paper Figure 2) and an in-time placebo.

Options (``[analyses.placebo]``):

* ``draws`` (1000), ``seed`` (the study seed), ``kind`` ("permute_cohorts" or "random_years"),
  ``block_size`` (draws per memory block; results do not depend on it);
* ``in_time`` — shifts k for the in-time placebo (pretend adoption k periods earlier, on
  pre-treatment periods only): a list of integers, ``true`` for [1, 2, 3], ``false`` to skip
  (default [1, 2]).

The model is the study's: outcome on the treatment and controls with its fixed effects, SEs with
the small-sample factor of the study's preset (taken from the actual fit by ``fit_twfe``), so the
placebo t statistics are on the same scale as the baseline's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pilotdid.errors import PilotdidInputError
from pilotdid.inference.placebo import PlaceboDesign, in_time_placebo
from pilotdid.report.placebo_tables import in_time_table, placebo_summary_table
from pilotdid.study.analyses._common import require_absorbing
from pilotdid.study.context import FIRST_TREAT, TREAT, AnalysisOutput, StudyContext
from pilotdid.study.results import PLACEBO_KEYS, normalise_row
from pilotdid.study.options import check_analysis_options


def _shifts(options: dict) -> list[int]:
    value = options.get("in_time", [1, 2])
    if value is False:
        return []
    if value is True:
        return [1, 2, 3]
    if isinstance(value, int):  # true/false, an integer or a list of integers (declared)
        value = [value]
    if any(v < 1 for v in value):
        raise PilotdidInputError(f"in_time must be true/false or a list of positive integers, got {value!r}",
                                 where="[analyses.placebo] in_time", fix="e.g. in_time = [1, 2]")
    return value


def run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    from pilotdid.estimation.twfe import fit_twfe
    from pilotdid.estimation.twfe.covariance import get_preset

    check_analysis_options("placebo", options)
    require_absorbing(ctx, "placebo")
    draws = options.get("draws", 1000)  # types, ranges and the kinds: declared in study/options.py, checked above
    seed = options.get("seed", ctx.seed)
    block_size = options.get("block_size")
    kind = options.get("kind", "permute_cohorts")
    shifts = _shifts(options)
    m = ctx.model
    panel = ctx.panel.copy()
    cluster = m.cluster
    if cluster is None:  # heteroskedasticity-robust = one cluster per row
        panel["_row_cluster"] = np.arange(len(panel))
        cluster = "_row_cluster"
    preset = get_preset(m.vcov)
    actual = fit_twfe(panel, m.outcome, [TREAT, *m.controls], m.fixed_effects, m.cluster, vcov=m.vcov,
                      weights=m.weights)
    design = PlaceboDesign.prepare(
        panel, outcome=m.outcome, unit=ctx.unit, time=ctx.time, first_treat=FIRST_TREAT, treatment=TREAT,
        controls=m.controls, fixed_effects=m.fixed_effects, cluster=cluster, drop_singletons=preset.drop_singletons,
        weights=m.weights,
    )
    result = design.run(kind=kind, draws=draws, seed=seed, block_size=block_size,
                        ssc_factor=actual.small_sample_factor, progress=ctx.progress,
                        jobs=ctx.jobs, scheduler=ctx.extras.get("scheduler"))
    baseline = actual.term(TREAT)
    if not np.isclose(result.actual_coef, baseline["coef"], rtol=1e-8, atol=1e-12):
        raise RuntimeError(f"placebo: actual coefficient {result.actual_coef} differs from fit_twfe's "
                           f"{baseline['coef']}: the two designs disagree")
    entry = normalise_row(result.to_results(), PLACEBO_KEYS)
    entry["vcov"] = m.vcov
    notes = [
        f"Placebo: {draws} draws ({kind}: " + (
            "adoption years shuffled across units, cohort sizes kept" if kind == "permute_cohorts" else
            "as many units as are treated, chosen at random, each with an adoption year drawn uniformly from the "
            "periods after the first") + f"), seed {seed}; each draw re-estimates the full model "
        f"(controls and fixed effects) by Frisch–Waugh–Lovell"
        + (f", weighted by {m.weights} (analytic weights: weighted within transformation, WLS)" if m.weights else "")
        + f"; SEs use the '{m.vcov}' small-sample factor {result.ssc_factor:.4f}.",
        f"p-values: {entry['p_value_rule']}; one-sided p in the direction of the actual estimate's sign.",
        *result.notes,
    ]
    tables = {"placebo_summary": placebo_summary_table(result, draws=draws, kind=kind, seed=seed, notes=notes)}
    estimates: list[dict[str, Any]] = []
    results: dict[str, Any] = {"placebo": entry}
    if shifts:
        in_time = in_time_placebo(panel, outcome=m.outcome, unit=ctx.unit, time=ctx.time, first_treat=FIRST_TREAT,
                                  shifts=shifts, controls=m.controls, fixed_effects=m.fixed_effects, cluster=m.cluster,
                                  vcov=m.vcov, weights=m.weights, keep_fits=True)
        for shift, fit in zip(in_time["shift"], in_time["fit"]):
            estimates += fit.estimate_rows("placebo_in_time", f"shift_{int(shift)}", sample="pre_treatment",
                                           treatment_term="_fake_did")
        tables["placebo_in_time"] = in_time_table(in_time, vcov=m.vcov)
        results["placebo_in_time"] = in_time.drop(columns=["fit"]).to_dict(orient="records")
    from pilotdid.report.figures.placebo import placebo_figure

    fig = placebo_figure(result, lang=ctx.lang)
    return AnalysisOutput(estimates=estimates, results=results, tables=tables, figures={"placebo": fig},
                          notes=notes)

