"""The specification-curve tables: each varied choice's values held one at a time at the study's own, the
specifications per choice value (median estimate, shares positive / significant), and the summary."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pilotdid.design.samples import DROP_PERIODS_SAMPLE
from pilotdid.i18n import messages, msg
from pilotdid.report.table import Table


def choice_value(value: Any, lang: str = "en") -> str:
    """A choice's value as the reader sees it: the catalogue's name, drop_YYYY[_YYYY] as words, else the value."""
    known = messages("multiverse.value", lang)
    if str(value) in known:
        return known[str(value)]
    years = DROP_PERIODS_SAMPLE.match(str(value))
    if years:
        return msg("multiverse.drop_years", lang, years="–".join(y for y in years.groups() if y))
    return str(value)


def vary_one_choice(table: pd.DataFrame, own: dict[str, Any], dimensions: list[str], labels: dict[str, str],
                    lang: str = "en", own_se: str = "own") -> pd.DataFrame:
    """For each varied choice and each of its values, the specification that keeps every other choice
    at the study's own: the sensitivity of the headline to that one choice."""
    rows = []
    for d in dimensions:
        # a robust estimator's row has its own SE (preset "own"): across estimators the SE preset is not held fixed
        others = [k for k in dimensions if k != d and k in own and not (d == "estimator" and k == "vcov")]
        keep = np.all([table[k].astype(str) == str(own[k]) for k in others], axis=0) if others else np.ones(len(table), bool)
        if d == "estimator" and "vcov" in table:  # TWFE at the study's SE preset, the others with their own SE
            keep = keep & table["vcov"].astype(str).isin([str(own.get("vcov")), own_se]).to_numpy()
        for r in table.loc[keep].sort_values(d, key=lambda c: c.astype(str), kind="mergesort").itertuples():
            value = getattr(r, d)
            own_mark = msg("multiverse.own_mark", lang) if str(value) == str(own.get(d)) else ""
            rows.append({"Choice": labels[d], "Value": choice_value(value, lang) + own_mark,
                         "Estimate": float(r.coef), "SE": float(r.se), "p": float(r.p),
                         "Placebo p": None if getattr(r, "placebo_p", None) is None else float(r.placebo_p),
                         "N": int(r.nobs) if getattr(r, "nobs", None) is not None else None})
    frame = pd.DataFrame(rows)
    return frame.rename(columns=messages("multiverse.column", lang))


def by_choice(table: pd.DataFrame, grid: dict[str, list], dimensions: list[str], labels: dict[str, str],
              lang: str = "en", alpha: float = 0.05) -> pd.DataFrame:
    """One row per value of each varied choice: how many specifications use it, their median
    estimate and the shares positive / positive and significant (a compact table for reports;
    a table of hundreds of specifications does not belong in a Word document)."""
    rows = []
    for d in dimensions:
        for value in grid[d]:
            sub = table.loc[table[d].astype(str) == str(value)]
            if sub.empty:
                continue
            sig = sub["p"] < alpha
            rows.append({"Choice": labels[d], "Value": choice_value(value, lang), "Specifications": int(len(sub)),
                         "Median estimate": float(sub["coef"].median()),
                         "Share positive": float((sub["coef"] > 0).mean()),
                         "Share positive & p < 0.05": float(((sub["coef"] > 0) & sig).mean()),
                         "Share negative & p < 0.05": float(((sub["coef"] <= 0) & sig).mean())})
    return pd.DataFrame(rows).rename(columns=messages("multiverse.column", lang))


def specification_curve_tables(table: pd.DataFrame, summary: dict[str, Any], *, grid: dict[str, list],
                               varied: list[str], own: dict[str, Any], notes: list[str], labels: dict[str, str],
                               lang: str = "en", alpha: float = 0.05, own_se: str = "own") -> dict[str, Table]:
    """The three tables of a specification curve (``table``: one row per specification, ranked; ``summary``: its
    shares and median; ``labels``: the choices' names in ``lang``). A grid of one specification varies nothing: its
    tables show that one specification under the SE preset, as the figure does."""
    dimensions = varied or ["vcov"]
    body = by_choice(table, grid, dimensions, labels, lang, alpha)
    tx = messages("multiverse.summary", lang)
    summary_body = pd.DataFrame([
        [tx["n"], f"{summary['n_specs']}"],
        [tx["positive"], f"{summary['share_positive']:.3f}"],
        [tx["positive_significant"], f"{summary['share_positive_significant']:.3f}"],
        [tx["negative_significant"], f"{summary['share_negative_significant']:.3f}"],
        [tx["median"], f"{summary['median_coef']:.4f}"],
        [tx["range"], tx["range_value"].format(lo=f"{summary['min_coef']:.4f}", hi=f"{summary['max_coef']:.4f}")],
        *([[tx["placebo"], f"{summary['share_placebo_p_below_alpha']:.3f}"]]
          if "share_placebo_p_below_alpha" in summary else []),
    ], columns=[tx["statistic"], tx["value"]])
    one_at_a_time = vary_one_choice(table, own, dimensions, labels, lang, own_se)
    return {
        "specification_curve_one_at_a_time": Table(
            name="specification_curve_one_at_a_time",
            title=msg("multiverse.title.one_at_a_time", lang),
            body=one_at_a_time, float_digits=4,
            notes=[msg("multiverse.note.one_at_a_time", lang)]),
        "specification_curve_by_choice": Table(
            name="specification_curve_by_choice", title=msg("multiverse.title.by_choice", lang),
            body=body, float_digits=4,
            notes=[*notes, msg("multiverse.note.results_json", lang)]),
        "specification_curve_summary": Table(name="specification_curve_summary",
                                             title=msg("multiverse.title.summary", lang), body=summary_body,
                                             notes=notes[-1:]),
    }
