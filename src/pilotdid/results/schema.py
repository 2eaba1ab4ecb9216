"""The results.json schema (see docs/interface.md): key lists and row normalisation.

A field that does not apply is ``None`` (JSON null), never absent and never a made-up number.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["AGGREGATE_KEYS", "ESTIMATE_KEYS", "EVENT_STUDY_KEYS", "PLACEBO_KEYS", "clean_json", "clean_value",
           "normalise_row"]

ESTIMATE_KEYS = (
    "table", "column", "term", "coef", "se", "t", "p", "ci_low", "ci_high", "nobs", "n_clusters",
    "r2", "r2_within", "adj_r2", "vcov", "sample", "outcome",
)
EVENT_STUDY_KEYS = ("estimator", "rel_time", "coef", "se", "ci_low", "ci_high")
PLACEBO_KEYS = ("draws", "seed", "actual", "mean", "sd", "p_two_sided")
AGGREGATE_KEYS = ("estimator", "type", "att", "se", "ci_low", "ci_high")


def clean_value(value: Any) -> Any:
    """JSON-safe scalar: numpy scalars to Python, NaN/inf to None."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def normalise_row(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """Every schema key present (None where it does not apply), schema keys first, extras after."""
    out = {k: clean_value(row.get(k)) for k in keys}
    for k, v in row.items():
        if k not in out:
            out[k] = clean_json(v)
    return out


def clean_json(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): clean_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean_json(v) for v in obj]
    return clean_value(obj)
