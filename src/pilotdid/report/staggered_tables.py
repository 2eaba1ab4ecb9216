"""The tables of the heterogeneity-robust staggered estimators, each built from its result object: CS group-time
effects, the dCDH event study, the TWFE weights, stacked sub-experiments, synthetic DID by cohort, event-time
estimates by estimator, overall ATTs and the Goodman-Bacon decomposition."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pilotdid.i18n import msg, unit_words
from pilotdid.report.labels import relabel_columns, resolve_label
from pilotdid.report.table import Table

#: Marks a TWFE end-point coefficient that bins every event time beyond it (explained in the table note).
BINNED_MARK = " †"


def _fmt(coef, se):
    if coef is None or not np.isfinite(coef):
        return ""
    return f"{coef:.4f}" + (f" ({se:.4f})" if se is not None and np.isfinite(se) else "")


def cs_att_gt_table(res, *, control_group: str, est_method: str, base_period: str, anticipation: int,
                    covariates: Sequence[str], covariate_period: str, fallback_note: str, weights: str, draws: int,
                    seed: int) -> Table:
    """Callaway-Sant'Anna ATT(g,t) (:class:`pilotdid.estimation.staggered.cs.CSResult`) with its conventions."""
    gt = res.att_gt.copy()
    return Table(
        name="staggered_cs_att_gt", title="Callaway-Sant'Anna group-time average treatment effects ATT(g,t)",
        body=gt.rename(columns={"group": "cohort (g)", "time": "year (t)", "base": "base period",
                                "event_time": "t - g"}),
        notes=[f"Control group: {control_group.replace('_', ' ')}; estimation: {est_method}; base period: "
               f"{base_period}; anticipation: {anticipation}; covariates: {', '.join(covariates) or 'none'} "
               + ("(values at the earlier of each cell's two periods, as R did 2.5 and csdid)."
                  if covariate_period == "earlier" else "(values at the cohort's base period g-1)."),
               fallback_note,
               ("Multiplier bootstrap (" + weights + f", {draws} draws, seed {seed}); CIs are uniform bands "
                f"(critical value {res.bootstrap['crit']:.3f}).") if draws else
               "Analytic influence-function SEs; pointwise 95% CIs."], float_digits=4)


def dcdh_table(dyn, *, absorbing: bool, cluster: str | None, se_method: str, weights: str | None = None,
               unit_noun: str | dict = "unit") -> Table:
    """did_multiplegt_dyn's effects and placebos (:func:`pilotdid.estimation.staggered.dcdh.did_multiplegt_dyn`);
    the notes name the units as the study does (``[study] unit_noun``)."""
    words = unit_words(unit_noun)
    body = dyn.table.rename(columns={"kind": "", "l": "l", "coef": "estimate", "coef_norm": "normalised",
                                     "se_norm": "se (normalised)", "n_switchers": "switchers"})
    return Table(
        name="staggered_dcdh", title="de Chaisemartin-D'Haultfoeuille event study (did_multiplegt_dyn)",
        body=body, float_digits=4,
        notes=[msg("template.note.dcdh_effects_" + ("absorbing" if absorbing else "switching"), "en", **words),
               f"Average total effect {dyn.average_effect:.4f} (SE {dyn.average_effect_se:.4f}); joint test that "
               "all placebos are zero: p = " + (f"{dyn.p_joint_placebo:.3f}" if dyn.p_joint_placebo is not None
                                                else "n/a (fewer than two placebos)") + ".",
               se_method + (f", clustered by {cluster}." if cluster else ", clustered by unit."),
               *([msg("template.note.dcdh_cells_weighted", "en", w=weights, **words)] if weights else [])])


def twowayfeweights_table(tw, *, covariates: Sequence[str]) -> Table:
    """The TWFE coefficient's weights on the treated cells (:func:`pilotdid.estimation.staggered.dcdh.twfe_weights`)."""
    summary_rows = pd.DataFrame([
        {"": "TWFE coefficient (beta)", "value": tw.beta},
        {"": "treated (g,t) cells", "value": tw.treated_cells},
        {"": "positive weights: number", "value": tw.n_positive},
        {"": "positive weights: sum", "value": tw.sum_positive},
        {"": "negative weights: number", "value": tw.n_negative},
        {"": "negative weights: sum", "value": tw.sum_negative},
        {"": "min sd of effects compatible with beta and ATT = 0", "value": tw.sigma_fe},
        {"": "min sd of effects compatible with all effects of the other sign", "value": tw.sigma_fe_sign},
    ], dtype=object)  # object: the counts print as counts ("186"), not as floats ("186.0000")
    return Table(
        name="staggered_twowayfeweights",
        title="Weights of the TWFE coefficient on the treated cells' effects (de Chaisemartin-D'Haultfoeuille)",
        body=summary_rows, float_digits=4,
        notes=[msg("template.note.twfe_weights_note", "en", controls=", ".join(covariates)) if covariates
               else msg("template.note.twfe_weights_note_plain", "en")])


def stacked_table(st, *, window: Sequence[int]) -> Table:
    """The stacked DID's sub-experiments (:func:`pilotdid.estimation.staggered.stacked.stacked_did`)."""
    return Table(
        name="staggered_stacked_subexperiments",
        title=f"Stacked DID sub-experiments (event window [{window[0]}, {window[1]}])",
        body=st.sub_experiments.rename(columns={"control_weight": "control weight (WFH)"}), float_digits=4,
        notes=["Clean controls: never treated or first treated after the window's end. Control weight "
               "Q_a = (treated share of sub-experiment a) / (control share of a) (Wing, Freedman & "
               "Hollingsworth 2024); the static row is the weighted stacked TWFE coefficient."])


def sdid_table(sd, *, se_method: str, unit_noun: str | dict = "unit") -> Table:
    """Synthetic DID by adoption cohort (:func:`pilotdid.estimation.staggered.sdid.staggered_sdid`).

    With a bootstrap or jackknife SE and two or more cohorts, the SE of the average differs between the two
    replicate cohort-weight conventions: the table gains an average row and shows both SEs side by side, the
    headline convention's column first (a cohort's own SE, in both columns, involves no cohort weights); bootstrap
    draws missing a cohort, where the two conventions part (kept / redrawn), are counted in a note. The placebo
    SE has one convention and one cohort makes the two coincide: each is said in a note, the layout is unchanged.
    The notes name the units as the study does (``[study] unit_noun``)."""
    body = sd.cohorts
    words = unit_words(unit_noun)
    base = msg("template.note.sdid_se_replicates", "en", note=se_method, a=f"{sd.att:.4f}", se=f"{sd.se:.4f}", **words)
    notes = [base]
    # an undefined jackknife (a one-unit cohort) has no SE under either convention: nothing to set side by side
    both = sd.se_by_cohort_weights if all(np.isfinite(v) for v in sd.se_by_cohort_weights.values()) else {}
    if sd.se_method == "placebo":
        notes.append(msg("template.note.sdid_placebo_one_convention", "en", **words))
    elif both and len(body) < 2:
        notes.append(msg("template.note.sdid_one_cohort", "en"))
    elif both:
        headline, other = sd.replicate_cohort_weights, sd.other_cohort_weights
        columns = {c: f"se_cohort_weights_{c}" for c in (headline, other)}
        body = body.assign(**{columns[c]: body["se"] for c in (headline, other)}).drop(columns="se")
        # blank periods as "" (not NaN: a column of counts and NaN would be re-inferred as floats and print "3.0000")
        average = {"cohort": "Average", "treated_units": int(body.treated_units.sum()), "pre_periods": "",
                   "post_periods": "", "estimate": sd.att, "weight": 1.0,
                   **{columns[c]: both[c] for c in (headline, other)}}
        counts = {c: object for c in ("cohort", "treated_units", "pre_periods", "post_periods")}  # ints stay ints
        body = pd.concat([body.astype(counts), pd.DataFrame([average]).astype(counts)], ignore_index=True)
        notes.append(msg(f"template.note.sdid_both_{headline}", "en", r=f"{both['resampled']:.4f}",
                         f=f"{both['fixed']:.4f}", **words))
        if sd.bootstrap_draws_missing_a_cohort:  # the two conventions' draws differ: say which and how many
            notes.append(msg("template.note.sdid_bootstrap_missing_cohort", "en",
                             k=sd.bootstrap_draws_missing_a_cohort, n=sd.replications))
    return Table(name="staggered_sdid", title="Synthetic difference-in-differences by adoption cohort",
                 body=body, float_digits=4, notes=notes)


def estimator_event_table(all_rows: pd.DataFrame, *, window: Sequence[int], order: Sequence[str],
                          cs_units: Mapping[int, int] | None, min_units_e: int, fallback_note: str | None,
                          lang: str = "en", labels: Mapping[str, Any] | None = None) -> Table:
    """Event-time estimates of every estimator side by side (``all_rows``: event-study rows, one per estimator and
    event time), inside ``window``, estimators in ``order`` after TWFE; with CS, its treated units per event time."""
    shown = all_rows[(all_rows.rel_time >= window[0]) & (all_rows.rel_time <= window[1])]
    # TWFE's end points come from the event_study analysis binned (-4 means -4 or earlier): marked, never
    # printed as if they were the single event time the other estimators estimate
    binned = shown["binned"].fillna(False).astype(bool) if "binned" in shown.columns else pd.Series(False, index=shown.index)
    wide = (shown.assign(cell=[_fmt(c, s) + (BINNED_MARK if b else "")
                               for c, s, b in zip(shown.coef, shown.se, binned)])
            .pivot_table(index="rel_time", columns="estimator", values="cell", aggfunc="first").reset_index())
    wide = wide[["rel_time"] + [e for e in ("twfe", *order) if e in wide.columns]]
    if cs_units is not None:  # how many treated units each CS event-time estimate rests on
        wide["cs treated units"] = [str(cs_units[int(k)]) if int(k) in cs_units else "" for k in wide["rel_time"]]
    lo, hi = int(shown.rel_time.min()), int(shown.rel_time.max())
    binned_note = ([f"{BINNED_MARK} TWFE at the window's ends is the binned coefficient: {lo} means {lo} or earlier "
                    f"(≤{lo}), +{hi} means +{hi} or later (≥+{hi}); the other estimators estimate that event time "
                    "alone."] if binned.any() else [])
    return Table(
        name="staggered_event_study", title="Event-time estimates by estimator: coefficient (SE)",
        body=relabel_columns(wide, lang, labels),
        notes=["Reference period -1 is normalised to zero for TWFE, SA and CS (universal base); BJS pre-period "
               "values are mean imputation residuals (no normalisation). dCDH: effect l is drawn at event time "
               "l-1 and placebo l at -l-1, both measured from the year before treatment (-1)."]
        + ([f"cs treated units: the treated units (of the cohorts observed at that event time) behind each CS "
            f"estimate; event times resting on fewer than {min_units_e} are flagged in the notes.", fallback_note]
           if cs_units is not None else []) + binned_note)


def overall_att_table(aggregates: list[dict[str, Any]], *, fallback_note: str | None, extra_notes: Sequence[str] = (),
                      lang: str = "en", labels: Mapping[str, Any] | None = None) -> Table:
    """One overall ATT per estimator (``aggregates``: results.json aggregate rows) with each SE's method."""
    overall = pd.DataFrame(aggregates)
    return Table(
        name="staggered_overall_att", title="Overall average treatment effect on the treated by estimator",
        body=relabel_columns(overall[["estimator", "type", "att", "se", "ci_low", "ci_high", "se_method"]]
                             .assign(estimator=lambda f: [resolve_label(e, lang) for e in f["estimator"]],
                                     type=lambda f: [resolve_label(t, lang) for t in f["type"]]),
                             lang, labels),
        float_digits=4, wrap_columns=(0, 1, 6),  # estimator, comparison and SE method: running text
        notes=["cs simple = cohort-size weighted average of post-treatment ATT(g,t); sa/bjs = the same estimand; "
               "twfe static = the TWFE DID coefficient (a variance-weighted average that can carry negative weights); "
               "dcdh average_total_effect = did_multiplegt_dyn's effects averaged with their numbers of switchers; "
               "etwfe simple = the cohort-year effects averaged over treated observations (etwfe's emfx; the group and "
               "calendar aggregates are in results.json); stacked static = the WFH-weighted stacked TWFE coefficient; "
               "sdid = synthetic DID of the listed cohorts (post-period average, never-treated donors)."]
        + ([fallback_note] if fallback_note is not None else []) + list(extra_notes))


def bacon_tables(b) -> dict[str, Table]:
    """The Goodman-Bacon decomposition (:func:`pilotdid.estimation.staggered.bacon.bacon_decomposition`): by
    comparison type, and every 2x2 comparison."""
    return {
        "staggered_bacon": Table(
            name="staggered_bacon", title="Goodman-Bacon decomposition of the TWFE coefficient (no controls)",
            body=b.by_type[["type", "weight", "estimate"]], float_digits=4,
            notes=[f"Weights sum to {b.comparisons.weight.sum():.6f}; weighted estimates sum to the TWFE coefficient "
                   f"{b.twfe:.6f} (balanced panel, no controls)."]),
        "staggered_bacon_comparisons": Table(
            name="staggered_bacon_comparisons", title="Goodman-Bacon decomposition: every 2x2 comparison",
            body=b.comparisons, float_digits=4),
    }
