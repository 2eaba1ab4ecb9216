"""Analysis ``paper_comparison``: every published number beside ours, in one table.

It runs after the analyses it compares (list it last in the study file). Each published row of
``[study] published`` (rows shaped like results.json's: ``table``-named lists with ``column``,
``term``, ``coef``, ``t``, ``nobs``, adjusted R²) is paired with the estimate this run produced for
the same (table, column, term). A published number with no counterpart here is listed with the
reason, never silently dropped.

Options (``[analyses.paper_comparison]``):

* ``column_maps`` — {table = {our column = "published column"}}; the baseline's
  ``published_columns`` option is used for ``baseline`` when this is not given;
* ``missing`` — {"table:column" or "table:column:term" = "why we have no estimate"} for published
  numbers the study deliberately does not estimate.
"""

from __future__ import annotations

from typing import Any

from pilotdid.i18n import msg
from pilotdid.errors import PilotdidInputError
from pilotdid.report.paper_tables import paper_comparison_table
from pilotdid.study.context import AnalysisOutput, StudyContext
from pilotdid.study.options import check_analysis_options

#: compares every analysis that ran before it (study/runner.py)
READS_OUTPUTS = ("*",)
#: the published tables compared, by output name; the "Table" column cites each as the study's
#: ``[study] outputs`` ref (the CBEC study: "Table 4" ...)
TABLES = ("baseline", "robustness", "mechanism", "heterogeneity")


def run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    check_analysis_options("paper_comparison", options)
    published = ctx.extras.get("published") or {}
    if not published:
        raise PilotdidInputError("the study has no published numbers to compare with", where="[analyses.paper_comparison]",
                                 fix="set [study] published = \"published.toml\" or remove this analysis")
    spec = ctx.extras.get("spec")
    maps = dict(options.get("column_maps") or {})
    if "baseline" not in maps and spec is not None:
        maps["baseline"] = spec.analyses.get("baseline", {}).get("published_columns", {})
    reasons = dict(options.get("missing") or {})

    ours: dict[tuple[str, str, str], dict] = {}
    for name, out in ctx.outputs.items():
        for row in out.estimates:
            key = (str(row.get("table")), str(row.get("column")), str(row.get("term")))
            ours.setdefault(key, row)

    rows, pairs, matched, total = [], [], 0, 0
    for table in TABLES:
        inverse = {str(theirs): str(mine) for mine, theirs in (maps.get(table) or {}).items()}
        for pub in published.get(table, []) or []:
            total += 1
            pcol, term = str(pub.get("column")), str(pub.get("term"))
            ocol = inverse.get(pcol, pcol if pcol not in (maps.get(table) or {}) else None)
            mine = ours.get((table, ocol, term)) if ocol is not None else None
            why = ""
            if mine is None:
                why = reasons.get(f"{table}:{pcol}:{term}") or reasons.get(f"{table}:{pcol}") or (
                    f"not estimated in this run ({table} analysis not run)" if not any(k[0] == table for k in ours)
                    else "no matching estimate in this run")
            else:
                matched += 1
            label = pub.get("label") or (f"column ({pcol})" if pcol.isdigit() else pcol)
            rows.append({"table": ctx.output_ref(table), "column": str(label),
                         "term": str(pub.get("label_term", ctx.display_name(term))), "published": pub, "ours": mine,
                         "note": why})
            pairs.append({
                "table": table, "published_column": pcol, "term": term,
                "coef": mine and mine.get("coef"), "t": mine and mine.get("t"), "nobs": mine and mine.get("nobs"),
                "published_coef": pub.get("coef"), "published_t": pub.get("t"), "published_nobs": pub.get("nobs"),
                "our_column": ocol, "note": why or None,
            })
    sign_agree = sum(
        1 for e in pairs
        if e["coef"] is not None and e["published_coef"] is not None and (e["coef"] > 0) == (e["published_coef"] > 0)
    )
    notes = [
        f"{matched} of {total} published coefficients have a counterpart in this run; {sign_agree} of those "
        "have the same sign. Paper values are transcriptions of the published tables (labelled), not computed here.",
        msg("template.note.paper_data_differ", "en", **ctx.unit_words()),
    ]
    table = paper_comparison_table(rows, notes=notes)
    return AnalysisOutput(
        tables={"paper_vs_pilotdid": table}, notes=notes,
        results={"paper_comparison": {"published": total, "matched": matched, "same_sign": sign_agree, "rows": pairs}},
    )
