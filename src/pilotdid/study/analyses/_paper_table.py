"""What the mechanism and heterogeneity analyses share for their paper-layout tables: the results.json rows of a
fit, the published numbers of a table, and the study's table style. The layout itself is
:mod:`pilotdid.report.paper_tables`.

Shared here so the two analyses do not import each other.
"""

from __future__ import annotations

from typing import Any

from pilotdid.estimation.heterogeneity import FitSummary
from pilotdid.report.paper_tables import TableStyle
from pilotdid.study.context import TREAT, StudyContext
from pilotdid.study.results import ESTIMATE_KEYS, normalise_row


def fit_rows(fit: FitSummary, *, table: str, column: str, treatment: str, treatment_name: str, sample: str,
             outcome: str, vcov: str, extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """results.json rows for every coefficient of ``fit``, the treatment first and named ``treatment_name``."""
    terms = list(fit.coefs["term"])
    order = [treatment] + [t for t in terms if t != treatment]
    rows = []
    for term in order:
        r = fit.term(term)
        row = {"table": table, "column": str(column), "term": treatment_name if term == treatment else term,
               "coef": r["coef"], "se": r["se"], "t": r["t"], "p": r["p"], "ci_low": r["ci_low"],
               "ci_high": r["ci_high"], "nobs": fit.nobs, "n_clusters": fit.n_clusters, "r2": fit.r2,
               "r2_within": fit.r2_within, "adj_r2": fit.adj_r2, "vcov": fit.vcov or vcov, "sample": sample,
               "outcome": outcome, **(extra or {})}
        rows.append(normalise_row(row, ESTIMATE_KEYS))
    return rows


def published_rows(ctx: StudyContext, table: str) -> dict[str, dict[str, Any]]:
    """Published rows of ``table`` by column (only the treatment term, whatever the paper called it)."""
    rows = (ctx.extras or {}).get("published", {}).get(table, []) or []
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        if isinstance(r, dict) and "column" in r and str(r["column"]) not in out:
            out[str(r["column"])] = r
    return out


def published_for_columns(ctx: StudyContext, table: str, columns: list[str]) -> list[dict[str, Any] | None] | None:
    """Published values per column in :func:`regression_table`'s form, the paper's treatment term
    (whatever it is called there, e.g. "DID") mapped onto ours; None when nothing is published."""
    published = published_rows(ctx, table)
    if not any(c in published for c in columns):
        return None
    out: list[dict[str, Any] | None] = []
    for c in columns:
        p = published.get(c)
        if p is None:
            out.append(None)
            continue
        entry: dict[str, Any] = {TREAT: {k: p[k] for k in ("coef", "t", "se", "p") if p.get(k) is not None}}
        if p.get("nobs") is not None:
            entry["nobs"] = p["nobs"]
        out.append(entry)
    return out


def table_style(ctx: StudyContext) -> TableStyle:
    """The study's regression-table style: report language, ``[tables]`` layout, controls and ``[study] labels``."""
    spec = ctx.extras.get("spec")
    return TableStyle(lang=ctx.lang, layout=dict(getattr(spec, "tables", {}) or {}), controls=tuple(ctx.model.controls),
                      labels=ctx.extras.get("labels"), unit_noun=ctx.unit_noun)
