"""Analysis ``heterogeneity``: subgroup DID estimates (paper Table 7) and tests of their differences.

Options (``[analyses.heterogeneity]``):

* ``splits`` — a list of tables ``{name, column, labels = [first, second], titles, values, threshold, at}``
  (see :class:`pilotdid.estimation.heterogeneity.GroupSplit`). ``column`` is a panel column or a
  registry city attribute (merged on the unit when the unit is ``city_id``); required (the CBEC study file
  lists the paper's three: city size, central vs peripheral, resource-based vs not).
* ``draws`` (999) and ``seed`` (the study seed) of the permutation test; ``draws = 0`` skips it.
* ``strata`` — ``"cohort"`` (default) permutes group labels only among units with the same adoption period
  (each group keeps its treated/never-treated composition), ``"none"`` across all units. Both p-values are
  computed and shown side by side (Table 7, the forest plot's note, results.json); ``strata`` picks the one
  reported as ``p_permutation``. The stratified one is the valid comparison when the groups' treatment
  shares differ (see :data:`pilotdid.estimation.heterogeneity.STRATA_VALIDITY`).

For every split: the two subgroup regressions (study SE preset), the fully interacted model's test
of the difference, and the Fisher permutation test (raw and studentised difference) -- all weighted by
``[model] weights`` when set (every permutation draw's two fits are WLS).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.heterogeneity import (
    INTERACTED_RULE, PERMUTATION_P_RULE, STRATA_VALIDITY, GroupSplit, SplitResult, estimate_split,
)
from pilotdid.i18n import msg
from pilotdid.report.paper_tables import group_title, heterogeneity_table, p_text, permutation_tests, split_title
from pilotdid.study.analyses._common import table_list
from pilotdid.study.analyses._paper_table import fit_rows, published_for_columns, published_rows, table_style
from pilotdid.study.context import FIRST_TREAT, TREAT, AnalysisOutput, StudyContext
from pilotdid.study.results import ESTIMATE_KEYS, normalise_row
from pilotdid.study.options import check_analysis_options

WHERE = "[analyses.heterogeneity]"

def merge_attributes(ctx: StudyContext, needed: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """The panel with registry city attributes merged on the unit (only when the unit is ``city_id`` and
    a needed column is not already in the panel); notes count unmatched units."""
    panel = ctx.panel
    missing = [c for c in needed if c not in panel.columns]
    if not missing or ctx.unit != "city_id":
        return panel, []
    try:
        from pilotdid.registry.attributes import city_attributes
    except ImportError:
        return panel, ["city attributes unavailable (pilotdid.registry.attributes missing); splits must use panel columns"]
    attrs = city_attributes()
    if "city_id" not in attrs.columns:
        attrs = attrs.reset_index()
    take = ["city_id", *[c for c in attrs.columns if c in missing]]
    if len(take) == 1:
        return panel, []
    merged = panel.merge(attrs[take], on="city_id", how="left", validate="many_to_one")
    merged.index = panel.index
    notes = []
    for c in take[1:]:
        unmatched = merged.loc[merged[c].isna(), "city_id"].nunique()
        if unmatched:
            notes.append(f"city attribute '{c}': {unmatched} unit(s) of the panel have no value in the registry")
    return merged, notes


def run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    check_analysis_options("heterogeneity", options)
    draws = options.get("draws", 999)  # types, ranges and strata: declared in study/options.py, checked above
    seed = options.get("seed", ctx.seed)
    strata = options.get("strata", "cohort")
    example = 'splits = [{name = "size", column = "large_city", labels = ["large", "small"]}]'
    raw = table_list(options, "splits", WHERE, add=example, example=example)
    splits = [GroupSplit.from_options(r, f"{WHERE} splits[{k}]") for k, r in enumerate(raw)]
    names = [s.name for s in splits]
    if len(set(names)) != len(names):
        raise PilotdidInputError(f"split names repeat: {names}", where=f"{WHERE} splits", fix="give each split a unique name")
    labels = [lab for s in splits for lab in s.labels]
    if len(set(labels)) != len(labels):
        raise PilotdidInputError(f"group labels repeat across splits: {labels}", where=f"{WHERE} splits",
                                 fix="give every group a unique label (they name the table columns)")
    panel, notes = merge_attributes(ctx, [s.column for s in splits])
    m = ctx.model
    from pilotdid.estimation.twfe import fit_twfe
    from pilotdid.inference import few_clusters

    recorder = few_clusters.FitRecorder(fit_twfe, unit=ctx.unit)  # the wild bootstrap re-runs a column's regression
    results: list[SplitResult] = []
    for k, split in enumerate(splits):
        results.append(estimate_split(
            panel, split, outcome=m.outcome, treatment=TREAT, controls=m.controls, fixed_effects=m.fixed_effects,
            unit=ctx.unit, time=ctx.time, cluster=m.cluster, vcov=m.vcov, draws=draws, seed=seed,
            strata=FIRST_TREAT if strata == "cohort" else None, where=f"{WHERE} splits[{k}]", progress=ctx.progress,
            also_strata=(None,) if strata == "cohort" else (FIRST_TREAT,), fit=recorder, weights=m.weights,
        ))
        notes += results[-1].notes

    estimates: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = []
    for res in results:
        s = res.split
        for label in s.labels:
            estimates += fit_rows(res.fits[label], table="heterogeneity", column=label, treatment=TREAT,
                                  treatment_name=ctx.treatment_name, sample=f"{s.name}: {label}", outcome=m.outcome,
                                  vcov=m.vcov, extra={"split": s.name, "split_column": s.column,
                                                      "units": res.units[label], "treated_units": res.treated_units[label],
                                                      "never_treated_units": res.never_treated_units[label]})
        test = difference_record(res, ctx)
        tests.append(test)
        estimates.append(normalise_row({
            "table": "heterogeneity", "column": f"{s.labels[0]}-{s.labels[1]}",
            "term": f"{ctx.treatment_name}_difference", "coef": res.interacted["coef"], "se": res.interacted["se"],
            "t": res.interacted["t"], "p": res.interacted["p"], "ci_low": res.interacted["ci_low"],
            "ci_high": res.interacted["ci_high"], "nobs": res.interacted["nobs"],
            "n_clusters": res.interacted["n_clusters"], "vcov": m.vcov, "sample": f"{s.name}: both groups, fully interacted",
            "outcome": m.outcome, "split": s.name, "test": "interacted",
            "p_interacted": test["p_interacted"], "p_permutation": test["p_permutation"],
            "p_permutation_t": test["p_permutation_t"], "permutation_draws": test["permutation_draws"], "seed": seed,
            "permutation_strata": test["permutation_strata"],
            **{k: v for k, v in test.items() if k.startswith(("p_permutation_cohort", "p_permutation_all",
                                                               "p_permutation_t_"))},
        }, ESTIMATE_KEYS))
    wilds: dict[str, dict | None] = {}
    cells = []
    for res in results:
        for label in res.split.labels:
            wilds[label] = few_clusters.wild_for_inputs(recorder.inputs_of(res.fits[label]), TREAT,
                                                        threshold=m.few_clusters, seed=ctx.seed,
                                                        analytic_weights=m.weights)
            if wilds[label]:
                few_clusters.add_wild_to_rows(estimates, label, ctx.treatment_name, wilds[label])
                cells.append((label, wilds[label]))
    wild_notes = [few_clusters.wild_note(f"{ctx.output_ref('heterogeneity')} (subgroup columns)", ctx.treatment_name, cells, ctx.seed)] if cells else []
    notes += wild_notes
    columns = [label for res in results for label in res.split.labels]
    table = heterogeneity_table(
        results, table_style(ctx), treatment=TREAT, treatment_name=ctx.treatment_name, outcome=m.outcome,
        controls=m.controls, fixed_effects=m.fixed_effects, draws=draws, seed=seed, strata=strata,
        published=published_for_columns(ctx, "heterogeneity", columns), wilds=wilds, wild_notes=wild_notes)
    figure = forest_figure(results, ctx)
    if draws > 0:  # the forest plot's difference notes carry both permutation p-values; which one to read:
        notes.append(msg("template.note.forest_permutation", "en", ref=ctx.output_ref("heterogeneity"),
                         validity=STRATA_VALIDITY))
    return AnalysisOutput(estimates=estimates, results={"heterogeneity_tests": tests},
                          tables={table.name: table}, figures={"heterogeneity_forest": figure}, notes=notes)


def difference_record(res: SplitResult, ctx: StudyContext) -> dict[str, Any]:
    """One results.json ``heterogeneity_tests`` entry."""
    s = res.split
    perm = res.permutation.to_dict() if res.permutation else {}
    b = {lab: res.fits[lab].term(TREAT) for lab in s.labels}
    by = permutation_tests(res)
    both = {}
    for key, test in by.items():
        both[f"p_permutation_{key}"] = test.p_diff
        both[f"p_permutation_t_{key}"] = test.p_t
    share = res.treated_share
    return {
        "split": s.name, "column": s.column, "first": s.labels[0], "second": s.labels[1],
        "treated_share_first": share[s.labels[0]], "treated_share_second": share[s.labels[1]],
        **both, "strata_validity": STRATA_VALIDITY if by else None,
        "coef_first": b[s.labels[0]]["coef"], "coef_second": b[s.labels[1]]["coef"],
        "nobs_first": res.fits[s.labels[0]].nobs, "nobs_second": res.fits[s.labels[1]].nobs,
        "difference": res.difference, "difference_separate": res.separate_difference,
        "se_interacted": res.interacted["se"], "t_interacted": res.interacted["t"], "p_interacted": res.interacted["p"],
        "nobs_interacted": res.interacted["nobs"],
        "p_permutation": perm.get("p_permutation"), "p_permutation_t": perm.get("p_permutation_t"),
        "permutation_draws": perm.get("draws"), "permutation_draws_used": perm.get("draws_used"),
        "permutation_seed": perm.get("seed"), "permutation_strata": ("cohort" if perm.get("strata") else "none") if perm else None,
        "interacted_rule": INTERACTED_RULE, "permutation_rule": PERMUTATION_P_RULE if perm else None,
        "treatment": ctx.treatment_name,
    }


def forest_figure(results: list[SplitResult], ctx: StudyContext):
    from pilotdid.report.figures.forest import forest_plot

    published = {c: r.get("coef") for c, r in published_rows(ctx, "heterogeneity").items()}
    rows, diff_notes = [], {}
    for res in results:
        group = split_title(res.split.name, ctx.lang, ctx.unit_noun)
        for label, title in zip(res.split.labels, res.split.display_titles):
            t = res.fits[label].term(TREAT)
            rows.append({"column": label, "label": group_title(table_style(ctx), label, title), "group": group, "coef": t["coef"], "ci_low": t["ci_low"],
                         "ci_high": t["ci_high"], "nobs": res.fits[label].nobs})
        text = msg("heterogeneity.forest.difference", ctx.lang, d=f"{res.difference:+.4f}", p=p_text(res.interacted["p"]))
        perms = permutation_tests(res)
        if perms:
            text += msg("heterogeneity.forest.permutation", ctx.lang, p_cohort=p_text(perms["cohort"].p_diff),
                        p_all=p_text(perms["all"].p_diff),
                        shares=" / ".join(f"{res.treated_share[lab]:.0%}" for lab in res.split.labels))
        diff_notes[group] = text
    return forest_plot(rows, published=published, lang=ctx.lang, difference_notes=diff_notes,
                       title=msg("heterogeneity.forest.title", ctx.lang))
