"""Analysis ``staggered``: heterogeneity-robust estimators side by side with TWFE.

Options (``[analyses.staggered]``):

- ``estimators = ["cs", "sa", "bjs", "bacon"]`` (the default; any subset of those and ``"dcdh"``,
  ``"twowayfeweights"``, ``"etwfe"``, ``"stacked"``, ``"sdid"``);
- ``sdid_cohorts = [2015, 2016]`` (default: every adoption cohort) and ``sdid_replications = 200``: synthetic DID
  cohort by cohort against the never-treated units (no covariates), averaged by treated unit-years;
  ``sdid_se = "placebo"`` (or ``"bootstrap"``, ``"jackknife"``: synthdid's three SEs);
  ``sdid_cohort_weights = "resampled"`` (Stata sdid: each bootstrap/jackknife replicate re-weights the cohorts by
  its own sizes) or ``"fixed"`` (the sample's cohort weights: the SE conditional on cohort sizes) is the headline
  SE of the average; with two or more cohorts the table and results.json show the other beside it;
- ``stacked_window = [-3, 2]``: the event window of the stacked DID's sub-experiments (cohorts whose window does
  not fit inside the panel are left out and named); ``stacked_fixed_effects = "sub_experiment"`` (unit and event
  time, each x sub-experiment) or ``"wfh"`` (treated group and event time, as Wing-Freedman-Hollingsworth's
  tutorial): the same coefficients on a balanced panel without covariates, different SEs;
- ``control_group = "never_treated"`` or ``"not_yet_treated"`` (Callaway-Sant'Anna);
- ``est_method = "dr"`` (``"dr"``, ``"ipw"``, ``"reg"``; Callaway-Sant'Anna with covariates);
- ``ps_fallback = "reg"`` (or ``"none"``): what a CS cell whose logit propensity score fails the separation test
  (``cs.PS_TEST``; typically a cohort of a handful of units) gets. ``"reg"``: outcome regression, the half of the
  doubly robust estimator that exists there, so every aggregate keeps the estimand (all treated cohorts);
  ``"none"``: NA as R did/csdid, and the aggregates average the remaining cells only (a different, smaller
  population of cohorts). The default is named in every CS table note with the count of such cells, and
  the aggregates under the other choice are reported beside it (results.json ``cs_ps_fallback``);
- ``covariate_period = "earlier"`` (R did 2.5 / csdid: covariates at the earlier of a cell's two periods) or
  ``"base"`` (always the cohort's base period g-1); they differ only for universal-base pre-period cells
  with time-varying covariates;
- ``balance_e`` (none): CS dynamic aggregation on the cohorts observed at every event time 0..balance_e
  (R's ``balance_e``); ``min_units_e = 5``: event times resting on fewer treated units are flagged;
- ``base_period = "universal"`` (or ``"varying"``): universal makes CS pre-period estimates comparable
  with TWFE/SA's reference period -1 (and is what HonestDiD needs); post-period estimates are the same;
- ``anticipation = 0``;
- ``draws = 999`` multiplier-bootstrap draws for CS (0 = analytic influence-function SEs),
  ``weights = "rademacher"`` (or ``"mammen"``), ``seed`` (default: the study seed);
- ``covariates = "controls"`` (the model's controls; CS takes them as ``covariate_period`` says) or ``"none"``;
- ``window = [-4, 4]``: event times shown in the figure and table (estimates are not binned); it also sets
  how many did_multiplegt_dyn effects (``hi + 1``: event times 0..hi) and placebos (``-lo - 1``) are estimated;
- ``"dcdh"`` is de Chaisemartin-D'Haultfoeuille's ``did_multiplegt_dyn`` (not-yet-switched controls, the
  treatment's first change; clustered by the model's cluster) and ``"twowayfeweights"`` their diagnostic of the
  TWFE coefficient's weights on the treated cells (with the model's controls); ``"etwfe"`` is Wooldridge's
  extended TWFE as R ``etwfe`` fits it (cohort and year fixed effects, the controls interacted), with
  never-treated controls when ``control_group = "never_treated"`` and not-yet-treated ones otherwise.

The robust estimators need a balanced panel: units not observed (or with a missing outcome or
covariate) in every period are dropped here, counted in the notes.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.staggered import registry as staggered_registry
from pilotdid.i18n import msg
from pilotdid.report.staggered_tables import (
    bacon_tables, cs_att_gt_table, dcdh_table, estimator_event_table, overall_att_table, sdid_table, stacked_table,
    twowayfeweights_table,
)
from pilotdid.study.analyses._common import balanced_sample, parse_window, require_absorbing, staggered_design
from pilotdid.study.context import FIRST_TREAT, TREAT, AnalysisOutput, StudyContext
from pilotdid.study.results import AGGREGATE_KEYS, EVENT_STUDY_KEYS, normalise_row
from pilotdid.study.options import check_analysis_options

#: the TWFE event-study rows are taken from the event_study analysis when it ran (study/runner.py)
READS_OUTPUTS = ("event_study",)
#: The estimators, their order and defaults: one registry (a new one = a module + an entry there).
ESTIMATORS = staggered_registry.NAMES
DEFAULT_ESTIMATORS = staggered_registry.DEFAULTS


#: estimators that accept a treatment switching on and off (the others code event time from the first treatment)
NON_ABSORBING = ("dcdh", "twowayfeweights")
DCDH_SE = "did_multiplegt_dyn influence-function SE (cohort-demeaned, the authors' conservative default)"


def run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    from pilotdid.estimation.staggered import cs
    from pilotdid.estimation.staggered.bacon import bacon_decomposition
    from pilotdid.estimation.staggered.twfe import twfe_event_study
    from pilotdid.report.figures.bacon import bacon_figure
    from pilotdid.report.figures.estimator_comparison import estimator_comparison_figure

    name = "staggered"
    check_analysis_options("staggered", options)
    # types, ranges and allowed values are declared in study/options.py (checked above); the checks below are
    # those no declaration expresses (an empty list, a window's shape, what the data allow)
    estimators = options.get("estimators", list(DEFAULT_ESTIMATORS))
    if not estimators:
        raise PilotdidInputError("estimators is empty", where=f"[analyses.{name}] estimators",
                                 fix=f"a non-empty list drawn from {list(ESTIMATORS)}")
    # a treatment that switches off again: only the estimators built for it run (and the static TWFE beside them)
    absorbing = ctx.extras.get("data_summary", {}).get("absorbing", True)
    if not absorbing and set(estimators) - set(NON_ABSORBING):
        require_absorbing(ctx, name)
    control_group = options.get("control_group", "never_treated")
    est_method = options.get("est_method", "dr")
    base_period = options.get("base_period", "universal")
    weights = options.get("weights", "rademacher")
    cov_choice = options.get("covariates", "controls")
    ps_fallback = options.get("ps_fallback", "none")
    covariate_period = options.get("covariate_period", "earlier")
    anticipation = options.get("anticipation", 0)
    draws = options.get("draws", 999)
    seed = options.get("seed", ctx.seed)
    min_units_e = options.get("min_units_e", cs.MIN_UNITS_E)
    balance_e = options.get("balance_e")
    window = parse_window(options, name)
    covariates = list(ctx.model.controls) if cov_choice == "controls" else []
    outcome = ctx.model.outcome
    data, notes = balanced_sample(ctx, [outcome, *covariates])
    cluster = ctx.model.cluster if ctx.model.cluster and ctx.model.cluster != ctx.unit else None
    kw = dict(outcome=outcome, unit=ctx.unit, time=ctx.time, first_treat=FIRST_TREAT)

    results_es: dict[str, Any] = {}
    aggregates: list[dict] = []
    tables: dict[str, Any] = {}
    figures: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if "cs" in estimators:
        ctx.progress("staggered: Callaway-Sant'Anna", 0, 1)
        res, aggs, es = cs.event_study(data, **staggered_design(ctx), covariates=covariates,
                                       control_group=control_group, est_method=est_method, base_period=base_period,
                                       anticipation=anticipation, draws=draws, weights=weights, seed=seed,
                                       ps_fallback=ps_fallback, covariate_period=covariate_period,
                                       balance_e=balance_e, min_units_e=min_units_e, other_fallback=True)
        results_es["cs"] = es
        notes += [n for n in [*res.notes, *aggs["dynamic"].notes]
                  if not (res.fallback_cells and n == cs.fallback_note(res)) and "lacks" not in n]
        fallback = cs.fallback_report(res, aggs)
        fallback_note = cs.fallback_summary(res, aggs, covariates=covariates, est_method=est_method)
        if fallback:
            extra["cs_ps_fallback"] = fallback
            notes.append(fallback_note)
        extra["cs_event_time_units"] = [
            {"rel_time": int(r.event_time), "n_units": int(r.n_units), "n_cohorts": int(r.n_cohorts)}
            for r in aggs["dynamic"].detail.itertuples()]
        for t in ("simple", "group", "calendar", "dynamic"):
            a = aggs[t]
            aggregates.append({"estimator": "cs", "type": t, "att": a.att, "se": a.se, "ci_low": a.ci_low,
                               "ci_high": a.ci_high, "se_method": a.se_method})
        tables["staggered_cs_att_gt"] = cs_att_gt_table(
            res, control_group=control_group, est_method=est_method, base_period=base_period,
            anticipation=anticipation, covariates=covariates, covariate_period=covariate_period,
            fallback_note=fallback_note, weights=weights, draws=draws, seed=seed)
        ctx.progress("staggered: Callaway-Sant'Anna", 1, 1)
    if "dcdh" in estimators:
        from pilotdid.estimation.staggered import dcdh

        ctx.progress("staggered: de Chaisemartin-D'Haultfoeuille", 0, 1)
        dyn = dcdh.did_multiplegt_dyn(data, outcome=outcome, unit=ctx.unit, time=ctx.time, treatment=TREAT,
                                      effects=window[1] + 1, placebo=max(-window[0] - 1, 0), cluster=cluster,
                                      weight=ctx.model.weights)
        notes += dyn.notes
        results_es["dcdh"] = dyn
        aggregates.append({"estimator": "dcdh", "type": "average_total_effect", "att": dyn.average_effect,
                           "se": dyn.average_effect_se, "ci_low": dyn.average_effect - 1.959963984540054 * dyn.average_effect_se,
                           "ci_high": dyn.average_effect + 1.959963984540054 * dyn.average_effect_se,
                           "se_method": DCDH_SE + (f", clustered by {cluster}" if cluster else ", by unit")})
        extra["dcdh"] = {"p_joint_placebo": dyn.p_joint_placebo, "effects": dyn.table.to_dict("records"),
                         "average_effect": dyn.average_effect, "average_effect_se": dyn.average_effect_se}
        tables["staggered_dcdh"] = dcdh_table(dyn, absorbing=absorbing, cluster=cluster, se_method=DCDH_SE,
                                              weights=ctx.model.weights, unit_noun=ctx.unit_noun)
        ctx.progress("staggered: de Chaisemartin-D'Haultfoeuille", 1, 1)
    if "twowayfeweights" in estimators:
        from pilotdid.estimation.staggered import dcdh

        tw = dcdh.twfe_weights(data, outcome=outcome, unit=ctx.unit, time=ctx.time, treatment=TREAT,
                               controls=covariates, weight=ctx.model.weights)
        extra["twowayfeweights"] = tw.summary()
        tables["staggered_twowayfeweights"] = twowayfeweights_table(tw, covariates=covariates)
        notes.append(msg("template.note.twfe_weights", "en", b=f"{tw.beta:.4f}", n=tw.treated_cells, m=tw.n_negative,
                         s=f"{tw.sum_negative:.4f}", sd=f"{tw.sigma_fe:.4f}", **ctx.unit_words()))
    if "etwfe" in estimators:
        from pilotdid.estimation.staggered.etwfe import etwfe

        ctx.progress("staggered: extended TWFE", 0, 1)
        et = etwfe(data, **kw, covariates=covariates,
                   control_group="never" if control_group == "never_treated" else "notyet", cluster=cluster,
                   weights=ctx.model.weights)
        results_es["etwfe"] = et.event_study()
        notes += et.notes
        simple = et.aggregates["simple"].iloc[0]
        aggregates.append({"estimator": "etwfe", "type": "simple", "att": simple.att, "se": simple.se,
                           "ci_low": simple.ci_low, "ci_high": simple.ci_high, "se_method": et.se_method})
        extra["etwfe"] = {"control_group": et.control_group, "cells": et.cells.to_dict("records"),
                          **{k: v.to_dict("records") for k, v in et.aggregates.items()}}
        ctx.progress("staggered: extended TWFE", 1, 1)
    if "stacked" in estimators:
        from pilotdid.estimation.staggered.stacked import stacked_did

        sw = options.get("stacked_window", [-3, 2])
        if not (len(sw) == 2 and sw[0] <= -2 and sw[1] >= 0):
            raise PilotdidInputError(f"stacked_window = {sw!r}", where=f"[analyses.{name}] stacked_window",
                                     fix="two integers [lo, hi] with lo <= -2 and hi >= 0, e.g. [-3, 2]")
        st = stacked_did(data, **kw, window=(sw[0], sw[1]), covariates=covariates, cluster=cluster,
                         weights=ctx.model.weights,
                         fixed_effects=options.get("stacked_fixed_effects", "sub_experiment"))
        results_es["stacked"] = st.event_study
        notes += st.notes
        aggregates.append({"estimator": "stacked", "type": "static", "att": st.static_att, "se": st.static_se,
                           "ci_low": st.static_att - 1.959963984540054 * st.static_se,
                           "ci_high": st.static_att + 1.959963984540054 * st.static_se,
                           "se_method": st.event_study.se_method})
        extra["stacked"] = {"window": list(st.window), "sub_experiments": st.sub_experiments.to_dict("records")}
        tables["staggered_stacked_subexperiments"] = stacked_table(st, window=sw)
    if "sdid" in estimators:
        from pilotdid.estimation.staggered.sdid import REPLICATE_COHORT_WEIGHTS, staggered_sdid

        sdid_cohorts = options.get("sdid_cohorts")
        reps = options.get("sdid_replications", 200)
        if sdid_cohorts is not None and not sdid_cohorts:
            raise PilotdidInputError(f"sdid_cohorts = {sdid_cohorts!r}", where=f"[analyses.{name}] sdid_cohorts",
                                     fix="a list of adoption years, e.g. [2015, 2016]")
        ctx.progress("staggered: synthetic DID", 0, 1)
        sdid_se = options.get("sdid_se", "placebo")
        sdid_cohort_weights = options.get("sdid_cohort_weights", REPLICATE_COHORT_WEIGHTS[0])
        sd = staggered_sdid(data, outcome=outcome, unit=ctx.unit, time=ctx.time, first_treat=FIRST_TREAT,
                            cohorts=sdid_cohorts, replications=reps, seed=seed, se_method=sdid_se,
                            replicate_cohort_weights=sdid_cohort_weights)
        notes += sd.notes
        # the SE's method as the overall-ATT table and the SDID table name it (with its cohort-weight convention)
        sd_method = (f"placebo ({reps} draws, seed {seed}; cohorts re-assigned to never-treated units)"
                     if sdid_se == "placebo" else
                     msg(f"template.note.sdid_{sdid_se}_se_{sdid_cohort_weights}", "en", n=reps, s=seed,
                         **ctx.unit_words()))
        aggregates.append({"estimator": "sdid", "type": "cohorts " + "/".join(str(c) for c in sd.cohorts.cohort),
                           "att": sd.att, "se": sd.se, "ci_low": sd.att - 1.959963984540054 * sd.se,
                           "ci_high": sd.att + 1.959963984540054 * sd.se, "se_method": sd_method})
        extra["sdid"] = sd.record()
        tables["staggered_sdid"] = sdid_table(sd, se_method=sd_method, unit_noun=ctx.unit_noun)
        ctx.progress("staggered: synthetic DID", 1, 1)
    # every registry entry with a generic fit (sa, bjs, ...): event-time rows and its overall ATT
    for entry in staggered_registry.ENTRIES:
        if entry.fit is not None and entry.name in estimators:
            es = staggered_registry.fit(entry.name, data, **kw, covariates=covariates, cluster=ctx.model.cluster,
                                        **({"weights": ctx.model.weights} if ctx.model.weights else {}))
            results_es[entry.name] = es
            notes += es.notes
            aggregates.append({**es.aggregate_row(entry.aggregate_type), "se_method": es.se_method})

    # TWFE: reuse the event_study analysis when it ran (no duplicate rows), else fit the unbinned version.
    if absorbing:
        twfe = twfe_event_study(data, **kw, covariates=covariates, cluster=ctx.model.cluster, weights=ctx.model.weights)
        notes += [n for n in twfe.notes if n not in notes]  # e.g. units treated from the first period left out
        aggregates.append({**twfe.aggregate_row("static"), "se_method": twfe.se_method})
        prior = ctx.outputs.get("event_study")
        prior_rows = [r for r in (prior.results.get("event_study", []) if prior else []) if r.get("estimator") == "twfe"]
        twfe_rows = prior_rows or twfe.event_rows()
    else:  # no event time for a treatment that switches off: the static TWFE on the 0/1 treatment only
        from pilotdid.estimation.twfe import fit_twfe

        static = fit_twfe(data, outcome, [TREAT, *covariates], [ctx.unit, ctx.time], ctx.model.cluster or ctx.unit,
                          vcov=ctx.model.vcov, weights=ctx.model.weights).term(TREAT)
        aggregates.append({"estimator": "twfe", "type": "static", "att": static["coef"], "se": static["se"],
                           "ci_low": static["ci_low"], "ci_high": static["ci_high"],
                           "se_method": f"CRV1 ({ctx.model.vcov} preset) on the 0/1 treatment (not absorbing)"})
        prior_rows, twfe_rows = [], []
        notes.append("The treatment switches off again in some units: only did_multiplegt_dyn and twowayfeweights "
                     "(built for it) and the static TWFE coefficient are reported.")
    if prior_rows:
        notes.append("TWFE event-study points are the event_study analysis's (binned at the window's ends, full "
                     "sample); the static TWFE coefficient is re-estimated on the staggered estimators' sample.")

    event_rows = [r for e in staggered_registry.EVENT_STUDY if e in results_es
                  for r in results_es[e].event_rows()]
    all_rows = pd.DataFrame(event_rows + twfe_rows)
    es_rows_out = [normalise_row(r, EVENT_STUDY_KEYS) for r in event_rows]
    if not prior_rows:
        es_rows_out += [normalise_row(r, EVENT_STUDY_KEYS) for r in twfe_rows]
    if len(all_rows):
        cs_units = {r["rel_time"]: r["n_units"] for r in extra.get("cs_event_time_units", [])}
        figures["staggered_estimator_comparison"] = estimator_comparison_figure(all_rows, lang=ctx.lang, window=window,
                                                                                units=cs_units or None)
        tables["staggered_event_study"] = estimator_event_table(
            all_rows, window=window, order=staggered_registry.EVENT_STUDY,
            cs_units=cs_units if "cs" in results_es else None,
            min_units_e=min_units_e, fallback_note=fallback_note if "cs" in results_es else None, lang=ctx.lang,
            labels=ctx.extras.get("labels"))
    tables["staggered_overall_att"] = overall_att_table(
        aggregates, fallback_note=fallback_note if "cs" in results_es else None,
        extra_notes=[f"{name} SE of the {key} ATT: {alt['se']:.4f} (the se column is {results_es[key].se_method})."
                     for key in ("bjs",) if key in results_es for name, alt in results_es[key].alternative_se.items()],
        lang=ctx.lang, labels=ctx.extras.get("labels"))

    if "bacon" in estimators:
        bdata, bnotes = balanced_sample(ctx, [outcome])
        b = bacon_decomposition(bdata, **kw)
        notes += bnotes
        notes.append(f"Goodman-Bacon: weight on forbidden comparisons (already-treated units as controls) = "
                     f"{b.forbidden_weight:.3f}; TWFE without controls = {b.twfe:.4f}.")
        extra["bacon"] = {"twfe": b.twfe, "forbidden_weight": b.forbidden_weight,
                          "by_type": b.by_type.to_dict("records"), "comparisons": b.comparisons.to_dict("records")}
        tables.update(bacon_tables(b))
        figures["staggered_bacon"] = bacon_figure(b, lang=ctx.lang)

    for e in estimators:
        notes.append(staggered_registry.REGISTRY[e].guard(ctx.lang, ctx.unit_noun))
    return AnalysisOutput(
        results={"event_study": es_rows_out,
                 "aggregates": [normalise_row(a, AGGREGATE_KEYS) for a in aggregates], **extra},
        tables=tables, figures=figures, notes=notes)
