"""Analysis ``baseline``: the two-way fixed-effects DID of the study (paper Table 4).

Options (``[analyses.baseline]``):

* ``stepwise`` (false) — true: controls added one at a time in the order of ``[model] controls``,
  columns (1) treatment only … (k+1) all controls, as in the paper's Table 4; false: one column;
* ``stat`` ("t") — "t", "se", "p" in parentheses or "ci" (95% CI in brackets); default: ``[tables] stat``;
* ``vcov`` — a standard-error preset overriding ``[model] vcov`` for this analysis;
* ``labels`` — {column = "label"} or {column = {en = "…", zh = "…"}} for the table rows;
* ``digits`` (3) — decimals printed; default: ``[tables] digits``;
* ``r2`` ("adj_r2") — the R² row(s): one or a list of "adj_r2", "r2", "r2_within", "adj_r2_within";
* ``published_columns`` — {our column = "published column"} when the columns do not line up one to one
  (e.g. a control the data lack shifts the stepwise columns); default: same numbers.

The treatment regressor is the runner's column ``_did`` named ``ctx.treatment_name`` in results
and tables. Published values (``ctx.extras["published"]["baseline"]``, rows like results.json's)
are printed beside ours. Every other layout choice (stars, keep/drop/order, indicate, FE rows, statistic
rows, short or full notes) comes from the study's ``[tables]`` section (docs/study-file.md).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.twfe import R2_DEFINITIONS, fit_twfe, get_preset
from pilotdid.report.regression_table import convention_note, published_columns, regression_table, table_kwargs
from pilotdid.study.analyses._common import named_panel
from pilotdid.study.context import AnalysisOutput, StudyContext
from pilotdid.study.options import check_analysis_options


def study_table_options(ctx: StudyContext) -> dict[str, Any]:
    """The study's ``[tables]`` options (validated when the study file was read)."""
    spec = ctx.extras.get("spec")
    return dict(getattr(spec, "tables", {}) or {})


def run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    check_analysis_options("baseline", options)  # types and allowed values (stepwise, stat, vcov, r2, ...)
    stepwise = options.get("stepwise", False)
    layout = study_table_options(ctx)  # [tables] stat and digits: checked when the study file was read
    stat = options.get("stat", layout.get("stat", "t"))
    digits = options.get("digits", layout.get("digits", 3))
    preset = get_preset(options.get("vcov", ctx.model.vcov))
    labels = options.get("labels") or ctx.extras.get("labels") or {}
    if not isinstance(labels, dict) or not all(isinstance(v, (str, dict)) for v in labels.values()):
        raise PilotdidInputError(f"labels must be a table {{column = \"label\"}}, got {labels!r}",
                                 where="[analyses.baseline] labels", fix='labels = {x1 = "Openness"}')
    r2 = options.get("r2", "adj_r2")
    kinds = [r2] if isinstance(r2, str) else r2
    if not kinds:
        raise PilotdidInputError(f"r2 must be one or a list of {', '.join(R2_DEFINITIONS)}, got {r2!r}",
                                 where="[analyses.baseline] r2", fix='r2 = "adj_r2"')
    panel = named_panel(ctx)
    treat = ctx.treatment_name
    controls = list(ctx.model.controls)
    specs = [controls[:j] for j in range(len(controls) + 1)] if stepwise else [controls]

    fits = [
        fit_twfe(panel, ctx.model.outcome, [treat, *ctrl], ctx.model.fixed_effects, ctx.model.cluster, vcov=preset.name,
                 weights=ctx.model.weights)
        for ctrl in specs
    ]
    columns = [str(j + 1) for j in range(len(fits))]
    estimates = [row for col, res in zip(columns, fits) for row in res.estimate_rows("baseline", col, "full", treat)]
    wild_notes = _few_clusters_wild(ctx, panel, treat, specs, columns, estimates, preset.name)

    published_rows = (ctx.extras.get("published") or {}).get("baseline")
    column_map = options.get("published_columns") or {}
    published = (
        published_columns(published_rows, [str(column_map.get(c, c)) for c in columns]) if published_rows else None
    )
    if published is not None and not any(published):
        published = None
    zh = ctx.lang == "zh"
    title = ("基准回归结果" if zh else "Baseline two-way fixed-effects DID") + f" ({ctx.model.outcome})"
    table = regression_table(
        fits, name="baseline", title=title, terms=[treat, *controls], labels=labels, stat=stat, lang=ctx.lang,
        published=published, column_group=str(labels.get(ctx.model.outcome, ctx.model.outcome)) if labels else ctx.model.outcome,
        digits=digits, r2_kind=kinds,
        **{k: v for k, v in table_kwargs(layout, controls=controls, lang=ctx.lang, labels=labels).items()
           if k not in ("stat", "digits")},
    )
    # the table's SE sentence (the real command in the study's names), said once for the section too
    notes = [" ".join(convention_note(fits, [f"({c})" for c in columns], ctx.lang, labels))]
    if stepwise:
        notes.append("Columns (1)…(%d): controls added one at a time in the order of [model] controls." % len(fits))
    notes += list(dict.fromkeys(n for f in fits for n in f.notes))
    notes += wild_notes
    table.notes.extend(wild_notes)
    return AnalysisOutput(estimates=estimates, tables={"baseline": table}, notes=notes)


def _few_clusters_wild(ctx: StudyContext, panel: pd.DataFrame, treat: str, specs: list[list[str]], columns: list[str],
                       estimates: list[dict], vcov: str) -> list[str]:
    """Below ``[model] few_clusters`` clusters: the wild cluster bootstrap p and CI of the treatment coefficient of
    every column, added to its estimate row and named in the table notes (inference/few_clusters.py)."""
    from pilotdid.inference import few_clusters

    cluster = ctx.model.cluster or ctx.unit
    n_clusters = few_clusters.cluster_count(panel, cluster)
    if n_clusters >= ctx.model.few_clusters:
        return []
    parts = []
    for col, ctrl in zip(columns, specs):
        wild = few_clusters.wild_for_baseline(panel, outcome=ctx.model.outcome, term=treat, controls=ctrl,
                                              fixed_effects=ctx.model.fixed_effects, cluster=cluster, vcov=vcov,
                                              seed=ctx.seed, analytic_weights=ctx.model.weights)
        for row in estimates:
            if row.get("column") == col and row.get("term") == treat:
                row.update(wild)
        parts.append(f"({col}) p = {wild['p_wild']:.4f}, 95% CI [{wild['ci_wild_low']:.4f}, {wild['ci_wild_high']:.4f}]")
    how = (f"{wild['wild_weights']} weights, " + ("all sign vectors" if wild["wild_full_enumeration"]
                                                 else f"{wild['wild_draws']} draws, seed {ctx.seed}"))
    weighted = f" of the regression weighted by {ctx.model.weights}" if ctx.model.weights else ""
    return [f"Few clusters ({n_clusters} < {ctx.model.few_clusters}): wild cluster restricted bootstrap of the "
            f"{treat} coefficient{weighted} ({how}; CI by test inversion): " + "; ".join(parts) + "."]
