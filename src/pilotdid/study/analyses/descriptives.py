"""Analysis ``descriptives``: N, mean, SD, min and max of the outcome, treatment and controls
(paper Table 3), on the estimation panel.

Options (``[analyses.descriptives]``): ``variables`` (default: outcome, treatment, controls),
``labels`` ({column = "label"} or {column = {en, zh}}), ``digits`` (3). Published values come from
``ctx.extras["published"]["descriptives"]``: rows with ``term`` (the column) and any of ``n``/
``nobs``, ``mean``, ``sd``, ``min``, ``max``.

results.json rows (table ``descriptives``): one per variable with ``nobs`` and extra keys ``mean``,
``sd``, ``min``, ``max``; ``coef``/``se``/… are null (they do not apply).
"""

from __future__ import annotations

from typing import Any

from pilotdid.report.regression_table import descriptives_table
from pilotdid.study.analyses._common import named_panel
from pilotdid.study.context import AnalysisOutput, StudyContext
from pilotdid.study.results import ESTIMATE_KEYS, normalise_row
from pilotdid.study.options import check_analysis_options


def run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    check_analysis_options("descriptives", options)
    digits = options.get("digits", 3)  # an integer 0-8 (declared, checked above)
    panel = named_panel(ctx)
    variables = options.get("variables") or [ctx.model.outcome, ctx.treatment_name, *ctx.model.controls]
    labels = options.get("labels") or ctx.extras.get("labels") or {}
    pub_rows = (ctx.extras.get("published") or {}).get("descriptives") or []
    published = {str(r["term"]): r for r in pub_rows if r.get("term") is not None} or None
    zh = ctx.lang == "zh"
    table = descriptives_table(
        panel, variables, labels, published, name="descriptives",
        title="描述性统计" if zh else "Descriptive statistics", lang=ctx.lang, digits=digits,
    )
    estimates = []
    for var in variables:
        s = panel[var].dropna().astype(float)
        estimates.append(normalise_row(
            {"table": "descriptives", "column": "1", "term": var, "nobs": int(s.size), "sample": "full",
             "outcome": None, "mean": float(s.mean()), "sd": float(s.std(ddof=1)), "min": float(s.min()),
             "max": float(s.max())},
            ESTIMATE_KEYS,
        ))
    return AnalysisOutput(estimates=estimates, tables={"descriptives": table},
                          notes=[f"Descriptive statistics on the estimation panel ({len(panel)} rows)."])
