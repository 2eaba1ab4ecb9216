"""Regression tables in the paper's layout shared by the mechanism and heterogeneity analyses (one column per
fit, the treatment row, the published numbers beneath), and their results.json rows.

Shared here so the two analyses do not import each other.
"""

from __future__ import annotations

from typing import Any

from pilotdid.estimation.heterogeneity import FitSummary
from pilotdid.report.regression_table import stars
from pilotdid.report.table import Table
from pilotdid.study.context import TREAT, StudyContext
from pilotdid.study.results import ESTIMATE_KEYS, normalise_row


def coef_cell(coef: float | None, p: float | None = None, digits: int = 4) -> str:
    return "" if coef is None or coef != coef else f"{coef:.{digits}f}{stars(p)}"


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


ROW_TEXT = {
    "en": {"controls": "Controls", "yes": "Yes", "no": "No", "years": "Years", "units": "Units", "mediator": "Mediator",
           "units_split": "Units (treated / never treated)"},
    "zh": {"controls": "控制变量", "yes": "是", "no": "否", "years": "年份", "units": "城市数", "mediator": "中介变量",
           "units_split": "城市数（处理组 / 从未处理）"},
}


def row_text(ctx: StudyContext) -> dict[str, str]:
    return ROW_TEXT["zh" if ctx.lang == "zh" else "en"]


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


def paper_table(fits: list[FitSummary], ctx: StudyContext, *, name: str, title: str, columns: list[str],
                extra_rows: dict[str, list[Any]], published: list[dict[str, Any] | None] | None,
                notes: list[str]) -> Table:
    """One column per fit in the house regression-table style (treatment row only, FE rows, N, adj. R²)."""
    from pilotdid.report.regression_table import regression_table, table_kwargs

    lang = ctx.lang if ctx.lang in ("en", "zh") else "en"
    spec = ctx.extras.get("spec")
    layout = {"stat": "t", "digits": 3, **(getattr(spec, "tables", {}) or {})}  # the study's [tables], as Table 4
    kw = table_kwargs(layout, controls=ctx.model.controls, lang=lang, labels=ctx.extras.get("labels"))
    kw.pop("indicate", None)  # these tables print only the treatment row; their Controls row is in extra_rows
    return regression_table(
        [f.result for f in fits], name=name, title=title, terms=[TREAT], labels={TREAT: ctx.display_name(ctx.treatment_name)},
        show_constant=False, extra_rows=extra_rows, lang=lang, published=published, column_labels=columns,
        notes=notes, **kw,
    )
