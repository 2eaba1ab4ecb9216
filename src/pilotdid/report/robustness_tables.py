"""The robustness tables: the paper-layout table of robustness regressions (one column per check, the treatment
row with its t, extra terms, FE/controls rows, N, adj. R², published values beneath) and the PSM balance table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pilotdid.report.labels import resolve_label
from pilotdid.report.numbers import published_text
from pilotdid.report.table import Table

PSM_ROW_LABEL = {"matched_rows": "unweighted on matched rows (reghdfe ... if _weight != .)",
                 "weights": "weighted by psmatch2's _weight"}
HEADERS = {
    "psm_nearest": "PSM-DID nearest 1:{k}", "psm_radius": "PSM-DID radius", "psm_kernel": "PSM-DID kernel",
    "concurrent_policy": "Concurrent policy", "lagged": "Lagged treatment", "winsorised": "Winsorised 1%",
    "winsorised_5": "Winsorised 5%", "no_capitals": "Without capitals",
}


def _stars(p: float | None) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


def _cell(coef: float | None, t: float | None, p: float | None) -> tuple[str, str]:
    if coef is None or not np.isfinite(coef):
        return "", ""
    return f"{coef:.3f}{_stars(p)}", f"({t:.3f})"


class RobustnessColumn:
    """One regression of the robustness tables: its fit (or why it is missing) and its notes."""

    def __init__(self, key: str, label: str, term: str, fit=None, extra_terms: tuple[str, ...] = (),
                 note: str | None = None, sample: str = "full", alt_fit=None, alt_label: str | None = None):
        self.key, self.label, self.term, self.fit = key, label, term, fit
        self.extra_terms, self.note, self.sample = extra_terms, note, sample
        #: the same sample under the other PSM weighting convention (shown in the row below the DID)
        self.alt_fit, self.alt_label = alt_fit, alt_label
        #: wild cluster bootstrap p / CI of the DID term when the regression has few clusters (else None)
        self.wild: dict[str, Any] | None = None

    def term_row(self, term: str) -> dict[str, Any] | None:
        if self.fit is None:
            return None
        try:
            return self.fit.term(term)
        except KeyError:
            return None


def robustness_table(name: str, title: str, columns: list[RobustnessColumn], published: list[dict], *, k: int,
                     treatment_name: str, controls: list[str], fixed_effects: list[str], lang: str = "en",
                     study_labels: dict | None = None, notes: list[str]) -> Table:
    """Paper layout: treatment row (coef with stars, t below), extra terms, FE/controls rows, N, adj. R²,
    then the published values where there are any."""
    def _label(name: str) -> str:
        return resolve_label(name, lang, study_labels)

    headers = [f"({i + 1}) " + HEADERS.get(c.key, c.label).format(k=k) for i, c in enumerate(columns)]
    labels, cells = [], []

    def add(label: str, values: list[str]) -> None:
        labels.append(label)
        cells.append(values)

    lookup: dict[tuple[str, str], dict] = {}
    for r in published:
        lookup[(str(r.get("column")), str(r.get("term")).lower())] = r

    def paper(col: RobustnessColumn, term: str) -> dict | None:
        hit = lookup.get((col.key, term.lower()))
        if hit is None and term == col.term:  # transcriptions may spell the treatment DID / L.DID
            hit = lookup.get((col.key, "l.did" if term.startswith("L.") else "did"))
        return hit

    def add_term(label: str, terms: list[str | None]) -> None:
        rows = [c.term_row(t) if t else None for c, t in zip(columns, terms)]
        add(label, [_cell(r and r["coef"], r and r["t"], r and r["p"])[0] for r in rows])
        add("", [_cell(r and r["coef"], r and r["t"], r and r["p"])[1] for r in rows])
        pub = [paper(c, t) if t else None for c, t in zip(columns, terms)]
        if any(pub):
            add(f"{label} — paper (published)", [published_text(r["coef"]) if r and r.get("coef") is not None else ""
                                                 for r in pub])
            add("", [f"({published_text(r['t'])})" if r and r.get("t") is not None else "" for r in pub])

    lag_col = next((i for i, c in enumerate(columns) if c.key == "lagged"), None)
    add_term(treatment_name + (f" (col. {lag_col + 1}: L.{treatment_name})" if lag_col is not None else ""),
             [c.term for c in columns])
    if any(c.wild for c in columns):  # few clusters: the wild bootstrap beside the analytic t
        from pilotdid.inference import few_clusters

        p_cells, ci_cells = few_clusters.wild_cells([c.wild for c in columns])
        add(few_clusters.WILD_P_ROW, p_cells)
        add(few_clusters.WILD_CI_ROW, ci_cells)
    alt_labels = {c.alt_label for c in columns if c.alt_fit is not None}
    for alt in sorted(alt_labels):  # the PSM regression under the other weighting convention
        rows = [c.alt_fit.term(c.term) if c.alt_fit is not None and c.alt_label == alt else None for c in columns]
        add(f"{treatment_name} — PSM {PSM_ROW_LABEL[alt]}",
            [_cell(r and r["coef"], r and r["t"], r and r["p"])[0] for r in rows])
        add("", [_cell(r and r["coef"], r and r["t"], r and r["p"])[1] for r in rows])
    for extra in dict.fromkeys(t for c in columns for t in c.extra_terms):
        add_term(_label(extra), [extra if extra in c.extra_terms else None for c in columns])
    add("Controls", ["Yes" if controls else "No"] * len(columns))
    for fe in fixed_effects:
        add(f"{_label(fe)}固定效应" if lang == "zh" else f"{_label(fe)} FE", ["Yes"] * len(columns))
    drops = any(c.fit is not None and c.fit.singletons_dropped for c in columns)
    if drops:  # reghdfe's singleton removal: both counts, named
        add("N before singleton removal (PSM: matched rows)",
            [str(c.fit.nobs + (c.fit.singletons_dropped or 0)) if c.fit is not None else "" for c in columns])
        add("N after singleton removal (regression)", [str(c.fit.nobs) if c.fit is not None else "" for c in columns])
    else:
        add("N", [str(c.fit.nobs) if c.fit is not None else "" for c in columns])
    pub_n = [next((r.get("nobs") for (col, _), r in lookup.items() if col == c.key and r.get("nobs")), None)
             for c in columns]
    if any(pub_n):
        add("N — paper (published)", [str(n) if n else "" for n in pub_n])
    add("Adj. R²", [f"{c.fit.adj_r2:.3f}" if c.fit is not None else "" for c in columns])
    body = pd.DataFrame(cells, columns=headers)
    body.insert(0, "", labels)
    return Table(name=name, title=title, body=body, notes=[n for n in notes if n])


def balance_table(match) -> Table:
    """PSM balance of one matching (pstest layout): means, % bias and t before and after matching."""
    b = match.balance
    rows = []
    for r in b.itertuples():
        rows.append([r.variable, "Unmatched", r.mean_treated_unmatched, r.mean_control_unmatched,
                     r.bias_pct_unmatched, np.nan, r.t_unmatched, r.p_unmatched])
        rows.append(["", "Matched", r.mean_treated_matched, r.mean_control_matched, r.bias_pct_matched,
                     r.bias_reduction_pct, r.t_matched, r.p_matched])
    body = pd.DataFrame(rows, columns=["Variable", "Sample", "Mean treated", "Mean control", "% bias",
                                       "% reduction |bias|", "t", "p>|t|"])
    s = match.summary()
    return Table(
        name=f"psm_balance_{match.method}", title=f"PSM balance ({match.method} matching, {match.pooling})",
        body=body, float_digits=3,
        notes=[
            "Standardised % bias = 100·(mean_T − mean_C)/sqrt((var_T + var_C)/2), variances from the unmatched "
            "sample (as pstest); matched means: treated on support vs controls weighted by the matching weights; "
            "matched t-test from a weighted regression of the variable on the treatment dummy.",
            f"Treated rows {s['treated_rows']}, on support {s['treated_on_support']}; controls used "
            f"{s['controls_used']} of {s['controls_total']}; N (matched rows) = {s['n_matched']}.",
            *match.notes,
        ],
    )


def winsorising_table(counts: pd.DataFrame) -> Table:
    """Values changed per variable by the winsorising checks (:func:`pilotdid.design.winsorize.winsorize` reports)."""
    return Table(name="winsorising_counts", title="Winsorising: values changed per variable",
                 body=counts, notes=["Two tails, pooled over all rows; percentiles by "
                                     "Stata's _pctile definition (as winsor2)."],
                 float_digits=4)
