"""Regression tables in the paper's layout, built from result objects: the mediator table, the classical three-step
table and the subgroup table (one column per fit, the treatment row, the published numbers beneath, and rows such
as Controls / Years / Units), in the house regression-table style of the study's ``[tables]``.

The analyses (study/analyses/mechanism.py, heterogeneity.py) fit and hand the results here with a
:class:`TableStyle`; nothing here reads a study context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pilotdid.i18n import messages, msg
from pilotdid.report.labels import resolve_label
from pilotdid.report.numbers import fmt_fixed, published_text
from pilotdid.report.regression_table import stars
from pilotdid.report.table import Table

STARS_RULE = "* p < 0.10, ** p < 0.05, *** p < 0.01 (t with the preset's degrees of freedom)"


@dataclass(frozen=True)
class TableStyle:
    """How a study prints its regression tables: the report language, the ``[tables]`` layout, the controls
    (``indicate = true``) and the ``[study] labels``."""

    lang: str = "en"
    layout: Mapping[str, Any] = field(default_factory=lambda: {"stat": "t", "digits": 3})
    controls: Sequence[str] = ()
    labels: Mapping[str, Any] | None = None
    #: ``[study] unit_noun``: what row labels call the units (zh "城市数", "县数"; English says "Units")
    unit_noun: str | Mapping[str, str] = "unit"

    def label(self, name: str) -> str:
        """How a column or term is named in tables (the one resolver, :func:`pilotdid.report.labels.resolve_label`)."""
        return resolve_label(name, self.lang, self.labels)


def coef_cell(coef: float | None, p: float | None = None, digits: int = 4) -> str:
    return "" if coef is None or coef != coef else f"{coef:.{digits}f}{stars(p)}"


def p_text(v: float | None) -> str:
    return "" if v is None or v != v else f"{v:.3f}"


ROW_TEXT = {
    "en": {"controls": "Controls", "yes": "Yes", "no": "No", "years": "Years", "units": "Units", "mediator": "Mediator",
           "units_split": "Units (treated / never treated)"},
    "zh": {"controls": "控制变量", "yes": "是", "no": "否", "years": "年份", "units": "{unit}数", "mediator": "中介变量",
           "units_split": "{unit}数（处理组 / 从未处理）"},
}


def row_text(lang: str, unit_noun: str | Mapping[str, str] = "unit") -> dict[str, str]:
    """The row labels of the paper-layout tables in ``lang``, the units named as the study names them."""
    from pilotdid.i18n import unit_words

    lang = "zh" if lang == "zh" else "en"
    return {k: v.format(**unit_words(unit_noun, lang)) for k, v in ROW_TEXT[lang].items()}


def paper_table(fits, style: TableStyle, *, term: str, term_label: str, name: str, title: str, columns: list[str],
                extra_rows: dict[str, list[Any]], published: list[dict[str, Any] | None] | None,
                notes: list[str]) -> Table:
    """One column per fit (``.result``: a TWFE fit) in the house regression-table style (the ``term`` row only,
    FE rows, N, adj. R²)."""
    from pilotdid.report.regression_table import regression_table, table_kwargs

    lang = style.lang if style.lang in ("en", "zh") else "en"
    layout = {"stat": "t", "digits": 3, **(style.layout or {})}  # the study's [tables], as the baseline table
    kw = table_kwargs(layout, controls=list(style.controls), lang=lang, labels=style.labels)
    kw.pop("indicate", None)  # these tables print only the treatment row; their Controls row is in extra_rows
    return regression_table(
        [f.result for f in fits], name=name, title=title, terms=[term], labels={term: term_label},
        show_constant=False, extra_rows=extra_rows, lang=lang, published=published, column_labels=columns,
        notes=notes, **kw,
    )


# --------------------------------------------------------------------------------------------- mechanisms

def mechanism_table(results, style: TableStyle, *, treatment: str, treatment_name: str, controls: Sequence[str],
                    fixed_effects: Sequence[str], time: str, published: list[dict[str, Any] | None] | None,
                    wilds: list | None = None, wild_notes: list[str] | None = None) -> Table:
    """The mediator regressions (:class:`pilotdid.estimation.mediation.MediatorResult`, mediators as columns), the
    published numbers beneath ours; with few clusters the wild cluster bootstrap p and CI rows (``wilds``)."""
    from pilotdid.inference.few_clusters import wild_extra_rows

    columns = [r.spec.name for r in results]
    tx = row_text(style.lang, style.unit_noun)
    extra = {
        **wild_extra_rows(wilds or []),
        tx["controls"]: [tx["yes"] if controls else tx["no"]] * len(results),
        tx["years"]: [f"{r.years[0]}-{r.years[1]}" for r in results],
        tx["units"]: [r.units for r in results],
        tx["mediator"]: [r.spec.source_text for r in results],
    }
    notes = [
        f"Each column regresses the mediator on {treatment_name}, the controls ({', '.join(controls) or 'none'}) "
        f"and fixed effects ({', '.join(fixed_effects)}), on the rows where the mediator exists; N and years are "
        "per column.",
    ]
    notes += [f"{r.spec.name} = {r.spec.label}." for r in results if r.spec.label]
    notes += [f"{r.spec.name}: {r.spec.note}." for r in results if r.spec.note]
    notes += [f"{r.spec.name}: exists for {time} {r.years[0]}-{r.years[1]} only; the {r.rows_without_mediator} "
              "panel rows without a value are not in its column." for r in results if r.rows_without_mediator]
    if published is not None:
        notes.append("The paper's mediators are built from its own (partly non-public) data; compare signs and "
                     "significance rather than magnitudes.")
    notes += wild_notes or []
    return paper_table([r.fit for r in results], style, term=treatment, term_label=style.label(treatment_name),
                       name="mechanism", title="Mechanisms: mediator regressions on the treatment", columns=columns,
                       extra_rows=extra, published=published, notes=notes)


def three_step_table(steps, *, mechanism_ref: str, paper: bool = True) -> Table:
    """The classical three-step model (:class:`pilotdid.estimation.mediation.ThreeStepResult`), one column per
    mediator, clearly labelled; ``mechanism_ref`` is how the notes cite the mediator table; ``paper``: the study
    replicates a published paper (the caveat then calls the mediator regression the paper's evidence)."""

    def fmt(v, d=4):
        return "" if v is None or v != v else f"{v:.{d}f}"

    lines = [
        ("Step 1: total effect c", [fmt(s.total["coef"]) + stars(s.total["p"]) for s in steps]),
        ("Step 2: a (treatment → mediator)", [fmt(s.a["coef"]) + stars(s.a["p"]) for s in steps]),
        ("Step 3: b (mediator → outcome)", [fmt(s.b["coef"]) + stars(s.b["p"]) for s in steps]),
        ("Step 3: direct effect c′", [fmt(s.direct["coef"]) + stars(s.direct["p"]) for s in steps]),
        ("Indirect effect a·b", [fmt(s.indirect) for s in steps]),
        ("Sobel SE", [fmt(s.sobel_se) for s in steps]),
        ("Sobel p", [fmt(s.sobel_p, 3) for s in steps]),
        ("Bootstrap 95% CI of a·b", [f"[{fmt(s.boot_ci[0])}, {fmt(s.boot_ci[1])}]" for s in steps]),
        ("Share mediated a·b / c", [fmt(s.proportion_mediated, 3) for s in steps]),
        ("N (common sample)", [str(s.nobs) for s in steps]),
    ]
    body = pd.DataFrame([[label, *cells] for label, cells in lines], columns=["", *[s.mediator for s in steps]])
    notes = [
        msg("template.note.three_step_caveat" if paper else "template.note.three_step_caveat_no_paper", "en",
            ref=mechanism_ref),
        f"Bootstrap: {steps[0].boot_draws if steps else 0} draws of units with replacement (cluster bootstrap), "
        f"seed {steps[0].seed if steps else ''}, percentile interval; Sobel p from the normal distribution; {STARS_RULE}.",
        "Each column uses the rows where both the outcome and the mediator exist.",
    ]
    notes += [f"{s.mediator}: {s.boot_failed} bootstrap draws failed and were not counted." for s in steps if s.boot_failed]
    return Table(name="mechanism_three_step", title="Classical three-step mediation model (optional)",
                 body=body, notes=notes)


# --------------------------------------------------------------------------------------------- subgroups


_DIFF_TEXT = {
    "en": ("Difference (first − second)", "  SE, fully interacted model", "  p, fully interacted model",
           "  p, permutation within cohorts (difference)", "  p, permutation within cohorts (studentised)",
           "  p, permutation across all units (difference)", "  p, permutation across all units (studentised)",
           "  Treated share (first / second)"),
    "zh": ("组间差异（前者 − 后者）", "  标准误，完全交互模型", "  p值，完全交互模型", "  p值，队列内置换检验（差异）",
           "  p值，队列内置换检验（学生化）", "  p值，全样本置换检验（差异）", "  p值，全样本置换检验（学生化）",
           "  处理组占比（前者 / 后者）"),
}


def split_title(name: str, lang: str = "en", unit_noun: str | Mapping[str, str] = "unit") -> str:
    """A split's heading in the chosen language (catalogue ``heterogeneity.split.NAME``, the units named as the
    study names them: "City size"), else its name."""
    from pilotdid.i18n import unit_words

    known = messages("heterogeneity.split", lang)
    return known[name].format(**unit_words(unit_noun, lang)) if name in known else name


def group_title(style: TableStyle, label: str, title: str) -> str:
    """A subgroup's title: the study's label for it in the report language (``[study] labels``), else its title."""
    return style.label(label) if label in (style.labels or {}) else title


def permutation_tests(res) -> dict[str, Any]:
    """The permutation tests of a split keyed "cohort" (within adoption cohorts) and "all" (across all units)."""
    tests = [t for t in (res.permutation, *res.other_permutations.values()) if t is not None]
    return {("cohort" if t.strata else "all"): t for t in tests}


def heterogeneity_table(results, style: TableStyle, *, treatment: str, treatment_name: str, outcome: str,
                        controls: Sequence[str], fixed_effects: Sequence[str], draws: int, seed: int,
                        strata: str | None, published: list[dict[str, Any] | None] | None,
                        wilds: dict[str, dict | None] | None = None, wild_notes: list[str] | None = None) -> Table:
    """The subgroup estimates (:class:`pilotdid.estimation.heterogeneity.SplitResult`) in the paper's layout: pairs
    of subgroup columns, published values beneath ours, and the difference tests the paper leaves out; with few
    clusters the subgroup columns' wild bootstrap p and CI rows."""
    from pilotdid.estimation.heterogeneity import STRATA_VALIDITY
    from pilotdid.inference.few_clusters import wild_extra_rows

    fits, columns = [], []
    for res in results:
        for label in res.split.labels:
            fits.append(res.fits[label])
            columns.append(label)
    owner = {label: res for res in results for label in res.split.labels}
    tx = row_text(style.lang, style.unit_noun)
    extra = {
        **wild_extra_rows([(wilds or {}).get(c) for c in columns]),
        tx["controls"]: [tx["yes"] if controls else tx["no"]] * len(columns),
        tx["units_split"]: [
            f"{owner[c].units[c]} ({owner[c].treated_units[c]} / {owner[c].never_treated_units[c]})" for c in columns],
    }
    notes = [
        f"Separate regressions of {outcome} on {treatment_name}, the controls "
        f"({', '.join(controls) or 'none'}) and fixed effects ({', '.join(fixed_effects)}) in each subgroup.",
        "Difference tests (the paper reports none): (a) the fully interacted model — treatment, controls and every "
        "fixed effect interacted with the group, so period effects are group-specific — whose interaction coefficient "
        "equals the difference of the two columns, with a cluster-robust SE over both groups (same preset); "
        + (f"(b) Fisher permutation tests ({draws} draws each, seed {seed}, group sizes fixed), p = "
           "(1 + #{|d_r| >= |d|})/(draws + 1) on the raw and on the studentised difference, with the group labels "
           "permuted within adoption cohorts (stratified) and across all units (unstratified), side by side; "
           f"strata = \"{strata}\" (default \"cohort\") is the one results.json reports as p_permutation."
           if draws > 0 else "(b) the permutation test was switched off (draws = 0)."),
    ]
    if draws > 0:
        notes.append(STRATA_VALIDITY)
    notes += wild_notes or []
    for res in results:
        s = res.split
        rule = (f">= {s.threshold:g}" if s.threshold is not None else f"= {s.values[0]!r}" if s.values is not None
                else "true")
        notes.append(f"{split_title(s.name, 'en', style.unit_noun)}: first group '{s.labels[0]}' = units with {s.column} {rule}"
                     + (f" (value in each unit's {s.at} period)" if s.at else "") + ".")
        notes += res.notes
    table = paper_table(fits, style, term=treatment, term_label=style.label(treatment_name), name="heterogeneity",
                        title="Heterogeneity: subgroup estimates and difference tests",
                        columns=[group_title(style, c, owner[c].split.display_titles[owner[c].split.labels.index(c)])
                                 for c in columns],
                        extra_rows=extra, published=published, notes=notes)
    text = _DIFF_TEXT["zh" if style.lang == "zh" else "en"]

    def first_only(fn) -> list[str]:
        return [fn(owner[c]) if c == owner[c].split.labels[0] else "" for c in columns]

    lines = [
        (text[0], first_only(lambda r: coef_cell(r.difference, r.interacted["p"]))),
        (text[1], first_only(lambda r: f"({r.interacted['se']:.4f})")),
        (text[2], first_only(lambda r: p_text(r.interacted["p"]))),
    ]
    if draws > 0:
        lines += [(text[3], first_only(lambda r: p_text(permutation_tests(r)["cohort"].p_diff))),
                  (text[4], first_only(lambda r: p_text(permutation_tests(r)["cohort"].p_t))),
                  (text[5], first_only(lambda r: p_text(permutation_tests(r)["all"].p_diff))),
                  (text[6], first_only(lambda r: p_text(permutation_tests(r)["all"].p_t)))]
    lines.append((text[7], first_only(lambda r: " / ".join(f"{r.treated_share[lab]:.0%}" for lab in r.split.labels))))
    extra_body = pd.DataFrame([[label, *cells] for label, cells in lines], columns=table.body.columns)
    body = pd.concat([table.body, extra_body], ignore_index=True)
    groups = [("", 1)] + [(split_title(r.split.name, style.lang, style.unit_noun), 2) for r in results]
    return Table(name=table.name, title=table.title, body=body, notes=table.notes, column_groups=groups,
                 float_digits=table.float_digits)


# --------------------------------------------------------------------------------------------- paper beside ours

def _pair(coef: Any, t: Any) -> str:
    """Our coefficient (t), 3 decimals."""
    if coef is None:
        return ""
    return fmt_fixed(coef, 3) + (f" ({fmt_fixed(t, 3)})" if t is not None else "")


def _published_pair(coef: Any, t: Any) -> str:
    """The paper's coefficient (t) with the decimals it printed."""
    if coef is None:
        return ""
    return published_text(coef) + (f" ({published_text(t)})" if t is not None else "")


def paper_comparison_table(rows: list[dict[str, Any]], *, notes: list[str]) -> Table:
    """Every published number beside ours: ``rows`` of {table, column, term (as printed), published (the published
    row), ours (our results.json row or None), note (why there is none)}."""
    body = pd.DataFrame([[
        r["table"], r["column"], r["term"],
        _published_pair(r["published"].get("coef"), r["published"].get("t")),
        _pair(r["ours"] and r["ours"].get("coef"), r["ours"] and r["ours"].get("t")),
        "" if r["published"].get("nobs") is None else str(r["published"]["nobs"]),
        "" if r["ours"] is None else str(r["ours"].get("nobs") or ""),
        r["note"],
    ] for r in rows], columns=["Table", "Column", "Term", "Paper: coef (t)", "pilotdid: coef (t)", "Paper N",
                               "pilotdid N", "Note"])
    return Table("paper_vs_pilotdid", "The paper's published estimates beside pilotdid's, table by table", body,
                 notes=notes, wrap_columns=(1, 2, 7))  # column, term and note: running text
