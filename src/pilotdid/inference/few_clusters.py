"""The few-clusters guard: cluster-robust inference with fewer than ``[model] few_clusters`` clusters (default 30).

With few clusters the CRV1 t-test over-rejects (Cameron, Gelbach & Miller 2008; MacKinnon & Webb 2017). Below the
threshold every table whose notes name a cluster-robust convention says so; the baseline, robustness (Table 5 and
the further checks), mechanism (Table 6) and heterogeneity (Table 7 subgroup columns) tables report the wild cluster
restricted bootstrap p-value and CI of the treatment coefficient beside the analytic ones (rows 'Wild bootstrap p' /
'Wild bootstrap 95% CI'; results.json ``p_wild``, ``ci_wild_low``, ``ci_wild_high``, ``wild_clusters`` on those
estimate rows), the event study one per coefficient; results.json ``data`` carries the cluster count and the flag.
Each regression is bootstrapped on its own sample, so a subgroup with fewer clusters gets its own weights. With
``[model] weights`` the baseline and event-study bootstraps are of the weighted regressions (analytic weights, as
``boottest`` after a weighted regression); PSM-weighted regressions keep the note only. Weights: Webb's six-point below 12 clusters (Rademacher has too few distinct sign
vectors there), Rademacher otherwise.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pilotdid.estimation.twfe.covariance import DEFAULT_VCOV

DEFAULT_THRESHOLD = 30
WEBB_BELOW = 12


def cluster_count(panel: pd.DataFrame, cluster: str) -> int:
    return int(panel[cluster].nunique())


def bootstrap_weights(n_clusters: int) -> str:
    return "webb" if n_clusters < WEBB_BELOW else "rademacher"


def warning_note(n_clusters: int, threshold: int, cluster: str) -> str:
    return (f"Few clusters: {n_clusters} clusters of {cluster} (< {threshold}); cluster-robust t-tests over-reject "
            "with few clusters -- read them beside the wild cluster bootstrap (the tables' wild bootstrap rows, results.json "
            "p_wild / ci_wild_*, and the wild_bootstrap analysis).")


def wild_for_baseline(panel: pd.DataFrame, *, outcome: str, term: str, controls: list[str],
                      fixed_effects: list[str], cluster: str, vcov: str, seed: int, reps: int = 9999,
                      analytic_weights: str | None = None) -> dict[str, Any]:
    """Wild cluster restricted bootstrap p-value and CI of ``term`` (the regression as the baseline fits it,
    weighted by ``analytic_weights`` when given)."""
    from pilotdid.inference.wild_bootstrap import wild_cluster_bootstrap

    weights = bootstrap_weights(cluster_count(panel, cluster))
    res = wild_cluster_bootstrap(panel, outcome=outcome, term=term, controls=controls, fixed_effects=fixed_effects,
                                 cluster=cluster, reps=reps, weights=weights, seed=seed, vcov=vcov,
                                 analytic_weights=analytic_weights)
    return {"p_wild": res.p_value, "ci_wild_low": res.ci_low, "ci_wild_high": res.ci_high, "wild_weights": weights,
            "wild_draws": res.reps, "wild_full_enumeration": res.full_enumeration}


def flag_tables(tables: dict[str, Any], note: str) -> int:
    """Append ``note`` to every table whose notes name a cluster-robust convention; returns how many."""
    flagged = 0
    for table in tables.values():
        notes = getattr(table, "notes", None)
        if notes is None or note in notes:
            continue
        if any("cluster" in str(n).lower() for n in notes):
            notes.append(note)
            flagged += 1
    return flagged


class FitRecorder:
    """Wraps a TWFE fit of the one callback shape (:data:`pilotdid.estimation.twfe.TwfeFit`, e.g. ``fit_twfe``) and
    keeps each call's inputs beside its result, so that the wild cluster bootstrap re-runs exactly the regression
    behind a table cell (robustness, mechanism and heterogeneity fit on samples built inside their estimators)."""

    def __init__(self, fit, unit: str | None = None):
        self.fit = fit
        self.unit = unit  # cluster=None in a study means "by unit" (as the baseline's bootstrap reads it)
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, data, outcome, regressors, fixed_effects, cluster, vcov=DEFAULT_VCOV, **kwargs):
        result = self.fit(data, outcome, regressors, fixed_effects, cluster, vcov=vcov, **kwargs)
        self.calls.append((result, {"data": data, "outcome": outcome, "regressors": list(regressors),
                                    "fixed_effects": list(fixed_effects), "cluster": cluster or self.unit, "vcov": vcov,
                                    "weights": kwargs.get("weights")}))
        return result

    def inputs_of(self, result) -> dict[str, Any] | None:
        """The inputs of the call that returned ``result`` (or the TwfeResult a FitSummary views)."""
        fitted = getattr(result, "result", None)
        return next((inputs for r, inputs in self.calls if r is result or (fitted is not None and r is fitted)), None)


def wild_for_inputs(inputs: dict[str, Any] | None, term: str, *, threshold: int, seed: int,
                    analytic_weights: str | None = None) -> dict[str, Any] | None:
    """The wild cluster restricted bootstrap of ``term`` in a recorded regression, or None when it does not apply:
    no recorded inputs, no clustering (heteroskedasticity-robust SEs), a regression weighted by anything but the
    study's ``analytic_weights`` (PSM weights), or at least ``threshold`` clusters in the regression's sample."""
    if inputs is None or inputs["cluster"] is None or (inputs.get("weights") and inputs["weights"] != analytic_weights):
        return None
    columns = [inputs["outcome"], *inputs["regressors"], *inputs["fixed_effects"], inputs["cluster"]]
    data = inputs["data"].dropna(subset=list(dict.fromkeys(columns)))
    n_clusters = cluster_count(data, inputs["cluster"])
    if n_clusters >= threshold or n_clusters < 2:
        return None
    wild = wild_for_baseline(data, outcome=inputs["outcome"], term=term,
                             controls=[r for r in inputs["regressors"] if r != term],
                             fixed_effects=inputs["fixed_effects"], cluster=inputs["cluster"], vcov=inputs["vcov"],
                             seed=seed, analytic_weights=inputs.get("weights"))
    return {**wild, "wild_clusters": n_clusters}


def wild_note(table_label: str, term: str, cells: list[tuple[str, dict[str, Any]]], seed: int) -> str:
    """One sentence naming the bootstrap and listing each column's p and CI."""
    first = cells[0][1]
    how = (f"{first['wild_weights']} weights, " + ("all sign vectors" if first["wild_full_enumeration"]
                                                   else f"{first['wild_draws']} draws, seed {seed}"))
    return (f"Few clusters: wild cluster restricted bootstrap of the {term} coefficient in {table_label} ({how}; "
            "CI by test inversion; rows 'Wild bootstrap p' / 'Wild bootstrap 95% CI'): "
            + "; ".join(f"({col}) {w['wild_clusters']} clusters, p = {w['p_wild']:.4f}, 95% CI "
                        f"[{w['ci_wild_low']:.4f}, {w['ci_wild_high']:.4f}]" for col, w in cells) + ".")


def wild_cells(wilds: list[dict[str, Any] | None]) -> tuple[list[str], list[str]]:
    """Table cells (p, CI) per column; empty where the bootstrap did not apply."""
    p = [f"{w['p_wild']:.3f}" if w else "" for w in wilds]
    ci = [f"[{w['ci_wild_low']:.4f}, {w['ci_wild_high']:.4f}]" if w else "" for w in wilds]
    return p, ci


WILD_P_ROW = "Wild bootstrap p"
WILD_CI_ROW = "Wild bootstrap 95% CI"


def wild_extra_rows(wilds: list[dict[str, Any] | None]) -> dict[str, list[str]]:
    """The two wild rows as ``extra_rows`` of a regression table (empty when no column has a bootstrap)."""
    if not any(wilds):
        return {}
    p, ci = wild_cells(wilds)
    return {WILD_P_ROW: p, WILD_CI_ROW: ci}


def insert_wild_rows(body: pd.DataFrame, wilds: list[dict[str, Any] | None], after: int = 1) -> pd.DataFrame:
    """``body`` (a label column, then one column per regression) with the two wild rows after row ``after``
    (the treatment coefficient and its t/SE row); unchanged when the column count does not match."""
    if len(body.columns) != len(wilds) + 1 or not any(wilds):
        return body
    p, ci = wild_cells(wilds)
    extra = pd.DataFrame([[WILD_P_ROW, *p], [WILD_CI_ROW, *ci]], columns=body.columns)
    return pd.concat([body.iloc[: after + 1], extra, body.iloc[after + 1:]], ignore_index=True)


def add_wild_to_rows(estimates: list[dict], column: str, term: str, wild: dict[str, Any]) -> None:
    """results.json: the wild p and CI on the estimate row of ``term`` in ``column``."""
    for row in estimates:
        if str(row.get("column")) == str(column) and row.get("term") == term:
            row.update(wild)
