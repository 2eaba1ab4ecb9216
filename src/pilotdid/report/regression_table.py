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
from pilotdid.i18n import messages
from pilotdid.report.labels import resolve_label
from pilotdid.report.numbers import fmt_fixed, published_text
from pilotdid.report.table import Table

_TEXT = {
    "en": {
        "variable": "Variable", "constant": "Constant", "n": "N", "yes": "Yes", "no": "No", "published": "  published",
        "adj_r2": "Adj. R² (overall, FE incl.)", "r2": "R² (overall, FE incl.)", "r2_within": "Within R²",
        "adj_r2_within": "Adj. within R²", "mean": "Mean", "sd": "SD", "min": "Min", "max": "Max",
        "stars": "* p<0.10, ** p<0.05, *** p<0.01.",
        "stat_t": "t-statistics in parentheses.", "stat_se": "Standard errors in parentheses.",
        "stat_p": "p-values in parentheses.", "stat_ci": "95% confidence intervals in brackets.",
        "published_note": "Rows marked 'published' are the values printed in the source, not computed here.",
        "controls": "Controls",
        "fe": "{} FE", "n_clusters": "Clusters", "mean_outcome": "Mean of outcome",
        "note": "Note: ", "short_stat_t": "t-statistics in parentheses", "short_stat_se": "standard errors in parentheses",
        "short_stat_p": "p-values in parentheses", "short_stat_ci": "95% confidence intervals in brackets",
        "short_cluster": "standard errors clustered at the {} level", "short_robust": "heteroskedasticity-robust standard errors",
        "short_stars": "{marks} denote significance at the {levels} levels", "sep": "; ", "end": ".",
        "and": " and ", "list_sep": ", ", "columns": "columns {}",
        "conv_cluster": "Standard errors clustered by {cluster} ({g} clusters)", "conv_robust": "Heteroskedasticity-robust standard errors (HC1)",
        "conv_preset": ", preset '{preset}' (Stata/R: {command}); p-values and 95% CIs from t with {df} df",
        "conv_factor": "Small-sample factor (N−1)/(N−K)·G/(G−1): {items}.", "conv_factor_item": "{col} {f:.4f} (K = {k})",
        "no_stars": "No significance stars.",
    },
    "zh": {
        "variable": "变量", "constant": "常数项", "n": "样本量", "yes": "是", "no": "否", "published": "  原文",
        "adj_r2": "调整R²（总体，含固定效应）", "r2": "R²（总体，含固定效应）", "r2_within": "组内R²",
        "adj_r2_within": "调整组内R²", "mean": "均值", "sd": "标准差", "min": "最小值", "max": "最大值",
        "stars": "* p<0.10，** p<0.05，*** p<0.01。",
        "stat_t": "括号内为t值。", "stat_se": "括号内为标准误。",
        "stat_p": "括号内为p值。", "stat_ci": "方括号内为95%置信区间。",
        "published_note": "“原文”行为原文献报告的数值，非本程序计算。",
        "controls": "控制变量",
        "fe": "{}固定效应", "n_clusters": "聚类数", "mean_outcome": "被解释变量均值",
        "note": "注：", "short_stat_t": "括号内为t值", "short_stat_se": "括号内为标准误", "short_stat_p": "括号内为p值",
        "short_stat_ci": "方括号内为95%置信区间", "short_cluster": "标准误聚类到{}层面", "short_robust": "采用异方差稳健标准误",
        "short_stars": "{marks}分别表示在{levels}水平上显著", "sep": "；", "end": "。", "and": "、", "list_sep": "、",
        "columns": "第{}列",
        "conv_cluster": "标准误按{cluster}聚类（{g}个聚类）", "conv_robust": "异方差稳健标准误（HC1）",
        "conv_preset": "，约定'{preset}'（Stata/R：{command}）；p值与95%置信区间基于自由度为{df}的t分布",
        "conv_factor": "小样本因子 (N−1)/(N−K)·G/(G−1)：{items}。", "conv_factor_item": "{col} {f:.4f}（K = {k}）",
        "no_stars": "未标注显著性星号。",
    },
}


def _text(lang: str) -> dict[str, str]:
    if lang not in _TEXT:
        raise ValueError(f"lang must be one of {', '.join(_TEXT)}, got {lang!r}")
    return _TEXT[lang]


#: Default significance thresholds, loosest first: * p < 0.10, ** p < 0.05, *** p < 0.01.
STARS = (0.10, 0.05, 0.01)
STATS = ("t", "se", "p", "ci")
STAT_ROWS = ("nobs", "n_clusters", "r2", "adj_r2", "r2_within", "adj_r2_within", "mean_outcome")


def stars(p: float | None, thresholds: Sequence[float] = STARS) -> str:
    """One star per threshold that ``p`` is below (thresholds loosest first); '' for none or no thresholds."""
    if p is None or not np.isfinite(p) or not thresholds:
        return ""
    return "*" * sum(p < t for t in thresholds)


def stars_note(thresholds: Sequence[float], lang: str = "en") -> str:
    """'* p<0.10, ** p<0.05, *** p<0.01.' for the thresholds given (or that there are no stars)."""
    tx = _text(lang)
    if not thresholds:
        return tx["no_stars"]
    sep = "，" if lang == "zh" else ", "
    return sep.join(f"{'*' * (i + 1)} p<{t:g}" for i, t in enumerate(thresholds)) + tx["end"]


def stata_command(result: TwfeResult, regressors: Sequence[str] | None = None) -> str:
    """The Stata (or R) command of the result's SE preset, written with the study's own names."""
    return result.command(regressors)


def _span(labels: Sequence[str], lang: str) -> str:
    tx = _text(lang)
    if lang == "zh":
        return tx["columns"].format(tx["list_sep"].join(labels))
    return ("column " if len(labels) == 1 else "columns ") + ", ".join(labels)


def convention_note(results: Sequence[TwfeResult], columns: Sequence[str], lang: str = "en",
                    labels: Mapping[str, Any] | None = None) -> list[str]:
    """The SE convention of a table, once: what every column shares said once, what differs said per column.

    Columns are grouped by (cluster, number of clusters, preset, t df); a table whose columns all share them
    gets one sentence (not one per column), and the small-sample factors, which differ with K, are listed once.
    """
    tx = _text(lang)
    groups: dict[tuple, list[int]] = {}
    for i, r in enumerate(results):
        groups.setdefault((r.cluster, r.n_clusters, r.vcov, r.t_df), []).append(i)
    lines = []
    for (cluster, g, vcov, df), members in groups.items():
        r = results[members[0]]
        head = (tx["conv_cluster"].format(cluster=label_for(cluster, labels, lang), g=g) if cluster
                else tx["conv_robust"])
        text = head + tx["conv_preset"].format(preset=vcov, command=stata_command(r), df=df) + tx["end"]
        if len(groups) > 1:
            text = _span([columns[i] for i in members], lang) + (": " if lang == "en" else "：") + text
        lines.append(text)
    factors = [tx["conv_factor_item"].format(col=columns[i], f=r.small_sample_factor, k=r.k_counted)
               for i, r in enumerate(results)]
    if len({(round(r.small_sample_factor, 4), r.k_counted) for r in results}) == 1:
        factors = [tx["conv_factor_item"].format(col="", f=results[0].small_sample_factor, k=results[0].k_counted).strip()]
    lines.append(tx["conv_factor"].format(items=tx["list_sep"].join(factors) if lang == "zh" else "; ".join(factors)))
    return lines


def short_note(results: Sequence[TwfeResult], columns: Sequence[str], stat: str, thresholds: Sequence[float],
               lang: str = "en", labels: Mapping[str, Any] | None = None) -> str:
    """The one 注 line Chinese journals print: statistic; SE clustering (per column where it differs); stars."""
    tx = _text(lang)
    parts = [tx[f"short_stat_{stat}"]]
    groups: dict[str | None, list[str]] = {}
    for col, r in zip(columns, results, strict=True):
        groups.setdefault(r.cluster, []).append(col)
    clusters = []
    for cluster, cols in groups.items():
        level = label_for(cluster, labels, lang)
        if lang == "en" and level[:1].isupper() and not level[:2].isupper():
            level = level[0].lower() + level[1:]  # "clustered at the city level"
        text = tx["short_cluster"].format(level) if cluster else tx["short_robust"]
        clusters.append(text if len(groups) == 1 else f"{text}（{_span(cols, lang)}）" if lang == "zh"
                        else f"{text} ({_span(cols, lang)})")
    parts.append(tx["list_sep"].join(clusters) if lang == "zh" else "; ".join(clusters))
    if thresholds:
        marks = ("、" if lang == "zh" else ", ").join("*" * (i + 1) for i in range(len(thresholds)))
        levels = [f"{100 * t:g}%" for t in thresholds]
        joined = "、".join(levels) if lang == "zh" else ", ".join(levels[:-1]) + tx["and"] + levels[-1] if len(levels) > 1 else levels[0]
        parts.append(tx["short_stars"].format(marks=marks, levels=joined))
    return tx["note"] + tx["sep"].join(parts) + tx["end"]


def label_for(term: str, labels: Mapping[str, Any] | None, lang: str) -> str:
    """How ``term`` is shown: the one label resolver (study labels -> built-in names -> the name)."""
    return resolve_label(term, lang, labels)


def _fmt(x: float | None, digits: int) -> str:
    return fmt_fixed(x, digits)


def _published_cell(entry: Any, stat: str, thresholds: Sequence[float] = STARS) -> tuple[str, str]:
    """(coefficient text, parenthesised stat text) of one published value, digits as printed."""
    if entry is None:
        return "", ""
    if not isinstance(entry, Mapping):
        return published_text(entry), ""
    coef = entry.get("coef")
    text = published_text(coef) + (stars(entry["p"], thresholds) if entry.get("p") is not None
                                   else str(entry.get("stars", "")) if thresholds else "")
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


#: ``[tables]`` keys of a study file: name -> (type, default, help). docs/study-file.md and `pilotdid options` show
#: them (study/options.py section_keys); :func:`check_table_options` checks them.
TABLE_OPTIONS: dict[str, tuple[str, Any, str]] = {
    "stat": ("str", "t", "beneath each coefficient: t, se, p (in parentheses) or ci (95% CI in brackets)"),
    "digits": ("int", 3, "decimals of coefficients, statistics and R² (published values keep their own)"),
    "stars": ("list|bool", [0.1, 0.05, 0.01], "significance thresholds, loosest first; false for no stars"),
    "keep": ("list", None, "coefficient rows shown (only these, in this order; list \"_cons\" to keep the constant)"),
    "drop": ("list", [], "coefficient rows left out"),
    "order": ("list", [], "coefficient rows put first"),
    "indicate": ("table|bool", False, "Yes/No rows instead of coefficients: { Controls = [\"x1\", \"x2\"] }; "
                 "true = one row for the study's controls (Controls Yes/No; 控制变量 是/否)"),
    "fe_rows": ("bool", True, "one Yes/No row per fixed effect"),
    "stats": ("list", "(nobs and the table's R²)", "statistic rows: nobs, n_clusters, r2, adj_r2, r2_within, "
              "adj_r2_within, mean_outcome"),
    "notes": ("str", "full", "full (statistic, stars, SE convention once with per-column differences, "
              "definitions) or short (one 注 line: statistic; clustering; stars)"),
}


def check_table_options(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A validated copy of ``[tables]`` options; a one-line error naming the key and the fix otherwise."""
    from pilotdid.errors import PilotdidInputError

    out = dict(raw)
    for key in out:
        if key not in TABLE_OPTIONS:
            raise PilotdidInputError(f"unknown key '{key}' in {where}", where=where, fix=f"valid keys are: {', '.join(TABLE_OPTIONS)}")
    if "stat" in out and out["stat"] not in STATS:
        raise PilotdidInputError(f"stat must be one of {', '.join(STATS)}, got {out['stat']!r}", where=where, fix='stat = "t"')
    if "digits" in out and (not isinstance(out["digits"], int) or isinstance(out["digits"], bool) or not 0 <= out["digits"] <= 8):
        raise PilotdidInputError(f"digits must be an integer 0-8, got {out['digits']!r}", where=where, fix="digits = 3")
    if "stars" in out:
        value = out["stars"]
        if value is True:
            out["stars"] = list(STARS)
        elif value is False:
            out["stars"] = []
        elif not (isinstance(value, list) and all(isinstance(t, (int, float)) and not isinstance(t, bool) and 0 < t < 1
                                                  for t in value)):
            raise PilotdidInputError(f"stars must be a list of p-value thresholds in (0, 1) or false, got {value!r}",
                                     where=where, fix="stars = [0.10, 0.05, 0.01] (or stars = false)")
    for key in ("keep", "drop", "order"):
        if key in out and not (isinstance(out[key], list) and all(isinstance(t, str) for t in out[key])):
            raise PilotdidInputError(f"{key} must be a list of term names, got {out[key]!r}", where=where,
                                     fix=f'{key} = ["did", "agg"]')
    if "indicate" in out and not isinstance(out["indicate"], (bool, dict)):
        raise PilotdidInputError(f"indicate must be true/false or a table, got {out['indicate']!r}", where=where,
                                 fix='indicate = { Controls = ["agg", "invest"] }')
    if "fe_rows" in out and not isinstance(out["fe_rows"], bool):
        raise PilotdidInputError(f"fe_rows must be true or false, got {out['fe_rows']!r}", where=where, fix="fe_rows = true")
    if "stats" in out:
        bad = [k for k in out["stats"] if k not in STAT_ROWS] if isinstance(out["stats"], list) else [out["stats"]]
        if bad:
            raise PilotdidInputError(f"stats must be a list among {', '.join(STAT_ROWS)}, got {bad}", where=where,
                                     fix='stats = ["nobs", "adj_r2_within"]')
    if "notes" in out and out["notes"] not in ("full", "short"):
        raise PilotdidInputError(f"notes must be \"full\" or \"short\", got {out['notes']!r}", where=where, fix='notes = "short"')
    return out


def table_kwargs(options: Mapping[str, Any], *, controls: Sequence[str] = (), lang: str = "en",
                 labels: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """:func:`regression_table` keywords from validated table options (``indicate = true`` -> the controls)."""
    kw: dict[str, Any] = {}
    if "stat" in options:
        kw["stat"] = options["stat"]
    if "digits" in options:
        kw["digits"] = options["digits"]
    if "stars" in options:
        kw["star_levels"] = tuple(options["stars"])
    for key in ("keep", "drop", "order"):
        if options.get(key):
            kw[key] = list(options[key])
    indicate = options.get("indicate")
    if indicate is True and controls:
        kw["indicate"] = {_text(lang)["controls"]: list(controls)}
    elif isinstance(indicate, Mapping):
        kw["indicate"] = {label_for(str(k), labels, lang): [str(t) for t in v] for k, v in indicate.items()}
    if "fe_rows" in options:
        kw["show_fe"] = bool(options["fe_rows"])
    if "stats" in options:
        kw["stats"] = list(options["stats"])
    if "notes" in options:
        kw["notes_mode"] = options["notes"]
    return kw


def _stat_cell(r: Mapping[str, Any], stat: str, digits: int) -> str:
    if stat == "ci":
        return f"[{_fmt(r['ci_low'], digits)}, {_fmt(r['ci_high'], digits)}]"
    return f"({_fmt(r[stat], digits)})"


def select_terms(terms: Sequence[str], *, keep: Sequence[str] | None = None, drop: Sequence[str] | None = None,
                 order: Sequence[str] | None = None) -> list[str]:
    """esttab's keep/drop/order: ``keep`` (only these, in this order), minus ``drop``, then ``order`` first."""
    out = [t for t in keep if t in terms] if keep else list(terms)
    out = [t for t in out if t not in set(drop or ())]
    if order:
        first = [t for t in order if t in out]
        out = first + [t for t in out if t not in first]
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
    column_groups: Sequence[tuple[str, int]] | None = None,
    digits: int = 3,
    notes: Sequence[str] = (),
    star_levels: Sequence[float] | None = STARS,
    keep: Sequence[str] | None = None,
    drop: Sequence[str] | None = None,
    order: Sequence[str] | None = None,
    indicate: Mapping[str, Sequence[str]] | None = None,
    show_fe: bool = True,
    stats: Sequence[str] | None = None,
    notes_mode: str = "full",
) -> Table:
    """One column per fitted model, paper style (esttab / modelsummary options).

    terms:
        Order of the coefficient rows (default: every term of every model, first seen first).
        ``_cons`` need not be listed: ``show_constant`` adds it after the terms.
    labels:
        term → label, or term → {"en": …, "zh": …} (then built-in names, then the term itself).
    stat:
        beneath each coefficient: ``"t"``, ``"se"``, ``"p"`` (in parentheses) or ``"ci"`` (95% CI in brackets).
    star_levels:
        significance thresholds, loosest first (default 0.10, 0.05, 0.01); ``()`` or None prints no stars.
    keep / drop / order:
        which coefficient rows, as esttab: keep only these, drop these, put these first.
    indicate:
        label → terms: one Yes/No row per group ("Controls" = the controls) instead of their coefficient rows.
    fe_rows / show_fe:
        label → "Yes"/"No" for all columns, or a per-column list, or a fixed-effect column name
        (Yes where the model has it). Default: one row per fixed effect of the models ("city FE");
        ``show_fe = False`` prints none.
    extra_rows:
        label → per-column values appended before N (e.g. {"Controls": ["No", "Yes"]}).
    published:
        One entry per column (None where nothing is published): {term: {"coef", "t"/"se", "p"
        or "stars"}, "nobs": …, "adj_r2": …}; adds a "published" row under each of ours, printed with
        the paper's own decimals.
    r2_kind / stats:
        statistic rows at the bottom: ``stats`` among nobs, n_clusters, r2, adj_r2, r2_within, adj_r2_within,
        mean_outcome (default: nobs and ``r2_kind``); every R² row names its kind and the notes define it.
    column_groups:
        spanning header over the model columns, e.g. [("Resi", 3), ("GDP", 2)] for several outcomes side by
        side (``column_group`` is the one-group shorthand).
    notes_mode:
        ``"full"`` (statistic, stars, the SE convention once with per-column differences, constant and R²
        definitions) or ``"short"`` (one 注 line: statistic; clustering; stars).
    """
    if stat not in STATS:
        raise ValueError(f"stat must be one of {', '.join(STATS)}, got {stat!r}")
    if notes_mode not in ("full", "short"):
        raise ValueError(f"notes must be 'full' or 'short', got {notes_mode!r}")
    thresholds = tuple(sorted((float(t) for t in (star_levels or ())), reverse=True))
    r2_kinds = [r2_kind] if isinstance(r2_kind, str) else list(r2_kind)
    stat_rows = list(stats) if stats is not None else ["nobs", *r2_kinds]
    bad = [k for k in stat_rows if k not in STAT_ROWS]
    if bad:
        raise ValueError(f"stats must be among {', '.join(STAT_ROWS)}, got {bad}")
    r2_kinds = [k for k in stat_rows if k in R2_DEFINITIONS]
    if not results:
        raise ValueError("regression_table needs at least one result")
    tx = _text(lang)
    ncol = len(results)
    if published is not None and len(published) != ncol:
        raise ValueError(f"published has {len(published)} entries for {ncol} columns")
    columns = list(column_labels) if column_labels else [f"({i + 1})" for i in range(ncol)]
    if terms is None:
        terms = list(dict.fromkeys(t for r in results for t in r.terms))
    indicated = {t for group in (indicate or {}).values() for t in group}
    terms = [t for t in terms if t != CONSTANT_TERM and t not in indicated]
    terms = select_terms(terms, keep=keep, drop=drop, order=order)
    # as esttab: keep() without _cons, or drop(_cons), leaves the constant out (it was printed whatever keep said)
    if (keep and CONSTANT_TERM not in keep) or CONSTANT_TERM in (drop or ()):
        show_constant = False
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
                coef_cells.append(_fmt(r["coef"], digits) + stars(r["p"], thresholds))
                stat_cells.append(_stat_cell(r, stat, digits))
            entry = published[j].get(term) if published is not None and published[j] else None
            c, s_ = _published_cell(entry, stat if stat in ("t", "se", "p") else "t", thresholds)
            pub_coef.append(c)
            pub_stat.append(s_)
        label = tx["constant"] if term == CONSTANT_TERM else label_for(term, labels, lang)
        body.append([label, *coef_cells])
        body.append(["", *stat_cells])
        if any(pub_coef):
            body.append([tx["published"], *pub_coef])
            if any(pub_stat):
                body.append(["", *pub_stat])

    for label, group in (indicate or {}).items():
        body.append([label, *[tx["yes"] if any(t in r.terms for t in group) else tx["no"] for r in results]])
    if fe_rows is None:
        all_fe = list(dict.fromkeys(f for r in results for f in r.fixed_effects)) if show_fe else []
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

    for key in stat_rows:
        label = tx["n" if key == "nobs" else key]
        if key == "nobs":
            body.append([label, *[str(r.nobs) for r in results]])
        elif key == "n_clusters":
            body.append([label, *["" if r.n_clusters is None else str(r.n_clusters) for r in results]])
        else:
            body.append([label, *[_fmt(getattr(r, key, None), digits) for r in results]])
        vals = [p.get(key) if p else None for p in published] if published is not None else []
        if any(v is not None for v in vals):
            body.append([f"{label} — {tx['published'].strip()}", *[published_text(v) for v in vals]])

    if notes_mode == "short":
        table_notes = [short_note(results, columns, stat, thresholds, lang, labels)]
        if published is not None:
            table_notes.append(tx["published_note"])
    else:
        table_notes = [tx[f"stat_{stat}"], stars_note(thresholds, lang)]
        table_notes += convention_note(results, columns, lang, labels)
        if show_constant:
            for preset in dict.fromkeys(r.vcov for r in results if r.constant is None):
                table_notes.append(f"Preset {preset} reports no constant." if lang == "en" else f"约定 {preset} 不报告常数项。")
            rules = list(dict.fromkeys(get_preset(r.vcov).constant_rule for r in results if r.constant is not None))
            if rules:
                table_notes.append("Constant: " + "; ".join(rules) + "." if lang == "en" else
                                   "常数项：" + "；".join(messages("phrase", lang).get(r, r) for r in rules) + "。")
        for k in r2_kinds:  # a definition the catalogue translates is written in lang (else the template note finds it)
            local = messages("phrase", lang).get(R2_DEFINITIONS[k]) if lang != "en" else None
            table_notes.append(f"{tx[k].strip()}：{local}。" if local else f"{tx[k].strip()}: {R2_DEFINITIONS[k]}.")
        if published is not None:
            table_notes.append(tx["published_note"])
    table_notes += list(notes)

    header = [tx["variable"], *columns]
    frame = pd.DataFrame(body, columns=header)
    if column_groups:
        groups = [("", 1), *[(str(g), int(n)) for g, n in column_groups]]
    else:
        groups = [("", 1), (column_group, ncol)] if column_group else None
    return Table(name=name, title=title, body=frame, notes=table_notes, column_groups=groups)


def descriptives_table(
    panel: pd.DataFrame,
    variables: Sequence[str],
    labels: Mapping[str, Any] | None = None,
    published: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    name: str = "descriptives",
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
                cells.append("" if v is None else str(int(v)) if key == "n" else published_text(v))
            body.append([tx["published"], *cells])
    header = [tx["variable"], tx["n"], tx["mean"], tx["sd"], tx["min"], tx["max"]]
    notes = ["SD is the sample standard deviation (n − 1)." if lang == "en" else "标准差为样本标准差（n − 1）。"]
    if published:
        notes.append(
            "Rows marked 'published' are the values printed in the source, not computed here."
            if lang == "en" else "“原文”行为原文献报告的数值，非本程序计算。"
        )
    return Table(name=name, title=title, body=pd.DataFrame(body, columns=header), notes=notes)
