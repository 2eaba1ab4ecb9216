"""Analysis ``robustness``: the paper's Table 5 (six columns) plus cheap referee checks.

Table 5 columns, every one with the study's controls, fixed effects and SE preset:

1. ``psm_nearest`` — PSM-DID, 1:k nearest neighbour (k = 3, with replacement);
2. ``psm_radius`` — PSM-DID, radius matching (caliper 0.01);
3. ``psm_kernel`` — PSM-DID, Epanechnikov kernel (bandwidth 0.06, psmatch2's default);
4. ``concurrent_policy`` — a concurrent policy's dummy added as a regressor (a registry policy named by
   ``concurrent_policy`` or a panel column ``concurrent_column``; left out when neither is given);
5. ``lagged`` — the treatment lagged one period (Stata ``L.``);
6. ``winsorised`` — outcome and controls winsorised at 1%/99% (two tails, pooled).

PSM: logit score of the row's treatment dummy on the controls, pooled over all periods (the
paper's N fit this reading; ``psm_pooling = "by_period"`` matches within periods), common
support, then the TWFE regression on the matched rows. Which regression is a convention that decides
the reading, so both are in the table: ``psm_weighting = "matched_rows"`` (default) is the unweighted
regression on the matched rows, Stata's ``reghdfe ... if _weight != .`` after psmatch2 — the practice
in this literature and the reading under which the paper's N is the matched-row count; ``"weights"``
weights the rows by psmatch2's ``_weight``. The chosen one is the column's DID row beside the published
numbers, the other the row below it (results.json columns ``*_weighted`` / ``*_unweighted``). N is
given before and after the preset's singleton removal (see :mod:`pilotdid.design.psm`).

Referee checks (second table): winsorised at 5%/95%; without municipalities and provincial
capitals; without the periods ``drop_periods`` (when given; its column key and header are
``drop_periods_name`` and ``drop_periods_label``).

Nothing here is specific to one study: the CBEC study file names Broadband China as the concurrent policy and the
COVID years as the dropped periods.

Options (``[analyses.robustness]``): ``psm_k`` (3), ``psm_replacement`` (true), ``psm_caliper``
(none for nearest neighbour), ``radius_caliper`` (0.01), ``kernel_bandwidth`` (0.06),
``psm_pooling`` ("pooled"), ``psm_weighting`` ("matched_rows"), ``concurrent_policy`` (none),
``concurrent_column`` (a 0/1 panel column to use instead of the registry), ``capital_column``
(a boolean panel column marking municipalities and provincial capitals, used when the registry's
city attributes are unavailable), ``drop_periods`` (none), ``drop_periods_name`` ("drop_periods"),
``drop_periods_label`` ("Without periods ..."), ``winsorize`` ([1, 5]).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pilotdid.design.lag import lag_column
from pilotdid.design.psm import psm_match
from pilotdid.design.samples import drop_flagged_units, drop_periods
from pilotdid.design.winsorize import winsorize
from pilotdid.errors import PilotdidInputError
from pilotdid.i18n import cite, msg
from pilotdid.report.robustness_tables import (
    PSM_ROW_LABEL, RobustnessColumn, balance_table, robustness_table, winsorising_table,
)
from pilotdid.study.context import FIRST_TREAT, TREAT, AnalysisOutput, StudyContext
from pilotdid.study.options import allowed_values, check_analysis_options

PSM_WEIGHTING = allowed_values("robustness", "psm_weighting")  # ("matched_rows", "weights"), declared once
#: results.json column suffix of the PSM regression under the convention not chosen
PSM_OTHER_SUFFIX = {"matched_rows": "_weighted", "weights": "_unweighted"}


#: ctx.extras key of the run's FitRecorder (inference/few_clusters.py): the wild bootstrap re-runs a column's regression
_RECORDER = "_robustness_fits"


def _fit(frame: pd.DataFrame, ctx: StudyContext, regressors: list[str], weights: str | None = None):
    from pilotdid.estimation.twfe import fit_twfe

    m = ctx.model
    fit = ctx.extras.get(_RECORDER) or fit_twfe
    return fit(frame, m.outcome, regressors, m.fixed_effects, m.cluster, m.vcov, weights=weights)


def _fit_matched(sample: pd.DataFrame, ctx: StudyContext, regressors: list[str], key: str, weights: str | None = None):
    """The DID on a PSM matched sample; a failure names the matching and the matched sample, not just [model]."""
    try:
        return _fit(sample, ctx, regressors, weights=weights)
    except PilotdidInputError as exc:
        cause = str(exc).split(" -- fix:")[0]
        treated = int(sample[TREAT].sum()) if TREAT in sample.columns else 0
        raise PilotdidInputError(
            f"{key}: the DID on the matched sample ({len(sample)} rows, {treated} treated, "
            f"{sample[ctx.unit].nunique()} units) failed: {cause}", where="[analyses.robustness]",
            fix="the matching kept too few or too similar rows: widen the caliper (psm_caliper / radius_caliper), "
                "raise psm_k, or check the controls used in the score",
        ) from None


def _policy_dummy(ctx: StudyContext, options: dict) -> tuple[pd.Series | None, str, list[str]]:
    """The concurrent policy's 0/1 dummy, where it came from (or None and why not), and the registry's
    caveats for it (which the table must print)."""
    column = options.get("concurrent_column")
    if column:
        if column not in ctx.panel.columns:
            raise PilotdidInputError(f"column {column!r} not in the panel", where="[analyses.robustness] concurrent_column",
                                     fix="name a 0/1 column of the panel")
        return pd.to_numeric(ctx.panel[column], errors="coerce"), f"panel column {column!r}", []
    policy = options.get("concurrent_policy")
    try:
        from pilotdid.registry.treatment import policy_dummy
    except ImportError:
        return None, "the registry's policy_dummy is not available in this installation", []
    try:
        series = policy_dummy(ctx.panel, ctx.unit, ctx.time, policy)
    except PilotdidInputError as exc:
        return None, f"registry policy {policy!r}: {exc}", []
    caveats = [str(c) for c in series.attrs.get("caveats", [])]
    caveats += [f"{policy} assignment: {n}" for n in series.attrs.get("notes", []) if str(n) not in caveats]
    return (pd.Series(np.asarray(series, dtype=float), index=ctx.panel.index), f"registry policy {policy!r}",
            caveats)


def capital_flag(ctx: StudyContext, options: dict) -> tuple[pd.Series | None, str]:
    """Per-row flag of municipalities and provincial capitals, and where it came from.

    From the panel column ``options["capital_column"]`` when given, else from the registry's city attributes
    (unit = city_id). Shared by the robustness checks and the specification curve's ``drop_capitals`` sample.
    """
    column = options.get("capital_column")
    if column:
        if column not in ctx.panel.columns:
            raise PilotdidInputError(f"column {column!r} not in the panel", where="[analyses.robustness] capital_column",
                                     fix="name a boolean column marking municipalities and provincial capitals")
        return ctx.panel[column].astype(bool), f"panel column {column!r}"
    try:
        from pilotdid.registry.attributes import city_attributes
    except ImportError:
        return None, "no city attributes available (pilotdid.registry.attributes) and no capital_column option"
    attrs = city_attributes()
    # only a city identifier keys the registry's attributes (a unit column that happens to share the name of
    # another attribute, e.g. "region", is not a city id)
    key = next((c for c in ("city_id", "city", "city_name") if c in attrs.columns and c == ctx.unit), None)
    flag_cols = [c for c in ("is_municipality", "is_provincial_capital") if c in attrs.columns]
    if key is None or not flag_cols:
        return None, (f"city attributes have no {ctx.unit!r} key or no is_municipality/is_provincial_capital flags "
                      f"(columns: {', '.join(map(str, attrs.columns))})")
    flags = attrs.set_index(key)[flag_cols].fillna(False).astype(bool).any(axis=1)
    mapped = ctx.panel[ctx.unit].map(flags)
    unknown = int(mapped.isna().sum())
    return mapped.fillna(False).astype(bool), ("registry city attributes" +
                                              (f" ({unknown} rows of units without attributes kept)" if unknown else ""))


def run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    from pilotdid.estimation.twfe import fit_twfe
    from pilotdid.inference.few_clusters import FitRecorder

    check_analysis_options("robustness", options)
    ctx.extras[_RECORDER] = FitRecorder(fit_twfe, unit=ctx.unit)
    try:
        return _run(ctx, options)
    finally:
        ctx.extras.pop(_RECORDER, None)


def _run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    m = ctx.model
    term = ctx.treatment_name
    k = int(options.get("psm_k", 3))
    pooling = options.get("psm_pooling", "pooled")  # declared values, checked in run()
    weighting = options.get("psm_weighting", "matched_rows")
    panel = ctx.panel.copy()
    panel[term] = panel[TREAT].astype(float)
    regressors = [term, *m.controls]
    notes: list[str] = []
    columns: list[RobustnessColumn] = []
    extra_estimates: list[dict[str, Any]] = []
    tables: dict[str, Any] = {}
    figures: dict[str, Any] = {}
    results: dict[str, Any] = {}

    # --- (1)-(3) PSM-DID ---------------------------------------------------------------------------
    psm_specs = [
        ("psm_nearest", dict(method="nearest", k=k, replacement=bool(options.get("psm_replacement", True)),
                             caliper=options.get("psm_caliper"))),
        ("psm_radius", dict(method="radius", caliper=float(options.get("radius_caliper", 0.01)))),
        ("psm_kernel", dict(method="kernel", bandwidth=float(options.get("kernel_bandwidth", 0.06)))),
    ]
    psm_summaries = {}
    for key, spec in psm_specs:
        match = psm_match(panel, treat=TREAT, covariates=m.controls, pooling=pooling, time=ctx.time, seed=ctx.seed,
                          **spec)
        sample = panel.loc[match.matched].copy()
        sample["_psm_weight"] = match.weight[match.matched]
        by_rows = _fit_matched(sample, ctx, regressors, key)
        by_weights = _fit_matched(sample, ctx, regressors, key, weights="_psm_weight")
        fit, other = (by_rows, by_weights) if weighting == "matched_rows" else (by_weights, by_rows)
        other_weighting = "weights" if weighting == "matched_rows" else "matched_rows"
        extra_estimates += other.estimate_rows("robustness", f"{key}{PSM_OTHER_SUFFIX[weighting]}", sample=key,
                                               treatment_term=term)
        summary = match.summary()
        both = {w: {"coef": float(f.term(term)["coef"]), "se": float(f.term(term)["se"]), "t": float(f.term(term)["t"]),
                    "p": float(f.term(term)["p"]), "nobs": int(f.nobs)}
                for w, f in (("matched_rows", by_rows), ("weights", by_weights))}
        psm_summaries[key] = {**summary, "weighting": weighting, "n_regression": int(fit.nobs),
                              "singletons_dropped": int(fit.singletons_dropped or 0), **both,
                              "balance": match.balance.to_dict(orient="records")}
        dropped = (f"; the regression drops {fit.singletons_dropped} singleton rows (preset '{m.vcov}'), "
                   f"leaving {fit.nobs}" if getattr(fit, "singletons_dropped", 0) else "")
        columns.append(RobustnessColumn(
            key, spec["method"], term, fit, sample=key, alt_fit=other, alt_label=other_weighting,
            note=f"{key}: {summary['treated_on_support']} of {summary['treated_rows']} treated rows "
                 f"on support, {summary['controls_used']} of {summary['controls_total']} control "
                 f"rows used; N = {summary['n_matched']} matched rows{dropped}"))
        tables[f"psm_balance_{spec['method']}"] = balance_table(match)
        figures[f"psm_pscore_{spec['method']}"] = _pscore_figure(match, ctx.lang)
        notes += match.notes
    results["psm"] = psm_summaries
    reading = _psm_reading(psm_summaries, weighting, ctx.output_ref("robustness"))
    results["psm_weighting"] = {"default": "matched_rows", "used": weighting, "reading": reading}
    notes.append(_psm_reading(psm_summaries, weighting, ctx.output_ref("robustness"), ctx.lang))

    # --- (4) concurrent policy (its registry caveats, e.g. an incomplete batch, go to the notes) -------------
    policy = options.get("concurrent_policy")
    if policy is None and not options.get("concurrent_column"):
        notes.append(msg("table.robustness.no_concurrent_policy", ctx.lang, policy="concurrent_policy",
                         column="concurrent_column", section="analyses.robustness"))
    else:
        dummy, source, caveats = _policy_dummy(ctx, options)
        notes += caveats
        concurrent_term = f"{policy}_pilot" if not options.get("concurrent_column") else options["concurrent_column"]
        if dummy is None:
            columns.append(RobustnessColumn("concurrent_policy", "concurrent", term, None,
                                            note=f"column (4) not estimated: {source}"))
        else:
            frame = panel.copy()
            frame[concurrent_term] = dummy.to_numpy(float)
            fit = _fit(frame, ctx, [term, concurrent_term, *m.controls])
            treated_rows = int((frame[concurrent_term] > 0).sum())
            columns.append(RobustnessColumn(
                "concurrent_policy", "concurrent", term, fit, extra_terms=(concurrent_term,),
                note=f"column (4): {concurrent_term} from {source}; {treated_rows} rows = 1"))

    # --- (5) lagged treatment ----------------------------------------------------------------------
    lag_name = f"L.{term}"
    lagged, report = lag_column(panel, ctx.unit, ctx.time, term, 1, name=lag_name)
    fit = _fit(lagged.loc[lagged[lag_name].notna()], ctx, [lag_name, *m.controls])
    columns.append(RobustnessColumn("lagged", "lagged", lag_name, fit, note=report.note(), sample="lagged"))

    # --- (6) winsorised 1% + referee 5% ----------------------------------------------------------------
    levels = options.get("winsorize", [1, 5])
    win_reports = []
    referee: list[RobustnessColumn] = []
    continuous = [m.outcome, *m.controls]
    for pct in levels:
        frame, counts = winsorize(panel, continuous, pct / 100, 1 - pct / 100)
        counts.insert(0, "level", f"{pct}%/{100 - pct}%")
        win_reports.append(counts)
        fit = _fit(frame, ctx, regressors)
        changed = ", ".join(f"{r.variable} {r.n_changed}" for r in counts.itertuples())
        col = RobustnessColumn(
            "winsorised" if pct == levels[0] else f"winsorised_{pct}", f"winsorised {pct}%", term, fit,
            note=f"winsorised at {pct}%/{100 - pct}% (two tails, pooled over all rows): values changed — {changed}",
            sample=f"winsorised_{pct}")
        (columns if pct == levels[0] else referee).append(col)
    if win_reports:
        counts = pd.concat(win_reports, ignore_index=True)
        tables["winsorising_counts"] = winsorising_table(counts)
        results["winsorising"] = counts.to_dict(orient="records")

    # --- referee checks -------------------------------------------------------------------------------
    flag, flag_source = capital_flag(ctx, options)
    if flag is None:
        notes.append(f"Check without municipalities and provincial capitals not run: {flag_source}.")
    else:
        cut = drop_flagged_units(panel, ctx.unit, flag, description="municipalities and provincial capitals dropped",
                                 first_treat=FIRST_TREAT)
        fit = _fit(cut.frame, ctx, regressors)
        referee.append(RobustnessColumn("no_capitals", "no capitals", term, fit,
                                        note=cut.note() + f" (flags: {flag_source})", sample="no_capitals"))
    periods = options.get("drop_periods")
    if periods:
        key = options.get("drop_periods_name", "drop_periods")
        cut = drop_periods(panel, ctx.time, periods, unit=ctx.unit, description=f"periods {periods} dropped")
        if len(cut.frame) < len(panel):
            late = sorted(int(g) for g in cut.frame.loc[cut.frame[FIRST_TREAT] > 0, FIRST_TREAT].unique()
                          if g >= min(periods))
            fit = _fit(cut.frame, ctx, regressors)
            referee.append(RobustnessColumn(
                key, options.get("drop_periods_label", f"Without periods {periods}"), term, fit, sample=key,
                note=cut.note() + (f"; cohorts {late} have no treated period left and act as "
                                   "not-yet-treated controls" if late else "")))
        else:
            notes.append(f"Drop-periods check: periods {periods} are not in the panel; nothing dropped.")

    # --- output -----------------------------------------------------------------------------------------
    estimates = []
    for col in columns + referee:
        if col.fit is not None:
            estimates += col.fit.estimate_rows("robustness", col.key, sample=col.sample, treatment_term=col.term)
        else:
            estimates.append({"table": "robustness", "column": col.key, "term": col.term, "sample": col.sample,
                              "vcov": m.vcov, "outcome": m.outcome})
    estimates += extra_estimates
    wild_notes = {key: _few_clusters_wild(ctx, cols, estimates, label)
                  for key, cols, label in (("robustness", columns, ctx.output_ref("robustness")),
                                           ("robustness_referee", referee, "the further checks"))}
    published = [r for r in (ctx.extras.get("published") or {}).get("robustness", []) if isinstance(r, dict)]
    style = {"k": k, "treatment_name": ctx.treatment_name, "controls": m.controls, "fixed_effects": m.fixed_effects,
             "lang": ctx.lang, "study_labels": ctx.extras.get("labels")}
    tables["robustness"] = robustness_table(
        "robustness", "Robustness checks", columns, published, **style,
        # the concurrent policy's registry caveats stay in the report's notes for this section (full provenance);
        # under the table: what each column did and the conventions
        notes=list(dict.fromkeys([c.note for c in columns if c.note] + _conventions(columns, ctx, weighting, pooling)
                                 + wild_notes["robustness"])),
    )
    if referee:
        tables["robustness_referee"] = robustness_table(
            "robustness_referee", "Further robustness checks (not in the paper)", referee, [], **style,
            notes=[c.note for c in referee if c.note] + _conventions(referee, ctx, weighting, pooling)[:1]
            + wild_notes["robustness_referee"],
        )
    return AnalysisOutput(estimates=estimates, results={"robustness": results}, tables=tables, figures=figures,
                          notes=list(dict.fromkeys(notes)))


def _few_clusters_wild(ctx: StudyContext, columns: list[RobustnessColumn], estimates: list[dict],
                       label: str) -> list[str]:
    """Below ``[model] few_clusters`` clusters: each column's wild cluster restricted bootstrap p and CI of its DID
    term, on its estimate row (results.json p_wild, ci_wild_*), in the table (``col.wild``) and in one note."""
    from pilotdid.inference import few_clusters

    recorder = ctx.extras.get(_RECORDER)
    cells = []
    for number, col in enumerate(columns, start=1):
        wild = few_clusters.wild_for_inputs(recorder.inputs_of(col.fit) if recorder and col.fit is not None else None,
                                            col.term, threshold=ctx.model.few_clusters, seed=ctx.seed)
        col.wild = wild
        if wild:
            few_clusters.add_wild_to_rows(estimates, col.key, col.term, wild)
            cells.append((str(number), wild))
    return [few_clusters.wild_note(label, ctx.treatment_name, cells, ctx.seed)] if cells else []


def _conventions(columns: list[RobustnessColumn], ctx: StudyContext, weighting: str, pooling: str) -> list[str]:
    from pilotdid.report.regression_table import convention_note
    from pilotdid.i18n import messages

    fitted = [(f"({i + 1})", c.fit) for i, c in enumerate(columns) if c.fit is not None]
    out = []
    if fitted:
        # one SE sentence for the table, the clusters and df of each column where they differ (PSM columns
        # keep fewer clusters than the full-sample columns)
        out.append(messages("table.robustness", ctx.lang)["se_head"]
                   + " ".join(convention_note([f for _, f in fitted], [c for c, _ in fitted], ctx.lang,
                                              ctx.extras.get("labels"))))
    other = "weights" if weighting == "matched_rows" else "matched_rows"
    out.append(
        f"PSM-DID: logit propensity score of the treatment dummy on the controls, {pooling} "
        f"({'one logit on all rows' if pooling == 'pooled' else 'one logit and matching per period'}), common support. "
        f"The DID row of columns (1)-(3) is the regression {PSM_ROW_LABEL[weighting]} (psm_weighting = \"{weighting}\"; "
        f"default \"matched_rows\", the practice in this literature and the reading under which the paper's N is the "
        f"matched-row count); the row below it is the regression {PSM_ROW_LABEL[other]}. "
        "N counts each matched row once (treated on support + controls used at least once)."
    )
    return out


def _psm_reading(summaries: dict[str, dict], weighting: str, table_ref: str, lang: str = "en") -> str:
    """One sentence reading the PSM-DID columns under both conventions (for the report's verdict), in ``lang``."""
    def text(key: str, **fmt) -> str:
        return msg(f"table.robustness.{key}", lang, **fmt)

    parts = [text("psm_reading_part", method=text(key, k=s.get("k") or 3), a=s["matched_rows"]["coef"],
                  at=s["matched_rows"]["t"], ap=s["matched_rows"]["p"], b=s["weights"]["coef"], bt=s["weights"]["t"],
                  bp=s["weights"]["p"])
             for key, s in summaries.items()]
    sig = {w: sum(s[w]["p"] < 0.05 for s in summaries.values()) for w in PSM_WEIGHTING}
    ref = table_ref[:1].upper() + table_ref[1:] if lang == "en" else cite(table_ref, lang)  # en: starts a sentence
    return text("psm_reading", parts=text("psm_reading_separator").join(parts), sig_rows=sig["matched_rows"],
                sig_weights=sig["weights"], n=len(summaries),
                verdict=text("psm_agree" if sig["matched_rows"] == sig["weights"] else "psm_decides"),
                ref=ref, shown=text("psm_unweighted" if weighting == "matched_rows" else "psm_weighted"),
                option="psm_weighting")


def _pscore_figure(match, lang: str):
    from pilotdid.report.figures.pscore import pscore_figure

    return pscore_figure(match, lang=lang)
