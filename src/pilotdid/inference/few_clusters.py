"""The few-clusters guard: cluster-robust inference with fewer than ``[model] few_clusters`` clusters (default 30).

With few clusters the CRV1 t-test over-rejects (Cameron, Gelbach & Miller 2008; MacKinnon & Webb 2017). Below the
threshold every table whose notes name a cluster-robust convention says so, the baseline table reports the wild
cluster restricted bootstrap p-value and CI of the treatment coefficient beside the analytic ones (results.json:
``p_wild``, ``ci_wild_low``, ``ci_wild_high`` on those estimate rows), and results.json ``data`` carries the
cluster count and the flag. Weights: Webb's six-point below 12 clusters (Rademacher has too few distinct sign
vectors there), Rademacher otherwise.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

DEFAULT_THRESHOLD = 30
WEBB_BELOW = 12


def cluster_count(panel: pd.DataFrame, cluster: str) -> int:
    return int(panel[cluster].nunique())


def bootstrap_weights(n_clusters: int) -> str:
    return "webb" if n_clusters < WEBB_BELOW else "rademacher"


def warning_note(n_clusters: int, threshold: int, cluster: str) -> str:
    return (f"Few clusters: {n_clusters} clusters of {cluster} (< {threshold}); cluster-robust t-tests over-reject "
            "with few clusters -- read them beside the wild cluster bootstrap (baseline table notes, results.json "
            "p_wild / ci_wild_*, and the wild_bootstrap analysis).")


def wild_for_baseline(panel: pd.DataFrame, *, outcome: str, term: str, controls: list[str],
                      fixed_effects: list[str], cluster: str, vcov: str, seed: int, reps: int = 9999) -> dict[str, Any]:
    """Wild cluster restricted bootstrap p-value and CI of ``term`` (the regression as the baseline fits it)."""
    from pilotdid.inference.wild_bootstrap import wild_cluster_bootstrap

    weights = bootstrap_weights(cluster_count(panel, cluster))
    res = wild_cluster_bootstrap(panel, outcome=outcome, term=term, controls=controls, fixed_effects=fixed_effects,
                                 cluster=cluster, reps=reps, weights=weights, seed=seed, vcov=vcov)
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
