"""Analysis ``matching``: propensity-score matching as its own analysis (the ATT on one period of the panel).

The PSM-DID of ``[analyses.robustness]`` matches unit-periods and runs the DID on the matched rows; this
analysis is the classic cross-sectional matching study (R ``Matching::Match``, MatchIt, Stata ``teffects
psmatch``): one period of the panel, the ATT of the treatment on the outcome with Abadie-Imbens standard errors,
and the balance table before/after matching. Every convention is in :mod:`pilotdid.estimation.matching`.

Options (``[analyses.matching]``): ``period`` (default: the last period), ``treatment`` ("current": the row's
0/1 treatment in that period; "ever": treated at any time in the panel), ``outcome`` (the study's),
``covariates`` (the study's controls), ``covariate_period`` (covariates measured in this period instead, e.g. a
pre-treatment year; default: the matching period), ``methods`` (nearest, radius, kernel), ``k`` (1),
``replacement`` (true), ``ties`` (true), ``caliper`` (none), ``radius`` (0.01), ``bandwidth`` (0.06), ``exact``
(columns matched exactly), ``common_support`` (false), ``variance`` ("robust"; "homoskedastic"; "estimated_score":
the Abadie-Imbens 2016 adjustment for the estimated logit, Stata teffects psmatch's default), ``variance_neighbors``
(2), ``distance_tolerance`` (1e-5).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.i18n import msg
from pilotdid.report.labels import relabel_columns, resolve_label
from pilotdid.report.table import Table
from pilotdid.study.context import FIRST_TREAT, TREAT, AnalysisOutput, StudyContext
from pilotdid.study.options import check_analysis_options

#: the table's name of the SE behind t, p and the CI (its column header: SE (AI robust), ...)
SE_NAMES = {"robust": "AI robust", "homoskedastic": "AI homoskedastic", "estimated_score": "AI 2016"}
_TREATED_COLUMN = "_matching_treated"


def nearest_note(nearest: dict[str, Any], distance_tolerance: float, lang: str = "en") -> str:
    """How nearest-neighbour matching was run, as set (before, the note always said 'with replacement and ties,
    distance.tolerance 1e-5', whatever the study chose); radius and kernel as they always are."""
    if not nearest["replacement"]:
        how = msg("matching.note.without_replacement", lang, software=msg("matching.note.psm_name", lang))
    elif nearest["ties"]:
        how = msg("matching.note.ties", lang, code="R Match ties", tolerance_option="distance.tolerance",
                  tolerance=distance_tolerance, yes="TRUE")
    else:
        how = msg("matching.note.no_ties", lang, code="R Match ties", no="FALSE")
    caliper = msg("matching.note.caliper", lang, caliper=nearest["caliper"]) if nearest.get("caliper") is not None else ""
    return msg("matching.note.nearest", lang, k=nearest["k"], how=how, caliper=caliper, kernel="Epanechnikov")


def _period_frame(ctx: StudyContext, options: dict[str, Any], covariates: list[str]) -> tuple[pd.DataFrame, str, int]:
    panel = ctx.panel
    periods = sorted(panel[ctx.time].dropna().unique())
    period = options.get("period", periods[-1])
    where = "[analyses.matching]"
    if period not in periods:
        raise PilotdidInputError(f"period = {period!r} is not a period of the panel", where=f"{where} period",
                                 fix=f"one of {periods[0]}..{periods[-1]}")
    treatment = options.get("treatment", "current")
    frame = panel.loc[panel[ctx.time] == period].copy()
    frame[_TREATED_COLUMN] = (frame[TREAT] > 0 if treatment == "current" else frame[FIRST_TREAT] > 0).astype(float)
    n_treated = int(frame[_TREATED_COLUMN].sum())
    if n_treated == 0 or n_treated == len(frame):
        raise PilotdidInputError(f"period {period}: {'no' if n_treated == 0 else 'every'} unit is treated "
                                 f"({treatment!r} treatment), nothing to match", where=f"{where} period",
                                 fix="choose a period with treated and untreated units, or treatment = \"ever\"")
    cov_period = options.get("covariate_period")
    if cov_period is not None and cov_period != period:
        if cov_period not in periods:
            raise PilotdidInputError(f"covariate_period = {cov_period!r} is not a period of the panel",
                                     where=f"{where} covariate_period", fix=f"one of {periods[0]}..{periods[-1]}")
        base = panel.loc[panel[ctx.time] == cov_period, [ctx.unit, *covariates]]
        frame = frame.drop(columns=covariates).merge(base, on=ctx.unit, how="left")
    return frame, treatment, int(period)


def run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    from pilotdid.design.psm import MATCH_METHODS
    from pilotdid.estimation.matching import matching_att

    name = "matching"
    check_analysis_options("matching", options)
    covariates = list(options.get("covariates", ctx.model.controls))
    outcome = options.get("outcome", ctx.model.outcome)
    for col in [outcome, *covariates, *options.get("exact", [])]:
        if col not in ctx.panel.columns:
            raise PilotdidInputError(f"column {col!r} not in the panel", where=f"[analyses.{name}]",
                                     fix="check outcome / covariates / exact against the panel's columns")
    # treatment, estimand, methods and variance: their allowed values are declared (study/options.py) and checked above
    methods = list(options.get("methods", MATCH_METHODS))
    if not methods:
        raise PilotdidInputError("methods is empty: no matching method to run", where=f"[analyses.{name}] methods",
                                 fix=f"e.g. methods = {list(MATCH_METHODS)}")
    variance = options.get("variance", "robust")
    estimand = options.get("estimand", "att")
    frame, treatment, period = _period_frame(ctx, options, covariates)
    seed = int(options.get("seed", ctx.seed))
    common = dict(outcome=outcome, treat=_TREATED_COLUMN, covariates=covariates, exact=list(options.get("exact", [])),
                  common_support=bool(options.get("common_support", False)), variance=variance,
                  variance_neighbors=int(options.get("variance_neighbors", 2)),
                  distance_tolerance=float(options.get("distance_tolerance", 1e-5)), seed=seed, estimand=estimand)
    per_method = {
        "nearest": dict(method="nearest", k=int(options.get("k", 1)), replacement=bool(options.get("replacement", True)),
                        ties=bool(options.get("ties", True)), caliper=options.get("caliper")),
        "radius": dict(method="radius", caliper=float(options.get("radius", 0.01))),
        "kernel": dict(method="kernel", bandwidth=float(options.get("bandwidth", 0.06))),
    }
    results = {m: matching_att(frame, **common, **per_method[m]) for m in methods}
    labels = ctx.extras.get("labels")
    rows = []
    for m, r in results.items():
        lo, hi = r.ci
        label = f"{resolve_label(m, ctx.lang, labels)}" + (f" 1:{r.settings['k']}" if m == "nearest" else "")
        rows.append({"method": label, estimand: r.att, "se_robust": r.se_robust, "se_homoskedastic": r.se_homoskedastic,
                     "se_estimated_score": np.nan if r.se_estimated_score is None else r.se_estimated_score,
                     "t": r.t, "p": r.p, "ci_low": lo, "ci_high": hi,
                     "n_treated_matched": f"{r.n_treated_matched} / {r.n_treated}",
                     "n_controls_used": f"{r.n_controls_used} / {r.n_controls}"})
    first = next(iter(results.values()))
    j = first.settings["variance_neighbors"]
    treated_words = msg(f"matching.note.treated_{treatment}", ctx.lang)  # treatment: current or ever (declared)
    notes = [
        msg("matching.note.cross_section", ctx.lang, period=period, n=len(frame),
            treated=treated_words,
            covariates=msg("common.name_separator", ctx.lang).join(covariates),
            covariate_period=msg("matching.note.covariates_of", ctx.lang, period=options["covariate_period"])
            if options.get("covariate_period") not in (None, period) else msg("matching.note.covariates_same", ctx.lang),
            estimand=msg(f"matching.note.{estimand}", ctx.lang, name=estimand.upper())),
        msg("matching.note.se", ctx.lang, se=msg(f"matching.note.se_{variance}", ctx.lang, abbr="AI"), j=j,
            robust=msg("matching.note.se_robust", ctx.lang, abbr="AI"),
            homoskedastic=msg("matching.note.se_homoskedastic", ctx.lang, abbr="AI"),
            ai2016=msg("matching.note.se_estimated_score", ctx.lang, abbr="AI"), ai=msg("matching.note.ai_name", ctx.lang),
            sigma=msg("matching.note.sigma", ctx.lang),
            r_matching="R Matching", var_calc="Var.calc", teffects="teffects psmatch", vce=f"vce(robust, nn({j + 1}))"),
        nearest_note(per_method["nearest"], common["distance_tolerance"], ctx.lang),
    ]
    for m, r in results.items():
        notes += [msg("matching.note.method_note", ctx.lang, method=msg(f"matching.method.{m}", ctx.lang), note=n)
                  for n in r.notes_in(ctx.lang)]
    table = Table(name="matching_att", title=f"Propensity-score matching: {estimand.upper()} on "
                                             f"{ctx.display_name(outcome)} "
                                             f"({period})",
                  body=relabel_columns(pd.DataFrame(rows), ctx.lang, labels), float_digits=4, notes=notes)
    tables = {table.name: table}
    for m, r in results.items():
        tables[f"matching_balance_{m}"] = _balance_table(r, m, ctx)
    estimates = [r.estimate_row(table="matching", column=m, sample=f"period {period}") for m, r in results.items()]
    summary = {m: r.summary_dict() for m, r in results.items()}
    parts = [msg("matching.note.summary_method", ctx.lang, method=msg(f"matching.method.{m}", ctx.lang),
                 estimand=estimand.upper(), att=r.att, se=r.se, p=r.p, n_treated=r.n_treated_matched,
                 n_controls=r.n_controls_used) for m, r in results.items()]
    out_notes = [msg("matching.note.summary", ctx.lang, period=period,
                     treated=treated_words,
                     parts=msg("matching.note.summary_separator", ctx.lang).join(parts))]
    return AnalysisOutput(estimates=estimates,
                          results={"matching": {"period": period, "treatment": treatment, "estimand": estimand,
                                                "variance": variance,
                                                "covariates": covariates, "by_method": summary}},
                          tables=tables, notes=out_notes)


def _balance_table(result, method: str, ctx: StudyContext) -> Table:
    b = result.balance
    rows = []
    for r in b.itertuples():
        label = ctx.display_name(r.variable)
        rows.append([label, "Unmatched", r.mean_treated_unmatched, r.mean_control_unmatched, r.bias_pct_unmatched,
                     np.nan, r.var_ratio_unmatched, r.t_unmatched, r.p_unmatched])
        rows.append(["", "Matched", r.mean_treated_matched, r.mean_control_matched, r.bias_pct_matched,
                     r.bias_reduction_pct, r.var_ratio_matched, r.t_matched, r.p_matched])
    body = pd.DataFrame(rows, columns=["Variable", "Sample", "Mean treated", "Mean control", "% bias",
                                       "% reduction |bias|", "V(T)/V(C)", "t", "p>|t|"])
    return Table(name=f"matching_balance_{method}",
                 title=f"Balance before and after matching ({resolve_label(method, ctx.lang, ctx.extras.get('labels'))})",
                 body=body, float_digits=3,
                 notes=["Standardised % bias = 100·(mean_T − mean_C)/sqrt((var_T + var_C)/2) with the unmatched "
                        "variances (pstest); matched controls weighted by how often they are used; V(T)/V(C): "
                        "variance ratio, matched controls' variance with the matching weights as analytic weights "
                        "(pstest); matched t-test from a weighted regression on the treatment dummy."])
