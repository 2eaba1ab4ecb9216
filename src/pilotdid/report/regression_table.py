"""Paper-style regression and descriptive-statistics tables, as :class:`~pilotdid.report.table.Table`.

Layout of Chinese and English economics journals: one column per model, the coefficient with stars
(``*`` p<0.10, ``**`` p<0.05, ``***`` p<0.01, from the fit's own t distribution) and the t-statistic
or standard error in parentheses beneath; then the constant, fixed-effect Yes/No rows, N and an
R² whose kind is named in the row label. When published values are given, a "published" row (原文)
follows each of ours so the two can be read side by side. The SE convention goes in the notes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pilotdid.estimation.twfe.covariance import get_preset
from pilotdid.estimation.twfe.results import CONSTANT_TERM, R2_DEFINITIONS, TwfeResult
from pilotdid.report.numbers import fmt_fixed, published_text
from pilotdid.report.table import Table

_TEXT = {
    "en": {
        "variable": "Variable", "constant": "Constant", "n": "N", "yes": "Yes", "no": "No", "published": "  published",
        "adj_r2": "Adj. R² (overall, FE incl.)", "r2": "R² (overall, FE incl.)", "r2_within": "Within R²",
        "adj_r2_within": "Adj. within R²", "mean": "Mean", "sd": "SD", "min": "Min", "max": "Max",
        "stars": "* p<0.10, ** p<0.05, *** p<0.01.",
        "stat_t": "t-statistics in parentheses.", "stat_se": "Standard errors in parentheses.",
        "fe": "{} FE",
    },
    "zh": {
        "variable": "变量", "constant": "常数项", "n": "样本量", "yes": "是", "no": "否", "published": "  原文",
        "adj_r2": "调整R²（总体，含固定效应）", "r2": "R²（总体，含固定效应）", "r2_within": "组内R²",
        "adj_r2_within": "调整组内R²", "mean": "均值", "sd": "标准差", "min": "最小值", "max": "最大值",
        "stars": "* p<0.10，** p<0.05，*** p<0.01。",
        "stat_t": "括号内为t值。", "stat_se": "括号内为标准误。",
        "fe": "{}固定效应",
    },
}


def _text(lang: str) -> dict[str, str]:
    if lang not in _TEXT:
        raise ValueError(f"lang must be one of {', '.join(_TEXT)}, got {lang!r}")
    return _TEXT[lang]


def stars(p: float | None) -> str:
    """Significance stars at 10/5/1 %."""
    if p is None or not np.isfinite(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.10 else ""


def label_for(term: str, labels: Mapping[str, Any] | None, lang: str) -> str:
    """``labels[term]`` as a string, or its ``lang`` entry when it is a {"en":…, "zh":…} dict."""
    if not labels or term not in labels:
        return term
    value = labels[term]
    if isinstance(value, Mapping):
        return str(value.get(lang) or value.get("en") or term)
    return str(value)


def _fmt(x: float | None, digits: int) -> str:
    return fmt_fixed(x, digits)


def _published_cell(entry: Any, stat: str) -> tuple[str, str]:
    """(coefficient text, parenthesised stat text) of one published value, digits as printed."""
    if entry is None:
        return "", ""
    if not isinstance(entry, Mapping):
        return published_text(entry), ""
    coef = entry.get("coef")
    text = published_text(coef) + (stars(entry["p"]) if entry.get("p") is not None else str(entry.get("stars", "")))
    value = entry.get(stat)
    return text, f"({published_text(value)})" if value is not None else ""


def published_columns(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[dict[str, Any] | None]:
    """Published rows in results.json form (``column``, ``term``, ``coef``, ``se``/``t``/``p``,
    ``nobs``, ``adj_r2``…) → the per-column dicts :func:`regression_table` takes."""
    out: list[dict[str, Any] | None] = []
    for col in columns:
        mine = [r for r in rows if str(r.get("column")) == str(col)]
        if not mine:
            out.append(None)
            continue
        entry: dict[str, Any] = {}
        for r in mine:
            if r.get("term") is not None:
                entry[str(r["term"])] = {k: r[k] for k in ("coef", "se", "t", "p", "stars") if r.get(k) is not None}
            for k in ("nobs", "r2", "adj_r2", "r2_within", "adj_r2_within"):
                if r.get(k) is not None:
                    entry[k] = r[k]
        out.append(entry)
    return out


def regression_table(
    results: Sequence[TwfeResult],
    *,
    name: str,
    title: str,
    terms: Sequence[str] | None = None,
    labels: Mapping[str, Any] | None = None,
    stat: str = "t",
    fe_rows: Mapping[str, Any] | None = None,
    show_constant: bool = True,
    extra_rows: Mapping[str, Sequence[Any]] | None = None,
    lang: str = "en",
    published: Sequence[Mapping[str, Any] | None] | None = None,
    r2_kind: str | Sequence[str] = "adj_r2",
    column_labels: Sequence[str] | None = None,
    column_group: str | None = None,
    digits: int = 3,
    notes: Sequence[str] = (),
) -> Table:
    """One column per fitted model, paper style.

    terms:
        Order of the coefficient rows (default: every term of every model, first seen first).
        ``_cons`` need not be listed: ``show_constant`` adds it after the terms.
    labels:
        term → label, or term → {"en": …, "zh": …}.
    stat:
        ``"t"`` or ``"se"`` in parentheses beneath each coefficient.
    fe_rows:
        label → "Yes"/"No" for all columns, or a per-column list, or a fixed-effect column name
        (Yes where the model has it). Default: one row per fixed effect of the models ("city FE").
    extra_rows:
        label → per-column values appended before N (e.g. {"Controls": ["No", "Yes"]}).
    published:
        One entry per column (None where nothing is published): {term: {"coef", "t"/"se", "p"
        or "stars"}, "nobs": …, "adj_r2": …}; adds a "published" row under each of ours.
    r2_kind:
        Which R² (one or a list) to print: ``adj_r2`` (default), ``r2``, ``r2_within``,
        ``adj_r2_within``; the row label names it and the notes define it.
    """
    if stat not in ("t", "se"):
        raise ValueError(f"stat must be 't' or 'se', got {stat!r}")
    r2_kinds = [r2_kind] if isinstance(r2_kind, str) else list(r2_kind)
    bad = [k for k in r2_kinds if k not in R2_DEFINITIONS]
    if bad:
        raise ValueError(f"r2_kind must be among {', '.join(R2_DEFINITIONS)}, got {bad}")
    if not results:
        raise ValueError("regression_table needs at least one result")
    tx = _text(lang)
    ncol = len(results)
    if published is not None and len(published) != ncol:
        raise ValueError(f"published has {len(published)} entries for {ncol} columns")
    columns = list(column_labels) if column_labels else [f"({i + 1})" for i in range(ncol)]
    if terms is None:
        terms = list(dict.fromkeys(t for r in results for t in r.terms))
    terms = [t for t in terms if t != CONSTANT_TERM]
    row_terms = list(terms) + ([CONSTANT_TERM] if show_constant else [])

    body: list[list[str]] = []
    for term in row_terms:
        coef_cells, stat_cells, pub_coef, pub_stat = [], [], [], []
        for j, res in enumerate(results):
            try:
                r = res.term(term)
            except KeyError:
                coef_cells.append("")
                stat_cells.append("")
            else:
                coef_cells.append(_fmt(r["coef"], digits) + stars(r["p"]))
                stat_cells.append(f"({_fmt(r[stat], digits)})")
            entry = published[j].get(term) if published is not None and published[j] else None
            c, s = _published_cell(entry, stat)
            pub_coef.append(c)
            pub_stat.append(s)
        label = tx["constant"] if term == CONSTANT_TERM else label_for(term, labels, lang)
        body.append([label, *coef_cells])
        body.append(["", *stat_cells])
        if any(pub_coef):
            body.append([tx["published"], *pub_coef])
            if any(pub_stat):
                body.append(["", *pub_stat])

    if fe_rows is None:
        all_fe = list(dict.fromkeys(f for r in results for f in r.fixed_effects))
        fe_rows = {tx["fe"].format(label_for(f, labels, lang)): f for f in all_fe}
    for label, spec in fe_rows.items():
        if isinstance(spec, str) and any(spec in r.fixed_effects for r in results):
            cells = [tx["yes"] if spec in r.fixed_effects else tx["no"] for r in results]
        elif isinstance(spec, (list, tuple)):
            cells = [str(v) for v in spec]
        elif isinstance(spec, bool):
            cells = [tx["yes"] if spec else tx["no"]] * ncol
        else:
            cells = [str(spec)] * ncol
        body.append([label, *cells])
    for label, values in (extra_rows or {}).items():
        body.append([label, *[str(v) for v in values]])

    for key, label in (("nobs", tx["n"]), *((k, tx[k]) for k in r2_kinds)):
        if key == "nobs":
            body.append([label, *[str(r.nobs) for r in results]])
        else:
            body.append([label, *[_fmt(getattr(r, key), digits) for r in results]])
        vals = [p.get(key) if p else None for p in published] if published is not None else []
        if any(v is not None for v in vals):
            body.append([f"{label} — {tx['published'].strip()}", *[published_text(v) for v in vals]])

    table_notes = [tx["stat_t"] if stat == "t" else tx["stat_se"], tx["stars"]]
    conventions = list(dict.fromkeys(r.convention_text(lang) for r in results))
    if len(conventions) == 1:
        table_notes.append(conventions[0])
    else:
        table_notes += [f"{columns[i]}: {r.convention_text(lang)}" for i, r in enumerate(results)]
    if show_constant:
        kinds = {r.vcov: r for r in results}
        for preset, r in kinds.items():
            if r.constant is None:
                table_notes.append(f"Preset {preset} reports no constant.")
        rules = list(dict.fromkeys(get_preset(r.vcov).constant_rule for r in results if r.constant is not None))
        if rules:
            table_notes.append("Constant: " + "; ".join(rules) + ".")
    table_notes += [f"{tx[k].strip()}: {R2_DEFINITIONS[k]}." for k in r2_kinds]
    if published is not None:
        table_notes.append(
            "Rows marked 'published' are the values printed in the source, not computed here."
            if lang == "en" else "“原文”行为原文献报告的数值，非本程序计算。"
        )
    table_notes += list(notes)

    header = [tx["variable"], *columns]
    frame = pd.DataFrame(body, columns=header)
    groups = [("", 1), (column_group, ncol)] if column_group else None
    return Table(name=name, title=title, body=frame, notes=table_notes, column_groups=groups)


def descriptives_table(
    panel: pd.DataFrame,
    variables: Sequence[str],
    labels: Mapping[str, Any] | None = None,
    published: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    name: str = "table3_descriptives",
    title: str = "Descriptive statistics",
    lang: str = "en",
    digits: int = 3,
) -> Table:
    """N, mean, SD (n−1), min, max per variable (Table 3 layout); a "published" row beneath each
    variable for which ``published[var]`` gives any of n/mean/sd/min/max."""
    tx = _text(lang)
    missing = [v for v in variables if v not in panel.columns]
    if missing:
        from pilotdid.errors import PilotdidInputError

        raise PilotdidInputError(f"column(s) not in the panel: {', '.join(missing)}", where="descriptives", fix="use existing columns")
    body = []
    for var in variables:
        s = pd.to_numeric(panel[var], errors="coerce").dropna()
        body.append(
            [label_for(var, labels, lang), str(int(s.size)), _fmt(s.mean(), digits), _fmt(s.std(ddof=1), digits),
             _fmt(s.min(), digits), _fmt(s.max(), digits)]
        )
        pub = (published or {}).get(var)
        if pub:
            cells = []
            for key in ("n", "mean", "sd", "min", "max"):
                v = pub.get(key, pub.get("nobs") if key == "n" else None)
                cells.append("" if v is None else str(int(v)) if key == "n" else _fmt(float(v), digits))
            body.append([tx["published"], *cells])
    header = [tx["variable"], tx["n"], tx["mean"], tx["sd"], tx["min"], tx["max"]]
    notes = ["SD is the sample standard deviation (n − 1)." if lang == "en" else "标准差为样本标准差（n − 1）。"]
    if published:
        notes.append(
            "Rows marked 'published' are the values printed in the source, not computed here."
            if lang == "en" else "“原文”行为原文献报告的数值，非本程序计算。"
        )
    return Table(name=name, title=title, body=pd.DataFrame(body, columns=header), notes=notes)
