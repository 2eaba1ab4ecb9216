"""Analysis ``vcov_presets``: the treatment coefficient under every standard-error preset — the
answer to "why doesn't my Python match my Stata".

Options (``[analyses.vcov_presets]``): ``presets`` (default: all of
:data:`pilotdid.estimation.twfe.VCOV_PRESETS`), ``digits`` (4).

One results.json row per preset (table ``vcov_presets``, column = preset name, term = the
treatment) with extra keys ``stata_command``, ``k_counted``, ``small_sample_factor``, ``t_df``,
``constant``, ``constant_se``. A published value is shown beside them: ``published["vcov_presets"]``
rows if given, else the treatment row of the last column of ``published["baseline"]`` (the model
with all controls).
"""

from __future__ import annotations

import re
from typing import Any


from pilotdid.i18n import msg
from pilotdid.estimation.twfe import VCOV_PRESETS, vcov_presets_table
from pilotdid.report.inference_tables import presets_table
from pilotdid.study.analyses._common import named_panel
from pilotdid.study.context import AnalysisOutput, StudyContext
from pilotdid.study.options import check_analysis_options


def _published_row(ctx: StudyContext, treat: str) -> dict[str, Any] | None:
    published = ctx.extras.get("published") or {}
    rows = published.get("vcov_presets")
    if not rows:
        base = [r for r in published.get("baseline") or [] if str(r.get("term")) == treat]
        if not base:
            return None
        last = max(base, key=lambda r: int(r["column"]) if str(r.get("column", "")).isdigit() else 0)
        rows = [last]
        cons = [r for r in published.get("baseline") or []
                if r.get("term") == "_cons" and str(r.get("column")) == str(last.get("column"))]
        if cons:
            rows = [{**last, "constant": cons[0].get("coef"), "constant_se": cons[0].get("se")}]
    return dict(rows[0])


def _command_for_units(template: str, ctx: StudyContext) -> str:
    """A preset's command template (``reg y x i.city i.year, vce(cluster city)``) with the unit written as the study
    calls its units (``[study] unit_noun``: ``i.county``; ``i.unit`` by default), so no table claims cities."""
    return re.sub(r"\bcity\b", ctx.unit_words()["unit"].replace(" ", "_"), template)


def run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    check_analysis_options("vcov_presets", options)
    presets = options.get("presets") or list(VCOV_PRESETS)  # known presets (declared, checked above)
    digits = options.get("digits", 4)
    treat = ctx.treatment_name
    panel = named_panel(ctx)
    rows, fits = vcov_presets_table(
        panel, ctx.model.outcome, [treat, *ctx.model.controls], ctx.model.fixed_effects, ctx.model.cluster,
        treatment_term=treat, presets=presets, weights=ctx.model.weights,
    )
    rows = rows.assign(stata_command=[_command_for_units(c, ctx) for c in rows["stata_command"]])
    estimates = []
    for name, res in fits.items():
        row = res.estimate_rows("vcov_presets", name, "full", treat)[0]
        cons = res.constant or {}
        row.update(stata_command=_command_for_units(res.stata_command, ctx), k_counted=res.k_counted,
                   small_sample_factor=res.small_sample_factor, t_df=res.t_df,
                   constant=cons.get("coef"), constant_se=cons.get("se"))
        estimates.append(row)

    pub = _published_row(ctx, treat)
    table = presets_table(rows, presets=presets, treat=treat, digits=digits, lang=ctx.lang, published=pub)
    notes = table.notes  # the analysis reports the table's notes (and adds the reproduction line to both)
    matches = []
    if pub and pub.get("se") is not None:
        for name, res in fits.items():
            r = res.term(treat)
            d = len(str(pub["se"]).split(".")[-1]) if "." in str(pub["se"]) else 0
            if round(r["se"], d) == round(float(pub["se"]), d):
                matches.append(name)
        notes.append(msg("template.note.presets_published", "en", p=", ".join(matches) or "none"))
    return AnalysisOutput(estimates=estimates, tables={"vcov_presets": table}, notes=notes,
                          results={"vcov_presets_match": matches} if pub else {})
